"""Point-Bench runs in which no item got a prediction (review14).

An old version stored the run of a pointer whose weights were not installed as a 0 % score, and the Point-Bench
panel showed it as that model's result. Such rows are never a model's result now, new ones are not stored, and
`python -m backend.arena.bench_cli failed-runs [--delete]` finds and removes the old ones.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from backend.arena.vocab import failed_run
from storage.repos import bench as repo
from tests.conftest import REPO


def _items(n: int, *, failed: bool, reason: str = "Pointer error: the checkpoint directory was not found") -> list:
    if failed:
        return [{"image_filename": f"i{k}.png", "category": "spatial", "success": False, "reason": reason,
                 "points": [], "points_count": 0} for k in range(n)]
    return [{"image_filename": f"i{k}.png", "category": "spatial", "success": k % 2 == 0,
             "reason": "ok" if k % 2 == 0 else "point outside the mask", "points": [[1.0, 2.0]], "points_count": 1}
            for k in range(n)]


def _res(model: str, average: float, items: list) -> dict:
    return {"model": model, "bench": "bench", "bench_fingerprint": "f" * 16, "source": "pointer", "n": len(items),
            "average": average, "per_category": {"spatial": average}, "items": items}


def test_failed_run_rule():
    assert failed_run(_items(3, failed=True))
    assert failed_run(_items(2, failed=True, reason="Pointer error: no prediction for this image"))
    assert not failed_run(_items(4, failed=False))
    wrong_everywhere = [{"reason": "point outside the mask", "points": [[0, 0]], "points_count": 1}] * 3
    assert not failed_run(wrong_everywhere)  # a real 0 %: the model answered, every answer was wrong
    assert not failed_run(_items(3, failed=True) + _items(1, failed=False))
    assert not failed_run([]) and not failed_run(None)  # nothing to judge


def _fill(s):
    ids = {}
    ids["x_good"] = repo.add_result(s, _res("x", 50.0, _items(4, failed=False)))
    ids["x_failed"] = repo.add_result(s, _res("x", 0.0, _items(4, failed=True)))  # newer than x's real score
    ids["y_failed"] = repo.add_result(s, _res("y", 0.0, _items(4, failed=True)))  # y never ran for real
    wrong = [{"reason": "point outside the mask", "points": [[0, 0]], "points_count": 1}] * 4
    ids["z_zero"] = repo.add_result(s, _res("z", 0.0, wrong))  # a real 0 % stays
    return ids


def test_failed_runs_are_hidden_listed_and_deleted(db_url, storage_for):
    st = storage_for(db_url)
    ids = st.write(_fill)
    latest = st.read(lambda s: repo.latest_results(s, bench="bench"))
    assert latest["x"]["id"] == ids["x_good"] and latest["x"]["average"] == 50.0
    assert "y" not in latest and latest["z"]["average"] == 0.0
    assert set(st.read(lambda s: repo.latest_results(s, with_items=True))) == {"x", "z"}
    failed = st.read(repo.failed_results)
    assert [r["id"] for r in failed] == [ids["x_failed"], ids["y_failed"]]
    assert failed[0]["model"] == "x" and failed[0]["first_reason"].startswith("Pointer error: the checkpoint")
    # a scored row's id among the ones to delete is left alone
    assert st.write(lambda s: repo.delete_results(s, [ids["x_failed"], ids["y_failed"], ids["z_zero"],
                                                      ids["x_good"], 999999])) == 2
    assert st.read(repo.failed_results) == []
    assert set(st.read(lambda s: repo.latest_results(s))) == {"x", "z"}


def test_a_failed_run_is_not_stored():
    from backend.arena import bench_service

    res = _res("never-ran", 0.0, _items(3, failed=True))
    assert bench_service.store_result(res) is None
    assert "never-ran" not in bench_service.bench_results("bench")
    assert all(r["model"] != "never-ran" for r in bench_service.failed_runs())


@pytest.mark.slow
def test_cli_lists_then_deletes(tmp_path, storage_for):
    """The operator's command on a database an old version filled (its own DATA_DIR, SQLite)."""
    url = f"sqlite:///{tmp_path / 'data' / 'app.db'}"
    st = storage_for(url)
    ids = st.write(_fill)
    st.engine.dispose()
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    env.pop("DATABASE_URL", None)

    def cli(*args):
        out = subprocess.run([sys.executable, "-m", "backend.arena.bench_cli", "failed-runs", *args], cwd=REPO,
                             env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        return out.stdout

    listed = cli()
    assert f"#{ids['x_failed']}\t" in listed and f"#{ids['y_failed']}\t" in listed and "2 failed run(s)" in listed
    assert f"#{ids['z_zero']}\t" not in listed and "--delete" in listed
    assert "deleted 2 failed run(s)" in cli("--delete")
    assert "0 failed run(s)" in cli()
    assert set(storage_for(url).read(lambda s: repo.latest_results(s))) == {"x", "z"}
