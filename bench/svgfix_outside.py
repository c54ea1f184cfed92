"""svgfix: for evaluated SVGs (keys of bench/svgux_adapt_check.py flows: "seed|style|concept|flow"), how much ink each
paints outside the viewBox and what the viewBox fit did. Run it on the code before and after a change and compare:

    python bench/svgfix_outside.py KEYS.txt OUT.json      # KEYS.txt: one key a line

Outside ink is counted as pixels with any coverage outside the viewBox on a 2048-px render of twice the viewBox
(about 43 px per unit of a 24 grid); the fit's note is the candidate's note that mentions the viewBox.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def outside_pixels(svg: str, size: int = 2048) -> int:
    from backend.svg.legibility import expanded_alpha

    a = expanded_alpha(svg, size)
    q = size // 4
    return int((a > 0).sum() - (a[q:size - q, q:size - q] > 0).sum())


def main(keys_file: str, out: str) -> None:
    import torch

    from backend.svg.corpus import load_corpus
    from backend.svg.engines import RetrievalEngine, get_engine, restyle_card
    from backend.svg.offline import legibility_eval as le
    from backend.svg.paths import paths_to_svg
    from backend.svg.style import apply_style, style_from_set

    torch.set_num_threads(1)
    corpus, retr, rows = load_corpus(), RetrievalEngine(), {}
    for key in (line.strip() for line in open(keys_file) if line.strip()):
        seed_s, st, concept, flow = key.split("|")
        seed = int(seed_s)
        card = le.exemplar_cards(corpus, seed)[st][0]
        k = [c for c, _ in le.prompts_for(corpus, seed)].index(concept)
        if flow in ("restyle", "plain"):
            cand = retr.generate(concept, card, 1, seed + k)[0]
            if flow == "plain":  # as the flows make it: the candidate's source, card applied without adaptation
                src, applied = corpus.by_id(cand.source_id or ""), restyle_card(card)[0]
                svg = paths_to_svg(apply_style(src.paths, applied, style_from_set(src.style)), grid=applied.grid)
                rows[key] = {"outside_px": outside_pixels(svg), "source": src.id, "fit": None}
                continue
        else:
            eng = get_engine("svg-pathdiffusion") if flow == "learned" else le.untrained_engine(seed)
            cand = eng.generate(concept, card, 1, seed + k)[0]
        fit = [n for n in cand.notes if "viewBox" in n and ("scaled" in n or "moved" in n)]
        rows[key] = {"outside_px": outside_pixels(cand.svg), "source": cand.source_id, "fit": fit[0] if fit else None}
        print(key, rows[key], flush=True)
    Path(out).write_text(json.dumps(rows, indent=1, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
