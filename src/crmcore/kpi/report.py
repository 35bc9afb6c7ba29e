"""Performance report: KPIs, attainment, score, rank, level and change per person and period.

:func:`kpi_table` gathers one row of KPIs per person and period from the opportunity, target,
feedback and activity tables (with the metric functions of :mod:`crmcore.kpi`).
:func:`performance_report` scores those rows on a :class:`~crmcore.kpi.Scorecard`, ranks people
within each period, assigns levels (with optional hysteresis) and adds the change of every
figure against the person's previous period.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmcore._compat import renamed_parameters
from crmcore._frames import (
    numeric_column,
    require_columns,
    require_frame,
    require_not_null,
)
from crmcore.errors import ColumnTypeError, ConfigError, DataError, SchemaError
from crmcore.kpi._groups import PERIOD, key_or_none, read_periods, same_period_unit
from crmcore.kpi._scoring import score_frame
from crmcore.kpi.attainment import attainment
from crmcore.kpi.levels import assign_levels_over_time
from crmcore.kpi.metrics import activity_counts, sales_cycle_length, win_rate
from crmcore.kpi.scorecard import Scorecard

__all__ = ["kpi_table", "performance_report"]

ARG = "opportunities"
_FEEDBACK_WHAT = (
    "numeric scores (kpi_table averages every column of feedback but the person and period "
    "columns: leave text columns out)"
)


def _feedback_means(feedback: pd.DataFrame, *, person: str, period: str) -> pd.DataFrame:
    """Mean of every feedback column per person and period; text and dates are refused.

    Text holding numbers (``"4"``, as CSV files give) is read as numbers, like every numeric
    column in crmcore; other text (``"good"``) is a ColumnTypeError naming the row.
    """
    arg = "feedback"
    feedback = require_columns(feedback, [person, PERIOD], arg=arg)
    # a missing person or period would drop the row silently in the groupby below
    require_not_null(feedback, person, arg=arg)
    columns = [c for c in feedback.columns if c not in (person, PERIOD)]
    data: dict[Any, Any] = {
        person: feedback[person].to_numpy(),
        PERIOD: read_periods(feedback, PERIOD, arg=arg, period=period, key=person).array,
    }
    for col in columns:
        if feedback[col].dtype.kind in "mM":
            raise ColumnTypeError(
                f"column {col!r} of {arg} holds {feedback[col].dtype} values; expected "
                + _FEEDBACK_WHAT,
                column=str(col),
            )
        data[col] = numeric_column(
            feedback, col, arg=arg, key=person, allow_nan=True, what=_FEEDBACK_WHAT
        )
    return pd.DataFrame(data).groupby([person, PERIOD])[columns].mean()


def _on(out: pd.DataFrame, part: pd.DataFrame, *, arg: str) -> pd.DataFrame:
    """``part`` (indexed by person and period) reindexed on the rows of ``out``."""
    tz_out = getattr(out.index.get_level_values(PERIOD).dtype, "tz", None)
    tz_part = getattr(part.index.get_level_values(PERIOD).dtype, "tz", None)
    if len(part) and str(tz_out) != str(tz_part):
        raise DataError(
            f"the periods of {arg} are in time zone {tz_part} but those of the opportunities "
            f"and targets in {tz_out}; use one convention",
            column=PERIOD,
        )
    out, part = same_period_unit(out, part)
    return part.reindex(out.index)


@renamed_parameters(deals="opportunities", deal="opportunity")
def kpi_table(
    opportunities: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    feedback: pd.DataFrame | None = None,
    activities: pd.DataFrame | None = None,
    person: str = "person",
    period: str = "M",
    status: str = "status",
    won: str = "won",
    lost: str = "lost",
    open_values: Collection[str] | None = ("open",),
    amount: str = "amount",
    created_at: str = "created_at",
    closed_at: str = "closed_at",
    opportunity: str = "opportunity_id",
) -> pd.DataFrame:
    """Gather one row of sales KPIs per person and period.

    Rows are the person-periods of ``targets`` plus any with won deals but no target; a period
    with a target and no sale shows 0 revenue (see :func:`~crmcore.kpi.attainment`).

    Parameters
    ----------
    opportunities
        One row per opportunity: ``person``, ``status`` (``won`` / ``lost`` / one of
        ``open_values``), ``amount``, ``created_at``, ``closed_at`` (NaT while open) and the
        ``opportunity`` id (``deals=`` before crmcore 0.2).
    targets
        ``person``, ``period`` (start of the period) and ``target``.
    feedback
        Optional: ``person``, ``period`` and score columns (e.g. ``feedback``,
        ``manager_rating``); each column's mean per person and period is added. Every column
        other than ``person`` and ``period`` must hold numbers (text holding numbers, such as
        ``"4"`` from a CSV file, is read as numbers; missing values are left out of the mean):
        other text (``"good"``), dates or booleans are a ColumnTypeError naming the column and
        row, never silently dropped.
    activities
        Optional: ``person``, ``date`` and ``kind``; the number of activities is added.
    person
        Person column in every table.
    period
        ``"D"``, ``"W"``, ``"M"`` (default), ``"Q"`` or ``"Y"`` (pandas aliases accepted).
    status, won, lost, open_values
        Status column of ``opportunities`` and its values; any other status is an error naming
        its row (``"Won"`` is not ``"won"``), unless ``open_values=None``.
    amount, created_at, closed_at, opportunity
        Column names of ``opportunities`` (``opportunity`` was ``deal=`` before crmcore 0.2).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(person, period)``, sorted. Columns ``revenue`` (won amount closed in the
        period), ``target``, ``attainment`` (``revenue / target``), ``deals_won``,
        ``win_rate`` (won / closed by count; NaN when nothing closed), ``average_deal_size``
        (NaN when nothing won), ``cycle_days`` (mean days from creation to close of the won
        deals; NaN when none), then ``activities`` (0 when none) and the feedback columns
        (NaN when none) when those tables are given.

    Raises
    ------
    SchemaError, ColumnTypeError, DataError, ConfigError
        From the metric functions: missing columns, bad values, unknown statuses; feedback
        columns that do not hold numbers; tables whose periods are in different time zones.

    Examples
    --------
    >>> from crmcore import datasets
    >>> from crmcore.kpi import kpi_table
    >>> k = kpi_table(datasets.deals(120, n_people=3, seed=1),
    ...               datasets.targets(3, months=12, n_deals=120, seed=1))
    >>> list(k.columns)
    ['revenue', 'target', 'attainment', 'deals_won', 'win_rate', 'average_deal_size', \
'cycle_days']
    >>> k.index.names
    FrozenList(['person', 'period'])
    """
    opportunities = require_columns(
        opportunities, [person, status, amount, created_at, closed_at], arg=ARG
    )
    k = key_or_none(opportunities, opportunity)
    keys = [person, PERIOD]
    statuses: dict[str, Any] = {
        "status": status,
        "won": won,
        "lost": lost,
        "open_values": open_values,
    }
    # win_rate first: it checks every status, the closed deals' amounts and close dates under
    # the caller's argument name.
    wr = win_rate(
        opportunities,
        by=keys,
        amount=amount,
        closed_at=closed_at,
        created_at=created_at,
        period=period,
        opportunity=opportunity,
        **statuses,
    )
    cyc = sales_cycle_length(
        opportunities,
        by=keys,
        created_at=created_at,
        closed_at=closed_at,
        period=period,
        opportunity=opportunity,
        **statuses,
    )
    att = attainment(
        opportunities,
        targets,
        by=(person, PERIOD),
        date=closed_at,
        period=period,
        opportunity=k,
        **statuses,
    )
    out = pd.DataFrame(
        {"revenue": att["achieved"], "target": att["target"], "attainment": att["attainment"]},
        index=att.index,
    )
    out["deals_won"] = _on(out, wr, arg=ARG)["won"].fillna(0).astype(np.int64).to_numpy()
    out["win_rate"] = _on(out, wr, arg=ARG)["win_rate_count"].to_numpy()
    won_n = out["deals_won"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["average_deal_size"] = np.where(won_n > 0, out["revenue"] / won_n, np.nan)
    out["cycle_days"] = _on(out, cyc, arg=ARG)["mean"].to_numpy()
    if activities is not None:
        acts = activity_counts(activities, by=keys, period=period)
        got = _on(out, acts, arg="activities")["total"]
        out["activities"] = got.fillna(0).astype(np.int64).to_numpy()
    if feedback is not None:
        means = _on(out, _feedback_means(feedback, person=person, period=period), arg="feedback")
        for col in means.columns:
            out[col] = means[col].to_numpy(dtype=np.float64)
    out.index = out.index.set_names([person, PERIOD])
    return out.sort_index()


def _flat(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Keys held in the index become columns; rows keep the caller's labels for messages."""
    in_index = [k for k in keys if k in (frame.index.names or []) and k not in frame.columns]
    if in_index:
        labels = frame.index
        frame = frame.reset_index(level=in_index)
        # The label a caller sees for a row is its whole original index entry.
        frame.index = pd.Index(list(labels), tupleize_cols=False) if labels.nlevels > 1 else labels
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        have = ", ".join(repr(c) for c in frame.columns)
        raise SchemaError(
            f"kpis has no column or index level {missing[0]!r}; it has columns {have}",
            column=missing[0],
        )
    return frame


def _changes(out: pd.DataFrame, columns: Sequence[str], *, person: str, period: str) -> None:
    """Add ``<col>_change``: the value minus the person's value in the preceding period."""
    p_codes = pd.factorize(out.index.get_level_values(person), sort=True)[0]
    t_codes = pd.factorize(out.index.get_level_values(period), sort=True)[0]
    lookup = pd.Series(np.arange(len(out)), index=pd.MultiIndex.from_arrays([p_codes, t_codes]))
    prev_pos = lookup.reindex(pd.MultiIndex.from_arrays([p_codes, t_codes - 1])).to_numpy()
    has_prev = ~np.isnan(prev_pos)
    take = np.where(has_prev, prev_pos, 0).astype(np.int64)
    for col in columns:
        values = out[col].cat.codes if col == "level" else out[col]
        arr = np.asarray(values, dtype=np.float64)
        out[f"{col}_change"] = np.where(has_prev, arr - arr[take], np.nan)


@renamed_parameters(period="period_column")
def performance_report(
    kpis: pd.DataFrame,
    scorecard: Scorecard,
    *,
    person: str = "person",
    period_column: str = "period",
    thresholds: Mapping[str, float] | Sequence[float] | None = None,
    quantiles: Mapping[str, float] | Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
    promote_after: int = 1,
    demote_after: int = 1,
    missing: str = "raise",
) -> pd.DataFrame:
    """Build the performance report: KPIs, score, rank, level and change vs the last period.

    Each period is scored separately with :func:`~crmcore.kpi.score_scorecard` (people are
    compared with the others of the same period), levels come from
    :func:`~crmcore.kpi.assign_levels_over_time` (hysteresis with ``promote_after`` /
    ``demote_after`` above 1), and every numeric figure gets a ``<name>_change`` column:
    its value minus the person's value in the *immediately preceding* period of the table (NaN
    in a person's first period or when they have no row in the preceding period).

    Parameters
    ----------
    kpis
        One row per person and period (``person`` and ``period_column`` as columns or index
        levels, e.g. :func:`kpi_table` output) holding every column the scorecard reads.
        Errors name this argument and the row labels of this frame.
    scorecard
        The :class:`~crmcore.kpi.Scorecard`.
    person, period_column
        Key names (``period_column`` was ``period=`` before crmcore 0.2).
    thresholds, quantiles, labels, promote_after, demote_after
        The level scheme and hysteresis, as for :func:`~crmcore.kpi.assign_levels_over_time`
        (default: junior from 0, mid from 0.5, senior from 0.8, no hysteresis).
    missing
        ``"raise"`` or ``"zero"``: how the scorecard treats NaN KPI values.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(person, period_column)``, sorted. Columns: the KPI columns of ``kpis`` in
        their order, ``score`` (scorecard total), ``rank`` (1 = best in the period, ties share the
        best rank), ``level`` (ordered categorical), then ``<kpi>_change`` for each numeric KPI,
        ``score_change``, ``rank_change`` (negative = moved up the ranking) and ``level_change`` (+1
        per level gained, -1 per level lost), all float64.

    Raises
    ------
    SchemaError, ColumnTypeError, DataError, ConfigError
        As for :func:`~crmcore.kpi.score_scorecard` and
        :func:`~crmcore.kpi.assign_levels_over_time`.

    Examples
    --------
    >>> from crmcore.kpi import Metric, Scorecard, performance_report
    >>> kpis = pd.DataFrame({"person": ["ann", "bob"] * 2, "period": [1, 1, 2, 2],
    ...                      "attainment": [1.2, 0.7, 0.9, 1.1]})
    >>> card = Scorecard(metrics=[Metric(column="attainment", weight=1,
    ...                                  normalisation="target", target=1, cap=1)])
    >>> rep = performance_report(kpis, card)
    >>> rep[["attainment", "score", "rank", "level", "rank_change"]]
                   attainment  score  rank   level  rank_change
    person period
    ann    1              1.2    1.0     1  senior          NaN
           2              0.9    0.9     2  senior          1.0
    bob    1              0.7    0.7     2     mid          NaN
           2              1.1    1.0     1  senior         -1.0
    """
    kpis = require_frame(kpis, arg="kpis")
    if not isinstance(scorecard, Scorecard):
        raise ConfigError(
            f"scorecard must be a Scorecard, got {type(scorecard).__name__}", column="scorecard"
        )
    period = period_column
    flat = _flat(kpis, [person, period])
    scores = score_frame(
        flat, scorecard, person=person, period_column=period, missing=missing, arg="kpis"
    )
    levels = assign_levels_over_time(
        scores,
        person=person,
        period_column=period,
        score="total",
        thresholds=thresholds,
        quantiles=quantiles,
        labels=labels,
        promote_after=promote_after,
        demote_after=demote_after,
    )
    scores = scores.reorder_levels([person, period]).sort_index()
    levels = levels.reorder_levels([person, period]).sort_index()
    kpi_cols = [c for c in flat.columns if c not in (person, period)]
    out = flat.set_index([person, period]).sort_index()[kpi_cols].copy()
    out["score"] = scores["total"].to_numpy()
    out["rank"] = scores["rank"].to_numpy()
    out["level"] = levels["level"].array
    numeric = [
        c
        for c in kpi_cols
        if pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c])
    ]
    _changes(out, [*numeric, "score", "rank", "level"], person=person, period=period)
    return out
