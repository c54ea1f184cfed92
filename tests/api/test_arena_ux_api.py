"""Battle UX through the API: identical answers are never judged; the leaderboard says "provisional", "no votes
yet" and "1 counted vote" where it used to show "+0/-0", empty axes and "1 counted votes"."""
import pytest
from PIL import Image

from backend.pointing.types import PointResult

pytestmark = pytest.mark.api


@pytest.fixture
def photo(tmp_path):
    p = tmp_path / "plain.png"
    Image.new("RGB", (200, 160), (90, 140, 200)).save(p)
    return str(p)


def test_identical_answers_are_stored_but_never_judged(new_client, photo, monkeypatch):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    from backend.arena import service
    from backend.pointing import service as ps

    monkeypatch.setenv("ARENA_MODELS", "center,random")
    monkeypatch.setenv("ARENA_MIN_DWELL_S", "0")

    def same(name, image, instruction, timeout_s=60):  # e.g. `ocr` falling back to `lite0-cam`
        return PointResult(points=[(50.0, 40.0)], points_norm=[(0.25, 0.25)], raw_text="[50, 40]", parse_ok=True,
                           model=name)

    monkeypatch.setattr(ps, "run_pointer", same)
    c = new_client()
    out = c.predict(handle_file(photo), "Point to the sky", api_name="/new_battle")
    bid = out[0]
    assert "identical answer" in out[4] and "nothing to judge" in out[4]
    with pytest.raises(AppError, match="identical answer"):
        c.predict(bid, "A", api_name="/vote")
    stored = [b for b in service.export_clean_battle(voted_only=False) if b["question_id"] == bid]
    assert len(stored) == 1 and stored[0]["winner"] is None  # kept for the record, never rated


def test_leaderboard_wording(monkeypatch):
    from apps import leaderboard as lb
    from backend.arena import service

    rep = {"method": "bt", "bootstrap": 100, "category": "overall", "updated": "now", "min_votes": 20,
           "n_battles": 1, "total_votes": 1, "pair_counts": None, "win_fraction": None,
           "models": {"center": {"rating": 1010.0, "ci_low": 1010.0, "ci_high": 1010.0, "rank_ub": 1, "battles": 1,
                                 "wins": 1, "losses": 0, "ties": 0},
                      "random": {"rating": 990.0, "ci_low": 990.0, "ci_high": 990.0, "rank_ub": 2, "battles": 1,
                                 "wins": 0, "losses": 1, "ties": 0}}}
    monkeypatch.setattr(service, "leaderboard_report", lambda *a, **k: rep)
    head, table, ci, wins, counts, *_ = lb.refresh("bt", "overall")
    assert "1 counted vote of 1" in head and "counted votes" not in head
    assert list(table["Rank (UB)"]) == ["1 (provisional)", "2 (provisional)"]
    assert list(table["95% CI"]) == ["–", "–"] and "+0/-0" not in table.to_string()
    assert all(t.error_y.array is None for t in ci.data), "no CI bars below the minimum vote count"
    empty = dict(rep, models={}, n_battles=0, total_votes=0, category="steerable")
    monkeypatch.setattr(service, "leaderboard_report", lambda *a, **k: empty)
    head, table, ci, wins, counts, *_ = lb.refresh("bt", "steerable")
    assert "no votes yet" in head and len(table) == 0
    for fig in (ci, wins, counts):
        assert not fig.data and "No votes yet" in fig.layout.annotations[0].text

