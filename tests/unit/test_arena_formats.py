"""Import/export formats and the ratings CLI (checked against hand-computed values)."""
import json
import math
import subprocess
import sys

import pytest

from backend.arena import formats
from backend.arena.cli.ratings import main as ratings_main

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_pointarena_mapping():
    items = [{"timestamp": "2025-05-01T10:00:00", "model1_name": "gpt-4o", "model2_name": "molmo",
              "winning_model": "molmo", "category": "affordable", "object_name": "Point to the mug",
              "image_filename": "a.jpg", "model1_points": [{"point": [1, 2]}], "model2_points": []},
             {"model1_name": "gpt-4o", "model2_name": "molmo", "winning_model": "both_good"},
             {"model1_name": "gpt-4o", "model2_name": "molmo", "winning_model": "both_bad"},
             {"model1_name": "gpt-4o", "model2_name": "molmo", "winning_model": "gpt-4o"}]
    recs = formats.from_pointarena(items)
    assert [r["winner"] for r in recs] == ["model_b", "tie", "tie (bothbad)", "model_a"]
    assert recs[0]["category"] == "affordance" and recs[0]["instruction"] == "Point to the mug"
    assert recs[0]["tstamp"] == pytest.approx(1746093600.0)
    with pytest.raises(ValueError, match="neither model"):
        formats.from_pointarena([{"model1_name": "a", "model2_name": "b", "winning_model": "c"}])


def test_clean_battle_validation():
    recs = formats.from_clean_battle([{"model_a": "x", "model_b": "y", "winner": "tie (bothbad)", "judge": "u1",
                                       "anony": False, "tstamp": 1.5}])
    assert recs[0]["anony"] is False and recs[0]["tstamp"] == 1.5
    with pytest.raises(ValueError, match="winner"):
        formats.from_clean_battle([{"model_a": "x", "model_b": "y", "winner": "left"}])
    with pytest.raises(ValueError, match="JSON list"):
        formats.from_clean_battle({"model_a": "x"})


def test_content_hash_is_stable_and_discriminating():
    r = formats.from_clean_battle([{"model_a": "x", "model_b": "y", "winner": "tie", "tstamp": 3}])[0]
    assert formats.content_hash(r) == formats.content_hash(dict(r))
    assert formats.content_hash(r) != formats.content_hash({**r, "winner": "model_a"})


def test_leaderboard_csv_header():
    csv = formats.leaderboard_csv({"models": {"a": {"rating": 1010.04, "ci_low": 990, "ci_high": 1030, "wins": 3,
                                                    "losses": 1, "ties": 2, "battles": 6, "rank_ub": 1}}})
    lines = csv.strip().splitlines()
    assert lines[0] == "Model,Elo Rating,Wins,Losses,Games,Win Rate,Lower CI,Upper CI"
    assert lines[1] == "a,1010.0,3,1,6,0.7500,990.0,1030.0"


def test_leaderboard_csv_win_rate_of_a_model_with_only_ties_is_empty_not_zero():
    """Two ties (or both-bad votes) and nothing decided: the tab shows "–", the CSV used to say 0.0000 (it never
    lost). A win and a tie is 1.0 (ties are not in the denominator, as in the tab)."""
    import io

    import pandas as pd

    text = formats.leaderboard_csv({"models": {
        "t": {"rating": 1000.0, "ci_low": 900, "ci_high": 1100, "wins": 0, "losses": 0, "ties": 2, "battles": 2},
        "w": {"rating": 1100.0, "ci_low": 950, "ci_high": 1250, "wins": 1, "losses": 0, "ties": 1, "battles": 2}}})
    assert text.splitlines()[1] == "t,1000.0,0,0,2,,900.0,1100.0"
    df = pd.read_csv(io.StringIO(text)).set_index("Model")
    assert pd.isna(df.loc["t", "Win Rate"]) and df.loc["w", "Win Rate"] == 1.0


def test_cli_bt_matches_hand_values(tmp_path, capsys):
    battles = [{"model_a": "A", "model_b": "B", "winner": "model_a", "judge": "j", "anony": True, "tstamp": i}
               for i in range(3)] + [{"model_a": "A", "model_b": "B", "winner": "model_b", "anony": True, "tstamp": 9}]
    f = tmp_path / "b.json"
    f.write_text(json.dumps(battles))
    out = tmp_path / "r.json"
    assert ratings_main(["--battles", str(f), "--method", "bt", "--bootstrap", "0", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    d = 400 * math.log10(3)
    assert res["method"] == "bt" and res["models"]["A"]["rating"] == pytest.approx(1000 + d / 2, abs=0.05)
    assert res["models"]["A"]["ci_low"] == res["models"]["A"]["rating"]
    assert set(res["models"]["A"]) == {"rating", "ci_low", "ci_high", "rank_ub", "battles", "wins", "losses", "ties"}
    assert "A" in capsys.readouterr().out


def test_cli_elo_pointarena_hand_values(tmp_path):
    items = [{"model1_name": "A", "model2_name": "B", "winning_model": "A"},
             {"model1_name": "B", "model2_name": "A", "winning_model": "both_good"}]
    f = tmp_path / "dynamic_results.json"
    f.write_text(json.dumps(items))
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "backend.arena.ratings", "--battles", str(f), "--format",
                           "pointarena", "--method", "elo", "--bootstrap", "0", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())["models"]
    assert r["A"]["rating"] == pytest.approx(1001.976975, abs=1e-5)
    assert r["B"]["rating"] == pytest.approx(998.023025, abs=1e-5) and r["B"]["ties"] == 1


def test_cli_bad_file(tmp_path, capsys):
    f = tmp_path / "x.json"
    f.write_text("{not json")
    assert ratings_main(["--battles", str(f)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
