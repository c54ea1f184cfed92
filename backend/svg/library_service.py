"""Style-library services for the SVG Studio: check "library:<id>" styles, learn one from uploads, list them.

Why a module of its own: the few-shot token only means something to the learned engine (svg-pathdiffusion), so
the studio must (a) refuse a library style for any other engine with a clear sentence, and (b) learn/list styles
through the same sanitiser gate as every other upload. The learning itself and the SQL live in
backend/svg/model/library.py and storage/repos/svg_styles.py; this module only validates and adapts.
"""
from __future__ import annotations

from collections.abc import Callable

from backend.errors import UserError, shown_fragment
from backend.registry import ModelUnavailable
from backend.svg.engines import get_engine
from backend.svg.model.library import learn_and_save, list_library, load_library_style
from backend.svg.sanitize import SVGInputError, sanitize_svg

LIBRARY_PREFIX = "library:"
LEARNED_ENGINE = "svg-pathdiffusion"
DEFAULT_BUDGET_S = 60.0
MAX_BUDGET_S = 180.0
MAX_EXEMPLARS = 16
MAX_NAME = 128  # the name box's max_length and the column's width
MAX_STEPS = 1000  # the wall-clock budget normally ends learning first
RASTER_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"BM", b"II*\x00", b"MM\x00*")
RASTER_EXT = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff")


def is_library_style(style) -> bool:
    return isinstance(style, str) and style.strip().startswith(LIBRARY_PREFIX)


def library_id(style: str) -> int:
    raw = style.strip()[len(LIBRARY_PREFIX):].split("—", 1)[0].strip()
    try:
        sid = int(raw)
    except ValueError:
        raise UserError(f"A library style looks like “library:<id>” with a number; got “{shown_fragment(style, 40)}”.") from None
    if sid < 1:
        raise UserError(f"Library style ids start at 1; got “{shown_fragment(style, 40)}”.")
    return sid


def check_style(style, engine: str) -> int | None:
    """The library style id when `style` is "library:<id>" (only valid with the learned engine), else None."""
    if not is_library_style(style):
        return None
    if engine != LEARNED_ENGINE:
        raise UserError(f"Library styles need the learned engine ({LEARNED_ENGINE}); pick it as the engine, or "
                         "choose an installed style for the other engines.")
    return library_id(style)


def library_label(style: str, session_id: str | None = None) -> str:
    """"library:<id> (name)" — also checks that the style exists and that `session_id` may use it (its own, or
    shared); another session's style is answered like a deleted one."""
    sid = library_id(style)
    row = load_library_style(sid, visible_to=session_id)
    return f"{LIBRARY_PREFIX}{sid} ({row['name']})"


def exemplar_svgs(files: list[tuple[str, bytes]]) -> list[str]:
    """Uploaded (name, bytes) -> sanitised SVG text; rasters and unsafe/broken SVGs get a sentence naming the file."""
    if not files:
        raise SVGInputError(f"Please upload 1–{MAX_EXEMPLARS} exemplar SVGs to learn a style from.")
    if len(files) > MAX_EXEMPLARS:
        raise SVGInputError(f"At most {MAX_EXEMPLARS} exemplars, please ({len(files)} given).")
    out = []
    for name, data in files:
        if bytes(data[:8]).startswith(RASTER_MAGIC) or str(name).lower().endswith(RASTER_EXT):
            raise SVGInputError(f"{name}: raster images cannot teach a library style; upload SVG files (the learned "
                                "engine learns from vector paths).")
        try:
            out.append(sanitize_svg(data))
        except SVGInputError as exc:
            raise SVGInputError(f"{name}: {exc}") from None
    return out


def check_budget(budget_s: float | str | None) -> float:
    b = DEFAULT_BUDGET_S if budget_s is None or budget_s == "" else float(budget_s)
    if not 1.0 <= b <= MAX_BUDGET_S:
        raise UserError(f"The learning budget must be between 1 and {MAX_BUDGET_S:.0f} seconds ({b:g} given).")
    return b


def learn_library_style(files: list[tuple[str, bytes]], name: str, budget_s: float = DEFAULT_BUDGET_S,
                        seed: int = 0, session_id: str | None = None,
                        progress: Callable[[float, str], None] | None = None) -> dict:
    """Learn a few-shot style token from 1–16 uploaded SVGs within `budget_s` seconds and save it; returns the row
    (without the token). progress(fraction, text) is called after each Adam step."""
    name = " ".join("".join(ch for ch in str(name or "") if ch.isprintable() or ch.isspace()).split())
    if not name:
        raise UserError("Give the new style a name.")
    if len(name) > MAX_NAME:
        raise UserError(f"The style name is {len(name)} characters long; at most {MAX_NAME} are allowed.")
    budget = check_budget(budget_s)
    svgs = exemplar_svgs(files)
    eng = get_engine(LEARNED_ENGINE)

    def _step(i, n, loss, elapsed):
        if progress is not None:
            progress(min(1.0, max(i / n, elapsed / budget)), f"step {i}, loss {loss:.4f}, {elapsed:.0f}/{budget:.0f} s")

    row = learn_and_save(eng, svgs, name, session_id=session_id, seed=int(seed), steps=MAX_STEPS, budget_s=budget,
                         progress=_step)
    return {k: v for k, v in row.items() if k != "token"}


def list_library_styles(session_id: str | None = None) -> list[dict]:
    """Saved styles usable with the current learned checkpoint (all saved styles if the engine is unavailable);
    with `session_id`, only that session's own and the shared ones."""
    try:
        sha = getattr(get_engine(LEARNED_ENGINE), "model_sha", None)
    except (ModelUnavailable, OSError, ValueError):
        sha = None
    return list_library(sha, visible_to=session_id)


def style_choices(rows: list[dict]) -> list[tuple[str, str]]:
    return [(f"{LIBRARY_PREFIX}{r['id']} — {r['name']}", f"{LIBRARY_PREFIX}{r['id']}") for r in rows]


__all__ = ["check_style", "is_library_style", "library_id", "library_label", "exemplar_svgs", "check_budget",
           "learn_library_style", "list_library_styles", "style_choices", "LEARNED_ENGINE", "DEFAULT_BUDGET_S",
           "MAX_BUDGET_S"]
