"""Shared by the prediction modules: model-type checks, history columns, dispatch by model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

import crmcore.clv._bgbb as bgbb
import crmcore.clv._bgnbd as bgnbd
import crmcore.clv._pareto as pareto
from crmcore.clv._inputs import Columns, read_columns
from crmcore.clv.models import BGBB, BGNBD, MBGNBD, GammaGamma, ParetoNBD
from crmcore.errors import InputTypeError

__all__ = [
    "CONTINUOUS",
    "PurchaseModel",
    "check_model",
    "conditional_purchases",
    "dask_predict",
    "history",
    "history_names",
    "params4",
    "spend_model",
    "to_series",
]

FloatArray = npt.NDArray[np.float64]
PurchaseModel = BGNBD | MBGNBD | ParetoNBD | BGBB
CONTINUOUS = (BGNBD, MBGNBD, ParetoNBD)


def check_model(model: object, kinds: tuple[type, ...], what: str) -> None:
    if not isinstance(model, kinds):
        names = ", ".join(k.__name__ for k in kinds)
        raise InputTypeError(f"{what} must be one of {names}, got {type(model).__name__}")


def history(
    model: PurchaseModel,
    summary: pd.DataFrame,
    *,
    frequency: str,
    recency: str,
    T: str,
    n_periods: str,
) -> Columns:
    """Return the checked history columns the model needs (``n_periods`` for BG/BB, else ``T``)."""
    names = history_names(model, frequency=frequency, recency=recency, T=T, n_periods=n_periods)
    integer = ("frequency", "recency", "n_periods") if isinstance(model, BGBB) else ("frequency",)
    return read_columns(summary, names, integer=integer)


def history_names(
    model: PurchaseModel, *, frequency: str, recency: str, T: str, n_periods: str
) -> dict[str, str]:
    """Return the role -> column names :func:`history` reads for ``model``."""
    last = {"n_periods": n_periods} if isinstance(model, BGBB) else {"T": T}
    return {"frequency": frequency, "recency": recency, **last}


def dask_predict(
    func: Callable[..., pd.Series],
    summary: Any,
    *,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    names: dict[str, str],
) -> pd.Series:
    """``func(*args, partition, **kwargs)`` on every partition of a Dask summary, lazily."""
    import crmcore.clv._dask as dask_adapter

    return dask_adapter.predict(func, summary, args=args, kwargs=kwargs, names=names)


def params4(model: Any) -> tuple[float, float, float, float]:
    values = tuple(float(v) for v in model.params.values())
    return values[0], values[1], values[2], values[3]


def to_series(values: FloatArray, cols: Columns, name: str) -> pd.Series:
    return pd.Series(values, index=cols.index.copy(), name=name, dtype=np.float64)


def conditional_purchases(model: PurchaseModel, t: float, cols: Columns) -> FloatArray:
    """E[purchases in the next t | history] for checked columns (shared with the CLV)."""
    x, tx = cols["frequency"], cols["recency"]
    if isinstance(model, BGBB):
        return bgbb.conditional_expected(params4(model), t, x, tx, cols["n_periods"])
    if isinstance(model, ParetoNBD):
        return pareto.conditional_expected(params4(model), t, x, tx, cols["T"])
    return bgnbd.conditional_expected(
        params4(model), t, x, tx, cols["T"], modified=isinstance(model, MBGNBD)
    )


def spend_model(model: object) -> GammaGamma:
    """``model`` if it is a Gamma-Gamma model, else an error naming the argument."""
    check_model(model, (GammaGamma,), "spend_model")
    if not isinstance(model, GammaGamma):  # pragma: no cover - checked just above
        raise InputTypeError("spend_model must be GammaGamma")
    return model
