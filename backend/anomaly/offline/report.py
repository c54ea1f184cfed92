"""The held-out report: every engine × prompt mode on the real-photo benchmark, and the docs tables made from it.

`python -m backend.anomaly.offline.cli report --data DIR --out static/anomaly/heldout_report.json`
evaluates, beside the shipped engines, the trivial floor of the learned one (the same MetaUAS-Lite0
network with an untrained decoder, seed 0). `... cli tables` rewrites the marked table blocks of
README.md and docs/anomaly.md from the committed JSON, so the docs cannot disagree with it.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from backend.anomaly import engines
from backend.anomaly.checkpoint import load_metauas, save_lite0
from backend.anomaly.evaluate import PROMPT_MODES, run_evaluation
from backend.anomaly.model import LITE0_DECODER, MetaUAS
from backend.anomaly.offline import score_validation as sv

REPO = Path(__file__).resolve().parents[3]
REPORT = REPO / "static" / "anomaly" / "heldout_report.json"
ENGINES = ("metauas", "knn", "ensemble", "metauas-untrained")
LABELS = {"metauas": "MetaUAS-Lite0 (trained here)", "knn": "Patch kNN (training-free)",
          "ensemble": "Ensemble (MetaUAS + kNN)", "metauas-untrained": "MetaUAS-Lite0, untrained decoder (floor)"}
BEGIN, END = "<!-- anomaly-heldout-table:begin -->", "<!-- anomaly-heldout-table:end -->"
SPEED = REPO / "static" / "anomaly" / "speed.json"
SPEED_BEGIN, SPEED_END = "<!-- anomaly-speed-table:begin -->", "<!-- anomaly-speed-table:end -->"


def untrained_checkpoint(folder: Path, like: dict) -> Path:
    torch.manual_seed(0)
    cfg = {k: like[k] for k in ("alignment_type", "fusion_policy", "num_alignment_layers", "decoder_channels",
                                "attention", "decoder", "encoder_taps", "alignment_types") if k in like}
    model = MetaUAS("efficientnet-lite0", **cfg)
    return save_lite0(model, folder / "metauas_lite0_untrained.pt", {"note": "untrained floor, seed 0"})


def run(data: str, out: Path = REPORT, size: int = 256, seed: int = 0, progress=print) -> dict:
    shipped = REPO / "static" / "anomaly" / "metauas_lite0.pt"
    _, meta = load_metauas(shipped)
    cfg = torch.load(shipped, map_location="cpu", weights_only=True).get("config", {})
    tmp = Path(tempfile.mkdtemp(prefix="anomaly-floor-"))
    floor = untrained_checkpoint(tmp, {**cfg, "decoder_channels": cfg.get("decoder_channels", LITE0_DECODER)})
    results: dict = {}
    t0 = time.perf_counter()
    for mode in PROMPT_MODES:
        progress(f"[{time.perf_counter() - t0:.0f}s] prompt mode {mode}: metauas, knn, ensemble")
        res = run_evaluation(data, "all", size=size, prompt_seeds=(seed,), prompt_mode=mode)
        if mode == "correct":  # the floor is measured where it matters (and CPU time is scarce here)
            progress(f"[{time.perf_counter() - t0:.0f}s] prompt mode {mode}: untrained floor")
            res["metauas-untrained"] = run_evaluation(data, "metauas", size=size, prompt_seeds=(seed,),
                                                      prompt_mode=mode, checkpoint=str(floor),
                                                      map_options=engines.map_options_of("metauas", size))
        for eng, r in res.items():
            r["checkpoint"] = "untrained (seed 0)" if eng == "metauas-untrained" else r.get("checkpoint")
            r["data"] = Path(r["data"]).name
            results.setdefault(eng, {})[mode] = r
    bench = json.loads((Path(data) / "benchmark.json").read_text())
    report = {"command": "python -m backend.anomaly.offline.cli report " + " ".join(sys.argv[2:]),
              "benchmark": bench, "size": size, "prompt_seed": seed,
              "checkpoint_meta": {k: meta.get(k) for k in ("step", "minutes", "batch", "size", "command")},
              "results": results, "wall_s": round(time.perf_counter() - t0, 1),
              "protocol": PROTOCOL if bench.get("version") == 2 else bench.get("protocol"),
              "benchmark_protocol": "static/anomaly/protocol_v3.json" if bench.get("version") == 2
              else bench.get("protocol"),
              "machine": "shared 2-core CPU, 1 torch thread, loaded by other jobs (timings are indicative only)"}
    report["subsets"] = subsets(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    return report


SUBSET_METRICS = ("i_auroc", "p_ap")
# The report is run once per pre-registered protocol; v4 (prompt augmentation) was the second look at benchmark v2,
# v5 (normal-variation normalisation and score aggregation, chosen on validation v2) is the third.
PROTOCOL = "static/anomaly/protocol_v5.json"
LOOKS = {"static/anomaly/protocol_v3.json": ("first", "second"), "static/anomaly/protocol_v4.json": ("second", "third"),
         "static/anomaly/protocol_v5.json": ("third", "fourth")}


def subsets(report: dict) -> dict:
    """{engine: {mode: {"fresh"|"old"|"all": {metric: mean over those classes}}}} for a v2 benchmark (parts of
    classes in benchmark.json; protocol_v3: fresh = first look, old = second look, all = the reported benchmark)."""
    parts = report["benchmark"].get("parts")
    if not parts:
        return {}
    groups = {"fresh": parts["fresh"]["classes"], "old": parts["old"]["classes"], "all": None}
    out: dict = {}
    for eng, modes in report["results"].items():
        for mode, r in modes.items():
            pc = r["per_class"]
            out.setdefault(eng, {})[mode] = {
                g: {m: round(sum(pc[c][m] for c in (cls or pc)) / len(cls or pc), 2) for m in SUBSET_METRICS}
                for g, cls in groups.items()}
    return out


def subset_table(report: dict) -> str:
    sub = subsets(report)
    if not sub:
        return ""
    parts = report["benchmark"]["parts"]
    lines = ["| engine | prompt | I-AUROC fresh | I-AUROC old | I-AUROC all | P-AP fresh | P-AP old | P-AP all |",
             "|---|---|---|---|---|---|---|---|"]
    for eng in ENGINES:
        for mode in PROMPT_MODES:
            if mode in sub.get(eng, {}):
                g = sub[eng][mode]
                lines.append(f"| {LABELS[eng]} | {mode} | " + " | ".join(
                    f"{g[k][m]:.1f}" for m in SUBSET_METRICS for k in ("fresh", "old", "all")) + " |")
    fresh_look, old_look = LOOKS.get(report.get("protocol") or "", ("first", "second"))
    lines += ["", f"*fresh* = the {len(parts['fresh']['classes'])} classes added by protocol v3 "
              f"({', '.join(parts['fresh']['classes'])}; {fresh_look} look), *old* = the {len(parts['old']['classes'])} "
              f"v1 classes ({', '.join(parts['old']['classes'])}; {old_look} look, byte-identical images), *all* = "
              "the reported benchmark; class means of the per-class figures."]
    return "\n".join(lines)


POSTHOC_BEGIN, POSTHOC_END = "<!-- anomaly-posthoc-table:begin -->", "<!-- anomaly-posthoc-table:end -->"
CANDIDATES_DIR = REPO / "static" / "anomaly" / "candidates"


def posthoc_table(report: dict, folder: Path = CANDIDATES_DIR) -> str:
    """Shipped checkpoint (from the report) beside the post-hoc MetaUAS-only runs of other candidates on the same v2
    benchmark (`candidates/*/heldout_v2_correct.json`, measured AFTER the report was committed; never used to choose)."""
    parts = report["benchmark"].get("parts")
    if not parts:
        return ""
    fresh, old = parts["fresh"]["classes"], parts["old"]["classes"]

    def row(name, pc, swapped=None):
        m = {g: {k: round(sum(pc[c][k] for c in cls) / len(cls), 2) for k in SUBSET_METRICS}  # as subsets()
             for g, cls in (("fresh", fresh), ("old", old), ("all", fresh + old))}
        sw = f"{swapped:.1f}" if swapped is not None else "—"
        return (f"| {name} | " + " | ".join(f"{m[g][k]:.1f}" for k in SUBSET_METRICS for g in ("fresh", "old", "all"))
                + f" | {sw} |")

    res = report["results"]["metauas"]
    sv = REPO / "static" / "anomaly" / "score_validation.json"
    chosen = json.loads(sv.read_text()).get("chosen_checkpoint", "") if sv.is_file() else ""
    shipped = chosen.removeprefix("static/anomaly/").removesuffix("/metauas_lite0.pt") or "shipped"
    lines = ["| checkpoint (MetaUAS only, correct prompt) | I-AUROC fresh | I-AUROC old | I-AUROC all | P-AP fresh | "
             "P-AP old | P-AP all | P-AP swapped (all) |", "|---|---|---|---|---|---|---|---|",
             row(f"shipped (`{shipped}`), the pre-registered run", res["correct"]["per_class"],
                 res.get("swapped", {}).get("mean", {}).get("p_ap"))]
    for f in sorted(folder.glob("*/heldout_v2_correct.json")):
        pc = json.loads(f.read_text())["per_class"]
        if sorted(pc) != sorted(fresh + old):
            continue
        sw = f.with_name("heldout_v2_swapped.json")
        swapped = json.loads(sw.read_text())["mean"]["p_ap"] if sw.is_file() else None
        lines.append(row(f"`candidates/{f.parent.name}`, post hoc", pc, swapped))
    lines += ["", "Post-hoc rows: `python -m backend.anomaly.evaluate --data /tmp/heldout_v2 --engine metauas --checkpoint "
              "static/anomaly/candidates/<run>/metauas_lite0.pt --prompt-mode <mode> --out "
              "static/anomaly/candidates/<run>/heldout_v2_<mode>.json`, run after the shipped checkpoint's report was "
              "committed; image score = the map maximum for all."]
    return "\n".join(lines)


def winner(report: dict, metric: str = "p_ap") -> str:
    """The engine with the best mean `metric` with the correct prompt (the inspector's default follows it)."""
    rows = {e: r["correct"]["mean"][metric] for e, r in report["results"].items()
            if e in ("metauas", "knn", "ensemble")}
    return max(rows, key=lambda e: rows[e])


def engine_rows(report: dict) -> list[str]:
    """The engine × prompt-mode table of class means (any held-out report: v2's, v3's)."""
    res = report["results"]
    lines = ["| engine | prompt | I-AUROC | I-AP | P-AUROC | P-AP | P-F1max | AUPRO | ms/img |",
             "|---|---|---|---|---|---|---|---|---|"]
    for eng in ENGINES:
        if eng not in res:
            continue
        for mode in PROMPT_MODES:
            if mode not in res[eng]:
                continue
            m = res[eng][mode]["mean"]
            lines.append(f"| {LABELS[eng]} | {mode} | {m['i_auroc']:.1f} | {m['i_ap']:.1f} | {m['p_auroc']:.1f} | "
                         f"**{m['p_ap']:.1f}** | {m['p_f1max']:.1f} | {m['p_aupro']:.1f} | "
                         f"{res[eng][mode]['ms_per_image']:.0f} |")
    return lines


def tables(report: dict) -> str:
    res = report["results"]
    lines = engine_rows(report)
    if report["benchmark"].get("parts"):
        lines += ["", "By class group (benchmark v2 of protocol v3):", "", subset_table(report)]
    classes = res["knn"]["correct"]["classes"]
    lines += ["", "Pixel AP per class, correct prompt:", "",
              "| engine | " + " | ".join(classes) + " |", "|---|" + "---|" * len(classes)]
    for eng in ENGINES:
        if eng in res:
            pc = res[eng]["correct"]["per_class"]
            lines.append(f"| {LABELS[eng]} | " + " | ".join(f"{pc[c]['p_ap']:.1f}" for c in classes) + " |")
    b = report["benchmark"]
    lines += ["", f"Held-out real photos ({', '.join(f'{k} = {v}' for k, v in b['classes'].items())}); per class "
              f"{b['per_class']['prompts']} prompt views, {b['per_class']['good']} good and "
              f"{b['per_class']['per_defect_kind']} × {len(b['defect_kinds'])} defective queries "
              f"({', '.join(b['defect_kinds'])}; {', '.join(b['never_in_training'])} never used in training); "
              f"{report['size']} px, one prompt (seed {report['prompt_seed']}). *swapped*: the prompt of another "
              "class; *none*: the query is its own prompt. Source: `static/anomaly/heldout_report.json` "
              f"({report['machine']}). Winner on P-AP with the correct prompt: **{winner(report)}**."]
    return "\n".join(lines)


def speed_text(speed: dict) -> str:
    """The speed table from the committed bench/anomaly_speed.py output (static/anomaly/speed.json)."""
    rows = ["| per query, prompt cached | kNN ms | MetaUAS-Lite0 ms | ratio of medians | median per-pair ratio "
            "(quartiles) |", "|---|---|---|---|---|"]
    plain = "--plain-knn" in speed.get("command", "")
    for key, label in (("map", "anomaly map only (`map_square`)" + (" vs the plain kNN" if plain else "")),
                       ("map_score", "map + image score vs the plain kNN (protocol v5's eligibility bar)"),
                       ("inspect_one_prompt", "inspector, one prompt (`service.inspect`: map + similarity + score)"
                        + (" vs the shipped kNN" if plain else ""))):
        if key not in speed:
            continue
        r = speed[key]
        q = r["pair_ratio_quartiles"]
        rows.append(f"| {label} | {r['ms_median']['knn']:.0f} | {r['ms_median']['metauas']:.0f} | "
                    f"**{r['ratio_of_medians']:.2f}×** | {r['median_pair_ratio']:.2f}× ({q[0]:.2f}–{q[2]:.2f}) |")
    g = speed["gmac"]
    rows += ["", f"GMAC per query: kNN map {g['knn_map']:.2f} (+ {g['global_pass']:.2f} for the separate "
             f"global-feature pass the inspector needs for its similarity); MetaUAS {g['metauas_total']:.2f} (encoder "
             f"{g['metauas_encoder']:.2f} + alignment/decoder {g['metauas_alignment_decoder']:.2f}; its similarity "
             + (f"costs {g['metauas_similarity']:.2f} more, read off the map's own encoder pass: Lite0's ImageNet "
                "head, after Lite0's remaining blocks when the encoder stops at stride 16). "
                if "metauas_similarity" in g else "comes from its own encoder pass). ")
             + f"{speed['size']} px, {speed['threads']} thread, {speed['n']} pairs ({speed['order']}), load average "
             f"{speed['load_average'][0]} on {speed['cpus']} CPUs ({speed['note']}); "
             + ("plain kNN = K 0, no normal-variation normalisation, score max; shipped kNN = 8 prompt views + NV; "
                "MetaUAS with its shipped settings (NV sub r8, top0.5p) in every row; " if plain else "")
             + "source "
             f"`static/anomaly/speed.json`, `{speed['command']}`."]
    return "\n".join(rows)


def write_tables(report: dict, files=(REPO / "README.md", REPO / "docs" / "anomaly.md"),
                 speed_file: Path = SPEED) -> list[Path]:
    blocks = [(BEGIN, END, tables(report))]
    if sv.OUT.is_file():
        blocks.append((sv.BEGIN, sv.END, sv.table(json.loads(sv.OUT.read_text()))))
    if report["benchmark"].get("parts"):
        blocks.append((POSTHOC_BEGIN, POSTHOC_END, posthoc_table(report)))
    if speed_file.is_file():
        blocks.append((SPEED_BEGIN, SPEED_END, speed_text(json.loads(speed_file.read_text()))))
    done = []
    for f in files:
        text = f.read_text()
        for begin, end, body in blocks:
            if begin in text and end in text:
                text = text[:text.index(begin)] + f"{begin}\n{body}\n{end}" + text[text.index(end) + len(end):]
                if f not in done:
                    done.append(f)
        f.write_text(text)
    return done
