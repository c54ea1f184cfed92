"""Which installed solid family a few filled exemplars look like, by drawing conventions (not line weight).

Solid glyphs have no line weight, and the family-level card (padding, smooth-joint share, detail) tells Phosphor
fill, Heroicons solid and Ionicons sharp apart badly (6/27 exemplar triples of training-concept icons). Here each
icon becomes a signature of drawing conventions (`geometry_stats` plus visual weight, solidity, padding, smooth
joints, detail); a card from exemplars carries the mean signature of its exemplars, and solid families are ranked
by distance to their centroid (standardised), computed from 30 training-concept icons per family
(`python -m backend.svg.offline.cli family-signatures` writes static/svg/family_signatures.json): 12/27 triples
right on training-concept exemplars. Nothing here sees held-out-concept icons.

`rank_families` ranks every installed set/variant (not only solid ones) for exemplars whose ink is filled, by the
likelihood of their mean signature under each family's own spread of conventions (80 training-concept icons per
family, the `families` block of the same table). On exemplar triples of training-concept icons it names the right
family first 73 times in 110 against 57 for the card matcher (engines.matching_families' weight/padding rule);
tests/unit/test_svg_legibility.py pins a smaller version of that comparison.

`identify_families` (the default for exemplar cards since svg5) is a small classifier instead of a distance: a
3-member ensemble of one-hidden-layer networks (scikit-learn MLP, 64 ReLU units, trained offline and shipped as
weights in static/svg/family_identifier.json, evaluated here with numpy) maps each exemplar's
`style.identity_features` to a probability per installed family; the exemplars vote by summed log-probability,
among families with the same duotone flag. It is fitted on training-concept icons of one half of the training
concepts (split by a hash of the concept name) and measured on exemplar triples from the other half
(`python -m backend.svg.offline.cli family-identifier`; the figures are in the table's `measured` block). It never
sees held-out concepts, exemplars of the evaluation, or the style judge.
"""
from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from backend.config import REPO_ROOT

SIGNATURES = REPO_ROOT / "static" / "svg" / "family_signatures.json"
IDENTIFIER = REPO_ROOT / "static" / "svg" / "family_identifier.json"


def geometry_stats(paths: list[dict], a64: np.ndarray) -> list[float]:
    """Drawing conventions a family-level card averages away: straight vs curved segments, tiny (corner-rounding)
    segments, sharp corners, median segment length, stroke-width spread, stroked share, raster edge density,
    subpaths per path and solid-ink share."""
    cub = [np.asarray(p["cubics"], np.float64) for p in paths if len(p["cubics"])]
    allc = np.concatenate(cub) if cub else np.zeros((0, 4, 2))
    if len(allc):
        chord = np.linalg.norm(allc[:, 3] - allc[:, 0], axis=1)
        ctrl = np.maximum(np.abs(np.cross(allc[:, 1] - allc[:, 0], allc[:, 3] - allc[:, 0])),
                          np.abs(np.cross(allc[:, 2] - allc[:, 0], allc[:, 3] - allc[:, 0]))) / np.maximum(chord, 1e-6)
        straight = float(np.mean(ctrl < 0.002))
        tiny = float(np.mean(chord < 0.02))
        t_out, t_in = allc[:-1, 3] - allc[:-1, 2], allc[1:, 1] - allc[1:, 0]
        cos = np.sum(t_out * t_in, 1) / np.maximum(np.linalg.norm(t_out, axis=1) * np.linalg.norm(t_in, axis=1), 1e-9)
        sharp = float(np.mean(cos < 0.7)) if len(cos) else 0.0
        seg_len = float(np.median(chord))
    else:
        straight = tiny = sharp = seg_len = 0.0
    widths = [float(p["stroke_width"]) for p in paths if p["stroke"]]
    gy, gx = np.gradient(a64)
    edge = float(np.hypot(gx, gy).mean())
    subs = float(np.mean([len(p.get("starts", [0])) for p in paths])) if paths else 0.0
    return [straight, tiny, sharp, seg_len, float(np.std(widths)) if widths else 0.0,
            len(widths) / max(len(paths), 1), edge, min(subs / 5, 3.0), float((a64 > 0.5).mean())]


@lru_cache(maxsize=1)
def load_signatures() -> dict | None:
    if not SIGNATURES.exists():
        return None
    return json.loads(SIGNATURES.read_text())


def rank_solid(signature: list[float]) -> list[str]:
    """Installed solid families, closest drawing conventions first ([] without a signature or the table)."""
    table = load_signatures()
    if not signature or table is None or len(signature) != len(table["mean"]):
        return []
    mu, sd = np.asarray(table["mean"]), np.asarray(table["std"])
    q = (np.asarray(signature) - mu) / sd
    d = {st: float(np.linalg.norm(q - np.asarray(c))) for st, c in table["centroids"].items()}
    return sorted(d, key=lambda st: (d[st], st))


def rank_families(signature: list[float], duotone: bool, n_icons: int = 3) -> list[str]:
    """Every installed set/variant, most likely first, for the mean signature of `n_icons` exemplars: the
    log-likelihood of that mean under each family's own spread of conventions (diagonal Gaussian over its 80
    training-concept icons, standardised; spread floored so that no single measurement decides), among the
    families with the same duotone flag. [] without the table."""
    table = load_signatures()
    fams = (table or {}).get("families")
    if not signature or not fams or len(signature) != len(fams["mean"]):
        return []
    mu, sd = np.asarray(fams["mean"]), np.asarray(fams["std"])
    q = (np.asarray(signature) - mu) / sd
    k = np.sqrt(max(int(n_icons), 1))
    d = {}
    for st, c in fams["centroids"].items():
        if bool(fams["duotone"][st]) != bool(duotone):
            continue
        s = np.asarray(fams["spread"][st]) / k
        d[st] = float(np.sum(((q - np.asarray(c)) / s) ** 2) + 2.0 * np.sum(np.log(s)))
    return sorted(d, key=lambda st: (d[st], st))


@lru_cache(maxsize=1)
def load_identifier() -> dict | None:
    if not IDENTIFIER.exists():
        return None
    table = json.loads(IDENTIFIER.read_text())
    for m in table["members"]:
        m["layers"] = [(np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in m["layers"]]
    table["mean_a"], table["std_a"] = np.asarray(table["mean"]), np.asarray(table["std"])
    return table


def family_log_proba(rows: list[list[float]], table: dict | None = None) -> np.ndarray:
    """Per exemplar row, the ensemble's mean log-probability of each family (columns: table["classes"])."""
    table = table or load_identifier()
    if table is None:
        raise ValueError("no family identifier table (static/svg/family_identifier.json is missing)")
    x = (np.asarray(rows, np.float64) - table["mean_a"]) / table["std_a"]
    out = np.zeros((len(x), len(table["classes"])))
    for m in table["members"]:
        h = x
        for k, (w, b) in enumerate(m["layers"]):
            h = h @ w + b
            if k < len(m["layers"]) - 1:
                h = np.maximum(h, 0.0)
        h = h - h.max(1, keepdims=True)
        out += h - np.log(np.exp(h).sum(1, keepdims=True))
    return out / len(table["members"])


def identify_families(rows: list[list[float]], duotone: bool) -> list[tuple[str, float]]:
    """Every installed set/variant with the exemplars' summed log-probability, most likely first, among the families
    with the same duotone flag ([] without the table or with rows of the wrong length)."""
    table = load_identifier()
    if not rows or table is None or any(len(r) != len(table["mean"]) for r in rows):
        return []
    lp = np.maximum(family_log_proba(rows, table), np.log(1e-4)).sum(0)
    ranked = [(st, float(v)) for st, v in zip(table["classes"], lp, strict=True)
              if bool(table["duotone"][st]) == bool(duotone)]
    return sorted(ranked, key=lambda t: (-t[1], t[0]))
