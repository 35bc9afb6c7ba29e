"""Progress of long work on standard error, when standard error is a terminal.

The library's long functions take an optional ``progress(done, total)`` callback
(:func:`crmcore.pipeline.simulate_pipeline` calls it after every chunk of draws); the command
line hands them one that draws a `tqdm <https://tqdm.github.io/>`_ bar. tqdm is the optional
extra ``progress`` (one pure-Python package without dependencies); without it a terminal gets
one line saying what is running and how to get the bar. Into a file or a pipe nothing is
written, so scripts and logs see only results and errors.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["progress"]

Callback = Callable[[int, int], object]


def _terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if isatty is not None else False


@contextmanager
def progress(
    what: str, total: int, *, unit: str, stream: TextIO | None = None
) -> Iterator[Callback | None]:
    """Yield a ``progress(done, total)`` callback drawing a bar on a terminal, else ``None``.

    Examples
    --------
    >>> import io
    >>> with progress("simulating", 10, unit="draw", stream=io.StringIO()) as callback:
    ...     callback is None
    True
    """
    err = sys.stderr if stream is None else stream
    if not _terminal(err):
        yield None
        return
    try:
        tqdm = importlib.import_module("tqdm").tqdm  # optional: imported only to draw a bar
    except ImportError:
        print(
            f"crmcore: {what} {total:,} {unit}s... (for a progress bar: pip install tqdm, or "
            "from a crmcore source checkout: pip install -e '.[progress]')",
            file=err,
        )
        yield None
        return
    bar: Any = tqdm(total=total, desc=what, unit=unit, file=err, leave=False, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.refresh()  # show the end even when the last steps came faster than a redraw

    try:
        yield update
    finally:
        bar.close()
