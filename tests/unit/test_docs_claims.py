"""Figures in README.md, docs/ and the UI's engine labels (models.toml) that are typed in prose rather than in a
generated block are pinned to their committed source here (audit14): a setting's default, the held-out anomaly
figures the inspector's engine labels quote, the bootstrap intervals of the anomaly paragraph, the ratings
benchmark. Each check reads small committed files only, so the suite stays fast."""
from __future__ import annotations

import json
import re
import tomllib

import pytest

from backend.config import REPO_ROOT, VARIABLES

README = REPO_ROOT / "README.md"
DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))
UNITS = {"": 1, "s": 1, "MB": 1024 * 1024, "KB": 1024, "MP": 1_000_000}


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _value(cell: str):
    """A README table cell as the value it states, or None when it states none we can compare."""
    cell = cell.strip()
    m = re.fullmatch(r"`(\d+),(\d+)`", cell)
    if m:
        return (int(m.group(1)), int(m.group(2)))
    m = re.fullmatch(r"`?(\d[\d,]*(?:\.\d+)?)`?(?: (MB|KB|MP|s))?", cell)
    if m:
        return _num(m.group(1)) * UNITS[m.group(2) or ""]
    if cell.startswith("unset") or cell == "off":
        return "unset"
    m = re.fullmatch(r"`([^`]+)`", cell)
    return m.group(1) if m else None


def _config_rows():
    text = README.read_text()
    section = text[text.index("## Configuration"):]
    section = section[:section.index("\n## ", 1)]
    for line in section.splitlines():
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]) if line.startswith("| `") else []
        if names and len(line.split("|")) >= 4:
            yield names, line.split("|")[2]


def test_readme_configuration_defaults_are_the_declared_ones():
    """Every variable the README's configuration table names is declared in backend.config.VARIABLES, and every
    default it states (numbers with units, pairs, `unset`/`off`, literal strings and ./paths) is the declared one."""
    checked = 0
    for names, cell in _config_rows():
        parts = [p.strip() for p in cell.split(" / ")]
        for i, name in enumerate(names):
            if name.endswith("_") or "<" in name:
                continue
            assert name in VARIABLES, f"README names {name}, which backend/config.py does not declare"
            if len(parts) != len(names):
                continue
            stated, default = _value(parts[i]), VARIABLES[name].default
            if stated is None:
                continue
            if stated == "unset":
                assert not default, f"README says {name} is unset by default; config says {default!r}"
            elif isinstance(stated, str) and stated.startswith("./"):
                assert default == REPO_ROOT / stated[2:], (name, stated, default)
            elif isinstance(stated, str) and default == "":
                continue  # derived at run time (e.g. DATABASE_URL from DATA_DIR): the README says how
            else:
                assert stated == default, f"README: {name} = {parts[i]}; backend/config.py: {default!r}"
            checked += 1
    assert checked >= 15


PROSE_DEFAULT = re.compile(r"`([A-Z][A-Z0-9_]{3,})`(?: [a-z]+)?(?:,| \()\s*(?:default )?(\d[\d,]*(?:\.\d+)?)\s*"
                           r"(MB|KB|MP|s)?\b")


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: p.name)
def test_defaults_quoted_in_prose_are_the_declared_ones(path):
    """Prose such as "`ARENA_MIN_VOTES` (20)", "`ARENA_TIMEOUT_S`, default 60 s" or "`MAX_QUEUE_BODY` (40 MB)"
    states the declared default."""
    for m in PROSE_DEFAULT.finditer(path.read_text()):
        name, value, unit = m.group(1), _num(m.group(2)), m.group(3) or ""
        if name in VARIABLES and isinstance(VARIABLES[name].default, int | float):
            assert value * UNITS[unit] == VARIABLES[name].default, f"{path.name}: {m.group(0)!r}"


def _models() -> dict:
    return {m["name"]: m for m in tomllib.loads((REPO_ROOT / "models.toml").read_text())["models"]}


def test_anomaly_engine_labels_quote_the_committed_report():
    """The Anomaly tab shows these labels; their figures are the committed held-out report's (correct prompt) and
    the shipped checkpoint's training log."""
    res = json.loads((REPO_ROOT / "static" / "anomaly" / "heldout_report.json").read_text())["results"]

    def fig(engine, metric):
        return f"{res[engine]['correct']['mean'][metric]:.1f}"

    models = _models()
    meta = models["metauas-lite0"]["label"]
    assert f"P-AP {fig('metauas', 'p_ap')} vs kNN {fig('knn', 'p_ap')}" in meta, meta
    ens = models["anomaly-ensemble"]["label"]
    assert f"I-AUROC {fig('ensemble', 'i_auroc')}, P-AP {fig('ensemble', 'p_ap')}" in ens, ens
    log = (REPO_ROOT / models["metauas-lite0"]["path"]).with_name("train_log.txt").read_text()
    minutes = float(re.findall(r'"minutes": ([\d.]+)', log)[-1])
    photos = int(re.search(r"\| (\d+) package photos", log).group(1))
    assert f"{minutes:.0f} min CPU" in meta and f"{photos} package photos" in meta, meta
    assert "device cpu" in log


def test_svg_generator_label_quotes_its_training_log():
    label = _models()["svg-pathdiffusion"]["label"]
    log = (REPO_ROOT / "static" / "svg" / "model" / "train_log.txt").read_text()
    params = int(re.search(r'"params": (\d+)', log).group(1))
    assert f"{params / 1e6:.1f} M params" in label, label
    readme = README.read_text()
    minutes = float(re.search(r'"minutes": ([\d.]+)', log).group(1))
    assert f"({params / 1e6:.2f} M params, trained {minutes:.1f} min on an H200)" in readme


def test_readme_anomaly_intervals_are_the_committed_bootstrap():
    """The prose under the README's held-out table quotes static/anomaly/heldout_ci.json."""
    ci = json.loads((REPO_ROOT / "static" / "anomaly" / "heldout_ci.json").read_text())
    e, d = ci["engines"], ci["paired_differences"]

    def span(x, sign=""):
        lo, hi = x["ci"]
        return f"{sign}{lo:.1f} to {sign}{hi:.1f}" if sign else f"{lo:.1f}–{hi:.1f}"

    text = " ".join(README.read_text().split())
    for s in (f"I-AUROC {span(e['metauas']['i_auroc'])} and P-AP {span(e['metauas']['p_ap'])} for MetaUAS",
              f"(I-AUROC ≥ 90 in {round(100 * ci['p_metauas_i_auroc_ge_90'])} % of resamples)",
              f"{span(e['ensemble']['i_auroc'])} and {span(e['ensemble']['p_ap'])} for the ensemble",
              f"MetaUAS − kNN P-AP gain of {span(d['metauas-knn:p_ap'], '+')}",
              f"ensemble − MetaUAS P-AP difference of {span(d['ensemble-metauas:p_ap'], '+')}"):
        assert s in text, s


def test_ratings_benchmark_blocks_are_generated_from_the_committed_runs():
    from bench import ratings_tables as rt

    runs = json.loads(rt.RESULT.read_text())
    assert len(runs) >= 3 and all(r["spearman"] > 0.99 and r["ours_total_s"] < 10 for r in runs)
    for path in (rt.README, rt.ARENA):
        text = path.read_text()
        assert rt.render(path, text, runs) == text, f"run `python bench/ratings_tables.py` ({path.name})"


EXCERPT = re.compile(r"<!-- log-excerpt:begin (\S+) -->\n(.*?)<!-- log-excerpt:end -->", re.S)


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: p.name)
def test_log_excerpts_are_verbatim_from_the_committed_log(path):
    """A `<!-- log-excerpt:begin LOG -->` block holds lines printed by a benchmark whose output is committed as LOG
    (bench/results/*.log, with UTC, commit and load average): every line of the block is a line of that log, so a
    figure cannot be edited by hand or outlive a rerun that changed it."""
    for m in EXCERPT.finditer(path.read_text()):
        log = REPO_ROOT / m.group(1)
        assert log.is_file(), f"{path.name} quotes {m.group(1)}, which is not committed"
        lines = set(log.read_text().splitlines())
        for line in m.group(2).splitlines():
            assert not line.strip() or line.startswith("```") or line in lines, \
                f"{path.name}: not in {m.group(1)}: {line!r}"


CITED = re.compile(r"(\d[\d,]*(?:\.\d+)?)[^()\n\d]{0,40}?\(`(bench/results/[\w.-]+\.(?:log|json))`")


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: p.name)
def test_inline_figures_citing_a_log_are_in_that_log(path):
    """Prose like "sanitiser 0.32 ms/icon (`bench/results/svg.log`)": the figure right before the cited log (or
    result JSON) is printed in it."""
    for m in CITED.finditer(path.read_text()):
        log = REPO_ROOT / m.group(2)
        assert log.is_file(), f"{path.name} cites {m.group(2)}, which is not committed"
        assert re.search(rf"(?<![\d.]){re.escape(m.group(1))}(?![\d])", log.read_text()), \
            f"{path.name}: {m.group(0)!r} — {m.group(1)} is not in {m.group(2)}"


def test_readme_quick_start_is_exactly_make_run_and_make_test():
    """The team rule: the README's quick start has two commands, `make run` and `make test`, and both are targets."""
    text = README.read_text()
    section = text[text.index("## Quick start"):]
    block = section[section.index("```bash\n") + 8:section.index("```", section.index("```bash\n") + 8)]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert commands == ["make run", "make test"], commands
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_readme_photo_edit_sentence_is_the_committed_evaluation():
    """The README's Photo 3D Edit sentence quotes static/edit3d/eval/{depth,fill}.json (default vs ground plane vs
    selected object; the size-chosen fill against the old Telea+texture default on medium holes, and on every size)."""
    ev = REPO_ROOT / "static" / "edit3d" / "eval"
    scenes = json.loads((ev / "depth.json").read_text())["scenes"]

    def rho(scene, start):
        return next(r["rho"] for r in scene["rows"] if r["source"].startswith(start))

    moto, *rendered = scenes
    text = " ".join(README.read_text().split())
    assert (f"Spearman ρ: {rho(moto, 'ground plane only'):.2f} (ground plane) → {rho(moto, '+ automatic main object (default'):.2f}"
            f" with no selection") in text
    assert f"→ {rho(moto, 'object selected'):.2f} with the object selected" in text
    plane = "/".join(f"{rho(s, 'ground plane only'):.2f}" for s in rendered)
    auto = "/".join(f"{rho(s, '+ automatic main object (default'):.2f}" for s in rendered)
    assert f"{plane} → {auto}" in text
    rows = json.loads((ev / "fill.json").read_text())["rows"]

    def fill(hole, method):
        return next(r for r in rows if r["hole"].startswith(hole) and r["method"].startswith(method))

    new, old = fill("medium", "sized"), fill("medium", "Telea + transplanted")
    assert (f"{new['psnr']:.2f} dB / {new['ssim']:.3f} / {new['grad_err']:.1f} vs {old['psnr']:.2f} / {old['ssim']:.3f} / "
            f"{old['grad_err']:.1f}") in text
    for hole in ("thin", "medium", "large"):  # "beats the old Telea+texture default on every hole size"
        n, o = fill(hole, "sized"), fill(hole, "Telea + transplanted")
        assert n["psnr"] > o["psnr"] and n["ssim"] > o["ssim"] and n["grad_err"] < o["grad_err"], hole


def test_readme_anomaly_history_quotes_the_committed_reports():
    """The README's protocol v3–v5 paragraph quotes the held-out reports kept under static/anomaly/ (v3 and v4 in
    previous/, v5 = the current one): one spot per protocol, recomputed here."""
    a = REPO_ROOT / "static" / "anomaly"

    def mean(path, engine):
        m = json.loads(path.read_text())["results"][engine]["correct"]["mean"]
        return f"{m['i_auroc']:.1f} / {m['p_ap']:.1f}"

    v3, v4, v5 = a / "previous" / "heldout_report_v3.json", a / "previous" / "heldout_report_v4.json", \
        a / "heldout_report.json"
    sub = json.loads(v5.read_text())["subsets"]["ensemble"]["correct"]
    text = " ".join(README.read_text().split())
    for s in (f"kNN {mean(v4, 'knn')} (was {mean(v3, 'knn')})",
              f"the **ensemble** {mean(v4, 'ensemble')} (was {mean(v3, 'ensemble')})",
              f"MetaUAS **{mean(v5, 'metauas').replace(' / ', '** / ')} (was {mean(v3, 'metauas')}), kNN {mean(v5, 'knn')}",
              f"the **ensemble {mean(v5, 'ensemble')}** (fresh classes {sub['fresh']['i_auroc']:.1f}, old "
              f"{sub['old']['i_auroc']:.1f})"):
        assert s in text, s


def test_readme_arena_scale_block_is_generated_from_the_committed_results():
    from bench import arena_tables as at

    text = README.read_text()
    block = "\n".join(at.block_lines())
    assert f"{at.BEGIN}\n{block}\n{at.END}" in text, "run `python bench/arena_tables.py`"


WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def test_readme_arena_prose_ranges_are_the_committed_runs():
    """The prose under the arena-scale block summarises its runs as ranges; recomputed from bench/results."""
    res = REPO_ROOT / "bench" / "results"
    runs = [json.loads(p.read_text()) for p in sorted(res.glob("vote_path_*.json"))]

    def pick(layer, db, before):
        return [r for r in runs if r["layer"] == layer and r["database"].startswith(db)
                and r.get("label", "").startswith("before") == before]

    def span(rs, key, fmt):
        lo, hi = min(r[key] for r in rs), max(r[key] for r in rs)
        return f"{format(lo, fmt)}–{format(hi, fmt)}"

    gs, bs = pick("service", "sqlite", False), pick("service", "sqlite", True)
    gp, bp = pick("service", "postgresql", False), pick("service", "postgresql", True)
    ratios = sorted(r["ratio"] for r in json.loads((res / "arena_scale_ratings.json").read_text())["runs"])
    text = " ".join(README.read_text().split())
    for s in (f"gives {span(gs, 'votes_per_s', ',.0f')} votes/s with p99 {span(gs, 'p99_ms', '.1f')} ms in {WORDS[len(gs)]} runs",
              f"against {span(bs, 'votes_per_s', ',.0f')} votes/s with p99 {span(bs, 'p99_ms', '.0f')} ms",
              f"On PostgreSQL: {span(gp, 'votes_per_s', ',.0f')} votes/s, p99 {span(gp, 'p99_ms', '.0f')} ms "
              f"(before: {span(bp, 'votes_per_s', ',.0f')} votes/s, p99 {span(bp, 'p99_ms', '.0f')} ms)",
              f"{ratios[0]:.2f}–{ratios[-2]:.2f}× in five of six pairs", f"and {ratios[-1]:.2f}× in the one pair"):
        assert s in text, s
