"""The command line, crmcore's only I/O: ``python -m crmcore <command> ...``.

Commands read CSV or Parquet files, call the pure core and print a readable table or write the
result (``--out FILE.csv|.parquet``). Every command is a thin adapter: it parses its options,
builds the core's configuration objects through their own constructors (so the core validates
them), calls the public API and emits the frame it returns. Bad input ends with exit status 2
and a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from crmcore.errors import ConfigError, CRMError

__all__ = ["main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2


class CLIError(Exception):
    """A problem with the command line's own input (a file, an option's text)."""


# ---------------------------------------------------------------------------------------------
# files


def read_table(path: str) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame (by file extension)."""
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"file not found: {path}")
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            if importlib.util.find_spec("pyarrow") is None:
                raise CLIError("reading Parquet needs pyarrow: pip install 'crmcore[parquet]'")
            return pd.read_parquet(p)
        if suffix in (".csv", ".txt", ".gz"):
            return pd.read_csv(p)
    except (OSError, ValueError) as exc:
        raise CLIError(f"could not read {path}: {_first_line(exc)}") from None
    raise CLIError(f"cannot read {path}: expected a .csv or .parquet file")


def write_table(frame: pd.DataFrame, path: str) -> None:
    """Write a DataFrame to CSV or Parquet (by file extension), keeping its index as columns."""
    p = Path(path)
    suffix = p.suffix.lower()
    out = frame.reset_index() if _has_named_index(frame) else frame
    out = _plain_columns(out)
    try:
        if suffix in (".parquet", ".pq"):
            out.to_parquet(p, index=False)
        elif suffix == ".csv":
            out.to_csv(p, index=False)
        else:
            raise CLIError(f"cannot write {path}: expected a .csv or .parquet file name")
    except (OSError, ImportError, ValueError) as exc:
        raise CLIError(f"could not write {path}: {_first_line(exc)}") from None


def read_json(path: str, what: str) -> Any:
    """Read a JSON file (a scorecard, a commission plan, a stage model, grade rules)."""
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{what} file not found: {path}")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CLIError(f"could not read {what} {path}: {_first_line(exc)}") from None


def config_from_file(cls: Any, path: str, what: str) -> Any:
    """Build a config object (``cls.from_dict``) from a JSON file holding one JSON object."""
    data = read_json(path, what)
    if not isinstance(data, dict):
        raise CLIError(f"{what} {path} must hold a JSON object, got {type(data).__name__}")
    try:
        return cls.from_dict(data)
    except (TypeError, ConfigError) as exc:
        # Name the file in the message; a TypeError from a constructor is a configuration
        # error too (a required field missing).
        raise ConfigError(f"{what} {path}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _has_named_index(frame: pd.DataFrame) -> bool:
    return any(name is not None for name in frame.index.names)


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Give files text column names (Parquet refuses others, e.g. the month labels 1..12)."""
    if all(isinstance(c, str) for c in frame.columns):
        return frame
    return frame.set_axis([str(c) for c in frame.columns], axis=1)


def _emit(frame: pd.DataFrame, out: str | None, stream: TextIO, *, title: str = "") -> None:
    if out:
        write_table(frame, out)
        print(f"wrote {len(frame)} rows to {out}", file=stream)
        return
    if title:
        print(title, file=stream)
    with pd.option_context("display.width", 120, "display.max_columns", 20, "display.max_rows", 60):
        print(frame.to_string(max_rows=60), file=stream)


# ---------------------------------------------------------------------------------------------
# option text -> values (the core validates the values themselves)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")]


def _numbers(text: str, option: str) -> list[float]:
    """Parse ``"0.5,0.8"``; a part that is not a number is a one-line error naming the option."""
    values: list[float] = []
    for part in _split(text):
        try:
            values.append(float(part))
        except ValueError:
            raise CLIError(f"{option}: {part!r} is not a number (in {text!r})") from None
    return values


def _number(text: str, option: str) -> float:
    values = _numbers(text, option)
    if len(values) != 1:
        raise CLIError(f"{option}: expected one number, got {text!r}")
    return values[0]


def _opt_number(text: str | None, option: str) -> float | None:
    """:func:`_number` of an option's text, or ``None`` when the option was not given."""
    return None if text is None else _number(text, option)


def _from_options(cls: Any, given: dict[str, Any]) -> Any:
    """Build a config with ``cls.from_dict`` from the options given (``None``: not given)."""
    return cls.from_dict({k: v for k, v in given.items() if v is not None})


def _fx(text: str | None) -> dict[str, float] | None:
    """Parse ``"USD=0.92,GBP=1.17"`` into a currency -> rate mapping."""
    if text is None:
        return None
    rates: dict[str, float] = {}
    for part in _split(text):
        code, sep, rate = part.partition("=")
        if not sep or not code.strip():
            raise CLIError(f"--fx: expected CURRENCY=RATE pairs, got {part!r}")
        rates[code.strip()] = _number(rate, f"--fx {code.strip()}")
    return rates


def _add_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", metavar="FILE", help="write to this .csv or .parquet file instead of printing"
    )


def _add_rfm_columns(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customer", default="customer_id", help="customer column (customer_id)")
    parser.add_argument("--date", default="date", help="date column (date)")
    parser.add_argument("--amount", default="amount", help="amount column (amount)")
    parser.add_argument("--as-of", default=None, help="reference date (default: latest date)")
    parser.add_argument(
        "--period", default="D", choices=["D", "W", "M", "Q", "Y"], help="time unit (D)"
    )


# ---------------------------------------------------------------------------------------------
# commands: demo, rfm, segments, abc, grades


def _cmd_demo(args: argparse.Namespace, stream: TextIO) -> int:
    from crmcore._demo import kpi, pipeline, quota, segmentation

    sections: list[tuple[str, Callable[[int], str]]] = [
        ("Customer segmentation", segmentation.section),
        ("Sales pipeline", pipeline.section),
        ("Quotas", quota.section),
        ("Team performance", kpi.section),
    ]
    print(f"crmcore demo on synthetic data (seed {args.seed})", file=stream)
    for title, build in sections:
        print("", file=stream)
        print(title, file=stream)
        print("=" * len(title), file=stream)
        print(build(args.seed).rstrip(), file=stream)
    return EXIT_OK


def _summary(args: argparse.Namespace) -> pd.DataFrame:
    from crmcore.segmentation import rfm_summary

    return rfm_summary(
        read_table(args.file),
        customer=args.customer,
        date=args.date,
        amount=args.amount,
        as_of=args.as_of,
        period=args.period,
    )


def _cmd_rfm(args: argparse.Namespace, stream: TextIO) -> int:
    from crmcore.segmentation import rfm_scores, rfm_segments

    summary = _summary(args)
    result = summary
    if args.scores or args.segments:
        scores = rfm_scores(summary, bins=args.bins)
        result = summary.join(scores)
        if args.segments:
            result = result.join(rfm_segments(scores)[["segment"]])
    _emit(result, args.out, stream)
    return EXIT_OK


def _segment_map(name: str) -> Any:
    from crmcore.segmentation import RF_GRID_10, SEGMENTS_11

    return {"11": SEGMENTS_11, "grid": RF_GRID_10}[name]


def _cmd_segments(args: argparse.Namespace, stream: TextIO) -> int:
    from crmcore.segmentation import rfm_scores, rfm_segments, segment_summary

    seg_map = _segment_map(args.map)
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
        _emit(per, args.out, stream)
    else:
        _emit(summary.join(segments), args.out, stream)
    return EXIT_OK


def _item_totals(frame: pd.DataFrame, item: str, amount: str) -> pd.Series:
    """Total ``amount`` per ``item`` (several rows per item are added), sorted by item."""
    from crmcore._frames import numeric_column, require_columns, require_not_null

    require_columns(frame, [item, amount], arg="values")
    require_not_null(frame, item, arg="values")
    values = numeric_column(frame, amount, arg="values", key=item)
    totals = pd.Series(values, index=pd.Index(frame[item].to_numpy(), name=item))
    return totals.groupby(level=0, sort=True).sum().rename("total")


def _cmd_abc(args: argparse.Namespace, stream: TextIO) -> int:
    from crmcore.segmentation import abc_classes, abc_xyz

    frame = read_table(args.file)
    cutoffs = _numbers(args.cutoffs, "--cutoffs")
    if args.xyz:
        result = abc_xyz(
            frame,
            item=args.item,
            date=args.date,
            amount=args.amount,
            period=args.period,
            cutoffs=cutoffs,
            xyz_thresholds=_numbers(args.thresholds, "--thresholds"),
            ddof=args.ddof,
            include_empty_periods=not args.active_periods_only,
        )
    else:
        totals = _item_totals(frame, args.item, args.amount)
        classes = abc_classes(totals, cutoffs, basis=args.basis)
        result = pd.DataFrame({"total": totals, "abc": classes})
    if args.summary:
        groups = result.groupby("abc", observed=False)["total"]
        result = pd.DataFrame({"items": groups.size(), "total": groups.sum()})
        grand = float(result["total"].sum())
        result["share"] = result["total"] / grand if grand else np.nan
    _emit(result, args.out, stream)
    return EXIT_OK


def _cmd_grades(args: argparse.Namespace, stream: TextIO) -> int:
    from crmcore._frames import require_columns, require_not_null, require_unique
    from crmcore.segmentation import GradeRules, customer_grades

    if args.rules is not None:
        rules = config_from_file(GradeRules, args.rules, "grade rules")
    else:
        given = {
            "value_method": args.value_method,
            "value_cutoff": args.value_cutoff,
            "potential_method": args.potential_method,
            "potential_cutoff": args.potential_cutoff,
            "missing": args.missing,
            "labels": None if args.labels is None else _split(args.labels),
        }
        rules = _from_options(GradeRules, given)
    value = _summary(args)["monetary"]
    if args.customers is None:
        potential = pd.Series(0.0, index=value.index)
    else:
        people = read_table(args.customers)
        require_columns(people, [args.customer, args.potential], arg="customers")
        require_not_null(people, args.customer, arg="customers")
        require_unique(people, args.customer, arg="customers")
        potential = people.set_index(args.customer)[args.potential]
    # Customers known only from the customers file have bought nothing (value 0) but may have
    # potential: they are graded too (B when it is high), never dropped.
    index = value.index.union(potential.index).sort_values()
    index.name = args.customer
    frame = pd.DataFrame(
        {"value": value.reindex(index, fill_value=0.0), "potential": potential.reindex(index)},
        index=index,
    )
    result = customer_grades(frame, rules, value="value", potential="potential")
    if args.summary:
        counts = result["grade"].value_counts(sort=False)
        total = result.groupby("grade", observed=False)["value"].sum()
        result = pd.DataFrame({"customers": counts, "value": total})
        result.index.name = "grade"
    _emit(result, args.out, stream)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# commands: funnel, forecast


def _stage_model(args: argparse.Namespace) -> Any:
    """Build the StageModel from --model, --history or the --stages/--rates/... options."""
    from crmcore.pipeline import StageModel, estimate_stage_model

    if args.model is not None:
        return config_from_file(StageModel, args.model, "stage model")
    if args.stages is None:
        raise CLIError(
            "give the stage model: --stages with --rates and --durations, --stages with "
            "--probabilities and --days-to-close, --stages with --history FILE, or --model FILE"
        )
    stages = _split(args.stages)
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
            raise CLIError("--rates needs --durations (days spent in each stage)")
        return StageModel.from_conversion_rates(
            stages,
            _numbers(args.rates, "--rates"),
            _numbers(args.durations, "--durations"),
            **terminal,
        )
    if args.probabilities is not None:
        if args.durations is not None or args.days_to_close is None:
            raise CLIError(
                "--probabilities needs --days-to-close (days from entering each stage to close)"
            )
        return StageModel(
            stages=stages,
            win_probabilities=_numbers(args.probabilities, "--probabilities"),
            days_to_close=_numbers(args.days_to_close, "--days-to-close"),
            **terminal,
        )
    raise CLIError("--stages needs --rates and --durations, --probabilities, or --history FILE")


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


def _save_model(model: Any, path: str | None) -> None:
    if path is None:
        return
    try:
        Path(path).write_text(json.dumps(model.to_dict(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"could not write {path}: {_first_line(exc)}") from None


def _cmd_funnel(args: argparse.Namespace, stream: TextIO) -> int:
    from crmcore.pipeline import pipeline_by_stage, weighted_pipeline

    deals = read_table(args.file)
    model = _stage_model(args)
    _save_model(model, args.save_model)
    func = pipeline_by_stage if args.by_stage else weighted_pipeline
    result = func(
        deals,
        model,
        opportunity=args.opportunity,
        stage=args.stage,
        amount=args.amount,
        currency=args.currency,
        rates=_fx(args.fx),
        reporting_currency=args.reporting_currency,
        decimals=args.decimals,
    )
    _emit(result, args.out, stream)
    return EXIT_OK


def _cmd_forecast(args: argparse.Namespace, stream: TextIO) -> int:
    from crmcore.pipeline import close_schedule, simulate_pipeline

    deals = read_table(args.file)
    model = _stage_model(args)
    _save_model(model, args.save_model)
    columns = {
        "opportunity": args.opportunity,
        "stage": args.stage,
        "amount": args.amount,
        "close_date": args.close_date,
    }
    result = close_schedule(
        deals, model, as_of=args.as_of, freq=args.freq, overdue=args.overdue, **columns
    )
    if args.draws is not None:
        ranges = simulate_pipeline(
            deals,
            model,
            as_of=args.as_of,
            n_draws=args.draws,
            seed=args.seed,
            freq=args.freq,
            duration=args.duration,
            **columns,
        )
        # Periods where only the simulation lands revenue (or only the schedule) get zeros.
        result = result.join(ranges, how="outer").fillna(0.0)
        for col in ("count", "overdue"):
            result[col] = result[col].astype(np.int64)
        result.index.name = "period"
    _emit(result, args.out, stream)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# commands: quota, scorecard, commission


def _cents(text: str, option: str, decimals: int) -> int:
    """Convert an amount typed in currency units to whole minor units (the core checks it)."""
    from crmcore.money import to_minor_units

    return int(np.asarray(to_minor_units(_number(text, option), decimals, name=option)))


def _quota_periods(args: argparse.Namespace, n: int) -> list[Any]:
    if args.first_month is None:
        return list(range(1, n + 1))
    try:
        first = pd.Period(args.first_month, freq="M")
    except (ValueError, TypeError):
        raise CLIError(f"--first-month: {args.first_month!r} is not a month (YYYY-MM)") from None
    return list(pd.period_range(first, periods=n, freq="M"))


def _cmd_quota(args: argparse.Namespace, stream: TextIO) -> int:
    from crmcore.quota import allocate, build_plan, from_minor_units, seasonal_split

    total = _cents(args.total, "--total", args.decimals)
    seasonal = None if args.seasonal is None else _numbers(args.seasonal, "--seasonal")
    plan_options = (args.seasonal, args.first_month, args.region, args.start)
    if args.file is None:
        if seasonal is None:
            raise CLIError("give a people/territories FILE to allocate over, or --seasonal")
        labels = _quota_periods(args, len(seasonal))
        split = seasonal_split(
            total, pd.Series(seasonal, index=pd.Index(labels)), method=args.method
        )
        result = split.to_frame()
        result.index = pd.Index([str(p) for p in result.index], name="period")
        result["quota"] = from_minor_units(result["quota_cents"], args.decimals)
    elif all(option is None for option in plan_options):
        people = read_table(args.file)
        bounds = {
            name: None if text is None else _cents(text, f"--{name}", args.decimals)
            for name, text in (("minimum", args.minimum), ("maximum", args.maximum))
        }
        result = allocate(
            people, total, weight=args.weight, key=args.key, method=args.method, **bounds
        )
        result["quota"] = from_minor_units(result["quota_cents"], args.decimals)
    else:
        if args.minimum is not None or args.maximum is not None:
            raise CLIError("--minimum/--maximum apply to a plain allocation, not to a plan")
        people = read_table(args.file)
        region = args.region
        if region is None:  # one region holding everybody: a person x month plan
            region = "region"
            while region in people.columns:
                region = f"_{region}"
            people = people.assign(**{region: "all"})
        pct = seasonal if seasonal is not None else [100.0 / 12] * 12
        ramp = None if args.ramp is None else _numbers(args.ramp, "--ramp")
        plan = build_plan(
            people,
            total,
            distribution=pct,
            periods=_quota_periods(args, len(pct)),
            region=region,
            person=args.key,
            weight=args.weight,
            start=args.start,
            method=args.method,
            decimals=args.decimals,
            ramp_excess=args.ramp_excess,
            **({} if ramp is None else {"ramp": ramp}),
        )
        if args.wide:
            result = plan.pivot("person" if args.region is None else "region_person")
        else:
            result = plan.table.assign(quota=plan.to_amounts()["quota"])
            if args.region is None:
                result = result.drop(columns=region)
    _emit(result, args.out, stream)
    return EXIT_OK


METRIC_SPEC = "column:weight[:direction[:normalisation[:target]]]"


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


def _cmd_scorecard(args: argparse.Namespace, stream: TextIO) -> int:
    from crmcore.kpi import Scorecard, score_scorecard

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
        frame, card, person=args.person, period=args.period, missing=args.missing
    )
    _emit(result, args.out, stream)
    return EXIT_OK


def _tiers(text: str) -> list[list[str]]:
    """Split ``"0:0.04,150000:0.06"`` into pairs; the plan checks that they are numbers."""
    return [part.split(":") for part in _split(text)]


def _cmd_commission(args: argparse.Namespace, stream: TextIO) -> int:
    from crmcore.kpi import CommissionPlan, commission_lines, commission_statement

    if (args.plan is None) == (args.tiers is None):
        raise CLIError("give the plan with --tiers (and options) or --plan FILE, not both")
    if args.plan is not None:
        plan = config_from_file(CommissionPlan, args.plan, "commission plan")
    else:
        given: dict[str, Any] = {
            "tiers": _tiers(args.tiers),
            "mode": args.mode,
            "basis": args.basis,
            "minimum": _opt_number(args.minimum, "--minimum"),
            "decelerator": None
            if args.decelerator is None
            else _numbers(args.decelerator.replace(":", ","), "--decelerator"),
            "max_rate": _opt_number(args.max_rate, "--max-rate"),
            "max_payout": _opt_number(args.max_payout, "--max-payout"),
            "decimals": args.decimals,
        }
        plan = _from_options(CommissionPlan, given)
    deals = read_table(args.file)
    if args.status is not None:
        from crmcore._frames import require_columns

        require_columns(deals, [args.status], arg="deals")
        deals = deals[deals[args.status] == args.won]
    targets = None if args.targets is None else read_table(args.targets)
    func = commission_lines if args.lines else commission_statement
    result = func(
        deals,
        plan,
        person=args.person,
        deal=args.deal,
        closed_at=args.closed_at,
        amount=args.amount,
        cancelled_at=args.cancelled_at,
        freq=args.freq,
        targets=targets,
        period=args.period,
        target=args.target,
    )
    _emit(result, args.out, stream)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# parser


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _command(
    sub: Any,
    name: str,
    handler: Callable[[argparse.Namespace, TextIO], int],
    *,
    help: str,  # argparse's own keyword
    description: str,
    examples: Sequence[str],
) -> argparse.ArgumentParser:
    lines = "\n".join(f"  python -m crmcore {name} {ex}" for ex in examples)
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=textwrap.fill(description, width=88),
        formatter_class=_formatter,
        epilog=f"example{'s' if len(examples) > 1 else ''}:\n{lines}",
    )
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for tests and shell completion tools)."""
    from crmcore import __version__
    from crmcore.quota import METHODS

    parser = argparse.ArgumentParser(
        prog="python -m crmcore",
        description="CRM sales-management logic on your CSV/Parquet exports.\n"
        "Run 'python -m crmcore COMMAND --help' for a command's options and an example.",
        formatter_class=_formatter,
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

    demo = _command(
        sub,
        "demo",
        _cmd_demo,
        help="print a report on built-in synthetic data",
        description="Print a report on built-in synthetic data: segments, ABC shares, grades, "
        "top customers, the weighted pipeline, quotas and the team scorecard.",
        examples=["--seed 3"],
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the synthetic data (0)")

    rfm = _command(
        sub,
        "rfm",
        _cmd_rfm,
        help="per-customer RFM summary (optionally scores and segments)",
        description="Per-customer recency, frequency and monetary value from a transactions "
        "file, optionally with 1..5 scores and named segments.",
        examples=[
            "orders.csv --customer client --date day --amount total --segments --out rfm.parquet"
        ],
    )
    rfm.add_argument("file", help="transactions, .csv or .parquet")
    _add_rfm_columns(rfm)
    rfm.add_argument("--bins", type=int, default=5, help="number of score bins (5)")
    rfm.add_argument("--scores", action="store_true", help="add r/f/m scores")
    rfm.add_argument("--segments", action="store_true", help="add scores and named segments")
    _add_out(rfm)

    seg = _command(
        sub,
        "segments",
        _cmd_segments,
        help="named RFM segments per customer (or customers per segment)",
        description="RFM summary -> 1..5 scores -> named segments, per customer. --map 11 is "
        "the common 11-segment R/F/M map, --map grid the 10-region recency x frequency grid. "
        "--summary counts customers and revenue per segment instead.",
        examples=[
            "orders.csv --map grid --summary",
            "orders.parquet --as-of 2024-12-31 --out seg.csv",
        ],
    )
    seg.add_argument("file", help="transactions, .csv or .parquet")
    _add_rfm_columns(seg)
    seg.add_argument("--map", default="11", choices=["11", "grid"], help="segment map (11)")
    seg.add_argument("--bins", type=int, default=None, help="score bins (the map's: 5)")
    seg.add_argument("--summary", action="store_true", help="customers and revenue per segment")
    _add_out(seg)

    abc = _command(
        sub,
        "abc",
        _cmd_abc,
        help="ABC (Pareto) classes per customer, optionally with XYZ variability",
        description="Total the amount per customer (or any item column) and class the totals "
        "A/B/C by cumulative share (the item crossing a cut-off is in the better class). "
        "--xyz adds the variability class of per-period totals (needs a date column).",
        examples=["orders.csv --cutoffs 0.8,0.95", "orders.csv --xyz --period M --out abc.csv"],
    )
    abc.add_argument("file", help="transactions (or one value per item), .csv or .parquet")
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
    xyz.add_argument("--period", default="M", choices=["D", "W", "M", "Q", "Y"], help="period (M)")
    xyz.add_argument("--thresholds", default="0.5,1.0", help="CV thresholds X/Y, Y/Z (0.5,1.0)")
    xyz.add_argument("--ddof", type=int, default=0, help="0 population (default) or 1 sample std")
    xyz.add_argument(
        "--active-periods-only", action="store_true", help="ignore periods without purchases"
    )
    _add_out(abc)

    grades = _command(
        sub,
        "grades",
        _cmd_grades,
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
    grades.add_argument("file", help="transactions, .csv or .parquet")
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
    _add_out(grades)

    funnel = _command(
        sub,
        "funnel",
        _cmd_funnel,
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
    funnel.add_argument("file", help="opportunities, .csv or .parquet")
    _add_model_options(funnel)
    funnel.add_argument("--as-of", help="history: end of the observation (latest entry)")
    funnel.add_argument("--currency", help="currency column (none)")
    funnel.add_argument("--fx", metavar="CUR=RATE,...", help="rates into the reporting currency")
    funnel.add_argument("--reporting-currency", help="label of the reporting currency")
    funnel.add_argument("--decimals", type=int, default=2, help="minor-unit digits (2)")
    funnel.add_argument("--by-stage", action="store_true", help="totals per stage")
    _add_out(funnel)

    forecast = _command(
        sub,
        "forecast",
        _cmd_forecast,
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
    _add_out(forecast)

    quota = _command(
        sub,
        "quota",
        _cmd_quota,
        help="split a quota exactly over people, months or a region/person/month plan",
        description="Apportion a total (in currency units, split in whole cents that add up "
        "exactly) over the rows of a people/territories file by a weight column; or over "
        "months by --seasonal percentages (no FILE); or, with a FILE and --seasonal, "
        "--first-month, --region or --start, build a region -> person -> month plan.",
        examples=[
            "people.csv --total 1200000 --weight potential --method webster",
            "--total 1200000 --seasonal 20,25,25,30",
            "people.csv --total 1200000 --region region --first-month 2025-01 --start hired --wide",
        ],
    )
    quota.add_argument("file", nargs="?", help="people or territories, .csv or .parquet")
    quota.add_argument("--total", required=True, help="total to split, in currency units")
    quota.add_argument("--decimals", type=int, default=2, help="minor-unit digits (2)")
    quota.add_argument(
        "--method",
        default="hamilton",
        help=f"apportionment: {', '.join(sorted(METHODS))} or an alias (hamilton)",
    )
    quota.add_argument("--key", default="person", help="person/territory column (person)")
    quota.add_argument("--weight", default="weight", help="weight column (weight)")
    quota.add_argument("--minimum", help="allocation: least quota per row, currency units")
    quota.add_argument("--maximum", help="allocation: most quota per row, currency units")
    plan = quota.add_argument_group("plan")
    plan.add_argument("--seasonal", metavar="P,P,...", help="percent per period, summing to 100")
    plan.add_argument("--first-month", metavar="YYYY-MM", help="label periods as months from it")
    plan.add_argument("--region", help="region column (none: one region)")
    plan.add_argument("--start", help="start-date column: ramp new people in")
    plan.add_argument("--ramp", metavar="F,F,...", help="ramp factors (0.25,0.5,0.75,1)")
    plan.add_argument(
        "--ramp-excess",
        default="redistribute",
        choices=["redistribute", "drop"],
        help="quota ramped away (redistribute)",
    )
    plan.add_argument("--wide", action="store_true", help="people x months table (cents)")
    _add_out(quota)

    card = _command(
        sub,
        "scorecard",
        _cmd_scorecard,
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
    _add_out(card)

    com = _command(
        sub,
        "commission",
        _cmd_commission,
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
    _add_out(com)
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
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace, TextIO], int] = args.handler
    try:
        return handler(args, stream)
    except BrokenPipeError:
        # The reader went away (``... | head``): stop quietly, as Unix tools do.
        if stream is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except (CRMError, CLIError) as exc:
        text = _first_line(exc) if str(exc) else ""
        message = f"{type(exc).__name__}: {text}" if isinstance(exc, CRMError) else text
        print(f"crmcore {args.command}: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        # Not a crmcore error: a bug or an input the core did not anticipate. Still one line
        # (set CRMCORE_TRACEBACK=1 to see the traceback), but a distinct status.
        if os.environ.get("CRMCORE_TRACEBACK"):
            raise
        print(
            f"crmcore {args.command}: unexpected error: {type(exc).__name__}: "
            f"{_first_line(exc)} (please report; CRMCORE_TRACEBACK=1 shows where)",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
