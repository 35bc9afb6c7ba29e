"""Time crmcore.quota.apportion on large inputs: seconds per method.

Run: ``.venv/bin/python benchmarks/bench_apportion.py [--n 1000000] [--total 1000000000]``.
The issue's target: 1,000,000 weights and a total of 10**9 minor units in about a second.
For comparison it also times a plain NumPy floor-and-largest-remainder split (Hamilton without
exact tie handling), the cheapest possible baseline.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--total", type=int, default=10**9)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
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


if __name__ == "__main__":
    main()
