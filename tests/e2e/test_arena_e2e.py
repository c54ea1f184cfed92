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
    expect(page.locator("#lb-head")).to_contain_text("counted vote", timeout=60_000)
    table = page.locator("#lb-table").inner_text()
    assert "center" in table and "random" in table and "Rank (UB)" in table
    page.screenshot(path=str(shots / "leaderboard.png"), full_page=True)

    page.get_by_role("tab", name="Point Battle").click()
    page.locator("#arena-new").click()
    expect(page.locator("#arena-reveal")).to_have_text("", timeout=30_000)
    expect(vote_a).to_be_disabled()


def test_round_ux_keeps_input_and_fails_cleanly(page, app_url, tmp_path, monkeypatch):
    """New round keeps the user's photo and instruction; a bench caption goes away when the user uploads; a failed
    start shows one message and clears the previous round; identical answers disable the vote buttons."""
    from playwright.sync_api import expect

    from backend.pointing import service as ps
    from backend.pointing.types import PointResult

    monkeypatch.setenv("ARENA_MODELS", "center,random")
    monkeypatch.setenv("ARENA_MIN_DWELL_S", "0")
    path = tmp_path / "mine.png"
    Image.new("RGB", (240, 180), (30, 160, 90)).save(path)
    page.goto(app_url)
    page.get_by_role("tab", name="Point Battle").click()
    vote_a = page.locator("#arena-vote-A")
    # a bench caption stays only under its bench image
    page.locator("#arena-random").click()
    expect(page.locator("#arena-category")).to_contain_text("Category", timeout=30_000)
    page.locator("#arena-image input[type=file]").set_input_files(str(path))
    expect(page.locator("#arena-category")).not_to_contain_text("Category", timeout=30_000)
    instruction = page.locator("#arena-instruction textarea")
    instruction.fill("Point to the green square")
    page.locator("#arena-go").click()
    expect(vote_a).to_be_enabled(timeout=60_000)
    vote_a.click()
    expect(page.locator("#arena-reveal")).to_contain_text("Thanks for voting", timeout=30_000)
    # New round (skip): the battle goes, the user's photo and instruction stay
    page.locator("#arena-new").click()
    expect(page.locator("#arena-reveal")).to_have_text("", timeout=30_000)
    expect(instruction).to_have_value("Point to the green square")
    expect(page.locator("#arena-image img")).to_be_visible()
    expect(page.locator("#arena-category")).not_to_contain_text("Category")
    # a round, then a failed start: one message, the old round cleared, no error badge on every output
    page.locator("#arena-go").click()
    expect(vote_a).to_be_enabled(timeout=60_000)
    vote_a.click()
    expect(page.locator("#arena-reveal")).to_contain_text("Thanks for voting", timeout=30_000)
    instruction.fill("   ")
    page.locator("#arena-go").click()
    expect(page.locator("#arena-status")).to_contain_text("Could not start the battle", timeout=30_000)
    expect(page.locator("#arena-reveal")).to_have_text("")
    expect(page.locator("#arena-a img")).to_have_count(0)
    assert page.get_by_text("Error", exact=True).count() == 0
    page.screenshot(path=str(tmp_path / "failed-start.png"), full_page=True)
    # identical answers: said plainly, nothing to vote on
    monkeypatch.setattr(ps, "run_pointer", lambda name, image, instruction, timeout_s=60: PointResult(
        points=[(10.0, 10.0)], points_norm=[(0.04, 0.05)], raw_text="[10, 10]", parse_ok=True, model=name))
    instruction.fill("Point to the green square")
    page.locator("#arena-go").click()
    expect(page.locator("#arena-status")).to_contain_text("identical answer", timeout=60_000)
    for c in ("A", "B", "tie", "bothbad"):
        expect(page.locator(f"#arena-vote-{c}")).to_be_disabled()
