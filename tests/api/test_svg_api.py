"""SVG Studio through gradio_client: generate, candidates, icon set, style card, edits and errors."""
from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import handle_file

pytestmark = pytest.mark.api

STYLE = ["Installed set/variant", "phosphor/bold", None, "outline", 2.0, "round", "round", 2.0, 24, "currentColor"]


def test_generate_bell_in_phosphor_bold(client):
    out = client.predict("bell", *STYLE, "svg-retrieval", 3, 0, api_name="/svg_generate")
    gallery, summary, sheet, code, info, svg_file, png_file, pick = out
    assert len(gallery) == 3 and "phosphor/bold" in summary and "Novelty is zero" in summary
    assert code.startswith("<svg") and "script" not in code and "\n<path" in code
    assert "phosphor/bold/bell" in info and "MIT" in info
    assert Path(svg_file).read_text().startswith("<svg") and Path(svg_file).name == "bell.svg"
    assert Path(png_file).read_bytes()[:4] == b"\x89PNG" and pick == 0
    gid = int(summary.split("generation #")[1].split(".")[0])
    rows = client.predict(gid, api_name="/svg_candidates")
    assert rows[0]["svg"] == code.replace("\n", "") and rows[0]["source_id"] == "phosphor/bold/bell"


def test_post_edit_in_the_same_session(new_client):
    c = new_client()
    c.predict("camera", "Installed set/variant", "lucide/regular", None, *STYLE[3:], "svg-retrieval", 1, 0,
              api_name="/svg_generate")
    gallery, sheet, code, info, svg_file, png_file = c.predict(0, 1.0, "square", "miter", "keep", "#ff0000",
                                                               api_name="/svg_edit")
    assert 'stroke-width="1"' in code and 'stroke="#ff0000"' in code and 'stroke-linecap="square"' in code
    assert Path(svg_file).read_text() == code.replace("\n", "")


def test_exemplar_upload_restyles(client, tmp_path):
    from backend.svg.corpus import load_corpus

    corp = load_corpus()
    files = []
    for name in ("house", "gear", "user"):
        p = tmp_path / f"{name}.svg"
        p.write_text(corp.by_id(f"phosphor/thin/{name}").svg)
        files.append(handle_file(str(p)))
    style = ["Exemplar SVGs (upload)", None, files, *STYLE[3:]]
    card = client.predict(*style[:3], api_name="/svg_style_card")
    assert card[0] == "outline-fill" and "3 exemplar" in card[7]
    assert "matched to the installed family phosphor/thin" in card[7]  # which family the exemplars look like
    out = client.predict("bell", *style, "svg-retrieval", 2, 0, api_name="/svg_generate")
    assert "3 exemplar SVG(s)" in out[1] and out[3].startswith("<svg")
    assert "matched to the installed family phosphor/thin" in out[4]


def test_a_family_without_the_concept_is_said_plainly(client):
    """Phosphor draws no "cart": the candidate says so and whose drawing was restyled instead."""
    out = client.predict("cart", *STYLE, "svg-retrieval", 1, 0, api_name="/svg_generate")
    info = out[4]
    assert "phosphor/bold has no “cart”" in info and "restyled with the phosphor/bold card" in info


def test_icon_set_zip(client):
    gallery, md, zip_path = client.predict("home\nbell\nsearch", *STYLE, "svg-retrieval", 0, api_name="/svg_icon_set")
    assert len(gallery) == 3 and "Consistency score" in md and Path(zip_path).suffix == ".zip"


def test_errors_are_clear(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="type what the icon"):
        client.predict("  ", *STYLE, "svg-retrieval", 2, 0, api_name="/svg_generate")
    bad = tmp = Path(__import__("tempfile").mkdtemp()) / "evil.svg"
    bad.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><script>alert(1)</script></svg>')
    with pytest.raises(AppError, match="no visible paths"):
        client.predict("bell", "Exemplar SVGs (upload)", None, [handle_file(str(tmp))], *STYLE[3:], "svg-retrieval",
                       1, 0, api_name="/svg_generate")


def test_a_comparison_is_blind_through_the_api_until_its_vote(new_client):
    """svgapi: /svg_candidates named each compared candidate's engine before the vote (a script voter knew A)."""
    c = new_client()
    img_a, img_b, vote_md = c.predict("bell", *STYLE, "svg-retrieval", "svg-pathdiffusion", 0,
                                      api_name="/svg_compare")
    gid = int(c.predict(api_name="/svg_history")["data"][0][0])
    before = c.predict(gid, api_name="/svg_candidates")
    assert [r["side"] for r in before] == ["A", "B"] and not any("engine" in r for r in before)
    assert not any(e in str(before) + vote_md for e in ("svg-retrieval", "svg-pathdiffusion"))
    c.predict(before[0]["id"], before[1]["id"], "tie", api_name="/svg_vote")
    after = c.predict(gid, api_name="/svg_candidates")
    assert {r["engine"] for r in after} == {"svg-retrieval", "svg-pathdiffusion"}
