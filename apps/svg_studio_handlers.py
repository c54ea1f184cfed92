"""Handlers of the SVG Studio tab: validate UI values → call backend.svg.service → format.

Every public handler takes explicit arguments (scriptable with gradio_client). Model/user SVG is only ever
shown as rendered PNGs or as text in a code view, never as HTML. Results live in a per-tab gr.State:
{"prompt", "style", "engine", "candidates": [{"svg", "png"?, manifest fields...}], "ids": [...]}.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import gradio as gr
import pandas as pd

from apps.common import download_file, file_path, md_text, session_id, throttle, user_errors
from backend.config import setting
from backend.errors import UserError
from backend.svg import service, studio
from backend.svg.engines import list_engines
from backend.svg.style import GRID_MAX, GRID_MIN, StyleCard, max_weight
from backend.svg.style import card_limits as limits_for_grid

SOURCES = ["Installed set/variant", "Exemplar SVGs (upload)", "Edited style card"]
MODES = ["outline", "outline-fill", "solid"]
CAPS = ["butt", "round", "square"]
JOINS = ["miter", "round", "bevel"]
EDIT_MODES = ["keep", *MODES]
NOTE_LIMIT = 1000  # notes are shown whole (md_text cuts at 500 by default)


def styles() -> tuple[list[str], str]:
    """Installed styles, or [] and the reason (the tab must still open without the corpus)."""
    return studio.installed_styles()


def engine_choices() -> tuple[list[tuple[str, str]], str | None, str]:
    rows = list_engines()
    choices = [(f"{label}" + ("" if ok else " — unavailable"), name) for name, label, ok, _ in rows]
    avail = [name for name, _, ok, _ in rows if ok]
    notes = "; ".join(f"{name}: {why}" for name, _, ok, why in rows if not ok)
    return choices, (avail[0] if avail else (rows[0][0] if rows else None)), notes


def weight_info(grid: float, top: float) -> str:
    return f"above 0, at most {top:g} on a grid of {grid:g}"


def padding_info(grid: float, top: float) -> str:
    return f"0 to under {top:g} on a grid of {grid:g}"


def card_limits(grid):
    """The line-weight and padding fields' maxima for this grid: the backend's own limits (StyleCard.validate), so
    the fields refuse what generation would. Takes the raw field value: while no valid grid is typed, nothing
    changes (the grid field's own range check speaks when the card is used)."""
    try:
        g = float(grid)
    except (TypeError, ValueError):
        return gr.update(), gr.update()
    if not GRID_MIN <= g <= GRID_MAX:  # also NaN
        return gr.update(), gr.update()
    top_weight, top_padding = limits_for_grid(g)
    return (gr.update(maximum=top_weight, info=weight_info(g, top_weight)),
            gr.update(maximum=top_padding, info=padding_info(g, top_padding)))


def _read_files(files) -> list[tuple[str, bytes]]:
    out = []
    for f in files or []:
        p = Path(file_path(f))
        out.append((p.name, p.read_bytes()))
    return out


def style_request(source, style, files, mode=None, width=None, cap=None, join=None, padding=None, grid=None,
                  palette=None) -> studio.StyleRequest:
    """The UI's style inputs as one request (uploaded files read only when exemplars are the source)."""
    kind = {SOURCES[1]: studio.SOURCE_EXEMPLARS, SOURCES[2]: studio.SOURCE_CARD}.get(source, studio.SOURCE_SET)
    return studio.StyleRequest(kind, style, _read_files(files) if kind == studio.SOURCE_EXEMPLARS else [],
                               mode, width, cap, join, padding, grid, palette)


def _card_outputs(card: StyleCard, notes: list[str]):
    md = f"**Style card** ({card.source}): {card.summary()}."
    if notes:
        md += "  \n" + "  \n".join(md_text(n, NOTE_LIMIT) for n in notes)  # notes quote file names and prompts
    return (card.mode, round(card.stroke_width, 3), card.linecap, card.linejoin, round(card.padding, 2), card.grid,
            ", ".join(card.palette), md, json.dumps(card.to_dict(), indent=1))


@user_errors
def style_card(source: str, style: str, files):
    """Extract the style card of the chosen source; fills the editable card fields."""
    res = studio.style_card(style_request(source, style, files))
    return _card_outputs(res.card, res.notes)


def _state(gen: service.Generation, candidates: list[dict], prompt: str) -> dict:
    return {"prompt": prompt, "style": gen.style_label, "engine": gen.engine, "seed": gen.seed,
            "generation_id": gen.generation_id, "ids": gen.candidate_ids, "metrics": gen.metrics,
            "candidates": candidates, "not_saved": gen.not_saved_line()}


def _summary(state: dict, engines: studio.EngineInfo, extra: list[str] | None = None) -> str:
    labels = [f"{label} (`{name}`)" if label is not None else f"`{name}`"
              for name, label in zip(engines.names, engines.labels, strict=True)]
    lines = [f"**{len(state['candidates'])} candidate(s)** for “{md_text(state['prompt'])}” in style "
             f"**{md_text(state['style'])}** "
             f"by {' vs '.join(labels)}, seed {state['seed']}"
             + (f"; saved as generation #{state.get('generation_id')}." if not state.get("not_saved") else ".")]
    if state.get("not_saved"):  # the database down or locked: the icons are shown all the same
        lines.append(f"⚠️ {md_text(state['not_saved'], NOTE_LIMIT)}")
    if engines.novelty and len(engines.names) == 1:
        lines.append(f"_{engines.novelty}_")
    notes = list(dict.fromkeys(n for c in state["candidates"] for n in c.get("notes", []) if "No corpus icon" in n))
    lines += [f"⚠️ {md_text(n, NOTE_LIMIT)}" for n in notes] + (extra or [])
    return "  \n".join(lines)


def _pick(state: dict | None, index) -> int:
    if not state or not state.get("candidates"):
        raise UserError("Generate some icons first.")
    index = int(index or 0)
    if not 0 <= index < len(state["candidates"]):
        raise UserError(f"Pick a candidate between 1 and {len(state['candidates'])}.")
    return index


def _detail(state: dict, index: int, view: studio.CandidateView):
    c = state["candidates"][index]
    copy = " — **a copy of a corpus icon** (IoU > 0.9)" if c["similarity"] > 0.9 else ""
    info = [f"**Candidate {index + 1}**: {md_text(c.get('concept') or '')} · engine `{c['engine']}` · "
            f"style {md_text(c['style'])}",
            f"**Nearest corpus icon:** `{c['nearest_id']}` · similarity (raster IoU) **{c['similarity']:.2f}**{copy}",
            f"**Derived from:** `{c.get('source_id') or '—'}` · text score {c.get('text_score')}",
            f"**Licence / attribution:** {md_text(c.get('licence') or 'n/a')} — "
            f"{md_text(c.get('attribution') or 'generated')}",
            f"**Size:** {c['metrics'].get('paths')} paths, {c['metrics'].get('segments')} segments, "
            f"{c['metrics'].get('bytes')} bytes"]
    info += [f"_{md_text(n, NOTE_LIMIT)}_" for n in c.get("notes", [])]
    stem = re.sub(r"[^a-z0-9]+", "-", (c.get("concept") or c["prompt"]).lower()).strip("-") or "icon"
    svg_path = download_file(c["svg"], f"{stem}.svg")
    png_path = download_file(view.png, f"{stem}.png")
    code = c["svg"].replace("><", ">\n<")  # one element per line to read; the download stays compact
    return view.sheet, code, "  \n".join(info), svg_path, png_path


def edit_weight_info(grid: float) -> str:
    return f"0 = keep; at most {max_weight(grid):g} on this icon's grid of {grid:g}"


def edit_weight_limits(state, index):
    """The post-edit line-weight field's maximum for the selected candidate's grid (the backend's max_weight); runs
    after generate and select, so the public endpoints' outputs stay as they were."""
    try:
        svg = state["candidates"][int(index or 0)]["svg"]
    except (TypeError, KeyError, IndexError, ValueError):
        return gr.update()
    grid = studio.candidate_grid(svg)
    return gr.update(maximum=max_weight(grid), info=edit_weight_info(grid))


@user_errors
def generate(prompt, source, style, files, mode, width, cap, join, padding, grid, palette, engine, n, seed,
             request: gr.Request = None):
    """Prompt + style → candidates (gallery), details of the first one."""
    req = style_request(source, style, files, mode, width, cap, join, padding, grid, palette)
    v = studio.generate(prompt or "", req, engine=engine or service.DEFAULT_ENGINE, n=int(n or 4),
                        seed=int(seed or 0), session_id=session_id(request))
    state = _state(v.generation, v.candidates, (prompt or "").strip())
    return (state, v.gallery, _summary(state, v.engines, v.notes), *_detail(state, 0, v.first), 0)


@user_errors
def detail(state, index):
    """Previews, code, attribution and downloads for candidate `index` (0-based)."""
    index = _pick(state, index)
    return _detail(state, index, studio.candidate_view(state["candidates"][index]["svg"]))


def select_candidate(state, evt: gr.SelectData):
    return (*detail(state, evt.index), evt.index)


@user_errors
def edit(state, index, width, cap, join, mode, palette, request: gr.Request = None):
    """Vector post-edits of one candidate without regenerating (stored as an 'edit' generation)."""
    index = _pick(state, index)
    v = studio.edit(state["candidates"], index, stroke_width=float(width) if width else None, linecap=cap,
                    linejoin=join, mode=mode, palette=palette or "", seed=state.get("seed", 0),
                    session_id=session_id(request))
    state = {**state, "candidates": v.candidates}
    sheet, code, info, svg_path, png_path = _detail(state, index, v.view)
    if v.not_saved:  # the edit is shown and downloadable, only not stored as an edit generation
        info += f"  \n⚠️ {md_text(v.not_saved, NOTE_LIMIT)}"
    return state, v.gallery, sheet, code, info, svg_path, png_path


@user_errors
def icon_set(concepts, source, style, files, mode, width, cap, join, padding, grid, palette, engine, seed,
             request: gr.Request = None):
    """A list of concepts → one consistent grid, consistency score, zip export."""
    req = style_request(source, style, files, mode, width, cap, join, padding, grid, palette)
    v = studio.icon_set(concepts, req, engine=engine or service.DEFAULT_ENGINE, seed=int(seed or 0),
                        session_id=session_id(request))
    state = _state(v.generation, v.candidates, ", ".join(v.concepts))
    m = v.generation.metrics or {}
    md = (f"**Consistency score {m['score']:.0f}/100** — style agreement {m['style_agreement']:.0%} "
          f"(majority {m['majority_style']}), stroke-weight spread (CV) {m['weight_cv']:.2f}, "
          f"padding spread {m['padding_sd']:.3f}.  \n" + _summary(state, v.engines, v.notes))
    return state, v.gallery, md, download_file(v.zip_bytes, "icon-set.zip")


@user_errors
def compare(prompt, source, style, files, mode, width, cap, join, padding, grid, palette, engine_a, engine_b, seed,
            request: gr.Request = None):
    """One candidate from each of two engines, shown blind as A and B."""
    req = style_request(source, style, files, mode, width, cap, join, padding, grid, palette)
    v = studio.compare(prompt or "", req, engine_a, engine_b, seed=int(seed or 0), session_id=session_id(request))
    state = _state(v.generation, v.candidates, (prompt or "").strip())
    state["engines"] = [c.get("engine") for c in v.candidates]  # the order shown (drawn by the service)
    if state["not_saved"]:  # nothing stored, so nothing to vote on: say so now rather than at the vote
        return state, v.image_a, v.image_b, (f"⚠️ {md_text(state['not_saved'], NOTE_LIMIT)}  \nThis comparison "
                                             "cannot take a vote without its stored row; press Compare again once "
                                             "the database is back.")
    return state, v.image_a, v.image_b, "Which icon fits the prompt and style better? (engines are revealed after the vote)"


@user_errors
def vote(state, winner, request: gr.Request = None):
    """UI vote on the current comparison; returns the reveal."""
    if not state or "engines" not in state:
        raise UserError("Run a comparison first.")
    if len(state.get("ids") or []) != 2:  # shown but not stored (database down or locked when it was made)
        raise UserError("This comparison was not saved (the database could not take it), so it cannot take a "
                        "vote; press Compare again once the database is back.")
    throttle(request, "svg_vote", _vote_rate())
    vid = service.vote_on(state["ids"][0], state["ids"][1], winner, session_id(request))
    return f"Vote #{vid} saved. A = `{state['engines'][0]}`, B = `{state['engines'][1]}`."


@user_errors
def vote_api(candidate_a: int, candidate_b: int, winner: str, request: gr.Request = None) -> str:
    """Store a pairwise vote between two stored candidates of different engines.
    winner: model_a | model_b | tie | tie (bothbad). Only your own comparison, once, rate-limited."""
    throttle(request, "svg_vote", _vote_rate())
    vid = service.vote_on(_id(candidate_a, "candidate_a"), _id(candidate_b, "candidate_b"), winner,
                          session_id(request))
    return f"Vote #{vid} saved."


def _id(value, what: str) -> int:
    """A stored row's number from an API client (any JSON value): a whole number or a sentence."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UserError(f"{what} must be a whole number (the id shown in your history).")
    try:
        number = float(value)
        if not number.is_integer() or abs(number) >= 2**63:  # a database integer
            raise ValueError
        return int(number)
    except (ValueError, OverflowError):
        raise UserError(f"{what} must be a whole number (the id shown in your history).") from None


@user_errors
def candidates_api(generation_id: int, request: gr.Request = None) -> list[dict]:
    """All candidates of one of your stored generations: id, svg (sanitised text), engine, concept, nearest id,
    similarity. A blind comparison's two show only id, side (A/B) and svg until you have voted on them."""
    return service.candidates_of(_id(generation_id, "generation_id"), session_id(request))


def _vote_rate() -> int:
    return setting("SVG_VOTES_PER_MIN")


@user_errors
def leaderboard() -> tuple[pd.DataFrame, str]:
    """SVG engine ratings from the blind votes (arena rating code), and a line saying how many earlier non-blind
    votes are kept but not counted (empty when there are none)."""
    return service.engine_leaderboard()


@user_errors
def history(request: gr.Request = None) -> pd.DataFrame:
    """This session's recent generations."""
    rows = service.recent(session_id(request))
    return pd.DataFrame(rows, columns=["id", "created", "kind", "prompt", "style", "engine", "seed", "candidates",
                                       "elapsed_s"])

