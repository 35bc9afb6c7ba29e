"""The kpi and team-generator keywords renamed in crmcore 0.2 (docs/glossary.md).

Each old spelling still works for one release: same result, one DeprecationWarning naming the
new spelling. Where ``period=`` changed meaning (a column name before, the period code now) an
old ``period=<column>`` is refused with a ConfigError that explains the rename.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from crmcore import datasets
from crmcore.errors import ConfigError
from crmcore.kpi import (
    CommissionPlan,
    Metric,
    Scorecard,
    assign_levels,
    assign_levels_over_time,
    attainment,
    average_deal_size,
    commission_lines,
    commission_statement,
    explain_scorecard,
    kpi_table,
    performance_report,
    revenue_by_period,
    sales_cycle_length,
    score_scorecard,
    target_variance,
    win_rate,
)

DEALS = datasets.deals(80, n_people=3, seed=4)
WON = DEALS[DEALS["status"] == "won"]
TARGETS = datasets.targets(3, months=12, n_deals=80, seed=4)
TX = datasets.transactions(20, n_transactions=60, seed=4)
CARD = Scorecard(metrics=[Metric(column="attainment", weight=1, normalisation="target", target=1)])
KPIS = kpi_table(DEALS, TARGETS).reset_index().fillna({"attainment": 0.0})
SCORES = score_scorecard(KPIS, CARD, period_column="period")
PLAN = CommissionPlan(tiers=[(0, 0.04), (10_000, 0.06)])
ATT_PLAN = CommissionPlan(tiers=[(0, 0.04), (1.0, 0.06)], basis="attainment")
MONTHLY = TARGETS.rename(columns={"period": "month"})

Call = Callable[..., Any]
CASES: list[tuple[str, Call, tuple[Any, ...], dict[str, Any], dict[str, Any]]] = [
    ("win_rate", win_rate, (), {"deals": DEALS}, {"opportunities": DEALS}),
    ("win_rate", win_rate, (DEALS,), {"key": "opportunity_id"}, {"opportunity": "opportunity_id"}),
    (
        "win_rate",
        win_rate,
        (DEALS,),
        {"closed": "closed_at", "created": "created_at", "by": "period"},
        {"closed_at": "closed_at", "created_at": "created_at", "by": "period"},
    ),
    ("average_deal_size", average_deal_size, (DEALS,), {"closed": "closed_at"}, {}),
    ("sales_cycle_length", sales_cycle_length, (DEALS,), {"created": "created_at"}, {}),
    ("revenue_by_period", revenue_by_period, (TX,), {"key": "customer_id"}, {}),
    (
        "attainment",
        attainment,
        (DEALS, TARGETS),
        {"key": "opportunity_id", "date": "closed_at", "status": "status"},
        {"opportunity": "opportunity_id", "date": "closed_at", "status": "status"},
    ),
    (
        "target_variance",
        target_variance,
        (DEALS, TARGETS),
        {"key": None, "date": "closed_at", "status": "status"},
        {},
    ),
    ("kpi_table", kpi_table, (), {"deals": DEALS, "targets": TARGETS}, {}),
    ("kpi_table", kpi_table, (DEALS, TARGETS), {"deal": "opportunity_id"}, {}),
    ("commission_lines", commission_lines, (WON, PLAN), {"deal": "opportunity_id"}, {}),
    ("commission_statement", commission_statement, (WON, PLAN), {"freq": "Q"}, {"period": "Q"}),
    ("commission_statement", commission_statement, (), {"deals": WON, "plan": PLAN}, {}),
    ("score_scorecard", score_scorecard, (KPIS, CARD), {"period": "period"}, {}),
    ("explain_scorecard", explain_scorecard, (KPIS, CARD), {"period": "period"}, {}),
    ("performance_report", performance_report, (KPIS, CARD), {"period": "period"}, {}),
    ("assign_levels", assign_levels, (SCORES,), {"period": "period"}, {}),
    ("assign_levels_over_time", assign_levels_over_time, (SCORES,), {"period": "period"}, {}),
]
RENAMED = {
    "deals": "opportunities",
    "key": ("opportunity", "customer"),
    "deal": "opportunity",
    "closed": "closed_at",
    "created": "created_at",
    "freq": "period",
    "period": "period_column",
}


def _new_kwargs(func: Call, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    if new:
        return new
    out = {}
    for name, value in old.items():
        target = RENAMED.get(name, name)
        if isinstance(target, tuple):  # key= became opportunity= or customer=
            target = target[1] if func is revenue_by_period else target[0]
        out[target] = value
    return out


@pytest.mark.parametrize(("name", "func", "args", "old", "new"), CASES)
def test_old_spelling_warns_once_and_gives_the_same_result(name, func, args, old, new):
    want = func(*args, **_new_kwargs(func, old, new))
    with pytest.warns(DeprecationWarning, match=rf"{name}\(\w+=\.\.\.\) was renamed") as caught:
        got = func(*args, **old)
    assert len([w for w in caught if w.category is DeprecationWarning]) == len(
        [k for k in old if k in RENAMED]
    )
    pd.testing.assert_frame_equal(got, want)


def test_the_warning_points_at_the_callers_line():
    with pytest.warns(DeprecationWarning, match="was renamed") as caught:
        commission_statement(WON, PLAN, freq="Q")
    assert caught[0].filename == __file__


@pytest.mark.parametrize("func", [commission_lines, commission_statement])
def test_an_old_period_column_is_refused_with_the_new_spelling(func):
    # period="month" named the targets' column before 0.2; now period= is the period code
    with pytest.raises(
        ConfigError, match=r"period= is now the period code .* write period_column='month'$"
    ):
        func(WON, ATT_PLAN, targets=MONTHLY, period="month")
    with pytest.raises(ConfigError, match=r"write period_column='month', period='Q'$"):
        func(WON, ATT_PLAN, targets=MONTHLY, period="month", freq="Q")
    # the new spelling
    lines = func(WON, ATT_PLAN, targets=MONTHLY, period_column="month", period="M")
    assert len(lines)


def test_a_bad_period_that_is_no_column_is_a_plain_period_error():
    with pytest.raises(ConfigError, match=r"period='fortnight' is not a period"):
        commission_statement(WON, PLAN, period="fortnight")


def test_both_old_and_new_name_is_an_error():
    with pytest.raises(ConfigError, match="got both 'freq' and its new name 'period'"):
        commission_statement(WON, PLAN, freq="Q", period="Q")
    with pytest.raises(ConfigError, match="got both 'key' and its new name 'opportunity'"):
        win_rate(DEALS, key="opportunity_id", opportunity="opportunity_id")


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: datasets.team(**kw, seed=1),
        lambda **kw: datasets.deals(40, **kw, seed=1),
        lambda **kw: datasets.targets(**kw, months=2, seed=1),
        lambda **kw: datasets.activities(**kw, end="2024-01-31", seed=1),
        lambda **kw: datasets.feedback(**kw, months=2, seed=1),
    ],
)
def test_team_generators_take_n_reps_for_one_more_release(make):
    want = make(n_people=3)
    with pytest.warns(DeprecationWarning, match=r"\(n_reps=\.\.\.\) was renamed .*\(n_people="):
        got = make(n_reps=3)
    pd.testing.assert_frame_equal(got, want)
