"""Forecast every series of a :class:`~crmcore.forecast._history.History` with one method.

The method is resolved per series (``"auto"`` picks ETS, seasonal naive or drift by the length
of that series alone), so a series' forecast never depends on the other series.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from crmcore._frames import check_choice, check_scalar, show
from crmcore.errors import ConfigError, DataError
from crmcore.forecast._ets import fit_ets
from crmcore.forecast._history import History
from crmcore.forecast._methods import METHODS, Fit, drift, minimum_length, seasonal_naive

__all__ = ["Batch", "check_levels", "check_method", "forecast_all"]

_Array = npt.NDArray[np.float64]
_WHAT: Final = {
    "auto": "method='auto' (its shortest fallback, drift)",
    "ets": "method='ets' (two full seasons, and at least 10 periods)",
    "seasonal_naive": "method='seasonal_naive' (one season and one period)",
    "drift": "method='drift'",
}


@attrs.frozen(kw_only=True)
class Batch:
    """Forecasts of all series: ``point`` (S, h), ``lower``/``upper`` (S, L, h)."""

    point: _Array
    lower: _Array
    upper: _Array
    models: list[str]
    aicc: _Array
    lengths: npt.NDArray[np.intp]


def check_levels(levels: object) -> tuple[float, ...]:
    """Interval levels as a sorted tuple of distinct fractions in (0, 1)."""
    values = (levels,) if isinstance(levels, Real) else levels
    if isinstance(values, np.ndarray) and values.ndim == 1:
        values = values.tolist()
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise ConfigError(
            f"levels={show(levels)} must be a sequence of fractions such as (0.8, 0.95)",
            column="levels",
            value=levels,
        )
    out = []
    for level in values:
        check_scalar(level, "levels", kind=float, min_value=0.0, max_value=1.0, include="neither")
        out.append(float(level))
    if len(set(out)) != len(out):
        raise ConfigError(f"levels={show(levels)} repeats a level", column="levels", value=levels)
    return tuple(sorted(out))


def check_method(method: object) -> str:
    """Check ``method`` against the known methods and return it."""
    return str(check_choice(method, "method", METHODS))


def level_label(level: float) -> str:
    """``80`` for 0.8, ``97.5`` for 0.975: the suffix of ``lower_80``, ``upper_80``."""
    return f"{level * 100:.10g}"


def _resolve(method: str, y: _Array, season: int) -> str:
    """Resolve ``auto`` to the method used for a series of this length."""
    if method != "auto":
        return method
    n = len(y)
    if n >= minimum_length("ets", season) and np.ptp(y) > 0:
        return "ets"
    if season > 1 and n >= minimum_length("seasonal_naive", season):
        return "seasonal_naive"
    return "drift"


def _fit(
    hist: History,
    i: int,
    y: _Array,
    *,
    method: str,
    horizon: int,
    levels: Sequence[float],
    by: Sequence[str],
    seed: int,
    where: str,
) -> Fit:
    m = hist.season
    used = _resolve(method, y, m)
    need = minimum_length(used, m)
    if len(y) < need:
        raise hist.too_short(i, by, n=len(y), need=need, what=_WHAT[method], where=where)
    if used == "ets":
        fit = fit_ets(y, m, horizon, levels, seed)
        if fit is not None:
            return fit
        if method == "ets":
            raise DataError(
                f"{hist.describe(i, by)} (first row {show(hist.first_rows[i])}): no ETS model "
                "could be fitted; use method='auto' to fall back to seasonal naive or drift",
                row=hist.first_rows[i],
            )
        used = "seasonal_naive" if m > 1 and len(y) > m else "drift"
    return (
        seasonal_naive(y, m, horizon, levels)
        if used == "seasonal_naive"
        else drift(y, m, horizon, levels)
    )


def forecast_all(
    hist: History,
    *,
    end: int | None,
    horizon: int,
    levels: Sequence[float],
    method: str,
    by: Sequence[str],
    seed: int,
    where: str = "",
) -> Batch:
    """Forecast the ``horizon`` periods after grid position ``end`` for every series."""
    n_series = hist.n_series
    n_levels = len(levels)
    point = np.empty((n_series, horizon))
    lower = np.empty((n_series, n_levels, horizon))
    upper = np.empty((n_series, n_levels, horizon))
    aicc = np.full(n_series, np.nan)
    models: list[str] = []
    lengths = hist.lengths(end)
    for i in range(n_series):
        y = hist.series(i, end)
        fit = _fit(
            hist, i, y, method=method, horizon=horizon, levels=levels, by=by, seed=seed, where=where
        )
        point[i], lower[i], upper[i], aicc[i] = fit.point, fit.lower, fit.upper, fit.aicc
        models.append(fit.model)
    if not hist.refunds:
        np.maximum(point, 0.0, out=point)
        np.maximum(lower, 0.0, out=lower)
        np.maximum(upper, 0.0, out=upper)
    # Simulated intervals are quantiles of draws; keep the point forecast inside them.
    np.minimum(lower, point[:, None, :], out=lower)
    np.maximum(upper, point[:, None, :], out=upper)
    return Batch(point=point, lower=lower, upper=upper, models=models, aicc=aicc, lengths=lengths)
