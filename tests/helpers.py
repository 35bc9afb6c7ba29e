"""Assertions shared by the test modules."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def _snapshot(value: Any) -> Any:
    if isinstance(value, pd.DataFrame | pd.Series | pd.Index):
        return value.copy(deep=True)
    if isinstance(value, np.ndarray):
        return value.copy()
    return copy.deepcopy(value)


def _assert_same(before: Any, after: Any) -> None:
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(after, before, check_exact=True)
        assert list(after.columns) == list(before.columns)
    elif isinstance(before, pd.Series):
        pd.testing.assert_series_equal(after, before, check_exact=True)
    elif isinstance(before, pd.Index):
        pd.testing.assert_index_equal(after, before, exact=True)
    elif isinstance(before, np.ndarray):
        np.testing.assert_array_equal(after, before)
    else:
        assert after == before


def call_unmutated(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func`` and assert that none of its arguments changed; return the result."""
    before_args = [_snapshot(a) for a in args]
    before_kwargs = {k: _snapshot(v) for k, v in kwargs.items()}
    result = func(*args, **kwargs)
    for b, a in zip(before_args, args, strict=True):
        _assert_same(b, a)
    for k, v in kwargs.items():
        _assert_same(before_kwargs[k], v)
    return result


def shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Rows of ``frame`` in a seeded random order (index labels travel with their rows)."""
    rng = np.random.default_rng(seed)
    return frame.iloc[rng.permutation(len(frame))]
