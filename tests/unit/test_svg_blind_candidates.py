"""svgapi (review19's finding): `/svg_candidates` gave each candidate of a blind comparison its engine (and its notes,
nearest-icon scores and sizes) before the vote, so a script voter always knew which engine was A. Now a comparison's
two show only id, side and SVG until the pair has its vote; then everything is shown. Plain generations, whose
engine the user picked, keep showing it. Through the handlers the API and the tab call (anonymous session)."""
from __future__ import annotations

from apps import svg_studio_handlers as h

STYLE = ["Installed set/variant", "phosphor/bold", None, "outline", 2.0, "round", "round", 2.0, 24, "currentColor"]
ENGINES = ("svg-retrieval", "svg-pathdiffusion")


def _latest_generation() -> int:
    return int(h.history()["id"].iloc[0])


def test_a_comparison_hides_its_engines_until_it_has_the_vote():
    state, _, _, vote_md = h.compare("bell", *STYLE, *ENGINES, 0)
    assert not any(e in vote_md for e in ENGINES)
    rows = h.candidates_api(_latest_generation())
    assert [r["side"] for r in rows] == ["A", "B"] and [r["id"] for r in rows] == state["ids"]
    assert all(set(r) == {"id", "generation_id", "rank", "side", "svg", "note"} for r in rows), rows[0].keys()
    assert not any(e in str(r) for r in rows for e in ENGINES)  # no engine, no note naming one
    reveal = h.vote(state, "tie")
    rows = h.candidates_api(_latest_generation())
    assert [r["engine"] for r in rows] == state["engines"] and set(ENGINES) == set(state["engines"])
    assert f"A = `{rows[0]['engine']}`" in reveal and "nearest_id" in rows[0]


def test_a_plain_generation_keeps_showing_its_engine():
    h.generate("bell", *STYLE, "svg-retrieval", 1, 0)
    (row,) = h.candidates_api(_latest_generation())
    assert row["engine"] == "svg-retrieval" and row["source_id"] == "phosphor/bold/bell"


def test_awaiting_vote_on_both_databases(db_url, storage_for):
    from storage.repos.svg import add_generation, add_vote, awaiting_vote

    st = storage_for(db_url)
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M1 1L2 2"/></svg>'

    def _gen(kind):
        return st.write(lambda s: add_generation(
            s, kind=kind, prompt="bell", style="x", style_card=None, engine="a vs b", seed=0, n=2, elapsed_s=0.0,
            candidates=[{"svg": svg, "engine": "a"}, {"svg": svg, "engine": "b"}], session_id="s"))

    (cmp_id, (a, b)), (plain_id, _) = _gen("compare"), _gen("prompt")
    assert st.read(lambda s: awaiting_vote(s, cmp_id)) and not st.read(lambda s: awaiting_vote(s, plain_id))
    st.write(lambda s: add_vote(s, prompt="bell", style="x", model_a="b", model_b="a", candidate_a=b, candidate_b=a,
                                winner="tie", session_id="s"))
    assert not st.read(lambda s: awaiting_vote(s, cmp_id))
