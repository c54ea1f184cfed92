"""The shipped icon corpus and its builder (on a tiny fake npm folder)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from backend.svg.corpus import CorpusMissing, load_corpus
from backend.svg.offline.corpus_build import build
from backend.svg.sanitize import is_safe_svg


def test_shipped_corpus_loads_with_documented_fields():
    c = load_corpus()
    assert len(c) > 20_000 and len(c.styles()) >= 20
    phos = [s for s in c.styles() if s.startswith("phosphor/")]
    assert sorted(phos) == [f"phosphor/{w}" for w in sorted(["bold", "duotone", "fill", "light", "regular", "thin"])]
    ic = c.by_id("phosphor/bold/bell")
    assert (ic.set, ic.variant, ic.style, ic.concept) == ("phosphor", "bold", "phosphor/bold", "bell")
    assert "notifications" in ic.tags and ic.licence.startswith("MIT") and ic.source.startswith("https://")
    for p in ic.paths:
        assert p["cubics"].dtype == np.float32 and p["cubics"].shape[1:] == (4, 2)
        assert p["cubics"].min() > -0.1 and p["cubics"].max() < 1.1
        assert len(p["closed"]) == len(p["starts"]) and p["starts"][0] == 0
    assert ic.svg.startswith("<svg") and is_safe_svg(ic.svg)


def test_stroke_attributes_survive_normalisation():
    c = load_corpus()
    bell = c.by_id("tabler/outline/bell")
    visible = [p for p in bell.paths if p["stroke"]]
    assert visible and all(abs(p["stroke_width"] * 24 - 2.0) < 1e-3 for p in visible)
    assert {p["linecap"] for p in visible} == {"round"} and not any(p["fill"] for p in visible)
    assert any(p["fill_rule"] == "evenodd" for ic in c.of_style("bootstrap/regular")[:300] for p in ic.paths)
    duo = c.by_id("phosphor/duotone/bell")
    assert any(p["opacity"] < 0.5 for p in duo.paths)


def test_same_concept_across_styles():
    c = load_corpus()
    styles = {ic.style for ic in c.icons if ic.concept == "bell"}
    assert {"phosphor/bold", "phosphor/thin", "tabler/outline", "lucide/regular"} <= styles


def test_missing_corpus_says_how_to_build(tmp_path):
    with pytest.raises(CorpusMissing, match="corpus-build"):
        load_corpus(tmp_path)


def _fake_pkg(root, licence="MIT"):
    d = root / "node_modules" / "feather-icons"
    (d / "dist" / "icons").mkdir(parents=True)
    (d / "package.json").write_text(json.dumps({"name": "feather-icons", "version": "0.0.1", "license": licence}))
    icons = d / "dist" / "icons"
    (icons / "line.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" '
                                    'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">'
                                    '<line x1="2" y1="12" x2="22" y2="12"/></svg>')
    (icons / "evil.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" onload="alert(1)">'
                                    '<script>alert(1)</script><circle cx="12" cy="12" r="8" fill="#ff0000"/></svg>')
    (icons / "empty.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"/>')
    return d


def test_build_on_fake_npm_dir(tmp_path):
    _fake_pkg(tmp_path)
    out = tmp_path / "out"
    summary = build(tmp_path, out, sets=["feather"], workers=1)
    assert summary["icons"] == 2 and summary["failed"] == 1  # the empty SVG is reported, not shipped
    c = load_corpus(out)
    line = c.by_id("feather/regular/line")
    p = line.paths[0]
    assert p["stroke"] and abs(p["stroke_width"] - 2 / 24) < 1e-4 and p["linecap"] == "round"
    np.testing.assert_allclose(p["cubics"][0, 0], [2 / 24, 0.5], atol=1e-4)
    np.testing.assert_allclose(p["cubics"][-1, 3], [22 / 24, 0.5], atol=1e-4)
    evil = c.by_id("feather/regular/evil")
    assert evil.paths[0]["color"] == "#ff0000" and "script" not in evil.svg and "onload" not in evil.svg


def test_build_refuses_wrong_licence(tmp_path):
    _fake_pkg(tmp_path, licence="Remix Icon License v1.0")
    with pytest.raises(ValueError, match="refusing"):
        build(tmp_path, tmp_path / "out", sets=["feather"], workers=1)
