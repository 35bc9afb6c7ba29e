"""Every Python code block in README.md and docs/*.md is executed, and its output checked.

A ``python`` fenced block written as a doctest (``>>>`` prompts) is run with doctest, so the
shown output must match. A ``python`` block without prompts is executed as a script. The blocks
of one page share one namespace, in page order, like a notebook.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _blocks(text: str) -> list[tuple[int, str]]:
    out = []
    for match in FENCE.finditer(text):
        if match.group(1) in ("python", "py", "pycon"):
            line = text.count("\n", 0, match.start()) + 2
            out.append((line, match.group(2)))
    return out


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_code_blocks_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import matplotlib as mpl
    except ImportError:
        pass
    else:
        mpl.use("Agg")
    monkeypatch.chdir(tmp_path)
    text = page.read_text(encoding="utf-8")
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    parser = doctest.DocTestParser()
    for line, code in _blocks(text):
        name = f"{page.name}:{line}"
        if ">>>" in code:
            test = parser.get_doctest(code, namespace, name, str(page), line)
            runner = doctest.DocTestRunner(optionflags=FLAGS)
            runner.run(test, clear_globs=False)
            namespace.update(test.globs)
            result = runner.summarize(verbose=False)
            assert result.failed == 0, f"doctest failures in {name} (see output above)"
        else:
            exec(compile(code, name, "exec"), namespace)


def test_docs_exist() -> None:
    assert (ROOT / "README.md").is_file()
    assert PAGES, "no documentation pages found"


def test_readme_quick_start_is_what_ci_runs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, "Quick start must hold exactly one sh block"
    commands = [c for c in blocks[0].strip().splitlines() if c.strip()]
    assert len(commands) == 2, "Quick start must hold exactly two commands"
    assert "python -m crmcore demo" in commands[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1].strip() in ci, ".ci/run must run README's test command"
