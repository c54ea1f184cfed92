"""Ratings aggregated by the database (GROUP BY) equal ratings computed from the same battles as a file,
on SQLite and PostgreSQL; bulk import skips stored content; the streamed export round-trips."""
import json

import numpy as np
import pandas as pd
import pytest

from backend.arena import formats, ratings, service
from backend.arena.cli import ratings as ratings_cli
from backend.arena.cli import transfer as transfer_cli
from storage.repos import arena as repo

MODELS = ["center", "random", "lite0-cam", "ocr", "remote"]


def _battles(n=1500, seed=3):
    """Clean_battle records with every filter exercised: named battles, bad categories, several judges and days."""
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 1, len(MODELS))
    out = []
    for i in range(n):
        a, b = rng.choice(len(MODELS), 2, replace=False)
        p = 1 / (1 + np.exp(strength[b] - strength[a]))
        u = rng.random()
        winner = "tie" if u < 0.08 else "tie (bothbad)" if u < 0.15 else ("model_a" if rng.random() < p else "model_b")
        out.append({"question_id": f"q{i}", "model_a": MODELS[a], "model_b": MODELS[b], "winner": winner,
                    "judge": f"judge-{rng.integers(0, 6)}" if rng.random() < 0.9 else None,
                    "anony": bool(rng.random() < 0.9), "tstamp": 1.7e9 + 3600.0 * i / 7 + i * 1e-3,
                    "category": str(rng.choice(["spatial", "affordable", "counting", "user_upload"])),
                    "prompt": f"Point to thing {i % 40}"})
    return out


@pytest.fixture
def arena_db(db_url, storage_for, monkeypatch):
    st = storage_for(db_url)
    monkeypatch.setattr("storage.db._storage", st)
    service.clear_cache()
    yield st
    service.clear_cache()


def _file_frame(items):
    return formats.records_to_frame(formats.from_clean_battle(items))


def _same(res_db, res_file):
    assert res_db["n_battles"] == res_file["n_battles"] > 0
    assert list(res_db["models"]) == list(res_file["models"])
    for m, r in res_file["models"].items():
        d = res_db["models"][m]
        for k in ("battles", "wins", "losses", "ties", "rank_ub"):
            assert d[k] == r[k], (m, k)
        for k in ("rating", "ci_low", "ci_high"):
            assert d[k] == pytest.approx(r[k], abs=1e-6), (m, k)


@pytest.mark.postgres
def test_db_ratings_equal_file_ratings(arena_db, tmp_path):
    items = _battles()
    r = service.import_battles(items, "clean_battle", chunk=400)
    assert r == {"read": len(items), "added": len(items), "skipped": 0}
    df = _file_frame(items)
    for cat in (None, "affordance"):
        counts = pd.DataFrame(arena_db.read(lambda s, c=cat: repo.outcome_counts(s, c)),
                              columns=["model_a", "model_b", "winner", "n"])
        sub = df if cat is None else df[df["category"] == cat]
        assert len(counts) <= 4 * len(MODELS) * (len(MODELS) - 1)  # 4 winner labels per ordered pair
        for reg in (0.0, 1.0):
            _same(ratings.compute_leaderboard_from_counts(counts, 30, seed=5, reg=reg),
                  ratings.compute_leaderboard(sub, "bt", 30, seed=5, reg=reg))
    # the daily cap is a window function in SQL, FastChat's limit_user_votes on the file
    capped = pd.DataFrame(arena_db.read(lambda s: repo.outcome_counts(s, None, daily_cap=3)),
                          columns=["model_a", "model_b", "winner", "n"])
    _same(ratings.compute_leaderboard_from_counts(capped, 20, seed=1),
          ratings.compute_leaderboard(df, "bt", 20, seed=1, daily_cap=3))
    assert ratings.compute_leaderboard_from_counts(capped, 0)["n_battles"] < len(df)
    # online Elo streams the counted votes in vote order
    rows = arena_db.read(lambda s: list(repo.iter_counted_votes(s)))
    elo_db = ratings.compute_leaderboard(pd.DataFrame(rows, columns=["model_a", "model_b", "winner"]), "elo", 0)
    _same(elo_db, ratings.compute_leaderboard(df, "elo", 0))
    # the service (what the leaderboard tab and export-leaderboard show) equals the ratings CLI on the file
    f = tmp_path / "b.json"
    f.write_text(json.dumps(items))
    rep = service.leaderboard_report("bt", "overall", bootstrap=25, fresh=True)
    lim = service.limits()
    _same(rep, ratings.compute_leaderboard(formats.load_battles_file(f), "bt", 25, 0, reg=lim.bt_prior))
    assert rep["total_votes"] == len(items)
    assert int(rep["pair_counts"].to_numpy().sum()) == 2 * rep["n_battles"]
    elo = service.leaderboard_report("elo", "overall", bootstrap=0, fresh=True)
    _same(elo, ratings.compute_leaderboard(df, "elo", 0))


@pytest.mark.postgres
def test_bulk_import_skips_stored_content_and_export_round_trips(arena_db, tmp_path, capsys):
    items = _battles(300, seed=9)
    first = service.import_battles(items[:200], "clean_battle", chunk=64)
    assert first["added"] == 200
    again = service.import_battles(items + items[:10], "clean_battle", chunk=64)  # 200 stored + 10 repeated
    assert again == {"read": 310, "added": 100, "skipped": 210}
    assert arena_db.read(repo.counts)["votes"] == 300
    out = tmp_path / "export.json"
    assert transfer_cli.main(["export", "--out", str(out)]) == 0
    exported = json.loads(out.read_text())
    assert len(exported) == 300 and {e["winner"] for e in exported} <= set(ratings.WINNERS)
    assert service.import_battles(exported, "clean_battle")["added"] == 0  # our own ids come back: skipped
    # the exported file rates like the database
    rep = service.leaderboard_report("bt", "overall", bootstrap=10, fresh=True)
    _same(rep, ratings.compute_leaderboard(formats.load_battles_file(out), "bt", 10, 0,
                                           reg=service.limits().bt_prior))


def test_columnar_file_reader_matches_record_parser(tmp_path):
    items = _battles(200, seed=4)
    items[3]["tstamp"] = "2024-05-01T10:00:00Z"
    items[4]["category"] = None
    cols = formats.clean_battle_columns(items, full=True)
    recs = formats.from_clean_battle(items)
    for k in formats.RECORD_COLUMNS:
        assert cols[k] == [r[k] for r in recs], k
    assert formats.content_hashes(cols) == [formats.content_hash(r) for r in recs]
    bad = items[:5] + [{"model_a": "x", "winner": "tie"}]
    with pytest.raises(ValueError, match="Battle #6 lacks"):
        formats.clean_battle_columns(bad)
    with pytest.raises(ValueError, match="Battle #2 has winner 'draw'"):
        formats.clean_battle_columns([items[0], dict(items[1], winner="draw")])


@pytest.mark.parametrize("columns", [None, ["anony"], ["judge", "tstamp"], ["image_sha256", "instruction"],
                                     ["sampling_prob", "category"]])
def test_typed_file_reader_matches_columnar_reader(tmp_path, monkeypatch, columns):
    """msgspec's typed decoding gives the columns the orjson reader gives, without ever decoding the file generically."""
    items = _battles(300, seed=5)
    items[3]["tstamp"] = "2024-05-01T10:00:00Z"
    items[4]["category"] = None
    del items[5]["anony"], items[6]["judge"]
    f = tmp_path / "b.json"
    f.write_text(json.dumps(items))
    want = formats.clean_battle_columns(items, columns=columns)

    def no_generic(_path):
        raise AssertionError("the typed path fell back to the generic decoder")

    monkeypatch.setattr(formats, "read_json", no_generic)
    got = formats.read_battle_columns(f, "clean_battle", columns)
    assert list(got) == list(want)
    for k in want:
        assert got[k] == want[k], k
        assert list(map(type, got[k])) == list(map(type, want[k])), k


def test_typed_file_reader_falls_back_with_the_same_values_and_errors(tmp_path):
    items = _battles(50, seed=6)
    odd = [dict(items[0], model_a=7), dict(items[1], anony=None), *items[2:]]  # outside the typed form, still valid
    f = tmp_path / "odd.json"
    f.write_text(json.dumps(odd))
    assert formats.read_battle_columns(f, columns=["anony"]) == formats.clean_battle_columns(odd, columns=["anony"])
    cases = [(items[:5] + [{"model_a": "x", "winner": "tie"}], "Battle #6 lacks"),
             ([items[0], dict(items[1], winner="draw")], "Battle #2 has winner 'draw'"),
             ({"model_a": "x"}, "JSON list")]
    for bad, msg in cases:
        f.write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=msg):
            formats.read_battle_columns(f, columns=["anony"])
    f.write_text("[{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        formats.read_battle_columns(f)
    with pytest.raises(ValueError, match="No battles file"):
        formats.read_battle_columns(tmp_path / "missing.json")


def test_ratings_cli_counts_path_identical_to_per_battle_table(tmp_path):
    """The CLI's BT path (typed decoding -> outcome counts) gives exactly the per-battle table's result."""
    f = tmp_path / "b.json"
    f.write_text(json.dumps(_battles(1500, seed=7)))
    out = tmp_path / "r.json"
    for extra, kw in (([], {}), (["--anchor", "random=1100", "--prior", "1.0"],
                                 {"anchor": ("random", 1100.0), "reg": 1.0})):
        assert ratings_cli.main(["--battles", str(f), "--bootstrap", "20", "--seed", "3", "--out", str(out),
                                 *extra]) == 0
        want = ratings.compute_leaderboard(formats.load_battles_file(f), "bt", 20, 3, **kw)
        assert json.loads(out.read_text()) == json.loads(json.dumps(want))


def test_count_outcomes_filters_as_prepare():
    rng = np.random.default_rng(8)
    n = 400
    a = rng.integers(0, 5, n)
    b = (a + rng.integers(1, 5, n)) % 5
    cols = {"model_a": [MODELS[i] for i in a], "model_b": [MODELS[i] for i in b],
            "winner": [None if rng.random() < 0.1 else str(rng.choice(ratings.WINNERS)) for _ in range(n)],
            "anony": [None if rng.random() < 0.1 else bool(rng.random() < 0.8) for _ in range(n)],
            "invalid": [bool(rng.random() < 0.1) for _ in range(n)]}
    got = ratings.compute_leaderboard_from_counts(ratings.count_outcomes(cols), 10, 1)
    want = ratings.compute_leaderboard(pd.DataFrame(cols), "bt", 10, 1)
    assert got == want and got["n_battles"] > 0
    with pytest.raises(ValueError, match="against itself"):
        ratings.count_outcomes({**cols, "model_b": cols["model_a"]})
    with pytest.raises(ValueError, match="Unknown winner value 'draw'"):
        ratings.count_outcomes({**cols, "winner": ["draw"] * n})
