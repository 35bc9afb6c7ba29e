"""docs/notebooks/tour.ipynb runs in a real Jupyter kernel, and shows what a user should see.

Slow (a kernel starts; the slow CI step installs nbclient and ipykernel). The notebook never
runs ``%matplotlib inline`` and never imports pyplot: every cell tagged ``figure`` must still
output an ``image/png`` (crmcore's figures render themselves), every cell tagged ``result`` a
``text/html`` table (configs, results and fitted models), and no cell an error.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "notebooks" / "tour.ipynb"

pytestmark = pytest.mark.slow


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _data(cell: Any) -> dict[str, Any]:
    """The rich outputs of a cell (execute results and displays), merged by MIME type."""
    merged: dict[str, Any] = {}
    for output in cell.get("outputs", []):
        if output["output_type"] in ("execute_result", "display_data"):
            merged.update(output["data"])
    return merged


@pytest.fixture(scope="module")
def executed() -> Any:
    if os.environ.get("CI"):  # the slow CI step installs them: missing is a failure there
        import nbclient
        import nbformat
    else:
        nbclient = pytest.importorskip("nbclient")
        nbformat = pytest.importorskip("nbformat")
        pytest.importorskip("ipykernel")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": ROOT}}
    )
    client.execute()
    return notebook


def test_the_notebook_asks_for_no_matplotlib_magic() -> None:
    import json

    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "%matplotlib" not in code
    assert not re.search(r"import\s+matplotlib\.pyplot|from\s+matplotlib\s+import\s+pyplot", code)
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")  # stored clean


def test_every_cell_runs_without_error(executed: Any) -> None:
    errors = [
        output
        for cell in executed.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output["output_type"] == "error"
    ]
    assert errors == []


def test_figures_show_as_images_and_results_as_tables(executed: Any) -> None:
    figures = [c for c in executed.cells if "figure" in _tags(c)]
    results = [c for c in executed.cells if "result" in _tags(c)]
    assert len(figures) == 3
    assert len(results) == 4
    for cell in figures:
        data = _data(cell)
        assert "image/png" in data, cell.source
        assert data["text/plain"].startswith("<ChartFigure size")
    for cell in results:
        data = _data(cell)
        assert "text/html" in data, cell.source
        assert data["text/html"].startswith('<table class="crmcore-repr">'), cell.source


def test_configs_print_the_numbers_typed(executed: Any) -> None:
    (cell,) = [c for c in executed.cells if "GradeRules(" in c.source and "result" in _tags(c)]
    plain = _data(cell)["text/plain"]
    assert "value_cutoff=0.36," in plain
    assert "0.36000000000000004" not in plain


def test_pyplot_was_never_imported(executed: Any) -> None:
    (cell,) = [c for c in executed.cells if "check" in _tags(c)]
    assert _data(cell)["text/plain"] == "False"
