"""What the commands print: no silent cuts, one number format per column, one period style,
one name per idea (old option spellings still work for a release, with a note)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from crmcore import datasets
from helpers_cli import RATES, STAGES, run


def run_on_terminal(*args: str) -> tuple[int, str]:
    """Run a command with its standard output on a pseudo-terminal, as in an interactive shell."""
    leader, follower = pty.openpty()
    chunks = []
    with subprocess.Popen(
        [sys.executable, "-m", "crmcore", *args], stdout=follower, stderr=subprocess.DEVNULL
    ) as proc:
        os.close(follower)
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        status = proc.wait(timeout=300)
    os.close(leader)
    return status, b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.fixture(scope="module")
def many_deals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("long") / "deals.csv"
    datasets.opportunities(150, seed=7, stages=STAGES.split(",")).to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------------------------
# long tables


def test_long_tables_print_whole_into_a_pipe(many_deals: Path) -> None:
    result = run("funnel", str(many_deals), *RATES)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 + 150
    assert "..." not in result.stdout


def test_long_tables_on_a_terminal_say_how_many_rows_are_hidden(many_deals: Path) -> None:
    status, text = run_on_terminal("funnel", str(many_deals), *RATES)
    assert status == 0, text
    lines = text.splitlines()
    assert len(lines) == 2 + 60 + 1
    assert lines[-1] == (
        "... 90 more rows not shown (--max-rows 0 prints them all, --out FILE writes them)"
    )
    status, text = run_on_terminal("funnel", str(many_deals), *RATES, "--max-rows", "0")
    assert len(text.splitlines()) == 2 + 150


def test_max_rows_cuts_and_says_so_anywhere(many_deals: Path) -> None:
    result = run("funnel", str(many_deals), *RATES, "--max-rows", "5")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 + 5 + 1
    assert lines[-1].startswith("... 145 more rows not shown")
    # a file always gets every row
    out = run("funnel", str(many_deals), *RATES, "--max-rows", "5", "--out", "-")
    assert len(out.stdout.splitlines()) == 1 + 150


# --------------------------------------------------------------------------------------------
# one format per column, periods in one style


def _columns(text: str) -> dict[str, list[str]]:
    lines = text.splitlines()
    header = lines[0].split()
    body = [line.split() for line in lines[2:]]
    return {name: [row[1 + i] for row in body] for i, name in enumerate(header)}


def test_forecast_numbers_one_format_per_column_and_period_labels(many_deals: Path) -> None:
    result = run(
        "forecast", str(many_deals), *RATES, "--as-of", "2025-01-01", "--close-date",
        "close_date", "--period", "Q", "--draws", "500", "--seed", "1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "e+" not in result.stdout
    periods = [line.split()[0] for line in result.stdout.splitlines()[2:]]
    assert periods[:2] == ["2025-Q1", "2025-Q2"]
    columns = _columns(result.stdout)
    for name in ("amount", "expected_amount", "mean", "p10", "p50", "p90"):
        decimals = {len(v.split(".")[1]) if "." in v else 0 for v in columns[name]}
        assert len(decimals) == 1, (name, columns[name])  # one format per column
        big = [v for v in columns[name] if float(v.replace(",", "")) >= 1000]
        assert all("," in v for v in big), name  # thousands separators, as the demo has
    assert all("," not in v for v in columns["count"] if int(v.replace(",", "")) < 1000)


@pytest.mark.parametrize(
    ("args", "labels"),
    [
        (["--period", "M"], ["2025-01", "2025-02"]),
        (["--period", "MS"], ["2025-01", "2025-02"]),
        (["--period", "QS"], ["2025-Q1", "2025-Q2"]),
        (["--period", "W"], ["2025-W01", "2025-W02"]),
    ],
)
def test_forecast_period_accepts_every_alias(
    many_deals: Path, args: list[str], labels: list[str]
) -> None:
    result = run("forecast", str(many_deals), *RATES, "--as-of", "2025-01-01", *args)
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[2:4]] == labels


def test_commission_and_quota_label_periods_the_same_way(files: dict[str, Path]) -> None:
    commission = run(
        "commission", str(files["deals"]), "--status", "status", "--tiers", "0:0.04",
        "--period", "QS",
    )  # fmt: skip
    assert commission.returncode == 0, commission.stderr
    periods = re.findall(r"^\S*\s+(\S+)", commission.stdout, flags=re.MULTILINE)[2:]
    assert set(periods) <= {f"202{y}-Q{q}" for y in (4, 5) for q in range(1, 5)}, periods
    quota = run(
        "quota", "--total", "1000", "--seasonal", "40,60", "--first-period", "2025-Q4",
        "--period", "Q",
    )  # fmt: skip
    assert quota.returncode == 0, quota.stderr
    assert [line.split()[0] for line in quota.stdout.splitlines()[2:]] == ["2025-Q4", "2026-Q1"]
    wide = run(
        "quota", str(files["team"]), "--total", "1000", "--seasonal", "40,60", "--region",
        "region", "--first-period", "2025-Q4", "--period", "Q", "--wide",
    )  # fmt: skip
    assert wide.returncode == 0, wide.stderr
    assert wide.stdout.splitlines()[0].split() == ["2025-Q4", "2026-Q1", "total"]


@pytest.mark.parametrize("period", ["MS", "QS", "W-MON", "YS"])
def test_period_aliases_in_rfm_and_abc(files: dict[str, Path], period: str) -> None:
    rfm = run("rfm", str(files["tx"]), "--period", period, "--max-rows", "1")
    assert rfm.returncode == 0, rfm.stderr
    abc = run("abc", str(files["tx"]), "--xyz", "--period", period, "--max-rows", "1")
    assert abc.returncode == 0, abc.stderr


# --------------------------------------------------------------------------------------------
# old option spellings: same result, a note on stderr


@pytest.mark.parametrize(
    ("old", "new", "note"),
    [
        (
            ["forecast", "{opps}", *RATES, "--as-of", "2025-01-01", "--freq", "QS"],
            ["forecast", "{opps}", *RATES, "--as-of", "2025-01-01", "--period", "QS"],
            "crmcore forecast: note: --freq is deprecated, write --period",
        ),
        (
            ["commission", "{deals}", "--status", "status", "--tiers", "0:0.04", "--freq", "Q",
             "--deal", "opportunity_id"],
            ["commission", "{deals}", "--status", "status", "--tiers", "0:0.04", "--period", "Q",
             "--opportunity", "opportunity_id"],
            (
                "crmcore commission: note: --freq is deprecated, write --period (the old "
                "spelling goes in crmcore 0.3)\ncrmcore commission: note: --deal is deprecated, "
                "write --opportunity"
            ),
        ),
        (
            ["commission", "{deals}", "--status", "status", "--tiers", "0:0.03,1:0.05",
             "--basis", "attainment", "--targets", "{targets}", "--period", "period"],
            ["commission", "{deals}", "--status", "status", "--tiers", "0:0.03,1:0.05",
             "--basis", "attainment", "--targets", "{targets}", "--period-column", "period"],
            "crmcore commission: note: --period is deprecated, write --period-column",
        ),
        (
            ["scorecard", "{kpis}", "--metric", "revenue:1", "--missing", "zero",
             "--period", "period"],
            ["scorecard", "{kpis}", "--metric", "revenue:1", "--missing", "zero",
             "--period-column", "period"],
            "crmcore scorecard: note: --period is deprecated, write --period-column",
        ),
        (
            ["quota", "{team}", "--total", "100", "--seasonal", "50,50", "--first-month",
             "2025-01"],
            ["quota", "{team}", "--total", "100", "--seasonal", "50,50", "--first-period",
             "2025-01"],
            "crmcore quota: note: --first-month is deprecated, write --first-period",
        ),
    ],
)  # fmt: skip
def test_old_option_spellings_work_with_a_note(
    files: dict[str, Path], old: list[str], new: list[str], note: str
) -> None:
    paths = {k: str(v) for k, v in files.items()}
    before = run(*[a.format(**paths) for a in old])
    after = run(*[a.format(**paths) for a in new])
    assert after.returncode == 0, after.stderr
    assert after.stderr == ""
    assert before.returncode == 0, before.stderr
    assert before.stdout == after.stdout
    assert before.stderr == f"{note} (the old spelling goes in crmcore 0.3)\n"


def test_old_spellings_are_not_in_help() -> None:
    text = run("commission", "--help").stdout
    assert "--deal " not in text
    assert "--freq" not in text
    assert "--period-column" in text
    assert "--opportunity" in text


# --------------------------------------------------------------------------------------------
# commission: the library judges status values


def test_commission_status_values_are_judged_not_dropped(
    files: dict[str, Path], tmp_path: Path
) -> None:
    deals = pd.read_csv(files["deals"])
    capital = tmp_path / "deals.csv"
    deals.assign(status=deals["status"].str.capitalize()).to_csv(capital, index=False)
    result = run("commission", str(capital), "--status", "status", "--tiers", "0:0.04")
    assert result.returncode == 2
    assert re.search(
        r"DataError: column 'status' of opportunities has unknown value '(Won|Lost|Open)' at "
        r"row \d+",
        result.stderr,
    ), result.stderr
    fixed = run(
        "commission", str(capital), "--status", "status", "--tiers", "0:0.04", "--won", "Won",
        "--lost", "Lost", "--open-values", "Open",
    )  # fmt: skip
    plain = run("commission", str(files["deals"]), "--status", "status", "--tiers", "0:0.04")
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout == plain.stdout
