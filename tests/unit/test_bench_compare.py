"""Bench ↔ arena statistics against PointArena's published numbers (5 arena models)."""
import pytest

from backend.arena.bench_compare import compare, correlation

# Point-Battle Elo (point-battle.csv) and Point-Bench average (point-bench.csv)
PUBLISHED = {"Molmo-7B-D": (1205.3, 61.63), "Qwen2.5-VL-7B": (1058.9, 56.25), "gemini-2.5-flash": (1010.2, 46.96),
             "gpt-4o": (867.0, 29.50), "grok-2-vision": (858.6, 20.53)}


def test_published_correlation():
    bench = {m: {"average": avg} for m, (_, avg) in PUBLISHED.items()}
    arena = {m: {"rating": elo, "ci_low": elo - 60, "ci_high": elo + 60} for m, (elo, _) in PUBLISHED.items()}
    out = compare(bench, arena)
    st = out["stats"]
    assert st["n"] == 5
    assert st["pearson_r"] == pytest.approx(0.951, abs=0.001)
    assert st["r2"] == pytest.approx(0.905, abs=0.001)
    assert st["spearman_rho"] == pytest.approx(1.0)


def test_unpaired_and_too_few():
    out = compare({"a": {"average": 10}, "b": {"average": 20}}, {"b": {"rating": 1000}, "c": {"rating": 900}})
    assert [r["model"] for r in out["rows"]] == ["a", "b", "c"]
    assert [r["paired"] for r in out["rows"]] == [False, True, False]
    assert out["stats"]["pearson_r"] is None and out["stats"]["n"] == 1
    assert correlation([1, 1, 1], [1, 2, 3])["pearson_r"] is None  # constant input: undefined, not NaN
