"""Build-time code of the arena: what made the bundled Point-Bench sample (`static/bench/`). Nothing here runs
inside the app; `python -m backend.arena.offline.make_sample_bench` rebuilds the sample."""
