"""Extreme inputs across the pipeline functions (issue 14): far dates, Arrow dates, row labels.

The Gregorian calendar repeats every 400 years (146 097 days, a whole number of weeks), so a
pipeline moved by a multiple of 400 years must give the same schedule, landing dates and
learned model, with only the years changed. That is how results for dates before 1677 and
after 2262 (beyond pandas' nanosecond range, fine with ``s``/``us`` units) are checked against
the same deals in 2025.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import DataError
from crmcore.pipeline import (
    StageModel,
    close_schedule,
    estimate_stage_model,
    forecast_rollup,
    funnel_conversion,
    landing_dates,
    pipeline_by_stage,
    pipeline_coverage,
    pipeline_waterfall,
    sales_velocity,
    simulate_pipeline,
    split_credit,
    weighted_pipeline,
)
from strategies_pipeline import AS_OF, models_and_deals

MODEL = StageModel.from_conversion_rates(
    ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [60, 30, 30]
)


def _deals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4, 5],
            "stage": ["prospect", "bid", "won", "negotiation", "lost"],
            "amount": [10.0, 20.0, 30.0, 40.0, 50.0],
            "close_date": pd.to_datetime(
                ["2025-03-01", None, "2025-01-20", "2024-12-01", "2024-11-11"]
            ),
            "created_at": pd.to_datetime(["2024-10-01"] * 5),
            "closed_at": pd.to_datetime([None, None, "2025-01-20", None, "2024-11-11"]),
            "forecast_category": ["Pipeline", "Commit", "Closed", "Best Case", "Omitted"],
        }
    )


def _shift(frame: pd.DataFrame, years: int, unit: str) -> pd.DataFrame:
    """The same frame ``years`` (a multiple of 400) later, its date columns in ``unit``."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            values = out[col].to_numpy().astype(f"datetime64[{unit}]")
            out[col] = values + np.timedelta64(146_097 * years // 400, "D")
    return out


def _when(text: str, years: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(text, "s") + np.timedelta64(146_097 * years // 400, "D"))


def _unshift(index: pd.Index, years: int) -> list[str]:
    days = np.timedelta64(146_097 * years // 400, "D")
    values = pd.DatetimeIndex(index).to_numpy().astype("datetime64[s]") - days
    return [str(v)[:10] for v in values]


SHIFTS = [(-800, "s"), (-400, "us"), (400, "us"), (800, "s")]


@pytest.mark.parametrize(("years", "unit"), SHIFTS)
def test_far_dates_give_the_same_schedule(years: int, unit: str) -> None:
    kw: dict[str, Any] = {"close_date": "close_date"}
    base = close_schedule(_deals(), MODEL, as_of="2025-01-15", **kw)
    far = close_schedule(
        _shift(_deals(), years, unit), MODEL, as_of=_when("2025-01-15", years), **kw
    )
    assert _unshift(far.table.index, years) == _unshift(base.table.index, 0)
    np.testing.assert_array_equal(far.table.to_numpy(), base.table.to_numpy())
    assert (far.overdue, far.excluded_won_before, far.excluded_lost) == (1, 0, 1)
    land = landing_dates(
        _shift(_deals(), years, unit), MODEL, as_of=_when("2025-01-15", years), **kw
    )
    near = landing_dates(_deals(), MODEL, as_of="2025-01-15", **kw)
    assert _unshift(pd.Index(land["landing_date"]), years) == _unshift(
        pd.Index(near["landing_date"]), 0
    )
    pd.testing.assert_frame_equal(
        land.drop(columns="landing_date"), near.drop(columns="landing_date")
    )


@pytest.mark.parametrize(("years", "unit"), SHIFTS)
def test_far_dates_give_the_same_simulation(years: int, unit: str) -> None:
    kw: dict[str, Any] = {"close_date": "close_date", "n_draws": 300, "seed": 4, "horizon": 4}
    base = simulate_pipeline(_deals(), MODEL, as_of="2025-01-15", **kw)
    far = simulate_pipeline(
        _shift(_deals(), years, unit), MODEL, as_of=_when("2025-01-15", years), **kw
    )
    np.testing.assert_array_equal(far.table.to_numpy(), base.table.to_numpy())
    assert _unshift(far.table.index, years) == _unshift(base.table.index, 0)
    assert (far.total, far.later) == (base.total, base.later)


@pytest.mark.parametrize(("years", "unit"), SHIFTS)
def test_far_dates_give_the_same_learned_model(years: int, unit: str) -> None:
    log = pd.DataFrame(
        {
            "opportunity_id": [1, 1, 1, 2, 2, 3, 3, 4],
            "stage": ["lead", "demo", "won", "lead", "lost", "lead", "demo", "lead"],
            "entered_at": pd.to_datetime(
                ["2024-01-01", "2024-01-11", "2024-02-01", "2024-01-05", "2024-01-25",
                 "2024-01-10", "2024-01-20", "2024-02-01"]
            ),
        }
    )  # fmt: skip
    far = _shift(log, years, unit)
    kw: dict[str, Any] = {"stages": ["lead", "demo"]}
    assert estimate_stage_model(far, **kw) == estimate_stage_model(log, **kw)
    pd.testing.assert_frame_equal(funnel_conversion(far, **kw), funnel_conversion(log, **kw))


@pytest.mark.parametrize(("years", "unit"), SHIFTS)
def test_far_dates_in_the_roll_ups(years: int, unit: str) -> None:
    far = _shift(_deals(), years, unit)
    pd.testing.assert_frame_equal(sales_velocity(far), sales_velocity(_deals()))
    window = {"close_date": "close_date"}
    a = pipeline_coverage(
        far, 100.0, period_start=_when("2025-01-01", years), period_end=_when("2025-03-31", years),
        **window,
    )  # fmt: skip
    b = pipeline_coverage(
        _deals(), 100.0, period_start="2025-01-01", period_end="2025-03-31", **window
    )
    pd.testing.assert_frame_equal(a, b)
    # The waterfall window needs a close date on every open deal.
    dated = _deals().assign(close_date=pd.to_datetime(
        ["2025-03-01", "2025-02-01", "2025-01-20", "2024-12-01", "2024-11-11"]))  # fmt: skip
    moved = dated.assign(stage=["bid", "won", "won", "negotiation", "lost"])
    w = {"period_start": _when("2025-01-01", years), "period_end": _when("2025-03-31", years)}
    pd.testing.assert_frame_equal(
        pipeline_waterfall(_shift(dated, years, unit), _shift(moved, years, unit), **window, **w),
        pipeline_waterfall(
            dated, moved, period_start="2025-01-01", period_end="2025-03-31", **window
        ),
    )


@given(models_and_deals(), st.sampled_from([-800, 400, 1200]))
def test_schedule_is_invariant_under_a_400_year_shift(
    case: tuple[StageModel, pd.DataFrame], years: int
) -> None:
    model, deals = case
    kw: dict[str, Any] = {"close_date": "close_date", "period": "W", "horizon": 30}
    base = close_schedule(deals, model, as_of=AS_OF, **kw)
    far = close_schedule(
        _shift(deals, years, "s"), model, as_of=_when(str(AS_OF.date()), years), **kw
    )
    np.testing.assert_array_equal(far.table.to_numpy(), base.table.to_numpy())
    assert far.later_expected_amount == base.later_expected_amount
    assert (far.overdue, far.excluded_won_before) == (base.overdue, base.excluded_won_before)


def test_date_beyond_a_microsecond_count_names_column_and_row() -> None:
    deals = _deals().iloc[:2].copy()
    deals["close_date"] = np.array(["300000-01-01", "2025-01-01"], dtype="datetime64[s]")
    deals.index = ["r10", "r20"]
    for func in (close_schedule, landing_dates):
        with pytest.raises(DataError, match=r"column 'close_date' .* at row 'r10' \(opportunity"):
            func(deals, MODEL, as_of="2025-01-01", close_date="close_date")


# --- timestamp[pyarrow] dates behave like numpy ones ------------------------------------------


def _arrow(frame: pd.DataFrame, tz: str | None = None) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            values = out[col] if tz is None else out[col].dt.tz_localize(tz)
            kind = "timestamp[ns][pyarrow]" if tz is None else f"timestamp[ns, tz={tz}][pyarrow]"
            out[col] = values.astype(kind)
    return out


@pytest.mark.parametrize("tz", [None, "Europe/Berlin"])
def test_arrow_dates_give_the_same_results(tz: str | None) -> None:
    numpy_deals = _deals()
    if tz is not None:
        for col in ("close_date", "created_at", "closed_at"):
            numpy_deals[col] = numpy_deals[col].dt.tz_localize(tz)
    arrow_deals = _arrow(_deals(), tz)
    as_of = pd.Timestamp("2025-01-15", tz=tz)
    kw: dict[str, Any] = {"as_of": as_of, "close_date": "close_date"}
    assert close_schedule(arrow_deals, MODEL, **kw) == close_schedule(numpy_deals, MODEL, **kw)
    pd.testing.assert_frame_equal(
        landing_dates(arrow_deals, MODEL, **kw), landing_dates(numpy_deals, MODEL, **kw)
    )
    sim = {"n_draws": 100, "seed": 1, **kw}
    assert simulate_pipeline(arrow_deals, MODEL, **sim) == simulate_pipeline(
        numpy_deals, MODEL, **sim
    )
    pd.testing.assert_frame_equal(sales_velocity(arrow_deals), sales_velocity(numpy_deals))
    window = {
        "close_date": "close_date",
        "period_start": as_of,
        "period_end": as_of + pd.Timedelta(days=90),
    }
    pd.testing.assert_frame_equal(
        pipeline_coverage(arrow_deals, 10.0, **window),
        pipeline_coverage(numpy_deals, 10.0, **window),
    )


def test_arrow_dates_all_missing_keep_their_zone() -> None:
    deals = _deals().drop(columns=["closed_at", "created_at"])
    deals["close_date"] = pd.Series([None] * 5, dtype="timestamp[us, tz=UTC][pyarrow]")
    out = close_schedule(
        deals, MODEL, as_of=pd.Timestamp("2025-01-15", tz="UTC"), close_date="close_date"
    )
    assert str(out.table.index.tz) == "UTC"


def test_arrow_history_learns_the_same_model() -> None:
    log = pd.DataFrame(
        {
            "opportunity_id": [1, 1, 2, 2],
            "stage": ["a", "won", "a", "lost"],
            "entered_at": pd.to_datetime(["2024-01-01", "2024-01-31", "2024-01-01", "2024-01-11"]),
        }
    )
    arrow = log.assign(entered_at=log["entered_at"].astype("timestamp[ns][pyarrow]"))
    assert estimate_stage_model(arrow, stages=["a"]) == estimate_stage_model(log, stages=["a"])


# --- an amount too large for cents names the row label, in every function ------------------


def _labelled(amount: float = 1e15) -> pd.DataFrame:
    deals = _deals().assign(amount=[1.0, 2.0, amount, 4.0, 5.0])
    deals.index = ["r10", "r20", "r30", "r40", "r50"]
    return deals


CALLS = {
    "weighted_pipeline": lambda d: weighted_pipeline(d, MODEL),
    "pipeline_by_stage": lambda d: pipeline_by_stage(d, MODEL),
    "close_schedule": lambda d: close_schedule(d, MODEL, as_of="2025-01-15"),
    "landing_dates": lambda d: landing_dates(d, MODEL, as_of="2025-01-15"),
    "simulate_pipeline": lambda d: simulate_pipeline(d, MODEL, as_of="2025-01-15", n_draws=5),
    "forecast_rollup": forecast_rollup,
    "split_credit": lambda d: split_credit(
        d, pd.DataFrame({"opportunity_id": [1, 2, 3, 4, 5], "person": list("abcde"), "share": 1.0})
    ),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_amount_too_large_for_cents_names_the_row_label(name: str) -> None:
    with pytest.raises(DataError, match=r"at row 'r30' \(opportunity_id=3\), too large") as err:
        CALLS[name](_labelled())
    assert err.value.row == "r30"
    assert err.value.column == "amount"
    assert "position" not in str(err.value)
    CALLS[name](_labelled(9.0e13 - 1))  # the largest amount that fits works


def test_lifecycle_with_far_and_arrow_dates() -> None:
    from crmcore.pipeline import current_states

    log = pd.DataFrame(
        {
            "opportunity_id": [1, 1, 2],
            "state": ["open", "won", "open"],
            "entered_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-05"]),
        }
    )
    expected = current_states(log)
    arrow = current_states(
        log.assign(entered_at=log["entered_at"].astype("timestamp[ns][pyarrow]"))
    )
    pd.testing.assert_frame_equal(arrow, expected, check_dtype=False)
    assert arrow["since"].dtype == np.dtype("M8[ns]")  # the Arrow column's unit, as numpy
    far = current_states(_shift(log, -800, "s"))
    pd.testing.assert_frame_equal(far.drop(columns="since"), expected.drop(columns="since"))
    assert _unshift(pd.Index(far["since"]), -800) == _unshift(pd.Index(expected["since"]), 0)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_amount_near_1e307_is_named_without_an_overflow_warning(name: str) -> None:
    # issue 14 catalogue: 1e307 * 100 overflowed (RuntimeWarning) before the row was named
    with pytest.raises(DataError, match=r"at row 'r30' \(opportunity_id=3\), too large"):
        CALLS[name](_labelled(1e307))


def test_a_stage_written_like_won_or_lost_is_an_error_without_a_model() -> None:
    # issue 14 catalogue: without a model 'Won' was counted as an open stage, silently
    deals = pd.DataFrame(
        {"opportunity_id": [1, 2, 3], "stage": ["won", "Won", "bid"], "amount": [1.0, 2.0, 3.0]},
        index=["a", "b", "c"],
    )
    with pytest.raises(DataError, match=r"stage 'Won' at row 'b' \(opportunity_id=2\)") as err:
        pipeline_coverage(deals, 10.0)
    assert (err.value.row, err.value.column, err.value.value) == ("b", "stage", "Won")
    with pytest.raises(DataError, match="' lost '"):
        pipeline_coverage(deals.assign(stage=["won", " lost ", "bid"]), 10.0)
    # written exactly, or another stage, is fine; won= names the spelling in use
    pipeline_coverage(deals.assign(stage=["won", "lost", "bid"]), 10.0)
    pipeline_coverage(deals.assign(stage=["Won", "Won", "bid"]), 10.0, won="Won")


@pytest.mark.parametrize("call", ["estimate_stage_model", "funnel_conversion", "current_states"])
def test_history_ids_typed_two_ways_are_an_error(call: str) -> None:
    # issue 14 catalogue: 1 and '1' were two deals in a stage history
    from crmcore import pipeline

    history = pd.DataFrame(
        {
            "opportunity_id": [1, "1", 2, 2],
            "stage": ["prospect", "won", "prospect", "lost"],
            "state": ["open", "won", "open", "lost"],
            "entered_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-05", "2024-03-01"]),
        }
    )
    func = getattr(pipeline, call)
    kwargs = {"stages": ["prospect"]} if call != "current_states" else {}
    with pytest.raises(DataError, match=r"mixes id types: 1 at row 0 and '1' at row 1"):
        func(history.drop(columns="state" if call != "current_states" else "stage"), **kwargs)
