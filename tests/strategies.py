"""Hypothesis strategies shared by the test modules (area-specific ones: strategies_<area>.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

START = pd.Timestamp("2024-01-01")


@st.composite
def transaction_frames(
    draw: st.DrawFn,
    *,
    min_rows: int = 1,
    max_rows: int = 60,
    max_customers: int = 12,
    max_days: int = 400,
) -> pd.DataFrame:
    """Small transaction tables: customer ids, whole-day or timed dates, positive amounts.

    Repeats are likely: several rows per customer and several orders on one day.
    """
    n = draw(st.integers(min_rows, max_rows))
    n_cust = draw(st.integers(1, max_customers))
    customers = draw(st.lists(st.integers(1, n_cust), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, max_days), min_size=n, max_size=n))
    hours = draw(st.lists(st.sampled_from([0, 0, 0, 9, 17]), min_size=n, max_size=n))
    cents = draw(st.lists(st.integers(1, 500_000), min_size=n, max_size=n))
    dates = (
        START
        + pd.to_timedelta(np.asarray(days), unit="D")
        + pd.to_timedelta(np.asarray(hours), unit="h")
    )
    return pd.DataFrame(
        {
            "customer_id": np.asarray(customers, dtype=np.int64),
            "date": dates,
            "amount": np.asarray(cents, dtype=np.float64) / 100.0,
        }
    )


def weights_lists(min_size: int = 1, max_size: int = 30) -> st.SearchStrategy[list[float]]:
    """Non-negative weights with at least one positive."""
    return st.lists(
        st.one_of(st.just(0.0), st.floats(0.001, 1e6, allow_nan=False, allow_infinity=False)),
        min_size=min_size,
        max_size=max_size,
    ).filter(lambda w: any(x > 0 for x in w))
