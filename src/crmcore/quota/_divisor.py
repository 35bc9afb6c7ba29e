"""Divisor methods of apportionment, exact for any finite weights and totals up to 2**62.

Item ``i`` gets ``round(w_i / D)`` for one common divisor ``D`` chosen so that the parts add
up to the total; the rounding rule is defined by signposts ``d(s)`` (a quotient between
``d(s-1)`` and ``d(s)`` rounds to ``s``): Jefferson ``d(s) = s + 1`` (round down), Adams
``d(s) = s`` (round up), Webster ``d(s) = s + 1/2``, Dean ``d(s) = 2 s (s + 1) / (2 s + 1)``
(harmonic mean), Huntington-Hill ``d(s) = sqrt(s (s + 1))`` (geometric mean). Equivalently,
units are awarded one at a time to the highest priority ``w_i / d(a_i)``.

How it is computed (no loop per unit), in four named steps of :func:`divisor_apportion`:

1. :class:`_Problem` scales the weights by a power of two (exact; see ``_weights.py``) and
   counts seats ``sum(clip(count(w u), lo, hi))`` for a multiplier ``u = 1/D`` block by block.
2. :func:`_bracket` finds ``u`` by a safeguarded Newton / bisection search on that count
   (about five passes), starting from Pukelsheim's estimate ``u = (total + n (r - 1/2)) /
   sum(w)`` with ``r`` the signpost offset, or from the exponent bracket ``[1, 2)``.
3. :func:`_undecided` widens the bracket by a relative margin of ``2e-14`` (50 times the float
   error of the count formulas) and lists the few units between the guaranteed lower and upper
   seat counts.
4. :func:`_pick` ranks those units by priority; candidates too close to call in floats are
   compared exactly (integer weights as integers, float weights as the binary fractions they
   store, signposts as rationals, Hill by squared priorities), with :func:`_select_runs` for
   large sets of near-ties (runs of consecutive seats of equal weights, exact quickselect).

Ties (exactly equal priorities) go to the item that comes first (lower position).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from crmcore.errors import ConfigError
from crmcore.quota._weights import FloatArray, IntArray, Weights, scale_shift

_BLOCK = 1 << 16  # items per block when counting seats in small reused buffers
ZERO_SIGNPOST = frozenset({"adams", "dean", "huntington_hill"})
_OFFSET = {"jefferson": 1.0, "webster": 0.5, "dean": 0.5, "huntington_hill": 0.5, "adams": 0.0}
_DELTA = 2e-14  # relative safety margin: ~50x the float error of the count formulas
NO_CAP = 2**62  # "no maximum": never below any total (totals are at most 2**62)


def divisor_apportion(
    method: str, total: int, weights: Weights, lo: IntArray, hi: IntArray
) -> IntArray:
    """Apportion ``total`` by a divisor method within bounds ``lo .. hi`` (checked feasible)."""
    if method in ZERO_SIGNPOST:
        few = _first_units_only(total, weights, lo, hi)
        if few is not None:
            return few
    problem = _Problem(method, total, weights, lo, hi)
    low_u, high_u = _bracket(problem)
    local, seat, lower, k = _undecided(problem, low_u, high_u)
    item = local if problem.positions is None else problem.positions[local]
    prio = _priority(method, problem.w[local], seat)
    finite = prio[np.isfinite(prio)]
    chosen = _pick(
        item,
        seat=seat,
        prio=prio,
        err=1e-13 * float(finite.max()) if finite.size else 0.0,
        k=k,
        key_id=weights.key_ids()[item],
        exact_key=_exact_priority(method, weights),
    )
    out = lower if problem.all_pos else _spread(lower, weights.positive, lo)
    np.add.at(out, item[chosen], 1)
    return out


def _spread(lower: IntArray, positive: npt.NDArray[np.bool_], lo: IntArray) -> IntArray:
    out = lo.copy()
    out[positive] = lower
    return out


def _first_units_only(total: int, weights: Weights, lo: IntArray, hi: IntArray) -> IntArray | None:
    """When ``d(0) = 0`` and the total cannot give every positive weight its first unit.

    Every positive weight's first unit has infinite priority; the limit of those priorities
    gives them to the largest weights first (ties: lower position). ``None``: enough units.
    """
    pos = weights.positive
    if total >= _int_total(lo) + int(np.count_nonzero(pos & (lo == 0) & (hi >= 1))):
        return None
    out = lo.copy()
    eligible = np.flatnonzero(pos & (lo == 0) & (hi >= 1))
    order = eligible[np.lexsort((eligible, -weights.sort_key()[eligible]))]
    out[order[: total - int(lo.sum())]] += 1
    return out


def _exact_priority(method: str, weights: Weights) -> Callable[[int, int], Fraction]:
    """Exact priority key of item ``i``'s ``(s+1)``-th unit (Hill: the squared priority)."""
    values = weights.values()

    def key(i: int, s: int) -> Fraction:
        wi = Fraction(values[i].item())
        if method == "huntington_hill":
            return wi * wi / _signpost(method, s)
        return wi / _signpost(method, s)

    return key


def _int_total(values: IntArray) -> int:
    """Exact sum of non-negative int64 values (Python integers only when int64 could wrap)."""
    if values.size == 0:
        return 0
    if int(values.max()) <= np.iinfo(np.int64).max // values.size:
        return int(values.sum())
    return int(values.sum(dtype=object))


class _Problem:
    """The positive items of one divisor apportionment, scaled, with their seat counts."""

    def __init__(
        self, method: str, total: int, weights: Weights, lo: IntArray, hi: IntArray
    ) -> None:
        pos = weights.positive
        self.method = method
        self.all_pos = bool(pos.all())
        self.positions = None if self.all_pos else np.flatnonzero(pos)
        self.lo, self.hi = (lo, hi) if self.all_pos else (lo[pos], hi[pos])
        self.target = total - (0 if self.all_pos else _int_total(lo[~pos]))
        self.bounded = bool((self.lo > 0).any() or (self.hi < NO_CAP).any())
        shift, self.bracketed = scale_shift(
            weights, self._reached, self.target, bounded=self.bounded
        )
        scaled = weights.scaled(shift)
        self.w: FloatArray = scaled if self.positions is None else scaled[self.positions]
        finite = self.w[np.isfinite(self.w)] if self.bracketed else self.w  # inf: saturated
        self.wsum = float(math.fsum(finite.tolist())) if finite.size < 4096 else float(finite.sum())
        block = min(self.w.size, _BLOCK)
        self._fbuf = np.empty(block, dtype=np.float64)
        self._ibuf = np.empty(block, dtype=np.int64)

    def _reached(self, scaled: FloatArray) -> int:
        """Seats at multiplier 1 for all (scaled) weights: for the exponent bisection."""
        w = scaled if self.positions is None else scaled[self.positions]
        with np.errstate(over="ignore", invalid="ignore"):
            counts = np.clip(_count(self.method, w.copy()), self.lo, self.hi)
        return _int_total(counts)

    def seats(self, u: float, factor: float = 1.0) -> IntArray:
        """Seats of every item at multiplier ``u * factor``, within its bounds."""
        out = np.empty(self.w.size, dtype=np.int64)
        with np.errstate(over="ignore", invalid="ignore"):
            for a in range(0, self.w.size, self._fbuf.size):
                b = min(a + self._fbuf.size, self.w.size)
                np.multiply(self.w[a:b], u * factor, out=self._fbuf[: b - a])
                _count(self.method, self._fbuf[: b - a], out[a:b])
        if self.bounded:  # without bounds counts lie in [0, NO_CAP]: clipping changes nothing
            np.clip(out, self.lo, self.hi, out=out)
        return out

    def widths(self, u: float, factor: float, lower: IntArray) -> tuple[IntArray, IntArray]:
        """Positions where ``seats(u, factor)`` exceeds ``lower``, and by how much."""
        if self.bounded:
            width = self.seats(u, factor)
            np.subtract(width, lower, out=width)
            wide = np.flatnonzero(width)
            return wide, width[wide]
        parts: list[IntArray] = []
        sizes: list[IntArray] = []
        with np.errstate(over="ignore", invalid="ignore"):
            for a in range(0, self.w.size, self._fbuf.size):
                b = min(a + self._fbuf.size, self.w.size)
                np.multiply(self.w[a:b], u * factor, out=self._fbuf[: b - a])
                upper = _count(self.method, self._fbuf[: b - a], self._ibuf[: b - a])
                np.subtract(upper, lower[a:b], out=upper)
                nz = np.flatnonzero(upper)
                parts.append(nz + a)
                sizes.append(upper[nz])
        return np.concatenate(parts), np.concatenate(sizes)

    def total_and_slope(self, u: float) -> tuple[int, float]:
        """Seats at ``u`` in total, and the weight of the items whose count still moves."""
        if not self.bounded:
            acc = 0
            with np.errstate(over="ignore", invalid="ignore"):
                for a in range(0, self.w.size, self._fbuf.size):
                    b = min(a + self._fbuf.size, self.w.size)
                    np.multiply(self.w[a:b], u, out=self._fbuf[: b - a])
                    acc += int(_count(self.method, self._fbuf[: b - a], self._ibuf[: b - a]).sum())
            return acc, self.wsum
        with np.errstate(over="ignore", invalid="ignore"):
            raw = _count(self.method, self.w * u)
        free = (raw >= self.lo) & (raw <= self.hi) & np.isfinite(self.w)
        return _int_total(np.clip(raw, self.lo, self.hi)), float(self.w[free].sum())


def _bracket(p: _Problem) -> tuple[float, float]:
    """Multipliers ``low_u <= high_u`` whose seat totals enclose the target (or hit it)."""
    if p.bracketed:
        u = 1.0
    else:
        u = max((p.target - p.w.size * (0.5 - _OFFSET[p.method])) / p.wsum, 1e-300)
    low_u: float | None = None
    high_u: float | None = None
    low_s = high_s = 0
    same_side = 0
    for step in range(2000):
        s, slope = p.total_and_slope(u)
        if s == p.target:
            return u, u
        if s < p.target:
            low_u, low_s = u, s
        else:
            high_u, high_s = u, s
        newton = u + (p.target - s) / slope if slope > 0 else math.nan
        if low_u is not None and high_u is not None:
            # Close enough: the few units in between are ranked exactly afterwards (exact ties
            # between equal weights can make the count jump by many units at one divisor).
            if high_s - low_s <= max(64, p.w.size // 32) or high_u <= np.nextafter(
                np.nextafter(low_u, np.inf), np.inf
            ):
                return low_u, high_u
            nxt = newton
            if step % 3 == 2 or not (low_u < nxt < high_u):
                nxt = math.sqrt(low_u * high_u) if low_u > 0 else 0.5 * (low_u + high_u)
        else:
            # One side known: Newton step, accelerated (doubling the move) when it keeps
            # landing on the same side.
            same_side += 1
            grow = 2.0 ** min(max(same_side - 2, 0), 64)
            if low_u is None:
                nxt = u - grow * (u - newton) if newton < u else u / 2.0
                if not 0 < nxt < u:
                    nxt = u / 2.0
            else:
                nxt = u + grow * (newton - u) if newton > u else u * 2.0
        u = nxt
    raise ConfigError("internal error: could not bracket the divisor")  # pragma: no cover


def _undecided(
    p: _Problem, low_u: float, high_u: float
) -> tuple[IntArray, IntArray, IntArray, int]:
    """Guaranteed lower seats, and the units between them and the upper seats.

    Returns the candidate units (item, seat number) and how many of them are awarded.
    """
    lower = p.seats(low_u / (1.0 + 3.0 * _DELTA), 1.0 - 2.0 * _DELTA)
    k = p.target - _int_total(lower)
    wide, width = p.widths(high_u * (1.0 + 3.0 * _DELTA), 1.0 + 2.0 * _DELTA, lower)
    local = np.repeat(wide, width)
    offset = np.arange(local.size, dtype=np.int64) - np.repeat(np.cumsum(width) - width, width)
    return local, lower[local] + offset, lower, k


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
        np.minimum(y, float(NO_CAP), out=y)
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
    res = np.minimum(c, float(NO_CAP)).astype(np.int64)
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


def _log2(value: Fraction) -> float:
    """``log2`` of a positive fraction of any size (floats would overflow past 2**1024)."""
    return math.log2(value.numerator) - math.log2(value.denominator)


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
        order = sorted(live, key=lambda g: _log2(prio(g, mids[g])), reverse=True)
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
