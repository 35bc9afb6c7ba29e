"""Fresh memory for the hot paths without huge-page stalls.

numpy asks the Linux kernel for transparent huge pages (``madvise(MADV_HUGEPAGE)``) on every
array of 4 MiB or more. Where the kernel's THP ``defrag`` setting is ``madvise`` (a common
default), the first touch of such an array can stall in direct page compaction: on the
benchmark machine the first ``btyd_summary`` call over 10M rows spends 0.7-0.9 s of its 1.8 s
in the kernel this way, and a second call in the same process does not (the pages are free by
then). DuckDB's and polars' allocators do not ask, which is most of the gap the summary speed
goal measured (``docs/performance.md``, the ``crmcore:no-thp`` rows).

:func:`normal_pages` switches numpy's request off for the duration of a hot-path call and puts
the previous setting back afterwards. Only the kernel's page size for new arrays changes;
results are the same bit for bit. Calls may nest and run in several threads: the setting is
saved by the first call that enters and restored by the last one that leaves. When the
process was started with ``NUMPY_MADVISE_HUGEPAGE`` set, that is the user's explicit choice and
is left alone; where numpy offers no switch (another platform or a future numpy), nothing
happens.

Examples
--------
>>> import numpy as np
>>> @normal_pages
... def total(values: np.ndarray) -> float:
...     return float(values.sum())
>>> total(np.arange(4.0))
6.0
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["normal_pages"]

P = ParamSpec("P")
R = TypeVar("R")

_ENV = "NUMPY_MADVISE_HUGEPAGE"


def _numpy_switch() -> Callable[[bool], bool] | None:
    """Find the run-time switch numpy offers (it returns the previous setting), or ``None``."""
    if _ENV in os.environ:
        return None
    for name in ("numpy._core.multiarray", "numpy.core.multiarray"):
        with warnings.catch_warnings():  # numpy 2 warns on the old name; 1.26 lacks the new
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
        switch = getattr(module, "_set_madvise_hugepage", None)
        if callable(switch):
            return switch  # type: ignore[no-any-return]
    return None


class _Advice:
    """The saved setting and how many calls are inside, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = 0
        self.saved = True
        self.switch = _numpy_switch()

    def enter(self) -> None:
        if self.switch is None:
            return
        with self.lock:
            if self.inside == 0:
                self.saved = bool(self.switch(False))
            self.inside += 1

    def leave(self) -> None:
        if self.switch is None:
            return
        with self.lock:
            self.inside -= 1
            if self.inside == 0:
                self.switch(self.saved)


_ADVICE = _Advice()


def normal_pages(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` with numpy's huge-page request off (see the module docstring).

    The wrapped function keeps its name, docstring and signature.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        _ADVICE.enter()
        try:
            return func(*args, **kwargs)
        finally:
            _ADVICE.leave()

    return wrapper
