"""The ``scorecard`` and ``commission`` commands (crmcore.cli.kpi)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from helpers_cli import assert_same, cli_frame, csv, read_out, run


def test_scorecard_subprocess_matches_library(files: dict[str, Path], tmp_path: Path) -> None:
    from crmcore.kpi import Metric, Scorecard, score_scorecard

    out = tmp_path / "scores.csv"
    result = run(
        "scorecard", str(files["kpis"]), "--period-column", "period", "--missing", "zero",
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
    kpis = csv(files["kpis"], ids=["person", "period"])
    expected = score_scorecard(kpis, card, period_column="period", missing="zero")
    assert_same(read_out(out, ids=["person", "period"]), expected)


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
    args = ["scorecard", str(files["kpis"]), "--period-column", "period", "--missing", "zero"]
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
        "--tiers", "0:0.04,20000:0.06", "--mode", "retroactive", "--period", "Q",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    deals = csv(files["deals"], ids=["person", "opportunity_id"])
    won = deals[deals["status"] == "won"]
    plan = CommissionPlan(tiers=[(0, 0.04), (20_000, 0.06)], mode="retroactive")
    assert_same(read_out(out), commission_statement(won, plan, period="Q"), period="Q")


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
