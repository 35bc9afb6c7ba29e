"""Shared option parsing for the command line: option text to values, shared options.

The core validates the values themselves; these helpers only turn text into numbers, lists and
mappings, and report text they cannot read as a one-line :class:`~crmcore.cli._io.CLIError`
naming the option.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from crmcore._compat import REMOVED_IN
from crmcore.cli._io import TERMINAL_ROWS, CLIError, Reading

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
    parser.set_defaults(handler=handler, command_parser=parser)
    return parser


def add_out(parser: argparse.ArgumentParser) -> None:
    """Add ``--out FILE`` (a .csv or .parquet file, ``-`` for CSV on stdout) and ``--max-rows``."""
    group = parser.add_argument_group("output")
    group.add_argument(
        "--out",
        metavar="FILE",
        help="write to this .csv or .parquet file instead of printing (-: CSV to stdout)",
    )
    group.add_argument(
        "--max-rows",
        type=_count,
        metavar="N",
        help=f"print at most N rows and say how many more there are (0: all; default: "
        f"{TERMINAL_ROWS} on a terminal, all into a file or pipe)",
    )


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def add_reading(parser: argparse.ArgumentParser) -> None:
    """Add the options saying how the CSV files read are written (every command reading one)."""
    group = parser.add_argument_group("reading CSV files (input FILE - reads standard input)")
    group.add_argument("--sep", default=",", help="field separator: , ; | or tab (,)")
    group.add_argument("--decimal", default=".", help="decimal mark of numbers: . or , (.)")
    group.add_argument("--thousands", help="thousands separator in numbers, e.g. . or , (none)")
    group.add_argument("--encoding", default="utf-8", help="text encoding, e.g. gbk (utf-8)")
    group.add_argument("--dayfirst", action="store_true", help="dates are day first: 31/12/2024")
    group.add_argument(
        "--date-format", metavar="FMT", help="dates in this strftime format, e.g. %%d.%%m.%%Y"
    )
    group.add_argument(
        "--utc",
        action="store_true",
        help="read dates written with a UTC offset as UTC (a column mixing offsets, such as "
        "summer and winter time, is an error without it)",
    )


def reading(args: argparse.Namespace) -> Reading:
    """Return the reading options of a parsed command line (see :func:`add_reading`)."""
    return Reading(
        sep=args.sep,
        decimal=args.decimal,
        thousands=args.thousands,
        encoding=args.encoding,
        dayfirst=args.dayfirst,
        date_format=args.date_format,
        utc=args.utc,
    )


class Deprecated(argparse.Action):
    """An old option spelling kept for one release: works, and says what to write instead."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        self.new: str = kwargs.pop("new")
        kwargs.setdefault("help", argparse.SUPPRESS)
        super().__init__(option_strings, dest, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        """Store the value as the new option would, with a note on stderr."""
        command = parser.prog.split()[-1]
        print(
            f"crmcore {command}: note: {option_string} is deprecated, write {self.new} "
            f"(the old spelling goes in crmcore {REMOVED_IN})",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def add_deprecated(
    parser: argparse.ArgumentParser | Any, old: str, new: str, *, dest: str, **kwargs: Any
) -> None:
    """Keep ``old`` working as ``new`` (stored in ``dest``) for one release, hidden from help."""
    parser.add_argument(old, dest=dest, action=Deprecated, new=new, **kwargs)


# A keyword argument as the library's messages write it: name='text', name=<column>, name=True.
_KEYWORD = re.compile(
    r"(?<![\w(-])([a-z][a-z_]*)="
    r"('[^']*'|<[^>]*>|True|None|\{[^}]*\}|\d{4}-\d\d-\d\d(?: \d\d:\d\d:\d\d)?|(?= ))"
)


def shell_hint(message: str, parser: argparse.ArgumentParser) -> str:
    """Rewrite the library's ``name='value'`` hints as the command's own options.

    ``pass overdue='as_of'`` becomes ``pass --overdue as_of`` when the command has that
    option (matched by the option's destination, its spelling, or a library name noted in
    :data:`LIBRARY_NAMES`); a hint about a keyword the command has no option for is left as
    it is. Row descriptions (``row 3 (customer_id=7)``) are not hints and stay. An alternative
    that only a Python caller can take (``, or ... clean_transactions(...)``) is dropped.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> _ = parser.add_argument("--refunds")
    >>> shell_hint("negative value at row 1 (refunds=2) (pass refunds='allow', or treat them "
    ...            "first with clean_transactions(..., refunds='drop'))", parser)
    'negative value at row 1 (refunds=2) (pass --refunds allow)'
    """
    options = _library_names(parser)
    message = _PYTHON_ONLY.sub("", message)
    for pattern, replacement, option in PYTHON_HINTS:
        if option in parser._option_string_actions:
            message = pattern.sub(replacement, message)

    def replace(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        action = options.get(name)
        if action is None:
            return match.group(0)
        option = max(action.option_strings, key=len)
        if action.nargs == 0:  # a flag
            return option
        if value == "None" and action.dest in NONE_SPELLING:
            return f"{option} {NONE_SPELLING[action.dest]}"
        if value.startswith("'") or value[:1].isdigit():
            return f"{option} {value.strip(chr(39))}"
        return f"{option} {action.metavar or action.dest.upper()}"

    return _KEYWORD.sub(replace, message)


def _library_names(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    names: dict[str, argparse.Action] = {}
    for action in parser._actions:
        if not action.option_strings or isinstance(action, Deprecated):
            continue
        names.setdefault(action.dest, action)
        for option in action.option_strings:
            names.setdefault(option.lstrip("-").replace("-", "_"), action)
        for alias in LIBRARY_NAMES.get(action.dest, ()):
            names.setdefault(alias, action)
    return names


# ", or <an alternative calling a Python function>" up to the end of its parenthesis/sentence.
_PYTHON_ONLY = re.compile(r",? or [^;()]*\b\w+\(\.\.\.[^)]*\)")

#: Hints naming a Python-only step, and the option that does it in the shell.
PYTHON_HINTS: list[tuple[re.Pattern[str], str, str]] = [
    (
        re.compile(
            r"Leave them out explicitly with cut_at_as_of\(.*?\) and summarise its \.kept "
            r"rows \(the result counts and holds the excluded rows\)"
        ),
        "Leave them out with --after-as-of exclude (their number is reported)",
        "--after-as-of",
    ),
]

#: How an option says the library's ``None`` (option dest -> option value).
NONE_SPELLING: dict[str, str] = {"open_values": "*"}

#: Library keyword names of options spelled otherwise in the shell (option dest -> keywords).
LIBRARY_NAMES: dict[str, tuple[str, ...]] = {
    "fx": ("rates",),
    "normalise_weights": ("normalise_weights",),
}
