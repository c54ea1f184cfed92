"""The layering rules of the README's Architecture section, checked on the source (AST, no imports run).

Each test names the rule it enforces; a failure lists every offending place as file:line. The facts come from
tests/unit/archcheck.py (`python -m tests.unit.archcheck -v` prints them all).
"""
from __future__ import annotations

import ast

import pytest

from tests.unit import archcheck as A

# Handlers that still orchestrate several backend calls; each is being moved behind one service call.
# Do not add to this list: give the handler one service function to call instead.
KNOWN_MULTI_CALL_HANDLERS: set[str] = set()


@pytest.fixture(scope="module")
def mods():
    return A.load_modules()


@pytest.fixture(scope="module")
def rules(mods):
    return A.violations(mods)


def test_backend_and_storage_never_import_gradio(rules):
    assert rules["gradio_in_backend"] == []


def test_sql_lives_only_in_storage(rules):
    assert rules["sql_outside_storage"] == []


def test_apps_reach_storage_only_through_services(rules):
    assert rules["apps_import_storage"] == []


def test_feature_packages_import_only_declared_features(rules):
    """backend/<feature>/ may import core modules and the features in archcheck.FEATURE_DEPS only."""
    assert rules["feature_imports"] == []


def test_settings_are_read_only_in_config(rules):
    """Every environment variable is declared in backend/config.py (VARIABLES) and validated at start-up."""
    assert rules["environ_outside_config"] == []


def test_no_import_cycles(mods):
    """Function-local imports count: a cycle hidden inside a function is still a cycle."""
    assert A.cycles(A.import_graph(mods)) == []


def test_handlers_make_at_most_one_backend_call(mods):
    """A UI event handler validates input, calls ONE backend service function and formats its result."""
    offenders = {f"{h.module}.{h.name}": h.backend_calls for h in A.handlers(mods) if len(h.backend_calls) > 1}
    new = {k: v for k, v in offenders.items() if k not in KNOWN_MULTI_CALL_HANDLERS}
    assert new == {}, f"handlers with more than one backend call: {new}"


def test_errors_shown_to_users_are_user_errors(mods):
    """apps/ raises UserError (or gr.Error) for user mistakes; a bare ValueError would be shown as a generic
    failure, because only UserError's message is written for users (backend/errors.py)."""
    bad = []
    for m in mods.values():
        if not m.name.startswith("apps"):
            continue
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                    and isinstance(node.exc.func, ast.Name) and node.exc.func.id in ("ValueError", "PermissionError"):
                bad.append(f"{m.path.relative_to(A.ROOT)}:{node.lineno}")
    assert bad == []


# -- the checker itself, on small made-up trees --------------------------------------------------------
def test_cycle_finder_sees_cycles_and_ignores_chains():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert A.cycles(g) == [["a", "b", "c"]]
    assert A.cycles({"a": {"b"}, "b": set()}) == []


def test_handler_counter_follows_local_helpers(tmp_path, monkeypatch):
    src = (
        "from backend.x import service as svc\n"
        "from backend.y import render\n"
        "def _helper(v):\n    return render(v)\n"
        "def one(v):\n    return svc.run(v)\n"
        "def two(v):\n    return _helper(svc.run(v))\n"
        "def build(btn):\n    btn.click(one)\n    btn.click(two)\n    btn.click(lambda v: svc.a(svc.b(v)))\n"
    )
    mod = A.Module("apps.fake", tmp_path / "fake.py", ast.parse(src))
    counts = {h.name: len(h.backend_calls) for h in A.handlers({"apps.fake": mod})}
    assert counts["one"] == 1 and counts["two"] == 2
    assert [v for k, v in counts.items() if k.startswith("<lambda")] == [2]
