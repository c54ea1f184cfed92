"""A refused palette colour is quoted as a short fragment without markup or control characters (the old message
echoed the whole entry with repr(), so a 5,000-character entry or an <img onerror> came back in the toast)."""
from __future__ import annotations

import pytest

from backend.errors import UserError, shown_fragment
from backend.svg.service import MAX_PALETTE, parse_palette


def _message(text: str) -> str:
    with pytest.raises(UserError) as info:
        parse_palette(text)
    return str(info.value)


@pytest.mark.parametrize("entry", [
    "<img/src=x/onerror=alert(document.cookie)>",
    "#12\x1b[31mred\x07" + "A" * 5000,
    "\u202eevil\u200b`code`&amp;'\"",
])
def test_a_bad_colour_is_quoted_short_and_inert(entry):
    msg = _message(f"#ff0000, {entry}")
    assert msg.startswith("Palette colours must be #rrggbb, #rgb or currentColor;")
    assert len(msg) < 120, msg
    assert not any(ch in msg for ch in "<>&`\"'"), msg
    assert all(ch.isprintable() for ch in msg), ascii(msg)
    assert "\\x" not in msg and "\\u" not in msg  # no repr() escapes either


def test_the_fragment_keeps_a_readable_start():
    assert _message("#ff0000 red").endswith("got “red”.")
    assert "got “<img" not in _message("<img>") and "got “img”." in _message("<img>")
    assert shown_fragment("x" * 100, 10) == "x" * 10 + "…"
    assert _message("<>&").endswith("one entry is not a colour.")  # nothing printable left to quote


def test_palettes_are_bounded_and_good_ones_pass():
    assert parse_palette("#ff0000, #0f0 currentColor") == ["#ff0000", "#0f0", "currentColor"]
    assert parse_palette("  ") is None
    assert len(parse_palette(", ".join(["#000000"] * MAX_PALETTE)) or []) == MAX_PALETTE
    with pytest.raises(UserError, match=f"at most {MAX_PALETTE} colours"):
        parse_palette(" ".join(["#000000"] * 10000))
