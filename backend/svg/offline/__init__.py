"""Build-time and evaluation code of the SVG studio: what made its data and measures it; the app never imports it.

- legibility_eval: concept / style / ink / viewBox / copy figures for restyled and generated icons, and the
  paraphrase retrieval benchmark (static/svg/eval/*).
- legibility_tables: the README and docs tables (and the structural ceiling) from the committed reports.
- cli: `python -m backend.svg.offline.cli {evaluate,tables}`.
"""
