"""The inspector's CLI on the bundled synthetic sample (real kNN engine on the shipped Lite0 weights)."""
import json
import zipfile
from pathlib import Path

from backend.anomaly.batch import main

SAMPLE = Path(__file__).resolve().parents[2] / "static" / "anomaly" / "examples" / "nut"


def test_cli_sorts_flags_and_writes_zip(tmp_path, capsys):
    out = tmp_path / "r.zip"
    rc = main(["--prompts", str(SAMPLE / "train" / "good"), "--queries", str(SAMPLE / "test"), "--engine", "knn",
               "--out", str(out)])
    assert rc == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    # This clean synthetic prompt's nuisance views score 0 after the normal-variation discount, so nothing can be
    # calibrated from it: the engine's fixed default is used and said (it was the 0.001 floor, which flagged good/000)
    assert "thresholds not calibrated" in captured.err and "fixed default" in captured.err
    assert "NOT calibrated" in captured.err and "sit at their floor" not in captured.err
    table = [ln for ln in lines if ln.strip().endswith(".png")]
    # sorted, defects first; the fixed default (a threshold for textured photos) passes both good parts and flags the
    # strongest defect only (docs/anomaly.md, "Prompts that cannot calibrate")
    assert {ln.split()[-1].split("/")[0] for ln in table[:3]} == {"missing", "scratch", "stain"}
    assert [ln.split()[1] for ln in table] == ["NG", "OK", "OK", "OK", "OK"]
    res = json.loads(zipfile.ZipFile(out).read("results.json"))
    assert res["settings"]["engine"] == "knn" and len(res["results"]) == 5


def test_cli_bad_prompt_is_a_clear_error(capsys):
    assert main(["--prompts", "/no/such/file.png", "--queries", str(SAMPLE / "test")]) == 2
    assert "was not found" in capsys.readouterr().err


def test_cli_default_ensemble_separates_the_sample_without_warning(tmp_path, capsys):
    """The inspector's default engine on the same sample: calibrated thresholds flag all three defects, pass both
    good queries, and the calibration is informative (no floor warning)."""
    rc = main(["--prompts", str(SAMPLE / "train" / "good"), "--queries", str(SAMPLE / "test"), "--engine", "ensemble",
               "--out", str(tmp_path / "r.zip")])
    assert rc == 0
    captured = capsys.readouterr()
    table = [ln for ln in captured.out.splitlines() if ln.strip().endswith(".png")]
    assert [ln.split()[1] for ln in table] == ["NG", "NG", "NG", "OK", "OK"]
    assert "sit at their floor" not in captured.err
