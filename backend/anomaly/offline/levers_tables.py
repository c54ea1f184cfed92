"""The protocol v5 docs tables (docs/anomaly.md), generated from the committed results so docs never disagree:
the validation v2 selection (`table`) and the v4-vs-v5 held-out v2 runs (`heldout_table`)."""
from __future__ import annotations

import json
from pathlib import Path

from backend.anomaly.offline.report import subsets
from backend.docs_blocks import replace_block

REPO = Path(__file__).resolve().parents[3]

BEGIN, END = "<!-- anomaly-levers-table:begin -->", "<!-- anomaly-levers-table:end -->"
NAMES = {"metauas": "MetaUAS-Lite0 (shipped)", "knn": "Patch kNN (K 8)", "ensemble": "Ensemble"}


def _cfg_text(engine: str, c: dict) -> str:
    if engine == "ensemble":
        return f"w {c['w_metauas']}, cal {c['knn_calibration']}, {c['agg']}"
    nv = "no NV" if c["norm"] == "none" else f"NV {c['norm']} r{c['radius']}"
    return f"{nv}, " + (f"σ {c['sigma']:g}, " if c.get("sigma") else "") + c["agg"]


def table(res: dict) -> str:
    """The docs tables (generated from the committed validation.json): D vs chosen per engine, the diagnostic."""
    parts = res["validation_v2"]["parts"]
    lines = ["| engine | settings | I-AUROC v1 part | I-AUROC new part | I-AUROC all | P-AP all | chosen |",
             "|---|---|---|---|---|---|---|"]
    for e in ("metauas", "knn", "ensemble"):
        s = res["selection"][e]
        rows = [("D", s["default"])] + ([("chosen", s["chosen"])] if s["changed"] else [])
        for tag, r in rows:
            lines.append(f"| {NAMES[e]} | {_cfg_text(e, r['config'])}{' (D)' if tag == 'D' else ''} | "
                         f"{r['i_auroc_v1']:.1f} | {r['i_auroc_new']:.1f} | **{r['i_auroc']:.1f}** | {r['p_ap']:.1f} | "
                         + ("**yes**" if (tag == "chosen" or not s["changed"]) else "") + " |")
    sp = [t.get("speed") for t in res["selection"]["metauas"]["tried"] if t.get("speed")]
    lines += ["", f"Validation v2: {len(parts['v1'])} v1 classes ({', '.join(parts['v1'])}; seed "
              f"{res['validation_v2']['seeds']['v1']}) + {len(parts['new'])} new ({', '.join(parts['new'])}; seed "
              f"{res['validation_v2']['seeds']['new']}), {res['validation_v2']['per_class_queries']['good']} good + "
              f"{5 * res['validation_v2']['per_class_queries']['per_defect_kind']} defective queries per class, one "
              "prompt (prompt seed 0, as the held-out report), 256 px. D = the settings before protocol v5; the "
              "ensemble rows use the members' chosen settings. NV = the prompt's normal-variation map "
              f"({res['nv']['views']} nuisance views, seed {res['nv']['seed']}), r = its max-filter radius in px. "
              "Configs looked at: " + ", ".join(f"{e} {v['n_configs']}" for e, v in res["selection"].items()) + "; "
              "rule: ≥ 1.0 point over D, P-AP ≥ D − 2.0, MetaUAS speed-eligible"
              + (f" (map + score {sp[0]['map_score_ratio']:.2f}× the plain kNN, `{sp[0]['file']}`)" if sp else "")
              + ". Source: `static/anomaly/protocol_v5/validation.json`, `python -m backend.anomaly.offline.levers`."]
    d = res.get("diagnostic")
    if d:
        lines += ["", "| checkpoint | trained on v1 validation photos | validation v1 part | validation v2 | "
                  "held-out old 5 | held-out v2 (8) |", "|---|---|---|---|---|---|"]
        for n, r in d["rows"].items():
            h = r["heldout"]
            lines.append(f"| `{n}` | {'yes' if r['trained_on_validation_v1_photos'] else 'no'} | "
                         f"{r['validation']['i_auroc_v1']:.1f} | {r['validation']['i_auroc']:.1f} | {h['old5']:.1f} | "
                         + (f"{h['v2']:.1f}" if "v2" in h else "—") + " |")
        t = d["kendall_tau"]
        lines += ["", "MetaUAS I-AUROC (score max, no NV) of the committed checkpoints; held-out figures are the "
                  "committed ones (no new held-out run). Kendall τ with held-out v2 (3 checkpoints): validation v1 "
                  f"part {t['validation_v1_vs_v2']}, validation v2 {t['validation_v2_vs_v2']}; with held-out old 5 "
                  f"(6 checkpoints / 4 not trained on the v1 photos): v1 part {t['validation_v1_vs_old5']} / "
                  f"{t['validation_v1_vs_old5_clean']}, v2 {t['validation_v2_vs_old5']} / "
                  f"{t['validation_v2_vs_old5_clean']}."]
    return "\n".join(lines)


HELDOUT_BEGIN, HELDOUT_END = "<!-- anomaly-levers-heldout:begin -->", "<!-- anomaly-levers-heldout:end -->"
REPORT_V4 = REPO / "static" / "anomaly" / "previous" / "heldout_report_v4.json"
REPORT_V5 = REPO / "static" / "anomaly" / "heldout_report.json"


def heldout_table(v4: dict, v5: dict) -> str:
    """Protocol v4's held-out v2 run beside protocol v5's (the same benchmark; only the map settings changed)."""
    names = {"metauas": "MetaUAS-Lite0 (shipped)", "knn": "Patch kNN", "ensemble": "Ensemble (default)"}
    lines = ["| engine | run | I-AUROC fresh | I-AUROC old | I-AUROC all | P-AP fresh | P-AP old | P-AP all | "
             "I-AUROC swapped | P-AP swapped | I-AUROC none | P-AP none | ms/img |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in ("metauas", "knn", "ensemble"):
        for tag, rep in (("v4", v4), ("v5", v5)):
            g, r = subsets(rep)[e]["correct"], rep["results"][e]
            lines.append(f"| {names[e]} | {tag} | " + " | ".join(
                f"{g[k][m]:.1f}" for m in ("i_auroc", "p_ap") for k in ("fresh", "old", "all"))
                + "".join(f" | {r[mode]['mean'][m]:.1f}" for mode in ("swapped", "none") for m in ("i_auroc", "p_ap"))
                + f" | {r['correct']['ms_per_image']:.0f} |")
    lines += ["", "Benchmark v2 (8 classes; class means). *v4*: protocol v4's one run "
              "(`static/anomaly/previous/heldout_report_v4.json`: no NV, score max); *v5*: protocol v5's one run with "
              "the settings chosen on validation v2 (`static/anomaly/heldout_report.json`). For the fresh classes v5 "
              "is the third look, for the old ones the fourth. ms/img: as measured in each run on the shared, loaded "
              "machine (indicative only; v5's first query per class also pays the prompt's NV views)."]
    return "\n".join(lines)


def write_table(res: dict, files=(REPO / "docs" / "anomaly.md",)) -> None:
    for f in files:
        text = replace_block(f.read_text(), BEGIN, END, table(res))
        v5 = json.loads(REPORT_V5.read_text()) if REPORT_V5.is_file() else {}
        if REPORT_V4.is_file() and v5.get("protocol") == "static/anomaly/protocol_v5.json":
            text = replace_block(text, HELDOUT_BEGIN, HELDOUT_END, heldout_table(json.loads(REPORT_V4.read_text()), v5))
        f.write_text(text)
