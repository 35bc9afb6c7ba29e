"""KPI steps: a seven-metric scorecard by period and a tiered commission statement."""

from __future__ import annotations

from typing import Any

from _harness import Goal, Step

from steps._engines import crmcore, duckdb, frames_close, polars

KPI = "crmcore.kpi"


def card() -> Any:
    from crmcore.kpi import Metric, Scorecard

    return Scorecard(
        metrics=[
            Metric(column="attainment", weight=0.3, normalisation="target", target=1.0, cap=1.5),
            Metric(column="win_rate", weight=0.15),
            Metric(column="deal_size", weight=0.1, normalisation="percentile"),
            Metric(column="cycle_days", weight=0.1, direction="lower", normalisation="zscore"),
            Metric(column="activities", weight=0.15, normalisation="zscore"),
            Metric(column="feedback", weight=0.1, scale=(1, 5)),
            Metric(column="rating", weight=0.1, scale=(1, 5)),
        ]
    )


def plan() -> Any:
    from crmcore.kpi import CommissionPlan

    return CommissionPlan(
        tiers=[(0, 0.03), (50_000, 0.05), (100_000, 0.07)],
        decelerator=(10_000, 0.5),
        max_payout=20_000,
    )


def _crm_scorecard(team: Any) -> Any:
    from crmcore.kpi import score_scorecard

    return score_scorecard(team, card(), period_column="period")


def _crm_commission(deals: Any) -> Any:
    from crmcore.kpi import commission_statement

    return commission_statement(deals, plan(), cancelled_at="cancelled_at")


SCORECARD_SQL = """
WITH n AS (
  SELECT period, person,
    0.3 * least(attainment, 1.5)
    + 0.15 * (win_rate - min(win_rate) OVER w)
           / (max(win_rate) OVER w - min(win_rate) OVER w)
    + 0.1 * percent_rank() OVER (PARTITION BY period ORDER BY deal_size)
    - 0.1 * (cycle_days - avg(cycle_days) OVER w) / stddev_pop(cycle_days) OVER w
    + 0.15 * (activities - avg(activities) OVER w) / stddev_pop(activities) OVER w
    + 0.1 * (feedback - 1) / 4 + 0.1 * (rating - 1) / 4 AS total
  FROM t WINDOW w AS (PARTITION BY period))
SELECT period, person, total,
       rank() OVER (PARTITION BY period ORDER BY total DESC) AS rank
FROM n ORDER BY period, person
"""


def _polars_scorecard(pl: Any, df: Any) -> Any:
    def over(e: Any) -> Any:
        return e.over("period")

    c = pl.col
    total = (
        0.3 * pl.min_horizontal(c("attainment"), pl.lit(1.5))
        + 0.15
        * (c("win_rate") - over(c("win_rate").min()))
        / (over(c("win_rate").max()) - over(c("win_rate").min()))
        + 0.1 * (over(c("deal_size").rank("average")) - 1) / (over(pl.len()) - 1)
        - 0.1 * (c("cycle_days") - over(c("cycle_days").mean())) / over(c("cycle_days").std(0))
        + 0.15 * (c("activities") - over(c("activities").mean())) / over(c("activities").std(0))
        + 0.1 * (c("feedback") - 1) / 4
        + 0.1 * (c("rating") - 1) / 4
    )
    return (
        df.lazy()
        .select("period", "person", total.alias("total"))
        .with_columns(c("total").rank("min", descending=True).over("period").alias("rank"))
        .sort("period", "person")
        .collect()
    )


# The commission plan of plan() in SQL, in integer minor units exactly as CommissionPlan
# computes it (rates in parts per million, half-up rounding): marginal bands 0-50 000 at 3 %,
# 50 000-100 000 at 5 %, 7 % above; half of it while sales are below 10 000 (decelerator);
# at most 20 000 per person and month.
COMMISSION_SQL = """
CREATE MACRO cc(s) AS least(
    CASE WHEN s < 1000000
         THEN ((((least(s, 5000000) * 30000
                  + greatest(least(s, 10000000) - 5000000, 0) * 50000
                  + greatest(s - 10000000, 0) * 70000) + 500000) // 1000000) * 500000 + 500000)
              // 1000000
         ELSE ((least(s, 5000000) * 30000
                + greatest(least(s, 10000000) - 5000000, 0) * 50000
                + greatest(s - 10000000, 0) * 70000) + 500000) // 1000000
    END, 2000000);
"""

STATEMENT_SQL = """
WITH sale AS (
    SELECT person, opportunity_id, cancelled_at,
           date_trunc('month', closed_at) AS period,
           CAST(round(amount * 100) AS BIGINT) AS cents,
           sum(CAST(round(amount * 100) AS BIGINT)) OVER (
               PARTITION BY person, date_trunc('month', closed_at)
               ORDER BY closed_at, opportunity_id ROWS UNBOUNDED PRECEDING) AS cum
    FROM d),
line AS (
    SELECT person, period, cancelled_at, cents, cc(cum) - cc(cum - cents) AS commission,
           CASE WHEN cum >= 10000000 THEN 2 WHEN cum >= 5000000 THEN 1 ELSE 0 END AS tier
    FROM sale),
booked AS (
    SELECT person, period, 1 AS deal, cents, commission AS earned, 0 AS clawback, tier
    FROM line
    UNION ALL
    SELECT person, date_trunc('month', cancelled_at), 0, 0, 0, -commission, 0
    FROM line WHERE cancelled_at IS NOT NULL)
SELECT person, period, sum(deal) AS deals, sum(cents) AS sales_cents,
       sum(earned) AS earned_cents, sum(clawback) AS clawback_cents,
       sum(earned) + sum(clawback) AS payout_cents, max(tier) AS tier,
       CASE WHEN sum(cents) > 0 THEN sum(earned) / sum(cents) END AS effective_rate
FROM booked GROUP BY person, period ORDER BY person, period
"""


def _check_commission(ours: Any, theirs: Any, engine: str) -> None:
    columns = ["deals", "sales_cents", "tier", "earned_cents", "clawback_cents", "payout_cents"]
    frames_close(
        ours,
        theirs,
        key=["person", "period"],
        columns={c: c for c in [*columns, "effective_rate"]},
        atol=0,
        rtol=1e-12,
    )


def _check_scorecard(ours: Any, theirs: Any, engine: str) -> None:
    # DuckDB's percent_rank gives ties their lowest rank (crmcore and polars average them).
    frames_close(ours, theirs, key=["period", "person"], columns={"total": "total"}, atol=1e-3)


STEPS = [
    Step(
        "score_scorecard",
        "team",
        "people-periods (100 periods, 7 metrics)",
        (
            crmcore(_crm_scorecard, KPI),
            duckdb("t", SCORECARD_SQL),
            polars(_polars_scorecard),
        ),
        "the totals with per-period windows (min/max, percentile rank, mean/std), plus the "
        "rank within period; DuckDB's percent_rank gives ties their lowest rank (crmcore and "
        "polars average them), totals differ by < 1e-3",
        _check_scorecard,
        Goal(time=1.5),
        "kpi",
    ),
    Step(
        "commission_statement",
        "won_deals",
        "won deals (1 000 people, 12 months, 3 % clawed back)",
        (
            crmcore(_crm_commission, KPI),
            duckdb("d", STATEMENT_SQL, (COMMISSION_SQL,)),
        ),
        "the plan as a SQL macro in integer cents (marginal bands, decelerator, cap, half-up "
        "rounding), cumulative sales by a window over (closed_at, id), a reversing line per "
        "cancelled deal in its cancellation month; sums per person and month",
        _check_commission,
        Goal(time=1.5),
        "kpi",
    ),
]
