"""Exact minor units: conversion and grouped largest-remainder splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ConfigError, DataError
from crmcore.money import from_minor_units, split_minor_units, to_minor_units
from helpers import call_unmutated


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
        (["x"], "must be numbers"),
    ],
)
def test_to_minor_units_errors(amounts: list[object], match: str) -> None:
    with pytest.raises(DataError, match=match):
        to_minor_units(amounts)  # type: ignore[arg-type]


def test_from_minor_units() -> None:
    assert from_minor_units(1234) == 12.34
    np.testing.assert_allclose(from_minor_units([5, 100], 1), [0.5, 10.0])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="minor units must be integers"):
        from_minor_units([1.5])


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
