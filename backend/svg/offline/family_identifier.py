"""Fit and measure the exemplar → installed-family identifier (backend.svg.family_match.identify_families).

Data: training-concept icons only (never held-out concepts, never the evaluation's exemplars, never the style
judge). The training concepts are split in two halves by a hash of the concept name: the identifier is fitted on
up to PER_FAMILY icons per set/variant from the first half, and measured on exemplar triples drawn from the
second half, where it is compared with the two matchers it replaces, on the same triples and through the same
card path an upload takes (`style_from_exemplars`): `family_match.rank_families` (drawing-convention distance,
for exemplars with filled ink) and the card matcher (`engines.matching_families` on a typed card).

Model: 3 one-hidden-layer networks (64 ReLU units, L2 alpha 0.1, seeds 0-2; scikit-learn MLPClassifier) on the
standardised `style.identity_features` (since svg11 with the filled paths' even-odd fill-rule share,
style.IDENTITY_FILL_RULE: 412/460 against 395/460 triples without it, bench/svg_identifier_features.py); exported as plain weights, evaluated in numpy at run time. Chosen on a
first split of the same kind (per-icon logistic regression 288/360, k-NN 285/360, this network 320/360 against
254/360 for rank_families, triples of non-centre-line styles).
"""
from __future__ import annotations

import hashlib
import json
import random
import time

import numpy as np
from sklearn.neural_network import MLPClassifier

from backend.svg import style
from backend.svg.corpus import load_corpus
from backend.svg.engines import matching_families
from backend.svg.family_match import IDENTIFIER, family_log_proba, load_identifier, rank_families
from backend.svg.offline.dataset import is_heldout
from backend.svg.style import identity_features, style_from_exemplars, style_from_set

PER_FAMILY = 400
HIDDEN, ALPHA, SEEDS = 64, 0.1, (0, 1, 2)


def fit_half(concept: str) -> bool:
    """True for the training concepts the identifier is fitted on; False for held-out concepts and for the training
    concepts it is measured on."""
    return not is_heldout(concept) and int(hashlib.md5(concept.encode()).hexdigest(), 16) % 2 == 0


def measure_half(concept: str) -> bool:
    return not is_heldout(concept) and not fit_half(concept)


def fit(per_family: int = PER_FAMILY, seed: int = 5, log=print) -> dict:
    corpus = load_corpus()
    rng = random.Random(seed)
    xs, ys = [], []
    t0 = time.time()
    for st in sorted(corpus.styles()):
        pool = [i for i in sorted(corpus.of_style(st), key=lambda i: i.id) if fit_half(i.concept)]
        rng.shuffle(pool)
        for ic in pool[:per_family]:
            xs.append(identity_features(ic.paths))
            ys.append(st)
        log(f"{st}: {min(len(pool), per_family)} icons ({time.time() - t0:.0f}s)")
    x, y = np.asarray(xs), np.asarray(ys)
    mu, sd = x.mean(0), x.std(0) + 1e-6
    z = (x - mu) / sd
    members, nets = [], []
    for s in SEEDS:
        net = MLPClassifier((HIDDEN,), alpha=ALPHA, max_iter=2000, random_state=s).fit(z, y)
        nets.append(net)
        members.append({"seed": s, "layers": [[w.round(6).tolist(), b.round(6).tolist()]
                                              for w, b in zip(net.coefs_, net.intercepts_, strict=True)]})
    classes = [str(c) for c in nets[0].classes_]
    table = {"about": "backend/svg/family_match.py identify_families; python -m backend.svg.offline.cli "
                      "family-identifier (backend/svg/offline/family_identifier.py)",
             "features": "style.identity_features" + (" (IDENTITY_FILL_RULE on)" if style.IDENTITY_FILL_RULE else ""),
             "per_family": per_family, "seed": seed,
             "fit_icons": len(y), "hidden": HIDDEN, "alpha": ALPHA, "classes": classes,
             "duotone": {st: bool(style_from_set(st).duotone) for st in classes},
             "mean": mu.round(6).tolist(), "std": sd.round(6).tolist(), "members": members}
    # the numpy forward pass is the networks' own (checked on the fitted icons)
    ref = np.mean([np.log(np.maximum(n.predict_proba(z[:200]), 1e-300)) for n in nets], axis=0)
    mine = family_log_proba(xs[:200], _loaded(table))
    assert np.allclose(ref, mine, atol=1e-3), float(np.abs(ref - mine).max())
    return table


def _loaded(table: dict) -> dict:
    t = json.loads(json.dumps(table))
    for m in t["members"]:
        m["layers"] = [(np.asarray(w), np.asarray(b)) for w, b in m["layers"]]
    t["mean_a"], t["std_a"] = np.asarray(t["mean"]), np.asarray(t["std"])
    return t


def triples(per_style: int = 20, seed: int = 3) -> list[tuple[str, list]]:
    corpus = load_corpus()
    rng = random.Random(seed)
    out = []
    for st in sorted(corpus.styles()):
        pool = [i for i in sorted(corpus.of_style(st), key=lambda i: i.id) if measure_half(i.concept)]
        for _ in range(per_style):
            out.append((st, rng.sample(pool, 3)))
    return out


def measure(per_style: int = 20, seed: int = 3, log=print) -> dict:
    """Top-1 family on exemplar triples of the measuring half, per card kind: the identifier as the engine uses it
    (engines.matching_families; centre-line exemplars: among the families the card rule accepts) against
    rank_families (used for filled ink before) and the card matcher (every card), through style_from_exemplars."""
    res: dict[str, dict] = {}
    per_style_hits: dict[str, list] = {}
    for st, icons in triples(per_style, seed):
        card = style_from_exemplars([ic.svg for ic in icons])
        kind = "centre-line" if card.mode == "outline" else "filled ink"
        new = matching_families(card, "identifier")[:1] == [st]  # the engine's path (centre-lines: card matches)
        sig = rank_families(card.signature, card.duotone, len(icons))[:1] == [st]
        card.source = "typed"
        old_card = matching_families(card, "card")[:1] == [st]
        r = res.setdefault(kind, {"n": 0, "identifier": 0, "rank_families": 0, "card_matcher": 0})
        r["n"] += 1
        r["identifier"] += new
        r["rank_families"] += sig
        r["card_matcher"] += old_card
        per_style_hits.setdefault(st, [0, 0, 0])
        per_style_hits[st][0] += new
        per_style_hits[st][1] += sig
        per_style_hits[st][2] += 1
    log(json.dumps(res))
    return {"triples_per_style": per_style, "seed": seed, "by_card_kind": res,
            "by_style": {st: {"n": v[2], "identifier": v[0], "rank_families": v[1]}
                         for st, v in per_style_hits.items()}}


def build(log=print, measure_only: bool = False) -> dict:
    """Fit (unless measure_only: keep the committed weights), write, then measure and write the measurement."""
    if measure_only:
        table = json.loads(IDENTIFIER.read_text())
        table.pop("measured", None)
    else:
        table = fit(log=log)
        IDENTIFIER.write_text(json.dumps(table, separators=(",", ":")))
    load_identifier.cache_clear()
    table["measured"] = measure(log=log)
    IDENTIFIER.write_text(json.dumps(table, separators=(",", ":")))
    load_identifier.cache_clear()
    return table["measured"]
