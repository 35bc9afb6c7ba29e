"""Tests for crmcore.segmentation.abc: abc_classes and abc_xyz."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ColumnTypeError, ConfigError, DataError, InputTypeError, SchemaError
from crmcore.segmentation import abc_classes, abc_summary, abc_xyz, item_totals
from helpers import call_unmutated, shuffled
from strategies import transaction_frames
from strategies_segmentation import date_kinds, represent_dates

# ------------------------------------------------------------------ abc_classes: examples


def test_worked_example_50_20_10_8_5_4_3() -> None:
    # Total 100. Sorted descending with cumulative shares:
    #   50 -> 50 %, 20 -> 70 %, 10 -> 80 % (reaches 80 %: last A item),
    #   8 -> 88 %, 5 -> 93 %, 4 -> 97 % (crosses 95 %: last B item), 3 -> 100 % (C).
    values = pd.Series([50, 20, 10, 8, 5, 4, 3], index=list("abcdefg"))
    out = call_unmutated(abc_classes, values)
    expected = pd.Series(
        pd.Categorical(list("AAABBBC"), categories=pd.Index(["A", "B", "C"], dtype=object)),
        index=values.index,
        name="abc",
    )
    pd.testing.assert_series_equal(out, expected)


def test_crossing_item_is_in_the_better_class() -> None:
    # 90 alone crosses 80 % (90 %): it is A, not B.
    assert abc_classes([90, 6, 4]).tolist() == ["A", "B", "C"]
    # 60 -> 60 %, 30 -> 90 % (crosses 80 %: A); 10 -> 100 %, S = 90 % < 95 %: B.
    assert abc_classes([60, 30, 10]).tolist() == ["A", "A", "B"]


def test_exact_cutoff_in_decimal_arithmetic() -> None:
    # 0.5 + 0.2 + 0.1 = 0.8 exactly in decimals (0.7999999999999999 in floats): the third item
    # reaches 80 % and the fourth (S = 80 %) starts B; S(0.05) = 95 % exactly -> C.
    assert 0.5 + 0.2 + 0.1 != 0.8
    values = [0.5, 0.2, 0.1, 0.09, 0.06, 0.05]
    assert abc_classes(values).tolist() == ["A", "A", "A", "B", "B", "C"]


def test_ties_share_the_better_class() -> None:
    # 40, 20, 20, 20: S(40) = 0 -> A; S(20) = 40 % < 80 % -> A for all three 20s,
    # although the last 20 alone would start at 80 %.
    assert abc_classes([20, 40, 20, 20]).tolist() == ["A", "A", "A", "A"]
    # 70, 10, 10, 10: S(10) = 70 % < 80 % -> all 10s are A.
    assert abc_classes([10, 70, 10, 10]).tolist() == ["A", "A", "A", "A"]
    # 85, 5, 5, 5: S(5) = 85 % -> B for all (95 % is crossed inside the tie group).
    assert abc_classes([85, 5, 5, 5]).tolist() == ["A", "B", "B", "B"]


def test_zeros_and_all_zero() -> None:
    assert abc_classes([10, 0, 0]).tolist() == ["A", "C", "C"]
    assert abc_classes([0.0, 0.0]).tolist() == ["C", "C"]
    # cutoff 1.0: every positive value reaches A or B, zeros stay last
    assert abc_classes([5, 3, 2, 0], cutoffs=(0.5, 1.0)).tolist() == ["A", "B", "B", "C"]


def test_count_basis() -> None:
    # 10 items ranked by value; top 20 % of items (2) are A, next up to 50 % B, rest C.
    values = pd.Series([100, 90, 80, 70, 60, 50, 40, 30, 20, 10])
    out = abc_classes(values, (0.2, 0.5), basis="count")
    assert out.tolist() == list("AABBBCCCCC")
    # ties still share the better class
    assert abc_classes([5, 5, 5, 1], (0.2, 0.5), basis="count").tolist() == list("AAAC")


def test_custom_labels_and_cutoffs() -> None:
    out = abc_classes([60, 25, 10, 5], cutoffs=(0.5, 0.8, 0.9), labels=["W", "X", "Y", "Z"])
    # cumulative 60 %, 85 %, 95 %, 100 %; S = 0, 60, 85, 95 %.
    assert out.tolist() == ["W", "X", "Y", "Z"]
    assert list(out.cat.categories) == ["W", "X", "Y", "Z"]


def test_array_input_gets_range_index() -> None:
    arr = np.array([3.0, 1.0])
    out = call_unmutated(abc_classes, arr)
    assert out.index.equals(pd.RangeIndex(2))


BAD_ABC = [
    ([1.0, np.nan], {}, DataError, "NaN at row 1"),
    (pd.Series([1.0, -2.0], index=["a", "b"]), {}, DataError, "negative value -2.0 at row 'b'"),
    ([1.0, np.inf], {}, DataError, "infinite value inf at row 1"),
    (pd.Series(["1", "x"]), {}, ColumnTypeError, "non-numeric value 'x' at row 1"),
    ([], {}, SchemaError, "values is empty"),
    (pd.DataFrame({"a": [1]}), {}, InputTypeError, "got a DataFrame"),
    ([[1, 2]], {}, InputTypeError, "one-dimensional"),
    ([1, 2], {"cutoffs": (0.95, 0.8)}, ConfigError, "increase strictly"),
    ([1, 2], {"cutoffs": (0.0, 0.8)}, ConfigError, "must be > 0.0"),
    ([1, 2], {"cutoffs": (0.8, 1.2)}, ConfigError, "must be <= 1.0"),
    ([1, 2], {"cutoffs": ()}, ConfigError, "cutoffs is empty"),
    ([1, 2], {"cutoffs": 0.8}, ConfigError, "sequence of numbers"),
    ([1, 2], {"labels": ("A", "B")}, ConfigError, "2 label.*2 cutoff.*need 3"),
    ([1, 2], {"labels": ("A", "A", "C")}, ConfigError, "twice"),
    ([1, 2], {"labels": "ABC"}, ConfigError, "sequence of text labels"),
    ([1, 2], {"basis": "share"}, ConfigError, "basis='share' is not one of"),
]


@pytest.mark.parametrize(("values", "kw", "exc", "match"), BAD_ABC)
def test_abc_bad_input(
    values: object, kw: dict[str, object], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        abc_classes(values, **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------ abc_classes: properties

values_lists = st.lists(
    st.one_of(
        st.just(0.0),
        st.integers(1, 50).map(float),  # many ties
        st.floats(0.01, 1e6, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=40,
)
RANK = {"A": 0, "B": 1, "C": 2}


@given(values_lists, st.sampled_from(["value", "count"]), st.integers(0, 2**31))
def test_abc_properties(values: list[float], basis: str, seed: int) -> None:
    s = pd.Series(values, index=[f"c{i}" for i in range(len(values))])
    out = abc_classes(s, basis=basis)  # type: ignore[arg-type]
    assert out.index.equals(s.index)
    ranks = out.map(RANK).to_numpy(dtype=int)
    v = s.to_numpy()
    # monotone: a larger value never gets a worse class; equal values get equal classes
    order = np.argsort(-v, kind="stable")
    assert (np.diff(ranks[order]) >= 0).all()
    for x in np.unique(v):
        assert len(set(ranks[v == x])) == 1
    # zeros are C
    assert (ranks[v == 0] == 2).all()
    # shuffling rows changes nothing
    frame = s.to_frame("v")
    again = abc_classes(shuffled(frame, seed)["v"], basis=basis)  # type: ignore[arg-type]
    pd.testing.assert_series_equal(again.loc[s.index], out)
    if basis == "value" and v.sum() > 0:
        # A holds at least 80 % of the value, and without its smallest value group it would not
        a = v[ranks == 0]
        assert a.sum() >= 0.8 * v.sum() * (1 - 1e-9)
        smallest = a.min()
        assert a[a > smallest].sum() < 0.8 * v.sum()


# ------------------------------------------------------------------ abc_xyz


def tx_frame(rows: list[tuple[object, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "date": pd.to_datetime([r[1] for r in rows]),
            "amount": [float(r[2]) for r in rows],
        }
    )


def test_xyz_hand_example_population_and_sample() -> None:
    # Window Jan..Apr 2024 (4 months).
    # Customer "a": 10, 20, 30, 40 per month -> mean 25,
    #   squared deviations 225 + 25 + 25 + 225 = 500; population var 125, std 11.1803, cv 0.4472
    #   sample var 500/3 = 166.67, std 12.9099, cv 0.5164.
    # Customer "b": 20 in Feb only -> 0, 20, 0, 0 -> mean 5, sq dev 25+225+25+25 = 300;
    #   population std sqrt(75) = 8.6603, cv 1.7321.
    # Customer "c": two orders in March (15 + 5 = 20) -> same as b: 0, 0, 20, 0.
    tx = tx_frame(
        [
            ("a", "2024-01-03", 10),
            ("a", "2024-02-03", 20),
            ("a", "2024-03-03", 30),
            ("a", "2024-04-03", 40),
            ("b", "2024-02-10", 20),
            ("c", "2024-03-01", 15),
            ("c", "2024-03-31", 5),
        ]
    )
    out = call_unmutated(abc_xyz, tx)
    assert list(out.index) == ["a", "b", "c"]
    assert out.index.name == "customer_id"
    assert list(out.columns) == ["total", "abc", "periods", "mean", "std", "cv", "xyz", "abc_xyz"]
    assert out["total"].tolist() == [100.0, 20.0, 20.0]
    assert out["periods"].tolist() == [4, 4, 4]
    assert out["mean"].tolist() == [25.0, 5.0, 5.0]
    np.testing.assert_allclose(out["std"], [math.sqrt(125), math.sqrt(75), math.sqrt(75)])
    np.testing.assert_allclose(out["cv"], [math.sqrt(125) / 25, math.sqrt(75) / 5, math.sqrt(3)])
    # totals 100, 20, 20 of 140: a = 71.4 % -> crosses nothing yet, S(a)=0 -> A;
    # S(20) = 100/140 = 71.4 % < 80 % -> the tied 20s are both A.
    assert out["abc"].tolist() == ["A", "A", "A"]
    assert out["xyz"].tolist() == ["X", "Z", "Z"]  # 0.447 <= 0.5; 1.73 > 1.0
    assert out["abc_xyz"].tolist() == ["AX", "AZ", "AZ"]
    assert list(out["abc_xyz"].cat.categories)[:3] == ["AX", "AY", "AZ"]

    sample = abc_xyz(tx, ddof=1)
    np.testing.assert_allclose(sample.loc["a", "std"], math.sqrt(500 / 3))
    assert sample.loc["a", "cv"] == pytest.approx(0.5164, abs=1e-4)
    assert sample.loc["a", "xyz"] == "Y"  # 0.516 > 0.5

    active = abc_xyz(tx, include_empty_periods=False)
    # b and c: one active month -> mean 20, std 0 -> cv 0 -> X
    assert active["periods"].tolist() == [4, 1, 1]
    assert active.loc["b", "mean"] == 20.0
    assert active.loc["b", "cv"] == 0.0
    assert active.loc["b", "xyz"] == "X"
    # with the sample deviation one period is not enough: cv NaN -> Z
    one = abc_xyz(tx, include_empty_periods=False, ddof=1)
    assert math.isnan(one.loc["b", "cv"])
    assert one.loc["b", "xyz"] == "Z"


def test_xyz_thresholds_boundary_and_periods() -> None:
    # Quarterly: a buys 10 in Q1 and 30 in Q2: mean 20, population std 10, cv 0.5 exactly -> X.
    tx = tx_frame([("a", "2024-01-15", 10), ("a", "2024-04-15", 30)])
    q = abc_xyz(tx, period="Q")
    assert q.loc["a", "periods"] == 2
    assert q.loc["a", "cv"] == 0.5
    assert q.loc["a", "xyz"] == "X"
    # monthly: 10, 0, 0, 30 -> mean 10, sq dev 0+100+100+400 = 600, std sqrt(150), cv 1.2247
    m = abc_xyz(tx)
    assert m.loc["a", "periods"] == 4
    assert m.loc["a", "cv"] == pytest.approx(math.sqrt(150) / 10)
    assert m.loc["a", "xyz"] == "Z"
    assert abc_xyz(tx, xyz_thresholds=(1.0, 2.0)).loc["a", "xyz"] == "Y"
    # yearly: one period for everyone
    assert abc_xyz(tx, period="Y").loc["a", "periods"] == 1


def test_xyz_zero_demand_and_tz_aware_dates() -> None:
    tx = tx_frame([("a", "2024-01-01", 0.0), ("b", "2024-01-02", 5.0)])
    out = abc_xyz(tx)
    assert math.isnan(out.loc["a", "cv"])
    assert out.loc["a", "xyz"] == "Z"
    assert out.loc["a", "abc"] == "C"
    aware = tx.assign(date=tx["date"].dt.tz_localize("Europe/Berlin"))
    pd.testing.assert_frame_equal(abc_xyz(aware), out)


BAD_XYZ = [
    (lambda t: t.drop(columns="amount"), {}, SchemaError, "missing column.*'amount'"),
    (lambda t: t.iloc[:0], {}, SchemaError, "transactions is empty"),
    (
        lambda t: t.assign(amount=[1.0, -1.0]),
        {},
        DataError,
        r"negative value -1.0 at row 1 \(customer_id='b'\).*refunds",
    ),
    (lambda t: t.assign(amount=[1.0, np.nan]), {}, DataError, "NaN at row 1"),
    (
        lambda t: t.assign(customer_id=["a", None]),
        {},
        DataError,
        "'customer_id'.*missing value at row 1",
    ),
    (lambda t: t.assign(date=[pd.NaT, pd.Timestamp("2024-01-01")]), {}, DataError, "NaT"),
    (lambda t: t.assign(date=[1, 2]), {}, ColumnTypeError, "expected dates"),
    (lambda t: t, {"period": "H"}, ConfigError, "period='H' is not one of"),
    (lambda t: t, {"ddof": 2}, ConfigError, "ddof == 2, must be <= 1"),
    (lambda t: t, {"xyz_thresholds": (1.0, 0.5)}, ConfigError, "increase strictly"),
    (lambda t: t, {"xyz_thresholds": (0.0, 0.5)}, ConfigError, "must be > 0.0"),
    (lambda t: t, {"xyz_thresholds": (0.5, np.inf)}, ConfigError, "finite"),
    (lambda t: t, {"xyz_thresholds": ()}, ConfigError, "non-empty sequence"),
    (lambda t: t, {"xyz_labels": ("X", "Y")}, ConfigError, "xyz_labels has 2"),
    (lambda t: t, {"abc_labels": ("A", "B")}, ConfigError, "abc_labels has 2"),
    (lambda t: t, {"cutoffs": (0.8,)}, ConfigError, "labels has 3 label"),
    (lambda t: t, {"include_empty_periods": "yes"}, ConfigError, "True or False"),
]


@pytest.mark.parametrize(("mutate", "kw", "exc", "match"), BAD_XYZ)
def test_abc_xyz_bad_input(mutate, kw: dict[str, object], exc: type[Exception], match: str) -> None:  # type: ignore[no-untyped-def]
    base = tx_frame([("a", "2024-01-01", 1.0), ("b", "2024-02-01", 2.0)])
    with pytest.raises(exc, match=match):
        abc_xyz(mutate(base), **kw)  # type: ignore[arg-type]


@st.composite
def small_tx(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 30))
    cust = draw(st.lists(st.integers(1, 6), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, 200), min_size=n, max_size=n))
    cents = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "customer_id": cust,
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"),
            "amount": np.asarray(cents, dtype=float) / 100,
        }
    )


@given(
    small_tx(),
    st.sampled_from(["W", "M", "Q"]),
    st.integers(0, 1),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_abc_xyz_matches_naive_computation(
    tx: pd.DataFrame, period: str, ddof: int, empty: bool, seed: int
) -> None:
    out = abc_xyz(tx, period=period, ddof=ddof, include_empty_periods=empty)
    # naive reference: pivot per-period totals, statistics per customer
    per = tx["date"].dt.to_period(period)
    window = pd.period_range(per.min(), per.max(), freq=period)
    table = tx.groupby(["customer_id", per])["amount"].sum().unstack(fill_value=0.0)
    table = table.reindex(columns=window, fill_value=0.0)
    for cust, row in table.iterrows():
        active = tx.loc[tx["customer_id"] == cust].assign(p=per).groupby("p")["amount"].sum()
        x = row.to_numpy() if empty else active.to_numpy()
        assert out.loc[cust, "periods"] == len(x)
        assert out.loc[cust, "mean"] == pytest.approx(x.mean())
        if len(x) > ddof:
            assert out.loc[cust, "std"] == pytest.approx(x.std(ddof=ddof), abs=1e-9)
        if x.mean() > 0 and len(x) > ddof:
            assert out.loc[cust, "cv"] == pytest.approx(x.std(ddof=ddof) / x.mean(), abs=1e-9)
        else:
            assert math.isnan(out.loc[cust, "cv"])
    # ABC of the totals equals abc_classes on the same totals
    expect = abc_classes(out["total"])
    assert out["abc"].astype(str).tolist() == expect.astype(str).tolist()
    # one row per item, sorted; shuffling rows changes nothing
    assert out.index.is_monotonic_increasing
    assert set(out.index) == set(tx["customer_id"])
    again = abc_xyz(shuffled(tx, seed), period=period, ddof=ddof, include_empty_periods=empty)
    pd.testing.assert_frame_equal(again, out, check_exact=False, rtol=1e-9)


def _class_codes_reference(
    values: np.ndarray, cutoffs: tuple[float, ...], basis: str
) -> np.ndarray:
    # The plain definition: distinct values with np.unique, S(v) per distinct value, then the
    # class scattered back through the inverse.
    n_classes = len(cutoffs) + 1
    uniq, inverse = np.unique(values, return_inverse=True)
    weights = uniq * np.bincount(inverse) if basis == "value" else np.bincount(inverse) * 1.0
    total = weights.sum()
    if total <= 0:
        return np.full(len(values), n_classes - 1, dtype=np.int64)
    desc = weights[::-1]
    greater = (np.cumsum(desc) - desc)[::-1] / total
    cls = np.searchsorted(np.asarray(cutoffs) - 1e-12, greater, side="right")
    cls[uniq == 0] = n_classes - 1
    return cls[inverse].astype(np.int64)


@given(
    st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.5, 10.0, 40.0, 100.0]), min_size=1, max_size=50),
    st.sampled_from([(0.8, 0.95), (0.5,), (0.2, 0.5, 0.9), (0.7, 1.0)]),
    st.sampled_from(["value", "count"]),
)
def test_class_codes_match_reference(
    values: list[float], cutoffs: tuple[float, ...], basis: str
) -> None:
    from crmcore.segmentation._classes import class_codes

    arr = np.array(values, dtype=np.float64)
    got = class_codes(arr, cutoffs, basis)
    np.testing.assert_array_equal(got, _class_codes_reference(arr, cutoffs, basis))
    assert got.dtype == np.int64


# ------------------------------------------------------------------ item_totals, abc_summary


def test_item_totals_adds_rows_per_item_sorted() -> None:
    tx = pd.DataFrame(
        {"client": ["b", "a", "b", "c", "a"], "total": [30.0, 50.0, 10.0, 10.0, -5.0]},
        index=[10, 11, 12, 13, 14],
    )
    out = call_unmutated(item_totals, tx, item="client", amount="total")
    # a: 50 - 5 (a refund) = 45; b: 30 + 10 = 40; c: 10
    expected = pd.Series([45.0, 40.0, 10.0], index=pd.Index(["a", "b", "c"], name="client"))
    pd.testing.assert_series_equal(out, expected.rename("total"))


@pytest.mark.parametrize(
    ("frame", "error", "message"),
    [
        (pd.DataFrame({"customer_id": [1]}), SchemaError, "missing column(s) 'amount'"),
        (pd.DataFrame({"customer_id": [], "amount": []}), SchemaError, "transactions is empty"),
        (
            pd.DataFrame({"customer_id": [1, None], "amount": [1.0, 2.0]}, index=[7, 8]),
            DataError,
            "customer_id",
        ),
        (
            pd.DataFrame({"customer_id": [1, 2], "amount": ["1", "x"]}, index=[7, 8]),
            ColumnTypeError,
            "'x'",
        ),
        (
            pd.DataFrame({"customer_id": [1, 2], "amount": [1.0, np.inf]}, index=[7, 8]),
            DataError,
            "row 8",
        ),
    ],
)
def test_item_totals_bad_input(frame: pd.DataFrame, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        item_totals(frame)


def test_item_totals_needs_a_frame() -> None:
    with pytest.raises(InputTypeError, match="transactions"):
        item_totals(pd.Series([1.0]))  # type: ignore[arg-type]


transactions_st = st.lists(
    st.tuples(st.integers(0, 9), st.floats(0, 1e6, allow_nan=False, allow_infinity=False)),
    min_size=1,
    max_size=60,
).map(lambda rows: pd.DataFrame(rows, columns=["customer_id", "amount"]))


@given(transactions_st, st.integers(0, 2**32 - 1))
def test_item_totals_reconcile_and_ignore_row_order(tx: pd.DataFrame, seed: int) -> None:
    totals = item_totals(tx)
    assert totals.index.is_monotonic_increasing
    assert totals.index.is_unique
    assert set(totals.index) == set(tx["customer_id"])
    assert totals.sum() == pytest.approx(tx["amount"].sum(), rel=1e-9, abs=1e-6)
    pd.testing.assert_series_equal(item_totals(shuffled(tx, seed)), totals, rtol=1e-9)


def test_abc_summary_worked_example() -> None:
    # 50, 20, 10 are A (80 %), 8, 5, 4 are B (17 %), 3 is C (3 %).
    totals = pd.Series([50.0, 20.0, 10.0, 8.0, 5.0, 4.0, 3.0], index=list("abcdefg"))
    classes = pd.DataFrame({"total": totals, "abc": abc_classes(totals)})
    out = call_unmutated(abc_summary, classes)
    expected = pd.DataFrame(
        {"items": [3, 3, 1], "total": [80.0, 17.0, 3.0], "share": [0.80, 0.17, 0.03]},
        index=pd.CategoricalIndex(
            ["A", "B", "C"], categories=pd.Index(["A", "B", "C"], dtype=object), name="abc"
        ),
    )
    pd.testing.assert_frame_equal(out, expected)


def test_abc_summary_keeps_empty_classes_and_reads_abc_xyz() -> None:
    # One item holding everything: A alone; B and C are empty but listed, best first.
    classes = pd.DataFrame({"total": [90.0], "abc": abc_classes([90.0])})
    out = abc_summary(classes)
    assert out["items"].tolist() == [1, 0, 0]
    assert out["share"].tolist() == [1.0, 0.0, 0.0]
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3],
            "date": pd.to_datetime(["2024-01-05", "2024-02-05", "2024-01-09", "2024-02-01"]),
            "amount": [60.0, 20.0, 15.0, 5.0],
        }
    )
    per_class = abc_summary(abc_xyz(tx))
    assert per_class["items"].tolist() == [1, 1, 1]
    assert per_class["total"].tolist() == [80.0, 15.0, 5.0]


def test_abc_summary_all_zero_has_no_shares_and_plain_labels_sort() -> None:
    zero = abc_summary(pd.DataFrame({"total": [0.0, 0.0], "abc": abc_classes([0.0, 0.0])}))
    assert zero["items"].tolist() == [0, 0, 2]
    assert zero["share"].isna().all()
    plain = abc_summary(pd.DataFrame({"total": [1.0, 2.0, 3.0], "abc": ["Y", "X", "Y"]}))
    assert plain.index.tolist() == ["X", "Y"]
    assert plain["items"].tolist() == [1, 2]


@pytest.mark.parametrize(
    ("frame", "error", "message"),
    [
        (pd.DataFrame({"abc": ["A"]}), SchemaError, "'total'"),
        (pd.DataFrame({"abc": [], "total": []}), SchemaError, "classes is empty"),
        (pd.DataFrame({"abc": ["A", None], "total": [1.0, 2.0]}), DataError, "'abc'"),
        (pd.DataFrame({"abc": ["A", "B"], "total": [1.0, "x"]}), ColumnTypeError, "'x'"),
    ],
)
def test_abc_summary_bad_input(frame: pd.DataFrame, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        abc_summary(frame)


@given(transactions_st, st.integers(0, 2**32 - 1))
def test_abc_summary_reconciles_with_the_items(tx: pd.DataFrame, seed: int) -> None:
    totals = item_totals(tx)
    classes = pd.DataFrame({"total": totals, "abc": abc_classes(totals)})
    out = abc_summary(classes)
    assert out.index.tolist() == ["A", "B", "C"]
    assert int(out["items"].sum()) == len(totals)
    assert out["total"].sum() == pytest.approx(totals.sum(), rel=1e-9, abs=1e-6)
    if totals.sum() > 0:
        assert out["share"].sum() == pytest.approx(1.0)
        assert out["share"].iloc[0] >= 0.8 - 1e-9  # A holds at least the first cut-off
    pd.testing.assert_frame_equal(abc_summary(shuffled(classes, seed)), out, rtol=1e-9)


@given(
    tx=transaction_frames(),
    kind=date_kinds,
    period=st.sampled_from(["D", "W", "M", "Q", "Y"]),
)
def test_abc_xyz_does_not_depend_on_how_dates_are_held(
    tx: pd.DataFrame, kind: str, period: str
) -> None:
    # pyarrow timestamps once failed ('ArrowTemporalProperties' has no 'to_period'); dates
    # shifted by whole 400-year cycles (before 1677, after 2262) have the same calendar.
    got = abc_xyz(represent_dates(tx, kind), period=period)
    pd.testing.assert_frame_equal(got, abc_xyz(tx, period=period))


def test_abc_xyz_on_pyarrow_timestamps_hand_worked() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "date": pd.Series(
                pd.to_datetime(["2024-01-05", "2024-02-05", "2024-03-05", "2024-01-09"])
            ).astype("timestamp[ns][pyarrow]"),
            "amount": [10.0, 10.0, 10.0, 30.0],
        }
    )
    out = abc_xyz(tx)
    # customer 2: monthly totals 30, 0, 0: mean 10, std sqrt(600 / 3), cv 1.414
    assert out["periods"].tolist() == [3, 3]
    assert out["cv"].round(4).tolist() == [0.0, 1.4142]
    assert out["abc_xyz"].tolist() == ["AX", "AZ"]


@pytest.mark.parametrize("func", [abc_xyz, item_totals])
def test_item_ids_mixing_numbers_and_text_are_an_error(func: object) -> None:
    # issue 14 catalogue: 1 and "1" were two items
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, "1"],
            "date": pd.to_datetime(["2024-01-05", "2024-02-05", "2024-03-05"]),
            "amount": [10.0, 20.0, 30.0],
        },
        index=["r1", "r2", "r3"],
    )
    with pytest.raises(DataError, match=r"mixes number 1 \(row 'r1'\) and text '1' \(row 'r3'\)"):
        func(tx)  # type: ignore[operator]


def test_amounts_near_the_float_limit() -> None:
    # issue 14 catalogue: 1e307 squared overflowed inside the XYZ variance (a RuntimeWarning
    # and an infinite std); the coefficient of variation does not depend on the scale
    days = pd.to_datetime(["2024-01-05", "2024-02-05", "2024-03-05", "2024-01-09"])
    small = pd.DataFrame(
        {"customer_id": [1, 1, 1, 2], "date": days, "amount": [1.0, 3.0, 2.0, 5.0]}
    )
    big = small.assign(amount=small["amount"] * 1e307)
    got, want = abc_xyz(big), abc_xyz(small)
    np.testing.assert_allclose(got["cv"], want["cv"], rtol=1e-12)
    np.testing.assert_allclose(got["std"], want["std"] * 1e307, rtol=1e-12)
    assert np.isfinite(got["std"]).all()


@pytest.mark.parametrize("func", [abc_xyz, item_totals])
def test_a_total_beyond_the_float_range_is_an_error(func: object) -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [7, 7],
            "date": pd.to_datetime(["2024-01-05", "2024-02-05"]),
            "amount": [1.5e308, 1.5e308],
        },
        index=["r1", "r2"],
    )
    with pytest.raises(DataError, match=r"'amount' .* float range .* customer_id 7 .* row 'r1'"):
        func(tx)  # type: ignore[operator]


def test_abc_near_the_largest_float_is_the_abc_of_the_same_values_scaled() -> None:
    # 60 %, 20 %, 12 %, 5 %, 3 % of a total past the largest float: shares do not depend on
    # the scale, so the classes are those of 60, 20, 12, 5, 3 (A: 60+20 = 80 %, B: 12, 5 %)
    big = 2.0**1018  # 100 * 2**1018 (about 2.8e308) in total: no float holds it
    small = pd.Series([60.0, 20.0, 12.0, 5.0, 3.0], index=list("vwxyz"))
    assert abc_classes(small * big).tolist() == ["A", "A", "B", "B", "C"]
    assert abc_classes(small * big).tolist() == abc_classes(small).tolist()
    # abc_summary: each class total is a float, their sum is not; shares 80 %, 17 %, 3 %
    classes = pd.DataFrame({"total": [big * 60, big * 12, big * 3], "abc": ["A", "B", "C"]})
    out = abc_summary(classes)
    np.testing.assert_allclose(out["share"].to_numpy(), [0.8, 0.16, 0.04], rtol=1e-15)
    with pytest.raises(DataError, match=r"column 'total' of classes adds up past the largest"):
        abc_summary(pd.DataFrame({"total": [big * 60, big * 60], "abc": ["A", "A"]}))


@given(
    st.lists(st.floats(min_value=1e-3, max_value=1e3), min_size=1, max_size=25),
    st.integers(min_value=1000, max_value=1013),  # 1e3 * 2**1013 is a float
)
def test_abc_classes_do_not_depend_on_a_power_of_two_scale(values, k):
    # values near 2**1020 and the same values near 1: the same shares, the same classes
    small = pd.Series(values)
    assert abc_classes(small * 2.0**k).tolist() == abc_classes(small).tolist()
