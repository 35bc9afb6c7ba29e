"""Sales pipeline: stage models, weighted funnels, landing schedules, forecasts, credit, campaigns.

Examples
--------
>>> from crmcore.pipeline import StageModel
>>> StageModel.from_conversion_rates(["a", "b"], [0.5, 0.8], [30, 10]).win_probabilities
(0.4, 0.8)
"""

from crmcore.pipeline.campaigns import campaign_roi
from crmcore.pipeline.credit import credit_totals, split_credit
from crmcore.pipeline.funnel import pipeline_by_stage, weighted_pipeline
from crmcore.pipeline.leads import (
    LeadScoring,
    explain_leads,
    fit_lead_scoring,
    lead_score_calibration,
    score_leads,
)
from crmcore.pipeline.learn import estimate_stage_model, funnel_conversion
from crmcore.pipeline.lifecycle import Lifecycle, apply_transition, check_history, current_states
from crmcore.pipeline.rollup import (
    forecast_rollup,
    pipeline_coverage,
    pipeline_waterfall,
    sales_velocity,
)
from crmcore.pipeline.simulate import Percentiles, PipelineSimulation, simulate_pipeline
from crmcore.pipeline.stages import StageModel
from crmcore.pipeline.timing import CloseSchedule, close_schedule, landing_dates

__all__ = [
    "CloseSchedule",
    "LeadScoring",
    "Lifecycle",
    "Percentiles",
    "PipelineSimulation",
    "StageModel",
    "apply_transition",
    "campaign_roi",
    "check_history",
    "close_schedule",
    "credit_totals",
    "current_states",
    "estimate_stage_model",
    "explain_leads",
    "fit_lead_scoring",
    "forecast_rollup",
    "funnel_conversion",
    "landing_dates",
    "lead_score_calibration",
    "pipeline_by_stage",
    "pipeline_coverage",
    "pipeline_waterfall",
    "sales_velocity",
    "score_leads",
    "simulate_pipeline",
    "split_credit",
    "weighted_pipeline",
]
