"""Exact quota apportionment across regions, people and months.

Targets are integer minor units (cents) split by the classical apportionment methods
(Hamilton, Jefferson/D'Hondt, Webster/Sainte-Laguë, Huntington-Hill, Adams, Dean), so every
level of a plan adds up to the level above it exactly. One module per concern: weights and
allocation (``allocation``), the calendar (``seasonality``), the plan (``plan``) and quota relief
(``accounts``); the methods themselves live in the private ``_apportion`` and ``_divisor``.

Examples
--------
>>> from crmcore.quota import apportion, seasonal_split
>>> apportion(10, [6, 6, 2]).tolist(), apportion(10, [6, 6, 2], "dhondt").tolist()
([4, 4, 2], [5, 4, 1])
>>> seasonal_split(1000, [30, 30, 40]).tolist()
[300, 300, 400]
"""

from crmcore.money import from_minor_units, to_minor_units
from crmcore.quota._apportion import METHODS, apportion, canonical_method
from crmcore.quota.accounts import reassign_accounts
from crmcore.quota.allocation import allocate, history_weights, potential_weights
from crmcore.quota.plan import QuotaPlan, build_plan, plan_pivot
from crmcore.quota.seasonality import ramp_factors, seasonal_split

__all__ = [
    "METHODS",
    "QuotaPlan",
    "allocate",
    "apportion",
    "build_plan",
    "canonical_method",
    "from_minor_units",
    "history_weights",
    "plan_pivot",
    "potential_weights",
    "ramp_factors",
    "reassign_accounts",
    "seasonal_split",
    "to_minor_units",
]
