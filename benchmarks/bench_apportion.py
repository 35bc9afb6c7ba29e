"""Time the exact splits on large inputs: apportion per method, and grouped largest remainder.

Run: ``.venv/bin/python benchmarks/bench_apportion.py [--n 1000000] [--total 1000000000]
[--rows 10000000]``.

1. ``crmcore.quota.apportion``: 1,000,000 weights and a total of 10**9 minor units, every
   method (goal: about a second), against a plain NumPy floor-and-largest-remainder split
   (Hamilton in floats, not exact), the cheapest possible baseline.
2. ``crmcore.money.largest_remainder`` grouped, the shape of split credit and commissions:
   ``--rows`` rows in groups of 1 to 5 with totals below 10**8 cents, for float weights, whole
   numbers, equal weights and credit-like shares (0.5/0.3/0.2), against a NumPy yardstick
   (float quotas, lexsort of the remainders; not exact). ``--rows 0`` skips it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from crmcore.money import largest_remainder
from crmcore.quota import METHODS, apportion, canonical_method


def _best_of(func, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def _numpy_hamilton(total: int, w: np.ndarray) -> np.ndarray:
    q = total * w / w.sum()
    base = np.floor(q).astype(np.int64)
    left = total - int(base.sum())
    idx = np.argpartition(-(q - base), left)[:left] if left else np.empty(0, dtype=np.int64)
    base[idx] += 1
    return base


def _numpy_grouped(totals: np.ndarray, w: np.ndarray, codes: np.ndarray) -> np.ndarray:
    wsum = np.bincount(codes, weights=w, minlength=totals.size)
    q = totals[codes] * (w / wsum[codes])
    base = np.floor(q).astype(np.int64)
    left = totals - np.bincount(codes, weights=base, minlength=totals.size).astype(np.int64)
    order = np.lexsort((-(q - base), codes))
    rank = np.arange(codes.size) - np.searchsorted(codes[order], codes[order])
    base[order] += rank < left[codes[order]]
    return base


def _single(args: argparse.Namespace, rng: np.random.Generator) -> None:
    inputs = {
        "lognormal floats": rng.lognormal(0.0, 1.0, args.n),
        "integers 1..1000": rng.integers(1, 1001, args.n),
        "all equal (ties)": np.ones(args.n),
    }
    print(f"apportion: n={args.n:,} weights, total={args.total:,}; best of {args.repeat}")
    for label, w in inputs.items():
        print(f"\n{label}")
        for method in sorted({canonical_method(m) for m in METHODS}):
            secs = _best_of(lambda m=method, w=w: apportion(args.total, w, m), args.repeat)
            out = apportion(args.total, w, method)
            assert int(out.sum()) == args.total
            print(f"  {method:16s} {secs:7.3f} s")
        secs = _best_of(lambda w=w: _numpy_hamilton(args.total, w.astype(float)), args.repeat)
        print(f"  {'numpy baseline':16s} {secs:7.3f} s  (floor + argpartition, not exact)")


def _grouped(args: argparse.Namespace, rng: np.random.Generator) -> None:
    sizes = rng.integers(1, 6, args.rows // 3 + 1)
    codes = np.repeat(np.arange(sizes.size), sizes)[: args.rows]
    totals = rng.integers(0, 10**8, int(codes[-1]) + 1)
    inputs = {
        "float weights": rng.random(codes.size),
        "whole numbers": rng.integers(1, 1000, codes.size).astype(np.float64),
        "equal weights": np.ones(codes.size),
        "shares .5/.3/.2": rng.choice([0.5, 0.3, 0.2], codes.size),
    }
    print(f"\nlargest_remainder grouped: {args.rows:,} rows in {totals.size:,} groups of 1-5")
    for label, w in inputs.items():
        secs = _best_of(lambda w=w: largest_remainder(totals, w, codes), args.repeat)
        base = _best_of(lambda w=w: _numpy_grouped(totals, w, codes), args.repeat)
        print(f"  {label:16s} {secs:7.3f} s   numpy yardstick {base:7.3f} s (not exact)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--total", type=int, default=10**9)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    _single(args, rng)
    if args.rows:
        _grouped(args, rng)


if __name__ == "__main__":
    main()
