"""Hypothesis strategies for the segmentation tests (summaries with heavy ties)."""

from __future__ import annotations

import pandas as pd
from hypothesis import strategies as st


@st.composite
def summaries(draw: st.DrawFn, *, min_rows: int = 1, max_rows: int = 40) -> pd.DataFrame:
    """Per-customer summaries like rfm_summary's: unique ids in random order, many ties.

    Frequency is 1 for most customers (as in real data), recency and monetary repeat often.
    """
    n = draw(st.integers(min_rows, max_rows))
    ids = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n, unique=True))
    recency = draw(st.lists(st.one_of(st.just(0), st.integers(0, 400)), min_size=n, max_size=n))
    frequency = draw(
        st.lists(st.one_of(st.just(1), st.just(1), st.integers(1, 30)), min_size=n, max_size=n)
    )
    monetary = draw(
        st.lists(
            st.one_of(
                st.just(10.0),
                st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False),
            ),
            min_size=n,
            max_size=n,
        )
    )
    return pd.DataFrame(
        {"recency": recency, "frequency": frequency, "monetary": monetary},
        index=pd.Index(ids, name="customer_id"),
    )
