"""Specs of crmcore.quota and crmcore.kpi."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from catalogue import checks as c
from catalogue import data as d
from catalogue.model import Expect, Kind, Spec
from crmcore import kpi, money, quota

A, ID, K, L, M, D, MI = (
    Kind.AMOUNT,
    Kind.ID,
    Kind.KEY,
    Kind.LABEL,
    Kind.MEASURE,
    Kind.DATE,
    Kind.MINOR,
)


def _a(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


def _weights() -> pd.Series:
    return pd.Series([30.0, 10.0, 60.0, 5.0, 1.0, 0.5, 12.0], name="weight")


def _won(frame: pd.DataFrame) -> Any:
    return frame["status"].astype(object) == "won"


def _shares(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    v = np.asarray(result, dtype=float)
    assert (v >= 0).all(), f"negative weights: {v}"
    assert np.isclose(v.sum(), 1.0), f"weights are not shares summing to 1: {v}"


def _quota_moved(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    want = sum(int(v) for v in args[0]["quota_cents"].astype(object))
    got = sum(int(v) for v in result["quota_cents"].astype(object))
    assert got == want, f"quotas total {got} after the moves, {want} before"


def _sales_cents(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    cents = money.to_minor_units(args[0]["amount"].astype(float))
    want = sum(int(v) for v in np.asarray(cents).tolist())
    got = sum(int(v) for v in result["sales_cents"].astype(object))
    assert got == want, f"sales_cents total {got}, deals {want}"


def _levels_history() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person": np.repeat(["ann", "bob", "cid"], 4),
            "period": np.tile([1, 2, 3, 4], 3),
            "total": np.linspace(0.1, 0.95, 12)[np.random.default_rng(3).permutation(12)],
        }
    )


def _kpis() -> pd.DataFrame:
    return kpi.kpi_table(d.deals(), d.targets()).reset_index()


def _report_card() -> kpi.Scorecard:
    return kpi.Scorecard(
        metrics=[
            kpi.Metric(column="attainment", weight=0.6, normalisation="target", target=1),
            kpi.Metric(column="deals_won", weight=0.4),
        ]
    )


DEALS_ACT = {"person": ID, "closed_at": D, "amount": A, "status": L}
TARGETS = {"person": ID, "period": D, "target": A}

QUOTA = [
    Spec(
        "quota.apportion",
        quota.apportion,
        lambda: _a(1000, _weights()),
        {1: {None: M}},
        {0: Kind.TOTAL},
        check=c.all_of(c.sums_to(0), c.nonnegative(None)),
        order_independent=False,  # documented: ties go to the first row
    ),
    *[
        Spec(
            f"quota.apportion[{method}]",
            quota.apportion,
            lambda method=method: _a(1000, _weights(), method),
            {1: {None: M}},
            {0: Kind.TOTAL},
            check=c.all_of(c.sums_to(0), c.nonnegative(None)),
            order_independent=False,  # documented: ties go to the first row
        )
        for method in ("dhondt", "webster", "huntington_hill", "adams")
    ],
    Spec(
        "quota.seasonal_split",
        quota.seasonal_split,
        lambda: _a(100_000, pd.Series([20.0, 25.0, 25.0, 30.0], index=["Q1", "Q2", "Q3", "Q4"])),
        {1: {None: M}},
        {0: Kind.TOTAL},
        check=c.sums_to(0),
        keeps_index=True,
    ),
    Spec(
        "quota.to_minor_units",
        quota.to_minor_units,
        lambda: _a(pd.Series([12.34, 0.005, 99.99, 1500.0, 0.1, 7.25], name="amount")),
        {0: {None: A}},
        keeps_index=True,
    ),
    Spec(
        "quota.from_minor_units",
        quota.from_minor_units,
        lambda: _a(pd.Series(np.array([1234, 5, 9999, 150000, 10, 725], dtype=np.int64))),
        {0: {None: MI}},
        keeps_index=True,
    ),
    Spec(
        "quota.canonical_method",
        quota.canonical_method,
        lambda: _a("hamilton"),
        {},
        {0: Kind.LABEL},
        overrides={"scalar_case:0:*": (Expect.ANY, "documented: method names ignore case")},
    ),
    Spec(
        "quota.allocate",
        quota.allocate,
        lambda: _a(d.people(), 1_000_000),
        {0: {"person": K, "weight": M}},
        {1: Kind.TOTAL},
        check=c.all_of(c.sums_to(1, name="quota_cents"), c.rows_equal(0), c.finite("share")),
    ),
    Spec(
        "quota.build_plan",
        quota.build_plan,
        lambda: _a(d.people(), 1_000_000, distribution=[20, 30, 50]),
        {0: {"region": ID, "person": K, "weight": M}},
        {1: Kind.TOTAL},
        check=c.sums_to(1, "table", "quota_cents"),
    ),
    Spec(
        "quota.history_weights",
        quota.history_weights,
        lambda: _a(d.deals()[["person", "amount"]], blend=0.0),
        {0: {"person": ID, "amount": A}},
        {"blend": Kind.REAL},
        check=_shares,
    ),
    Spec(
        "quota.plan_pivot",
        quota.plan_pivot,
        lambda: _a(d.plan_table()),
        {0: {"person": ID, "month": ID, "quota_cents": MI}},
        check=lambda a, k, r: _pivot_total(a[0], r),
        sort_columns=True,  # documented: months keep the order in which they first appear
    ),
    Spec(
        "quota.potential_weights",
        quota.potential_weights,
        lambda: _a(d.accounts()),
        {0: {"person": ID, "grade": L}},
    ),
    Spec(
        "quota.ramp_factors",
        quota.ramp_factors,
        lambda: _a(d.people(), pd.period_range("2025-01", periods=6, freq="M")),
        {0: {"person": K, "start": D}},
        check=lambda a, k, r: c.in_range(None, 0.0, 1.0)(a, k, pd.Series(r.to_numpy().ravel())),
        shift_dates=False,
    ),
    Spec(
        "quota.reassign_accounts",
        quota.reassign_accounts,
        lambda: _a(d.quotas(), d.accounts(), {1: "P1", 2: "P3", 7: "P0"}),
        {0: {"quota_cents": MI}, 1: {"account_id": K, "person": ID, "weight": M}},
        check=_quota_moved,
    ),
]


def _pivot_total(table: pd.DataFrame, result: pd.DataFrame) -> None:
    want = sum(int(v) for v in table["quota_cents"].astype(object))
    got = int(result.loc["total", "total"])
    assert got == want, f"the pivot's grand total is {got}, the plan's {want}"


KPI = [
    Spec(
        "kpi.attainment",
        kpi.attainment,
        lambda: _a(d.deals(), d.targets(), date="closed_at", status="status"),
        {0: DEALS_ACT, 1: TARGETS},
        nulls_ok=frozenset({(0, "closed_at")}),
        check=c.all_of(c.total_matches("achieved", 0, "amount", where=_won), c.finite("achieved")),
    ),
    Spec(
        "kpi.target_variance",
        kpi.target_variance,
        lambda: _a(d.deals(), d.targets(), date="closed_at", status="status"),
        {0: DEALS_ACT, 1: TARGETS},
        nulls_ok=frozenset({(0, "closed_at")}),
        check=c.all_of(c.total_matches("achieved", 0, "amount", where=_won), c.finite("achieved")),
    ),
    Spec(
        "kpi.average_deal_size",
        kpi.average_deal_size,
        lambda: _a(d.deals(), by=["person", "period"]),
        {0: {"status": L, "amount": A, "closed_at": D, "person": ID}},
        nulls_ok=frozenset({(0, "closed_at")}),
        check=c.all_of(
            c.total_matches("total", 0, "amount", where=_won),
            c.count_total("count", 0, where=_won),
            c.finite("total"),
            c.finite("mean"),
            c.finite("median"),
        ),
    ),
    Spec(
        "kpi.win_rate",
        kpi.win_rate,
        lambda: _a(d.deals(), by=["person", "period"]),
        {0: {"status": L, "person": ID, "closed_at": D, "created_at": D, "amount": A}},
        # documented: closed_at is not read for open deals, created_at only for open deals
        nulls_ok=frozenset({(0, "closed_at"), (0, "created_at")}),
        check=c.all_of(
            c.in_range("win_rate_count", 0.0, 1.0),
            c.in_range("win_rate_value", 0.0, 1.0),
            c.count_total("won", 0, where=_won),
            c.finite("won_amount"),
            c.finite("lost_amount"),
        ),
    ),
    Spec(
        "kpi.sales_cycle_length",
        kpi.sales_cycle_length,
        lambda: _a(d.deals(), by="person"),
        {0: {"created_at": D, "closed_at": D, "status": L, "person": ID}},
        nulls_ok=frozenset({(0, "closed_at")}),
        check=c.nonnegative("min"),
    ),
    Spec(
        "kpi.activity_counts",
        kpi.activity_counts,
        lambda: _a(d.activities(), by=["person", "period"]),
        {0: {"person": ID, "kind": L, "date": D}},
        check=c.count_total("total", 0),
    ),
    Spec(
        "kpi.assign_levels",
        kpi.assign_levels,
        lambda: _a(kpi.score_scorecard(d.team_scores(), d.card())),
        {0: {"total": M}},
        keeps_index=True,
        check=c.rows_equal(0),
    ),
    Spec(
        "kpi.assign_levels_over_time",
        kpi.assign_levels_over_time,
        lambda: _a(_levels_history(), promote_after=2),
        {0: {"person": ID, "period": ID, "total": M}},
        {"promote_after": Kind.COUNT},
        check=c.rows_equal(0),
    ),
    Spec(
        "kpi.commission_lines",
        kpi.commission_lines,
        lambda: _a(d.won(), d.plan()),
        {0: {"person": ID, "opportunity_id": K, "closed_at": D, "amount": A}},
    ),
    Spec(
        "kpi.commission_statement",
        kpi.commission_statement,
        lambda: _a(d.won(), d.plan()),
        {0: {"person": ID, "opportunity_id": K, "closed_at": D, "amount": A}},
        check=_sales_cents,
    ),
    Spec(
        "kpi.explain_scorecard",
        kpi.explain_scorecard,
        lambda: _a(d.team_scores(), d.card()),
        {0: {"person": K, "revenue": M, "cycle_days": M, "rating": M}},
    ),
    Spec(
        "kpi.score_scorecard",
        kpi.score_scorecard,
        lambda: _a(d.team_scores(), d.card()),
        {0: {"person": K, "revenue": M, "cycle_days": M, "rating": M}},
        check=c.all_of(c.rows_equal(0), c.in_range("rank", 1, 8)),
    ),
    Spec(
        "kpi.kpi_table",
        kpi.kpi_table,
        lambda: _a(d.deals(), d.targets(), feedback=d.feedback(), activities=d.activities()),
        {
            0: {"person": ID, "status": L, "amount": A, "created_at": D, "closed_at": D},
            1: TARGETS,
            "feedback": {"person": ID, "period": D, "feedback": M, "manager_rating": M},
            "activities": {"person": ID, "date": D, "kind": L},
        },
        nulls_ok=frozenset(
            {(0, "closed_at"), ("feedback", "feedback"), ("feedback", "manager_rating")}
        ),  # documented: feedback scores are averaged where present
        check=c.all_of(c.total_matches("revenue", 0, "amount", where=_won), c.finite("revenue")),
    ),
    Spec(
        "kpi.new_customers",
        kpi.new_customers,
        lambda: _a(d.tx()),
        {0: {"customer_id": ID, "date": D}},
        check=lambda a, k, r: _new_total(a[0], r),
    ),
    Spec(
        "kpi.performance_report",
        kpi.performance_report,
        lambda: _a(_kpis(), _report_card(), missing="zero"),
        {0: {"person": ID, "period": ID, "attainment": M, "deals_won": M}},
        nulls_ok=frozenset({(0, "attainment"), (0, "deals_won")}),
    ),
    Spec(
        "kpi.retention",
        kpi.retention,
        lambda: _a(d.tx(), period_a="2024-01", period_b="2024-02"),
        {0: {"customer_id": ID, "date": D}},
        {"period_a": Kind.WHEN, "period_b": Kind.WHEN},
        check=c.in_range("retention_rate", 0.0, 1.0),
    ),
    Spec(
        "kpi.revenue_by_period",
        kpi.revenue_by_period,
        lambda: _a(d.tx()),
        {0: {"date": D, "amount": A}},
        check=c.all_of(
            c.total_matches("revenue", 0, "amount"),
            c.count_total("transactions", 0),
            c.finite("revenue"),
        ),
    ),
    Spec(
        "kpi.Metric",
        kpi.Metric,
        lambda: _a(column="revenue", weight=0.5, normalisation="target", target=5000.0, cap=1.5),
        {},
        {"weight": Kind.REAL, "target": Kind.REAL, "cap": Kind.REAL},
    ),
    Spec(
        "kpi.Scorecard",
        kpi.Scorecard,
        lambda: _a(metrics=d.card().metrics),
        {},
    ),
    Spec(
        "kpi.CommissionPlan",
        kpi.CommissionPlan,
        lambda: _a(
            tiers=[(0, 0.04), (5_000, 0.06), (10_000, 0.08)], max_payout=50_000.0, minimum=0.0
        ),
        {},
        {"max_payout": Kind.REAL, "minimum": Kind.REAL},
    ),
]


def _new_total(tx: pd.DataFrame, result: pd.DataFrame) -> None:
    want = tx["customer_id"].nunique()
    got = int(result["new_customers"].sum())
    assert got == want, f"{got} new customers, the input has {want} customers"
