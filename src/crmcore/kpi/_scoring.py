"""The scoring engine behind :func:`crmcore.kpi.score_scorecard` and the performance report.

Rows are sorted by (period, person) so each period is one contiguous run; every metric is
normalised within its run (target, minmax, zscore or percentile), clipped, weighted and added
up; totals are ranked within the run. Input checks run in the caller's row order, so messages
name the caller's row labels and argument name (``frame`` for ``score_scorecard``, ``kpis``
for ``performance_report``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

import crmcore._frames as fr
from crmcore.errors import DataError

if TYPE_CHECKING:
    from crmcore.kpi.scorecard import Metric, Scorecard

__all__ = ["CONSTANT_VALUE", "MISSING", "TOTAL_DECIMALS", "Scored", "group_rank", "score"]

MISSING: Final = ("raise", "zero")
#: Normalised value given to everyone when a minmax column is constant (or a group has one row).
CONSTANT_VALUE: Final = 0.5
#: Totals are rounded to this many decimals before ranking, so float noise cannot split ties.
TOTAL_DECIMALS: Final = 12
#: Floats of this size or more are whole numbers: rounding them to decimals changes nothing.
_WHOLE: Final = 2.0**52

Floats = npt.NDArray[np.float64]
Note = pd.Series | None


@attrs.frozen
class Scored:
    """Everything a scoring pass computed, rows sorted by (period, person)."""

    frame: pd.DataFrame  # the sorted key columns
    keys: list[str]
    raw: list[Floats]
    normalised: list[Floats]
    points: list[Floats]
    notes: list[pd.Series]
    total: Floats
    rank: npt.NDArray[np.int64]


@attrs.frozen
class _Groups:
    """Contiguous runs of sorted rows (one per period): code per row, start and size per run."""

    code: npt.NDArray[np.intp]
    starts: npt.NDArray[np.intp]
    sizes: npt.NDArray[np.intp]

    @classmethod
    def of(cls, code: npt.NDArray[np.intp]) -> _Groups:
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]]).astype(np.intp)
        sizes = np.diff(np.r_[starts, len(code)]).astype(np.intp)
        return cls(code=code, starts=starts, sizes=sizes)

    def spread(self, per_group: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """One value per group repeated over its rows."""
        return np.repeat(per_group, self.sizes)


def _fmt(values: npt.NDArray[Any]) -> pd.Series:
    """Format numbers with ``:g`` once per distinct value (there are few: one per period)."""
    uniq, inverse = np.unique(values, return_inverse=True)
    text = np.asarray([f"{v:.6g}" for v in uniq], dtype=object)
    return pd.Series(text[inverse.reshape(-1)], dtype=object)


def _rule(text: str, n: int) -> pd.Series:
    return pd.Series(text, index=range(n), dtype=object)


# --------------------------------------------------------------------------------------------
# ranks


def _run_order(
    key: Floats, group: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]] | None:
    """Sorting order by (group, value) and group starts in it, or None when not worth it."""
    n = key.shape[0]
    if not bool(np.all(group[1:] >= group[:-1])):
        return None
    group_start = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    # A Python loop over periods is cheap while runs are long; many short runs take the
    # single-sort path.
    if group_start.shape[0] > max(64, n >> 12):
        return None
    order = np.empty(n, dtype=np.intp)
    for lo, hi in itertools.pairwise(np.r_[group_start, n].tolist()):
        seg = np.argsort(key[lo:hi])
        seg += lo
        order[lo:hi] = seg
    return order, group_start


def _global_order(
    key: Floats, group: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Sort by value (NaN last), then stably by group: small codes make it a radix sort."""
    by_value = np.argsort(key)
    codes = group[by_value]
    n_groups = int(group.max()) + 1
    if n_groups <= np.iinfo(np.int16).max:
        codes = codes.astype(np.int16)
    elif n_groups <= np.iinfo(np.int32).max:
        codes = codes.astype(np.int32)
    order: npt.NDArray[np.intp] = by_value[np.argsort(codes, kind="stable")]
    g = group[order]
    return order, np.flatnonzero(np.r_[True, g[1:] != g[:-1]])


def group_rank(
    values: Floats,
    group: npt.NDArray[np.intp],
    *,
    method: str,
    descending: bool = False,
) -> Floats:
    """Rank within groups (1 = smallest, or largest when ``descending``); NaN stays NaN.

    ``method="average"`` gives tied values the mean of their ranks, ``"min"`` the lowest.
    When the groups are contiguous runs in ascending order (as :func:`score` builds them)
    and not too many, each run is sorted on its own: a few cache-sized sorts instead of one
    global sort plus a regroup, which is most of the time at 10M rows. Otherwise one sort
    over (group, value) for all groups at once.
    """
    n = values.shape[0]
    key = -values if descending else values
    if n == 0:
        return np.empty(0, dtype=np.float64)
    order, group_start = _run_order(key, group) or _global_order(key, group)
    v = key[order]
    new_block = np.empty(n, dtype=bool)
    new_block[0] = True
    np.not_equal(v[1:], v[:-1], out=new_block[1:])
    del v
    new_block[group_start] = True
    # Ranks per block of tied values (a block never spans two groups), then spread.
    block_start = np.flatnonzero(new_block)
    del new_block
    next_start = np.r_[block_start[1:], n]
    block_len = next_start - block_start
    block_end = next_start - 1
    group_block = np.searchsorted(block_start, group_start)
    first = np.repeat(group_start, np.diff(np.r_[group_block, block_start.shape[0]]))
    if method == "min":
        r_block = (block_start - first + 1).astype(np.float64)
    else:
        r_block = (block_start + block_end) / 2.0 - first + 1.0
    out = np.empty(n, dtype=np.float64)
    out[order] = np.repeat(r_block, block_len)
    out[np.isnan(values)] = np.nan
    return out


# --------------------------------------------------------------------------------------------
# normalisations: each returns the (unclipped) normalised values and, if asked, the rule


def _check_values(metric: Metric, values: Floats, frame: pd.DataFrame, person: str) -> None:
    """Refuse values a metric cannot normalise (``frame`` rows align with ``values``).

    Lower-is-better target metrics need values >= 0 (and > 0 without a cap); a fixed minmax
    scale must hold every value.
    """
    valid = ~np.isnan(values)
    if metric.normalisation == "target" and metric.direction != "higher":
        pos = fr.first_true(valid & (values < 0))
        if pos is not None:
            raise DataError(
                f"column {metric.column!r} has negative value {fr.show(values[pos])} at "
                f"{fr.describe_row(frame, pos, person)}; lower-is-better target metrics need "
                "values >= 0",
                column=metric.column,
                row=frame.index[pos],
                value=values[pos],
            )
        pos = None if metric.cap is not None else fr.first_true(valid & (values == 0))
        if pos is not None:
            raise DataError(
                f"column {metric.column!r} has value 0 at {fr.describe_row(frame, pos, person)}; "
                f"target / value is unbounded, give metric {metric.name!r} a cap",
                column=metric.column,
                row=frame.index[pos],
                value=0.0,
            )
    if metric.normalisation == "target" and metric.cap is None:
        _check_ratio(metric, values, valid, frame, person)
    if metric.normalisation == "minmax" and metric.scale is not None:
        low_v, high_v = metric.scale
        pos = fr.first_true(valid & ((values < low_v) | (values > high_v)))
        if pos is not None:
            raise DataError(
                f"column {metric.column!r} has value {fr.show(values[pos])} at "
                f"{fr.describe_row(frame, pos, person)} outside the scale "
                f"[{low_v:g}, {high_v:g}] of metric {metric.name!r}",
                column=metric.column,
                row=frame.index[pos],
                value=values[pos],
            )


def _check_ratio(
    metric: Metric, values: Floats, valid: npt.NDArray[np.bool_], frame: pd.DataFrame, person: str
) -> None:
    """Refuse a value whose ratio to the target is beyond the largest float (no cap to hold it)."""
    target = float(metric.target)  # type: ignore[arg-type]  # validated: set for 'target'
    with np.errstate(over="ignore", divide="ignore"):
        ratio = values / target if metric.direction == "higher" else target / values
    pos = fr.first_true(valid & np.isinf(ratio))
    if pos is not None:
        how = "value / target" if metric.direction == "higher" else "target / value"
        raise DataError(
            f"column {metric.column!r} has value {fr.show(values[pos])} at "
            f"{fr.describe_row(frame, pos, person)}; {how} with target {target:g} is beyond the "
            f"largest float: give metric {metric.name!r} a cap or a target in the values' scale",
            column=metric.column,
            row=frame.index[pos],
            value=values[pos],
        )


def _by_target(metric: Metric, values: Floats, explain: bool) -> tuple[Floats, Note]:
    """``value / target`` (or ``target / value``); values were checked by _check_values."""
    target = float(metric.target)  # type: ignore[arg-type]  # validated: set for 'target'
    if metric.direction == "higher":
        with np.errstate(over="ignore"):  # beyond the largest float: only with a cap (checked)
            x = values / target
        return x, _rule(f"value / target {target:.6g}", len(x)) if explain else None
    zero = values == 0
    with np.errstate(divide="ignore", over="ignore"):
        x = np.where(zero, np.inf, target / np.where(zero, 1.0, values))
    return x, _rule(f"target {target:.6g} / value", len(x)) if explain else None


def _minmax_bounds(
    metric: Metric, values: Floats, groups: _Groups
) -> tuple[Floats | float, Floats | float, str]:
    """Low and high bound: the metric's fixed scale, or per row the period's min and max."""
    if metric.scale is None:
        low = groups.spread(np.fmin.reduceat(values, groups.starts))
        high = groups.spread(np.fmax.reduceat(values, groups.starts))
        return low, high, "observed"
    low_v, high_v = metric.scale
    return float(low_v), float(high_v), "scale"


def _by_minmax(
    metric: Metric, values: Floats, groups: _Groups, explain: bool
) -> tuple[Floats, Note]:
    low, high, where = _minmax_bounds(metric, values, groups)
    higher = metric.direction == "higher"
    with np.errstate(over="ignore"):  # values of both signs near 1.8e308: halved just below
        span = np.subtract(high, low)
    v, lo, hi = values, low, high
    if np.isinf(span).any():  # the position in [low, high] is the same in half the scale
        half = np.where(np.isinf(span), 0.5, 1.0)  # exact, but for subnormal values
        v, lo, hi = values * half, np.multiply(low, half), np.multiply(high, half)
        span = hi - lo
    flat = ~(span > 0)
    safe = np.where(flat, 1.0, span)
    x = (v - lo) / safe if higher else (hi - v) / safe
    x = np.where(flat, CONSTANT_VALUE, x)
    if not explain:
        return x, None
    lo_t = _fmt(np.broadcast_to(low, values.shape))
    hi_t = _fmt(np.broadcast_to(high, values.shape))
    if higher:
        note = "(value - " + lo_t + ") / (" + hi_t + " - " + lo_t + "), " + where
    else:
        note = "(" + hi_t + " - value) / (" + hi_t + " - " + lo_t + "), " + where
    return x, note.where(
        ~np.broadcast_to(flat, values.shape), f"constant column: {CONSTANT_VALUE:g}"
    )


def _valid_counts(valid: npt.NDArray[np.bool_], groups: _Groups) -> Floats:
    """Count the non-NaN values per group (no NaN mask pass when nothing is missing)."""
    if bool(valid.all()):
        sizes: Floats = groups.sizes.astype(np.float64)
        return sizes
    weights = valid.astype(np.float64)
    counts = np.bincount(groups.code, weights=weights, minlength=len(groups.starts))
    return np.asarray(counts, dtype=np.float64)


def _by_zscore(
    metric: Metric, values: Floats, groups: _Groups, explain: bool
) -> tuple[Floats, Note]:
    # Groups are contiguous runs: spread group values with np.repeat, and skip the NaN masks
    # when nothing is missing (same numbers, fewer passes).
    valid = ~np.isnan(values)
    all_valid = bool(valid.all())
    cnt = np.maximum(_valid_counts(valid, groups), 1.0)
    filled = values if all_valid else np.where(valid, values, 0.0)
    n_groups = len(groups.starts)
    mean = groups.spread(np.bincount(groups.code, weights=filled, minlength=n_groups) / cnt)
    dev = values - mean if all_valid else np.where(valid, values - mean, 0.0)
    std_g = np.sqrt(np.bincount(groups.code, weights=dev * dev, minlength=n_groups) / cnt)
    std = groups.spread(std_g)
    if bool((std_g > 0).all()):
        flat = np.zeros(len(values), dtype=bool)
        x = dev / std
    else:
        flat = ~(std > 0)
        x = np.where(flat, 0.0, dev / np.where(flat, 1.0, std))
    higher = metric.direction == "higher"
    if not higher:
        x = -x
    if not explain:
        return x, None
    note = ("" if higher else "-") + "(value - " + _fmt(mean) + ") / " + _fmt(std)
    return x, note.where(~flat, "constant column: 0")


def _by_percentile(
    metric: Metric, values: Floats, groups: _Groups, explain: bool
) -> tuple[Floats, Note]:
    r = group_rank(values, groups.code, method="average")
    n_valid = groups.spread(_valid_counts(~np.isnan(values), groups))
    single = n_valid <= 1
    x = np.where(single, CONSTANT_VALUE, (r - 1.0) / np.where(single, 1.0, n_valid - 1.0))
    higher = metric.direction == "higher"
    if not higher:
        x = 1.0 - x
    if not explain:
        return x, None
    rule = "(rank - 1) / (n - 1)" if higher else "1 - (rank - 1) / (n - 1)"
    note = _rule(rule + ", n=", len(x)) + _fmt(n_valid)
    return x, note.where(~single, f"one value: {CONSTANT_VALUE:g}")


def _normalise(
    metric: Metric, values: Floats, groups: _Groups, explain: bool
) -> tuple[Floats, Note]:
    """Return the (unclipped) normalised values and, if asked, the note describing the rule."""
    if metric.normalisation == "target":
        return _by_target(metric, values, explain)
    if metric.normalisation == "minmax":
        return _by_minmax(metric, values, groups, explain)
    if metric.normalisation == "zscore":
        return _by_zscore(metric, values, groups, explain)
    return _by_percentile(metric, values, groups, explain)


def _clip_and_weigh(
    metric: Metric, weight: float, values: Floats, x: Floats, note: Note
) -> tuple[Floats, Floats, Note]:
    """Clip the normalised values to [floor, cap]; points; the note completed."""
    lo = -np.inf if metric.floor is None else metric.floor
    hi = np.inf if metric.cap is None else metric.cap
    clipped = np.clip(x, lo, hi)
    nan = np.isnan(values)
    if nan.any():
        clipped = np.where(nan, np.nan, clipped)
        pts = np.where(nan, 0.0, weight * np.where(nan, 0.0, clipped))
    else:
        pts = weight * clipped
    if note is not None:
        if metric.cap is not None:
            note = note.where(~(x > hi), note + f", capped at {hi:g}")
        if metric.floor is not None:
            note = note.where(~(x < lo), note + f", floored at {lo:g}")
        note = note.where(~nan, "missing value: 0 points")
    return clipped, pts, note


# --------------------------------------------------------------------------------------------
# the scoring pass


def _sorted_keys(
    frame: pd.DataFrame, keys: Sequence[str], *, person: str, arg: str
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Row order by the keys and the group code (first key) of each row; duplicates refused.

    Each key is factorised once: the codes give the sort order, the periods and (adjacent
    equal codes after sorting) a cheap duplicate check; only a frame with a duplicate pays for
    ``duplicated`` to name the caller's first repeated row.
    """
    codes = [pd.factorize(frame[k], sort=True)[0] for k in keys]
    order = np.lexsort(tuple(reversed(codes)))
    same = np.ones(max(len(frame) - 1, 0), dtype=bool)
    for c in codes:
        cs = c[order]
        same &= cs[1:] == cs[:-1]
        del cs
    pos = fr.first_true(frame.duplicated(subset=list(keys)).to_numpy()) if same.any() else None
    del same
    if pos is not None:
        what = " and ".join(repr(k) for k in keys)
        raise DataError(
            f"{arg} has a second row for the same {what} at {fr.describe_row(frame, pos, person)}; "
            "expected one row per person" + ("" if len(keys) == 1 else " and period"),
            column=person,
            row=frame.index[pos],
            value=frame[person].iloc[pos],
        )
    group = np.zeros(len(frame), dtype=np.intp) if len(keys) == 1 else codes[0][order]
    return order, group.astype(np.intp)


def score(
    frame: pd.DataFrame,
    scorecard: Scorecard,
    *,
    person: str,
    period_column: str | None,
    missing: str,
    explain: bool,
    arg: str,
) -> Scored:
    """Score ``frame`` (the caller's argument ``arg``) on ``scorecard``, rows sorted by keys."""
    fr.check_choice(missing, "missing", MISSING)
    keys = [person] if period_column is None else [period_column, person]
    frame = fr.require_columns(frame, [*keys, *(m.column for m in scorecard.metrics)], arg=arg)
    for key in keys:
        fr.require_not_null(frame, key, arg=arg, key=person)
    order, group = _sorted_keys(frame, keys, person=person, arg=arg)
    # Validate in the caller's row order (messages name the caller's rows), then sort.
    raw_in = {
        m.column: fr.numeric_column(
            frame, m.column, arg=arg, key=person, allow_nan=(missing == "zero")
        )
        for m in scorecard.metrics
    }
    ordered = frame.iloc[order]
    groups = _Groups.of(group)
    raws: list[Floats] = []
    norms: list[Floats] = []
    points: list[Floats] = []
    notes: list[pd.Series] = []
    total = np.zeros(len(frame), dtype=np.float64)
    for metric, weight in zip(scorecard.metrics, scorecard.weights, strict=True):
        values = raw_in[metric.column][order]
        _check_values(metric, values, ordered, person)
        x, note = _normalise(metric, values, groups, explain)
        clipped, pts, note = _clip_and_weigh(metric, weight, values, x, note)
        if note is not None:
            notes.append(note)
        raws.append(values)
        norms.append(clipped)
        points.append(pts)
        total += pts
    # Totals are rounded to 12 decimals so that float noise (0.6 + 0.15 + 0.15 versus
    # 0.4 + 0.3 + 0.2) cannot split a tie; rounding keeps the order of the rest.
    total = _round_totals(total)
    # Rank within each group: 1 = highest total; equal totals share the lowest rank ("min").
    rank = group_rank(total, group, method="min", descending=True).astype(np.int64)
    return Scored(
        frame=ordered[keys].reset_index(drop=True),
        keys=keys,
        raw=raws,
        normalised=norms,
        points=points,
        notes=notes,
        total=total,
        rank=rank,
    )


#: Rows per chunk of the lean scoring pass (whole periods; temporaries stay cache-sized).
CHUNK: Final = 1 << 17


@attrs.frozen
class _Keyed:
    """Rows in key order: ``order`` (None when the input already is), period runs, the index."""

    order: npt.NDArray[np.intp] | None
    starts: npt.NDArray[np.intp]
    index: pd.Index


def _in_key_order(frame: pd.DataFrame, keys: Sequence[str]) -> bool:
    """Tell whether numeric or datetime keys strictly increase row by row (no duplicates)."""
    cols = [frame[k] for k in keys]
    if not all(isinstance(c.dtype, np.dtype) and c.dtype.kind in "iufM" for c in cols):
        return False
    arrays = [c.to_numpy() for c in cols]
    n = len(frame)
    for lo in range(0, max(n - 1, 0), CHUNK):
        hi = min(lo + CHUNK + 1, n)
        first = arrays[0][lo:hi]
        later = first[1:] > first[:-1]
        if len(arrays) == 2:
            second = arrays[1][lo:hi]
            later |= (first[1:] == first[:-1]) & (second[1:] > second[:-1])
        if not bool(later.all()):
            return False
    return True


def _small_range(n: int) -> npt.NDArray[np.signedinteger[Any]]:
    """``0..n-1`` in the integer type a MultiIndex keeps its codes in (no conversion copy)."""
    for dtype in (np.int8, np.int16, np.int32):
        if n <= np.iinfo(dtype).max:
            return np.arange(n, dtype=dtype)
    return np.arange(n, dtype=np.int64)


def _sorted_codes(values: pd.Series) -> tuple[npt.NDArray[Any], pd.Index]:
    """Codes in sorted order of the distinct values, and those values (as pd.factorize).

    Integer ids in a compact range are coded through a table over the range (no hashing).
    """
    arr = values.to_numpy()
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu" and len(arr):
        low = int(arr.min())
        span = int(arr.max()) - low + 1
        if span <= 2 * len(arr) + (1 << 16):
            present = np.zeros(span, dtype=bool)
            offsets = np.subtract(arr, low, dtype=np.int64)
            present[offsets] = True
            table = np.cumsum(present, dtype=np.int32)
            table -= 1
            distinct = np.flatnonzero(present)
            codes = table[offsets].astype(_small_range(len(distinct)).dtype, copy=False)
            wide = np.uint64 if arr.dtype.kind == "u" else np.int64
            levels = (distinct.astype(wide) + wide(low)).astype(arr.dtype)
            return codes, pd.Index(levels, name=values.name)
    codes_f, uniques = pd.factorize(values, sort=True)
    return codes_f, pd.Index(uniques, name=values.name)


def _starts(group_values: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """Start of each run of equal values."""
    change = np.empty(len(group_values), dtype=bool)
    change[:1] = True
    np.not_equal(group_values[1:], group_values[:-1], out=change[1:])
    return np.flatnonzero(change).astype(np.intp)


def _keyed(frame: pd.DataFrame, keys: Sequence[str], *, person: str, arg: str) -> _Keyed:
    """Key order, period runs and the result index (rows already in order pay no sort)."""
    n = len(frame)
    if _in_key_order(frame, keys):
        if len(keys) == 1:
            return _Keyed(None, np.zeros(min(n, 1), dtype=np.intp), pd.Index(frame[person]))
        periods = frame[keys[0]].to_numpy()
        starts = _starts(periods)
        sizes = np.diff(np.r_[starts, n])
        person_codes, person_levels = _sorted_codes(frame[person])
        index = pd.MultiIndex(
            levels=[pd.Index(periods[starts]), person_levels],  # type: ignore[list-item]  # stubs want sequences; Index is accepted
            codes=[np.repeat(_small_range(len(starts)), sizes), person_codes],  # type: ignore[list-item]  # numpy codes are accepted
            names=list(keys),
            verify_integrity=False,
        )
        return _Keyed(None, starts, index)
    order, group = _sorted_keys(frame, keys, person=person, arg=arg)
    ordered = frame[list(keys)].iloc[order].reset_index(drop=True)
    index = (
        pd.MultiIndex.from_frame(ordered)
        if len(keys) == 2
        else pd.Index(ordered[person], name=person)
    )
    return _Keyed(order, _starts(group), index)


def _chunks(starts: npt.NDArray[np.intp], n: int) -> list[tuple[int, _Groups]]:
    """Row ranges of whole periods, about CHUNK rows each, with their period runs."""
    cuts = np.searchsorted(starts, np.arange(CHUNK, n, CHUNK))
    bounds = np.unique(np.r_[0, starts[np.minimum(cuts, len(starts) - 1)], n]).tolist()
    out = []
    for lo, hi in itertools.pairwise(bounds):
        local = starts[(starts >= lo) & (starts < hi)] - lo
        sizes = np.diff(np.r_[local, hi - lo]).astype(np.intp)
        code = np.repeat(np.arange(len(local), dtype=np.intp), sizes)
        out.append((lo, _Groups(code=code, starts=local, sizes=sizes)))
    return out


def _round_totals(total: Floats) -> Floats:
    """Round ``total`` to :data:`TOTAL_DECIMALS` in place and return it.

    A total of 2**52 or more is a whole number already, and scaling it by ``10**12`` (as
    ``np.round`` does) would overflow near 1e297: such totals are kept as they are.

    Examples
    --------
    >>> _round_totals(np.array([0.1 + 0.2, 1e307]))
    array([3.e-001, 1.e+307])
    """
    large = ~(np.abs(total) < _WHOLE)  # NaN and infinities too
    if not large.any():
        return np.round(total, TOTAL_DECIMALS, out=total)
    kept = total[large]
    np.round(np.where(large, 0.0, total), TOTAL_DECIMALS, out=total)
    total[large] = kept
    return total


def score_frame(
    frame: pd.DataFrame,
    scorecard: Scorecard,
    *,
    person: str,
    period_column: str | None,
    missing: str,
    arg: str,
) -> pd.DataFrame:
    """Return the :func:`crmcore.kpi.score_scorecard` table of ``frame`` (``arg`` in errors).

    The same numbers as :func:`score`, in one pass over chunks of whole periods that writes
    each metric's points straight into the result's block: no sorted copy of the frame when
    its rows are already in key order, and no full-length temporaries beyond the metric
    columns being validated.
    """
    fr.check_choice(missing, "missing", MISSING)
    keys = [person] if period_column is None else [period_column, person]
    frame = fr.require_columns(frame, [*keys, *(m.column for m in scorecard.metrics)], arg=arg)
    for key in keys:
        fr.require_not_null(frame, key, arg=arg, key=person)
    keyed = _keyed(frame, keys, person=person, arg=arg)
    order = keyed.order
    ordered = frame if order is None else frame[[person]].iloc[order]
    columns = []
    for metric in scorecard.metrics:  # validated in the caller's row order, then sorted
        values = fr.numeric_column(
            frame, metric.column, arg=arg, key=person, allow_nan=missing == "zero"
        )
        values = values if order is None else values[order]
        _check_values(metric, values, ordered, person)
        columns.append(values)
    n, k = len(frame), len(scorecard.metrics)
    block = np.empty((k + 1, n), dtype=np.float64)
    rank = np.empty(n, dtype=np.int64)
    if n:
        for lo, groups in _chunks(keyed.starts, n):
            hi = lo + len(groups.code)
            total = block[k, lo:hi]
            total[:] = 0.0
            for i, (metric, weight) in enumerate(
                zip(scorecard.metrics, scorecard.weights, strict=True)
            ):
                values = columns[i][lo:hi]
                x, _ = _normalise(metric, values, groups, False)
                _, pts, _ = _clip_and_weigh(metric, weight, values, x, None)
                block[i, lo:hi] = pts
                total += pts
            _round_totals(total)
            ranks = group_rank(total, groups.code, method="min", descending=True)
            rank[lo:hi] = ranks
    names = [f"{m.name}_points" for m in scorecard.metrics] + ["total"]
    data: dict[str, npt.NDArray[Any]] = dict(zip(names, block, strict=True))
    data["rank"] = rank
    return pd.DataFrame(data, index=keyed.index, copy=False)
