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
    yield models
    service.clear_cache()  # the tables these tests viewed stay cached for 30 s: a later test's vote would not show


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


def test_example_thumbnails_have_names(page, app_url):
    """gr.Examples drew each example photo as a thumbnail with alt="" inside a button (Photo 3D Edit) or grid cell
    (Point Battle): a screen reader announced "button, button" and blank cells. Each now reads its caption, and
    the named button still loads its photo."""
    page.goto(app_url)
    page.get_by_role("tab", name="Photo 3D Edit").click()
    coffee = page.get_by_role("button", name="Example photo: espresso cup on a red saucer")
    coffee.wait_for()
    assert page.get_by_role("button", name="Example photo: orange dahlia against dark leaves").count() == 1
    assert "- button\n" not in page.locator("#edit3d-examples").aria_snapshot() + "\n"
    coffee.click()
    page.wait_for_function("document.querySelector('#edit3d-photo img')?.src.includes('coffee')", timeout=30_000)
    page.get_by_role("tab", name="Point Battle").click()
    cell = page.get_by_role("gridcell", name="Bench photo, Spatial: photo_china_finial.jpg")
    cell.wait_for()
    assert page.locator("#arena-examples img[alt='']").count() == 0


# Roles a user operates or reads as content: each needs a name (axe: button-name, label, image-alt, link-name).
_NAMED_ROLES = {"button", "link", "textbox", "searchbox", "combobox", "listbox", "slider", "spinbutton", "checkbox",
                "radio", "switch", "tab", "menuitem", "option"}


def _unnamed(page) -> list[str]:
    """Unnamed controls and <img> in Chromium's own accessibility tree (what a screen reader gets)."""
    cdp = page.context.new_cdp_session(page)
    out = []
    for node in cdp.send("Accessibility.getFullAXTree")["nodes"]:
        role = node.get("role", {}).get("value")
        name = str((node.get("name") or {}).get("value", "")).strip()
        if node.get("ignored") or name or role not in _NAMED_ROLES | {"image", "img"}:
            continue
        obj = cdp.send("DOM.resolveNode", {"backendNodeId": node["backendDOMNodeId"]})["object"]
        desc = cdp.send("Runtime.callFunctionOn", {"objectId": obj["objectId"], "returnByValue": True,
                                                   "functionDeclaration": """function () {
            const block = this.closest('[id]');
            return this.tagName.toLowerCase() + ' in #' + (block ? block.id : '') + ': ' + this.outerHTML.slice(0, 120);
          }"""})["result"]["value"]
        if role in ("image", "img") and desc.startswith("svg"):
            continue  # Gradio's inline icons: decorative, inside named buttons
        out.append(f"{role}: {desc}")
    cdp.detach()
    return out


def _every_tab_opened(page, settle_ms, after_ms):
    """Visit every tab in turn and open its accordions (one at a time: an opened accordion may show more); yields
    each tab's name once its content is showing."""
    page.get_by_role("tab", name="Status").wait_for()
    for tab in [t.inner_text() for t in page.get_by_role("tab").all()]:
        page.get_by_role("tab", name=tab, exact=True).click()
        page.wait_for_timeout(settle_ms)
        closed = page.locator(".tabitem:visible button.label-wrap:not(.open)")
        for _ in range(12):
            if not closed.count():
                break
            closed.first.click()
            page.wait_for_timeout(300)
        page.wait_for_timeout(after_ms)
        yield tab


def test_every_tab_names_its_controls_and_images(page, app_url):
    """An axe-like sweep of every tab (accordions opened): no button, input, tab or image without a name."""
    page.goto(app_url)
    found = {tab: _unnamed(page) for tab in _every_tab_opened(page, 1500, 800)}
    assert len(found) == 7
    assert all(not v for v in found.values()), found


def test_result_images_are_named_by_their_label(page, app_url):
    """gr.Image shows a result as <button><img alt=""></button>: after a battle a screen reader met two buttons
    with no name where the two models' answers are. Each result image now reads its block's label."""
    page.goto(app_url)
    page.locator("#arena-random").click()
    page.wait_for_function("document.querySelector('#arena-instruction textarea').value.length > 0")
    page.locator("#arena-go").click()
    page.wait_for_function("document.querySelector('#arena-status').innerText.includes('Model A')",
                           timeout=120_000)
    page.get_by_role("button", name="Model A (orange ●)").wait_for()
    assert page.get_by_role("button", name="Model B (blue ◆)").count() == 1
    assert page.locator("#arena-image img").get_attribute("alt") == "Image"
    assert _unnamed(page) == []


# Every visible text node's contrast against the first opaque background behind it (WCAG 2: 4.5:1, or 3:1 for text
# of 24 px / bold 18.66 px); disabled controls are exempt. -> the ones below.
TEXT_CONTRAST_JS = "() => {" + _COLOUR_JS + """
  const low = [], seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !el || seen.has(el) || el.closest('svg, [disabled]')) continue;
    seen.add(el);
    const r = el.getBoundingClientRect(), st = getComputedStyle(el);
    if (!el.offsetParent || !r.width || !r.height || st.visibility === 'hidden' || parseFloat(st.opacity) < 0.5) continue;
    const size = parseFloat(st.fontSize), large = size >= 24 || (parseInt(st.fontWeight) >= 700 && size >= 18.66);
    const value = ratio(rgb(st.color), behind(el));
    if (value < (large ? 3 : 4.5)) low.push([(el.closest('[id]') || {}).id, walker.currentNode.textContent.trim().slice(0, 40),
                                              st.color, Math.round(value * 100) / 100]);
  }
  return low;
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_contrast_on_every_tab(page, app_url, theme):
    """Soft's grey-400 hints (every info line under an input, slider ends, "- or -", the footer) read at 2.54:1 on
    the light page; in the dark theme the selected tab's name (the light theme's indigo-600 accent) read at 3.05:1
    and the image editor's empty-canvas hint at 3.04:1; dark hover fills put white on indigo-500 (4.47:1)."""
    page.goto(app_url + f"?__theme={theme}")
    low = {tab: page.evaluate(TEXT_CONTRAST_JS) for tab in _every_tab_opened(page, 1200, 500)}
    assert len(low) == 7 and all(not v for v in low.values()), low
    page.get_by_role("tab", name="Point Battle").click()
    for button in ("#arena-go", "#arena-random"):  # a primary and a secondary button under the pointer
        page.locator(button).hover()
        page.wait_for_timeout(400)
        assert page.evaluate("(sel) => {" + _COLOUR_JS + """
            const e = document.querySelector(sel);
            return ratio(rgb(getComputedStyle(e).color), behind(e)); }""", button) >= 4.5, button


def test_phone_reaches_every_tab_by_touch_and_keyboard(browser, app_url):
    """At 390x844 six of the seven tabs sit behind Gradio's "More tabs" menu. Each is reached by touch and by
    keyboard and, once chosen, its name shows in the tab bar. The menu button said neither that it opens a menu
    nor whether it is open, and Escape left the menu open over the page: now aria-haspopup / aria-expanded, and
    Escape closes it and returns the focus to its button."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(app_url)
        more = page.get_by_role("button", name="More tabs")
        more.wait_for()
        menu = page.locator(".overflow-dropdown")
        names = [t.inner_text() for t in page.locator(".tab-container.visually-hidden button").all()]
        assert len(names) == 7
        for name in names[1:]:  # touch: open the menu, tap the tab
            more.tap()
            menu.get_by_role("button", name=name, exact=True).tap()
            selected = page.locator("[role=tab][aria-selected=true]")
            page.wait_for_function("(n) => document.querySelector('[role=tab][aria-selected=true]')?.innerText === n",
                                   arg=name)
            assert selected.is_visible() and selected.bounding_box()["x"] + selected.bounding_box()["width"] <= 390
        page.goto(app_url)  # keyboard
        more.wait_for()
        assert more.get_attribute("aria-haspopup") == "true" and more.get_attribute("aria-expanded") == "false"
        more.focus()
        page.keyboard.press("Enter")
        page.wait_for_function("document.querySelector('.overflow-menu > button').ariaExpanded === 'true'")
        page.keyboard.press("Escape")
        page.wait_for_function("document.querySelector('.overflow-dropdown').classList.contains('hide')")
        page.wait_for_function("document.querySelector('.overflow-menu > button').ariaExpanded === 'false'")
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "More tabs"
        page.keyboard.press("Enter")
        for _ in range(names.index("Anomaly Inspector")):  # the menu lists the tabs after the selected one
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.innerText") == "Anomaly Inspector"
        page.keyboard.press("Enter")
        page.wait_for_function("document.querySelector('[role=tab][aria-selected=true]')?.innerText === "
                               "'Anomaly Inspector'")
        assert page.locator("#tab-anomaly").is_visible()
    finally:
        ctx.close()


def _tab_to_focus_ring(page, ring_js, name_js, prefix, max_tabs):
    """Press Tab until the focused element's name (name_js) starts with prefix, then check its focus ring:
    solid, >= 2 px, >= 3:1 against what is behind it."""
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if (page.evaluate(name_js) or "").startswith(prefix):
            break
    name, style, width, contrast = page.evaluate(ring_js)
    assert name.startswith(prefix) and style == "solid" and width >= 2 and contrast >= 3, (name, style, width,
                                                                                          contrast)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_keyboard_focus_is_visible_on_examples(page, app_url, theme):
    """Tabbing onto an example showed only the browser's 1 px auto ring, hard to tell from the thumbnail's own
    1 px border. Now the app's 2 px accent ring (as on sliders and radios) at >= 3:1 against the page, on
    thumbnails and example table cells alike."""
    page.goto(app_url + f"?__theme={theme}")
    ring = "() => {" + _COLOUR_JS + """
        const e = document.activeElement, s = getComputedStyle(e);
        return [e.getAttribute('aria-label') || e.dataset.testid, s.outlineStyle, parseFloat(s.outlineWidth),
                ratio(rgb(s.outlineColor), behind(e.parentElement))]; }"""
    page.get_by_role("tab", name="Photo 3D Edit").click()
    page.get_by_role("button", name="Example photo: orange dahlia against dark leaves").wait_for()
    page.locator("#edit3d-photo button[aria-label='Paste from clipboard']").focus()
    _tab_to_focus_ring(page, ring, "document.activeElement.getAttribute('aria-label')", "Example photo", 6)
    page.get_by_role("tab", name="Point Battle").click()
    page.locator("#arena-instruction textarea").focus()
    _tab_to_focus_ring(page, ring, "document.activeElement.dataset.testid", "dataset-cell", 8)
