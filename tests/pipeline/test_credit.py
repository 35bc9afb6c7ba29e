"""Tests for crmcore.pipeline.credit: split_credit and credit_totals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ColumnTypeError, ConfigError, DataError, SchemaError
from crmcore.pipeline import credit_totals, split_credit
from helpers import call_unmutated, shuffled


def _deals(ids: list[object], amounts: list[float], **extra: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"opportunity_id": ids, "amount": amounts, **extra})


def _splits(ids: list[object], persons: list[str], shares: list[float], **extra: list[str]):
    return pd.DataFrame({"opportunity_id": ids, "person": persons, "share": shares, **extra})


class TestSplitCreditExamples:
    def test_50_30_20_of_1000_01(self) -> None:
        # 1000.01 = 100001 cents. Exact quotas 50000.5, 30000.3, 20000.2; floors sum to 100000,
        # one cent left goes to the largest remainder (0.5, ann): 50001 + 30000 + 20000.
        deals = _deals([1], [1000.01])
        splits = _splits([1, 1, 1], ["ann", "bob", "cy"], [0.5, 0.3, 0.2])
        out = call_unmutated(split_credit, deals, splits)
        expected = pd.DataFrame(
            {
                "share": [0.5, 0.3, 0.2],
                "credited_cents": np.array([50001, 30000, 20000], dtype=np.int64),
                "credited": [500.01, 300.00, 200.00],
                "owner_default": [False, False, False],
            },
            index=pd.MultiIndex.from_arrays(
                [[1, 1, 1], ["ann", "bob", "cy"], ["revenue"] * 3],
                names=["opportunity_id", "person", "split_type"],
            ),
        )
        pd.testing.assert_frame_equal(out, expected, check_index_type=False)

    @pytest.mark.parametrize(
        ("amount", "expected"),
        [
            # 10000 / 3 = 3333.33 each: floors 9999, one cent left; remainders tie, so it goes
            # to the person sorting first (ann), whatever the row order.
            (100.00, [3334, 3333, 3333]),
            # 10001 / 3 = 3333.67 each: floors 9999, two cents left -> ann and bob.
            (100.01, [3334, 3334, 3333]),
            # A refund is split with the same sign: -10001 / 3 -> -3334, -3334, -3333.
            (-100.01, [-3334, -3334, -3333]),
        ],
    )
    def test_tie_rule_first_person_in_sort_order(self, amount: float, expected: list[int]) -> None:
        deals = _deals(["d"], [amount])
        third = 1 / 3
        splits = _splits(["d"] * 3, ["cy", "bob", "ann"], [third, third, third])
        out = split_credit(deals, splits)
        assert out.index.get_level_values("person").tolist() == ["ann", "bob", "cy"]
        assert out["credited_cents"].tolist() == expected

    def test_overlay_on_top_of_revenue(self) -> None:
        # Revenue: ann 100 % of 1000.00. Overlays 10 % (mgr) and 25 % (spec) of 100000 cents:
        # total 35 % -> 35000 cents, split 10000 / 25000. Overlays do not count towards 100 %.
        deals = _deals([7], [1000.0])
        splits = _splits(
            [7, 7, 7],
            ["ann", "mgr", "spec"],
            [1.0, 0.10, 0.25],
            kind=["revenue", "overlay", "overlay"],
        )
        out = split_credit(deals, splits, split_type="kind")
        assert out.index.names == ["opportunity_id", "person", "kind"]
        got = dict(zip(out.index.get_level_values("person"), out["credited_cents"], strict=True))
        assert got == {"ann": 100000, "mgr": 10000, "spec": 25000}

    def test_overlays_may_total_more_than_100_percent(self) -> None:
        # Two overlays at 100 % each: each gets the full 500.00.
        deals = _deals([1], [500.0])
        splits = _splits(
            [1, 1, 1],
            ["a", "b", "c"],
            [1.0, 1.0, 1.0],
            split_type=["revenue", "overlay", "overlay"],
        )
        out = split_credit(deals, splits, split_type="split_type")
        assert out["credited_cents"].tolist() == [50000, 50000, 50000]

    def test_owner_fallback_and_percent_scale(self) -> None:
        # Deal 2 has no splits: 100 % to its owner, marked owner_default. Shares in percent.
        deals = _deals([1, 2], [10.0, 2.5], owner=["x", "zed"])
        splits = _splits([1, 1], ["ann", "bob"], [60.0, 40.0])
        out = split_credit(deals, splits, default_person="owner", scale="percent")
        assert out["credited_cents"].tolist() == [600, 400, 250]
        assert out["share"].tolist() == [60.0, 40.0, 100.0]
        assert out["owner_default"].tolist() == [False, False, True]
        assert out.index.get_level_values("person").tolist() == ["ann", "bob", "zed"]

    def test_owner_fallback_for_deal_with_only_overlays(self) -> None:
        deals = _deals([1], [100.0], owner=["own"])
        splits = _splits([1], ["mgr"], [0.5], split_type=["overlay"])
        out = split_credit(deals, splits, split_type="split_type", default_person="owner")
        got = dict(zip(out.index.get_level_values("person"), out["credited_cents"], strict=True))
        assert got == {"mgr": 5000, "own": 10000}

    def test_zero_decimals_currency(self) -> None:
        # JPY: 1001 yen at 50/50 -> 500.5 each; the odd yen goes to ann (tie, sorts first).
        out = split_credit(
            _deals([1], [1001]), _splits([1, 1], ["bob", "ann"], [0.5, 0.5]), decimals=0
        )
        assert out["credited_cents"].tolist() == [501, 500]
        assert out["credited"].tolist() == [501.0, 500.0]

    def test_credit_totals(self) -> None:
        # ann: 600 (deal 1) + 1000 (deal 2) = 1600 cents over 2 deals; bob 400 on deal 1.
        deals = _deals([1, 2], [10.0, 10.0])
        splits = _splits([1, 1, 2], ["ann", "bob", "ann"], [0.6, 0.4, 1.0])
        totals = call_unmutated(credit_totals, split_credit(deals, splits))
        expected = pd.DataFrame(
            {
                "deals": np.array([2, 1], dtype=np.int64),
                "credited_cents": np.array([1600, 400], dtype=np.int64),
                "credited": [16.0, 4.0],
            },
            index=pd.MultiIndex.from_arrays(
                [["ann", "bob"], ["revenue", "revenue"]], names=["person", "split_type"]
            ),
        )
        pd.testing.assert_frame_equal(totals, expected, check_index_type=False)

    def test_credit_totals_rejects_other_frames(self) -> None:
        with pytest.raises(SchemaError, match="split_credit output"):
            credit_totals(pd.DataFrame({"credited_cents": [1]}))


@st.composite
def credit_cases(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = draw(st.integers(1, 8))
    cents = draw(st.lists(st.integers(-(10**9), 10**9), min_size=n, max_size=n))
    people = ["p0", "p1", "p2", "p3", "p4", "p5"]
    rows: list[tuple[int, str, float, str]] = []
    for deal in range(n):
        chosen = draw(st.lists(st.sampled_from(people), min_size=1, max_size=6, unique=True))
        weights = draw(st.lists(st.integers(1, 1000), min_size=len(chosen), max_size=len(chosen)))
        total = sum(weights)
        rows.extend((deal, p, w / total, "revenue") for p, w in zip(chosen, weights, strict=True))
        overlay = draw(st.lists(st.sampled_from(people), max_size=3, unique=True))
        shares = draw(st.lists(st.floats(0, 2), min_size=len(overlay), max_size=len(overlay)))
        rows.extend((deal, p, x, "overlay") for p, x in zip(overlay, shares, strict=True))
    deals = pd.DataFrame({"opportunity_id": range(n), "amount": np.asarray(cents) / 100.0})
    splits = pd.DataFrame(rows, columns=["opportunity_id", "person", "share", "split_type"])
    return deals, splits


class TestSplitCreditProperties:
    @given(credit_cases())
    def test_credit_reconciles_to_the_cent(self, case: tuple[pd.DataFrame, pd.DataFrame]) -> None:
        deals, splits = case
        out = split_credit(deals, splits, split_type="split_type")
        assert out["credited_cents"].dtype == np.int64
        rev = out.xs("revenue", level="split_type")
        sums = rev["credited_cents"].groupby(level="opportunity_id").sum()
        expected = np.round(deals["amount"].to_numpy() * 100).astype(np.int64)
        np.testing.assert_array_equal(sums.sort_index().to_numpy(), expected)
        # Every part is within one cent of its exact quota and has the deal's sign.
        amount_cents = pd.Series(expected, index=deals["opportunity_id"])
        quota = (
            amount_cents.reindex(rev.index.get_level_values(0)).to_numpy() * rev["share"].to_numpy()
        )
        assert np.all(np.abs(rev["credited_cents"].to_numpy() - quota) < 1 + 1e-6)
        signs = np.sign(amount_cents.reindex(out.index.get_level_values(0)).to_numpy())
        assert np.all(out["credited_cents"].to_numpy() * signs >= 0)
        assert len(out) == len(splits)
        # credit_totals keeps every cent and every row.
        totals = credit_totals(out)
        assert totals["credited_cents"].sum() == out["credited_cents"].sum()
        assert totals["deals"].sum() == len(out)
        # Overlay cents of a deal = A * (sum of its overlay shares), rounded half away from zero.
        over = splits[splits["split_type"] == "overlay"]
        if over.empty:
            return
        share_sum = over.groupby("opportunity_id")["share"].sum()
        cents = pd.Series(np.round(deals["amount"].to_numpy() * 100), index=deals["opportunity_id"])
        exact = cents.reindex(share_sum.index).to_numpy() * share_sum.to_numpy()
        expected = np.sign(exact) * np.floor(np.abs(np.round(exact, 6)) + 0.5)
        got = out.xs("overlay", level="split_type")["credited_cents"].groupby(level=0).sum()
        np.testing.assert_array_equal(got.reindex(share_sum.index).to_numpy(), expected)

    @given(st.data())
    def test_percent_scale_is_fraction_times_100(self, data: st.DataObject) -> None:
        # Shares written as decimals (millionths of a deal), once as fractions and once as
        # percents: the same decimal share must credit the same cents, ties included. (A share
        # such as 34/165 has no exact decimal form, and 100 * (34/165) in float is a different
        # number from the percent a user would type, so such shares are not compared.)
        n = data.draw(st.integers(1, 5))
        cents = data.draw(st.lists(st.integers(-(10**9), 10**9), min_size=n, max_size=n))
        rows: list[tuple[int, str, int]] = []
        for deal in range(n):
            k = data.draw(st.integers(1, 6))
            cuts = sorted(
                data.draw(st.lists(st.integers(0, 10**6), min_size=k - 1, max_size=k - 1))
            )
            parts = np.diff([0, *cuts, 10**6])
            rows.extend((deal, f"p{i}", int(m)) for i, m in enumerate(parts))
        deals = pd.DataFrame({"opportunity_id": range(n), "amount": np.asarray(cents) / 100.0})
        millionths = pd.DataFrame(rows, columns=["opportunity_id", "person", "m"])
        as_fraction = millionths.assign(share=[float(f"{m / 10**6:.6f}") for m in millionths["m"]])
        as_percent = millionths.assign(share=[float(f"{m / 10**4:.4f}") for m in millionths["m"]])
        a = split_credit(deals, as_fraction.drop(columns="m"))
        b = split_credit(deals, as_percent.drop(columns="m"), scale="percent")
        pd.testing.assert_series_equal(a["credited_cents"], b["credited_cents"])

    def test_percent_and_fraction_tie_the_same_way(self) -> None:
        # 425 cents at 21.5758 % and 25.5758 %: both remainders are 0.697 in decimal.
        deals = _deals([3], [4.25])
        fr = [0.020606, 0.058182, 0.147879, 0.215758, 0.255758, 0.301817]
        a = split_credit(deals, _splits([3] * 6, [f"p{i}" for i in range(6)], fr))
        pc = [0.020606e2, 5.8182, 14.7879, 21.5758, 25.5758, 30.1817]
        b = split_credit(deals, _splits([3] * 6, [f"p{i}" for i in range(6)], pc), scale="percent")
        np.testing.assert_array_equal(a["credited_cents"], b["credited_cents"])
        assert a["credited_cents"].sum() == 425

    @given(credit_cases(), st.integers(0, 2**32 - 1))
    def test_row_order_changes_nothing(
        self, case: tuple[pd.DataFrame, pd.DataFrame], seed: int
    ) -> None:
        deals, splits = case
        a = split_credit(deals, splits, split_type="split_type")
        b = split_credit(shuffled(deals, seed), shuffled(splits, seed + 1), split_type="split_type")
        pd.testing.assert_frame_equal(a, b)


GOOD_DEALS = _deals([1, 2], [100.0, 50.0])
GOOD_SPLITS = _splits([1, 1, 2], ["a", "b", "a"], [0.5, 0.5, 1.0])


@pytest.mark.parametrize(
    ("deals", "splits", "kwargs", "exc", "match"),
    [
        (
            GOOD_DEALS,
            _splits([1, 1, 2], ["a", "b", "a"], [0.5, 0.4, 1.0]),
            {},
            DataError,
            r"revenue splits of deal 1 \(opportunity_id\) total 90 %; they must total 100 %",
        ),
        (
            GOOD_DEALS,
            _splits([1, 1, 2], ["a", "b", "a"], [0.5, 0.5, 1.2]),
            {},
            DataError,
            r"deal 2 .* total 120 %",
        ),
        (
            GOOD_DEALS,
            _splits([1, 1], ["a", "b"], [0.5, 0.5]),
            {},
            DataError,
            r"deal 2 \(opportunity_id\) has no revenue splits.*default_person=",
        ),
        (
            GOOD_DEALS,
            _splits([1, 1, 9], ["a", "b", "a"], [0.5, 0.5, 1.0]),
            {},
            DataError,
            r"splits row 2 names deal 9, which is not in opportunities",
        ),
        (
            GOOD_DEALS,
            _splits([1, 1, 2], ["a", "a", "a"], [0.5, 0.5, 1.0]),
            {},
            DataError,
            r"repeats person 'a'",
        ),
        (
            GOOD_DEALS,
            _splits([1, 1, 2], ["a", "b", "a"], [1.5, -0.5, 1.0]),
            {},
            DataError,
            r"negative share -0.5 at row 1 \(opportunity_id=1\)",
        ),
        (
            GOOD_DEALS,
            _splits([1, 1, 2], ["a", "b", "a"], [0.5, np.nan, 1.0]),
            {},
            DataError,
            r"column 'share' of splits has NaN at row 1",
        ),
        (
            GOOD_DEALS,
            _splits([1, 1, 2], ["a", None, "a"], [0.5, 0.5, 1.0]),
            {},
            DataError,
            r"column 'person' of splits has a missing value at row 1",
        ),
        (
            GOOD_DEALS,
            _splits([1, 1, 2], ["a", "b", "a"], ["x", 0.5, 1.0]),
            {},
            ColumnTypeError,
            r"non-numeric value 'x'",
        ),
        (_deals([1, 1], [1.0, 2.0]), GOOD_SPLITS, {}, DataError, r"duplicate value 1"),
        (_deals([1, 2], [np.nan, 2.0]), GOOD_SPLITS, {}, DataError, r"column 'amount' .* NaN"),
        (_deals([1, 2], [np.inf, 2.0]), GOOD_SPLITS, {}, DataError, r"infinite"),
        (_deals([], []), GOOD_SPLITS.iloc[:0], {}, SchemaError, r"opportunities is empty"),
        (
            GOOD_DEALS,
            GOOD_SPLITS.drop(columns="share"),
            {},
            SchemaError,
            r"missing column\(s\) 'share'",
        ),
        (
            GOOD_DEALS,
            GOOD_SPLITS,
            {"split_type": "kind"},
            SchemaError,
            r"missing column\(s\) 'kind'",
        ),
        (
            GOOD_DEALS,
            GOOD_SPLITS.assign(kind=["revenue", "bonus", "revenue"]),
            {"split_type": "kind"},
            DataError,
            r"column 'kind' of splits has value 'bonus' at row 1.*'revenue' or 'overlay'",
        ),
        (
            GOOD_DEALS,
            GOOD_SPLITS.iloc[:2],
            {"default_person": "owner"},
            SchemaError,
            r"missing column\(s\) 'owner'",
        ),
        (
            GOOD_DEALS.assign(owner=["x", None]),
            GOOD_SPLITS.iloc[:2],
            {"default_person": "owner"},
            DataError,
            r"missing person at row 1 \(opportunity_id=2\)",
        ),
        (GOOD_DEALS, GOOD_SPLITS, {"scale": "ratio"}, ConfigError, r"scale='ratio' is not one of"),
        (GOOD_DEALS, GOOD_SPLITS, {"decimals": -1}, ConfigError, r"decimals == -1"),
        (GOOD_DEALS, GOOD_SPLITS, {"tolerance": 0.5}, ConfigError, r"tolerance == 0.5"),
        (GOOD_DEALS, GOOD_SPLITS, {"scale": "percent"}, DataError, r"total 1 %"),
        ([1], GOOD_SPLITS, {}, TypeError, r"opportunities must be a pandas DataFrame"),
    ],
)
def test_split_credit_bad_input(
    deals: pd.DataFrame,
    splits: pd.DataFrame,
    kwargs: dict[str, object],
    exc: type[Exception],
    match: str,
) -> None:
    with pytest.raises(exc, match=match):
        split_credit(deals, splits, **kwargs)  # type: ignore[arg-type]


def test_tolerance_accepts_float_noise_but_not_more() -> None:
    # 0.1 + 0.2 + 0.7 is 1.0000000000000002 in floats: within the 1e-9 tolerance.
    deals = _deals([1], [10.0])
    ok = split_credit(deals, _splits([1, 1, 1], ["a", "b", "c"], [0.1, 0.2, 0.7]))
    assert ok["credited_cents"].tolist() == [100, 200, 700]
    with pytest.raises(DataError, match=r"total 100\.0001 %"):
        split_credit(deals, _splits([1, 1], ["a", "b"], [0.5, 0.500001]))


def test_decimal_amounts_and_shares_are_accepted() -> None:
    from decimal import Decimal

    deals = _deals([1], [Decimal("1000.01")])
    splits = _splits([1, 1, 1], ["ann", "bob", "cy"], [Decimal(x) for x in ("0.5", "0.3", "0.2")])
    out = split_credit(deals, splits)
    assert out["credited_cents"].tolist() == [50001, 30000, 20000]


def test_owner_keyword_still_works_with_a_deprecation_warning() -> None:
    deals = _deals([1, 2], [10.0, 2.5], owner=["x", "zed"])
    splits = _splits([1], ["ann"], [1.0])
    with pytest.warns(DeprecationWarning, match=r"split_credit\(owner=...\) was renamed"):
        old = split_credit(deals, splits, owner="owner")
    pd.testing.assert_frame_equal(old, split_credit(deals, splits, default_person="owner"))


# --- issue 14: labels, not positions; sums that cannot wrap --------------------------------


def test_amount_too_large_for_cents_names_the_row_label() -> None:
    deals = _deals([1, 2, 3], [1.0, 2.0, 1e15])
    deals.index = ["r10", "r20", "r30"]
    splits = _splits([1, 2, 3], ["a", "b", "c"], [1.0, 1.0, 1.0])
    with pytest.raises(DataError, match=r"at row 'r30' \(opportunity_id=3\), too large") as err:
        split_credit(deals, splits)
    assert err.value.row == "r30"


def test_overlay_credit_too_large_for_cents_names_the_deal() -> None:
    deals = _deals([1, 2], [1.0, 8e13])
    deals.index = ["r10", "r20"]
    splits = _splits(
        [1, 2, 2], ["a", "b", "c"], [1.0, 1.0, 50.0], kind=["revenue"] * 2 + ["overlay"]
    )
    with pytest.raises(DataError, match=r"overlay splits of deal 2 \(row 'r20'.*total 5000 %"):
        split_credit(deals, splits, split_type="kind")


def test_credit_totals_past_2_63_raise_instead_of_wrapping() -> None:
    # The case: two lines of 2**62 + 2**61 cents wrapped to -4.5e18 in int64.
    credit = pd.DataFrame(
        {"credited_cents": np.asarray([2**62 + 2**61, 2**62 + 2**61, 5], dtype=np.int64)},
        index=pd.MultiIndex.from_tuples(
            [(1, "ann", "revenue"), (2, "ann", "revenue"), (3, "bob", "revenue")],
            names=["opportunity_id", "person", "split_type"],
        ),
    )
    with pytest.raises(
        DataError, match=r"credited_cents of \('ann', 'revenue'\) sum to 13835058055282163712"
    ) as err:
        credit_totals(credit)
    assert err.value.row == ("ann", "revenue")
    fine = credit_totals(credit.iloc[1:])
    assert fine["credited_cents"].tolist() == [2**62 + 2**61, 5]


def test_credit_totals_refuses_float_cents_beyond_int64() -> None:
    credit = split_credit(_deals([1], [1.0]), _splits([1], ["a"], [1.0])).astype(
        {"credited_cents": np.float64}
    )
    credit["credited_cents"] = 1e19
    with pytest.raises(DataError, match=r"expected whole minor units \(int64\)"):
        credit_totals(credit)


@pytest.mark.parametrize(
    ("shares", "row", "value", "which"),
    [
        # 0.5 + 0.4 + 0.2 = 110 %: the largest share, 0.5 at row "x", is named
        ([0.5, 0.4, 0.2], "x", 0.5, "largest"),
        # 0.5 + 0.3 + 1e-300 = 80 %: the smallest, 1e-300 at row "z", is named
        ([0.5, 0.3, 1e-300], "z", 1e-300, "smallest"),
        # 1e307 % of a deal: an infinite percentage; the 1e307 share at row "y" is named
        ([0.5, 1e307, 0.2], "y", 1e307, "largest"),
    ],
)
def test_wrong_revenue_total_names_the_split_row(
    shares: list[float], row: str, value: float, which: str
) -> None:
    splits = _splits([1, 1, 1], ["a", "b", "c"], shares).set_axis(["x", "y", "z"])
    with pytest.raises(DataError, match=rf"its {which} share in column 'share'") as info:
        split_credit(_deals([1], [100.0]), splits)
    assert info.value.column == "share"
    assert info.value.row == row
    assert info.value.value == value
    assert f"row {row!r}" in str(info.value)
