"""The learned path-diffusion engine is selectable in the SVG studio and its output is clean."""
from pathlib import Path

import pytest

from tests.api.test_svg_api import STYLE

pytestmark = pytest.mark.api
CKPT = Path(__file__).resolve().parents[2] / "static" / "svg" / "model" / "svgdit.pt"


@pytest.mark.skipif(not CKPT.exists(), reason="learned checkpoint not shipped")
def test_generate_with_learned_engine(client):
    out = client.predict("bell", *STYLE, "svg-pathdiffusion", 2, 0, api_name="/svg_generate")
    gallery, summary, sheet, code, info, svg_file, png_file, pick = out
    assert len(gallery) == 2 and "Path diffusion" in summary
    assert code.startswith("<svg") and "script" not in code and "<path" in code
    assert Path(svg_file).read_text().startswith("<svg") and Path(png_file).read_bytes()[:4] == b"\x89PNG"
