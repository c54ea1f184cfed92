"""Style library in the SVG Studio: learn a few-shot style from 3 corpus icons, list it, generate with it."""
from pathlib import Path

import pytest
from gradio_client import handle_file

from tests.api.test_svg_api import STYLE

pytestmark = pytest.mark.api
CKPT = Path(__file__).resolve().parents[2] / "static" / "svg" / "model" / "svgdit.pt"


@pytest.mark.skipif(not CKPT.exists(), reason="learned checkpoint not shipped")
def test_learn_list_and_generate_with_library_style(client, tmp_path):
    from gradio_client.exceptions import AppError

    from backend.svg.corpus import load_corpus

    corp = load_corpus()
    files = []
    for name in ("house", "gear", "user"):
        p = tmp_path / f"{name}.svg"
        p.write_text(corp.by_id(f"phosphor/thin/{name}").svg)
        files.append(handle_file(str(p)))
    md, table, style, source, engine = client.predict("api thin lines", files, 5, api_name="/svg_learn_style")
    assert "Saved **library:" in md and engine == "svg-pathdiffusion" and source == STYLE[0]
    sid = style if isinstance(style, str) else style["value"]
    assert sid.startswith("library:")

    listed, _ = client.predict(api_name="/svg_library_styles")
    rows = {r[0]: r for r in listed["data"]}
    assert rows[sid][1] == "api thin lines" and rows[sid][3] == 3

    out = client.predict("bell", STYLE[0], sid, None, *STYLE[3:], "svg-pathdiffusion", 2, 0, api_name="/svg_generate")
    gallery, summary, sheet, code, info, svg_file, png_file, pick = out
    assert len(gallery) == 2 and "api thin lines" in summary
    assert code.startswith("<svg") and "script" not in code and "<path" in code and "<image" not in code
    assert "library style" in info

    with pytest.raises(AppError, match="Library styles need the learned engine"):
        client.predict("bell", STYLE[0], sid, None, *STYLE[3:], "svg-retrieval", 1, 0, api_name="/svg_generate")
    png = tmp_path / "renamed-png.svg"  # a raster under an .svg name passes the upload filter, not the gate
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 32)
    with pytest.raises(AppError, match="raster"):
        client.predict("x", [handle_file(str(png))], 5, api_name="/svg_learn_style")


@pytest.mark.skipif(not CKPT.exists(), reason="learned checkpoint not shipped")
def test_library_styles_belong_to_the_session_that_learned_them(new_client, tmp_path):
    """Review13: every session listed (and could generate with) everyone's learned styles and saw their names; a
    100 kB name was stored. Now a style is its session's own (CLI-learned ones stay shared) and names are capped."""
    from gradio_client.exceptions import AppError

    from backend.svg.corpus import load_corpus

    p = tmp_path / "house.svg"
    p.write_text(load_corpus().by_id("phosphor/thin/house").svg)
    owner, other = new_client(), new_client()
    with pytest.raises(AppError, match="at most 128"):
        owner.predict("n" * 100_000, [handle_file(str(p))], 5, api_name="/svg_learn_style")
    _, _, style, _, _ = owner.predict("mine\x00 only", [handle_file(str(p))], 5, api_name="/svg_learn_style")
    sid = style if isinstance(style, str) else style["value"]
    assert [r[1] for r in owner.predict(api_name="/svg_library_styles")[0]["data"] if r[0] == sid] == ["mine only"]
    listed, choices = other.predict(api_name="/svg_library_styles")
    assert sid not in {r[0] for r in listed["data"]} and "mine only" not in str(choices)
    with pytest.raises(AppError, match="not in the library"):
        other.predict("bell", STYLE[0], sid, None, *STYLE[3:], "svg-pathdiffusion", 1, 0, api_name="/svg_generate")
