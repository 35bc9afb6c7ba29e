"""The command line, crmcore's only I/O: ``python -m crmcore <command> ...``.

Commands read CSV or Parquet files, call the pure core and print a readable table or write the
result (``--out FILE.csv|.parquet``). Bad input ends with exit status 2 and a one-line message,
never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import pandas as pd

from crmcore.errors import CRMError

__all__ = ["main"]

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class CLIError(Exception):
    """A problem with the command line's own input (a file that cannot be read or written)."""


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
        raise CLIError(f"could not read {path}: {exc}") from None
    raise CLIError(f"cannot read {path}: expected a .csv or .parquet file")


def write_table(frame: pd.DataFrame, path: str) -> None:
    """Write a DataFrame to CSV or Parquet (by file extension), keeping its index as columns."""
    p = Path(path)
    suffix = p.suffix.lower()
    out = frame.reset_index() if _has_named_index(frame) else frame
    try:
        if suffix in (".parquet", ".pq"):
            out.to_parquet(p, index=False)
        elif suffix == ".csv":
            out.to_csv(p, index=False)
        else:
            raise CLIError(f"cannot write {path}: expected a .csv or .parquet file name")
    except (OSError, ImportError) as exc:
        raise CLIError(f"could not write {path}: {exc}") from None


def _has_named_index(frame: pd.DataFrame) -> bool:
    return any(name is not None for name in frame.index.names)


def _emit(frame: pd.DataFrame, out: str | None, stream: TextIO, *, title: str = "") -> None:
    if out:
        write_table(frame, out)
        print(f"wrote {len(frame)} rows to {out}", file=stream)
        return
    if title:
        print(title, file=stream)
    with pd.option_context("display.width", 120, "display.max_columns", 20, "display.max_rows", 60):
        print(frame.to_string(max_rows=60), file=stream)


# ---------------------------------------------------------------------------------------------
# commands


def _cmd_demo(args: argparse.Namespace, stream: TextIO) -> int:
    from crmcore._demo import kpi, pipeline, quota, segmentation

    sections: list[tuple[str, Callable[[int], str]]] = [
        ("Customer segmentation", segmentation.section),
        ("Sales pipeline", pipeline.section),
        ("Quotas", quota.section),
        ("Team performance", kpi.section),
    ]
    print(f"crmcore demo on synthetic data (seed {args.seed})", file=stream)
    for title, build in sections:
        print("", file=stream)
        print(title, file=stream)
        print("=" * len(title), file=stream)
        print(build(args.seed).rstrip(), file=stream)
    return EXIT_OK


def _cmd_rfm(args: argparse.Namespace, stream: TextIO) -> int:
    from crmcore.segmentation import rfm_scores, rfm_segments, rfm_summary

    tx = read_table(args.file)
    summary = rfm_summary(
        tx,
        customer=args.customer,
        date=args.date,
        amount=args.amount,
        as_of=args.as_of,
        period=args.period,
    )
    result = summary
    if args.scores or args.segments:
        scores = rfm_scores(summary, bins=args.bins)
        result = summary.join(scores)
        if args.segments:
            result = result.join(rfm_segments(scores)[["segment"]])
    _emit(result, args.out, stream)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# parser


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for tests and shell completion tools)."""
    from crmcore import __version__

    parser = argparse.ArgumentParser(
        prog="python -m crmcore",
        description="CRM sales-management logic on your CSV/Parquet exports.",
        formatter_class=_formatter,
        epilog=textwrap.dedent(
            """\
            examples:
              python -m crmcore demo
              python -m crmcore rfm orders.csv --customer client --date ordered_at --amount total
            """
        ),
    )
    parser.add_argument("--version", action="version", version=f"crmcore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    demo = sub.add_parser(
        "demo",
        help="print a report on built-in synthetic data",
        description="Print a report on built-in synthetic data: segments, ABC shares, grades, "
        "top customers, the weighted pipeline, quotas and the team scorecard.",
        formatter_class=_formatter,
        epilog="example:\n  python -m crmcore demo --seed 3",
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the synthetic data (0)")
    demo.set_defaults(handler=_cmd_demo)

    rfm = sub.add_parser(
        "rfm",
        help="per-customer RFM summary (optionally scores and segments)",
        description="Per-customer recency, frequency and monetary value from a transactions "
        "file, optionally with 1..5 scores and named segments.",
        formatter_class=_formatter,
        epilog="example:\n  python -m crmcore rfm orders.csv --customer client --date day "
        "--amount total --segments --out rfm.parquet",
    )
    rfm.add_argument("file", help="transactions, .csv or .parquet")
    rfm.add_argument("--customer", default="customer_id", help="customer column (customer_id)")
    rfm.add_argument("--date", default="date", help="date column (date)")
    rfm.add_argument("--amount", default="amount", help="amount column (amount)")
    rfm.add_argument("--as-of", default=None, help="reference date (default: latest date)")
    rfm.add_argument("--period", default="D", choices=["D", "W", "M", "Q"], help="period (D)")
    rfm.add_argument("--bins", type=int, default=5, help="number of score bins (5)")
    rfm.add_argument("--scores", action="store_true", help="add r/f/m scores")
    rfm.add_argument("--segments", action="store_true", help="add scores and named segments")
    rfm.add_argument("--out", help="write to this .csv or .parquet file instead of printing")
    rfm.set_defaults(handler=_cmd_rfm)
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    """Run the command line and return the exit status (0 ok, 2 bad input).

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.
    stdout
        Where results are printed; default ``sys.stdout``. Errors go to ``sys.stderr``.

    Examples
    --------
    >>> from crmcore.cli import main
    >>> main(["--version"])
    Traceback (most recent call last):
    ...
    SystemExit: 0
    """
    stream = stdout if stdout is not None else sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace, TextIO], int] = args.handler
    try:
        return handler(args, stream)
    except (CRMError, CLIError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else ""
        message = f"{type(exc).__name__}: {text}" if isinstance(exc, CRMError) else text
        print(f"crmcore {args.command}: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
