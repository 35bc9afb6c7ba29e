"""The architecture rules of docs/architecture.md, read from the code itself.

Import layers and private modules are checked by import-linter (``lint-imports``, contracts in
pyproject.toml). The rules import-linter cannot express are checked here from the syntax tree:

- no module imports an ``_name`` from a public module (shared helpers live in private modules);
- no function body is longer than 120 lines (docstring excluded);
- nothing writes ``DataFrame.attrs`` (results are return values).

``KNOWN`` lists the violations that existed when the rules were written down; it may only
shrink. A fixed violation must be removed from it (the test fails on stale entries too).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "crmcore"
MAX_BODY = 120

# Violations that predate the rules, each to be removed by the change that fixes it.
KNOWN: set[str] = set()


def _modules() -> list[tuple[str, ast.Module]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).as_posix()
        out.append((rel, ast.parse(path.read_text(encoding="utf-8"), filename=rel)))
    return out


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    first = body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if len(body) == 1:
            return 0
        first = body[1]
    assert node.end_lineno is not None
    return node.end_lineno - first.lineno + 1


def _violations_in(rel: str, tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            last = node.module.rsplit(".", 1)[-1]
            for alias in node.names:
                name = alias.name
                private = name.startswith("_") and not name.startswith("__")
                # A private module counts too (``from crmcore import _frames``): import it by its
                # full name (``import crmcore._frames as fr``), as the house rules read it.
                if private and not last.startswith("_"):
                    found.add(f"private-import {rel}: from {node.module} import {name}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if _body_lines(node) > MAX_BODY:
                found.add(f"long-function {rel}: {node.name}")
        elif isinstance(node, ast.Attribute) and node.attr == "attrs":
            if isinstance(node.ctx, ast.Store):
                found.add(f"attrs-write {rel}")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
            target = node.value
            if isinstance(target, ast.Attribute) and target.attr == "attrs":
                found.add(f"attrs-write {rel}")
    return found


def _violations() -> set[str]:
    found: set[str] = set()
    for rel, tree in _modules():
        found |= _violations_in(rel, tree)
    return found


def test_no_new_violations() -> None:
    new = sorted(_violations() - KNOWN)
    assert not new, "architecture rules broken (docs/architecture.md):\n" + "\n".join(new)


def test_known_violations_are_not_stale() -> None:
    stale = sorted(KNOWN - _violations())
    assert not stale, "fixed violations still listed in KNOWN; remove them:\n" + "\n".join(stale)


def test_checker_sees_each_kind_of_violation() -> None:
    code = (
        "from crmcore.pipeline.funnel import _deals\n"
        "from crmcore.pipeline._deals import Deals\n"
        "from crmcore import _frames\n"
        "from crmcore import __version__\n"
        "def f(frame):\n"
        "    frame.attrs['x'] = 1\n"
        "    frame.attrs = {}\n" + "    y = 1\n" * MAX_BODY
    )
    assert _violations_in("m.py", ast.parse(code)) == {
        "private-import m.py: from crmcore.pipeline.funnel import _deals",
        "private-import m.py: from crmcore import _frames",
        "long-function m.py: f",
        "attrs-write m.py",
    }
    short = 'def g(frame):\n    """Doc."""\n' + "    y = 1\n" * MAX_BODY
    assert _violations_in("m.py", ast.parse(short)) == set()
