"""Smoke test of the benchmark suite (benchmarks/run.py): it runs end to end at a tiny size.

No timing is asserted (benchmarks measure speed, tests never do); this checks that every hot
path runs on every engine and lands in the generated table with its ratio columns.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "benchmarks" / "run.py"

STEPS = [
    "btyd_summary",
    "rfm_summary",
    "rfm_scores",
    "rfm_segments",
    "abc_classes",
    "customer_grades",
    "weighted_pipeline",
    "close_schedule",
    "simulate_pipeline",
    "apportion_hamilton",
    "apportion_webster",
    "score_scorecard",
    "commission_statement",
]
WITH_REFERENCE = set(STEPS) - {"simulate_pipeline", "apportion_webster", "commission_statement"}

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("duckdb") is None or importlib.util.find_spec("polars") is None,
        reason="the bench extra (duckdb, polars) is not installed",
    ),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the suite forks, reads /proc"),
]


def _rows(text: str, header: str) -> dict[str, list[str]]:
    """Rows of the first Markdown table whose header line starts with ``header``, by first cell."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    out: dict[str, list[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        out[cells[0]] = cells
    return out


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("bench") / "performance.md"
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    done = subprocess.run(
        [sys.executable, str(RUN), "--sizes", "2000", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    text = out.read_text()
    assert text in done.stdout  # the same table is printed
    return text


def test_results_table_has_every_step_and_ratio_columns(page: str) -> None:
    header = "| step | rows | crmcore s | crmcore MB | DuckDB s | DuckDB MB | polars s | polars MB"
    assert "| x DuckDB | x polars | MB x DuckDB |" in page
    table = [line for line in page.splitlines() if line.startswith("| ") and "k |" in line]
    seen = {line.split("|")[1].strip() for line in table}
    assert set(STEPS) <= seen
    rows = _rows(page, header)  # first size's rows (the dict keeps the last per step)
    for step in STEPS:
        cells = rows[step]
        assert len(cells) == 11
        seconds, ratio_duckdb, ratio_polars = cells[2], cells[8], cells[9]
        assert float(seconds) >= 0
        if step in WITH_REFERENCE:  # numbers (the values themselves are not asserted)
            assert float(ratio_duckdb) >= 0
            assert float(ratio_polars) >= 0
        else:
            assert ratio_duckdb == ratio_polars == "-"


def test_targets_and_machine_sections(page: str) -> None:
    targets = _rows(page, "| target | measured | met |")
    assert "btyd_summary time <= DuckDB's" in targets
    assert "rfm_summary peak memory <= DuckDB's" in targets
    assert all(cells[2] in {"yes", "no"} for cells in targets.values())
    steps = _rows(page, "| step | a row is | reference engines compute |")
    assert set(STEPS) == set(steps)
    for key in ("load average at start", "duckdb:", "polars:", "benchmarks/run.py", "date:"):
        assert key in page


def _runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_scaling_table_from_two_sizes() -> None:
    run = _runner()
    m = run.Measurement
    rows = [
        run.Row(step.name, size, {"crmcore": m(size / 1e6, size / 1e4)})
        for size in (10**6, 10**7)
        for step in run.STEPS
    ]
    page = run.report(rows, run.STEPS, {"date": "today"})
    scaling = _rows(page, "| step | s at 1M | s at 10M | time ratio | MB ratio |")
    assert set(STEPS) == set(scaling)
    # 1 s -> 10 s and 100 MB -> 1000 MB: linear, ratio 10.
    assert scaling["abc_classes"][1:] == ["1.00", "10.00", "10.0", "10.0"]


def test_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    run = _runner()
    with pytest.raises(SystemExit) as info:
        run.main(["--only", "nope"])
    assert info.value.code == 2
    assert "unknown step" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run.main(["--sizes", "ten"])
    run.main(["--list"])
    listed = capsys.readouterr().out.split()
    assert set(STEPS) <= set(listed)
