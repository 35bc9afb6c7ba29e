"""Performance report: KPIs, attainment, score, rank, level and change per person and period.

:func:`kpi_table` gathers one row of KPIs per person and period from the deal, target, feedback
and activity tables (with the metric functions of :mod:`crmcore.kpi`).
:func:`performance_report` scores those rows on a :class:`~crmcore.kpi.Scorecard`, ranks people
within each period, assigns levels (with optional hysteresis) and adds the change of every
figure against the person's previous period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmcore._frames import datetime_column, require_columns, require_frame, require_not_null
from crmcore.errors import SchemaError
from crmcore.kpi.attainment import attainment
from crmcore.kpi.levels import assign_levels_over_time
from crmcore.kpi.metrics import activity_counts, period_start, sales_cycle_length, win_rate
from crmcore.kpi.scorecard import Scorecard, score_scorecard

__all__ = ["kpi_table", "performance_report"]


def kpi_table(
    deals: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    feedback: pd.DataFrame | None = None,
    activities: pd.DataFrame | None = None,
    person: str = "person",
    period: str = "M",
    status: str = "status",
    won: str = "won",
    amount: str = "amount",
    created_at: str = "created_at",
    closed_at: str = "closed_at",
    deal: str = "opportunity_id",
) -> pd.DataFrame:
    """Gather one row of sales KPIs per person and period.

    Rows are the person-periods of ``targets`` plus any with won deals but no target; a period
    with a target and no sale shows 0 revenue (see :func:`~crmcore.kpi.attainment`).

    Parameters
    ----------
    deals
        One row per opportunity: ``person``, ``status`` (``won`` / ``lost`` / ``"open"``),
        ``amount``, ``created_at``, ``closed_at`` (NaT while open) and the ``deal`` id.
    targets
        ``person``, ``period`` (start of the period) and ``target``.
    feedback
        Optional: ``person``, ``period`` and numeric columns (e.g. ``feedback``,
        ``manager_rating``); each column's mean per person and period is added.
    activities
        Optional: ``person``, ``date`` and ``kind``; the number of activities is added.
    person
        Person column in every table.
    period
        ``"M"`` (default), ``"Q"`` or ``"Y"``: period length.
    status, won, amount, created_at, closed_at, deal
        Column names and the won status of ``deals``.

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
        From the metric functions: missing columns, bad values, unknown statuses.

    Examples
    --------
    >>> from crmcore import datasets
    >>> from crmcore.kpi import kpi_table
    >>> k = kpi_table(datasets.deals(120, n_reps=3, seed=1),
    ...               datasets.targets(3, months=12, n_deals=120, seed=1))
    >>> list(k.columns)
    ['revenue', 'target', 'attainment', 'deals_won', 'win_rate', 'average_deal_size', \
'cycle_days']
    >>> k.index.names
    FrozenList(['person', 'period'])
    """
    require_columns(deals, [person, status, amount, created_at, closed_at], arg="deals")
    keys = [person, "period"]
    att = attainment(
        deals,
        targets,
        by=(person, "period"),
        date=closed_at,
        status=status,
        won=won,
        period=period,
        key=deal if deal in deals.columns else None,
    )
    closed = deals[deals[closed_at].notna()]
    wr = win_rate(
        closed,
        by=keys,
        status=status,
        won=won,
        open_values=None,
        amount=amount,
        closed=closed_at,
        created=created_at,
        period=period,
        key=deal,
    )
    cyc = sales_cycle_length(
        closed,
        by=keys,
        created=created_at,
        closed=closed_at,
        status=status,
        won=won,
        period=period,
        key=deal,
    )
    out = pd.DataFrame(
        {
            "revenue": att["achieved"],
            "target": att["target"],
            "attainment": att["attainment"],
        },
        index=att.index,
    )
    won_count = wr["won"].reindex(out.index)
    out["deals_won"] = won_count.fillna(0).astype(np.int64)
    out["win_rate"] = wr["win_rate_count"].reindex(out.index)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["average_deal_size"] = np.where(
            out["deals_won"] > 0,
            out["revenue"] / out["deals_won"].where(out["deals_won"] > 0),
            np.nan,
        )
    out["cycle_days"] = cyc["mean"].reindex(out.index)
    if activities is not None:
        acts = activity_counts(activities, by=keys, period=period)
        out["activities"] = acts["total"].reindex(out.index).fillna(0).astype(np.int64)
    if feedback is not None:
        require_columns(feedback, [person, "period"], arg="feedback")
        numeric = [
            c
            for c in feedback.columns
            if c not in (person, "period") and pd.api.types.is_numeric_dtype(feedback[c])
        ]
        # a missing person or period would drop the row silently in the groupby below
        require_not_null(feedback, person, arg="feedback")
        # period_start keeps a time zone (to_period would drop it with a warning)
        fb = feedback.assign(
            period=period_start(datetime_column(feedback, "period", arg="feedback"), period)
        )
        means = fb.groupby([person, "period"])[numeric].mean()
        for col in numeric:
            out[col] = means[col].reindex(out.index).astype(np.float64)
    out.index = out.index.set_names([person, "period"])
    return out.sort_index()


def _flat(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Move any key held in the index into the columns."""
    in_index = [k for k in keys if k in (frame.index.names or []) and k not in frame.columns]
    if in_index:
        frame = frame.reset_index(level=in_index)
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        have = ", ".join(repr(c) for c in frame.columns)
        raise SchemaError(
            f"kpis has no column or index level {missing[0]!r}; it has columns {have}",
            column=missing[0],
        )
    return frame.reset_index(drop=True)


def performance_report(
    kpis: pd.DataFrame,
    scorecard: Scorecard,
    *,
    person: str = "person",
    period: str = "period",
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
        One row per person and period (``person`` and ``period`` as columns or index levels,
        e.g. :func:`kpi_table` output) holding every column the scorecard reads.
    scorecard
        The :class:`~crmcore.kpi.Scorecard`.
    person, period
        Key names.
    thresholds, quantiles, labels, promote_after, demote_after
        The level scheme and hysteresis, as for :func:`~crmcore.kpi.assign_levels_over_time`
        (default: junior from 0, mid from 0.5, senior from 0.8, no hysteresis).
    missing
        ``"raise"`` or ``"zero"``: how the scorecard treats NaN KPI values.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(person, period)``, sorted. Columns: the KPI columns of ``kpis`` in their
        order, ``score`` (scorecard total), ``rank`` (1 = best in the period, ties share the
        best rank), ``level`` (ordered categorical), then ``<kpi>_change`` for each numeric
        KPI, ``score_change``, ``rank_change`` (negative = moved up the ranking) and
        ``level_change`` (+1 per level gained, -1 per level lost), all float64.

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
    require_frame(kpis, arg="kpis")
    flat = _flat(kpis, [person, period])
    scores = score_scorecard(flat, scorecard, person=person, period=period, missing=missing)
    levels = assign_levels_over_time(
        scores,
        person=person,
        period=period,
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
    body = flat.set_index([person, period]).sort_index()
    out = body[kpi_cols].copy()
    out["score"] = scores["total"].to_numpy()
    out["rank"] = scores["rank"].to_numpy()
    out["level"] = levels["level"].array

    # Change against the person's row in the immediately preceding period.
    p_codes = pd.factorize(out.index.get_level_values(person), sort=True)[0]
    t_codes = pd.factorize(out.index.get_level_values(period), sort=True)[0]
    lookup = pd.Series(np.arange(len(out)), index=pd.MultiIndex.from_arrays([p_codes, t_codes]))
    prev_pos = lookup.reindex(pd.MultiIndex.from_arrays([p_codes, t_codes - 1])).to_numpy()
    has_prev = ~np.isnan(prev_pos)
    take = np.where(has_prev, prev_pos, 0).astype(np.int64)

    def change(values: Any) -> np.ndarray:
        arr = np.asarray(values, dtype=np.float64)
        return np.where(has_prev, arr - arr[take], np.nan)

    numeric = [c for c in kpi_cols if pd.api.types.is_numeric_dtype(out[c])]
    numeric = [c for c in numeric if not pd.api.types.is_bool_dtype(out[c])]
    for col in [*numeric, "score", "rank"]:
        out[f"{col}_change"] = change(out[col])
    out["level_change"] = change(out["level"].cat.codes)
    return out
