"""Exact minor units: conversion, checked sums and the one exact largest-remainder routine."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore._rounding as rounding
from crmcore import money
from crmcore.errors import ConfigError, DataError, InputTypeError
from crmcore.money import (
    from_minor_units,
    largest_remainder,
    split_minor_units,
    sum_minor_units,
    to_minor_units,
)
from crmcore.quota import apportion
from helpers import call_unmutated
from strategies_quota import EXTREME_FLOATS, split_totals, split_weights


@pytest.mark.parametrize(
    ("amount", "decimals", "rounding", "expected"),
    [
        (12.34, 2, "half_up", 1234),
        (0.285, 2, "half_up", 29),  # typed as 0.285; binary 0.28499999... is not what was meant
        (0.285, 2, "half_even", 28),
        (0.125, 2, "half_even", 12),
        (0.135, 2, "half_even", 14),
        (-0.125, 2, "half_up", -13),
        (1500, 0, "half_up", 1500),
        (1.2345, 3, "half_up", 1235),
    ],
)
def test_to_minor_units_rounding(
    amount: float, decimals: int, rounding: str, expected: int
) -> None:
    assert to_minor_units(amount, decimals, rounding=rounding) == expected  # type: ignore[arg-type]


def test_to_minor_units_keeps_series_index_and_does_not_mutate() -> None:
    s = pd.Series([1.005, 2.5], index=["a", "b"], name="amount")
    out = call_unmutated(to_minor_units, s)
    pd.testing.assert_series_equal(out, pd.Series([101, 250], index=["a", "b"], name="amount"))


@pytest.mark.parametrize(
    ("amounts", "match"),
    [
        ([1.0, np.nan], "non-finite value nan at position 1"),
        ([np.inf], "non-finite value inf at position 0"),
        ([1e15], "too large to convert exactly"),
        ([1e307], "too large to convert exactly"),  # 1e307 * 100 overflows to inf first
        (["x"], "non-numeric value 'x' at position 0; expected numbers"),
        (pd.Series([1.0, pd.NA], index=["a", "b"], dtype=object), "a missing value at row 'b'"),
    ],
)
def test_to_minor_units_errors(amounts: list[object], match: str) -> None:
    with pytest.raises(DataError, match=match):
        to_minor_units(amounts)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [True, np.bool_(False), [1.0, True], pd.Series([True, False])])
def test_to_minor_units_refuses_booleans(amount: object) -> None:
    # Booleans are not amounts: True is not 1.00 (issue #14).
    with pytest.raises(InputTypeError, match="booleans are not amounts"):
        to_minor_units(amount)  # type: ignore[arg-type]


def test_to_minor_units_errors_name_the_row_label() -> None:
    s = pd.Series([1.0, 2.0, np.nan], index=["r10", "r20", "r30"])
    with pytest.raises(DataError, match=r"non-finite value nan at row 'r30'") as info:
        to_minor_units(s)
    assert info.value.row == "r30"
    with pytest.raises(DataError, match=r"value 1000000000000000.0 at row 'b' too large") as info:
        to_minor_units(pd.Series([1.0, 1e15], index=["a", "b"]))
    assert info.value.row == "b"
    with pytest.raises(InputTypeError, match=r"boolean at row 'y'"):
        to_minor_units(pd.Series([1.0, True], index=["x", "y"], dtype=object))


def test_to_minor_units_reads_nullable_and_arrow_numbers() -> None:
    s = pd.Series([1.5, 2.25], index=["a", "b"], dtype="Float64")
    assert to_minor_units(s).tolist() == [150, 225]  # type: ignore[union-attr]
    with pytest.raises(DataError, match=r"non-finite value nan at row 'b'"):
        to_minor_units(pd.Series([1.5, None], index=["a", "b"], dtype="Float64"))


def test_from_minor_units() -> None:
    assert from_minor_units(1234) == 12.34
    np.testing.assert_allclose(from_minor_units([5, 100], 1), [0.5, 10.0])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="minor units must be integers"):
        from_minor_units([1.5])


@pytest.mark.parametrize(
    ("units", "match"),
    [
        # issue 14 catalogue: a Series of minor units was converted whatever it held
        (pd.Series([1234, None], index=["r1", "r2"]), r"got nan at row 'r2'"),
        (pd.Series([5, pd.NA], index=["r1", "r2"], dtype="Int64"), r"got <NA> at row 'r2'"),
        (pd.Series([5, np.inf], index=["r1", "r2"]), r"got inf at row 'r2'"),
        (pd.Series([5, True], index=["r1", "r2"], dtype=object), r"got True at row 'r2'"),
        (pd.Series([True, False], index=["r1", "r2"]), r"got True at row 'r1'"),
        (pd.Series([5.0, 7.0], index=["r1", "r2"]), r"got 5.0 at row 'r1' \(dtype float64\)"),
    ],
)
def test_from_minor_units_refuses_what_is_not_an_integer(units: pd.Series, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        from_minor_units(units)


def test_from_minor_units_keeps_a_series_labels() -> None:
    units = pd.Series([1234, 5], index=["r1", "r2"], dtype="Int64", name="cents")
    got = from_minor_units(units)
    pd.testing.assert_series_equal(got, pd.Series([12.34, 0.05], index=["r1", "r2"], name="cents"))


def test_sum_and_split_name_the_value_that_is_not_an_integer() -> None:
    with pytest.raises(
        ConfigError, match=r"amounts must be integer minor units; got <NA> at row 'b'"
    ):
        sum_minor_units(pd.Series([1, pd.NA, 3], index=["a", "b", "c"], dtype=object))
    with pytest.raises(ConfigError, match=r"totals must be integers \(minor units\), got nan"):
        largest_remainder(float("nan"), [1, 2])


@given(st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=20), st.integers(0, 4))
def test_minor_units_round_trip(units: list[int], decimals: int) -> None:
    arr = np.asarray(units, dtype=np.int64)
    back = to_minor_units(from_minor_units(arr, decimals), decimals)
    np.testing.assert_array_equal(back, arr)  # type: ignore[arg-type]


def test_split_minor_units_hand_examples() -> None:
    # 100 / 3 = 33.33..: floors 33, 33, 33 leave 1 unit; equal remainders -> first row wins.
    np.testing.assert_array_equal(split_minor_units(100, [1, 1, 1]), [34, 33, 33])
    # 1000.01 split 50/30/20: 50000.5, 30000.3, 20000.2 -> floors leave 1 unit -> largest (0.5).
    np.testing.assert_array_equal(split_minor_units(100001, [50, 30, 20]), [50001, 30000, 20000])
    # Negative totals split by magnitude and keep their sign.
    np.testing.assert_array_equal(
        split_minor_units([1000, -7], [0.6, 0.4, 1, 1], [0, 0, 1, 1]), [600, 400, -4, -3]
    )
    # A zero total needs no weight.
    np.testing.assert_array_equal(split_minor_units([0, 5], [0, 1], [0, 1]), [0, 5])


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([1.5], [1]), "totals must be integers"),
        ((5, [-1, 2]), "finite and >= 0"),
        ((5, [0, 0]), "no positive weight"),
        (([5], [1, 1], [0, 1]), "group codes must lie"),
        ((5, [[1, 2]]), "one-dimensional"),
    ],
)
def test_split_minor_units_errors(args: tuple[object, ...], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        split_minor_units(*args)  # type: ignore[arg-type]


@given(
    st.lists(
        st.tuples(
            st.integers(-(10**13), 10**13),
            st.lists(st.floats(0, 1e6), min_size=1, max_size=8).filter(lambda w: sum(w) > 0),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_split_minor_units_reconciles_and_stays_within_one_unit(
    groups: list[tuple[int, list[float]]],
) -> None:
    totals = np.array([t for t, _ in groups], dtype=np.int64)
    weights = np.concatenate([np.asarray(w) for _, w in groups])
    codes = np.concatenate([np.full(len(w), g) for g, (_, w) in enumerate(groups)])
    parts = split_minor_units(totals, weights, codes)
    np.testing.assert_array_equal(np.bincount(codes, weights=parts, minlength=len(groups)), totals)
    wsum = np.bincount(codes, weights=weights)
    exact = totals[codes] * (weights / wsum[codes])
    assert np.all(np.abs(parts - exact) <= 1.0 + 1e-6 * np.abs(exact))
    assert np.all((parts == 0) | (np.sign(parts) == np.sign(totals[codes])))


# --------------------------------------------------------------------------- sum_minor_units


def test_sum_minor_units_groups_and_empty_groups() -> None:
    from crmcore.money import sum_minor_units

    out = sum_minor_units([5, -2, 7], groups=[2, 0, 2], n_groups=4)
    assert out.tolist() == [-2, 0, 12, 0]
    assert out.dtype == np.int64


def test_sum_minor_units_overflow_is_an_error_not_a_wrap() -> None:
    from crmcore.money import sum_minor_units

    big = 2**62
    with pytest.raises(DataError, match="in group 1, which passes the 64-bit limit") as info:
        sum_minor_units([1, big, big], groups=[0, 1, 1], name="credited_cents")
    assert info.value.row == 1
    assert info.value.column == "credited_cents"
    # near the limit but inside it: exact
    assert sum_minor_units([big, big - 1, -5]).tolist() == [2**63 - 6]


@given(
    st.lists(st.integers(min_value=-(2**62), max_value=2**62), min_size=1, max_size=8),
    st.data(),
)
def test_sum_minor_units_is_exact_or_raises(values: list[int], data: st.DataObject) -> None:
    from crmcore.money import sum_minor_units

    groups = data.draw(st.lists(st.integers(0, 2), min_size=len(values), max_size=len(values)))
    exact = [sum(v for v, g in zip(values, groups, strict=True) if g == k) for k in range(3)]
    if all(-(2**63) <= e < 2**63 for e in exact):
        assert sum_minor_units(values, groups=groups, n_groups=3).tolist() == exact
    else:
        with pytest.raises(DataError):
            sum_minor_units(values, groups=groups, n_groups=3)


# --------------------------------------------------------------------------- largest_remainder


def reference(total: int, weights: list[float] | list[int]) -> list[int]:
    """Largest remainder in exact rational arithmetic (fractions.Fraction); ties: first row."""
    w = [Fraction(x) for x in weights]
    if total == 0:
        return [0] * len(w)
    sign, magnitude = (-1 if total < 0 else 1), abs(total)
    big = sum(w)
    quota = [magnitude * x / big for x in w]
    parts = [math.floor(q) for q in quota]
    order = sorted(range(len(w)), key=lambda i: (-(quota[i] - parts[i]), i))
    for i in order[: magnitude - sum(parts)]:
        parts[i] += 1
    return [sign * p for p in parts]


def grouped_reference(totals: list[int], weights: list[float], codes: list[int]) -> list[int]:
    out = [0] * len(weights)
    for g, total in enumerate(totals):
        rows = [i for i, c in enumerate(codes) if c == g]
        for i, part in zip(rows, reference(total, [weights[i] for i in rows]), strict=True):
            out[i] = part
    return out


def test_issue_example_both_entry_points_agree() -> None:
    # Quotas 7*w/21: 1.33, 1, 1, 1.33, 1.33, .33, .67. Floors 1, 1, 1, 1, 1, 0, 0 leave 2 units;
    # remainders .33 (x3, exactly 7/21 as rationals... 4*7/21 = 4/3), 0, 0, .33, .33, .33, .67:
    # the largest, 2/3, goes to row 6; then the tie at 1/3 among rows 0, 3, 4, 5: row 0 first.
    # (7 * 3 / 21 lands just below 1 in float, which made the old float routine give all 1s.)
    w = [4, 3, 3, 4, 4, 1, 2]
    expected = [2, 1, 1, 1, 1, 0, 1]
    assert split_minor_units(7, w).tolist() == expected
    assert apportion(7, w, "hamilton").tolist() == expected
    assert largest_remainder(7, w).tolist() == expected
    assert reference(7, w) == expected


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (2**53 + 1, [1, 1], [2**52 + 1, 2**52]),  # the float routine gave a sum one too high
        (2**60 + 3, [1, 1, 1], [(2**60 + 3) // 3 + 1, (2**60 + 3) // 3, (2**60 + 3) // 3]),
        (-(2**62), [1, 2, 1], [-(2**60), -(2**61), -(2**60)]),
        (10, [1e308, 1e308, 1.0], [5, 5, 0]),
        (100, [1e307], [100]),
        (3, [5e-324, 5e-324, 1e-323], [1, 1, 1]),  # subnormals 1 : 1 : 2: quotas .75, .75, 1.5
        (1, [1e-300, 1.7976931348623157e308], [0, 1]),
    ],
)
def test_exact_at_the_edges(total: int, weights: list[float], expected: list[int]) -> None:
    got = split_minor_units(total, weights)
    assert got.tolist() == expected
    assert got.tolist() == reference(total, weights)
    assert int(got.sum()) == total


def test_sum_exact_above_2_53() -> None:
    for total, n in ((2**53 + 1, 2), (2**60 + 3, 3), (2**62, 7), (2**62 - 1, 11)):
        got = split_minor_units(total, np.ones(n))
        assert int(got.sum(dtype=object)) == total
        assert got.tolist() == reference(total, [1] * n)


def test_ties_go_to_the_first_row_also_in_groups() -> None:
    # Two groups interleaved; each has one unit to place between equal remainders.
    got = largest_remainder([3, 5], [1, 2, 2, 2, 2, 2], groups=[1, 0, 1, 0, 0, 1])
    # group 0: rows 1, 3, 4 (weights 2, 2, 2) get 3, 2... -> 3 units of 3 each 1; 3 remainder 0.
    # group 1: rows 0, 2, 5 (weights 1, 2, 2) over 5: quotas 1, 2, 2 exactly -> no remainders.
    assert got.tolist() == [1, 1, 2, 1, 1, 2]
    tie = largest_remainder([4, 4], [1, 1, 1, 1, 1, 1], groups=[0, 1, 0, 1, 0, 1])
    # each group: 4 / 3 = 1.33 -> one unit left, to the group's first row (rows 0 and 1).
    assert tie.tolist() == [2, 2, 1, 1, 1, 1]


def test_zero_weight_rows_and_zero_totals() -> None:
    assert largest_remainder(5, [0.0, 2.0, 0.0, 3.0]).tolist() == [0, 2, 0, 3]
    assert largest_remainder(0, [0, 0]).tolist() == [0, 0]
    assert largest_remainder([0, 3], [0.0, 1e-300], groups=[0, 1]).tolist() == [0, 3]
    assert largest_remainder(np.array([], dtype=np.int64), [], groups=[]).tolist() == []


def test_large_single_group_paths_match_the_reference() -> None:
    # A group too large for int64 sums (float mantissas) and one of many exact ties (the
    # matrix and the one-by-one selection): both exact.
    rng = np.random.default_rng(5)
    w = rng.lognormal(0.0, 2.0, 3000)
    for total in (10**9 + 7, 2**62 - 3):
        assert largest_remainder(total, w).tolist() == reference(total, w.tolist())
    equal = np.full(6000, 0.1)
    got = largest_remainder(1_004_321, equal)
    # 1,004,321 / 6,000 = 167.39: floors 167 (1,002,000) leave 2,321 units, one each to the
    # first 2,321 rows (all remainders tie).
    assert got.tolist() == [168] * 2321 + [167] * 3679
    ints = rng.integers(1, 4, 5000)
    assert largest_remainder(12_345, ints).tolist() == reference(12_345, ints.tolist())


def test_many_groups_of_every_size() -> None:
    rng = np.random.default_rng(11)
    sizes = rng.integers(1, 40, 200)
    codes = np.repeat(np.arange(sizes.size), sizes)
    perm = rng.permutation(codes.size)
    codes = codes[perm]
    weights = rng.choice([0.1, 0.25, 1 / 3, 2.0, 7.0, 1e-200, 1e200], codes.size)
    totals = rng.integers(-(10**15), 10**15, sizes.size)
    got = largest_remainder(totals, weights, codes)
    assert got.tolist() == grouped_reference(totals.tolist(), weights.tolist(), codes.tolist())


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (
            (5, pd.Series([1.0, np.nan], index=["r1", "r30"])),
            ConfigError,
            r"NaN value nan at row 'r30'",
        ),
        (
            (5, pd.Series([1.0, -2.0], index=["a", "b"])),
            ConfigError,
            r"negative value -2.0 at row 'b'",
        ),
        ((5, [1.0, np.inf]), ConfigError, r"infinite value inf at position 1"),
        ((5, [True, False]), ConfigError, r"booleans"),
        ((5, ["a"]), ConfigError, r"non-numeric value 'a' at position 0"),
        ((5, pd.Series([1, pd.NA], index=["x", "y"])), ConfigError, r"missing value at row 'y'"),
        ((5, [1, 2**70]), ConfigError, r"exceed the int64 range"),
        ((2**62 + 1, [1]), ConfigError, r"beyond \+-2\*\*62"),
        ((-(2**62) - 1, [1]), ConfigError, r"beyond \+-2\*\*62"),
        ((2.5, [1]), ConfigError, r"totals must be integers"),
        (([1, 2], [1]), ConfigError, r"one integer when groups is None"),
        ((5, [0.0, 0.0]), ConfigError, r"total 5 but no positive weight"),
    ],
)
def test_largest_remainder_errors(
    args: tuple[object, ...], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        largest_remainder(*args)  # type: ignore[arg-type]


def test_largest_remainder_does_not_mutate() -> None:
    w = pd.Series([3.0, 1e-300, 2.0], index=["a", "b", "c"])
    got = call_unmutated(largest_remainder, np.array([10]), w)
    assert got.tolist() == [6, 0, 4]


@given(total=split_totals(), weights=split_weights())
def test_both_entry_points_equal_the_fraction_reference(
    total: int, weights: list[float] | list[int]
) -> None:
    expected = reference(total, weights)
    assert split_minor_units(total, weights).tolist() == expected
    assert largest_remainder(total, np.asarray(weights)).tolist() == expected
    if total >= 0:  # apportion splits non-negative totals
        assert apportion(total, weights, "hamilton").tolist() == expected


@given(
    groups=st.lists(st.tuples(split_totals(), split_weights()), min_size=1, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_grouped_split_equals_the_reference_in_any_row_order(
    groups: list[tuple[int, list[float]]], seed: int
) -> None:
    totals = [t for t, _ in groups]
    weights = [float(x) for _, w in groups for x in w]
    codes = [g for g, (_, w) in enumerate(groups) for _ in w]
    perm = np.random.default_rng(seed).permutation(len(weights))
    w_p = [weights[i] for i in perm]
    c_p = [codes[i] for i in perm]
    got = split_minor_units(np.asarray(totals, dtype=np.int64), w_p, c_p)
    assert got.tolist() == grouped_reference(totals, w_p, c_p)
    sums = np.zeros(len(totals), dtype=object)
    for part, c in zip(got.tolist(), c_p, strict=True):
        sums[c] += part
    assert sums.tolist() == totals


@given(
    total=st.integers(0, 2**62),
    weights=st.lists(st.sampled_from(EXTREME_FLOATS), min_size=1, max_size=8),
)
def test_extreme_magnitudes_and_huge_totals(total: int, weights: list[float]) -> None:
    got = largest_remainder(total, weights)
    assert got.tolist() == reference(total, weights)
    assert apportion(total, weights).tolist() == got.tolist()


@given(
    t=st.integers(0, 2**62),
    a=st.integers(0, 2**62 - 1),
    extra=st.integers(0, 2**62 - 1),
)
def test_wide_divmod_is_exact(t: int, a: int, extra: int) -> None:
    big = min(a + extra, 2**62 - 1) or 1
    a = min(a, big)
    q, r = money._divmod_exact(
        np.array([t, t], dtype=np.int64), np.array([a, a], dtype=np.int64), np.array([big, big])
    )
    assert (int(q[0]), int(r[0])) == divmod(t * a, big)


# ------------------------------------------------ the one-group float path (blocks, counting)

ONE_GROUP_WEIGHTS = st.lists(
    st.one_of(
        st.floats(1e-300, 1e307, allow_nan=False, allow_infinity=False),
        st.sampled_from([0.0, 0.1, 1 / 3, 0.6, 1e-300, 1e307, 2.5]),
    ),
    min_size=1,
    max_size=40,
).filter(lambda w: any(x > 0 for x in w))


@given(
    total=st.one_of(st.integers(2**62 - 2**20, 2**62), st.integers(-(10**12), 10**12)),
    weights=ONE_GROUP_WEIGHTS,
    block=st.sampled_from([1, 2, 3, 8, 1 << 16]),
    buckets=st.sampled_from([1, 2, 4, 1 << 16]),
    repeat=st.booleans(),
)
def test_one_group_blocks_equal_the_reference_and_the_grouped_path(
    total: int, weights: list[float], block: int, buckets: int, repeat: bool
) -> None:
    # The path of one group of float weights works in blocks of rows and picks the units by
    # counting remainders in buckets: any block and bucket size gives the exact answer, the
    # same as the Fraction reference and as the grouped path (the same group, sorted there).
    if repeat:  # exact ties between rows
        weights = weights * 3
    w = np.asarray(weights, dtype=np.float64)
    expected = reference(total, weights)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(money, "_BLOCK", block)
        patch.setattr(money, "_BUCKETS", buckets)
        direct = money._split_one_float(total, w)
        got = largest_remainder(total, w)
        if total >= 0:  # apportion(..., "hamilton") is this routine (non-negative totals)
            assert apportion(total, w, "hamilton").tolist() == expected
    assert got.tolist() == expected
    if direct is not None:
        assert direct.tolist() == expected
    grouped = largest_remainder([total], w, np.zeros(w.size, dtype=np.int64))
    assert grouped.tolist() == expected
    assert sum(got.tolist()) == total


def test_one_group_path_takes_a_million_style_group_and_settles_near_ties() -> None:
    # 3000 lognormal weights over small blocks: the path is taken (fractional weights whose
    # exact sum passes 2**61), floors near an integer are settled exactly (total near 2**62)
    # and the remainders near the cut are ranked exactly.
    rng = np.random.default_rng(8)
    w = rng.lognormal(0.0, 1.0, 3000)
    for total in (10**9, 2**62 - 1, -(10**9 + 3)):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(money, "_BLOCK", 97)
            patch.setattr(money, "_BUCKETS", 8)
            got = money._split_one_float(total, w)
        assert got is not None
        assert got.tolist() == reference(total, w.tolist())
    # Whole-number floats and all-zero weights are left to the common path.
    assert money._split_one_float(10, np.array([1.0, 2.0])) is None
    assert money._split_one_float(10, np.array([0.0, 0.0])) is None
    assert money._split_one_float(10, np.array([], dtype=np.float64)) is None
    assert largest_remainder(0, np.array([], dtype=np.float64)).tolist() == []
    with pytest.raises(ConfigError, match="no positive weight"):
        largest_remainder(3, np.array([], dtype=np.float64))
    assert money._split_one_float(0, np.array([0.5, 0.25])).tolist() == [0, 0]  # type: ignore[union-attr]


@given(
    cents=st.integers(-(10**12), 10**12),
    decimals=st.integers(0, 4),
)
def test_round_minor_units_rounds_the_written_decimal_half_up(cents: int, decimals: int) -> None:
    # a value written with three decimals (half cents: 0.285, -1.125) rounds as its decimal
    # text does, halves away from zero, whatever its binary representation
    value = cents / 1000
    exact = Decimal(str(value)) * 10**decimals
    expected = float(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    scaled = np.array([value]) * 10.0**decimals
    assert rounding.round_minor_units(scaled).tolist() == [expected]
    even = float(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    assert rounding.round_minor_units(scaled, "half_even").tolist() == [even]
