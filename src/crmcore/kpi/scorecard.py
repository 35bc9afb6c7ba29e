"""Weighted scorecards: turn several KPIs into points, a total score and a rank per person.

A :class:`Metric` says which column to read, whether more is better, how to put the raw value on
a common scale (its *normalisation*) and how much it weighs. A :class:`Scorecard` is a tuple of
metrics whose weights sum to 1 (or are normalised on request). :func:`score_scorecard` scores
every person (within each period when a period column is given) and :func:`explain_scorecard`
shows, row by row, how each point was earned.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._config import as_float, check_config_keys, opt_float
from crmcore._frames import (
    check_choice,
    describe_row,
    first_true,
    numeric_column,
    require_columns,
    require_not_null,
    show,
)
from crmcore.errors import ConfigError, DataError

__all__ = ["Metric", "Scorecard", "explain_scorecard", "score_scorecard"]

DIRECTIONS = ("higher", "lower")
NORMALISATIONS = ("target", "minmax", "zscore", "percentile")
MISSING = ("raise", "zero")
WEIGHT_TOLERANCE = 1e-9
#: Normalised value given to everyone when a minmax column is constant (or a group has one row).
CONSTANT_VALUE = 0.5
#: Totals are rounded to this many decimals before ranking, so float noise cannot split ties.
TOTAL_DECIMALS = 12


def _scale(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray) or len(value) != 2:
        raise ConfigError(f"scale must be a pair (low, high), got {value!r}", value=value)
    low, high = opt_float(value[0]), opt_float(value[1])
    return (float(low), float(high))  # type: ignore[arg-type]  # opt_float of a number


@attrs.frozen(kw_only=True)
class Metric:
    """One line of a scorecard: a KPI column, its weight and how its values become points.

    The *normalised value* ``x`` of a raw value ``v`` depends on ``normalisation``:

    - ``"target"``: ``v / target`` (``direction="lower"``: ``target / v``; a value of 0 then
      earns ``cap``, and needs one). A ``cap`` of 1.5 stops credit at 150 % of target.
    - ``"minmax"``: ``(v - low) / (high - low)`` (lower-is-better: ``(high - v) / (high - low)``)
      where ``low, high`` are the fixed ``scale`` bounds when given (e.g. ``(1, 5)`` for a
      manager rating; values outside it are an error), otherwise the minimum and maximum of
      the column within the period. A constant column gives everyone 0.5.
    - ``"zscore"``: ``(v - mean) / std`` with the population standard deviation (``ddof=0``)
      within the period, negated for lower-is-better; a constant column gives 0.
    - ``"percentile"``: ``(r - 1) / (n - 1)`` where ``r`` is the average rank (ties share the
      average of their ranks) among the ``n`` values of the period, 1 = smallest;
      lower-is-better uses ``1 - x``. One value alone gives 0.5.

    Then ``x`` is clipped to ``[floor, cap]`` (each optional) and ``points = weight * x``.

    Parameters
    ----------
    column
        Column of the scored frame holding the raw values.
    weight
        Finite, >= 0.
    direction
        ``"higher"`` (more is better, the default) or ``"lower"`` (e.g. sales cycle days).
    normalisation
        ``"target"``, ``"minmax"`` (default), ``"zscore"`` or ``"percentile"``.
    target
        Required (> 0) for ``"target"``, not allowed otherwise.
    scale
        Fixed ``(low, high)`` bounds, ``low < high``; only for ``"minmax"``.
    cap, floor
        Optional upper and lower bounds on the normalised value; ``floor < cap``.
    name
        Label used in output (``<name>_points`` columns, the explanation); default ``column``.

    Raises
    ------
    ConfigError
        Any field out of range or not allowed with the chosen normalisation.

    Examples
    --------
    >>> from crmcore.kpi import Metric
    >>> m = Metric(column="revenue", weight=0.6, normalisation="target", target=50_000, cap=1.5)
    >>> m.name, m.cap
    ('revenue', 1.5)
    >>> Metric.from_dict(m.to_dict()) == m
    True
    """

    column: str
    weight: float = attrs.field(converter=as_float)
    direction: str = "higher"
    normalisation: str = "minmax"
    target: float | None = attrs.field(default=None, converter=opt_float)
    scale: tuple[float, float] | None = attrs.field(default=None, converter=_scale)
    cap: float | None = attrs.field(default=None, converter=opt_float)
    floor: float | None = attrs.field(default=None, converter=opt_float)
    name: str = attrs.field(default=attrs.Factory(lambda self: self.column, takes_self=True))

    def __attrs_post_init__(self) -> None:
        for field, text in (("column", self.column), ("name", self.name)):
            if not isinstance(text, str) or not text:
                raise ConfigError(
                    f"Metric {field} must be non-empty text, got {text!r}", column=field, value=text
                )
        label = f"metric {self.name!r}"
        if not (math.isfinite(self.weight) and self.weight >= 0):
            raise ConfigError(
                f"{label}: weight == {self.weight!r}, must be finite and >= 0",
                column="weight",
                value=self.weight,
            )
        check_choice(self.direction, f"{label}: direction", DIRECTIONS)
        check_choice(self.normalisation, f"{label}: normalisation", NORMALISATIONS)
        if self.normalisation == "target":
            if self.target is None or not (math.isfinite(self.target) and self.target > 0):
                raise ConfigError(
                    f"{label}: normalisation 'target' needs target > 0, got {self.target!r}",
                    column="target",
                    value=self.target,
                )
        elif self.target is not None:
            raise ConfigError(
                f"{label}: target is only used with normalisation 'target', not "
                f"{self.normalisation!r}",
                column="target",
                value=self.target,
            )
        if self.scale is not None:
            if self.normalisation != "minmax":
                raise ConfigError(
                    f"{label}: scale is only used with normalisation 'minmax', not "
                    f"{self.normalisation!r}",
                    column="scale",
                    value=self.scale,
                )
            low, high = self.scale
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ConfigError(
                    f"{label}: scale == {self.scale!r}, must be finite with low < high",
                    column="scale",
                    value=self.scale,
                )
        for field, bound in (("cap", self.cap), ("floor", self.floor)):
            if bound is not None and not math.isfinite(bound):
                raise ConfigError(
                    f"{label}: {field} == {bound!r}, must be finite", column=field, value=bound
                )
        if self.cap is not None and self.floor is not None and not self.floor < self.cap:
            raise ConfigError(
                f"{label}: floor == {self.floor!r} must be below cap == {self.cap!r}",
                column="floor",
                value=self.floor,
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form that :meth:`from_dict` reads back.

        Examples
        --------
        >>> from crmcore.kpi import Metric
        >>> Metric(column="rating", weight=1, scale=(1, 5)).to_dict()["scale"]
        [1.0, 5.0]
        """
        return {
            "column": self.column,
            "weight": self.weight,
            "direction": self.direction,
            "normalisation": self.normalisation,
            "target": self.target,
            "scale": None if self.scale is None else list(self.scale),
            "cap": self.cap,
            "floor": self.floor,
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Metric:
        """Rebuild a metric from :meth:`to_dict` output; unknown keys are an error.

        Examples
        --------
        >>> from crmcore.kpi import Metric
        >>> Metric.from_dict({"column": "calls", "weight": 0.2}).normalisation
        'minmax'
        """
        return cls(**check_config_keys(cls, data))


def _metrics(value: Any) -> tuple[Metric, ...]:
    if isinstance(value, Metric | str | Mapping):
        raise ConfigError("metrics must be a sequence of Metric objects")
    try:
        items = tuple(value)
    except TypeError:
        raise ConfigError(f"metrics must be a sequence of Metric objects, got {value!r}") from None
    for item in items:
        if not isinstance(item, Metric):
            raise ConfigError(
                f"metrics must hold Metric objects, got {type(item).__name__} {item!r}",
                value=item,
            )
    return items


@attrs.frozen(kw_only=True)
class Scorecard:
    """A weighted set of metrics whose points add up to one total score.

    Weights must sum to 1 (within ``1e-9``); pass ``normalise_weights=True`` to have them
    divided by their sum instead (the metrics keep the weights you gave; :attr:`weights` holds
    the ones used). With minmax or percentile metrics and no cap above 1 the total then lies in
    ``[0, 1]``.

    Parameters
    ----------
    metrics
        One or more :class:`Metric`; names must be unique.
    normalise_weights
        ``False`` (default): weights not summing to 1 are an error. ``True``: divide by the sum.

    Raises
    ------
    ConfigError
        No metrics, repeated names, weights summing to 0, or (without ``normalise_weights``)
        weights not summing to 1.

    Examples
    --------
    >>> from crmcore.kpi import Metric, Scorecard
    >>> card = Scorecard(metrics=[Metric(column="revenue", weight=3),
    ...                           Metric(column="rating", weight=1, scale=(1, 5))],
    ...                  normalise_weights=True)
    >>> card.weights
    (0.75, 0.25)
    >>> Scorecard(metrics=[Metric(column="revenue", weight=0.7)])
    Traceback (most recent call last):
    ...
    crmcore.errors.ConfigError: scorecard weights sum to 0.7, expected 1 (within 1e-09); ...
    """

    metrics: tuple[Metric, ...] = attrs.field(converter=_metrics)
    normalise_weights: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.metrics:
            raise ConfigError("a scorecard needs at least one metric", column="metrics")
        if not isinstance(self.normalise_weights, bool):
            raise ConfigError(
                f"normalise_weights must be True or False, got {self.normalise_weights!r}",
                column="normalise_weights",
                value=self.normalise_weights,
            )
        seen: set[str] = set()
        for m in self.metrics:
            if m.name in seen:
                raise ConfigError(
                    f"metric name {m.name!r} appears twice; give one of them another name=",
                    column="metrics",
                    value=m.name,
                )
            seen.add(m.name)
        total = math.fsum(m.weight for m in self.metrics)
        if total <= 0:
            raise ConfigError("scorecard weights are all zero; at least one must be positive")
        if not self.normalise_weights and abs(total - 1.0) > WEIGHT_TOLERANCE:
            raise ConfigError(
                f"scorecard weights sum to {total!r}, expected 1 (within {WEIGHT_TOLERANCE}); "
                "fix them or pass normalise_weights=True",
                column="weight",
                value=total,
            )

    @property
    def weights(self) -> tuple[float, ...]:
        """Weights used for scoring, in metric order (divided by their sum if normalising).

        Examples
        --------
        >>> from crmcore.kpi import Metric, Scorecard
        >>> Scorecard(metrics=[Metric(column="a", weight=1), Metric(column="b", weight=1)],
        ...           normalise_weights=True).weights
        (0.5, 0.5)
        """
        raw = [m.weight for m in self.metrics]
        if not self.normalise_weights:
            return tuple(raw)
        total = math.fsum(raw)
        return tuple(w / total for w in raw)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form that :meth:`from_dict` reads back.

        Examples
        --------
        >>> from crmcore.kpi import Metric, Scorecard
        >>> Scorecard(metrics=[Metric(column="a", weight=1)]).to_dict()["normalise_weights"]
        False
        """
        return {
            "metrics": [m.to_dict() for m in self.metrics],
            "normalise_weights": self.normalise_weights,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scorecard:
        """Rebuild a scorecard from :meth:`to_dict` output; unknown keys are an error.

        Examples
        --------
        >>> from crmcore.kpi import Scorecard
        >>> Scorecard.from_dict({"metrics": [{"column": "a", "weight": 1}]}).weights
        (1.0,)
        """
        fields = check_config_keys(cls, data)
        metrics = fields.get("metrics", ())
        if isinstance(metrics, Mapping | str) or not isinstance(metrics, Iterable):
            raise ConfigError("metrics must be a list of metric dicts")
        fields["metrics"] = [m if isinstance(m, Metric) else Metric.from_dict(m) for m in metrics]
        return cls(**fields)


# --------------------------------------------------------------------------------------------
# scoring


@attrs.frozen
class _Scored:
    frame: pd.DataFrame  # the sorted key columns
    keys: list[str]
    raw: list[npt.NDArray[np.float64]]
    normalised: list[npt.NDArray[np.float64]]
    points: list[npt.NDArray[np.float64]]
    notes: list[pd.Series]
    total: npt.NDArray[np.float64]
    rank: npt.NDArray[np.int64]


def _fmt(values: npt.NDArray[Any]) -> pd.Series:
    """Format numbers with ``:g`` once per distinct value (there are few: one per period)."""
    uniq, inverse = np.unique(values, return_inverse=True)
    text = np.asarray([f"{v:.6g}" for v in uniq], dtype=object)
    return pd.Series(text[inverse.reshape(-1)], dtype=object)


def _group_stat(
    values: npt.NDArray[np.float64],
    starts: npt.NDArray[np.intp],
    sizes: npt.NDArray[np.intp],
    op: str,
) -> npt.NDArray[np.float64]:
    """Per-row statistic of the row's contiguous group, ignoring NaN."""
    if op == "min":
        red = np.fmin.reduceat(values, starts)
    elif op == "max":
        red = np.fmax.reduceat(values, starts)
    else:  # pragma: no cover - internal
        raise AssertionError(op)
    return np.repeat(red, sizes)


def _group_rank(
    values: npt.NDArray[np.float64],
    group: npt.NDArray[np.intp],
    *,
    method: str,
    descending: bool = False,
) -> npt.NDArray[np.float64]:
    """Rank within groups (1 = smallest, or largest when ``descending``); NaN stays NaN.

    ``method="average"`` gives tied values the mean of their ranks, ``"min"`` the lowest.
    When the groups are contiguous runs in ascending order (as :func:`_score` builds them)
    and not too many, each run is sorted on its own: a few cache-sized sorts instead of one
    global sort plus a regroup, which is most of the time at 10M rows. Otherwise one sort
    over (group, value) for all groups at once.
    """
    n = values.shape[0]
    key = -values if descending else values
    if n == 0:
        return np.empty(0, dtype=np.float64)
    order: npt.NDArray[np.intp] | None = None
    contiguous = bool(np.all(group[1:] >= group[:-1]))
    if contiguous:
        group_start = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        # A Python loop over periods is cheap while runs are long; many short runs take
        # the single-sort path below.
        if group_start.shape[0] <= max(64, n >> 12):
            order = np.empty(n, dtype=np.intp)
            bounds = np.r_[group_start, n].tolist()
            for lo, hi in itertools.pairwise(bounds):
                seg = np.argsort(key[lo:hi])
                seg += lo
                order[lo:hi] = seg
    if order is None:
        # Sort by value (NaN last; the order among equal values does not matter, they share
        # a rank), then stably by group; small integer codes make the second sort a radix
        # sort.
        by_value = np.argsort(key)
        codes = group[by_value]
        n_groups = int(group.max()) + 1
        if n_groups <= np.iinfo(np.int16).max:
            codes = codes.astype(np.int16)
        elif n_groups <= np.iinfo(np.int32).max:
            codes = codes.astype(np.int32)
        order = by_value[np.argsort(codes, kind="stable")]
        g = group[order]
        group_start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
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


def _normalise(
    metric: Metric,
    *,
    values: npt.NDArray[np.float64],
    group: npt.NDArray[np.intp],
    starts: npt.NDArray[np.intp],
    sizes: npt.NDArray[np.intp],
    frame: pd.DataFrame,
    person: str,
    explain: bool,
) -> tuple[npt.NDArray[np.float64], pd.Series | None]:
    """Return the (unclipped) normalised values and, if asked, the note describing the rule."""
    higher = metric.direction == "higher"
    valid = ~np.isnan(values)
    n = values.shape[0]
    if metric.normalisation == "target":
        target = float(metric.target)  # type: ignore[arg-type]  # validated: set for 'target'
        if higher:
            x = values / target
            rule = f"value / target {target:.6g}"
        else:
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
            rule = f"target {target:.6g} / value"
        if not explain:
            return x, None
        return x, pd.Series(rule, index=range(n), dtype=object)
    if metric.normalisation == "minmax":
        if metric.scale is not None:
            low_v, high_v = metric.scale
            outside = valid & ((values < low_v) | (values > high_v))
            pos = first_true(outside)
            if pos is not None:
                raise DataError(
                    f"column {metric.column!r} has value {show(values[pos])} at "
                    f"{describe_row(frame, pos, person)} outside the scale "
                    f"[{low_v:g}, {high_v:g}] of metric {metric.name!r}",
                    column=metric.column,
                    row=frame.index[pos],
                    value=values[pos],
                )
            low = np.full(n, low_v)
            high = np.full(n, high_v)
            where = "scale"
        else:
            low = _group_stat(values, starts, sizes, "min")
            high = _group_stat(values, starts, sizes, "max")
            where = "observed"
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
        note = note.where(~flat, f"constant column: {CONSTANT_VALUE:g}")
        return x, note
    if metric.normalisation == "zscore":
        # Groups are contiguous runs (starts/sizes): spread group values with np.repeat, and
        # skip the NaN masks when nothing is missing (same numbers, fewer passes).
        all_valid = bool(valid.all())
        cnt: npt.NDArray[np.float64]
        if all_valid:
            cnt = sizes.astype(np.float64)
            filled = values
        else:
            cnt = np.bincount(group, weights=valid.astype(np.float64), minlength=len(starts))  # type: ignore[assignment]  # float64 with weights
            filled = np.where(valid, values, 0.0)
        sums = np.bincount(group, weights=filled, minlength=len(starts))
        mean_g = sums / np.maximum(cnt, 1.0)
        mean = np.repeat(mean_g, sizes)
        dev = values - mean if all_valid else np.where(valid, values - mean, 0.0)
        var_g = np.bincount(group, weights=dev * dev, minlength=len(starts)) / np.maximum(cnt, 1.0)
        std_g = np.sqrt(var_g)
        std = np.repeat(std_g, sizes)
        if bool((std_g > 0).all()):
            flat = np.zeros(n, dtype=bool)
            x = dev / std
        else:
            flat = ~(std > 0)
            x = np.where(flat, 0.0, dev / np.where(flat, 1.0, std))
        if not higher:
            x = -x
        if not explain:
            return x, None
        sign = "" if higher else "-"
        note = sign + "(value - " + _fmt(mean) + ") / " + _fmt(std)
        note = note.where(~flat, "constant column: 0")
        return x, note
    # percentile
    r = _group_rank(values, group, method="average")
    per_group = (
        sizes.astype(np.float64)
        if bool(valid.all())
        else np.bincount(group, weights=valid.astype(np.float64), minlength=len(starts))
    )
    n_valid: npt.NDArray[np.float64] = np.repeat(per_group, sizes)
    single = n_valid <= 1
    x = np.where(single, CONSTANT_VALUE, (r - 1.0) / np.where(single, 1.0, n_valid - 1.0))
    if not higher:
        x = 1.0 - x
    if not explain:
        return x, None
    rule = "(rank - 1) / (n - 1)" if higher else "1 - (rank - 1) / (n - 1)"
    note = pd.Series(rule + ", n=", index=range(n), dtype=object) + _fmt(n_valid)
    note = note.where(~single, f"one value: {CONSTANT_VALUE:g}")
    return x, note


def _score(
    frame: pd.DataFrame,
    scorecard: Scorecard,
    *,
    person: str,
    period: str | None,
    missing: str,
    explain: bool,
    arg: str = "frame",
) -> _Scored:
    if not isinstance(scorecard, Scorecard):
        raise ConfigError(
            f"scorecard must be a Scorecard, got {type(scorecard).__name__}", column="scorecard"
        )
    check_choice(missing, "missing", MISSING)
    keys = [person] if period is None else [period, person]
    columns = [*keys, *(m.column for m in scorecard.metrics)]
    require_columns(frame, columns, arg=arg)
    for key in keys:
        require_not_null(frame, key, arg=arg, key=person)
    # Factorise each key once: the codes give the sort order, the periods and (adjacent equal
    # codes after sorting) a cheap duplicate check; only a frame with a duplicate pays for
    # ``duplicated`` to name the caller's first repeated row.
    codes = [pd.factorize(frame[k], sort=True)[0] for k in keys]
    order = np.lexsort(tuple(reversed(codes)))
    same = np.ones(max(len(frame) - 1, 0), dtype=bool)
    for c in codes:
        cs = c[order]
        same &= cs[1:] == cs[:-1]
        del cs
    pos = first_true(frame.duplicated(subset=keys).to_numpy()) if same.any() else None
    del same
    if pos is not None:
        what = " and ".join(repr(k) for k in keys)
        raise DataError(
            f"{arg} has a second row for the same {what} at {describe_row(frame, pos, person)}; "
            "expected one row per person" + ("" if period is None else " and period"),
            column=person,
            row=frame.index[pos],
            value=frame[person].iloc[pos],
        )
    # Validate in the caller's row order (messages name the caller's rows), then sort.
    raw_in = {
        m.column: numeric_column(
            frame, m.column, arg=arg, key=person, allow_nan=(missing == "zero")
        )
        for m in scorecard.metrics
    }
    ordered = frame.iloc[order]
    if period is None:
        group = np.zeros(len(frame), dtype=np.intp)
    else:
        group = codes[0][order].astype(np.intp)
    del codes
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]).astype(np.intp)
    sizes = np.diff(np.r_[starts, len(group)]).astype(np.intp)
    raws: list[npt.NDArray[np.float64]] = []
    norms: list[npt.NDArray[np.float64]] = []
    points: list[npt.NDArray[np.float64]] = []
    notes: list[pd.Series] = []
    total = np.zeros(len(frame), dtype=np.float64)
    for metric, weight in zip(scorecard.metrics, scorecard.weights, strict=True):
        values = raw_in[metric.column][order]
        x, note = _normalise(
            metric,
            values=values,
            group=group,
            starts=starts,
            sizes=sizes,
            frame=ordered,
            person=person,
            explain=explain,
        )
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
            notes.append(note.where(~nan, "missing value: 0 points"))
        raws.append(values)
        norms.append(clipped)
        points.append(pts)
        total += pts
    # Totals are rounded to 12 decimals so that float noise (0.6 + 0.15 + 0.15 versus
    # 0.4 + 0.3 + 0.2) cannot split a tie; rounding keeps the order of the rest.
    total = np.round(total, TOTAL_DECIMALS)
    # Rank within each group: 1 = highest total; equal totals share the lowest rank ("min").
    rank = _group_rank(total, group, method="min", descending=True).astype(np.int64)
    return _Scored(
        frame=ordered[keys].reset_index(drop=True),
        keys=keys,
        raw=raws,
        normalised=norms,
        points=points,
        notes=notes,
        total=total,
        rank=rank,
    )


def score_scorecard(
    frame: pd.DataFrame,
    scorecard: Scorecard,
    *,
    person: str = "person",
    period: str | None = None,
    missing: str = "raise",
) -> pd.DataFrame:
    """Score every person on a scorecard: points per metric, total and rank.

    Normalisations that compare people (minmax without ``scale``, zscore, percentile) compare
    them within each period when ``period`` is given, else across the whole frame.

    Parameters
    ----------
    frame
        One row per person (per person and period when ``period`` is given) holding a column
        for each metric.
    scorecard
        The :class:`Scorecard`.
    person, period
        Key column names; ``period=None`` scores the frame as one group.
    missing
        ``"raise"`` (default): a NaN metric value is a :class:`~crmcore.errors.DataError`
        naming the row. ``"zero"``: a missing value earns 0 points for that metric and is
        left out of the group statistics (min, max, mean, ranks).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``person`` (or ``(period, person)``), sorted. Columns ``<name>_points`` for
        each metric in scorecard order (``weight * clipped normalised value``), ``total`` (sum
        of the points, rounded to 12 decimals so float noise cannot split a tie) and ``rank``
        (int64, 1 = highest total within the period; equal totals share the best rank of their
        block, the ``"min"`` method, so ranks read 1, 1, 3 — a permutation of ``1..n`` whenever
        totals are distinct).

    Raises
    ------
    SchemaError
        A key or metric column is missing, or the frame is empty.
    ColumnTypeError
        A metric column is not numeric.
    DataError
        Missing keys, a repeated person (and period), NaN metric values (unless
        ``missing="zero"``), infinities, values outside a metric's ``scale``, or a zero or
        negative value for a lower-is-better target metric without a cap.
    ConfigError
        ``scorecard`` is not a :class:`Scorecard` or ``missing`` is unknown.

    Examples
    --------
    >>> from crmcore.kpi import Metric, Scorecard, score_scorecard
    >>> card = Scorecard(metrics=[
    ...     Metric(column="revenue", weight=0.5, normalisation="target", target=100, cap=1.5),
    ...     Metric(column="cycle_days", weight=0.3, direction="lower"),
    ...     Metric(column="rating", weight=0.2, scale=(1, 5))])
    >>> team = pd.DataFrame({"person": ["ann", "bob", "cid"], "revenue": [120, 80, 200],
    ...                      "cycle_days": [30, 20, 40], "rating": [4, 5, 3]})
    >>> score_scorecard(team, card)
            revenue_points  cycle_days_points  rating_points  total  rank
    person
    ann               0.60               0.15            0.15   0.90     1
    bob               0.40               0.30            0.20   0.90     1
    cid               0.75               0.00            0.10   0.85     3
    """
    scored = _score(frame, scorecard, person=person, period=period, missing=missing, explain=False)
    data: dict[str, Any] = {
        f"{m.name}_points": pts for m, pts in zip(scorecard.metrics, scored.points, strict=True)
    }
    data["total"] = scored.total
    data["rank"] = scored.rank
    index = (
        pd.MultiIndex.from_frame(scored.frame)
        if period is not None
        else pd.Index(scored.frame[person], name=person)
    )
    return pd.DataFrame(data, index=index)


def explain_scorecard(
    frame: pd.DataFrame,
    scorecard: Scorecard,
    *,
    person: str = "person",
    period: str | None = None,
    missing: str = "raise",
) -> pd.DataFrame:
    """Show how each point of :func:`score_scorecard` was earned: one row per person and metric.

    Parameters
    ----------
    frame, scorecard, person, period, missing
        As for :func:`score_scorecard`.

    Returns
    -------
    pandas.DataFrame
        Long table with columns ``person`` (and ``period`` first, when given), ``metric`` (the
        metric name), ``value`` (raw), ``normalised`` (after cap and floor; NaN when missing),
        ``weight`` (as used), ``points`` (``weight * normalised``) and ``note`` (the rule with
        its numbers, e.g. ``"value / target 100, capped at 1.5"``). Sorted by the keys, then
        metrics in scorecard order, with a default ``RangeIndex``. The points of one person
        sum to their ``total``.

    Raises
    ------
    SchemaError, ColumnTypeError, DataError, ConfigError
        As for :func:`score_scorecard`.

    Examples
    --------
    >>> from crmcore.kpi import Metric, Scorecard, explain_scorecard
    >>> card = Scorecard(metrics=[
    ...     Metric(column="revenue", weight=0.8, normalisation="target", target=100, cap=1.5),
    ...     Metric(column="rating", weight=0.2, scale=(1, 5))])
    >>> team = pd.DataFrame({"person": ["ann", "bob"], "revenue": [200, 80], "rating": [4, 5]})
    >>> explain_scorecard(team, card)[["person", "metric", "value", "points", "note"]]
      person   metric  value  points                                     note
    0    ann  revenue  200.0    1.20  value / target 100, capped at 1.5
    1    ann   rating    4.0    0.15  (value - 1) / (5 - 1), scale
    2    bob  revenue   80.0    0.64  value / target 100
    3    bob   rating    5.0    0.20  (value - 1) / (5 - 1), scale
    """
    scored = _score(frame, scorecard, person=person, period=period, missing=missing, explain=True)
    n = len(scored.total)
    k = len(scorecard.metrics)
    keys = scored.frame.loc[np.repeat(np.arange(n), k)].reset_index(drop=True)

    def interleave(parts: Sequence[npt.NDArray[Any]]) -> npt.NDArray[Any]:
        return np.column_stack(parts).reshape(-1) if parts else np.empty(0)

    out = keys.assign(
        metric=np.tile(np.asarray([m.name for m in scorecard.metrics], dtype=object), n),
        value=interleave(scored.raw),
        normalised=interleave(scored.normalised),
        weight=np.tile(np.asarray(scorecard.weights, dtype=np.float64), n),
        points=interleave(scored.points),
        note=interleave([s.to_numpy(dtype=object) for s in scored.notes]),
    )
    out["metric"] = out["metric"].astype(object)
    out["note"] = out["note"].astype(object)
    return out
