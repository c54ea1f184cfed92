"""Measure few-shot style learning: does a token learned from 8 exemplars move samples toward their style?

    python -m backend.svg.offline.fewshot_eval --style feather/regular [--exemplars 8] [--prompts 10] [--out F]

Exemplars: icons of STYLE from training concepts (seeded pick). Prompts: held-out concepts. For each prompt
the engine samples with (a) the learned token, (b) the "any style" token, (c) the real trained token of
STYLE (an upper bound: the model saw thousands of icons of it). Reported: style-judge accuracy for STYLE,
|Δ stroke width| and |Δ fill share| to STYLE's card, learning time and loss on 2 CPU threads.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from typing import Any

import numpy as np
import torch

from backend.svg.corpus import load_corpus
from backend.svg.engines import get_engine
from backend.svg.model.fewshot import learn_style
from backend.svg.offline.dataset import is_heldout
from backend.svg.offline.evaluate import StyleJudge, make_pairs
from backend.svg.paths import parse_svg_paths
from backend.svg.style import extract_style, style_from_set


def run(style: str, n_ex: int = 8, n_prompts: int = 10, seed: int = 0, steps: int = 150,
        budget_s: float = 170.0, judge=None) -> dict:
    torch.set_num_threads(1)  # 1 thread is ~10x faster than 2 on an oversubscribed box (measured)
    corpus = load_corpus()
    eng: Any = get_engine("svg-pathdiffusion")  # the learned engine: its generator, steps and guidance
    gen = eng.gen
    pool = sorted([ic for ic in corpus.of_style(style) if not is_heldout(ic.concept)], key=lambda i: i.id)
    ex = random.Random(seed).sample(pool, n_ex)
    t0 = time.time()
    learned = learn_style(gen, [ic.svg for ic in ex], names=[ic.concept for ic in ex], steps=steps,
                          budget_s=budget_s, seed=seed)
    judge = judge or StyleJudge.cached(corpus, seed=seed)
    target = style_from_set(style)
    prompts = [c for c, _, _ in make_pairs(corpus, "heldout", n_prompts, seed)]
    res = {}
    for mode in ("learned", "any", "trained"):
        hits, dsw, dfill = [], [], []
        for k, p in enumerate(prompts):
            kw = {"style_vec": np.array(learned.token)} if mode == "learned" else (
                {"style": style} if mode == "trained" else {})
            for s in gen.generate(p, n=2, seed=seed + k, steps=eng.steps, guidance=eng.guidance, **kw):
                hits.append(judge.predict(s.svg) == style)
                card = extract_style([parse_svg_paths(s.svg)[0]])
                dsw.append(abs(card.stroke_width - target.stroke_width * 24 / target.grid))
                dfill.append(abs(card.fill_ratio - target.fill_ratio))
        res[mode] = {"style_acc": round(float(np.mean(hits)), 3), "d_stroke_px24": round(float(np.mean(dsw)), 3),
                     "d_fill": round(float(np.mean(dfill)), 3)}
    return {"style": style, "exemplars": [ic.id for ic in ex], "prompts": prompts,
            "learn": learned.info(), "learn_threads": 1, "results": res, "elapsed_s": round(time.time() - t0, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--style", action="append", default=None)
    ap.add_argument("--exemplars", type=int, default=8)
    ap.add_argument("--prompts", type=int, default=10)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)

    judge = StyleJudge.cached(load_corpus(), seed=a.seed)
    out = [run(s, a.exemplars, a.prompts, a.seed, a.steps, judge=judge)
           for s in (a.style or ["feather/regular", "heroicons/solid"])]
    text = json.dumps(out, indent=1)
    print(text)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
