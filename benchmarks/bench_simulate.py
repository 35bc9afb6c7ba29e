"""Time simulate_pipeline (and estimate_stage_model) at scale; print seconds and peak memory.

    .venv/bin/python benchmarks/bench_simulate.py                  # both default cases
    .venv/bin/python benchmarks/bench_simulate.py --deals 10000 --draws 10000
    .venv/bin/python benchmarks/bench_simulate.py --deals 1000000 --draws 1000 --chunk 2

Cases by default: 10 000 open deals x 10 000 draws, and 1 000 000 open deals x 1 000 draws,
with exponential landing times, monthly periods. For each: wall time of one run, the peak of
Python + numpy allocations during a second, traced run (tracemalloc), and how far the mean
total is from the weighted pipeline in standard errors (a check that the run is right, not
just fast). A materialised draws x deals float64 matrix would need 800 MB (case 1) and 8 GB
(case 2); the chunked simulation stays far below. Finally estimate_stage_model is timed on a
1M-deal synthetic history.
"""

from __future__ import annotations

import argparse
import gc
import math
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

from crmcore.datasets import stage_history
from crmcore.pipeline import StageModel, estimate_stage_model, simulate_pipeline

STAGES = ["prospect", "bid", "negotiation"]
MODEL = StageModel.from_conversion_rates(STAGES, [0.5, 0.8, 0.9], [60, 30, 30])


def open_deals(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "opportunity_id": np.arange(1, n + 1, dtype=np.int64),
            "stage": np.asarray(STAGES, dtype=object)[rng.integers(0, 3, n)],
            "amount": np.round(rng.lognormal(10.0, 1.0, n), 2),
        }
    )


def case(n_deals: int, n_draws: int, chunk: int | None) -> None:
    deals = open_deals(n_deals)
    kw = {"as_of": "2025-01-01", "n_draws": n_draws, "seed": 1, "chunk_size": chunk}
    gc.collect()
    t0 = time.perf_counter()
    result = simulate_pipeline(deals, MODEL, **kw)  # type: ignore[arg-type]
    seconds = time.perf_counter() - t0
    gc.collect()
    tracemalloc.start()
    simulate_pipeline(deals, MODEL, **kw)  # type: ignore[arg-type]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    p = np.asarray([MODEL.probability(s) for s in STAGES])[
        pd.Index(STAGES).get_indexer(deals["stage"])
    ]
    a = deals["amount"].to_numpy()
    expected = float((p * a).sum())
    se = math.sqrt(float((p * (1 - p) * a**2).sum()) / n_draws)
    z = (result.total.mean - expected) / se
    matrix_mb = n_deals * n_draws * 8 / 1e6
    print(
        f"simulate_pipeline {n_deals:>9,} deals x {n_draws:>6,} draws: {seconds:7.2f} s, "
        f"peak {peak / 1e6:7.1f} MB (full matrix would be {matrix_mb:,.0f} MB), "
        f"{len(result.table)} periods, mean total off by {z:+.2f} SE"
    )


def learn(n_deals: int) -> None:
    history = stage_history(n_deals, MODEL, seed=2, end="2024-03-11")
    t0 = time.perf_counter()
    model = estimate_stage_model(history, stages=STAGES, as_of="2024-03-11")
    seconds = time.perf_counter() - t0
    rates = ", ".join(f"{r:.3f}" for r in model.conversion_rates)
    print(
        f"estimate_stage_model {n_deals:>9,} deals ({len(history):,} rows): {seconds:7.2f} s, "
        f"rates {rates} (true 0.5, 0.8, 0.9)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=None)
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--chunk", type=int, default=None, help="draws per chunk (default auto)")
    parser.add_argument("--history", type=int, default=1_000_000, help="deals in the history")
    args = parser.parse_args()
    if args.deals is not None or args.draws is not None:
        case(args.deals or 10_000, args.draws or 10_000, args.chunk)
    else:
        case(10_000, 10_000, args.chunk)
        case(1_000_000, 1_000, args.chunk)
    if args.history:
        learn(args.history)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(f"process max RSS {rss:,.0f} MB")


if __name__ == "__main__":
    main()
