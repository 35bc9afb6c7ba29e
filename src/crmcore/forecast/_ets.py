"""The exponential-smoothing (ETS) family, fitted by statsmodels' state-space ``ETSModel``.

Candidates follow Hyndman, Koehler, Ord & Snyder, *Forecasting with Exponential Smoothing*
(Springer, 2008) and R's ``forecast::ets``: additive or multiplicative error; no, additive or
damped additive trend; no, additive or multiplicative season. Additive error with a
multiplicative season is left out (numerically unstable), and multiplicative components are
tried only on strictly positive sales. The model with the smallest AICc wins.

statsmodels is the optional extra ``crmcore[forecast]``, imported on first use (the choice
against statsforecast is measured in ``benchmarks/bench_forecast.py`` and explained in
``docs/forecast.md``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import import_optional
from crmcore.forecast._methods import MAX_ETS_SEASON, Fit

__all__ = ["INITIALIZATION", "candidates", "fit_ets"]

_Array = npt.NDArray[np.float64]

# How statsmodels starts the states: "estimated" fits the initial level, trend and season by
# maximum likelihood with the smoothing parameters (as forecast::ets and statsforecast do).
INITIALIZATION: Final = "estimated"
# Draws behind the simulated intervals of models with a multiplicative part.
SIMULATIONS: Final = 1000
_SHORT = {None: "N", "add": "A", "mul": "M"}
# Failures statsmodels raises on degenerate candidates; such a candidate is skipped.
_FIT_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError, IndexError)


def candidates(positive: bool, season: int) -> list[tuple[str, str | None, bool, str | None]]:
    """(error, trend, damped, seasonal) of every model tried, in a fixed order."""
    seasons: list[str | None] = [None]
    if 1 < season <= MAX_ETS_SEASON:
        seasons += ["add", "mul"] if positive else ["add"]
    errors = ["add", "mul"] if positive else ["add"]
    trends: list[tuple[str | None, bool]] = [(None, False), ("add", False), ("add", True)]
    out = []
    for error in errors:
        for trend, damped in trends:
            for seasonal in seasons:
                if error == "add" and seasonal == "mul":
                    continue
                out.append((error, trend, damped, seasonal))
    return out


def model_name(error: str, trend: str | None, damped: bool, seasonal: str | None) -> str:
    """``ETS(M,Ad,M)`` style name."""
    t = _SHORT[trend] + ("d" if damped else "")
    return f"ETS({_SHORT[error]},{t},{_SHORT[seasonal]})"


def _fit_one(sm: Any, y: _Array, spec: tuple[str, str | None, bool, str | None], m: int) -> Any:
    error, trend, damped, seasonal = spec
    # A Series, not an array: statsmodels' get_prediction needs an index on its input.
    model = sm.ETSModel(
        pd.Series(y),
        error=error,
        trend=trend,
        damped_trend=damped,
        seasonal=seasonal,
        seasonal_periods=m if seasonal else None,
        initialization_method=INITIALIZATION,
    )
    return model.fit(disp=False)


def fit_ets(y: _Array, season: int, horizon: int, levels: Sequence[float], seed: int) -> Fit | None:
    """Return the AICc-best ETS model's forecast, or ``None`` when no candidate could be fitted."""
    sm = import_optional("statsmodels.tsa.exponential_smoothing.ets", "forecast")
    threadpoolctl = import_optional("threadpoolctl", "forecast")
    positive = bool((y > 0).all())
    best: tuple[float, Any, tuple[str, str | None, bool, str | None]] | None = None
    # One BLAS thread: each L-BFGS-B step of statsmodels' fit solves a tiny system, and waking
    # a pool of BLAS threads for it cost 6x the fit itself (measured: 8.1 s -> 1.2 s CPU per
    # 60-month series, benchmarks/bench_forecast.py).
    with (
        warnings.catch_warnings(),
        np.errstate(all="ignore"),
        threadpoolctl.threadpool_limits(limits=1, user_api="blas"),
    ):
        warnings.simplefilter("ignore")
        for spec in candidates(positive, season):
            try:
                result = _fit_one(sm, y, spec, season)
            except _FIT_ERRORS:
                continue
            aicc = float(result.aicc)
            if math.isfinite(aicc) and (best is None or aicc < best[0]):
                best = (aicc, result, spec)
        if best is None:
            return None
        aicc, result, spec = best
        n = len(y)
        prediction = result.get_prediction(
            start=n,
            end=n + horizon - 1,
            simulate_repetitions=SIMULATIONS,
            rng=np.random.default_rng(seed),
        )
        point = np.asarray(prediction.predicted_mean, dtype=np.float64)
        bounds = [np.asarray(prediction.pred_int(alpha=1 - lv), dtype=np.float64) for lv in levels]
    lower = np.array([b[:, 0] for b in bounds])
    upper = np.array([b[:, 1] for b in bounds])
    if not (np.isfinite(point).all() and np.isfinite(lower).all() and np.isfinite(upper).all()):
        return None
    return Fit(model=model_name(*spec), point=point, lower=lower, upper=upper, aicc=aicc)
