"""The command line, run as a subprocess on real files, as users run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from crmcore import datasets
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


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "orders.csv"
    tx = datasets.transactions(40, n_transactions=300, seed=4)
    tx.rename(columns={"customer_id": "client", "date": "day", "amount": "total"}).to_csv(
        path, index=False
    )
    return path


def test_demo_prints_every_section() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    for title in ("Customer segmentation", "Sales pipeline", "Quotas", "Team performance"):
        assert title in result.stdout
    assert result.stderr == ""


def test_demo_is_reproducible_by_seed() -> None:
    assert run("demo", "--seed", "2").stdout == run("demo", "--seed", "2").stdout


def test_rfm_prints_table(orders: Path) -> None:
    result = run("rfm", str(orders), "--customer", "client", "--date", "day", "--amount", "total")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0]
    for column in ("recency", "frequency", "monetary"):
        assert column in header


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_rfm_writes_file_matching_the_library(orders: Path, tmp_path: Path, suffix: str) -> None:
    from crmcore.segmentation import rfm_summary

    out = tmp_path / f"rfm{suffix}"
    result = run(
        "rfm",
        str(orders),
        "--customer",
        "client",
        "--date",
        "day",
        "--amount",
        "total",
        "--segments",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    written = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert {"client", "recency", "r_score", "segment"} <= set(written.columns)
    tx = pd.read_csv(orders)
    expected = rfm_summary(tx, customer="client", date="day", amount="total")
    assert written["client"].tolist() == expected.index.tolist()
    assert written["monetary"].to_numpy() == pytest.approx(expected["monetary"].to_numpy())


def test_rfm_parquet_input(orders: Path, tmp_path: Path) -> None:
    pq = tmp_path / "orders.parquet"
    pd.read_csv(orders).to_parquet(pq)
    result = run("rfm", str(pq), "--customer", "client", "--date", "day", "--amount", "total")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rfm", "missing.csv"], "file not found: missing.csv"),
        (["rfm", "{orders}"], "SchemaError: transactions is missing column(s) 'customer_id'"),
        (
            ["rfm", "{bad}", "--customer", "client", "--date", "day", "--amount", "total"],
            "ColumnTypeError: column 'total' of transactions has non-numeric value 'oops'",
        ),
        (
            [
                "rfm",
                "{orders}",
                "--out",
                "x.txt",
                "--customer",
                "client",
                "--date",
                "day",
                "--amount",
                "total",
            ],
            "expected a .csv or .parquet file name",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    orders: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    bad = tmp_path / "bad.csv"
    frame = pd.read_csv(orders)
    frame["total"] = frame["total"].astype(object)
    frame.loc[5, "total"] = "oops"
    frame.to_csv(bad, index=False)
    argv = [a.format(orders=orders, bad=bad) for a in args]
    result = run(*argv, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2() -> None:
    result = run("rfm")
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert run("no-such-command").returncode == 2


@pytest.mark.parametrize("command", ["demo", "rfm"])
def test_help_has_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert "example" in result.stdout


def test_main_in_process_returns_status(orders: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rfm", str(orders), "--customer", "client"]) == 2
    assert "missing column" in capsys.readouterr().err
