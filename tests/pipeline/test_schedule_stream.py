"""close_schedule's streaming path (pipeline/_schedule.py) against the general path.

The streaming path must give the general path's result exactly, for every column type it reads,
and leave every problem to the general path, which names it (column, row label, value) in the
usual order of checks. ``test_timing.py`` compares both with a plain pandas reference.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore._rounding import round_minor_units
from crmcore.datasets import opportunities
from crmcore.errors import ColumnTypeError, DataError
from crmcore.money import to_minor_units
from crmcore.pipeline import StageModel, close_schedule
from crmcore.pipeline._schedule import MAX_PERIODS
from helpers import call_unmutated
from strategies_pipeline import AS_OF, models_and_deals

MODEL = StageModel.from_conversion_rates(
    ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [60, 30, 30]
)
STAGES = ["prospect", "bid", "negotiation", "won", "lost"]


def general(*args: Any, **kwargs: Any) -> Any:
    """close_schedule by the general path (the streaming path switched off)."""
    with mock.patch("crmcore.pipeline.timing.stream_schedule", return_value=None):
        return close_schedule(*args, **kwargs)


def streamed(*args: Any, **kwargs: Any) -> Any:
    """close_schedule that fails if the general path runs."""
    with mock.patch("crmcore.pipeline.timing._place", side_effect=AssertionError("general")):
        return close_schedule(*args, **kwargs)


def error_of(func: Any, *args: Any, **kwargs: Any) -> tuple[type[Exception], str]:
    with pytest.raises(Exception) as info:  # noqa: PT011 - compared with the general path's
        func(*args, **kwargs)
    return type(info.value), str(info.value)


def deals_frame(n: int = 9) -> pd.DataFrame:
    """Deals with text row labels, every stage, some overdue and some without a date."""
    days = [None, 40, -20, 5, 70, None, 100, 3, -40][:n]
    return pd.DataFrame(
        {
            "opportunity_id": np.arange(1, n + 1, dtype=np.int64),
            "stage": [STAGES[i % 5] for i in range(n)],
            "amount": [100.0 + 10 * i for i in range(n)],
            "close_date": [None if d is None else AS_OF + pd.Timedelta(days=d) for d in days],
        },
        index=[f"r{i}" for i in range(n)],
    ).astype({"close_date": "M8[ns]"})


# --- the streaming path is the one taken ------------------------------------------------------


@pytest.mark.parametrize(
    "retype",
    [
        {},
        {"stage": "object"},
        {"stage": "category"},
        {"stage": "string[python]"},
        {"amount": "Float64"},
        {"close_date": "M8[s]"},
        {"close_date": "M8[us]"},
    ],
    ids=lambda r: ",".join(f"{k}={v}" for k, v in r.items()) or "parquet",
)
def test_common_columns_take_the_streaming_path(retype: dict[str, str]) -> None:
    # The benchmark's input: Arrow-backed text stages, float amounts, nanosecond dates.
    deals = opportunities(3000, seed=4, as_of="2025-01-01", open_share=0.8).astype(retype)
    kw: dict[str, Any] = {"as_of": "2025-01-01", "close_date": "close_date"}
    with mock.patch("crmcore.pipeline._schedule._CHUNK", 512):
        result = call_unmutated(streamed, deals, MODEL_OF_GENERATOR, **kw)
    assert result == general(deals, MODEL_OF_GENERATOR, **kw)
    assert result.table["count"].sum() > 0


MODEL_OF_GENERATOR = StageModel.from_conversion_rates(
    ["prospect", "qualification", "proposal", "negotiation"], [0.5, 0.6, 0.7, 0.8], [30, 20, 20, 15]
)


def test_tz_aware_dates_take_the_streaming_path() -> None:
    deals = deals_frame()
    deals["close_date"] = deals["close_date"].dt.tz_localize("Europe/Berlin")
    kw: dict[str, Any] = {
        "as_of": pd.Timestamp("2025-01-15 09:00", tz="Europe/Berlin"),
        "close_date": "close_date",
    }
    for period in ("D", "W", "M"):
        assert streamed(deals, MODEL, period=period, **kw) == general(
            deals, MODEL, period=period, **kw
        )


# --- problems are the general path's, found in any chunk ------------------------------------

BAD = [
    ("NaN amount", {"amount": ("r7", np.nan)}, DataError, "has NaN at row 'r7'"),
    ("negative amount", {"amount": ("r8", -1.0)}, DataError, "negative value -1.0 at row 'r8'"),
    ("infinite amount", {"amount": ("r6", np.inf)}, DataError, "infinite value inf at row 'r6'"),
    ("huge amount", {"amount": ("r8", 1e300)}, DataError, "at row 'r8' .*too large"),
    ("unknown stage", {"stage": ("r7", "closing")}, DataError, "unknown stage 'closing' at"),
    ("missing stage", {"stage": ("r8", None)}, DataError, "missing value at row 'r8'"),
    ("text amount", {"amount": ("r5", "lots")}, ColumnTypeError, "non-numeric value 'lots'"),
    # Both wrong: the stage is checked before the amount, wherever the rows are.
    (
        "stage after amount",
        {"amount": ("r1", np.nan), "stage": ("r8", "closing")},
        DataError,
        "unknown stage 'closing' at row 'r8'",
    ),
]


@pytest.mark.parametrize("stage_dtype", ["str", "object", "category"])
@pytest.mark.parametrize(
    ("changes", "error", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_a_problem_in_a_later_chunk_is_named_as_the_general_path_names_it(
    stage_dtype: str, changes: dict[str, tuple[str, Any]], error: type[Exception], match: str
) -> None:
    deals = deals_frame()
    for column, (row, value) in changes.items():
        if column == "amount" and isinstance(value, str):
            deals["amount"] = deals["amount"].astype(object)
        deals.loc[row, column] = value
    deals["stage"] = deals["stage"].astype(stage_dtype)
    kw: dict[str, Any] = {"as_of": AS_OF, "close_date": "close_date"}
    with mock.patch("crmcore.pipeline._schedule._CHUNK", 2):
        got = error_of(close_schedule, deals, MODEL, **kw)
    assert got == error_of(general, deals, MODEL, **kw)
    assert issubclass(got[0], error)
    with pytest.raises(error, match=match):
        close_schedule(deals, MODEL, **kw)


def test_overdue_error_in_a_later_chunk() -> None:
    deals = deals_frame()
    kw: dict[str, Any] = {"as_of": AS_OF, "close_date": "close_date", "overdue": "error"}
    with mock.patch("crmcore.pipeline._schedule._CHUNK", 2):
        got = error_of(close_schedule, deals, MODEL, **kw)
    assert got == error_of(general, deals, MODEL, **kw)
    assert "at row 'r2' (opportunity_id=3), before as_of" in got[1]


def test_a_second_date_beyond_a_microsecond_count_is_named() -> None:
    deals = deals_frame().astype({"close_date": "M8[s]"})
    deals["close_date"] = deals["close_date"].astype("M8[s]")
    far = np.array([np.iinfo(np.int64).max // 10], dtype="M8[s]")[0]
    deals.loc["r7", "close_date"] = far
    with (
        mock.patch("crmcore.pipeline._schedule._CHUNK", 2),
        pytest.raises(DataError, match=r"at row 'r7' .*beyond the dates a microsecond"),
    ):
        close_schedule(deals, MODEL, as_of=AS_OF, close_date="close_date")


# --- sums, grids and dates at the edges ------------------------------------------------------


def test_large_amounts_sum_exactly_and_totals_near_2_63_take_the_general_path() -> None:
    # 4e13 at 2 decimals is 4e15 minor units: a chunk of two passes 2**53, so its sums go
    # through sum_minor_units; 3 000 of them pass 2**62, where the general path takes over.
    deals = pd.DataFrame(
        {
            "opportunity_id": np.arange(3000),
            "stage": ["bid", "won", "negotiation"] * 1000,
            "amount": np.full(3000, 4e13) + np.arange(3000) * 0.01,
        }
    )
    with mock.patch("crmcore.pipeline._schedule._CHUNK", 2):
        small = close_schedule(deals.iloc[:20], MODEL, as_of=AS_OF)
        assert small == general(deals.iloc[:20], MODEL, as_of=AS_OF)
        assert close_schedule(deals, MODEL, as_of=AS_OF) == general(deals, MODEL, as_of=AS_OF)
    cents = to_minor_units(deals["amount"].iloc[:20].to_numpy())
    assert int(small.table["count"].sum()) == 20
    assert small.table["amount"].sum() == pytest.approx(float(np.sum(cents)) / 100, rel=1e-15)


@pytest.mark.parametrize(
    ("unit", "period", "streams"),
    [
        ("ns", "D", True),  # 2025 .. 2262: 86 000 days
        ("ns", "M", True),
        ("us", "Y", True),
        ("ms", "Y", True),
        ("s", "Y", True),
        ("s", "M", False),  # 2025 .. 9999: more than MAX_PERIODS months (as far as it knows)
    ],
)
def test_far_dates_in_every_unit(unit: str, period: str, streams: bool) -> None:
    # The latest nanosecond date (2262), and in coarser units the year 9999 and before 1677:
    # grids of more than MAX_PERIODS periods go the general way, all with the same result.
    deals = deals_frame().astype({"close_date": f"M8[{unit}]"})
    latest = pd.Timestamp.max if unit == "ns" else pd.Timestamp("9999-12-31 23:59:59")
    deals["close_date"] = deals["close_date"].astype(object)
    deals.loc["r3", "close_date"] = latest
    deals.loc["r1", "close_date"] = pd.Timestamp("1677-09-22") if unit == "ns" else "1200-01-01"
    deals["close_date"] = deals["close_date"].astype(f"M8[{unit}]")
    kw: dict[str, Any] = {"as_of": AS_OF, "close_date": "close_date", "period": period}
    result = close_schedule(deals, MODEL, **kw)
    assert result == general(deals, MODEL, **kw)
    days = (result.table.index[-1] - result.table.index[0]).days
    assert days > 80_000  # the won deal of 2262 (or 9999) is scheduled
    if streams:
        assert result == streamed(deals, MODEL, **kw)
    else:  # the streaming path declines (the general one finds the grid has fewer periods)
        with pytest.raises(AssertionError, match="general"):
            streamed(deals, MODEL, **kw)
        assert len(result.table) < MAX_PERIODS


def test_no_close_date_column_and_all_missing_dates() -> None:
    deals = deals_frame().drop(columns="close_date")
    assert streamed(deals, MODEL, as_of=AS_OF) == general(deals, MODEL, as_of=AS_OF)
    missing = deals.assign(close_date=pd.Series([None] * len(deals), index=deals.index))
    kw: dict[str, Any] = {"as_of": AS_OF, "close_date": "close_date"}
    assert streamed(missing, MODEL, **kw) == general(missing, MODEL, **kw)


@settings(max_examples=100)
@given(
    models_and_deals(max_rows=40),
    st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
    st.sampled_from(["D", "W", "M", "Q"]),
    st.one_of(st.none(), st.integers(1, 5)),
    st.sampled_from(["as_of", "exclude", "error"]),
    st.sampled_from([1, 2, 3, 1 << 16]),
    st.integers(0, 23),
)
def test_streaming_equals_general_with_time_zones(
    case: tuple[StageModel, pd.DataFrame],
    zone: str,
    period: str,
    horizon: int | None,
    overdue: str,
    chunk: int,
    hour: int,
) -> None:
    model, deals = case
    deals = deals.assign(
        close_date=(deals["close_date"] + pd.Timedelta(hours=hour)).dt.tz_localize(zone)
    )
    kw: dict[str, Any] = {
        "as_of": (AS_OF + pd.Timedelta(hours=hour)).tz_localize(zone),
        "close_date": "close_date",
        "period": period,
        "horizon": horizon,
        "overdue": overdue,
    }
    with (
        mock.patch("crmcore.pipeline._schedule._CHUNK", chunk),
        mock.patch("crmcore.pipeline._schedule._MAX_CELLS", 0 if chunk % 2 else 1 << 12),
    ):
        if overdue == "error" and general(deals, model, **{**kw, "overdue": "as_of"}).overdue:
            # an overdue deal: both paths name the same one
            got = error_of(close_schedule, deals, model, **kw)
            assert got == error_of(general, deals, model, **kw)
            return
        result = close_schedule(deals, model, **kw)
    assert result == general(deals, model, **kw)


@given(
    st.lists(
        st.one_of(
            st.floats(0.0, 4e12, allow_nan=False),
            st.integers(0, 10**9).map(lambda c: c / 1000),  # half cents: 0.285, 0.125, ...
        ),
        min_size=1,
        max_size=50,
    ),
    st.integers(0, 3),
)
def test_the_streamed_rounding_is_to_minor_units(values: list[float], decimals: int) -> None:
    # Amounts up to 2**52 minor units (larger ones take the general path).
    arr = np.asarray(values, dtype=np.float64) / 10.0 ** max(decimals - 2, 0)
    expected = to_minor_units(arr, decimals)
    assert round_minor_units(arr * 10.0**decimals).astype(np.int64).tolist() == list(expected)
