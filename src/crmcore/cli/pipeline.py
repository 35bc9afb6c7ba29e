"""Pipeline commands: ``funnel`` (weighted pipeline) and ``forecast`` (landing schedule)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

import numpy as np
import pandas as pd

from crmcore._demo.tables import label_periods
from crmcore._periods import canonical_period
from crmcore.cli._io import EXIT_OK, CLIError, config_from_file, emit, read_table, write_config
from crmcore.cli._options import (
    add_command,
    add_deprecated,
    add_out,
    add_reading,
    fx,
    numbers,
    reading,
    split,
)
from crmcore.cli._progress import progress
from crmcore.pipeline import (
    CloseSchedule,
    StageModel,
    close_schedule,
    estimate_stage_model,
    pipeline_by_stage,
    simulate_pipeline,
    weighted_pipeline,
)


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
    group.add_argument("--durations", metavar="D,D,D", help="days spent in each stage")
    group.add_argument("--probabilities", metavar="P,P,P", help="cumulative P(win) from each stage")
    group.add_argument(
        "--days-to-close", metavar="D,D,D", help="days from entering each stage to close"
    )
    group.add_argument(
        "--history", metavar="FILE", help="learn rates and durations from a stage-change log"
    )
    group.add_argument("--at", default="entered_at", help="history: entry time column (entered_at)")
    group.add_argument(
        "--smoothing", type=float, default=0.0, help="history: Laplace pseudo-count (0)"
    )
    group.add_argument(
        "--backward",
        default="error",
        choices=["error", "furthest"],
        help="history: a deal moving back in the funnel (error)",
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
    add_reading(parser)


def _deals(args: argparse.Namespace) -> Any:
    """Read the opportunities: ids, stages and currencies as text, close dates as dates."""
    return read_table(
        args.file,
        reading(args),
        text=[args.opportunity, args.stage, getattr(args, "currency", None)],
        dates=[getattr(args, "close_date", None)],
    )


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
        history = read_table(
            args.history, reading(args), text=[args.opportunity, args.stage], dates=[args.at]
        )
        return estimate_stage_model(
            history,
            stages=stages,
            opportunity=args.opportunity,
            stage=args.stage,
            at=args.at,
            as_of=args.as_of,
            smoothing=args.smoothing,
            backward=args.backward,
            **terminal,
        )
    if args.rates is not None:
        if args.probabilities is not None or args.days_to_close is not None:
            raise CLIError("--rates goes with --durations; --probabilities with --days-to-close")
        if args.durations is None:
            raise CLIError("--rates needs --durations (days spent in each stage)")
        return StageModel.from_conversion_rates(
            stages,
            numbers(args.rates, "--rates"),
            numbers(args.durations, "--durations"),
            **terminal,
        )
    if args.probabilities is not None:
        if args.durations is not None or args.days_to_close is None:
            raise CLIError(
                "--probabilities needs --days-to-close (days from entering each stage to close)"
            )
        return StageModel(
            stages=stages,
            win_probabilities=numbers(args.probabilities, "--probabilities"),
            days_to_close=numbers(args.days_to_close, "--days-to-close"),
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
            "deals.csv --stages prospect,bid,negotiation --history log.csv --as-of 2025-01-01",
        ],
    )
    funnel.add_argument("file", help="opportunities, .csv or .parquet (-: standard input)")
    _add_model_options(funnel)
    funnel.add_argument("--as-of", help="history: end of the observation (latest entry)")
    funnel.add_argument("--currency", help="currency column (none)")
    funnel.add_argument("--fx", metavar="CUR=RATE,...", help="rates into the reporting currency")
    funnel.add_argument("--reporting-currency", help="label of the reporting currency")
    funnel.add_argument("--decimals", type=int, default=2, help="minor-unit digits (2)")
    funnel.add_argument("--by-stage", action="store_true", help="totals per stage")
    add_out(funnel)


def _run_funnel(args: argparse.Namespace, stream: TextIO) -> int:
    deals = _deals(args)
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
    emit(result, args.out, stream, max_rows=args.max_rows)
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
    forecast.add_argument("file", help="opportunities, .csv or .parquet (-: standard input)")
    forecast.add_argument("--as-of", required=True, help="forecast date (required)")
    forecast.add_argument(
        "--period",
        default="M",
        help="period: D, W, M, Q or Y (pandas aliases such as MS, QS accepted) (M)",
    )
    add_deprecated(forecast, "--freq", "--period", dest="period")
    forecast.add_argument(
        "--horizon",
        type=_periods,
        metavar="N",
        help="schedule N periods from the as-of period; what lands later is one last row "
        "(default: up to the last deal)",
    )
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


def _periods(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of periods") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: the horizon is at least 1 period")
    return value


def _run_forecast(args: argparse.Namespace, stream: TextIO) -> int:
    deals = _deals(args)
    period = canonical_period(args.period)
    model = _stage_model(args)
    write_config(model, args.save_model)
    common: dict[str, Any] = {
        "as_of": args.as_of,
        "period": period,
        "horizon": args.horizon,
        "opportunity": args.opportunity,
        "stage": args.stage,
        "amount": args.amount,
        "close_date": args.close_date,
    }
    schedule = close_schedule(deals, model, overdue=args.overdue, **common)
    result = _with_later(schedule.table, schedule, period, later=_schedule_later(schedule))
    if args.draws is not None:
        with progress("simulating", args.draws, unit="draw") as callback:
            simulation = simulate_pipeline(
                deals,
                model,
                n_draws=args.draws,
                seed=args.seed,
                duration=args.duration,
                progress=callback,
                **common,
            )
        ranges = _with_later(simulation.table, schedule, period, later=simulation.later.to_dict())
        # Periods where only the simulation lands revenue (or only the schedule) get zeros.
        result = result.join(ranges, how="outer", sort=False).fillna(0.0)
        result = result.loc[_in_order(result.index)]
        for col in ("count", "overdue"):
            result[col] = result[col].astype(np.int64)
        result.index.name = "period"
    emit(result, args.out, stream, max_rows=args.max_rows)
    return EXIT_OK


def _schedule_later(schedule: CloseSchedule) -> dict[str, float]:
    return {
        "count": schedule.later_count,
        "amount": schedule.later_amount,
        "expected_amount": schedule.later_expected_amount,
        "overdue": 0,
    }


def _with_later(
    table: pd.DataFrame, schedule: CloseSchedule, period: str, *, later: dict[str, float]
) -> pd.DataFrame:
    """Label the periods and, under --horizon, add a last row of what lands after it."""
    out = label_periods(table, period)
    if schedule.horizon is None:
        return out
    last = out.index[-1] if len(out) else "the horizon"
    row = pd.DataFrame([later], index=pd.Index([f"after {last}"], name=out.index.name))
    return pd.concat([out, row.astype(out.dtypes.to_dict())])


def _in_order(labels: pd.Index) -> list[Any]:
    """Period labels in calendar order (they sort as text), the ``after ...`` row last."""
    return sorted(labels, key=lambda label: (str(label).startswith("after"), str(label)))
