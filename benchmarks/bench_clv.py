"""Time crmcore's customer-futures fits against lifetimes 0.11.3, in the same run.

    .venv/bin/python benchmarks/bench_clv.py                       # the issue's sizes
    .venv/bin/python benchmarks/bench_clv.py --bg-nbd 20000 --pareto 5000 --million

Inputs are synthetic summaries drawn from the models themselves (CDNOW-like parameters, time
in weeks, continuous purchase times), so every customer has a distinct (frequency, recency, T)
and compressing identical rows gains nothing. ``--dated`` draws times on a day grid instead
(days / 7, as ``btyd_summary`` gives for real dates): customers still differ, but many share
rows, which the fits compress to one weighted row each. The engines run ``--repeat`` times each,
interleaved (the order alternates), in one process after an untimed warm-up; the script prints
median wall and CPU seconds (min-max of the wall times), the load average, and checks that
both find the same parameters (to 1e-3 relative, the goal). lifetimes is the ``bench`` extra's
reference, never a crmcore dependency. ``--million`` adds crmcore's fits on 1M customers
(lifetimes is not run there). On a shared machine wall times move with the load: read the
CPU column too, and take final figures on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd
from _data import bg_nbd_columns, pareto_columns

from crmcore.clv import fit_bg_nbd, fit_pareto_nbd


def bg_nbd_summary(n: int, seed: int = 0, dated: bool = False) -> pd.DataFrame:
    """Customers drawn from the BG/NBD model (``_data.bg_nbd_columns``)."""
    return pd.DataFrame(bg_nbd_columns(n, seed, dated))


def pareto_summary(n: int, seed: int = 0, dated: bool = False) -> pd.DataFrame:
    """Customers drawn from the Pareto/NBD model (``_data.pareto_columns``)."""
    return pd.DataFrame(pareto_columns(n, seed, dated))


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds (all threads of this process) of one call, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def compare(
    name: str, summary: pd.DataFrame, ours: Any, theirs: str, repeat: int
) -> dict[str, Any]:
    """Fit ``summary`` with both engines ``repeat`` times, interleaved, order alternating."""
    import lifetimes

    distinct = len(summary.drop_duplicates())
    cols = [summary[c] for c in ("frequency", "recency", "T")]

    def fit_theirs() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getattr(lifetimes, theirs)().fit(*cols)

    runs: dict[str, list[tuple[float, float]]] = {"crmcore": [], "lifetimes": []}
    results: dict[str, Any] = {}
    load_before = _load()
    for i in range(repeat):
        order = [("crmcore", lambda: ours(summary)), ("lifetimes", fit_theirs)]
        for engine, fn in order if i % 2 == 0 else order[::-1]:
            wall, cpu, results[engine] = _timed(fn)
            runs[engine].append((wall, cpu))
    model, params = results["crmcore"], results["lifetimes"].params_
    worst = max(abs(getattr(model, k) / params[k] - 1) for k in model.PARAMETERS)
    med = {e: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r))
           for e, r in runs.items()}  # fmt: skip
    spread = {e: (min(w for w, _ in r), max(w for w, _ in r)) for e, r in runs.items()}
    print(f"{name} on {len(summary):,} customers ({distinct:,} distinct rows), {repeat} runs "
          f"each, interleaved; load average {load_before} before, {_load()} after")  # fmt: skip
    for engine in runs:
        lo, hi = spread[engine]
        print(f"  {engine:<10} median {med[engine][0]:7.2f} s wall ({lo:.2f}-{hi:.2f}), "
              f"{med[engine][1]:7.2f} s CPU")  # fmt: skip
    ratio_wall = med["lifetimes"][0] / med["crmcore"][0]
    ratio_cpu = med["lifetimes"][1] / med["crmcore"][1]
    print(
        f"  crmcore {ratio_wall:.1f}x faster (wall, medians), {ratio_cpu:.1f}x (CPU); "
        f"parameters agree to {worst:.1e} relative ({'ok' if worst < 1e-3 else 'DIFFERENT'})"
    )
    print(f"  crmcore   {_show(model.params)}")
    print(f"  lifetimes {_show(params.to_dict())}")
    return {"ratio_wall": ratio_wall, "ratio_cpu": ratio_cpu, "worst": worst}


def _show(params: Any) -> str:
    return ", ".join(f"{k}={v:.6g}" for k, v in params.items())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bg-nbd", type=int, default=200_000, help="BG/NBD customers")
    parser.add_argument("--pareto", type=int, default=50_000, help="Pareto/NBD customers")
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine (medians)")
    parser.add_argument("--dated", action="store_true", help="times on a day grid")
    parser.add_argument("--million", action="store_true", help="also fit 1M customers")
    args = parser.parse_args(argv)
    fit_bg_nbd(bg_nbd_summary(40_000))  # imports and first-call costs, not timed
    fit_pareto_nbd(pareto_summary(40_000))
    if args.bg_nbd:
        compare("BG/NBD", bg_nbd_summary(args.bg_nbd, dated=args.dated), fit_bg_nbd,
                "BetaGeoFitter", args.repeat)  # fmt: skip
    if args.pareto:
        compare("Pareto/NBD", pareto_summary(args.pareto, dated=args.dated), fit_pareto_nbd,
                "ParetoNBDFitter", args.repeat)  # fmt: skip
    if args.million:
        for name, make, fit in (
            ("BG/NBD", bg_nbd_summary, fit_bg_nbd),
            ("Pareto/NBD", pareto_summary, fit_pareto_nbd),
        ):
            summary = make(1_000_000, dated=args.dated)
            runs = [_timed(lambda s=summary, f=fit: f(s)) for _ in range(args.repeat)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            print(f"{name} on 1,000,000 customers (crmcore only; load {_load()}): median "
                  f"{wall:.2f} s wall, {cpu:.2f} s CPU; {_show(runs[-1][2].params)}")  # fmt: skip


if __name__ == "__main__":
    main()
