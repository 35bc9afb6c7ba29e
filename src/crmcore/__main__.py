"""Run the command line: ``python -m crmcore ...``."""

from crmcore.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
