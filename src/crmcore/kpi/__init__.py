"""crmcore.kpi (being built; see the design's public surface)."""

from crmcore.kpi.levels import assign_levels, assign_levels_over_time
from crmcore.kpi.scorecard import Metric, Scorecard, explain_scorecard, score_scorecard

__all__: list[str] = [
    "Metric",
    "Scorecard",
    "assign_levels",
    "assign_levels_over_time",
    "explain_scorecard",
    "score_scorecard",
]
