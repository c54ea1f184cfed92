"""The bundled sample bench: rebuilt bit-for-bit from the script, sized and balanced as promised."""
import json
from pathlib import Path

from backend.arena.bench import CATEGORIES, load_bench
from backend.arena.offline.make_sample_bench import main as build_main

SAMPLE = Path(__file__).resolve().parents[2] / "static" / "bench"


def test_sample_bench_shape_and_licences():
    bench = load_bench(SAMPLE)  # validates files, mask sizes, non-empty masks, counts
    assert len(bench.items) >= 60
    for cat in CATEGORIES:
        assert sum(it.category == cat for it in bench.items) >= 10
    assert all(it.ref_point is not None for it in bench.items if it.category == "steerable")
    sources = json.loads((SAMPLE / "SOURCES.json").read_text())["images"]
    assert {it.image_filename for it in bench.items} == set(sources)
    assert all(s["licence"] for s in sources.values())
    size = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert size < 8e6


def test_rebuild_is_identical(tmp_path):
    assert build_main(["--out", str(tmp_path), "--seed", "0"]) == 0
    assert (tmp_path / "data.json").read_text() == (SAMPLE / "data.json").read_text()
    assert (tmp_path / "SOURCES.json").read_text() == (SAMPLE / "SOURCES.json").read_text()
    for sub in ("images", "masks"):
        mine = sorted(p.name for p in (tmp_path / sub).iterdir())
        assert mine == sorted(p.name for p in (SAMPLE / sub).iterdir())
        for name in mine:
            assert (tmp_path / sub / name).read_bytes() == (SAMPLE / sub / name).read_bytes(), name


def test_other_seed_changes_only_procedural_items(tmp_path):
    build_main(["--out", str(tmp_path), "--seed", "1"])
    a = json.loads((tmp_path / "data.json").read_text())
    b = json.loads((SAMPLE / "data.json").read_text())
    assert [r for r in a if r["image_filename"].startswith("photo_")] == \
           [r for r in b if r["image_filename"].startswith("photo_")]
    assert a != b
