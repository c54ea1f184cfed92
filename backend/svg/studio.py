"""What each SVG Studio event needs, in one call: resolve the requested style, run the service, render the views.

apps/svg_studio_handlers.py validates UI values, calls ONE function here and formats the dataclass it returns
(markdown, downloads). Rendering (gallery tiles, preview sheets) lives here so the UI layer never draws SVG itself.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from backend.errors import UserError
from backend.svg import library_service as lib
from backend.svg import service
from backend.svg.corpus import CorpusMissing, load_corpus
from backend.svg.engines import StyleSpec, get_engine
from backend.svg.paths import parse_svg_paths
from backend.svg.render import render_image, render_png
from backend.svg.style import StyleCard, set_card

SOURCE_SET, SOURCE_EXEMPLARS, SOURCE_CARD = "set", "exemplars", "card"


@dataclass
class StyleRequest:
    """The style the UI asks for: an installed set/variant, uploaded exemplars, or edited card fields."""
    source: str = SOURCE_SET
    style: str | None = None
    exemplars: list[tuple[str, bytes]] = field(default_factory=list)
    mode: str | None = None
    width: float | None = None
    cap: str | None = None
    join: str | None = None
    padding: float | None = None
    grid: float | None = None
    palette: str | None = None


def _card_from_fields(req: StyleRequest) -> StyleCard:
    card = StyleCard(name="edited", source="edited style card", grid=float(req.grid or 24),
                     padding=float(req.padding or 0), stroke_width=float(req.width or 0),
                     linecap=req.cap or "round", linejoin=req.join or "round", mode=req.mode or "outline",
                     palette=service.parse_palette(req.palette or "") or ["currentColor"])
    card.validate()
    return card


def resolve(req: StyleRequest) -> tuple[StyleSpec, list[str]]:
    """The StyleSpec the UI asks for, plus notes to show."""
    if req.source == SOURCE_EXEMPLARS:
        return service.load_exemplars(req.exemplars)
    if req.source == SOURCE_CARD:
        return _card_from_fields(req), []
    if not req.style:
        raise UserError("Please pick an installed style (set/variant).")
    return req.style, []


@dataclass
class CardResult:
    card: StyleCard
    notes: list[str]


def style_card(req: StyleRequest) -> CardResult:
    """The style card of exemplars (source exemplars) or of an installed style (any other source)."""
    if req.source == SOURCE_EXEMPLARS:
        card, notes = service.load_exemplars(req.exemplars)
        return CardResult(card, notes)
    if not req.style:
        raise UserError("Please pick an installed style (set/variant).")
    return CardResult(set_card(req.style), [])


def installed_styles() -> tuple[list[str], str]:
    """Installed styles, or [] and the reason (the tab must still open without the corpus)."""
    try:
        return load_corpus().styles(), ""
    except (CorpusMissing, OSError, ValueError) as exc:
        return [], f"⚠️ {exc}"


# -- views -----------------------------------------------------------------------------------------------
TILE_SIZE = (192, 272)  # a gallery tile, width x height
TILE_ICON = (16, 24, 160)  # where its icon is drawn: left, top, side. The 88-px band below holds a two-line caption
# (apps/svg_studio.CSS wraps captions; 56 px, one line, cut "1. IoU 0.87 · coffee" on a phone)


def gallery(candidates: list[dict]) -> list[tuple[Image.Image, str]]:
    """Whole icons on a tile with room above for the panel's buttons and below for the caption (Gradio overlays both
    on the image). The caption leads with the copying check's IoU: the browser cuts long captions at the end."""
    items = []
    x, y, side = TILE_ICON
    for i, c in enumerate(candidates):
        tile = Image.new("RGB", TILE_SIZE, "#ffffff")
        tile.paste(render_image(c["svg"], side), (x, y))
        cap = f"{i + 1}. IoU {c['similarity']:.2f} · {c.get('concept') or c['prompt']}"[:40]
        items.append((tile, cap))
    return items


PREVIEW_PAD = 8
PREVIEW_THEMES = (("light", "#111111", "#ffffff"), ("dark", "#f5f5f5", "#1f2430"))


def preview_layout() -> tuple[tuple[int, int], dict[tuple[str, int], tuple[int, int]]]:
    """The preview sheet's size and where each (theme, size) preview sits (its top-left corner, at native pixels).

    Two columns, light (left) and dark (right); in each, the small sizes side by side in a row above the 256-px
    preview: 2 x (256 + 2 x PREVIEW_PAD) px wide (the old one-row strip was 896 px), short enough to fit its panel
    whole at 1280x800; narrower screens show it at native pixels too, scrolling sideways in its frame
    (apps/svg_studio.CSS; tests/e2e/test_svg_e2e.py checks both)."""
    *small, big = service.PREVIEW_SIZES
    pad, row = PREVIEW_PAD, max(small)
    small_w = sum(small) + pad * (len(small) - 1)
    col_w = max(small_w, big) + 2 * pad
    boxes: dict[tuple[str, int], tuple[int, int]] = {}
    for col, (theme, _fg, _bg) in enumerate(PREVIEW_THEMES):
        x0 = col * col_w
        x = x0 + (col_w - small_w) // 2
        for s in small:
            boxes[theme, s] = (x, pad + (row - s) // 2)
            x += s + pad
        boxes[theme, big] = (x0 + (col_w - big) // 2, 2 * pad + row)
    return (2 * col_w, 3 * pad + row + big), boxes


def preview_sheet(svg: str) -> Image.Image:
    """16/24/32/48 px and 256 px at native size, on light (left) and dark (right); see preview_layout."""
    size, boxes = preview_layout()
    sheet = Image.new("RGB", size, "#ffffff")
    for col, (theme, fg, bg) in enumerate(PREVIEW_THEMES):
        sheet.paste(Image.new("RGB", (size[0] // 2, size[1]), bg), (col * size[0] // 2, 0))
        for s in service.PREVIEW_SIZES:
            sheet.paste(Image.open(io.BytesIO(render_png(svg, s, fg, bg))).convert("RGB"), boxes[theme, s])
    return sheet


@dataclass
class CandidateView:
    """One candidate's preview sheet and its 512-px PNG (for download)."""
    sheet: Image.Image
    png: bytes


def candidate_view(svg: str) -> CandidateView:
    return CandidateView(preview_sheet(svg), render_png(svg, 512))


def candidate_grid(svg: str) -> float:
    """A candidate's grid (viewBox size): the unit of its post-edit line weight, which StyleCard.validate bounds by
    max_weight(grid). 24 when it has no usable viewBox (edit_svg then refuses it with its own sentence)."""
    try:
        return parse_svg_paths(svg)[1]
    except UserError:
        return 24.0


@dataclass
class EngineInfo:
    """Labels of the engines of a generation ('a vs b' for comparisons); label None when unknown."""
    names: list[str]
    labels: list[str | None]
    novelty: str


def engine_info(engine: str) -> EngineInfo:
    names = engine.split(" vs ")
    labels: list[str | None] = []
    novelty = ""
    for name in names:
        try:
            eng = get_engine(name)
            labels.append(getattr(eng, "label", name))
            novelty = novelty or getattr(eng, "novelty", "")
        except Exception:
            labels.append(None)
    return EngineInfo(names, labels, novelty)


def candidate_dicts(gen: service.Generation) -> list[dict]:
    return [{"svg": c.svg, **c.manifest()} for c in gen.candidates]


@dataclass
class GenerationView:
    generation: service.Generation
    candidates: list[dict]
    notes: list[str]
    gallery: list[tuple[Image.Image, str]]
    engines: EngineInfo
    first: CandidateView


def generate(prompt: str, req: StyleRequest, engine: str, n: int, seed: int,
             session_id: str | None = None) -> GenerationView:
    """Prompt + style → candidates, their gallery tiles, engine labels and the first candidate's view."""
    spec, notes = resolve(req)
    gen = service.generate(prompt, spec, engine=engine, n=n, seed=seed, session_id=session_id)
    cands = candidate_dicts(gen)
    return GenerationView(gen, cands, notes, gallery(cands), engine_info(gen.engine), candidate_view(cands[0]["svg"]))


@dataclass
class IconSetView:
    generation: service.Generation
    candidates: list[dict]
    notes: list[str]
    gallery: list[tuple[Image.Image, str]]
    engines: EngineInfo
    concepts: list[str]
    zip_bytes: bytes


def icon_set(concepts: str, req: StyleRequest, engine: str, seed: int,
             session_id: str | None = None) -> IconSetView:
    """A concept list → one consistent set, its gallery, engine labels and the zip export."""
    spec, notes = resolve(req)
    items = service.parse_concepts(concepts)
    gen = service.icon_set(items, spec, engine=engine, seed=seed, session_id=session_id)
    zip_bytes = service.zip_candidates(gen.candidates, {"concepts": items, "style": gen.style_label,
                                                        "style_card": gen.card, "engine": gen.engine,
                                                        "seed": gen.seed, "consistency": gen.metrics})
    cands = candidate_dicts(gen)
    return IconSetView(gen, cands, notes, gallery(cands), engine_info(gen.engine), items, zip_bytes)


@dataclass
class CompareView:
    generation: service.Generation
    candidates: list[dict]
    image_a: Image.Image
    image_b: Image.Image


def compare(prompt: str, req: StyleRequest, engine_a: str, engine_b: str, seed: int,
            session_id: str | None = None) -> CompareView:
    """One candidate from each of two engines, rendered at 256 px."""
    spec, _ = resolve(req)
    gen = service.compare(prompt, spec, engine_a, engine_b, seed=seed, session_id=session_id)
    a, b = (render_image(c.svg, 256) for c in gen.candidates)
    return CompareView(gen, candidate_dicts(gen), a, b)


@dataclass
class EditView:
    candidates: list[dict]
    gallery: list[tuple[Image.Image, str]]
    view: CandidateView
    not_saved: str = ""  # the sentence when the edit could not be stored (it is shown all the same)


def edit(candidates: list[dict], index: int, *, stroke_width: float | None, linecap: str | None,
         linejoin: str | None, mode: str | None, palette: str, seed: int,
         session_id: str | None = None) -> EditView:
    """Vector post-edits of candidate `index` (stored as an 'edit' generation); the list with it replaced."""
    gen = service.edit_candidate(dict(candidates[index]), stroke_width=stroke_width, linecap=linecap,
                                 linejoin=linejoin, mode=mode, palette=palette, seed=seed, session_id=session_id)
    cand = gen.candidates[0]
    new = [*candidates[:index], {"svg": cand.svg, **cand.manifest()}, *candidates[index + 1:]]
    return EditView(new, gallery(new), candidate_view(cand.svg), gen.not_saved_line("This edit is"))


# -- the style library (learned engine) ------------------------------------------------------------------
@dataclass
class LibraryView:
    rows: list[dict]
    choices: list[tuple[str, str]]
    row: dict | None = None


def _library_view(row: dict | None = None, session_id: str | None = None) -> LibraryView:
    rows = lib.list_library_styles(session_id)
    installed, _ = installed_styles()
    return LibraryView(rows, [*lib.style_choices(rows), *[(s, s) for s in installed]], row)


def library(session_id: str | None = None) -> LibraryView:
    """The session's saved library styles (own + shared) and the style dropdown's choices (library styles, then
    installed ones)."""
    return _library_view(session_id=session_id)


def learn_style(files: list[tuple[str, bytes]], name: str, budget_s: float, session_id: str | None = None,
                progress: Callable[[float, str], None] | None = None) -> LibraryView:
    """Learn and save a library style; the saved row plus the refreshed library."""
    row = lib.learn_library_style(files, name, budget_s=budget_s, session_id=session_id, progress=progress)
    return _library_view(row, session_id)
