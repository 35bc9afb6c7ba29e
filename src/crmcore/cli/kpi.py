"""KPI commands: ``scorecard`` (weighted points and ranks) and ``commission`` (statements)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from crmcore._frames import require_columns
from crmcore.cli._io import EXIT_OK, CLIError, config_from_file, emit, read_table
from crmcore.cli._options import add_command, add_out, from_options, numbers, opt_number, split
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
        description=f"Score every person (per period with --period). Each --metric is "
        f"{METRIC_SPEC}: direction higher|lower, normalisation minmax|target|zscore|"
        "percentile (target needs the target). Weights must sum to 1 unless "
        "--normalise-weights. --config reads a Scorecard JSON (to_dict form: also caps, "
        "floors, scales).",
        examples=[
            (
                "kpis.csv --metric revenue:0.5:higher:target:100000 --metric win_rate:0.3 "
                "--metric cycle_days:0.2:lower"
            ),
            "kpis.parquet --config card.json --period period --out scores.csv",
        ],
    )
    card.add_argument("file", help="one row per person (and period), .csv or .parquet")
    card.add_argument("--metric", action="append", metavar="SPEC", help=METRIC_SPEC)
    card.add_argument("--normalise-weights", action="store_true", help="divide weights by sum")
    card.add_argument("--config", metavar="FILE", help="a Scorecard JSON file")
    card.add_argument("--person", default="person", help="person column (person)")
    card.add_argument("--period", help="period column (none: one group)")
    card.add_argument(
        "--missing", default="raise", choices=["raise", "zero"], help="NaN values (raise)"
    )
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
    frame = read_table(args.file)
    result = score_scorecard(
        frame, card, person=args.person, period_column=args.period, missing=args.missing
    )
    emit(result, args.out, stream)
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
            "won.csv --tiers 0:0.04,150000:0.06,250000:0.08 --freq Q",
            "deals.csv --status status --plan plan.json --targets targets.csv --lines",
        ],
    )
    com.add_argument("file", help="deals, .csv or .parquet")
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
    com.add_argument("--deal", default="opportunity_id", help="deal id column (opportunity_id)")
    com.add_argument("--closed-at", default="closed_at", help="close date column (closed_at)")
    com.add_argument("--amount", default="amount", help="amount column (amount)")
    com.add_argument("--cancelled-at", help="cancellation date column (none)")
    com.add_argument("--status", help="keep only rows whose STATUS column equals --won")
    com.add_argument("--won", default="won", help="status value of won deals (won)")
    com.add_argument("--freq", default="M", choices=["M", "Q", "Y"], help="period (M)")
    com.add_argument("--targets", metavar="FILE", help="targets (attainment plans)")
    com.add_argument("--period", default="period", help="targets: period column (period)")
    com.add_argument("--target", default="target", help="targets: target column (target)")
    com.add_argument("--lines", action="store_true", help="one line per deal instead")
    add_out(com)


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
    deals = read_table(args.file)
    if args.status is not None:
        require_columns(deals, [args.status], arg="deals")
        deals = deals[deals[args.status] == args.won]
    targets = None if args.targets is None else read_table(args.targets)
    func = commission_lines if args.lines else commission_statement
    result = func(
        deals,
        plan,
        person=args.person,
        opportunity=args.deal,
        closed_at=args.closed_at,
        amount=args.amount,
        cancelled_at=args.cancelled_at,
        period=args.freq,
        targets=targets,
        period_column=args.period,
        target=args.target,
    )
    emit(result, args.out, stream)
    return EXIT_OK
