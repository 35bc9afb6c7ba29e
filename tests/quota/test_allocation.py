"""Tests of crmcore.quota.allocation: potential and history weights, allocation by weight."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ConfigError, DataError, SchemaError
from crmcore.quota import allocate, history_weights, potential_weights
from helpers import call_unmutated, shuffled
from strategies_quota import METHOD_NAMES, people_frames

# ---------------------------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------------------------


ACCOUNTS = pd.DataFrame(
    {
        "account_id": [1, 2, 3, 4, 5, 6],
        "person": ["ann", "ann", "bob", "bob", "bob", "cy"],
        "grade": ["A", "C", "B", "B", "C", "A"],
    }
)


def test_potential_weights_hand_example() -> None:
    # ann: A + C = 5 + 1 = 6; bob: B + B + C = 3 + 3 + 1 = 7; cy: A = 5.
    got = call_unmutated(potential_weights, ACCOUNTS)
    assert got.to_dict() == {"ann": 6.0, "bob": 7.0, "cy": 5.0}
    assert got.name == "potential"
    assert got.index.name == "person"


def test_potential_weights_custom_table_and_order_independence() -> None:
    table = {"A": 10, "B": 2, "C": 0}
    base = potential_weights(ACCOUNTS, grade_weights=table)
    assert base.to_dict() == {"ann": 10.0, "bob": 4.0, "cy": 10.0}
    pd.testing.assert_series_equal(
        potential_weights(shuffled(ACCOUNTS, 3), grade_weights=table), base
    )


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "match"),
    [
        (
            ACCOUNTS.assign(grade=["A", "Z", "B", "B", "C", "A"]),
            {},
            DataError,
            r"grade 'Z' at row 1 \(person='ann'\) with no weight",
        ),
        (
            ACCOUNTS.assign(grade=["A", None, "B", "B", "C", "A"]),
            {},
            DataError,
            r"missing value at row 1",
        ),
        (ACCOUNTS.drop(columns="grade"), {}, SchemaError, r"missing column\(s\) 'grade'"),
        (
            ACCOUNTS,
            {"grade_weights": {"A": -1, "B": 1, "C": 1}},
            ConfigError,
            r"grade_weights\['A'\] == -1",
        ),
    ],
)
def test_potential_weights_bad_input(
    frame: pd.DataFrame, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        potential_weights(frame, **kwargs)  # type: ignore[arg-type]


SALES = pd.DataFrame(
    {"person": ["ann", "bob", "bob", "cy"], "amount": [600.0, 100.0, 100.0, 200.0]}
)


def test_history_weights_hand_example() -> None:
    # Sales: ann 600, bob 200, cy 200 of 1000 -> 0.6, 0.2, 0.2.
    got = call_unmutated(history_weights, SALES)
    assert got.round(12).to_dict() == {"ann": 0.6, "bob": 0.2, "cy": 0.2}
    # Blend 50 % with potential ann 6, bob 7, cy 5, dan 2 (of 20): potential shares .3, .35, .25,
    # .1 -> ann .5*.6 + .5*.3 = .45, bob .5*.2 + .5*.35 = .275, cy .5*.2+.5*.25 = .225,
    # dan .5*0 + .5*.1 = .05 (a new person without history still gets a potential-based weight).
    pot = pd.Series({"ann": 6.0, "bob": 7.0, "cy": 5.0, "dan": 2.0})
    got = history_weights(SALES, potential=pot, blend=0.5)
    assert got.round(12).to_dict() == {"ann": 0.45, "bob": 0.275, "cy": 0.225, "dan": 0.05}
    assert got.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "match"),
    [
        (SALES, {"blend": 0.5}, ConfigError, r"blend == 0.5 needs potential"),
        (SALES, {"blend": 1.5}, ConfigError, r"blend == 1.5, must be <= 1.0"),
        (
            SALES.assign(amount=[1.0, -1.0, 1.0, 1.0]),
            {},
            DataError,
            r"negative value -1.0 at row 1",
        ),
        (SALES.assign(amount=[1.0, np.nan, 1.0, 1.0]), {}, DataError, r"NaN at row 1"),
        (SALES.assign(amount=0.0), {}, ConfigError, r"sales amounts are all zero"),
        (
            SALES,
            {"potential": pd.Series({"ann": 0.0}), "blend": 0.2},
            ConfigError,
            r"potential is all zero",
        ),
    ],
)
def test_history_weights_bad_input(
    frame: pd.DataFrame, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        history_weights(frame, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# allocate
# ---------------------------------------------------------------------------------------------

PEOPLE = pd.DataFrame(
    {
        "region": ["North", "North", "South", "South", "South"],
        "person": ["ann", "bob", "cy", "dan", "eve"],
        "weight": [3.0, 1.0, 2.0, 1.0, 1.0],
    }
)


def test_allocate_hand_example() -> None:
    # 1,000.00 over weights 3, 1, 2, 1, 1 (sum 8): quotas 37,500, 12,500, 25,000, 12,500, 12,500.
    got = call_unmutated(allocate, PEOPLE, 100_000)
    expected = pd.DataFrame(
        {
            "weight": [3.0, 1.0, 2.0, 1.0, 1.0],
            "share": [0.375, 0.125, 0.25, 0.125, 0.125],
            "quota_cents": np.array([37_500, 12_500, 25_000, 12_500, 12_500], dtype=np.int64),
        },
        index=pd.Index(["ann", "bob", "cy", "dan", "eve"], name="person"),
    )
    pd.testing.assert_frame_equal(got, expected, check_index_type=False)


def test_allocate_with_bounds_from_columns() -> None:
    frame = PEOPLE.assign(cap=[30_000, 99_999, 99_999, 99_999, 99_999], floor=0)
    got = allocate(frame, 100_000, maximum="cap", minimum="floor")
    # ann capped at 30,000; 70,000 over 1, 2, 1, 1 (sum 5): 14,000, 28,000, 14,000, 14,000.
    assert got["quota_cents"].tolist() == [30_000, 14_000, 28_000, 14_000, 14_000]


@given(
    people=people_frames(),
    total=st.integers(0, 10**10),
    method=st.sampled_from(METHOD_NAMES),
    seed=st.integers(0, 99),
)
def test_allocate_is_exact_and_order_independent(
    people: pd.DataFrame, total: int, method: str, seed: int
) -> None:
    base = allocate(people, total, method=method)
    assert int(base["quota_cents"].sum()) == total
    assert base.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(allocate(shuffled(people, seed), total, method=method), base)


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "match"),
    [
        (
            PEOPLE.assign(weight=[1.0, -1.0, 1.0, 1.0, 1.0]),
            {},
            DataError,
            r"negative value -1.0 at row 1 \(person='bob'\)",
        ),
        (
            PEOPLE.assign(weight=[1.0, np.nan, 1.0, 1.0, 1.0]),
            {},
            DataError,
            r"NaN at row 1 \(person='bob'\)",
        ),
        (PEOPLE.assign(weight=0.0), {}, ConfigError, r"column 'weight' of frame is all zero"),
        (
            PEOPLE.assign(person=["a", "a", "b", "c", "d"]),
            {},
            DataError,
            r"duplicate value 'a' at row 1",
        ),
        (PEOPLE.drop(columns="weight"), {}, SchemaError, r"missing column\(s\) 'weight'"),
        (PEOPLE, {"method": "borda"}, ConfigError, r"method='borda'"),
        (
            PEOPLE,
            {"minimum": 30_000},
            ConfigError,
            r"minimum sums to 150000, more than total 100000",
        ),
        (PEOPLE, {"maximum": "nope"}, SchemaError, r"missing column\(s\) 'nope'"),
        (PEOPLE.iloc[:0], {}, SchemaError, r"frame is empty"),
    ],
)
def test_allocate_bad_input(
    frame: pd.DataFrame, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        allocate(frame, 100_000, **kwargs)  # type: ignore[arg-type]


def test_owner_is_the_deprecated_name_of_person() -> None:
    accounts = ACCOUNTS.rename(columns={"person": "rep"})
    with pytest.warns(DeprecationWarning, match=r"potential_weights\(owner=...\)"):
        old = potential_weights(accounts, owner="rep")
    pd.testing.assert_series_equal(old, potential_weights(accounts, person="rep"))
    sales = SALES.rename(columns={"person": "rep"})
    with pytest.warns(DeprecationWarning, match=r"history_weights\(owner=...\)"):
        hist = history_weights(sales, owner="rep")
    pd.testing.assert_series_equal(hist, history_weights(sales, person="rep"))
    assert hist.index.name == "rep"


def test_keys_mixing_types_are_a_clear_error() -> None:
    # Issue #14: ids mixing 1 and "1" gave a foreign TypeError.
    frame = pd.DataFrame({"person": [1, "1"], "weight": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"column 'person' of frame mixes 1 and '1' \(at row 1\)"):
        allocate(frame, 100)


def test_weights_and_shares_near_the_largest_float() -> None:
    # ann sold 1.7e308 twice, bob once: the totals 3.4e308 and 1.7e308 pass the largest
    # float, the weights 2/3 and 1/3 do not
    big = 1.7e308
    sales = pd.DataFrame({"person": ["ann", "bob", "ann"], "amount": [big, big, big]})
    got = history_weights(sales)
    np.testing.assert_allclose(got.to_numpy(), [2 / 3, 1 / 3], rtol=1e-15)
    # allocate: two weights of 1.7e308 share the total half and half
    people = pd.DataFrame({"person": ["ann", "bob"], "weight": [big, big]})
    out = allocate(people, 1001)
    assert out["share"].tolist() == [0.5, 0.5]
    assert out["quota_cents"].sum() == 1001


@given(
    st.lists(st.floats(min_value=0.0, max_value=1.7e308), min_size=1, max_size=12),
    st.integers(min_value=0, max_value=2**20),
)
def test_history_weights_of_huge_amounts_are_shares(amounts, seed):
    people = np.random.default_rng(seed).choice(["ann", "bob", "cid"], size=len(amounts))
    sales = pd.DataFrame({"person": people, "amount": amounts})
    if not (sales["amount"] > 0).any():
        return
    got = history_weights(sales)
    assert np.isfinite(got.to_numpy()).all()
    assert (got >= 0).all()
    assert abs(got.sum() - 1.0) < 1e-12
