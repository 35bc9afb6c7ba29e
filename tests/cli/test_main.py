"""The command line as a whole (crmcore.cli.main): help, exit statuses, one-line errors."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from crmcore.cli import main
from helpers_cli import COMMANDS, RATES, STAGES, cli, run


def test_usage_errors_exit_2() -> None:
    result = run("rfm")
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert run("no-such-command").returncode == 2


def test_help_has_an_example_as_a_subprocess() -> None:
    result = run("segments", "--help")
    assert result.returncode == 0
    assert "example" in result.stdout
    assert "python -m crmcore segments " in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "example" in text
    assert f"python -m crmcore {command}" in text.split("example")[-1]


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in COMMANDS:
        assert command in text


def test_main_in_process_returns_status(orders: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rfm", str(orders), "--customer", "client"]) == 2
    assert "missing column" in capsys.readouterr().err


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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["funnel", "{opps}", "--stages", "prospect,bid", "--rates", "0.5,0.8",
             "--durations", "60,30"],
            "DataError: column 'stage' of opportunities has unknown stage 'negotiation'",
        ),
        (
            ["scorecard", "{kpis}", "--metric", "revenue"],
            "--metric 'revenue': expected column:weight",
        ),
        (
            ["quota", "{zero}", "--total", "100"],
            "ConfigError: column 'weight' of frame is all zero",
        ),
    ],
)  # fmt: skip
def test_bad_input_subprocess(
    files: dict[str, Path], tmp_path: Path, args: list[str], message: str
) -> None:
    zero = tmp_path / "zero.csv"
    pd.DataFrame({"person": ["a", "b"], "weight": [0, 0]}).to_csv(zero, index=False)
    argv = [a.format(zero=zero, **{k: str(v) for k, v in files.items()}) for a in args]
    result = run(*argv)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"crmcore {args[0]}: error: ")
    assert message in lines[0]
    assert result.stdout == ""


BAD = [
    # missing columns
    (["segments", "{tx}", "--customer", "client"], "SchemaError: transactions is missing column"),
    (["abc", "{tx}", "--amount", "total"], "transactions is missing column(s) 'total'"),
    (["grades", "{tx}", "--customers", "{tx}"], "SchemaError: customers is missing column"),
    (["commission", "{deals}", "--status", "state", "--tiers", "0:0.1"], "missing column"),
    (["scorecard", "{kpis}", "--metric", "calls:1"], "SchemaError"),
    # bad numbers and option texts
    (["abc", "{tx}", "--cutoffs", "0.8,x"], "--cutoffs: 'x' is not a number"),
    (["abc", "{tx}", "--cutoffs", "0.95,0.8"], "ConfigError"),
    (["funnel", "{opps}", "--stages", "a,b", "--rates", "0.5,half", "--durations", "1,1"],
     "--rates: 'half' is not a number"),
    (["funnel", "{opps}", "--stages", "a,b", "--rates", "0.5,1.5", "--durations", "1,1"],
     "ConfigError: conversion rate of stage 'b' == 1.5, must be in [0, 1]"),
    (["quota", "{team}", "--total", "lots"], "--total: 'lots' is not a number"),
    (["quota", "{team}", "--total", "-5"], "ConfigError: total == -500"),
    (["quota", "--total", "100", "--seasonal", "50,40"], "ConfigError: distribution sums to 90"),
    (["quota", "--total", "100"], "give a people/territories FILE"),
    (["quota", "{team}", "--total", "100", "--seasonal", "50,50", "--minimum", "1"],
     "--minimum/--maximum apply to a plain allocation"),
    (["quota", "{team}", "--total", "100", "--first-period", "soon"],
     "--first-period: 'soon' is not a period"),
    (["quota", "{team}", "--total", "100", "--key", "name", "--weight", "name"],
     "ColumnTypeError"),
    (["commission", "{deals}", "--status", "status", "--tiers", "0:0.04,x:0.06"],
     "ConfigError: tier ('x', '0.06') must hold two numbers"),
    (["commission", "{deals}", "--status", "status", "--tiers", "10:0.04"],
     "ConfigError: the first tier starts at 10.0"),
    (
        ["commission", "{deals}", "--tiers", "0:0.04"],
        "DataError: column 'closed_at' of opportunities",
    ),
    (["commission", "{deals}"], "give the plan with --tiers"),
    # unknown stage, model problems
    (["forecast", "{opps}", "--as-of", "2025-01-01", "--model", "{nomodel}"],
     "stage model file not found"),
    (["funnel", "{opps}", "--model", "{broken}"], "could not read stage model"),
    (["funnel", "{opps}", "--model", "{notamodel}"], "ConfigError: stage model notamodel.json"),
    (["funnel", "{opps}", "--model", "{listmodel}"], "must hold a JSON object, got list"),
    (["commission", "{deals}", "--plan", "{notamodel}"], "ConfigError"),
    (["funnel", "{opps}"], "give the stage model"),
    (["funnel", "{opps}", "--stages", STAGES, "--rates", "0.5,0.8,0.9"], "--rates needs"),
    (["funnel", "{opps}", "--stages", STAGES, "--probabilities", "0.2,0.5,0.9",
      "--durations", "1,1,1"], "--probabilities needs --days-to-close"),
    (["funnel", "{opps}", "--stages", STAGES], "--stages needs --rates"),
    (["funnel", "{opps}", "--stages", "prospect,demo", "--history", "{history}"], "DataError"),
    (["forecast", "{opps}", *RATES, "--as-of", "2025-01-01", "--period", "fortnight"],
     "ConfigError: --period fortnight is not a period"),
    # weights all zero, bad metric specs
    (["scorecard", "{kpis}", "--metric", "revenue:0"], "weights are all zero"),
    (["scorecard", "{kpis}", "--metric", "revenue:x"], "weight 'x' is not a number"),
    (["scorecard", "{kpis}", "--metric", ":1"], "expected column:weight"),
    (["scorecard", "{kpis}", "--metric", "revenue:1:up"], "ConfigError: metric 'revenue'"),
    (["scorecard", "{kpis}", "--metric", "revenue:1:higher:target"],
     "ConfigError: metric 'revenue': normalisation 'target' needs target > 0"),
    (["scorecard", "{kpis}", "--metric", "revenue:1:higher:minmax:5:9"], "expected column:weight"),
    (["scorecard", "{kpis}", "--metric", "revenue:0.5"], "weights sum to 0.5"),
    (["scorecard", "{kpis}"], "give the metrics with --metric"),
    (["segments", "{tx}", "--out", "x.xlsx"], "expected a .csv or .parquet file name"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a[:3]) for a, _ in BAD])
def test_bad_input_in_process(
    files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "notamodel.json").write_text('{"stages": ["a"]}')
    paths = {k: str(v) for k, v in files.items()}
    (tmp_path / "listmodel.json").write_text("[1, 2]")
    extra = {name: f"{name}.json" for name in ("nomodel", "broken", "notamodel", "listmodel")}
    argv = [a.format(**paths, **extra) for a in args]
    status, printed = cli(*argv)
    assert status == 2
    assert printed == ""
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"crmcore {args[0]}: error: ")
    assert message in err
    assert "Traceback" not in err


def test_unexpected_errors_are_one_line_with_status_1(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import crmcore.cli.segmentation as cli_module

    def boom(*args: object, **kwargs: object) -> pd.DataFrame:
        raise RuntimeError("something broke\nsecond line")

    monkeypatch.setattr(cli_module, "read_table", boom)
    monkeypatch.delenv("CRMCORE_TRACEBACK", raising=False)
    status, _ = cli("abc", str(files["tx"]))
    assert status == 1
    err = capsys.readouterr().err
    assert err == (
        "crmcore abc: unexpected error: RuntimeError: something broke "
        "(please report; CRMCORE_TRACEBACK=1 shows where)\n"
    )
    monkeypatch.setenv("CRMCORE_TRACEBACK", "1")
    with pytest.raises(RuntimeError):
        cli("abc", str(files["tx"]))


def test_a_closed_pipe_stops_quietly(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    assert main(["abc", str(files["tx"])], stdout=ClosedPipe()) == 1
    assert capsys.readouterr().err == ""
