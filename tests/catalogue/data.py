"""Small valid inputs for the catalogue's calls, built once (builders hand out copies)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from crmcore import datasets, kpi, pipeline, quota, segmentation

AS_OF = "2025-01-01"
OPEN_STAGES = ("prospect", "qualification", "proposal", "negotiation")


@cache
def _tx() -> pd.DataFrame:
    return datasets.transactions(12, n_transactions=60, seed=3)


def tx() -> pd.DataFrame:
    """Transactions: customer_id, date, amount (12 customers, 60 rows)."""
    return _tx().copy()


@cache
def _deals() -> pd.DataFrame:
    return datasets.deals(40, n_people=3, n_customers=15, seed=3)


def deals() -> pd.DataFrame:
    """Deals with person, status, created_at, closed_at, amount (40 rows, 3 people)."""
    return _deals().copy()


def won() -> pd.DataFrame:
    d = deals()
    return d[d["status"] == "won"].reset_index(drop=True)


@cache
def _targets() -> pd.DataFrame:
    return datasets.targets(3, months=12, n_deals=40, seed=3)


def targets() -> pd.DataFrame:
    return _targets().copy()


@cache
def _opps() -> pd.DataFrame:
    return datasets.opportunities(30, seed=3, as_of=AS_OF)


def opps() -> pd.DataFrame:
    """Opportunities: opportunity_id, stage, amount, currency, person, dates, category."""
    return _opps().copy()


@cache
def _history() -> pd.DataFrame:
    return datasets.stage_history(12, seed=3)


def history() -> pd.DataFrame:
    return _history().copy()


def model() -> pipeline.StageModel:
    return pipeline.StageModel.from_conversion_rates(
        list(OPEN_STAGES), [0.5, 0.6, 0.7, 0.8], [40, 30, 20, 10]
    )


def summary() -> pd.DataFrame:
    return segmentation.rfm_summary(tx())


def states() -> pd.DataFrame:
    h = history()
    first = h.groupby("opportunity_id").head(1).assign(state="open")
    end = h[h["stage"].isin(["won", "lost"])].assign(state=lambda f: f["stage"])
    out = pd.concat([first, end]).sort_index()
    return out[["opportunity_id", "state", "entered_at"]].reset_index(drop=True)


def card() -> kpi.Scorecard:
    return kpi.Scorecard(
        metrics=[
            kpi.Metric(column="revenue", weight=0.5, normalisation="target", target=5000, cap=1.5),
            kpi.Metric(column="cycle_days", weight=0.3, direction="lower"),
            kpi.Metric(column="rating", weight=0.2, scale=(1, 5)),
        ]
    )


def team_scores() -> pd.DataFrame:
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


@cache
def _activities() -> pd.DataFrame:
    return datasets.activities(3, end="2024-02-29", per_rep_per_day=0.3, seed=3)


def activities() -> pd.DataFrame:
    return _activities().copy()


def feedback() -> pd.DataFrame:
    return datasets.feedback(3, months=12, seed=3)


def plan() -> kpi.CommissionPlan:
    return kpi.CommissionPlan(tiers=[(0, 0.04), (5_000, 0.06), (10_000, 0.08)])


def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": np.repeat(["North", "South", "West"], 3),
            "person": [f"P{i}" for i in range(9)],
            "weight": np.arange(1.0, 10.0),
            "start": pd.to_datetime(["2020-01-01"] * 7 + ["2025-03-01", "2025-05-15"]),
        }
    )


def accounts() -> pd.DataFrame:
    cust = datasets.customers(12, seed=3)
    rank = cust["potential"].rank(pct=True, method="first")
    return pd.DataFrame(
        {
            "account_id": cust["customer_id"],
            "person": [f"P{i % 5}" for i in range(len(cust))],
            "grade": np.where(rank > 0.8, "A", np.where(rank > 0.5, "B", "C")),
            "weight": cust["potential"],
        }
    )


def quotas() -> pd.DataFrame:
    return pd.DataFrame(
        {"quota_cents": np.array([900, 100, 500, 250, 250], dtype=np.int64) * 100},
        index=pd.Index([f"P{i}" for i in range(5)], name="person"),
    )


def snapshots() -> tuple[pd.DataFrame, pd.DataFrame]:
    o = opps()
    start = o[o["stage"].isin(OPEN_STAGES)].reset_index(drop=True)
    end = start.copy()
    end.loc[0:2, "stage"] = "won"
    end.loc[3:4, "stage"] = "lost"
    end.loc[5:7, "amount"] = end.loc[5:7, "amount"] * 1.5
    end = end.drop(index=[8])
    new = o[o["stage"] == "won"].head(2).assign(stage="prospect", opportunity_id=[900, 901])
    cols = ["opportunity_id", "stage", "amount"]
    return start[cols], pd.concat([end, new])[cols].reset_index(drop=True)


def campaign_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    o = opps()
    rng = np.random.default_rng(3)
    n = 20
    campaigns = pd.DataFrame({"campaign_id": ["ads", "fair", "mail"], "cost": [100.0, 400.0, 50.0]})
    touches = pd.DataFrame(
        {
            "campaign_id": rng.choice(["ads", "fair", "mail"], n),
            "opportunity_id": rng.choice(o["opportunity_id"].to_numpy(), n),
            "touched_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.permutation(n), "D"),
        }
    )
    return campaigns, touches, o[["opportunity_id", "stage", "amount"]]


def splits() -> pd.DataFrame:
    ids = opps()["opportunity_id"].head(6).to_numpy()
    return pd.DataFrame(
        {
            "opportunity_id": np.repeat(ids, 2),
            "person": ["ann", "bob"] * len(ids),
            "share": [0.6, 0.4] * len(ids),
        }
    )


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
