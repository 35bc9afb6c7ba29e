"""Team part of the demo report: scorecard, ranks, levels and commissions on a synthetic team."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmcore import datasets
from crmcore.kpi import (
    CommissionPlan,
    Metric,
    Scorecard,
    commission_statement,
    kpi_table,
    performance_report,
)

__all__ = ["CARD", "PLAN", "section"]

N_REPS = 8

#: The demo scorecard: results first, then activity and the qualitative inputs on 1..5 scales.
CARD = Scorecard(
    metrics=[
        Metric(column="attainment", weight=0.4, normalisation="target", target=1.0, cap=1.5),
        Metric(column="win_rate", weight=0.15),
        Metric(column="average_deal_size", weight=0.1, normalisation="percentile"),
        Metric(column="cycle_days", weight=0.1, direction="lower", normalisation="percentile"),
        Metric(column="activities", weight=0.05),
        Metric(column="feedback", weight=0.1, scale=(1, 5)),
        Metric(column="manager_rating", weight=0.1, scale=(1, 5)),
    ]
)

#: The demo commission plan: marginal tiers on monthly attainment, a decelerator, a cap.
PLAN = CommissionPlan(
    tiers=[(0.0, 0.03), (1.0, 0.05), (1.2, 0.07)],
    mode="marginal",
    basis="attainment",
    decelerator=(0.5, 0.5),
    max_payout=20_000,
)


def _cancellations(won: pd.DataFrame, seed: int) -> pd.Series:
    """Cancel about 3 % of won deals 10 to 60 days after they closed (seeded)."""
    rng = np.random.default_rng([seed, 505])
    hit = rng.random(len(won)) < 0.03
    delay = pd.to_timedelta(rng.integers(10, 61, size=len(won)), unit="D")
    return (won["closed_at"] + delay).where(hit)


def section(seed: int = 0) -> str:
    """Return the team section of the demo report as text.

    Examples
    --------
    >>> from crmcore._demo.kpi import section
    >>> text = section(1)
    >>> "Team scorecard" in text and "Commission statement" in text
    True
    """
    deals = datasets.deals(900, n_people=N_REPS, seed=seed)
    targets = datasets.targets(N_REPS, months=12, n_deals=900, seed=seed)
    feedback = datasets.feedback(N_REPS, months=12, seed=seed)
    activities = datasets.activities(N_REPS, per_rep_per_day=2.0, seed=seed)
    team = datasets.team(N_REPS, seed=seed).set_index("person")

    kpis = kpi_table(deals, targets, feedback=feedback, activities=activities)
    report = performance_report(kpis, CARD, promote_after=2, demote_after=2, missing="zero")
    periods = report.index.get_level_values("period")
    last = periods.max()
    month = report.loc[periods == last].droplevel("period").sort_values(["rank", "score"])
    shown = pd.DataFrame(
        {
            "name": team["name"].reindex(month.index),
            "attainment": month["attainment"].map(lambda v: f"{v:.0%}"),
            "win_rate": month["win_rate"].map(lambda v: "-" if pd.isna(v) else f"{v:.0%}"),
            "feedback": month["feedback"].map(lambda v: f"{v:.1f}"),
            "score": month["score"].map(lambda v: f"{v:.3f}"),
            "change": month["score_change"].map(lambda v: "-" if pd.isna(v) else f"{v:+.3f}"),
            "rank": month["rank"],
            "level": month["level"].astype(str),
        }
    )
    year = report.groupby(level="person", observed=True)["level"].last()
    moves = report["level_change"].fillna(0)
    lines = [
        f"Team scorecard for {last:%B %Y}, {N_REPS} reps. Weights: attainment 40 %, win rate 15 %,",
        "deal size 10 %, cycle time 10 %, activity 5 %, customer feedback 10 %, manager rating",
        "10 %. Levels: junior < 0.5 <= mid < 0.8 <= senior, changed only after 2 months in a row.",
        shown.to_string(),
        "",
        f"Level moves over the year: {int((moves > 0).sum())} promotions, "
        f"{int((moves < 0).sum())} demotions; year-end levels: "
        + ", ".join(f"{lv} {n}" for lv, n in year.value_counts().sort_index().items())
        + ".",
        "",
    ]

    won = deals[deals["status"] == "won"].copy()
    won["cancelled_at"] = _cancellations(won, seed)
    statement = commission_statement(won, PLAN, targets=targets, cancelled_at="cancelled_at")
    quarter = statement[
        statement.index.get_level_values("period") >= last - pd.DateOffset(months=2)
    ]
    per_person = quarter.groupby(level="person").agg(
        sales=("sales_cents", "sum"),
        earned=("earned_cents", "sum"),
        clawback=("clawback_cents", "sum"),
        payout=("payout_cents", "sum"),
        best_tier=("tier", "max"),
    )
    money = {c: (lambda v: f"{v / 100:,.2f}") for c in ("sales", "earned", "clawback", "payout")}
    total = int(statement["payout_cents"].sum())
    lines += [
        f"Commission statement, the quarter to {last:%B %Y}. Marginal tiers on monthly",
        "attainment: 3 % up to target, 5 % to 120 %, 7 % above; half rate while below 50 %",
        "(paid in full once reached); at most 20,000.00 a month; cancelled deals are clawed",
        "back in the month they are cancelled (amounts in currency units):",
        per_person.to_string(formatters=money),
        "",
        (
            f"All periods: {int(statement['deals'].sum())} won deals, payout {total / 100:,.2f} "
            f"after clawing back {-int(statement['clawback_cents'].sum()) / 100:,.2f} over "
            f"{int((statement['clawback_cents'] < 0).sum())} person-months."
        ),
        "Every figure is whole cents; the per-deal lines add up exactly to these totals.",
    ]
    return "\n".join(lines)
