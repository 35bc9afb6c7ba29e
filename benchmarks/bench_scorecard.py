"""Time score_scorecard (and commission_statement) at scale; print seconds and peak memory.

    .venv/bin/python benchmarks/bench_scorecard.py                   # 1 000 000 people-periods
    .venv/bin/python benchmarks/bench_scorecard.py --rows 100000 --deals 200000

The scored frame has ``rows`` people-periods (people x 100 periods) and one column per metric
of a seven-metric scorecard using all four normalisations (target with cap, minmax observed and
with a fixed 1..5 scale, zscore, percentile), so every period is normalised separately. For
each function: wall time of one run, and the peak of Python + numpy allocations during a
second, traced run (tracemalloc). As a yardstick, a bare pandas expression computing the same
totals (groupby-transform normalisations, no validation, no ranks) is timed too.

The commission run pays ``deals`` won deals of 1 000 people over twelve months on a marginal
three-tier plan with a decelerator, a payout cap and 3 % clawbacks, in exact cents.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from crmcore.kpi import CommissionPlan, Metric, Scorecard, commission_statement, score_scorecard

CARD = Scorecard(
    metrics=[
        Metric(column="attainment", weight=0.3, normalisation="target", target=1.0, cap=1.5),
        Metric(column="win_rate", weight=0.15),
        Metric(column="deal_size", weight=0.1, normalisation="percentile"),
        Metric(column="cycle_days", weight=0.1, direction="lower", normalisation="zscore"),
        Metric(column="activities", weight=0.15, normalisation="zscore"),
        Metric(column="feedback", weight=0.1, scale=(1, 5)),
        Metric(column="rating", weight=0.1, scale=(1, 5)),
    ]
)
PLAN = CommissionPlan(
    tiers=[(0, 0.03), (50_000, 0.05), (100_000, 0.07)],
    decelerator=(10_000, 0.5),
    max_payout=20_000,
)


def measure(name: str, func: Callable[[], Any], n: int, unit: str) -> Any:
    gc.collect()
    t0 = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - t0
    gc.collect()
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{name:<40} {n:>10,} {unit}: {seconds:7.2f} s, peak {peak / 1e6:8.1f} MB")
    return result


def team_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    periods = 100
    people = max(1, rows // periods)
    n = people * periods
    return pd.DataFrame(
        {
            "period": np.repeat(np.arange(periods), people),
            "person": np.tile(np.arange(people), periods),
            "attainment": rng.gamma(4.0, 0.25, n),
            "win_rate": rng.beta(3, 5, n),
            "deal_size": rng.lognormal(8, 0.7, n).round(2),
            "cycle_days": rng.gamma(2.0, 20.0, n).round(),
            "activities": rng.poisson(100, n).astype(float),
            "feedback": rng.integers(1, 6, n).astype(float),
            "rating": rng.integers(1, 6, n).astype(float),
        }
    )


def bare_pandas(frame: pd.DataFrame) -> pd.Series:
    g = frame.groupby("period")
    total = 0.3 * np.minimum(frame["attainment"], 1.5)
    lo, hi = g["win_rate"].transform("min"), g["win_rate"].transform("max")
    total += 0.15 * (frame["win_rate"] - lo) / (hi - lo)
    r = g["deal_size"].rank(method="average")
    cnt = g["deal_size"].transform("count")
    total += 0.1 * (r - 1) / (cnt - 1)
    for col, w, sign in (("cycle_days", 0.1, -1), ("activities", 0.15, 1)):
        z = (frame[col] - g[col].transform("mean")) / g[col].transform("std", ddof=0)
        total += w * sign * z
    total += 0.1 * (frame["feedback"] - 1) / 4 + 0.1 * (frame["rating"] - 1) / 4
    return total


def deals_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    closed = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    cancel = rng.random(n) < 0.03
    return pd.DataFrame(
        {
            "person": rng.integers(0, 1000, n),
            "opportunity_id": np.arange(n),
            "closed_at": closed,
            "amount": rng.lognormal(8, 0.8, n).round(2),
            "cancelled_at": (closed + pd.to_timedelta(rng.integers(5, 90, n), unit="D")).where(
                cancel
            ),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--deals", type=int, default=1_000_000)
    args = parser.parse_args()

    frame = team_frame(args.rows)
    n = len(frame)
    scores = measure(
        "score_scorecard (7 metrics, by period)",
        lambda: score_scorecard(frame, CARD, period_column="period"),
        n,
        "people-periods",
    )
    ref = measure("bare pandas totals (yardstick)", lambda: bare_pandas(frame), n, "people-periods")
    ours = scores["total"].to_numpy()
    theirs = (
        pd.Series(ref.to_numpy(), index=pd.MultiIndex.from_frame(frame[["period", "person"]]))
        .sort_index()
        .to_numpy()
    )
    print(f"  max |total - yardstick| = {np.max(np.abs(ours - theirs)):.2e}")

    deals = deals_frame(args.deals)
    st = measure(
        "commission_statement (marginal, clawback)",
        lambda: commission_statement(deals, PLAN, cancelled_at="cancelled_at"),
        len(deals),
        "deals",
    )
    print(f"  {len(st):,} person-months, payout {int(st['payout_cents'].sum()) / 100:,.2f}")


if __name__ == "__main__":
    main()
