"""docs/performance.md from a run's time-ordered records (``benchmarks/run.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from _harness import Goal, Step, Summary, summarise

INTRO = """\
# Performance

This page is **generated** by the benchmark suite from its measurements; do not edit it by hand.
It shows how fast each hot path of crmcore is, and how much memory it needs, next to DuckDB and
polars computing the same thing on the same input, measured the same way:

```sh
.venv/bin/python -m pip install -e ".[bench]"
.venv/bin/python benchmarks/run.py                     # every step at 1M and 10M rows, 3 repeats
.venv/bin/python benchmarks/run.py --sizes 1e5 --repeat 1 --out /tmp/perf.md   # a quick look
```

## How it measures

- **A fresh process per measurement.** `benchmarks/measure.py STEP ENGINE FILE` loads the input
  and times one call, then exits; the runner starts one per measurement. The figure is the
  *first call*, what a user's job pays: page faults on fresh arrays, lazy imports inside the
  call, allocator growth. Importing crmcore (or DuckDB, polars) is not timed. A second call
  in the same process is shown as **warm s**, for information.
- **Each engine starts from its own native input**, read from the same Parquet file before the
  clock starts: DuckDB a native table (`CREATE TABLE ... AS SELECT * FROM read_parquet(...)`),
  polars a DataFrame, crmcore a pandas DataFrame (`pandas.read_parquet`).
- **The timed call materialises the whole result in the engine's natural output**: DuckDB an
  Arrow table, polars a DataFrame, crmcore what the function returns. No conversion into
  another library's format is timed.
- **Peak MB** is the process's resident high-water mark over the timed call (`VmHWM`, reset
  through `/proc/self/clear_refs` after loading), so it includes the input; **step MB** is the
  peak minus the resident size just before the call.
- **Interleaved repeats**: within a step, every repeat runs each engine once and the order
  rotates (A B C, B C A, C A B), so a busy minute on a shared machine does not land on one
  engine. The tables show **medians** and the **spread** (min-max) of the first-call times.
  Every measurement is kept, in time order, with the load average when it started, in
  `benchmarks/results.json` (the run this page was rendered from).
- **CPU s** is the median processor time of the first call (all threads of the process, so
  DuckDB's and polars' two threads add up): on a busy machine it moves less than wall time.
- **x time** and **x MB** are crmcore's median divided by the engine's on that row: below 1
  crmcore is faster or smaller.
- DuckDB runs with `SET threads=2`, polars with `POLARS_MAX_THREADS=2`; crmcore uses one core.
- **crmcore:no-thp** (btyd_summary) is crmcore again, in a process started with
  `NUMPY_MADVISE_HUGEPAGE=0`: numpy then never asks the kernel for transparent huge pages.
  Where THP defrag is `madvise` (the kernel's default), that request can stall a fresh
  process's first large allocations in memory compaction, a cost DuckDB's and polars' own
  allocators do not meet. crmcore's hot paths switch the request off themselves for the
  length of the call (`crmcore._memory.normal_pages`, restored afterwards), so this row is a
  control: it should agree with crmcore's. It is not a goal row.

These are the rules of the project's reference harness for the summary goal
(`shared/bench/anchors_rfm.py` in the workspace); `benchmarks/run.py --anchors DIR` runs that
harness's own crmcore and DuckDB measurements interleaved with the suite's, and the section
"Against the reference harness" compares them.
"""


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def size_label(n: int) -> str:
    for unit, div in (("M", 10**6), ("k", 10**3)):
        if n >= div and n % (div // 10) == 0:
            return f"{n / div:g}{unit}"
    return f"{n:,}"


def _index(summaries: Iterable[Summary]) -> dict[tuple[str, int, str], Summary]:
    return {(s.step, s.size, s.engine): s for s in summaries}


def _results(
    steps: list[Step], by: dict[tuple[str, int, str], Summary], sizes: list[int]
) -> list[str]:
    out = [
        "## Results\n",
        (
            "| step | rows | engine | first call s (median) | spread s | CPU s | peak MB "
            "| step MB | warm s | x time | x MB |"
        ),
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for step in steps:
        subject = step.subject.name
        for size in sizes:
            ours = by.get((step.name, size, subject))
            engines = [k[2] for k in by if k[0] == step.name and k[1] == size]
            for name in engines:
                s = by[(step.name, size, name)]
                ratio_t = ratio_m = None
                if ours is not None and name != subject and s.seconds > 0:
                    ratio_t = ours.seconds / s.seconds
                    ratio_m = ours.peak_mb / s.peak_mb if s.peak_mb > 0 else None
                out.append(
                    f"| {step.name} | {size_label(size)} | {name} | {s.seconds:.3f} "
                    f"| {s.seconds_min:.3f}-{s.seconds_max:.3f} | {_fmt(s.cpu_seconds, '.2f')} "
                    f"| {s.peak_mb:.0f} "
                    f"| {s.step_mb:.0f} | {_fmt(s.warm_seconds, '.3f')} "
                    f"| {_fmt(ratio_t, '.2f')} | {_fmt(ratio_m, '.2f')} |"
                )
    return out


def goal_rows(
    step: Step, by: dict[tuple[str, int, str], Summary], size: int
) -> list[tuple[str, str, bool | None]]:
    """(what, measured, met) for the step's goal at ``size`` against each reference."""
    goal: Goal | None = step.goal
    ours = by.get((step.name, size, step.subject.name))
    if goal is None or ours is None:
        return []
    rows: list[tuple[str, str, bool | None]] = []
    verdicts = []
    for ref in goal.against:
        theirs = by.get((step.name, size, ref))
        if theirs is None:
            continue
        t = ours.seconds / theirs.seconds
        m = ours.peak_mb / theirs.peak_mb
        ok = (goal.time is None or t <= goal.time) and (goal.memory is None or m <= goal.memory)
        verdicts.append(ok)
        parts = [f"time x {t:.2f}"] + ([f"peak MB x {m:.2f}"] if goal.memory else [])
        want = [f"time <= {goal.time:g}x"] if goal.time else []
        want += [f"peak MB <= {goal.memory:g}x"] if goal.memory else []
        rows.append((f"{step.name} vs {ref}: {', '.join(want)}", ", ".join(parts), ok))
    if len(verdicts) > 1:
        rows.append((f"{step.name}: met against at least one reference", "", any(verdicts)))
    return rows


def _goals(
    steps: list[Step], by: dict[tuple[str, int, str], Summary], sizes: list[int]
) -> list[str]:
    top = sizes[-1]
    out = [
        f"\n## Goals at {size_label(top)} rows\n",
        "| goal | measured (medians) | met |",
        "|---|---|---|",
    ]
    for step in steps:
        for what, measured, ok in goal_rows(step, by, top):
            out.append(
                f"| {what} | {measured} | {'-' if ok is None else ('yes' if ok else 'no')} |"
            )
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        limit = 1.1 * hi / lo
        for step in steps:
            a = by.get((step.name, lo, step.subject.name))
            b = by.get((step.name, hi, step.subject.name))
            if a is None or b is None or step.goal is None:
                continue
            t = b.seconds / a.seconds
            m = b.step_mb / a.step_mb if a.step_mb > 0 else None
            ok = t <= limit and (m is None or m <= limit)
            out.append(
                f"| {step.name} linear: {size_label(lo)} -> {size_label(hi)} time and step MB "
                f"<= {limit:.0f}x | time x {t:.1f}, step MB x {_fmt(m, '.1f')} "
                f"| {'yes' if ok else 'no'} |"
            )
    return out


def _scaling(
    steps: list[Step], by: dict[tuple[str, int, str], Summary], sizes: list[int]
) -> list[str]:
    if len(sizes) < 2:
        return []
    lo, hi = sizes[0], sizes[-1]
    out = [
        f"\n## Scaling: {size_label(lo)} to {size_label(hi)} rows\n",
        (
            f"{hi // lo}x the rows; about {hi // lo} means linear. Memory is the step MB (peak "
            "minus what was resident before the call), so the input and the libraries' code do "
            "not hide the growth. Small inputs carry fixed costs, so a ratio below linear is "
            "common. Large inputs leave the processor's cache: where a 1M-row float column (8 MB) "
            "fits in the last-level cache and a 10M-row one does not, one plain numpy pass "
            "already costs more than 10x as much (`benchmarks/machine_scaling.py` prints by how "
            "much on the machine at hand).\n"
        ),
        (
            f"| step | engine | s at {size_label(lo)} | s at {size_label(hi)} | time ratio "
            f"| step MB at {size_label(lo)} | step MB at {size_label(hi)} | MB ratio |"
        ),
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for step in steps:
        for engine in step.names():
            a, b = by.get((step.name, lo, engine)), by.get((step.name, hi, engine))
            if a is None or b is None:
                continue
            m = b.step_mb / a.step_mb if a.step_mb > 0 else None
            out.append(
                f"| {step.name} | {engine} | {a.seconds:.3f} | {b.seconds:.3f} "
                f"| {b.seconds / a.seconds:.1f} | {a.step_mb:.0f} | {b.step_mb:.0f} "
                f"| {_fmt(m, '.1f')} |"
            )
    return out


PAIRS = (("crmcore", "shared:crmcore"), ("duckdb", "shared:duckdb"))


def _anchors(by: dict[tuple[str, int, str], Summary]) -> list[str]:
    rows = []
    for (step, size, engine), ours in sorted(by.items()):
        for mine, theirs in PAIRS:
            if engine != mine:
                continue
            other = by.get((step, size, theirs))
            if other is None:
                continue
            rows.append(
                f"| {step} | {size_label(size)} | {mine} | "
                f"{ours.seconds:.3f} ({ours.seconds_min:.3f}-{ours.seconds_max:.3f}) | "
                f"{other.seconds:.3f} ({other.seconds_min:.3f}-{other.seconds_max:.3f}) | "
                f"{ours.peak_mb:.0f} | {other.peak_mb:.0f} |"
            )
    if not rows:
        return []
    return [
        "\n## Against the reference harness\n",
        (
            "The reference harness (`anchors_rfm.py`) measured in the same run, interleaved "
            "with the suite's processes on the same file: it should agree within the spread.\n"
        ),
        (
            "| step | rows | engine | suite s (spread) | harness s (spread) | suite peak MB "
            "| harness peak MB |"
        ),
        "|---|---:|---|---:|---:|---:|---:|",
        *rows,
        *_anchor_ratios(by),
    ]


def _anchor_ratios(by: dict[tuple[str, int, str], Summary]) -> list[str]:
    """crmcore / DuckDB medians as the suite measures them and as the harness does."""
    rows = []
    for step, size in sorted({(k[0], k[1]) for k in by}):
        got = [by.get((step, size, name)) for name in (*PAIRS[0], *PAIRS[1])]
        ours, harness_ours, duck, harness_duck = got[0], got[1], got[2], got[3]
        if ours is None or harness_ours is None or duck is None or harness_duck is None:
            continue
        rows.append(
            f"| {step} | {size_label(size)} | {ours.seconds / duck.seconds:.2f} "
            f"| {harness_ours.seconds / harness_duck.seconds:.2f} "
            f"| {ours.peak_mb / duck.peak_mb:.2f} "
            f"| {harness_ours.peak_mb / harness_duck.peak_mb:.2f} |"
        )
    if not rows:
        return []
    return [
        (
            "\ncrmcore's median divided by DuckDB's, by each stopwatch (below 1: crmcore is "
            "faster or smaller):\n"
        ),
        "| step | rows | suite x time | harness x time | suite x peak MB | harness x peak MB |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
    ]


def _closing(meta: dict[str, str]) -> list[str]:
    commands = meta.get("command", "").split(" | ")
    out = [
        "\n## Reproduce\n",
        "The measurements on this page were taken by:\n",
        "```sh",
        *[f".venv/bin/python {c}" for c in commands if c],
        "```\n",
        (
            "`benchmarks/results.json` keeps every measurement in time order; this page is "
            "printed from it, without measuring again, by:\n"
        ),
        "```sh",
        ".venv/bin/python benchmarks/run.py --render benchmarks/results.json",
        "```",
    ]
    return out


def render(records: list[dict[str, Any]], steps: list[Step], meta: dict[str, str]) -> str:
    """The Markdown page for ``records`` (a run's log) of ``steps``."""
    summaries = summarise(records)
    by = _index(summaries)
    names = {s.step for s in summaries}
    steps = [s for s in steps if s.name in names]
    sizes = sorted({s.size for s in summaries})
    out = [INTRO]
    if sizes:
        out += _results(steps, by, sizes)
        out += _goals(steps, by, sizes)
        out += _scaling(steps, by, sizes)
    out += _anchors(by)
    out += [
        "\n## What each step runs\n",
        "| step | a row is | engines | the references compute |",
        "|---|---|---|---|",
    ]
    out += [f"| {s.name} | {s.rows} | {', '.join(s.names())} | {s.reference} |" for s in steps]
    out.append("\n## Machine and run\n")
    out += [f"- {key}: {value}" for key, value in meta.items()]
    out += _closing(meta)
    out.append("")
    return "\n".join(out)
