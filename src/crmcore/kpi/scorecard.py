"""Weighted scorecards: turn several KPIs into points, a total score and a rank per person.

A :class:`Metric` says which column to read, whether more is better, how to put the raw value on
a common scale (its *normalisation*) and how much it weighs. A :class:`Scorecard` is a tuple of
metrics whose weights sum to 1 (or are normalised on request). :func:`score_scorecard` scores
every person (within each period when a period column is given) and :func:`explain_scorecard`
shows, row by row, how each point was earned.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._compat import renamed_parameters
from crmcore._config import check_config_keys, named_float, named_opt_float, opt_float
from crmcore._frames import check_choice
from crmcore._memory import normal_pages
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.errors import ConfigError
from crmcore.kpi._scoring import score, score_frame

__all__ = ["Metric", "Scorecard", "explain_scorecard", "score_scorecard"]

DIRECTIONS = ("higher", "lower")
NORMALISATIONS = ("target", "minmax", "zscore", "percentile")
WEIGHT_TOLERANCE = 1e-9


def _scale(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray) or len(value) != 2:
        raise ConfigError(f"scale must be a pair (low, high), got {value!r}", value=value)
    low, high = opt_float(value[0]), opt_float(value[1])
    return (float(low), float(high))  # type: ignore[arg-type]  # opt_float of a number


# attrs converters that name their field in errors (a converter is not told its field)
def _weight(value: Any) -> float:
    return named_float(value, "weight")


def _target(value: Any) -> float | None:
    return named_opt_float(value, "target")


def _cap(value: Any) -> float | None:
    return named_opt_float(value, "cap")


def _floor(value: Any) -> float | None:
    return named_opt_float(value, "floor")


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

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    column: str
    weight: float = attrs.field(converter=_weight)
    direction: str = "higher"
    normalisation: str = "minmax"
    target: float | None = attrs.field(default=None, converter=_target)
    scale: tuple[float, float] | None = attrs.field(default=None, converter=_scale)
    cap: float | None = attrs.field(default=None, converter=_cap)
    floor: float | None = attrs.field(default=None, converter=_floor)
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

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

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


def _check_card(scorecard: object) -> Scorecard:
    if not isinstance(scorecard, Scorecard):
        raise ConfigError(
            f"scorecard must be a Scorecard, got {type(scorecard).__name__}", column="scorecard"
        )
    return scorecard


@renamed_parameters(period="period_column")
@normal_pages
def score_scorecard(
    frame: pd.DataFrame,
    scorecard: Scorecard,
    *,
    person: str = "person",
    period_column: str | None = None,
    missing: str = "raise",
) -> pd.DataFrame:
    """Score every person on a scorecard: points per metric, total and rank.

    Normalisations that compare people (minmax without ``scale``, zscore, percentile) compare
    them within each period when ``period_column`` is given, else across the whole frame.

    Parameters
    ----------
    frame
        One row per person (per person and period when ``period_column`` is given) holding a
        column for each metric.
    scorecard
        The :class:`Scorecard`.
    person
        Person column name.
    period_column
        Column holding the period of each row (any values that sort: dates, Periods,
        numbers); ``None`` scores the frame as one group (``period=`` before crmcore 0.2).
    missing
        ``"raise"`` (default): a NaN metric value is a :class:`~crmcore.errors.DataError`
        naming the row. ``"zero"``: a missing value earns 0 points for that metric and is
        left out of the group statistics (min, max, mean, ranks).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``person`` (or ``(period_column, person)``), sorted. Columns ``<name>_points``
        for each metric in scorecard order (``weight * clipped normalised value``), ``total`` (sum
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
    return score_frame(
        frame,
        _check_card(scorecard),
        person=person,
        period_column=period_column,
        missing=missing,
        arg="frame",
    )


@renamed_parameters(period="period_column")
def explain_scorecard(
    frame: pd.DataFrame,
    scorecard: Scorecard,
    *,
    person: str = "person",
    period_column: str | None = None,
    missing: str = "raise",
) -> pd.DataFrame:
    """Show how each point of :func:`score_scorecard` was earned: one row per person and metric.

    Parameters
    ----------
    frame, scorecard, person, period_column, missing
        As for :func:`score_scorecard`.

    Returns
    -------
    pandas.DataFrame
        Long table with columns ``person`` (and ``period_column`` first, when given), ``metric``
        (the metric name), ``value`` (raw), ``normalised`` (after cap and floor; NaN when missing),
        ``weight`` (as used), ``points`` (``weight * normalised``) and ``note`` (the rule with its
        numbers, e.g. ``"value / target 100, capped at 1.5"``). Sorted by the keys, then metrics in
        scorecard order, with a default ``RangeIndex``. The points of one person sum to their
        ``total``.

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
    scored = score(
        frame,
        _check_card(scorecard),
        person=person,
        period_column=period_column,
        missing=missing,
        explain=True,
        arg="frame",
    )
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
