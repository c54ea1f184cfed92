"""/svg_leaderboard counts blind votes only and says how many earlier (non-blind) votes it leaves out."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.api

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M1 1L2 2"/></svg>'


def test_ratings_say_how_many_earlier_votes_are_not_counted(client):
    from storage.db import get_storage
    from storage.models import SvgVote
    from storage.repos.svg import add_generation

    def _old_vote(s):  # a vote as stored before the comparison was blind (what migration svg_0002 marks)
        _, (a, b) = add_generation(s, kind="compare", prompt="bell", style="x", style_card=None, engine="old-a vs b",
                                   seed=0, n=2, elapsed_s=0.0, session_id=None,
                                   candidates=[{"svg": SVG, "engine": "old-a"}, {"svg": SVG, "engine": "old-b"}])
        s.add(SvgVote(prompt="bell", style="x", model_a="old-a", model_b="old-b", candidate_a=a, candidate_b=b,
                      winner="model_a", pair_key=f"{a}-{b}", blind=False))

    get_storage().write(_old_vote)
    table, note = client.predict(api_name="/svg_leaderboard")
    assert re.search(r"\d+ earlier votes? from before the comparison was blind .* not counted", note), note
    models = [row[table["headers"].index("model")] for row in table["data"]]
    assert "old-a" not in models and "old-b" not in models
