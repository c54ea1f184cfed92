"""Startup failures give one clear line and exit code 2 (run as a user would: `python app.py`)."""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(env_extra: dict, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update({"DATA_DIR": str(tmp_path / "data"), "GRADIO_SERVER_PORT": "1"})
    env.update(env_extra)
    return subprocess.run([sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_unreachable_postgres(tmp_path):
    r = _run({"DATABASE_URL": "postgresql+psycopg://u:pw@127.0.0.1:1/x"}, tmp_path)
    assert r.returncode == 2
    assert "DATABASE_URL=postgresql+psycopg://u:***@127.0.0.1:1/x" in r.stderr and "pw@" not in r.stderr


def test_unwritable_data_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = _run({"DATA_DIR": str(blocker / "sub")}, tmp_path)
    assert r.returncode == 2 and "DATA_DIR" in r.stderr and "not writable" in r.stderr


def test_broken_models_toml(tmp_path):
    cfg = tmp_path / "models.toml"
    cfg.write_text('[[models]]\nname = "x"\nkind = \n')
    r = _run({"MODELS_CONFIG": str(cfg)}, tmp_path)
    assert r.returncode == 2 and "line 3" in r.stderr


def test_bad_database_scheme(tmp_path):
    r = _run({"DATABASE_URL": "mysql://x"}, tmp_path)
    assert r.returncode == 2 and "DATABASE_URL" in r.stderr
