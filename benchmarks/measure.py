"""One measurement in this (fresh) process: load untimed, time the first call, print one line.

    .venv/bin/python benchmarks/measure.py STEP ENGINE PARQUET [--threads 2] [--warm] [--json]

STEP and ENGINE name an entry of ``benchmarks/steps`` (``benchmarks/run.py --list``); PARQUET
is that step's input (``benchmarks/run.py --data-only`` writes them). The line printed is the
reference harness's:

    STEP/ENGINE rows_out=N seconds=S cpu_seconds=C peak_rss_mb=M base_rss_mb=B [warm_seconds=W]

or, with ``--json``, the same figures as one JSON object (what ``run.py`` reads). See
``benchmarks/_harness.py`` for the rules.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import measure_here
from steps import get


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step")
    parser.add_argument("engine")
    parser.add_argument("parquet")
    parser.add_argument("--threads", type=int, default=None, help="engine threads (DuckDB, polars)")
    parser.add_argument("--warm", action="store_true", help="also time a second call")
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    args = parser.parse_args(argv)
    engine = get(args.step).engine(args.engine)
    out = measure_here(engine, args.parquet, args.threads, args.warm)
    if args.json:
        print(json.dumps(out), flush=True)
        return
    warm = f" warm_seconds={out['warm_seconds']:.4f}" if "warm_seconds" in out else ""
    print(
        f"{args.step}/{args.engine} rows_out={out['rows_out']} seconds={out['seconds']:.4f} "
        f"cpu_seconds={out['cpu_seconds']:.4f} "
        f"peak_rss_mb={out['peak_mb']:.1f} base_rss_mb={out['base_mb']:.1f}{warm}",
        flush=True,
    )


if __name__ == "__main__":
    main()
