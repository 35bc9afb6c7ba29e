"""Tests of crmcore.quota.apportion: hand-worked and published vectors, properties, bad input."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ConfigError
from crmcore.quota import METHODS, apportion, canonical_method
from helpers import call_unmutated
from strategies_quota import (
    DIVISOR_METHODS,
    METHOD_NAMES,
    extreme_weights,
    float_weights,
    int_weights,
    weights,
)

# ---------------------------------------------------------------------------------------------
# Exact reference implementations (slow, obviously correct): used on small inputs only.
# ---------------------------------------------------------------------------------------------


def _signpost(method: str, s: int) -> Fraction:
    return {
        "jefferson": lambda: Fraction(s + 1),
        "adams": lambda: Fraction(s),
        "webster": lambda: Fraction(2 * s + 1, 2),
        "dean": lambda: Fraction(2 * s * (s + 1), 2 * s + 1),
        # Hill: compare squared priorities w^2 / (s (s + 1)).
        "huntington_hill": lambda: Fraction(s * (s + 1)),
    }[method]()


def _priority(method: str, w: Fraction, s: int) -> tuple[int, Fraction]:
    """Priority of item's (s+1)-th unit; (1, w) ranks an infinite priority by weight."""
    d = _signpost(method, s)
    if d == 0:
        return (1, w)
    return (0, (w * w if method == "huntington_hill" else w) / d)


def reference(total: int, w: list[float] | list[int], method: str, lo=None, hi=None) -> list[int]:
    """Exact apportionment: Hamilton by Fractions, divisor methods one unit at a time."""
    fw = [Fraction(x) for x in w]
    n = len(fw)
    if method == "hamilton":
        big = sum(fw)
        q = [total * x / big for x in fw]
        a = [math.floor(x) for x in q]
        order = sorted(range(n), key=lambda i: (-(q[i] - a[i]), i))
        for i in order[: total - sum(a)]:
            a[i] += 1
        return a
    a = [0] * n if lo is None else [int(x) for x in lo]
    cap = [10**30] * n if hi is None else [int(x) for x in hi]
    for _ in range(total - sum(a)):
        best = None
        for i in range(n):
            if fw[i] == 0 or a[i] >= cap[i]:
                continue
            p = _priority(method, fw[i], a[i])
            if best is None or p > best[0]:  # strict: ties stay with the lower position
                best = (p, i)
        assert best is not None
        a[best[1]] += 1
    return a


def reference_large(total: int, w: list[int], method: str) -> list[int]:
    """Exact divisor apportionment for large totals: start near the answer, then step."""
    fw = [Fraction(x) for x in w]
    big = sum(fw)
    a = [math.floor(total * x / big) for x in fw]  # Hamilton's lower quota: close to the answer
    while sum(a) < total:
        i = max(
            (j for j in range(len(a)) if fw[j] > 0),
            key=lambda j: (_priority(method, fw[j], a[j]), -j),
        )
        a[i] += 1
    while sum(a) > total:
        # Remove the unit with the lowest priority; among equals the higher position loses it.
        i = min(
            (j for j in range(len(a)) if a[j] > 0 and fw[j] > 0),
            key=lambda j: (_priority(method, fw[j], a[j] - 1), -j),
        )
        a[i] -= 1
    # Exchange until no unawarded unit outranks an awarded one ((priority, -position) order):
    # the start may hold a tied unit that the lower position should have had.
    pos = [j for j in range(len(a)) if fw[j] > 0]
    while True:
        best = max(pos, key=lambda j: (_priority(method, fw[j], a[j]), -j))
        worst = min(
            (j for j in pos if a[j] > 0), key=lambda j: (_priority(method, fw[j], a[j] - 1), -j)
        )
        if (_priority(method, fw[best], a[best]), -best) <= (
            _priority(method, fw[worst], a[worst] - 1),
            -worst,
        ):
            return a
        a[best] += 1
        a[worst] -= 1


def reference_hamilton_bounded(total: int, w: list[int], lo: list[int], hi: list[int]) -> list[int]:
    """Water-filling quotas clip(lambda * w, lo, hi) summing to total, then largest remainder."""
    fw = [Fraction(x) for x in w]
    top = [h if x > 0 else low for x, low, h in zip(fw, lo, hi, strict=True)]

    def g(lam: Fraction) -> Fraction:
        return sum(
            (
                min(max(lam * x, Fraction(low)), Fraction(h))
                for x, low, h in zip(fw, lo, top, strict=True)
            ),
            Fraction(0),
        )

    kinks = sorted(
        {Fraction(b) / x for x, low, h in zip(fw, lo, top, strict=True) if x > 0 for b in (low, h)}
    )
    prev = Fraction(0)
    lam = kinks[-1]
    for k in kinks:
        if g(k) >= total:
            lam = k if g(k) == g(prev) else prev + (total - g(prev)) * (k - prev) / (g(k) - g(prev))
            break
        prev = k
    q = [
        min(max(lam * x, Fraction(low)), Fraction(h)) for x, low, h in zip(fw, lo, top, strict=True)
    ]
    a = [math.floor(x) for x in q]
    order = sorted(range(len(q)), key=lambda i: (-(q[i] - a[i]), i))
    for i in order[: total - sum(a)]:
        a[i] += 1
    return a


def quotas(total: int, w: list[float] | list[int]) -> list[Fraction]:
    fw = [Fraction(x) for x in w]
    big = sum(fw)
    return [total * x / big for x in fw]


# ---------------------------------------------------------------------------------------------
# Hand-worked examples (arithmetic in comments)
# ---------------------------------------------------------------------------------------------


def test_alabama_paradox_hamilton() -> None:
    # Balinski & Young, Fair Representation (2nd ed. 2001), ch. 5; textbook example 6, 6, 2.
    # total 10: quotas 10*6/14 = 4.286, 4.286, 1.429 -> floors 4, 4, 1 (9); remainders .286,
    #   .286, .429 -> the 10th unit to the third item: 4, 4, 2.
    # total 11: quotas 4.714, 4.714, 1.571 -> floors 4, 4, 1 (9); remainders .714, .714, .571
    #   -> two units to the first two: 5, 5, 1. The third item LOSES a unit as the total grows.
    assert apportion(10, [6, 6, 2]).tolist() == [4, 4, 2]
    assert apportion(11, [6, 6, 2]).tolist() == [5, 5, 1]


@pytest.mark.parametrize("method", DIVISOR_METHODS)
def test_divisor_methods_avoid_the_alabama_paradox(method: str) -> None:
    small = apportion(10, [6, 6, 2], method)
    large = apportion(11, [6, 6, 2], method)
    assert (large >= small).all()


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        # weights 5, 3, 1; total 8.
        # Jefferson d(s) = s+1: priorities 5, 3, 1 | 2.5, 1.5, .5 | 1.67, 1, .33 | 1.25 | 1
        #   units in order: 5(A) 3(B) 2.5(A) 1.67(A) 1.5(B) 1.25(A) 1(A: 5/5) 1(B: 3/3) ...
        #   ties at 1: A (5/5) and B (3/3) and C (1/1): lower position first -> A then B.
        #   -> A 5, B 3, C 0  (divisor 1: floor(5/1), floor(3/1), floor(1/1) would be 9 > 8).
        ("jefferson", [5, 3, 0]),
        # Adams d(s) = s: everyone's first unit first (3 units), then priorities 5/1, 3/1, 1/1,
        #   5/2 ... -> A gets 2nd (5), A 3rd (2.5), B 2nd (3 > 2.5 so B before A's 3rd),
        #   A 4th (1.67), B 3rd (1.5): A 4, B 3, C 1 (divisor 5/3: ceil(3), ceil(1.8), ceil(.6)).
        ("adams", [4, 3, 1]),
        # Webster d(s) = s + 1/2: divisor 1: round(5), round(3), round(1) = 9; divisor 1.1:
        #   round(4.55)=5, round(2.73)=3, round(0.91)=1 -> 9; divisor 1.2: 4.17->4, 2.5->3 (up),
        #   0.83->1 -> 8.
        ("webster", [4, 3, 1]),
        # Dean: signposts 0, 4/3, 12/5, 24/7, 40/9; divisor 1.2 -> quotients 4.17, 2.5, .83:
        #   4.17 < 40/9=4.44 -> 4; 2.5 >= 12/5 = 2.4 -> 3; .83 > 0 -> 1. Sum 8.
        ("dean", [4, 3, 1]),
        # Hill: signposts 0, 1.414, 2.449, 3.464, 4.472; divisor 1.2 -> 4.17 -> 4; 2.5 -> 3;
        #   .83 -> 1. Sum 8.
        ("huntington_hill", [4, 3, 1]),
        # Hamilton: quotas 40/9 = 4.44, 24/9 = 2.67, 8/9 = .89 -> floors 4, 2, 0 (6); two
        #   units to the largest remainders .89 (C) and .67 (B): 4, 3, 1.
        ("hamilton", [4, 3, 1]),
    ],
)
def test_hand_examples(method: str, expected: list[int]) -> None:
    assert apportion(8, [5, 3, 1], method).tolist() == expected


def test_methods_differ_where_theory_says() -> None:
    # weights 9, 1, 1 and total 5: quotas 4.09, .45, .45.
    # Jefferson (floor): divisor 1.8 -> 5, 0, 0 (favours the large item, above its upper quota 5
    #   is fine here; lower quota 4 respected).
    # Adams (ceil): every positive item at least 1 -> 3, 1, 1.
    # Webster: divisor 2 -> round(4.5) = 4 (the signpost 4.5 rounds up... 4.5 -> 5? priorities:
    #   9/4.5 = 2 vs 1/0.5 = 2: a tie, lower position wins -> 5, 0, 0 would need 9/4.5 before
    #   the small items' first units (1/0.5 = 2): tie -> position 0 first -> 5th unit: 9/4.5=2
    #   vs 1/.5=2 -> A; sum 5: 5, 0, 0.
    assert apportion(5, [9, 1, 1], "jefferson").tolist() == [5, 0, 0]
    assert apportion(5, [9, 1, 1], "adams").tolist() == [3, 1, 1]
    assert apportion(5, [9, 1, 1], "webster").tolist() == [5, 0, 0]
    assert apportion(5, [9, 1, 1], "huntington_hill").tolist() == [3, 1, 1]


# ---------------------------------------------------------------------------------------------
# Published test vectors
# ---------------------------------------------------------------------------------------------

# 1790 census apportionment populations of the 15 states, total 3,615,920 (as tabulated in COMAP,
# For All Practical Purposes, ch. 14, Example 6 / Table 14.5; the standard figures of the
# apportionment literature, e.g. Balinski & Young, Fair Representation, 2nd ed. 2001).
STATES_1790 = {
    "Connecticut": 236_841,
    "Delaware": 55_540,
    "Georgia": 70_835,
    "Kentucky": 68_705,
    "Maryland": 278_514,
    "Massachusetts": 475_327,
    "New Hampshire": 141_822,
    "New Jersey": 179_570,
    "New York": 331_589,
    "North Carolina": 353_523,
    "Pennsylvania": 432_879,
    "Rhode Island": 68_446,
    "South Carolina": 206_236,
    "Vermont": 85_533,
    "Virginia": 630_560,
}
# Hamilton's vetoed 1792 bill, 120 seats (COMAP, For All Practical Purposes, Table 14.5:
# lower quotas sum to 111, the 9 largest remainders get one more seat).
HAMILTON_120 = {
    "Connecticut": 8, "Delaware": 2, "Georgia": 2, "Kentucky": 2, "Maryland": 9,
    "Massachusetts": 16, "New Hampshire": 5, "New Jersey": 6, "New York": 11,
    "North Carolina": 12, "Pennsylvania": 14, "Rhode Island": 2, "South Carolina": 7,
    "Vermont": 3, "Virginia": 21,
}  # fmt: skip
# The Apportionment Act of 1792, Jefferson's method, 105 seats ("Representation according to the
# First Census" in St. George Tucker, Blackstone's Commentaries (1803), vol. 1, Note D, footnote
# 56 table; Balinski & Young 2001 discuss the same apportionment).
JEFFERSON_105 = {
    "Connecticut": 7, "Delaware": 1, "Georgia": 2, "Kentucky": 2, "Maryland": 8,
    "Massachusetts": 14, "New Hampshire": 4, "New Jersey": 5, "New York": 10,
    "North Carolina": 10, "Pennsylvania": 13, "Rhode Island": 2, "South Carolina": 6,
    "Vermont": 2, "Virginia": 19,
}  # fmt: skip


def test_1790_census_hamilton_120() -> None:
    assert sum(STATES_1790.values()) == 3_615_920
    got = apportion(120, list(STATES_1790.values()), "hamilton")
    assert dict(zip(STATES_1790, got.tolist(), strict=True)) == HAMILTON_120


def test_1790_census_jefferson_105() -> None:
    got = apportion(105, list(STATES_1790.values()), "jefferson")
    assert dict(zip(STATES_1790, got.tolist(), strict=True)) == JEFFERSON_105


def test_1790_census_as_a_series_keeps_nothing_but_values() -> None:
    pops = pd.Series(STATES_1790)
    got = call_unmutated(apportion, 105, pops, "dhondt")
    assert got.tolist() == list(JEFFERSON_105.values())


@pytest.mark.parametrize(
    ("votes", "seats", "method", "expected"),
    [
        # Worked example of staatsrecht.honikel.de ("Berechnungsbeispiele - Loesungen"): parties
        # A 6100, B 5000, C 900 votes, 10 seats. Sainte-Laguë (divisors 1, 3, 5, ...): 5/4/1;
        # largest remainder (5.08, 4.17, 0.75): 5/4/1; D'Hondt (divisors 1, 2, 3, ...): 6/4/0.
        ([6100, 5000, 900], 10, "sainte_lague", [5, 4, 1]),
        ([6100, 5000, 900], 10, "largest_remainder", [5, 4, 1]),
        ([6100, 5000, 900], 10, "dhondt", [6, 4, 0]),
        # Wikipedia / electowiki "D'Hondt method" and "Sainte-Laguë method" example: 100,000,
        # 80,000, 30,000, 20,000 votes for 8 seats: D'Hondt 4/3/1/0, Sainte-Laguë 3/3/1/1.
        ([100_000, 80_000, 30_000, 20_000], 8, "dhondt", [4, 3, 1, 0]),
        ([100_000, 80_000, 30_000, 20_000], 8, "sainte_lague", [3, 3, 1, 1]),
    ],
)
def test_published_electoral_examples(
    votes: list[int], seats: int, method: str, expected: list[int]
) -> None:
    assert apportion(seats, votes, method).tolist() == expected


# ---------------------------------------------------------------------------------------------
# Zero weights, small totals, bounds, ties
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_zero_weights_get_zero_unless_a_minimum_says_otherwise(method: str) -> None:
    assert apportion(7, [0, 3, 0, 4], method).tolist()[0::2] == [0, 0]
    got = apportion(7, [0, 3, 0, 4], method, minimum=[2, 0, 0, 0])
    assert got[0] == 2
    assert got[2] == 0
    assert got.sum() == 7


@pytest.mark.parametrize("method", ["adams", "dean", "huntington_hill"])
def test_zero_signpost_methods_give_everyone_one_unit_when_possible(method: str) -> None:
    # 4 positive weights and 4 units: one each, however unequal the weights.
    assert apportion(4, [1000, 1, 1, 1], method).tolist() == [1, 1, 1, 1]
    # Fewer units than positive weights: one each to the largest weights; ties: lower position.
    assert apportion(2, [1, 5, 5, 9], method).tolist() == [0, 1, 0, 1]
    assert apportion(0, [1, 2], method).tolist() == [0, 0]


def test_ties_go_to_the_lower_position() -> None:
    # Equal weights, one unit left: Hamilton remainders are equal -> first items win.
    assert apportion(10, [1, 1, 1]).tolist() == [4, 3, 3]
    assert apportion(10, [1, 1, 1], "webster").tolist() == [4, 3, 3]
    assert apportion(2, [1, 1, 1], "jefferson").tolist() == [1, 1, 0]


def test_bounds_hand_example() -> None:
    # Equal weights, 100 units, first capped at 20: it gets 20, the other two split 80 = 40/40.
    assert apportion(100, [1, 1, 1], maximum=[20, 100, 100]).tolist() == [20, 40, 40]
    # Minimum: weights 8, 1, 1 over 10 with minimum 3 each -> 3 + 3 fixed, 4 left to the
    # large item? Water-filling: quota 8 clipped? lambda*w with bounds [3, inf): lambda = 0.5
    # gives 4, 0.5->3, 0.5->3 -> sum 10: 4, 3, 3.
    assert apportion(10, [8, 1, 1], minimum=3).tolist() == [4, 3, 3]
    assert apportion(10, [8, 1, 1], "dhondt", minimum=3).tolist() == [4, 3, 3]
    # Maximum for a divisor method: Jefferson 8 units over 5, 3, 1 gives 5, 3, 0; capping the
    # first at 4 gives its unit to the next priority, C's first unit (1/1) vs B's 4th (3/4):
    # C wins -> 4, 3, 1.
    assert apportion(8, [5, 3, 1], "jefferson", maximum=[4, 9, 9]).tolist() == [4, 3, 1]


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_exact_with_near_equal_huge_integer_weights(method: str) -> None:
    # Weights differing in the 16th digit cannot be told apart by float64; the exact answer can.
    w = [10**15 + 1, 10**15, 10**15 + 2, 10**15]
    for total in (3, 5, 7, 10**12 + 1, 10**15 + 3):
        got = apportion(total, w, method)
        assert got.sum() == total
        if method == "hamilton":
            assert got.tolist() == reference(total, w, method)
        else:
            assert got.tolist() == reference_large(total, w, method)


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_float_weights_are_taken_exactly(method: str) -> None:
    # 0.1 + 0.2 != 0.3 in binary floating point; the result is exact for the stored values.
    w = [0.1, 0.2, 0.3]
    for total in (6, 7, 60, 10**9 + 7):
        got = apportion(total, w, method)
        expected = (
            reference(total, w, method)
            if method == "hamilton" or total < 100
            else reference_large(total, [Fraction(x) for x in w], method)  # type: ignore[list-item]
        )
        assert got.tolist() == expected


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_total_beyond_float_precision(method: str) -> None:
    w = [3, 7, 11, 13]
    total = 2**62 - 1
    got = apportion(total, w, method)
    assert got.dtype == np.int64
    assert int(got.sum()) == total
    expected = (
        reference(total, w, method) if method == "hamilton" else reference_large(total, w, method)
    )
    assert got.tolist() == expected


@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize("total", [2**61 + 1, 2**62 - 7, 10**17 + 3])
def test_huge_totals_with_tied_weights(method: str, total: int) -> None:
    # Equal weights share runs of near-tied units; ties at the threshold go to lower positions.
    w = [5, 3, 5, 1, 3, 3]
    expected = (
        reference(total, w, method) if method == "hamilton" else reference_large(total, w, method)
    )
    assert apportion(total, w, method).tolist() == expected


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_one_item_takes_the_largest_total(method: str) -> None:
    assert apportion(2**62, [5], method).tolist() == [2**62]
    assert apportion(2**62, [0, 5.5], method).tolist() == [0, 2**62]


@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize(
    ("total", "w", "expected", "expected_zero_signpost"),
    [
        # Issue #14: a single huge weight gave -9223372036854775807, two of 1e308 overflowed.
        (100, [1e307], [100], [100]),
        # d(0) = 0 (Adams, Dean, Hill): every positive weight's first unit has infinite
        # priority, however small the weight; the rest by priority, ties to the first item.
        (10, [1e308, 1e308, 1.0], [5, 5, 0], [5, 4, 1]),
        (7, [1.7976931348623157e308, 1.7976931348623157e308], [4, 3], [4, 3]),
        (2**62, [1e-300, 1e307], [0, 2**62], [1, 2**62 - 1]),
    ],
)
def test_extreme_weights(
    method: str,
    total: int,
    w: list[float],
    expected: list[int],
    expected_zero_signpost: list[int],
) -> None:
    want = expected_zero_signpost if method in ("adams", "dean", "huntington_hill") else expected
    assert apportion(total, w, method).tolist() == want
    if total < 100:
        assert want == reference(total, w, method)


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_weights_spanning_the_float_range_match_the_reference(method: str) -> None:
    # 2**-1074 .. 2**1023: no float scale holds them all; ratios are exact all the same.
    w = [5e-324, 1e-300, 3e-300, 1e-5, 1.0, 1e300, 1.7976931348623157e308]
    for total in (3, 7, 40):
        assert apportion(total, w, method).tolist() == reference(total, w, method)


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_bounds_can_force_units_onto_tiny_weights(method: str) -> None:
    # The huge weight is capped; the rest must go to the tiny ones, 1 : 3 between them.
    w = [1e307, 1e-300, 3e-300]
    got = apportion(12, w, method, maximum=[4, 100, 100])
    assert got.sum() == 12
    assert got[0] == 4
    expected = reference(12, w, method, [0, 0, 0], [4, 100, 100])
    if method == "hamilton":  # water-filling: 8 units over 1 : 3 exactly
        expected = [4, 2, 6]
    assert got.tolist() == expected


def test_errors_name_the_row_label_of_a_series() -> None:
    w = pd.Series([1.0, 2.0, np.nan], index=["r10", "r20", "r30"])
    with pytest.raises(ConfigError, match=r"NaN value nan at row 'r30'") as info:
        apportion(10, w)
    assert info.value.row == "r30"
    with pytest.raises(ConfigError, match=r"negative value -1.0 at row 'b'"):
        apportion(10, pd.Series([1.0, -1.0], index=["a", "b"]))
    with pytest.raises(ConfigError, match=r"infinite value inf at row 7"):
        apportion(10, pd.Series([1.0, np.inf], index=[3, 7]))


def test_total_just_above_the_limit_is_refused() -> None:
    # 2**62 + 1 and 2**62 are the same float: the check is on the integer.
    with pytest.raises(ConfigError, match=r"total == 4611686018427387905, must be <="):
        apportion(2**62 + 1, [1, 1])


def test_many_exact_ties_resolved_by_position() -> None:
    w = np.ones(10_000)
    got = apportion(25_003, w, "sainte_lague")
    # 2.5003 per item: Webster with equal weights -> every item 2 or 3; the 5003 units above
    # 2 each go to the first 5003 positions.
    assert got[:5003].tolist() == [3] * 5003
    assert got[5003:].tolist() == [2] * 4997


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("dhondt", "jefferson"),
        ("D'Hondt", "jefferson"),
        ("d-hondt", "jefferson"),
        ("Sainte-Lague", "webster"),
        ("sainte_lague", "webster"),
        ("largest_remainder", "hamilton"),
        ("Hare-Niemeyer", "hamilton"),
        ("equal proportions", "huntington_hill"),
        ("HILL", "huntington_hill"),
        ("adams", "adams"),
        ("harmonic_mean", "dean"),
    ],
)
def test_aliases_are_accepted(alias: str, name: str) -> None:
    assert canonical_method(alias) == name
    assert apportion(8, [5, 3, 1], alias).tolist() == apportion(8, [5, 3, 1], name).tolist()


def test_method_names_cover_six_methods() -> None:
    assert list(METHODS) == sorted(METHODS)
    assert {canonical_method(m) for m in METHODS} == set(METHOD_NAMES)
    assert len(METHOD_NAMES) == 6


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------


@given(w=weights(), total=st.integers(0, 10**6), method=st.sampled_from(METHOD_NAMES))
def test_exact_sum_for_every_method(w: list[float], total: int, method: str) -> None:
    got = apportion(total, w, method)
    assert got.dtype == np.int64
    assert got.shape == (len(w),)
    assert int(got.sum()) == total
    assert (got >= 0).all()
    assert (got[np.asarray(w) == 0] == 0).all()


@given(w=weights(), total=st.integers(0, 60), method=st.sampled_from(METHOD_NAMES))
def test_matches_the_exact_reference(w: list[float], total: int, method: str) -> None:
    assert apportion(total, w, method).tolist() == reference(total, w, method)


@given(
    w=int_weights(max_value=10**12),
    total=st.one_of(st.integers(10**9, 10**15), st.integers(10**15, 2**62)),
    method=st.sampled_from(METHOD_NAMES),
)
def test_matches_the_exact_reference_for_large_totals(
    w: list[int], total: int, method: str
) -> None:
    expected = (
        reference(total, w, method) if method == "hamilton" else reference_large(total, w, method)
    )
    assert apportion(total, w, method).tolist() == expected


@given(w=extreme_weights(), total=st.integers(0, 40), method=st.sampled_from(METHOD_NAMES))
def test_extreme_weights_match_the_exact_reference(w: list[float], total: int, method: str) -> None:
    # Weights from 5e-324 to 1.8e308 in one call, exact ties included.
    assert apportion(total, w, method).tolist() == reference(total, w, method)


@given(data=st.data(), w=extreme_weights(max_size=6), method=st.sampled_from(METHOD_NAMES))
def test_extreme_weights_within_bounds(data: st.DataObject, w: list[float], method: str) -> None:
    n = len(w)
    lo = np.asarray(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    hi = lo + np.asarray(data.draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)))
    eff_hi = np.where(np.asarray(w) > 0, hi, lo)
    total = data.draw(st.integers(int(lo.sum()), int(eff_hi.sum())))
    got = apportion(total, w, method, minimum=lo, maximum=hi)
    assert int(got.sum()) == total
    assert (got >= lo).all()
    assert (got <= hi).all()
    if method != "hamilton":
        assert got.tolist() == reference(total, w, method, lo, hi)
    else:
        assert got.tolist() == reference_hamilton_bounded(total, w, lo.tolist(), hi.tolist())  # type: ignore[arg-type]


@given(
    w=weights(),
    total=st.integers(0, 10**5),
    method=st.sampled_from(DIVISOR_METHODS),
    more=st.integers(1, 50),
)
def test_divisor_methods_are_house_monotone(
    w: list[float], total: int, method: str, more: int
) -> None:
    # Balinski & Young (2001), Theorem 4.3 / Proposition 3.3: every divisor method is house
    # monotone -- raising the total never lowers anyone.
    before = apportion(total, w, method)
    after = apportion(total + more, w, method)
    assert (after >= before).all()


@given(w=weights(), total=st.integers(0, 10**6))
def test_hamilton_satisfies_quota(w: list[float], total: int) -> None:
    # Each part is its quota rounded down or up (Balinski & Young 2001, ch. 2).
    got = apportion(total, w, "hamilton").tolist()
    for a, q in zip(got, quotas(total, w), strict=True):
        assert math.floor(q) <= a <= math.ceil(q)


@given(w=weights(), total=st.integers(0, 10**6))
def test_jefferson_never_below_lower_quota(w: list[float], total: int) -> None:
    got = apportion(total, w, "jefferson").tolist()
    assert all(a >= math.floor(q) for a, q in zip(got, quotas(total, w), strict=True))


@given(w=weights(), total=st.integers(0, 10**6))
def test_adams_never_above_upper_quota(w: list[float], total: int) -> None:
    got = apportion(total, w, "adams").tolist()
    assert all(a <= math.ceil(q) for a, q in zip(got, quotas(total, w), strict=True))


@given(data=st.data(), w=weights(), method=st.sampled_from(METHOD_NAMES))
def test_bounds_are_respected(data: st.DataObject, w: list[float], method: str) -> None:
    n = len(w)
    lo = np.asarray(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)))
    hi = lo + np.asarray(data.draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)))
    eff_hi = np.where(np.asarray(w) > 0, hi, lo)
    total = data.draw(st.integers(int(lo.sum()), int(eff_hi.sum())))
    got = apportion(total, w, method, minimum=lo, maximum=hi)
    assert int(got.sum()) == total
    assert (got >= lo).all()
    assert (got <= hi).all()
    if method != "hamilton" and total <= 200:
        # The bounded divisor method is the unit-by-unit method started at the minima.
        assert got.tolist() == reference(total, w, method, lo, hi)
    if method == "hamilton" and all(float(x).is_integer() for x in w):
        expected = reference_hamilton_bounded(total, [int(x) for x in w], lo.tolist(), hi.tolist())
        assert got.tolist() == expected


@given(
    w=st.lists(st.integers(1, 10**6), min_size=1, max_size=12, unique=True),
    total=st.integers(0, 10**7),
    method=st.sampled_from(METHOD_NAMES),
    seed=st.integers(0, 1000),
)
def test_order_changes_nothing_but_output_order(
    w: list[int], total: int, method: str, seed: int
) -> None:
    # Distinct weights: no exact ties, so the position tie-break never matters.
    perm = np.random.default_rng(seed).permutation(len(w))
    base = apportion(total, w, method)
    moved = apportion(total, np.asarray(w)[perm], method)
    assert moved.tolist() == base[perm].tolist()


@given(
    w=int_weights(),
    total=st.integers(0, 10**6),
    method=st.sampled_from(METHOD_NAMES),
    scale=st.integers(2, 10**6),
)
def test_scaling_the_weights_changes_nothing(
    w: list[int], total: int, method: str, scale: int
) -> None:
    base = apportion(total, w, method)
    assert apportion(total, [x * scale for x in w], method).tolist() == base.tolist()


@given(
    w=float_weights(max_size=6), total=st.integers(0, 10**12), method=st.sampled_from(METHOD_NAMES)
)
def test_large_totals_with_float_weights_sum_exactly(
    w: list[float], total: int, method: str
) -> None:
    got = apportion(total, w, method)
    assert int(got.sum()) == total


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weights": [1, -2, 3]}, r"weights has negative value -2 at position 1"),
        ({"weights": [1.0, float("nan")]}, r"weights has NaN value nan at position 1"),
        ({"weights": [1.0, float("inf")]}, r"weights has infinite value"),
        ({"weights": [0, 0, 0]}, r"weights are all zero"),
        ({"weights": []}, r"weights is empty"),
        ({"weights": [[1, 2]]}, r"one-dimensional"),
        ({"weights": [True, False]}, r"weights has boolean True at position 0"),
        ({"weights": pd.Series([1.0, pd.NA], index=["a", "b"])}, r"missing value at row 'b'"),
        ({"weights": ["a", "b"]}, r"non-numeric value 'a' at position 0"),
        ({"weights": [1, 2**70]}, r"weights exceed the int64 range"),
        ({"method": "borda"}, r"method='borda' is not a known apportionment method"),
        ({"method": 3}, r"method must be a string"),
        ({"total": -1}, r"total == -1, must be >= 0"),
        ({"total": 2.5}, r"total must be int"),
        ({"total": 2**63}, r"total == .*, must be <="),
        (
            {"minimum": [5, 0, 0], "maximum": [4, 9, 9]},
            r"minimum 5 exceeds maximum 4 at position 0",
        ),
        ({"minimum": 4}, r"minimum sums to 12, more than total 10"),
        ({"maximum": 3}, r"maximum sums to 9, less than total 10"),
        (
            {"weights": [1, 0, 1], "maximum": 5, "minimum": 0, "total": 11},
            r"maximum sums to 10 \(zero-weight",
        ),
        ({"minimum": [1, 2]}, r"minimum must be a scalar or have one value per weight \(3\)"),
        ({"minimum": -1}, r"minimum has negative value -1 at position 0"),
        ({"maximum": 2.5}, r"maximum has value 2.5 at position 0; expected whole numbers"),
        ({"maximum": "x"}, r"maximum must be integers"),
    ],
)
def test_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"total": 10, "weights": [1, 2, 3], "method": "hamilton"}
    args.update(kwargs)
    with pytest.raises(ConfigError, match=match):
        apportion(
            args["total"],
            args["weights"],
            args["method"],
            minimum=args.get("minimum"),
            maximum=args.get("maximum"),
        )  # type: ignore[arg-type]


def test_inputs_are_not_mutated() -> None:
    w = np.array([3.0, 0.0, 5.0])
    lo = np.array([0, 1, 0])
    hi = np.array([9, 9, 9])
    got = call_unmutated(apportion, 10, w, "webster", minimum=lo, maximum=hi)
    # The zero weight is held at its minimum 1; 9 units over 3 and 5: quotients 3.375, 5.625
    # round to 3 and 6 (sum 9) with divisor 1 -> 3, 1, 6.
    assert got.tolist() == [3, 1, 6]
