"""svgux: do the walkthrough's legibility fixes change any restyle of the committed evaluation?

`record OUT.pkl` (run on the code BEFORE a change to backend.svg.legibility.adapt): runs the evaluation's generation
flows (backend.svg.offline.legibility_eval: 7 configurations, seeds 0-6; both generators on seed 0 only, as the
committed reports) and stores every adapt() input and output. `compare OUT.pkl` (on the changed code): re-runs
adapt() on every recorded input and counts outputs that differ. 0 differing = the committed reports still hold
(their measurements are functions of the SVGs, and everything after adapt() is unchanged).
`flows OUT.json`: the same flows, storing a hash of every evaluated SVG (retrieval + restyle, restyle without
adaptation, both generators); run it on the code before and after a change to the engine and compare the files
(`same A.json B.json`): equal hashes = the committed reports' rows still hold.
"""
from __future__ import annotations

import copy
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def record(out: str) -> None:
    import torch

    import backend.svg.style as style_mod
    from backend.svg.corpus import load_corpus
    from backend.svg.engines import RetrievalEngine, get_engine
    from backend.svg.offline import legibility_eval as le

    torch.set_num_threads(1)
    rec = []
    orig = style_mod.adapt_geometry

    def wrapped(paths, card, w0, src_cap_ext=0.0):
        inp = (copy.deepcopy(paths), copy.deepcopy(card), w0, src_cap_ext)
        res = orig(paths, card, w0, src_cap_ext)
        rec.append((inp, copy.deepcopy(res)))
        return res

    style_mod.adapt_geometry = wrapped
    corpus, retr, t0 = load_corpus(), RetrievalEngine(), time.time()
    for seed in range(7):
        gens = ({"learned": get_engine("svg-pathdiffusion"), "untrained": le.untrained_engine(seed)}
                if seed == 0 else {})
        for card, _ in le.exemplar_cards(corpus, seed).values():
            for k, (concept, _split) in enumerate(le.prompts_for(corpus, seed)):
                retr.generate(concept, card, 1, seed + k)
                for eng in gens.values():
                    eng.generate(concept, card, 1, seed + k)
        print(f"seed {seed}: {len(rec)} adapt() calls so far, {time.time() - t0:.0f}s", flush=True)
    with open(out, "wb") as f:
        pickle.dump(rec, f)


def flows(out: str) -> None:
    import hashlib
    import json

    import torch

    from backend.svg.corpus import load_corpus
    from backend.svg.engines import RetrievalEngine, get_engine, restyle_card
    from backend.svg.offline import legibility_eval as le
    from backend.svg.paths import paths_to_svg
    from backend.svg.style import apply_style, style_from_set

    torch.set_num_threads(1)
    corpus, retr, t0, rows = load_corpus(), RetrievalEngine(), time.time(), {}
    for seed in range(7):
        gens = ({"learned": get_engine("svg-pathdiffusion"), "untrained": le.untrained_engine(seed)}
                if seed == 0 else {})
        for st, (card, _) in le.exemplar_cards(corpus, seed).items():
            for k, (concept, _split) in enumerate(le.prompts_for(corpus, seed)):
                cand = retr.generate(concept, card, 1, seed + k)[0]
                src = corpus.by_id(cand.source_id or "")
                applied = restyle_card(card)[0]
                plain = paths_to_svg(apply_style(src.paths, applied, style_from_set(src.style)), grid=applied.grid)
                svgs = {"restyle": cand.svg, "plain": plain,
                        **{name: eng.generate(concept, card, 1, seed + k)[0].svg for name, eng in gens.items()}}
                for name, svg in svgs.items():
                    rows[f"{seed}|{st}|{concept}|{name}"] = hashlib.sha1(svg.encode()).hexdigest()[:16]
        print(f"seed {seed}: {len(rows)} SVGs, {time.time() - t0:.0f}s", flush=True)
    with open(out, "w") as f:
        json.dump(rows, f, indent=0, sort_keys=True)


def same(a: str, b: str) -> int:
    import json

    with open(a) as f:
        ra = json.load(f)
    with open(b) as f:
        rb = json.load(f)
    diff = sorted(k for k in ra.keys() | rb.keys() if ra.get(k) != rb.get(k))
    print(f"{len(diff)} of {len(ra)} evaluated SVGs differ", *diff[:20], sep="\n")
    return len(diff)


def compare(path: str) -> int:
    from collections import Counter

    from backend.svg import legibility

    with open(path, "rb") as f:
        rec = pickle.load(f)
    print("cards (caps, joins, mode):", dict(Counter((c.linecap, c.linejoin, c.mode) for (_, c, _, _), _ in rec)))
    diff = 0
    for (paths, card, w0, ext), (old, _old_notes) in rec:
        new, _ = legibility.adapt(copy.deepcopy(paths), card, w0, ext)
        same = len(new) == len(old) and all(
            np.array_equal(np.asarray(a["cubics"]), np.asarray(b["cubics"])) and list(a["closed"]) == list(b["closed"])
            and np.array_equal(np.asarray(a["starts"]), np.asarray(b["starts"])) for a, b in zip(new, old, strict=True))
        diff += not same
    print(f"{diff} of {len(rec)} recorded evaluation adapt() calls differ")
    return diff


if __name__ == "__main__":
    cmds = {"record": record, "compare": compare, "flows": flows, "same": same}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        raise SystemExit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
