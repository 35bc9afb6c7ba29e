"""Money in exact integer minor units.

Amounts that must add up — quotas, split credit, commissions — are held as ``int64`` counts of
the currency's minor unit (cents for ``decimals=2``). These helpers convert decimal amounts to
minor units and back, and split integer totals in proportion to weights without losing a unit.

Floats are exact for integers below 2**53, so amounts up to about 90 trillion (at two decimals)
convert exactly; larger magnitudes are rejected rather than rounded silently.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import check_choice, check_scalar, first_true, show
from crmcore.errors import ConfigError, DataError

__all__ = ["from_minor_units", "split_minor_units", "sum_minor_units", "to_minor_units"]

_EXACT_LIMIT = float(2**53)
_INT64_MAX = 2**63 - 1
# Sums whose float bound stays below this are exact in int64 without further checks (the float
# bound of a sum of |x| is off by far less than 2**10 at these magnitudes).
_SAFE_BOUND = float(2**62)


def to_minor_units(
    amounts: npt.ArrayLike | pd.Series | float,
    decimals: int = 2,
    *,
    rounding: Literal["half_even", "half_up"] = "half_up",
    name: str = "amounts",
) -> npt.NDArray[np.int64] | pd.Series | int:
    """Convert decimal amounts to integer minor units (``12.34`` → ``1234`` at 2 decimals).

    Parameters
    ----------
    amounts
        A number, an array-like or a Series of finite numbers.
    decimals
        Digits after the decimal point of the currency (2 for EUR/USD, 0 for JPY, 3 for KWD).
    rounding
        ``"half_up"`` (default, half away from zero: 0.125 → 13 cents) or ``"half_even"``
        (banker's rounding: 0.125 → 12 cents). Binary noise is removed first, so ``0.285``
        is treated as the decimal 0.285 it was typed as.
    name
        Name used in error messages.

    Returns
    -------
    int, numpy.ndarray of int64, or pandas.Series of int64
        Same shape (and index, for a Series) as the input.

    Raises
    ------
    DataError
        NaN or infinite amounts, or amounts too large to convert exactly.

    Examples
    --------
    >>> to_minor_units(12.345)
    1235
    >>> to_minor_units([0.1, 0.2, 0.285], rounding="half_even")
    array([10, 20, 28])
    >>> to_minor_units(1500, decimals=0)
    1500
    """
    check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    check_choice(rounding, "rounding", ("half_even", "half_up"))
    index = amounts.index if isinstance(amounts, pd.Series) else None
    scalar = np.ndim(amounts) == 0 and not isinstance(amounts, pd.Series)
    try:
        arr = np.asarray(amounts, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{name} must be numbers", column=name) from None
    flat = np.atleast_1d(arr)
    pos = first_true(~np.isfinite(flat))
    if pos is not None:
        raise DataError(
            f"{name} has non-finite value {show(flat[pos])} at position {pos}; "
            "expected finite numbers",
            column=name,
            row=pos,
            value=flat[pos],
        )
    scaled = flat * (10.0**decimals)
    pos = first_true(np.abs(scaled) >= _EXACT_LIMIT)
    if pos is not None:
        raise DataError(
            f"{name} has value {show(flat[pos])} at position {pos} too large to convert exactly "
            f"to minor units at {decimals} decimals",
            column=name,
            row=pos,
            value=flat[pos],
        )
    # Remove binary representation noise (0.285 * 100 == 28.499999999999996) before rounding.
    cleaned = np.round(scaled, 6)
    if rounding == "half_even":
        units = np.rint(cleaned)
    else:
        units = np.sign(cleaned) * np.floor(np.abs(cleaned) + 0.5)
    out = units.astype(np.int64)
    if scalar:
        return int(out[0])
    if index is not None:
        return pd.Series(out, index=index, name=getattr(amounts, "name", None))
    return out.reshape(arr.shape)


def from_minor_units(
    units: npt.ArrayLike | pd.Series | int,
    decimals: int = 2,
) -> npt.NDArray[np.float64] | pd.Series | float:
    """Convert integer minor units back to decimal amounts (``1234`` → ``12.34``).

    Examples
    --------
    >>> from_minor_units(1234)
    12.34
    >>> from_minor_units([5, 1000], decimals=2)
    array([ 0.05, 10.  ])
    """
    check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    factor = 10.0**decimals
    if isinstance(units, pd.Series):
        return units.astype(np.float64) / factor
    arr = np.asarray(units)
    if arr.dtype.kind not in "iu":
        raise ConfigError(f"minor units must be integers, got dtype {arr.dtype}", column="units")
    if arr.ndim == 0:
        return float(arr) / factor
    return arr.astype(np.float64) / factor


def split_minor_units(
    totals: npt.ArrayLike,
    weights: npt.ArrayLike,
    groups: npt.ArrayLike | None = None,
) -> npt.NDArray[np.int64]:
    """Split integer totals over rows in proportion to weights, exactly (largest remainder).

    Each row ``i`` of group ``g`` receives ``floor(totals[g] * w_i / sum(w in g))`` plus one
    unit if it is among the ``r_g`` rows with the largest fractional remainders, where ``r_g``
    is the number of units left over. Ties go to the row that comes first. Negative totals are
    split as their absolute value and negated, so every part has the total's sign.
    The parts of each group sum to its total exactly.

    Parameters
    ----------
    totals
        One integer total per group (a single integer when ``groups`` is ``None``).
    weights
        One non-negative weight per row; each group needs a positive weight sum, unless its
        total is zero.
    groups
        Integer group code of each row, ``0 .. len(totals) - 1``; ``None`` for one group.

    Returns
    -------
    numpy.ndarray of int64
        One part per row.

    Examples
    --------
    >>> split_minor_units(100, [1, 1, 1])
    array([34, 33, 33])
    >>> split_minor_units([1000, -7], [0.6, 0.4, 1, 1], groups=[0, 0, 1, 1])
    array([600, 400,  -4,  -3])
    """
    w = np.asarray(weights, dtype=np.float64)
    if groups is None:
        tot = np.atleast_1d(np.asarray(totals))
        codes = np.zeros(w.shape[0], dtype=np.int64)
    else:
        tot = np.asarray(totals)
        codes = np.asarray(groups, dtype=np.int64)
    if tot.dtype.kind not in "iu":
        raise ConfigError(f"totals must be integers (minor units), got dtype {tot.dtype}")
    tot = tot.astype(np.int64)
    if w.ndim != 1 or codes.shape != w.shape:
        raise ConfigError("weights and groups must be one-dimensional and of equal length")
    if (~np.isfinite(w)).any() or (w < 0).any():
        raise ConfigError("weights must be finite and >= 0")
    n_groups = tot.shape[0]
    if codes.size and (codes.min() < 0 or codes.max() >= n_groups):
        raise ConfigError("group codes must lie in 0 .. len(totals) - 1")
    wsum = np.bincount(codes, weights=w, minlength=n_groups)
    bad = (wsum <= 0) & (tot != 0)
    pos = first_true(bad)
    if pos is not None:
        raise ConfigError(
            f"group {pos} has total {int(tot[pos])} but no positive weight to carry it",
            row=pos,
            value=int(tot[pos]),
        )
    sign = np.sign(tot)
    mag = np.abs(tot)
    safe = np.where(wsum > 0, wsum, 1.0)
    share = w / safe[codes]
    # Exact floor: start from the float estimate and correct it with integer arithmetic.
    raw = mag[codes].astype(np.float64) * share
    base = np.floor(raw).astype(np.int64)
    frac = raw - base
    left = mag - np.bincount(codes, weights=base, minlength=n_groups).astype(np.int64)
    # Floating error can push the floor sum one unit over or under; fix by moving units.
    order = np.lexsort((np.arange(w.shape[0]), -frac, codes))
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, np.arange(n_groups))
    rank = np.arange(w.shape[0]) - starts[sorted_codes]
    extra = np.zeros(w.shape[0], dtype=np.int64)
    extra[order] = (rank < left[sorted_codes]).astype(np.int64)
    # Any negative 'left' (over-allocation from rounding) is taken back from the smallest fractions.
    over = np.maximum(-left, 0)
    if over.any():
        rev = np.lexsort((-np.arange(w.shape[0]), frac, codes))
        rc = codes[rev]
        rrank = np.arange(w.shape[0]) - np.searchsorted(rc, np.arange(n_groups))[rc]
        take = np.zeros(w.shape[0], dtype=np.int64)
        take[rev] = ((rrank < over[rc]) & (base[rev] > 0)).astype(np.int64)
        extra -= take
    mags = base + extra
    # Safety net (never reached in practice): a group still off by some units after rounding
    # puts the difference on its first largest-weight row, so the sum is exact regardless.
    diff = mag - np.bincount(codes, weights=mags, minlength=n_groups).astype(np.int64)
    if diff.any():
        heavy = np.lexsort((np.arange(w.shape[0]), -w, codes))
        first = heavy[np.searchsorted(codes[heavy], np.arange(n_groups))[diff != 0]]
        np.add.at(mags, first, diff[diff != 0])
    parts: npt.NDArray[np.int64] = (mags * sign[codes]).astype(np.int64)
    return parts


def sum_minor_units(
    units: npt.ArrayLike,
    groups: npt.ArrayLike | None = None,
    n_groups: int | None = None,
    *,
    name: str = "amounts",
) -> npt.NDArray[np.int64]:
    """Add integer minor units, per group, exactly; a sum that would pass 2**63 is an error.

    numpy's integer sums wrap around silently on overflow; this one never does. Sums whose size
    bound (computed in floating point) is safely inside ``int64`` are added with numpy; a group
    near the limit is added again with Python integers, and raises if it really does not fit.

    Parameters
    ----------
    units
        Integer minor units, one per row.
    groups
        Integer group code of each row, ``0 .. n_groups - 1``; ``None`` for one total.
    n_groups
        Number of groups (default ``max(groups) + 1``); groups without rows sum to 0.
    name
        What the units are, for the error message.

    Returns
    -------
    numpy.ndarray of int64
        One sum per group (one element when ``groups`` is ``None``).

    Raises
    ------
    DataError
        A sum that does not fit in a signed 64-bit integer, naming the group.

    Examples
    --------
    >>> sum_minor_units([150, 250, 100], groups=[0, 1, 0])
    array([250, 250])
    >>> sum_minor_units([2**62, 2**62])
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: amounts sum to 9223372036854775808 minor units, which passes ...
    """
    values = np.asarray(units)
    if values.dtype.kind not in "iu":
        raise ConfigError(f"{name} must be integer minor units, got dtype {values.dtype}")
    values = values.astype(np.int64, copy=False).ravel()
    if groups is None:
        codes = np.zeros(values.shape[0], dtype=np.intp)
        size = 1
    else:
        codes = np.asarray(groups, dtype=np.intp).ravel()
        if codes.shape != values.shape:
            raise ConfigError(f"{name} and groups must have equal length")
        size = int(codes.max()) + 1 if n_groups is None and codes.size else int(n_groups or 0)
    bound = np.bincount(codes, weights=np.abs(values.astype(np.float64)), minlength=size)
    totals = np.zeros(size, dtype=np.int64)
    np.add.at(totals, codes, values)
    for group in np.flatnonzero(bound >= _SAFE_BOUND):
        exact = sum(int(v) for v in values[codes == group])
        if not -_INT64_MAX - 1 <= exact <= _INT64_MAX:
            where = "" if groups is None else f" in group {int(group)}"
            raise DataError(
                f"{name} sum to {exact} minor units{where}, which passes the 64-bit limit "
                f"{_INT64_MAX}; split the data or use a larger minor unit",
                column=name,
                row=None if groups is None else int(group),
                value=exact,
            )
        totals[group] = exact
    return totals
