"""Time the weighted pipeline and the landing schedule at scale; print seconds and peak memory.

    .venv/bin/python benchmarks/bench_pipeline.py                 # 1 000 000 open deals
    .venv/bin/python benchmarks/bench_pipeline.py --deals 100000

The deals come from ``crmcore.datasets.opportunities`` with every deal open (four stages,
lognormal amounts, 15 % without a close date, 10 % overdue). For each function: wall time of
one run, and the peak of Python + numpy allocations during a second, traced run
(tracemalloc). As a yardstick, the same weighted total is computed with a bare pandas
expression (``stage.map(p) * amount``, no validation, float sums) and its time printed too;
crmcore's extra work is validation, exact cent rounding and id sorting.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pandas as pd

from crmcore.datasets import opportunities
from crmcore.pipeline import StageModel, close_schedule, pipeline_by_stage, weighted_pipeline

STAGES = ["prospect", "qualification", "proposal", "negotiation"]
MODEL = StageModel.from_conversion_rates(STAGES, [0.5, 0.6, 0.7, 0.8], [30, 20, 20, 15])
AS_OF = "2025-01-01"


def measure(name: str, func: Callable[[], Any], n: int) -> Any:
    gc.collect()
    t0 = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - t0
    gc.collect()
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{name:<44} {n:>10,} deals: {seconds:7.2f} s, peak {peak / 1e6:8.1f} MB")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.deals
    t0 = time.perf_counter()
    deals = opportunities(n, seed=1, as_of=AS_OF, open_share=1.0)
    print(f"generated {n:,} open deals in {time.perf_counter() - t0:.2f} s")

    weighted = measure("weighted_pipeline", lambda: weighted_pipeline(deals, MODEL), n)
    measure("pipeline_by_stage", lambda: pipeline_by_stage(deals, MODEL), n)
    schedule = measure(
        "close_schedule (monthly, own close dates)",
        lambda: close_schedule(deals, MODEL, as_of=AS_OF, close_date="close_date"),
        n,
    )
    probs = {s: MODEL.probability(s) for s in STAGES}
    baseline = measure(
        "bare pandas stage.map(p) * amount, sum",
        lambda: float((deals["stage"].map(probs) * deals["amount"]).sum()),
        n,
    )
    total = float(weighted["expected_amount"].sum())
    print(
        f"weighted total {total:,.2f} (bare float sum {baseline:,.2f}); schedule total "
        f"{schedule.table['expected_amount'].sum():,.2f} over {len(schedule.table)} months, "
        f"{schedule.overdue:,} overdue deals placed in {AS_OF[:7]}"
    )


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    main()
