"""Small valid inputs for the catalogue's calls, built once (builders hand out copies)."""

from __future__ import annotations

from functools import cache, partial

import numpy as np
import pandas as pd

import small_inputs as small
from crmcore import datasets, pipeline, quota, segmentation

AS_OF, OPEN_STAGES = small.AS_OF, small.OPEN_STAGES
SIZE = small.CATALOGUE

model, card, team_scores = small.model, small.card, small.team_scores
plan, quotas = small.plan, small.quotas
won = partial(small.won, SIZE)
accounts = partial(small.accounts, SIZE)
campaign_frames = partial(small.campaign_frames, SIZE)
splits = partial(small.splits, SIZE)


def tx() -> pd.DataFrame:
    """Transactions: customer_id, date, amount (12 customers, 60 rows)."""
    return small.transactions(SIZE).copy()


def deals() -> pd.DataFrame:
    """Deals with person, status, created_at, closed_at, amount (40 rows, 3 people)."""
    return small.deals(SIZE).copy()


def targets() -> pd.DataFrame:
    return small.targets(SIZE).copy()


def opps() -> pd.DataFrame:
    """Opportunities: opportunity_id, stage, amount, currency, person, dates, category."""
    return small.opportunities(SIZE).copy()


def history() -> pd.DataFrame:
    return small.history(SIZE).copy()


def activities() -> pd.DataFrame:
    return small.activities(SIZE).copy()


def summary() -> pd.DataFrame:
    return segmentation.rfm_summary(tx())


def states() -> pd.DataFrame:
    return small.states(SIZE).reset_index(drop=True)


def feedback() -> pd.DataFrame:
    return datasets.feedback(3, months=12, seed=3)


def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": np.repeat(["North", "South", "West"], 3),
            "person": [f"P{i}" for i in range(9)],
            "weight": np.arange(1.0, 10.0),
            "start": pd.to_datetime(["2020-01-01"] * 7 + ["2025-03-01", "2025-05-15"]),
        }
    )


def snapshots() -> tuple[pd.DataFrame, pd.DataFrame]:
    start, end = small.snapshots(SIZE)
    return start, end.reset_index(drop=True)


def credit() -> pd.DataFrame:
    return pipeline.split_credit(opps(), splits(), default_person="person")


def btyd() -> pd.DataFrame:
    return segmentation.btyd_summary(tx(), amount="amount", as_of=AS_OF)


def plan_table() -> pd.DataFrame:
    return quota.build_plan(people(), 1_000_000, distribution=[20, 30, 50]).table


@cache
def _leads() -> pd.DataFrame:
    return datasets.lead_history(60, seed=3)


def closed_leads() -> pd.DataFrame:
    """Won and lost leads: opportunity_id, team, source, country, size, industry, status."""
    leads = _leads()
    return leads[leads["status"] != "open"].reset_index(drop=True)


def open_leads() -> pd.DataFrame:
    """Open leads with the same feature columns, indexed by their own labels."""
    leads = _leads()
    return leads[leads["status"] == "open"].set_axis([f"L{i}" for i in range(10)])


LEAD_FEATURES = ["source", "country", "size"]


def lead_model() -> pipeline.LeadScoring:
    return pipeline.fit_lead_scoring(closed_leads(), features=LEAD_FEATURES, team="team")
