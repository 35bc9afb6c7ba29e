"""Hypothesis strategies for the quota tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from crmcore.quota import METHODS, canonical_method

METHOD_NAMES = sorted({canonical_method(m) for m in METHODS})
DIVISOR_METHODS = [m for m in METHOD_NAMES if m != "hamilton"]


@st.composite
def int_weights(
    draw: st.DrawFn, *, min_size: int = 1, max_size: int = 12, max_value: int = 1000
) -> list[int]:
    """Non-negative integer weights, at least one positive; zeros and exact ties are likely."""
    values = draw(
        st.lists(
            st.one_of(st.just(0), st.integers(1, 5), st.integers(1, max_value)),
            min_size=min_size,
            max_size=max_size,
        )
    )
    if not any(values):
        values[draw(st.integers(0, len(values) - 1))] = draw(st.integers(1, max_value))
    return values


@st.composite
def float_weights(draw: st.DrawFn, *, min_size: int = 1, max_size: int = 12) -> list[float]:
    """Non-negative float weights spanning magnitudes, at least one positive."""
    values = draw(
        st.lists(
            st.one_of(
                st.just(0.0),
                st.floats(1e-6, 1e6, allow_nan=False, allow_infinity=False),
                st.sampled_from([0.1, 0.2, 0.3, 1 / 3, 2 / 3]),
            ),
            min_size=min_size,
            max_size=max_size,
        )
    )
    if not any(v > 0 for v in values):
        values[0] = 1.0
    return values


def weights() -> st.SearchStrategy[list[int] | list[float]]:
    """Integer or float weights."""
    return st.one_of(int_weights(), float_weights())


def int_percentages() -> st.SearchStrategy[list[int]]:
    """Whole-number parts of a year (some zero, at least one positive), to make shares of."""
    return st.lists(st.integers(0, 30), min_size=1, max_size=12).filter(any)


@st.composite
def people_frames(draw: st.DrawFn, *, max_people: int = 12) -> pd.DataFrame:
    """People with a region, a weight (some zero, at least one positive) and a start date."""
    n = draw(st.integers(1, max_people))
    regions = draw(st.lists(st.sampled_from(["East", "North", "South"]), min_size=n, max_size=n))
    w = draw(st.lists(st.one_of(st.just(0.0), st.floats(0.5, 500.0)), min_size=n, max_size=n))
    if not any(v > 0 for v in w):
        w[0] = 1.0
    starts = draw(st.lists(st.integers(-30, 8), min_size=n, max_size=n))
    start = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.asarray(starts) * 31, unit="D")
    return pd.DataFrame(
        {
            "region": regions,
            "person": [f"p{i:02d}" for i in range(n)],
            "weight": np.asarray(w, dtype=np.float64),
            "start": start,
        }
    )


# --------------------------------------------------------------------------------------------
# Exact splits (crmcore.money.largest_remainder)
# --------------------------------------------------------------------------------------------

#: Floats at the edges of the double range (subnormal, tiny, huge, the largest finite).
EXTREME_FLOATS = [
    5e-324,
    2.2250738585072014e-308,
    1e-300,
    1e-150,
    1e150,
    1e307,
    1.7976931348623157e308,
]


@st.composite
def extreme_weights(draw: st.DrawFn, *, max_size: int = 10) -> list[float]:
    """Float weights mixing every binary order of magnitude, exact ties and zeros."""
    pool = st.one_of(
        st.just(0.0),
        st.sampled_from(EXTREME_FLOATS),
        st.floats(5e-324, 1.7e308, allow_nan=False, allow_infinity=False),
        st.sampled_from([0.1, 0.2, 0.3, 1 / 3, 0.6, 0.4, 1.0, 3.0]),
    )
    values = draw(st.lists(pool, min_size=1, max_size=max_size))
    if draw(st.booleans()):  # repeat values: exact ties between rows
        values = [values[draw(st.integers(0, len(values) - 1))] for _ in values]
    if not any(v > 0 for v in values):
        values[0] = draw(st.sampled_from(EXTREME_FLOATS))
    return values


def split_totals() -> st.SearchStrategy[int]:
    """Totals from tiny to the largest accepted (|total| <= 2**62), negative ones included."""
    return st.one_of(
        st.integers(-100, 100),
        st.integers(0, 10**12),
        st.integers(2**53 - 5, 2**53 + 5),
        st.integers(2**61, 2**62),
        st.integers(-(2**62), -(2**61)),
    )


def split_weights() -> st.SearchStrategy[list[float] | list[int]]:
    """Small integer weights, ordinary floats or extreme floats."""
    return st.one_of(int_weights(), float_weights(), extreme_weights())
