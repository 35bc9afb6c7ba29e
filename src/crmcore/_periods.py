"""Calendar periods: the one helper every area uses to bucket dates by day, week, month, ...

A *period* names a calendar frequency: ``"D"`` (day), ``"W"`` (week, starting Monday as in
ISO 8601), ``"M"`` (month), ``"Q"`` (quarter) or ``"Y"`` (year). The pandas spellings of the
same ideas are accepted as aliases (``"MS"``, ``"ME"``, ``"QS"``, ``"QE"``, ``"YS"``, ``"YE"``,
``"A"``, ``"W-MON"``), so a user never has to remember which one a function wants.

Periods are represented by their *start*: a datetime in the same unit and time zone as the
input dates. Time-zone aware dates are bucketed on their local wall clock and keep their zone.
Everything is computed with numpy datetime arithmetic in the input's own unit, so dates outside
pandas' nanosecond range (before 1677 or after 2262, valid with ``s``/``ms``/``us`` units) work.

Examples
--------
>>> import pandas as pd
>>> dates = pd.Series(pd.to_datetime(["2024-01-15 10:00", "2024-05-31 00:00"]))
>>> period_start(dates, "Q").astype(str).tolist()
['2024-01-01', '2024-04-01']
>>> period_labels(period_start(dates, "M"), "M").tolist()
['2024-01', '2024-05']
"""

from __future__ import annotations

from typing import Any, Final, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import show
from crmcore.errors import ConfigError

__all__ = [
    "PERIODS",
    "canonical_period",
    "period_labels",
    "period_range",
    "period_start",
    "to_period_index",
]

PERIODS: Final = ("D", "W", "M", "Q", "Y")
_ALIASES: Final = {
    "MS": "M",
    "ME": "M",
    "QS": "Q",
    "QE": "Q",
    "QS-JAN": "Q",
    "QE-DEC": "Q",
    "YS": "Y",
    "YE": "Y",
    "A": "Y",
    "AS": "Y",
    "YS-JAN": "Y",
    "YE-DEC": "Y",
    "W-MON": "W",
}
_NAMES: Final = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
# 1970-01-01 (day 0 of the epoch) was a Thursday: Monday-based weekday = (day + 3) % 7.
_EPOCH_WEEKDAY: Final = 3


def canonical_period(period: object, *, arg: str = "period") -> str:
    """Return the canonical period code (``D``, ``W``, ``M``, ``Q`` or ``Y``) for ``period``.

    Raises
    ------
    ConfigError
        ``period`` is not one of the codes or their pandas aliases.

    Examples
    --------
    >>> canonical_period("MS"), canonical_period("Q")
    ('M', 'Q')
    >>> canonical_period("fortnight")
    Traceback (most recent call last):
    ...
    crmcore.errors.ConfigError: period='fortnight' is not a period; expected one of 'D' (day), ...
    """
    if isinstance(period, str):
        code = _ALIASES.get(period, period)
        if code in PERIODS:
            return code
    accepted = ", ".join(f"{p!r} ({_NAMES[p]})" for p in PERIODS)
    raise ConfigError(
        f"{arg}={show(period)} is not a period; expected one of {accepted} "
        f"(pandas aliases such as 'MS', 'QS', 'YS' are accepted too)",
        column=arg,
        value=period,
    )


def _unit(values: npt.NDArray[Any]) -> str:
    unit = np.datetime_data(values.dtype)[0]
    return "s" if unit in ("D", "h", "m", "W", "M", "Y") else unit


def _floor(values: npt.NDArray[np.datetime64], code: str) -> npt.NDArray[np.datetime64]:
    """Floor naive datetime64 values to their period start, in the input's unit (NaT kept)."""
    unit = _unit(values)
    nat = np.isnat(values)
    if code == "D":
        out = values.astype("datetime64[D]")
    elif code == "W":
        days = values.astype("datetime64[D]").astype(np.int64)
        out = (days - (days + _EPOCH_WEEKDAY) % 7).astype("datetime64[D]")
    elif code == "M":
        out = values.astype("datetime64[M]")
    elif code == "Q":
        months = values.astype("datetime64[M]").astype(np.int64)
        out = (months - months % 3).astype("datetime64[M]")
    else:
        out = values.astype("datetime64[Y]")
    result = out.astype(f"datetime64[{unit}]")
    if nat.any():
        result[nat] = np.datetime64("NaT")
    return result


def _localize(values: npt.NDArray[np.datetime64], tz: Any, index: pd.Index | None = None) -> Any:
    series = pd.Series(values, index=index)
    if tz is None:
        return series
    # A period start that falls in a DST gap or overlap (midnight transitions exist) takes the
    # first valid instant after the gap, and the daylight-saving reading of an overlap.
    return series.dt.tz_localize(
        tz, ambiguous=np.ones(len(series), dtype=bool), nonexistent="shift_forward"
    )


def period_start(dates: pd.Series, period: str) -> pd.Series:
    """Return the start of the calendar period holding each date.

    Parameters
    ----------
    dates
        A datetime64 Series (any unit; naive or time-zone aware; numpy or pyarrow backed).
        NaT stays NaT.
    period
        A period code or alias (see the module docstring).

    Returns
    -------
    pandas.Series
        Same index, name, unit and time zone as ``dates`` (numpy-backed ``datetime64``, also
        for pyarrow input); aware dates are bucketed on their local wall clock. Weeks start on
        Monday.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.Series(pd.to_datetime(["2024-01-17 10:00", "1500-03-31 00:00"], format="ISO8601"))
    >>> period_start(d, "W").astype(str).tolist()
    ['2024-01-15', '1500-03-26']
    >>> aware = pd.Series(pd.to_datetime(["2024-03-31 23:30"]).tz_localize("Europe/Paris"))
    >>> period_start(aware, "M").tolist()
    [Timestamp('2024-03-01 00:00:00+0100', tz='Europe/Paris')]
    """
    code = canonical_period(period)
    if isinstance(dates.dtype, pd.ArrowDtype):
        # timestamp[...][pyarrow]: the same instants as numpy datetime64 (unit and zone kept)
        dates = pd.Series(pd.DatetimeIndex(dates.array), index=dates.index, name=dates.name)
    tz = getattr(dates.dtype, "tz", None)
    local = dates.dt.tz_localize(None) if tz is not None else dates
    values = cast("npt.NDArray[np.datetime64]", local.to_numpy())
    out = _localize(_floor(values, code), tz, dates.index)
    out.name = dates.name
    return out  # type: ignore[no-any-return]  # pandas-stubs type tz_localize loosely


#: the range of datetime64[ns], in seconds
_NS_LOW = np.datetime64(pd.Timestamp.min.ceil("s"), "s")
_NS_HIGH = np.datetime64(pd.Timestamp.max.floor("s"), "s")


def period_range(first: pd.Timestamp, last: pd.Timestamp, period: str) -> pd.DatetimeIndex:
    """Return every period start from the period of ``first`` to that of ``last``, inclusive.

    The unit and time zone follow ``first``. An empty index when ``last`` is before ``first``.

    Examples
    --------
    >>> import pandas as pd
    >>> period_range(pd.Timestamp("2024-01-20"), pd.Timestamp("2024-07-02"), "Q").strftime(
    ...     "%Y-%m-%d").tolist()
    ['2024-01-01', '2024-04-01', '2024-07-01']
    """
    code = canonical_period(period)
    tz = first.tz
    # Each bound in seconds (which holds any Timestamp): a pair of different units would be
    # held as objects, or wrap when cast to the finer unit (2500-12-31 in nanoseconds).
    values = np.array(
        [
            np.datetime64((t.tz_convert(tz) if t.tz is not None else t).tz_localize(None), "s")
            for t in (first, last)
        ]
    )
    unit = _unit(np.array([], dtype=f"datetime64[{first.unit}]"))
    lo, hi = _floor(values, code)
    if unit == "ns" and not _NS_LOW <= values[1] <= _NS_HIGH:
        unit = "s"  # the later periods lie beyond nanoseconds' range
    if code in ("D", "W"):
        step = 7 if code == "W" else 1
        grid = np.arange(lo.astype("datetime64[D]"), hi.astype("datetime64[D]") + 1, step)
    elif code == "Y":
        grid = np.arange(lo.astype("datetime64[Y]"), hi.astype("datetime64[Y]") + 1)
    else:
        step = 3 if code == "Q" else 1
        grid = np.arange(lo.astype("datetime64[M]"), hi.astype("datetime64[M]") + 1, step)
    starts = grid.astype(f"datetime64[{unit}]")
    return pd.DatetimeIndex(_localize(starts, tz))


def period_labels(starts: pd.Series | pd.DatetimeIndex, period: str) -> pd.Index:
    """Return one display label per period start, in one style for every area and command.

    ``D`` → ``2024-01-15``, ``W`` → ``2024-W03`` (ISO week), ``M`` → ``2024-01``,
    ``Q`` → ``2024-Q1``, ``Y`` → ``2024``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DatetimeIndex(["2024-01-01", "2024-12-30"])
    >>> period_labels(s, "W").tolist(), period_labels(s, "Q").tolist()
    (['2024-W01', '2025-W01'], ['2024-Q1', '2024-Q4'])
    """
    code = canonical_period(period)
    index = pd.DatetimeIndex(starts)
    if code == "D":
        labels = index.strftime("%Y-%m-%d")
    elif code == "W":
        iso = index.isocalendar()
        year = iso["year"].astype(str).str.zfill(4)
        labels = pd.Index(year + "-W" + iso["week"].astype(str).str.zfill(2))
    elif code == "M":
        labels = index.strftime("%Y-%m")
    elif code == "Q":
        labels = pd.Index(index.strftime("%Y") + "-Q" + index.quarter.astype(str))
    else:
        labels = index.strftime("%Y")
    out: pd.Index = pd.Index(labels, dtype=object)
    return out


def to_period_index(starts: pd.Series | pd.DatetimeIndex, period: str) -> pd.PeriodIndex:
    """Return pandas Periods for period starts (the time zone, if any, is dropped: wall clock).

    Examples
    --------
    >>> import pandas as pd
    >>> to_period_index(pd.DatetimeIndex(["2024-01-01", "2024-04-01"]), "Q")
    PeriodIndex(['2024Q1', '2024Q2'], dtype='period[Q-DEC]')
    """
    code = canonical_period(period)
    index = pd.DatetimeIndex(starts)
    if index.tz is not None:
        index = index.tz_localize(None)
    freq = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q-DEC", "Y": "Y-DEC"}[code]
    periods: pd.PeriodIndex = index.to_period(freq)
    return periods
