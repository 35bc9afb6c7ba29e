"""Tests for crmcore.kpi.customers: hand-worked examples, properties, bad input, no mutation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.datasets import transactions
from crmcore.errors import ConfigError, DataError, SchemaError
from crmcore.kpi import new_customers, retention, revenue_by_period
from helpers import call_unmutated, shuffled
from strategies import transaction_frames

D = pd.to_datetime


# ----------------------------------------------------------------------------- new_customers


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 1, 3, 4, 2],
            "region": ["N", "S", "S", "N", "N", "S"],
            "date": D(
                ["2024-01-05", "2024-01-20", "2024-03-02", "2024-03-09", "2024-04-01", "2024-04-30"]
            ),
            "amount": [10.0, 20.0, 5.0, 2.5, 1.0, 4.0],
        }
    )


def test_new_customers_hand_worked_with_empty_month() -> None:
    # Jan: customers 1, 2 new; Feb: nobody; Mar: 3 new (1 returns); Apr: 4 new (2 returns).
    got = new_customers(_tx())
    want = pd.DataFrame(
        {"new_customers": [2, 0, 1, 1], "active_customers": [2, 0, 2, 2]},
        index=pd.DatetimeIndex(
            D(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]), name="period"
        ).as_unit(_tx()["date"].dt.unit),  # period starts keep the unit of the dates
    )
    pd.testing.assert_frame_equal(got, want)


def test_new_customers_by_region_attributes_first_purchase() -> None:
    # Customer 1 first bought in N (Jan); their March purchase in S is not "new" in S.
    got = new_customers(_tx(), by="region")
    assert got.loc[("N", pd.Timestamp("2024-01-01")), "new_customers"] == 1
    assert got.loc[("S", pd.Timestamp("2024-03-01")), "new_customers"] == 0
    assert got.loc[("S", pd.Timestamp("2024-03-01")), "active_customers"] == 1
    # Every region gets every month, zeros filled.
    assert len(got) == 2 * 4


@settings(max_examples=30)  # several pandas group-bys per example; keep the area fast
@given(transaction_frames())
def test_new_customers_properties(tx: pd.DataFrame) -> None:
    got = new_customers(tx, period="W")
    assert int(got["new_customers"].sum()) == tx["customer_id"].nunique()
    assert (got["active_customers"] >= got["new_customers"]).all()
    pd.testing.assert_frame_equal(new_customers(shuffled(tx, 5), period="W"), got)


# ---------------------------------------------------------------------------------- retention


def test_retention_pair_hand_worked() -> None:
    # Jan active {1, 2}; Mar active {1, 3}: 1 of 2 retained -> 0.5 retention, 0.5 churn.
    got = retention(_tx(), period_a="2024-01", period_b="2024-03-15")
    assert got.loc["all"].tolist() == [2, 1, 1, 0.5, 0.5]


def test_retention_consecutive_periods() -> None:
    # Feb from Jan: {1,2} -> {} = 0/2; Mar from Feb: nobody active in Feb -> NaN;
    # Apr from Mar: {1,3} -> {4,2}: 0/2.
    got = retention(_tx())
    assert got["active_a"].tolist() == [2, 0, 2]
    assert got["retained"].tolist() == [0, 0, 0]
    assert np.isnan(got["retention_rate"].iloc[1])
    # Quarterly: Q1 {1,2,3} -> Q2 {4,2}: 1 of 3 retained.
    q = retention(_tx(), period="Q")
    assert q["active_a"].tolist() == [3]
    assert q["retention_rate"].iloc[0] == pytest.approx(1 / 3)


def test_retention_by_group_needs_same_group_in_both_periods() -> None:
    # Region S: Jan {2}, Apr {2} -> retained; N: Jan {1}, Apr {4} -> not.
    got = retention(_tx(), period_a="2024-01-01", period_b="2024-04-01", by="region")
    assert got["retention_rate"].tolist() == [0.0, 1.0]
    assert got.index.tolist() == ["N", "S"]


def test_retention_matches_published_style_cohort_on_generated_data() -> None:
    tx = transactions(60, seed=4)
    pair = retention(tx, period_a="2024-01", period_b="2024-02")
    cons = retention(tx)
    assert pair.loc["all", "retained"] == cons.loc[pd.Timestamp("2024-02-01"), "retained"]


@settings(max_examples=30)  # several pandas group-bys per example; keep the area fast
@given(transaction_frames(), st.sampled_from(["W", "M", "Q"]))
def test_retention_properties(tx: pd.DataFrame, period: str) -> None:
    got = retention(tx, period=period)
    ok = got["active_a"] > 0
    np.testing.assert_allclose(
        (got["retention_rate"] + got["churn_rate"])[ok].to_numpy(), 1.0, rtol=0, atol=1e-12
    )
    assert got.loc[~ok, "retention_rate"].isna().all()
    assert (got["retained"] <= got["active_a"]).all()
    assert (got["churned"] == got["active_a"] - got["retained"]).all()
    pd.testing.assert_frame_equal(retention(shuffled(tx, 6), period=period), got)


# -------------------------------------------------------------------------- revenue_by_period


def test_revenue_by_period_zero_fill_and_widening() -> None:
    got = revenue_by_period(_tx(), start="2023-12-15", end="2024-05-01")
    assert [str(p.date()) for p in got.index] == [
        "2023-12-01",
        "2024-01-01",
        "2024-02-01",
        "2024-03-01",
        "2024-04-01",
        "2024-05-01",
    ]
    # Jan 10 + 20; Mar 5 + 2.5; Apr 1 + 4.
    assert got["revenue"].tolist() == [0.0, 30.0, 0.0, 7.5, 5.0, 0.0]
    assert got["transactions"].tolist() == [0, 2, 0, 2, 2, 0]


def test_revenue_by_period_by_region_allows_refunds() -> None:
    tx = _tx()
    tx.loc[5, "amount"] = -4.0
    got = revenue_by_period(tx, by="region", period="Q")
    # S in Q2 only has the refund.
    assert got.loc[("S", pd.Timestamp("2024-04-01")), "revenue"] == -4.0
    assert got.loc[("N", pd.Timestamp("2024-01-01")), "revenue"] == 12.5


@settings(max_examples=30)  # several pandas group-bys per example; keep the area fast
@given(transaction_frames(), st.sampled_from(["D", "W", "M", "Q", "Y"]))
def test_revenue_by_period_properties(tx: pd.DataFrame, period: str) -> None:
    got = revenue_by_period(tx, period=period)
    np.testing.assert_allclose(got["revenue"].sum(), tx["amount"].sum(), rtol=1e-12)
    assert int(got["transactions"].sum()) == len(tx)
    assert got.index.is_monotonic_increasing
    assert got.index.is_unique
    pd.testing.assert_frame_equal(revenue_by_period(shuffled(tx, 7), period=period), got)


def test_time_zones_are_kept_and_bucketed_on_the_local_calendar() -> None:
    # 2024-03-31 23:30 UTC is already April in Berlin.
    tx = pd.DataFrame(
        {"date": pd.to_datetime(["2024-03-31 23:30"]).tz_localize("UTC"), "amount": [1.0]}
    )
    tx["date"] = tx["date"].dt.tz_convert("Europe/Berlin")
    got_tx = revenue_by_period(tx, start="2024-03-15")
    assert [str(p.date()) for p in got_tx.index] == ["2024-03-01", "2024-04-01"]
    assert got_tx["revenue"].tolist() == [0.0, 1.0]


def test_new_customers_agree_with_rfm_first_purchase() -> None:
    from crmcore.segmentation import rfm_summary

    tx = transactions(80, seed=9)
    first = rfm_summary(tx)["first_purchase"]
    want = first.dt.to_period("M").dt.start_time.value_counts().sort_index()
    got = new_customers(tx)["new_customers"]
    assert got[got > 0].tolist() == want.tolist()
    assert [str(p.date()) for p in got[got > 0].index] == [str(p.date()) for p in want.index]


# ----------------------------------------------------------------------------------- bad input


BAD = [
    (new_customers, _tx().drop(columns="date"), {}, SchemaError, "'date'"),
    (new_customers, _tx().assign(customer_id=[1, None, 2, 3, 4, 5]), {}, DataError, "row 1"),
    (revenue_by_period, _tx().assign(amount=[1, 2, np.inf, 4, 5, 6]), {}, DataError, "infinite"),
    (revenue_by_period, _tx(), {"start": "soon"}, ConfigError, "start='soon' is not a date"),
    (retention, _tx(), {"period_a": "2024-01"}, ConfigError, "both period_a and period_b"),
    (retention, _tx(), {"by": "period"}, ConfigError, "may not contain 'period'"),
    (
        retention,
        _tx(),
        {"period_a": "2024-01", "period_b": "never"},
        ConfigError,
        "period_b='never'",
    ),
]


@pytest.mark.parametrize(("func", "frame", "kwargs", "exc", "match"), BAD)
def test_bad_input(
    func: object, frame: object, kwargs: dict[str, object], exc: type, match: str
) -> None:
    with pytest.raises(exc, match=match):
        func(frame, **kwargs)  # type: ignore[operator]


# ------------------------------------------------------------------------------- no mutation


@pytest.mark.parametrize(
    ("func", "kwargs"),
    [
        (new_customers, {"by": "region"}),
        (revenue_by_period, {"by": "region"}),
        (retention, {"by": "region"}),
        (retention, {"period_a": "2024-01", "period_b": "2024-03"}),
    ],
)
def test_transaction_metrics_do_not_mutate(func: object, kwargs: dict[str, object]) -> None:
    call_unmutated(func, _tx(), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("func", [new_customers, retention])
def test_customer_ids_mixing_numbers_and_text_are_an_error(func: object) -> None:
    # issue 14 catalogue: 1 and "1" were counted as two customers
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, "1"],
            "date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-05"]),
        },
        index=["r1", "r2", "r3"],
    )
    kwargs = {"period_a": "2024-01", "period_b": "2024-02"} if func is retention else {}
    with pytest.raises(DataError, match=r"mixes number 1 \(row 'r1'\) and text '1' \(row 'r3'\)"):
        func(tx, **kwargs)  # type: ignore[operator]


def test_revenue_by_period_of_amounts_near_the_largest_float() -> None:
    # January: 1.7e308 + 1.7e308 - 1.7e308 - 1.7e308 + 0.85e308 = 0.85e308 (two sales
    # refunded), exactly, in any order of addition: every partial sum is a multiple of 0.85e308
    # that a float holds, or passes the largest float (then the month is summed again in row
    # order at a scale where nothing overflows). March: 1.7e308 + 1.7e308 = 3.4e308: an error
    big = 1.7e308
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 1, 2, 4, 3, 3],
            "date": D(
                [
                    "2024-01-05",
                    "2024-01-06",
                    "2024-01-20",
                    "2024-01-21",
                    "2024-01-22",
                    "2024-03-02",
                    "2024-03-09",
                ]
            ),
            "amount": [big, big, -big, -big, big / 2, big, big],
        },
        index=["t1", "t2", "t3", "t4", "t5", "t6", "t7"],
    )
    got = revenue_by_period(tx.iloc[:5])
    assert got["revenue"].tolist() == [big / 2]
    with pytest.raises(
        DataError,
        match=r"column 'amount' of transactions adds up past the "
        r"largest float \(about 1.8e308\) at row 't7', value 1.7e\+308",
    ) as e:
        revenue_by_period(tx)
    assert (e.value.row, e.value.value) == ("t7", big)


@settings(max_examples=30)
@given(transaction_frames(), st.integers(min_value=0, max_value=2**20))
def test_revenue_by_period_near_the_largest_float_is_exact_or_an_error(
    tx: pd.DataFrame, seed: int
) -> None:
    # every amount near +-1.7e308 (signs drawn): each month's revenue is its sum whenever a float
    # holds it, else the error names one of that month's rows. The sum is exact up to rounding:
    # summed again at a smaller scale, the partial sums (odd multiples of 1.7e308 / 2**k) may
    # round, by at most one unit in the last place per row (numpy 1.26 and pandas 3.0.0 take
    # that path where newer versions sum exactly)
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=len(tx))
    huge = tx.assign(amount=signs * 1.7e308)
    months = huge["date"].dt.to_period("M")
    counts = pd.Series(signs).groupby(months.to_numpy()).sum()  # +1.7e308s less -1.7e308s
    if (counts.abs() > 1).any():  # a month's exact total passes the largest float
        with pytest.raises(DataError, match="column 'amount' of transactions adds up past"):
            revenue_by_period(huge)
        return
    got = revenue_by_period(huge)
    for month, k in counts.items():
        err = abs(got.loc[month.to_timestamp(), "revenue"] - k * 1.7e308)
        assert err <= len(tx) * np.spacing(1.7e308)
