"""crmcore: CRM sales-management logic as a pure, tested, fast library.

Six business areas, one subpackage each:

- :mod:`crmcore.segmentation` — RFM and BTYD summaries, RFM scores and segments, ABC / ABC-XYZ
  classes, customer grades;
- :mod:`crmcore.clv` — customer futures: BG/NBD, Pareto/NBD and related models, P(alive),
  expected purchases, customer lifetime value, holdout checks and cohort retention;
- :mod:`crmcore.pipeline` — stage models, weighted pipelines, landing schedules, learned stage
  odds, Monte-Carlo ranges, split credit, campaign ROI, opportunity lifecycle;
- :mod:`crmcore.forecast` — sales forecasts from history with prediction intervals,
  rolling-origin backtests and seasonal weights for quotas;
- :mod:`crmcore.quota` — exact apportionment of targets across regions, people and months;
- :mod:`crmcore.kpi` — attainment, scorecards, levels, commissions and sales KPIs.

Shared: :mod:`crmcore.errors` (exceptions), :mod:`crmcore.money` (exact minor units),
:mod:`crmcore.privacy` (keyed pseudonyms and masks of personal data) and
:mod:`crmcore.datasets` (seeded synthetic data).

Examples
--------
>>> import crmcore
>>> isinstance(crmcore.__version__, str)
True
"""

from crmcore import (
    clv,
    datasets,
    errors,
    forecast,
    kpi,
    money,
    pipeline,
    privacy,
    quota,
    segmentation,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "clv",
    "datasets",
    "errors",
    "forecast",
    "kpi",
    "money",
    "pipeline",
    "privacy",
    "quota",
    "segmentation",
]
