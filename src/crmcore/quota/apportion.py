"""Exact apportionment: split an integer total in proportion to weights.

Six classical methods (Balinski & Young, *Fair Representation*, 2nd ed. 2001; Pukelsheim,
*Proportional Representation*, 2nd ed. 2017):

``hamilton`` (largest remainder, Hare quota)
    Each item gets the floor of its quota ``q_i = total * w_i / sum(w)``; the units left over go
    to the largest fractional remainders.
``jefferson`` (= ``dhondt``), ``adams``, ``webster`` (= ``sainte_lague``), ``dean``,
``huntington_hill``
    Divisor methods: item ``i`` gets ``round(w_i / D)`` for one common divisor ``D`` chosen so
    that the parts add up to the total. The rounding rule is defined by signposts ``d(s)``
    (a quotient between ``d(s-1)`` and ``d(s)`` rounds to ``s``): Jefferson ``d(s) = s + 1``
    (round down), Adams ``d(s) = s`` (round up), Webster ``d(s) = s + 1/2`` (arithmetic mean of
    ``s`` and ``s + 1``), Dean ``d(s) = 2 s (s + 1) / (2 s + 1)`` (harmonic mean),
    Huntington-Hill ``d(s) = sqrt(s (s + 1))`` (geometric mean). Equivalently, the units are
    awarded one at a time to the highest *priority* ``w_i / d(a_i)``, where ``a_i`` is what item
    ``i`` holds already.

How it is computed (no loop per unit)
-------------------------------------
1. A multiplier ``u = 1/D`` is found by a safeguarded Newton / bisection search on the
   vectorised seat count ``sum(round(w * u))`` (about five passes over the weights), starting
   from Pukelsheim's estimate ``u = (total + n (r - 1/2)) / sum(w)`` with ``r`` the signpost
   offset (1 Jefferson, 1/2 Webster/Dean/Hill, 0 Adams).
2. From the two ends of the final bracket, with a relative safety margin of ``2e-14`` (50 times
   the floating-point error of the count formulas), every item gets a guaranteed lower bound
   ``L_i`` and upper bound ``U_i`` of its exact result. Only the few units between the bounds
   remain undecided.
3. The undecided units are ranked by priority in one vectorised sort. Candidates whose float
   priorities are too close to the cut to be ordered safely are compared *exactly*: weights are
   exact rationals (integers, or the binary fraction a float stores), signposts are rationals
   (Hill compares squared priorities ``w^2 / (s (s + 1))``), and the comparison uses Python's
   arbitrary-precision :class:`fractions.Fraction` on the distinct ``(weight, seat)`` pairs of
   that small set only. When that set is large (totals near ``2**62``, where floats cannot tell
   consecutive units of one item apart), units of equal weight form runs of consecutive seats and
   an exact quickselect over the runs (binary search within each) finds the threshold. Hamilton
   is handled the same way with priority ``q_i - s`` and exact key ``total * w_i - s * sum(w)``
   (the exact float sum is built from mantissas and exponents).

Ties (exactly equal priorities or remainders) go to the item that comes first (lower position).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import check_scalar, first_true, show
from crmcore.errors import ConfigError

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
_BLOCK = 1 << 16  # items per block when counting seats in small reused buffers
_ZERO_SIGNPOST = frozenset({"adams", "dean", "huntington_hill"})
_OFFSET = {"jefferson": 1.0, "webster": 0.5, "dean": 0.5, "huntington_hill": 0.5, "adams": 0.0}
_DELTA = 2e-14  # relative safety margin: ~50x the float error of the count formulas
_MAX_TOTAL = 2**62
_NO_CAP = 2**62  # "no maximum": never below any total (totals are at most 2**62)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


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
            f"method must be a string, got {type(method).__name__}", column="method", value=method
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


def _weights(weights: Any) -> tuple[FloatArray, IntArray | None]:
    """Return (float weights, exact int64 weights or None) after validation."""
    raw = weights.to_numpy() if isinstance(weights, pd.Series | pd.Index) else weights
    try:
        arr = np.asarray(raw)
    except (TypeError, ValueError):  # pragma: no cover - ragged input
        raise ConfigError("weights must be a one-dimensional sequence of numbers") from None
    if arr.ndim != 1:
        raise ConfigError(f"weights must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ConfigError("weights is empty; expected at least one weight")
    if arr.dtype.kind == "b":
        raise ConfigError("weights holds booleans; expected numbers")
    exact: IntArray | None = None
    if arr.dtype == object and any(isinstance(x, int) and abs(x) >= 2**63 for x in arr.tolist()):
        raise ConfigError("weights exceed the int64 range; scale them down first")
    if arr.dtype.kind in "iu":
        if arr.dtype.kind == "u" and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
            raise ConfigError("weights exceed the int64 range")
        exact = arr.astype(np.int64)
        flt = exact.astype(np.float64)
    else:
        try:
            flt = arr.astype(np.float64, copy=False)  # read only below: no copy needed
        except (TypeError, ValueError):
            raise ConfigError("weights must be numbers") from None
    low, high = float(flt.min()), float(flt.max())
    if low >= 0.0 and high < math.inf:  # no NaN (min would be NaN), no inf, no negative
        if high <= 0.0:
            raise ConfigError(
                "weights are all zero; at least one must be positive", column="weights"
            )
        return flt, exact
    for mask, what in ((np.isnan(flt), "NaN"), (np.isinf(flt), "infinite"), (flt < 0, "negative")):
        pos = first_true(mask)
        if pos is not None:
            value = exact[pos] if exact is not None else flt[pos]
            raise ConfigError(
                f"weights has {what} value {show(value)} at position {pos}; weights must be "
                "finite and >= 0",
                column="weights",
                row=pos,
                value=value,
            )
    if not (flt > 0).any():
        raise ConfigError("weights are all zero; at least one must be positive", column="weights")
    return flt, exact


def _bound(value: Any, n: int, name: str, default: int) -> IntArray:
    if value is None:
        # A read-only broadcast view (no memory): callers only read bounds or copy them.
        return np.broadcast_to(np.int64(default), (n,))
    raw = value.to_numpy() if isinstance(value, pd.Series) else value
    arr = np.asarray(raw)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise ConfigError(f"{name} must be integers, got {arr.dtype}", column=name)
    if arr.ndim == 0:
        arr = np.full(n, arr.item())
    if arr.shape != (n,):
        raise ConfigError(
            f"{name} must be a scalar or have one value per weight ({n}), got shape {arr.shape}",
            column=name,
        )
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        pos = first_true(bad)
        if pos is not None:
            raise ConfigError(
                f"{name} has value {show(arr[pos])} at position {pos}; expected whole numbers",
                column=name,
                row=pos,
                value=arr[pos],
            )
    out = arr.astype(np.int64)
    pos = first_true(out < 0)
    if pos is not None:
        raise ConfigError(
            f"{name} has negative value {show(out[pos])} at position {pos}; expected >= 0",
            column=name,
            row=pos,
            value=out[pos],
        )
    return np.minimum(out, _NO_CAP)


def _int_sum(values: IntArray) -> int:
    """Exact sum of non-negative int64 values (Python ints only when int64 could overflow)."""
    if values.size == 0:
        return 0
    if int(values.max()) <= np.iinfo(np.int64).max // max(values.size, 1):
        return int(values.sum())
    return int(values.sum(dtype=object))


def _check_feasible(total: int, w: FloatArray, lo: IntArray, hi: IntArray) -> IntArray:
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
    eff = hi if bool((w > 0).all()) else np.where(w > 0, hi, lo)
    # Parts are non-negative: one part at or above the total settles feasibility without the
    # exact (possibly arbitrary-precision) sum.
    if int(eff.max()) >= total:
        return eff.astype(np.int64, copy=False)
    high = _int_sum(eff)
    if high < total:
        zero = " (zero-weight items count at their minimum)" if (w == 0).any() else ""
        raise ConfigError(
            f"maximum sums to {high}{zero}, less than total {total}; raise the maxima or lower "
            "the total",
            column="maximum",
            value=high,
        )
    return eff.astype(np.int64, copy=False)


# --------------------------------------------------------------------------------------------
# Exact arithmetic helpers
# --------------------------------------------------------------------------------------------


def _exact_weight(flt: FloatArray, exact: IntArray | None) -> Callable[[int], Fraction]:
    if exact is not None:
        ints = exact
        return lambda i: Fraction(int(ints[i]))
    return lambda i: Fraction(float(flt[i]))


def _exact_sum(flt: FloatArray, exact: IntArray | None) -> Fraction:
    """Exact sum of the weights (floats summed exactly from their mantissas and exponents)."""
    if exact is not None:
        return Fraction(int(exact.sum(dtype=object)))
    mant, expo = np.frexp(flt)
    m53 = (mant * 2.0**53).astype(np.int64)  # exact: 53-bit mantissas
    e = expo.astype(np.int64) - 53
    order = np.argsort(e, kind="stable")
    e_sorted = e[order]
    starts = np.flatnonzero(np.r_[True, e_sorted[1:] != e_sorted[:-1]])
    hi_part = np.add.reduceat(m53[order] >> 26, starts)  # each part < 2**27: sums fit in int64
    lo_part = np.add.reduceat(m53[order] & ((1 << 26) - 1), starts)
    total = Fraction(0)
    for h, low, ex in zip(
        hi_part.tolist(), lo_part.tolist(), e_sorted[starts].tolist(), strict=True
    ):
        total += Fraction((h << 26) + low) * (Fraction(2) ** ex)
    return total


def _signpost(method: str, s: int) -> Fraction:
    if method == "jefferson":
        return Fraction(s + 1)
    if method == "adams":
        return Fraction(s)
    if method == "webster":
        return Fraction(2 * s + 1, 2)
    if method == "dean":
        return Fraction(2 * s * (s + 1), 2 * s + 1)
    return Fraction(s * (s + 1))  # huntington_hill: squared signpost


def _count(method: str, y: FloatArray, out: IntArray | None = None) -> IntArray:
    """Float count of seats ``#{s >= 0 : d(s) <= y}`` for quotients ``y > 0``.

    With ``out``, ``y`` must be a scratch array: it is overwritten and the counts are written to
    ``out`` (no new full-size arrays; the same values as without).
    """
    if out is not None and method in ("jefferson", "adams", "webster"):
        if method == "webster":
            y += 0.5
        np.floor(y, out=y)
        if method == "adams":
            y += 1.0
        np.minimum(y, float(_NO_CAP), out=y)
        np.copyto(out, y, casting="unsafe")
        return out
    if method == "jefferson":
        c = np.floor(y)
    elif method == "adams":
        c = np.floor(y) + 1.0
    elif method == "webster":
        c = np.floor(y + 0.5)
    elif method == "huntington_hill":
        c = np.floor((np.sqrt(1.0 + 4.0 * y * y) - 1.0) * 0.5) + 1.0
    else:  # dean
        c = np.floor((y - 1.0 + np.sqrt(y * y + 1.0)) * 0.5) + 1.0
    res = np.minimum(c, float(_NO_CAP)).astype(np.int64)
    if out is not None:
        out[...] = res
        return out
    return res


def _priority(method: str, w: FloatArray, s: IntArray) -> FloatArray:
    """Float priority ``w / d(s)`` of the (s+1)-th unit (Hill: ``w / sqrt(s (s+1))``)."""
    sf = s.astype(np.float64)
    if method == "jefferson":
        d = sf + 1.0
    elif method == "adams":
        d = sf
    elif method == "webster":
        d = sf + 0.5
    elif method == "dean":
        d = 2.0 * sf * (sf + 1.0) / (2.0 * sf + 1.0)
    else:
        d = np.sqrt(sf * (sf + 1.0))
    with np.errstate(divide="ignore"):
        return w / d


def _pick(
    item: IntArray,
    *,
    seat: IntArray,
    prio: FloatArray,
    err: float,
    k: int,
    key_id: IntArray,
    exact_key: Callable[[int, int], Fraction],
) -> npt.NDArray[np.bool_]:
    """Choose the ``k`` candidates of highest exact priority; ties to the lower item position.

    ``prio`` are float priorities, each within ``err`` of the exact one. Candidates clearly
    above or below the cut are decided by floats; those within ``2 * err`` of it are ranked by
    ``exact_key(position_of_representative, seat)`` over their distinct ``(key_id, seat)`` pairs.
    """
    size = item.shape[0]
    chosen = np.zeros(size, dtype=bool)
    if k <= 0:
        return chosen
    if k >= size:
        chosen[:] = True
        return chosen
    cut = float(-np.partition(-prio, k - 1)[k - 1])  # the k-th largest float priority
    sure = prio > cut + 2.0 * err
    near = np.abs(prio - cut) <= 2.0 * err
    chosen |= sure
    need = k - int(sure.sum())
    idx = np.flatnonzero(near)
    if need <= 0 or idx.size == 0:  # pragma: no cover - guaranteed by construction
        return chosen
    if idx.size > _RUNS_FROM:
        runs = _select_runs(item[idx], seat[idx], key_id[idx], need, exact_key)
        if runs is not None:
            chosen[idx[runs]] = True
            return chosen
    pairs = np.stack([key_id[idx], seat[idx]], axis=1)
    _, first, inverse = np.unique(pairs, axis=0, return_index=True, return_inverse=True)
    keys = [exact_key(int(item[idx[f]]), int(seat[idx[f]])) for f in first.tolist()]
    ranked = sorted(range(len(keys)), key=lambda j: keys[j], reverse=True)
    dense = np.empty(len(keys), dtype=np.int64)
    level = 0
    for pos, j in enumerate(ranked):
        if pos and keys[j] != keys[ranked[pos - 1]]:
            level += 1
        dense[j] = level
    rank = dense[inverse.reshape(-1)]
    take = np.lexsort((item[idx], rank))[:need]
    chosen[idx[take]] = True
    return chosen


_RUNS_FROM = 2048  # near-tie sets larger than this are resolved run by run


def _distinct_per_group(
    groups: IntArray, values: IntArray, n_groups: int
) -> tuple[IntArray, IntArray]:
    """Count the distinct values per group; also return each group's smallest value."""
    order = np.lexsort((values, groups))
    g, v = groups[order], values[order]
    new = np.r_[True, (g[1:] != g[:-1]) | (v[1:] != v[:-1])]
    counts = np.bincount(g[new], minlength=n_groups)
    starts = np.searchsorted(g, np.arange(n_groups))
    return counts.astype(np.int64), v[np.minimum(starts, max(v.size - 1, 0))].astype(np.int64)


def _select_runs(
    item: IntArray,
    seat: IntArray,
    key_id: IntArray,
    need: int,
    exact_key: Callable[[int, int], Fraction],
) -> npt.NDArray[np.bool_] | None:
    """Exact choice of ``need`` near-tie candidates without comparing every one of them.

    Candidates of equal weight form one *run* of consecutive seats with strictly decreasing
    priority (the same run for every item of that weight). An exact quickselect over runs
    (pivot: the weighted median of the runs' middle seats; each run cut by binary search with
    exact comparisons) finds the exact threshold priority in O(log) rounds; seats above it are
    chosen, seats equal to it go to the lower item positions. Returns ``None`` when the
    candidates do not form runs (then the caller compares them one by one).
    """
    keys, inv = np.unique(key_id, return_inverse=True)
    inv = inv.reshape(-1)
    n_groups = keys.size
    smin = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    smax = np.full(n_groups, -1, dtype=np.int64)
    np.minimum.at(smin, inv, seat)
    np.maximum.at(smax, inv, seat)
    seat_count, _ = _distinct_per_group(inv, seat, n_groups)
    if not (seat_count == smax - smin + 1).all():
        return None
    mult_arr, rep_arr = _distinct_per_group(inv, item, n_groups)
    mult = mult_arr.tolist()
    total = sum(
        m * (h - low + 1) for m, low, h in zip(mult, smin.tolist(), smax.tolist(), strict=True)
    )
    if total != item.size:
        return None
    rep = rep_arr.tolist()
    lo, hi = smin.tolist(), (smax + 1).tolist()
    cache: dict[tuple[int, int], Fraction] = {}

    def prio(g: int, s: int) -> Fraction:
        key = (g, s)
        if key not in cache:
            cache[key] = exact_key(rep[g], s)
        return cache[key]

    def first_not_above(g: int, p: Fraction, a: int, b: int, strict: bool) -> int:
        # Priorities fall with the seat: first seat in [a, b) with priority <= p (< p if strict).
        while a < b:
            mid = (a + b) // 2
            value = prio(g, mid)
            if value > p or (strict and value == p):
                a = mid + 1
            else:
                b = mid
        return a

    act_lo, act_hi = lo[:], hi[:]
    above = 0
    groups = range(n_groups)
    while True:
        live = [g for g in groups if act_lo[g] < act_hi[g]]
        mids = {g: (act_lo[g] + act_hi[g]) // 2 for g in live}
        order = sorted(live, key=lambda g: float(prio(g, mids[g])), reverse=True)
        sizes = [mult[g] * (act_hi[g] - act_lo[g]) for g in order]
        half, run = sum(sizes) / 2.0, 0
        pivot_group = order[-1]
        for g, size in zip(order, sizes, strict=True):
            run += size
            if run >= half:
                pivot_group = g
                break
        p = prio(pivot_group, mids[pivot_group])
        gt = {g: first_not_above(g, p, act_lo[g], act_hi[g], strict=False) for g in live}
        ge = {g: first_not_above(g, p, act_lo[g], act_hi[g], strict=True) for g in live}
        n_gt = sum(mult[g] * (gt[g] - act_lo[g]) for g in live)
        n_ge = sum(mult[g] * (ge[g] - act_lo[g]) for g in live)
        if above + n_gt >= need:
            for g in live:
                act_hi[g] = gt[g]
        elif above + n_ge >= need:
            break
        else:
            above += n_ge
            for g in live:
                act_lo[g] = ge[g]
    cut = np.asarray([first_not_above(g, p, lo[g], hi[g], strict=False) for g in groups])
    chosen = seat < cut[inv]
    rest = need - int(chosen.sum())
    tied_seat = np.asarray(
        [
            c if c < hi[g] and prio(g, int(c)) == p else -1
            for g, c in zip(groups, cut.tolist(), strict=True)
        ]
    )
    tied = np.flatnonzero(seat == tied_seat[inv])
    chosen[tied[np.argsort(item[tied], kind="stable")[:rest]]] = True
    return chosen


def _key_ids(flt: FloatArray, exact: IntArray | None) -> IntArray:
    """Integers that are equal exactly when the weights are equal."""
    if exact is not None:
        return exact
    return flt.view(np.int64)


# --------------------------------------------------------------------------------------------
# Divisor methods
# --------------------------------------------------------------------------------------------


def _divisor(
    method: str,
    total: int,
    *,
    flt: FloatArray,
    exact: IntArray | None,
    lo: IntArray,
    hi: IntArray,
) -> IntArray:
    pos = flt > 0
    if method in _ZERO_SIGNPOST:
        # Every positive weight's first unit has infinite priority.
        first = np.where(pos, np.clip(1, lo, hi), lo)
        floor_total = _int_sum(first)
        if total < floor_total:
            # Not enough units for one each: give the minima, then first units to the largest
            # weights (ties: lower position first), as the limit of infinite priorities w / 0.
            out = lo.copy()
            eligible = np.flatnonzero(pos & (lo == 0) & (hi >= 1))
            order = eligible[np.lexsort((eligible, -flt[eligible]))]
            out[order[: total - int(lo.sum())]] += 1
            return out
    # Full-size temporaries are costly at 10M items (every fresh page is touched once, which
    # made the time grow ~20x from 1M to 10M): skip copies when every weight is positive and,
    # without bounds, count seats block by block in small reused buffers.
    all_pos = bool(pos.all())
    if all_pos:
        w, lo_p, hi_p, fixed = flt, lo, hi, 0
    else:
        w, lo_p, hi_p, fixed = flt[pos], lo[pos], hi[pos], int(lo[~pos].sum())
    target = total - fixed
    wsum = float(math.fsum(w.tolist())) if w.size < 4096 else float(w.sum())
    block = min(w.size, _BLOCK)
    fbuf = np.empty(block, dtype=np.float64)
    ibuf = np.empty(block, dtype=np.int64)

    def seats(u: float, factor: float = 1.0) -> IntArray:
        out = np.empty(w.size, dtype=np.int64)
        for a in range(0, w.size, block):
            b = min(a + block, w.size)
            np.multiply(w[a:b], u * factor, out=fbuf[: b - a])
            _count(method, fbuf[: b - a], out[a:b])
        if bounded:  # without bounds counts lie in [0, _NO_CAP]: clipping changes nothing
            np.clip(out, lo_p, hi_p, out=out)
        return out

    def widths(u: float, factor: float, lower: IntArray) -> tuple[IntArray, IntArray]:
        """Positions where ``seats(u, factor)`` exceeds ``lower``, and by how much."""
        if bounded:
            width = seats(u, factor)
            np.subtract(width, lower, out=width)
            wide = np.flatnonzero(width)
            return wide, width[wide]
        parts: list[IntArray] = []
        sizes: list[IntArray] = []
        for a in range(0, w.size, block):
            b = min(a + block, w.size)
            np.multiply(w[a:b], u * factor, out=fbuf[: b - a])
            upper = _count(method, fbuf[: b - a], ibuf[: b - a])
            np.subtract(upper, lower[a:b], out=upper)
            nz = np.flatnonzero(upper)
            parts.append(nz + a)
            sizes.append(upper[nz])
        return np.concatenate(parts), np.concatenate(sizes)

    def f(u: float) -> tuple[int, float]:
        if not bounded:
            acc = 0
            for a in range(0, w.size, block):
                b = min(a + block, w.size)
                np.multiply(w[a:b], u, out=fbuf[: b - a])
                acc += int(_count(method, fbuf[: b - a], ibuf[: b - a]).sum())
            return (acc + 2**63) % 2**64 - 2**63, wsum  # as the int64 sum of all counts
        raw = _count(method, w * u)
        free = (raw >= lo_p) & (raw <= hi_p)  # items whose count still moves with u
        slope = float(w[free].sum()) if bounded else wsum
        return int(np.clip(raw, lo_p, hi_p).sum()), slope

    bounded = bool((lo_p > 0).any() or (hi_p < _NO_CAP).any())
    u = max((target - w.size * (0.5 - _OFFSET[method])) / wsum, 1e-300)
    low_u: float | None = None
    high_u: float | None = None
    low_s = high_s = 0
    same_side = 0
    for step in range(2000):
        s, slope = f(u)
        if s == target:
            low_u = high_u = u
            break
        if s < target:
            low_u, low_s = u, s
        else:
            high_u, high_s = u, s
        newton = u + (target - s) / slope if slope > 0 else math.nan
        if low_u is not None and high_u is not None:
            # Close enough: the few units in between are ranked exactly below (exact ties
            # between equal weights can make the count jump by many units at one divisor).
            if high_s - low_s <= max(64, w.size // 32) or high_u <= np.nextafter(
                np.nextafter(low_u, np.inf), np.inf
            ):
                break
            nxt = newton
            if step % 3 == 2 or not (low_u < nxt < high_u):
                nxt = math.sqrt(low_u * high_u) if low_u > 0 else 0.5 * (low_u + high_u)
        else:
            # One side known: Newton step, accelerated (doubling the move) when it keeps
            # landing on the same side.
            same_side += 1
            grow = 2.0 ** max(same_side - 2, 0)
            if low_u is None:
                nxt = u - grow * (u - newton) if newton < u else u / 2.0
                if not 0 < nxt < u:
                    nxt = u / 2.0
            else:
                nxt = u + grow * (newton - u) if newton > u else u * 2.0
        u = nxt
    if low_u is None or high_u is None:  # pragma: no cover - the search always brackets
        raise ConfigError("internal error: could not bracket the divisor")
    u_small = low_u / (1.0 + 3.0 * _DELTA)
    u_big = high_u * (1.0 + 3.0 * _DELTA)
    lower = seats(u_small, 1.0 - 2.0 * _DELTA)
    k = target - int(lower.sum())
    # Only the few items with undecided units (width > 0) are expanded.
    wide, width_nz = widths(u_big, 1.0 + 2.0 * _DELTA, lower)
    item_local = np.repeat(wide, width_nz)
    offset = np.arange(item_local.size, dtype=np.int64) - np.repeat(
        np.cumsum(width_nz) - width_nz, width_nz
    )
    seat = lower[item_local] + offset
    prio = _priority(method, w[item_local], seat)
    item = item_local if all_pos else np.flatnonzero(pos)[item_local]
    finite = prio[np.isfinite(prio)]
    err = 1e-13 * float(finite.max()) if finite.size else 0.0
    wexact = _exact_weight(flt, exact)

    def exact_key(i: int, s: int) -> Fraction:
        wi = wexact(i)
        if method == "huntington_hill":
            return wi * wi / _signpost(method, s)
        return wi / _signpost(method, s)

    chosen = _pick(
        item,
        seat=seat,
        prio=prio,
        err=err,
        k=k,
        key_id=_key_ids(flt, exact)[item],
        exact_key=exact_key,
    )
    if all_pos:
        out = lower
    else:
        out = lo.copy()
        out[pos] = lower
    np.add.at(out, item[chosen], 1)
    return out


# --------------------------------------------------------------------------------------------
# Hamilton
# --------------------------------------------------------------------------------------------


def _hamilton_free(
    total: int, flt: FloatArray, exact: IntArray | None, free: npt.NDArray[np.bool_]
) -> IntArray:
    """Hamilton apportionment of ``total`` over the items where ``free`` (others get 0)."""
    out = np.zeros(flt.shape[0], dtype=np.int64)
    if total == 0:
        return out
    positions = np.flatnonzero(free & (flt > 0))
    w = flt[positions]
    sub_exact = exact[positions] if exact is not None else None
    wsum = float(math.fsum(w.tolist())) if w.size < 4096 else float(w.sum())
    q = float(total) * w / wsum
    lower = np.floor(q * (1.0 - 2.0 * _DELTA)).astype(np.int64)
    upper = np.floor(q * (1.0 + 2.0 * _DELTA)).astype(np.int64) + 1
    k = total - int(lower.sum())
    width = upper - lower
    item_local = np.repeat(np.arange(w.size, dtype=np.int64), width)
    offset = np.arange(item_local.size, dtype=np.int64) - np.repeat(np.cumsum(width) - width, width)
    seat = lower[item_local] + offset
    prio = q[item_local] - seat
    err = 1e-13 * max(float(q.max()), 1.0)
    cache: dict[str, Fraction] = {}

    def exact_key(i: int, s: int) -> Fraction:
        if "W" not in cache:
            cache["W"] = _exact_sum(w, sub_exact)
        wi = Fraction(int(sub_exact[i])) if sub_exact is not None else Fraction(float(w[i]))
        return total * wi - s * cache["W"]

    ids = sub_exact if sub_exact is not None else w.view(np.int64)
    chosen = _pick(
        item_local, seat=seat, prio=prio, err=err, k=k, key_id=ids[item_local], exact_key=exact_key
    )
    local = lower.copy()
    np.add.at(local, item_local[chosen], 1)
    out[positions] = local
    return out


def _hamilton(
    total: int, flt: FloatArray, exact: IntArray | None, lo: IntArray, hi: IntArray
) -> IntArray:
    n = flt.shape[0]
    bounded = bool((lo > 0).any() or (hi < _NO_CAP).any())
    if not bounded:
        return _hamilton_free(total, flt, exact, np.ones(n, dtype=bool))
    # Bounded: water-fill the real quotas (lambda * w clipped to [lo, hi] sums to total), fix the
    # items that hit a bound, apportion the rest by Hamilton; repeat while any free item falls
    # outside its bounds (rare: only float-level near-ties at a bound).
    pos = flt > 0
    lo_f, hi_f = lo.astype(np.float64), hi.astype(np.float64)

    # g(lam) = sum(clip(lam * w, lo, hi)) is piecewise linear and non-decreasing: Newton steps
    # (slope = weight of the unclipped items) inside a bisection bracket, a few passes.
    lam = total / float(flt.sum())
    a, b = 0.0, math.inf
    for _ in range(300):
        v = lam * flt
        gv = float(np.clip(v, lo_f, hi_f).sum())
        if gv == total:
            break
        if gv < total:
            a = lam
        else:
            b = lam
        slope = float(flt[(v > lo_f) & (v < hi_f)].sum())
        nxt = lam + (total - gv) / slope if slope > 0 else math.nan
        if not a < nxt < b:
            nxt = 2.0 * lam if math.isinf(b) else 0.5 * (a + b)
        if nxt == lam or abs(nxt - lam) <= 1e-15 * lam:
            break
        lam = nxt
    at_lo = ~pos | (lam * flt <= lo_f)
    at_hi = pos & ~at_lo & (lam * flt >= hi_f)
    out = np.where(at_lo, lo, np.where(at_hi, hi, 0)).astype(np.int64)
    free = ~(at_lo | at_hi)
    for _ in range(n + 1):
        rest = total - int(out[~free].sum())
        if not free.any():
            break
        part = _hamilton_free(rest, flt, exact, free)
        below = free & (part < lo)
        above = free & (part > hi)
        if not (below.any() or above.any()):
            out[free] = part[free]
            break
        # Fix the violators of the larger total violation first (the other side may resolve).
        if int((lo - part)[below].sum()) >= int((part - hi)[above].sum()):
            out[below] = lo[below]
            free &= ~below
        else:
            out[above] = hi[above]
            free &= ~above
    return out


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


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
        exactly; float weights exactly as the binary fractions they store.
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

    Ties are broken deterministically: of equal priorities (divisor methods) or equal remainders
    (Hamilton), the item at the lower position gets the unit. Reordering the weights therefore
    changes only which of exactly tied items wins.

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
    """
    check_scalar(total, "total", kind=int, min_value=0, max_value=_MAX_TOTAL)
    total = int(total)
    name = canonical_method(method)
    flt, exact = _weights(weights)
    n = flt.shape[0]
    lo = _bound(minimum, n, "minimum", 0)
    hi = _bound(maximum, n, "maximum", _NO_CAP)
    hi = _check_feasible(total, flt, lo, hi)
    if name == "hamilton":
        out = _hamilton(total, flt, exact, lo, hi)
    else:
        out = _divisor(name, total, flt=flt, exact=exact, lo=lo, hi=hi)
    return out.astype(np.int64, copy=False)
