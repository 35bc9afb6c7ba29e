"""Segmentation commands: ``rfm``, ``segments``, ``abc``, ``grades`` and ``clean``."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

import pandas as pd

from crmcore._frames import require_columns, require_not_null, require_unique
from crmcore._periods import canonical_period
from crmcore.cli._io import (
    EXIT_OK,
    CLIError,
    Reading,
    config_from_file,
    emit,
    note,
    read_table,
)
from crmcore.cli._options import (
    add_command,
    add_out,
    add_reading,
    from_options,
    numbers,
    reading,
    split,
)
from crmcore.errors import ConfigError
from crmcore.segmentation import (
    RF_GRID_10,
    SEGMENTS_11,
    GradeRules,
    SegmentMap,
    abc_classes,
    abc_summary,
    abc_xyz,
    clean_transactions,
    customer_grades,
    cut_at_as_of,
    grade_inputs,
    grade_summary,
    item_totals,
    rfm_scores,
    rfm_segments,
    rfm_summary,
    segment_summary,
)

SEGMENT_MAPS: dict[str, SegmentMap] = {"11": SEGMENTS_11, "grid": RF_GRID_10}


def add_parser(sub: Any) -> None:
    """Add the ``rfm``, ``segments``, ``abc``, ``grades`` and ``clean`` commands to ``sub``."""
    _add_rfm(sub)
    _add_segments(sub)
    _add_abc(sub)
    _add_grades(sub)
    _add_clean(sub)


PERIOD_HELP = "D, W, M, Q or Y (pandas aliases such as MS, QS accepted)"


def _add_rfm_columns(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customer", default="customer_id", help="customer column (customer_id)")
    parser.add_argument("--date", default="date", help="date column (date)")
    parser.add_argument("--amount", default="amount", help="amount column (amount)")
    parser.add_argument("--as-of", default=None, help="reference date (default: latest date)")
    parser.add_argument("--period", default="D", help=f"time unit: {PERIOD_HELP} (D)")
    parser.add_argument(
        "--refunds", default="error", choices=["error", "allow"], help="negative amounts (error)"
    )
    parser.add_argument(
        "--after-as-of",
        default="error",
        choices=["error", "exclude"],
        help="purchases after --as-of: error, or exclude (and say how many) (error)",
    )
    add_reading(parser)


def _summary(args: argparse.Namespace) -> pd.DataFrame:
    transactions = read_table(args.file, reading(args), text=[args.customer], dates=[args.date])
    period = canonical_period(args.period)
    if args.after_as_of == "exclude" and args.as_of is not None:
        cut = cut_at_as_of(
            transactions, as_of=args.as_of, customer=args.customer, date=args.date, period=period
        )
        if cut.n_excluded:
            note(f"{cut.n_excluded} row(s) after --as-of {args.as_of} left out")
        transactions = cut.kept
    return rfm_summary(
        transactions,
        customer=args.customer,
        date=args.date,
        amount=args.amount,
        as_of=args.as_of,
        period=period,  # type: ignore[arg-type]  # a period code
        refunds=args.refunds,
    )


# ---------------------------------------------------------------------------------------------
# rfm


def _add_rfm(sub: Any) -> None:
    rfm = add_command(
        sub,
        "rfm",
        _run_rfm,
        help="per-customer RFM summary (optionally scores and segments)",
        description="Per-customer recency, frequency and monetary value from a transactions "
        "file, optionally with 1..5 scores and named segments.",
        examples=[
            "orders.csv --customer client --date day --amount total --segments --out rfm.parquet"
        ],
    )
    rfm.add_argument("file", help="transactions, .csv or .parquet (-: standard input)")
    _add_rfm_columns(rfm)
    rfm.add_argument("--bins", type=int, default=5, help="number of score bins (5)")
    rfm.add_argument("--scores", action="store_true", help="add r/f/m scores")
    rfm.add_argument("--segments", action="store_true", help="add scores and named segments")
    add_out(rfm)


def _run_rfm(args: argparse.Namespace, stream: TextIO) -> int:
    summary = _summary(args)
    result = summary
    if args.scores or args.segments:
        scores = rfm_scores(summary, bins=args.bins)
        result = summary.join(scores)
        if args.segments:
            result = result.join(rfm_segments(scores)[["segment"]])
    emit(result, args.out, stream, max_rows=args.max_rows)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# segments


def _add_segments(sub: Any) -> None:
    seg = add_command(
        sub,
        "segments",
        _run_segments,
        help="named RFM segments per customer (or customers per segment)",
        description="RFM summary -> 1..5 scores -> named segments, per customer. --map 11 is "
        "the common 11-segment R/F/M map, --map grid the 10-region recency x frequency grid. "
        "--summary counts customers and revenue per segment instead.",
        examples=[
            "orders.csv --map grid --summary",
            "orders.parquet --as-of 2024-12-31 --out seg.csv",
        ],
    )
    seg.add_argument("file", help="transactions, .csv or .parquet (-: standard input)")
    _add_rfm_columns(seg)
    seg.add_argument("--map", default="11", choices=["11", "grid"], help="segment map (11)")
    seg.add_argument("--bins", type=int, default=None, help="score bins (the map's: 5)")
    seg.add_argument("--summary", action="store_true", help="customers and revenue per segment")
    add_out(seg)


def _run_segments(args: argparse.Namespace, stream: TextIO) -> int:
    seg_map = SEGMENT_MAPS[args.map]
    bins = seg_map.bins if args.bins is None else args.bins
    if bins != seg_map.bins:
        raise ConfigError(
            f"--bins {bins} does not fit segment map {args.map!r}, which reads scores "
            f"1..{seg_map.bins}; leave --bins out or pass --bins {seg_map.bins}",
            column="bins",
            value=bins,
        )
    summary = _summary(args)
    scores = rfm_scores(summary, bins=bins)
    segments = rfm_segments(scores, seg_map)
    if args.summary:
        per = segment_summary(segments.join(summary["monetary"]), seg_map, value="monetary")
        emit(per, args.out, stream, max_rows=args.max_rows)
    else:
        emit(summary.join(segments), args.out, stream, max_rows=args.max_rows)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# abc


def _add_abc(sub: Any) -> None:
    abc = add_command(
        sub,
        "abc",
        _run_abc,
        help="ABC (Pareto) classes per customer, optionally with XYZ variability",
        description="Total the amount per customer (or any item column) and class the totals "
        "A/B/C by cumulative share (the item crossing a cut-off is in the better class). "
        "--xyz adds the variability class of per-period totals (needs a date column).",
        examples=["orders.csv --cutoffs 0.8,0.95", "orders.csv --xyz --period M --out abc.csv"],
    )
    abc.add_argument(
        "file", help="transactions (or one value per item), .csv or .parquet (-: standard input)"
    )
    abc.add_argument(
        "--item", "--customer", dest="item", default="customer_id", help="item column (customer_id)"
    )
    abc.add_argument("--amount", default="amount", help="amount column (amount)")
    abc.add_argument("--cutoffs", default="0.8,0.95", help="cumulative-share cut-offs (0.8,0.95)")
    abc.add_argument(
        "--basis", default="value", choices=["value", "count"], help="shares of value or count"
    )
    abc.add_argument("--summary", action="store_true", help="items and total per class")
    xyz = abc.add_argument_group("XYZ (with --xyz)")
    xyz.add_argument("--xyz", action="store_true", help="add XYZ classes (abc_xyz)")
    xyz.add_argument("--date", default="date", help="date column (date)")
    xyz.add_argument("--period", default="M", help=f"period: {PERIOD_HELP} (M)")
    xyz.add_argument("--thresholds", default="0.5,1.0", help="CV thresholds X/Y, Y/Z (0.5,1.0)")
    xyz.add_argument("--ddof", type=int, default=0, help="0 population (default) or 1 sample std")
    xyz.add_argument(
        "--active-periods-only", action="store_true", help="ignore periods without purchases"
    )
    add_reading(abc)
    add_out(abc)


def _run_abc(args: argparse.Namespace, stream: TextIO) -> int:
    dates = [args.date] if args.xyz else []
    frame = read_table(args.file, reading(args), text=[args.item], dates=dates)
    cutoffs = numbers(args.cutoffs, "--cutoffs")
    if args.xyz:
        result = abc_xyz(
            frame,
            item=args.item,
            date=args.date,
            amount=args.amount,
            period=canonical_period(args.period),
            cutoffs=cutoffs,
            xyz_thresholds=numbers(args.thresholds, "--thresholds"),
            ddof=args.ddof,
            include_empty_periods=not args.active_periods_only,
        )
    else:
        totals = item_totals(frame, item=args.item, amount=args.amount)
        classes = abc_classes(totals, cutoffs, basis=args.basis)
        result = pd.DataFrame({"total": totals, "abc": classes})
    emit(abc_summary(result) if args.summary else result, args.out, stream, max_rows=args.max_rows)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# grades


def _add_grades(sub: Any) -> None:
    grades = add_command(
        sub,
        "grades",
        _run_grades,
        help="A/B/C customer grades from value and potential",
        description="Grade customers A (high value), B (high potential) or C (low value). The "
        "value is each customer's total spend in the transactions file; the potential comes "
        "from an optional customers file (without it, potential is 0 and nobody is B). "
        "Customers of the customers file without purchases are graded with value 0.",
        examples=[
            "orders.csv --customers customers.csv --potential potential",
            (
                "orders.csv --customers crm.parquet --value-method quantile --value-cutoff 0.9 "
                "--summary"
            ),
        ],
    )
    grades.add_argument("file", help="transactions, .csv or .parquet (-: standard input)")
    _add_rfm_columns(grades)
    grades.add_argument("--customers", metavar="FILE", help="customers file with a potential")
    grades.add_argument("--potential", default="potential", help="potential column (potential)")
    rules = grades.add_argument_group("rules (defaults: GradeRules())")
    rules.add_argument("--rules", metavar="FILE", help="a GradeRules JSON file (to_dict form)")
    rules.add_argument("--value-method", choices=["abc", "quantile", "threshold"], help="(abc)")
    rules.add_argument("--value-cutoff", type=float, help="(0.8)")
    rules.add_argument("--potential-method", choices=["quantile", "threshold"], help="(quantile)")
    rules.add_argument("--potential-cutoff", type=float, help="(0.75)")
    rules.add_argument(
        "--missing", choices=["error", "low"], help="a missing potential: error or not high"
    )
    rules.add_argument("--labels", metavar="A,B,C", help="the three grade labels, best first")
    grades.add_argument("--summary", action="store_true", help="customers and value per grade")
    add_out(grades)


def _grade_rules(args: argparse.Namespace) -> GradeRules:
    if args.rules is not None:
        rules: GradeRules = config_from_file(GradeRules, args.rules, "grade rules")
        return rules
    given = {
        "value_method": args.value_method,
        "value_cutoff": args.value_cutoff,
        "potential_method": args.potential_method,
        "potential_cutoff": args.potential_cutoff,
        "missing": args.missing,
        "labels": None if args.labels is None else split(args.labels),
    }
    built: GradeRules = from_options(GradeRules, given)
    return built


def _run_grades(args: argparse.Namespace, stream: TextIO) -> int:
    rules = _grade_rules(args)
    value = _summary(args)["monetary"]
    potential = None
    if args.customers is not None:
        people = read_table(args.customers, reading(args), text=[args.customer])
        require_columns(people, [args.customer, args.potential], arg="customers")
        require_not_null(people, args.customer, arg="customers")
        require_unique(people, args.customer, arg="customers")
        potential = people.set_index(args.customer)[args.potential]
    grades = customer_grades(grade_inputs(value, potential), rules, value="value")
    result = grade_summary(grades) if args.summary else grades
    emit(result, args.out, stream, max_rows=args.max_rows)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# clean


def _add_clean(sub: Any) -> None:
    cmd = add_command(
        sub,
        "clean",
        _run_clean,
        help="clean a transaction export and report every row removed or changed",
        description="Read a transaction export as written (CSV cells as text) and clean it: "
        "missing values, unreadable dates and amounts, duplicates and refunds, with dates in "
        "local forms (--dayfirst, --date-format), amounts with separators and currency signs "
        "(--decimal, --thousands) and ids stripped of spaces. --report writes one row per row "
        "removed or value changed.",
        examples=[
            "export.csv --dayfirst --decimal , --out clean.csv --report report.csv",
            "orders.csv --customer client --refunds net --currency currency --out -",
        ],
    )
    cmd.add_argument("file", help="transactions, .csv or .parquet; - is standard input")
    cmd.add_argument("--customer", default="customer_id", help="customer column (customer_id)")
    cmd.add_argument("--date", default="date", help="date column (date)")
    cmd.add_argument("--amount", default="amount", help="amount column (amount)")
    cmd.add_argument("--sep", default=",", help="field separator of a CSV file (,)")
    cmd.add_argument("--encoding", default="utf-8", help="text encoding of a CSV file (utf-8)")
    day = cmd.add_mutually_exclusive_group()
    day.add_argument("--dayfirst", action="store_true", default=None, help="05.01.2024 is 5 Jan")
    day.add_argument(
        "--monthfirst", dest="dayfirst", action="store_false", help="05.01.2024 is 1 May"
    )
    cmd.add_argument("--date-format", default=None, help="strftime format of every date")
    cmd.add_argument("--decimal", default=".", choices=[".", ","], help="decimal mark (.)")
    cmd.add_argument("--thousands", default=None, help="grouping separator (any usual one)")
    cmd.add_argument("--symbols", default=None, help="what symbols mean: '¥=CNY,$=USD'")
    cmd.add_argument("--currency", default=None, help="add this column with each currency")
    cmd.add_argument("--casefold-ids", action="store_true", help="also case-fold text ids")
    for option, choices, default in (
        ("--missing", ["drop", "error"], "drop"),
        ("--unparseable", ["drop", "error"], "drop"),
        ("--duplicates", ["drop", "keep"], "drop"),
        ("--refunds", ["keep", "drop", "net", "error"], "keep"),
    ):
        cmd.add_argument(option, choices=choices, default=default, help=f"({default})")
    cmd.add_argument("--decimals", type=int, default=2, help="minor-unit digits for --refunds net")
    cmd.add_argument("--out", metavar="FILE", help="write the clean rows (.csv, .parquet, -)")
    cmd.add_argument("--report", metavar="FILE", help="write the report (.csv, .parquet, -)")


def _symbols(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    pairs: dict[str, str] = {}
    for part in split(text):
        symbol, sep, code = part.partition("=")
        if not sep or not symbol.strip() or not code.strip():
            raise CLIError(f"--symbols: expected SYMBOL=CODE pairs, got {part!r}")
        pairs[symbol.strip()] = code.strip()
    return pairs


def _run_clean(args: argparse.Namespace, stream: TextIO) -> int:
    if args.out == "-" and args.report == "-":
        raise CLIError("--out and --report cannot both be - (standard output)")
    raw = read_table(args.file, Reading(sep=args.sep, encoding=args.encoding), all_text=True)
    clean, report = clean_transactions(
        raw,
        customer=args.customer,
        date=args.date,
        amount=args.amount,
        missing=args.missing,
        unparseable=args.unparseable,
        duplicates=args.duplicates,
        refunds=args.refunds,
        decimals=args.decimals,
        dayfirst=args.dayfirst,
        date_format=args.date_format,
        decimal=args.decimal,
        thousands=args.thousands,
        symbols=_symbols(args.symbols),
        currency=args.currency,
        casefold_ids=args.casefold_ids,
    )
    removed = int((report["action"] == "removed").sum())
    changed = int((report["action"] == "changed").sum())
    summary = f"kept {len(clean)} of {len(raw)} rows; {removed} removed, {changed} values changed"
    if args.report:  # values of several types as text, so that Parquet can hold them too
        text = {"value": "string", "new_value": "string"}
        emit(report.astype(text), args.report, stream)
    emit(clean, args.out or None, stream)
    print(summary, file=sys.stderr if args.out == "-" or args.report == "-" else stream)
    return EXIT_OK
