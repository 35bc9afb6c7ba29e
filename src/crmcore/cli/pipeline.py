"""Pipeline commands: ``funnel`` (weighted pipeline), ``forecast`` (landing schedule), ``leads``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from crmcore._demo.tables import label_periods
from crmcore._periods import canonical_period
from crmcore.cli._io import (
    EXIT_OK,
    CLIError,
    config_from_file,
    emit,
    first_line,
    read_json,
    read_table,
    write_config,
)
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
from crmcore.errors import ConfigError
from crmcore.pipeline import (
    CloseSchedule,
    LeadScoring,
    StageModel,
    close_schedule,
    estimate_stage_model,
    explain_leads,
    fit_lead_scoring,
    lead_score_calibration,
    pipeline_by_stage,
    score_leads,
    simulate_pipeline,
    weighted_pipeline,
)

Models = StageModel | dict[str, StageModel]


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
    """Add the ``funnel``, ``forecast`` and ``leads`` commands to ``sub``."""
    _add_funnel(sub)
    _add_forecast(sub)
    _add_leads(sub)


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
    group.add_argument(
        "--backward",
        default="error",
        choices=["error", "furthest"],
        help="history: a deal moving back in the funnel (error)",
    )
    group.add_argument(
        "--model",
        metavar="FILE",
        help="a StageModel JSON file (to_dict form), or an object mapping each sales process "
        "to one (with --process)",
    )
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
    cols.add_argument(
        "--process",
        metavar="COLUMN",
        help="sales process column; --model then maps each process to its stage model",
    )
    add_reading(parser)


def _deals(args: argparse.Namespace) -> Any:
    """Read the opportunities: ids, stages, currencies, processes as text; close dates as dates."""
    return read_table(
        args.file,
        reading(args),
        text=[
            args.opportunity,
            args.stage,
            getattr(args, "currency", None),
            getattr(args, "process", None),
        ],
        dates=[getattr(args, "close_date", None)],
    )


def _process_models(path: str) -> dict[str, StageModel]:
    """Read ``{process: StageModel dict}`` from a JSON file (for ``--process``)."""
    data = read_json(path, "stage models")
    if not isinstance(data, dict) or not data or "stages" in data:
        raise CLIError(
            f"stage models {path} must hold a JSON object mapping each sales process to a stage "
            'model, e.g. {"quick": {"stages": [...], ...}, "enterprise": {...}}'
        )
    out: dict[str, StageModel] = {}
    for name, value in data.items():
        if not isinstance(value, dict):
            raise CLIError(f"stage models {path}: process {name!r} must map to a JSON object")
        try:
            out[name] = StageModel.from_dict(value)
        except (TypeError, ConfigError) as exc:
            raise ConfigError(f"stage models {path}, process {name!r}: {first_line(exc)}") from None
    return out


def _save_models(models: Models, path: str | None) -> None:
    if isinstance(models, StageModel) or path is None:
        write_config(models, path)
        return
    text = json.dumps({k: m.to_dict() for k, m in models.items()}, indent=2) + "\n"
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"could not write {path}: {first_line(exc)}") from None


def _models(args: argparse.Namespace) -> Models:
    """Return the stage model, or with --process the per-process models of --model FILE."""
    if args.process is None:
        return _stage_model(args)
    if args.model is None:
        raise CLIError("--process needs --model FILE mapping each sales process to its model")
    return _process_models(args.model)


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
    model = _models(args)
    _save_models(model, args.save_model)
    options: dict[str, Any] = {
        "opportunity": args.opportunity,
        "stage": args.stage,
        "amount": args.amount,
        "currency": args.currency,
        "rates": fx(args.fx),
        "reporting_currency": args.reporting_currency,
        "decimals": args.decimals,
    }
    if args.by_stage:
        if not isinstance(model, StageModel):
            raise CLIError("--by-stage needs one stage model; stages differ between processes")
        result = pipeline_by_stage(deals, model, **options)
    else:
        if args.process is not None:
            options["process"] = args.process
        result = weighted_pipeline(deals, model, **options)
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
    model = _models(args)
    _save_models(model, args.save_model)
    common: dict[str, Any] = {
        "as_of": args.as_of,
        "period": period,
        "horizon": args.horizon,
        "opportunity": args.opportunity,
        "stage": args.stage,
        "amount": args.amount,
        "close_date": args.close_date,
    }
    if args.process is not None:
        common["process"] = args.process
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


# ---------------------------------------------------------------------------------------------
# leads


def _add_leads(sub: Any) -> None:
    leads = add_command(
        sub,
        "leads",
        _run_leads,
        help="predictive lead scoring: P(win) per lead from won and lost deals' attributes",
        description="Learn, per sales team, how often deals with each attribute value were won "
        "and lost (naive Bayes, as Odoo's predictive lead scoring), then score leads. Without "
        "--score or --calibration, print the learned frequency table.",
        examples=[
            "closed.csv --features source,country,size --team team --score open.csv",
            "closed.csv --features source,size --calibration later.csv --bins 10",
            "--model scoring.json --score open.csv --explain",
        ],
    )
    leads.add_argument("history", nargs="?", help="closed deals (won and lost), .csv or .parquet")
    leads.add_argument("--features", metavar="A,B,C", help="attribute columns to learn from")
    leads.add_argument("--team", metavar="COLUMN", help="sales team column (none)")
    leads.add_argument("--status", default="status", help="status column (status)")
    leads.add_argument("--won", default="won", help="won status value (won)")
    leads.add_argument("--lost", default="lost", help="lost status value (lost)")
    leads.add_argument(
        "--closed-only",
        action="store_true",
        help="leave out history rows that are neither won nor lost (and say how many)",
    )
    leads.add_argument(
        "--smoothing", type=float, default=0.1, help="added to every count (0.1, as Odoo)"
    )
    leads.add_argument("--model", metavar="FILE", help="a LeadScoring JSON file instead of fitting")
    leads.add_argument("--save-model", metavar="FILE", help="also write the model as JSON")
    leads.add_argument("--score", metavar="FILE", help="leads to score")
    leads.add_argument("--explain", action="store_true", help="with --score: log-odds per feature")
    leads.add_argument("--calibration", metavar="FILE", help="closed deals to check the scores on")
    leads.add_argument("--bins", type=int, default=10, help="calibration bins (10: deciles)")
    leads.add_argument(
        "--opportunity", default="opportunity_id", help="id column of scored leads, if present"
    )
    add_out(leads)
    add_reading(leads)


def _lead_text(args: argparse.Namespace, *more: str) -> list[str]:
    """Columns of a lead table read as text: the features, team, status and the id."""
    return [*split(args.features or ""), args.team, args.status, *more]


def _lead_model(args: argparse.Namespace, stream: TextIO) -> LeadScoring:
    if args.model is not None:
        model: LeadScoring = config_from_file(LeadScoring, args.model, "lead scoring model")
        return model
    if args.history is None or args.features is None:
        raise CLIError("give the closed deals and --features A,B (or --model FILE)")
    history = read_table(args.history, reading(args), text=_lead_text(args))
    if args.closed_only and args.status in history.columns:
        closed = history[args.status].isin([args.won, args.lost])
        if not closed.all():
            print(f"left out {int((~closed).sum())} deals neither won nor lost", file=stream)
        history = history[closed]
    return fit_lead_scoring(
        history,
        features=split(args.features),
        status=args.status,
        won=args.won,
        lost=args.lost,
        team=args.team,
        smoothing=args.smoothing,
    )


def _run_leads(args: argparse.Namespace, stream: TextIO) -> int:
    model = _lead_model(args, stream)
    write_config(model, args.save_model)
    if args.score is not None and args.calibration is not None:
        raise CLIError("give --score or --calibration, not both")
    if args.score is not None:
        leads = read_table(args.score, reading(args), text=_lead_text(args, args.opportunity))
        if args.opportunity in leads.columns:
            leads = leads.set_index(args.opportunity)
        result: Any = (explain_leads if args.explain else score_leads)(model, leads)
        emit(result.to_frame() if not args.explain else result, args.out, stream)
    elif args.calibration is not None:
        table = lead_score_calibration(
            model,
            read_table(args.calibration, reading(args), text=_lead_text(args)),
            status=args.status,
            won=args.won,
            lost=args.lost,
            n_bins=args.bins,
        )
        emit(table, args.out, stream)
    else:
        emit(model.frequency_table(), args.out, stream)
    return EXIT_OK
