"""Pure trust logic: client IP behind proxies, signed session ids, Markdown escaping, scripted-voting signals,
gold-item reliability."""
from __future__ import annotations

import re

import numpy as np
import pytest

from backend import identity
from backend.arena import scripted


def test_client_ip_ignores_forwarded_for_from_untrusted_peers():
    nets = identity.parse_trusted("10.0.0.0/8, ::1")
    assert identity.resolve_client_ip("127.0.0.1", "9.9.9.9", ()) == "127.0.0.1"
    assert identity.resolve_client_ip("203.0.113.5", "9.9.9.9", nets) == "203.0.113.5"
    # behind the trusted proxy: the right-most hop the proxy did not write itself, never the client's left-most
    assert identity.resolve_client_ip("10.1.2.3", "9.9.9.9, 198.51.100.7", nets) == "198.51.100.7"
    assert identity.resolve_client_ip("10.1.2.3", "9.9.9.9, 198.51.100.7, 10.0.0.9", nets) == "198.51.100.7"
    assert identity.resolve_client_ip("10.1.2.3", "garbage, 198.51.100.7", nets) == "198.51.100.7"
    assert identity.resolve_client_ip("10.1.2.3", "198.51.100.7, garbage", nets) == "10.1.2.3"
    assert identity.network_of("198.51.100.77") == "198.51.100.0/24"
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        identity.parse_trusted("10.0.0.0/8, proxy.example")


def test_session_tokens_are_signed():
    sid, tok = identity.new_session()
    assert identity.verify_token(tok) == sid
    assert identity.verify_token(sid + ".AAAA") is None
    assert identity.verify_token("attacker-chosen") is None
    assert identity.verify_token("é." + tok.split(".")[1]) is None
    limiter = identity.MintLimiter()
    import os
    os.environ["SESSION_MINTS_PER_IP_HOUR"] = "3"
    try:
        assert [limiter.allow("1.2.3.4", now=0.0) for _ in range(4)] == [True, True, True, False]
        assert limiter.allow("1.2.3.5", now=0.0) and limiter.allow("1.2.3.4", now=3601.0)
    finally:
        del os.environ["SESSION_MINTS_PER_IP_HOUR"]


def test_md_text_makes_markdown_and_html_inert():
    from apps.common import md_text

    out = md_text('![t](https://evil.example/p.png) <form action="https://x"><input></form> www.evil.com')
    assert "![" not in out and "[t]" not in out and "<form" not in out and "https://" not in out
    assert "www.evil" not in out and "brick wall / pool" == md_text("brick wall / pool")
    # a right-to-left override in a name reversed the rest of the sentence it was shown in; NUL is not text
    assert md_text("pool\u202egnp.exe\u2066x\u2069\x00\x1b[31m") == "poolgnp.exex\\[31m"
    assert md_text("שלום world") == "שלום world"


def test_token_matches_never_raises():
    from backend.security import token_matches

    assert token_matches("secret", "secret") and not token_matches("tökén", "secret")
    assert not token_matches(None, "secret") and not token_matches("", "secret") and not token_matches(5, "x")


def _vote(i, judge, winner, pa, pb, dwell=10.0, net="n1", sess=None, t=0.0):
    return {"id": f"b{i}", "judge": judge, "winner": winner, "dwell_s": dwell, "net_hash": net,
            "session_id": sess or judge, "battle_tstamp": t, "points_a": {"norm": [pa]}, "points_b": {"norm": [pb]}}


def test_scripted_signals_catch_the_centre_script_and_not_people():
    rng = np.random.default_rng(0)
    votes = []
    # 20 people on 20 networks, reading ~8 s, choosing either side about equally
    for j in range(20):
        for k in range(6):
            pa, pb = list(rng.random(2)), list(rng.random(2))
            votes.append(_vote(len(votes), f"human{j}", rng.choice(["model_a", "model_b", "tie"]), pa, pb,
                               dwell=float(rng.uniform(5, 20)), net=f"net{j}", t=float(j * 1000 + k)))
    # the script: a fresh session (= judge) per battle from one network, voting after 3.1 s for the side
    # nearer the centre; and the same script keeping one session for 30 votes from another network
    for k in range(30):
        for judge, net, sess in ((f"bot-s{k}", "botnet", f"bot-s{k}"), ("bot", "botnet2", "bot")):
            pa, pb = list(rng.random(2)), list(rng.random(2))
            centre_a = (pa[0] - .5) ** 2 + (pa[1] - .5) ** 2 < (pb[0] - .5) ** 2 + (pb[1] - .5) ** 2
            votes.append(_vote(len(votes), judge, "model_a" if centre_a else "model_b", pa, pb, dwell=3.1, net=net,
                               sess=sess, t=float(k * 20)))
    rows = {r["judge"]: r for r in scripted.scripted_signals(votes)}
    fresh = [rows[f"bot-s{k}"] for k in range(30)]
    assert all(r["flagged"] and r["network_sessions"] == 30 for r in fresh)
    bot = rows["bot"]
    assert bot["flagged"] and "nearer the centre" in bot["pattern"] and "3.1 s" in bot["reasons"]
    assert len(bot["battle_ids"]) == 30 and bot["network_sessions"] == 1
    assert sum(rows[f"human{j}"]["flagged"] for j in range(20)) == 0


def test_gold_truth_and_reliability():
    mask = np.zeros((10, 10), bool)
    mask[2:5, 2:5] = True
    assert scripted.gold_truth([[3, 3]], [[8, 8]], mask) == "model_a"
    assert scripted.gold_truth([[8, 8]], [[3.5, 4.2]], mask) == "model_b"
    assert scripted.gold_truth([[3, 3]], [[4, 4]], mask) is None and scripted.gold_truth([], [], mask) is None
    votes = [{"judge": f"good{j}", "winner": "model_a", "truth": "model_a"} for j in range(5) for _ in range(8)]
    votes += [{"judge": "good0", "winner": "model_b", "truth": "model_a"}]
    votes += [{"judge": "liar", "winner": "model_b", "truth": "model_a"} for _ in range(8)]
    rep = scripted.gold_reliability(votes)
    rows = {r["judge"]: r for r in rep["judges"]}
    assert rows["liar"]["flagged"] and rows["liar"]["accuracy"] == 0 and rows["liar"]["weight"] == 0
    assert not rows["good1"]["flagged"] and rows["good1"]["weight"] > 0.5
    assert 0.8 < rep["crowd_accuracy"] < 0.85


def test_svg_notes_quoting_file_names_and_prompts_are_inert():
    """SVG studio notes quote an uploaded file's name and the prompt; every view shows them escaped."""
    from apps import svg_studio_handlers as h
    from backend.svg.style import style_from_set

    evil = 'logo![t](https://evil.example/p.png)<img src=x onerror=alert(1)>.png'
    md = h._card_outputs(style_from_set("phosphor/bold"), [f"{evil}: raster image traced to vectors"])[7]
    link = re.compile(r"(?<!\\)\]\(")  # an unescaped "](" would make a Markdown link or image
    assert "<img" not in md and not link.search(md) and "\\!\\[t\\]" in md
    state = {"candidates": [{"notes": [f"No corpus icon really matches “{evil}”"]}], "prompt": evil,
             "style": "phosphor/bold", "seed": 0, "generation_id": 1}
    engines = type("E", (), {"names": ["svg-retrieval"], "labels": [None], "novelty": None})()
    summary = h._summary(state, engines)
    assert "<img" not in summary and not link.search(summary)
