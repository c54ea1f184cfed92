"""Prompt-pool listings are bounded (review14): every visitor's Anomaly tab read every shared pool row ever saved,
and saving was not rate-limited, so a script sharing pools in a loop grew everyone's dropdown without bound."""
from __future__ import annotations

from storage.repos import anomaly as repo


def test_listing_keeps_own_pools_and_caps_shared_ones(db_url, storage_for, monkeypatch):
    monkeypatch.setattr(repo, "LIST_POOLS", 5)
    st = storage_for(db_url)

    def fill(s):
        repo.save_pool(s, session_id="me", product="cap", name="mine old", prompt_shas=[])
        for i in range(12):
            repo.save_pool(s, session_id="spam", product="junk", name=f"shared {i}", prompt_shas=[], shared=True)
        repo.save_pool(s, session_id="me", product="cap", name="mine new", prompt_shas=[])

    st.write(fill)
    mine = st.read(lambda s: repo.list_pools(s, session_id="me"))
    names = [p["name"] for p in mine]
    assert len(names) == 5 and names[0] == "mine new" and "mine old" in names
    assert names[1:4] == ["shared 11", "shared 10", "shared 9"] and names[-1] == "mine old"  # newest first
    other = st.read(lambda s: repo.list_pools(s, session_id="someone"))
    assert [p["name"] for p in other] == [f"shared {i}" for i in (11, 10, 9, 8, 7)]
