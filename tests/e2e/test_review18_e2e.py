"""review18 in Chromium: dark theme, phone width and keyboard, as a new user meets them."""
from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.clipboard import paste_file, text_pasted_on_photo_edit

pytestmark = pytest.mark.e2e

# WCAG 2 contrast ratio of an element's text colour against the first opaque background behind it.
CONTRAST_JS = """(el) => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let bg = null;
  for (let e = el; e && !bg; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length >= 3 && (c.length < 4 || c[3] > 0.9)) bg = c;
  }
  bg = bg || rgb(getComputedStyle(document.body).backgroundColor);
  const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(bg)];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_dark_theme_battle_badges_are_readable(page, app_url):
    """The badges over a battle ("Model A: 1 point") kept their light-theme green/amber in the dark theme: about
    3.4:1 against the dark page, under the 4.5:1 that normal-size text needs. Now the dark theme has its own."""
    page.goto(app_url + "?__theme=dark")
    page.locator("#arena-random").click()
    page.wait_for_function("document.querySelector('#arena-instruction textarea').value.length > 0")
    page.locator("#arena-go").click()
    page.wait_for_function("document.querySelector('#arena-status').innerText.includes('Model A')",
                           timeout=120_000)
    badges = page.locator("#arena-status .badge-ok, #arena-status .badge-warn")
    assert badges.count() == 2
    for i in range(2):
        ratio = badges.nth(i).evaluate(CONTRAST_JS)
        assert ratio >= 4.5, (badges.nth(i).inner_text(), ratio)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_thick_border_around_blocks_inside_a_group(page, app_url, theme):
    """Anomaly Inspector: the side-by-side panel and the Downloads box (direct children of a gr.Group) had a 3 px
    frame in the text colour (white in the dark theme, like a focus ring). Gradio's group resets its children
    with `border: none` (width: medium = 3 px) while the block sets `border-style` inline. Now no block in a
    group draws that frame."""
    page.goto(app_url + f"?__theme={theme}")
    page.get_by_role("tab", name="Anomaly Inspector").click()
    page.locator("#anomaly-sbs").wait_for(state="attached")
    framed = page.evaluate("""() => [...document.querySelectorAll('.styler > .block')].filter((e) => {
        const s = getComputedStyle(e);
        return e.offsetParent && parseFloat(s.borderTopWidth) >= 2 && s.borderTopStyle !== 'none';
      }).map((e) => e.id || e.className)""")
    assert framed == []
    assert page.locator(".styler > #anomaly-sbs").count() == 1  # the check above did look at it


def _error_shown(page, selector: str) -> bool:
    """Gradio's "Error" status over the block `selector` is showing (a hidden status keeps its text, faded out)."""
    return page.evaluate("""(sel) => [...document.querySelectorAll(sel + ' .error')].some((e) => {
      const wrap = e.closest('.wrap');
      return e.innerText.trim() === 'Error' && !(wrap && wrap.classList.contains('hide'))
        && getComputedStyle(wrap || e).opacity !== '0';
    })""", selector)


def _covered(page, selector: str) -> bool:
    """What is at the centre of `selector` is a status overlay (Gradio's "Error" wrap), not the block itself."""
    return page.evaluate("""(sel) => {
      const r = document.querySelector(sel).getBoundingClientRect();
      const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      const wrap = hit && hit.closest('.wrap');
      return !!wrap && !wrap.classList.contains('hide')
        && [...wrap.querySelectorAll('.error')].some((e) => e.closest('.wrap') === wrap);
    }""", selector)


def _toast(page) -> str:
    toast = page.locator("[data-testid='toast-body']").first
    toast.wait_for(state="visible", timeout=60_000)
    page.wait_for_timeout(800)
    return toast.inner_text()


def test_load_battle_without_an_id_leaves_the_annotation_editable(page, app_url):
    """Point-Bench annotator: "Load battle" with no id drew "Error" over the image editor, the instruction and the
    category; the typed instruction was hidden and could not be clicked until each overlay was closed."""
    page.goto(app_url)
    page.get_by_role("tab", name="Point-Bench").click()
    page.get_by_text("Annotate a new bench item").click()
    page.locator("#bench-instruction textarea").fill("Point to the cup")
    page.locator("#bench-load-battle").click()
    assert "Type a battle id first" in _toast(page)
    for part in ("#bench-editor", "#bench-instruction", "#bench-category"):
        assert not _error_shown(page, part), part
    page.locator("#bench-instruction textarea").click(timeout=5_000)
    page.keyboard.type(" handle")
    assert page.locator("#bench-instruction textarea").input_value() == "Point to the cup handle"


@pytest.mark.parametrize("button, says, kept", [
    ("Load pool as prompts", "choose a saved prompt pool first", "#anomaly-prompts"),
    ("Save prompts as pool", "at least one normal", "#anomaly-pools"),
])
def test_refused_pool_step_leaves_the_inputs_usable(page, app_url, button, says, kept):
    """Anomaly Inspector's prompt pools: a refused load covered the prompt-image input with "Error" (a refused
    save, the pool list), taking its clicks. Now the pool message carries it."""
    page.goto(app_url)
    page.get_by_role("tab", name="Anomaly Inspector").click()
    page.get_by_text("Prompt pools (save / load by name)").click()
    page.get_by_role("button", name=button).click()
    assert says in _toast(page)
    assert not _error_shown(page, kept)
    assert not _covered(page, kept)
    assert _error_shown(page, "#anomaly-pool-msg")  # the refusal is marked where it belongs


@pytest.mark.parametrize("tab, opens, button, says, marked, spared", [
    ("Photo 3D Edit", None, "#edit3d-export", "provide an image first", "#edit3d-files",
     ("#edit3d-model3d", "#edit3d-turntable", "#edit3d-export-note")),
    ("Photo 3D Edit", "Refine with a local diffusion model", "#edit3d-refine", "provide an image first", None,
     ("#edit3d-status",)),
    ("Leaderboard", "Admin (needs ADMIN_TOKEN)", "#lb-admin-go", "Wrong admin token", "#lb-admin-md",
     ("#lb-admin-table",)),
    ("Leaderboard", "Admin (needs ADMIN_TOKEN)", "#lb-trust-go", "Wrong admin token", "#lb-trust-md",
     ("#lb-trust-signals", "#lb-trust-gold", "#lb-trust-rank")),
])
def test_a_refused_step_marks_one_panel(page, app_url, tab, opens, button, says, marked, spared):
    """Export with no photo drew "Error" on all four export panels, Refine on the status line, a wrong admin token
    on every admin table. Now one panel says it (with the toast), the rest stay as they were."""
    page.goto(app_url)
    page.get_by_role("tab", name=tab).click()
    if opens:
        page.get_by_text(opens).click()
    page.locator(button).click()
    assert says in _toast(page)
    for part in spared:
        assert not _error_shown(page, part), part
    if marked:
        assert _error_shown(page, marked)


def test_leaderboard_plot_titles_fit_a_phone(browser, app_url):
    """At 390 px the plots' one-line titles ran off the plot ("Rating with 95% bootstrap CI (BT, 100 rou"); Plotly
    never wraps them. Now the details are a subtitle, and every title and subtitle fits inside its plot."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = ctx.new_page()
    try:
        page.goto(app_url)
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown button", has_text="Leaderboard").click()
        page.wait_for_function("document.querySelectorAll('#tab-leaderboard .js-plotly-plot .gtitle').length >= 3",
                               timeout=60_000)
        page.wait_for_timeout(1000)
        titles = page.evaluate("""() => [...document.querySelectorAll(
            '#tab-leaderboard .js-plotly-plot .gtitle, #tab-leaderboard .js-plotly-plot .gtitle-subtitle')]
          .map((t) => { const svg = t.closest('svg').getBoundingClientRect(); const r = t.getBoundingClientRect();
            return {text: t.textContent, left: r.left - svg.left, right: svg.right - r.right}; })""")
        for t in titles:
            assert t["left"] >= 0 and t["right"] >= 0, t
        assert any("rounds" in t["text"] for t in titles), titles  # the details are still said
        assert len(titles) >= 5, titles  # three titles, two subtitles
    finally:
        ctx.close()


def test_ctrl_v_still_works_after_paste_from_clipboard(browser, app_url, tmp_path):
    """After "Paste from clipboard" (text on the clipboard: our sentence), gr.Image stays in its clipboard mode,
    which has no file input; a later Ctrl+V with an image over the same input was sent nowhere and nothing
    happened. Now it lands like a drop, and the photo is taken."""
    from PIL import Image

    png = tmp_path / "good.png"
    Image.new("RGB", (120, 80), (30, 90, 160)).save(png)
    with text_pasted_on_photo_edit(browser, app_url) as page:
        assert "is not an image Pillow can read" in _toast(page)
        assert page.locator("#edit3d-photo input[type=file]").count() == 0  # the clipboard mode this is about
        paste_file(page, "#edit3d-photo", "good.png", "image/png", png.read_bytes())
        page.locator("#edit3d-photo img").wait_for(state="visible", timeout=30_000)
        page.wait_for_function("document.querySelector('#edit3d-status').innerText.includes('Click the object')",
                               timeout=60_000)


@pytest.mark.parametrize("width", [390, 1280])
def test_anomaly_query_picker_row_has_no_gaps(browser, app_url, width):
    """Anomaly Inspector's "Query shown below | Export this query | Export all" row: the two-line export button
    stood beside a one-line one with a grey gap under it; on a phone the picker got a squeezed third (label wrapped)
    and "Export all" hung on a line of its own. Now both buttons share one height, and a phone gives the picker a
    full line and the two buttons the next."""
    ctx = browser.new_context(viewport={"width": width, "height": 844})
    page = ctx.new_page()
    try:
        page.goto(app_url)
        if width < 600:
            page.get_by_role("button", name="More tabs").click()
            page.locator(".overflow-dropdown button", has_text="Anomaly Inspector").click()
        else:
            page.get_by_role("tab", name="Anomaly Inspector").click()
        pick, one, every = (page.locator(s).bounding_box() for s in
                            ("#anomaly-pick", "#anomaly-export-one", "#anomaly-export"))
        assert abs(one["y"] - every["y"]) < 1 and abs(one["height"] - every["height"]) < 1, (one, every)
        if width < 600:
            assert one["y"] >= pick["y"] + pick["height"] - 1, (pick, one)  # the buttons below the picker
            assert pick["width"] >= one["width"] + every["width"] - 1, (pick, one, every)
    finally:
        ctx.close()


def test_enter_in_the_instruction_starts_the_battle(page, app_url):
    """Point Battle with the keyboard: type the instruction, press Enter. Nothing happened (only the button
    started a battle; SVG Studio's prompt already took Enter). Now Enter starts it."""
    page.goto(app_url)
    page.locator("#arena-random").click()
    page.wait_for_function("document.querySelector('#arena-instruction textarea').value.length > 0")
    box = page.locator("#arena-instruction textarea")
    box.fill("Point to the centre of the picture")
    box.press("Enter")
    page.wait_for_function("document.querySelector('#arena-status').innerText.includes('Model A')",
                           timeout=120_000)
    assert page.locator("#arena-battle-id input, #arena-battle-id textarea").first.input_value()


_LABEL_UNDER_TOOLBAR = """(sel) => {
  const block = document.querySelector(sel);
  const l = block.querySelector('[data-testid=block-label]').getBoundingClientRect();
  const t = block.querySelector('.icon-button-wrapper.top-panel').getBoundingClientRect();
  return l.left < t.right && t.left < l.right && l.top < t.bottom && t.top < l.bottom;
}"""


def test_photo_edit_labels_clear_their_toolbars_on_a_phone(browser, app_url):
    """Photo 3D Edit at 390 px after a render: the labels "Before | after (drag the divider)", "Guide mask: black
    invented, grey moved object, white kept" and the photo's ran under their fullscreen/download buttons (cut or
    hidden). Now a label stops short of its block's toolbar and wraps."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(app_url)
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown button", has_text="Photo 3D Edit").click()
        page.locator("#tab-edit3d .gallery-item").first.click()  # the coffee photo
        pick = page.locator("#edit3d-pick img")
        pick.wait_for(state="visible")
        page.wait_for_function("document.querySelector('#edit3d-status').innerText.includes('Click the object')")
        box = pick.bounding_box()
        # a locator click (not page.mouse at coordinates read earlier): it scrolls the preview into view and waits
        # until it stands still and is the element hit, so a late layout shift on a loaded machine cannot send the
        # click elsewhere; if the render still does not come, the failure shows what the status line said instead
        pick.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.6})
        try:
            page.wait_for_function("document.querySelector('#edit3d-status').innerText.includes('Invented pixels')",
                                   timeout=120_000)
        except PlaywrightTimeout:
            pytest.fail("no render 120 s after the click; the status line says: "
                        + page.locator("#edit3d-status").inner_text()[:300])
        for sel in ("#edit3d-photo", "#edit3d-result", "#edit3d-gmask"):
            page.locator(sel + " .icon-button-wrapper.top-panel").wait_for(state="visible")
            assert not page.evaluate(_LABEL_UNDER_TOOLBAR, sel), sel
    finally:
        ctx.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_keyboard_focus_is_visible_on_sliders_radios_and_checkboxes(page, app_url, theme):
    """Tabbing through Photo 3D Edit: a focused slider showed no sign of focus at all (outline none, no shadow),
    so arrow keys moved an object with no hint which slider had them. Now focus draws an accent outline."""
    page.goto(app_url + f"?__theme={theme}")
    page.get_by_role("tab", name="Photo 3D Edit").click()
    page.locator("#edit3d-yaw input[type=number]").focus()
    page.keyboard.press("Tab")  # the reset button
    page.keyboard.press("Tab")  # the slider
    style = page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
                             return [e.type, s.outlineStyle, parseFloat(s.outlineWidth)]; }""")
    assert style[0] == "range" and style[1] != "none" and style[2] >= 2, style
    page.locator("#edit3d-box textarea").focus()
    page.keyboard.press("Shift+Tab")  # back onto the last "Clicks mark" radio
    style = page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
                             return [e.type, s.outlineStyle, parseFloat(s.outlineWidth)]; }""")
    assert style[0] == "radio" and style[1] != "none" and style[2] >= 2, style


def test_no_mail_links_in_the_tab_texts(page, app_url):
    """Anomaly's evaluation note listed "AUPRO@0.3", which Markdown turned into a mailto: link (indigo on dark at
    3.3:1, and a click opened a mail program). No tab's text has a mail link now."""
    page.goto(app_url)
    for tab in ("Point Battle", "Leaderboard", "Point-Bench", "Photo 3D Edit", "Anomaly Inspector", "Status"):
        page.get_by_role("tab", name=tab).click()
        for acc in page.locator(".tabitem:visible button.label-wrap").all():
            if acc.is_visible() and "open" not in (acc.get_attribute("class") or ""):
                acc.click()
        page.wait_for_timeout(300)
        mails = page.evaluate("[...document.querySelectorAll('.tabitem a[href^=\"mailto:\"]')].map(a => a.innerText)")
        assert mails == [], (tab, mails)
    assert page.get_by_text("AUPRO@0.3").count() == 1  # still said, as code


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_labels_buttons_and_choices_reach_4_5_to_1(page, app_url, theme):
    """Light theme: every block label and field title (indigo-500 on indigo-100) read at 3.6:1, the primary button
    and a selected radio (white on indigo-500) at 4.47:1, under the 4.5:1 that small text needs."""
    page.goto(app_url + f"?__theme={theme}")
    page.locator("#arena-go").wait_for()
    checks = {"image label": "#arena-a [data-testid=block-label]",
              "field title": "#arena-instruction [data-testid=block-info]",
              "primary button": "#arena-go"}
    for name, sel in checks.items():
        ratio = page.locator(sel).first.evaluate(CONTRAST_JS)
        assert ratio >= 4.5, (name, ratio)
    page.get_by_role("tab", name="Leaderboard").click()
    selected = page.locator("#lb-method label.selected span, #lb-method label.selected").first
    assert selected.evaluate(CONTRAST_JS) >= 4.5
