"""Tables read and written cell for cell, for the commands that rewrite cells.

``clean``, ``pseudonymize`` and ``mask`` must see what the export holds: a CSV cell is read as
the text it is (``00123`` stays ``00123``, ``1,200.00`` and ``05.01.2024`` reach the library
as written; only an empty cell is missing), and a result goes to a file or, with ``-``, to
standard output as CSV. Parquet files keep their own types.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path
from typing import TextIO

import pandas as pd

from crmcore.cli._io import CLIError, first_line, write_table

STDIO = "-"


def read_cells(path: str, *, encoding: str = "utf-8", sep: str = ",") -> pd.DataFrame:
    """Read a CSV (every cell as text) or Parquet file; ``-`` reads CSV from standard input."""
    try:
        if path == STDIO:
            data = sys.stdin.buffer.read()
            if not data:
                raise CLIError("standard input is empty; expected a CSV table")
            return _csv(io.BytesIO(data), encoding, sep)
        p = Path(path)
        if not p.is_file():
            raise CLIError(f"file not found: {path}")
        suffix = p.suffix.lower()
        if suffix in (".parquet", ".pq"):
            if importlib.util.find_spec("pyarrow") is None:
                raise CLIError("reading Parquet needs pyarrow: pip install pyarrow")
            return pd.read_parquet(p)
        if suffix in (".csv", ".txt", ".tsv", ".gz"):
            return _csv(p, encoding, sep)
    except UnicodeDecodeError as exc:
        raise CLIError(
            f"could not read {path}: it is not {encoding} text ({first_line(exc)}); pass --encoding"
        ) from None
    except (OSError, ValueError, LookupError) as exc:
        raise CLIError(f"could not read {path}: {first_line(exc)}") from None
    raise CLIError(f"cannot read {path}: expected a .csv or .parquet file")


def _csv(source: Path | io.BytesIO, encoding: str, sep: str) -> pd.DataFrame:
    frame: pd.DataFrame = pd.read_csv(
        source,
        sep="\t" if sep in ("\\t", "tab") else sep,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        encoding=encoding,
    )
    return frame


def write_cells(frame: pd.DataFrame, out: str, stream: TextIO) -> None:
    """Write ``frame`` (without its index) to ``out``; ``-`` writes CSV to ``stream``."""
    if out == STDIO:
        frame.to_csv(stream, index=False)
        return
    write_table(frame, out)
    print(f"wrote {len(frame)} rows to {out}", file=stream)
