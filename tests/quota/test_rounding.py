"""Tests of the controlled rounding behind build_plan (crmcore.quota._rounding)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import CRMError
from crmcore.quota import apportion
from crmcore.quota._rounding import controlled_round, round_all_margins
from helpers import call_unmutated
from strategies_quota import int_percentages

# ---------------------------------------------------------------------------------------------
# controlled rounding (private helper behind build_plan)
# ---------------------------------------------------------------------------------------------


def test_controlled_round_completes_by_augmenting_path() -> None:
    # x = [[1.75, 1.5, 0], [1.5, 1, 1.75]], rows 3 and 4, columns 3, 3, 1. Floors [[1, 1, 0],
    # [1, 1, 1]] leave one unit per row and one per column 1 and 2; row 2's month 2 is whole.
    # Greedy: column 1 goes to row 1 (fraction .75 > .5), then column 2 has no one (row 1 is
    # done, row 2's cell is whole). The augmenting path: row 2 enters column 1, row 1 moves
    # its unit to column 2.
    x = np.array([[1.75, 1.5, 0.0], [1.5, 1.0, 1.75]])
    got = controlled_round(x, np.array([3, 4]), np.array([3, 3, 1]))
    assert got.tolist() == [[1, 2, 0], [2, 1, 1]]


def test_controlled_round_reports_infeasible_margins() -> None:
    # Row 1 has fractions only in columns 1-2, row 2 only in 3-4; columns 1 and 2 both asking
    # for a unit would need two from row 1, which has one.
    x = np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]])
    with pytest.raises(CRMError, match=r"controlled rounding is infeasible"):
        controlled_round(x, np.array([1, 1]), np.array([1, 1, 0, 0]))
    with pytest.raises(CRMError, match=r"row totals sum to 2 but column totals to 3"):
        controlled_round(x, np.array([1, 1]), np.array([1, 1, 1, 0]))


@given(
    st.integers(1, 12).flatmap(
        lambda m: st.tuples(
            st.lists(
                st.lists(st.integers(0, 4 * 64), min_size=m, max_size=m), min_size=1, max_size=15
            ),
            st.randoms(use_true_random=False),
        )
    )
)
def test_controlled_round_finds_a_rounding_whenever_one_exists(data: tuple) -> None:  # type: ignore[type-arg]
    # A random real matrix (multiples of 1/64, exact in floats) and margins taken from a
    # random floor-or-ceil rounding of it, so a solution is known to exist.
    numerators, rnd = data
    num = np.asarray(numerators, dtype=np.int64)
    x = num / 64.0
    lo, hi = num // 64, -(-num // 64)
    up = np.asarray([[rnd.random() < 0.5 for _ in row] for row in numerators], dtype=bool)
    witness = np.where(up, hi, lo)
    got = controlled_round(x, witness.sum(axis=1), witness.sum(axis=0))
    assert got.dtype == np.int64
    assert (got.sum(axis=1) == witness.sum(axis=1)).all()
    assert (got.sum(axis=0) == witness.sum(axis=0)).all()
    assert ((got == lo) | (got == hi)).all()


@given(st.lists(st.lists(st.integers(0, 4 * 64), min_size=4, max_size=4), min_size=1, max_size=15))
def test_round_all_margins_always_exists(numerators: list[list[int]]) -> None:
    # Cox & Ernst: cells, row sums, column sums and the total each to floor or ceiling.
    num = np.asarray(numerators, dtype=np.int64)
    got = round_all_margins(num / 64.0)
    for part, exact in (
        (got, num),
        (got.sum(axis=1), num.sum(axis=1)),
        (got.sum(axis=0), num.sum(axis=0)),
        (got.sum(), num.sum()),
    ):
        assert (np.asarray(part) >= np.asarray(exact) // 64).all()
        assert (np.asarray(part) <= -(-np.asarray(exact) // 64)).all()


@given(
    years=st.lists(st.integers(0, 10**9), min_size=1, max_size=40),
    parts=int_percentages(),
)
def test_controlled_round_rank_one_with_hamilton_columns(
    years: list[int], parts: list[int]
) -> None:
    # build_plan's case: x_ij = year_i * p_j, columns the largest-remainder split of the total.
    r = np.asarray(years, dtype=np.int64)
    p = np.asarray(parts, dtype=np.int64)
    cols = apportion(int(r.sum()), p.astype(np.float64))
    x = r.astype(np.float64)[:, None] * (p / p.sum())[None, :]
    got = call_unmutated(controlled_round, x, r, cols)
    assert (got.sum(axis=1) == r).all()
    assert (got.sum(axis=0) == cols).all()
    num = r[:, None] * p[None, :]
    assert ((got == num // p.sum()) | (got == -(-num // p.sum()))).all()
