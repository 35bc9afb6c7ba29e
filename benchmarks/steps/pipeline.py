"""Pipeline steps: the weighted pipeline, the landing schedule and the Monte Carlo simulation."""

from __future__ import annotations

from itertools import accumulate
from typing import Any

from _harness import Goal, Step
from _params import PIPELINE_AS_OF, PIPELINE_STAGES, SIM_STAGES

from steps._engines import crmcore, duckdb, frames_close, polars

PIPE = "crmcore.pipeline"
RATES = (0.5, 0.6, 0.7, 0.8)
DAYS = (30, 20, 20, 15)
SIM_RATES = (0.5, 0.8, 0.9)
SIM_DAYS = (60, 30, 30)
SIM_DRAWS = 1_000


def _model(stages: tuple[str, ...], rates: tuple[float, ...], days: tuple[int, ...]) -> Any:
    from crmcore.pipeline import StageModel

    return StageModel.from_conversion_rates(list(stages), list(rates), list(days))


def _stage_rows() -> list[tuple[str, float, int]]:
    """(stage, P(win), days to close) as StageModel computes them: products and sums to the end."""
    probs = list(accumulate(reversed(RATES), lambda a, b: a * b))[::-1]
    days = list(accumulate(reversed(DAYS)))[::-1]
    return list(zip(PIPELINE_STAGES, probs, days, strict=True))


STAGE_VALUES = ", ".join(f"('{s}', {p!r}, {d})" for s, p, d in _stage_rows())
STAGE_TABLE = f"CREATE TABLE p AS SELECT * FROM (VALUES {STAGE_VALUES}) AS t(stage, p, days)"


def _crm_weighted(deals: Any) -> Any:
    from crmcore.pipeline import weighted_pipeline

    return weighted_pipeline(deals, _model(PIPELINE_STAGES, RATES, DAYS))


def _crm_schedule(deals: Any) -> Any:
    from crmcore.pipeline import close_schedule

    return close_schedule(
        deals, _model(PIPELINE_STAGES, RATES, DAYS), as_of=PIPELINE_AS_OF, close_date="close_date"
    )


def _crm_simulate(deals: Any) -> Any:
    from crmcore.pipeline import simulate_pipeline

    model = _model(SIM_STAGES, SIM_RATES, SIM_DAYS)
    return simulate_pipeline(deals, model, as_of=PIPELINE_AS_OF, n_draws=SIM_DRAWS, seed=1)


WEIGHTED_SQL = """
SELECT d.opportunity_id, d.stage, d.amount, p.p AS win_probability,
       round(d.amount * p.p, 2) AS expected_amount
FROM d JOIN p USING (stage) ORDER BY opportunity_id
"""

SCHEDULE_SQL = f"""
WITH l AS (
    SELECT d.amount, round(d.amount * p.p, 2) AS expected,
           coalesce(CAST(d.close_date AS DATE),
                    DATE '{PIPELINE_AS_OF}' + CAST(p.days AS INTEGER)) AS land
    FROM d JOIN p USING (stage))
SELECT date_trunc('month', greatest(land, DATE '{PIPELINE_AS_OF}')) AS period,
       count(*) AS count, sum(amount) AS amount,
       sum(expected) AS expected_amount,
       count(*) FILTER (WHERE land < DATE '{PIPELINE_AS_OF}') AS overdue
FROM l GROUP BY period ORDER BY period
"""


def _polars_stages(pl: Any) -> Any:
    rows = _stage_rows()
    return pl.DataFrame(
        {
            "stage": [r[0] for r in rows],
            "p": [r[1] for r in rows],
            "days": [r[2] for r in rows],
        }
    ).lazy()


def _polars_weighted(pl: Any, df: Any) -> Any:
    return (
        df.lazy()
        .join(_polars_stages(pl), on="stage")
        .select(
            "opportunity_id",
            "stage",
            "amount",
            pl.col("p").alias("win_probability"),
            (pl.col("amount") * pl.col("p")).round(2).alias("expected_amount"),
        )
        .sort("opportunity_id")
        .collect()
    )


def _polars_schedule(pl: Any, df: Any) -> Any:
    import datetime as dt

    start = pl.lit(dt.date.fromisoformat(PIPELINE_AS_OF))
    land = pl.coalesce(
        pl.col("close_date").cast(pl.Date),
        start + pl.duration(days=pl.col("days").cast(pl.Int64)),
    )
    return (
        df.lazy()
        .join(_polars_stages(pl), on="stage")
        .with_columns(land.alias("land"))
        .group_by(pl.max_horizontal("land", start).dt.truncate("1mo").alias("period"))
        .agg(
            pl.len().alias("count"),
            pl.col("amount").sum(),
            (pl.col("amount") * pl.col("p")).round(2).sum().alias("expected_amount"),
            (pl.col("land") < start).sum().alias("overdue"),
        )
        .sort("period")
        .collect()
    )


def _check_weighted(ours: Any, theirs: Any, engine: str) -> None:
    frames_close(
        ours,
        theirs,
        key="opportunity_id",
        columns={"win_probability": "win_probability", "expected_amount": "expected_amount"},
    )


def _check_schedule(ours: Any, theirs: Any, engine: str) -> None:
    # The reference leaves out empty months; crmcore fills them with zeros.
    table = ours.table
    frames_close(
        table[table["count"] > 0],
        theirs,
        key="period",
        columns={c: c for c in ("count", "amount", "expected_amount", "overdue")},
        atol=1e-3,
    )


STAGE_ROWS = "open deals (4 stages, 15 % without close date, 10 % overdue)"
GOAL = Goal(time=1.5)
SETUP = (STAGE_TABLE,)

STEPS = [
    Step(
        "weighted_pipeline",
        "deals",
        STAGE_ROWS,
        (
            crmcore(_crm_weighted, PIPE),
            duckdb("d", WEIGHTED_SQL, SETUP),
            polars(_polars_weighted),
        ),
        "join with the stage probabilities, amount x p rounded to cents (float, not exact "
        "cents), sorted by id",
        _check_weighted,
        GOAL,
        "pipeline",
    ),
    Step(
        "close_schedule",
        "deals",
        STAGE_ROWS,
        (
            crmcore(_crm_schedule, PIPE),
            duckdb("d", SCHEDULE_SQL, SETUP),
            polars(_polars_schedule),
        ),
        "landing = close date or as_of + days to close, overdue -> as_of, group by month "
        "(float sums, no empty months filled)",
        _check_schedule,
        GOAL,
        "pipeline",
    ),
    Step(
        "simulate_pipeline",
        "open_deals",
        f"rows/100 open deals x {SIM_DRAWS:,} draws",
        (crmcore(_crm_simulate, PIPE),),
        "Monte Carlo; no reference engine",
        area="pipeline",
    ),
]
