"""Money in exact integer minor units.

Amounts that must add up — quotas, split credit, commissions — are held as ``int64`` counts of
the currency's minor unit (cents for ``decimals=2``). These helpers convert decimal amounts to
minor units and back, add them without overflow (:func:`sum_minor_units`), and split integer
totals in proportion to weights without losing a unit (:func:`largest_remainder`, the one exact
rounding routine every split in crmcore goes through).

Floats are exact for integers below 2**53, so amounts up to about 90 trillion (at two decimals)
convert exactly; larger magnitudes are rejected rather than rounded silently.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_choice,
    check_scalar,
    first_true,
    not_a_number,
    show,
    stored_numbers,
)
from crmcore._rounding import round_minor_units
from crmcore.errors import ConfigError, DataError, InputTypeError

__all__ = [
    "from_minor_units",
    "largest_remainder",
    "split_minor_units",
    "sum_minor_units",
    "to_minor_units",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
#: Values per pass of the element-wise conversions: temporaries stay in the CPU cache.
_CHUNK = 1 << 16

_EXACT_LIMIT = float(2**53)
_INT64_MAX = 2**63 - 1
# Sums whose float bound stays below this are exact in int64 without further checks (the float
# bound of a sum of |x| is off by far less than 2**10 at these magnitudes).
_SAFE_BOUND = float(2**62)
#: Largest |total| :func:`largest_remainder` splits (products of it with weights are exact).
_MAX_TOTAL = 2**62


def _where(labels: pd.Index | None, pos: int) -> tuple[str, Hashable]:
    """``("at row 'r30'", 'r30')`` for a labelled input, ``("at position 2", 2)`` otherwise."""
    if labels is None:
        return f"at position {pos}", pos
    label = labels[pos]
    return f"at row {show(label)}", label


def _has_bools(values: npt.NDArray[Any]) -> int | None:
    """Position of the first boolean in an array (booleans are not numbers here), or None."""
    if values.dtype.kind == "b":
        return 0 if values.size else None
    if values.dtype == object:
        return first_true([isinstance(v, bool | np.bool_) for v in values.ravel().tolist()])
    return None


def _keep_bools(items: list[Any] | tuple[Any, ...], arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``arr`` as numpy read ``items``, or ``items`` as objects if numpy turned a bool into 1."""
    flat = np.asarray(items, dtype=object).ravel().tolist()
    if any(isinstance(v, bool | np.bool_) for v in flat):
        return np.asarray(items, dtype=object)
    return arr


# --------------------------------------------------------------------------------------------
# Conversions
# --------------------------------------------------------------------------------------------


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
        A number, an array-like or a Series of finite numbers (not booleans).
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
    InputTypeError
        Booleans (``True`` is not an amount) or values that are not numbers.
    DataError
        NaN or infinite amounts, or amounts too large to convert exactly; for a Series the
        message names the row label.

    Examples
    --------
    >>> to_minor_units(12.345)
    1235
    >>> to_minor_units([0.1, 0.2, 0.285], rounding="half_even")
    array([10, 20, 28])
    >>> to_minor_units(1500, decimals=0)
    1500
    >>> to_minor_units(pd.Series([1.5, float("nan")], index=["r1", "r2"]))
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: amounts has non-finite value nan at row 'r2'; expected finite numbers
    """
    check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    check_choice(rounding, "rounding", ("half_even", "half_up"))
    labels = amounts.index if isinstance(amounts, pd.Series) else None
    scalar = np.ndim(amounts) == 0 and not isinstance(amounts, pd.Series)
    if isinstance(amounts, pd.Series):
        if pd.api.types.is_bool_dtype(amounts.dtype):
            raw: npt.NDArray[Any] = np.asarray(amounts.to_numpy(dtype=object))
        elif pd.api.types.is_numeric_dtype(amounts.dtype):
            raw = amounts.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            raw = amounts.to_numpy()
    else:
        raw = np.asarray(amounts)
        if isinstance(amounts, list | tuple) and raw.dtype.kind in "biuf":
            raw = _keep_bools(amounts, raw)
    pos = _has_bools(np.atleast_1d(raw))
    if pos is not None:
        where, row = _where(labels, pos)
        raise InputTypeError(
            f"{name} holds a boolean {where}; booleans are not amounts, expected numbers",
            column=name,
            row=row,
            value=np.atleast_1d(raw).ravel()[pos],
        )
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        text, row, value = not_a_number(raw, labels, name)
        raise DataError(text, column=name, row=row, value=value) from None
    flat = np.atleast_1d(arr).ravel()
    out = np.empty(len(flat), dtype=np.int64)
    for lo in range(0, len(flat), _CHUNK):  # cache-sized temporaries, whatever the length
        part = flat[lo : lo + _CHUNK]
        out[lo : lo + len(part)] = _units(
            part, lo, decimals=decimals, rounding=rounding, labels=labels, name=name
        )
    if scalar:
        return int(out[0])
    if labels is not None:
        return pd.Series(out, index=labels, name=getattr(amounts, "name", None))
    return out.reshape(arr.shape)


def _units(
    flat: FloatArray,
    offset: int,
    *,
    decimals: int,
    rounding: str,
    labels: pd.Index | None,
    name: str,
) -> IntArray:
    """Minor units of one chunk of checked floats; errors name the row ``offset`` on."""
    pos = first_true(~np.isfinite(flat))
    if pos is not None:
        where, row = _where(labels, offset + pos)
        raise DataError(
            f"{name} has non-finite value {show(flat[pos])} {where}; expected finite numbers",
            column=name,
            row=row,
            value=flat[pos],
        )
    with np.errstate(over="ignore"):  # overflow to inf is refused just below
        scaled = flat * (10.0**decimals)
    pos = first_true(np.abs(scaled) >= _EXACT_LIMIT)
    if pos is not None:
        where, row = _where(labels, offset + pos)
        raise DataError(
            f"{name} has value {show(flat[pos])} {where} too large to convert exactly "
            f"to minor units at {decimals} decimals",
            column=name,
            row=row,
            value=flat[pos],
        )
    rule: Literal["half_even", "half_up"] = "half_even" if rounding == "half_even" else "half_up"
    out: IntArray = round_minor_units(scaled, rule).astype(np.int64)
    return out


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
    labels = units.index if isinstance(units, pd.Series) else None
    arr = _integer_units(units, labels)
    if arr.ndim == 0:
        return float(arr) / factor
    out = arr.astype(np.float64) / factor
    if labels is not None:
        return pd.Series(out, index=labels, name=getattr(units, "name", None))
    return out


def _whole(value: Any) -> bool:
    """Tell whether ``value`` is a finite whole number (not a bool): a minor unit."""
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, int | np.integer):
        return True
    if not isinstance(value, float | np.floating) or not math.isfinite(value):
        return False
    number = float(value)
    return number == int(number) and abs(number) < 2.0**63


def _integer_units(units: Any, labels: pd.Index | None) -> npt.NDArray[Any]:
    """``units`` as a numpy integer array; anything else names its first non-integer value.

    Missing values, booleans, floats (even whole ones) and text are refused: minor units are
    integers, and a float column of them has already lost exactness or carries a gap.
    """
    if isinstance(units, pd.Series):
        dtype = units.dtype
        plain_int = pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        if plain_int and not units.hasnans:
            return units.to_numpy(dtype=np.int64)
        raw: npt.NDArray[Any] = units.to_numpy(dtype=object)
    else:
        raw = np.asarray(units)
        if isinstance(units, list | tuple) and raw.dtype.kind in "iu":
            raw = _keep_bools(units, raw)
    if raw.dtype.kind in "iu":
        return raw
    flat = np.atleast_1d(raw).ravel().tolist()
    pos = first_true([not _whole(v) for v in flat])
    kind = ""
    if pos is None:  # whole numbers stored as floats: still not exact integers
        pos, kind = 0, f" (dtype {getattr(units, 'dtype', raw.dtype)})"
    value = flat[pos] if flat else None
    where, row = _where(labels, pos)
    got = f"{show(value)} {where}{kind}" if flat else f"dtype {raw.dtype}"
    raise ConfigError(
        f"minor units must be integers, got {got}", column="units", row=row, value=value
    )


# --------------------------------------------------------------------------------------------
# Exact largest remainder
# --------------------------------------------------------------------------------------------


def _weight_values(weights: Any, name: str) -> tuple[npt.NDArray[Any], pd.Index | None]:
    """Weights as a 1-D int64 or float64 array (checked: numbers, finite, >= 0), and labels."""
    labels = weights.index if isinstance(weights, pd.Series) else None
    if isinstance(weights, pd.Series | pd.Index):
        raw: npt.NDArray[Any] = stored_numbers(weights)
    else:
        try:
            raw = np.asarray(weights)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a one-dimensional sequence of numbers") from None
        if isinstance(weights, list | tuple) and raw.dtype.kind in "iuf":
            raw = _keep_bools(weights, raw)
    if raw.ndim != 1:
        raise ConfigError(f"{name} must be one-dimensional, got shape {raw.shape}", column=name)
    pos = _has_bools(raw)
    if pos is not None:
        where, row = _where(labels, pos)
        raise ConfigError(
            f"{name} holds booleans ({where}); expected numbers", column=name, row=row
        )
    if raw.dtype == object and raw.size:
        items = raw.tolist()
        if all(isinstance(v, int) for v in items):
            big = first_true([abs(v) >= 2**63 for v in items])
            if big is not None:
                where, row = _where(labels, big)
                raise ConfigError(
                    f"{name} exceed the int64 range ({where}); scale them down first",
                    column=name,
                    row=row,
                    value=items[big],
                )
            raw = np.asarray(items, dtype=np.int64)
    if raw.dtype.kind == "u":
        pos = first_true(raw > np.uint64(_INT64_MAX))
        if pos is not None:
            where, row = _where(labels, pos)
            raise ConfigError(
                f"{name} exceed the int64 range ({where})", column=name, row=row, value=raw[pos]
            )
    if raw.dtype.kind in "iu":
        values: npt.NDArray[Any] = raw.astype(np.int64, copy=False)
        bad: list[tuple[npt.NDArray[np.bool_], str]] = [(values < 0, "negative")]
    else:
        try:
            values = raw.astype(np.float64, copy=False)
        except (TypeError, ValueError):
            text, row, value = not_a_number(raw, labels, name)
            raise ConfigError(text, column=name, row=row, value=value) from None
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        if low >= 0.0 and high < math.inf:  # no NaN (the minimum would be NaN), inf or < 0
            return values, labels
        bad = [(np.isnan(values), "NaN"), (np.isinf(values), "infinite"), (values < 0, "negative")]
    for mask, what in bad:
        pos = first_true(mask)
        if pos is not None:
            where, row = _where(labels, pos)
            raise ConfigError(
                f"{name} has {what} value {show(values[pos])} {where}; weights must be finite "
                "and >= 0",
                column=name,
                row=row,
                value=values[pos],
            )
    return values, labels


def _binary_parts(values: npt.NDArray[Any]) -> tuple[IntArray, IntArray | None]:
    """Exact ``values = m * 2**k`` with int64 ``m`` and ``k`` (``k=None``: all zero).

    A finite double is its 53-bit mantissa times a power of two; integers, and floats that
    hold whole numbers below 2**53, are themselves times ``2**0``.
    """
    if values.dtype.kind in "iu":
        return values.astype(np.int64, copy=False), None
    if values.size and float(values.max()) < _EXACT_LIMIT:
        whole = values.astype(np.int64)
        if np.array_equal(whole, values):
            return whole, None
    frac, expo = np.frexp(values)
    np.ldexp(frac, 53, out=frac)
    m = frac.astype(np.int64)  # exact: a 53-bit integer
    k = expo.astype(np.int64)
    k -= 53
    return m, k


def _group_sum(values: IntArray, codes: IntArray, size: int) -> IntArray:
    """Exact int64 sums per group of values whose group sums are known to fit."""
    return _per_group(np.add, values, codes, size, 0)


def _per_group(
    func: np.ufunc, values: IntArray, codes: IntArray, size: int, start: int
) -> IntArray:
    """``func`` reduced over each group's values (``start`` for groups without rows)."""
    out = np.full(size, start, dtype=np.int64)
    if size == 1 and values.size:  # one group: a plain reduction, no scatter
        out[0] = func(start, func.reduce(values))
    else:
        func.at(out, codes, values)
    return out


_LOW32 = np.uint64(0xFFFFFFFF)


def _mul_wide(x: npt.NDArray[np.uint64], y: npt.NDArray[np.uint64]) -> tuple[Any, Any]:
    """Return the exact 128-bit products ``x * y`` of uint64 arrays as (high, low) words."""
    xl, xh = x & _LOW32, x >> np.uint64(32)
    yl, yh = y & _LOW32, y >> np.uint64(32)
    ll, lh, hl, hh = xl * yl, xl * yh, xh * yl, xh * yh  # each < 2**64
    mid = (ll >> np.uint64(32)) + (lh & _LOW32) + (hl & _LOW32)  # < 3 * 2**32
    low = (ll & _LOW32) | (mid << np.uint64(32))
    high = hh + (lh >> np.uint64(32)) + (hl >> np.uint64(32)) + (mid >> np.uint64(32))
    return high, low


def _divmod_exact(t: IntArray, a: IntArray, big: IntArray) -> tuple[IntArray, IntArray]:
    """``divmod(t * a, big)`` exactly, for ``0 <= t <= 2**62``, ``0 <= a <= big < 2**62``.

    Three cases, each proven in the comments: the product fits in int64; or ``t < 2**49``, so
    a float quotient is within one unit and the remainder, known to lie in ``[-big, 2 big)``,
    is exact modulo ``2**64``; or (large totals only) the difference to a float estimate is
    computed in 128-bit two's complement first.
    """
    tf = t.astype(np.float64)
    bf = big.astype(np.float64)
    if bool((tf * bf < 2.0**62).all()):  # t * big <= 2**62 (1 + 2u) < 2**63: no overflow
        quotient, remainder = np.divmod(t * a, big)
        return quotient, remainder
    # q = t a / big. For t < 2**49 the float t is exact and fl(t fl(a) / fl(big)) is within
    # 5.01 u q < 1/3 of q (u = 2**-53), so its floor q0 is floor(q) - 1, floor(q) or
    # floor(q) + 1: t a - q0 big lies in [-big, 2 big), inside int64, and its value modulo
    # 2**64 (wrapping products) is exact. One step each way corrects q0.
    est = tf * a.astype(np.float64)
    est /= bf
    np.floor(est, out=est)
    q = est.astype(np.int64)
    huge = t >= 2**49
    if huge.any():
        q[huge] = _quotient_wide(t[huge], a[huge], big[huge], q[huge])
    tu, bu = t.view(np.uint64), big.view(np.uint64)
    r = tu * a.view(np.uint64)
    r -= q.view(np.uint64) * bu
    rem = r.view(np.int64)
    low = rem < 0
    q[low] -= 1
    rem[low] += big[low]
    high = rem >= big
    q[high] += 1
    rem[high] -= big[high]
    return q, rem


def _quotient_wide(t: IntArray, a: IntArray, big: IntArray, q0: IntArray) -> IntArray:
    """Quotient within one unit of ``floor(t a / big)`` for totals ``t >= 2**49``.

    ``q0`` (a float estimate) is within ``6 u q + 1 <= 3585`` of it for ``q <= 2**62``. The
    difference ``D = t a - q0 big`` (``|D| <= 3586 big < 2**74``) is computed exactly in
    128-bit two's complement; where it fits in int64, ``floor(D / big)`` is exact; elsewhere
    ``|D| >= 2**63``, so ``big > 2**51``, the float ``D`` is off by less than ``2**22`` and
    ``D / big`` by less than ``2**-28``: the floor is off by at most one.
    """
    np.clip(q0, 0, t, out=q0)
    tu, au, bu = t.view(np.uint64), a.view(np.uint64), big.view(np.uint64)
    p_hi, p_lo = _mul_wide(tu, au)
    x_hi, x_lo = _mul_wide(q0.view(np.uint64), bu)
    d_lo = p_lo - x_lo
    d_hi = (p_hi - x_hi - (p_lo < x_lo).astype(np.uint64)).view(np.int64)
    d_small = d_lo.view(np.int64)
    fits = d_hi == (d_small >> 63)  # the high word only extends the sign: D fits in int64
    step = np.empty_like(q0)
    step[fits] = d_small[fits] // big[fits]  # exact floor division
    wide = ~fits
    d_f = d_hi[wide].astype(np.float64) * 2.0**64 + d_lo[wide].astype(np.float64)
    step[wide] = np.floor(d_f / big[wide].astype(np.float64)).astype(np.int64)
    out: IntArray = q0 + step
    return out


_PAD = np.iinfo(np.int64).min  # below every key: fills the short groups of a block
_PARTITION_FROM = 4096  # groups at least this large are selected one by one (np.partition)


def _select_top(keys: IntArray, codes: IntArray, need: IntArray) -> npt.NDArray[np.bool_]:
    """Mark, in each group, the ``need[g]`` rows of largest key; equal keys: first row first.

    ``keys`` are comparable within a group only (they are >= 0). Rows are put in group order
    (stable, so each group keeps its row order); groups are handled in blocks of similar size
    as a matrix (one sort per row of the matrix), very large groups one by one.
    """
    chosen = np.zeros(keys.shape[0], dtype=bool)
    rows = np.flatnonzero(need[codes] > 0)
    if rows.size == 0:
        return chosen
    sub = codes[rows]
    if sub.size > 1 and bool((sub[1:] < sub[:-1]).any()):
        order = np.argsort(sub, kind="stable")
        rows, sub = rows[order], sub[order]
    starts = np.flatnonzero(np.r_[True, sub[1:] != sub[:-1]])
    sizes = np.diff(np.r_[starts, sub.size])
    want = np.minimum(need[sub[starts]], sizes)
    width_class = np.ceil(np.log2(np.maximum(sizes, 1))).astype(np.int64)
    for cls in np.unique(width_class).tolist():
        members = np.flatnonzero(width_class == cls)
        width = 1 << cls
        if width >= _PARTITION_FROM:
            for j in members.tolist():
                block = rows[starts[j] : starts[j] + sizes[j]]
                chosen[block[_top_of_one(keys[block], int(want[j]))]] = True
            continue
        offsets = np.arange(width)
        valid = offsets < sizes[members, None]
        at = np.where(valid, starts[members, None] + offsets, 0)
        idx = rows[at]
        mat = np.where(valid, keys[idx], _PAD)
        k = want[members]
        cut = np.sort(mat, axis=1)[np.arange(members.size), width - k]  # k-th largest key
        above = mat > cut[:, None]
        tied = mat == cut[:, None]
        room = k - above.sum(axis=1)
        pick = above | (tied & (np.cumsum(tied, axis=1) <= room[:, None]))
        chosen[idx[pick & valid]] = True
    return chosen


def _top_of_one(keys: IntArray, k: int) -> IntArray:
    """Positions of the ``k`` largest keys of one group; equal keys: lower position first."""
    cut = np.partition(keys, keys.size - k)[keys.size - k]
    above = np.flatnonzero(keys > cut)
    tied = np.flatnonzero(keys == cut)[: k - above.size]
    return np.concatenate([above, tied])


def _exact_group_weights(m: IntArray, shift: IntArray, g: IntArray) -> dict[int, int]:
    """Exact ``sum(m << shift)`` per group as Python integers (one addition per exponent).

    Mantissas are summed per (group, shift) bucket in three 21-bit limbs, each sum exact
    (below ``2**53`` for fewer than ``2**32`` rows), then shifted and added in Python.
    """
    mask = (1 << 21) - 1
    width = int(shift.max()) + 1
    span = int(g.max()) + 1
    if span * width <= 1 << 26:  # few buckets: count them directly
        bucket = g * width + shift
        sums = [
            np.bincount(bucket, weights=(m >> (21 * j)) & mask, minlength=span * width)
            for j in range(3)
        ]
        used = np.flatnonzero(np.bincount(bucket, minlength=span * width))
        groups, shifts = (used // width).tolist(), (used % width).tolist()
        limbs = [part[used].astype(np.int64).tolist() for part in sums]
    else:
        order = np.lexsort((shift, g))
        gs, ss, ms = g[order], shift[order], m[order]
        starts = np.flatnonzero(np.r_[True, (gs[1:] != gs[:-1]) | (ss[1:] != ss[:-1])])
        limbs = [np.add.reduceat((ms >> (21 * j)) & mask, starts).tolist() for j in range(3)]
        groups, shifts = gs[starts].tolist(), ss[starts].tolist()
    out: dict[int, int] = {}
    for grp, sh, l0, l1, l2 in zip(groups, shifts, *limbs, strict=True):
        out[grp] = out.get(grp, 0) + (((l2 << 42) + (l1 << 21) + l0) << sh)
    return out


class _Exact:
    """Exact quotients and remainders of ``total_g * w_i / W_g`` in Python integers.

    Used for the few rows of the general path that floats cannot decide; each distinct
    (group, weight) pair is computed once.
    """

    def __init__(
        self, totals: IntArray, m: IntArray, shift: IntArray, g: IntArray, weight: dict[int, int]
    ) -> None:
        self.totals, self.m, self.shift, self.g, self.weight = totals, m, shift, g, weight

    def divmod(self, rows: IntArray) -> tuple[IntArray, list[int], FloatArray, IntArray]:
        """Return quotients, remainders and remainder fractions, and each row's pair number.

        One value per distinct (group, weight) pair of ``rows``; the fraction is the remainder
        over the group weight, correctly rounded.
        """
        pairs = np.stack([self.g[rows], self.m[rows], self.shift[rows]], axis=1)
        uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
        quotients: list[int] = []
        remainders: list[int] = []
        fractions: list[float] = []
        for grp, mant, sh in uniq.tolist():
            q, r = divmod(int(self.totals[grp]) * (mant << sh), self.weight[grp])
            quotients.append(q)
            remainders.append(r)
            fractions.append(r / self.weight[grp])
        return (
            np.asarray(quotients, dtype=np.int64),
            remainders,
            np.asarray(fractions, dtype=np.float64),
            inverse.reshape(-1),
        )


_U = 2.0**-53  # unit roundoff of float64


def _kth_largest(values: FloatArray, g: IntArray, k: IntArray) -> FloatArray:
    """Per group, the ``k[g]``-th largest value (``k[g] >= 1`` wherever the group has rows)."""
    out = np.full(k.shape[0], np.nan)
    if g.size and g[0] == g.min() == g.max():  # one group: a linear-time partition
        kth = int(k[g[0]])
        out[g[0]] = np.partition(values, values.size - kth)[values.size - kth]
        return out
    order = np.lexsort((values, g))
    gs = g[order]
    ends = np.flatnonzero(np.r_[gs[1:] != gs[:-1], True])
    grp = gs[ends]
    out[grp] = values[order][ends - k[grp] + 1]
    return out


def _split_general(totals: IntArray, m: IntArray, k: IntArray, g: IntArray) -> IntArray:
    """Largest remainder for groups whose exact weight sum exceeds 2**62 (wide or many weights).

    Floats with proven error bounds decide almost every row; the rest are decided exactly:

    * Weights are scaled by ``2**-E_g`` (``E_g``: the exponent just above the group's largest
      weight) and ``W_g`` is the exact sum, correctly rounded. The float quota
      ``qf = fl(fl(T) * s / W)`` is then within ``6.01 u qf + 2**-1009`` of the exact quota
      ``q`` (``u = 2**-53``: four roundings, the scaled weight's own rounding, and at most
      ``2**-1075`` where the scaled weight or a product underflows). ``delta = 16 u qf +
      2**-990`` exceeds that bound by more than the rounding of ``qf +- delta``, so
      ``[fl(qf - delta), fl(qf + delta)]`` contains ``q``; when both ends have one floor, it is
      ``floor(q)`` and ``qf - floor(q)`` (exact by Sterbenz) is the remainder within ``delta``.
      Other rows get their floor and remainder exactly (Python integers).
    * With ``r`` units left in a group, a row whose remainder interval lies above the ``r``-th
      largest upper end is surely among the ``r`` largest remainders; one whose interval lies
      below the ``r``-th largest lower end surely is not. The rows in between are ranked by
      their exact remainders (ties: first row first).
    """
    present = np.bincount(g, minlength=totals.shape[0]) > 0
    if not present.all():  # work on the groups of this path only
        totals, g = totals[present], (np.cumsum(present) - 1)[g]
    size = totals.shape[0]
    big = np.iinfo(np.int64).max
    base = _per_group(np.minimum, k, g, size, big)
    shift = k - base[g]
    top = _per_group(np.maximum, k + np.frexp(m.astype(np.float64))[1], g, size, -big)
    weight = _exact_group_weights(m, shift, g)
    w_float = np.ones(size)
    for grp, total_weight in weight.items():
        w_float[grp] = total_weight / (1 << int(top[grp] - base[grp]))  # correctly rounded
    exact = _Exact(totals, m, shift, g, weight)
    qf = totals[g].astype(np.float64) * np.ldexp(m.astype(np.float64), k - top[g]) / w_float[g]
    delta = 16.0 * _U * qf + 2.0**-990
    floor_lo = np.floor(np.maximum(qf - delta, 0.0))
    decided = floor_lo == np.floor(qf + delta)
    q = floor_lo.astype(np.int64)
    rem = qf - floor_lo  # exact (Sterbenz) where decided
    rem_err = delta
    undecided = np.flatnonzero(~decided)
    if undecided.size:
        q_u, _, frac_u, inv = exact.divmod(undecided)
        q[undecided] = q_u[inv]
        rem[undecided] = frac_u[inv]
        rem_err = np.where(decided, delta, 2.0**-50)  # frac_u is within 2**-53 of the exact one
    left = totals - _group_sum(q, g, size)
    out: IntArray = q + _general_extra(g, rem, rem_err, left, exact)
    return out


def _general_extra(
    g: IntArray,
    rem: FloatArray,
    rem_err: FloatArray | float,
    left: IntArray,
    exact: _Exact,
) -> IntArray:
    """Return the extra units of the general path: bounded float remainders, exact near the cut."""
    extra = np.zeros(g.shape[0], dtype=np.int64)
    live = left[g] > 0
    if not live.any():
        return extra
    low = rem - rem_err
    high = rem + rem_err
    rows = np.flatnonzero(live)
    high_cut = _kth_largest(high[rows], g[rows], left)
    low_cut = _kth_largest(low[rows], g[rows], left)
    sure = live & (low > high_cut[g])  # fewer than left[g] rows can reach this remainder
    open_ = live & ~sure & ~(high < low_cut[g])  # at least left[g] rows surely beat the others
    extra[sure] = 1
    need = left - np.bincount(g[sure], minlength=left.shape[0])
    candidates = np.flatnonzero(open_)
    if candidates.size == 0:
        return extra
    _, r_u, _, inv = exact.divmod(candidates)
    groups = g[candidates]
    # Dense rank of each distinct exact remainder within its group (larger remainder, larger key).
    pair_group = np.empty(len(r_u), dtype=np.int64)
    pair_group[inv] = groups
    ranked = sorted(range(len(r_u)), key=lambda j: (int(pair_group[j]), r_u[j]))
    dense = np.empty(len(r_u), dtype=np.int64)
    level, prev = 0, None
    for j in ranked:
        key = (int(pair_group[j]), r_u[j])
        if prev is not None and key != prev:
            level = 0 if key[0] != prev[0] else level + 1
        dense[j] = level
        prev = key
    pick = _select_top(dense[inv], groups, need)
    extra[candidates[pick]] = 1
    return extra


def _split_int(totals: IntArray, a: IntArray, g: IntArray) -> IntArray:
    """Largest remainder for groups whose integer weights ``a`` sum below 2**62, in int64."""
    size = totals.shape[0]
    weight = _group_sum(a, g, size)
    q, r = _divmod_exact(totals[g], a, weight[g])
    left = totals - _group_sum(q, g, size)
    return q + _select_top(r, g, left)


def _split_magnitudes(totals: IntArray, m: IntArray, k: IntArray | None, g: IntArray) -> IntArray:
    """Largest remainder of non-negative ``totals`` over positive weights ``m * 2**k``.

    A group whose weights, as integers over the group's smallest power of two, sum below
    2**62 is split in int64 arithmetic; any other group (weights spanning many binary orders
    of magnitude, or many weights with long mantissas) by :func:`_split_general`.
    """
    size = totals.shape[0]
    if k is None:
        shift = None
        scaled = m.astype(np.float64)
    else:
        base = _per_group(np.minimum, k, g, size, np.iinfo(np.int64).max)
        shift = k - base[g]
        scaled = np.ldexp(m.astype(np.float64), np.minimum(shift, 200))
    # The float sum is within a factor 1 + n u of the exact one: <= 2**61 means < 2**62.
    small = np.bincount(g, weights=scaled, minlength=size) <= 2.0**61
    del scaled
    if small.all():
        return _split_int(totals, m if shift is None else m << shift, g)
    out = np.empty(g.shape[0], dtype=np.int64)
    rows = small[g]
    if rows.any():
        a = m[rows] if shift is None else m[rows] << shift[rows]
        out[rows] = _split_int(totals, a, g[rows])
    wide = ~rows
    k_wide = np.zeros(int(wide.sum()), dtype=np.int64) if k is None else k[wide]
    out[wide] = _split_general(totals, m[wide], k_wide, g[wide])
    return out


# --------------------------------------------------------------------------------------------
# One group of float weights: the same bounds as _split_general, block by block
# --------------------------------------------------------------------------------------------

#: Rows per block of the one-group float path: its temporaries stay in the CPU cache.
_BLOCK = 1 << 16
#: Remainder buckets of the one-group path's counting selection of the cut.
_BUCKETS = 1 << 16
_LIMB = (1 << 27) - 1


def _mantissas(values: FloatArray, base: int) -> tuple[IntArray, IntArray]:
    """Exact ``values = m * 2**(base + shift)``, int64 ``m < 2**53`` (zeros: ``m = shift = 0``)."""
    frac, expo = np.frexp(values)
    m = np.ldexp(frac, 53).astype(np.int64)  # exact: a 53-bit integer
    shift = expo.astype(np.int64)
    shift -= 53 + base
    shift[m == 0] = 0
    return m, shift


def _one_group_weight(values: FloatArray, base: int, top: int) -> int:
    """Exact sum of float ``values`` over ``2**base`` as a Python integer, block by block.

    Each mantissa is cut in two limbs (27 low bits, 26 high) counted per binary exponent with
    float bincount weights (exact: a block's limb sums stay below ``2**43``) and accumulated in
    int64 (exact below ``2**36`` rows); Python adds one term per exponent.
    """
    width = top - 53 - base + 1
    low = np.zeros(width, dtype=np.int64)
    high = np.zeros(width, dtype=np.int64)
    for start in range(0, values.shape[0], _BLOCK):
        m, shift = _mantissas(values[start : start + _BLOCK], base)
        low += np.bincount(shift, weights=m & _LIMB, minlength=width).astype(np.int64)
        high += np.bincount(shift, weights=m >> 27, minlength=width).astype(np.int64)
    used = np.flatnonzero(low | high)
    return sum(
        ((hi << 27) + lo) << sh
        for sh, lo, hi in zip(used.tolist(), low[used].tolist(), high[used].tolist(), strict=True)
    )


class _OneGroup:
    """One group of float weights split by :func:`_split_general`'s float bounds, in blocks.

    ``base``/``top``: the binary exponents of the smallest weight's unit and just above the
    largest weight; ``weight``: the exact weight sum over ``2**base``; the float quota of a row
    is ``fl(fl(T) * fl(v 2**-top) / fl(W 2**(base - top)))``, the one ``_split_general``
    computes, so its error bound ``delta`` holds unchanged.
    """

    def __init__(self, total: int, values: FloatArray, base: int, top: int, weight: int) -> None:
        self.total, self.values, self.base, self.top, self.weight = total, values, base, top, weight
        self.w_float = weight / (1 << (top - base))  # correctly rounded
        self.t_float = float(total)

    def quotas(self, values: FloatArray) -> FloatArray:
        """Return the float quotas of ``values`` (rows of this group)."""
        qf: FloatArray = self.t_float * np.ldexp(values, -self.top)
        qf /= self.w_float
        return qf

    def exact(self, rows: IntArray) -> _Exact:
        """Exact arithmetic for ``rows`` (positions in the returned object: 0 .. len(rows)-1)."""
        m, shift = _mantissas(self.values[rows], self.base)
        zeros = np.zeros(rows.shape[0], dtype=np.int64)
        return _Exact(np.array([self.total], dtype=np.int64), m, shift, zeros, {0: self.weight})

    def floors(self, q: IntArray, rem: FloatArray) -> tuple[IntArray, float, IntArray]:
        """Fill floors ``q`` and remainders ``rem`` (-1 for zero weights); count remainders.

        Returns the count of each remainder bucket ``floor(rem * _BUCKETS)``, the largest float
        quota, and the rows floats could not decide (settled exactly here).
        """
        counts = np.zeros(_BUCKETS + 1, dtype=np.int64)
        qmax = 0.0
        undecided: list[IntArray] = []
        for start in range(0, q.shape[0], _BLOCK):
            part = self.values[start : start + _BLOCK]
            qf = self.quotas(part)
            delta = qf * (16.0 * _U)
            delta += 2.0**-990
            floor_lo = np.floor(np.maximum(qf - delta, 0.0))
            decided = floor_lo == np.floor(qf + delta)
            qmax = max(qmax, float(qf.max()))
            qf -= floor_lo  # the remainder: exact (Sterbenz) where decided
            qf[~decided | (part == 0.0)] = -1.0
            q[start : start + part.shape[0]] = floor_lo
            rem[start : start + part.shape[0]] = qf
            bucket = (qf * _BUCKETS).astype(np.int64)
            bucket[bucket < 0] = _BUCKETS
            counts += np.bincount(bucket, minlength=_BUCKETS + 1)
            if not decided.all():
                undecided.append(np.flatnonzero(~decided) + start)
        rows = np.concatenate(undecided) if undecided else np.zeros(0, dtype=np.int64)
        if rows.size:
            q_u, _, frac_u, inv = self.exact(rows).divmod(np.arange(rows.size))
            q[rows] = q_u[inv]
            rem[rows] = frac_u[inv]
            # frac_u < 1 exactly, but may round to 1.0: such a remainder counts in the top bucket
            bucket = np.minimum((frac_u[inv] * _BUCKETS).astype(np.int64), _BUCKETS - 1)
            counts += np.bincount(bucket, minlength=_BUCKETS + 1)
        return counts[:_BUCKETS], qmax, rows

    def add_units(
        self, q: IntArray, rem: FloatArray, counts: IntArray, qmax: float, undecided: IntArray
    ) -> None:
        """Add the units the floors ``q`` leave to the rows of largest exact remainder.

        The ``left``-th largest float remainder ``cut`` is found by counting (its bucket, then
        a partition of that bucket's rows). Every remainder is within ``D`` of the exact one
        (``D``: the largest ``delta``, or ``2**-50`` where rows were settled exactly). A row
        with ``rem > cut + 2D`` is surely among the ``left`` largest (every row ahead of it has
        ``rem > cut``, and fewer than ``left`` rows do); one with ``rem < cut - 2D`` surely is
        not (the ``left`` rows with ``rem >= cut`` are all ahead of it). The rows in between
        (a handful: ``D`` is tiny against the spacing of the remainders) are settled by
        :func:`_general_extra` with the units the sure rows leave; it is exact on any subset
        that holds every row it must rank, and rows outside it lie strictly on one side.
        The float tests below use ``3D`` to absorb their own rounding.
        """
        left = self.total - int(q.sum())
        if left <= 0:
            return
        above = np.cumsum(counts[::-1])
        b = _BUCKETS - 1 - int(np.searchsorted(above, left))
        kth = left - (int(above[_BUCKETS - 1 - b]) - int(counts[b]))
        lo_edge = b / _BUCKETS
        hi_edge = (b + 1) / _BUCKETS if b < _BUCKETS - 1 else math.inf
        in_bucket = rem[(rem >= lo_edge) & (rem < hi_edge)]
        cut = float(np.partition(in_bucket, in_bucket.size - kth)[in_bucket.size - kth])
        d_max = 16.0 * _U * qmax + 2.0**-990
        threshold = 3.0 * (max(d_max, 2.0**-50) if undecided.size else d_max)
        sure_count = 0
        open_rows: list[IntArray] = []
        for start in range(0, q.shape[0], _BLOCK):
            part = rem[start : start + _BLOCK]
            diff = part - cut
            sure = diff > threshold
            q[start : start + part.shape[0]] += sure
            sure_count += int(np.count_nonzero(sure))
            between = (diff >= -threshold) & ~sure & (part >= 0.0)
            if between.any():
                open_rows.append(np.flatnonzero(between) + start)
        need = left - sure_count
        if need <= 0 or not open_rows:
            return
        rows = np.concatenate(open_rows)
        err = self.quotas(self.values[rows]) * (16.0 * _U) + 2.0**-990
        err[np.isin(rows, undecided)] = 2.0**-50
        zeros = np.zeros(rows.shape[0], dtype=np.int64)
        extra = _general_extra(zeros, rem[rows], err, np.array([need]), self.exact(rows))
        q[rows] += extra


def _all_whole(values: FloatArray) -> bool:
    """Tell whether every float is a whole number (block by block, stopping at the first not)."""
    for start in range(0, values.shape[0], _BLOCK):
        part = values[start : start + _BLOCK]
        if not bool((np.floor(part) == part).all()):
            return False
    return True


def _split_one_float(total: int, values: FloatArray) -> IntArray | None:
    """Largest remainder of one group of float weights; ``None`` where the common path applies.

    The common path takes no weights or all-zero weights (its errors), whole-number weights
    and weights whose exact sum (as integers over the smallest weight's unit) is at most 2**61
    (int64 arithmetic). Any other group - a million fractional weights, say - is split here with
    ``_split_general``'s bounds, block by block: two passes over the weights, an int64 result
    and one float64 remainder per row, a counting selection instead of sorts.
    """
    n = values.shape[0]
    if n == 0:
        return None
    if total == 0:
        return np.zeros(n, dtype=np.int64)
    high = float(values.max())
    if high == 0.0 or (high < _EXACT_LIMIT and _all_whole(values)):
        return None
    low = float(np.min(values, where=values > 0.0, initial=math.inf))
    base, top = math.frexp(low)[1] - 53, math.frexp(high)[1]
    weight = _one_group_weight(values, base, top)
    if weight <= 2**61:
        return None
    group = _OneGroup(abs(total), values, base, top, weight)
    q = np.empty(n, dtype=np.int64)
    rem = np.empty(n, dtype=np.float64)
    counts, qmax, undecided = group.floors(q, rem)
    group.add_units(q, rem, counts, qmax, undecided)
    if total < 0:
        np.negative(q, out=q)
    return q


def _totals_array(total: Any) -> IntArray:
    """Totals as a 1-D int64 array, each within +-2**62 (checked exactly, also beyond int64)."""
    arr = np.atleast_1d(np.asarray(total.to_numpy() if isinstance(total, pd.Series) else total))
    if arr.dtype == object and all(
        isinstance(v, int) and not isinstance(v, bool) for v in arr.tolist()
    ):
        items = arr.tolist()
        pos = first_true([abs(v) > _MAX_TOTAL for v in items])
        if pos is not None:
            raise ConfigError(
                f"total {items[pos]} (group {pos}) is beyond +-2**62; split it first",
                column="total",
                row=pos,
                value=items[pos],
            )
        arr = np.asarray(items, dtype=np.int64)
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        flat = arr.ravel().tolist()
        pos = first_true([not isinstance(v, int | np.integer) or isinstance(v, bool) for v in flat])
        got = f"{show(flat[pos])} (group {pos})" if pos is not None else f"dtype {arr.dtype}"
        raise ConfigError(
            f"totals must be integers (minor units), got {got}",
            column="total",
            row=pos,
            value=None if pos is None else flat[pos],
        )
    if arr.dtype.kind == "u":
        beyond = arr > np.uint64(_MAX_TOTAL)
    else:
        beyond = (arr > _MAX_TOTAL) | (arr < -_MAX_TOTAL)
    pos = first_true(beyond)
    if pos is not None:
        raise ConfigError(
            f"total {int(arr[pos])} (group {pos}) is beyond +-2**62; split it first",
            column="total",
            row=pos,
            value=int(arr[pos]),
        )
    return arr.astype(np.int64, copy=False)


def _totals_and_codes(total: Any, groups: Any, n: int) -> tuple[IntArray, IntArray]:
    """Per-group integer totals and each row's group code, checked."""
    totals = _totals_array(total)
    if groups is None:
        if totals.shape != (1,):
            raise ConfigError(
                f"total must be one integer when groups is None, got {totals.shape[0]}",
                column="total",
            )
        return totals, np.zeros(n, dtype=np.int64)
    codes = np.asarray(groups)
    if codes.size == 0:
        codes = codes.astype(np.int64)
    if codes.dtype.kind not in "iu" or codes.shape != (n,):
        raise ConfigError(
            "weights and groups must be one-dimensional and of equal length, groups integer codes",
            column="groups",
        )
    codes = codes.astype(np.int64, copy=False)
    if codes.size and (int(codes.min()) < 0 or int(codes.max()) >= totals.shape[0]):
        raise ConfigError("group codes must lie in 0 .. len(totals) - 1", column="groups")
    return totals, codes


def largest_remainder(
    total: int | npt.ArrayLike,
    weights: npt.ArrayLike | pd.Series,
    groups: npt.ArrayLike | None = None,
) -> IntArray:
    """Split integer totals in proportion to weights, exactly: the largest remainder method.

    The one rounding routine of crmcore: every split of minor units (quotas, split credit,
    campaign revenue, commissions) goes through it. Row ``i`` of group ``g`` receives

    ``floor(T_g * w_i / W_g)`` plus one unit if it is among the ``r_g`` rows with the largest
    remainders ``T_g * w_i mod W_g``,

    where ``W_g`` is the sum of the group's weights and ``r_g`` the units the floors leave.
    **Tie rule:** of rows with exactly equal remainders, the row that comes first (lower
    position) gets the unit. The result is what exact rational arithmetic gives, for every
    total with ``|T_g| <= 2**62`` and every finite weight ``>= 0`` (``5e-324`` to ``1.8e308``
    in one call included): float weights are read as the exact binary fractions they store,
    integer weights as integers. A negative total is split as its magnitude and negated, so
    every part has the total's sign. The parts of each group sum to its total exactly.

    Parameters
    ----------
    total
        One integer (``groups=None``) or one integer per group.
    weights
        One non-negative weight per row (a Series: errors name its row labels). A group with
        a non-zero total needs a positive weight.
    groups
        Integer group code of each row, ``0 .. len(total) - 1``; ``None`` for one group.

    Returns
    -------
    numpy.ndarray of int64
        One part per row.

    Raises
    ------
    ConfigError
        Non-integer or too large totals; NaN, infinite, negative or boolean weights (naming
        the first row); bad group codes; a non-zero total without a positive weight.

    Notes
    -----
    How it stays exact and vectorised: a finite double is ``m * 2**e`` with an integer
    ``m < 2**53``, so each group's weights are integers over the group's smallest power of
    two. When those integers sum below ``2**62`` (almost always: whole-number weights, or
    short groups of fractions), quotients and remainders are computed exactly in int64 with a
    128-bit product (two 64-bit words) where ``T * W`` passes ``2**63``, and the ``r_g`` largest
    remainders are picked per group by sorting small blocks of groups at once. Other groups
    (a million float weights, or weights spanning more than ~2**10 binary orders of
    magnitude) use floats with proven error bounds and settle, in Python integers, only the
    rows floats cannot decide: those whose floor or whose place against the cut is within
    the bound (see the comments of ``_split_general``).

    Examples
    --------
    >>> largest_remainder(7, [4, 3, 3, 4, 4, 1, 2])
    array([2, 1, 1, 1, 1, 0, 1])
    >>> largest_remainder(100, [1, 1, 1])  # a tie: the first row gets the unit
    array([34, 33, 33])
    >>> largest_remainder([1000, -7], [0.6, 0.4, 1, 1], groups=[0, 0, 1, 1])
    array([600, 400,  -4,  -3])
    >>> int(largest_remainder(2**60 + 3, [1, 1, 1]).sum()) == 2**60 + 3
    True
    >>> largest_remainder(10, [1e308, 1e308, 1e-300])
    array([5, 5, 0])
    """
    values, _ = _weight_values(weights, "weights")
    n = values.shape[0]
    if groups is None and values.dtype.kind == "f":
        one = _totals_array(total)
        if one.shape == (1,):
            split = _split_one_float(int(one[0]), values)
            if split is not None:
                return split
    totals, codes = _totals_and_codes(total, groups, n)
    m, k = _binary_parts(values)
    positive = m > 0
    carried = np.bincount(codes[positive], minlength=totals.shape[0]) > 0
    pos = first_true(~carried & (totals != 0))
    if pos is not None:
        where = "" if groups is None else f"group {pos} has "
        raise ConfigError(
            f"{where}total {int(totals[pos])} but no positive weight to carry it"
            + ("" if groups is not None else "; weights are all zero"),
            column="weights",
            row=pos,
            value=int(totals[pos]),
        )
    out = np.zeros(n, dtype=np.int64)
    magnitude = np.abs(totals)
    active = positive & (magnitude[codes] > 0)
    if active.all():
        out = _split_magnitudes(magnitude, m, k, codes)
    elif active.any():
        rows = np.flatnonzero(active)
        k_rows = None if k is None else k[rows]
        out[rows] = _split_magnitudes(magnitude, m[rows], k_rows, codes[rows])
    if (totals < 0).any():
        out *= np.sign(totals)[codes]
    return out


def split_minor_units(
    totals: npt.ArrayLike,
    weights: npt.ArrayLike,
    groups: npt.ArrayLike | None = None,
) -> npt.NDArray[np.int64]:
    """Split integer totals over rows in proportion to weights, exactly (largest remainder).

    The same routine as :func:`largest_remainder` (under the name the pipeline and KPI areas
    use): row ``i`` of group ``g`` receives ``floor(totals[g] * w_i / sum(w in g))`` plus one
    unit if it is among the ``r_g`` rows with the largest remainders, ``r_g`` being the units
    left over; exact in integer arithmetic. Ties go to the row that comes first. Negative
    totals are split as their absolute value and negated, so every part has the total's sign.
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
    >>> split_minor_units(7, [4, 3, 3, 4, 4, 1, 2])
    array([2, 1, 1, 1, 1, 0, 1])
    """
    return largest_remainder(totals, weights, groups)


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
    labels = units.index if isinstance(units, pd.Series) else None
    try:
        values = _integer_units(units, labels)
    except ConfigError as exc:
        detail = str(exc).removeprefix("minor units must be integers, ")
        raise ConfigError(
            f"{name} must be integer minor units; {detail}",
            column=name,
            row=exc.row,
            value=exc.value,
        ) from None
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
