"""Charts of crmcore results (optional extra ``crmcore[plot]``, matplotlib).

Every function takes the frame a crmcore function returned and returns a new
:class:`matplotlib.figure.Figure` built with ``Figure()`` directly, not ``pyplot``: nothing global
is touched, nothing is shown or saved. Save it with ``fig.savefig("chart.png")`` or let a
notebook display it. Pass ``ax=`` to draw into an existing Axes instead (the function then
returns that Axes' figure). matplotlib is imported only when a chart is drawn, so importing
this module works without it; drawing a chart without it raises
:class:`~crmcore.errors.MissingDependencyError` with the install hint.

The core never imports this module.

Examples
--------
>>> import pandas as pd
>>> from crmcore.plot import pareto_curve
>>> fig = pareto_curve(pd.Series([50, 20, 10, 8, 5, 4, 3]))
>>> fig.axes[0].get_ylabel()
'cumulative share of value'
"""

from crmcore.plot.clv import cohort_heatmap, holdout_chart
from crmcore.plot.forecast import forecast_chart
from crmcore.plot.kpi import attainment_bars, scorecard_chart
from crmcore.plot.pipeline import funnel_chart, landing_schedule
from crmcore.plot.quota import quota_chart
from crmcore.plot.segmentation import pareto_curve, rfm_heatmap, segment_sizes

__all__ = [
    "attainment_bars",
    "cohort_heatmap",
    "forecast_chart",
    "funnel_chart",
    "holdout_chart",
    "landing_schedule",
    "pareto_curve",
    "quota_chart",
    "rfm_heatmap",
    "scorecard_chart",
    "segment_sizes",
]
