"""The two ways rfm_summary and btyd_summary aggregate: the date-ordered walk and the sort.

Rows in date order take the one-pass walk (crmcore.segmentation._summary.ordered_aggregates);
anything else takes the sorting path. Both must give the same frame bit for bit on the same
rows, and the walk must hand every case it does not cover (and every error) to the sorting
path. The general path is forced here by making the walk decline.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import DataError
from crmcore.segmentation import _summary, btyd_summary, rfm_summary
from strategies import transaction_frames

PERIODS = ["D", "W", "M", "Q", "Y"]


@contextmanager
def sorting_path() -> Iterator[None]:
    """Make the date-ordered walk decline, so the sorting path runs."""
    with mock.patch("crmcore.segmentation.rfm.ordered_aggregates", return_value=None):
        yield


@contextmanager
def walk_must_run(*, tiny_periods: bool = True) -> Iterator[list[Any]]:
    """Record what the walk returned (to assert that it did not decline).

    Small examples have few rows per period; unless ``tiny_periods`` is False the walk is
    told to take them anyway (its threshold is about speed, not results).
    """
    seen: list[Any] = []
    real = _summary.ordered_aggregates

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        seen.append(out)
        return out

    floor = 0 if tiny_periods else _summary.MIN_ROWS_PER_BLOCK
    with (
        mock.patch("crmcore.segmentation.rfm.ordered_aggregates", side_effect=spy),
        mock.patch.object(_summary, "MIN_ROWS_PER_BLOCK", floor),
    ):
        yield seen


def in_date_order(tx: pd.DataFrame) -> pd.DataFrame:
    return tx.sort_values("date", kind="stable")


def both(fn: Any, tx: pd.DataFrame, **kw: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    with walk_must_run() as seen:
        fast = fn(tx, **kw)
    assert seen
    assert seen[0] is not None, "the walk declined rows in date order"
    with sorting_path():
        slow = fn(tx, **kw)
    return fast, slow


@settings(max_examples=60)
@given(
    tx=transaction_frames(max_rows=80, max_customers=15),
    period=st.sampled_from(PERIODS),
    first=st.booleans(),
    multiplier=st.sampled_from([1, 7, 2.5]),
)
def test_walk_equals_sorting_path_bit_for_bit(
    tx: pd.DataFrame, period: str, first: bool, multiplier: float
) -> None:
    tx = in_date_order(tx)
    fast, slow = both(rfm_summary, tx, period=period)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    kw = {"period": period, "include_first_transaction": first, "freq_multiplier": multiplier}
    fast, slow = both(btyd_summary, tx, amount="amount", **kw)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    fast, slow = both(btyd_summary, tx, **kw)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)


def _plain_pandas_btyd(tx: pd.DataFrame, period: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """The lifetimes convention written with pandas groupby on Periods (the reference)."""
    alias = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q", "Y": "Y"}[period]
    per = tx["date"].dt.to_period(alias)
    end = as_of.to_period(alias)
    daily = tx.assign(per=per).groupby(["customer_id", "per"])["amount"].sum()
    g = daily.reset_index().groupby("customer_id")
    n = g.size()
    first, last = g["per"].min(), g["per"].max()
    repeat = (g["amount"].sum() - g["amount"].first()) / (n - 1).where(n > 1)
    return pd.DataFrame(
        {
            "frequency": (n - 1).astype(float),
            "recency": [(b - a).n for a, b in zip(first, last, strict=True)],
            "T": [(end - a).n for a in first],
            "monetary_value": repeat.fillna(0.0),
        },
        index=n.index,
    ).astype(float)


@settings(max_examples=60)
@given(tx=transaction_frames(max_rows=80, max_customers=15), period=st.sampled_from(PERIODS))
def test_walk_equals_a_plain_pandas_reference(tx: pd.DataFrame, period: str) -> None:
    tx = in_date_order(tx)
    with walk_must_run() as seen:
        got = btyd_summary(tx, amount="amount", period=period)
    assert seen[0] is not None
    want = _plain_pandas_btyd(tx, period, tx["date"].max())
    pd.testing.assert_frame_equal(got, want, check_names=False, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("dtype", ["int8", "uint16", "int32", "uint64", "int64"])
def test_walk_handles_units_id_types_and_far_dates(period: str, unit: str, dtype: str) -> None:
    dates = np.array(
        ["1969-12-31T23:00", "1970-01-01", "1970-01-01T05:00", "1970-02-01", "2024-02-29"],
        dtype=f"datetime64[{unit}]",
    )
    if unit in ("s", "ms", "us"):  # outside pandas' nanosecond range
        dates = np.concatenate([np.array(["1500-06-01"], dtype=f"datetime64[{unit}]"), dates])
        dates = np.concatenate([dates, np.array(["2500-01-01"], dtype=f"datetime64[{unit}]")])
    ids = np.resize(np.array([7, 3, 7, 120, 3], dtype=dtype), len(dates))
    tx = pd.DataFrame({"customer_id": ids, "date": dates, "amount": np.arange(len(dates)) + 0.5})
    fast, slow = both(rfm_summary, tx, period=period)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    fast, slow = both(btyd_summary, tx, amount="amount", period=period)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)


def _ordered_tx(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    days = np.sort(rng.integers(0, 300, n))
    return pd.DataFrame(
        {
            "customer_id": rng.integers(1, 9, n),
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"),
            "amount": rng.integers(1, 1000, n) / 100.0,
        }
    )


@pytest.mark.parametrize(
    "change",
    [
        "shuffled",
        "text ids",
        "sparse ids",
        "tz-aware",
        "int amounts",
        "refund allowed",
    ],
)
def test_cases_the_walk_declines_or_covers_give_the_same_result(change: str) -> None:
    tx = _ordered_tx()
    kw: dict[str, Any] = {}
    if change == "shuffled":
        tx = tx.iloc[::-1]
    elif change == "text ids":
        tx = tx.assign(customer_id="c" + tx["customer_id"].astype(str))
    elif change == "sparse ids":
        tx = tx.assign(customer_id=tx["customer_id"] * 10**12)
    elif change == "tz-aware":
        tx = tx.assign(date=tx["date"].dt.tz_localize("Europe/Berlin"))
    elif change == "int amounts":
        tx = tx.assign(amount=(tx["amount"] * 100).astype(np.int64))
    else:
        tx.loc[tx.index[5], "amount"] = -3.0
        kw["refunds"] = "allow"
    got = rfm_summary(tx, **kw)
    with sorting_path():
        want = rfm_summary(tx, **kw)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_rows_after_as_of_are_an_error_or_excluded_like_the_sorting_path() -> None:
    tx = _ordered_tx()
    as_of = tx["date"].iloc[25]
    with pytest.raises(DataError, match="after as_of") as fast:
        rfm_summary(tx, as_of=as_of)
    with sorting_path(), pytest.raises(DataError, match="after as_of") as slow:
        rfm_summary(tx, as_of=as_of)
    assert str(fast.value) == str(slow.value)
    with pytest.warns(DeprecationWarning, match=r"\d+ row\(s\) after as_of"):
        got = btyd_summary(tx, amount="amount", as_of=as_of, after_as_of="exclude")
    with sorting_path(), pytest.warns(DeprecationWarning, match="after_as_of"):
        want = btyd_summary(tx, amount="amount", as_of=as_of, after_as_of="exclude")
    pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("amount", np.nan, "has NaN"),
        ("amount", -1.0, "negative value"),
        ("amount", np.inf, "infinite"),
        ("date", pd.NaT, "missing date"),
    ],
)
def test_bad_values_in_date_ordered_rows_raise_the_usual_errors(
    column: str, value: object, match: str
) -> None:
    tx = _ordered_tx()
    tx.loc[tx.index[0], column] = value
    with pytest.raises(DataError, match=match):
        btyd_summary(tx, amount="amount")


def test_many_tiny_periods_take_the_sorting_path() -> None:
    n = 20_000
    tx = pd.DataFrame(
        {
            "customer_id": np.arange(n) % 50,
            "date": pd.Timestamp("1900-01-01") + pd.to_timedelta(np.arange(n), unit="D"),
            "amount": 1.0,
        }
    )
    with walk_must_run(tiny_periods=False) as seen:
        got = rfm_summary(tx)
    assert seen[0] is None  # one row per day: a sort is cheaper than 20 000 blocks
    assert got["frequency"].sum() == n
