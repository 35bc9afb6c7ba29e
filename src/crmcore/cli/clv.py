"""Customer-futures command: ``clv`` (P(alive), expected purchases and CLV per customer)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from crmcore.cli._io import EXIT_OK, CLIError, emit, first_line, read_table
from crmcore.cli._options import add_command, add_out
from crmcore.clv import (
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
    fit_bg_nbd,
    fit_gamma_gamma,
    fit_mbg_nbd,
    fit_pareto_nbd,
    probability_alive,
)
from crmcore.clv.models import TIME_UNITS
from crmcore.segmentation import btyd_summary

FITS: dict[str, Any] = {"bg_nbd": fit_bg_nbd, "pareto_nbd": fit_pareto_nbd, "mbg_nbd": fit_mbg_nbd}


def add_parser(sub: Any) -> None:
    """Add the ``clv`` command to ``sub``."""
    clv = add_command(
        sub,
        "clv",
        _run_clv,
        help="P(alive), expected purchases and lifetime value per customer",
        description="Fit a purchase model (BG/NBD, Pareto/NBD or MBG/NBD) and the Gamma-Gamma "
        "spend model to a transactions file, then print per customer the probability of "
        "still being active, the purchases expected over the next --months months and their "
        "discounted value (CLV). The fitted parameters are printed on standard error; "
        "--params FILE also writes both models as JSON.",
        examples=[
            "orders.csv --customer client --date day --amount total --months 12",
            "orders.parquet --period W --model pareto_nbd --out clv.parquet --params models.json",
        ],
    )
    clv.add_argument("file", help="transactions, .csv or .parquet")
    clv.add_argument("--customer", default="customer_id", help="customer column (customer_id)")
    clv.add_argument("--date", default="date", help="date column (date)")
    clv.add_argument("--amount", default="amount", help="amount column (amount)")
    clv.add_argument("--as-of", default=None, help="end of the history (default: latest date)")
    clv.add_argument("--months", type=int, default=12, help="horizon in months (12)")
    clv.add_argument(
        "--period", default="D", choices=["D", "W"], help="time unit of the fit: days or weeks (D)"
    )
    clv.add_argument("--model", default="bg_nbd", choices=sorted(FITS), help="(bg_nbd)")
    clv.add_argument(
        "--discount-rate", type=float, default=0.01, help="monthly discount rate (0.01)"
    )
    clv.add_argument("--penalizer", type=float, default=0.0, help="L2 penalizer of the fits (0)")
    clv.add_argument("--params", metavar="FILE", help="write the fitted models to a JSON file")
    add_out(clv)


def _run_clv(args: argparse.Namespace, stream: TextIO) -> int:
    if args.months < 0:
        raise CLIError(f"--months must be a whole number of months >= 0, got {args.months}")
    summary = btyd_summary(
        read_table(args.file),
        customer=args.customer,
        date=args.date,
        amount=args.amount,
        as_of=args.as_of,
        period=args.period,
    )
    model = FITS[args.model](summary, penalizer=args.penalizer, time_unit=args.period)
    spend = fit_gamma_gamma(summary, penalizer=args.penalizer)
    horizon = args.months * TIME_UNITS[args.period]
    result = pd.DataFrame(
        {
            "probability_alive": probability_alive(model, summary),
            "expected_purchases": expected_purchases(model, summary, horizon),
            "expected_spend": expected_spend(spend, summary),
            "clv": customer_lifetime_value(
                model,
                spend,
                summary,
                months=args.months,
                discount_rate=args.discount_rate,
                time_unit=args.period,
            ),
        }
    )
    print(f"crmcore clv: {_describe(model)}; {_describe(spend)}", file=sys.stderr)
    if args.params:
        _write_models(args.params, model, spend)
    emit(result, args.out, stream)
    return EXIT_OK


def _describe(model: Any) -> str:
    values = ", ".join(f"{k}={v:.6g}" for k, v in model.params.items())
    diag = model.diagnostics
    return (
        f"{type(model).__name__} {values} (log-likelihood {diag.log_likelihood:.6g}, "
        f"{diag.n_customers} customers)"
    )


def _write_models(path: str, model: Any, spend: Any) -> None:
    text = json.dumps({"purchase_model": model.to_dict(), "spend_model": spend.to_dict()}, indent=2)
    try:
        Path(path).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"could not write {path}: {first_line(exc)}") from None
