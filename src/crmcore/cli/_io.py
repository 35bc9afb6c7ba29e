"""Files in and results out for the command line: the shell's only reading and writing.

Tables are CSV or Parquet (chosen by file extension; ``-`` is standard input, Parquet when it
starts with Parquet's magic bytes, else CSV); configurations are JSON files in a config's
``to_dict`` form. A problem with a file or with an option's text is a :class:`CLIError`, which
:func:`crmcore.cli.main` prints as one line with exit status 2.

CSV cells are read as written: no missing-value guessing (only an empty cell is missing, so
``n/a`` reaches the library, which names it), id and label columns stay text (``00001`` stays
``00001``), a column becomes numbers only when every cell is one (with ``--thousands`` and
``--decimal``), and the date columns a command names are parsed with ``--date-format`` /
``--dayfirst`` (ISO 8601 by default). A date column mixing UTC offsets is an error, as in the
library, unless ``--utc`` asks for its dates to be read as UTC.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
import sys
import warnings
from collections.abc import Collection
from pathlib import Path
from typing import IO, Any, TextIO

import pandas as pd
from pandas.tseries.api import guess_datetime_format

from crmcore._demo.tables import format_table, label_periods
from crmcore._frames import utc_offsets
from crmcore.errors import ConfigError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2

#: Rows printed to a terminal before the rest is summarised in one line (``--max-rows``).
TERMINAL_ROWS = 60

STDIN = "-"


class CLIError(Exception):
    """A problem with the command line's own input (a file, an option's text)."""


def first_line(exc: BaseException) -> str:
    """Return the first line of an exception's message (its type name when it is empty)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def note(message: str) -> None:
    """Tell the user something on standard error without stopping (``crmcore: note: ...``)."""
    print(f"crmcore: note: {message}", file=sys.stderr)


@dataclasses.dataclass(frozen=True)
class Reading:
    """How CSV files are written: the shared reading options of every command."""

    sep: str = ","
    decimal: str = "."
    thousands: str | None = None
    encoding: str = "utf-8"
    dayfirst: bool = False
    date_format: str | None = None
    #: dates written with a UTC offset are read as UTC (a column may then mix offsets)
    utc: bool = False

    def __post_init__(self) -> None:
        """Refuse separators that would make numbers ambiguous."""
        if self.decimal == self.thousands:
            raise CLIError(f"--decimal and --thousands are both {self.decimal!r}")
        if self.decimal == self.sep:
            raise CLIError(
                f"--decimal {self.decimal!r} is also the field separator; pass --sep ';' "
                "(European CSV files separate fields with semicolons)"
            )


def _display(path: str) -> str:
    return "standard input" if path == STDIN else path


def read_table(
    path: str,
    reading: Reading | None = None,
    *,
    text: Collection[str | None] = (),
    dates: Collection[str | None] = (),
    all_text: bool = False,
) -> pd.DataFrame:
    """Read a CSV or Parquet file (or ``-``, standard input) into a DataFrame.

    ``text`` names the columns kept as text whatever they hold (ids and labels); ``dates``
    the columns parsed as dates. Names that are ``None`` or not in the file are ignored (the
    library reports a missing column itself). ``all_text`` keeps every CSV cell as the text it
    is (``clean``, ``pseudonymize`` and ``mask`` rewrite cells and must see them as written).
    """
    options = reading if reading is not None else Reading()
    source: Any
    if path == STDIN:
        data = sys.stdin.buffer.read()
        if not data:
            raise CLIError("standard input is empty; expected a CSV or Parquet table")
        suffix = ".parquet" if data[:4] == b"PAR1" else ".csv"
        source = io.BytesIO(data)
    else:
        p = Path(path)
        if not p.is_file():
            raise CLIError(f"file not found: {path}")
        suffix = p.suffix.lower()
        if suffix == ".gz":
            suffix = Path(p.stem).suffix.lower() or ".csv"
        source = p
    try:
        if suffix in (".parquet", ".pq"):
            if importlib.util.find_spec("pyarrow") is None:
                raise CLIError(
                    "reading Parquet needs pyarrow: pip install pyarrow "
                    "(from a crmcore source checkout: pip install -e '.[parquet]')"
                )
            return pd.read_parquet(source)
        if suffix not in (".csv", ".txt", ".tsv"):
            raise CLIError(f"cannot read {path}: expected a .csv or .parquet file")
        # Dates are read as text too (``20240131`` is a date with --date-format %Y%m%d).
        keep = {c for c in (*text, *dates) if c is not None}
        frame = _read_csv(source, options, None if all_text else keep)
    except UnicodeDecodeError as exc:
        raise CLIError(
            f"could not read {_display(path)}: it is not {options.encoding} text "
            f"({first_line(exc)}); pass its encoding, e.g. --encoding gbk or --encoding latin-1"
        ) from None
    except (OSError, ValueError, LookupError) as exc:
        raise CLIError(f"could not read {_display(path)}: {first_line(exc)}") from None
    return _with_dates(frame, options, {c for c in dates if c is not None}, _display(path))


def _read_csv(
    source: str | Path | IO[bytes], options: Reading, text: set[str] | None
) -> pd.DataFrame:
    """Read cells as written: only empty ones are missing, ``text`` columns (all: None) stay text.

    pandas' parser makes a column numbers only when every cell is one (with ``--decimal`` and
    ``--thousands``); any other cell (``n/a``) leaves the whole column text, for the library
    to judge and name.
    """
    sep = "\t" if options.sep in ("\\t", "tab", "TAB") else options.sep
    frame: pd.DataFrame = pd.read_csv(
        source,
        sep=sep,
        decimal=options.decimal,
        thousands=options.thousands,
        dtype=str if text is None else dict.fromkeys(text, str),
        keep_default_na=False,
        na_values=[""],
        encoding=options.encoding,
    )
    return frame


def _with_dates(frame: pd.DataFrame, options: Reading, dates: set[str], where: str) -> pd.DataFrame:
    """Parse the text columns a command names as dates; the others stay as read."""
    out = frame
    for position, name in enumerate(frame.columns):
        series = frame.iloc[:, position]
        if name not in dates:
            continue
        if out is frame:
            out = frame.copy(deep=False)
        out.isetitem(position, _dates(series, options, where).array)
    return out


def _dates(series: pd.Series, options: Reading, where: str) -> pd.Series:
    """Parse a date column: --date-format, else --dayfirst, else ISO 8601 (--utc: as UTC)."""
    present = series.notna()
    if not present.any():
        return series
    if options.date_format is not None:
        fmt: str = options.date_format
        expected = f"a date in --date-format {fmt!r}"
    elif options.dayfirst:
        first = str(series[present].iloc[0]).strip()
        fmt = guess_datetime_format(first, dayfirst=True) or "mixed"
        expected = "a day-first date (--dayfirst)"
    else:
        fmt = "ISO8601"
        expected = "an ISO 8601 date (2024-03-31); for others pass --date-format or --dayfirst"
    kwargs: dict[str, Any] = {"format": fmt, "dayfirst": options.dayfirst and fmt == "mixed"}
    if options.utc and bool(utc_offsets(series).notna().any()):
        parsed = _offset_dates(series, kwargs, where, utc=True)
    else:
        try:
            with warnings.catch_warnings():
                # pandas 2.2 only warns of mixed offsets (and returns objects); 3.0 raises
                warnings.filterwarnings(
                    "error", "In a future version.*mixed time zones", FutureWarning
                )
                parsed = pd.to_datetime(series, errors="coerce", **kwargs)
        except (ValueError, FutureWarning):
            parsed = _offset_dates(series, kwargs, where, utc=False)
    bad = parsed.isna() & present
    if bool(bad.any()):
        pos = int(bad.to_numpy().argmax())
        raise CLIError(
            f"column {series.name!r} of {where} has {series.iloc[pos]!r} at row "
            f"{series.index[pos]}, which is not {expected}"
        )
    return parsed


def _offset_dates(series: pd.Series, kwargs: dict[str, Any], where: str, *, utc: bool) -> pd.Series:
    """Dates written with UTC offsets: read as UTC when ``utc`` (--utc), else mixed: an error.

    Dates with and without an offset in one column cannot be placed either way. Without
    ``--utc``, different offsets are refused as the library refuses them (``rfm_summary`` on
    such a frame names the column and both rows): converting would move dates silently.
    """
    offsets = utc_offsets(series)
    aware = (offsets.notna() & series.notna()).to_numpy()
    naive = series.notna().to_numpy() & ~aware
    name = series.name
    if aware.any() and naive.any():
        a, n = int(aware.argmax()), int(naive.argmax())
        raise CLIError(
            f"column {name!r} of {where} mixes dates with and without a UTC offset: "
            f"{series.iloc[n]!r} at row {series.index[n]} and {series.iloc[a]!r} at row "
            f"{series.index[a]}; give every date an offset, or none"
        )
    if not aware.any():  # pandas refused the column for another reason than time zones
        raise CLIError(f"column {name!r} of {where} could not be read as dates")
    first = int(aware.argmax())
    other = aware & (offsets != offsets.iloc[first]).to_numpy()
    if not utc and other.any():
        o = int(other.argmax())
        raise CLIError(
            f"column {name!r} of {where} mixes UTC offsets: {series.iloc[first]!r} at row "
            f"{series.index[first]} and {series.iloc[o]!r} at row {series.index[o]}; pass "
            "--utc to read its dates as UTC, or write every date with one offset"
        )
    return pd.to_datetime(series, errors="coerce", utc=True, **kwargs)


def write_table(
    frame: pd.DataFrame, path: str, *, period: str | None = None, stream: TextIO | None = None
) -> None:
    """Write a DataFrame to CSV or Parquet (by extension; ``-``: CSV on ``stream``).

    The index becomes the first column(s); period starts become period labels.
    """
    out = label_periods(frame, period)
    out = out.reset_index() if _has_named_index(out) else out
    out = _plain_columns(out)
    if path == STDIN:
        out.to_csv(stream if stream is not None else sys.stdout, index=False)
        return
    suffix = Path(path).suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            out.to_parquet(path, index=False)
        elif suffix == ".csv":
            out.to_csv(path, index=False)
        else:
            raise CLIError(f"cannot write {path}: expected a .csv or .parquet file name, or -")
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


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if isatty is not None else False


def emit(
    frame: pd.DataFrame,
    out: str | None,
    stream: TextIO,
    *,
    title: str = "",
    period: str | None = None,
    max_rows: int | None = None,
) -> None:
    """Write ``frame`` to the file ``out`` (and say so on ``stream``), or print it readably.

    Printed to a terminal, a table longer than :data:`TERMINAL_ROWS` shows its first rows and
    says how many more there are; printed to a file or a pipe it is printed whole. ``max_rows``
    (``--max-rows``) sets the cut either way; 0 prints every row.
    """
    if out:
        write_table(frame, out, period=period, stream=stream)
        if out != STDIN:
            print(f"wrote {len(frame)} rows to {out}", file=stream)
        return
    limit = (TERMINAL_ROWS if _is_terminal(stream) else None) if max_rows is None else max_rows
    if title:
        print(title, file=stream)
    text = format_table(frame, period=period, max_rows=limit or None)
    if limit and len(frame) > limit:
        text += " (--max-rows 0 prints them all, --out FILE writes them)"
    print(text, file=stream)


def _has_named_index(frame: pd.DataFrame) -> bool:
    return any(name is not None for name in frame.index.names)


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Give files text column names (Parquet refuses others, e.g. the month labels 1..12)."""
    if all(isinstance(c, str) for c in frame.columns):
        return frame
    return frame.set_axis([str(c) for c in frame.columns], axis=1)
