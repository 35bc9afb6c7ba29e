"""Run the crmcore benchmark suite by the reference harness's rules; write docs/performance.md.

    .venv/bin/python benchmarks/run.py                      # every step at 1M and 10M rows
    .venv/bin/python benchmarks/run.py --sizes 1e5 --repeat 1 --out /tmp/perf.md   # a quick look
    .venv/bin/python benchmarks/run.py --only btyd_summary,rfm_summary --sizes 1e7 \
        --anchors ../shared/bench                                      # + the reference harness
    .venv/bin/python benchmarks/run.py --render A.json B.json      # one page from two runs

Every measurement is one fresh process (``benchmarks/measure.py``): the engine reads the input
Parquet file into its native form untimed, then the first call is timed with its peak resident
memory (input included); a second, warm call is timed too. Engines of a step are interleaved
(the order rotates every repeat); medians and the spread of ``--repeat`` runs are reported.
Every measurement is appended to a time-ordered log (``benchmarks/results/log-*.jsonl``) as it
is taken, and the whole run is saved as JSON next to the page (``--render`` rewrites the page
from such a file without measuring). See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data
import _harness
import _report
from steps import STEPS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "performance.md"
DEFAULT_JSON = ROOT / "benchmarks" / "results.json"
LOG_DIR = ROOT / "benchmarks" / "results"


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(float(x)) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes wants numbers like 1e6,1e7, got {text!r}"
        ) from None
    if not sizes or min(sizes) < 100:
        raise argparse.ArgumentTypeError("--sizes must be at least 100 rows each")
    return sorted(set(sizes))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=_sizes, default=[10**6, 10**7], help="e.g. 1e6,1e7")
    p.add_argument("--only", default="", help="comma-separated step names (see --list)")
    p.add_argument("--engines", default="", help="comma-separated engine names to keep")
    p.add_argument("--repeat", type=int, default=3, help="fresh processes per engine (>= 1)")
    p.add_argument("--threads", type=int, default=2, help="DuckDB/polars threads")
    p.add_argument("--no-warm", action="store_true", help="skip the second (warm) call")
    p.add_argument(
        "--anchors",
        metavar="DIR",
        default=None,
        help="folder of the reference harness (anchors_rfm.py): its crmcore and DuckDB "
        "measurements of btyd_summary join the run, interleaved with the project's",
    )
    p.add_argument("--data-dir", type=Path, default=None, help="where inputs are cached")
    p.add_argument("--log-dir", type=Path, default=LOG_DIR, help="where the live log goes")
    p.add_argument("--data-only", action="store_true", help="write the inputs and exit")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per measurement")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument(
        "--json", type=Path, default=None, help="the run as JSON (default: beside --out)"
    )
    p.add_argument(
        "--render",
        metavar="JSON",
        type=Path,
        nargs="+",
        default=None,
        help="no run: re-render the page from saved run(s) (JSON, or a run's .jsonl log); "
        "several are merged, in time order, and the merged run is saved too (--json, default "
        "beside --out)",
    )
    p.add_argument("--list", action="store_true", help="list the steps and their engines")
    return p


def _select(parser: argparse.ArgumentParser, only: str) -> list[_harness.Step]:
    if not only:
        return list(STEPS)
    wanted = [s.strip() for s in only.split(",") if s.strip()]
    unknown = sorted(set(wanted) - {s.name for s in STEPS})
    if unknown:
        parser.error(f"unknown step(s) {unknown}; see --list")
    return [s for s in STEPS if s.name in wanted]


def _json_path(args: argparse.Namespace) -> Path:
    if args.json is not None:
        return Path(args.json)
    if Path(args.out).resolve() == DEFAULT_OUT:
        return DEFAULT_JSON
    return Path(args.out).with_suffix(".json")


def _saved_run(path: Path) -> dict[str, Any]:
    """A run saved by ``run.py`` (JSON), or the live log of one (``.jsonl``, records only)."""
    if path.suffix == ".jsonl":
        records = list(_harness.iter_jsonl(path))
        return {"meta": {"log": f"{path.name} (records only)"}, "records": records}
    saved: dict[str, Any] = json.loads(path.read_text())
    return saved


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        for step in STEPS:
            print(f"{step.name:<24} {', '.join(step.names()):<28} {step.rows}")
        return
    steps = _select(parser, args.only)
    if args.render:
        saved = _harness.merge_runs([_saved_run(Path(p)) for p in args.render])
        text = _report.render(saved["records"], steps, saved["meta"])
        Path(args.out).write_text(text)
        if len(args.render) > 1:
            _json_path(args).write_text(json.dumps(saved, indent=1))
        print(text)
        return
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    data_dir = args.data_dir or _data.default_data_dir()

    def data_path(name: str, size: int) -> Path:
        return _data.ensure(name, size, data_dir)

    for size in args.sizes:
        for step in steps:
            start = time.perf_counter()
            path = data_path(step.data, size)
            for extra in step.inputs:
                data_path(extra, 0)
            print(f"input {path.name} ready ({time.perf_counter() - start:.1f} s)", flush=True)
    if args.data_only:
        return

    anchors = None
    if args.anchors:
        script = Path(args.anchors) / "anchors_rfm.py"
        if not script.exists():
            parser.error(f"--anchors: {script} not found")
        anchors = _harness.Anchors(script.resolve())
    plan = _harness.Plan(
        steps=steps,
        sizes=args.sizes,
        repeat=args.repeat,
        threads=args.threads,
        warm=not args.no_warm,
        timeout=args.timeout,
        anchors=anchors,
        engines={e.strip() for e in args.engines.split(",") if e.strip()} or None,
    )
    started = dt.datetime.now(dt.UTC)
    args.log_dir.mkdir(parents=True, exist_ok=True)
    log_path = args.log_dir / f"log-{started.strftime('%Y%m%dT%H%M%SZ')}.jsonl"
    print(f"log: {log_path}", flush=True)
    meta: dict[str, Any] = _harness.machine()
    meta["command"] = "benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    meta["load average at start (1, 5, 15 min)"] = ", ".join(map(str, _harness.loadavg()))
    t0 = time.perf_counter()

    with log_path.open("a") as log:

        def record(rec: dict[str, Any]) -> None:
            log.write(json.dumps(rec) + "\n")
            log.flush()
            warm = f" warm {rec['warm_seconds']:.3f} s" if "warm_seconds" in rec else ""
            print(
                f"{rec['at']} [{rec['size']:,}] {rec['step']:<22} {rec['engine']:<15} "
                f"{rec['seconds']:8.3f} s {rec['peak_mb']:8.1f} MB peak "
                f"(base {rec['base_mb']:.0f}){warm}  load {rec['load'][:1]}",
                flush=True,
            )

        records = _harness.run(plan, data_path, record)

    meta["load average at end"] = ", ".join(map(str, _harness.loadavg()))
    meta["date"] = started.strftime("%Y-%m-%d %H:%M UTC")
    meta["suite wall time"] = f"{time.perf_counter() - t0:.0f} s"
    meta["repeats"] = str(args.repeat)
    if plan.skipped:
        meta["skipped engines"] = "; ".join(sorted(set(plan.skipped)))
    saved = {"meta": meta, "records": records}
    _json_path(args).write_text(json.dumps(saved, indent=1))
    text = _report.render(records, steps, meta)
    Path(args.out).write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
