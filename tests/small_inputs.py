"""Small valid inputs made from :mod:`crmcore.datasets`, shared by the contract audit
(``test_contract.py``) and the bad-input catalogue (``catalogue/data.py``) at their own sizes.

Every builder takes a :class:`Size`; the frames built from the datasets are cached per size
(callers that may mutate them hand out copies).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from crmcore import datasets, kpi, pipeline

AS_OF = "2025-01-01"
OPEN_STAGES = ("prospect", "qualification", "proposal", "negotiation")


@dataclass(frozen=True)
class Size:
    """How large each input is."""

    #: customers and rows of the transactions
    customers: int
    transactions: int
    #: deals, the people selling them and their customers (also the accounts' customers)
    deals: int
    people: int
    deal_customers: int
    #: opportunities and stage histories
    opportunities: int
    histories: int
    #: last day and daily rate per person of the activity log
    activities_end: str
    activities_rate: float
    #: customers holding the accounts
    accounts: int
    #: campaign touches, and opportunities split between two people
    touches: int
    split_deals: int
    #: between the two pipeline snapshots: deals won, lost, re-valued and new
    snapshot_changes: tuple[int, int, int, int]


#: the contract audit's inputs
CONTRACT = Size(
    customers=40,
    transactions=240,
    deals=90,
    people=4,
    deal_customers=30,
    opportunities=60,
    histories=25,
    activities_end="2024-03-31",
    activities_rate=0.5,
    accounts=30,
    touches=50,
    split_deals=10,
    snapshot_changes=(5, 4, 6, 3),
)

#: the bad-input catalogue's (smaller: every input is varied many times)
CATALOGUE = Size(
    customers=12,
    transactions=60,
    deals=40,
    people=3,
    deal_customers=15,
    opportunities=30,
    histories=12,
    activities_end="2024-02-29",
    activities_rate=0.3,
    accounts=12,
    touches=20,
    split_deals=6,
    snapshot_changes=(3, 2, 3, 2),
)


@cache
def transactions(size: Size) -> pd.DataFrame:
    """Transactions: customer_id, date, amount."""
    return datasets.transactions(size.customers, n_transactions=size.transactions, seed=3)


@cache
def deals(size: Size) -> pd.DataFrame:
    """Deals with person, status, created_at, closed_at, amount."""
    return datasets.deals(size.deals, n_people=size.people, n_customers=size.deal_customers, seed=3)


def won(size: Size) -> pd.DataFrame:
    """The won deals, indexed 0..n-1."""
    d = deals(size)
    return d[d["status"] == "won"].reset_index(drop=True)


@cache
def targets(size: Size) -> pd.DataFrame:
    """Monthly targets of the deals' people for a year."""
    return datasets.targets(size.people, months=12, n_deals=size.deals, seed=3)


@cache
def opportunities(size: Size) -> pd.DataFrame:
    """Opportunities: opportunity_id, stage, amount, currency, person, dates, category."""
    return datasets.opportunities(size.opportunities, seed=3, as_of=AS_OF)


@cache
def history(size: Size) -> pd.DataFrame:
    """Stage history: opportunity_id, stage, entered_at."""
    return datasets.stage_history(size.histories, seed=3)


@cache
def activities(size: Size) -> pd.DataFrame:
    """Activity log of the deals' people."""
    return datasets.activities(
        size.people, end=size.activities_end, per_rep_per_day=size.activities_rate, seed=3
    )


def states(size: Size) -> pd.DataFrame:
    """Lifecycle log: every deal opens at its first stage entry and ends won/lost if it did."""
    h = history(size)
    first = h.groupby("opportunity_id").head(1).assign(state="open")
    end = h[h["stage"].isin(["won", "lost"])].assign(state=lambda f: f["stage"])
    out = pd.concat([first, end]).sort_index()
    return out[["opportunity_id", "state", "entered_at"]]


def accounts(size: Size) -> pd.DataFrame:
    """Accounts of seeded customers, held by five people, graded by potential."""
    cust = datasets.customers(size.accounts, seed=3)
    rank = cust["potential"].rank(pct=True, method="first")
    return pd.DataFrame(
        {
            "account_id": cust["customer_id"],
            "person": [f"P{i % 5}" for i in range(len(cust))],
            "grade": np.where(rank > 0.8, "A", np.where(rank > 0.5, "B", "C")),
            "weight": cust["potential"],
        }
    )


def snapshots(size: Size) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two pipeline snapshots (opportunity_id, stage, amount); the second's index unchanged."""
    n_won, n_lost, n_changed, n_new = size.snapshot_changes
    o = opportunities(size)
    start = o[o["stage"].isin(OPEN_STAGES)].reset_index(drop=True)
    end = start.copy()
    end.loc[0 : n_won - 1, "stage"] = "won"
    end.loc[n_won : n_won + n_lost - 1, "stage"] = "lost"
    changed = slice(n_won + n_lost, n_won + n_lost + n_changed - 1)
    end.loc[changed, "amount"] = end.loc[changed, "amount"] * 1.5
    end = end.drop(index=[n_won + n_lost + n_changed])
    new = o[o["stage"] == "won"].head(n_new)
    new = new.assign(stage="prospect", opportunity_id=list(range(900, 900 + n_new)))
    cols = ["opportunity_id", "stage", "amount"]
    return start[cols], pd.concat([end, new])[cols]


def campaign_frames(size: Size) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Campaigns with their cost, touches of the opportunities, and the opportunities."""
    o = opportunities(size)
    rng = np.random.default_rng(3)
    n = size.touches
    campaigns = pd.DataFrame({"campaign_id": ["ads", "fair", "mail"], "cost": [100.0, 400.0, 50.0]})
    touches = pd.DataFrame(
        {
            "campaign_id": rng.choice(["ads", "fair", "mail"], n),
            "opportunity_id": rng.choice(o["opportunity_id"].to_numpy(), n),
            "touched_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.permutation(n), "D"),
        }
    )
    return campaigns, touches, o[["opportunity_id", "stage", "amount"]]


def splits(size: Size) -> pd.DataFrame:
    """The first opportunities split 60/40 between ann and bob."""
    ids = opportunities(size)["opportunity_id"].head(size.split_deals).to_numpy()
    return pd.DataFrame(
        {
            "opportunity_id": np.repeat(ids, 2),
            "person": ["ann", "bob"] * len(ids),
            "share": [0.6, 0.4] * len(ids),
        }
    )


def model() -> pipeline.StageModel:
    """A stage model over the four open stages."""
    return pipeline.StageModel.from_conversion_rates(
        list(OPEN_STAGES), [0.5, 0.6, 0.7, 0.8], [40, 30, 20, 10]
    )


def card() -> kpi.Scorecard:
    """A three-metric scorecard (target, lower-is-better and scale normalisations)."""
    return kpi.Scorecard(
        metrics=[
            kpi.Metric(column="revenue", weight=0.5, normalisation="target", target=5000, cap=1.5),
            kpi.Metric(column="cycle_days", weight=0.3, direction="lower"),
            kpi.Metric(column="rating", weight=0.2, scale=(1, 5)),
        ]
    )


def team_scores() -> pd.DataFrame:
    """Eight people with revenue, cycle_days and rating (the scorecard's columns)."""
    rng = np.random.default_rng(3)
    n = 8
    return pd.DataFrame(
        {
            "person": [f"R{i:02d}" for i in range(n)],
            "revenue": rng.integers(1000, 9000, n).astype(float),
            "cycle_days": rng.integers(10, 60, n).astype(float),
            "rating": rng.integers(1, 6, n).astype(float),
        }
    )


def plan() -> kpi.CommissionPlan:
    """A three-tier commission plan."""
    return kpi.CommissionPlan(tiers=[(0, 0.04), (5_000, 0.06), (10_000, 0.08)])


def quotas() -> pd.DataFrame:
    """Quotas of five people in minor units, indexed by person."""
    return pd.DataFrame(
        {"quota_cents": np.array([900, 100, 500, 250, 250], dtype=np.int64) * 100},
        index=pd.Index([f"P{i}" for i in range(5)], name="person"),
    )
