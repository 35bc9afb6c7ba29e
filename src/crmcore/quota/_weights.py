"""Apportionment weights: checked once, held exactly, scaled by powers of two for floats.

A finite double is ``m * 2**e`` exactly, so scaling every weight by one power of two changes no
ratio, and ratios are all an apportionment depends on. Scaling puts the weights that matter in
float range: by the largest weight when all weights lie within ``2**900`` of each other (the
usual case), else by the power of two the solution's multiplier lies at, found by bisection on
exponents (weights far above it only ever sit at their maximum, far below at their minimum).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import first_true, not_a_number, show, stored_numbers
from crmcore.errors import ConfigError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Unbounded weights spanning at most this many binary orders of magnitude are scaled by the
#: largest.
SPAN_LIMIT = 900


def describe_position(labels: pd.Index | None, pos: int) -> tuple[str, Hashable]:
    """``("at row 'r30'", 'r30')`` for a labelled input, ``("at position 2", 2)`` otherwise."""
    if labels is None:
        return f"at position {pos}", pos
    return f"at row {show(labels[pos])}", labels[pos]


class Weights:
    """Checked apportionment weights.

    Attributes
    ----------
    flt
        The weights as floats (integer weights rounded; used for float estimates only).
    exact
        The integer weights, or ``None`` for float weights (whose exact value is ``flt``).
    positive
        Which weights are positive.
    """

    def __init__(self, flt: FloatArray, exact: IntArray | None) -> None:
        self.flt = flt
        self.exact = exact
        self.positive: BoolArray = (exact > 0) if exact is not None else (flt > 0)
        self._parts: tuple[FloatArray, IntArray] | None = None
        # Binary exponents of the smallest and largest positive weight (frexp: x = f 2**e).
        smallest = float(np.min(flt, where=self.positive, initial=math.inf))
        self._span = (math.frexp(smallest)[1], math.frexp(float(flt.max()))[1])

    @property
    def size(self) -> int:
        """Number of weights."""
        return int(self.flt.shape[0])

    def values(self) -> npt.NDArray[Any]:
        """Return the weights as given: int64 when integer, else float64 (exact either way)."""
        return self.exact if self.exact is not None else self.flt

    def sort_key(self) -> npt.NDArray[Any]:
        """Values that order the weights exactly (integers are compared as integers)."""
        return self.values()

    def key_ids(self) -> IntArray:
        """Integers that are equal exactly when the weights are equal."""
        return self.exact if self.exact is not None else self.flt.view(np.int64)

    def span(self) -> tuple[int, int]:
        """Smallest and largest binary exponent of the positive weights."""
        return self._span

    def scaled(self, shift: int) -> FloatArray:
        """Weights times ``2**shift``; beyond float range they become 0 or inf (saturated)."""
        low, high = self._span
        if low + shift >= -1021 and high + shift <= 1023:  # exact: no result leaves range
            fast: FloatArray = np.ldexp(self.flt, shift)
            return fast
        if self._parts is None:
            mant, expo = np.frexp(self.flt)
            self._parts = (mant, expo.astype(np.int64))
        mant, expo = self._parts
        with np.errstate(over="ignore", under="ignore"):
            out: FloatArray = np.ldexp(mant, expo + shift)
        return out


def scale_shift(
    weights: Weights,
    reached: Callable[[FloatArray], float | int],
    target: int,
    *,
    bounded: bool,
) -> tuple[int, bool]:
    """Return a power of two to scale the weights by, and whether it brackets the solution.

    ``reached(w)`` is the non-decreasing total an apportionment gives at multiplier 1 for
    weights ``w`` (which may hold 0 and inf where a weight left float range). Normally the
    weights are scaled so that the largest is in ``[1/2, 1)`` (``False``: no bracket known).
    When they span more than ``2**SPAN_LIMIT``, or bounds may put the solution anywhere (a
    capped large weight can leave the total to tiny ones), the largest shift ``t`` with
    ``reached(w * 2**t) <= target`` is found by bisection over exponents (a dozen passes), so
    the solution's multiplier is in ``[1, 2)`` after scaling (``True``).
    """
    low, high = weights.span()
    if high - low <= SPAN_LIMIT and not bounded:
        return -high, False
    lo_t, hi_t = -high - 1100, -low + 70  # every scaled weight below 2**-1100 / above 2**69
    if reached(weights.scaled(hi_t)) <= target:
        return hi_t, True
    while hi_t - lo_t > 1:  # invariant: reached(lo_t) <= target < reached(hi_t)
        mid = (lo_t + hi_t) // 2
        if reached(weights.scaled(mid)) <= target:
            lo_t = mid
        else:
            hi_t = mid
    return lo_t, True


def check_weights(weights: Any) -> Weights:
    """Validate apportionment weights; errors name the row label of a Series."""
    labels = weights.index if isinstance(weights, pd.Series) else None
    if isinstance(weights, pd.Series | pd.Index):
        if pd.api.types.is_bool_dtype(weights.dtype):
            text, row, value = not_a_number(weights.to_numpy(dtype=object), labels, "weights")
            raise ConfigError(text, column="weights", row=row, value=value)
        raw: npt.NDArray[Any] = stored_numbers(weights)
    else:
        try:
            raw = np.asarray(weights)
        except (TypeError, ValueError):  # ragged input
            raise ConfigError("weights must be a one-dimensional sequence of numbers") from None
    if raw.ndim != 1:
        raise ConfigError(f"weights must be one-dimensional, got shape {raw.shape}")
    if raw.size == 0:
        raise ConfigError("weights is empty; expected at least one weight")
    items = raw.tolist() if raw.dtype == object else None
    if raw.dtype.kind == "b" or (items is not None and any(isinstance(x, bool) for x in items)):
        text, row, value = not_a_number(raw, labels, "weights")
        raise ConfigError(text, column="weights", row=row, value=value)
    if items is not None and all(isinstance(x, int) for x in items):
        if any(abs(x) >= 2**63 for x in items):
            raise ConfigError("weights exceed the int64 range; scale them down first")
        raw = np.asarray(items, dtype=np.int64)
    exact: IntArray | None = None
    if raw.dtype.kind in "iu":
        if raw.dtype.kind == "u" and int(raw.max()) > np.iinfo(np.int64).max:
            raise ConfigError("weights exceed the int64 range")
        exact = raw.astype(np.int64)
        flt = exact.astype(np.float64)
    else:
        try:
            flt = raw.astype(np.float64, copy=False)  # read only: no copy needed
        except (TypeError, ValueError):
            text, row, value = not_a_number(raw, labels, "weights")
            raise ConfigError(text, column="weights", row=row, value=value) from None
    low, high = float(flt.min()), float(flt.max())
    if not (low >= 0.0 and high < math.inf):  # NaN (the minimum is NaN), inf or negative
        for mask, what in (
            (np.isnan(flt), "NaN"),
            (np.isinf(flt), "infinite"),
            (flt < 0, "negative"),
        ):
            pos = first_true(mask)
            if pos is not None:
                value = exact[pos] if exact is not None else flt[pos]
                where, row = describe_position(labels, pos)
                raise ConfigError(
                    f"weights has {what} value {show(value)} {where}; weights must be finite "
                    "and >= 0",
                    column="weights",
                    row=row,
                    value=value,
                )
    if high <= 0.0:
        raise ConfigError("weights are all zero; at least one must be positive", column="weights")
    return Weights(flt, exact)
