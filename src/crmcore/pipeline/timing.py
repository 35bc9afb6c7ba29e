"""When pipeline money lands: a landing date per deal and expected revenue per period.

A deal lands on its own close date when it has one, else ``as_of`` plus its stage's expected
days to close. Open deals whose close date lies before ``as_of`` are *overdue*: they are never
dropped silently; by default they land in the ``as_of`` period and are counted in an
``overdue`` column (other policies: exclude them and count them, or raise).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_choice,
    datetime_column,
    describe_row,
    first_true,
    resolve_as_of,
)
from crmcore.errors import ConfigError, DataError
from crmcore.pipeline.funnel import _Deals, _deals, _group_sum, _to_amount
from crmcore.pipeline.stages import StageModel

__all__ = ["close_schedule", "landing_dates"]

OverduePolicy = Literal["as_of", "exclude", "error"]
_SOURCES = np.asarray(["close_date", "stage", "as_of"], dtype=object)


@attrs.frozen
class _Landing:
    deals: _Deals
    as_of: pd.Timestamp
    landing: pd.DatetimeIndex
    source: npt.NDArray[np.int64]
    overdue: npt.NDArray[np.bool_]
    scheduled: npt.NDArray[np.bool_]
    first_start: pd.Timestamp
    offset: pd.DateOffset
    counts: dict[str, int]


def _optional_dates(frame: pd.DataFrame, column: str, *, arg: str, key: str) -> pd.Series:
    """Dates of ``column`` with missing values (NaT) allowed; the rest validated."""
    series = frame[column]
    present = series.notna().to_numpy()
    if not present.any():
        keep = isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
            series.dtype
        )
        return pd.Series(pd.NaT, index=frame.index, dtype=series.dtype if keep else "M8[ns]")
    # Only the date and key columns: messages name the row by index label and key value, and
    # copying every column of the present rows (text columns included) costs far more.
    cols = [column] + ([key] if key != column and key in frame.columns else [])
    parsed = datetime_column(frame.loc[present, cols], column, arg=arg, key=key)
    out = pd.Series(pd.NaT, index=frame.index, dtype=parsed.dtype)
    out.iloc[np.flatnonzero(present)] = parsed.array
    return out


def _offset(freq: object) -> pd.DateOffset:
    try:
        off = pd.tseries.frequencies.to_offset(freq)  # type: ignore[call-overload]  # checked here
    except (ValueError, TypeError):
        raise ConfigError(
            f"freq={freq!r} is not a pandas frequency (use e.g. 'MS', 'QS', 'W-MON', 'D')",
            column="freq",
            value=freq,
        ) from None
    if off is None or getattr(off, "n", 1) != 1:
        raise ConfigError(
            f"freq={freq!r} must be a single period such as 'MS', 'QS', 'W-MON' or 'D'",
            column="freq",
            value=freq,
        )
    if "End" in type(off).__name__:
        raise ConfigError(
            f"freq={freq!r} is anchored at period ends; use the start-anchored form (e.g. "
            "'MS' for 'ME', 'QS' for 'QE', 'YS' for 'YE') so the index holds period starts",
            column="freq",
            value=freq,
        )
    return off  # type: ignore[no-any-return]  # to_offset returns a DateOffset subclass


def _landing(
    opportunities: pd.DataFrame,
    model: StageModel,
    *,
    as_of: object,
    freq: object,
    opportunity: str,
    stage: str,
    amount: str,
    close_date: str | None,
    overdue: str,
    currency: str | None,
    rates: Mapping[Any, float] | None,
    reporting_currency: Any,
    decimals: int,
    must_sum: bool,
) -> _Landing:
    arg = "opportunities"
    check_choice(overdue, "overdue", ("as_of", "exclude", "error"))
    off = _offset(freq)
    if as_of is None:
        raise ConfigError("as_of is required: the date the schedule starts from", column="as_of")
    deals = _deals(
        opportunities,
        model,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        must_sum=must_sum,
        extra=() if close_date is None else (close_date,),
    )
    n = len(opportunities)
    n_open = len(model.stages)
    if close_date is None:
        # no close dates: NaT in as_of's zone, so a tz-aware as_of is not a "mix"
        try:
            zone = pd.Timestamp(as_of).tz  # type: ignore[arg-type]  # resolve_as_of checks it
        except (ValueError, TypeError):
            zone = None
        naive = "datetime64[ns]"
        own = pd.Series(
            pd.NaT,
            index=opportunities.index,
            dtype=naive if zone is None else pd.DatetimeTZDtype("ns", zone),
        )
    else:
        own = _optional_dates(opportunities, close_date, arg=arg, key=opportunity)
    ts = resolve_as_of(as_of, own, column=close_date or "close_date")
    # One landing date per stage (a handful), then gathered by stage code: the same values as
    # converting every deal's days to a timedelta, without 10M-element conversions.
    days = np.asarray([*model.days_to_close, 0.0, 0.0], dtype=np.float64)
    by_stage = pd.DatetimeIndex(ts + pd.to_timedelta(days, unit="D")).as_unit("ns")
    stage_ns = by_stage.asi8[deals.codes]
    has_own = own.notna().to_numpy()
    is_open = deals.codes < n_open
    is_won = deals.codes == n_open
    is_lost = deals.codes == n_open + 1
    day = ts.normalize()
    own_index = pd.DatetimeIndex(own)
    late = has_own & is_open & np.asarray(own_index < day)
    if overdue == "error":
        pos = first_true(late)
        if pos is not None:
            raise DataError(
                f"column {close_date!r} of {arg} has close date {own.iloc[pos]} at "
                f"{describe_row(opportunities, pos, opportunity)}, before as_of {ts} although "
                "the deal is still open; update the close date or pass overdue='as_of' or "
                "'exclude'",
                column=close_date,
                row=opportunities.index[pos],
                value=own.iloc[pos],
            )
    # source: 0 own close date, 1 as_of + stage days, 2 as_of
    source = np.where(has_own, 0, np.where(is_won, 2, 1)).astype(np.int64)
    source[late] = 2
    # Landing instants as int64 nanoseconds (UTC for tz-aware dates), one DatetimeIndex at the end.
    landing_ns = np.where(has_own, own_index.as_unit("ns").asi8, stage_ns)
    landing_ns[source == 2] = ts.as_unit("ns").value
    landing = pd.DatetimeIndex(landing_ns.view("M8[ns]"))
    if by_stage.tz is not None:
        landing = landing.tz_localize("UTC").tz_convert(by_stage.tz)
    first_start = off.rollback(day)
    won_before = is_won & np.asarray(landing < first_start)
    scheduled = ~is_lost & ~won_before
    if overdue == "exclude":
        scheduled &= ~late
    counts = {
        "overdue": int(late.sum()),
        "excluded_overdue": int(late.sum()) if overdue == "exclude" else 0,
        "excluded_won_before": int(won_before.sum()),
        "excluded_lost": int(is_lost.sum()),
        "deals": n,
    }
    return _Landing(deals, ts, landing, source, late, scheduled, first_start, off, counts)


def landing_dates(
    opportunities: pd.DataFrame,
    model: StageModel,
    *,
    as_of: object,
    freq: str = "MS",
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    amount: str = "amount",
    close_date: str | None = None,
    overdue: OverduePolicy = "as_of",
    currency: str | None = None,
    rates: Mapping[Any, float] | None = None,
    reporting_currency: Any = None,
    decimals: int = 2,
) -> pd.DataFrame:
    """Landing date of each deal and whether :func:`close_schedule` counts it.

    The rules, per deal:

    * open deal with its own close date on or after the ``as_of`` day: that date
      (``source="close_date"``);
    * open deal without a close date: ``as_of`` + the stage's expected days to close
      (``source="stage"``);
    * open deal whose close date is before the ``as_of`` day: *overdue*; with
      ``overdue="as_of"`` it lands on ``as_of`` (``source="as_of"``), with ``"exclude"`` it is
      not scheduled, with ``"error"`` a :class:`~crmcore.errors.DataError` names it;
    * won deal: its close date (``as_of`` when it has none); scheduled only when that falls in
      the ``as_of`` period or later — revenue booked in earlier periods is history, not forecast;
    * lost deal: never scheduled (expected amount 0).

    Parameters
    ----------
    opportunities, model, opportunity, stage, amount, currency, rates, reporting_currency, \
decimals
        As in :func:`~crmcore.pipeline.weighted_pipeline`.
    as_of
        The date the forecast is made (date, text or Timestamp; naive or tz-aware like the
        close dates).
    freq
        Period of the schedule (pandas offset, start-anchored: ``"MS"``, ``"QS"``, ``"W-MON"``,
        ``"D"``); decides which won deals count as history.
    close_date
        Optional column of each deal's own expected (open) or actual (won) close date; missing
        values fall back to the stage rule.
    overdue
        ``"as_of"`` (default), ``"exclude"`` or ``"error"``, see above.

    Returns
    -------
    pandas.DataFrame
        Indexed by opportunity id (sorted), columns ``stage``, ``amount``,
        ``win_probability``, ``expected_amount`` (as in ``weighted_pipeline``; in the
        reporting currency when ``rates`` are given),
        ``landing_date``, ``source`` (``"close_date"``, ``"stage"`` or ``"as_of"``), ``overdue``
        (bool) and ``scheduled`` (bool).

    Raises
    ------
    DataError
        An overdue open deal with ``overdue="error"``; bad ids, stages, amounts or dates.
    ConfigError
        Missing ``as_of``, a bad ``freq`` or ``overdue``, naive/aware dates mixed.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import StageModel, landing_dates
    >>> model = StageModel.from_conversion_rates(["bid", "negotiation"], [0.8, 0.9], [30, 30])
    >>> deals = pd.DataFrame({"opportunity_id": [1, 2, 3],
    ...                       "stage": ["bid", "negotiation", "negotiation"],
    ...                       "amount": [100.0, 200.0, 50.0],
    ...                       "close_date": [None, "2025-03-15", "2024-12-20"]})
    >>> landing_dates(deals, model, as_of="2025-01-01", close_date="close_date")[
    ...     ["expected_amount", "landing_date", "source", "overdue"]]
                    expected_amount landing_date      source  overdue
    opportunity_id
    1                          72.0   2025-03-02       stage    False
    2                         180.0   2025-03-15  close_date    False
    3                          45.0   2025-01-01       as_of     True
    """
    land = _landing(
        opportunities,
        model,
        as_of=as_of,
        freq=freq,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        close_date=close_date,
        overdue=overdue,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        must_sum=False,
    )
    deals = land.deals
    order = deals.ids.argsort(kind="stable").to_numpy()
    out = pd.DataFrame(
        {
            "stage": opportunities[stage].to_numpy()[order],
            "amount": _to_amount(deals.money.cents[order], decimals),
            "win_probability": deals.probability[order],
            "expected_amount": _to_amount(deals.expected[order], decimals),
            "landing_date": land.landing[order],
            "source": _SOURCES[land.source[order]],
            "overdue": land.overdue[order],
            "scheduled": land.scheduled[order],
        },
        index=pd.Index(deals.ids.to_numpy()[order], name=opportunity),
    )
    out.attrs["as_of"] = land.as_of
    return out


def close_schedule(
    opportunities: pd.DataFrame,
    model: StageModel,
    *,
    as_of: object,
    freq: str = "MS",
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    amount: str = "amount",
    close_date: str | None = None,
    overdue: OverduePolicy = "as_of",
    currency: str | None = None,
    rates: Mapping[Any, float] | None = None,
    reporting_currency: Any = None,
    decimals: int = 2,
) -> pd.DataFrame:
    """Total expected revenue per period, by the period in which each deal is expected to land.

    Each scheduled deal (see :func:`landing_dates` for the rules: own close date, else
    ``as_of`` + the stage's days to close; overdue open deals land on ``as_of`` by default;
    won deals count when booked in the ``as_of`` period or later; lost deals never) adds its
    ``expected_amount`` (as in :func:`~crmcore.pipeline.weighted_pipeline`) to the period
    holding its landing date. Sums are exact in minor units, so the schedule's total equals the
    weighted total of the deals it schedules.

    Parameters
    ----------
    opportunities, model, as_of, freq, opportunity, stage, amount, close_date, overdue, \
decimals
        As in :func:`landing_dates`.
    currency, rates, reporting_currency
        As in :func:`~crmcore.pipeline.pipeline_by_stage`: several currencies need ``rates``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period`` (DatetimeIndex of period starts, sorted, consecutive from the
        period holding ``as_of`` to the last landing, empty periods filled with zeros), columns
        ``count`` (scheduled deals, int64), ``amount`` (their unweighted amount),
        ``expected_amount`` and ``overdue`` (overdue open deals placed in the period, int64).
        ``attrs`` holds ``as_of``, ``freq``, ``overdue`` (number of overdue open deals),
        ``excluded_overdue``, ``excluded_won_before``, ``excluded_lost`` and
        ``reporting_currency``.

    Raises
    ------
    CurrencyError
        Several currencies without rates, or a currency missing from ``rates``.
    DataError, ConfigError, SchemaError
        As in :func:`landing_dates`.

    Examples
    --------
    The worked example: 180 000 lands in each of January, March and May (30, 60, 120 days).

    >>> import pandas as pd
    >>> from crmcore.pipeline import StageModel, close_schedule
    >>> model = StageModel.from_conversion_rates(
    ...     ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [60, 30, 30])
    >>> deals = pd.DataFrame({"opportunity_id": [1, 2, 3],
    ...                       "stage": ["prospect", "bid", "negotiation"],
    ...                       "amount": [500_000, 250_000, 200_000]})
    >>> close_schedule(deals, model, as_of="2025-01-01")
                count    amount  expected_amount  overdue
    period
    2025-01-01      1  200000.0         180000.0        0
    2025-02-01      0       0.0              0.0        0
    2025-03-01      1  250000.0         180000.0        0
    2025-04-01      0       0.0              0.0        0
    2025-05-01      1  500000.0         180000.0        0
    """
    land = _landing(
        opportunities,
        model,
        as_of=as_of,
        freq=freq,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        close_date=close_date,
        overdue=overdue,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        must_sum=True,
    )
    keep = land.scheduled
    # Period codes by binary search on int64 instants (no masked DatetimeIndex copy).
    landing_ns = land.landing.asi8
    kept_ns = landing_ns[keep]
    if kept_ns.size:
        last = land.landing[int(np.argmax(np.where(keep, landing_ns, np.iinfo(np.int64).min)))]
    else:
        last = land.first_start
    starts = pd.date_range(start=land.first_start, end=last, freq=land.offset, name="period")
    if len(starts) == 0 or starts[0] != land.first_start:  # pragma: no cover - defensive
        starts = pd.DatetimeIndex([land.first_start], name="period").append(starts)  # type: ignore[assignment]  # stays a DatetimeIndex
    codes = np.searchsorted(starts.as_unit("ns").asi8, kept_ns, side="right").astype(np.int64) - 1
    n = len(starts)
    deals = land.deals
    out = pd.DataFrame(
        {
            "count": np.bincount(codes, minlength=n).astype(np.int64),
            "amount": _to_amount(_group_sum(codes, deals.money.cents[keep], n), decimals),
            "expected_amount": _to_amount(_group_sum(codes, deals.expected[keep], n), decimals),
            "overdue": np.bincount(codes, weights=land.overdue[keep], minlength=n).astype(np.int64),
        },
        index=starts,
    )
    out.attrs.update(
        {
            "as_of": land.as_of,
            "freq": freq,
            "overdue": land.counts["overdue"],
            "excluded_overdue": land.counts["excluded_overdue"],
            "excluded_won_before": land.counts["excluded_won_before"],
            "excluded_lost": land.counts["excluded_lost"],
            "reporting_currency": deals.money.reporting,
        }
    )
    return out
