"""``python -m crmcore report``: one self-contained HTML page to share, from the user's tables."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from crmcore.cli._io import EXIT_OK, CLIError, config_from_file, first_line, read_table
from crmcore.cli._options import add_command, add_reading, reading
from crmcore.cli._report import build_report
from crmcore.pipeline import StageModel


def add_parser(sub: Any) -> None:
    """Add the ``report`` command to the sub-command parsers ``sub``."""
    report = add_command(
        sub,
        "report",
        _run,
        help="write one self-contained HTML report to share",
        description="Write one HTML file with the pictures and tables that apply to the tables "
        "given: customers, RFM segments and ABC classes from transactions; the pipeline from "
        "deals with a stage (weighted and landing by month with --model); win rates from "
        "closed deals, attainment with targets; quotas from targets. Styles and charts are "
        "inside the file, it runs no script and loads nothing from the network, so it can be "
        "mailed or opened offline.",
        examples=[
            "--transactions orders.csv --out report.html",
            (
                "--transactions orders.csv --deals deals.csv --targets targets.csv "
                "--model stages.json --out report.html"
            ),
        ],
    )
    inputs = report.add_argument_group("inputs (at least one)")
    inputs.add_argument("--transactions", metavar="FILE", help="purchases: customer, date, amount")
    inputs.add_argument(
        "--deals", metavar="FILE", help="deals: stage (pipeline) and/or status, person, closed_at"
    )
    inputs.add_argument("--targets", metavar="FILE", help="targets: person, period, target")
    inputs.add_argument(
        "--model", metavar="FILE", help="a StageModel JSON file to weigh the open deals"
    )
    report.add_argument("--out", metavar="FILE", required=True, help="the .html file to write")
    report.add_argument("--title", default="Sales report", help="the page title (Sales report)")
    report.add_argument(
        "--as-of", metavar="DATE", help="end of the observation (default: the latest date)"
    )
    cols = report.add_argument_group("transaction columns")
    cols.add_argument("--customer", default="customer_id", help="customer id (customer_id)")
    cols.add_argument("--date", default="date", help="purchase date (date)")
    cols.add_argument("--amount", default="amount", help="amount (amount)")
    add_reading(report)


# The deals' columns the report reads under their glossary names: ids and labels stay text.
_DEAL_TEXT = ["opportunity_id", "person", "stage", "status", "customer_id"]
_DEAL_DATES = ["created_at", "closed_at", "close_date"]


def _run(args: argparse.Namespace, stream: TextIO) -> int:
    if args.transactions is None and args.deals is None and args.targets is None:
        raise CLIError("give at least one of --transactions, --deals, --targets")
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise CLIError(f"--out: expected an .html file name, got {args.out}")
    model = None
    if args.model is not None:
        model = config_from_file(StageModel, args.model, "stage model")
    how = reading(args)

    def read(path: str | None, text: list[str], dates: list[str]) -> Any:
        return None if path is None else read_table(path, how, text=text, dates=dates)

    page = build_report(
        read(args.transactions, [args.customer], [args.date]),
        read(args.deals, _DEAL_TEXT, _DEAL_DATES),
        read(args.targets, ["person", "period"], []),
        model=model,
        as_of=args.as_of,
        customer=args.customer,
        date=args.date,
        amount=args.amount,
        title=args.title,
    )
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"could not write {args.out}: {first_line(exc)}") from None
    print(f"wrote {args.out} ({len(page.encode('utf-8')) // 1024:,} KB)", file=stream)
    return EXIT_OK
