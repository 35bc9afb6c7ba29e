"""Pipeline part of the demo report: weighted pipeline, landing schedule, forecast categories."""

from __future__ import annotations

from crmcore._demo.tables import format_table
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
    all_open = float(open_["amount"].sum())
    lines += [
        f"{len(deals)} deals as of {AS_OF}; stage odds from conversion rates 50/60/70/80 %.",
        "",
        "Weighted pipeline by stage (won at full value, lost at zero):",
        format_table(by_stage),
        (f"All open deals {all_open:,.2f}, expected {open_['expected_amount'].sum():,.2f}."),
        "",
    ]
    schedule = close_schedule(deals, model, as_of=AS_OF, close_date="close_date")
    sim = simulate_pipeline(
        deals, model, as_of=AS_OF, n_draws=2000, seed=seed, close_date="close_date"
    )
    ranges = sim.table[["p10", "p50", "p90"]].reindex(schedule.table.index).fillna(0.0)
    table = schedule.table[["count", "expected_amount"]].join(ranges).head(6)
    lines += [
        "Landing schedule by month (own close date, else as_of + stage days to close;",
        "P10/P50/P90 from 2 000 Monte-Carlo draws with exponential times to close):",
        format_table(table, period="M"),
        (
            f"{schedule.overdue} open deals are overdue and land in the as_of month "
            f"(counted, not dropped); {schedule.excluded_won_before} deals won "
            "before January are history."
        ),
        "",
    ]
    rollup = forecast_rollup(deals)
    cats = rollup.loc["total"]
    omitted_open = all_open - float(cats["open_pipeline"])  # type: ignore[arg-type]  # a number
    lines += [
        "Forecast categories (Salesforce cumulative roll-ups):",
        f"  Closed          {cats['closed']:>14,.2f}",
        f"  Commit forecast {cats['commit_forecast']:>14,.2f}   (closed + commit)",
        f"  Best case       {cats['best_case_forecast']:>14,.2f}   (closed + commit + best case)",
        f"  Open pipeline   {cats['open_pipeline']:>14,.2f}   (commit + best case + pipeline)",
        f"  Omitted (open)  {omitted_open:>14,.2f}   (open deals kept out of the forecast)",
        f"  All open deals  {all_open:>14,.2f}   (open pipeline + omitted open deals)",
    ]
    return "\n".join(lines)
