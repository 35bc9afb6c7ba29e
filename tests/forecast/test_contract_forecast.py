"""The public contract (as tests/test_contract.py audits the other areas) for crmcore.forecast.

Every public function: a non-frame input is an ``InputTypeError``, an empty frame a
``SchemaError``, row order does not matter, and nullable or pyarrow dtypes give the same result
as numpy ones; the result classes are frozen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest

from crmcore.errors import InputTypeError, SchemaError
from crmcore.forecast import Backtest, SalesForecast, backtest, sales_forecast, seasonal_weights
from helpers import call_unmutated, shuffled


def _history() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    days = pd.date_range("2022-01-01", "2023-12-31", freq="D")
    n = 600
    return pd.DataFrame(
        {
            "date": days[rng.integers(0, len(days), n)],
            "amount": rng.lognormal(3.0, 0.5, n).round(2),
            "territory": rng.choice(["North", "South"], n),
        }
    )


CALLS: list[tuple[str, Callable[..., Any], dict[str, Any]]] = [
    ("sales_forecast", sales_forecast, {"by": "territory", "method": "seasonal_naive"}),
    ("backtest", backtest, {"by": "territory", "methods": ["drift"], "horizon": 3}),
    ("seasonal_weights", seasonal_weights, {}),
]
IDS = [name for name, _, _ in CALLS]


def _frames(result: Any) -> list[Any]:
    if isinstance(result, SalesForecast):
        return [result.forecast, result.models]
    if isinstance(result, Backtest):
        return [result.scores, result.forecasts]
    return [result]


def _assert_same(a: Any, b: Any, *, check_dtype: bool = True) -> None:
    for x, y in zip(_frames(a), _frames(b), strict=True):
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, rtol=1e-12, check_dtype=check_dtype)
        else:
            pd.testing.assert_series_equal(x, y, rtol=1e-12, check_dtype=check_dtype)


@pytest.mark.parametrize(("name", "func", "kwargs"), CALLS, ids=IDS)
def test_not_a_frame(name: str, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    with pytest.raises(
        InputTypeError,
        match=r"history must be a pandas DataFrame \(or polars/pyarrow table\), got dict",
    ):
        func(_history().to_dict(), **kwargs)


@pytest.mark.parametrize(("name", "func", "kwargs"), CALLS, ids=IDS)
def test_empty_frame(name: str, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    with pytest.raises(SchemaError, match="history is empty"):
        func(_history().iloc[:0], **kwargs)


@pytest.mark.parametrize(("name", "func", "kwargs"), CALLS, ids=IDS)
def test_row_order_and_input_untouched(
    name: str, func: Callable[..., Any], kwargs: dict[str, Any]
) -> None:
    history = _history()
    first = call_unmutated(func, history, **kwargs)
    _assert_same(first, func(shuffled(history, 11), **kwargs))


@pytest.mark.parametrize("backend", ["numpy_nullable", "pyarrow"])
@pytest.mark.parametrize(("name", "func", "kwargs"), CALLS, ids=IDS)
def test_dtype_backends_agree(
    name: str, func: Callable[..., Any], kwargs: dict[str, Any], backend: str
) -> None:
    history = _history()
    converted = history.convert_dtypes(dtype_backend=backend)  # type: ignore[arg-type]
    # The group keys keep the caller's dtype; every computed column is float64 either way.
    expected, got = func(history, **kwargs), func(converted, **kwargs)
    _assert_same(expected, got, check_dtype=False)
    for frame in _frames(got):
        if isinstance(frame, pd.DataFrame) and "forecast" in frame.columns:
            assert frame["forecast"].dtype == np.float64


def test_result_classes_are_frozen() -> None:
    for cls in (SalesForecast, Backtest):
        assert attrs.has(cls)
        assert cls.__setattr__ is not object.__setattr__
