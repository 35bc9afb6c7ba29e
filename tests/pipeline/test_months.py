"""Durations in calendar months: StageModel(unit="M") in landing, schedule and simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ConfigError
from crmcore.pipeline import (
    StageModel,
    close_schedule,
    landing_dates,
    simulate_pipeline,
    weighted_pipeline,
)
from helpers import call_unmutated

STAGES = ["prospect", "bid", "negotiation"]
# The brief's funnel: 2 months in prospecting, 1 in bidding, 1 in negotiation.
MONTHS = StageModel.from_conversion_rates(STAGES, [0.5, 0.8, 0.9], [2, 1, 1], unit="M")


def deals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3],
            "stage": STAGES,
            "amount": [500_000.0, 250_000.0, 200_000.0],
        }
    )


def test_model_keeps_its_unit_and_round_trips() -> None:
    assert MONTHS.unit == "M"
    assert MONTHS.days_to_close == (4.0, 2.0, 1.0)
    assert MONTHS.stage_durations == (2.0, 1.0, 1.0)
    assert StageModel.from_dict(MONTHS.to_dict()) == MONTHS
    assert MONTHS.to_dict()["unit"] == "M"
    assert StageModel.from_conversion_rates(["a"], [1.0], [3], unit="m").unit == "M"
    # Old dictionaries (without a unit) are days.
    old = {"stages": ["a"], "win_probabilities": [0.5], "days_to_close": [10.0]}
    assert StageModel.from_dict(old).unit == "D"
    assert StageModel.from_conversion_rates(STAGES, [0.5, 0.8, 0.9], [2, 1, 1]) != MONTHS


@pytest.mark.parametrize("unit", ["W", "days", "", None, 1])
def test_unknown_unit_is_a_config_error(unit: object) -> None:
    with pytest.raises(ConfigError, match="unit"):
        StageModel.from_conversion_rates(["a"], [1.0], [3], unit=unit)  # type: ignore[arg-type]


def test_end_of_january_plus_one_month_is_end_of_february() -> None:
    model = StageModel.from_conversion_rates(["n"], [1.0], [1], unit="M")
    frame = pd.DataFrame({"opportunity_id": [1], "stage": ["n"], "amount": [10.0]})
    for as_of, expected in [
        ("2025-01-31", "2025-02-28"),
        ("2024-01-31", "2024-02-29"),  # leap year
        ("2025-03-31", "2025-04-30"),
        ("2025-01-15 09:30", "2025-02-15 09:30"),
        ("2025-12-31", "2026-01-31"),
    ]:
        got = landing_dates(frame, model, as_of=as_of)["landing_date"].iloc[0]
        assert got == pd.Timestamp(expected), as_of


def test_worked_funnel_in_months() -> None:
    got = call_unmutated(landing_dates, deals(), MONTHS, as_of="2025-01-31")
    assert got["landing_date"].tolist() == [
        pd.Timestamp("2025-05-31"),  # prospect: 4 months
        pd.Timestamp("2025-03-31"),  # bid: 2 months
        pd.Timestamp("2025-02-28"),  # negotiation: 1 month, the end of February
    ]
    table = close_schedule(deals(), MONTHS, as_of="2025-01-31").table
    assert table["expected_amount"].tolist() == [0.0, 180_000.0, 180_000.0, 0.0, 180_000.0]
    # In days (30-day months) the same funnel drifts: 4 x 30 days from 31 January is 31 May,
    # but 2 x 30 is 1 April, a month later than 31 March.
    days = StageModel.from_conversion_rates(STAGES, [0.5, 0.8, 0.9], [60, 30, 30])
    assert landing_dates(deals(), days, as_of="2025-01-31")["landing_date"].iloc[1] == (
        pd.Timestamp("2025-04-01")
    )


def test_fractional_months_take_a_share_of_the_next_month() -> None:
    model = StageModel.from_conversion_rates(["n"], [1.0], [1.5], unit="M")
    frame = pd.DataFrame({"opportunity_id": [1], "stage": ["n"], "amount": [10.0]})
    got = landing_dates(frame, model, as_of="2025-02-01")["landing_date"].iloc[0]
    # 1 February + 1 month = 1 March; + half of March's 31 days = 16 March 12:00.
    assert got == pd.Timestamp("2025-03-16 12:00")


def test_time_zones_add_months_to_local_time() -> None:
    model = StageModel.from_conversion_rates(["n"], [1.0], [1], unit="M")
    frame = pd.DataFrame(
        {
            "opportunity_id": [1],
            "stage": ["n"],
            "amount": [10.0],
            "close_date": pd.Series([pd.NaT], dtype="datetime64[ns, Europe/Paris]"),
        }
    )
    as_of = pd.Timestamp("2025-03-10 09:00", tz="Europe/Paris")  # clocks change on 30 March
    got = landing_dates(frame, model, as_of=as_of, close_date="close_date")["landing_date"]
    assert got.iloc[0] == pd.Timestamp("2025-04-10 09:00", tz="Europe/Paris")


def test_dates_after_2262_and_before_1677() -> None:
    model = StageModel.from_conversion_rates(["n"], [1.0], [13], unit="M")
    frame = pd.DataFrame({"opportunity_id": [1], "stage": ["n"], "amount": [10.0]})
    for as_of, expected in [("2400-01-31", "2401-02-28"), ("1600-01-31", "1601-02-28")]:
        stamp = pd.Timestamp(np.datetime64(as_of, "us"))
        got = landing_dates(frame, model, as_of=stamp)["landing_date"].iloc[0]
        assert got == pd.Timestamp(np.datetime64(expected, "us")), as_of


def test_too_many_months_are_refused() -> None:
    model = StageModel.from_conversion_rates(["n"], [1.0], [4_000_000], unit="M")
    frame = pd.DataFrame({"opportunity_id": [1], "stage": ["n"], "amount": [10.0]})
    with pytest.raises(ConfigError, match="months to close of stage 'n'"):
        landing_dates(frame, model, as_of="2025-01-01")


def test_simulation_fixed_lands_where_the_schedule_does() -> None:
    sure = StageModel.from_conversion_rates(STAGES, [1.0, 1.0, 1.0], [2, 1, 1], unit="M")
    schedule = close_schedule(deals(), sure, as_of="2025-01-31").table["expected_amount"]
    sim = simulate_pipeline(
        deals(), sure, as_of="2025-01-31", n_draws=5, seed=1, duration="fixed"
    ).table
    pd.testing.assert_series_equal(sim["mean"], schedule, check_names=False)


def test_simulated_month_durations_have_the_models_mean() -> None:
    # Exponential months with mean 2, drawn from 1 January: on average a deal lands 2 months
    # on, about 59 days (January and February); the mean landing month is checked through
    # the mean revenue per month against the exponential's monthly shares.
    model = StageModel.from_conversion_rates(["bid"], [1.0], [2], unit="M")
    frame = pd.DataFrame({"opportunity_id": [1], "stage": ["bid"], "amount": [1.0]})
    sim = simulate_pipeline(frame, model, as_of="2025-01-01", n_draws=40_000, seed=3, horizon=6)
    expected = np.diff(1 - np.exp(-np.arange(7) / 2.0))  # month k holds t in [k, k + 1)
    np.testing.assert_allclose(sim.table["mean"].to_numpy(), expected, atol=0.01)


@given(
    as_of=st.datetimes(pd.Timestamp("1900-01-01"), pd.Timestamp("2200-12-31")),
    months=st.lists(st.integers(0, 60), min_size=1, max_size=3),
)
def test_whole_months_are_pandas_calendar_months(as_of: pd.Timestamp, months: list[int]) -> None:
    stages = [f"s{i}" for i in range(len(months))]
    steps = sorted(months, reverse=True)
    model = StageModel(
        stages=stages, win_probabilities=[1.0] * len(steps), days_to_close=steps, unit="M"
    )
    frame = pd.DataFrame(
        {"opportunity_id": range(len(steps)), "stage": stages, "amount": [1.0] * len(steps)}
    )
    got = landing_dates(frame, model, as_of=as_of)["landing_date"].tolist()
    stamp = pd.Timestamp(as_of)
    assert got == [stamp + pd.DateOffset(months=m) for m in steps]


@given(
    as_of=st.datetimes(pd.Timestamp("1900-01-01"), pd.Timestamp("2200-12-31")),
    a=st.floats(0, 120, allow_nan=False),
    b=st.floats(0, 120, allow_nan=False),
)
def test_landing_is_monotone_and_between_whole_months(
    as_of: pd.Timestamp, a: float, b: float
) -> None:
    low, high = sorted([a, b])
    model = StageModel(
        stages=["x", "y"], win_probabilities=[1.0, 1.0], days_to_close=[high, low], unit="M"
    )
    frame = pd.DataFrame({"opportunity_id": [1, 2], "stage": ["x", "y"], "amount": [1.0, 1.0]})
    got = landing_dates(frame, model, as_of=as_of)["landing_date"]
    stamp = pd.Timestamp(as_of)
    assert got.iloc[0] >= got.iloc[1]
    for months, landed in [(high, got.iloc[0]), (low, got.iloc[1])]:
        whole = int(np.floor(months))
        assert stamp + pd.DateOffset(months=whole) <= landed
        assert landed <= stamp + pd.DateOffset(months=whole + 1)


def test_stage_history_refuses_a_month_model() -> None:
    from crmcore.datasets import stage_history

    with pytest.raises(ConfigError, match="unit='D'"):
        stage_history(10, MONTHS)


def test_dask_weighted_pipeline_with_processes() -> None:
    dd = pytest.importorskip("dask.dataframe")
    quick = StageModel.from_conversion_rates(["quote"], [0.3], [7])
    frame = deals().assign(process=["enterprise", "quick", "enterprise"])
    frame.loc[1, "stage"] = "quote"
    models = {"enterprise": MONTHS, "quick": quick}
    lazy = weighted_pipeline(dd.from_pandas(frame, npartitions=2), models)
    got = lazy.compute().sort_index()
    want = weighted_pipeline(frame, models)
    # Dask holds text in its own string dtype; the values are what must agree.
    pd.testing.assert_frame_equal(got, want, check_index_type=False, check_dtype=False)
    assert got["process"].tolist() == ["enterprise", "quick", "enterprise"]
