"""The shareable HTML report behind ``python -m crmcore report`` (shell layer; private).

:func:`build_report` takes the tables the user has (transactions, deals, targets) and returns
one self-contained HTML page with the segmentation, pipeline, team and quota pictures and
tables that apply to them (:mod:`crmcore.cli._report.sections`), written by the library-free
:mod:`crmcore.cli._report.html` (styles and images inline, no script, a strict CSP). Only the
command line imports this package; it imports the areas and :mod:`crmcore.plot`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmcore import __version__
from crmcore.cli._report import sections
from crmcore.cli._report.html import Page
from crmcore.errors import ConfigError
from crmcore.pipeline import StageModel

__all__ = ["build_report"]


def build_report(
    transactions: pd.DataFrame | None = None,
    deals: pd.DataFrame | None = None,
    targets: pd.DataFrame | None = None,
    *,
    model: StageModel | None = None,
    as_of: Any = None,
    customer: str = "customer_id",
    date: str = "date",
    amount: str = "amount",
    title: str = "Sales report",
) -> str:
    """Return the report page as HTML text, with the sections the inputs allow.

    - ``transactions`` (customer, date, amount): customers, RFM segments, ABC classes, and
      customer futures (BG/NBD and Gamma-Gamma: who is still buying, the next year's value),
      and the sales forecast for the next six months.
    - ``deals`` with a ``stage`` column: the pipeline (weighted and landing by month with
      ``model``); with ``status``, ``person`` and ``closed_at``: win rates per person and,
      with ``targets``, attainment.
    - ``targets`` (person, period, target): quotas by person and period.

    Examples
    --------
    >>> from crmcore import datasets
    >>> from crmcore.cli._report import build_report
    >>> page = build_report(datasets.transactions(200, seed=1))
    >>> page.startswith("<!DOCTYPE html>"), "Content-Security-Policy" in page, "<script" in page
    (True, True, False)
    """
    if transactions is None and deals is None and targets is None:
        raise ConfigError("the report needs at least one table: transactions, deals or targets")
    page = Page(
        title=title,
        subtitle=_subtitle(transactions, deals, targets),
        footer=f"Made by crmcore {__version__}. Everything is inside this file: it loads "
        "nothing from the network and runs no script.",
    )
    if transactions is not None:
        table = sections.Transactions(
            frame=transactions, customer=customer, date=date, amount=amount, as_of=as_of
        )
        sections.customers(page, table)
        sections.customer_futures(page, table)
        sections.sales_forecast(page, table)
    if deals is not None and "stage" in deals.columns:
        sections.pipeline(page, deals, model, as_of=_deals_as_of(deals, as_of))
    if deals is not None and {"status", "person", "closed_at"} <= set(deals.columns):
        sections.team(page, deals, targets)
    if targets is not None:
        sections.quotas(page, targets)
    return page.render()


def _subtitle(*tables: pd.DataFrame | None) -> str:
    names = ("transactions", "deals", "targets")
    given = [f"{len(t):,} {n}" for n, t in zip(names, tables, strict=True) if t is not None]
    return "From " + ", ".join(given) + "."


def _deals_as_of(deals: pd.DataFrame, as_of: Any) -> Any:
    """Return the pipeline's as_of: the one given, else the latest date on a deal."""
    if as_of is not None:
        return as_of
    dates = [
        pd.to_datetime(deals[c]).max() for c in ("created_at", "closed_at") if c in deals.columns
    ]
    dates = [d for d in dates if pd.notna(d)]
    if not dates:
        raise ConfigError("the pipeline needs as_of (--as-of DATE): the deals carry no dates")
    return max(dates).normalize()
