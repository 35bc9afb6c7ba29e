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

from crmcore._frames import (
    check_choice,
    describe_row,
    first_true,
    numeric_column,
    require_columns,
    require_not_null,
    show,
)
from crmcore.errors import DataError

if TYPE_CHECKING:
    from crmcore.kpi.scorecard import Metric, Scorecard

__all__ = ["CONSTANT_VALUE", "MISSING", "TOTAL_DECIMALS", "Scored", "group_rank", "score"]

MISSING: Final = ("raise", "zero")
#: Normalised value given to everyone when a minmax column is constant (or a group has one row).
CONSTANT_VALUE: Final = 0.5
#: Totals are rounded to this many decimals before ranking, so float noise cannot split ties.
TOTAL_DECIMALS: Final = 12

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


def _by_target(
    metric: Metric, values: Floats, frame: pd.DataFrame, person: str, explain: bool
) -> tuple[Floats, Note]:
    target = float(metric.target)  # type: ignore[arg-type]  # validated: set for 'target'
    if metric.direction == "higher":
        x = values / target
        return x, _rule(f"value / target {target:.6g}", len(x)) if explain else None
    valid = ~np.isnan(values)
    pos = first_true(valid & (values < 0))
    if pos is not None:
        raise DataError(
            f"column {metric.column!r} has negative value {show(values[pos])} at "
            f"{describe_row(frame, pos, person)}; lower-is-better target metrics need "
            "values >= 0",
            column=metric.column,
            row=frame.index[pos],
            value=values[pos],
        )
    zero = valid & (values == 0)
    pos = None if metric.cap is not None else first_true(zero)
    if pos is not None:
        raise DataError(
            f"column {metric.column!r} has value 0 at {describe_row(frame, pos, person)}; "
            f"target / value is unbounded, give metric {metric.name!r} a cap",
            column=metric.column,
            row=frame.index[pos],
            value=0.0,
        )
    with np.errstate(divide="ignore"):
        x = np.where(zero, np.inf, target / np.where(zero, 1.0, values))
    return x, _rule(f"target {target:.6g} / value", len(x)) if explain else None


def _minmax_bounds(
    metric: Metric, values: Floats, groups: _Groups, frame: pd.DataFrame, person: str
) -> tuple[Floats, Floats, str]:
    """Low and high bound per row: the metric's fixed scale, or the period's min and max."""
    if metric.scale is None:
        low = groups.spread(np.fmin.reduceat(values, groups.starts))
        high = groups.spread(np.fmax.reduceat(values, groups.starts))
        return low, high, "observed"
    low_v, high_v = metric.scale
    pos = first_true(~np.isnan(values) & ((values < low_v) | (values > high_v)))
    if pos is not None:
        raise DataError(
            f"column {metric.column!r} has value {show(values[pos])} at "
            f"{describe_row(frame, pos, person)} outside the scale "
            f"[{low_v:g}, {high_v:g}] of metric {metric.name!r}",
            column=metric.column,
            row=frame.index[pos],
            value=values[pos],
        )
    return np.full(len(values), low_v), np.full(len(values), high_v), "scale"


def _by_minmax(
    metric: Metric,
    values: Floats,
    groups: _Groups,
    *,
    frame: pd.DataFrame,
    person: str,
    explain: bool,
) -> tuple[Floats, Note]:
    low, high, where = _minmax_bounds(metric, values, groups, frame, person)
    higher = metric.direction == "higher"
    span = high - low
    flat = ~(span > 0)
    safe = np.where(flat, 1.0, span)
    x = (values - low) / safe if higher else (high - values) / safe
    x = np.where(flat, CONSTANT_VALUE, x)
    if not explain:
        return x, None
    lo_t, hi_t = _fmt(low), _fmt(high)
    if higher:
        note = "(value - " + lo_t + ") / (" + hi_t + " - " + lo_t + "), " + where
    else:
        note = "(" + hi_t + " - value) / (" + hi_t + " - " + lo_t + "), " + where
    return x, note.where(~flat, f"constant column: {CONSTANT_VALUE:g}")


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
    metric: Metric,
    values: Floats,
    groups: _Groups,
    *,
    frame: pd.DataFrame,
    person: str,
    explain: bool,
) -> tuple[Floats, Note]:
    """Return the (unclipped) normalised values and, if asked, the note describing the rule."""
    if metric.normalisation == "target":
        return _by_target(metric, values, frame, person, explain)
    if metric.normalisation == "minmax":
        return _by_minmax(metric, values, groups, frame=frame, person=person, explain=explain)
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
    pos = first_true(frame.duplicated(subset=list(keys)).to_numpy()) if same.any() else None
    del same
    if pos is not None:
        what = " and ".join(repr(k) for k in keys)
        raise DataError(
            f"{arg} has a second row for the same {what} at {describe_row(frame, pos, person)}; "
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
    check_choice(missing, "missing", MISSING)
    keys = [person] if period_column is None else [period_column, person]
    frame = require_columns(frame, [*keys, *(m.column for m in scorecard.metrics)], arg=arg)
    for key in keys:
        require_not_null(frame, key, arg=arg, key=person)
    order, group = _sorted_keys(frame, keys, person=person, arg=arg)
    # Validate in the caller's row order (messages name the caller's rows), then sort.
    raw_in = {
        m.column: numeric_column(
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
        x, note = _normalise(metric, values, groups, frame=ordered, person=person, explain=explain)
        clipped, pts, note = _clip_and_weigh(metric, weight, values, x, note)
        if note is not None:
            notes.append(note)
        raws.append(values)
        norms.append(clipped)
        points.append(pts)
        total += pts
    # Totals are rounded to 12 decimals so that float noise (0.6 + 0.15 + 0.15 versus
    # 0.4 + 0.3 + 0.2) cannot split a tie; rounding keeps the order of the rest.
    total = np.round(total, TOTAL_DECIMALS)
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


def score_frame(
    frame: pd.DataFrame,
    scorecard: Scorecard,
    *,
    person: str,
    period_column: str | None,
    missing: str,
    arg: str,
) -> pd.DataFrame:
    """Return the :func:`crmcore.kpi.score_scorecard` table of ``frame`` (``arg`` in errors)."""
    scored = score(
        frame,
        scorecard,
        person=person,
        period_column=period_column,
        missing=missing,
        explain=False,
        arg=arg,
    )
    data: dict[str, Any] = {
        f"{m.name}_points": pts for m, pts in zip(scorecard.metrics, scored.points, strict=True)
    }
    data["total"] = scored.total
    data["rank"] = scored.rank
    index = (
        pd.MultiIndex.from_frame(scored.frame)
        if period_column is not None
        else pd.Index(scored.frame[person], name=person)
    )
    return pd.DataFrame(data, index=index)
