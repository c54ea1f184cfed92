"""Retrieval engine, the engine interface and the output gate (uses the shipped MiniLM + indexes)."""
from __future__ import annotations

import pytest

from backend.svg.engines import Candidate, RetrievalEngine, finish_candidate, get_engine, list_engines
from backend.svg.sanitize import SVGInputError, is_safe_svg
from backend.svg.style import style_from_exemplars


@pytest.fixture(scope="module")
def engine() -> RetrievalEngine:
    return get_engine("svg-retrieval")


def test_engine_is_registered():
    rows = {name: ok for name, _, ok, _ in list_engines()}
    assert rows.get("svg-retrieval") is True


def test_bell_in_phosphor_bold_returns_the_phosphor_bold_bell(engine):
    out = engine.generate("bell", "phosphor/bold", n=4, seed=0)
    assert len(out) == 4 and all(isinstance(c, Candidate) for c in out)
    first = out[0]
    assert first.source_id == "phosphor/bold/bell" and first.concept == "bell"
    assert first.nearest_id == "phosphor/bold/bell" and first.similarity > 0.95 and first.is_copy
    assert first.licence.startswith("MIT") and "Phosphor" in first.attribution
    assert first.png[:8] == b"\x89PNG\r\n\x1a\n" and is_safe_svg(first.svg)
    assert len({c.concept for c in out}) == 4  # distinct concepts


def test_seed_changes_the_tail_not_the_head(engine):
    a = [c.concept for c in engine.generate("bell", "phosphor/bold", n=4, seed=1)]
    b = [c.concept for c in engine.generate("bell", "phosphor/bold", n=4, seed=1)]
    c = [c.concept for c in engine.generate("bell", "phosphor/bold", n=4, seed=7)]
    assert a == b and a[0] == c[0] == "bell"


def test_exemplar_style_restyles_other_sets(engine):
    from backend.svg.corpus import load_corpus

    corp = load_corpus()
    card = style_from_exemplars([corp.by_id(f"phosphor/thin/{n}").svg for n in ("house", "gear", "user")])
    out = engine.generate("bell", card, n=2, seed=0)
    assert out[0].concept == "bell" and out[0].style == "3 exemplar SVG(s)"
    assert out[0].source_id.split("/")[0] != "phosphor" or out[0].source_id.startswith("phosphor/")
    assert "restyled" in " ".join(out[0].notes)


def test_unknown_things_still_return_nearest_with_a_note(engine):
    out = engine.generate("kubernetes", "tabler/outline", n=1, seed=0)
    assert len(out) == 1 and "No corpus icon really matches" in " ".join(out[0].notes)


@pytest.mark.parametrize("prompt,n,msg", [("", 1, "type what"), ("  ", 1, "type what"), ("x" * 300, 1, "200"),
                                          ("bell", 0, "between 1"), ("bell", 99, "between 1")])
def test_bad_requests(engine, prompt, n, msg):
    with pytest.raises(ValueError, match=msg):
        engine.generate(prompt, "phosphor/bold", n=n, seed=0)


def test_unknown_style(engine):
    with pytest.raises(ValueError, match="Unknown style"):
        engine.generate("bell", "nope/none", n=1, seed=0)


def test_output_gate_refuses_empty_and_strips_active_content():
    with pytest.raises(SVGInputError, match="empty"):
        finish_candidate('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"/>', engine="x", prompt="p",
                         style="s")
    c = finish_candidate('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" onload="alert(1)">'
                         '<circle cx="12" cy="12" r="9" fill="#000"/><script>alert(1)</script></svg>',
                         engine="x", prompt="p", style="s")
    assert "script" not in c.svg and "onload" not in c.svg and c.nearest_id and 0 <= c.similarity <= 1
