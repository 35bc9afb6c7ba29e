"""Sales forecasts from history: future sales with intervals, backtests, seasonal weights.

- :func:`sales_forecast` — future periods with ``forecast``, ``lower_80``, ``upper_80``, ...
  per series, from transactions or per-period totals; the exponential-smoothing family chosen
  by AICc, with seasonal naive and drift for short histories (:class:`SalesForecast`);
- :func:`backtest` — rolling-origin MAE, RMSE, MASE, interval coverage and MAE relative to
  seasonal naive per method (:class:`Backtest`);
- :func:`seasonal_weights` — the seasonal profile (12 or 4 weights summing to 1) that quota's
  seasonal split and plan builder accept.

The ETS models need the optional extra ``crmcore[forecast]`` (statsmodels); seasonal naive and
drift are crmcore's own and need nothing more.

Examples
--------
>>> import pandas as pd
>>> from crmcore.forecast import sales_forecast
>>> history = pd.DataFrame({"date": pd.period_range("2024Q1", periods=4, freq="Q"),
...                         "amount": [100.0, 110, 120, 130]})
>>> sales_forecast(history, period="Q", horizon=2, levels=[0.8]).forecast
        forecast  lower_80  upper_80
period
2025Q1     140.0     140.0     140.0
2025Q2     150.0     150.0     150.0
"""

from crmcore.forecast.backtest import Backtest, backtest
from crmcore.forecast.sales import SalesForecast, sales_forecast
from crmcore.forecast.seasonality import seasonal_weights

__all__ = [
    "Backtest",
    "SalesForecast",
    "backtest",
    "sales_forecast",
    "seasonal_weights",
]
