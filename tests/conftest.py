"""Shared fixtures.

The environment is pointed at a throw-away DATA_DIR *before* anything imports the app. In CI,
REQUIRE_POSTGRES=1 / REQUIRE_BROWSER=1 turn "skipped because absent" into failures, so a missing
install step cannot hide behind skips.
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="suite-tests-"))
os.environ["DATA_DIR"] = str(_TMP / "data")
os.environ.pop("DATABASE_URL", None)  # the app under test uses SQLite; storage tests add PostgreSQL
os.environ.setdefault("ADMIN_TOKEN", "test-admin-token")
os.environ.setdefault("IP_SALT", "test-salt")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("GRADIO_TEMP_DIR", str(_TMP / "gradio"))
os.environ.setdefault("ARENA_MIN_DWELL_S", "0")

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def tmp_root() -> Path:
    return _TMP


@pytest.fixture(autouse=True)
def _fresh_session_mint_window():
    """Every test starts with an empty per-IP session-mint window. The suite's app runs in this process and every
    test client and browser comes from 127.0.0.1, so without this the suite's own page loads add up past
    SESSION_MINTS_PER_IP_HOUR (120) and later tests are served no cookie, depending on how many tests ran first."""
    from backend.identity import mint_limiter
    from backend.security import token_guesses, upload_budget

    mint_limiter.reset()
    token_guesses.reset()  # likewise the wrong-admin-token count of 127.0.0.1 (ADMIN_TOKEN_TRIES)
    upload_budget.reset()  # and the bytes it uploaded (UPLOAD_MB_PER_IP)
    yield


@pytest.fixture(scope="session")
def app_url():
    """The real app, launched once in this process on a free port."""
    import app as app_module

    port = free_port()
    _, url, _ = app_module.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
                                       quiet=True, **app_module.launch_kwargs())
    yield url.rstrip("/") + "/"
    app_module.demo.close()


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture
def new_client(app_url):
    """A fresh gradio_client (= a new browser session) per call."""
    from gradio_client import Client

    return lambda: Client(app_url, verbose=False)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip("no PostgreSQL server (set TEST_DATABASE_URL)")
    return url


@pytest.fixture
def pg_url(pg_admin_url):
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Run a storage test on both databases."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def storage_for(tmp_path, monkeypatch):
    """Build an independent Storage for a given URL with its own DATA_DIR (not the app's)."""
    from backend.config import Settings, get_settings
    from storage.db import Storage

    made = []

    def make(url: str) -> Storage:
        base = get_settings()
        settings = Settings(data_dir=tmp_path / "data", database_url=url, models_dir=base.models_dir,
                            models_config=base.models_config, device="cpu", admin_token=base.admin_token,
                            max_upload_bytes=base.max_upload_bytes, max_image_pixels=base.max_image_pixels,
                            ip_salt_env="test-salt")
        st = Storage(settings)
        made.append(st)
        return st

    yield make
    for st in made:
        st.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture
def page(browser, tmp_path):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    shot_dir = Path(os.environ.get("E2E_SCREENSHOT_DIR", tmp_path))
    shot_dir.mkdir(parents=True, exist_ok=True)
    try:
        pg.screenshot(path=str(shot_dir / f"last-{uuid.uuid4().hex[:6]}.png"), full_page=True)
    except Exception:
        pass
    ctx.close()


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_TMP, ignore_errors=True)
