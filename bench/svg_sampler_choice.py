"""Quality of the learned SVG generator at each pre-registered sampler setting, in one process.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python bench/svg_sampler_choice.py [--out F] [--smoke]

Protocol, settings and rule: bench/results/svg_sampler_protocol.json (committed before this ran). Two parts,
both with the same code, judges, prompts and seeds as the committed evaluations, every setting in this process:
- E: backend.svg.offline.evaluate.evaluate restricted to the learned engine at each setting (24 pairs per split x
  2 candidates, seed 0), per-candidate rows kept so comparisons are paired;
- L: the generator rows of backend.svg.offline.legibility_eval (exemplar cards, prompts, recogniser, the shipped
  style judge) on configuration seeds 0-6, plus the untrained-network floor at the baseline setting. Nothing under
  static/svg/eval/ is written.
Writes bench/results/svg_sampler_choice.json; the rule is applied by backend.svg.offline.sampler_choice.
`--smoke`: a tiny run at 2 DDIM steps (checks the wiring, says nothing about quality), written to /tmp.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = ROOT / "bench" / "results" / "svg_sampler_protocol.json"
OUT = ROOT / "bench" / "results" / "svg_sampler_choice.json"


class FixedSampler:
    """The learned engine at one sampler setting (steps, guidance); everything else unchanged."""

    def __init__(self, eng, steps: int, guidance: float):
        self.eng, self.steps, self.guidance = eng, int(steps), float(guidance)
        self.name = eng.name

    def generate(self, prompt, style=None, n=4, seed=0):
        return self.eng.generate(prompt, style, n, seed, steps=self.steps, guidance=self.guidance)


def _plain(v):
    if isinstance(v, np.generic):
        v = v.item()
    return round(v, 4) if isinstance(v, float) else v


def settings_of(protocol: dict) -> list[dict]:
    return [protocol["baseline"], *protocol["candidates"]]


def part_e(eng, settings: list[dict], pairs: int, n: int, log) -> dict:
    from backend.svg.offline.evaluate import evaluate
    by_id = {s["id"]: FixedSampler(eng, s["steps"], s["guidance"]) for s in settings}
    rep = evaluate(list(by_id), pairs, n, 0, ("heldout", "seen"), log=log, make_engine=by_id.__getitem__,
                   keep_rows=True)
    rows = {split: {sid: [{k: _plain(v) for k, v in r.items()} for r in rs] for sid, rs in res.items()}
            for split, res in rep.pop("rows").items()}
    return {**{k: v for k, v in rep.items() if k != "protocol"}, "rows": rows}


def part_l(eng, settings: list[dict], seeds: list[int], log, styles=None, per_split=None) -> dict:
    from backend.svg.corpus import load_corpus
    from backend.svg.offline import legibility_eval as le
    corpus = load_corpus()
    sj = le.StyleClassifier.cached(corpus, le.JUDGE_PER_STYLE, 0, le.JUDGE_BLOCKS, le.JUDGE_PARAMS)
    rec = le.Recogniser(corpus)
    base = settings[0]
    rows, t0 = [], time.time()
    for seed in seeds:
        cards = {st: v for st, v in le.exemplar_cards(corpus, seed).items() if styles is None or st in styles}
        prompts = le.prompts_for(corpus, seed, per_split or le.PROMPTS_PER_SPLIT)
        engines = [(s["id"], FixedSampler(eng, s["steps"], s["guidance"])) for s in settings]
        engines.append(("floor", FixedSampler(le.untrained_engine(seed), base["steps"], base["guidance"])))
        for st, (card, _ids) in cards.items():
            for k, (concept, split) in enumerate(prompts):
                for sid, e in engines:
                    svg = e.generate(concept, card, 1, seed + k)[0].svg
                    m = le.measure(svg, concept, st, rec, sj)
                    rows.append({"config": seed, "target_style": st, "prompt": concept, "split": split, "k": k,
                                 "setting": sid, **{key: _plain(v) for key, v in m.items()}})
        log(f"L: configuration seed {seed} done ({time.time() - t0:.0f}s)")
    return {"seeds": seeds, "judge": le.judge_summary(sj, le.TARGET_STYLES)["real_heldout_acc"], "rows": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocol", default=str(PROTOCOL))
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    protocol = json.loads(Path(a.protocol).read_text())
    settings = settings_of(protocol)
    from backend.svg.engines import get_engine
    eng: Any = get_engine("svg-pathdiffusion")  # the learned engine (its generate takes steps/guidance)
    eng.generate("warm up", "phosphor/regular", 1, 0, steps=2)  # loads MiniLM before anything is timed
    t0 = time.time()
    load0 = open("/proc/loadavg").read().split()[:3]

    def log(msg):
        print(f"[{time.time() - t0:6.0f}s] {msg}", flush=True)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip()
    if a.smoke:
        settings = [{**s, "steps": 2} for s in settings]
        e = part_e(eng, settings, 1, 1, log)
        lpart = part_l(eng, settings, [0], log, styles=("phosphor/bold",), per_split=1)
        out = Path("/tmp/svg_sampler_smoke.json") if a.out == str(OUT) else Path(a.out)
    else:
        e = part_e(eng, settings, 24, 2, log)
        lpart = part_l(eng, settings, list(range(7)), log)
        out = Path(a.out)
    res = {"protocol": "bench/results/svg_sampler_protocol.json", "commit": commit, "settings": settings,
           "command": "bench/svg_sampler_choice.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "load_average_start": load0, "load_average_end": open("/proc/loadavg").read().split()[:3],
           "elapsed_s": round(time.time() - t0, 1), "E": e, "L": lpart}
    out.write_text(json.dumps(res, separators=(",", ":")))
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
