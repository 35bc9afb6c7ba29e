"""``clean`` run as users run it: a subprocess on an export file."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from crmcore.segmentation import clean_transactions
from helpers_cli import run

EXPORT = (
    "customer_id,date,amount\n"
    ' 00123,05.01.2024,"1.200,50 €"\n'
    "00123,2024年1月9日,(80 €)\n"
    '7,13.01.2024,"12,00 €"\n'
    "8,,5\n"
)


def test_clean_writes_the_rows_and_the_report(tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_text(EXPORT, encoding="utf-8")
    out, report = tmp_path / "clean.csv", tmp_path / "report.csv"
    result = run(
        "clean",
        str(source),
        "--dayfirst",
        "--decimal",
        ",",
        "--refunds",
        "net",
        "--out",
        str(out),
        "--report",
        str(report),
    )
    assert result.returncode == 0, result.stderr
    assert "kept 2 of 4 rows; 2 removed, 6 values changed" in result.stdout
    raw = pd.read_csv(io.StringIO(EXPORT), dtype=str, keep_default_na=False, na_values=[""])
    want, want_report = clean_transactions(raw, dayfirst=True, decimal=",", refunds="net")
    got = pd.read_csv(out, dtype={"customer_id": str})
    assert got["customer_id"].tolist() == ["00123", "7"]  # ids read as text, spaces removed
    assert got["amount"].tolist() == want["amount"].tolist() == [1120.5, 12.0]
    assert pd.to_datetime(got["date"]).tolist() == want["date"].tolist()
    written = pd.read_csv(report, dtype=str)
    assert written["reason"].tolist() == want_report["reason"].tolist()
    # row 0: id, date, amount read, then reduced by the refund of row 1; row 2: date, amount
    assert written["row"].tolist() == ["0"] * 4 + ["1", "2", "2", "3"]
    assert written["action"].tolist() == ["changed"] * 4 + ["removed"] + ["changed"] * 2 + [
        "removed"
    ]


def test_clean_from_stdin_to_stdout_and_its_one_line_errors(tmp_path: Path) -> None:
    result = run("clean", "-", "--dayfirst", "--decimal", ",", "--out", "-")
    assert result.returncode == 2  # nothing on standard input
    source = tmp_path / "export.csv"
    source.write_text(EXPORT, encoding="utf-8")
    result = run("clean", str(source), "--decimal", ",", "--out", "-")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "date '05.01.2024' at row 0" in result.stderr
    result = run("clean", str(source), "--monthfirst", "--decimal", ",", "--out", "-")
    assert result.returncode == 0, result.stderr
    got = pd.read_csv(io.StringIO(result.stdout))
    assert got["date"].tolist() == ["2024-05-01", "2024-01-09"]  # 13.01 is no month-first date
    assert "kept 2 of 4 rows" in result.stderr
