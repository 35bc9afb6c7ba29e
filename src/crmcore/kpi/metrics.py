"""Sales KPIs of opportunities and activity: win rate, deal size, cycle length, activity counts.

Every function takes a tidy frame (one row per opportunity or activity) with keyword column
names and a ``by=`` grouping: ``None`` (one row labelled ``"all"``), a column name or a list of
them. The special name ``"period"`` is not read from the frame: it is the start of the calendar
period (``period="M"`` by default: month start) that contains each row's date, so
``by=["person", "period"]`` gives one row per person and month. Results are indexed by the
group keys (in the order given) and sorted by them.

A status column holds ``won``, ``lost`` or one of ``open_values``; any other value is an error
naming its row (``"Won"`` is not ``"won"``), unless ``open_values=None`` takes every other value
as open.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._compat import renamed_parameters
from crmcore._frames import (
    check_scalar,
    checked_totals,
    datetime_column,
    describe_row,
    first_true,
    numeric_column,
    refuse_first,
    require_columns,
    require_not_null,
    show,
)
from crmcore.errors import ConfigError, DataError
from crmcore.kpi._groups import (
    ALL,
    PERIOD,
    By,
    StatusRule,
    aggregate,
    aggregate_amounts,
    by_names,
    fill_periods,
    group_keys,
    key_or_none,
    period_code,
    ratio,
    required,
    same_unit,
    status_masks,
)

__all__ = ["activity_counts", "average_deal_size", "sales_cycle_length", "win_rate"]

ARG = "opportunities"
_CYCLE_STATS = ("mean", "median", "p90", "min", "max")


# --------------------------------------------------------------------------- win rate


def _period_keys_together(
    closed: pd.DataFrame, open_: pd.DataFrame, *, closed_at: str, created_at: str
) -> pd.DataFrame:
    """Stack the keys of closed and open deals; their periods in one unit and zone."""
    if PERIOD in closed.columns and len(closed) and len(open_):
        tz_c = getattr(closed[PERIOD].dtype, "tz", None)
        tz_o = getattr(open_[PERIOD].dtype, "tz", None)
        if str(tz_c) != str(tz_o):
            raise DataError(
                f"column {closed_at!r} of {ARG} (closed deals) is in time zone {tz_c} but "
                f"column {created_at!r} (open deals) in {tz_o}; use one convention",
                column=created_at,
            )
        pc, po = same_unit(closed[PERIOD], open_[PERIOD])
        closed, open_ = closed.assign(**{PERIOD: pc}), open_.assign(**{PERIOD: po})
    return pd.concat([closed, open_], ignore_index=True)


def _win_counts(
    w: npt.NDArray[np.bool_], amounts: npt.NDArray[np.float64], n_open: int
) -> pd.DataFrame:
    """Per-row counts and amounts: closed deals (won mask ``w``), then ``n_open`` open ones."""
    no = np.zeros(n_open, dtype=bool)
    return pd.DataFrame(
        {
            "won": np.concatenate([w, no]).astype(np.int64),
            "lost": np.concatenate([~w, no]).astype(np.int64),
            "open": np.concatenate([np.zeros(len(w), np.int64), np.ones(n_open, np.int64)]),
            "won_amount": np.concatenate([np.where(w, amounts, 0.0), np.zeros(n_open)]),
            "lost_amount": np.concatenate([np.where(w, 0.0, amounts), np.zeros(n_open)]),
        }
    )


def _share(part: npt.NDArray[np.float64], rest: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``part / (part + rest)``, halved where the sum passes the largest float.

    The share is finite when amounts near 1.8e308 are on both sides.
    """
    with np.errstate(over="ignore"):
        den = part + rest
    big = ~np.isfinite(den)
    if not big.any():
        return ratio(part, den)
    half = np.where(big, 0.5, 1.0)
    return ratio(part * half, part * half + rest * half)


def _rates(agg: pd.DataFrame) -> pd.DataFrame:
    won_n = agg["won"].to_numpy(dtype=np.float64)
    lost_n = agg["lost"].to_numpy(dtype=np.float64)
    won_a = agg["won_amount"].to_numpy(dtype=np.float64)
    lost_a = agg["lost_amount"].to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "won": agg["won"].to_numpy(dtype=np.int64),
            "lost": agg["lost"].to_numpy(dtype=np.int64),
            "closed": (agg["won"] + agg["lost"]).to_numpy(dtype=np.int64),
            "open": agg["open"].to_numpy(dtype=np.int64),
            "win_rate_count": ratio(won_n, won_n + lost_n),
            "won_amount": won_a,
            "lost_amount": lost_a,
            "win_rate_value": _share(won_a, lost_a),
        },
        index=agg.index,
    )


@renamed_parameters(
    deals="opportunities", closed="closed_at", created="created_at", key="opportunity"
)
def win_rate(
    opportunities: pd.DataFrame,
    *,
    by: By = None,
    status: str = "status",
    won: str = "won",
    lost: str = "lost",
    open_values: Collection[str] | None = ("open",),
    amount: str = "amount",
    closed_at: str = "closed_at",
    created_at: str = "created_at",
    period: str = "M",
    opportunity: str = "opportunity_id",
) -> pd.DataFrame:
    r"""Compute win rates by count and by value: won ÷ (won + lost); open deals are excluded.

    .. math::

        \text{win\_rate\_count} = \frac{n_\text{won}}{n_\text{won} + n_\text{lost}},\qquad
        \text{win\_rate\_value} = \frac{\sum_\text{won} a}{\sum_\text{won} a + \sum_\text{lost} a}

    Parameters
    ----------
    opportunities
        One row per opportunity (``deals=`` before crmcore 0.2).
    by
        Grouping: ``None``, a column name or a list of them. ``"period"`` groups closed deals
        by the period of ``closed_at`` and open deals by the period of ``created_at``.
    status
        Column holding the outcome.
    won, lost
        The values of ``status`` that mean won and lost.
    open_values
        Values meaning still open (counted in ``open``, excluded from the rates). ``None``
        treats every value other than ``won``/``lost`` as open (e.g. a stage column); otherwise
        any other value is an error naming its row.
    amount
        Deal value column (finite, >= 0 on closed deals; open deals' amounts are not read).
    closed_at, created_at
        Date columns, read only when grouping by ``"period"`` (``closed=``, ``created=``
        before crmcore 0.2).
    period
        Period for ``"period"``: ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"`` (pandas aliases
        such as ``"MS"`` accepted).
    opportunity
        Opportunity id column, used to name rows in error messages (optional; ``key=`` before
        crmcore 0.2).

    Returns
    -------
    pandas.DataFrame
        Indexed by the group keys (``"all"`` when ``by`` is None), sorted. Columns ``won``,
        ``lost``, ``closed`` (= won + lost), ``open`` (int64 counts), ``win_rate_count``,
        ``won_amount``, ``lost_amount``, ``win_rate_value`` (float64). Rates are NaN where no
        deal is closed (or closed value is zero), never 0.

    Raises
    ------
    SchemaError
        Missing column or empty frame.
    DataError
        Unknown status, missing group key, NaN/negative amount on a closed deal, missing close
        date when grouping by period.

    Examples
    --------
    >>> from crmcore.kpi import win_rate
    >>> d = pd.DataFrame({"person": ["ann", "ann", "ann", "bob"],
    ...                   "status": ["won", "lost", "open", "lost"],
    ...                   "amount": [300.0, 100.0, 50.0, 80.0]})
    >>> win_rate(d, by="person")[["won", "lost", "open", "win_rate_count", "win_rate_value"]]
            won  lost  open  win_rate_count  win_rate_value
    person
    ann       1     1     1             0.5            0.75
    bob       0     1     0             0.0            0.00
    """
    names = by_names(by)
    code = period_code(period)
    frame = opportunities
    frame = require_columns(frame, [status, amount, *required(names, None)], arg=ARG)
    k = key_or_none(frame, opportunity)
    is_won, is_lost, is_open = status_masks(
        frame, status=status, won=won, lost=lost, open_values=open_values, key=k
    )
    is_closed = is_won | is_lost
    closed_rows = frame.loc[is_closed]
    open_rows = frame.loc[is_open]
    if PERIOD in names:
        frame = require_columns(frame, [closed_at], arg=ARG)
        if len(open_rows):
            frame = require_columns(frame, [created_at], arg=ARG)
    amounts = numeric_column(
        closed_rows, amount, arg=ARG, key=k, allow_negative=False, what="deal amounts >= 0"
    )
    keys = _period_keys_together(
        group_keys(closed_rows, names, arg=ARG, key=k, date=closed_at, period=code),
        group_keys(open_rows, names, arg=ARG, key=k, date=created_at, period=code),
        closed_at=closed_at,
        created_at=created_at,
    )
    values = _win_counts(is_won[is_closed], amounts, len(open_rows))
    agg = aggregate_amounts(
        keys,
        values,
        names,
        amounts=("won_amount", "lost_amount"),
        rows=closed_rows,  # values' rows past the closed ones are open deals, counted 0
        amount=amount,
        arg=ARG,
        key=k,
    )
    return _rates(agg)


# --------------------------------------------------------------------------- deal size, cycle


def _counted_rows(
    frame: pd.DataFrame,
    names: Sequence[str],
    *,
    status: StatusRule,
    extra: Sequence[str],
    key: str | None,
    include_lost: bool = False,
) -> pd.DataFrame:
    """Return the won rows (and lost ones with ``include_lost``); every status checked first."""
    frame = require_columns(frame, [*extra, *required(names, None)], arg=ARG)
    if status.column is None:
        return frame
    frame = require_columns(frame, [status.column], arg=ARG)
    is_won, is_lost, _ = status_masks(
        frame,
        status=status.column,
        won=status.won,
        lost=status.lost,
        open_values=status.open_values,
        key=key,
    )
    return frame.loc[is_won | is_lost if include_lost else is_won]


def _stats_by_group(
    keys: pd.DataFrame, values: npt.NDArray[np.float64], names: Sequence[str], stats: list[str]
) -> pd.DataFrame:
    """``count`` plus the named statistics of ``values`` per group; one ``"all"`` row if none."""
    quantile = {"p90": 0.9}
    if not names:
        n = len(values)
        row = {"count": np.asarray([n], dtype=np.int64)}
        for stat in stats:
            if not n:
                got = 0.0 if stat == "sum" else np.nan
            elif stat in quantile:
                got = float(np.quantile(values, quantile[stat]))
            else:
                got = float(getattr(np, stat)(values))
            row[stat] = np.asarray([got], dtype=np.float64)
        return pd.DataFrame(row, index=pd.Index([ALL]))
    joined = pd.concat([keys.reset_index(drop=True), pd.DataFrame({"x": values})], axis=1)
    g = joined.groupby(list(names), sort=True)["x"]
    out = {"count": g.size().astype(np.int64)}
    for stat in stats:
        out[stat] = g.quantile(quantile[stat]) if stat in quantile else g.agg(stat)
    return pd.DataFrame(out)


@renamed_parameters(deals="opportunities", closed="closed_at", key="opportunity")
def average_deal_size(
    opportunities: pd.DataFrame,
    *,
    by: By = None,
    status: str | None = "status",
    won: str = "won",
    lost: str = "lost",
    open_values: Collection[str] | None = ("open",),
    amount: str = "amount",
    closed_at: str = "closed_at",
    period: str = "M",
    opportunity: str = "opportunity_id",
) -> pd.DataFrame:
    """Compute the size of won deals: count, total, mean and median amount per group.

    Parameters
    ----------
    opportunities
        One row per opportunity (``deals=`` before crmcore 0.2).
    by
        Grouping (see :func:`win_rate`); ``"period"`` uses the period of ``closed_at``.
    status, won, lost, open_values
        Only rows with ``status == won`` count; every status must be ``won``, ``lost`` or one
        of ``open_values`` (``open_values=None`` accepts any). ``status=None`` takes every row
        as won.
    amount
        Deal value column (finite, >= 0 on won deals).
    closed_at
        Close date column, read only when grouping by ``"period"`` (``closed=`` before 0.2).
    period
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"`` (pandas aliases accepted).
    opportunity
        Opportunity id column for error messages (optional; ``key=`` before crmcore 0.2).

    Returns
    -------
    pandas.DataFrame
        Columns ``count`` (int64), ``total``, ``mean``, ``median`` (float64), indexed by the
        group keys, sorted. Only groups with at least one won deal appear (a single ``"all"``
        row with count 0 and NaN mean/median when ``by`` is None and nothing was won).

    Raises
    ------
    SchemaError
        Missing column or empty frame.
    DataError
        Unknown status, NaN or negative amount on a won deal, missing group key or close date.

    Examples
    --------
    >>> from crmcore.kpi import average_deal_size
    >>> d = pd.DataFrame({"person": ["ann", "ann", "ann", "bob"],
    ...                   "status": ["won", "won", "lost", "won"],
    ...                   "amount": [100.0, 300.0, 999.0, 50.0]})
    >>> average_deal_size(d, by="person")
            count  total   mean  median
    person
    ann         2  400.0  200.0   200.0
    bob         1   50.0   50.0    50.0
    """
    names = by_names(by)
    code = period_code(period)
    k = key_or_none(opportunities, opportunity)
    # the close date is needed only to derive the period, but then it must be there
    extra = [amount, closed_at] if PERIOD in names else [amount]
    rows = _counted_rows(
        opportunities,
        names,
        status=StatusRule(column=status, won=won, lost=lost, open_values=open_values),
        extra=extra,
        key=k,
    )
    amounts = numeric_column(
        rows, amount, arg=ARG, key=k, allow_negative=False, what="deal amounts >= 0"
    )
    keys = group_keys(rows, names, arg=ARG, key=k, date=closed_at, period=code)
    with np.errstate(over="ignore", invalid="ignore"):  # a total past the largest float: below
        out = _stats_by_group(keys, amounts, names, ["sum", "mean", "median"])
    out["sum"] = checked_totals(
        out["sum"].to_numpy(dtype=np.float64),
        amounts,
        lambda: keys.groupby(list(names), sort=True).ngroup().to_numpy() if names else None,
        rows,
        amount,
        arg=ARG,
        key=k,
    )  # amounts are >= 0: a total past the largest float is an error naming its row
    return out.rename(columns={"sum": "total"})


def _cycle_days(
    rows: pd.DataFrame, *, created_at: str, closed_at: str, key: str | None
) -> npt.NDArray[np.float64]:
    """Days from creation to close of every row (fractional); closing first is an error."""
    start = datetime_column(rows, created_at, arg=ARG, key=key)
    end = datetime_column(rows, closed_at, arg=ARG, key=key)
    if (getattr(start.dtype, "tz", None) is None) != (getattr(end.dtype, "tz", None) is None):
        raise DataError(
            f"columns {created_at!r} and {closed_at!r} of {ARG} mix naive and tz-aware dates; "
            "use one convention",
            column=closed_at,
        )
    start, end = same_unit(start, end)
    seconds = (end - start).dt.total_seconds().to_numpy(dtype=np.float64)
    days = np.asarray(seconds / 86400.0, dtype=np.float64)
    pos = first_true(days < 0)
    if pos is not None:
        raise DataError(
            f"deal at {describe_row(rows, pos, key)} closes before it was created "
            f"({closed_at}={end.iloc[pos]}, {created_at}={start.iloc[pos]}); cycle of "
            f"{show(days[pos])} days, expected >= 0",
            column=closed_at,
            row=rows.index[pos],
            value=end.iloc[pos],
        )
    return days


@renamed_parameters(
    deals="opportunities", created="created_at", closed="closed_at", key="opportunity"
)
def sales_cycle_length(
    opportunities: pd.DataFrame,
    *,
    by: By = None,
    created_at: str = "created_at",
    closed_at: str = "closed_at",
    status: str | None = "status",
    won: str = "won",
    lost: str = "lost",
    open_values: Collection[str] | None = ("open",),
    include_lost: bool = False,
    period: str = "M",
    opportunity: str = "opportunity_id",
) -> pd.DataFrame:
    """Compute sales cycle lengths: days from creation to close of won (and lost) deals.

    The cycle of a deal is ``(closed_at - created_at) / 1 day`` (fractional days when times of
    day are given). Open deals are not read.

    Parameters
    ----------
    opportunities, by
        As in :func:`average_deal_size`.
    created_at, closed_at
        Creation and close date columns (both needed on every counted deal; ``created=`` and
        ``closed=`` before crmcore 0.2).
    status, won, lost, open_values
        Which rows count: ``status == won`` (and ``lost`` when ``include_lost``); every status
        must be ``won``, ``lost`` or one of ``open_values`` (``None`` accepts any).
        ``status=None`` counts every row.
    include_lost
        Count lost deals too (time to a decision rather than time to a win).
    period
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"`` (pandas aliases accepted).
    opportunity
        Opportunity id column, named in error messages (optional; ``key=`` before 0.2).

    Returns
    -------
    pandas.DataFrame
        Columns ``count`` (int64), ``mean``, ``median``, ``p90`` (90th percentile, linear
        interpolation), ``min``, ``max`` (float64 days), indexed by the group keys, sorted.
        Only groups with a counted deal appear (one ``"all"`` row, NaN stats, when none).

    Raises
    ------
    SchemaError
        Missing column or empty frame.
    DataError
        Unknown status; a counted deal closes before it was created (the deal is named), or
        lacks a date.

    Examples
    --------
    >>> from crmcore.kpi import sales_cycle_length
    >>> d = pd.DataFrame({"opportunity_id": [1, 2, 3],
    ...                   "status": ["won", "won", "lost"],
    ...                   "created_at": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-01"]),
    ...                   "closed_at": pd.to_datetime(["2024-01-31", "2024-01-20", "2024-03-01"])})
    >>> sales_cycle_length(d)[["count", "mean", "median", "max"]]
         count  mean  median   max
    all      2  20.0    20.0  30.0
    """
    names = by_names(by)
    code = period_code(period)
    check_scalar(include_lost, "include_lost", kind=bool)
    k = key_or_none(opportunities, opportunity)
    rows = _counted_rows(
        opportunities,
        names,
        status=StatusRule(column=status, won=won, lost=lost, open_values=open_values),
        extra=[created_at, closed_at],
        key=k,
        include_lost=include_lost,
    )
    days = _cycle_days(rows, created_at=created_at, closed_at=closed_at, key=k)
    keys = group_keys(rows, names, arg=ARG, key=k, date=closed_at, period=code)
    return _stats_by_group(keys, days, names, list(_CYCLE_STATS))


# --------------------------------------------------------------------------- activities


def _kind_labels(activities: pd.DataFrame, kind: str, kinds: Sequence[str] | None) -> list[str]:
    """Return the kinds to count, in column order; a value outside ``kinds`` is an error."""
    values = activities[kind]
    if kinds is None:
        return sorted(values.unique().tolist())
    labels = list(kinds)
    if not labels or len(set(labels)) != len(labels):
        raise ConfigError("kinds must be a non-empty list of distinct values", column="kinds")
    known = values.isin(labels).to_numpy(dtype=bool)
    refuse_first(activities, ~known, kind, arg="activities", problem="unexpected value",
                 then=f"; expected one of {', '.join(map(repr, labels))}")  # fmt: skip
    return labels


def activity_counts(
    activities: pd.DataFrame,
    *,
    by: By = "person",
    kind: str = "kind",
    kinds: Sequence[str] | None = None,
    date: str = "date",
    period: str = "M",
) -> pd.DataFrame:
    """Count logged activities (calls, emails, meetings, ...) per group, one column per kind.

    Parameters
    ----------
    activities
        One row per activity.
    by
        Grouping (default ``"person"``); ``"period"`` uses the period of ``date``.
    kind
        Column naming the activity type.
    kinds
        The expected kinds, in column order; another value is an error naming the row. Default:
        the kinds present, sorted.
    date
        Date column, read only when grouping by ``"period"``.
    period
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"`` (pandas aliases accepted).

    Returns
    -------
    pandas.DataFrame
        One int64 column per kind plus ``total``, indexed by the group keys, sorted. With
        ``"period"`` in ``by``, every period from the first to the last appears for every group
        (zeros filled).

    Raises
    ------
    SchemaError
        Missing column or empty frame.
    DataError
        Missing kind, group key or date; a kind not in ``kinds``.

    Examples
    --------
    >>> from crmcore.kpi import activity_counts
    >>> a = pd.DataFrame({"person": ["ann", "ann", "bob", "ann"],
    ...                   "kind": ["call", "email", "call", "call"]})
    >>> activity_counts(a)
            call  email  total
    person
    ann        2      1      3
    bob        1      0      1
    """
    names = by_names(by)
    code = period_code(period)
    activities = require_columns(activities, [kind, *required(names, date)], arg="activities")
    require_not_null(activities, kind, arg="activities")
    labels = _kind_labels(activities, kind, kinds)
    keys = group_keys(activities, names, arg="activities", key=None, date=date, period=code)
    # positions in labels (a categorical column's unused categories play no part)
    values = pd.Index(activities[kind].to_numpy(dtype=object))
    codes = pd.Index(labels, dtype=object).get_indexer(values)
    onehot = np.zeros((len(codes), len(labels)), dtype=np.int64)
    onehot[np.arange(len(codes)), codes] = 1
    agg = aggregate(keys, pd.DataFrame(onehot, columns=labels), names)
    agg["total"] = agg.sum(axis=1).astype(np.int64)
    agg = agg.astype(np.int64)
    if PERIOD in names:
        agg = fill_periods(names, agg, dict.fromkeys(agg.columns, 0), code)
    agg.columns = pd.Index([str(c) for c in agg.columns])
    return agg
