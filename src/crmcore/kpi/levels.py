"""Levels (junior / mid / senior, or any labels) from scores, with optional hysteresis over time.

A *level scheme* is an ordered list of labels, lowest first, each with a lower bound. The bound
is either a score (``thresholds``) or a quantile of the period's scores (``quantiles``). A score
gets the highest label whose bound it reaches.

Over time, :func:`assign_levels_over_time` adds hysteresis: a person moves up only after
``promote_after`` consecutive periods above their current level, and down only after
``demote_after`` consecutive periods below it, so one good or bad month does not flip a grade.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._compat import renamed_parameters
from crmcore._frames import (
    check_choice,
    check_scalar,
    describe_row,
    first_true,
    numeric_column,
    quantile_scale,
    require_frame,
    require_not_null,
    require_one_id_type,
    show,
)
from crmcore.errors import ConfigError, DataError, SchemaError

__all__ = ["assign_levels", "assign_levels_over_time"]

#: The default level scheme: a total score of 0.8 or more is senior, 0.5 or more is mid.
DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType(
    {"junior": 0.0, "mid": 0.5, "senior": 0.8}
)


def _labelled_bounds(
    kind: str, spec: Any, labels: Sequence[str] | None
) -> tuple[tuple[str, ...], list[Any]]:
    """Return the level labels and raw bounds of a mapping, or of a sequence with labels."""
    if isinstance(spec, Mapping):
        if labels is not None:
            raise ConfigError(
                f"labels are taken from the keys of {kind}; do not pass labels= as well",
                column="labels",
            )
        return tuple(spec.keys()), list(spec.values())
    if isinstance(spec, str):
        raise ConfigError(f"{kind} must be a mapping or a sequence of numbers", column=kind)
    raw = list(spec)
    if labels is None or isinstance(labels, str):
        raise ConfigError(
            f"{kind} given as a sequence needs labels= (one label per bound, lowest first)",
            column="labels",
        )
    names = tuple(labels)
    if len(names) != len(raw):
        raise ConfigError(
            f"{kind} has {len(raw)} bounds but labels has {len(names)} labels",
            column="labels",
        )
    return names, raw


def _checked_bounds(
    kind: str, names: tuple[str, ...], raw: Sequence[Any]
) -> npt.NDArray[np.float64]:
    """Return the bounds as floats, strictly increasing; quantiles from 0 to at most 1."""
    bounds: list[float] = []
    for name, b in zip(names, raw, strict=True):
        if isinstance(b, bool) or not isinstance(b, int | float | np.number) or math.isnan(b):
            raise ConfigError(f"{kind}[{name!r}] == {b!r}, must be a number", column=kind, value=b)
        bounds.append(float(b))
    arr = np.asarray(bounds, dtype=np.float64)
    pos = first_true(np.diff(arr) <= 0)
    if pos is not None:
        raise ConfigError(
            f"{kind} must increase strictly from the lowest level to the highest; "
            f"{names[pos + 1]!r} ({arr[pos + 1]:g}) is not above {names[pos]!r} ({arr[pos]:g})",
            column=kind,
            value=float(arr[pos + 1]),
        )
    if kind == "thresholds":
        if np.isinf(arr[1:]).any():
            raise ConfigError(
                "only the lowest threshold may be infinite (use -inf to catch every score)",
                column="thresholds",
            )
        return arr
    if arr[0] != 0.0:
        raise ConfigError(
            f"quantiles[{names[0]!r}] == {arr[0]:g}; the lowest level must start at "
            "quantile 0 so that everyone gets a level",
            column="quantiles",
            value=float(arr[0]),
        )
    if arr[-1] > 1.0:
        raise ConfigError(
            f"quantiles[{names[-1]!r}] == {arr[-1]:g}, must be <= 1",
            column="quantiles",
            value=float(arr[-1]),
        )
    return arr


def _scheme(
    thresholds: Mapping[str, float] | Sequence[float] | None,
    quantiles: Mapping[str, float] | Sequence[float] | None,
    labels: Sequence[str] | None,
) -> tuple[str, tuple[str, ...], npt.NDArray[np.float64]]:
    """Return ``(kind, labels, bounds)`` after validation."""
    if thresholds is not None and quantiles is not None:
        raise ConfigError("give thresholds or quantiles, not both", column="quantiles")
    kind = "quantiles" if quantiles is not None else "thresholds"
    spec: Any = quantiles if quantiles is not None else thresholds
    names, raw = _labelled_bounds(kind, DEFAULT_THRESHOLDS if spec is None else spec, labels)
    if not names:
        raise ConfigError(f"{kind} is empty; expected at least one level", column=kind)
    for name in names:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"level labels must be non-empty text, got {name!r}", value=name)
    if len(set(names)) != len(names):
        raise ConfigError(f"level labels repeat: {list(names)}", column="labels")
    return kind, names, _checked_bounds(kind, names, raw)


def _key_values(frame: pd.DataFrame, name: str, *, arg: str) -> pd.Series:
    """Values of a column, or of an index level, as a Series aligned with the rows."""
    if name in frame.columns:
        return frame[name].reset_index(drop=True)
    if name in (frame.index.names or []):
        return pd.Series(frame.index.get_level_values(name)).reset_index(drop=True)
    have = ", ".join(repr(c) for c in frame.columns)
    raise SchemaError(
        f"{arg} has no column or index level {name!r}; it has columns {have}", column=name
    )


def _codes(
    values: npt.NDArray[np.float64],
    *,
    group: npt.NDArray[np.intp] | None,
    kind: str,
    bounds: npt.NDArray[np.float64],
    frame: pd.DataFrame,
    score: str,
    arg: str,
) -> npt.NDArray[np.intp]:
    """Level code (0 = lowest label) of each score."""
    if kind == "thresholds":
        low = values < bounds[0]
        pos = first_true(low)
        if pos is not None:
            raise DataError(
                f"{arg} has {score} {show(values[pos])} at {describe_row(frame, pos)} below the "
                f"lowest threshold {bounds[0]:g}; lower that threshold (e.g. to -inf) to cover it",
                column=score,
                row=frame.index[pos],
                value=values[pos],
            )
        return (np.searchsorted(bounds, values, side="right") - 1).astype(np.intp)
    # Scaled as every quantile in crmcore is, so a spread past the largest float stays finite.
    scale = quantile_scale(values.min(), values.max()) if len(values) else 1.0
    s = pd.Series(values * scale if scale != 1.0 else values)
    groups = np.zeros(len(values), dtype=np.intp) if group is None else group
    grouped = s.groupby(groups, sort=True)
    codes = np.zeros(len(values), dtype=np.intp)
    for q in bounds[1:]:
        # Group codes are 0 .. G-1, so the sorted per-group quantiles line up with them.
        cut = grouped.quantile(float(q)).to_numpy(dtype=np.float64)[groups] / scale
        codes += (values >= cut).astype(np.intp)
    return codes


def _levels(codes: npt.NDArray[np.intp], names: tuple[str, ...]) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(names)), ordered=True)


@renamed_parameters(period="period_column")
def assign_levels(
    scores: pd.DataFrame,
    *,
    thresholds: Mapping[str, float] | Sequence[float] | None = None,
    quantiles: Mapping[str, float] | Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
    score: str = "total",
    period_column: str | None = None,
) -> pd.DataFrame:
    """Give each row the highest level whose lower bound its score reaches.

    Parameters
    ----------
    scores
        A table with a numeric ``score`` column, e.g. the output of
        :func:`~crmcore.kpi.score_scorecard`.
    thresholds
        ``{label: lowest score}`` from the lowest level to the highest, strictly increasing
        (default :data:`DEFAULT_THRESHOLDS`: junior from 0, mid from 0.5, senior from 0.8), or a
        sequence of bounds together with ``labels``. A score below the lowest bound is an error
        (use ``-inf`` as the lowest bound to accept any score).
    quantiles
        Instead of ``thresholds``: ``{label: quantile}`` in ``[0, 1]``, first 0; the bound of a
        level is that quantile (linear interpolation) of the scores of the period. With
        ``{"junior": 0, "mid": 0.5, "senior": 0.8}`` the top 20 % are senior. Equal scores
        always get the same level.
    labels
        Level labels, lowest first, when the bounds are a plain sequence.
    score
        Score column (default ``"total"``).
    period_column
        Column or index level to compute quantiles within; ``None`` = the whole table
        (``period=`` before crmcore 0.2).

    Returns
    -------
    pandas.DataFrame
        A copy of ``scores`` with a ``level`` column added (ordered categorical, lowest label
        first), same index and row order.

    Raises
    ------
    SchemaError
        The score (or period) column is missing, or the table is empty.
    DataError
        NaN scores, or a score below the lowest threshold.
    ConfigError
        Both ``thresholds`` and ``quantiles``, bounds not strictly increasing, labels missing or
        repeated, quantiles outside ``[0, 1]`` or not starting at 0.

    Examples
    --------
    >>> from crmcore.kpi import assign_levels
    >>> s = pd.DataFrame({"total": [0.3, 0.55, 0.9, 0.8]}, index=["ann", "bob", "cid", "dee"])
    >>> assign_levels(s)["level"].tolist()
    ['junior', 'mid', 'senior', 'senior']
    >>> assign_levels(s, quantiles={"C": 0, "B": 0.5, "A": 0.9})["level"].tolist()
    ['C', 'C', 'A', 'B']
    """
    arg = "scores"
    scores = require_frame(scores, arg=arg)
    kind, names, bounds = _scheme(thresholds, quantiles, labels)
    if score not in scores.columns:
        have = ", ".join(repr(c) for c in scores.columns) or "no columns"
        raise SchemaError(f"{arg} is missing column {score!r}; it has {have}", column=score)
    if len(scores) == 0:
        raise SchemaError(f"{arg} is empty; expected at least one row")
    values = numeric_column(scores, score, arg=arg)
    group = None
    if period_column is not None:
        group = pd.factorize(_key_values(scores, period_column, arg=arg), sort=True)[0].astype(
            np.intp
        )
    codes = _codes(
        values, group=group, kind=kind, bounds=bounds, frame=scores, score=score, arg=arg
    )
    out = scores.copy()
    out["level"] = _levels(codes, names)
    return out


@renamed_parameters(period="period_column")
def assign_levels_over_time(
    history: pd.DataFrame,
    *,
    person: str = "person",
    period_column: str = "period",
    score: str = "total",
    thresholds: Mapping[str, float] | Sequence[float] | None = None,
    quantiles: Mapping[str, float] | Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
    promote_after: int = 1,
    demote_after: int = 1,
    initial: str = "raw",
) -> pd.DataFrame:
    """Assign levels period by period with hysteresis: move only after a run of evidence.

    Each period's *raw level* is what :func:`assign_levels` gives (quantiles are taken within
    the period). A person's level starts at the raw level of their first period
    (``initial="raw"``) or at the lowest label (``initial="lowest"``, where that first period
    already counts towards a promotion). Afterwards they move up
    once their raw level has been above their current level in ``promote_after`` consecutive
    periods, to the lowest raw level of that run (the level they held throughout); moving down
    after ``demote_after`` consecutive periods below works the same way, to the highest raw level
    of the run. A period in which the person has no score, or whose raw level equals the current
    one, ends a run. With both counts at 1 the level is the raw level.

    The computation loops over periods (few) and is vectorised over people.

    Parameters
    ----------
    history
        One row per person and period with a ``score``; ``person`` and ``period_column`` may
        be columns or index levels (the output of :func:`~crmcore.kpi.score_scorecard` with a
        period column).
    person, period_column, score
        Column (or index level) names (``period=`` before crmcore 0.2).
    thresholds, quantiles, labels
        The level scheme, as for :func:`assign_levels`.
    promote_after, demote_after
        Consecutive periods needed to move up / down; integers >= 1.
    initial
        ``"raw"`` (default) or ``"lowest"``: the level of a person's first period.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(period_column, person)``, sorted. Columns ``score``, ``raw_level`` and
        ``level`` (both ordered categoricals, lowest label first).

    Raises
    ------
    SchemaError
        A column is missing or the table is empty.
    DataError
        Missing keys, a repeated person and period, NaN scores, or a score below the lowest
        threshold.
    ConfigError
        A bad level scheme, ``promote_after`` / ``demote_after`` not an integer >= 1, or an
        unknown ``initial``.

    Examples
    --------
    >>> from crmcore.kpi import assign_levels_over_time
    >>> h = pd.DataFrame({"person": ["ann"] * 4, "period": [1, 2, 3, 4],
    ...                   "total": [0.4, 0.6, 0.7, 0.3]})
    >>> out = assign_levels_over_time(h, promote_after=2, demote_after=2)
    >>> out["level"].tolist()
    ['junior', 'junior', 'mid', 'mid']
    >>> out["raw_level"].tolist()
    ['junior', 'mid', 'mid', 'junior']
    """
    arg = "history"
    history = require_frame(history, arg=arg)
    kind, names, bounds = _scheme(thresholds, quantiles, labels)
    check_scalar(promote_after, "promote_after", kind=int, min_value=1)
    check_scalar(demote_after, "demote_after", kind=int, min_value=1)
    check_choice(initial, "initial", ("raw", "lowest"))
    if len(history) == 0:
        raise SchemaError(f"{arg} is empty; expected at least one row")
    period = period_column
    flat = _history(history, person=person, period=period, score=score, arg=arg)
    values = numeric_column(flat, score, arg=arg, key=person)
    t_codes, t_uniques = pd.factorize(flat[period], sort=True)
    p_codes, p_uniques = pd.factorize(flat[person], sort=True)
    raw = _codes(
        values,
        group=t_codes.astype(np.intp),
        kind=kind,
        bounds=bounds,
        frame=flat,
        score=score,
        arg=arg,
    )
    grid = np.full((len(p_uniques), len(t_uniques)), -1, dtype=np.intp)
    grid[p_codes, t_codes] = raw
    level = _hysteresis(
        grid, promote_after=promote_after, demote_after=demote_after, initial=initial
    )
    final = level[p_codes, t_codes]
    order = np.lexsort((p_codes, t_codes))
    index = pd.MultiIndex.from_arrays(
        [flat[period].to_numpy()[order], flat[person].to_numpy()[order]], names=[period, person]
    )
    return pd.DataFrame(
        {
            "score": values[order],
            "raw_level": _levels(raw[order], names),
            "level": _levels(final[order], names),
        },
        index=index,
    )


def _history(
    history: pd.DataFrame, *, person: str, period: str, score: str, arg: str
) -> pd.DataFrame:
    """Return the keys and score as columns (from columns or levels), one row per key pair."""
    flat = pd.DataFrame(
        {
            person: _key_values(history, person, arg=arg),
            period: _key_values(history, period, arg=arg),
            score: _key_values(history, score, arg=arg),
        }
    )
    flat.index = history.index
    for key in (person, period):
        require_not_null(flat, key, arg=arg, key=person)
        require_one_id_type(flat, key, arg=arg, key=person)
    pos = first_true(flat.duplicated(subset=[person, period]).to_numpy())
    if pos is not None:
        raise DataError(
            f"{arg} has a second row for person {show(flat[person].iloc[pos])} and period "
            f"{show(flat[period].iloc[pos])} at {describe_row(flat, pos)}; expected one row per "
            "person and period",
            column=person,
            row=flat.index[pos],
            value=flat[person].iloc[pos],
        )
    return flat


def _hysteresis(
    grid: npt.NDArray[np.intp], *, promote_after: int, demote_after: int, initial: str
) -> npt.NDArray[np.intp]:
    """Level codes per (person, period) from raw codes (-1 = no score), moving after runs.

    The loop is over periods (few) and vectorised over people.
    """
    n_people, n_periods = grid.shape
    level = np.full((n_people, n_periods), -1, dtype=np.intp)
    current = np.full(n_people, -1, dtype=np.intp)
    up_run = np.zeros(n_people, dtype=np.int64)
    up_low = np.zeros(n_people, dtype=np.intp)
    down_run = np.zeros(n_people, dtype=np.int64)
    down_high = np.zeros(n_people, dtype=np.intp)
    for t in range(n_periods):
        col = grid[:, t]
        present = col >= 0
        new = present & (current < 0)
        current = np.where(new, col if initial == "raw" else 0, current)
        # A first period counts as evidence too (it only matters with initial="lowest").
        up = present & (col > current)
        down = present & (col < current)
        up_low = np.where(up, np.where(up_run > 0, np.minimum(up_low, col), col), up_low)
        up_run = np.where(up, up_run + 1, 0)
        down_high = np.where(
            down, np.where(down_run > 0, np.maximum(down_high, col), col), down_high
        )
        down_run = np.where(down, down_run + 1, 0)
        promote = up_run >= promote_after
        demote = down_run >= demote_after
        current = np.where(promote, up_low, np.where(demote, down_high, current))
        up_run = np.where(promote, 0, up_run)
        down_run = np.where(demote, 0, down_run)
        level[:, t] = np.where(present, current, -1)
    return level
