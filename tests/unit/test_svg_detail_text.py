"""review18: the candidate details' licence line read "MIT (@phosphor-icons/core@2.1.1)", which the browser's
Markdown turned into a mailto: link (a click opened a mail program). Licence and attribution are corpus text and
are shown as typed: every '@' (and every other link character) backslash-escaped, as md_text does for user text."""
from __future__ import annotations

import re

from apps import svg_studio_handlers as h

STYLE = ["Installed set/variant", "phosphor/bold", None, "outline", 2.0, "round", "round", 2.0, 24, "currentColor"]


def test_licence_and_attribution_are_shown_as_text_not_links():
    state, *_rest, info, _svg, _png, _pick = h.generate("bell", *STYLE, "svg-retrieval", 1, 0)
    assert "core@2.1.1" in state["candidates"][0]["licence"]  # the corpus text this is about
    label = "**Licence / attribution:**"
    line = next(x for x in info.split("  \n") if x.startswith(label))[len(label):]
    assert "core\\@2.1.1" in line and not re.search(r"(?<!\\)[@:<>\[\]]", line), line
