"""How plain numpy passes scale from one size to another on this machine (no crmcore).

The suite's linearity goal asks 10x the rows to cost at most about 11x the time. On a machine
whose last-level cache holds a 1M-row float column (8 MB) but not a 10M-row one (80 MB), even
one pass of numpy arithmetic costs more than 10x: this script shows by how much, so the
scaling table in ``docs/performance.md`` can be read against the hardware it ran on.

Each primitive is timed on its first call in a fresh process (as the suite measures), and warm
(the best of five calls after it)::

    .venv/bin/python benchmarks/machine_scaling.py               # 1M and 10M rows
    .venv/bin/python benchmarks/machine_scaling.py --sizes 1e4,1e5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

PRIMITIVES = ("multiply", "compare_sum", "bincount", "partition", "sort")


def _primitive(name: str) -> Callable[[Any], Any]:
    import numpy as np

    table: dict[str, Callable[[Any], Any]] = {
        "multiply": lambda a: a * 2.0,
        "compare_sum": lambda a: int((a > 0.5).sum()),
        "bincount": lambda a: np.bincount((a * 1000).astype(np.intp), minlength=1000),
        "partition": lambda a: np.partition(a, a.shape[0] // 2),
        "sort": np.sort,
    }
    return table[name]


def measure(name: str, rows: int) -> dict[str, float]:
    """First-call and warm seconds of one primitive on ``rows`` uniform floats (this process)."""
    import numpy as np

    values = np.random.default_rng(0).random(rows)
    run = _primitive(name)
    start = time.perf_counter()
    run(values)
    first = time.perf_counter() - start
    warm = []
    for _ in range(5):
        start = time.perf_counter()
        run(values)
        warm.append(time.perf_counter() - start)
    return {"first": first, "warm": min(warm)}


def _fresh(name: str, rows: int) -> dict[str, float]:
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import machine_scaling as m; "
        "print(json.dumps(m.measure(sys.argv[2], int(sys.argv[3]))))"
    )
    here = __file__.rsplit("/", 1)[0] or "."
    # crmcore's hot paths switch numpy's huge-page request off for the call
    # (crmcore._memory.normal_pages): do the same, or a first call can stall in compaction.
    env = {**os.environ, "NUMPY_MADVISE_HUGEPAGE": "0"}
    out = subprocess.run(
        [sys.executable, "-c", code, here, name, str(rows)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def table(sizes: list[int]) -> list[str]:
    """Markdown rows: each primitive's seconds at the smallest and largest size and the ratio."""
    lo, hi = sizes[0], sizes[-1]
    lines = [
        f"| primitive | s, first call at {lo:.0e} rows | s at {hi:.0e} | ratio | warm ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in PRIMITIVES:
        a, b = _fresh(name, lo), _fresh(name, hi)
        lines.append(
            f"| {name} | {a['first']:.3g} | {b['first']:.3g} | {b['first'] / a['first']:.1f} "
            f"| {b['warm'] / a['warm']:.1f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7", help="two row counts, e.g. 1e6,1e7")
    args = parser.parse_args(argv)
    sizes = sorted(int(float(s)) for s in args.sizes.split(","))
    if len(sizes) != 2:
        parser.error("--sizes takes two row counts")
    print("\n".join(table(sizes)))


if __name__ == "__main__":
    main()
