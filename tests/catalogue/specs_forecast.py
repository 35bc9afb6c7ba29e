"""Specs of crmcore.forecast."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from catalogue import data as d
from catalogue.model import Kind, Spec
from crmcore import datasets, forecast

A, D = Kind.AMOUNT, Kind.DATE
HISTORY = {0: {"date": D, "amount": A}}


def _a(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


def _years() -> pd.DataFrame:
    return datasets.transactions(
        12, n_transactions=80, start="2021-01-01", end="2024-12-31", seed=3
    )


def _bands(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    f = result.forecast
    assert np.isfinite(f["forecast"].to_numpy(dtype=float)).all(), "a forecast is not finite"
    for col in [c for c in f.columns if c.startswith("lower_")]:
        upper = f[col.replace("lower_", "upper_")]
        assert (f[col] <= f["forecast"] + 1e-9).all(), f"{col} above the forecast"
        assert (f["forecast"] <= upper + 1e-9).all(), "upper band below the forecast"


def _shares(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    v = result.to_numpy(dtype=float)
    assert (v >= 0).all(), f"negative seasonal weights: {v}"
    assert np.isclose(v.sum(), 1.0), f"seasonal weights sum to {v.sum()}"


FORECAST = [
    Spec(
        "forecast.sales_forecast",
        forecast.sales_forecast,
        lambda: _a(d.tx(), horizon=3, as_of=d.AS_OF),
        HISTORY,
        {"horizon": Kind.COUNT, "as_of": Kind.WHEN},
        check=_bands,
        rtol=1e-6,
    ),
    Spec(
        "forecast.backtest",
        forecast.backtest,
        lambda: _a(d.tx(), horizon=2, n_origins=2, methods=["drift"], as_of=d.AS_OF),
        HISTORY,
        {"horizon": Kind.COUNT, "n_origins": Kind.COUNT, "as_of": Kind.WHEN},
        rtol=1e-6,
    ),
    Spec(
        "forecast.seasonal_weights",
        forecast.seasonal_weights,
        lambda: _a(_years(), period="Q", as_of=d.AS_OF),
        HISTORY,
        {"as_of": Kind.WHEN},
        check=_shares,
    ),
]
