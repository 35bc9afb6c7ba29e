"""The sections of the shareable report, one per kind of input; each calls the library and plot.

Every function adds one :class:`~crmcore.cli._report.html.Section` to the page from the tables it is
given, using only public crmcore functions and charts; none reads or writes a file.
"""

from __future__ import annotations

from typing import Any

import attrs
import pandas as pd

from crmcore import plot
from crmcore.cli._report.html import MISSING, Page
from crmcore.clv import (
    customer_lifetime_value,
    expected_purchases,
    fit_bg_nbd,
    fit_gamma_gamma,
    probability_alive,
)
from crmcore.errors import CRMError
from crmcore.forecast import sales_forecast as forecast_sales
from crmcore.kpi import attainment, revenue_by_period, win_rate
from crmcore.pipeline import (
    StageModel,
    close_schedule,
    forecast_rollup,
    pipeline_by_stage,
    simulate_pipeline,
)
from crmcore.segmentation import (
    abc_classes,
    abc_summary,
    btyd_summary,
    fit_rfm_bins,
    rfm_segments,
    rfm_summary,
    score_rfm,
)

__all__ = [
    "Transactions",
    "customer_futures",
    "customers",
    "pipeline",
    "quotas",
    "sales_forecast",
    "team",
]

#: Months forecast ahead.
FORECAST_MONTHS = 6

#: Periods of the landing schedule shown (a year of months).
HORIZON = 12
#: Monte-Carlo draws behind the P10-P90 band (seeded: the same report every time).
DRAWS = 2_000


@attrs.frozen(kw_only=True)
class Transactions:
    """The transactions table and the names of its columns, as the three sections read it."""

    frame: pd.DataFrame
    customer: str
    date: str
    amount: str
    as_of: Any


def _money(value: Any) -> str:
    return MISSING if pd.isna(value) else f"{float(value):,.0f}"


def _pct(value: Any) -> str:
    return MISSING if pd.isna(value) else f"{float(value):.0%}"


def customers(page: Page, transactions: Transactions) -> None:
    """Add the customers: RFM grid, segments, Pareto/ABC classes, top customers."""
    part = page.section("Customers", "customers")
    summary = rfm_summary(
        transactions.frame,
        customer=transactions.customer,
        date=transactions.date,
        amount=transactions.amount,
        as_of=transactions.as_of,
    )
    bins = fit_rfm_bins(summary)
    scores = score_rfm(summary, bins)
    segments = rfm_segments(scores)
    dates = pd.to_datetime(transactions.frame[transactions.date])
    part.facts(
        {
            "customers": f"{len(summary):,}",
            "purchases": f"{len(transactions.frame):,}",
            "revenue": _money(summary["monetary"].sum()),
            "period": f"{dates.min():%Y-%m-%d} to {summary['last_purchase'].max():%Y-%m-%d}",
        }
    )
    part.note(
        "RFM scores 1-5 from quintile edges fitted on these customers (recency in days to "
        f"{summary['last_purchase'].max():%Y-%m-%d}; frequency in distinct purchase days; "
        "monetary value in total spend), mapped to the 11 common RFM segments."
    )
    part.figures(
        (plot.rfm_heatmap(scores, rfm_bins=bins), "Customers by recency and frequency score"),
        (plot.segment_sizes(segments), "Customers per segment"),
    )
    joined = segments.join(summary["monetary"])
    by_segment = joined.groupby("segment", observed=False).agg(
        customers=("monetary", "size"), revenue=("monetary", "sum")
    )
    by_segment["share_of_revenue"] = by_segment["revenue"] / by_segment["revenue"].sum()
    part.heading("Segments")
    part.table(by_segment, formats={"revenue": _money, "share_of_revenue": _pct})
    classes = abc_classes(summary["monetary"])
    part.heading("ABC classes (80 % / 95 % of revenue)")
    part.figures((plot.pareto_curve(summary["monetary"]), "Pareto curve and ABC classes"))
    part.table(
        abc_summary(pd.DataFrame({"abc": classes, "total": summary["monetary"]})),
        formats={"total": _money},
    )
    top = summary.join(segments["segment"]).nlargest(10, "monetary")
    part.heading("Top 10 customers by revenue")
    part.table(
        top[["segment", "monetary", "frequency", "recency", "last_purchase"]],
        formats={"monetary": _money},
    )


def customer_futures(page: Page, transactions: Transactions) -> None:
    """Add customer futures: BG/NBD and Gamma-Gamma fitted on weekly purchase histories."""
    part = page.section("Customer futures", "futures")
    summary = btyd_summary(
        transactions.frame,
        customer=transactions.customer,
        date=transactions.date,
        amount=transactions.amount,
        as_of=transactions.as_of,
        period="W",
    )
    try:
        purchases = fit_bg_nbd(summary, time_unit="W")
        spend = fit_gamma_gamma(summary[summary["frequency"] > 0])
        value = customer_lifetime_value(purchases, spend, summary, months=12, time_unit="W")
    except CRMError as exc:
        part.note(f"The customer models could not be fitted on these purchases: {exc}")
        return
    alive = probability_alive(purchases, summary)
    future = pd.DataFrame(
        {
            "p_alive": alive,
            "expected_purchases_52w": expected_purchases(purchases, summary, 52.0),
            "clv_12_months": value,
            "repeat_weeks": summary["frequency"],
        }
    )
    part.facts(
        {
            "expected value, next 12 months": _money(value.sum()),
            "customers likely active (P(alive) > 50 %)": f"{int((alive > 0.5).sum()):,}",
            "customers": f"{len(summary):,}",
        }
    )
    part.note(
        "Buy-till-you-die models on weekly purchase histories: BG/NBD for how often and how "
        "long customers keep buying, Gamma-Gamma for how much they spend; the value of the "
        "next 12 months is discounted at 1 % a month."
    )
    part.heading("Top 10 customers by expected value")
    part.table(
        future.nlargest(10, "clv_12_months"),
        formats={
            "p_alive": _pct,
            "expected_purchases_52w": lambda v: f"{float(v):.1f}",
            "clv_12_months": _money,
        },
    )


def sales_forecast(page: Page, transactions: Transactions) -> None:
    """Add the sales forecast: monthly sales ahead, with 80 % and 95 % intervals."""
    part = page.section("Sales forecast", "forecast")
    date, amount = transactions.date, transactions.amount
    try:
        result = forecast_sales(
            transactions.frame,
            date=date,
            amount=amount,
            horizon=FORECAST_MONTHS,
            as_of=transactions.as_of,
        )
    except CRMError as exc:
        part.note(f"The sales could not be forecast: {exc}")
        return
    past = revenue_by_period(transactions.frame, date=date, amount=amount)["revenue"]
    past = past[pd.DatetimeIndex(past.index).to_period("M") <= result.last_period]
    model = result.models["model"].iloc[0]
    part.note(
        f"Monthly sales for the next {FORECAST_MONTHS} months from "
        f"{int(result.models['periods'].iloc[0])} months of history (model {model}, chosen "
        "automatically), with 80 % and 95 % prediction intervals."
        + (
            f" The incomplete month {result.incomplete_period} is left out."
            if result.incomplete_period is not None
            else ""
        )
    )
    part.figures((plot.forecast_chart(result, past), "Sales by month and the forecast"))
    table = result.forecast.copy()
    table.index = table.index.astype(str)
    part.table(table, formats=dict.fromkeys(table.columns, _money))


def pipeline(page: Page, deals: pd.DataFrame, model: StageModel | None, *, as_of: Any) -> None:
    """Add the pipeline: by stage, weighted and landing by month when a stage model is given."""
    part = page.section("Pipeline", "pipeline")
    if model is None:
        open_deals = deals[deals["stage"].isin(deals["stage"].dropna().unique())]
        by_stage = open_deals.groupby("stage", observed=True)["amount"].agg(["size", "sum"])
        part.note(
            "Deals by stage, unweighted. Give a stage model (--model FILE, e.g. written by "
            "'python -m crmcore forecast ... --save-model FILE') to weigh them by their odds "
            "of winning and to see when the revenue lands."
        )
        part.table(
            by_stage.rename(columns={"size": "deals", "sum": "amount"}),
            formats={"amount": _money},
        )
        return
    by_stage = pipeline_by_stage(deals, model)
    open_ = by_stage.loc[list(model.stages)]
    part.facts(
        {
            "open deals": f"{int(open_['count'].sum()):,}",
            "open pipeline": _money(open_["amount"].sum()),
            "expected (weighted)": _money(open_["expected_amount"].sum()),
            "as of": f"{pd.Timestamp(as_of):%Y-%m-%d}",
        }
    )
    part.heading("Weighted pipeline by stage")
    part.table(
        by_stage,
        formats={"amount": _money, "expected_amount": _money, "win_probability": _pct},
    )
    close = "close_date" if "close_date" in deals.columns else None
    schedule = close_schedule(deals, model, as_of=as_of, horizon=HORIZON, close_date=close)
    simulation = simulate_pipeline(
        deals, model, as_of=as_of, horizon=HORIZON, close_date=close, n_draws=DRAWS, seed=0
    )
    part.figures(
        (
            plot.landing_schedule(schedule, simulation),
            f"Expected revenue by landing month; band: P10-P90 of {DRAWS:,} simulations",
        )
    )
    if "forecast_category" in deals.columns:
        rollup = forecast_rollup(deals)
        part.heading("Forecast categories (cumulative roll-ups)")
        part.note(
            "Salesforce-style roll-ups: commit forecast = closed + commit, best case = commit "
            "forecast + best case; open pipeline = commit + best case + pipeline, so it leaves "
            "out the open deals in the Omitted category (shown as 'omitted')."
        )
        money = [c for c in rollup.columns if c != "count"]
        part.table(rollup, formats=dict.fromkeys(money, _money))


def team(page: Page, deals: pd.DataFrame, targets: pd.DataFrame | None) -> None:
    """Add team performance: win rates per person and, with targets, attainment."""
    part = page.section("Team performance", "team")
    rates = win_rate(deals, by="person")
    part.heading("Win rates (closed deals)")
    part.table(
        rates,
        formats={
            "win_rate_count": _pct,
            "win_rate_value": _pct,
            "won_amount": _money,
            "lost_amount": _money,
        },
    )
    if targets is None:
        part.note("Give --targets FILE to compare sales with targets.")
        return
    att = attainment(deals, targets, status="status", date="closed_at")
    per_person = att.groupby(level="person")[["target", "achieved"]].sum()
    per_person["attainment"] = per_person["achieved"] / per_person["target"].where(
        per_person["target"] > 0
    )
    part.heading("Attainment: won deals against targets")
    part.figures((plot.attainment_bars(att), "Achieved against target per person"))
    part.table(per_person, formats={"target": _money, "achieved": _money, "attainment": _pct})


def quotas(page: Page, targets: pd.DataFrame) -> None:
    """Add the quotas: the targets by person and period as a heat map, with totals."""
    part = page.section("Quotas", "quotas")
    period = "period" if "period" in targets.columns else "month"
    part.figures(
        (
            plot.quota_chart(targets, kind="heatmap", month=period, value="target"),
            "Target by person and period",
        )
    )
    totals = targets.groupby("person")["target"].agg(["sum", "mean", "size"])
    part.table(
        totals.rename(columns={"sum": "total", "mean": "per_period", "size": "periods"}),
        formats={"total": _money, "per_period": _money},
    )
