"""The command line, crmcore's only I/O: ``python -m crmcore <command> ...``.

Commands read CSV or Parquet files (``-``: standard input), call the pure core and print a
readable table or write the result (``--out FILE.csv|.parquet``, ``--out -`` for CSV on
standard output). Every command is a thin adapter: it parses its options, builds the core's
configuration objects through their own constructors (so the core validates them), calls the
public API and emits the frame it returns. Bad input ends with exit status 2 and a one-line
message whose hints name the command's options, never a traceback.

One module per area adds its commands with ``add_parser(subparsers)``:
:mod:`~crmcore.cli.demo`, :mod:`~crmcore.cli.segmentation` (``rfm``, ``segments``, ``abc``,
``grades``, ``clean``), :mod:`~crmcore.cli.clv` (``clv``), :mod:`~crmcore.cli.pipeline`
(``funnel``, ``forecast``), :mod:`~crmcore.cli.quota`, :mod:`~crmcore.cli.kpi` (``scorecard``,
``commission``), :mod:`~crmcore.cli.privacy` (``pseudonymize``, ``mask``) and
:mod:`~crmcore.cli.report` (``report``, the shareable HTML page). Reading and writing files lives
in the private ``_io`` module (``clean`` and the privacy commands read every CSV cell as the
text it is), shared option parsing (reading options, old spellings, hints) in ``_options``,
progress bars in ``_progress``; tables are printed in the style of ``crmcore._demo.tables``,
which the demo report shares.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import TextIO

from crmcore import __version__
from crmcore.cli import clv, demo, kpi, pipeline, privacy, quota, report, segmentation
from crmcore.cli._io import EXIT_BAD_INPUT, EXIT_ERROR, CLIError, first_line
from crmcore.cli._options import Handler, formatter, shell_hint
from crmcore.errors import CRMError

__all__ = ["build_parser", "main"]

# The command modules, in the order their commands are listed in ``--help``.
COMMAND_MODULES = (demo, segmentation, clv, pipeline, quota, kpi, privacy, report)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for tests and shell completion tools).

    Returns
    -------
    argparse.ArgumentParser
        The ``python -m crmcore`` parser with one sub-command per command; each sub-command's
        parsed arguments carry the function that runs it as ``handler``.

    Examples
    --------
    >>> from crmcore.cli import build_parser
    >>> build_parser().parse_args(["demo", "--seed", "3"]).seed
    3
    """
    parser = argparse.ArgumentParser(
        prog="python -m crmcore",
        description="CRM sales-management logic on your CSV/Parquet exports.\n"
        "Run 'python -m crmcore COMMAND --help' for a command's options and an example.",
        formatter_class=formatter,
        epilog=textwrap.dedent(
            """\
            examples:
              python -m crmcore demo
              python -m crmcore rfm orders.csv --customer client --date ordered_at --amount total
              python -m crmcore funnel deals.csv --stages lead,bid,deal --rates 0.5,0.8,0.9 \\
                  --durations 60,30,30 --by-stage
            """
        ),
    )
    parser.add_argument("--version", action="version", version=f"crmcore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMAND_MODULES:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    """Run the command line and return the exit status (0 ok, 2 bad input).

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.
    stdout
        Where results are printed; default ``sys.stdout``. Errors go to ``sys.stderr``.

    Returns
    -------
    int
        0 on success, 2 on bad input (a one-line message on stderr), 1 on an unexpected error.

    Examples
    --------
    >>> from crmcore.cli import main
    >>> main(["--version"])
    Traceback (most recent call last):
    ...
    SystemExit: 0
    """
    stream = stdout if stdout is not None else sys.stdout
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args, stream)
    except BrokenPipeError:
        # The reader went away (``... | head``): stop quietly, as Unix tools do.
        if stream is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except (CRMError, CLIError) as exc:
        text = first_line(exc) if str(exc) else ""
        if isinstance(exc, CRMError):  # the library's hints, in the command's own options
            text = f"{type(exc).__name__}: {shell_hint(text, args.command_parser)}"
        print(f"crmcore {args.command}: error: {text}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        # Not a crmcore error: a bug or an input the core did not anticipate. Still one line
        # (set CRMCORE_TRACEBACK=1 to see the traceback), but a distinct status.
        if os.environ.get("CRMCORE_TRACEBACK"):
            raise
        print(
            f"crmcore {args.command}: unexpected error: {type(exc).__name__}: "
            f"{first_line(exc)} (please report; CRMCORE_TRACEBACK=1 shows where)",
            file=sys.stderr,
        )
        return EXIT_ERROR
