"""A full Point Battle round in Chromium, as a new user would do it, then the leaderboard."""
import os
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

pytestmark = pytest.mark.e2e


def test_full_round_and_leaderboard(page, app_url, tmp_path, monkeypatch):
    from playwright.sync_api import expect

    monkeypatch.setenv("ARENA_MODELS", "center,random")
    monkeypatch.setenv("ARENA_MIN_DWELL_S", "0")
    img = Image.new("RGB", (300, 200), (230, 230, 230))
    ImageDraw.Draw(img).rectangle((40, 40, 120, 160), fill=(20, 120, 40))
    shots = Path(os.environ.get("E2E_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "box.png"
    img.save(path)

    page.goto(app_url)
    page.get_by_role("tab", name="Point Battle").click()
    vote_a = page.locator("#arena-vote-A")
    expect(vote_a).to_be_disabled()
    page.locator("#arena-image input[type=file]").set_input_files(str(path))
    page.locator("#arena-instruction textarea").fill("Point to the green box")
    page.locator("#arena-go").click()
    expect(vote_a).to_be_enabled(timeout=60_000)
    status = page.locator("#arena-status").inner_text()
    assert "Model A" in status and "center" not in status and "random" not in status
    expect(page.locator("#arena-a img")).to_be_visible()
    vote_a.click()
    expect(page.locator("#arena-reveal")).to_contain_text("Thanks for voting", timeout=30_000)
    reveal = page.locator("#arena-reveal").inner_text()
    assert re.search(r"Model A \(orange\): (center|random)", reveal)
    for c in ("A", "B", "tie", "bothbad"):
        expect(page.locator(f"#arena-vote-{c}")).to_be_disabled()
    page.screenshot(path=str(shots / "arena-round.png"), full_page=True)

    page.get_by_role("tab", name="Leaderboard").click()
    expect(page.locator("#lb-head")).to_contain_text("counted votes", timeout=60_000)
    table = page.locator("#lb-table").inner_text()
    assert "center" in table and "random" in table and "Rank (UB)" in table
    page.screenshot(path=str(shots / "leaderboard.png"), full_page=True)

    page.get_by_role("tab", name="Point Battle").click()
    page.locator("#arena-new").click()
    expect(page.locator("#arena-reveal")).to_have_text("", timeout=30_000)
    expect(vote_a).to_be_disabled()
