"""Output files of endpoints without a model run are written once per content (review14).

`/anomaly_example` copied 6 PNGs into a fresh folder of the system temp dir per call, `/anomaly_load_pool` wrote a
pool's images likewise, and neither folder was ever removed; every download wrote a new copy until a sweep. Nothing
limits how often a script calls these, so the temp disk grew by ~150 KB per example click.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from apps.common import download_file
from backend.anomaly import actions
from backend.tempfiles import shared_dir, sweep_temp, temp_root


def _dirs() -> set[Path]:
    return {p for p in temp_root().iterdir() if p.is_dir()}


def test_example_files_are_one_copy_however_often_asked():
    outside = {p.name for p in Path(tempfile.gettempdir()).glob("anomaly-example-*")}
    first = actions.example_files()
    before = _dirs()
    for _ in range(5):
        assert actions.example_files() == first
    assert _dirs() == before
    assert {p.name for p in Path(tempfile.gettempdir()).glob("anomaly-example-*")} == outside  # none outside the root
    prompts, queries = first
    assert len(prompts) == 1 and len(queries) == 5 and all(Path(p).is_file() for p in prompts + queries)
    assert Path(queries[0]).name.startswith("nut_") and Path(prompts[0]).parent.parent.parent == temp_root()


def test_downloads_share_a_file_per_content_and_name():
    a = download_file(b"csv,1\n", "board.csv")
    before = _dirs()
    assert download_file(b"csv,1\n", "board.csv") == a and _dirs() == before
    assert Path(a).read_bytes() == b"csv,1\n" and Path(a).name == "board.csv"
    b = download_file("csv,2\n", "board.csv")
    c = download_file(b"csv,1\n", "other.csv")
    assert len({a, b, c}) == 3 and Path(b).read_text() == "csv,2\n"


def test_shared_dir_is_refilled_after_a_sweep_and_kept_while_used():
    calls = []

    def fill(d: Path) -> None:
        calls.append(d)
        (d / "x.txt").write_text("x")

    d = shared_dir("test-refill", fill)
    assert shared_dir("test-refill", fill) == d and len(calls) == 1
    sweep_temp(3600)
    assert d.is_dir()  # just used: younger than the sweep age
    sweep_temp(0.0, prefix="shared-test-refill")
    assert not d.exists()
    assert (shared_dir("test-refill", fill) / "x.txt").read_text() == "x" and len(calls) == 2
