"""The results tables in docs/ are exactly what bench/docs_tables.py generates from the committed
result files (issue 19: docs/bench.md had contradicted the README and the results)."""
from __future__ import annotations

import pytest

from bench.docs_tables import DOCS, render


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_docs_tables_match_committed_results(doc):
    text = DOCS[doc].read_text()
    assert render(doc, text) == text, f"run `python bench/docs_tables.py` to regenerate docs/{doc}.md"
