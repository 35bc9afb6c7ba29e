"""Shared option parsing for the command line: option text to values, shared options.

The core validates the values themselves; these helpers only turn text into numbers, lists and
mappings, and report text they cannot read as a one-line :class:`~crmcore.cli._io.CLIError`
naming the option.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from crmcore.cli._io import CLIError

Handler = Callable[[argparse.Namespace, TextIO], int]


def split(text: str) -> list[str]:
    """Split ``"a, b,c"`` at commas into stripped parts."""
    return [part.strip() for part in text.split(",")]


def numbers(text: str, option: str) -> list[float]:
    """Parse ``"0.5,0.8"``; a part that is not a number is a one-line error naming the option."""
    values: list[float] = []
    for part in split(text):
        try:
            values.append(float(part))
        except ValueError:
            raise CLIError(f"{option}: {part!r} is not a number (in {text!r})") from None
    return values


def number(text: str, option: str) -> float:
    """Parse one number; several or none is a one-line error naming the option."""
    values = numbers(text, option)
    if len(values) != 1:
        raise CLIError(f"{option}: expected one number, got {text!r}")
    return values[0]


def opt_number(text: str | None, option: str) -> float | None:
    """:func:`number` of an option's text, or ``None`` when the option was not given."""
    return None if text is None else number(text, option)


def from_options(cls: Any, given: dict[str, Any]) -> Any:
    """Build a config with ``cls.from_dict`` from the options given (``None``: not given)."""
    return cls.from_dict({k: v for k, v in given.items() if v is not None})


def fx(text: str | None) -> dict[str, float] | None:
    """Parse ``"USD=0.92,GBP=1.17"`` into a currency -> rate mapping."""
    if text is None:
        return None
    rates: dict[str, float] = {}
    for part in split(text):
        code, sep, rate = part.partition("=")
        if not sep or not code.strip():
            raise CLIError(f"--fx: expected CURRENCY=RATE pairs, got {part!r}")
        rates[code.strip()] = number(rate, f"--fx {code.strip()}")
    return rates


def formatter(prog: str) -> argparse.HelpFormatter:
    """Lay out help text: descriptions and examples kept as written."""
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def add_command(
    sub: Any,
    name: str,
    handler: Handler,
    *,
    help: str,  # argparse's own keyword
    description: str,
    examples: Sequence[str],
) -> argparse.ArgumentParser:
    """Add the sub-command ``name``, run by ``handler``, with its description and examples."""
    lines = "\n".join(f"  python -m crmcore {name} {ex}" for ex in examples)
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=textwrap.fill(description, width=88),
        formatter_class=formatter,
        epilog=f"example{'s' if len(examples) > 1 else ''}:\n{lines}",
    )
    parser.set_defaults(handler=handler)
    return parser


def add_out(parser: argparse.ArgumentParser) -> None:
    """Add ``--out FILE``: write the result to a .csv or .parquet file instead of printing."""
    parser.add_argument(
        "--out", metavar="FILE", help="write to this .csv or .parquet file instead of printing"
    )
