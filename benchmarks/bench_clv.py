"""Time crmcore's customer-futures fits against lifetimes 0.11.3, in the same run.

    .venv/bin/python benchmarks/bench_clv.py                       # the issue's sizes
    .venv/bin/python benchmarks/bench_clv.py --bg-nbd 20000 --pareto 5000 --million

Inputs are synthetic summaries drawn from the models themselves (CDNOW-like parameters, time
in weeks, continuous purchase times), so every customer has a distinct (frequency, recency, T)
and compressing identical rows gains nothing. ``--dated`` draws times on a day grid instead
(days / 7, as ``btyd_summary`` gives for real dates): customers still differ, but share
(frequency, t) pairs, which the Pareto/NBD fit evaluates once. Each fit runs ``--repeat`` times
per engine (best time is shown), and the script checks that both find the same parameters
(to 1e-3 relative, the goal). lifetimes is the ``bench`` extra's reference, never a crmcore
dependency. ``--million`` adds crmcore's fits on 1M customers (lifetimes is not run there).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from crmcore.clv import fit_bg_nbd, fit_pareto_nbd

BG_NBD = (0.243, 4.414, 0.793, 2.426)  # Fader, Hardie & Lee (2005), CDNOW, weeks
PARETO = (0.55, 10.58, 0.61, 11.67)


def _times(rng: np.random.Generator, n: int, t_max: float, dated: bool) -> np.ndarray:
    t = rng.uniform(1.0, t_max, n)
    return np.round(t * 7) / 7 if dated else t


def bg_nbd_summary(n: int, seed: int = 0, dated: bool = False) -> pd.DataFrame:
    """Customers drawn from the BG/NBD model: Poisson purchases, drop-out after each one."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = BG_NBD
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    big_t = _times(rng, n, 78.0, dated)
    x = np.zeros(n)
    last = np.zeros(n)
    clock = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        clock = clock + rng.exponential(1 / lam)
        bought = alive & (clock <= big_t)
        x[bought] += 1
        last[bought] = clock[bought]
        alive = bought & (rng.random(n) >= p)
    if dated:
        last = np.minimum(np.round(last * 7) / 7, big_t)
    return pd.DataFrame({"frequency": x, "recency": last, "T": big_t})


def pareto_summary(n: int, seed: int = 0, dated: bool = False) -> pd.DataFrame:
    """Customers drawn from the Pareto/NBD model: Poisson purchases, exponential lifetime."""
    rng = np.random.default_rng(seed)
    r, alpha, s, beta = PARETO
    lam = rng.gamma(r, 1 / alpha, n)
    mu = rng.gamma(s, 1 / beta, n)
    big_t = _times(rng, n, 78.0, dated)
    end = np.minimum(rng.exponential(1 / mu), big_t)
    x = rng.poisson(lam * end).astype(float)
    last = np.where(x > 0, end * rng.random(n) ** (1 / np.maximum(x, 1)), 0.0)
    if dated:
        last = np.where(x > 0, np.minimum(np.round(last * 7) / 7, big_t), 0.0)
    return pd.DataFrame({"frequency": x, "recency": last, "T": big_t})


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best = float("inf")
    out = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def compare(name: str, summary: pd.DataFrame, ours: Any, theirs: Any, repeat: int) -> None:
    import lifetimes

    distinct = len(summary.drop_duplicates())
    t_ours, model = _best(lambda: ours(summary), repeat)
    fitter = getattr(lifetimes, theirs)()
    cols = [summary[c] for c in ("frequency", "recency", "T")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_theirs, fitted = _best(lambda: fitter.fit(*cols), repeat)
    params = fitted.params_
    worst = max(abs(getattr(model, k) / params[k] - 1) for k in model.PARAMETERS)
    print(
        f"{name:<11} {len(summary):>9,} customers ({distinct:,} distinct rows): "
        f"crmcore {t_ours:6.2f} s, lifetimes {t_theirs:6.2f} s, "
        f"{t_theirs / t_ours:5.1f}x faster; parameters agree to {worst:.1e} relative "
        f"({'ok' if worst < 1e-3 else 'DIFFERENT'})"
    )
    print(f"            crmcore {model.params}")
    print(f"            lifetimes {params.to_dict()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bg-nbd", type=int, default=200_000, help="BG/NBD customers")
    parser.add_argument("--pareto", type=int, default=50_000, help="Pareto/NBD customers")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--dated", action="store_true", help="times on a day grid")
    parser.add_argument("--million", action="store_true", help="also fit 1M customers")
    args = parser.parse_args(argv)
    fit_bg_nbd(bg_nbd_summary(1000))  # imports and first-call costs, not timed
    compare("BG/NBD", bg_nbd_summary(args.bg_nbd, dated=args.dated), fit_bg_nbd,
            "BetaGeoFitter", args.repeat)  # fmt: skip
    compare("Pareto/NBD", pareto_summary(args.pareto, dated=args.dated), fit_pareto_nbd,
            "ParetoNBDFitter", args.repeat)  # fmt: skip
    if args.million:
        for name, make, fit in (
            ("BG/NBD", bg_nbd_summary, fit_bg_nbd),
            ("Pareto/NBD", pareto_summary, fit_pareto_nbd),
        ):
            summary = make(1_000_000, dated=args.dated)
            seconds, model = _best(lambda s=summary, f=fit: f(s), 1)
            print(f"{name:<11} 1,000,000 customers: crmcore {seconds:6.2f} s, {model.params}")


if __name__ == "__main__":
    main()
