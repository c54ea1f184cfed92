"""Stored arena rows for unit tests that need a live battle to vote on (one definition, shared)."""
from storage.repos import arena as repo


def insert_live_battle(st, bid: str, session: str = "voter") -> None:
    """An anonymous live battle center vs random, both answers parsed, owned by `session`."""
    st.write(lambda s: repo.insert_battle(s, id=bid, session_id=session, judge_id="j", model_a="center",
                                          model_b="random", swapped=False, anony=True, parse_ok_a=True,
                                          parse_ok_b=True, invalid=False, source="live", category="upload"))
