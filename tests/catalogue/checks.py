"""Invariant checks the specs combine: sums reconcile, ranges hold, the index is kept.

Each helper returns a ``check(args, kwargs, result)`` callable for :class:`~catalogue.model.Spec`;
:func:`all_of` combines several.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from catalogue.model import Key

Check = Callable[[tuple[Any, ...], dict[str, Any], Any], None]


def _get(args: tuple[Any, ...], kwargs: dict[str, Any], key: Key) -> Any:
    return args[key] if isinstance(key, int) else kwargs[key]


def part(result: Any, field: str | int | None) -> Any:
    """``result``, one of its attrs fields, or one element of a tuple."""
    if field is None:
        return result
    if isinstance(field, int):
        return result[field]
    return getattr(result, field)


def all_of(*checks: Check) -> Check:
    def check(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        for c in checks:
            c(args, kwargs, result)

    return check


def column(result: Any, name: str | None, field: str | int | None = None) -> np.ndarray:
    obj = part(result, field)
    series = (
        obj
        if name is None
        else (
            obj[name] if name in getattr(obj, "columns", ()) else obj.index.get_level_values(name)
        )
    )
    return np.asarray(pd.Series(series).to_numpy(dtype=np.float64, na_value=np.nan))


def in_range(
    name: str | None, low: float, high: float, field: str | int | None = None, nan_ok: bool = True
) -> Check:
    """Every value of column ``name`` lies in [low, high] (NaN too, unless not ``nan_ok``)."""

    def check(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        values = column(result, name, field)
        if not nan_ok:
            assert not np.isnan(values).any(), f"column {name!r} holds NaN"
        values = values[~np.isnan(values)]
        outside = values[(values < low - 1e-9) | (values > high + 1e-9)]
        assert not outside.size, f"column {name!r} leaves [{low}, {high}]: {outside[:3]}"

    return check


def finite(name: str | None, field: str | int | None = None) -> Check:
    def check(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        values = column(result, name, field)
        assert np.isfinite(values).all(), f"column {name!r} holds a non-finite value"

    return check


#: totals are compared in this scale: a sum of 2**16 floats near the largest float fits
_SCALE = 2.0**-16


def _scaled_sum(values: np.ndarray) -> float:
    """The exact sum of ``values * _SCALE`` (NaN counts 0), rounded once."""
    finite = values[~np.isnan(values)]
    return math.fsum((finite * _SCALE).tolist())


def total_matches(
    name: str | None,
    key: Key,
    source: str | None,
    *,
    field: str | int | None = None,
    scale: float = 1.0,
    where: Callable[[Any], Any] | None = None,
    exact: bool = False,
) -> Check:
    """The result column's total equals the input column's total (times ``scale``).

    ``where(frame)`` selects the input rows that count. Totals are compared to a relative
    1e-9 (or exactly, for minor units).
    """

    def check(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        obj = _get(args, kwargs, key)
        if where is not None:
            obj = obj[np.asarray(where(obj), dtype=bool)]
        src = obj if source is None else obj[source]
        got = column(result, name, field)
        if exact:
            want_int = sum(int(v) for v in pd.Series(src).astype(object))
            got_int = (
                sum(int(v) for v in part(result, field)[name].astype(object))
                if name
                else sum(int(v) for v in np.asarray(part(result, field)).tolist())
            )
            assert got_int == want_int * int(scale), f"{name!r} totals {got_int}, input {want_int}"
            return
        values = pd.to_numeric(pd.Series(src), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        # exact sums of halved values: totals of amounts near 1.8e308 compare without overflow
        # (a missing value documented as allowed counts 0)
        want = _scaled_sum(values) * scale
        total = _scaled_sum(got)
        assert np.isclose(total, want, rtol=1e-9, atol=1e-6 * _SCALE), (
            f"{name!r} totals {total / _SCALE!r}, input {want / _SCALE!r}"
        )

    return check


def rows_equal(
    key: Key, source: str | None = None, *, field: str | int | None = None, unique: bool = True
) -> Check:
    """One result row per input row (``source`` None) or per distinct value of ``source``."""

    def check(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        obj = _get(args, kwargs, key)
        out = part(result, field)
        want = len(obj) if source is None else obj[source].nunique(dropna=False)
        what = "rows" if source is None else f"{source} values"
        assert len(out) == want, f"{len(out)} result rows for {want} input {what}"

    return check


def index_kept(key: Key, field: str | int | None = None) -> Check:
    """The result has the input's index, in order (row-labelling functions)."""

    def check(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        obj = _get(args, kwargs, key)
        out = part(result, field)
        assert out.index.equals(obj.index), "the result does not keep the input's index"

    return check


def sums_to(total_key: Key, field: str | int | None = None, name: str | None = None) -> Check:
    """An integer split sums exactly to the total argument."""

    def check(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        total = int(_get(args, kwargs, total_key))
        out = part(result, field)
        values = out if name is None else out[name]
        got = sum(int(v) for v in np.asarray(values).tolist())
        assert got == total, f"the parts sum to {got}, not {total}"

    return check


def nonnegative(name: str | None, field: str | int | None = None) -> Check:
    def check(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        values = column(result, name, field)
        assert not (values < 0).any(), f"column {name!r} holds a negative value"

    return check


def count_total(
    name: str, key: Key, where: Callable[[Any], Any] | None = None, field: str | int | None = None
) -> Check:
    """The result column ``name`` counts the input rows (those selected by ``where``)."""

    def check(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        obj = _get(args, kwargs, key)
        want = len(obj) if where is None else int(np.asarray(where(obj), dtype=bool).sum())
        got = float(np.nansum(column(result, name, field)))
        assert got == want, f"{name!r} counts {got} rows, the input has {want}"

    return check
