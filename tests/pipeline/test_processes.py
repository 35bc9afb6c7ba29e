"""Several sales processes at once: a process column and a mapping process -> stage model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from crmcore.errors import ConfigError, DataError, InputTypeError, SchemaError
from crmcore.pipeline import (
    StageModel,
    close_schedule,
    landing_dates,
    pipeline_by_stage,
    simulate_pipeline,
    weighted_pipeline,
)
from helpers import call_unmutated
from strategies_pipeline import AS_OF, process_pipelines

ENTERPRISE = StageModel.from_conversion_rates(
    ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [2, 1, 1], unit="M"
)
QUICK = StageModel.from_conversion_rates(["prospect", "quote"], [0.5, 0.6], [7, 7])
MODELS = {"enterprise": ENTERPRISE, "quick": QUICK}


def worked() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4, 5],
            "process": ["enterprise", "enterprise", "quick", "quick", "enterprise"],
            "stage": ["prospect", "negotiation", "prospect", "quote", "won"],
            "amount": [100_000.0, 50_000.0, 1_000.0, 2_000.0, 7_000.0],
        },
        index=list("abcde"),
    )


def test_each_deal_is_weighed_by_its_own_process() -> None:
    got = call_unmutated(weighted_pipeline, worked(), MODELS)
    # "prospect" is 0.36 in the enterprise funnel and 0.3 in the quick one.
    assert got["process"].tolist() == ["enterprise", "enterprise", "quick", "quick", "enterprise"]
    assert got["win_probability"].tolist() == pytest.approx([0.36, 0.9, 0.3, 0.6, 1.0])
    assert got["expected_amount"].tolist() == [36_000.0, 45_000.0, 300.0, 1_200.0, 7_000.0]


def test_each_deal_lands_by_its_own_process_and_unit() -> None:
    got = landing_dates(worked(), MODELS, as_of="2025-01-31")
    assert got["landing_date"].tolist() == [
        pd.Timestamp("2025-05-31"),  # enterprise prospect: 4 calendar months
        pd.Timestamp("2025-02-28"),  # enterprise negotiation: 1 month
        pd.Timestamp("2025-02-14"),  # quick prospect: 14 days
        pd.Timestamp("2025-02-07"),  # quick quote: 7 days
        pd.Timestamp("2025-01-31"),  # won, no close date: as_of
    ]
    schedule = close_schedule(worked(), MODELS, as_of="2025-01-31")
    assert schedule.table["expected_amount"].tolist() == [7_000.0, 46_500.0, 0.0, 0.0, 36_000.0]


def test_model_values_may_be_dicts() -> None:
    as_dicts = {name: model.to_dict() for name, model in MODELS.items()}
    pd.testing.assert_frame_equal(
        weighted_pipeline(worked(), as_dicts), weighted_pipeline(worked(), MODELS)
    )


def test_single_model_ignores_the_process_column() -> None:
    frame = worked().drop(columns="process").iloc[:2]
    got = weighted_pipeline(frame, ENTERPRISE)
    assert "process" not in got.columns


def test_unknown_process_names_row_label_and_value() -> None:
    frame = worked()
    frame.loc["d", "process"] = "retail"
    with pytest.raises(DataError, match=r"unknown process 'retail' at row 'd'") as info:
        weighted_pipeline(frame, MODELS)
    assert info.value.row == "d"
    assert info.value.value == "retail"
    frame.loc["d", "process"] = None
    with pytest.raises(DataError, match="process"):
        close_schedule(frame, MODELS, as_of="2025-01-31")


def test_stage_unknown_to_its_process_names_the_process() -> None:
    frame = worked()
    frame.loc["b", "stage"] = "quote"  # a quick stage, on an enterprise deal
    with pytest.raises(
        DataError, match=r"unknown stage 'quote' at row 'b' .*of process 'enterprise'"
    ):
        simulate_pipeline(frame, MODELS, as_of="2025-01-31", n_draws=10, seed=1)


@pytest.mark.parametrize(
    ("model", "error", "match"),
    [
        ({}, ConfigError, "empty mapping"),
        ({"quick": "fast"}, ConfigError, r"model\['quick'\] must be a StageModel"),
        ({"quick": {"stages": ["a"]}}, ConfigError, "missing"),
    ],
)
def test_bad_mappings(model: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        weighted_pipeline(worked(), model)


def test_missing_process_column_and_single_model_functions() -> None:
    with pytest.raises(SchemaError, match="kind"):
        weighted_pipeline(worked(), MODELS, process="kind")
    with pytest.raises(ConfigError, match="StageModel"):
        pipeline_by_stage(worked(), MODELS)  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match="mapping"):
        simulate_pipeline(worked(), [ENTERPRISE], as_of="2025-01-31")  # type: ignore[arg-type]


# --- properties: one call equals the per-process calls combined --------------------------------


def _parts(
    frame: pd.DataFrame, models: dict[str, StageModel]
) -> list[tuple[StageModel, pd.DataFrame]]:
    return [(models[name], part) for name, part in frame.groupby("process") if len(part)]


@given(data=process_pipelines())
def test_weighted_pipeline_is_the_per_process_calls_together(
    data: tuple[dict[str, StageModel], pd.DataFrame],
) -> None:
    models, frame = data
    together = call_unmutated(weighted_pipeline, frame, models)
    parts = [weighted_pipeline(part, model) for model, part in _parts(frame, models)]
    combined = pd.concat(parts).sort_index()
    pd.testing.assert_frame_equal(together.drop(columns="process"), combined)


@given(data=process_pipelines())
def test_close_schedule_is_the_per_process_schedules_summed(
    data: tuple[dict[str, StageModel], pd.DataFrame],
) -> None:
    models, frame = data
    options: dict[str, Any] = {"as_of": AS_OF, "close_date": "close_date", "horizon": 14}
    together = call_unmutated(close_schedule, frame, models, **options)
    parts = [close_schedule(part, model, **options) for model, part in _parts(frame, models)]
    summed = sum(p.table for p in parts)
    assert isinstance(summed, pd.DataFrame)
    for column in ("count", "overdue"):
        assert together.table[column].tolist() == summed[column].tolist()
    for column in ("amount", "expected_amount"):
        np.testing.assert_allclose(together.table[column], summed[column], rtol=1e-12, atol=1e-6)
    for field in ("later_count", "overdue", "excluded_lost", "excluded_won_before", "deals"):
        assert getattr(together, field) == sum(getattr(p, field) for p in parts)
    np.testing.assert_allclose(
        together.later_expected_amount,
        sum(p.later_expected_amount for p in parts),
        rtol=1e-12,
        atol=1e-6,
    )


@given(data=process_pipelines(sure=True))
@settings(max_examples=40)
def test_sure_simulation_is_the_per_process_simulations_summed(
    data: tuple[dict[str, StageModel], pd.DataFrame],
) -> None:
    # With every probability 0 or 1 and fixed durations each draw is the schedule, so the
    # per-period revenue of one call is the sum of the per-process calls.
    models, frame = data
    options: dict[str, Any] = {
        "as_of": AS_OF,
        "close_date": "close_date",
        "horizon": 14,
        "duration": "fixed",
        "n_draws": 3,
        "seed": 5,
    }
    together = simulate_pipeline(frame, models, **options)
    parts = [simulate_pipeline(part, model, **options) for model, part in _parts(frame, models)]
    summed = sum(p.table["mean"] for p in parts)
    np.testing.assert_allclose(together.table["mean"], summed, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(
        together.total.mean, sum(p.total.mean for p in parts), rtol=1e-12, atol=1e-6
    )
    schedule = close_schedule(frame, models, as_of=AS_OF, close_date="close_date", horizon=14)
    np.testing.assert_allclose(
        together.table["mean"], schedule.table["expected_amount"], rtol=1e-12, atol=1e-6
    )
