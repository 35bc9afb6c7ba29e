"""Files in and results out for the command line: the shell's only reading and writing.

Tables are CSV or Parquet (chosen by file extension); configurations are JSON files in a
config's ``to_dict`` form. A problem with a file or with an option's text is a
:class:`CLIError`, which :func:`crmcore.cli.main` prints as one line with exit status 2.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from crmcore.errors import ConfigError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2


class CLIError(Exception):
    """A problem with the command line's own input (a file, an option's text)."""


def first_line(exc: BaseException) -> str:
    """Return the first line of an exception's message (its type name when it is empty)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_table(path: str) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame (by file extension)."""
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"file not found: {path}")
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            if importlib.util.find_spec("pyarrow") is None:
                raise CLIError("reading Parquet needs pyarrow: pip install 'crmcore[parquet]'")
            return pd.read_parquet(p)
        if suffix in (".csv", ".txt", ".gz"):
            return pd.read_csv(p)
    except (OSError, ValueError) as exc:
        raise CLIError(f"could not read {path}: {first_line(exc)}") from None
    raise CLIError(f"cannot read {path}: expected a .csv or .parquet file")


def write_table(frame: pd.DataFrame, path: str) -> None:
    """Write a DataFrame to CSV or Parquet (by file extension), keeping its index as columns."""
    p = Path(path)
    suffix = p.suffix.lower()
    out = frame.reset_index() if _has_named_index(frame) else frame
    out = _plain_columns(out)
    try:
        if suffix in (".parquet", ".pq"):
            out.to_parquet(p, index=False)
        elif suffix == ".csv":
            out.to_csv(p, index=False)
        else:
            raise CLIError(f"cannot write {path}: expected a .csv or .parquet file name")
    except (OSError, ImportError, ValueError) as exc:
        raise CLIError(f"could not write {path}: {first_line(exc)}") from None


def read_json(path: str, what: str) -> Any:
    """Read a JSON file (a scorecard, a commission plan, a stage model, grade rules)."""
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{what} file not found: {path}")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CLIError(f"could not read {what} {path}: {first_line(exc)}") from None


def config_from_file(cls: Any, path: str, what: str) -> Any:
    """Build a config object (``cls.from_dict``) from a JSON file holding one JSON object."""
    data = read_json(path, what)
    if not isinstance(data, dict):
        raise CLIError(f"{what} {path} must hold a JSON object, got {type(data).__name__}")
    try:
        return cls.from_dict(data)
    except (TypeError, ConfigError) as exc:
        # Name the file in the message; a TypeError from a constructor is a configuration
        # error too (a required field missing).
        raise ConfigError(f"{what} {path}: {first_line(exc)}") from None


def write_config(config: Any, path: str | None) -> None:
    """Write a config's ``to_dict`` form as JSON to ``path`` (nothing when ``path`` is None)."""
    if path is None:
        return
    try:
        Path(path).write_text(json.dumps(config.to_dict(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"could not write {path}: {first_line(exc)}") from None


def emit(frame: pd.DataFrame, out: str | None, stream: TextIO, *, title: str = "") -> None:
    """Write ``frame`` to the file ``out`` (and say so on ``stream``), or print it readably."""
    if out:
        write_table(frame, out)
        print(f"wrote {len(frame)} rows to {out}", file=stream)
        return
    if title:
        print(title, file=stream)
    with pd.option_context("display.width", 120, "display.max_columns", 20, "display.max_rows", 60):
        print(frame.to_string(max_rows=60), file=stream)


def _has_named_index(frame: pd.DataFrame) -> bool:
    return any(name is not None for name in frame.index.names)


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Give files text column names (Parquet refuses others, e.g. the month labels 1..12)."""
    if all(isinstance(c, str) for c in frame.columns):
        return frame
    return frame.set_axis([str(c) for c in frame.columns], axis=1)
