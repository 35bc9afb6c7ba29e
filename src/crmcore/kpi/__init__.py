"""Salesperson performance: sales KPIs, target attainment, scorecards, levels and commissions.

Every function takes tidy frames (one row per opportunity, sale, activity or target) with
keyword column names and returns a new frame indexed by its natural key (person, period, ...),
sorted.

Examples
--------
>>> import pandas as pd
>>> from crmcore.kpi import attainment, win_rate
>>> deals = pd.DataFrame({"person": ["ann", "ann", "bob"], "status": ["won", "lost", "won"],
...                       "amount": [500.0, 100.0, 200.0],
...                       "date": pd.to_datetime(["2024-01-05", "2024-01-09", "2024-01-20"])})
>>> win_rate(deals, by="person")["win_rate_count"].tolist()
[0.5, 1.0]
>>> goals = pd.DataFrame({"person": ["ann", "bob"], "period": pd.to_datetime(["2024-01-01"] * 2),
...                       "target": [400.0, 400.0]})
>>> attainment(deals, goals, status="status")["attainment"].tolist()
[1.25, 0.5]
"""

from crmcore.kpi.attainment import attainment, target_variance
from crmcore.kpi.commission import CommissionPlan, commission_lines, commission_statement
from crmcore.kpi.customers import new_customers, retention, revenue_by_period
from crmcore.kpi.levels import assign_levels, assign_levels_over_time
from crmcore.kpi.metrics import activity_counts, average_deal_size, sales_cycle_length, win_rate
from crmcore.kpi.report import kpi_table, performance_report
from crmcore.kpi.scorecard import Metric, Scorecard, explain_scorecard, score_scorecard

__all__: list[str] = [
    "CommissionPlan",
    "Metric",
    "Scorecard",
    "activity_counts",
    "assign_levels",
    "assign_levels_over_time",
    "attainment",
    "average_deal_size",
    "commission_lines",
    "commission_statement",
    "explain_scorecard",
    "kpi_table",
    "new_customers",
    "performance_report",
    "retention",
    "revenue_by_period",
    "sales_cycle_length",
    "score_scorecard",
    "target_variance",
    "win_rate",
]
