"""The ``quota`` command: split a total exactly over people, months or a region plan."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

import numpy as np
import pandas as pd

from crmcore._periods import canonical_period, period_labels
from crmcore.cli._io import EXIT_OK, CLIError, emit, read_table
from crmcore.cli._options import (
    add_command,
    add_deprecated,
    add_out,
    add_reading,
    number,
    numbers,
    reading,
)
from crmcore.money import to_minor_units
from crmcore.quota import METHODS, allocate, build_plan, from_minor_units, seasonal_split


def add_parser(sub: Any) -> None:
    """Add the ``quota`` command to ``sub``."""
    quota = add_command(
        sub,
        "quota",
        _run,
        help="split a quota exactly over people, months or a region/person/month plan",
        description="Apportion a total (in currency units, split in whole cents that add up "
        "exactly) over the rows of a people/territories file by a weight column; or over "
        "months by --seasonal percentages (no FILE); or, with a FILE and --seasonal, "
        "--first-month, --region or --start, build a region -> person -> month plan.",
        examples=[
            "people.csv --total 1200000 --weight potential --method webster",
            "--total 1200000 --seasonal 20,25,25,30",
            (
                "people.csv --total 1200000 --region region --first-period 2025-01 "
                "--start hired --wide"
            ),
        ],
    )
    quota.add_argument(
        "file", nargs="?", help="people or territories, .csv or .parquet (-: standard input)"
    )
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
    plan.add_argument(
        "--first-period",
        metavar="PERIOD",
        help="the first period (2025-01, 2025-Q1, 2025 or any date in it); "
        "without it the periods are numbered 1, 2, ...",
    )
    add_deprecated(plan, "--first-month", "--first-period", dest="first_period")
    plan.add_argument(
        "--period",
        default="M",
        help="what one --seasonal share covers: M, Q or Y (pandas aliases accepted) (M)",
    )
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
    add_reading(quota)
    add_out(quota)


def _cents(text: str, option: str, decimals: int) -> int:
    """Convert an amount typed in currency units to whole minor units (the core checks it)."""
    return int(np.asarray(to_minor_units(number(text, option), decimals, name=option)))


# pandas Period frequencies of the quota period codes.
_FREQ = {"M": "M", "Q": "Q-DEC", "Y": "Y-DEC"}


def _periods(args: argparse.Namespace, n: int) -> list[Any]:
    """``n`` calendar periods from --first-period (pandas Periods), or positions 1 .. n."""
    if args.first_period is None:
        return list(range(1, n + 1))
    code = canonical_period(args.period)
    if code not in ("M", "Q", "Y"):
        raise CLIError(f"--period {args.period!r}: quota periods are months, quarters or years")
    freq = _FREQ[code]
    try:
        first = pd.Period(args.first_period.replace("-Q", "Q"), freq=freq)
    except (ValueError, TypeError):
        raise CLIError(
            f"--first-period: {args.first_period!r} is not a period (2025-01, 2025-Q1, 2025)"
        ) from None
    return list(pd.period_range(first, periods=n, freq=freq))


def _label(value: Any, args: argparse.Namespace) -> Any:
    """Show a period as the shell shows periods (``2025-01``, ``2025-Q1``); positions as is.

    The plan may hand periods back as pandas Periods or as their text (``2025Q1``).
    """
    if isinstance(value, str) and args.first_period is not None:
        try:
            value = pd.Period(value, freq=_FREQ[canonical_period(args.period)])
        except (ValueError, TypeError):
            return value  # a total column, not a period
    if not isinstance(value, pd.Period):
        return value
    code = canonical_period(args.period)
    return str(period_labels(pd.DatetimeIndex([value.start_time]), code)[0])


def _run(args: argparse.Namespace, stream: TextIO) -> int:
    total = _cents(args.total, "--total", args.decimals)
    seasonal = None if args.seasonal is None else numbers(args.seasonal, "--seasonal")
    plan_options = (args.seasonal, args.first_period, args.region, args.start)
    if args.file is None:
        if seasonal is None:
            raise CLIError("give a people/territories FILE to allocate over, or --seasonal")
        result = _seasonal(args, total, seasonal)
    elif all(option is None for option in plan_options):
        result = _allocation(args, total)
    else:
        result = _plan(args, total, seasonal)
    emit(result, args.out, stream, max_rows=args.max_rows)
    return EXIT_OK


def _seasonal(args: argparse.Namespace, total: int, seasonal: list[float]) -> pd.DataFrame:
    labels = _periods(args, len(seasonal))
    split = seasonal_split(total, pd.Series(seasonal, index=pd.Index(labels)), method=args.method)
    result = split.to_frame()
    result.index = pd.Index([_label(p, args) for p in result.index], name="period")
    result["quota"] = from_minor_units(result["quota_cents"], args.decimals)
    return result


def _people(args: argparse.Namespace) -> pd.DataFrame:
    """Read the people file: person/territory and region as text, start dates as dates."""
    return read_table(args.file, reading(args), text=[args.key, args.region], dates=[args.start])


def _allocation(args: argparse.Namespace, total: int) -> pd.DataFrame:
    people = _people(args)
    bounds = {
        name: None if text is None else _cents(text, f"--{name}", args.decimals)
        for name, text in (("minimum", args.minimum), ("maximum", args.maximum))
    }
    result = allocate(people, total, weight=args.weight, key=args.key, method=args.method, **bounds)
    result["quota"] = from_minor_units(result["quota_cents"], args.decimals)
    return result


def _plan(args: argparse.Namespace, total: int, seasonal: list[float] | None) -> pd.DataFrame:
    if args.minimum is not None or args.maximum is not None:
        raise CLIError("--minimum/--maximum apply to a plain allocation, not to a plan")
    people = _people(args)
    region = args.region
    if region is None:  # one region holding everybody: a person x month plan
        region = "region"
        while region in people.columns:
            region = f"_{region}"
        people = people.assign(**{region: "all"})
    pct = seasonal if seasonal is not None else [100.0 / 12] * 12
    ramp = None if args.ramp is None else numbers(args.ramp, "--ramp")
    plan = build_plan(
        people,
        total,
        distribution=pct,
        periods=_periods(args, len(pct)),
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
        wide: pd.DataFrame = plan.pivot("person" if args.region is None else "region_person")
        return wide.set_axis([_label(c, args) for c in wide.columns], axis=1)
    result = plan.table.assign(quota=plan.to_amounts()["quota"])
    labels = {p: _label(p, args) for p in result["month"].unique()}
    result["month"] = result["month"].map(labels)
    if args.region is None:
        result = result.drop(columns=region)
    return result
