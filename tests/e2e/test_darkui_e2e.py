"""Dark theme, screen-reader names and phone tabs in Chromium (review darkui)."""
from __future__ import annotations

import random

import pytest

pytestmark = pytest.mark.e2e

# WCAG 2 relative luminance / contrast helpers shared by the checks below (colours as computed by the browser).
_COLOUR_JS = """
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const opaque = (c) => c.length >= 3 && (c.length < 4 || c[3] > 0.9);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
  const behind = (el) => {  // the first opaque background at or above el (an SVG's own background included)
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (opaque(c)) return c;
    }
    return rgb(getComputedStyle(document.body).backgroundColor);
  };
"""

# For every chart in `sel`: the background the reader sees behind it, the plot area's own fill, and the lowest
# contrast of the chart's own words (titles, ticks, axis titles, colour bar, notes) and of its markers.
PLOT_COLOURS_JS = "(sel) => {" + _COLOUR_JS + """
  return [...document.querySelectorAll(sel)].map((plot) => {
    const svg = plot.querySelector('.main-svg');
    const bg = behind(svg);
    const words = [...plot.querySelectorAll(
      '.g-gtitle text, .g-xtitle text, .g-ytitle text, .xtick text, .ytick text, .cbaxis text, .annotation text')];
    const marks = [...plot.querySelectorAll('.scatterlayer .point')];
    const area = plot.querySelector('.bglayer .bg');
    return {id: plot.id, bg_lum: lum(bg), area_fill: area ? getComputedStyle(area).fill : null, words: words.length,
            text_min: Math.min(...words.map((t) => ratio(rgb(getComputedStyle(t).fill), bg))),
            mark_min: marks.length ? Math.min(...marks.map((m) => {
      const st = getComputedStyle(m);
      return ratio(rgb(st.fill !== 'none' ? st.fill : st.stroke), bg);
    })) : null};
  });
}"""


@pytest.fixture(scope="module")
def rated_models(app_url):
    """120 imported votes among four models, so the leaderboard draws its CI plot and both heatmaps."""
    from backend.arena import service

    rng = random.Random(0)
    models = [f"darkui-{n}" for n in ("alpha", "beta", "gamma", "delta")]
    items = []
    for i in range(120):
        a, b = rng.sample(models, 2)
        items.append({"model_a": a, "model_b": b, "winner": rng.choice(["model_a", "model_b", "tie"]),
                      "judge": f"darkui-judge-{i % 9}", "tstamp": 1764500000 + i, "prompt": f"darkui item {i}"})
    service.import_battles(items, "clean_battle")
    return models


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_leaderboard_charts_follow_the_theme(page, app_url, rated_models, theme):
    """gr.Plot drew every Plotly chart with Plotly's default template: in the dark theme each was a white card with
    a blue-grey plot area inside the dark page. Now the charts are transparent over the block, their words take
    the theme's text colour (>= 4.5:1 in both themes) and their markers stand out from it (>= 3:1)."""
    page.goto(app_url + f"?__theme={theme}")
    page.get_by_role("tab", name="Leaderboard").click()
    page.locator("#lb-category").wait_for()
    page.locator("#lb-refresh").click()  # the import happened after any earlier test's cached table
    page.wait_for_function("""() => ['#lb-ci', '#lb-wins', '#lb-counts'].every(
        (s) => document.querySelector(s + ' .main-svg .xtick'))""", timeout=60_000)
    page.wait_for_timeout(300)
    charts = page.evaluate(PLOT_COLOURS_JS, "#lb-ci, #lb-wins, #lb-counts")
    assert [c["id"] for c in charts] == ["lb-ci", "lb-wins", "lb-counts"]
    block_lum = page.evaluate("(sel) => {" + _COLOUR_JS + "return lum(behind(document.querySelector(sel))); }",
                              "#lb-ci")
    for c in charts:
        assert c["words"] >= 6, c
        assert c["bg_lum"] == pytest.approx(block_lum), c  # no card of its own: the block's background
        assert (c["bg_lum"] < 0.05) if theme == "dark" else (c["bg_lum"] > 0.8), c
        assert c["area_fill"] is None or c["area_fill"].replace(" ", "").endswith(",0)"), c  # transparent area
        assert c["text_min"] >= 4.5, c
    assert charts[0]["mark_min"] is not None and charts[0]["mark_min"] >= 3.0, charts[0]
