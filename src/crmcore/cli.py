"""The command line (the only place crmcore does I/O): ``python -m crmcore ...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status.

    Examples
    --------
    >>> from crmcore.cli import main
    >>> main(["--version"])  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(prog="python -m crmcore")
    parser.add_argument("--version", action="store_true")
    args = parser.parse_args(argv)
    if args.version:
        from crmcore import __version__

        print(__version__)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
