"""Hypothesis strategies for the kpi area: deals, sales with targets, activities."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

START = pd.Timestamp("2024-01-01")
PEOPLE = ("ann", "bob", "cid")
REGIONS = ("North", "South")
KINDS = ("call", "email", "meeting")
MONTHS = pd.date_range("2024-01-01", periods=6, freq="MS", unit="ns")


@st.composite
def deal_frames(
    draw: st.DrawFn,
    *,
    min_rows: int = 1,
    max_rows: int = 40,
    statuses: tuple[str, ...] = ("won", "lost", "open"),
) -> pd.DataFrame:
    """Deals: unique ids, a few owners and regions, close after creation, NaT when open."""
    n = draw(st.integers(min_rows, max_rows))
    person = draw(st.lists(st.sampled_from(PEOPLE), min_size=n, max_size=n))
    region = draw(st.lists(st.sampled_from(REGIONS), min_size=n, max_size=n))
    status = draw(st.lists(st.sampled_from(statuses), min_size=n, max_size=n))
    created = draw(st.lists(st.integers(0, 200), min_size=n, max_size=n))
    cycle = draw(st.lists(st.integers(0, 120), min_size=n, max_size=n))
    cents = draw(st.lists(st.integers(0, 1_000_000), min_size=n, max_size=n))
    created_at = START + pd.to_timedelta(np.asarray(created), unit="D")
    closed_at = created_at + pd.to_timedelta(np.asarray(cycle), unit="D")
    is_open = np.asarray(status) == "open"
    return pd.DataFrame(
        {
            "opportunity_id": np.arange(1, n + 1, dtype=np.int64),
            "person": person,
            "region": region,
            "created_at": created_at.astype("datetime64[ns]"),
            "closed_at": pd.Series(closed_at.astype("datetime64[ns]")).where(~is_open).to_numpy(),
            "status": status,
            "amount": np.asarray(cents, dtype=np.float64) / 100.0,
        }
    )


@st.composite
def sales_and_targets(
    draw: st.DrawFn, *, max_sales: int = 40, allow_refunds: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sales (person, date, amount) over Jan-Aug 2024 and targets for some person-months.

    Targets cover a random subset of person x Jan-Jun (so some sales have no target and some
    targets have no sales); zero targets occur.
    """
    grid = [(p, m) for p in PEOPLE for m in range(len(MONTHS))]
    chosen = draw(st.lists(st.sampled_from(grid), min_size=1, max_size=len(grid), unique=True))
    goals = draw(
        st.lists(
            st.one_of(st.just(0), st.integers(1, 500_000)),
            min_size=len(chosen),
            max_size=len(chosen),
        )
    )
    targets = pd.DataFrame(
        {
            "person": [p for p, _ in chosen],
            "period": MONTHS[[m for _, m in chosen]],
            "target": np.asarray(goals, dtype=np.float64) / 100.0,
        }
    )
    n = draw(st.integers(0, max_sales))
    low = -50_000 if allow_refunds else 1
    person = draw(st.lists(st.sampled_from(PEOPLE), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, 240), min_size=n, max_size=n))
    cents = draw(st.lists(st.integers(low, 300_000), min_size=n, max_size=n))
    sales = pd.DataFrame(
        {
            "person": pd.Series(person, dtype="str"),
            "date": (START + pd.to_timedelta(np.asarray(days, dtype=np.int64), unit="D")).astype(
                "datetime64[ns]"
            ),
            "amount": np.asarray(cents, dtype=np.float64) / 100.0,
        }
    )
    return sales, targets


@st.composite
def activity_frames(draw: st.DrawFn, *, max_rows: int = 50) -> pd.DataFrame:
    """Activity logs: person, date, kind."""
    n = draw(st.integers(1, max_rows))
    return pd.DataFrame(
        {
            "person": draw(st.lists(st.sampled_from(PEOPLE), min_size=n, max_size=n)),
            "date": (
                START
                + pd.to_timedelta(
                    np.asarray(draw(st.lists(st.integers(0, 150), min_size=n, max_size=n))),
                    unit="D",
                )
            ).astype("datetime64[ns]"),
            "kind": draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n)),
        }
    )
