"""Pipeline commands: ``funnel`` (weighted pipeline) and ``forecast`` (landing schedule)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

import numpy as np

from crmcore.cli._io import EXIT_OK, CLIError, config_from_file, emit, read_table, write_config
from crmcore.cli._options import add_command, add_out, fx, numbers, split
from crmcore.pipeline import (
    StageModel,
    close_schedule,
    estimate_stage_model,
    pipeline_by_stage,
    simulate_pipeline,
    weighted_pipeline,
)


def durations(text: str, option: str) -> tuple[list[float], str]:
    """Parse ``"60,30,30"``, ``"60D,30D"`` (days) or ``"2M,1M,1M"`` (calendar months).

    Returns the numbers and the unit (``"D"`` or ``"M"``); a number without a unit is days.
    Mixing units, or a part that is not a number, is a one-line error naming the option.
    """
    values: list[float] = []
    units: set[str] = set()
    for part in split(text):
        unit = part[-1:].upper() if part[-1:].upper() in ("D", "M") else "D"
        digits = part[:-1] if part[-1:].upper() in ("D", "M") else part
        try:
            values.append(float(digits))
        except ValueError:
            raise CLIError(
                f"{option}: {part!r} is not a duration (in {text!r}); write days as 60 or 60D, "
                "calendar months as 2M"
            ) from None
        units.add(unit)
    if len(units) > 1:
        raise CLIError(f"{option}: mixes days and months (in {text!r}); use one unit")
    return values, units.pop() if units else "D"


def add_parser(sub: Any) -> None:
    """Add the ``funnel`` and ``forecast`` commands to ``sub``."""
    _add_funnel(sub)
    _add_forecast(sub)


# ---------------------------------------------------------------------------------------------
# the stage model, shared by both commands


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("stage model (one of the ways to give it)")
    group.add_argument("--stages", metavar="A,B,C", help="open stages in funnel order")
    group.add_argument(
        "--rates", metavar="R,R,R", help="step conversion rate of each stage (last: P(win))"
    )
    group.add_argument(
        "--durations",
        metavar="D,D,D",
        help="time spent in each stage: days (60 or 60D) or calendar months (2M)",
    )
    group.add_argument("--probabilities", metavar="P,P,P", help="cumulative P(win) from each stage")
    group.add_argument(
        "--days-to-close",
        metavar="D,D,D",
        help="time from entering each stage to close: days (60, 60D) or months (2M)",
    )
    group.add_argument(
        "--history", metavar="FILE", help="learn rates and durations from a stage-change log"
    )
    group.add_argument("--at", default="entered_at", help="history: entry time column (entered_at)")
    group.add_argument(
        "--smoothing", type=float, default=0.0, help="history: Laplace pseudo-count (0)"
    )
    group.add_argument("--model", metavar="FILE", help="a StageModel JSON file (to_dict form)")
    group.add_argument(
        "--save-model", metavar="FILE", help="also write the stage model used as JSON"
    )
    group.add_argument("--won", default="won", help="won stage name (won)")
    group.add_argument("--lost", default="lost", help="lost stage name (lost)")
    cols = parser.add_argument_group("columns")
    cols.add_argument(
        "--opportunity", default="opportunity_id", help="deal id column (opportunity_id)"
    )
    cols.add_argument("--stage", default="stage", help="stage column (stage)")
    cols.add_argument("--amount", default="amount", help="amount column (amount)")


def _stage_model(args: argparse.Namespace) -> StageModel:
    """Build the StageModel from --model, --history or the --stages/--rates/... options."""
    if args.model is not None:
        model: StageModel = config_from_file(StageModel, args.model, "stage model")
        return model
    if args.stages is None:
        raise CLIError(
            "give the stage model: --stages with --rates and --durations, --stages with "
            "--probabilities and --days-to-close, --stages with --history FILE, or --model FILE"
        )
    stages = split(args.stages)
    terminal = {"won": args.won, "lost": args.lost}
    if args.history is not None:
        return estimate_stage_model(
            read_table(args.history),
            stages=stages,
            opportunity=args.opportunity,
            stage=args.stage,
            at=args.at,
            as_of=args.as_of,
            smoothing=args.smoothing,
            **terminal,
        )
    if args.rates is not None:
        if args.probabilities is not None or args.days_to_close is not None:
            raise CLIError("--rates goes with --durations; --probabilities with --days-to-close")
        if args.durations is None:
            raise CLIError("--rates needs --durations (time spent in each stage)")
        spent, unit = durations(args.durations, "--durations")
        return StageModel.from_conversion_rates(
            stages, numbers(args.rates, "--rates"), spent, unit=unit, **terminal
        )
    if args.probabilities is not None:
        if args.durations is not None or args.days_to_close is None:
            raise CLIError(
                "--probabilities needs --days-to-close (days from entering each stage to close)"
            )
        to_close, unit = durations(args.days_to_close, "--days-to-close")
        return StageModel(
            stages=stages,
            win_probabilities=numbers(args.probabilities, "--probabilities"),
            days_to_close=to_close,
            unit=unit,
            **terminal,
        )
    raise CLIError("--stages needs --rates and --durations, --probabilities, or --history FILE")


# ---------------------------------------------------------------------------------------------
# funnel


def _add_funnel(sub: Any) -> None:
    funnel = add_command(
        sub,
        "funnel",
        _run_funnel,
        help="weighted pipeline: each deal's amount x P(win from its stage)",
        description="Weigh every opportunity by the probability of winning from its stage "
        "(won deals 1, lost 0). The stage model is given by step conversion rates and days "
        "per stage, by cumulative win probabilities, learned from a stage-change history file "
        "(open deals censored), or read from a JSON file. --by-stage totals per stage.",
        examples=[
            (
                "deals.csv --stages prospect,bid,negotiation --rates 0.5,0.8,0.9 "
                "--durations 60,30,30 --by-stage"
            ),
            (
                "deals.csv --stages prospect,bid,negotiation --rates 0.5,0.8,0.9 "
                "--durations 2M,1M,1M"
            ),
            "deals.csv --stages prospect,bid,negotiation --history log.csv --as-of 2025-01-01",
        ],
    )
    funnel.add_argument("file", help="opportunities, .csv or .parquet")
    _add_model_options(funnel)
    funnel.add_argument("--as-of", help="history: end of the observation (latest entry)")
    funnel.add_argument("--currency", help="currency column (none)")
    funnel.add_argument("--fx", metavar="CUR=RATE,...", help="rates into the reporting currency")
    funnel.add_argument("--reporting-currency", help="label of the reporting currency")
    funnel.add_argument("--decimals", type=int, default=2, help="minor-unit digits (2)")
    funnel.add_argument("--by-stage", action="store_true", help="totals per stage")
    add_out(funnel)


def _run_funnel(args: argparse.Namespace, stream: TextIO) -> int:
    deals = read_table(args.file)
    model = _stage_model(args)
    write_config(model, args.save_model)
    func = pipeline_by_stage if args.by_stage else weighted_pipeline
    result = func(
        deals,
        model,
        opportunity=args.opportunity,
        stage=args.stage,
        amount=args.amount,
        currency=args.currency,
        rates=fx(args.fx),
        reporting_currency=args.reporting_currency,
        decimals=args.decimals,
    )
    emit(result, args.out, stream)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# forecast


def _add_forecast(sub: Any) -> None:
    forecast = add_command(
        sub,
        "forecast",
        _run_forecast,
        help="expected revenue by the period it lands in, optionally P10/P50/P90 ranges",
        description="Schedule each deal's expected amount into the period it is expected to "
        "close in (its own close date, else as-of + the stage's days to close). --draws adds "
        "Monte-Carlo mean and P10/P50/P90 revenue per period (same seed, same result).",
        examples=[
            (
                "deals.csv --as-of 2025-01-01 --stages prospect,bid,negotiation "
                "--rates 0.5,0.8,0.9 --durations 60,30,30 --close-date close_date "
                "--draws 2000 --seed 1"
            )
        ],
    )
    forecast.add_argument("file", help="opportunities, .csv or .parquet")
    forecast.add_argument("--as-of", required=True, help="forecast date (required)")
    forecast.add_argument("--freq", default="MS", help="period: MS months, QS quarters, ... (MS)")
    forecast.add_argument("--close-date", help="own close date column (none)")
    forecast.add_argument(
        "--overdue",
        default="as_of",
        choices=["as_of", "exclude", "error"],
        help="open deals past their close date (as_of: land on as-of)",
    )
    forecast.add_argument("--draws", type=int, help="Monte-Carlo draws for P10/P50/P90")
    forecast.add_argument("--seed", type=int, default=0, help="simulation seed (0)")
    forecast.add_argument(
        "--duration",
        default="exponential",
        choices=["exponential", "gamma", "stages", "fixed"],
        help="simulated time to close (exponential)",
    )
    _add_model_options(forecast)
    add_out(forecast)


def _run_forecast(args: argparse.Namespace, stream: TextIO) -> int:
    deals = read_table(args.file)
    model = _stage_model(args)
    write_config(model, args.save_model)
    columns = {
        "opportunity": args.opportunity,
        "stage": args.stage,
        "amount": args.amount,
        "close_date": args.close_date,
    }
    result = close_schedule(
        deals, model, as_of=args.as_of, period=args.freq, overdue=args.overdue, **columns
    ).table
    if args.draws is not None:
        ranges = simulate_pipeline(
            deals,
            model,
            as_of=args.as_of,
            n_draws=args.draws,
            seed=args.seed,
            period=args.freq,
            duration=args.duration,
            **columns,
        ).table
        # Periods where only the simulation lands revenue (or only the schedule) get zeros.
        result = result.join(ranges, how="outer").fillna(0.0)
        for col in ("count", "overdue"):
            result[col] = result[col].astype(np.int64)
        result.index.name = "period"
    emit(result, args.out, stream)
    return EXIT_OK
