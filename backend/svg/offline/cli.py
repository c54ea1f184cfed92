"""Command line of the SVG studio's offline tools (build time and evaluation; the app never imports them).

    python -m backend.svg.offline.cli corpus-build --npm-dir DIR [--out static/svg/] [--sets ...] [--limit N]
    python -m backend.svg.offline.cli corpus-index [--out static/svg/]
    python -m backend.svg.offline.cli corpus-stats [--root static/svg/]
    python -m backend.svg.offline.train ...                # the trainer keeps its own torch-only entry point

    python -m backend.svg.offline.cli evaluate [--no-generator] [--out static/svg/eval/legibility_report.json]
    python -m backend.svg.offline.cli family-signatures    # static/svg/family_signatures.json (solid families)
    python -m backend.svg.offline.cli family-identifier [--measure-only]  # static/svg/family_identifier.json (exemplar → family)
    python -m backend.svg.offline.cli family-conventions   # static/svg/family_conventions.json (family_adapt)
    python -m backend.svg.offline.cli paraphrases          # retrieval top-1/top-5 on the paraphrase set only
    python -m backend.svg.offline.cli tables               # README.md + docs/svg_*.md tables from the committed reports
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from backend.config import REPO_ROOT
from backend.svg.corpus import DEFAULT_ROOT, CorpusMissing, load_corpus
from backend.svg.family_adapt import CONVENTIONS
from backend.svg.family_match import SIGNATURES
from backend.svg.index import build_indexes
from backend.svg.offline import generator_tables, sampler_choice
from backend.svg.offline import legibility_eval as ev
from backend.svg.offline import legibility_tables as tables
from backend.svg.offline.corpus_build import build, corpus_markdown
from backend.svg.offline.family_identifier import build as build_identifier

DOCS = [REPO_ROOT / "README.md", REPO_ROOT / "docs" / "svg_studio.md", REPO_ROOT / "docs" / "svg_generator.md"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="SVG studio offline tools")
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("evaluate", help="legibility/style/paraphrase report")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--judge-seed", type=int, default=0,
                   help="style classifier's training seed (0: the cached judge; --seed alone changes only the "
                        "exemplars and prompts)")
    e.add_argument("--no-generator", action="store_true")
    e.add_argument("--styles", default=",".join(ev.TARGET_STYLES), help="comma-separated target styles")
    e.add_argument("--per-split", type=int, default=ev.PROMPTS_PER_SPLIT, help="prompts per concept split")
    e.add_argument("--classifier-per-style", type=int, default=ev.JUDGE_PER_STYLE,
                   help="style-classifier training icons per style (cap)")
    e.add_argument("--out", default=str(ev.REPORT))
    sub.add_parser("paraphrases", help="retrieval on the paraphrase set")
    sub.add_parser("family-signatures", help="solid families' drawing-convention centroids (family_match)")
    sub.add_parser("family-conventions", help="ink box and corner conventions per installed family (family_adapt)")
    fi = sub.add_parser("family-identifier", help="fit and measure the exemplar → installed-family identifier")
    fi.add_argument("--measure-only", action="store_true", help="keep the committed weights, measure again")
    t = sub.add_parser("tables", help="write the generated tables into README.md and docs/svg_*.md")
    t.add_argument("--report", default=str(ev.REPORT))
    b = sub.add_parser("corpus-build", help="read npm icon packages and write the prepared corpus")
    b.add_argument("--npm-dir", type=Path, required=True, help="folder whose node_modules holds the icon packages")
    b.add_argument("--out", type=Path, default=DEFAULT_ROOT)
    b.add_argument("--sets", nargs="*", default=None, help="subset of sets (default: all known)")
    b.add_argument("--workers", type=int, default=2)
    b.add_argument("--limit", type=int, default=None, help="only the first N icons (smoke tests)")
    ix = sub.add_parser("corpus-index", help="compute the text (MiniLM) and raster search indexes")
    ix.add_argument("--out", type=Path, default=DEFAULT_ROOT)
    st = sub.add_parser("corpus-stats", help="print icon counts per style")
    st.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    a = ap.parse_args(argv)
    if a.cmd == "corpus-build":
        summary = build(a.npm_dir, a.out, a.sets, a.workers, a.limit)
        corpus = load_corpus(a.out)
        (a.out / "CORPUS.md").write_text(corpus_markdown(corpus))
        print(json.dumps({k: v for k, v in summary.items() if k != "failures"}, indent=1))
        print(json.dumps(corpus.counts(), indent=1))
    elif a.cmd == "corpus-index":
        print(json.dumps(build_indexes(a.out)))
    elif a.cmd == "corpus-stats":
        try:
            corpus = load_corpus(a.root)
        except CorpusMissing as exc:
            print(exc, file=sys.stderr)
            return 2
        print(json.dumps(corpus.counts(), indent=1))
    elif a.cmd == "evaluate":
        rep = ev.run(seed=a.seed, generator=not a.no_generator, styles=tuple(a.styles.split(",")),
                     per_split=a.per_split, classifier_per_style=a.classifier_per_style, judge_seed=a.judge_seed)
        rep["command"] = "python -m backend.svg.offline.cli " + " ".join(argv if argv is not None else sys.argv[1:])
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(rep, indent=1, default=float))
        print(tables.report_tables(rep, dev=[]))  # this report alone (the committed dev reports may use another judge)
        print(f"wrote {a.out}")
    elif a.cmd == "family-signatures":
        SIGNATURES.write_text(json.dumps(ev.family_signatures(), indent=1))
        print(f"wrote {SIGNATURES}")
    elif a.cmd == "family-conventions":
        CONVENTIONS.write_text(json.dumps(ev.family_conventions(load_corpus()), indent=1))
        print(f"wrote {CONVENTIONS}")
    elif a.cmd == "family-identifier":
        print(json.dumps(build_identifier(measure_only=a.measure_only), indent=1))
    elif a.cmd == "paraphrases":
        print(json.dumps(ev.paraphrase_eval()["summary"]))
    else:
        rep = json.loads(Path(a.report).read_text())
        for f in tables.write_tables(rep, DOCS) + generator_tables.write_generator_tables(DOCS[2:]) + \
                sampler_choice.write_tables([DOCS[0], DOCS[2]]):
            print(f"updated {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
