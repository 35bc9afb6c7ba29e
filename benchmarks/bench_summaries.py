"""Time crmcore's per-customer summaries against DuckDB and plain pandas, in the same run.

    .venv/bin/python benchmarks/bench_summaries.py                     # 10M rows, 1M customers
    .venv/bin/python benchmarks/bench_summaries.py --rows 1000000 --customers 100000 --repeat 3

For each engine it prints the best wall time over ``--repeat`` runs and its ratio to DuckDB,
the best CPU time (all threads of the process, so DuckDB's two threads add up; steadier than
wall time on a shared machine) and its ratio, and the peak memory of one extra traced run
(tracemalloc: Python and numpy allocations; DuckDB allocates outside Python, so its figure is
not comparable and is shown as "-"). The engines' results are checked to agree first.
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from crmcore.datasets import transactions
from crmcore.segmentation import btyd_summary, rfm_summary

AS_OF = "2024-12-31"


def duckdb_btyd(con: Any) -> pd.DataFrame:
    return con.execute(
        f"""
        WITH p AS (
            SELECT customer_id, CAST(date AS DATE) AS d, sum(amount) AS s
            FROM tx GROUP BY customer_id, d),
        agg AS (
            SELECT customer_id, count(*) AS n, min(d) AS first_d, max(d) AS last_d,
                   sum(s) AS total, arg_min(s, d) AS first_s
            FROM p GROUP BY customer_id)
        SELECT customer_id,
               (n - 1)::DOUBLE AS frequency,
               date_diff('day', first_d, last_d)::DOUBLE AS recency,
               date_diff('day', first_d, DATE '{AS_OF}')::DOUBLE AS T,
               CASE WHEN n > 1 THEN (total - first_s) / (n - 1) ELSE 0 END AS monetary_value
        FROM agg ORDER BY customer_id
        """
    ).df()


def duckdb_rfm(con: Any) -> pd.DataFrame:
    return con.execute(
        f"""
        WITH agg AS (
            SELECT customer_id, count(DISTINCT CAST(date AS DATE)) AS n, min(date) AS f,
                   max(date) AS l, sum(amount) AS m
            FROM tx GROUP BY customer_id)
        SELECT customer_id,
               date_diff('day', CAST(l AS DATE), DATE '{AS_OF}') AS recency,
               n AS frequency, m AS monetary, f AS first_purchase, l AS last_purchase,
               date_diff('day', CAST(f AS DATE), DATE '{AS_OF}') AS tenure
        FROM agg ORDER BY customer_id
        """
    ).df()


def pandas_btyd(tx: pd.DataFrame) -> pd.DataFrame:
    day = tx["date"].dt.floor("D")
    per = tx.assign(day=day).groupby(["customer_id", "day"])["amount"].sum().reset_index()
    g = per.groupby("customer_id")
    agg = g.agg(
        n=("day", "size"), first=("day", "min"), last=("day", "max"), total=("amount", "sum")
    )
    first_s = g["amount"].first()
    n = agg["n"]
    freq = (n - 1).astype(float)
    value = ((agg["total"] - first_s) / freq.where(freq > 0)).fillna(0.0)
    as_of = pd.Timestamp(AS_OF)
    return pd.DataFrame(
        {
            "frequency": freq,
            "recency": (agg["last"] - agg["first"]).dt.days.astype(float),
            "T": (as_of - agg["first"]).dt.days.astype(float),
            "monetary_value": value,
        }
    )


def pandas_rfm(tx: pd.DataFrame) -> pd.DataFrame:
    day = tx["date"].dt.floor("D")
    g = tx.assign(day=day).groupby("customer_id")
    agg = g.agg(
        frequency=("day", "nunique"),
        monetary=("amount", "sum"),
        first_purchase=("date", "min"),
        last_purchase=("date", "max"),
    )
    as_of = pd.Timestamp(AS_OF)
    agg["recency"] = (as_of - agg["last_purchase"].dt.floor("D")).dt.days
    agg["tenure"] = (as_of - agg["first_purchase"].dt.floor("D")).dt.days
    return agg


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall time and best CPU time (all threads of the process) over ``repeat`` runs."""
    best = float("inf")
    best_cpu = float("inf")
    result = None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        cpu = time.process_time()
        result = fn()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best = min(best, time.perf_counter() - start)
    return best, best_cpu, result


def traced_peak(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def check_agree(ours: pd.DataFrame, other: pd.DataFrame, columns: list[str], name: str) -> None:
    other = other.set_index("customer_id") if "customer_id" in other.columns else other
    for col in columns:
        a = ours[col].to_numpy(dtype=float)
        b = other[col].to_numpy(dtype=float)
        if not np.allclose(a, b, rtol=1e-9, atol=1e-6):
            raise SystemExit(f"{name}: column {col!r} disagrees with crmcore")
    if not np.array_equal(ours.index.to_numpy(), other.index.to_numpy()):
        raise SystemExit(f"{name}: customers differ from crmcore")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    parser.add_argument("--no-pandas", action="store_true", help="skip the plain pandas timing")
    parser.add_argument(
        "--shuffle",
        action="store_true",
        help="shuffle the rows (the generator returns them in date order, like most exports)",
    )
    args = parser.parse_args()

    import duckdb

    start = time.perf_counter()
    tx = transactions(args.customers, n_transactions=args.rows, seed=0)
    if args.shuffle:
        order = np.random.default_rng(1).permutation(len(tx))
        tx = tx.iloc[order].reset_index(drop=True)
    print(
        f"data: {len(tx):,} transactions, {tx['customer_id'].nunique():,} customers, "
        f"{'shuffled' if args.shuffle else 'in date order'} "
        f"(generated in {time.perf_counter() - start:.1f} s)"
    )
    con = duckdb.connect()
    con.execute(f"SET threads={args.threads}")
    con.register("tx", tx)

    engines: dict[str, dict[str, Callable[[], Any]]] = {
        "btyd_summary": {
            "crmcore": lambda: btyd_summary(tx, amount="amount", as_of=AS_OF),
            "duckdb": lambda: duckdb_btyd(con),
            "pandas": lambda: pandas_btyd(tx),
        },
        "rfm_summary": {
            "crmcore": lambda: rfm_summary(tx, as_of=AS_OF),
            "duckdb": lambda: duckdb_rfm(con),
            "pandas": lambda: pandas_rfm(tx),
        },
    }
    columns = {
        "btyd_summary": ["frequency", "recency", "T", "monetary_value"],
        "rfm_summary": ["recency", "frequency", "monetary", "tenure"],
    }
    print(
        f"{'summary':<14}{'engine':<9}{'seconds':>9}{'vs duckdb':>11}{'cpu s':>8}"
        f"{'cpu vs':>8}{'peak MiB':>10}"
    )
    for summary, runs in engines.items():
        timings: dict[str, float] = {}
        cpu: dict[str, float] = {}
        results: dict[str, Any] = {}
        for engine, fn in runs.items():
            if engine == "pandas" and args.no_pandas:
                continue
            timings[engine], cpu[engine], results[engine] = best_time(fn, args.repeat)
        for engine, result in results.items():
            if engine != "crmcore":
                check_agree(results["crmcore"], result, columns[summary], engine)
        results.clear()
        for engine, seconds in timings.items():
            peak = "-" if engine == "duckdb" else f"{traced_peak(runs[engine]):.0f}"
            ratio = seconds / timings["duckdb"]
            cpu_ratio = cpu[engine] / cpu["duckdb"]
            print(
                f"{summary:<14}{engine:<9}{seconds:>9.2f}{ratio:>10.2f}x"
                f"{cpu[engine]:>8.2f}{cpu_ratio:>7.2f}x{peak:>10}"
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (all engines, incl. the data): {rss:.0f} MiB")


if __name__ == "__main__":
    main()
