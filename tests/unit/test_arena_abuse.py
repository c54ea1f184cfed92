"""Outlier judges (Chatbot Arena §5.1) and arena limits from the environment."""
import numpy as np
import pytest

from backend.arena import abuse


def _votes(seed=0):
    rng = np.random.default_rng(seed)
    strength = {"strong": 300.0, "mid": 100.0, "weak": 0.0}
    names = list(strength)
    votes = []
    for j in range(15):
        for _ in range(30):
            a, b = rng.choice(names, 2, replace=False)
            p = 1 / (1 + 10 ** ((strength[b] - strength[a]) / 400))
            votes.append({"judge": f"honest{j}", "model_a": a, "model_b": b,
                          "winner": "model_a" if rng.random() < p else "model_b"})
    for _ in range(30):  # always votes for the weaker model
        a, b = rng.choice(names, 2, replace=False)
        votes.append({"judge": "troll", "model_a": a, "model_b": b,
                      "winner": "model_a" if strength[a] < strength[b] else "model_b"})
    return votes


def test_adversarial_judge_is_flagged_honest_mostly_not():
    rows = abuse.outlier_judges(_votes())
    by = {r["judge"]: r for r in rows}
    assert by["troll"]["flagged"] and rows[0]["judge"] == "troll"
    honest_flagged = sum(r["flagged"] for r in rows if r["judge"].startswith("honest"))
    assert honest_flagged <= 2
    assert by["troll"]["tested"] == 30
    # docs/arena.md quotes this run: M = 46 on 30 votes, p = 0.001 for the troll, honest judges p >= 0.09
    assert round(by["troll"]["statistic"]) == 46 and by["troll"]["p_value"] < 0.0011
    assert min(r["p_value"] for r in rows if r["judge"].startswith("honest")) >= 0.09


def test_few_votes_are_not_tested():
    votes = [{"judge": "j", "model_a": "a", "model_b": "b", "winner": "model_a"}] * 3
    assert abuse.outlier_judges(votes, min_votes=5) == []


def test_limits_from_env():
    lim = abuse.limits_from_env({"ARENA_MIN_DWELL_S": "0", "ARENA_DAILY_VOTE_CAP": "10", "ARENA_BANNED_IPS": "1.2.3.4"})
    assert lim.min_dwell_s == 0 and lim.daily_vote_cap == 10 and "1.2.3.4" in lim.banned_ips
    assert abuse.limits_from_env({}).daily_vote_cap is None and abuse.limits_from_env({}).dedup_quantile is None
    with pytest.raises(ValueError, match="ARENA_RATE_LIMIT"):
        abuse.limits_from_env({"ARENA_RATE_LIMIT": "many"})
