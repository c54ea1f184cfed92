"""Static (AST) facts about the layering, shared by test_architecture.py and the closing-note counts.

Nothing here imports the project: every fact comes from parsing the source, so the rules also hold for code
paths no test runs. `python -m tests.unit.archcheck` prints the counts (cycles, local imports, largest handler).

Layers: app.py and apps/ (UI, gradio) → backend/ (services, models; never gradio) → storage/ (all SQL).
Feature packages under backend/ import only core modules (config, registry, imageio, errors, …) and the
feature packages declared in FEATURE_DEPS.
"""
from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("apps", "backend", "storage")
FEATURES = ("arena", "pointing", "anomaly", "edit3d", "svg")
# Which feature package may import which (the arena runs the pointers as contestants; SVG engine votes are rated
# with the arena's Bradley-Terry maths).
FEATURE_DEPS = {"arena": {"pointing"}, "svg": {"arena"}}  # svg: engine votes are rated with arena.ratings
# Settings and pure shared vocabulary (names, labels, row formatting) that every layer may use: reading them
# configures or formats, it does not orchestrate, so it does not count as a backend call.
VOCABULARY = ("backend.arena.vocab", "backend.config")
EVENT_METHODS = {"click", "change", "submit", "select", "upload", "input", "release", "blur", "focus", "tick",
                 "then", "success", "load", "edit", "clear", "stream", "api", "on", "like", "download", "play"}
SQL_TEXT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|PRAGMA)\b.*\b(FROM|INTO|SET|TABLE|INDEX|\w+\s*=)",
                      re.IGNORECASE | re.DOTALL)


@dataclass
class Import:
    target: str          # dotted module (or module.attr when attr is not a module)
    names: tuple[str, ...]
    line: int
    local: bool          # inside a function body
    type_only: bool      # under `if TYPE_CHECKING:`


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    imports: list[Import] = field(default_factory=list)


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for layer in LAYERS:
        files += sorted(p for p in (ROOT / layer).rglob("*.py") if "__pycache__" not in p.parts)
    return files


class _ImportVisitor(ast.NodeVisitor):
    def __init__(self, mod: Module, known: set[str]):
        self.mod, self.known, self.depth, self.type_only = mod, known, 0, 0

    def _fn(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _fn

    def visit_If(self, node: ast.If):
        test = ast.unparse(node.test)
        if test in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            self.type_only += 1
            for n in node.body:
                self.visit(n)
            self.type_only -= 1
            for n in node.orelse:
                self.visit(n)
        else:
            self.generic_visit(node)

    def _add(self, target: str, names: tuple[str, ...], line: int):
        self.mod.imports.append(Import(target, names, line, self.depth > 0, self.type_only > 0))

    def visit_Import(self, node: ast.Import):
        for a in node.names:
            self._add(a.name, (), node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom):
        base = node.module or ""
        if node.level:
            pkg = self.mod.name.split(".")
            if not self.mod.path.name == "__init__.py":
                pkg = pkg[:-1]
            pkg = pkg[: len(pkg) - (node.level - 1)]
            base = ".".join(pkg + ([base] if base else []))
        subs = [a.name for a in node.names if f"{base}.{a.name}" in self.known]
        rest = tuple(a.name for a in node.names if f"{base}.{a.name}" not in self.known)
        for s in subs:
            self._add(f"{base}.{s}", (), node.lineno)
        if rest or not subs:
            self._add(base, rest, node.lineno)


def load_modules() -> dict[str, Module]:
    mods: dict[str, Module] = {}
    for p in project_files():
        mods[module_name(p)] = Module(module_name(p), p, ast.parse(p.read_text(encoding="utf-8"), filename=str(p)))
    known = set(mods)
    for m in mods.values():
        _ImportVisitor(m, known).visit(m.tree)
    return mods


def _project(target: str) -> bool:
    return target == "app" or target.split(".")[0] in LAYERS


def import_graph(mods: dict[str, Module], include_local: bool = True) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m in mods.values():
        for imp in m.imports:
            if imp.type_only or (imp.local and not include_local) or not _project(imp.target):
                continue
            tgt = imp.target
            while tgt and tgt not in mods:
                tgt = tgt.rpartition(".")[0]
            if tgt and tgt != m.name:
                graph[m.name].add(tgt)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on, stack, out = set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def local_imports(mods: dict[str, Module]) -> list[tuple[str, int, str]]:
    return [(m.name, i.line, i.target) for m in mods.values() for i in m.imports if i.local and not i.type_only]


def import_count(mods: dict[str, Module]) -> int:
    return sum(len(m.imports) for m in mods.values())


# -- handlers ---------------------------------------------------------------------------------------------
def _aliases(mod: Module) -> dict[str, str]:
    """Names bound by imports anywhere in the module (function-local ones too) → the dotted thing they name."""
    out: dict[str, str] = {}
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def _functions(mod: Module) -> dict[str, ast.AST]:
    return {n.name: n for n in mod.tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


@dataclass
class Handler:
    module: str
    name: str
    line: int
    lines: int
    backend_calls: list[str]
    params: int = 0


def _resolve_callable(mods, mod: Module, node: ast.AST):
    """(module, function node) for an apps function named by `node` (Name / h.attr), else None."""
    aliases = _aliases(mod)
    d = _dotted(node)
    if d is None:
        return None
    head, _, rest = d.partition(".")
    if not rest and head in _functions(mod):
        return mod, _functions(mod)[head]
    full = aliases.get(head)
    if full is None:
        return None
    full = f"{full}.{rest}" if rest else full
    owner, _, fn = full.rpartition(".")
    if owner in mods and owner.startswith("apps.") and owner != "apps.common" and fn in _functions(mods[owner]):
        return mods[owner], _functions(mods[owner])[fn]
    return None


def backend_calls(mods, mod: Module, fn: ast.AST, seen: set | None = None) -> set[str]:
    """Distinct backend/storage callables a UI function calls, following helpers inside apps/ (not common)."""
    seen = set() if seen is None else seen
    key = (mod.name, getattr(fn, "name", id(fn)), getattr(fn, "lineno", 0))
    if key in seen:
        return set()
    seen.add(key)
    aliases = _aliases(mod)
    out: set[str] = set()
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        d = _dotted(node.func)
        if d is None:
            continue
        head, _, rest = d.partition(".")
        full = aliases.get(head)
        if full and full.split(".")[0] in ("backend", "storage"):
            name = f"{full}.{rest}" if rest else full
            # constructors (dataclasses, errors) and methods of constants (LABELS.get) are not service calls
            if not any(part[:1].isupper() for part in rest.split(".") + [full.rpartition(".")[2]] if part) \
                    and not name.startswith(VOCABULARY):
                out.add(name)
            continue
        target = _resolve_callable(mods, mod, node.func)
        if target is not None:
            out |= backend_calls(mods, target[0], target[1], seen)
    return out


def handlers(mods: dict[str, Module]) -> list[Handler]:
    """Every function wired to a Gradio event (or gr.api) in apps/, with the backend calls it makes."""
    found: dict[tuple[str, str], Handler] = {}
    for mod in mods.values():
        if not (mod.name.startswith("apps.") or mod.name == "app"):
            continue
        for node in ast.walk(mod.tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in EVENT_METHODS):
                continue
            fn_arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "fn"), None)
            if node.func.attr == "on" and len(node.args) > 1:
                fn_arg = node.args[1]
            if fn_arg is None:
                continue
            if isinstance(fn_arg, ast.Call):  # a handler factory: the factory's body is the handler
                fn_arg = fn_arg.func
            if isinstance(fn_arg, ast.Lambda):  # named after the apps functions it wraps (stable across edits)
                calls = backend_calls(mods, mod, fn_arg)
                wrapped = sorted({t[1].name for n in ast.walk(fn_arg) if isinstance(n, ast.Call)
                                  for t in [_resolve_callable(mods, mod, n.func)] if t is not None})
                key = (mod.name, f"<lambda:{','.join(wrapped) or fn_arg.lineno}>")
                found[key] = Handler(mod.name, key[1], fn_arg.lineno, 1, sorted(calls))
                continue
            target = _resolve_callable(mods, mod, fn_arg)
            if target is None:
                continue
            tmod, tfn = target
            key = (tmod.name, tfn.name)
            if key not in found:
                n = (tfn.end_lineno or tfn.lineno) - tfn.lineno + 1
                a = tfn.args
                params = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + bool(a.vararg) + bool(a.kwarg)
                found[key] = Handler(tmod.name, tfn.name, tfn.lineno, n, sorted(backend_calls(mods, tmod, tfn)), params)
    return sorted(found.values(), key=lambda h: (h.module, h.line))


# -- other rules ------------------------------------------------------------------------------------------
def violations(mods: dict[str, Module]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"gradio_in_backend": [], "sql_outside_storage": [], "apps_import_storage": [],
                                 "feature_imports": [], "environ_outside_config": []}
    for m in mods.values():
        top = m.name.split(".")[0]
        for imp in m.imports:
            root = imp.target.split(".")[0]
            where = f"{m.path.relative_to(ROOT)}:{imp.line} imports {imp.target}"
            if top in ("backend", "storage") and root == "gradio":
                out["gradio_in_backend"].append(where)
            if top != "storage" and root == "sqlalchemy":
                out["sql_outside_storage"].append(where)
            if top == "apps" and root == "storage":
                out["apps_import_storage"].append(where)
            parts, tparts = m.name.split("."), imp.target.split(".")
            if top == "backend" and len(parts) > 2 and parts[1] in FEATURES and root == "backend" \
                    and len(tparts) > 1 and tparts[1] in FEATURES and tparts[1] != parts[1] \
                    and tparts[1] not in FEATURE_DEPS.get(parts[1], set()):
                out["feature_imports"].append(where)
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and top != "storage" \
                    and SQL_TEXT.match(node.value):
                out["sql_outside_storage"].append(f"{m.path.relative_to(ROOT)}:{node.lineno} SQL text")
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os" and m.name != "backend.config":
                out["environ_outside_config"].append(f"{m.path.relative_to(ROOT)}:{node.lineno} os.{node.attr}")
    return out


def summary() -> dict:
    mods = load_modules()
    cyc = cycles(import_graph(mods))
    hs = handlers(mods)
    biggest = max(hs, key=lambda h: h.lines)
    most = max(hs, key=lambda h: len(h.backend_calls))
    widest = max(hs, key=lambda h: h.params)
    return {
        "modules": len(mods),
        "imports": import_count(mods),
        "local_imports": len(local_imports(mods)),
        "cycles (SCCs, local imports counted)": len(cyc),
        "modules in cycles": sum(len(c) for c in cyc),
        "cycles without local imports": len(cycles(import_graph(mods, include_local=False))),
        "handlers": len(hs),
        "handlers with >1 backend call": sum(len(h.backend_calls) > 1 for h in hs),
        "largest handler": f"{biggest.module}.{biggest.name} ({biggest.lines} lines)",
        "most backend calls": f"{most.module}.{most.name} ({len(most.backend_calls)})",
        "most parameters": f"{widest.module}.{widest.name} ({widest.params})",
    }


if __name__ == "__main__":
    s = summary()
    for k, v in s.items():
        print(f"{k}: {v}")
    if "-v" in sys.argv:
        mods = load_modules()
        for c in cycles(import_graph(mods)):
            print("cycle:", " ".join(c))
        for h in handlers(mods):
            if len(h.backend_calls) > 1:
                print(f"handler {h.module}.{h.name} ({h.lines} lines): {', '.join(h.backend_calls)}")
        for k, vs in violations(mods).items():
            for v in vs:
                print(f"{k}: {v}")
