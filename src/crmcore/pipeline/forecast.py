"""Forecast views of a pipeline: category roll-ups, waterfall, velocity and coverage.

* :func:`forecast_rollup` totals deals by forecast category (closed, commit, best case,
  pipeline, omitted) and adds the cumulative roll-ups Salesforce Collaborative Forecasts uses.
* :func:`pipeline_waterfall` explains how the pipeline moved between two snapshots, exactly.
* :func:`sales_velocity` and :func:`pipeline_coverage` are the usual pipeline health ratios.

Money is summed as exact ``int64`` minor units; several currencies need explicit ``rates``.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from numbers import Real
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_choice,
    describe_row,
    first_true,
    require_columns,
    require_not_null,
    require_unique,
    show,
)
from crmcore.errors import ConfigError, DataError
from crmcore.pipeline.funnel import _group_sum, _money, _to_amount
from crmcore.pipeline.timing import _optional_dates

__all__ = ["forecast_rollup", "pipeline_coverage", "pipeline_waterfall", "sales_velocity"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

CATEGORIES = ("closed", "commit", "best_case", "pipeline", "omitted")
_CATEGORY_KEYS = {c.replace("_", ""): i for i, c in enumerate(CATEGORIES)}


def _groups(
    frame: pd.DataFrame, by: str | None, *, arg: str, key: str | None
) -> tuple[IntArray, pd.Index]:
    """Integer group code per row and the sorted group labels (one ``"total"`` without ``by``)."""
    if by is None:
        return np.zeros(len(frame), dtype=np.int64), pd.Index(["total"], dtype=object)
    require_not_null(frame, by, arg=arg, key=key)
    codes, uniques = pd.factorize(frame[by], sort=True)
    return codes.astype(np.int64), pd.Index(uniques, name=by)


class _Deals(NamedTuple):
    """Won/lost/open masks and exact amounts of a validated opportunity frame."""

    is_won: npt.NDArray[np.bool_]
    is_lost: npt.NDArray[np.bool_]
    is_open: npt.NDArray[np.bool_]
    cents: IntArray


def _prepare(
    frame: pd.DataFrame,
    extra: tuple[str | None, ...],
    *,
    arg: str,
    opportunity: str,
    stage: str,
    amount: str,
    won: str,
    lost: str,
    currency: str | None,
    rates: Mapping[Any, float] | None,
    reporting_currency: Any,
    decimals: int,
    allow_empty: bool = False,
) -> _Deals:
    """Check a deal frame (columns, unique ids, stages) and return its masks and cents.

    Required columns: ``opportunity``, ``stage``, ``amount``, the non-``None`` ``extra`` ones
    and ``currency`` if given. The checks run in one fixed order so that every caller reports
    the same first problem.
    """
    cols = [opportunity, stage, amount, *(c for c in extra if c), *([currency] if currency else [])]
    require_columns(frame, cols, arg=arg, allow_empty=allow_empty)
    require_not_null(frame, opportunity, arg=arg)
    require_unique(frame, opportunity, arg=arg)
    require_not_null(frame, stage, arg=arg, key=opportunity)
    values = frame[stage]
    is_won = np.asarray(values == won, dtype=bool)
    is_lost = np.asarray(values == lost, dtype=bool)
    cents = _money(
        frame,
        amount,
        arg=arg,
        key=opportunity,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        must_sum=True,
    ).cents
    return _Deals(is_won, is_lost, ~is_won & ~is_lost, cents)


def _normalise_categories(frame: pd.DataFrame, column: str, *, arg: str, key: str) -> IntArray:
    require_not_null(frame, column, arg=arg, key=key)
    codes, uniques = pd.factorize(frame[column], sort=False)
    table = np.empty(len(uniques), dtype=np.int64)
    for i, value in enumerate(uniques):
        text = re.sub(r"[^a-z]", "", str(value).lower()) if isinstance(value, str) else None
        if text not in _CATEGORY_KEYS:
            pos = int(np.argmax(codes == i))
            raise DataError(
                f"column {column!r} of {arg} has unknown forecast category {show(value)} at "
                f"{describe_row(frame, pos, key)}; expected one of 'closed', 'commit', "
                "'best case', 'pipeline', 'omitted' (case, spaces and underscores ignored)",
                column=column,
                row=frame.index[pos],
                value=value,
            )
        table[i] = _CATEGORY_KEYS[text]
    return table[codes]


def forecast_rollup(
    opportunities: pd.DataFrame,
    *,
    category: str = "forecast_category",
    amount: str = "amount",
    opportunity: str = "opportunity_id",
    by: str | None = None,
    currency: str | None = None,
    rates: Mapping[Any, float] | None = None,
    reporting_currency: Any = None,
    decimals: int = 2,
) -> pd.DataFrame:
    """Total deals by forecast category, with Salesforce-style cumulative roll-ups.

    Categories (case, spaces and underscores ignored, so ``"Best Case"`` = ``"best_case"``):
    ``closed`` (won deals), ``commit``, ``best_case``, ``pipeline`` and ``omitted`` (lost or
    excluded deals). The cumulative roll-ups follow Salesforce Collaborative Forecasts
    (ForecastingSubmissionItem, ``ForecastingItemCategory``: CommitForecast = Commit + Closed;
    BestCaseForecast = Best Case + Commit + Closed; OpenPipeline = Pipeline + Best Case +
    Commit, closed excluded; omitted is in none):

    * ``commit_forecast = closed + commit``
    * ``best_case_forecast = closed + commit + best_case``
    * ``open_pipeline = commit + best_case + pipeline``

    Salesforce's optional "Most Likely" category is not supported (an unknown category is an
    error, not silently omitted).

    Parameters
    ----------
    opportunities
        One row per deal.
    category, amount, opportunity
        Columns: forecast category, amount (finite, >= 0), unique deal id.
    by
        Optional grouping column (owner, region, ...); one row per group.
    currency, rates, reporting_currency, decimals
        As in :func:`~crmcore.pipeline.pipeline_by_stage`: several currencies need ``rates``.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` group (sorted; a single row ``"total"`` without ``by``), columns
        ``closed``, ``commit``, ``best_case``, ``pipeline``, ``omitted`` (amount per category),
        ``commit_forecast``, ``best_case_forecast``, ``open_pipeline`` (roll-ups) and
        ``count`` (deals, int64).

    Raises
    ------
    SchemaError
        A column is missing or the table is empty.
    DataError
        An unknown or missing category, repeated ids, NaN or negative amounts.
    CurrencyError
        Several currencies without rates, or a currency missing from ``rates``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import forecast_rollup
    >>> deals = pd.DataFrame({
    ...     "opportunity_id": [1, 2, 3, 4, 5],
    ...     "forecast_category": ["Closed", "Commit", "Best Case", "Pipeline", "Omitted"],
    ...     "amount": [100.0, 200.0, 300.0, 400.0, 500.0]})
    >>> forecast_rollup(deals).T
                         total
    closed               100.0
    commit               200.0
    best_case            300.0
    pipeline             400.0
    omitted              500.0
    commit_forecast      300.0
    best_case_forecast   600.0
    open_pipeline        900.0
    count                  5.0
    """
    arg = "opportunities"
    cols = [opportunity, category, amount] + ([by] if by else [])
    cols += [currency] if currency else []
    require_columns(opportunities, cols, arg=arg)
    require_not_null(opportunities, opportunity, arg=arg)
    require_unique(opportunities, opportunity, arg=arg)
    cat = _normalise_categories(opportunities, category, arg=arg, key=opportunity)
    money = _money(
        opportunities,
        amount,
        arg=arg,
        key=opportunity,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        must_sum=True,
    )
    groups, labels = _groups(opportunities, by, arg=arg, key=opportunity)
    n_groups = len(labels)
    k = len(CATEGORIES)
    sums = _group_sum(groups * k + cat, money.cents, n_groups * k).reshape(n_groups, k)
    closed, commit, best, pipe, omitted = (sums[:, i] for i in range(k))
    out = pd.DataFrame(
        {
            "closed": _to_amount(closed, decimals),
            "commit": _to_amount(commit, decimals),
            "best_case": _to_amount(best, decimals),
            "pipeline": _to_amount(pipe, decimals),
            "omitted": _to_amount(omitted, decimals),
            "commit_forecast": _to_amount(closed + commit, decimals),
            "best_case_forecast": _to_amount(closed + commit + best, decimals),
            "open_pipeline": _to_amount(commit + best + pipe, decimals),
            "count": np.bincount(groups, minlength=n_groups).astype(np.int64),
        },
        index=labels,
    )
    out.attrs["reporting_currency"] = money.reporting
    return out


WATERFALL_BUCKETS = (
    "start",
    "new",
    "increased",
    "decreased",
    "pulled_in",
    "pushed_out",
    "won",
    "lost",
    "end",
)
_SIGNS = np.asarray([0, 1, 1, -1, 1, -1, -1, -1, 0], dtype=np.int64)


def _snapshot(
    frame: pd.DataFrame,
    *,
    arg: str,
    opportunity: str,
    stage: str,
    amount: str,
    close_date: str | None,
    window: tuple[pd.Timestamp | None, pd.Timestamp | None],
    won: str,
    lost: str,
    currency: str | None,
    rates: Mapping[Any, float] | None,
    reporting_currency: Any,
    decimals: int,
) -> tuple[pd.Index, IntArray, npt.NDArray[np.bool_], npt.NDArray[np.bool_], IntArray]:
    """Ids, state codes (0 open, 1 won, 2 lost), open mask, in-pipeline mask and cents."""
    deals = _prepare(
        frame,
        (close_date,),
        arg=arg,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        won=won,
        lost=lost,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        allow_empty=True,
    )
    is_open, cents = deals.is_open, deals.cents
    state = np.where(deals.is_won, 1, np.where(deals.is_lost, 2, 0)).astype(np.int64)
    inside = is_open.copy()
    start, end = window
    if close_date is not None and (start is not None or end is not None):
        dates = _optional_dates(frame, close_date, arg=arg, key=opportunity)
        missing = is_open & dates.isna().to_numpy()
        pos = first_true(missing)
        if pos is not None:
            raise DataError(
                f"column {close_date!r} of {arg} has no close date at "
                f"{describe_row(frame, pos, opportunity)}, an open deal; the waterfall window "
                "needs the close date of every open deal",
                column=close_date,
                row=frame.index[pos],
                value=None,
            )
        inside &= _in_window(pd.DatetimeIndex(dates), window, column=close_date, arg=arg)
    return pd.Index(frame[opportunity]), state, is_open, inside, cents


def _in_window(
    stamps: pd.DatetimeIndex,
    window: tuple[pd.Timestamp | None, pd.Timestamp | None],
    *,
    column: str,
    arg: str,
) -> npt.NDArray[np.bool_]:
    """Which dates lie in ``[period_start, period_end]`` (NaT: none); ``None`` bounds are open."""
    tz = getattr(stamps.dtype, "tz", None)
    for bound, name in zip(window, ("period_start", "period_end"), strict=True):
        if bound is not None and (bound.tzinfo is None) != (tz is None):
            raise ConfigError(
                f"{name}={bound!r} and column {column!r} of {arg} mix naive and tz-aware "
                "dates; use one convention",
                column=name,
                value=bound,
            )
    inside = np.asarray(stamps.notna(), dtype=bool)
    if window[0] is not None:
        inside &= np.asarray(stamps >= window[0])
    if window[1] is not None:
        inside &= np.asarray(stamps <= window[1])
    return inside


def _bound(value: object, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)  # type: ignore[arg-type]  # validated right here
    except (ValueError, TypeError):
        raise ConfigError(f"{name}={value!r} is not a date", column=name, value=value) from None
    if pd.isna(ts):
        raise ConfigError(f"{name} is NaT; expected a date", column=name, value=value)
    return ts


def pipeline_waterfall(
    snapshot_start: pd.DataFrame,
    snapshot_end: pd.DataFrame,
    *,
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    amount: str = "amount",
    close_date: str | None = None,
    period_start: object = None,
    period_end: object = None,
    won: str = "won",
    lost: str = "lost",
    missing: Literal["error", "lost"] = "error",
    currency: str | None = None,
    rates: Mapping[Any, float] | None = None,
    reporting_currency: Any = None,
    decimals: int = 2,
) -> pd.DataFrame:
    """Explain how the open pipeline moved between two snapshots, to the cent.

    The *pipeline* of a snapshot is its open deals (stage neither ``won`` nor ``lost``) whose
    close date falls in the window ``[period_start, period_end]`` (both inclusive, either may
    be omitted; with no window every open deal counts and ``close_date`` is not needed). Each
    deal is put in exactly one bucket, in this order of precedence:

    * in the start pipeline and ``won`` at the end: **won**, at its *start* amount;
    * in the start pipeline and ``lost`` at the end (or, with ``missing="lost"``, absent from
      the end snapshot): **lost**, at its start amount;
    * in both pipelines: the change of amount, **increased** (end - start when positive) or
      **decreased** (start - end when positive);
    * in the start pipeline, still open at the end but with its close date moved out of the
      window (later or earlier): **pushed_out**, at its start amount;
    * in the end pipeline, open at the start but outside the window then: **pulled_in**, at its
      end amount;
    * in the end pipeline, absent from the start snapshot or closed there (re-opened): **new**,
      at its end amount.

    Deals in neither pipeline (e.g. created and won between the snapshots) are in no bucket.
    By construction, in exact minor units:
    ``start + new + increased - decreased + pulled_in - pushed_out - won - lost = end``.

    Parameters
    ----------
    snapshot_start, snapshot_end
        The deals at the start and at the end of the period, one row per deal. Either may
        be empty (an empty start pipeline: every deal at the end is new).
    opportunity, stage, amount
        Columns: deal id (unique per snapshot), stage, amount (finite, >= 0).
    close_date
        Column of expected close dates; needed (for every open deal) when a window is given.
    period_start, period_end
        The window of close dates that defines the pipeline.
    won, lost
        Names of the terminal stages.
    missing
        A deal of the start pipeline absent from the end snapshot: ``"error"`` (default) or
        ``"lost"`` (count it as lost).
    currency, rates, reporting_currency, decimals
        As in :func:`~crmcore.pipeline.pipeline_by_stage`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``bucket``: ``start``, ``new``, ``increased``, ``decreased``,
        ``pulled_in``, ``pushed_out``, ``won``, ``lost``, ``end``; columns ``amount``
        (non-negative), ``count`` (deals in the bucket, int64) and ``sign`` (+1 adds to the
        pipeline, -1 removes, 0 for start and end), so ``start + sum(sign * amount) = end``.

    Raises
    ------
    DataError
        Repeated ids, missing stages or amounts, an open deal without a close date when a
        window is given, a start-pipeline deal absent at the end with ``missing="error"``.
    ConfigError
        Bad window bounds or ``missing``; naive and tz-aware dates mixed.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import pipeline_waterfall
    >>> start = pd.DataFrame({"opportunity_id": [1, 2, 3, 4],
    ...                       "stage": ["bid", "bid", "negotiation", "bid"],
    ...                       "amount": [100.0, 200.0, 300.0, 400.0]})
    >>> end = pd.DataFrame({"opportunity_id": [1, 2, 3, 4, 5],
    ...                     "stage": ["negotiation", "won", "lost", "bid", "prospect"],
    ...                     "amount": [150.0, 250.0, 300.0, 350.0, 50.0]})
    >>> pipeline_waterfall(start, end)
                amount  count  sign
    bucket
    start       1000.0      4     0
    new           50.0      1     1
    increased     50.0      1     1
    decreased     50.0      1    -1
    pulled_in      0.0      0     1
    pushed_out     0.0      0    -1
    won          200.0      1    -1
    lost         300.0      1    -1
    end          550.0      3     0
    """
    check_choice(missing, "missing", ("error", "lost"))
    window = (_bound(period_start, "period_start"), _bound(period_end, "period_end"))
    if (window[0] is not None or window[1] is not None) and close_date is None:
        raise ConfigError(
            "period_start/period_end need close_date=<column> to tell which deals fall in "
            "the window",
            column="close_date",
        )
    if window[0] is not None and window[1] is not None and window[0] > window[1]:
        raise ConfigError(
            f"period_start={window[0]} is after period_end={window[1]}",
            column="period_start",
            value=window[0],
        )
    common = {
        "opportunity": opportunity,
        "stage": stage,
        "amount": amount,
        "close_date": close_date,
        "window": window,
        "won": won,
        "lost": lost,
        "currency": currency,
        "rates": rates,
        "reporting_currency": reporting_currency,
        "decimals": decimals,
    }
    s_ids, _, s_open, s_in, s_amt = _snapshot(snapshot_start, arg="snapshot_start", **common)
    e_ids, e_state, _, e_in, e_amt = _snapshot(snapshot_end, arg="snapshot_end", **common)
    s_to_e = np.asarray(e_ids.get_indexer(s_ids), dtype=np.int64)
    e_to_s = np.asarray(s_ids.get_indexer(e_ids), dtype=np.int64)
    absent = s_in & (s_to_e < 0)
    if missing == "error":
        pos = first_true(absent)
        if pos is not None:
            raise DataError(
                f"deal {show(s_ids[pos])} is in the start pipeline "
                f"({describe_row(snapshot_start, pos, opportunity)} of snapshot_start) but "
                "not in snapshot_end; pass missing='lost' to count such deals as lost",
                column=opportunity,
                row=snapshot_start.index[pos],
                value=s_ids[pos],
            )
    j = np.where(s_to_e >= 0, s_to_e, 0)
    end_state = np.where(s_to_e >= 0, e_state[j] if len(e_state) else 0, 2)
    end_in = np.where(s_to_e >= 0, e_in[j] if len(e_in) else False, False)
    is_won = s_in & (end_state == 1)
    is_lost = s_in & (end_state == 2)
    stays = s_in & end_in
    pushed = s_in & (end_state == 0) & ~end_in
    diff = np.where(stays, (e_amt[j] if len(e_amt) else 0) - s_amt, 0)
    i = np.where(e_to_s >= 0, e_to_s, 0)
    start_open = np.where(e_to_s >= 0, s_open[i] if len(s_open) else False, False)
    start_in = np.where(e_to_s >= 0, s_in[i] if len(s_in) else False, False)
    pulled = e_in & start_open & ~start_in
    new = e_in & ~start_open
    amounts = np.asarray(
        [
            s_amt[s_in].sum(),
            e_amt[new].sum(),
            np.maximum(diff, 0).sum(),
            np.maximum(-diff, 0).sum(),
            e_amt[pulled].sum(),
            s_amt[pushed].sum(),
            s_amt[is_won].sum(),
            s_amt[is_lost].sum(),
            e_amt[e_in].sum(),
        ],
        dtype=np.int64,
    )
    counts = np.asarray(
        [
            s_in.sum(),
            new.sum(),
            (diff > 0).sum(),
            (diff < 0).sum(),
            pulled.sum(),
            pushed.sum(),
            is_won.sum(),
            is_lost.sum(),
            e_in.sum(),
        ],
        dtype=np.int64,
    )
    out = pd.DataFrame(
        {"amount": _to_amount(amounts, decimals), "count": counts, "sign": _SIGNS.copy()},
        index=pd.Index(list(WATERFALL_BUCKETS), name="bucket", dtype=object),
    )
    return out


def _dates_for(
    frame: pd.DataFrame, column: str, rows: npt.NDArray[np.bool_], *, arg: str, key: str
) -> pd.DatetimeIndex:
    dates = _optional_dates(frame, column, arg=arg, key=key)
    pos = first_true(rows & dates.isna().to_numpy())
    if pos is not None:
        raise DataError(
            f"column {column!r} of {arg} has a missing date at {describe_row(frame, pos, key)}, "
            "a won deal; won deals need created and close dates",
            column=column,
            row=frame.index[pos],
            value=None,
        )
    return pd.DatetimeIndex(dates)


def sales_velocity(
    opportunities: pd.DataFrame,
    *,
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    amount: str = "amount",
    created_at: str = "created_at",
    close_date: str = "close_date",
    won: str = "won",
    lost: str = "lost",
    by: str | None = None,
    currency: str | None = None,
    rates: Mapping[Any, float] | None = None,
    reporting_currency: Any = None,
    decimals: int = 2,
) -> pd.DataFrame:
    """Sales velocity: expected revenue per day the pipeline produces.

    ``velocity = opportunities * win_rate * average_deal_size / cycle_days``, the common
    four-lever formula (e.g. https://www.mavenlb.com/blog/sales-velocity-formula,
    https://winsabove.pages.dev/glossary/sales-velocity), with, per group:

    * ``opportunities``: open deals (stage neither ``won`` nor ``lost``);
    * ``win_rate``: won ÷ (won + lost) deals;
    * ``average_deal_size``: mean amount of won deals;
    * ``cycle_days``: mean days from ``created_at`` to ``close_date`` of won deals.

    Ratios that are undefined (no closed deal, no won deal, a cycle of 0 days) are NaN.

    Parameters
    ----------
    opportunities
        One row per deal.
    opportunity, stage, amount, created_at, close_date
        Columns; the two dates are needed for won deals only (others may be missing).
    won, lost
        Names of the terminal stages; every other stage counts as open.
    by
        Optional grouping column (owner, region, ...).
    currency, rates, reporting_currency, decimals
        As in :func:`~crmcore.pipeline.pipeline_by_stage`.

    Returns
    -------
    pandas.DataFrame
        One row per group (a single ``"total"`` row without ``by``), columns
        ``opportunities`` (int64), ``won`` (int64), ``lost`` (int64), ``win_rate``,
        ``average_deal_size``, ``cycle_days`` and ``velocity`` (amount per day).

    Raises
    ------
    DataError
        A won deal without dates or closed before it was created; bad ids or amounts.
    SchemaError, CurrencyError
        Missing columns; several currencies without rates.

    Examples
    --------
    Four open deals, one won (1 000, 30 days) and one lost: 4 * 0.5 * 1 000 / 30 = 66.67.

    >>> import pandas as pd
    >>> from crmcore.pipeline import sales_velocity
    >>> deals = pd.DataFrame({
    ...     "opportunity_id": [1, 2, 3, 4, 5, 6],
    ...     "stage": ["bid", "bid", "bid", "bid", "won", "lost"],
    ...     "amount": [500.0, 500.0, 500.0, 500.0, 1000.0, 800.0],
    ...     "created_at": pd.to_datetime(["2025-01-01"] * 6),
    ...     "close_date": pd.to_datetime([None] * 4 + ["2025-01-31", "2025-01-15"])})
    >>> sales_velocity(deals).round(2).T
                         total
    opportunities         4.00
    won                   1.00
    lost                  1.00
    win_rate              0.50
    average_deal_size  1000.00
    cycle_days           30.00
    velocity             66.67
    """
    arg = "opportunities"
    is_won, is_lost, is_open, cents = _prepare(
        opportunities,
        (created_at, close_date, by),
        arg=arg,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        won=won,
        lost=lost,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
    )
    created = _dates_for(opportunities, created_at, is_won, arg=arg, key=opportunity)
    closed = _dates_for(opportunities, close_date, is_won, arg=arg, key=opportunity)
    if is_won.any():
        cycle = np.zeros(len(opportunities), dtype=np.float64)
        cycle[is_won] = (closed[is_won] - created[is_won]) / pd.Timedelta(days=1)
        pos = first_true(cycle < 0)
        if pos is not None:
            raise DataError(
                f"column {close_date!r} of {arg} has close date {closed[pos]} before the "
                f"created date {created[pos]} at {describe_row(opportunities, pos, opportunity)}",
                column=close_date,
                row=opportunities.index[pos],
                value=closed[pos],
            )
    else:
        cycle = np.zeros(len(opportunities), dtype=np.float64)
    groups, labels = _groups(opportunities, by, arg=arg, key=opportunity)
    n = len(labels)
    n_open = np.bincount(groups, weights=is_open, minlength=n).astype(np.int64)
    n_won = np.bincount(groups, weights=is_won, minlength=n).astype(np.int64)
    n_lost = np.bincount(groups, weights=is_lost, minlength=n).astype(np.int64)
    won_cents = _group_sum(groups, np.where(is_won, cents, 0), n)
    cycle_sum = np.bincount(groups, weights=cycle, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        closed_n = (n_won + n_lost).astype(np.float64)
        win_rate = np.where(closed_n > 0, n_won / np.where(closed_n > 0, closed_n, 1), np.nan)
        safe_won = np.where(n_won > 0, n_won, 1)
        size = np.where(n_won > 0, _to_amount(won_cents, decimals) / safe_won, np.nan)
        days = np.where(n_won > 0, cycle_sum / safe_won, np.nan)
        velocity = n_open * win_rate * size / np.where(days > 0, days, np.nan)
    return pd.DataFrame(
        {
            "opportunities": n_open,
            "won": n_won,
            "lost": n_lost,
            "win_rate": win_rate,
            "average_deal_size": size,
            "cycle_days": days,
            "velocity": velocity,
        },
        index=labels,
    )


def _quota_array(quota: object, labels: pd.Index, by: str | None) -> FloatArray:
    def number(value: object, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(float(value)):
            raise ConfigError(
                f"quota{where} must be a finite number >= 0, got {value!r}",
                column="quota",
                value=value,
            )
        if value < 0:
            raise ConfigError(
                f"quota{where} == {value!r}, must be >= 0", column="quota", value=value
            )
        return float(value)

    if by is None:
        if isinstance(quota, Mapping | pd.Series):
            raise ConfigError(
                "quota is per group but by is None; pass by=<column> or a single number",
                column="quota",
            )
        return np.asarray([number(quota, "")], dtype=np.float64)
    if not isinstance(quota, Mapping | pd.Series):
        raise ConfigError(
            f"quota must map each {by} to its quota (a dict or Series) when by={by!r}, got "
            f"{type(quota).__name__}",
            column="quota",
        )
    table: dict[Hashable, Any] = dict(quota.items())
    out = np.empty(len(labels), dtype=np.float64)
    for pos, label in enumerate(labels):
        if label not in table:
            raise ConfigError(
                f"quota has no entry for {by}={show(label)}; every group with deals needs one",
                column="quota",
                value=label,
            )
        out[pos] = number(table[label], f"[{label!r}]")
    return out


def pipeline_coverage(
    opportunities: pd.DataFrame,
    quota: float | Mapping[Any, float] | pd.Series,
    *,
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    amount: str = "amount",
    close_date: str | None = None,
    period_start: object = None,
    period_end: object = None,
    won: str = "won",
    lost: str = "lost",
    by: str | None = None,
    basis: Literal["amount", "count"] = "amount",
    currency: str | None = None,
    rates: Mapping[Any, float] | None = None,
    reporting_currency: Any = None,
    decimals: int = 2,
) -> pd.DataFrame:
    """Pipeline coverage: open pipeline ÷ remaining quota, against the coverage the win rate needs.

    Per group (e.g. https://winsabove.pages.dev/glossary/pipeline-coverage-ratio):

    * ``closed_won``: amount of won deals (with a window: those closing in it);
    * ``remaining = max(quota - closed_won, 0)``;
    * ``open_pipeline``: amount of open deals (with a window: closing in it);
    * ``coverage = open_pipeline ÷ remaining`` (``inf`` when nothing remains);
    * ``win_rate``: won ÷ (won + lost) over *all* closed deals of the group, by amount
      (``basis="amount"``, default) or by number of deals (``basis="count"``); NaN without
      closed deals;
    * ``required_coverage = 1 ÷ win_rate`` (``inf`` at a win rate of 0);
    * ``pipeline_needed = remaining * required_coverage`` and ``covered = coverage >=
      required_coverage``.

    Parameters
    ----------
    opportunities
        One row per deal.
    quota
        A number (without ``by``) or a mapping / Series group -> quota (with ``by``; every
        group with deals needs an entry, groups without deals are added with zeros).
    opportunity, stage, amount
        Columns: unique deal id, stage, amount (finite, >= 0).
    close_date, period_start, period_end
        Optional window: only deals whose close date falls in ``[period_start, period_end]``
        count towards ``closed_won`` and ``open_pipeline``; deals without a close date are
        then outside.
    won, lost
        Names of the terminal stages; every other stage counts as open.
    by
        Optional grouping column.
    basis
        ``"amount"`` or ``"count"``: how the win rate is measured.
    currency, rates, reporting_currency, decimals
        As in :func:`~crmcore.pipeline.pipeline_by_stage`.

    Returns
    -------
    pandas.DataFrame
        One row per group (a single ``"total"`` row without ``by``), columns ``quota``,
        ``closed_won``, ``remaining``, ``open_pipeline``, ``coverage``, ``win_rate``,
        ``required_coverage``, ``pipeline_needed`` and ``covered`` (bool).

    Raises
    ------
    ConfigError
        A bad quota (negative, missing for a group, per group without ``by``), window or
        ``basis``.
    SchemaError, DataError, CurrencyError
        As in :func:`forecast_rollup`.

    Examples
    --------
    Quota 1 000, 200 won, 2 400 open: coverage 2 400 ÷ 800 = 3; win rate 200 ÷ (200 + 600) =
    0.25 needs a coverage of 4, i.e. 3 200 of pipeline.

    >>> import pandas as pd
    >>> from crmcore.pipeline import pipeline_coverage
    >>> deals = pd.DataFrame({"opportunity_id": [1, 2, 3, 4],
    ...                       "stage": ["won", "lost", "bid", "negotiation"],
    ...                       "amount": [200.0, 600.0, 1400.0, 1000.0]})
    >>> pipeline_coverage(deals, 1000).T
                        total
    quota              1000.0
    closed_won          200.0
    remaining           800.0
    open_pipeline      2400.0
    coverage              3.0
    win_rate             0.25
    required_coverage     4.0
    pipeline_needed    3200.0
    covered             False
    """
    arg = "opportunities"
    check_choice(basis, "basis", ("amount", "count"))
    window = (_bound(period_start, "period_start"), _bound(period_end, "period_end"))
    windowed = window[0] is not None or window[1] is not None
    if windowed and close_date is None:
        raise ConfigError("period_start/period_end need close_date=<column>", column="close_date")
    is_won, is_lost, is_open, cents = _prepare(
        opportunities,
        (by, close_date),
        arg=arg,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        won=won,
        lost=lost,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
    )
    inside = np.ones(len(opportunities), dtype=bool)
    if windowed and close_date is not None:
        dates = _optional_dates(opportunities, close_date, arg=arg, key=opportunity)
        inside = _in_window(pd.DatetimeIndex(dates), window, column=close_date, arg=arg)
    groups, labels = _groups(opportunities, by, arg=arg, key=opportunity)
    if by is not None and isinstance(quota, Mapping | pd.Series):
        extra = [k for k in dict(quota.items()) if k not in set(labels)]
        if extra:
            labels = pd.Index(sorted([*labels, *extra]), name=by)
            groups = np.asarray(labels.get_indexer(opportunities[by]), dtype=np.int64)
    n = len(labels)
    quotas = _quota_array(quota, labels, by)
    won_in = _group_sum(groups, np.where(is_won & inside, cents, 0), n)
    open_in = _group_sum(groups, np.where(is_open & inside, cents, 0), n)
    if basis == "amount":
        won_all = _group_sum(groups, np.where(is_won, cents, 0), n).astype(np.float64)
        lost_all = _group_sum(groups, np.where(is_lost, cents, 0), n).astype(np.float64)
    else:
        won_all = np.bincount(groups, weights=is_won, minlength=n).astype(np.float64)
        lost_all = np.bincount(groups, weights=is_lost, minlength=n).astype(np.float64)
    closed_won = _to_amount(won_in, decimals)
    open_pipeline = _to_amount(open_in, decimals)
    remaining = np.maximum(quotas - closed_won, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = won_all + lost_all
        win_rate = np.where(total > 0, won_all / np.where(total > 0, total, 1.0), np.nan)
        coverage = np.where(
            remaining > 0, open_pipeline / np.where(remaining > 0, remaining, 1), np.inf
        )
        required = np.where(win_rate > 0, 1.0 / np.where(win_rate > 0, win_rate, 1.0), np.inf)
        required = np.where(np.isnan(win_rate), np.nan, required)
        needed = np.where(remaining > 0, remaining * required, 0.0)
    return pd.DataFrame(
        {
            "quota": quotas,
            "closed_won": closed_won,
            "remaining": remaining,
            "open_pipeline": open_pipeline,
            "coverage": coverage,
            "win_rate": win_rate,
            "required_coverage": required,
            "pipeline_needed": needed,
            "covered": np.asarray(coverage >= required, dtype=bool),
        },
        index=labels,
    )
