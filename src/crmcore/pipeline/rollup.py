"""Roll-ups of a pipeline: forecast categories, waterfall, velocity and coverage.

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
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._compat import renamed_parameters
from crmcore._frames import check_choice, describe_row, first_true, require_not_null, show
from crmcore.errors import ConfigError, DataError
from crmcore.money import from_minor_units, sum_minor_units
from crmcore.pipeline._dates import US_PER_DAY, micros
from crmcore.pipeline._deals import Deals, parse_deals, sum_cents

__all__ = ["forecast_rollup", "pipeline_coverage", "pipeline_waterfall", "sales_velocity"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Window = tuple[pd.Timestamp | None, pd.Timestamp | None]

CATEGORIES = ("closed", "commit", "most_likely", "best_case", "pipeline", "omitted")
CLOSED, COMMIT, MOST_LIKELY, BEST_CASE, PIPELINE, OMITTED = range(6)
# Names CRMs give the categories, lower case with everything but letters removed. Salesforce:
# labels Closed, Commit, Most Likely, Best Case, Pipeline, Omitted; API values Closed,
# Forecast (= Commit), MostLikely, BestCase, Pipeline, Omitted (OpportunityStage
# ForecastCategory). Won/closed won and lost/closed lost deals, and "upside" and "not
# forecasted" as other tools label best case and omitted, are accepted too.
_CATEGORY_KEYS = {
    **{c.replace("_", ""): i for i, c in enumerate(CATEGORIES)},
    "won": CLOSED,
    "closedwon": CLOSED,
    "committed": COMMIT,
    "forecast": COMMIT,
    "upside": BEST_CASE,
    "lost": OMITTED,
    "closedlost": OMITTED,
    "notforecasted": OMITTED,
}
# Each output column: the categories it adds up (Salesforce Collaborative Forecasts roll-ups).
_ROLLUPS = {
    **{c: (i,) for i, c in enumerate(CATEGORIES)},
    "commit_forecast": (CLOSED, COMMIT),
    "most_likely_forecast": (CLOSED, COMMIT, MOST_LIKELY),
    "best_case_forecast": (CLOSED, COMMIT, MOST_LIKELY, BEST_CASE),
    "open_pipeline": (COMMIT, MOST_LIKELY, BEST_CASE, PIPELINE),
}


def _groups(
    frame: pd.DataFrame, by: str | None, *, arg: str, key: str | None
) -> tuple[IntArray, pd.Index]:
    """Integer group code per row and the sorted group labels (one ``"total"`` without ``by``)."""
    if by is None:
        return np.zeros(len(frame), dtype=np.int64), pd.Index(["total"], dtype=object)
    require_not_null(frame, by, arg=arg, key=key)
    codes, uniques = pd.factorize(frame[by], sort=True)
    return codes.astype(np.int64), pd.Index(uniques, name=by)


def _group_cents(
    groups: IntArray, cents: IntArray, mask: npt.ArrayLike, labels: pd.Index
) -> IntArray:
    """Exact per-group sums of the cents of the rows in ``mask`` (checked against overflow)."""
    values = np.where(mask, cents, 0)
    return sum_cents(values, groups, len(labels), name="amounts", labels=labels)


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
                f"{describe_row(frame, pos, key)}; expected one of 'closed' (or 'won'), "
                "'commit' (or 'committed', 'forecast'), 'most likely', 'best case' (or "
                "'upside'), 'pipeline', 'omitted' (or 'lost', 'not forecasted'); case, spaces "
                "and underscores ignored",
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

    Categories, from the most to the least certain (case, spaces and underscores ignored, so
    ``"Best Case"`` = ``"best_case"``): ``closed`` (won deals; also ``"won"``, ``"closed
    won"``), ``commit`` (also ``"committed"``, and ``"forecast"``, Salesforce's API value for
    Commit), ``most_likely`` (Salesforce's optional category between commit and best case),
    ``best_case`` (also ``"upside"``), ``pipeline`` and ``omitted`` (lost or excluded deals;
    also ``"lost"``, ``"closed lost"``, ``"not forecasted"``). Any other value is an error,
    never silently omitted. The cumulative roll-ups follow Salesforce Collaborative Forecasts
    (ForecastingSubmissionItem, ``ForecastingItemCategory``, API 62.0: CommitForecast =
    Commit + Closed; MostLikelyForecast = Most Likely + Commit + Closed; BestCaseForecast =
    Best Case + Most Likely + Commit + Closed; OpenPipeline = Pipeline + Best Case + Most
    Likely + Commit, closed excluded; omitted is in none):

    * ``commit_forecast = closed + commit``
    * ``most_likely_forecast = closed + commit + most_likely``
    * ``best_case_forecast = closed + commit + most_likely + best_case``
    * ``open_pipeline = commit + most_likely + best_case + pipeline``

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
        ``closed``, ``commit``, ``most_likely``, ``best_case``, ``pipeline``, ``omitted``
        (amount per category), ``commit_forecast``, ``most_likely_forecast``,
        ``best_case_forecast``, ``open_pipeline`` (roll-ups),
        ``count`` (deals, int64) and, when the currency of the amounts is known (the
        ``reporting_currency`` argument, or the one currency of the ``currency`` column),
        ``reporting_currency``.

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
    ...     "opportunity_id": [1, 2, 3, 4, 5, 6],
    ...     "forecast_category": ["Closed", "Commit", "Most Likely", "Best Case", "Pipeline",
    ...                           "Omitted"],
    ...     "amount": [100.0, 200.0, 50.0, 300.0, 400.0, 500.0]})
    >>> forecast_rollup(deals).T
                           total
    closed                 100.0
    commit                 200.0
    most_likely             50.0
    best_case              300.0
    pipeline               400.0
    omitted                500.0
    commit_forecast        300.0
    most_likely_forecast   350.0
    best_case_forecast     650.0
    open_pipeline          950.0
    count                    6.0
    """
    arg = "opportunities"
    deals = parse_deals(
        opportunities,
        opportunity=opportunity,
        stage=None,
        amount=amount,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        extra=(category, by),
    )
    cat = _normalise_categories(deals.frame, category, arg=arg, key=opportunity)
    groups, labels = _groups(deals.frame, by, arg=arg, key=opportunity)
    n_groups = len(labels)
    cents = deals.money.cents
    columns: dict[str, Any] = {}
    for name, members in _ROLLUPS.items():
        sums = _group_cents(groups, cents, np.isin(cat, members), labels)
        columns[name] = from_minor_units(sums, decimals)
    columns["count"] = np.bincount(groups, minlength=n_groups).astype(np.int64)
    if deals.money.reporting is not None:
        columns["reporting_currency"] = np.full(n_groups, deals.money.reporting, dtype=object)
    return pd.DataFrame(columns, index=labels)


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
    close_date: str | None,
    window: Window,
    options: dict[str, Any],
) -> tuple[Deals, npt.NDArray[np.bool_]]:
    """Return the parsed deals of a snapshot and which of them are in its pipeline."""
    windowed = window != (None, None)
    deals = parse_deals(
        frame,
        arg=arg,
        close_date=close_date if windowed else None,
        extra=(close_date,),
        allow_empty=True,
        **options,
    )
    inside = deals.is_open.copy()
    if windowed and close_date is not None and deals.close_date is not None:
        dates = deals.close_date
        pos = first_true(inside & dates.isna().to_numpy())
        if pos is not None:
            raise DataError(
                f"column {close_date!r} of {arg} has no close date at {deals.where(pos)}, an "
                "open deal; the waterfall window needs the close date of every open deal",
                column=close_date,
                row=deals.label(pos),
                value=None,
            )
        inside &= _in_window(pd.DatetimeIndex(dates), window, column=close_date, arg=arg)
    return deals, inside


def _in_window(
    stamps: pd.DatetimeIndex, window: Window, *, column: str, arg: str
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


def _window(period_start: object, period_end: object, close_date: str | None) -> Window:
    """Return the close-date window ``[period_start, period_end]``: both optional, in order."""
    window = (_bound(period_start, "period_start"), _bound(period_end, "period_end"))
    start, end = window
    if (start is not None or end is not None) and close_date is None:
        raise ConfigError(
            "period_start/period_end need close_date=<column> to tell which deals fall in "
            "the window",
            column="close_date",
        )
    if start is not None and end is not None:
        if (start.tzinfo is None) != (end.tzinfo is None):
            raise ConfigError(
                f"period_start={start!r} and period_end={end!r} mix naive and tz-aware dates; "
                "use one convention",
                column="period_end",
                value=end,
            )
        if start > end:
            raise ConfigError(
                f"period_start={start} is after period_end={end}; the window must not be empty",
                column="period_start",
                value=start,
            )
    return window


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
    window = _window(period_start, period_end, close_date)
    options: dict[str, Any] = {
        "opportunity": opportunity,
        "stage": stage,
        "amount": amount,
        "won": won,
        "lost": lost,
        "currency": currency,
        "rates": rates,
        "reporting_currency": reporting_currency,
        "decimals": decimals,
    }
    common: dict[str, Any] = {"close_date": close_date, "window": window, "options": options}
    start, s_in = _snapshot(snapshot_start, arg="snapshot_start", **common)
    end, e_in = _snapshot(snapshot_end, arg="snapshot_end", **common)
    s_to_e = np.asarray(end.ids.get_indexer(start.ids), dtype=np.int64)
    if missing == "error":
        pos = first_true(s_in & (s_to_e < 0))
        if pos is not None:
            raise DataError(
                f"deal {show(start.ids[pos])} is in the start pipeline ({start.where(pos)} of "
                "snapshot_start) but not in snapshot_end; pass missing='lost' to count such "
                "deals as lost",
                column=opportunity,
                row=start.label(pos),
                value=start.ids[pos],
            )
    amounts, counts = _moves(start, s_in, end, e_in, s_to_e)
    return pd.DataFrame(
        {"amount": from_minor_units(amounts, decimals), "count": counts, "sign": _SIGNS.copy()},
        index=pd.Index(list(WATERFALL_BUCKETS), name="bucket", dtype=object),
    )


def _moves(
    start: Deals,
    s_in: npt.NDArray[np.bool_],
    end: Deals,
    e_in: npt.NDArray[np.bool_],
    s_to_e: IntArray,
) -> tuple[IntArray, IntArray]:
    """Amount (exact minor units) and count of deals per waterfall bucket."""
    s_amt, e_amt = start.money.cents, end.money.cents
    e_to_s = np.asarray(start.ids.get_indexer(end.ids), dtype=np.int64)
    found = s_to_e >= 0
    j = np.where(found, s_to_e, 0)
    end_state = np.where(found, end.state[j] if len(end.state) else 0, 2)
    end_in = found & (e_in[j] if len(e_in) else False)
    is_won = s_in & (end_state == 1)
    is_lost = s_in & (end_state == 2)
    stays = s_in & end_in
    pushed = s_in & (end_state == 0) & ~end_in
    # Both amounts are below 2**53 minor units: their difference cannot overflow.
    diff = np.where(stays, (e_amt[j] if len(e_amt) else 0) - s_amt, 0)
    back = e_to_s >= 0
    i = np.where(back, e_to_s, 0)
    start_open = back & (start.is_open[i] if len(start.state) else False)
    start_in = back & (s_in[i] if len(s_in) else False)
    pulled = e_in & start_open & ~start_in
    new = e_in & ~start_open
    parts = [
        (s_amt, s_in),
        (e_amt, new),
        (np.maximum(diff, 0), diff > 0),
        (np.maximum(-diff, 0), diff < 0),
        (e_amt, pulled),
        (s_amt, pushed),
        (s_amt, is_won),
        (s_amt, is_lost),
        (e_amt, e_in),
    ]
    amounts = np.asarray(
        [sum_minor_units(v[m], name="amounts")[0] for v, m in parts], dtype=np.int64
    )
    counts = np.asarray([int(np.count_nonzero(m)) for _, m in parts], dtype=np.int64)
    return amounts, counts


def _won_micros(deals: Deals, dates: pd.Series, column: str) -> IntArray:
    """Microsecond instants of a date column; every won deal needs one."""
    pos = first_true(deals.is_won & dates.isna().to_numpy())
    if pos is not None:
        raise DataError(
            f"column {column!r} of opportunities has a missing date at {deals.where(pos)}, a "
            "won deal; won deals need created_at and closed_at dates",
            column=column,
            row=deals.label(pos),
            value=None,
        )
    return micros(dates, frame=deals.frame, column=column, arg="opportunities", key=deals.key)


def _cycle_days(deals: Deals, created_at: str, closed_at: str) -> FloatArray:
    """Days from creation to closing of each won deal (0 for the others)."""
    made, done = deals.created_at, deals.closed_at
    if made is None or done is None:  # pragma: no cover - both columns were asked for
        raise ConfigError("created_at and closed_at were not parsed")
    created = _won_micros(deals, made, created_at)
    closed = _won_micros(deals, done, closed_at)
    won = deals.is_won
    cycle = np.zeros(len(won), dtype=np.float64)
    cycle[won] = (closed[won] - created[won]) / US_PER_DAY
    pos = first_true(cycle < 0)
    if pos is not None:
        raise DataError(
            f"column {closed_at!r} of opportunities has closed_at {done.iloc[pos]} before "
            f"created_at {made.iloc[pos]} at {deals.where(pos)}",
            column=closed_at,
            row=deals.label(pos),
            value=done.iloc[pos],
        )
    return cycle


@renamed_parameters(close_date="closed_at")
def sales_velocity(
    opportunities: pd.DataFrame,
    *,
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    amount: str = "amount",
    created_at: str = "created_at",
    closed_at: str = "closed_at",
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
    * ``cycle_days``: mean days from ``created_at`` to ``closed_at`` of won deals.

    Ratios that are undefined (no closed deal, no won deal, a cycle of 0 days) are NaN.

    Parameters
    ----------
    opportunities
        One row per deal.
    opportunity, stage, amount, created_at, closed_at
        Columns; the two dates (when each deal was created, and when it was closed) are
        needed for won deals only (others may be missing). ``closed_at`` was called
        ``close_date`` before 0.2; the old keyword still works for one release, with a
        ``DeprecationWarning``.
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
    ...     "closed_at": pd.to_datetime([None] * 4 + ["2025-01-31", "2025-01-15"])})
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
    deals = parse_deals(
        opportunities,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        won=won,
        lost=lost,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        created_at=created_at,
        closed_at=closed_at,
        extra=(by,),
    )
    cycle = _cycle_days(deals, created_at, closed_at)
    groups, labels = _groups(deals.frame, by, arg=arg, key=opportunity)
    n = len(labels)
    n_open = np.bincount(groups, weights=deals.is_open, minlength=n).astype(np.int64)
    n_won = np.bincount(groups, weights=deals.is_won, minlength=n).astype(np.int64)
    n_lost = np.bincount(groups, weights=deals.is_lost, minlength=n).astype(np.int64)
    won_cents = _group_cents(groups, deals.money.cents, deals.is_won, labels)
    cycle_sum = np.bincount(groups, weights=cycle, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        closed_n = (n_won + n_lost).astype(np.float64)
        win_rate = np.where(closed_n > 0, n_won / np.where(closed_n > 0, closed_n, 1), np.nan)
        safe_won = np.where(n_won > 0, n_won, 1)
        size = np.where(n_won > 0, from_minor_units(won_cents, decimals) / safe_won, np.nan)
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
        A bad quota (negative, missing for a group, per group without ``by``), a bad window
        (``period_start`` after ``period_end``, a window without ``close_date``) or ``basis``.
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
    window = _window(period_start, period_end, close_date)
    windowed = window != (None, None)
    deals = parse_deals(
        opportunities,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        won=won,
        lost=lost,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        close_date=close_date if windowed else None,
        extra=(by, close_date),
    )
    inside = np.ones(len(deals.frame), dtype=bool)
    if windowed and close_date is not None and deals.close_date is not None:
        stamps = pd.DatetimeIndex(deals.close_date)
        inside = _in_window(stamps, window, column=close_date, arg=arg)
    groups, labels = _groups(deals.frame, by, arg=arg, key=opportunity)
    if by is not None and isinstance(quota, Mapping | pd.Series):
        extra = [k for k in dict(quota.items()) if k not in set(labels)]
        if extra:
            labels = pd.Index(sorted([*labels, *extra]), name=by)
            groups = np.asarray(labels.get_indexer(deals.frame[by]), dtype=np.int64)
    n = len(labels)
    quotas = _quota_array(quota, labels, by)
    cents, is_won, is_lost = deals.money.cents, deals.is_won, deals.is_lost
    won_in = _group_cents(groups, cents, is_won & inside, labels)
    open_in = _group_cents(groups, cents, deals.is_open & inside, labels)
    if basis == "amount":
        won_all = _group_cents(groups, cents, is_won, labels).astype(np.float64)
        lost_all = _group_cents(groups, cents, is_lost, labels).astype(np.float64)
    else:
        won_all = np.bincount(groups, weights=is_won, minlength=n).astype(np.float64)
        lost_all = np.bincount(groups, weights=is_lost, minlength=n).astype(np.float64)
    closed_won = np.asarray(from_minor_units(won_in, decimals), dtype=np.float64)
    open_pipeline = np.asarray(from_minor_units(open_in, decimals), dtype=np.float64)
    return _coverage_frame(
        quotas, closed_won, open_pipeline, won=won_all, lost=lost_all, labels=labels
    )


def _coverage_frame(
    quotas: FloatArray,
    closed_won: FloatArray,
    open_pipeline: FloatArray,
    *,
    won: FloatArray,
    lost: FloatArray,
    labels: pd.Index,
) -> pd.DataFrame:
    """Remaining quota, coverage, win rate and the coverage it calls for, per group."""
    remaining = np.maximum(quotas - closed_won, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = won + lost
        win_rate = np.where(total > 0, won / np.where(total > 0, total, 1.0), np.nan)
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
