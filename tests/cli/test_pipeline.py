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
