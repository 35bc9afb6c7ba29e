"""Seeded synthetic data for examples, tests, docs and benchmarks.

Every generator takes a ``seed``: the same seed gives the same table, on every machine.
A generator makes at most 10 000 000 rows per table and spans at most 1 200 months; larger
sizes, and dates that are not naive dates, are a ``ConfigError`` naming the argument.

Examples
--------
>>> from crmcore import datasets
>>> datasets.transactions(20, n_transactions=40, seed=3).shape
(40, 3)
"""

from crmcore.datasets._history import lead_history, stage_history
from crmcore.datasets._pipeline import opportunities
from crmcore.datasets._team import activities, deals, feedback, targets, team
from crmcore.datasets._transactions import customers, transactions

__all__ = [
    "activities",
    "customers",
    "deals",
    "feedback",
    "lead_history",
    "opportunities",
    "stage_history",
    "targets",
    "team",
    "transactions",
]
