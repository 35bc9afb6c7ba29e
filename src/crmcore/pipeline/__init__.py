"""Sales pipeline: stage models, weighted funnels, landing schedules, forecasts, credit, campaigns.

Examples
--------
>>> from crmcore.pipeline import StageModel
>>> StageModel.from_conversion_rates(["a", "b"], [0.5, 0.8], [30, 10]).win_probabilities
(0.4, 0.8)
"""

from crmcore.pipeline.stages import StageModel

__all__ = ["StageModel"]
