"""Tests of crmcore.quota.accounts: moving accounts and their quota."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ConfigError, DataError, SchemaError
from crmcore.quota import reassign_accounts
from helpers import call_unmutated

# ---------------------------------------------------------------------------------------------
# reassign_accounts
# ---------------------------------------------------------------------------------------------

QUOTAS = pd.DataFrame(
    {"quota_cents": np.array([90_000, 30_000, 0], dtype=np.int64)},
    index=pd.Index(["ann", "bob", "cy"], name="person"),
)
BOOK = pd.DataFrame(
    {
        "account_id": [1, 2, 3, 4, 5],
        "person": ["ann", "ann", "ann", "bob", "bob"],
        "weight": [5.0, 3.0, 1.0, 3.0, 0.0],
    }
)


def test_reassign_accounts_hand_example() -> None:
    # ann's 90,000 over accounts 5:3:1 -> 50,000, 30,000, 10,000. Moving account 2 to cy and
    # account 3 to bob: ann keeps 50,000; bob gets 10,000 more; cy 30,000.
    got = call_unmutated(reassign_accounts, QUOTAS, BOOK, {2: "cy", 3: "bob"})
    assert got["quota_cents"].to_dict() == {"ann": 50_000, "bob": 40_000, "cy": 30_000}
    assert got["moved_out_cents"].to_dict() == {"ann": 40_000, "bob": 0, "cy": 0}
    assert got["moved_in_cents"].to_dict() == {"ann": 0, "bob": 10_000, "cy": 30_000}
    assert int(got["quota_cents"].sum()) == int(QUOTAS["quota_cents"].sum())


def test_reassign_accounts_to_a_new_person() -> None:
    got = reassign_accounts(QUOTAS, BOOK, pd.Series({4: "dan"}))
    # bob's 30,000 over weights 3 and 0 -> account 4 carries all of it.
    assert got["quota_cents"].to_dict() == {"ann": 90_000, "bob": 0, "cy": 0, "dan": 30_000}


@given(
    totals=st.lists(st.integers(0, 10**9), min_size=3, max_size=3),
    weights=st.lists(st.floats(0.01, 100.0), min_size=5, max_size=5),
    moves=st.dictionaries(st.integers(1, 5), st.sampled_from(["ann", "bob", "cy", "dan"])),
)
def test_reassign_accounts_keeps_the_total(
    totals: list[int], weights: list[float], moves: dict[int, str]
) -> None:
    quotas = QUOTAS.assign(quota_cents=np.asarray(totals, dtype=np.int64))
    got = reassign_accounts(quotas, BOOK.assign(weight=weights), moves)
    assert int(got["quota_cents"].sum()) == sum(totals)
    assert (got["quota_cents"] >= 0).all()
    assert int(got["moved_out_cents"].sum()) == int(got["moved_in_cents"].sum())


@pytest.mark.parametrize(
    ("quotas", "book", "moves", "error", "match"),
    [
        (QUOTAS, BOOK, {9: "cy"}, DataError, r"moves names account 9, which is not in accounts"),
        (
            QUOTAS,
            BOOK.assign(person=["ann", "ann", "ann", "bob", "zed"]),
            {1: "cy"},
            DataError,
            r"person 'zed' at row 4 \(account_id=5\) with no row in quotas",
        ),
        (
            QUOTAS,
            BOOK.assign(account_id=[1, 1, 2, 3, 4]),
            {1: "cy"},
            DataError,
            r"duplicate value 1 at row 1",
        ),
        (
            QUOTAS,
            BOOK.assign(weight=[1.0, 1.0, 1.0, 0.0, 0.0]),
            {4: "cy"},
            ConfigError,
            r"person 'bob' has quota but only zero-weight accounts",
        ),
        (
            QUOTAS.assign(quota_cents=[1.5, 2.0, 0.0]),
            BOOK,
            {1: "cy"},
            DataError,
            r"must hold integers",
        ),
        (
            QUOTAS,
            BOOK.drop(columns="weight"),
            {1: "cy"},
            SchemaError,
            r"missing column\(s\) 'weight'",
        ),
    ],
)
def test_reassign_accounts_bad_input(
    quotas: pd.DataFrame,
    book: pd.DataFrame,
    moves: dict[int, str],
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        reassign_accounts(quotas, book, moves)


@pytest.mark.parametrize("to", [None, np.nan, pd.NA])
def test_a_move_to_no_one_is_an_error_not_a_vanishing_quota(to: object) -> None:
    # Issue #14: {2: None} made account 2's 30,000 disappear (total 120,000 -> 90,000).
    with pytest.raises(DataError, match=r"moves gives account 2 no new person") as info:
        reassign_accounts(QUOTAS, BOOK, {2: to, 3: "bob"})
    assert info.value.row == 2


def test_owner_is_the_deprecated_name_of_person() -> None:
    book = BOOK.rename(columns={"person": "rep"})
    with pytest.warns(DeprecationWarning, match=r"reassign_accounts\(owner=...\) was renamed"):
        old = reassign_accounts(QUOTAS, book, {2: "cy"}, owner="rep")
    new = reassign_accounts(QUOTAS, book, {2: "cy"}, person="rep")
    pd.testing.assert_frame_equal(old, new)


def test_quotas_whose_total_passes_int64_are_refused() -> None:
    quotas = QUOTAS.assign(quota_cents=np.array([2**62, 2**62, 0], dtype=np.int64))
    with pytest.raises(DataError, match=r"passes the 64-bit limit"):
        reassign_accounts(quotas, BOOK, {2: "cy"})


def test_moves_name_each_account_once() -> None:
    moves = pd.Series(["cy", "bob"], index=[2, 2])
    with pytest.raises(DataError, match=r"moves names account 2 twice"):
        reassign_accounts(QUOTAS, BOOK, moves)


def test_account_ids_mixing_numbers_and_text_are_an_error() -> None:
    # issue 14 catalogue: account 2 written as "2" moved nothing and no error said so
    book = BOOK.assign(account_id=[1, "2", 3, 4, 5])
    with pytest.raises(DataError, match=r"'account_id' of accounts mixes number 1 .* text '2'"):
        reassign_accounts(QUOTAS, book, {2: "bob"})


def test_reassign_accounts_refuses_a_quota_beyond_the_exact_split_range() -> None:
    # bob's quota of 2**62 + 1 cents cannot be split exactly over his accounts: the split's
    # range is +-2**62; named by column, person and value. cy's quota beyond it is fine: cy
    # holds no account, nothing of it is split
    quotas = pd.DataFrame(
        {"quota_cents": np.array([90_000, 2**62 + 1, -(2**62)], dtype=np.int64)},
        index=pd.Index(["ann", "bob", "cy"], name="person"),
    )
    with pytest.raises(
        DataError,
        match=r"column 'quota_cents' of quotas has quota "
        r"4611686018427387905 at row 'bob': beyond \+-2\*\*62 minor units",
    ) as e:
        reassign_accounts(quotas, BOOK, {2: "cy"})
    assert (e.value.row, e.value.value) == ("bob", 2**62 + 1)
    fine = quotas.assign(quota_cents=np.array([90_000, 30_000, 2**62 + 1], dtype=np.int64))
    got = reassign_accounts(fine, BOOK, {2: "cy"})
    assert got.loc["cy", "quota_cents"] == 2**62 + 1 + 30_000


@pytest.mark.parametrize(
    ("values", "person", "shown"),
    [
        ([90_000.0, np.nan, 0.0], "bob", "nan"),  # the gap, not the first row
        ([90_000.0, 2.5, 0.0], "bob", "2.5"),  # a fraction of a minor unit
        ([90_000.0, 30_000.0, 1e307], "cy", "1e+307"),  # beyond int64
        ([90_000.0, 30_000.0, np.inf], "cy", "inf"),
        ([90_000, True, 0], "bob", "True"),  # a boolean is not a number of minor units
        ([90_000.0, 30_000.0, 0.0], "ann", "90000.0"),  # whole numbers stored as floats
    ],
)
def test_quota_that_is_not_whole_minor_units_names_its_person(
    values: list[object], person: str, shown: str
) -> None:
    quotas = pd.DataFrame({"quota_cents": values}, index=QUOTAS.index)
    with pytest.raises(DataError, match=re.escape(f"it has {shown} for person {person!r}")) as info:
        reassign_accounts(quotas, BOOK, {1: "cy"})
    assert info.value.row == person
    assert info.value.column == "quota_cents"
