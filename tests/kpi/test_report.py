"""Tests for crmcore.kpi.report: kpi_table and performance_report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore import datasets
from crmcore.errors import ConfigError, DataError, SchemaError
from crmcore.kpi import Metric, Scorecard, kpi_table, performance_report, score_scorecard
from helpers import call_unmutated, shuffled

CARD = Scorecard(
    metrics=[
        Metric(column="attainment", weight=0.5, normalisation="target", target=1.0, cap=1.0),
        Metric(column="rating", weight=0.5, scale=(1, 5)),
    ]
)
KPIS = pd.DataFrame(
    {
        "person": ["ann", "bob", "ann", "bob", "cid"],
        "period": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 3),
        "attainment": [1.2, 0.6, 0.8, 1.0, 0.4],
        "rating": [5.0, 3.0, 3.0, 5.0, 1.0],
        "region": ["N", "S", "N", "S", "S"],
    }
)


def test_report_by_hand():
    rep = call_unmutated(performance_report, KPIS, CARD)
    # Jan: ann 0.5 * 1 (capped) + 0.5 * 1 = 1.0; bob 0.5 * 0.6 + 0.5 * 0.5 = 0.55
    # Feb: ann 0.4 + 0.25 = 0.65; bob 0.5 + 0.5 = 1.0; cid 0.2 + 0 = 0.2
    jan, feb = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")
    assert rep.index.tolist() == [
        ("ann", jan),
        ("ann", feb),
        ("bob", jan),
        ("bob", feb),
        ("cid", feb),
    ]
    np.testing.assert_allclose(rep["score"], [1.0, 0.65, 0.55, 1.0, 0.2])
    assert rep["rank"].tolist() == [1, 2, 2, 1, 3]
    assert rep["level"].astype(str).tolist() == ["senior", "mid", "mid", "senior", "junior"]
    # changes are current - previous for the same person; NaN in the first period
    np.testing.assert_allclose(rep["score_change"], [np.nan, -0.35, np.nan, 0.45, np.nan])
    np.testing.assert_allclose(rep["rank_change"], [np.nan, 1, np.nan, -1, np.nan])
    np.testing.assert_allclose(rep["level_change"], [np.nan, -1, np.nan, 1, np.nan])
    np.testing.assert_allclose(rep["attainment_change"], [np.nan, -0.4, np.nan, 0.4, np.nan])
    assert "region_change" not in rep.columns
    assert list(rep.columns[:6]) == ["attainment", "rating", "region", "score", "rank", "level"]


def test_report_change_needs_the_immediately_preceding_period():
    kpis = pd.DataFrame(
        {
            "person": ["a", "b", "a", "b"],
            "period": [1, 1, 3, 2],
            "attainment": [1.0, 1.0, 0.5, 0.5],
            "rating": [3.0] * 4,
        }
    )
    rep = performance_report(kpis, CARD)
    # a has no row in period 2, so its period-3 change is NaN, not "vs period 1"
    assert np.isnan(rep.loc[("a", 3), "score_change"])
    assert rep.loc[("b", 2), "score_change"] == pytest.approx(-0.25)


def test_report_hysteresis_and_index_keys():
    kpis = KPIS.set_index(["person", "period"])
    rep = performance_report(kpis, CARD, promote_after=2, demote_after=2)
    # ann senior in Jan, raw mid in Feb: one month below is not enough to demote
    assert rep.loc[("ann", pd.Timestamp("2024-02-01")), "level"] == "senior"
    # bob mid in Jan, raw senior in Feb: not yet promoted
    assert rep.loc[("bob", pd.Timestamp("2024-02-01")), "level"] == "mid"


def test_report_agrees_with_score_scorecard():
    rep = performance_report(KPIS, CARD)
    sc = score_scorecard(KPIS, CARD, period_column="period").reorder_levels(["person", "period"])
    np.testing.assert_allclose(rep["score"], sc.sort_index()["total"])


@settings(max_examples=15)  # each example runs the whole report twice (pandas overhead)
@given(st.integers(0, 1000))
def test_report_row_order_changes_nothing(seed):
    a = performance_report(KPIS, CARD)
    b = performance_report(shuffled(KPIS, seed), CARD)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("kpis", "kw", "exc", "match"),
    [
        (KPIS.drop(columns="rating"), {}, SchemaError, "missing column.*'rating'"),
        (KPIS.drop(columns="period"), {}, SchemaError, "no column or index level 'period'"),
        (KPIS.assign(rating=[5.0, np.nan, 3, 3, 3]), {}, DataError, "NaN at row 1"),
        (KPIS, {"missing": "skip"}, ConfigError, "missing='skip' is not one of"),
        (KPIS, {"promote_after": 0}, ConfigError, "promote_after == 0"),
        (pd.concat([KPIS, KPIS.iloc[[0]]]), {}, DataError, "second row"),
    ],
)
def test_report_bad_input(kpis, kw, exc, match):
    with pytest.raises(exc, match=match):
        performance_report(kpis, CARD, **kw)


def test_report_missing_zero():
    kpis = KPIS.assign(rating=[5.0, np.nan, 3, 3, 3])
    rep = performance_report(kpis, CARD, missing="zero")
    # bob Jan: 0.5 * 0.6 + 0 = 0.3
    assert rep.loc[("bob", pd.Timestamp("2024-01-01")), "score"] == pytest.approx(0.3)


def test_report_attainment_near_the_largest_float():
    # issue #14's catalogue: an attainment of 1e307 overflowed rounding the total (x 10**12).
    # Uncapped: ann Jan 0.5 * 1e307 + 0.5 * 1 = 5e306 (the 0.5 is below its precision); bob
    # Jan 0.5 * 0.6 + 0.5 * 0.5 = 0.55, so ann ranks first.
    card = Scorecard(
        metrics=[
            Metric(column="attainment", weight=0.5, normalisation="target", target=1.0),
            Metric(column="rating", weight=0.5, scale=(1, 5)),
        ]
    )
    kpis = KPIS.assign(attainment=[1e307, 0.6, 0.8, 1.0, 0.4])
    rep = call_unmutated(performance_report, kpis, card)
    jan = rep.xs(pd.Timestamp("2024-01-01"), level=1)
    assert jan["score"].tolist() == [5e306, 0.55]
    assert jan["rank"].tolist() == [1, 2]


# -- kpi_table on the synthetic team --------------------------------------------------------------


def test_kpi_table_by_hand():
    deals = pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4],
            "person": ["ann", "ann", "ann", "bob"],
            "status": ["won", "lost", "won", "open"],
            "amount": [100.0, 50.0, 300.0, 70.0],
            "created_at": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-03"]),
            "closed_at": pd.to_datetime(["2024-01-11", "2024-01-22", "2024-01-25", None]),
        }
    )
    targets = pd.DataFrame(
        {
            "person": ["ann", "bob"],
            "period": pd.to_datetime(["2024-01-01"] * 2),
            "target": [800.0, 100.0],
        }
    )
    feedback = pd.DataFrame(
        {
            "person": ["ann", "ann"],
            "period": pd.to_datetime(["2024-01-01", "2024-01-15"]),
            "feedback": [4.0, 5.0],
        }
    )
    k = call_unmutated(kpi_table, deals, targets, feedback=feedback)
    ann = k.loc[("ann", pd.Timestamp("2024-01-01"))]
    assert ann["revenue"] == 400.0  # 100 + 300 won
    assert ann["attainment"] == 0.5  # 400 / 800
    assert ann["deals_won"] == 2
    assert ann["win_rate"] == pytest.approx(2 / 3)  # 2 won of 3 closed
    assert ann["average_deal_size"] == 200.0
    assert ann["cycle_days"] == 15.0  # (10 + 20) / 2 days, won deals
    assert ann["feedback"] == 4.5
    bob = k.loc[("bob", pd.Timestamp("2024-01-01"))]
    assert bob["revenue"] == 0.0  # a target and no sale: zero achieved, not missing
    assert np.isnan(bob["win_rate"])
    assert np.isnan(bob["feedback"])


def test_kpi_table_and_report_on_generated_team():
    deals = datasets.deals(300, n_people=4, seed=5)
    targets = datasets.targets(4, months=12, n_deals=300, seed=5)
    k = kpi_table(
        deals,
        targets,
        feedback=datasets.feedback(4, seed=5),
        activities=datasets.activities(4, per_rep_per_day=1.0, seed=5),
    )
    assert len(k) == 4 * 12
    assert (k["activities"] >= 0).all()
    card = Scorecard(
        metrics=[
            Metric(column="attainment", weight=0.6, normalisation="target", target=1.0, cap=1.5),
            Metric(column="manager_rating", weight=0.4, scale=(1, 5)),
        ]
    )
    rep = performance_report(k, card)
    assert rep["rank"].groupby(level="period").min().eq(1).all()


def test_kpi_table_missing_columns():
    with pytest.raises(SchemaError, match="opportunities is missing column"):
        kpi_table(pd.DataFrame({"person": ["a"]}), pd.DataFrame())
