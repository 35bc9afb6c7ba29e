"""rfm_summary and btyd_summary: hand-worked examples, lifetimes values, properties, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.datasets import transactions
from crmcore.errors import ColumnTypeError, ConfigError, DataError, InputTypeError, SchemaError
from crmcore.segmentation import btyd_summary, cut_at_as_of, rfm_summary
from helpers import call_unmutated, shuffled
from strategies import transaction_frames
from strategies_segmentation import date_kinds, represent_as_of, represent_dates


def _dt(values: object) -> pd.DatetimeIndex:
    return pd.to_datetime(values, format="ISO8601")  # type: ignore[call-overload]


# --------------------------------------------------------------------------------------------
# Hand-worked example, every period.
#
# customer 1: 2024-01-30 (Tue) 10.0, 2024-02-02 (Fri) 20.0, 2024-05-15 (Wed) 30.0
# customer 2: 2024-03-31 (Sun) 10:00 5.0 and 18:00 7.0 (two orders, one day)
# as_of = 2024-06-03 (Mon)
# --------------------------------------------------------------------------------------------
HAND = pd.DataFrame(
    {
        "customer_id": [2, 1, 1, 2, 1],
        "date": _dt(
            [
                "2024-03-31 18:00",
                "2024-01-30",
                "2024-05-15",
                "2024-03-31 10:00",
                "2024-02-02",
            ]
        ),
        "amount": [7.0, 10.0, 30.0, 5.0, 20.0],
    }
)
AS_OF = "2024-06-03"

# rfm: (recency, frequency, tenure) per customer, per period
HAND_RFM = {
    # days: c1 last 05-15 -> 06-03 = 16 + 3 = 19; first 01-30 -> 06-03 = 1+29+31+30+31+3 = 125;
    #       c2 03-31 -> 06-03 = 30 + 31 + 3 = 64; two orders on one day = frequency 1
    "D": ([19, 64], [3, 1], [125, 64]),
    # Monday weeks: 01-30 and 02-02 share the week of 01-29; 05-15 is in the week of 05-13
    # (01-29 + 15 weeks); as_of's week is 06-03 (+18); 03-31 (Sun) is in the week of 03-25 (+8)
    "W": ([3, 18 - 8], [2, 1], [18, 18 - 8]),
    # months: Jan, Feb, May vs June -> recency 1, tenure 5; March -> 3
    "M": ([1, 3], [3, 1], [5, 3]),
    # quarters: Q1, Q1, Q2 vs Q2 -> recency 0, tenure 1, frequency 2; Q1 -> 1
    "Q": ([0, 1], [2, 1], [1, 1]),
    "Y": ([0, 0], [1, 1], [0, 0]),
}

# btyd: frequency, recency, T, monetary_value per customer, per period
HAND_BTYD = {
    # D: c1 3 days -> frequency 2, recency 125 - 19 = 106, T 125, value mean(20, 30) = 25
    "D": ([2, 0], [106, 0], [125, 64], [25.0, 0.0]),
    # W: c1 2 weeks -> frequency 1, recency 15, T 18, value = second week's total 30
    "W": ([1, 0], [15, 0], [18, 10], [30.0, 0.0]),
    # M: Jan, Feb, May -> frequency 2, recency 4, T 5, value mean(20, 30)
    "M": ([2, 0], [4, 0], [5, 3], [25.0, 0.0]),
    # Q: Q1 (10 + 20) and Q2 (30) -> frequency 1, recency 1, T 1, value 30
    "Q": ([1, 0], [1, 0], [1, 1], [30.0, 0.0]),
    "Y": ([0, 0], [0, 0], [0, 0], [0.0, 0.0]),
}


@pytest.mark.parametrize("period", ["D", "W", "M", "Q", "Y"])
def test_rfm_summary_hand_worked(period: str) -> None:
    out = call_unmutated(rfm_summary, HAND, as_of=AS_OF, period=period)
    recency, frequency, tenure = HAND_RFM[period]
    expected = pd.DataFrame(
        {
            "recency": np.array(recency, dtype=np.int64),
            "frequency": np.array(frequency, dtype=np.int64),
            "monetary": [60.0, 12.0],
            "first_purchase": _dt(["2024-01-30", "2024-03-31 10:00"]),
            "last_purchase": _dt(["2024-05-15", "2024-03-31 18:00"]),
            "tenure": np.array(tenure, dtype=np.int64),
        },
        index=pd.Index([1, 2], name="customer_id"),
    )
    pd.testing.assert_frame_equal(out, expected)
    assert out.attrs == {}  # results are return values, never DataFrame.attrs


@pytest.mark.parametrize("period", ["D", "W", "M", "Q", "Y"])
def test_btyd_summary_hand_worked(period: str) -> None:
    out = call_unmutated(btyd_summary, HAND, amount="amount", as_of=AS_OF, period=period)
    frequency, recency, t, value = HAND_BTYD[period]
    expected = pd.DataFrame(
        {"frequency": frequency, "recency": recency, "T": t, "monetary_value": value},
        index=pd.Index([1, 2], name="customer_id"),
        dtype=np.float64,
    )
    pd.testing.assert_frame_equal(out, expected)


def test_rfm_summary_default_as_of_is_latest_date() -> None:
    out = rfm_summary(HAND)
    # latest date 2024-05-15: c1 recency 0, c2 03-31 -> 05-15 = 30 + 15 = 45
    assert out["recency"].tolist() == [0, 45]


def test_rfm_summary_tz_aware_uses_local_calendar() -> None:
    # 23:30 in Berlin on Jan 31 is Jan 31 locally (Jan 31 22:30 UTC): the month is January.
    tx = pd.DataFrame(
        {
            "customer_id": ["b", "a", "b"],
            "date": _dt(["2024-01-31 23:30", "2024-02-01 00:30", "2024-03-05"]).tz_localize(
                "Europe/Berlin"
            ),
            "amount": [1.0, 2.0, 3.0],
        }
    )
    out = rfm_summary(tx, period="M")
    assert out.index.tolist() == ["a", "b"]
    assert out["recency"].tolist() == [1, 0]
    assert out["tenure"].tolist() == [1, 2]
    assert str(out["first_purchase"].dtype).endswith("Europe/Berlin]")
    assert out.loc["b", "first_purchase"] == pd.Timestamp("2024-01-31 23:30", tz="Europe/Berlin")


def test_rfm_summary_text_ids_and_iso_text_dates() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["x", "y", "x"],
            "date": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "amount": [1, 2, 3],
        }
    )
    out = rfm_summary(tx)
    assert out.index.tolist() == ["x", "y"]
    assert out["monetary"].tolist() == [4.0, 2.0]


def test_refunds_allowed_reduce_monetary() -> None:
    tx = HAND.assign(amount=[7.0, 10.0, 30.0, 5.0, -20.0])
    out = rfm_summary(tx, as_of=AS_OF, refunds="allow")
    assert out["monetary"].tolist() == [20.0, 12.0]


def test_amounts_adding_up_past_the_largest_float_are_named_not_inf() -> None:
    # Each amount is finite, but customer 7's two add up to 3.4e308 > 1.8e308: a monetary of
    # inf would be silently wrong. Both paths (rows in date order and not) name its largest.
    tx = pd.DataFrame(
        {
            "customer_id": [7, 8, 7],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "amount": [1.5e308, 1e308, 1.7e308],
        },
        index=["a", "b", "c"],
    )
    want = (
        "column 'amount' of transactions: the amounts of customer 7 add up past the largest "
        "float (about 1.8e308), the largest being 1.7e+308 at row 'c' (customer_id=7); "
        "expected totals a float can hold (express the amounts in a larger unit, e.g. thousands)"
    )
    for frame in (tx, tx.iloc[::-1]):
        with pytest.raises(DataError) as info:
            rfm_summary(frame)
        assert str(info.value) == want
        assert (info.value.column, info.value.row) == ("amount", "c")
    # btyd_summary's monetary_value leaves the first purchase out: 1.7e308 alone fits
    btyd = btyd_summary(tx, amount="amount")
    assert btyd.loc[7, "monetary_value"] == 1.7e308
    # one customer's total near the largest float is still a number
    assert rfm_summary(tx.iloc[[0, 1]]).loc[7, "monetary"] == 1.5e308


def test_after_as_of_cut_explicitly_and_counted() -> None:
    # as_of 2024-04-01: customer 1's 2024-05-15 purchase is after it
    cut = call_unmutated(cut_at_as_of, HAND, as_of="2024-04-01")
    assert cut.n_excluded == 1
    assert cut.excluded.index.tolist() == [2]
    out = rfm_summary(cut.kept, as_of=cut.as_of)
    # c1: last purchase 02-02 -> 04-01 = 27 + 31 + 1 = 59 days, 2 purchase days, 30.0
    assert out.loc[1, ["recency", "frequency", "monetary"]].tolist() == [59, 2, 30.0]


def test_deprecated_exclude_warns_with_the_count_and_equals_the_cut() -> None:
    cut = cut_at_as_of(HAND, as_of="2024-04-01")
    with pytest.warns(DeprecationWarning, match=r"1 row\(s\) after as_of.*cut_at_as_of"):
        out = call_unmutated(rfm_summary, HAND, as_of="2024-04-01", after_as_of="exclude")
    pd.testing.assert_frame_equal(out, rfm_summary(cut.kept, as_of="2024-04-01"))
    assert out.attrs == {}
    with pytest.warns(DeprecationWarning, match="goes in crmcore 0.3"):
        b = btyd_summary(HAND, as_of="2024-04-01", after_as_of="exclude")
    pd.testing.assert_frame_equal(b, btyd_summary(cut.kept, as_of="2024-04-01"))


def test_after_as_of_all_rows_excluded_gives_empty_summary() -> None:
    with pytest.warns(DeprecationWarning, match=r"5 row\(s\)"):
        out = rfm_summary(HAND, as_of="2023-01-01", after_as_of="exclude")
    assert out.empty
    assert list(out.columns) == [
        "recency",
        "frequency",
        "monetary",
        "first_purchase",
        "last_purchase",
        "tenure",
    ]
    with pytest.warns(DeprecationWarning, match="after_as_of='exclude' is deprecated"):
        b = btyd_summary(HAND, as_of="2023-01-01", after_as_of="exclude")
    assert b.empty
    assert list(b.columns) == ["frequency", "recency", "T"]


def test_non_contiguous_integer_ids_and_large_ids() -> None:
    tx = HAND.assign(customer_id=HAND["customer_id"].map({1: 10**15, 2: -5}))
    out = rfm_summary(tx, as_of=AS_OF)
    assert out.index.tolist() == [-5, 10**15]
    assert out["monetary"].tolist() == [12.0, 60.0]


# --------------------------------------------------------------------------------------------
# lifetimes: values produced by lifetimes 0.11.3 summary_data_from_transaction_data (pandas
# 2.0.3, numpy 1.26.4) on the tables below; crmcore must give the same numbers.
# --------------------------------------------------------------------------------------------
LT = pd.DataFrame(
    {
        "customer_id": [3, 1, 1, 1, 2, 2, 3, 1, 4],
        "date": _dt(
            [
                "2024-01-10 09:00",
                "2024-01-01 08:00",
                "2024-01-01 17:30",
                "2024-01-03 12:00",
                "2024-01-02 00:00",
                "2024-01-20 23:59",
                "2024-01-10 18:00",
                "2024-01-15 00:00",
                "2024-02-01 00:00",
            ]
        ),
        "amount": [7.5, 10.0, 5.0, 20.0, 8.0, 12.0, 2.5, 30.0, 40.0],
    }
)

LIFETIMES_SMALL = [
    # (kwargs for btyd_summary, lifetimes output {column: values}, customers)
    (
        {},
        {
            "frequency": [2, 1, 0, 0],
            "recency": [14, 18, 0, 0],
            "T": [31, 30, 22, 0],
            "monetary_value": [25, 12, 0, 0],
        },
        [1, 2, 3, 4],
    ),
    # observation_period_end="2024-01-20 12:00": the 23:59 order that day is kept (same day);
    # customer 4 (February) is dropped by lifetimes, cut (and counted) by crmcore
    (
        {"as_of": "2024-01-20 12:00", "cut": True},
        {
            "frequency": [2, 1, 0],
            "recency": [14, 18, 0],
            "T": [19, 18, 10],
            "monetary_value": [25, 12, 0],
        },
        [1, 2, 3],
    ),
    (
        {"period": "W"},
        {
            "frequency": [1, 1, 0, 0],
            "recency": [2, 2, 0, 0],
            "T": [4, 4, 3, 0],
            "monetary_value": [30, 12, 0, 0],
        },
        [1, 2, 3, 4],
    ),
    # weekly with observation_period_end on a Wednesday: the Saturday order is kept
    (
        {"period": "W", "as_of": "2024-01-17", "cut": True},
        {
            "frequency": [1, 1, 0],
            "recency": [2, 2, 0],
            "T": [2, 2, 1],
            "monetary_value": [30, 12, 0],
        },
        [1, 2, 3],
    ),
    (
        {"freq_multiplier": 7},
        {
            "frequency": [2, 1, 0, 0],
            "recency": [2.0, 2.5714285714285716, 0.0, 0.0],
            "T": [4.428571428571429, 4.285714285714286, 3.142857142857143, 0.0],
            "monetary_value": [25, 12, 0, 0],
        },
        [1, 2, 3, 4],
    ),
    (
        {"include_first_transaction": True},
        {
            "frequency": [3, 2, 1, 1],
            "recency": [14, 18, 0, 0],
            "T": [31, 30, 22, 0],
            "monetary_value": [21.666666666666668, 10.0, 10.0, 40.0],
        },
        [1, 2, 3, 4],
    ),
]


@pytest.mark.parametrize(("kwargs", "expected", "customers"), LIFETIMES_SMALL)
def test_btyd_summary_matches_lifetimes_small(
    kwargs: dict[str, object], expected: dict[str, list[float]], customers: list[int]
) -> None:
    options = dict(kwargs)
    data = LT
    if options.pop("cut", False):  # lifetimes drops the later rows silently; crmcore cuts them
        cut = cut_at_as_of(LT, as_of=options["as_of"], period=str(options.get("period", "D")))
        assert cut.n_excluded == 1
        data = cut.kept
    out = call_unmutated(btyd_summary, data, amount="amount", **options)
    want = pd.DataFrame(expected, index=pd.Index(customers, name="customer_id"), dtype=float)
    pd.testing.assert_frame_equal(out, want, rtol=1e-15)


def test_btyd_summary_without_amount_matches_lifetimes() -> None:
    # lifetimes without monetary_value_col: frequency, recency, T only
    out = btyd_summary(LT)
    want = pd.DataFrame(
        {"frequency": [2, 1, 0, 0], "recency": [14, 18, 0, 0], "T": [31, 30, 22, 0]},
        index=pd.Index([1, 2, 3, 4], name="customer_id"),
        dtype=float,
    )
    pd.testing.assert_frame_equal(out, want)


# lifetimes 0.11.3 on crmcore.datasets.transactions(25, n_transactions=120, seed=11) with
# observation_period_end="2024-12-31" (monetary values rounded to 10 decimals when recorded).
SAMPLE_CUSTOMERS = [2, 3, 4, 5, 8, 10, 11, 13, 15, 16, 17, 19, 21, 22, 23, 24, 25]
LIFETIMES_SAMPLE = {
    "D": {
        "frequency": [12, 8, 1, 25, 0, 2, 23, 1, 2, 1, 2, 9, 0, 2, 6, 1, 6],
        "recency": [276, 158, 93, 249, 0, 197, 511, 9, 218, 78, 142, 493, 0, 65, 274, 323, 274],
        "T": [340, 160, 271, 251, 267, 247, 600, 225, 384, 271, 174, 637, 169, 129, 697, 413, 292],
        "monetary_value": [
            716.7766666667,
            22.975,
            80.85,
            562.098,
            0.0,
            61.29,
            350.662173913,
            133.99,
            51.415,
            25.55,
            87.46,
            124.82,
            0.0,
            105.625,
            51.4216666667,
            66.91,
            55.3483333333,
        ],
    },
    "W": {
        "frequency": [12, 6, 1, 18, 0, 2, 20, 1, 2, 1, 1, 8, 0, 2, 6, 1, 6],
        "recency": [40, 22, 13, 35, 0, 29, 73, 1, 31, 11, 20, 70, 0, 10, 39, 46, 39],
        "T": [49, 23, 39, 36, 38, 36, 86, 32, 55, 39, 25, 91, 24, 19, 100, 59, 42],
        "monetary_value": [
            716.7766666667,
            30.6333333333,
            80.85,
            756.2405555556,
            0.0,
            61.29,
            403.2615,
            133.99,
            51.415,
            25.55,
            174.92,
            140.4225,
            0.0,
            105.625,
            51.4216666667,
            66.91,
            55.3483333333,
        ],
    },
}


@pytest.mark.parametrize("period", ["D", "W"])
def test_btyd_summary_matches_lifetimes_on_seeded_sample(period: str) -> None:
    tx = transactions(25, n_transactions=120, seed=11)
    out = btyd_summary(tx, amount="amount", as_of="2024-12-31", period=period)
    want = pd.DataFrame(
        LIFETIMES_SAMPLE[period],
        index=pd.Index(SAMPLE_CUSTOMERS, name="customer_id"),
        dtype=float,
    )
    pd.testing.assert_frame_equal(out, want, rtol=0, atol=1e-9)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------
PANDAS_PERIOD = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q", "Y": "Y"}


def _reference_rfm(tx: pd.DataFrame, period: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """A slow, obviously-correct reference built on pandas Periods."""
    per = tx["date"].dt.to_period(PANDAS_PERIOD[period])
    end = as_of.to_period(PANDAS_PERIOD[period])
    work = tx.assign(per=per)
    rows = {}
    for cust, g in work.groupby("customer_id"):
        first = g["per"].min()
        last = g["per"].max()
        rows[cust] = {
            "recency": (end - last).n,
            "frequency": g["per"].nunique(),
            "monetary": g["amount"].sum(),
            "tenure": (end - first).n,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


@given(tx=transaction_frames(), period=st.sampled_from(["D", "W", "M", "Q", "Y"]))
def test_rfm_summary_equals_period_reference(tx: pd.DataFrame, period: str) -> None:
    out = rfm_summary(tx, period=period)
    ref = _reference_rfm(tx, period, tx["date"].max())
    assert out.index.tolist() == sorted(ref.index)
    for col in ("recency", "frequency", "tenure"):
        assert out[col].tolist() == ref.loc[out.index, col].tolist()
    np.testing.assert_allclose(out["monetary"], ref.loc[out.index, "monetary"], rtol=1e-12)


@given(tx=transaction_frames(), seed=st.integers(0, 2**16), period=st.sampled_from(["D", "W"]))
def test_rfm_summary_properties(tx: pd.DataFrame, seed: int, period: str) -> None:
    out = rfm_summary(tx, period=period)
    pd.testing.assert_frame_equal(rfm_summary(shuffled(tx, seed), period=period), out)
    assert (out["frequency"] >= 1).all()
    assert (out["recency"] >= 0).all()
    assert (out["recency"] <= out["tenure"]).all()
    assert (out["first_purchase"] <= out["last_purchase"]).all()
    assert out.index.is_monotonic_increasing
    assert out.index.is_unique
    assert set(out.index) == set(tx["customer_id"])
    np.testing.assert_allclose(out["monetary"].sum(), tx["amount"].sum(), rtol=1e-12)
    grouped = tx.groupby("customer_id")["date"]
    assert (out["first_purchase"] == grouped.min()).all()
    assert (out["last_purchase"] == grouped.max()).all()


@given(
    tx=transaction_frames(),
    seed=st.integers(0, 2**16),
    period=st.sampled_from(["D", "W", "M", "Q"]),
)
def test_btyd_summary_consistent_with_rfm(tx: pd.DataFrame, seed: int, period: str) -> None:
    b = btyd_summary(tx, amount="amount", period=period)
    r = rfm_summary(tx, period=period)
    pd.testing.assert_frame_equal(
        btyd_summary(shuffled(tx, seed), amount="amount", period=period), b
    )
    assert b["frequency"].tolist() == (r["frequency"] - 1).tolist()
    assert b["T"].tolist() == r["tenure"].tolist()
    assert b["recency"].tolist() == (r["tenure"] - r["recency"]).tolist()
    assert (b["recency"] <= b["T"]).all()
    assert ((b["frequency"] > 0) | (b["monetary_value"] == 0)).all()
    # repeat value * repeat count + first-period total = all the customer's money
    per = tx["date"].dt.to_period(PANDAS_PERIOD[period])
    first_total = (
        tx.assign(per=per).groupby(["customer_id", "per"])["amount"].sum().groupby(level=0).first()
    )
    np.testing.assert_allclose(
        b["monetary_value"] * b["frequency"] + first_total, r["monetary"], rtol=1e-9
    )


@given(tx=transaction_frames(min_rows=2), cut=st.integers(0, 400))
def test_exclude_counts_rows_after_as_of(tx: pd.DataFrame, cut: int) -> None:
    as_of = pd.Timestamp("2024-01-01") + pd.Timedelta(days=cut)
    after = int((tx["date"].dt.floor("D") > as_of).sum())
    with pytest.warns(DeprecationWarning, match=f"; {after} row"):
        out = rfm_summary(tx, as_of=as_of, after_as_of="exclude")
    kept = tx[tx["date"].dt.floor("D") <= as_of]
    assert set(out.index) == set(kept["customer_id"])
    if after:
        with pytest.raises(DataError, match=r"after as_of.*cut_at_as_of"):
            rfm_summary(tx, as_of=as_of)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------
def _tx(**changes: object) -> pd.DataFrame:
    base = {
        "customer_id": [1, 2, 3],
        "date": _dt(["2024-01-01", "2024-01-02", "2024-01-03"]),
        "amount": [1.0, 2.0, 3.0],
    }
    base.update(changes)
    return pd.DataFrame(base)


BAD = [
    (
        "missing column",
        pd.DataFrame({"customer_id": [1]}),
        {},
        SchemaError,
        r"transactions is missing column\(s\) 'date', 'amount'",
    ),
    ("empty", _tx().iloc[:0], {}, SchemaError, "transactions is empty"),
    ("not a frame", [1, 2], {}, InputTypeError, "must be a pandas DataFrame"),
    (
        "NaN amount",
        _tx(amount=[1.0, np.nan, 3.0]),
        {},
        DataError,
        r"'amount' of transactions has NaN at row 1 \(customer_id=2\)",
    ),
    (
        "NaT date",
        _tx(date=_dt(["2024-01-01", None, "2024-01-03"])),
        {},
        DataError,
        r"missing date \(NaT\) at row 1",
    ),
    (
        "missing customer",
        _tx(customer_id=[1, None, 3]),
        {},
        DataError,
        "'customer_id' of transactions has a missing value at row 1",
    ),
    (
        "text amount",
        _tx(amount=["1", "x", "3"]),
        {},
        ColumnTypeError,
        r"non-numeric value 'x' at row 1",
    ),
    (
        "infinite amount",
        _tx(amount=[1.0, np.inf, 3.0]),
        {},
        DataError,
        r"infinite value inf at row 1",
    ),
    (
        "negative amount",
        _tx(amount=[1.0, -2.0, 3.0]),
        {},
        DataError,
        r"negative value -2.0 at row 1 \(customer_id=2\).*refunds='allow'",
    ),
    (
        "after as_of",
        _tx(),
        {"as_of": "2024-01-02"},
        DataError,
        r"2024-01-03.*row 2 \(customer_id=3\), after as_of=2024-01-02.*1 row\(s\).*cut_at_as_of",
    ),
    (
        "mixed tz",
        _tx(
            date=[
                pd.Timestamp("2024-01-01", tz="UTC"),
                pd.Timestamp("2024-01-02"),
                pd.Timestamp("2024-01-03", tz="UTC"),
            ]
        ),
        {},
        DataError,
        "mixes naive and tz-aware dates",
    ),
    (
        "junk date",
        _tx(date=["2024-01-01", "soon", "2024-01-03"]),
        {},
        ColumnTypeError,
        "value 'soon' at row 1 .*not a date",
    ),
    ("numeric date", _tx(date=[1, 2, 3]), {}, ColumnTypeError, "expected dates"),
    ("bad period", _tx(), {"period": "H"}, ConfigError, "period='H' is not one of"),
    ("bad refunds", _tx(), {"refunds": "net"}, ConfigError, "refunds='net' is not one of"),
    ("bad after_as_of", _tx(), {"after_as_of": "drop"}, ConfigError, "after_as_of='drop'"),
    ("bad as_of", _tx(), {"as_of": "someday"}, ConfigError, "as_of='someday' is not a date"),
    (
        "aware as_of, naive dates",
        _tx(),
        {"as_of": pd.Timestamp("2024-02-01", tz="UTC")},
        ConfigError,
        "mix naive and tz-aware",
    ),
]


@pytest.mark.parametrize("func", [rfm_summary, btyd_summary])
@pytest.mark.parametrize(
    ("frame", "kwargs", "exc", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_input(
    func: object, frame: object, kwargs: dict[str, object], exc: type[Exception], match: str
) -> None:
    if func is btyd_summary:
        kwargs = {"amount": "amount", **kwargs}
    with pytest.raises(exc, match=match):
        func(frame, **kwargs)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (0, "freq_multiplier == 0, must be > 0"),
        (-1.0, "must be > 0"),
        ("7", "freq_multiplier must be int or float"),
    ],
)
def test_btyd_bad_freq_multiplier(value: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        btyd_summary(_tx(), freq_multiplier=value)  # type: ignore[arg-type]


def test_btyd_bad_include_first_transaction() -> None:
    with pytest.raises(ConfigError, match="include_first_transaction must be bool"):
        btyd_summary(_tx(), include_first_transaction=1)  # type: ignore[arg-type]


def test_error_carries_structured_fields() -> None:
    with pytest.raises(DataError) as info:
        rfm_summary(_tx(amount=[1.0, -2.0, 3.0]))
    assert (info.value.column, info.value.row, info.value.value) == ("amount", 1, -2.0)


def test_custom_column_names() -> None:
    tx = HAND.rename(columns={"customer_id": "cust", "date": "when", "amount": "eur"})
    out = call_unmutated(rfm_summary, tx, customer="cust", date="when", amount="eur", as_of=AS_OF)
    assert out.index.name == "cust"
    assert out["monetary"].tolist() == [60.0, 12.0]
    b = call_unmutated(btyd_summary, tx, customer="cust", date="when", amount="eur")
    assert list(b.columns) == ["frequency", "recency", "T", "monetary_value"]


@pytest.mark.parametrize(
    ("dtype", "ids"),
    [
        ("int8", [-100, 100, -100]),
        ("int16", [-100, 100, -100]),
        ("uint8", [250, 3, 250]),
        ("uint64", [2**64 - 1, 2**64 - 5, 2**64 - 1]),
        ("int64", [-(2**63), -(2**63) + 7, -(2**63)]),
        ("int64", [0, 10**12, 0]),  # range too wide for the lookup table: hash path
    ],
)
def test_integer_id_dtypes(dtype: str, ids: list[int]) -> None:
    tx = _tx(customer_id=np.array(ids, dtype=dtype))
    out = rfm_summary(tx)
    assert out.index.dtype == np.dtype(dtype)
    assert out.index.tolist() == sorted(set(ids))
    first = ids[0]
    assert out.loc[first, "monetary"] == 4.0  # rows 0 and 2: 1.0 + 3.0


@pytest.mark.slow
@pytest.mark.parametrize("shuffle", [False, True])
def test_summaries_at_scale_match_pandas_groupby(shuffle: bool) -> None:
    tx = transactions(100_000, n_transactions=1_000_000, seed=3)
    if shuffle:
        tx = shuffled(tx, 0)
    b = btyd_summary(tx, amount="amount")
    day = tx["date"].dt.floor("D")
    per = tx.assign(day=day).groupby(["customer_id", "day"])["amount"].sum()
    g = per.reset_index().groupby("customer_id")
    n = g.size()
    first = g["day"].min()
    assert b["frequency"].tolist() == (n - 1).astype(float).tolist()
    assert b["recency"].tolist() == (g["day"].max() - first).dt.days.astype(float).tolist()
    assert b["T"].tolist() == (tx["date"].max() - first).dt.days.astype(float).tolist()
    repeat = (g["amount"].sum() - g["amount"].first()) / (n - 1).where(n > 1)
    np.testing.assert_allclose(b["monetary_value"], repeat.fillna(0.0), rtol=1e-9, atol=1e-9)
    r = rfm_summary(tx)
    assert r["frequency"].tolist() == n.tolist()
    np.testing.assert_allclose(r["monetary"], tx.groupby("customer_id")["amount"].sum())


# --------------------------------------------------------------------------------------------
# Any date dtype and range: pyarrow timestamps, tz-aware, before 1677 and after 2262
# --------------------------------------------------------------------------------------------

PERIODS = st.sampled_from(["D", "W", "M", "Q", "Y"])


@given(tx=transaction_frames(), kind=date_kinds, period=PERIODS, day=st.integers(400, 800))
def test_summaries_do_not_depend_on_how_dates_are_held(
    tx: pd.DataFrame, kind: str, period: str, day: int
) -> None:
    # Shifts of whole 400-year Gregorian cycles keep every weekday and month: same summaries.
    as_of = pd.Timestamp("2024-01-01") + pd.Timedelta(days=day)
    held = represent_dates(tx, kind)
    when = represent_as_of(as_of, kind)
    got = rfm_summary(held, as_of=when, period=period)
    want = rfm_summary(tx, as_of=as_of, period=period)
    counts = ["recency", "frequency", "monetary", "tenure"]
    pd.testing.assert_frame_equal(got[counts], want[counts])
    pd.testing.assert_frame_equal(
        btyd_summary(held, amount="amount", as_of=when, period=period),
        btyd_summary(tx, amount="amount", as_of=as_of, period=period),
    )


def test_dates_before_1677_and_after_2262_hand_worked() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": np.array(["1500-01-30", "1500-03-02", "2500-01-01"], dtype="datetime64[s]"),
            "amount": [10.0, 20.0, 5.0],
        }
    )
    out = rfm_summary(tx, as_of=np.datetime64("2500-01-01", "s"), period="Y")
    assert out["recency"].tolist() == [1000, 0]
    assert out["tenure"].tolist() == [1000, 0]
    assert out["first_purchase"].tolist() == [
        pd.Timestamp("1500-01-30"),
        pd.Timestamp("2500-01-01"),
    ]
    b = btyd_summary(tx.iloc[:2], amount="amount", period="M")
    assert b[["frequency", "recency", "T", "monetary_value"]].iloc[0].tolist() == [1, 2, 2, 20]
