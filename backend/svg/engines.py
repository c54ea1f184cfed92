"""SVG engines behind one interface, so the studio, the CLI and the arena vote do not care which one runs.

Interface (every engine: RetrievalEngine below and PathDiffusionEngine in backend.svg.model.engine):

    class SVGEngine(Protocol):
        name: str                      # registry name, e.g. "svg-retrieval"
        label: str                     # honest one-line description shown in the UI
        novelty: str                   # what the engine can and cannot invent, shown in the UI
        def generate(self, prompt: str, style: StyleSpec, n: int, seed: int) -> list[Candidate]: ...

    StyleSpec = str ("set/variant" of the installed corpus) | StyleCard (e.g. from exemplars) | None (as found)

Engines are registry entries with capability "svg-engine" in models.toml, built lazily by
`backend.registry.get_registry().get(name)`. `list_engines()` / `get_engine(name)` wrap that. Output SVG must
pass `finish_candidate`, which sanitises it (the output gate), renders the PNG, and adds the copying check
(nearest corpus icon by raster IoU) and size metrics, so every engine reports the same fields.

`retrieval` (the CPU default): embed the prompt with all-MiniLM-L6-v2, rank corpus concepts by name and tags;
prefer the icon of that concept in the target style, otherwise restyle a variant of that concept with the
style card, choosing the variant whose detail survives the target weight and adapting its geometry where
needed (backend.svg.legibility); the candidate's notes say what was changed.
Novelty is zero by construction: it returns (restyled) existing icons, and says so.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from backend.errors import UserError
from backend.registry import ModelUnavailable, get_registry
from backend.svg import pick_adapt
from backend.svg.corpus import DEFAULT_ROOT, META_FILE, load_corpus
from backend.svg.family_adapt import adapt_to_family
from backend.svg.family_match import family_log_proba, identify_families, load_identifier, rank_families, rank_solid
from backend.svg.index import COPY_THRESHOLD, raster_index, text_index
from backend.svg.legibility import lines_first, survives, weight_label
from backend.svg.paths import parse_svg_paths, path_stats, paths_to_svg
from backend.svg.render import render_png
from backend.svg.sanitize import SVGInputError, is_safe_svg, sanitize_svg
from backend.svg.style import StyleCard, apply_style, identity_features, set_card, style_from_set

StyleSpec = str | StyleCard | None
MAX_N = 16
NO_MATCH = 0.5  # below this text score nothing in the corpus closely resembles the prompt (unrelated prompts
# score 0.38-0.47 with MiniLM here; an exact concept name scores ~1.1 with the name bonus)
STROKE_SOURCES = ("tabler/outline", "lucide/regular", "heroicons/outline", "ionicons/outline", "feather/regular")
SOLID_SOURCES = ("phosphor/fill", "heroicons/solid", "mdi/filled", "remix/fill", "bootstrap/fill", "ionicons/filled",
                 "tabler/filled")


@dataclass
class Candidate:
    svg: str
    png: bytes
    engine: str
    prompt: str
    style: str                      # target style label ("phosphor/bold", "3 exemplar SVG(s)", "as found")
    concept: str = ""               # what it depicts, when known
    source_id: str | None = None    # corpus icon it was derived from (retrieval), else None
    nearest_id: str = ""            # nearest corpus icon by raster IoU (copying check)
    similarity: float = 0.0         # IoU with nearest_id in [0, 1]; > 0.9 counts as a copy
    text_score: float | None = None
    licence: str = ""
    attribution: str = ""
    notes: list[str] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)

    @property
    def is_copy(self) -> bool:
        return self.similarity > COPY_THRESHOLD

    def manifest(self) -> dict:
        return {k: getattr(self, k) for k in ("engine", "prompt", "style", "concept", "source_id", "nearest_id",
                                               "similarity", "text_score", "licence", "attribution", "notes",
                                               "metrics")}


class SVGEngine(Protocol):
    name: str
    label: str
    novelty: str

    def generate(self, prompt: str, style: StyleSpec, n: int, seed: int) -> list[Candidate]: ...


def check_request(prompt: str, n: int) -> str:
    prompt = (prompt or "").strip()
    if not prompt:
        raise UserError("Please type what the icon should show (e.g. “bell”).")
    if len(prompt) > 200:
        raise UserError("Please keep the prompt under 200 characters; icon prompts are short.")
    if not 1 <= int(n) <= MAX_N:
        raise UserError(f"Number of candidates must be between 1 and {MAX_N}.")
    return prompt


def resolve_style(style: StyleSpec) -> tuple[StyleCard | None, str | None, str]:
    """(card to apply or None, target corpus style or None, label)."""
    if style is None or style == "":
        return None, None, "as found"
    if isinstance(style, StyleCard):
        style.validate()
        return style, None, style.source or style.name

    if style not in load_corpus().styles():
        raise UserError(f"Unknown style {style!r}. Pick an installed set/variant such as phosphor/bold.")
    return set_card(style), style, style


def attribution_for(icon_id: str | None) -> tuple[str, str]:
    if not icon_id:
        return "", ""

    c = load_corpus()
    ic = c.by_id(icon_id)
    meta = c.sets[ic.set]
    return ic.licence, f"{meta['attribution']} — icon “{ic.name}” ({ic.style}), {meta['homepage']}"


def finish_candidate(svg: str, *, engine: str, prompt: str, style: str, concept: str = "", source_id: str | None = None,
                     text_score: float | None = None, notes: list[str] | None = None) -> Candidate:
    """The output gate every engine uses: sanitise, validate, render, copying check, metrics."""
    clean = sanitize_svg(svg)
    if not is_safe_svg(clean):
        raise SVGInputError("The engine produced SVG that failed the safety check.")
    paths, _ = parse_svg_paths(clean)
    if not paths:
        raise SVGInputError("The engine produced an empty SVG (no visible paths).")
    png = render_png(clean, 256)
    nearest_id, sim = raster_index().nearest(clean, k=1)[0]
    lic, attr = attribution_for(source_id or (nearest_id if sim > 0.9 else None))
    metrics = {**path_stats(paths), "bytes": len(clean.encode()), "valid": True}
    return Candidate(svg=clean, png=png, engine=engine, prompt=prompt, style=style, concept=concept,
                     source_id=source_id, nearest_id=nearest_id, similarity=round(sim, 4),
                     text_score=None if text_score is None else round(float(text_score), 4), licence=lic,
                     attribution=attr, notes=list(notes or []), metrics=metrics)


class RetrievalEngine:
    """Nearest corpus icon by text, in the target style or restyled with the card."""

    name = "svg-retrieval"
    label = "Retrieval + restyle over the installed icon corpus (MiniLM text search; CPU)"
    novelty = ("Novelty is zero by construction: every candidate is an existing corpus icon, possibly restyled. "
               "Use it as a baseline and a style reference, not as a generator.")
    kind = "embedded"
    _concepts: tuple | None = None  # (corpus, {concept: [icons]}), built on first use

    def __init__(self, entry=None, device: str = "cpu"):
        self.device = device
        self.top_k_pool = int((entry.options if entry else {}).get("pool", 4))

    @classmethod
    def check_available(cls, entry=None) -> tuple[bool, str]:
        if not (DEFAULT_ROOT / META_FILE).exists():
            return False, f"icon corpus missing under {DEFAULT_ROOT} (python -m backend.svg.offline.cli corpus-build)"
        return True, "corpus and MiniLM ship with the app"

    def _pick(self, ranked: list[int], scores: np.ndarray, n: int, seed: int) -> list[int]:
        """Top-1 always; the rest sampled (seeded) from a pool of the next best, weighted by score."""
        pool = ranked[: max(n, self.top_k_pool * n)]
        if len(pool) <= n:
            return pool
        rng = random.Random(seed)
        chosen, rest = [pool[0]], pool[1:]
        w = np.exp((scores[rest] - scores[pool[0]]) / 0.05)
        while len(chosen) < n and rest:
            i = rng.choices(range(len(rest)), weights=w.tolist(), k=1)[0]
            chosen.append(rest.pop(i))
            w = np.delete(w, i)
        return chosen

    def generate(self, prompt: str, style: StyleSpec, n: int = 4, seed: int = 0) -> list[Candidate]:
        prompt = check_request(prompt, n)
        card, target, label = resolve_style(style)
        corpus = load_corpus()
        scores = text_index(corpus).scores(prompt)
        best_by_concept: dict[str, int] = {}
        for i in np.argsort(-scores, kind="stable"):
            best_by_concept.setdefault(corpus.icons[i].concept, int(i))
            if len(best_by_concept) >= max(n * self.top_k_pool, 8):
                break
        ranked = list(best_by_concept.values())
        if card is not None and card.mode == "outline":  # only-filled concepts came out as blobs at line weights
            ranked = lines_first(ranked, corpus, self._by_concept(corpus), int(n), style_from_set)
        notes_all: list[str] = []
        if scores[ranked[0]] < NO_MATCH:
            notes_all.append(f"No corpus icon really matches “{prompt}” (best: “{corpus.icons[ranked[0]].concept}”, "
                             f"score {scores[ranked[0]]:.2f}); showing the nearest anyway.")
        applied, card_note = restyle_card(card) if card is not None else (None, None)
        matched = family_note(card) if card is not None else None
        notes_all += [n for n in (matched, card_note) if n]
        want = (target or nearest_family(card)) if card is not None else None  # the asked style or the matched family
        out = []
        for i in self._pick(ranked, scores, int(n), int(seed)):
            concept = corpus.icons[i].concept
            icon, how = self._source_icon(corpus, concept, scores, card, target, want)
            notes = list(notes_all)
            if card is not None and applied is not None and icon.style != target:
                paths, changed = _restyled(icon, applied, want)
                alts = self._alternatives(corpus, concept, icon, want)
                if alts and want is not None:  # the wanted family draws no variant of the concept: which restyle looks most like it?
                    pool = [(icon, paths, changed)]
                    for alt in alts:
                        try:
                            pool.append((alt, *_restyled(alt, applied, want)))
                        except (UserError, ValueError):
                            continue
                    best = pick_adapt.choose(pool, want, applied.mode, lambda p: likeness(p, str(want)))
                    if best[1] is not icon:
                        whose = "your" if target is None else f"the {target}"
                        how = (f"{want} has no “{concept}”; this is {best[1].style}'s drawing restyled with {whose} "
                               f"card: of {len(alts) + 1} drawings of “{concept}” restyled with the card it looks "
                               f"most like {want} to the family identifier (trained on corpus icons; not the "
                               f"evaluation's style judge), where the family order picked {icon.style}'s.")
                    how += pick_adapt.note(best[4], want, len(pool))  # "" unless adapted (pick_adapt, off by default)
                    icon, paths, changed = best[1], best[2], best[3]
                svg = paths_to_svg(paths, grid=applied.grid)
                notes += [how] + [f"Legibility: {c}." for c in changed]
            else:
                svg = icon.svg
                notes.append(how)
            out.append(finish_candidate(svg, engine=self.name, prompt=prompt, style=label, concept=concept,
                                        source_id=icon.id, text_score=float(scores[i]), notes=notes))
        return out

    def _alternatives(self, corpus, concept: str, icon, want: str | None) -> list:
        """Other drawings of `concept` to restyle and compare (PICK_BY_IDENTIFIER): only when the wanted family
        (`want`: the target style, or the family the exemplars were matched to) draws no variant of the concept, or
        with "any" whenever the wanted variant itself lacks it; one icon per other set/variant."""
        if PICK_BY_IDENTIFIER == "off" or not want or load_identifier() is None:
            return []
        same = self._by_concept(corpus)[concept]
        fam = want.split("/")[0]
        if PICK_BY_IDENTIFIER == "other-family" and any(ic.style.split("/")[0] == fam for ic in same):
            return []
        seen, out = {icon.style}, []
        for ic in same:
            if ic.style not in seen:
                seen.add(ic.style)
                out.append(ic)
        return out[:MAX_ALTERNATIVES]

    def _by_concept(self, corpus) -> dict[str, list]:
        if self._concepts is None or self._concepts[0] is not corpus:
            groups: dict[str, list] = {}
            for ic in corpus.icons:
                groups.setdefault(ic.concept, []).append(ic)
            self._concepts = (corpus, groups)
        return self._concepts[1]

    def _source_icon(self, corpus, concept: str, scores: np.ndarray, card: StyleCard | None, target: str | None,
                     want: str | None):
        same = self._by_concept(corpus)[concept]
        if target is not None:
            hit = [ic for ic in same if ic.style == target]
            if hit:
                return hit[0], f"“{concept}” exists in {target}: returned as is."
        if card is None:
            best = max(same, key=lambda ic: scores[ic._index])
            return best, f"“{concept}” from {best.style}, unchanged."
        lacks = (f"{want} has no “{concept}”; " if want and not any(ic.style == want for ic in same) else "")
        whose = "your" if target is None else f"the {target}"
        for rank_no, family in enumerate(source_families(card)):
            # the exemplars look like an installed family: start from the closest matching family that draws
            # the concept (a filled drawing for filled exemplars, drawn for that weight) before converting
            hit = [ic for ic in same if ic.style == family]
            if hit:
                if lacks:
                    return hit[0], (f"{lacks}this is {family}'s drawing (choice #{rank_no + 1} of the families "
                                    f"matching the {card.name} card) restyled with {whose} card.")
                which = "the installed family closest to" if rank_no == 0 else f"choice #{rank_no + 1} for"
                return hit[0], (f"“{concept}” from {family}, {which} the {card.name} card, restyled with the card.")
        prefer = SOLID_SOURCES if card.mode == "solid" else STROKE_SOURCES
        rank = {ic.id: (prefer.index(ic.style) if ic.style in prefer else len(prefer)) for ic in same}
        closing = ({ic.id: survives(ic.paths, card, style_from_set(ic.style)) for ic in same if ic.style in prefer}
                   if card.mode != "solid" else {})  # prefer the variant whose detail survives the target weight
        filled = {ic.id: card.mode != "solid" and style_from_set(ic.style).mode == "solid" for ic in same}  # blobs
        ordered = sorted(same, key=lambda ic: (rank[ic.id] == len(prefer), filled[ic.id], closing.get(ic.id, 0) > 0,
                                               rank[ic.id], closing.get(ic.id, 0), -scores[ic._index], ic.id))
        src, why = ordered[0], ""
        if closing and closing.get(src.id, 0) == 0 and any(v > 0 for v in closing.values()):
            worse = sorted({ic.style for ic in same if closing.get(ic.id, 0) > 0})
            why = f" (its detail survives weight {weight_label(card.stroke_width, card.grid)}; {', '.join(worse)} would close up)"
        return src, f"{lacks}“{concept}” restyled from {src.style} with the {card.name} style card{why}."


PICK_BY_IDENTIFIER = "other-family"  # "off" | "other-family" | "any": see RetrievalEngine._alternatives
MAX_ALTERNATIVES = 16


def _restyled(icon, card: StyleCard, want: str | None = None) -> tuple[list[dict], list[str]]:
    changed: list[str] = []
    paths = apply_style(icon.paths, card, style_from_set(icon.style), adapt=True, notes=changed)
    other = bool(want) and icon.set != str(want).split("/")[0]  # another family's drawing: want's conventions
    return (adapt_to_family(paths, str(want), changed, mode=card.mode) if other else paths), changed


def likeness(paths: list[dict], family: str) -> float:
    """How much a (restyled) drawing looks like `family` to the family identifier (family_match; trained on
    training-concept corpus icons, independent of the evaluation's style judge): its log-probability."""
    table = load_identifier()
    if table is None or family not in table["classes"]:
        return 0.0
    return float(family_log_proba([identity_features(paths)], table)[0, table["classes"].index(family)])


FAMILY_TOLERANCE = 0.3  # max relative line-weight difference for exemplars to count as an installed family


def source_families(card: StyleCard) -> list[str]:
    """Where to look for a drawing of the concept, in order: the closest matching family (for filled exemplars the
    two closest), then the sibling variants of those families (Heroicons outline for Heroicons solid, MDI filled
    for MDI outline: the same family's drawing of a concept its matching variant lacks, converted by the
    restyle), then the other matching families."""
    fams = matching_families(card)
    if not fams:
        return fams
    top = fams[:2] if card.mode == "solid" and not _ranked_by_family(card) else fams[:1]
    sets = [st.split("/")[0] for st in top]
    siblings = [st for s in sets for st in sorted(load_corpus().styles()) if st.split("/")[0] == s and st not in top]
    order = list(dict.fromkeys(top + siblings + fams[len(top):]))
    if card.mode == "solid":  # a centre-line drawing has no filled shapes to keep: any filled drawing comes first
        order = [st for st in order if style_from_set(st).mode != "outline"] + [
            st for st in order if style_from_set(st).mode == "outline"]
    return order


MATCHER = "identifier"  # how exemplar cards find their installed family: "identifier" (family_match.
# identify_families, the default), "signature" (family_match.rank_families, the previous default) or "card"
# (the card matcher below for every card)
IDENTIFY_CENTRELINE = True  # order centre-line exemplars' card-rule matches by the identifier (matching_families)


def _from_exemplars(card: StyleCard) -> bool:
    return card.source.endswith("exemplar SVG(s)")


def _identified(card: StyleCard, matcher: str | None = None) -> bool:
    """Exemplar cards that carry per-exemplar identity features are matched by family_match.identify_families."""
    return ((matcher or MATCHER) == "identifier" and _from_exemplars(card) and bool(card.identity)
            and (card.mode != "outline" or IDENTIFY_CENTRELINE))


def _ranked_by_family(card: StyleCard, matcher: str | None = None) -> bool:
    """Exemplar cards matched to a family by what their drawings look like (the identifier, or for filled ink
    the drawing-convention distance family_match.rank_families) rather than by their card's measurements."""
    if _identified(card, matcher):
        return True
    return ((matcher or MATCHER) != "card" and card.mode in ("outline-fill", "solid") and _from_exemplars(card)
            and bool(card.signature))


def _n_exemplars(card: StyleCard) -> int:
    head = card.source.split(" ", 1)[0]
    return int(head) if head.isdigit() else 1


def restyle_card(card: StyleCard) -> tuple[StyleCard, str | None]:
    """The card a restyle applies, and a note when it is not `card` itself. Three exemplars measure line weight,
    padding and even the mode noisily (three MDI outline icons give padding 1.0 where the set's 32-icon card says
    2.0; three thin Phosphor glyphs without holes measure as "solid"), and restyling by that noise moves even the
    family's own drawings away from the family. So when exemplars whose ink is filled (lines drawn as filled
    outlines, or solid glyphs) match an installed family (`matching_families`: drawing conventions, see
    family_match.rank_families), the family's card is applied — its mode, weight, padding, caps, joins and
    corners, on the exemplars' grid — with the exemplars' colours. Centre-line exemplars keep their own card
    (their stroke width, caps and joins are exact attributes that say what the user wants); so do cards typed
    in by hand."""
    if card.mode not in ("outline-fill", "solid") or not card.source.endswith("exemplar SVG(s)"):
        return card, None
    fams = matching_families(card)
    if not fams or (card.mode == "solid" and style_from_set(fams[0]).mode != "solid"):
        return card, None  # solid exemplars are not turned into line drawings: their own card is kept
    fam = style_from_set(fams[0])
    k = card.grid / fam.grid
    applied = StyleCard.from_dict({**fam.to_dict(), "name": card.name, "source": card.source, "grid": card.grid,
                                   "stroke_width": round(fam.stroke_width * k, 3), "padding": round(fam.padding * k, 2),
                                   "palette": list(card.palette), "signature": list(card.signature)})
    what = (f"its {applied.mode} mode, padding {applied.padding:g} and {applied.corners} corners"
            if applied.mode == "solid" else
            f"its weight {applied.stroke_width:g}, padding {applied.padding:g}, {applied.linecap} caps, "
            f"{applied.linejoin} joins and {applied.corners} corners")
    note = (f"Your exemplars match the installed set {fams[0]}: {what} (measured on 32 of its icons) are applied "
            f"instead of the exemplars' own measurements ({card.mode}, weight {weight_label(card.stroke_width, card.grid)}, padding "
            f"{card.padding:g}); the colours are yours.")
    return applied, note


def family_note(card: StyleCard) -> str | None:
    """Which installed family a card from exemplars was matched to, and how (None for other cards)."""
    if not _from_exemplars(card):
        return None
    fams = matching_families(card)
    if not fams:
        return (f"Your exemplars match no installed family ({card.mode}, weight {weight_label(card.stroke_width, card.grid)}); "
                "drawings come from a centre-line set, restyled with your card.")
    how = ("identified from each exemplar's drawing measurements (a small network trained on corpus icons; the "
           "exemplars vote)" if _identified(card) else
           "by drawing conventions" if _ranked_by_family(card) else "by line weight, caps, joins and padding")
    nxt = f" (then {', '.join(fams[1:3])})" if len(fams) > 1 else ""
    return f"Your exemplars were matched to the installed family {fams[0]}{nxt}, {how}."


def nearest_family(card: StyleCard) -> str | None:
    """The installed set/variant closest to `card` (see matching_families), or None when none matches."""
    fams = matching_families(card)
    return fams[0] if fams else None


def matching_families(card: StyleCard, matcher: str | None = None) -> list[str]:
    """Installed set/variants whose card matches `card`, closest first (empty when none does). Exemplars whose ink
    is filled (outline-fill or solid cards from uploads) are ranked over every installed family by drawing
    conventions (family_match.rank_families: 73/110 training-concept triples right against 57/110 for the card
    rule below). Otherwise (centre-line exemplars, typed cards) a match has the same mode
    and duotone flag, the same caps and joins for centre-line styles and, except for solid glyphs (whose
    "weight" is not a line weight), a line weight within 30 %; among matches the closest by
    2·|Δweight|/weight + 0.1·|Δpadding| (grid units) + |Δsmooth-joint share| + 0.5·|log detail ratio|.
    The weights were fitted on exemplar triples of *training-concept* icons (3 seeds × 23 styles: 42/69 right
    vs 36/69 for weight + padding alone); the evaluation's exemplars come from held-out concepts.
    Lets a user's exemplars that look like, say, Phosphor bold start from Phosphor bold drawings (drawn for
    that weight) rather than from a thinner family's detail.

    Since svg5, exemplar cards are identified by family_match.identify_families (a small network on each
    exemplar's drawing measurements, the exemplars vote; fitted on training-concept icons of half the training
    concepts, measured on triples from the other half: see static/svg/family_identifier.json `measured`); for
    centre-line exemplars it only orders the families the card rule accepts.
    `matcher` ("identifier", "signature", "card"; default MATCHER) keeps the earlier rules available."""
    if _identified(card, matcher):  # exemplar cards: every family, by the identifier's vote (family_match)
        installed = set(load_corpus().styles())
        ranked = [st for st, _ in identify_families(card.identity, card.duotone) if st in installed]
        if card.mode == "outline":
            # centre-line exemplars: their stroke width, caps and joins are exact attributes, so only the families
            # the card rule accepts are candidates, in the identifier's order; none -> no family (retrieval then
            # prefers the variant whose detail survives the exemplars' weight)
            allowed = set(_card_matches(card))
            return [st for st in ranked if st in allowed]
        if ranked:
            return ranked
    if _ranked_by_family(card, matcher):  # exemplars with filled ink: every family, by drawing conventions
        installed = set(load_corpus().styles())
        ranked = [st for st in rank_families(card.signature, card.duotone, _n_exemplars(card)) if st in installed]
        if ranked:
            return ranked
    if card.mode == "solid" and card.signature and (matcher or MATCHER) != "card":  # filled exemplars (family_match)
        installed = set(load_corpus().styles())
        ranked = [st for st in rank_solid(card.signature) if st in installed]
        if ranked:
            return ranked
    return _card_matches(card)


def _card_matches(card: StyleCard) -> list[str]:
    """The card matcher (see matching_families): families with the same mode and duotone flag, caps and joins for
    centre-lines, line weight within FAMILY_TOLERANCE; closest card first."""
    found: list[tuple[float, str]] = []
    for st in load_corpus().styles():
        c = style_from_set(st)
        if c.mode != card.mode or c.duotone != card.duotone:
            continue
        if card.mode == "outline" and (c.linecap, c.linejoin) != (card.linecap, card.linejoin):
            continue
        w, cw = card.stroke_width / card.grid * 24, c.stroke_width / c.grid * 24
        rel = abs(w - cw) / max(cw, 1e-6)
        if card.mode != "solid" and rel > FAMILY_TOLERANCE:
            continue
        d = ((2.0 * rel if card.mode != "solid" else 0.0)
             + 0.1 * abs(card.padding / card.grid * 24 - c.padding / c.grid * 24)
             + abs(card.smooth_joints - c.smooth_joints)
             + 0.5 * abs(math.log(max(card.detail, 1.0) / max(c.detail, 1.0))))
        found.append((d, st))
    return [st for _, st in sorted(found)]


def list_engines() -> list[tuple[str, str, bool, str]]:
    """(name, label, available, why) of every configured svg-engine."""
    reg = get_registry()
    rows = []
    for e in reg.entries("svg-engine"):
        ok, why = reg.availability(e.name)
        label = e.label or e.name
        try:  # an engine class may decorate its label (the experimental generator adds its measured figures)
            note = getattr(reg.factory(e.name), "label_note", None)
        except Exception:  # noqa: BLE001 - an engine that cannot even be imported is reported by availability
            note = None
        if callable(note):
            label = note(label)
        rows.append((e.name, label, ok, why))
    return rows


def get_engine(name: str) -> SVGEngine:
    reg = get_registry()
    entry = reg.entry(name)
    if entry.capability != "svg-engine":
        raise ModelUnavailable(f"{name!r} is not an SVG engine.")
    return reg.get(name)
