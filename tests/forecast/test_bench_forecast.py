"""Smoke test of benchmarks/bench_forecast.py: it runs end to end at a tiny size (no timing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_forecast_runs_at_a_tiny_size() -> None:
    pytest.importorskip("statsmodels")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_forecast.py"),
            "--series",
            "2",
            "--loop-series",
            "2",
            "--months",
            "30",
            "--speed-only",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    assert "crmcore sales_forecast" in done.stdout
    assert "statsmodels ETSModel loop" in done.stdout
    assert "crmcore / fastest reference" in done.stdout
