"""Forecast methods for one series: crmcore's own benchmarks and the ETS family, one interface.

Every method takes the sales of one series (oldest first), the season length, the horizon and
the interval levels, and returns a :class:`Fit`: point forecasts and one lower/upper pair per
level. The benchmark methods (seasonal naive, drift) follow Hyndman & Athanasopoulos,
*Forecasting: Principles and Practice* (3rd ed., 2021), section 5.2 (the methods) and section
5.5 (their normal prediction intervals, Table 5.2); the ETS family is fitted by the forecasting
library (see ``_ets.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

__all__ = [
    "METHODS",
    "Fit",
    "drift",
    "minimum_length",
    "normal_quantiles",
    "seasonal_naive",
]

_Array = npt.NDArray[np.float64]

METHODS: Final = ("auto", "ets", "seasonal_naive", "drift")
# Seasonal ETS models are fitted for seasons of at most this many periods (forecast::ets in R
# refuses longer seasons for the same reason: too many seasonal states to estimate).
MAX_ETS_SEASON: Final = 24


@attrs.frozen(kw_only=True)
class Fit:
    """One series' forecast: ``point`` (horizon,), ``lower``/``upper`` (levels, horizon)."""

    model: str
    point: _Array
    lower: _Array
    upper: _Array
    aicc: float = float("nan")


def normal_quantiles(levels: Sequence[float]) -> _Array:
    """Two-sided standard normal multipliers: 1.2816 for 80 %, 1.9600 for 95 %."""
    dist = NormalDist()
    return np.array([dist.inv_cdf(0.5 + level / 2) for level in levels])


def minimum_length(method: str, season: int) -> int:
    """Fewest periods of history ``method`` needs with this season length."""
    if method == "drift":
        return 3
    if method == "seasonal_naive":
        return season + 1
    ets_season = season if 1 < season <= MAX_ETS_SEASON else 1
    return max(2 * ets_season, 10)


def _normal_fit(model: str, point: _Array, sd: _Array, levels: Sequence[float]) -> Fit:
    z = normal_quantiles(levels)[:, None]
    half = z * sd[None, :]
    return Fit(model=model, point=point, lower=point - half, upper=point + half)


def _residual_sd(residuals: _Array, parameters: int) -> float:
    """sqrt(sum(e^2) / (T - K - M)): FPP3 section 5.5 (missing residuals already dropped)."""
    dof = len(residuals) - parameters
    scale = float(np.max(np.abs(residuals))) if len(residuals) else 0.0
    if dof <= 0 or scale == 0.0:
        return 0.0
    # in units of the largest residual: squares of amounts near 1e307 would overflow
    return scale * float(np.sqrt(np.sum((residuals / scale) ** 2) / dof))


def seasonal_naive(y: _Array, season: int, horizon: int, levels: Sequence[float]) -> Fit:
    """Each future period repeats the same period of the last season; sd = s * sqrt(k + 1).

    ``k`` is the number of whole seasons before the forecast period (``(h - 1) // m``) and
    ``s`` the standard deviation of the in-sample seasonal differences ``y[t] - y[t - m]``.
    Needs at least ``m + 1`` periods.
    """
    m = season
    h = np.arange(1, horizon + 1)
    k = (h - 1) // m
    last = y[-m:]
    point = last[(h - 1) % m].astype(np.float64)
    sd = _residual_sd(y[m:] - y[:-m], 0) * np.sqrt(k + 1.0)
    return _normal_fit("seasonal_naive", point, sd, levels)


def drift(y: _Array, season: int, horizon: int, levels: Sequence[float]) -> Fit:
    """Extend the last value by ``h`` times the average change; sd = s * sqrt(h (1 + h / (T - 1))).

    ``s`` is the standard deviation of the one-step residuals ``y[t] - y[t-1] - c`` with one
    estimated parameter, the average change ``c``. Needs at least 3 periods.
    """
    del season
    t = len(y)
    h = np.arange(1, horizon + 1, dtype=np.float64)
    slope = (y[-1] - y[0]) / (t - 1)
    point = y[-1] + h * slope
    sd = _residual_sd(np.diff(y) - slope, 1) * np.sqrt(h * (1 + h / (t - 1)))
    return _normal_fit("drift", point, sd, levels)
