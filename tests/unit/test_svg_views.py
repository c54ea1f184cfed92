"""SVG Studio views (review13): what the browser shows of a candidate must survive its cut-offs."""
from backend.svg.studio import gallery

SQUARE = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M4 4h16v16H4z"/></svg>'


def test_gallery_caption_leads_with_the_copying_check():
    """The browser cuts a caption at the tile's width: "2. bell heart · IoU …" hid the copying check's number."""
    (tile, cap), = gallery([{"svg": SQUARE, "prompt": "a very long prompt about a bell with a heart on it",
                             "similarity": 0.934}])
    assert cap.startswith("1. IoU 0.93 · a very long") and len(cap) <= 40
    # room above the icon for the panel's label badge: the top rows of the tile are blank
    assert tile.size == (192, 272) and tile.crop((0, 0, 192, 20)).getextrema() == ((255, 255),) * 3
    # and room below for a two-line caption: the bottom 88 rows are blank (56 rows held one line only)
    assert tile.crop((0, 272 - 88, 192, 272)).getextrema() == ((255, 255),) * 3
