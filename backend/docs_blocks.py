"""Generated blocks in README.md and docs/*.md: the text between a begin and an end marker is owned by the script
that generates it from committed results, so README and docs never disagree with those results."""
from __future__ import annotations


def replace_block(text: str, begin: str, end: str, body: str, *, required: bool = False, where: str = "") -> str:
    """`text` with everything between the first `begin` marker and the `end` marker after it replaced by
    "\\n" + body + "\\n" (the markers stay). Missing markers: `text` unchanged, or SystemExit when `required`."""
    a = text.find(begin)
    b = text.find(end, a + len(begin)) if a >= 0 else -1
    if a < 0 or b < 0:
        if required:
            raise SystemExit(f"{where or 'text'}: no {begin} … {end} markers")
        return text
    return text[:a + len(begin)] + "\n" + body + "\n" + text[b:]
