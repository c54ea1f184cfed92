"""The studio's style check for few-shot "library:<id>" styles and the exemplar gate of the style library."""
import pytest

from backend.svg import service
from backend.svg.library_service import check_budget, check_style, exemplar_svgs
from backend.svg.sanitize import SVGInputError

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M4 4h16v16H4z" stroke="#000"/></svg>'


def test_library_style_needs_the_learned_engine():
    assert check_style("library:7", "svg-pathdiffusion") == 7
    assert check_style("phosphor/bold", "svg-retrieval") is None and check_style(None, "svg-retrieval") is None
    with pytest.raises(ValueError, match="Library styles need the learned engine"):
        check_style("library:7", "svg-retrieval")
    with pytest.raises(ValueError, match="Library styles need the learned engine"):
        service.generate("bell", "library:7", engine="svg-retrieval", store=False)
    with pytest.raises(ValueError, match="library:<id>"):
        check_style("library:abc", "svg-pathdiffusion")


def test_exemplar_gate_refuses_rasters_and_sanitises():
    with pytest.raises(SVGInputError, match="raster"):
        exemplar_svgs([("a.png", b"\x89PNG\r\n\x1a\n0000")])
    with pytest.raises(SVGInputError, match="1–16"):
        exemplar_svgs([])
    bad = SVG.replace(b"<path", b"<script>alert(1)</script><path")
    out = exemplar_svgs([("a.svg", SVG), ("b.svg", bad)])
    assert len(out) == 2 and "script" not in out[1] and "<path" in out[1]
    assert check_budget(None) == 60.0
    with pytest.raises(ValueError, match="between 1 and 180"):
        check_budget(500)


def test_a_bad_library_style_is_quoted_short_and_without_markup():
    """The style string comes from the client: the error quoted it whole with repr() (a 5,000-character value or
    markup came back in the toast); it now quotes a short fragment with markup and control characters dropped."""
    hostile = "library:<img src=x onerror=alert(1)>\u202e" + "9" * 5000
    with pytest.raises(ValueError) as err:
        check_style(hostile, "svg-pathdiffusion")
    msg = str(err.value)
    assert "<img" not in msg and "alert(1)>" not in msg and "\u202e" not in msg and len(msg) < 200, msg
    with pytest.raises(ValueError, match="start at 1") as err:
        check_style("library:-3", "svg-pathdiffusion")
    assert "'" not in str(err.value)
