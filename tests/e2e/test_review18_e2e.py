"""review18 in Chromium: dark theme, phone width and keyboard, as a new user meets them."""
from __future__ import annotations

import pytest

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
