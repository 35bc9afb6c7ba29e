"""Quota over the calendar: a total split over months or quarters, and ramps for new people.

``seasonal_split`` splits a total by each period's share of the year (percentages summing to
100 or fractions summing to 1, e.g. ``crmcore.forecast.seasonal_weights``), exactly;
``ramp_factors`` gives the share of a full quota each person carries in each period from their
start date.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    datetime_column,
    first_true,
    require_columns,
    require_not_null,
    require_unique,
    show,
)
from crmcore._periods import canonical_period, period_labels, period_start
from crmcore.errors import ConfigError
from crmcore.quota._apportion import apportion
from crmcore.quota._distribution import Distribution, period_shares

__all__ = ["DEFAULT_RAMP", "ramp_factors", "seasonal_split"]

#: Share of a full quota carried in the 1st, 2nd, 3rd, ... month of tenure (then 100 %).
DEFAULT_RAMP: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)

_MONTHS = {"M": 1, "Q": 3, "Y": 12}


def seasonal_split(
    total: int,
    distribution: Distribution,
    *,
    method: str = "hamilton",
) -> pd.Series:
    """Split a total over months (or quarters) by each period's share, exactly.

    Like ERPNext's *Monthly Distribution*, the shares must cover the whole year; unlike it, the
    parts are whole minor units that add up to ``total`` exactly (largest remainder by default).

    Parameters
    ----------
    total
        Non-negative integer total in minor units.
    distribution
        Share per period: a Series or mapping keyed by period label, or a sequence (labels
        ``1 .. n``). Finite, non-negative, and either percentages summing to 100 or fractions
        summing to 1 (such as ``crmcore.forecast.seasonal_weights``, indexed by month number);
        within a relative ``1e-11``.
    method
        Apportionment method (see :func:`crmcore.quota.apportion`).

    Returns
    -------
    pandas.Series of int64
        Named ``quota_cents``, indexed by the period labels in the given order (index name
        ``period``); sums to ``total``.

    Raises
    ------
    ConfigError
        Shares summing to neither 100 nor 1, negative or NaN shares, duplicated labels, or a
        bad total or method.

    Examples
    --------
    >>> seasonal_split(100_000, {"Q1": 20, "Q2": 25, "Q3": 25, "Q4": 30}).tolist()
    [20000, 25000, 25000, 30000]
    >>> seasonal_split(100, [100 / 3] * 3).tolist()
    [34, 33, 33]
    >>> weights = pd.Series([0.2, 0.25, 0.25, 0.3], index=[1, 2, 3, 4])  # fractions of 1
    >>> seasonal_split(100_000, weights).tolist()
    [20000, 25000, 25000, 30000]
    """
    shares = period_shares(distribution)
    parts = apportion(total, shares.to_numpy(), method)
    index = pd.Index(shares.index, name="period")
    return pd.Series(parts, index=index, name="quota_cents", dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Ramp
# --------------------------------------------------------------------------------------------


def _check_ramp(ramp: Sequence[float]) -> npt.NDArray[np.float64]:
    try:
        arr = np.asarray(list(ramp), dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError("ramp must be a sequence of numbers in 0 .. 1", column="ramp") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ConfigError("ramp must be a non-empty sequence of factors", column="ramp")
    pos = first_true(~np.isfinite(arr) | (arr < 0) | (arr > 1))
    if pos is not None:
        raise ConfigError(
            f"ramp has factor {show(arr[pos])} for tenure month {pos + 1}; expected 0 .. 1",
            column="ramp",
            row=pos,
            value=arr[pos],
        )
    return arr


def _code_of(freqstr: str) -> str:
    """Period code of a pandas frequency string (``Q-DEC`` -> ``Q``, ``MS`` -> ``M``)."""
    base = freqstr.split("-", maxsplit=1)[0].upper()
    try:
        return canonical_period({"A": "Y", "QS": "Q", "YS": "Y", "AS": "Y"}.get(base, base))
    except ConfigError:
        return base


def _periods_as_dates(periods: Any) -> tuple[pd.DatetimeIndex, str | None]:
    """Period starts as naive dates (wall clock), and the period code the input itself says."""
    index = pd.Index(periods)
    if isinstance(index, pd.PeriodIndex):
        return pd.DatetimeIndex(index.start_time), _code_of(index.freqstr)
    if isinstance(index, pd.DatetimeIndex):
        code = _code_of(index.freqstr) if index.freqstr is not None else None
        return (index.tz_localize(None) if index.tz is not None else index), code
    if index.dtype.kind in "OU" or pd.api.types.is_string_dtype(index.dtype):
        try:  # labels such as "2025-01", "2025-Q1", "2025Q1", "2025"
            parsed = [pd.Period(str(x)) for x in index]
        except (ValueError, TypeError):
            parsed = []
        codes = {_code_of(p.freqstr) for p in parsed}
        if parsed and len(codes) == 1:
            return pd.DatetimeIndex([p.start_time for p in parsed]), codes.pop()
    raise ConfigError(
        "periods must be pandas Periods, dates or period labels such as '2025-01' or '2025-Q1' "
        "to apply ramp factors from start dates",
        column="periods",
    )


def _looks_coarser(starts: pd.DatetimeIndex) -> str | None:
    """``"Q"``/``"Y"`` when dates without a frequency step by exactly 3 or 12 months."""
    if len(starts) < 2 or not bool((starts.day == 1).all()):
        return None
    months = starts.year.to_numpy() * 12 + starts.month.to_numpy()
    steps = set(np.diff(months).tolist())
    return {3: "Q", 12: "Y"}.get(steps.pop()) if len(steps) == 1 else None


def _ramp_periods(periods: Any, period: str | None) -> tuple[npt.NDArray[np.int64], str]:
    """First month (months since 1970-01) of each period, and the period code."""
    starts, own = _periods_as_dates(periods)
    if period is not None:
        code = canonical_period(period)
        if own is not None and own != code:
            raise ConfigError(
                f"period={period!r} contradicts the periods given, which are {own!r} periods",
                column="period",
                value=period,
            )
    elif own is not None:
        code = own
    else:
        coarser = _looks_coarser(starts)
        if coarser is not None:
            raise ConfigError(
                f"periods are dates {3 if coarser == 'Q' else 12} months apart: pass "
                f"period={coarser!r} to ramp by {'quarter' if coarser == 'Q' else 'year'} or "
                "period='M' to read each date as its month",
                column="period",
            )
        code = "M"
    if code not in _MONTHS:
        raise ConfigError(
            f"ramp factors are given per month of tenure: periods must be months, quarters or "
            f"years, not {code!r}",
            column="periods",
            value=code,
        )
    first = period_start(pd.Series(starts), code).to_numpy().astype("datetime64[M]")
    return first.astype(np.int64), code


def ramp_factors(
    people: pd.DataFrame,
    periods: Sequence[Any] | pd.PeriodIndex | pd.DatetimeIndex,
    *,
    person: str = "person",
    start: str = "start",
    ramp: Sequence[float] = DEFAULT_RAMP,
    period: str | None = None,
) -> pd.DataFrame:
    """Share of a full quota each person carries in each period, from their start date.

    In the month a person starts their factor is ``ramp[0]``, the next month ``ramp[1]``, and
    so on; after the last factor it stays at the last factor (normally 1). Before the start
    month the factor is 0. A quarter's (or year's) factor is the mean of its months' factors:
    someone starting in January carries ``(0.25 + 0.5 + 0.75) / 3 = 0.5`` of a full first
    quarter, whether the quarter is given as a Period, a quarter-start date with ``period="Q"``
    or the label ``"2025-Q1"``.

    Parameters
    ----------
    people
        One row per person with a ``start`` date (hire date); any datetime unit, time zone
        (read on its wall clock) or Arrow timestamp.
    periods
        The plan's periods: pandas Periods (their frequency says month, quarter or year),
        dates (each the period it falls in), or labels such as ``"2025-01"``, ``"2025-Q1"``.
    person, start
        Column names.
    ramp
        Factors by month of tenure, each in [0, 1].
    period
        ``"M"``, ``"Q"`` or ``"Y"`` (pandas aliases accepted); default: what ``periods`` says
        (Periods, a date range's frequency or labels), else months. Dates without a frequency
        that step by exactly 3 or 12 months are refused unless ``period`` is given, rather
        than read one way silently.

    Returns
    -------
    pandas.DataFrame
        Persons (sorted) as rows, one column per period (labelled ``2025-01``, ``2025-Q1`` or
        ``2025``; column index name ``month``), float64 factors in [0, 1].

    Raises
    ------
    ConfigError
        Factors outside [0, 1]; periods that are not months, quarters or years, or whose kind
        is ambiguous; a ``period`` that contradicts the periods.
    SchemaError, DataError
        Missing columns, missing or unreadable start dates, duplicated persons.

    Examples
    --------
    >>> people = pd.DataFrame({"person": ["ann", "new"], "start": ["2020-05-01", "2025-02-10"]})
    >>> ramp_factors(people, pd.period_range("2025-01", periods=4, freq="M"))
    month   2025-01  2025-02  2025-03  2025-04
    person
    ann         1.0     1.00      1.0     1.00
    new         0.0     0.25      0.5     0.75
    >>> january = pd.DataFrame({"person": ["jan"], "start": ["2025-01-20"]})
    >>> ramp_factors(january, ["2025-Q1", "2025-Q2"])  # Q1: (0.25 + 0.5 + 0.75) / 3
    month   2025-Q1  2025-Q2
    person
    jan         0.5      1.0
    """
    people = require_columns(people, [person, start], arg="people")
    require_not_null(people, person, arg="people", key=person)
    require_unique(people, person, arg="people")
    factors = _check_ramp(ramp)
    first, code = _ramp_periods(periods, period)
    dates = datetime_column(people, start, arg="people", key=person)
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_localize(None)  # the wall-clock month
    start_month = dates.to_numpy().astype("datetime64[M]").astype(np.int64)
    width = _MONTHS[code]
    months = first[:, None] + np.arange(width)[None, :]  # periods x months in each
    tenure = months[None, :, :] - start_month[:, None, None]
    monthly = np.where(tenure < 0, 0.0, factors[np.clip(tenure, 0, factors.size - 1)])
    labels = period_labels(pd.DatetimeIndex(first.astype("datetime64[M]")), code)
    out = pd.DataFrame(
        monthly.mean(axis=2),
        index=pd.Index(people[person].to_numpy(), name=person),
        columns=pd.Index(labels, name="month"),
    )
    return out.sort_index()
