"""KPI commands: ``scorecard`` (weighted points and ranks) and ``commission`` (statements)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from crmcore._periods import PERIODS, canonical_period
from crmcore.cli._io import EXIT_OK, CLIError, config_from_file, emit, read_table
from crmcore.cli._options import (
    Deprecated,
    add_command,
    add_deprecated,
    add_out,
    add_reading,
    from_options,
    numbers,
    opt_number,
    reading,
    split,
)
from crmcore.kpi import (
    CommissionPlan,
    Scorecard,
    commission_lines,
    commission_statement,
    score_scorecard,
)

METRIC_SPEC = "column:weight[:direction[:normalisation[:target]]]"


def add_parser(sub: Any) -> None:
    """Add the ``scorecard`` and ``commission`` commands to ``sub``."""
    _add_scorecard(sub)
    _add_commission(sub)


# ---------------------------------------------------------------------------------------------
# scorecard


def _add_scorecard(sub: Any) -> None:
    card = add_command(
        sub,
        "scorecard",
        _run_scorecard,
        help="weighted scorecard: points per metric, total and rank per person",
        description=f"Score every person (per period with --period-column). Each --metric is "
        f"{METRIC_SPEC}: direction higher|lower, normalisation minmax|target|zscore|"
        "percentile (target needs the target). Weights must sum to 1 unless "
        "--normalise-weights. --config reads a Scorecard JSON (to_dict form: also caps, "
        "floors, scales).",
        examples=[
            (
                "kpis.csv --metric revenue:0.5:higher:target:100000 --metric win_rate:0.3 "
                "--metric cycle_days:0.2:lower"
            ),
            "kpis.parquet --config card.json --period-column period --out scores.csv",
        ],
    )
    card.add_argument(
        "file", help="one row per person (and period), .csv or .parquet (-: standard input)"
    )
    card.add_argument("--metric", action="append", metavar="SPEC", help=METRIC_SPEC)
    card.add_argument("--normalise-weights", action="store_true", help="divide weights by sum")
    card.add_argument("--config", metavar="FILE", help="a Scorecard JSON file")
    card.add_argument("--person", default="person", help="person column (person)")
    card.add_argument("--period-column", help="column of periods (none: one group)")
    add_deprecated(card, "--period", "--period-column", dest="period_column")
    card.add_argument(
        "--missing", default="raise", choices=["raise", "zero"], help="NaN values (raise)"
    )
    add_reading(card)
    add_out(card)


def _metric(spec: str) -> dict[str, Any]:
    """Parse one ``--metric`` spec into Metric.from_dict input (empty fields keep defaults)."""
    parts = spec.split(":")
    if not 2 <= len(parts) <= 5 or not parts[0].strip():
        raise CLIError(f"--metric {spec!r}: expected {METRIC_SPEC}")
    names = ("column", "weight", "direction", "normalisation", "target")
    data: dict[str, Any] = {}
    for name, raw in zip(names, parts, strict=False):
        text = raw.strip()
        if not text:
            continue
        if name in ("weight", "target"):
            try:
                data[name] = float(text)
            except ValueError:
                raise CLIError(
                    f"--metric {spec!r}: {name} {text!r} is not a number; expected {METRIC_SPEC}"
                ) from None
        else:
            data[name] = text
    if "weight" not in data:
        raise CLIError(f"--metric {spec!r}: the weight is missing; expected {METRIC_SPEC}")
    return data


def _run_scorecard(args: argparse.Namespace, stream: TextIO) -> int:
    if (args.config is None) == (not args.metric):
        raise CLIError("give the metrics with --metric (repeated) or --config FILE, not both")
    if args.config is not None:
        card = config_from_file(Scorecard, args.config, "scorecard")
    else:
        card = Scorecard.from_dict(
            {
                "metrics": [_metric(spec) for spec in args.metric],
                "normalise_weights": args.normalise_weights,
            }
        )
    frame = read_table(args.file, reading(args), text=[args.person, args.period_column])
    result = score_scorecard(
        frame, card, person=args.person, period_column=args.period_column, missing=args.missing
    )
    emit(result, args.out, stream, max_rows=args.max_rows)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# commission


def _add_commission(sub: Any) -> None:
    com = add_command(
        sub,
        "commission",
        _run_commission,
        help="commission statement per person and period, in exact cents",
        description="Compute commission on deals with a tiered plan: --tiers "
        "THRESHOLD:RATE,... (first threshold 0) and options, or a CommissionPlan JSON file. "
        "Money columns are whole minor units (cents).",
        examples=[
            "won.csv --tiers 0:0.04,150000:0.06,250000:0.08 --period Q",
            "deals.csv --status status --plan plan.json --targets targets.csv --lines",
        ],
    )
    com.add_argument("file", help="opportunities, .csv or .parquet (-: standard input)")
    com.add_argument("--tiers", metavar="T:R,...", help="tiers as threshold:rate pairs")
    com.add_argument(
        "--mode", choices=["marginal", "retroactive", "flat"], help="tier mode (marginal)"
    )
    com.add_argument("--basis", choices=["amount", "attainment"], help="thresholds in (amount)")
    com.add_argument("--minimum", help="nothing pays below this (0)")
    com.add_argument("--decelerator", metavar="T:F", help="factor F while below threshold T")
    com.add_argument("--max-rate", help="cap on commission / sales")
    com.add_argument("--max-payout", help="cap per person and period, currency units")
    com.add_argument("--decimals", type=int, help="minor-unit digits (2)")
    com.add_argument("--plan", metavar="FILE", help="a CommissionPlan JSON file")
    com.add_argument("--person", default="person", help="person column (person)")
    com.add_argument(
        "--opportunity", default="opportunity_id", help="opportunity id column (opportunity_id)"
    )
    add_deprecated(com, "--deal", "--opportunity", dest="opportunity")
    com.add_argument("--closed-at", default="closed_at", help="close date column (closed_at)")
    com.add_argument("--amount", default="amount", help="amount column (amount)")
    com.add_argument("--cancelled-at", help="cancellation date column (none)")
    com.add_argument(
        "--status", help="status column: the file holds every deal; only won ones are paid"
    )
    com.add_argument("--won", default="won", help="status value of won deals (won)")
    com.add_argument("--lost", default="lost", help="status value of lost deals (lost)")
    com.add_argument(
        "--open-values",
        default="open",
        metavar="S,S",
        help="status values of open deals (open); * takes every other value as open",
    )
    com.add_argument(
        "--period",
        default="M",
        action=_PeriodOrOldColumn,
        help="commission period: M, Q or Y (pandas aliases such as MS, QS accepted) (M)",
    )
    add_deprecated(com, "--freq", "--period", dest="period")
    com.add_argument("--targets", metavar="FILE", help="targets (attainment plans)")
    com.add_argument(
        "--period-column", default="period", help="targets: column of periods (period)"
    )
    com.add_argument("--target", default="target", help="targets: target column (target)")
    com.add_argument("--lines", action="store_true", help="one line per deal instead")
    add_reading(com)
    add_out(com)


class _PeriodOrOldColumn(Deprecated):
    """``--period``: the commission period; an old ``--period COLUMN`` still names the column.

    Before crmcore 0.2 ``--period`` named the targets' period column (now ``--period-column``)
    and ``--freq`` gave the period. A value that is not a period code or alias is taken in the
    old sense for one more release, with a note.
    """

    def __init__(self, option_strings: Any, dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("new", "--period-column")
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        """Store a period; an old column name goes to ``period_column`` (and says so)."""
        text = str(values)
        if text in PERIODS or _is_period(text):
            setattr(namespace, self.dest, text)
        else:
            super().__call__(parser, namespace, values, option_string)
            setattr(namespace, self.dest, "M")
            namespace.period_column = text


def _is_period(text: str) -> bool:
    try:
        canonical_period(text)
    except ValueError:
        return False
    return True


def _tiers(text: str) -> list[list[str]]:
    """Split ``"0:0.04,150000:0.06"`` into pairs; the plan checks that they are numbers."""
    return [part.split(":") for part in split(text)]


def _commission_plan(args: argparse.Namespace) -> CommissionPlan:
    if (args.plan is None) == (args.tiers is None):
        raise CLIError("give the plan with --tiers (and options) or --plan FILE, not both")
    if args.plan is not None:
        plan: CommissionPlan = config_from_file(CommissionPlan, args.plan, "commission plan")
        return plan
    given: dict[str, Any] = {
        "tiers": _tiers(args.tiers),
        "mode": args.mode,
        "basis": args.basis,
        "minimum": opt_number(args.minimum, "--minimum"),
        "decelerator": None
        if args.decelerator is None
        else numbers(args.decelerator.replace(":", ","), "--decelerator"),
        "max_rate": opt_number(args.max_rate, "--max-rate"),
        "max_payout": opt_number(args.max_payout, "--max-payout"),
        "decimals": args.decimals,
    }
    built: CommissionPlan = from_options(CommissionPlan, given)
    return built


def _run_commission(args: argparse.Namespace, stream: TextIO) -> int:
    plan = _commission_plan(args)
    deals = read_table(
        args.file,
        reading(args),
        text=[args.person, args.opportunity, args.status],
        dates=[args.closed_at, args.cancelled_at],
    )
    targets = None
    if args.targets is not None:
        targets = read_table(args.targets, reading(args), text=[args.person, args.period_column])
    period = canonical_period(args.period)
    func = commission_lines if args.lines else commission_statement
    result = func(
        deals,
        plan,
        person=args.person,
        opportunity=args.opportunity,
        closed_at=args.closed_at,
        amount=args.amount,
        cancelled_at=args.cancelled_at,
        period=period,
        targets=targets,
        period_column=args.period_column,
        target=args.target,
        status=args.status,
        won=args.won,
        lost=args.lost,
        open_values=None if args.open_values == "*" else split(args.open_values),
    )
    emit(result, args.out, stream, period=period, max_rows=args.max_rows)
    return EXIT_OK
