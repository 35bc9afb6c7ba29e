"""Timing and peak-memory helpers shared by the benchmark suite (``benchmarks/run.py``).

Every measurement runs in a fresh child process forked from the runner, after the input data
has been built in the runner. The child prepares its engine (imports DuckDB or polars, registers
or converts the input), resets the kernel's peak-RSS counter (``/proc/self/clear_refs``), then
runs the step once and reports:

- ``seconds``: wall time of the step (``time.perf_counter``);
- ``peak_mb``: the child's peak resident set size during the step minus its resident size just
  before it (``VmHWM - VmRSS`` from ``/proc/self/status``), in MB (10**6 bytes). It counts every
  allocation of the step, native ones included (DuckDB's and polars' buffers are invisible to
  ``tracemalloc``), and the step's result, but not the input, which the child shares with the
  runner. Before the fork and again before the step, freed heap memory is returned to the
  kernel (``malloc_trim``), so a step cannot hide its needs in pages freed earlier.

Forking keeps each engine's memory apart from the others' and from the input, and means the
input is generated once per size. It needs Linux (``os.fork`` and ``/proc``); the runner must not
have started DuckDB or polars thread pools before forking, so those engines are imported in the
child only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import os
import platform
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Never let a reference engine grab more than the two cores the targets are stated for.
os.environ.setdefault("POLARS_MAX_THREADS", "2")

try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _LIBC.malloc_trim  # noqa: B018  # glibc only
except (OSError, AttributeError):  # pragma: no cover - not glibc
    _LIBC = None

Prepare = Callable[[], Callable[[], Any]]


@dataclass(frozen=True)
class Measurement:
    """Best wall time and peak extra memory of one step on one engine."""

    seconds: float
    peak_mb: float

    @classmethod
    def best(cls, runs: list[Measurement]) -> Measurement:
        """Fastest time of the runs and the largest peak (memory is conservative)."""
        return cls(min(r.seconds for r in runs), max(r.peak_mb for r in runs))


def _status() -> dict[str, int]:
    """Resident and peak resident set size of this process, in kB."""
    out: dict[str, int] = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0])
    return out


def _reset_peak() -> None:
    """Set the peak RSS counter to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:  # pragma: no cover - old kernels: the peak then includes the fork point
        pass


def _trim() -> None:
    """Give freed heap memory back to the kernel (glibc ``malloc_trim``), if possible.

    Without this a step could reuse pages that earlier work freed but glibc kept resident, and
    its peak would be understated.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _child(prepare: Prepare) -> dict[str, Any]:
    fn = prepare()
    gc.collect()
    _trim()
    _reset_peak()
    before = _status()["VmRSS"]
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    peak = _status()["VmHWM"]
    del result
    return {"seconds": seconds, "peak_mb": max(peak - before, 0) * 1024 / 1e6}


def measure_once(prepare: Prepare, timeout: float | None = None) -> Measurement:
    """Run ``prepare()()`` in a forked child; return its time and peak extra memory.

    ``prepare`` runs in the child, untimed: it imports the engine and loads the input, and
    returns the zero-argument callable that is timed. Errors in the child are re-raised here as
    ``RuntimeError`` with the child's traceback.
    """
    # The runner's objects go to the permanent generation: the child's collections then skip
    # them (fast, and no copy-on-write of their pages). release() undoes this between inputs.
    gc.freeze()
    _trim()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into the runner's code
        code = 1
        try:
            os.close(read_fd)
            try:
                payload = _child(prepare)
                code = 0
            except BaseException:
                payload = {"error": traceback.format_exc()}
            with os.fdopen(write_fd, "w") as fh:
                json.dump(payload, fh)
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd) as fh:
        text = fh.read()
    os.waitpid(pid, 0)
    if not text:
        raise RuntimeError("benchmark child died without a result (killed? out of memory?)")
    payload = json.loads(text)
    if "error" in payload:
        raise RuntimeError(f"benchmark child failed:\n{payload['error']}")
    return Measurement(payload["seconds"], payload["peak_mb"])


def release() -> None:
    """Let the garbage collector see the runner's objects again (call between inputs)."""
    gc.unfreeze()
    gc.collect()


def measure(prepare: Prepare, repeat: int = 1) -> Measurement:
    """Best of ``repeat`` forked runs (see :func:`measure_once`)."""
    return Measurement.best([measure_once(prepare) for _ in range(max(1, repeat))])


def machine() -> dict[str, str]:
    """Describe the machine and the library versions, for the results page."""
    import numpy as np
    import pandas as pd

    import crmcore

    info = {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _memory(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "crmcore": crmcore.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
    for name in ("duckdb", "polars", "pyarrow"):
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
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def load() -> str:
    """The 1, 5 and 15 minute load averages, as text."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"
