"""docs/svg_generator.md's tables are generated from the committed reports in static/svg/model/: the page holds
exactly what `cli tables` writes, and the figures in it are the reports' own (recomputed here from the JSON)."""
from __future__ import annotations

import json

from backend.config import REPO_ROOT
from backend.svg.offline import generator_tables as gt

DOC = REPO_ROOT / "docs" / "svg_generator.md"


def _block(text: str, begin: str, end: str) -> str:
    return text[text.index(begin) + len(begin):text.index(end)].strip("\n")


def test_generator_page_holds_the_generated_blocks():
    text = DOC.read_text()
    assert _block(text, gt.BEGIN, gt.END) == gt.generator_tables(), "run python -m backend.svg.offline.cli tables"
    assert _block(text, gt.FEW_BEGIN, gt.FEW_END) == gt.fewshot_tables(), "run python -m backend.svg.offline.cli tables"


def test_generator_figures_equal_the_committed_reports():
    text = DOC.read_text()
    block = _block(text, gt.BEGIN, gt.END)
    rep = json.loads((REPO_ROOT / "static" / "svg" / "model" / "eval_report.json").read_text())
    for split, name in (("heldout", "held-out"), ("seen", "seen")):
        for eng, m in rep["results"][split].items():
            rows = [[c.strip() for c in r.strip("|").split("|")] for r in block.splitlines() if r.startswith("| ")]
            (cells,) = [c for c in rows if c[0] == name and c[1].strip("*").removesuffix(" (oracle)") == eng]
            row = " | ".join(cells)
            assert cells[2:6] == [f"{m['valid_pct']:.0f}", f"{m['text_top1']:.2f}", f"{m['text_top5']:.2f}",
                                  f"{m['style_acc']:.2f}"], row
            assert cells[10] == f"{m['copy_pct']:.1f}" and cells[9] == f"{m['novelty']:.2f}", row
    gen = [rep["results"][s]["svg-pathdiffusion"]["novelty"] for s in ("heldout", "seen")]
    assert f"novelty {min(gen):.2f}–{max(gen):.2f} vs" in block
    sweep = json.loads((REPO_ROOT / "static" / "svg" / "model" / "guidance_sweep.json").read_text())["results"]
    for k, v in sweep.items():
        assert (f"| {v['heldout']['style_acc']:.2f} | {v['heldout']['paired_iou64']:.2f} | "
                f"{v['seen']['text_top1']:.2f} / {v['seen']['text_top5']:.2f} |") in block, k
    assert f"| **{gt.shipped_guidance():.1f}** |" in block
    few = json.loads((REPO_ROOT / "static" / "svg" / "model" / "fewshot_report.json").read_text())[0]
    fb = _block(text, gt.FEW_BEGIN, gt.FEW_END)
    assert f"{few['learn']['steps']} Adam steps" in fb
    assert f"| {few['results']['learned']['style_acc']:.2f} | {few['results']['learned']['d_stroke_px24']:.2f} |" in fb
