"""The stopwatch: one measurement per fresh process, interleaved repeats, medians and a log.

The rules are those of the reference harness (``shared/bench/README.md``), so the figures can be
compared with it:

- Each engine reads the input Parquet file into its own native form before timing (DuckDB: a
  native table from ``CREATE TABLE ... AS SELECT * FROM read_parquet(...)``; pandas-based tools:
  a pandas frame; polars: a polars frame). Loading and imports are not timed.
- The timed section computes the whole result and materialises it in the engine's natural
  output (DuckDB: an Arrow table; polars: a polars DataFrame; crmcore: what the function
  returns). Nothing is converted into another library's format inside the timing.
- One measurement per process: ``python benchmarks/measure.py STEP ENGINE PARQUET`` is started
  fresh for every measurement, so the figure is the *first call*, what a user's job pays (page
  faults on fresh arrays, lazy imports inside the call, allocator growth). A second call in
  the same process is timed too and reported separately as the *warm* call.
- Peak memory is the process's resident high-water mark over the timed section
  (``VmHWM``, reset through ``/proc/self/clear_refs`` after loading), input included; the
  resident size just before timing is kept as the base.
- The runner interleaves the engines of a step (the order rotates on every repeat), repeats
  at least three times, reports medians and the spread, and writes every measurement to a
  time-ordered log as it goes.

This module imports only the standard library, so the DuckDB and polars processes carry
neither pandas nor crmcore.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MEASURE = HERE / "measure.py"


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Engine:
    """One way to compute a step: how to load the input (untimed) and what to time.

    ``load(path, threads)`` reads the Parquet file at ``path`` into the engine's native form
    and imports whatever the timed call needs; ``run(native)`` is timed and must return the
    materialised result. ``requires`` names importable modules; an engine whose modules are
    missing is skipped (and said so). ``reset_extra``/``extra_peak_mb`` cover engines that
    compute in other processes (Dask workers): their peaks are reset with this process's and
    added to it. ``env`` adds environment variables to the measuring process (a variant of an
    engine under another setting, e.g. numpy without transparent huge pages).
    """

    name: str
    load: Callable[[str, int | None], Any]
    run: Callable[[Any], Any]
    label: str = ""
    requires: tuple[str, ...] = ()
    reset_extra: Callable[[Any], None] | None = None
    extra_peak_mb: Callable[[Any], float] | None = None
    env: tuple[tuple[str, str], ...] = ()

    def available(self) -> bool:
        from importlib.util import find_spec

        return all(find_spec(m) is not None for m in self.requires)


@dataclass(frozen=True)
class Goal:
    """What the step must reach at the largest size, against the named references.

    ``time``/``memory``: the largest allowed ratio subject / reference (None: not a goal).
    With several references the goal is met when it holds against at least one of them.
    """

    time: float | None = None
    memory: float | None = None
    against: tuple[str, ...] = ("duckdb", "polars")
    scaling: float = 11.0


@dataclass(frozen=True)
class Step:
    """One hot path: its input, the subject engine (first) and the reference engines.

    ``data`` names an input of ``_data.DATASETS``; ``rows`` says what one row of the size is.
    ``check(subject_result, reference_result, reference_name)`` raises ``AssertionError`` when
    a reference does not compute the same thing (run by ``tests/test_benchmarks.py`` at a
    tiny size, never inside a measurement).
    """

    name: str
    data: str
    rows: str
    engines: tuple[Engine, ...]
    reference: str = "no reference engine computes the same thing"
    check: Callable[[Any, Any, str], None] | None = None
    goal: Goal | None = None
    area: str = ""
    inputs: tuple[str, ...] = ()  # side inputs (``_data`` names, size 0) next to the main one

    def engine(self, name: str) -> Engine:
        for e in self.engines:
            if e.name == name:
                return e
        raise KeyError(f"step {self.name!r} has no engine {name!r}; it has {self.names()}")

    def names(self) -> list[str]:
        return [e.name for e in self.engines]

    @property
    def subject(self) -> Engine:
        return self.engines[0]


# --------------------------------------------------------------------------- memory


def _status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover - not Linux
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's resident high-water mark to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:  # pragma: no cover - old kernels or not Linux
        return False
    return True


def peak_rss_mb() -> float:
    """Resident high-water mark in MiB (the process's lifetime peak where VmHWM is missing)."""
    kb = _status_kb("VmHWM")
    if kb is None:  # pragma: no cover - not Linux
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024


def rss_mb() -> float:
    return (_status_kb("VmRSS") or 0) / 1024


# --------------------------------------------------------------------------- one measurement


def result_length(result: Any) -> int:
    """Rows of a result: frames, Arrow tables, arrays, or a result object's ``table``."""
    for attr in ("num_rows", "height"):
        if hasattr(result, attr):
            return int(getattr(result, attr))
    if hasattr(result, "table"):  # crmcore result objects (CloseSchedule, ...)
        return result_length(result.table)
    return len(result)


def measure_here(engine: Engine, path: str, threads: int | None, warm: bool) -> dict[str, Any]:
    """Load, then time one call of ``engine`` in this process (call once per process)."""
    native = engine.load(path, threads)
    gc.collect()
    base = rss_mb()
    reset_ok = reset_peak_rss()
    if engine.reset_extra is not None:
        engine.reset_extra(native)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    result = engine.run(native)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    peak = peak_rss_mb()
    extra = engine.extra_peak_mb(native) if engine.extra_peak_mb is not None else 0.0
    rows_out = result_length(result)
    del result
    out: dict[str, Any] = {
        "seconds": round(seconds, 4),
        "cpu_seconds": round(cpu, 4),
        "peak_mb": round(peak + extra, 1),
        "base_mb": round(base, 1),
        "rows_out": rows_out,
        "peak_reset": reset_ok,
    }
    if extra:
        out["workers_peak_mb"] = round(extra, 1)
    if warm:
        gc.collect()
        t0 = time.perf_counter()
        again = engine.run(native)
        out["warm_seconds"] = round(time.perf_counter() - t0, 4)
        del again
    return out


def measure_fresh(
    step: str,
    engine: str,
    path: Path,
    *,
    threads: int | None,
    warm: bool,
    timeout: float,
    env: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    """Run ``measure.py`` in a new interpreter (``env`` added) and return its JSON line."""
    cmd = [sys.executable, str(MEASURE), step, engine, str(path), "--json"]
    if threads:
        cmd += ["--threads", str(threads)]
    if warm:
        cmd.append("--warm")
    return _run_child(cmd, timeout, lambda out: json.loads(out.strip().splitlines()[-1]), env)


def measure_anchor(
    script: Path, tool: str, path: Path, *, threads: int | None, timeout: float
) -> dict[str, Any]:
    """Run the reference harness (``anchors_rfm.py TOOL PARQUET``) once and parse its line."""
    cmd = [sys.executable, str(script), tool, str(path)]
    if threads:
        cmd += ["--threads", str(threads)]

    def parse(out: str) -> dict[str, Any]:
        line = out.strip().splitlines()[-1]
        fields = dict(part.split("=", 1) for part in line.split()[1:])
        return {
            "seconds": float(fields["seconds"]),
            "peak_mb": float(fields["peak_rss_mb"]),
            "base_mb": float(fields["base_rss_mb"]),
            "rows_out": int(fields["customers"]),
        }

    return _run_child(cmd, timeout, parse)


def _run_child(
    cmd: list[str],
    timeout: float,
    parse: Callable[[str], dict[str, Any]],
    extra_env: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    env = {**os.environ, "PYTHONHASHSEED": "0", **dict(extra_env)}
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"measurement failed (exit {done.returncode}): {' '.join(cmd)}\n{done.stderr[-4000:]}"
        )
    return parse(done.stdout)


# --------------------------------------------------------------------------- the runner


@dataclass(frozen=True)
class Anchors:
    """The reference harness's script and the tools it runs for the summary step."""

    script: Path
    step: str = "btyd_summary"
    tools: tuple[tuple[str, str, int | None], ...] = (
        ("shared:crmcore", "crmcore", None),
        ("shared:duckdb", "duckdb", 2),
    )


@dataclass
class Plan:
    """What a suite run measures."""

    steps: list[Step]
    sizes: list[int]
    repeat: int = 3
    threads: int = 2
    warm: bool = True
    timeout: float = 1800.0
    anchors: Anchors | None = None
    engines: set[str] | None = None  # None: every engine of every step
    skipped: list[str] = field(default_factory=list)


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def _rotate(items: list[Any], k: int) -> list[Any]:
    if not items:
        return items
    k %= len(items)
    return items[k:] + items[:k]


def _contenders(plan: Plan, step: Step) -> list[tuple[str, Callable[[Path], dict[str, Any]]]]:
    """(engine name, measure(path)) for every engine of ``step`` this run measures."""
    out: list[tuple[str, Callable[[Path], dict[str, Any]]]] = []
    for engine in step.engines:
        if plan.engines is not None and engine.name not in plan.engines:
            continue
        if not engine.available():
            plan.skipped.append(f"{step.name}/{engine.name} (needs {', '.join(engine.requires)})")
            continue

        def fresh(
            path: Path, name: str = engine.name, env: tuple[tuple[str, str], ...] = engine.env
        ) -> dict[str, Any]:
            return measure_fresh(
                step.name,
                name,
                path,
                threads=plan.threads,
                warm=plan.warm,
                timeout=plan.timeout,
                env=env,
            )

        out.append((engine.name, fresh))
    if plan.anchors is not None and plan.anchors.step == step.name:
        script = plan.anchors.script
        for name, tool, threads in plan.anchors.tools:

            def anchor(path: Path, tool: str = tool, threads: int | None = threads) -> Any:
                return measure_anchor(script, tool, path, threads=threads, timeout=plan.timeout)

            out.append((name, anchor))
    return out


def run(
    plan: Plan,
    data_path: Callable[[str, int], Path],
    log: Callable[[dict[str, Any]], None],
) -> list[dict[str, Any]]:
    """Measure every (size, step, engine) ``plan.repeat`` times, interleaved; return the log.

    Within a step, each repeat runs every engine once, and the order rotates from one repeat
    to the next (A B C, B C A, C A B), so a slow minute on a shared machine does not fall on one
    engine. ``log`` receives each record as soon as it is measured.
    """
    records: list[dict[str, Any]] = []
    for size in plan.sizes:
        for step in plan.steps:
            contenders = _contenders(plan, step)
            if not contenders:
                continue
            path = data_path(step.data, size)
            for r in range(plan.repeat):
                for name, measure in _rotate(contenders, r):
                    started = time.time()
                    before = loadavg()
                    record: dict[str, Any] = {
                        "at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started)),
                        "step": step.name,
                        "size": size,
                        "engine": name,
                        "repeat": r,
                        "load": before,
                    }
                    record.update(measure(path))
                    records.append(record)
                    log(record)
    return records


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Summary:
    """Medians and spread of one (step, size, engine) over its repeats."""

    step: str
    size: int
    engine: str
    n: int
    seconds: float
    seconds_min: float
    seconds_max: float
    peak_mb: float
    peak_min: float
    peak_max: float
    base_mb: float
    warm_seconds: float | None
    cpu_seconds: float | None = None

    @property
    def step_mb(self) -> float:
        """Memory the call added on top of what was resident before it (peak - base)."""
        return max(self.peak_mb - self.base_mb, 0.0)


def summarise(records: Iterable[dict[str, Any]]) -> list[Summary]:
    """One :class:`Summary` per (step, size, engine), in first-seen order."""
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for rec in records:
        groups.setdefault((rec["step"], rec["size"], rec["engine"]), []).append(rec)
    out = []
    for (step, size, engine), recs in groups.items():
        secs = [r["seconds"] for r in recs]
        peaks = [r["peak_mb"] for r in recs]
        warm = [r["warm_seconds"] for r in recs if "warm_seconds" in r]
        cpu = [r["cpu_seconds"] for r in recs if "cpu_seconds" in r]
        out.append(
            Summary(
                step=step,
                size=size,
                engine=engine,
                n=len(recs),
                seconds=statistics.median(secs),
                seconds_min=min(secs),
                seconds_max=max(secs),
                peak_mb=statistics.median(peaks),
                peak_min=min(peaks),
                peak_max=max(peaks),
                base_mb=statistics.median(r.get("base_mb", 0.0) for r in recs),
                warm_seconds=statistics.median(warm) if warm else None,
                cpu_seconds=statistics.median(cpu) if cpu else None,
            )
        )
    return out


def merge_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Saved runs (``{"meta", "records"}``) as one: every record, in time order; meta by key.

    A meta value the runs share is kept once; values that differ (commands, dates, loads) are
    listed in run order, separated by " | ".
    """
    records = sorted(
        (rec for run in runs for rec in run["records"]), key=lambda rec: str(rec.get("at", ""))
    )
    meta: dict[str, str] = {}
    for run in runs:
        for key, value in run["meta"].items():
            if key not in meta:
                meta[key] = str(value)
            elif str(value) not in meta[key].split(" | "):
                meta[key] += f" | {value}"
    if len(runs) > 1:
        meta["runs merged"] = str(len(runs))
    return {"meta": meta, "records": records}


# --------------------------------------------------------------------------- the machine


def machine() -> dict[str, str]:
    """CPU, cores, memory, OS and library versions (read without importing the engines)."""
    info = {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _meminfo(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    for name in ("crmcore", "numpy", "pandas", "pyarrow", "duckdb", "polars", "dask"):
        info[name] = _dist_version(name)
    return info


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover
        pass
    return platform.processor() or "unknown"


def _meminfo() -> str:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:  # pragma: no cover
        pass
    return "unknown"


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open() as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
