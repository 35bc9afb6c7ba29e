"""Exact apportionment: split an integer total in proportion to weights.

Six classical methods (Balinski & Young, *Fair Representation*, 2nd ed. 2001; Pukelsheim,
*Proportional Representation*, 2nd ed. 2017):

``hamilton`` (largest remainder, Hare quota)
    Each item gets the floor of its quota ``q_i = total * w_i / sum(w)``; the units left over
    go to the largest fractional remainders. Unbounded, this is
    :func:`crmcore.money.largest_remainder` itself, the one exact rounding routine of crmcore;
    with bounds, the items whose water-filled quota hits a bound are fixed and the rest split
    by it.
``jefferson`` (= ``dhondt``), ``adams``, ``webster`` (= ``sainte_lague``), ``dean``,
``huntington_hill``
    Divisor methods (``_divisor.py``): item ``i`` gets ``round(w_i / D)`` for one common
    divisor ``D``; the rounding signposts are ``s + 1``, ``s``, ``s + 1/2``, the harmonic and
    the geometric mean of ``s`` and ``s + 1``.

Every method is exact for any finite weights (integers as integers, floats as the binary
fractions they store, from subnormals to ``1.8e308`` in one call) and totals up to ``2**62``.
Ties (exactly equal priorities or remainders) go to the item that comes first (lower position).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import check_scalar, first_true, show
from crmcore._memory import normal_pages
from crmcore.errors import ConfigError
from crmcore.money import largest_remainder
from crmcore.quota._divisor import NO_CAP, divisor_apportion
from crmcore.quota._weights import (
    FloatArray,
    IntArray,
    Weights,
    check_weights,
    describe_position,
    scale_shift,
)

__all__ = ["METHODS", "apportion", "canonical_method"]

_METHOD_ALIASES: dict[str, tuple[str, ...]] = {
    "adams": ("adams", "smallest_divisors"),
    "dean": ("dean", "harmonic_mean"),
    "hamilton": ("hamilton", "largest_remainder", "hare", "hare_niemeyer", "vinton"),
    "huntington_hill": ("huntington_hill", "hill", "equal_proportions"),
    "jefferson": ("jefferson", "dhondt", "hagenbach_bischoff", "greatest_divisors"),
    "webster": ("webster", "sainte_lague", "major_fractions"),
}
_ALIAS = {alias: name for name, aliases in _METHOD_ALIASES.items() for alias in aliases}


class MethodNames(tuple[str, ...]):
    """Every method name :func:`apportion` accepts: the six canonical names and their aliases.

    ``adams`` (``smallest_divisors``), ``dean`` (``harmonic_mean``), ``hamilton``
    (``largest_remainder``, ``hare``, ``hare_niemeyer``, ``vinton``), ``huntington_hill``
    (``hill``, ``equal_proportions``), ``jefferson`` (``dhondt``, ``hagenbach_bischoff``,
    ``greatest_divisors``), ``webster`` (``sainte_lague``, ``major_fractions``). Sorted.

    Examples
    --------
    >>> from crmcore.quota import METHODS
    >>> "dhondt" in METHODS, "sainte_lague" in METHODS, len(METHODS)
    (True, True, 19)
    """


#: Every accepted method name (canonical names and aliases), sorted.
METHODS = MethodNames(sorted(_ALIAS))
_MAX_TOTAL = 2**62


def canonical_method(method: str) -> str:
    """Return the canonical name of an apportionment method or alias.

    Case, hyphens, spaces and apostrophes are ignored (``"D'Hondt"`` → ``"jefferson"``).

    Raises
    ------
    ConfigError
        The method is unknown.

    Examples
    --------
    >>> canonical_method("D'Hondt"), canonical_method("sainte-lague")
    ('jefferson', 'webster')
    """
    if not isinstance(method, str):
        raise ConfigError(
            f"method must be a string, got {type(method).__name__} {method!r}",
            column="method",
            value=method,
        )
    key = method.strip().lower().replace("-", "_").replace(" ", "_").replace("'", "")
    key = "dhondt" if key == "d_hondt" else key
    if key not in _ALIAS:
        names = ", ".join(repr(n) for n in _METHOD_ALIASES)
        raise ConfigError(
            f"method={method!r} is not a known apportionment method; use one of {names} "
            "(or an alias such as 'dhondt', 'sainte_lague', 'largest_remainder')",
            column="method",
            value=method,
        )
    return _ALIAS[key]


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _bound(value: Any, n: int, name: str, default: int) -> IntArray:
    """Return one bound per weight as int64 (capped at ``NO_CAP``); errors name row labels."""
    if value is None:
        # A read-only broadcast view (no memory): callers only read bounds or copy them.
        return np.broadcast_to(np.int64(default), (n,))
    labels = value.index if isinstance(value, pd.Series) else None
    raw = value.to_numpy() if isinstance(value, pd.Series) else value
    arr = np.asarray(raw)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise ConfigError(f"{name} must be integers, got {arr.dtype}", column=name)
    if arr.ndim == 0:
        arr = np.full(n, arr.item())
        labels = None
    if arr.shape != (n,):
        raise ConfigError(
            f"{name} must be a scalar or have one value per weight ({n}), got shape {arr.shape}",
            column=name,
        )
    if arr.dtype.kind == "f":
        pos = first_true(~np.isfinite(arr) | (arr != np.round(arr)))
        if pos is not None:
            where, row = describe_position(labels, pos)
            raise ConfigError(
                f"{name} has value {show(arr[pos])} {where}; expected whole numbers",
                column=name,
                row=row,
                value=arr[pos],
            )
        arr = np.minimum(arr, float(NO_CAP))  # larger maxima change nothing
    elif arr.dtype.kind == "u":
        arr = np.minimum(arr, np.uint64(NO_CAP))
    pos = first_true(arr < 0)
    if pos is not None:
        where, row = describe_position(labels, pos)
        raise ConfigError(
            f"{name} has negative value {show(arr[pos])} {where}; expected >= 0",
            column=name,
            row=row,
            value=arr[pos],
        )
    out: IntArray = np.minimum(arr, NO_CAP).astype(np.int64)
    return out


def _int_sum(values: IntArray) -> int:
    """Exact sum of non-negative int64 values (Python ints only when int64 could overflow)."""
    if values.size == 0:
        return 0
    if int(values.max()) <= np.iinfo(np.int64).max // max(values.size, 1):
        return int(values.sum())
    return int(values.sum(dtype=object))


def _check_feasible(total: int, weights: Weights, lo: IntArray, hi: IntArray) -> IntArray:
    """Check the bounds; return the effective maxima (zero weights are held at their minimum)."""
    pos = first_true(lo > hi)
    if pos is not None:
        raise ConfigError(
            f"minimum {int(lo[pos])} exceeds maximum {int(hi[pos])} at position {pos}; "
            "no apportionment can respect both",
            column="minimum",
            row=pos,
            value=int(lo[pos]),
        )
    low = _int_sum(lo)
    if low > total:
        raise ConfigError(
            f"minimum sums to {low}, more than total {total}; lower the minima or raise the total",
            column="minimum",
            value=low,
        )
    positive = weights.positive
    eff = hi if bool(positive.all()) else np.where(positive, hi, lo)
    # Parts are non-negative: one part at or above the total settles feasibility without the
    # exact (possibly arbitrary-precision) sum.
    if int(eff.max()) >= total:
        return eff.astype(np.int64, copy=False)
    high = _int_sum(eff)
    if high < total:
        zero = " (zero-weight items count at their minimum)" if not positive.all() else ""
        raise ConfigError(
            f"maximum sums to {high}{zero}, less than total {total}; raise the maxima or lower "
            "the total",
            column="maximum",
            value=high,
        )
    return eff.astype(np.int64, copy=False)


# --------------------------------------------------------------------------------------------
# Hamilton with bounds
# --------------------------------------------------------------------------------------------


def _water_level(
    total: int, weights: Weights, lo: IntArray, hi: IntArray
) -> tuple[float, FloatArray]:
    """Return ``lam`` and scaled weights ``w`` with ``sum(clip(lam w, lo, hi))`` near total.

    ``g(lam)`` is piecewise linear and non-decreasing: Newton steps (slope = weight of the
    unclipped items) inside a bisection bracket, a few passes.
    """
    lo_f, hi_f = lo.astype(np.float64), hi.astype(np.float64)

    def reached(w: FloatArray) -> float:
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.clip(w, lo_f, hi_f).sum())

    shift, bracketed = scale_shift(weights, reached, total, bounded=True)
    flt = weights.scaled(shift)
    finite = np.isfinite(flt)
    lam = 1.0 if bracketed else total / float(flt[finite].sum())
    a, b = 0.0, math.inf
    for _ in range(300):
        with np.errstate(over="ignore", invalid="ignore"):
            v = lam * flt
            gv = float(np.clip(v, lo_f, hi_f).sum())
        if gv == total:
            break
        if gv < total:
            a = lam
        else:
            b = lam
        slope = float(flt[(v > lo_f) & (v < hi_f) & finite].sum())
        nxt = lam + (total - gv) / slope if slope > 0 else math.nan
        if not a < nxt < b:
            nxt = 2.0 * lam if math.isinf(b) else 0.5 * (a + b)
        if nxt == lam or abs(nxt - lam) <= 1e-15 * lam:
            break
        lam = nxt
    return lam, flt


def _hamilton(total: int, weights: Weights, lo: IntArray, hi: IntArray) -> IntArray:
    """Apportion by Hamilton's method within bounds.

    Unbounded, this is :func:`crmcore.money.largest_remainder`. With bounds, the items whose
    water-filled quota hits a bound are fixed there and the rest split by largest remainder,
    repeating while a free item falls outside its bounds (rare: float-level near-ties at a
    bound).
    """
    if not bool((lo > 0).any() or (hi < NO_CAP).any()):
        return largest_remainder(total, weights.values())
    lam, flt = _water_level(total, weights, lo, hi)
    with np.errstate(over="ignore", invalid="ignore"):
        level = lam * flt
    at_lo = ~weights.positive | (level <= lo)
    at_hi = ~at_lo & (level >= hi)
    out = np.where(at_lo, lo, np.where(at_hi, hi, 0)).astype(np.int64)
    free = ~(at_lo | at_hi)
    values = weights.values()
    for _ in range(weights.size + 1):
        if not free.any():
            break
        rest = total - _int_sum(out[~free])
        part = np.zeros(weights.size, dtype=np.int64)
        part[free] = largest_remainder(rest, values[free])
        below = free & (part < lo)
        above = free & (part > hi)
        if not (below.any() or above.any()):
            out[free] = part[free]
            break
        # Fix the violators of the larger total violation first (the other side may resolve).
        if _int_sum((lo - part)[below]) >= _int_sum((part - hi)[above]):
            out[below] = lo[below]
            free &= ~below
        else:
            out[above] = hi[above]
            free &= ~above
    return out


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


@normal_pages
def apportion(
    total: int,
    weights: npt.ArrayLike | pd.Series | Sequence[float],
    method: str = "hamilton",
    *,
    minimum: int | npt.ArrayLike | pd.Series | None = None,
    maximum: int | npt.ArrayLike | pd.Series | None = None,
) -> IntArray:
    """Split an integer ``total`` in proportion to ``weights``; the parts sum to it exactly.

    Parameters
    ----------
    total
        Non-negative integer to split (e.g. a quota in cents), below ``2**62``.
    weights
        One non-negative weight per item, at least one positive. Integer weights are used
        exactly; float weights exactly as the binary fractions they store, from ``5e-324``
        to ``1.8e308`` in one call. For a Series, errors name the row label.
    method
        ``"hamilton"`` (largest remainder, default), ``"jefferson"`` (= ``"dhondt"``),
        ``"webster"`` (= ``"sainte_lague"``), ``"huntington_hill"``, ``"adams"``, ``"dean"``;
        :data:`METHODS` lists every alias accepted.
    minimum, maximum
        Optional bounds per item: a non-negative integer for all, or one per item
        (``maximum=None``: no cap). Divisor methods use the bounded divisor method (each item
        gets ``round(w_i / D)`` clipped to its bounds, one common ``D``); Hamilton fixes the items
        whose water-filled real quota hits a bound and splits the rest by largest remainder,
        repeating until no free item falls outside its bounds.

    Returns
    -------
    numpy.ndarray of int64
        One part per weight, summing to ``total``.

    Raises
    ------
    ConfigError
        Negative, NaN, infinite or all-zero weights; unknown method; negative or fractional
        bounds; infeasible bounds (``minimum > maximum`` somewhere, ``sum(minimum) > total``,
        ``sum(maximum) < total``).

    Notes
    -----
    Zero weights get zero, or their minimum when one is given (their maximum is ignored).

    Adams, Dean and Huntington-Hill have ``d(0) = 0``, so every positive weight's first unit has
    infinite priority: each positive weight gets at least one unit when the total allows. When
    the total is smaller than the number of positive weights, the units go one each to the
    largest weights (ties: lower position first), the limit of the infinite priorities.

    Ties are broken deterministically, by the tie rule of
    :func:`crmcore.money.largest_remainder`: of equal priorities (divisor methods) or equal
    remainders (Hamilton), the item at the lower position gets the unit. Reordering the
    weights therefore changes only which of exactly tied items wins.

    Examples
    --------
    The Alabama paradox (Balinski & Young 2001, ch. 5): one more unit, and the third item loses
    one under Hamilton.

    >>> apportion(10, [6, 6, 2])
    array([4, 4, 2])
    >>> apportion(11, [6, 6, 2])
    array([5, 5, 1])
    >>> apportion(8, [5, 3, 1], "dhondt"), apportion(8, [5, 3, 1], "adams")
    (array([5, 3, 0]), array([4, 3, 1]))
    >>> apportion(100, [1, 1, 1], maximum=[20, 100, 100])
    array([20, 40, 40])
    >>> apportion(10, [1e308, 1e308, 1.0], "dhondt")  # exact at the ends of the float range
    array([5, 5, 0])
    """
    check_scalar(total, "total", kind=int, min_value=0, max_value=_MAX_TOTAL)
    total = int(total)
    if total > _MAX_TOTAL:  # check_scalar compares as floats: 2**62 + 1 == 2.0**62
        raise ConfigError(f"total == {total}, must be <= {_MAX_TOTAL}", column="total", value=total)
    name = canonical_method(method)
    w = check_weights(weights)
    lo = _bound(minimum, w.size, "minimum", 0)
    hi = _check_feasible(total, w, lo, _bound(maximum, w.size, "maximum", NO_CAP))
    if name == "hamilton":
        out = _hamilton(total, w, lo, hi)
    else:
        out = divisor_apportion(name, total, w, lo, hi)
    return out.astype(np.int64, copy=False)
