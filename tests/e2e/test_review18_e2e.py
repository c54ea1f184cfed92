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
