"""The command line, run as a subprocess on real files, as users run it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
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


COMMANDS = [
    "demo",
    "rfm",
    "segments",
    "abc",
    "grades",
    "funnel",
    "forecast",
    "quota",
    "scorecard",
    "commission",
]


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


# ---------------------------------------------------------------------------------------------
# every command: files from crmcore.datasets, output checked against the library called directly

STAGES = "prospect,bid,negotiation"
RATES = ["--stages", STAGES, "--rates", "0.5,0.8,0.9", "--durations", "60,30,30"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from crmcore.kpi import kpi_table

    folder = tmp_path_factory.mktemp("cli_files")
    paths = {
        name: folder / f"{name}.csv"
        for name in ("tx", "customers", "opps", "history", "deals", "targets", "team", "kpis")
    }
    datasets.transactions(40, n_transactions=300, seed=4).to_csv(paths["tx"], index=False)
    # Five more customers than buyers: 41..45 have potential but no purchase.
    datasets.customers(45, seed=4).to_csv(paths["customers"], index=False)
    opps = datasets.opportunities(60, seed=1, stages=STAGES.split(","))
    opps.to_csv(paths["opps"], index=False)
    datasets.stage_history(200, seed=1).to_csv(paths["history"], index=False)
    deals = datasets.deals(80, n_reps=4, seed=1)
    deals.to_csv(paths["deals"], index=False)
    targets = datasets.targets(4, n_deals=80, seed=1)
    targets.to_csv(paths["targets"], index=False)
    team = datasets.team(5, seed=1).assign(weight=[1.0, 2.0, 3.0, 4.0, 5.0])
    team.to_csv(paths["team"], index=False)
    kpi_table(deals, targets).reset_index().to_csv(paths["kpis"], index=False)
    return paths


def csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def read_out(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


def assert_same(written: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Compare a table read back from --out with the library's frame (index written as columns)."""
    exp = expected.reset_index() if any(n is not None for n in expected.index.names) else expected
    exp = exp.set_axis([str(c) for c in exp.columns], axis=1)
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


def test_segments_subprocess_matches_library(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.segmentation import (
        RF_GRID_10,
        rfm_scores,
        rfm_segments,
        rfm_summary,
        segment_summary,
    )

    out = tmp_path / "seg.csv"
    result = run("segments", str(files["tx"]), "--map", "grid", "--summary", "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = rfm_summary(csv(files["tx"]))
    segments = rfm_segments(rfm_scores(summary), RF_GRID_10)
    expected = segment_summary(segments.join(summary["monetary"]), RF_GRID_10, value="monetary")
    assert_same(read_out(out), expected)
    assert int(read_out(out)["customers"].sum()) == len(summary)


def test_segments_per_customer_in_process(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.segmentation import rfm_scores, rfm_segments, rfm_summary

    written = cli_frame(tmp_path, "segments", str(files["tx"]), "--as-of", "2024-12-31")
    summary = rfm_summary(csv(files["tx"]), as_of="2024-12-31")
    assert_same(written, summary.join(rfm_segments(rfm_scores(summary))))


def test_segments_rejects_bins_the_map_cannot_read(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, _ = cli("segments", str(files["tx"]), "--bins", "3")
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "ConfigError: --bins 3 does not fit segment map '11'" in err


def test_abc_xyz_subprocess_parquet_matches_library(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.segmentation import abc_xyz

    out = tmp_path / "abc.parquet"
    result = run("abc", str(files["tx"]), "--xyz", "--cutoffs", "0.7,0.9", "--out", str(out))
    assert result.returncode == 0, result.stderr
    expected = abc_xyz(csv(files["tx"]), cutoffs=(0.7, 0.9))
    assert_same(read_out(out), expected)


def test_abc_classes_of_totals_per_customer(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.segmentation import abc_classes

    written = cli_frame(tmp_path, "abc", str(files["tx"]), "--basis", "count")
    totals = csv(files["tx"]).groupby("customer_id")["amount"].sum()
    assert written["customer_id"].tolist() == totals.index.tolist()
    np.testing.assert_allclose(written["total"], totals.to_numpy())
    assert written["abc"].tolist() == abc_classes(totals, basis="count").astype(str).tolist()
    summary = cli_frame(tmp_path, "abc", str(files["tx"]), "--summary")
    assert summary["abc"].tolist() == ["A", "B", "C"]
    assert int(summary["items"].sum()) == len(totals)
    assert summary["share"].sum() == pytest.approx(1.0)
    # the item crossing 80 % is in A: A holds at least 80 % of the value
    assert summary["share"].iloc[0] >= 0.8


def test_grades_subprocess_matches_library(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.segmentation import GradeRules, customer_grades, rfm_summary

    out = tmp_path / "grades.csv"
    result = run(
        "grades",
        str(files["tx"]),
        "--customers",
        str(files["customers"]),
        "--potential-cutoff",
        "0.6",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    people = csv(files["customers"]).set_index("customer_id")
    frame = pd.DataFrame(
        {
            "value": rfm_summary(csv(files["tx"]))["monetary"].reindex(people.index, fill_value=0),
            "potential": people["potential"],
        }
    )
    expected = customer_grades(frame, GradeRules(potential_cutoff=0.6), value="value")
    written = read_out(out)
    assert_same(written, expected)
    # customers without purchases are graded, never dropped; they are never A
    no_buy = written[written["customer_id"] > 40]
    assert len(no_buy) == 5
    assert set(no_buy["grade"]) <= {"B", "C"}


def test_grades_options_rules_file_and_summary(files: dict[str, Path], tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"value_method": "quantile", "value_cutoff": 0.5}))
    by_file = cli_frame(
        tmp_path, "grades", str(files["tx"]), "--customers", str(files["customers"]),
        "--rules", str(rules),
    )  # fmt: skip
    by_options = cli_frame(
        tmp_path, "grades", str(files["tx"]), "--customers", str(files["customers"]),
        "--value-method", "quantile", "--value-cutoff", "0.5",
    )  # fmt: skip
    pd.testing.assert_frame_equal(by_file, by_options)
    # without a customers file nobody has potential: only A and C
    alone = cli_frame(tmp_path, "grades", str(files["tx"]), "--labels", "top,mid,low")
    assert set(alone["grade"]) == {"top", "low"}
    summary = cli_frame(tmp_path, "grades", str(files["tx"]), "--summary")
    assert summary["grade"].tolist() == ["A", "B", "C"]
    assert summary["customers"].tolist()[1] == 0


def test_funnel_subprocess_matches_library(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.pipeline import StageModel, pipeline_by_stage

    out = tmp_path / "funnel.csv"
    result = run("funnel", str(files["opps"]), *RATES, "--by-stage", "--out", str(out))
    assert result.returncode == 0, result.stderr
    model = StageModel.from_conversion_rates(STAGES.split(","), [0.5, 0.8, 0.9], [60, 30, 30])
    assert_same(read_out(out), pipeline_by_stage(csv(files["opps"]), model))


def test_funnel_prints_a_readable_table(files: dict[str, Path]) -> None:
    result = run("funnel", str(files["opps"]), *RATES)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["stage", "amount", "win_probability", "expected_amount"]
    assert lines[1].strip() == "opportunity_id"
    assert len(lines) == 2 + 60
    assert result.stderr == ""


def test_funnel_model_from_probabilities_equals_rates(files: dict[str, Path]) -> None:
    status, by_rates = cli("funnel", str(files["opps"]), *RATES)
    assert status == 0
    status, by_probs = cli(
        "funnel", str(files["opps"]), "--stages", STAGES, "--probabilities", "0.36,0.72,0.9",
        "--days-to-close", "120,60,30",
    )  # fmt: skip
    assert status == 0
    assert by_probs == by_rates


def test_funnel_learns_from_history_and_saves_the_model(
    files: dict[str, Path], tmp_path: Path
) -> None:
    from crmcore.pipeline import StageModel, estimate_stage_model, weighted_pipeline

    saved = tmp_path / "model.json"
    learned = cli_frame(
        tmp_path, "funnel", str(files["opps"]), "--stages", STAGES, "--history",
        str(files["history"]), "--as-of", "2024-12-31", "--smoothing", "1",
        "--save-model", str(saved),
    )  # fmt: skip
    model = estimate_stage_model(
        csv(files["history"]), stages=STAGES.split(","), as_of="2024-12-31", smoothing=1.0
    )
    assert StageModel.from_dict(json.loads(saved.read_text())) == model
    assert_same(learned, weighted_pipeline(csv(files["opps"]), model))
    reused = cli_frame(tmp_path, "funnel", str(files["opps"]), "--model", str(saved))
    pd.testing.assert_frame_equal(reused, learned)


def test_funnel_converts_currencies(tmp_path: Path) -> None:
    deals = pd.DataFrame(
        {
            "opportunity_id": [1, 2],
            "stage": ["bid", "won"],
            "amount": [100.0, 50.0],
            "cur": ["USD", "EUR"],
        }
    )
    path = tmp_path / "fx.csv"
    deals.to_csv(path, index=False)
    written = cli_frame(
        tmp_path, "funnel", str(path), *RATES, "--currency", "cur", "--fx", "USD=0.5,EUR=1",
        "--by-stage",
    )  # fmt: skip
    # bid: 100 USD x 0.5 = 50 EUR, weighted by 0.72 = 36; won: 50 at probability 1
    assert written.set_index("stage")["expected_amount"].to_dict() == {
        "prospect": 0.0, "bid": 36.0, "negotiation": 0.0, "won": 50.0, "lost": 0.0,
    }  # fmt: skip


def test_forecast_subprocess_with_ranges_matches_library(
    files: dict[str, Path], tmp_path: Path
) -> None:
    from crmcore.pipeline import StageModel, close_schedule, simulate_pipeline

    out = tmp_path / "forecast.parquet"
    args = ["--as-of", "2025-01-01", "--close-date", "close_date", "--freq", "QS"]
    result = run(
        "forecast", str(files["opps"]), *RATES, *args, "--draws", "300", "--seed", "5",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    model = StageModel.from_conversion_rates(STAGES.split(","), [0.5, 0.8, 0.9], [60, 30, 30])
    opps = csv(files["opps"])
    kw = {"as_of": "2025-01-01", "close_date": "close_date", "freq": "QS"}
    schedule = close_schedule(opps, model, **kw)
    sim = simulate_pipeline(opps, model, n_draws=300, seed=5, **kw)
    written = read_out(out).set_index("period")
    assert written.index.min() == pd.Timestamp("2025-01-01")
    np.testing.assert_allclose(
        written["expected_amount"].reindex(schedule.index), schedule["expected_amount"]
    )
    for col in ("mean", "p10", "p50", "p90"):
        np.testing.assert_allclose(written[col].reindex(sim.index), sim[col])
    # every period of either table is there; where one has nothing, zeros
    assert set(written.index) == set(schedule.index) | set(sim.index)
    assert written["expected_amount"].sum() == pytest.approx(schedule["expected_amount"].sum())
    assert written["count"].dtype == np.int64


def test_forecast_schedule_only_in_process(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.pipeline import StageModel, close_schedule

    written = cli_frame(
        tmp_path, "forecast", str(files["opps"]), *RATES, "--as-of", "2025-01-01",
        "--overdue", "exclude", "--close-date", "close_date",
    )  # fmt: skip
    model = StageModel.from_conversion_rates(STAGES.split(","), [0.5, 0.8, 0.9], [60, 30, 30])
    expected = close_schedule(
        csv(files["opps"]), model, as_of="2025-01-01", close_date="close_date", overdue="exclude"
    )
    assert_same(written, expected)


def test_quota_subprocess_allocation_matches_library(
    files: dict[str, Path], tmp_path: Path
) -> None:
    from crmcore.quota import allocate

    out = tmp_path / "quota.csv"
    result = run(
        "quota", str(files["team"]), "--total", "1000000.01", "--method", "dhondt",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = allocate(csv(files["team"]), 100_000_001, method="dhondt")
    written = read_out(out)
    assert_same(written.drop(columns="quota"), expected)
    assert int(written["quota_cents"].sum()) == 100_000_001
    np.testing.assert_allclose(written["quota"], written["quota_cents"] / 100)


def test_quota_bounds_seasonal_and_plans(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.quota import allocate, build_plan, seasonal_split

    team = csv(files["team"])
    bounded = cli_frame(tmp_path, "quota", str(files["team"]), "--total", "1000",
                        "--minimum", "150", "--maximum", "260")  # fmt: skip
    expected = allocate(team, 100_000, minimum=15_000, maximum=26_000)
    assert bounded["quota_cents"].tolist() == expected["quota_cents"].tolist()

    season = cli_frame(tmp_path, "quota", "--total", "1000", "--seasonal", "20,25,25,30",
                       "--first-month", "2025-01")  # fmt: skip
    assert season["period"].tolist() == ["2025-01", "2025-02", "2025-03", "2025-04"]
    want = seasonal_split(100_000, [20, 25, 25, 30]).tolist()
    assert season["quota_cents"].tolist() == want

    long = cli_frame(tmp_path, "quota", str(files["team"]), "--total", "1000",
                     "--seasonal", "50,50", "--method", "webster")  # fmt: skip
    plan = build_plan(
        team.assign(_region="all")
        .rename(columns={"region": "r0"})
        .rename(columns={"_region": "region"}),
        100_000,
        distribution=[50, 50],
        method="webster",
    )
    assert long.columns.tolist() == ["person", "month", "quota_cents", "quota"]
    assert long["quota_cents"].tolist() == plan.table["quota_cents"].tolist()

    wide = cli_frame(
        tmp_path, "quota", str(files["team"]), "--total", "1200", "--region", "region",
        "--first-month", "2025-01", "--seasonal", "25,25,25,25", "--wide",
    )  # fmt: skip
    expected_wide = build_plan(
        team, 120_000, distribution=[25] * 4,
        periods=list(pd.period_range("2025-01", periods=4, freq="M")),
    ).pivot("region_person")  # fmt: skip
    assert wide.columns.tolist() == ["region", "person", "2025-01", "2025-02", "2025-03",
                                     "2025-04", "total"]  # fmt: skip
    assert wide["total"].tolist() == expected_wide["total"].tolist()
    assert int(wide["total"].iloc[-1]) == 120_000


def test_quota_ramps_new_people(tmp_path: Path) -> None:
    people = pd.DataFrame(
        {"person": ["old", "new"], "weight": [1.0, 1.0], "start": ["2020-01-01", "2025-02-01"]}
    )
    path = tmp_path / "people.csv"
    people.to_csv(path, index=False)
    long = cli_frame(
        tmp_path, "quota", str(path), "--total", "400", "--first-month", "2025-01",
        "--seasonal", "25,25,25,25", "--start", "start", "--ramp", "0.5,1", "--ramp-excess", "drop",
    )  # fmt: skip
    # 200.00 each = 50.00 a month; "new" carries 0 in January, half in February, then full
    new = long[long["person"] == "new"]["quota"].tolist()
    assert new == [0.0, 25.0, 50.0, 50.0]


def test_scorecard_subprocess_matches_library(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.kpi import Metric, Scorecard, score_scorecard

    out = tmp_path / "scores.csv"
    result = run(
        "scorecard", str(files["kpis"]), "--period", "period", "--missing", "zero",
        "--metric", "attainment:0.5::target:1", "--metric", "win_rate:0.3",
        "--metric", "cycle_days:0.2:lower:percentile", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    card = Scorecard(
        metrics=[
            Metric(column="attainment", weight=0.5, normalisation="target", target=1.0),
            Metric(column="win_rate", weight=0.3),
            Metric(column="cycle_days", weight=0.2, direction="lower", normalisation="percentile"),
        ]
    )
    expected = score_scorecard(csv(files["kpis"]), card, period="period", missing="zero")
    assert_same(read_out(out), expected)


def test_scorecard_config_file_equals_metric_options(
    files: dict[str, Path], tmp_path: Path
) -> None:
    config = tmp_path / "card.json"
    config.write_text(
        json.dumps(
            {
                "metrics": [
                    {"column": "revenue", "weight": 2},
                    {"column": "cycle_days", "weight": 1, "direction": "lower"},
                ],
                "normalise_weights": True,
            }
        )
    )
    args = ["scorecard", str(files["kpis"]), "--period", "period", "--missing", "zero"]
    by_file = cli_frame(tmp_path, *args, "--config", str(config))
    by_options = cli_frame(
        tmp_path, *args, "--metric", "revenue:2", "--metric", "cycle_days:1:lower",
        "--normalise-weights",
    )  # fmt: skip
    pd.testing.assert_frame_equal(by_file, by_options)
    assert by_file["total"].max() <= 1.0


def test_commission_subprocess_matches_library(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.kpi import CommissionPlan, commission_statement

    out = tmp_path / "commission.parquet"
    result = run(
        "commission", str(files["deals"]), "--status", "status",
        "--tiers", "0:0.04,20000:0.06", "--mode", "retroactive", "--freq", "Q",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    deals = csv(files["deals"])
    won = deals[deals["status"] == "won"]
    plan = CommissionPlan(tiers=[(0, 0.04), (20_000, 0.06)], mode="retroactive")
    assert_same(read_out(out), commission_statement(won, plan, freq="Q"))


def test_commission_plan_file_lines_and_targets(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.kpi import CommissionPlan

    plan = CommissionPlan(
        tiers=[(0, 0.03), (1.0, 0.05)], basis="attainment", decelerator=(0.5, 0.5), max_payout=900
    )
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan.to_dict()))
    common = ["commission", str(files["deals"]), "--status", "status",
              "--targets", str(files["targets"])]  # fmt: skip
    by_file = cli_frame(tmp_path, *common, "--plan", str(path))
    by_options = cli_frame(
        tmp_path, *common, "--tiers", "0:0.03,1:0.05", "--basis", "attainment",
        "--decelerator", "0.5:0.5", "--max-payout", "900",
    )  # fmt: skip
    pd.testing.assert_frame_equal(by_file, by_options)
    assert by_file["payout_cents"].max() <= 90_000
    lines = cli_frame(tmp_path, *common, "--plan", str(path), "--lines")
    # the per-deal lines add up exactly to the statement
    assert int(lines["commission_cents"].sum()) == int(by_file["payout_cents"].sum())


# ---------------------------------------------------------------------------------------------
# bad input: exit 2, one line on stderr, no traceback


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
    (["abc", "{tx}", "--amount", "total"], "SchemaError: values is missing column(s) 'total'"),
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
    (["quota", "--total", "100", "--seasonal", "50,40"], "ConfigError: distribution percentages"),
    (["quota", "--total", "100"], "give a people/territories FILE"),
    (["quota", "{team}", "--total", "100", "--seasonal", "50,50", "--minimum", "1"],
     "--minimum/--maximum apply to a plain allocation"),
    (["quota", "{team}", "--total", "100", "--first-month", "soon"],
     "--first-month: 'soon' is not a month"),
    (["quota", "{team}", "--total", "100", "--key", "name", "--weight", "name"],
     "ColumnTypeError"),
    (["commission", "{deals}", "--status", "status", "--tiers", "0:0.04,x:0.06"],
     "ConfigError: tier ('x', '0.06') must hold two numbers"),
    (["commission", "{deals}", "--status", "status", "--tiers", "10:0.04"],
     "ConfigError: the first tier starts at 10.0"),
    (["commission", "{deals}", "--tiers", "0:0.04"], "DataError: column 'closed_at' of deals"),
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
    (["forecast", "{opps}", *RATES, "--as-of", "2025-01-01", "--freq", "fortnight"],
     "ConfigError"),
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
