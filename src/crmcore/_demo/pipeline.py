"""Pipeline part of the demo report: weighted pipeline, landing schedule, forecast categories."""

from __future__ import annotations

import pandas as pd

from crmcore.datasets import opportunities
from crmcore.pipeline import (
    StageModel,
    close_schedule,
    forecast_rollup,
    pipeline_by_stage,
    simulate_pipeline,
)

__all__ = ["section"]

AS_OF = "2025-01-01"


def _money(frame: pd.DataFrame) -> str:
    formats = {
        col: (lambda v: f"{v:.2f}") if col == "win_probability" else (lambda v: f"{v:,.0f}")
        for col in frame.columns
        if col != "count"
    }
    return frame.to_string(formatters=formats)


def section(seed: int = 0) -> str:
    """Return the pipeline section of the demo report as text.

    Examples
    --------
    >>> from crmcore._demo.pipeline import section
    >>> "Weighted pipeline by stage" in section(1)
    True
    """
    deals = opportunities(400, seed=seed, as_of=AS_OF)
    model = StageModel.from_conversion_rates(
        ["prospect", "qualification", "proposal", "negotiation"],
        [0.5, 0.6, 0.7, 0.8],
        [30, 20, 20, 15],
    )
    lines: list[str] = []
    by_stage = pipeline_by_stage(deals, model)
    open_ = by_stage.loc[list(model.stages)]
    lines += [
        f"{len(deals)} deals as of {AS_OF}; stage odds from conversion rates 50/60/70/80 %.",
        "",
        "Weighted pipeline by stage (won at full value, lost at zero):",
        _money(by_stage),
        (
            f"Open pipeline {open_['amount'].sum():,.0f}, "
            f"expected {open_['expected_amount'].sum():,.0f}."
        ),
        "",
    ]
    schedule = close_schedule(deals, model, as_of=AS_OF, close_date="close_date")
    sim = simulate_pipeline(
        deals, model, as_of=AS_OF, n_draws=2000, seed=seed, close_date="close_date"
    )
    ranges = sim.table[["p10", "p50", "p90"]].reindex(schedule.table.index).fillna(0.0)
    table = schedule.table[["count", "expected_amount"]].join(ranges).head(6)
    table.index = pd.DatetimeIndex(table.index).strftime("%Y-%m")
    lines += [
        "Landing schedule by month (own close date, else as_of + stage days to close;",
        "P10/P50/P90 from 2 000 Monte-Carlo draws with exponential times to close):",
        _money(table),
        (
            f"{schedule.overdue} open deals are overdue and land in the as_of month "
            f"(counted, not dropped); {schedule.excluded_won_before} deals won "
            "before January are history."
        ),
        "",
    ]
    rollup = forecast_rollup(deals)
    cats = rollup.loc["total"]
    lines += [
        "Forecast categories (Salesforce cumulative roll-ups):",
        f"  Closed          {cats['closed']:>14,.0f}",
        f"  Commit forecast {cats['commit_forecast']:>14,.0f}   (closed + commit)",
        f"  Best case       {cats['best_case_forecast']:>14,.0f}   (closed + commit + best case)",
        f"  Open pipeline   {cats['open_pipeline']:>14,.0f}   (commit + best case + pipeline)",
    ]
    return "\n".join(lines)
