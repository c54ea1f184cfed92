"""SVG studio services: what the tab, the API and the CLI call. Each call = engine + storage, nothing else.

Why a service layer: the Gradio handlers stay thin (validate, call one function, format), the CLI reuses the
same code path, and every generation is stored the same way (prompt, style, engine, seed, SVG, metrics).
"""
from __future__ import annotations

import io
import json
import logging
import re
import secrets
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageOps

from backend.arena.ratings import WINNERS, compute_leaderboard, leaderboard_table
from backend.arena.vocab import LEADERBOARD_COLUMNS
from backend.errors import UserError, shown_fragment
from backend.imageio import open_image
from backend.svg.engines import Candidate, StyleSpec, family_note, finish_candidate, get_engine, resolve_style
from backend.svg.extent import fit_viewbox
from backend.svg.library_service import check_style, library_label
from backend.svg.metrics import consistency
from backend.svg.paths import parse_svg_paths, paths_to_svg
from backend.svg.render import render_png
from backend.svg.sanitize import SVGInputError, sanitize_svg
from backend.svg.style import (
    MAX_EXEMPLARS,
    StyleCard,
    apply_style,
    exemplar_label,
    extract_style,
    style_from_exemplars,
)
from storage.db import StorageError, get_storage
from storage.repos.svg import (
    add_generation,
    add_vote,
    awaiting_vote,
    battles_frame,
    generation_candidates,
    generation_owner,
    get_candidate,
    non_blind_votes,
    recent_generations,
)

log = logging.getLogger(__name__)
DEFAULT_ENGINE = "svg-retrieval"
MAX_SET = 24
PREVIEW_SIZES = (16, 24, 32, 48, 256)
MAX_PALETTE = 16
TRACE_SIZE = 256  # raster exemplars are letterboxed onto this square before tracing


@dataclass
class Generation:
    candidates: list[Candidate]
    engine: str
    style_label: str
    card: dict | None
    seed: int
    elapsed_s: float
    generation_id: int | None = None
    candidate_ids: list[int] = field(default_factory=list)
    metrics: dict | None = None
    not_saved: str = ""  # why the generation has no stored row (database down or locked); "" when it was stored

    def not_saved_line(self, what: str = "These icons are") -> str:
        """The sentence shown with a generation the database could not take ("" when it was stored)."""
        if not self.not_saved:
            return ""
        return (f"{what} shown but not saved (no generation number, not in your history): "
                f"{self.not_saved}")


def _store(kind: str, prompt: str, gen: Generation, n: int, session_id: str | None) -> None:
    """Store the generation; when the database cannot take it (down, locked, full) the icons were made all the same:
    they are kept and `gen.not_saved` says why they have no row (what needs the row, such as a vote, says so)."""
    rows = [{"svg": c.svg, **c.manifest()} for c in gen.candidates]
    try:
        gid, ids = get_storage().write(lambda s: add_generation(
            s, kind=kind, prompt=prompt, style=gen.style_label, style_card=gen.card, engine=gen.engine,
            seed=gen.seed, n=n, elapsed_s=gen.elapsed_s, candidates=rows, session_id=session_id,
            metrics=gen.metrics))
        gen.generation_id, gen.candidate_ids = gid, ids
    except StorageError as exc:  # the database down or locked: the computed icons are still returned
        log.warning("svg generation not saved: %s", exc)
        gen.not_saved = str(exc)
    except Exception as exc:  # storage trouble must be visible, but the user still gets the icons
        log.exception("storing svg generation failed")
        gen.not_saved = f"storing it failed ({type(exc).__name__})."


def studio_style(style: StyleSpec, engine: str, session_id: str | None = None
                 ) -> tuple[StyleCard | None, str | None, str]:
    """resolve_style, plus "library:<id>" few-shot styles (learned engine only, the session's own or shared ones;
    see backend.svg.library_service)."""
    if isinstance(style, str) and check_style(style, engine) is not None:
        return None, None, library_label(style, session_id)
    return resolve_style(style)


def generate(prompt: str, style: StyleSpec, engine: str = DEFAULT_ENGINE, n: int = 4, seed: int = 0,
             session_id: str | None = None, kind: str = "prompt", store: bool = True) -> Generation:
    card, _, label = studio_style(style, engine, session_id)
    eng = get_engine(engine)
    t0 = time.perf_counter()
    cands = eng.generate(prompt, style, int(n), int(seed))
    if not cands:
        raise UserError(f"The engine {engine} returned no candidates for this prompt.")
    gen = Generation(cands, engine, label, card.to_dict() if card else None, int(seed),
                     round(time.perf_counter() - t0, 3))
    if store:
        _store(kind, prompt.strip(), gen, n, session_id)
    return gen


def parse_concepts(text: str) -> list[str]:
    items = [c.strip() for c in re.split(r"[\n,;]+", text or "") if c.strip()]
    if not items:
        raise UserError("Please list the concepts of the icon set, one per line or comma-separated.")
    if len(items) > MAX_SET:
        raise UserError(f"An icon set can have at most {MAX_SET} concepts ({len(items)} given).")
    return list(dict.fromkeys(items))


def icon_set(concepts: list[str], style: StyleSpec, engine: str = DEFAULT_ENGINE, seed: int = 0,
             session_id: str | None = None) -> Generation:
    """One icon per concept in one style, plus the set's consistency score."""
    card, _, label = studio_style(style, engine, session_id)
    eng = get_engine(engine)
    t0 = time.perf_counter()
    cands = [eng.generate(c, style, 1, int(seed))[0] for c in concepts]
    cons = consistency([c.svg for c in cands])
    gen = Generation(cands, engine, label, card.to_dict() if card else None, int(seed),
                     round(time.perf_counter() - t0, 3), metrics={k: v for k, v in cons.items() if k != "per_icon"})
    _store("icon-set", "\n".join(concepts), gen, len(concepts), session_id)
    return gen


def edit_svg(svg: str, *, stroke_width: float | None = None, linecap: str | None = None, linejoin: str | None = None,
             mode: str | None = None, palette: list[str] | None = None) -> str:
    """Vector post-edits without regenerating: the icon's own card, changed where asked, re-applied."""
    paths, grid = parse_svg_paths(sanitize_svg(svg))
    if not paths:
        raise SVGInputError("This SVG has no visible paths to edit.")
    own = extract_style([paths], grid=grid)
    card = StyleCard.from_dict({**own.to_dict(), "name": "edit"})
    if stroke_width is not None:
        card.stroke_width = float(stroke_width)
    for attr, val in (("linecap", linecap), ("linejoin", linejoin), ("mode", mode)):
        if val:
            setattr(card, attr, val)
    if palette:
        card.palette = palette
    card.validate()
    out = apply_style(paths, card, own)
    fit_viewbox(out, card.grid)  # a heavier line or a square cap stays inside the viewBox
    return sanitize_svg(paths_to_svg(out, grid=card.grid))


def edit_candidate(candidate: dict, *, stroke_width: float | None = None, linecap: str | None = None,
                   linejoin: str | None = None, mode: str | None = None, palette: str = "", seed: int = 0,
                   session_id: str | None = None) -> Generation:
    """Vector post-edits of one shown candidate (its manifest dict), passed through the output gate and stored
    as an "edit" generation; the one call behind the studio's edit button."""
    pal = parse_palette(palette or "")
    new_svg = edit_svg(candidate["svg"], stroke_width=stroke_width, linecap=linecap or None,
                       linejoin=linejoin or None, mode=None if mode in (None, "", "keep") else mode, palette=pal)
    cand = finish_candidate(new_svg, engine=candidate["engine"], prompt=candidate["prompt"],
                            style=candidate["style"] + " + edits", concept=candidate.get("concept", ""),
                            source_id=candidate.get("source_id"), text_score=candidate.get("text_score"),
                            notes=[f"Edited: width={stroke_width}, caps={linecap}, joins={linejoin}, mode={mode}, "
                                   f"palette={', '.join(pal) if pal else None}"])
    gen = Generation([cand], candidate["engine"], cand.style, None, int(seed or 0), 0.0)
    _store("edit", candidate["prompt"], gen, 1, session_id)
    return gen


def parse_palette(text: str) -> list[str] | None:
    """Palette colours separated by commas or spaces (#rgb, #rrggbb or currentColor), at most MAX_PALETTE."""
    items = [c.strip() for c in re.split(r"[,\s]+", text or "") if c.strip()]
    if len(items) > MAX_PALETTE:
        raise UserError(f"A palette takes at most {MAX_PALETTE} colours ({len(items)} given).")
    for c in items:
        if c != "currentColor" and not re.fullmatch(r"#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}", c):
            shown = shown_fragment(c)
            raise UserError("Palette colours must be #rrggbb, #rgb or currentColor; "
                            + (f"got “{shown}”." if shown else "one entry is not a colour."))
    return items or None


def letterbox(img: Image.Image, size: int) -> Image.Image:
    """A grey picture scaled to fit a size×size square with its aspect kept, padded with its background (the median
    of its border pixels), so a non-square exemplar is not squashed before its style is measured."""
    a = np.asarray(img)
    bg = int(np.median(np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])))
    return ImageOps.pad(img, (size, size), method=Image.Resampling.BICUBIC, color=bg)


def trace_raster(data: bytes, name: str | None = None) -> str:
    """A raster exemplar traced to SVG with vtracer (binary, spline mode) after a letterbox onto a square, then
    sanitised."""
    try:
        import vtracer  # noqa: PLC0415 - optional raster tracer, imported when a raster exemplar arrives
    except ImportError as exc:
        raise SVGInputError("Raster exemplars need vtracer, which is not installed; upload an SVG instead.") from exc

    img = data if isinstance(data, Image.Image) else open_image(bytes(data), name=name)
    img = letterbox(img.convert("L"), TRACE_SIZE)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    svg = vtracer.convert_raw_image_to_svg(buf.getvalue(), img_format="png", colormode="binary", mode="spline",
                                           filter_speckle=8, corner_threshold=60, path_precision=2)
    clean = sanitize_svg(svg)
    if not parse_svg_paths(clean)[0]:
        raise SVGInputError("Tracing found no shapes in this picture; use a high-contrast icon picture (dark "
                            "lines or shapes on a plain light background).")
    return clean


def load_exemplars(files: list[tuple[str, bytes]]) -> tuple[StyleCard, list[str]]:
    """Exemplar uploads (name, bytes) -> style card + notes. Rasters are traced; SVGs sanitised."""
    if not files:
        raise SVGInputError(f"Please upload 1–{MAX_EXEMPLARS} exemplar SVGs (or pick an installed style).")
    if len(files) > MAX_EXEMPLARS:  # counted before any picture is decoded or traced
        raise SVGInputError(f"At most {MAX_EXEMPLARS} exemplars, please ({len(files)} given).")
    names = [str(n) for n, _ in files]
    svgs: list[str | bytes] = []
    notes: list[str] = []
    for i, (name, data) in enumerate(files, 1):
        head = data[:16]
        raster_name = Path(str(name)).suffix.lower() in {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"}
        if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF")) or raster_name:
            try:
                svgs.append(trace_raster(data, name=name))  # a text/SVG file named .png gets the image sentence
            except SVGInputError as exc:  # say which picture traced to nothing
                raise SVGInputError(f"{exemplar_label(i, names)}: {exc}") from None
            notes.append(f"{name}: raster image traced to vectors with vtracer (quality depends on the picture).")
        else:
            svgs.append(data)
    card = style_from_exemplars(svgs, name="uploaded", names=names)
    matched = family_note(card)
    return card, notes + ([matched] if matched else [])


def previews(svg: str, dark: bool = False) -> list[tuple[bytes, int]]:
    fg, bg = ("#f5f5f5", "#1f2430") if dark else ("#111111", "#ffffff")
    return [(render_png(svg, s, fg, bg), s) for s in PREVIEW_SIZES]


def zip_candidates(cands: list[Candidate], manifest: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        rows = []
        for i, c in enumerate(cands):
            stem = f"{i:02d}-{re.sub(r'[^a-z0-9]+', '-', (c.concept or c.prompt).lower()).strip('-') or 'icon'}"
            z.writestr(f"{stem}.svg", c.svg)
            z.writestr(f"{stem}.png", c.png)
            rows.append({"file": f"{stem}.svg", **c.manifest()})
        z.writestr("manifest.json", json.dumps({**manifest, "icons": rows}, indent=1, default=str))
        attributions = sorted({c.attribution for c in cands if c.attribution})
        z.writestr("ATTRIBUTION.txt", "\n".join(attributions) + "\n")
    return buf.getvalue()


def compare(prompt: str, style: StyleSpec, engine_a: str, engine_b: str, seed: int = 0,
            session_id: str | None = None) -> Generation:
    """One candidate from each of two engines, for a blind pairwise vote."""
    if engine_a == engine_b:
        raise UserError("Pick two different engines to compare.")
    for e in (engine_a, engine_b):
        card, _, label = studio_style(style, e, session_id)
    t0 = time.perf_counter()
    # blind: which engine is shown as A is drawn here (A was always the one picked as "Engine A", so every vote
    # knew which engine it favoured)
    shown = (engine_b, engine_a) if secrets.randbits(1) else (engine_a, engine_b)
    cands = [get_engine(e).generate(prompt, style, 1, int(seed))[0] for e in shown]
    gen = Generation(cands, f"{engine_a} vs {engine_b}"[:64], label, card.to_dict() if card else None, int(seed),
                     round(time.perf_counter() - t0, 3))
    _store("compare", prompt.strip(), gen, 2, session_id)
    return gen


def vote_on(candidate_a: int, candidate_b: int, winner: str, session_id: str | None = None) -> int:
    """A blind pairwise vote between two stored candidates of two different engines (append-only).

    The arena's rules: one vote per pair, only on candidates this session generated (the caller rate-limits)."""
    if winner not in WINNERS:
        raise UserError(f"A vote must be one of {', '.join(WINNERS)}.")

    def _do(s):
        a, b = get_candidate(s, candidate_a), get_candidate(s, candidate_b)
        if a is None or b is None or not session_id or a["session_id"] != session_id or b["session_id"] != session_id:
            raise UserError("You can only vote on a comparison that you generated in this browser session.")
        if a["engine"] == b["engine"]:
            raise UserError("A vote needs candidates from two different engines.")
        return add_vote(s, prompt=a["prompt"], style=a["style"], model_a=a["engine"], model_b=b["engine"],
                        candidate_a=a["id"], candidate_b=b["id"], winner=winner, session_id=session_id)

    return get_storage().write(_do)


BLIND_FIELDS = ("id", "generation_id", "rank", "svg")  # what a blind comparison's candidates show before the vote
BLIND_NOTE = ("A blind comparison: which engine drew each side (and its notes, scores and sizes) is shown once it "
              "has your vote.")


def candidates_of(generation_id: int, session_id: str | None = None, admin: bool = False) -> list[dict]:
    """Candidates of a generation made by `session_id` (admins: any); others get the "no such" sentence.

    The two of a blind comparison show only their id, side and SVG until the pair has its vote: the engine, its notes
    (which name families and engines), the nearest-icon scores and the sizes would each tell a script voter which
    engine is A. Admins included: a blind vote is blind to everyone."""
    def _r(s):
        exists, owner = generation_owner(s, generation_id)
        if not exists or not (admin or (session_id and owner == session_id)):
            return [], False
        return generation_candidates(s, generation_id), awaiting_vote(s, generation_id)

    rows, blind = get_storage().read(_r)
    if not rows:
        raise UserError(f"No stored generation #{generation_id} from this browser session.")
    if blind:
        return [{**{k: r[k] for k in BLIND_FIELDS}, "side": "AB"[r["rank"]] if r["rank"] in (0, 1) else None,
                 "note": BLIND_NOTE} for r in rows]
    return rows


def engine_leaderboard(bootstrap: int = 50, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """Ratings of SVG engines from the blind votes, with the arena's rating code (Bradley–Terry + bootstrap CIs),
    and a sentence saying how many earlier non-blind votes are kept but not counted ("" when there are none)."""
    df, old = get_storage().read(lambda s: (battles_frame(s), non_blind_votes(s)))
    note = ""
    if old:
        note = (f"{old} earlier vote{'s' if old != 1 else ''} from before the comparison was blind (Engine A was "
                f"always shown as A) {'are' if old != 1 else 'is'} kept but not counted in these ratings.")
    if df.empty:
        return pd.DataFrame(columns=LEADERBOARD_COLUMNS), note
    return leaderboard_table(compute_leaderboard(df, method="bt", bootstrap=bootstrap, seed=seed)), note


def recent(session_id: str | None, limit: int = 20) -> list[dict]:
    return get_storage().read(lambda s: recent_generations(s, session_id, limit))


__all__ = ["studio_style", "recent", "edit_candidate", "BLIND_NOTE",
           "Generation", "generate", "icon_set", "edit_svg", "trace_raster", "load_exemplars", "previews",
           "zip_candidates", "compare", "vote_on", "candidates_of", "engine_leaderboard", "parse_concepts",
           "parse_palette",
           "DEFAULT_ENGINE", "extract_style"]
