"""Helpers of the command-line tests (tests/cli): run a command as users do, compare its output."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from crmcore._periods import period_labels
from crmcore.cli import main


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmcore", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def csv(path: Path, ids: Sequence[str] = ()) -> pd.DataFrame:
    """Read a test input as the command line does: the id columns ``ids`` as text."""
    return pd.read_csv(path, dtype=dict.fromkeys(ids, str))


def read_out(path: Path, ids: Sequence[str] = ()) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=dict.fromkeys(ids, str))
    return pd.read_parquet(path)


def assert_same(
    written: pd.DataFrame, expected: pd.DataFrame, *, period: str | None = None
) -> None:
    """Compare a table read back from --out with the library's frame (index written as columns).

    With ``period``, the library's ``period`` column (period starts) is compared as the labels
    the command line writes (``2025-Q1``).
    """
    exp = expected.reset_index() if any(n is not None for n in expected.index.names) else expected
    exp = exp.set_axis([str(c) for c in exp.columns], axis=1)
    if period is not None:
        exp = exp.assign(period=period_labels(pd.DatetimeIndex(exp["period"]), period))
    assert list(written.columns) == list(exp.columns)
    assert len(written) == len(exp)
    for col in exp.columns:
        got, want = written[col], exp[col]
        if pd.api.types.is_datetime64_any_dtype(want):
            assert pd.to_datetime(got).tolist() == want.tolist(), col
        elif pd.api.types.is_bool_dtype(want) or not pd.api.types.is_numeric_dtype(want):
            assert got.astype(str).tolist() == want.astype(str).tolist(), col
        else:
            np.testing.assert_allclose(
                got.to_numpy(dtype=float), want.to_numpy(dtype=float), rtol=1e-12, err_msg=col
            )


def cli(*args: str) -> tuple[int, str]:
    """Run in-process; return the status and what was printed."""
    out = io.StringIO()
    status = main(list(args), stdout=out)
    return status, out.getvalue()


def cli_frame(tmp_path: Path, *args: str) -> pd.DataFrame:
    target = tmp_path / "result.csv"
    status, text = cli(*args, "--out", str(target))
    assert status == 0, text
    assert text.startswith("wrote ")
    return pd.read_csv(target)


STAGES = "prospect,bid,negotiation"


RATES = ["--stages", STAGES, "--rates", "0.5,0.8,0.9", "--durations", "60,30,30"]


COMMANDS = [
    "demo",
    "rfm",
    "segments",
    "abc",
    "grades",
    "clv",
    "funnel",
    "forecast",
    "quota",
    "scorecard",
    "commission",
    "clean",
    "pseudonymize",
    "mask",
]
