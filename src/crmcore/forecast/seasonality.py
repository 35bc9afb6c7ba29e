"""The seasonal profile of sales history: how a year's sales spread over months or quarters."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmcore._frames import check_choice, show
from crmcore._periods import canonical_period
from crmcore.errors import DataError
from crmcore.forecast._history import History, read_history

__all__ = ["seasonal_weights"]


def _centred_average(y: np.ndarray, m: int) -> np.ndarray:
    """Return the 2 x m centred moving average (m even); NaN where the window does not fit."""
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m
    out = np.full(len(y), np.nan)
    half = m // 2
    out[half : len(y) - half] = np.convolve(y, weights, mode="valid")
    return out


def _profile(hist: History, m: int) -> np.ndarray:
    y = hist.series(0)
    if len(y) < 2 * m:
        raise hist.too_short(
            0, (), n=len(y), need=2 * m, what="seasonal_weights (two full seasons)"
        )
    bad = np.flatnonzero(y < 0)
    if len(bad):
        period = hist.periods()[hist.first[0] + bad[0]]
        raise DataError(
            f"the history has net sales {show(y[bad[0]])} in period {period}; seasonal weights "
            "need non-negative sales per period",
            value=float(y[bad[0]]),
        )
    trend = _centred_average(y, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(trend > 0, y / trend, np.nan)
    positions = (hist.first[0] + np.arange(len(y))) % m
    offset = _season_position(hist.grid[0], hist.period)
    slot = (positions + offset) % m
    sums = np.bincount(slot, weights=np.nan_to_num(ratios), minlength=m)
    counts = np.bincount(slot, weights=np.isfinite(ratios), minlength=m)
    if (counts == 0).any():
        missing = int(np.argmax(counts == 0)) + 1
        raise DataError(
            f"the history has no sales around {'month' if m == 12 else 'quarter'} {missing} "
            "in any year; cannot tell its seasonal weight",
            value=missing,
        )
    index = np.asarray(sums / counts, dtype=np.float64)
    out: np.ndarray = index / index.sum()
    return out


def _season_position(start: pd.Timestamp, code: str) -> int:
    """0-based month (or quarter) of the first grid period."""
    return int(start.month - 1) if code == "M" else int((start.month - 1) // 3)


def seasonal_weights(
    history: pd.DataFrame,
    *,
    date: str = "date",
    amount: str = "amount",
    period: str = "M",
    as_of: object = None,
    include_incomplete: bool = False,
    refunds: str = "error",
) -> pd.Series:
    """Return the seasonal profile of sales: 12 monthly (or 4 quarterly) weights summing to 1.

    The profile is robust to trend: classical multiplicative decomposition divides each
    period's sales by the centred moving average over one season around it (a 2 x 12 average
    for months, 2 x 4 for quarters), averages these ratios per month (quarter) over the years,
    and scales the averages to sum to 1 (Hyndman & Athanasopoulos, *Forecasting: Principles and
    Practice*, 3rd ed., section 3.4; statsmodels' ``seasonal_decompose`` computes the same
    factors). A growing business therefore does not push weight into the later months.

    The weights are what ``quota``'s seasonal split and plan builder take: "split this target
    like last years' sales" is ``seasonal_split(total, seasonal_weights(history))`` (and
    ``build_plan(people, total, distribution=seasonal_weights(history))``).

    Parameters
    ----------
    history
        Transactions or per-period totals (as :func:`sales_forecast` takes them), at least two
        full seasons after the incomplete last period (if any) is left out.
    date, amount
        Column names.
    period
        ``"M"`` (12 weights) or ``"Q"`` (4 weights); pandas aliases accepted.
    as_of, include_incomplete
        Where the history ends, as in :func:`sales_forecast`.
    refunds
        ``"error"`` (default) or ``"allow"``: negative rows are allowed as long as every
        period's net sales are non-negative.

    Returns
    -------
    pandas.Series
        Named ``weight``, indexed by month number 1..12 (index name ``month``) or quarter
        number 1..4 (``quarter``); non-negative, summing to 1.

    Raises
    ------
    DataError
        Fewer than two full seasons, negative sales, or a month with no sales in any year's
        window.
    ConfigError
        ``period`` other than months or quarters.

    Examples
    --------
    Three years of quarterly sales in the proportions 1 : 2 : 3 : 4, growing 2.5 % a quarter.
    Plain shares of the totals would give 0.095, 0.195, 0.300, 0.410 (growth inflates the later
    quarters); the profile recovers the pattern:

    >>> import pandas as pd
    >>> history = pd.DataFrame({
    ...     "date": pd.period_range("2022Q1", periods=12, freq="Q"),
    ...     "amount": [100.0, 205.0, 315.2, 430.8, 110.4, 226.3, 347.9, 475.5,
    ...                121.8, 249.8, 384.0, 524.8]})
    >>> seasonal_weights(history, period="Q").round(3)
    quarter
    1    0.100
    2    0.199
    3    0.299
    4    0.402
    Name: weight, dtype: float64
    """
    code = canonical_period(period)
    check_choice(code, "period", ("M", "Q"))
    hist = read_history(
        history,
        date=date,
        amount=amount,
        period=code,
        by=(),
        as_of=as_of,
        include_incomplete=include_incomplete,
        refunds=refunds,
    )
    m = 12 if code == "M" else 4
    weights = _profile(hist, m)
    name = "month" if code == "M" else "quarter"
    return pd.Series(weights, index=pd.RangeIndex(1, m + 1, name=name), name="weight")
