"""Tests of landing_dates and close_schedule."""

from __future__ import annotations

from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.datasets import opportunities
from crmcore.errors import ColumnTypeError, ConfigError, CurrencyError, DataError, SchemaError
from crmcore.money import to_minor_units
from crmcore.pipeline import (
    CloseSchedule,
    StageModel,
    close_schedule,
    forecast_rollup,
    landing_dates,
    weighted_pipeline,
)
from helpers import call_unmutated, shuffled
from strategies_pipeline import AS_OF, models_and_deals

MODEL = StageModel.from_conversion_rates(
    ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [60, 30, 30]
)


def worked_deals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3],
            "stage": ["prospect", "bid", "negotiation"],
            "amount": [500_000.0, 250_000.0, 200_000.0],
        }
    )


def cents(values: Any) -> int:
    return int(np.asarray(to_minor_units(np.asarray(values, dtype=np.float64))).sum())


# --- examples -----------------------------------------------------------------------------


def test_worked_example_lands_30_60_120_days_after_as_of() -> None:
    # Days to close: negotiation 30, bid 30 + 30 = 60, prospect 60 + 30 + 30 = 120.
    land = call_unmutated(landing_dates, worked_deals(), MODEL, as_of="2025-01-01")
    assert land["landing_date"].tolist() == [
        pd.Timestamp("2025-05-01"),  # prospect: +120 days
        pd.Timestamp("2025-03-02"),  # bid: +60 days
        pd.Timestamp("2025-01-31"),  # negotiation: +30 days
    ]
    assert land["source"].tolist() == ["stage", "stage", "stage"]
    assert land["expected_amount"].tolist() == [180_000.0] * 3


def test_worked_example_schedule_by_month() -> None:
    result = call_unmutated(close_schedule, worked_deals(), MODEL, as_of="2025-01-01")
    assert isinstance(result, CloseSchedule)
    out = result.table
    expected = pd.DataFrame(
        {
            "count": [1, 0, 1, 0, 1],
            "amount": [200_000.0, 0.0, 250_000.0, 0.0, 500_000.0],
            "expected_amount": [180_000.0, 0.0, 180_000.0, 0.0, 180_000.0],
            "overdue": [0, 0, 0, 0, 0],
        },
        index=pd.date_range("2025-01-01", "2025-05-01", freq="MS", name="period", unit="us"),
    )
    pd.testing.assert_frame_equal(out, expected, check_dtype=False, check_freq=False)
    assert out["count"].dtype == np.int64
    assert out["expected_amount"].sum() == 540_000.0
    assert (result.as_of, result.period, result.horizon) == (pd.Timestamp("2025-01-01"), "M", None)
    assert (result.later_count, result.later_amount, result.later_expected_amount) == (0, 0.0, 0.0)
    assert result.reporting_currency is None
    assert result == close_schedule(worked_deals(), MODEL, as_of="2025-01-01")


def test_worked_example_daily_and_quarterly() -> None:
    daily = close_schedule(worked_deals(), MODEL, as_of="2025-01-01", period="D").table
    assert len(daily) == 121  # 2025-01-01 .. 2025-05-01
    hits = daily[daily["count"] > 0].index
    assert list(hits) == [pd.Timestamp(d) for d in ("2025-01-31", "2025-03-02", "2025-05-01")]
    quarterly = close_schedule(worked_deals(), MODEL, as_of="2025-01-01", period="Q").table
    # Q1 holds January and March (360 000), Q2 holds May (180 000).
    assert quarterly["expected_amount"].tolist() == [360_000.0, 180_000.0]
    assert list(quarterly.index) == [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-04-01")]


def _mixed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4, 5, 6],
            "stage": ["negotiation", "bid", "negotiation", "won", "won", "lost"],
            "amount": [100.0, 200.0, 300.0, 400.0, 500.0, 600.0],
            "close_date": pd.to_datetime(
                [None, "2025-02-10", "2024-12-20", "2025-01-05", "2024-12-31", "2025-01-07"]
            ),
        }
    )


def test_own_close_dates_overdue_won_and_lost() -> None:
    as_of = "2025-01-10"
    land = landing_dates(_mixed(), MODEL, as_of=as_of, close_date="close_date")
    # 1: no date -> as_of + 30 days = 2025-02-09; 2: own date; 3: overdue -> as_of;
    # 4: won this month -> its date; 5: won last month -> history, not scheduled; 6: lost.
    assert land["landing_date"].tolist()[:4] == [
        pd.Timestamp("2025-02-09"),
        pd.Timestamp("2025-02-10"),
        pd.Timestamp("2025-01-10"),
        pd.Timestamp("2025-01-05"),
    ]
    assert land["source"].tolist() == [
        "stage",
        "close_date",
        "as_of",
        "close_date",
        "close_date",
        "close_date",
    ]
    assert land["overdue"].tolist() == [False, False, True, False, False, False]
    assert land["scheduled"].tolist() == [True, True, True, True, False, False]
    result = close_schedule(_mixed(), MODEL, as_of=as_of, close_date="close_date")
    out = result.table
    # January: overdue 300 * 0.9 = 270 + won 400 = 670; February: 100 * 0.9 + 200 * 0.72 = 234.
    assert out["expected_amount"].tolist() == [670.0, 234.0]
    assert out["count"].tolist() == [2, 2]
    assert out["overdue"].tolist() == [1, 0]
    assert result.overdue == 1
    assert result.excluded_won_before == 1
    assert result.excluded_lost == 1
    assert result.excluded_overdue == 0
    assert result.deals == 6


def test_overdue_exclude_reports_the_excluded_deals() -> None:
    out = close_schedule(
        _mixed(), MODEL, as_of="2025-01-10", close_date="close_date", overdue="exclude"
    )
    assert out.table["expected_amount"].tolist() == [400.0, 234.0]
    assert out.overdue == 1
    assert out.excluded_overdue == 1
    land = landing_dates(
        _mixed(), MODEL, as_of="2025-01-10", close_date="close_date", overdue="exclude"
    )
    assert land.loc[3, "overdue"]
    assert not land.loc[3, "scheduled"]


def test_overdue_error_names_the_deal() -> None:
    with pytest.raises(
        DataError,
        match="close date 2024-12-20 00:00:00 at row 2 \\(opportunity_id=3\\), before as_of "
        "2025-01-10",
    ):
        close_schedule(
            _mixed(), MODEL, as_of="2025-01-10", close_date="close_date", overdue="error"
        )


def test_close_date_on_as_of_day_is_not_overdue() -> None:
    deals = pd.DataFrame(
        {
            "opportunity_id": [1],
            "stage": ["bid"],
            "amount": [10.0],
            "close_date": ["2025-01-10"],
        }
    )
    land = landing_dates(deals, MODEL, as_of="2025-01-10 15:00", close_date="close_date")
    assert not land.loc[1, "overdue"]
    assert land.loc[1, "source"] == "close_date"


def test_tz_aware_dates_and_weekly_periods() -> None:
    deals = _mixed()
    deals["close_date"] = deals["close_date"].dt.tz_localize("Europe/Berlin")
    as_of = pd.Timestamp("2025-01-10", tz="Europe/Berlin")
    result = close_schedule(deals, MODEL, as_of=as_of, close_date="close_date", period="W")
    out = result.table
    assert str(out.index.tz) == "Europe/Berlin"
    # Weeks start on Mondays: the as_of week starts 2025-01-06, the won deal of 2025-01-05
    # belongs to the week before, so it is history in a weekly schedule.
    assert out.index[0] == pd.Timestamp("2025-01-06", tz="Europe/Berlin")
    assert result.excluded_won_before == 2
    assert out["expected_amount"].sum() == 270.0 + 234.0


def test_tz_aware_column_without_any_date_keeps_its_zone() -> None:
    deals = worked_deals().assign(close_date=pd.Series([pd.NaT] * 3, dtype="M8[ns, UTC]"))
    out = close_schedule(
        deals, MODEL, as_of=pd.Timestamp("2025-01-01", tz="UTC"), close_date="close_date"
    ).table
    assert out["expected_amount"].tolist() == [180_000.0, 0.0, 180_000.0, 0.0, 180_000.0]
    assert str(out.index.tz) == "UTC"


def test_schedule_ends_at_the_last_landing_not_at_later_dates_of_unscheduled_deals() -> None:
    # A lost deal and a won deal of the past hold dates the schedule does not place; the
    # table still ends with the period of the last scheduled landing (February).
    model = StageModel.from_conversion_rates(["bid"], [0.5], [10])
    deals = pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4],
            "stage": ["bid", "bid", "lost", "won"],
            "amount": [100.0, 50.0, 70.0, 10.0],
            "close_date": pd.to_datetime([None, "2025-02-03", "2025-09-30", "2024-11-30"]),
        }
    )
    out = close_schedule(deals, model, as_of="2025-01-15", close_date="close_date")
    assert list(out.table.index) == list(pd.to_datetime(["2025-01-01", "2025-02-01"]))
    assert out.table["count"].tolist() == [1, 1]
    assert out.table["expected_amount"].tolist() == [50.0, 25.0]
    assert (out.later_count, out.excluded_lost, out.excluded_won_before) == (0, 1, 1)


def test_all_lost_gives_one_empty_period() -> None:
    deals = pd.DataFrame({"opportunity_id": [1], "stage": ["lost"], "amount": [5.0]})
    out = close_schedule(deals, MODEL, as_of="2025-03-15").table
    assert list(out.index) == [pd.Timestamp("2025-03-01")]
    assert out["count"].tolist() == [0]
    assert out["expected_amount"].tolist() == [0.0]


def test_currencies_in_the_schedule() -> None:
    deals = worked_deals().assign(currency=["EUR", "USD", "EUR"])
    with pytest.raises(CurrencyError, match="mix currencies 'EUR' at row 0"):
        close_schedule(deals, MODEL, as_of="2025-01-01", currency="currency")
    out = close_schedule(
        deals, MODEL, as_of="2025-01-01", currency="currency", rates={"EUR": 1.0, "USD": 0.5}
    ).table
    # The bid deal is 250 000 USD = 125 000 EUR, expected 90 000 EUR in March.
    assert out["expected_amount"].tolist() == [180_000.0, 0.0, 90_000.0, 0.0, 180_000.0]


# --- properties ---------------------------------------------------------------------------


@given(
    models_and_deals(),
    st.sampled_from(["as_of", "exclude"]),
    st.sampled_from([("M", "MS"), ("W", "W-MON"), ("Q", "QS")]),
    st.one_of(st.none(), st.integers(1, 8)),
)
def test_schedule_total_equals_weighted_total_of_scheduled_deals(
    case: tuple[StageModel, pd.DataFrame], overdue: Any, period: tuple[str, str], horizon: Any
) -> None:
    model, deals = case
    kw: dict[str, Any] = {
        "as_of": AS_OF,
        "close_date": "close_date",
        "overdue": overdue,
        "period": period[0],
    }
    result = close_schedule(deals, model, horizon=horizon, **kw)
    out = result.table
    land = landing_dates(deals, model, **kw)
    weighted = weighted_pipeline(deals, model)
    scheduled = land.index[land["scheduled"]]
    # Nothing vanishes: the horizon's periods plus "later" hold every scheduled cent ...
    total = cents(out["expected_amount"]) + cents(result.later_expected_amount)
    assert total == cents(weighted.loc[scheduled, "expected_amount"])
    assert cents(out["amount"]) + cents(result.later_amount) == cents(
        weighted.loc[scheduled, "amount"]
    )
    # ... and every deal is scheduled (in a period or later) or counted as excluded.
    excluded = result.excluded_overdue + result.excluded_won_before + result.excluded_lost
    assert out["count"].sum() + result.later_count + excluded == result.deals == len(deals)
    # Periods are consecutive and start at the period holding as_of.
    assert out.index[0] <= AS_OF
    expected_index = pd.date_range(out.index[0], out.index[-1], freq=period[1])
    assert list(out.index) == list(expected_index)
    if horizon is not None:
        assert len(out) == horizon
        after = pd.date_range(out.index[0], periods=horizon + 1, freq=period[1])[-1]
        later = land["scheduled"] & (land["landing_date"] >= after)
        assert result.later_count == int(later.sum())
    else:
        assert result.later_count == 0
    # Every scheduled deal lands on or after as_of, except won deals booked earlier this period.
    open_scheduled = land["scheduled"] & ~land["stage"].eq(model.won)
    assert (land.loc[open_scheduled, "landing_date"] >= AS_OF).all()


@given(models_and_deals(), st.integers(0, 2**16))
def test_schedule_invariant_under_row_order(
    case: tuple[StageModel, pd.DataFrame], seed: int
) -> None:
    model, deals = case
    a = close_schedule(deals, model, as_of=AS_OF, close_date="close_date")
    b = close_schedule(shuffled(deals, seed), model, as_of=AS_OF, close_date="close_date")
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    assert a == b


# --- bad input ----------------------------------------------------------------------------

BAD: list[tuple[str, Any, dict[str, Any], type[Exception], str]] = [
    ("no as_of", _mixed(), {"as_of": None}, ConfigError, "as_of is required"),
    ("bad as_of", _mixed(), {"as_of": "soon"}, ConfigError, "as_of='soon' is not a date"),
    ("bad period", _mixed(), {"period": "fortnightly"}, ConfigError, "is not a period"),
    ("multiple period", _mixed(), {"period": "2MS"}, ConfigError, "period='2MS' is not a period"),
    ("bad overdue", _mixed(), {"overdue": "drop"}, ConfigError, "overdue='drop' is not one of"),
    (
        "junk close date",
        _mixed().assign(close_date=["2025-01-01", "someday", None, None, None, None]),
        {},
        ColumnTypeError,
        "value 'someday' at row 1 \\(opportunity_id=2\\) that is not a date",
    ),
    (
        "tz mix",
        _mixed(),
        {"as_of": pd.Timestamp("2025-01-10", tz="UTC")},
        ConfigError,
        "mix naive and tz-aware dates",
    ),
    (
        "missing close date column",
        _mixed().drop(columns="close_date"),
        {},
        SchemaError,
        "missing column\\(s\\) 'close_date'",
    ),
    (
        "unknown stage",
        _mixed().assign(stage=["bid"] * 5 + ["closing"]),
        {},
        DataError,
        "unknown stage 'closing' at row 5 \\(opportunity_id=6\\)",
    ),
]


@pytest.mark.parametrize("func", [close_schedule, landing_dates])
@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_input(
    func: Any, frame: pd.DataFrame, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    kw: dict[str, Any] = {"as_of": "2025-01-10", "close_date": "close_date", **kwargs}
    with pytest.raises(error, match=match):
        func(frame, MODEL, **kw)


@pytest.mark.parametrize(
    ("horizon", "match"),
    [
        (0, "horizon == 0, must be between 1 and 100000 periods"),
        (100_001, "horizon == 100001"),
        ("3", "horizon must be None or a whole number of periods, got '3'"),
        (2.0, "horizon must be None or a whole number"),
        (True, "horizon must be None or a whole number"),
    ],
)
def test_bad_horizon(horizon: Any, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        close_schedule(_mixed(), MODEL, as_of="2025-01-10", horizon=horizon)


def test_horizon_reports_what_lands_later() -> None:
    # Worked example with a two-month horizon: January (180 000) is shown; March and May
    # (360 000 expected of 750 000) land later and are reported, not dropped.
    result = close_schedule(worked_deals(), MODEL, as_of="2025-01-01", horizon=2)
    assert result.table["expected_amount"].tolist() == [180_000.0, 0.0]
    assert list(result.table.index) == [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01")]
    assert (result.later_count, result.later_amount, result.later_expected_amount) == (
        2,
        750_000.0,
        360_000.0,
    )
    assert "2 later than the horizon" in repr(result)
    longer = close_schedule(worked_deals(), MODEL, as_of="2025-01-01", horizon=7)
    assert longer.table["expected_amount"].tolist() == [180_000.0, 0, 180_000.0, 0, 180_000.0, 0, 0]
    assert longer.later_count == 0


def test_freq_still_works_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match=r"close_schedule\(freq=...\) was renamed"):
        old = close_schedule(worked_deals(), MODEL, as_of="2025-01-01", freq="QS")
    assert old == close_schedule(worked_deals(), MODEL, as_of="2025-01-01", period="Q")
    with pytest.warns(DeprecationWarning, match=r"landing_dates\(freq=...\)"):
        landing_dates(worked_deals(), MODEL, as_of="2025-01-01", freq="MS")
    with pytest.raises(ConfigError, match="got both 'freq' and its new name 'period'"):
        close_schedule(worked_deals(), MODEL, as_of="2025-01-01", freq="MS", period="M")


@pytest.mark.parametrize("alias", ["M", "MS", "ME"])
def test_period_aliases_give_the_same_schedule(alias: str) -> None:
    # Periods are shown by their start whatever alias names them, so "ME" is a month too.
    a = close_schedule(_mixed(), MODEL, as_of="2025-01-10", close_date="close_date", period=alias)
    assert a == close_schedule(_mixed(), MODEL, as_of="2025-01-10", close_date="close_date")


# --- the synthetic generator --------------------------------------------------------------


def test_generated_opportunities_have_overdue_and_missing_close_dates() -> None:
    deals = call_unmutated(opportunities, 2000, seed=5, currencies=("EUR", "USD", "GBP"))
    assert deals.equals(opportunities(2000, seed=5, currencies=("EUR", "USD", "GBP")))
    assert not deals.equals(opportunities(2000, seed=6, currencies=("EUR", "USD", "GBP")))
    assert deals["opportunity_id"].tolist() == list(range(1, 2001))
    as_of = pd.Timestamp("2025-01-01")
    is_open = ~deals["stage"].isin(["won", "lost"])
    closed = deals[~is_open]
    # Only open deals lack a close date; closed deals closed by as_of, after they were created.
    assert deals.loc[~is_open, "close_date"].notna().all()
    assert (closed["close_date"] <= as_of).all()
    assert (closed["close_date"] >= closed["created_at"]).all()
    assert (deals["created_at"] <= as_of).all()
    # Shares: open 60 %, missing close dates 15 % and overdue 10 % of open deals (+- 4 pts).
    assert abs(is_open.mean() - 0.6) < 0.04
    open_dates = deals.loc[is_open, "close_date"]
    assert abs(open_dates.isna().mean() - 0.15) < 0.04
    assert abs((open_dates < as_of).mean() - 0.10) < 0.04
    assert set(deals["currency"]) == {"EUR", "USD", "GBP"}
    assert (deals["amount"] > 0).all()
    # Forecast categories: won deals are Closed, lost ones Omitted, and all labels are known.
    assert (deals.loc[deals["stage"] == "won", "forecast_category"] == "Closed").all()
    assert (deals.loc[deals["stage"] == "lost", "forecast_category"] == "Omitted").all()
    forecast_rollup(deals, currency="currency", rates={"EUR": 1.0, "USD": 0.9, "GBP": 1.2})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "n == 0, must be >= 1"),
        ({"open_share": 1.5}, "open_share == 1.5, must be <= 1.0"),
        ({"stages": ("a", "won")}, "stages must be unique open stage names"),
        ({"stages": "abc"}, "stages must be unique open stage names"),
        ({"currencies": ()}, "currencies must be a non-empty sequence"),
        ({"missing_close_share": 0.6, "overdue_share": 0.6}, "must be <= 1"),
    ],
)
def test_generator_bad_config(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        opportunities(**kwargs)


# --- against a plain pandas reference -------------------------------------------------------


def _reference_schedule(
    deals: pd.DataFrame, model: StageModel, *, period: str, overdue: str, horizon: int | None
) -> tuple[pd.DataFrame, tuple[int, int, int]]:
    """close_schedule written the obvious way: per-deal rules, then a pandas groupby by period.

    Returns the table (count, amount cents, expected cents, overdue per period start) and the
    later-than-the-horizon count, amount cents and expected cents.
    """
    names = [*model.stages, model.won, model.lost]
    stage = deals["stage"].astype(object)
    p = stage.map(dict(zip(names, [*model.win_probabilities, 1.0, 0.0], strict=True)))
    days = stage.map(dict(zip(names, [*model.days_to_close, 0.0, 0.0], strict=True)))
    amount_cents = pd.Series(to_minor_units(deals["amount"].to_numpy()), index=deals.index)
    expected = pd.Series(
        to_minor_units(amount_cents.to_numpy(dtype=np.float64) * p.to_numpy(), 0),
        index=deals.index,
    )
    own = deals["close_date"]
    is_open = ~stage.isin([model.won, model.lost])
    late = is_open & own.notna() & (own < AS_OF)
    landing = own.where(own.notna(), AS_OF + pd.to_timedelta(days, unit="D"))
    landing = landing.where(~late & ~(stage.eq(model.won) & own.isna()), AS_OF)
    first = AS_OF.to_period(period).start_time
    scheduled = ~stage.eq(model.lost) & ~(stage.eq(model.won) & own.notna() & (own < first))
    if overdue == "exclude":
        scheduled &= ~late
    starts = landing[scheduled].dt.to_period(period).dt.start_time
    frame = pd.DataFrame(
        {
            "period": starts,
            "count": 1,
            "amount": amount_cents[scheduled],
            "expected_amount": expected[scheduled],
            "overdue": late[scheduled].astype(np.int64),
        }
    )
    sums = frame.groupby("period").sum()
    last = sums.index.max() if len(sums) else first
    grid = pd.period_range(first, max(last, first), freq=period).start_time
    if horizon is not None:
        grid = pd.period_range(first, periods=horizon, freq=period).start_time
    table = sums.reindex(grid, fill_value=0)
    beyond = sums[sums.index > grid[-1]]
    later = (int(beyond["count"].sum()), int(beyond["amount"].sum()),
             int(beyond["expected_amount"].sum()))  # fmt: skip
    return table, later


def _retyped(deals: pd.DataFrame, stage: str, amount: str, dates: str) -> pd.DataFrame:
    """The same deals with another stage, amount or close-date column type."""
    out = deals.copy()
    if stage == "str-chunked":  # Arrow text in several Arrow chunks (as Parquet reads give)
        half = len(out) // 2
        pieces = [out["stage"].iloc[:half].tolist(), out["stage"].iloc[half:].tolist()]
        chunked = pa.chunked_array([pa.array(x, pa.large_string()) for x in pieces])
        out["stage"] = pd.Series(pd.arrays.ArrowStringArray(chunked), index=out.index)
    elif stage == "arrow":
        out["stage"] = out["stage"].astype(pd.ArrowDtype(pa.string()))
    else:
        out["stage"] = out["stage"].astype(stage)
    if amount == "int64":
        out["amount"] = out["amount"].round().astype("int64")
    else:
        out["amount"] = out["amount"].astype(amount)
    if dates == "arrow":
        out["close_date"] = out["close_date"].astype(pd.ArrowDtype(pa.timestamp("us")))
    elif dates == "text":
        out["close_date"] = out["close_date"].dt.strftime("%Y-%m-%d").astype(object)
    elif dates != "none":
        out["close_date"] = out["close_date"].astype(f"datetime64[{dates}]")
    return out


def _general(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``func`` with close_schedule's streaming path switched off (the general path)."""
    with mock.patch("crmcore.pipeline.timing.stream_schedule", return_value=None):
        return func(*args, **kwargs)


@settings(max_examples=200)
@given(
    models_and_deals(max_rows=60),
    st.sampled_from(["as_of", "exclude"]),
    st.sampled_from(["M", "W", "Q", "D", "Y"]),
    st.one_of(st.none(), st.integers(1, 6)),
    st.sampled_from(["str", "str-chunked", "arrow", "object", "category", "string[python]"]),
    st.sampled_from(["float64", "Float64", "float32", "int64"]),
    st.sampled_from(["ns", "us", "ms", "s", "arrow", "text", "none"]),
    st.sampled_from([1, 2, 5, 1 << 16]),
)
def test_schedule_equals_a_pandas_groupby_reference(
    case: tuple[StageModel, pd.DataFrame],
    overdue: Any,
    period: str,
    horizon: int | None,
    stage_dtype: str,
    amount_dtype: str,
    dates: str,
    chunk: int,
) -> None:
    # The schedule streams deals a chunk at a time (Arrow text by its own chunks, categoricals
    # by their codes, other stages factorised per chunk; close dates compared in their own
    # unit): tiny chunks (rows split across many, chunks with nothing scheduled) and every kind
    # of column must give exactly the reference's figures, and the general path's result.
    model, deals = case
    deals = _retyped(deals, stage_dtype, amount_dtype, dates)
    reference = deals.copy()
    if dates == "none":
        deals = deals.drop(columns="close_date")
        reference["close_date"] = pd.NaT
    else:
        reference["close_date"] = pd.to_datetime(reference["close_date"]).astype("M8[ns]")
    kw: dict[str, Any] = {
        "as_of": AS_OF,
        "close_date": None if dates == "none" else "close_date",
        "period": period,
        "overdue": overdue,
        "horizon": horizon,
    }
    with (
        mock.patch("crmcore.pipeline.timing._CHUNK", chunk),
        mock.patch("crmcore.pipeline._schedule._CHUNK", chunk),
        # by (date interval, stage) cell, or (odd chunks) by bucket straight away
        mock.patch("crmcore.pipeline._schedule._MAX_CELLS", 0 if chunk % 2 else 1 << 12),
    ):
        result = call_unmutated(close_schedule, deals, model, **kw)
        assert result == _general(close_schedule, deals, model, **kw)
    table, later = _reference_schedule(
        reference, model, period=period, overdue=overdue, horizon=horizon
    )
    out = result.table
    assert list(out.index) == list(table.index)
    assert out["count"].tolist() == table["count"].tolist()
    assert out["overdue"].tolist() == table["overdue"].tolist()
    assert to_minor_units(out["amount"].to_numpy()).tolist() == table["amount"].tolist()
    assert (
        to_minor_units(out["expected_amount"].to_numpy()).tolist()
        == table["expected_amount"].tolist()
    )
    assert (
        result.later_count,
        int(to_minor_units(result.later_amount)),
        int(to_minor_units(result.later_expected_amount)),
    ) == later
