"""Style library service: learn a style from exemplars, save it, list/rename/delete it, load it for sampling.

The SQL lives in storage/repos/svg_styles.py; this module is the backend service the UI (and the CLI) calls.
A saved style = learned token (fewshot.py) + the exemplars' style card (backend.svg.style) + provenance; the
engine applies the token while sampling and the card afterwards.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from backend.errors import UserError
from backend.svg.engines import get_engine
from backend.svg.model.fewshot import learn_style
from backend.svg.style import style_from_exemplars
from storage.db import get_storage
from storage.repos import svg_styles as repo


def learn_and_save(engine, svgs: Sequence[str | bytes], name: str, names: list[str] | None = None,
                   session_id: str | None = None, seed: int = 0, steps: int = 150, budget_s: float = 150.0,
                   progress: Callable | None = None, cancel: Callable | None = None) -> dict:
    """Learn a token with `engine.gen` (PathDiffusionEngine), extract the card, store both; returns the row."""
    name = (name or "").strip()
    if not name:
        raise UserError("Give the new style a name.")
    card = style_from_exemplars(list(svgs), name=name, names=names)  # also validates/sanitises every exemplar
    learned = learn_style(engine.gen, list(svgs), names=names, steps=steps, budget_s=budget_s, seed=seed,
                          progress=progress, cancel=cancel)
    sid = get_storage().write(lambda s: repo.add_style(
        s, name=name, model_sha=engine.model_sha, base_style=learned.base_style, token=learned.token,
        card=card.to_dict(), n_exemplars=len(svgs), exemplar_sha=learned.exemplar_sha, train_s=learned.seconds,
        train_info=learned.info(), session_id=session_id))
    return load_library_style(sid, engine.model_sha)


def list_library(model_sha: str | None = None, visible_to: str | None = None) -> list[dict]:
    """Saved styles (all of them, or with `visible_to` a session's own plus the shared CLI-learned ones)."""
    return get_storage().read(lambda s: repo.list_styles(s, model_sha, visible_to=visible_to))


def load_library_style(style_id: int, model_sha: str | None = None, visible_to: str | None = None) -> dict:
    row = get_storage().read(lambda s: repo.get_style(s, style_id))
    if row is not None and visible_to is not None and row["session_id"] not in (None, visible_to):
        row = None  # another session's style: answered exactly like a missing one
    if row is None:
        raise UserError(f"Style #{style_id} is not in the library (it may have been deleted).")
    if model_sha and row["model_sha"] != model_sha:
        raise UserError(f"Style “{row['name']}” was learned for another model version; learn it again from "
                         "its exemplars.")
    return row


def rename_library_style(style_id: int, name: str) -> bool:
    name = (name or "").strip()
    if not name:
        raise UserError("The new name is empty.")
    return get_storage().write(lambda s: repo.rename_style(s, style_id, name))


def delete_library_style(style_id: int) -> bool:
    return get_storage().write(lambda s: repo.delete_style(s, style_id))


def main(argv=None) -> int:
    """CLI: python -m backend.svg.model.library learn|list|rename|delete|generate ..."""
    ap = argparse.ArgumentParser(prog="python -m backend.svg.model.library",
                                 description="Few-shot style library of the learned SVG generator.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("learn", help="learn a style token from 1-16 exemplar SVG files and save it")
    a.add_argument("svgs", nargs="+")
    a.add_argument("--name", required=True)
    a.add_argument("--steps", type=int, default=150)
    a.add_argument("--budget-s", type=float, default=150.0)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--use-names", action="store_true", help="use file names as the exemplars' captions")
    sub.add_parser("list")
    r = sub.add_parser("rename")
    r.add_argument("id", type=int)
    r.add_argument("name")
    d = sub.add_parser("delete")
    d.add_argument("id", type=int)
    g = sub.add_parser("generate", help="sample with a library style")
    g.add_argument("id", type=int)
    g.add_argument("prompt")
    g.add_argument("--n", type=int, default=4)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", default=".")
    args = ap.parse_args(argv)

    if args.cmd == "list":
        print(json.dumps(list_library(), indent=1))
    elif args.cmd == "rename":
        print("renamed" if rename_library_style(args.id, args.name) else "not found")
    elif args.cmd == "delete":
        print("deleted" if delete_library_style(args.id) else "not found")
    elif args.cmd == "learn":
        torch.set_num_threads(1)  # small ops: 1 thread beats 2 on a busy 2-core box (bench)
        eng = get_engine("svg-pathdiffusion")
        files = [Path(p) for p in args.svgs]
        names = [f.stem.replace("-", " ").replace("_", " ") for f in files] if args.use_names else None
        row = learn_and_save(eng, [f.read_text(encoding="utf-8") for f in files], args.name, names=names,
                             seed=args.seed, steps=args.steps, budget_s=args.budget_s,
                             progress=lambda i, n, loss, el: print(f"step {i}/{n} loss {loss:.4f} {el:.0f}s",
                                                                   flush=True) if i % 10 == 0 else None)
        print(json.dumps({k: v for k, v in row.items() if k != "token"}, indent=1))
    else:
        eng = get_engine("svg-pathdiffusion")
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for i, c in enumerate(eng.generate(args.prompt, f"library:{args.id}", args.n, args.seed)):
            (out / f"library{args.id}_{i}.svg").write_text(c.svg, encoding="utf-8")
            print(out / f"library{args.id}_{i}.svg", c.notes)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
