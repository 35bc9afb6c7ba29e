"""The ``funnel`` and ``forecast`` commands (crmcore.cli.pipeline)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers_cli import RATES, STAGES, assert_same, cli, cli_frame, csv, read_out, run


def test_funnel_subprocess_matches_library(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.pipeline import StageModel, pipeline_by_stage

    out = tmp_path / "funnel.csv"
    result = run("funnel", str(files["opps"]), *RATES, "--by-stage", "--out", str(out))
    assert result.returncode == 0, result.stderr
    model = StageModel.from_conversion_rates(STAGES.split(","), [0.5, 0.8, 0.9], [60, 30, 30])
    opps = csv(files["opps"], ids=["opportunity_id"])
    assert_same(read_out(out), pipeline_by_stage(opps, model))


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
    history = csv(files["history"], ids=["opportunity_id"])
    model = estimate_stage_model(
        history, stages=STAGES.split(","), as_of="2024-12-31", smoothing=1.0
    )
    assert StageModel.from_dict(json.loads(saved.read_text())) == model
    assert_same(learned, weighted_pipeline(csv(files["opps"], ids=["opportunity_id"]), model))
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
    args = ["--as-of", "2025-01-01", "--close-date", "close_date", "--period", "Q"]
    result = run(
        "forecast", str(files["opps"]), *RATES, *args, "--draws", "300", "--seed", "5",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    model = StageModel.from_conversion_rates(STAGES.split(","), [0.5, 0.8, 0.9], [60, 30, 30])
    opps = csv(files["opps"], ids=["opportunity_id"])
    kw = {"as_of": "2025-01-01", "close_date": "close_date", "period": "QS"}
    schedule = close_schedule(opps, model, **kw).table
    sim = simulate_pipeline(opps, model, n_draws=300, seed=5, **kw).table
    written = read_out(out).set_index("period")
    assert written.index.min() == "2025-Q1"  # periods are labelled as everywhere in the shell
    written.index = pd.PeriodIndex(written.index, freq="Q").to_timestamp().rename("period")
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
        csv(files["opps"], ids=["opportunity_id"]),
        model,
        as_of="2025-01-01",
        close_date="close_date",
        overdue="exclude",
    ).table
    assert_same(written, expected, period="M")


def test_forecast_horizon_cuts_the_schedule_and_reports_the_rest(
    files: dict[str, Path], tmp_path: Path
) -> None:
    args = ["forecast", str(files["opps"]), *RATES, "--as-of", "2025-01-01",
            "--close-date", "close_date", "--draws", "200", "--seed", "3"]  # fmt: skip
    whole = cli_frame(tmp_path, *args)
    cut = cli_frame(tmp_path, *args, "--horizon", "2")
    assert cut["period"].tolist() == ["2025-01", "2025-02", "after 2025-02"]
    # nothing is dropped: the last row holds every deal and amount landing after the horizon
    for column in ("count", "amount", "expected_amount"):
        assert cut[column].sum() == pytest.approx(whole[column].sum())
    pd.testing.assert_frame_equal(cut.iloc[:2], whole.iloc[:2], check_exact=False)
    assert cut["mean"].sum() == pytest.approx(whole["mean"].sum(), rel=0.05)


def test_forecast_horizon_must_be_a_positive_number(files: dict[str, Path]) -> None:
    result = run("forecast", str(files["opps"]), *RATES, "--as-of", "2025-01-01",
                 "--horizon", "0")  # fmt: skip
    assert result.returncode == 2
    assert "--horizon: '0': the horizon is at least 1 period" in result.stderr


# --- durations in calendar months (issue 13) --------------------------------------------------


def test_durations_in_months_land_on_calendar_months(
    files: dict[str, Path], tmp_path: Path
) -> None:
    from crmcore.pipeline import StageModel, close_schedule

    months = ["--stages", STAGES, "--rates", "0.5,0.8,0.9", "--durations", "2M,1M,1M"]
    written = cli_frame(tmp_path, "forecast", str(files["opps"]), "--as-of", "2025-01-31", *months)
    model = StageModel.from_conversion_rates(
        STAGES.split(","), [0.5, 0.8, 0.9], [2, 1, 1], unit="M"
    )
    expected = close_schedule(csv(files["opps"]), model, as_of="2025-01-31", period="MS").table
    assert_same(written, expected)


def test_durations_accept_days_with_or_without_unit(files: dict[str, Path]) -> None:
    status, plain = cli("funnel", str(files["opps"]), *RATES)
    assert status == 0
    with_unit = ["--stages", STAGES, "--rates", "0.5,0.8,0.9", "--durations", "60D,30d,30D"]
    assert cli("funnel", str(files["opps"]), *with_unit) == (0, plain)
    status, by_months = cli(
        "funnel", str(files["opps"]), "--stages", STAGES, "--probabilities", "0.36,0.72,0.9",
        "--days-to-close", "4M,2M,1M",
    )  # fmt: skip
    assert status == 0
    assert by_months == plain  # the weights do not depend on the unit


@pytest.mark.parametrize(
    ("value", "message"),
    [("2M,30,30", "mixes days and months"), ("2Y,1,1", "not a duration"), ("M,1,1", "not a")],
)
def test_bad_durations_are_one_line_errors(
    files: dict[str, Path], value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--stages", STAGES, "--rates", "0.5,0.8,0.9", "--durations", value]
    status, _ = cli("funnel", str(files["opps"]), *args)
    assert status != 0
    err = capsys.readouterr().err
    assert message in err
    assert "--durations" in err
    assert len(err.strip().splitlines()) == 1


# --- several sales processes (issue 13) -------------------------------------------------------


def test_process_column_with_a_model_per_process(tmp_path: Path) -> None:
    from crmcore.pipeline import StageModel, close_schedule, weighted_pipeline

    models = {
        "enterprise": StageModel.from_conversion_rates(
            ["prospect", "bid"], [0.5, 0.8], [2, 1], unit="M"
        ),
        "quick": StageModel.from_conversion_rates(["prospect", "quote"], [0.5, 0.6], [7, 7]),
    }
    deals = pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4],
            "kind": ["enterprise", "enterprise", "quick", "quick"],
            "stage": ["prospect", "bid", "prospect", "quote"],
            "amount": [100.0, 200.0, 300.0, 400.0],
        }
    )
    path = tmp_path / "deals.csv"
    deals.to_csv(path, index=False)
    model_file = tmp_path / "models.json"
    model_file.write_text(json.dumps({k: m.to_dict() for k, m in models.items()}))
    weighed = cli_frame(
        tmp_path, "funnel", str(path), "--process", "kind", "--model", str(model_file)
    )
    assert_same(weighed, weighted_pipeline(deals, models, process="kind"))
    saved = tmp_path / "saved.json"
    scheduled = cli_frame(
        tmp_path, "forecast", str(path), "--as-of", "2025-01-31", "--process", "kind",
        "--model", str(model_file), "--save-model", str(saved),
    )  # fmt: skip
    expected = close_schedule(deals, models, process="kind", as_of="2025-01-31", period="MS")
    assert_same(scheduled, expected.table)
    assert json.loads(saved.read_text()) == json.loads(model_file.read_text())


def test_process_needs_a_mapping_file(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.pipeline import StageModel

    single = tmp_path / "one.json"
    single.write_text(json.dumps(StageModel.from_conversion_rates(["a"], [1.0], [1]).to_dict()))
    assert cli("funnel", str(files["opps"]), "--process", "kind")[0] != 0
    assert cli("funnel", str(files["opps"]), "--process", "kind", "--model", str(single))[0] != 0


# --- leads (issue 13) -------------------------------------------------------------------------


def test_leads_fit_score_explain_and_calibrate(tmp_path: Path) -> None:
    from crmcore.datasets import lead_history
    from crmcore.pipeline import (
        LeadScoring,
        explain_leads,
        fit_lead_scoring,
        lead_score_calibration,
        score_leads,
    )

    leads = lead_history(600, seed=5)
    closed = leads[leads["status"] != "open"]
    open_leads = leads[leads["status"] == "open"]
    paths = {name: tmp_path / f"{name}.csv" for name in ("all", "closed", "open")}
    leads.to_csv(paths["all"], index=False)
    closed.to_csv(paths["closed"], index=False)
    open_leads.to_csv(paths["open"], index=False)
    fit = ["--features", "source,size,industry", "--team", "team"]
    model = fit_lead_scoring(
        csv(paths["closed"]), features=["source", "size", "industry"], team="team"
    )
    saved = tmp_path / "scoring.json"
    table = cli_frame(tmp_path, "leads", str(paths["closed"]), *fit, "--save-model", str(saved))
    assert len(table) == len(model.frequencies)
    assert LeadScoring.from_dict(json.loads(saved.read_text())) == model
    scored = cli_frame(tmp_path, "leads", "--model", str(saved), "--score", str(paths["open"]))
    want = score_leads(model, csv(paths["open"]).set_index("opportunity_id"))
    assert_same(scored, want.to_frame())
    explained = cli_frame(
        tmp_path, "leads", "--model", str(saved), "--score", str(paths["open"]), "--explain"
    )
    assert_same(explained, explain_leads(model, csv(paths["open"]).set_index("opportunity_id")))
    calibrated = cli_frame(
        tmp_path, "leads", "--model", str(saved), "--calibration", str(paths["closed"]),
        "--bins", "4",
    )  # fmt: skip
    assert_same(calibrated, lead_score_calibration(model, csv(paths["closed"]), n_bins=4))
    # A full export has open deals: refused, unless --closed-only says to leave them out.
    status, _ = cli("leads", str(paths["all"]), *fit)
    assert status != 0
    status, text = cli("leads", str(paths["all"]), *fit, "--closed-only")
    assert status == 0
    assert f"left out {len(open_leads)} deals neither won nor lost" in text


def test_leads_needs_a_history_or_a_model(capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = cli("leads", "--score", "x.csv")
    assert status != 0
    assert "--features" in capsys.readouterr().err
