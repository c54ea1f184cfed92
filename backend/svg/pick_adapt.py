"""Per-icon choice of source drawing AND family adaptation for other-family restyles (issue 18, helper svg13).

When the wanted family (an installed target style, or the family the user's exemplars were matched to) draws no
variant of the prompted concept, retrieval restyles every other family's drawing of it and keeps the restyle the
family identifier finds most like the wanted family (engines.PICK_BY_IDENTIFIER = "other-family",
engines.likeness: the identifier's log-probability for the wanted family). The family-convention adaptation
steps of backend.svg.family_adapt (ink box, corners, weight of filled shapes) were tried as blanket rules and
kept none: each helped some targets and hurt others (weight: Phosphor bold 13 → 18 other-family restyles judged
right, Phosphor fill 15 → 5). Here the choice is made per icon instead: the TOP_K restyles with the highest
likeness are each also adapted by every step combination in VARIANTS, and whichever of all those drawings
(unadapted ones included) the identifier scores highest is kept. The identifier is trained on training-concept
corpus icons only; it never sees held-out concepts, the evaluation's exemplars or the style judges.

TOP_K = 0 switches it off (the pick is then exactly the previous one). The candidate's notes say which steps were
applied and why that drawing was chosen.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

from backend.svg.family_adapt import adapt_to_family

TOP_K = 0  # restyles (best by likeness, unadapted) whose adapted variants are scored too; 0 = off
VARIANTS: tuple[tuple[str, ...], ...] = (("box",), ("corners",), ("weight",), ("corners", "weight"),
                                         ("box", "corners", "weight"))


def settings() -> dict:
    """What the reports record in engine_settings."""
    return {"top_k": TOP_K, "variants": [list(v) for v in VARIANTS] if TOP_K else []}


def choose(pool: Sequence[tuple], want: str, mode: str | None, score: Callable[[list[dict]], float],
           top_k: int | None = None, variants: Sequence[tuple[str, ...]] | None = None,
           adapt: Callable = adapt_to_family) -> tuple:
    """`pool`: restyles (icon, paths, changed notes) of the concept's drawings, the family order's pick first.
    Returns (score, icon, paths, changed, steps) of the drawing `score` (the identifier's likeness for `want`)
    rates highest: over the pool unadapted and, for the top_k best of the pool, over each adaptation variant
    (`adapt(paths, want, notes, steps=..., mode=mode)`). Ties keep the earlier candidate (unadapted before
    adapted, pool order), so top_k = 0 is exactly the unadapted pick."""
    top_k = TOP_K if top_k is None else top_k
    variants = VARIANTS if variants is None else variants
    scored = [(score(p), -i, ic, p, list(ch)) for i, (ic, p, ch) in enumerate(pool)]
    first = max(scored, key=lambda t: (t[0], t[1]))
    best = (first[0], first[2], first[3], first[4], ())
    for _s, _, ic, paths, changed in sorted(scored, key=lambda t: (-t[0], -t[1]))[:max(top_k, 0)]:
        for steps in variants:
            notes = list(changed)
            try:
                out = adapt(copy.deepcopy(paths), want, notes, steps=tuple(steps), mode=mode)
            except (ValueError, ArithmeticError):
                continue
            if len(notes) == len(changed):
                continue  # the steps changed nothing: the same drawing, already scored
            s = score(out)
            if s > best[0]:
                best = (s, ic, out, notes, tuple(steps))
    return best


def note(steps: tuple[str, ...], want: str, n_pool: int, top_k: int | None = None) -> str:
    """Why an adapted drawing was kept ("" when none was: steps empty); the adaptation's own notes say what
    changed. Starts with a space, to follow the source note."""
    if not steps:
        return ""
    k = min(TOP_K if top_k is None else top_k, n_pool)
    return (f" Adapted toward {want}'s conventions ({' + '.join(steps)}): of the {n_pool} restyled drawing(s) and "
            f"adapted variants of the {k} most {want}-like, this one looks most like {want} to the family "
            "identifier (trained on corpus icons; not the evaluation's style judge).")
