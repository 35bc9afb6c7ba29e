"""Tests of predictive lead scoring: fit_lead_scoring, score_leads, explain_leads, calibration."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from crmcore.errors import ConfigError, DataError, SchemaError
from crmcore.pipeline import (
    LeadScoring,
    explain_leads,
    fit_lead_scoring,
    lead_score_calibration,
    score_leads,
)
from helpers import call_unmutated, shuffled
from strategies_pipeline import lead_histories

FEATURES = ["source", "size"]


def worked_history() -> pd.DataFrame:
    """The issue's case: 60 won / 40 lost; the fair brought 30 won and 10 lost deals."""
    return pd.DataFrame(
        {
            "source": ["fair"] * 40 + ["web"] * 60,
            "status": ["won"] * 30 + ["lost"] * 10 + ["won"] * 30 + ["lost"] * 30,
        }
    )


def odoo_reference(
    history: pd.DataFrame, leads: pd.DataFrame, features: list[str], team: str | None, s: float
) -> list[float]:
    """Odoo's computation, lead by lead, written from its description (module docstring).

    Per table (a team's deals, or all deals for a lead whose team is unknown or missing):
    prior (W + s) / (W + L + 2s); per feature with a value seen in the table,
    (w_v + s) / sum_u (w_u + s) against (l_v + s) / sum_u (l_u + s); a feature whose won or
    lost total is 0 is skipped.
    """
    out = []
    teams = set(history[team].dropna()) if team is not None else set()
    for _, lead in leads.iterrows():
        if team is not None and pd.notna(lead[team]) and lead[team] in teams:
            table = history[history[team] == lead[team]]
        else:
            table = history
        won = table["status"] == "won"
        s_won = (won.sum() + s) / (len(table) + 2 * s)
        s_lost = ((~won).sum() + s) / (len(table) + 2 * s)
        for f in features:
            value = lead[f]
            present = table[f].notna()
            seen = set(table.loc[present, f])
            if pd.isna(value) or value not in seen:
                continue
            k = len(seen)
            total_won = won[present].sum() + k * s
            total_lost = (~won[present]).sum() + k * s
            if total_won == 0 or total_lost == 0:
                continue
            is_v = table[f] == value
            s_won *= ((is_v & won).sum() + s) / total_won
            s_lost *= ((is_v & ~won).sum() + s) / total_lost
        out.append(float(s_won / (s_won + s_lost)))
    return out


# --- examples -----------------------------------------------------------------------------


def test_issue_case_scores_three_quarters() -> None:
    # smoothing 0: 0.6 x (30/60) / (0.6 x 30/60 + 0.4 x 10/40) = 0.3 / 0.4 = 0.75
    model = call_unmutated(fit_lead_scoring, worked_history(), features=["source"], smoothing=0)
    leads = pd.DataFrame({"source": ["fair"]}, index=["lead-7"])
    scores = call_unmutated(score_leads, model, leads)
    assert scores.index.tolist() == ["lead-7"]
    assert scores.name == "win_probability"
    assert scores.iloc[0] == pytest.approx(0.75, abs=1e-12)


def test_odoo_smoothing_hand_worked() -> None:
    # Team of 3 won and 1 lost; "fair" in 2 won, 0 lost; "web" in 1 won, 1 lost; s = 0.1.
    # prior 3.1 : 1.1; fair 2.1 / 3.2 against 0.1 / 1.2 -> odds 3.1 * 2.1 * 1.2 / (1.1 * 3.2 *
    # 0.1) = 7.8120 / 0.3520 = 22.193..., P = 22.193 / 23.193 = 0.95688...
    history = pd.DataFrame(
        {"source": ["web", "web", "fair", "fair"], "status": ["won", "lost", "won", "won"]}
    )
    model = fit_lead_scoring(history, features=["source"])
    assert model.smoothing == 0.1
    odds = (3.1 * 2.1 * 1.2) / (1.1 * 3.2 * 0.1)
    score = score_leads(model, pd.DataFrame({"source": ["fair"]})).iloc[0]
    assert score == pytest.approx(odds / (1 + odds), rel=1e-12)
    assert model.frequencies == ((None, "source", "fair", 2, 0), (None, "source", "web", 1, 1))
    assert model.teams == ((None, 3, 1),)


def test_unseen_and_missing_values_are_ignored() -> None:
    model = fit_lead_scoring(worked_history(), features=["source"], smoothing=0)
    leads = pd.DataFrame({"source": ["phone", None, np.nan]})
    # Only the prior: 60 / 100.
    assert score_leads(model, leads).tolist() == pytest.approx([0.6, 0.6, 0.6])


def test_missing_values_are_not_counted_in_a_features_totals() -> None:
    # Two features; "size" is known for 4 of the 6 deals only. Per Odoo, P(size | won) is
    # taken over the won deals that have a size: big in 2 of 2 won-with-size, 0 of 2 lost.
    history = pd.DataFrame(
        {
            "source": ["a", "a", "b", "b", "a", "b"],
            "size": ["big", "big", None, "small", "small", None],
            "status": ["won", "won", "won", "lost", "lost", "lost"],
        }
    )
    model = fit_lead_scoring(history, features=["source", "size"], smoothing=0.5)
    lead = pd.DataFrame({"source": ["a"], "size": ["big"]})
    # prior (3.5 / 3.5); source a: won 2.5/4 lost 1.5/4; size big: won 2.5/3, lost 0.5/3
    odds = (3.5 / 3.5) * (2.5 / 4) / (1.5 / 4) * (2.5 / 3) / (0.5 / 3)
    assert score_leads(model, lead).iloc[0] == pytest.approx(odds / (1 + odds), rel=1e-12)
    assert score_leads(model, lead).iloc[0] == pytest.approx(
        odoo_reference(history, lead, ["source", "size"], None, 0.5)[0], rel=1e-12
    )


def test_teams_have_their_own_tables_and_unknown_teams_use_all_history() -> None:
    history = pd.DataFrame(
        {
            "team": ["a", "a", "a", "a", "b", "b"],
            "source": ["web", "web", "fair", "fair", "web", "fair"],
            "status": ["won", "lost", "won", "won", "lost", "won"],
        }
    )
    model = fit_lead_scoring(history, features=["source"], team="team")
    assert model.teams == (("a", 3, 1), ("b", 1, 1))
    leads = pd.DataFrame({"team": ["a", "b", "zz", None], "source": ["fair"] * 4})
    got = score_leads(model, leads).tolist()
    assert got == pytest.approx(odoo_reference(history, leads, ["source"], "team", 0.1))
    pooled = fit_lead_scoring(history, features=["source"])
    assert got[2:] == pytest.approx(score_leads(pooled, leads).tolist()[2:], rel=1e-12)


def test_deals_without_team_count_in_the_pooled_table_only() -> None:
    history = pd.DataFrame(
        {
            "team": ["a", "a", None, None],
            "source": ["web", "fair", "web", "web"],
            "status": ["won", "lost", "won", "won"],
        }
    )
    model = fit_lead_scoring(history, features=["source"], team="team", smoothing=0)
    assert model.teams == (("a", 1, 1), (None, 2, 0))
    leads = pd.DataFrame({"team": ["a", None], "source": ["web", "web"]})
    # Team a: web won 1 of 1 won, 0 of 1 lost -> 1. Pooled: prior 3:1, web 3/3 vs 0/1 -> 1.
    assert score_leads(model, leads).tolist() == [1.0, 1.0]
    fair = pd.DataFrame({"team": [None], "source": ["fair"]})
    # Pooled: prior 3/4 : 1/4, fair won 0/3, lost 1/1 -> 0.
    assert score_leads(model, fair).tolist() == [0.0]


def test_feature_without_won_or_lost_total_is_skipped_as_odoo_does() -> None:
    history = pd.DataFrame(
        {"source": ["web", "fair"], "size": ["big", None], "status": ["won", "lost"]}
    )
    model = fit_lead_scoring(history, features=["source", "size"], smoothing=0)
    # size: won total 1, lost total 0 -> skipped; source decides.
    got = explain_leads(model, pd.DataFrame({"source": ["web"], "size": ["big"]}))
    assert got["size"].tolist() == [0.0]
    assert got["win_probability"].tolist() == [1.0]


def test_explain_reconciles_with_the_score() -> None:
    model = fit_lead_scoring(worked_history(), features=["source"], smoothing=0)
    got = explain_leads(model, pd.DataFrame({"source": ["fair", "web", "phone"]}))
    assert list(got.columns) == ["prior", "source", "log_odds", "win_probability"]
    assert got["prior"].tolist() == pytest.approx([math.log(1.5)] * 3)
    assert got["source"].tolist() == pytest.approx([math.log(2.0), math.log(2 / 3), 0.0])
    assert got["win_probability"].tolist() == pytest.approx([0.75, 0.5, 0.6])


def test_contradicting_certainties_are_an_error_naming_the_lead() -> None:
    history = pd.DataFrame(
        {
            "source": ["web", "fair", "web", "fair"],
            "size": ["big", "small", "big", "small"],
            "status": ["won", "lost", "won", "lost"],
        }
    )
    model = fit_lead_scoring(history, features=["source", "size"], smoothing=0)
    leads = pd.DataFrame({"source": ["web", "web"], "size": ["big", "small"]}, index=[10, 11])
    with pytest.raises(DataError, match=r"row 11 .*source='web' \(\+inf\).*size='small'"):
        score_leads(model, leads)
    smoothed = fit_lead_scoring(history, features=["source", "size"], smoothing=0.1)
    assert 0.0 < score_leads(smoothed, leads).iloc[1] < 1.0


def test_calibration_hand_worked() -> None:
    history = pd.DataFrame(
        {
            "source": ["fair"] * 4 + ["web"] * 4,
            "status": ["won", "won", "won", "lost", "won", "lost", "lost", "lost"],
        }
    )
    model = fit_lead_scoring(history, features=["source"], smoothing=0)
    got = call_unmutated(lead_score_calibration, model, history, n_bins=4, strategy="uniform")
    expected = pd.DataFrame(
        {
            "lower": [0.0, 0.25, 0.5, 0.75],
            "upper": [0.25, 0.5, 0.75, 1.0],
            "count": np.asarray([0, 4, 0, 4], dtype=np.int64),
            "won": np.asarray([0, 1, 0, 3], dtype=np.int64),
            "predicted": [np.nan, 0.25, np.nan, 0.75],
            "observed": [np.nan, 0.25, np.nan, 0.75],
        },
        index=pd.RangeIndex(1, 5, name="bin"),
    )
    pd.testing.assert_frame_equal(got, expected)


def test_calibration_deciles_by_default() -> None:
    rng = np.random.default_rng(4)
    n = 2_000
    source = rng.choice(list("abcdefghij"), n)
    p = {c: (i + 0.5) / 10 for i, c in enumerate("abcdefghij")}
    status = np.where(rng.random(n) < np.vectorize(p.get)(source), "won", "lost")
    history = pd.DataFrame({"source": source, "status": status})
    model = fit_lead_scoring(history, features=["source"])
    got = lead_score_calibration(model, history)
    assert got.index.tolist() == list(range(1, 11))
    assert got["count"].sum() == n
    assert got["won"].sum() == (status == "won").sum()
    # In-sample, every bin holds one source: predicted and observed agree closely.
    full = got[got["count"] > 0]
    assert np.abs(full["predicted"] - full["observed"]).max() < 0.01


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"features": []}, ConfigError, "features is empty"),
        ({"features": ["source", "source"]}, ConfigError, "repeat"),
        ({"features": ["prior"]}, ConfigError, "explain_leads uses"),
        ({"features": ["source"], "team": "source"}, ConfigError, "also a feature"),
        ({"features": ["source", "status"]}, ConfigError, "status column"),
        ({"features": ["source"], "smoothing": -0.1}, ConfigError, "smoothing"),
        ({"features": ["source"], "smoothing": float("inf")}, ConfigError, "smoothing"),
        ({"features": ["colour"]}, SchemaError, "colour"),
        ({"features": ["source"], "team": "team"}, SchemaError, "team"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        fit_lead_scoring(worked_history(), **kwargs)


def test_open_or_missing_status_is_an_error_naming_the_row() -> None:
    history = worked_history().set_axis([f"d{i}" for i in range(100)])
    history.loc["d5", "status"] = "open"
    with pytest.raises(DataError, match=r"'open' at row 'd5'.*'won' or 'lost'") as info:
        fit_lead_scoring(history, features=["source"])
    assert info.value.row == "d5"
    history.loc["d5", "status"] = None
    with pytest.raises(DataError, match="status"):
        fit_lead_scoring(history, features=["source"])


def test_scoring_needs_the_model_and_its_columns() -> None:
    model = fit_lead_scoring(worked_history(), features=["source"])
    with pytest.raises(SchemaError, match="source"):
        score_leads(model, pd.DataFrame({"other": [1]}))
    with pytest.raises(ConfigError, match="LeadScoring"):
        score_leads({"features": ["source"]}, pd.DataFrame({"source": ["a"]}))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="n_bins"):
        lead_score_calibration(model, worked_history(), n_bins=0)
    with pytest.raises(ConfigError, match="strategy"):
        lead_score_calibration(model, worked_history(), strategy="kmeans")  # type: ignore[arg-type]


def test_empty_leads_give_an_empty_series() -> None:
    model = fit_lead_scoring(worked_history(), features=["source"])
    got = score_leads(model, pd.DataFrame({"source": pd.Series([], dtype=object)}))
    assert got.empty
    assert got.dtype == np.float64


def test_from_dict_rejects_unknown_keys_and_bad_rows() -> None:
    with pytest.raises(ConfigError, match="unknown LeadScoring"):
        LeadScoring.from_dict({"features": ["a"], "colour": 1})
    with pytest.raises(ConfigError, match="names feature 'b'"):
        LeadScoring(features=["a"], frequencies=[(None, "b", "x", 1, 1)])
    with pytest.raises(ConfigError, match=">= 0"):
        LeadScoring(features=["a"], teams=[(None, -1, 1)])


# --- properties ---------------------------------------------------------------------------


@given(data=lead_histories())
def test_matches_odoos_computation_lead_by_lead(data: tuple[pd.DataFrame, float]) -> None:
    history, s = data
    model = fit_lead_scoring(history, features=FEATURES, team="team", smoothing=s)
    leads = history.drop(columns="status")
    got = score_leads(model, leads).tolist()
    assert got == pytest.approx(odoo_reference(history, leads, FEATURES, "team", s), abs=1e-9)


@given(data=lead_histories(), seed=st.integers(0, 2**16))
def test_scores_in_unit_interval_input_unchanged_order_free(
    data: tuple[pd.DataFrame, float], seed: int
) -> None:
    history, s = data
    model = call_unmutated(fit_lead_scoring, history, features=FEATURES, team="team", smoothing=s)
    assert (
        fit_lead_scoring(shuffled(history, seed), features=FEATURES, team="team", smoothing=s)
        == model
    )
    leads = history.drop(columns="status")
    scores = call_unmutated(score_leads, model, leads)
    assert scores.between(0.0, 1.0).all()
    assert scores.index.equals(leads.index)
    reordered = score_leads(model, shuffled(leads, seed))
    pd.testing.assert_series_equal(reordered.loc[scores.index], scores)


@given(data=lead_histories())
def test_explanations_add_up_to_the_score(data: tuple[pd.DataFrame, float]) -> None:
    history, s = data
    model = fit_lead_scoring(history, features=FEATURES, team="team", smoothing=s)
    leads = history.drop(columns="status")
    parts = call_unmutated(explain_leads, model, leads)
    total = parts["prior"] + parts[FEATURES].sum(axis=1)
    np.testing.assert_allclose(parts["log_odds"], total)
    np.testing.assert_allclose(parts["win_probability"], expit(total))
    np.testing.assert_allclose(parts["win_probability"], score_leads(model, leads))


@given(data=lead_histories())
def test_to_dict_round_trip_also_through_json(data: tuple[pd.DataFrame, float]) -> None:
    history, s = data
    model = fit_lead_scoring(history, features=FEATURES, team="team", smoothing=s)
    assert LeadScoring.from_dict(model.to_dict()) == model
    assert LeadScoring.from_dict(json.loads(json.dumps(model.to_dict()))) == model


@given(data=lead_histories(), extra=st.integers(1, 5))
def test_a_teams_scores_depend_on_its_own_history_only(
    data: tuple[pd.DataFrame, float], extra: int
) -> None:
    history, s = data
    leads = history[history["team"] == "a"].drop(columns="status")
    if leads.empty:
        return
    before = score_leads(
        fit_lead_scoring(history, features=FEATURES, team="team", smoothing=s), leads
    )
    others = pd.DataFrame(
        {
            "team": ["b"] * extra,
            "source": ["x"] * extra,
            "size": [1] * extra,
            "status": ["won"] * extra,
        },
        index=[f"new{i}" for i in range(extra)],
    )
    grown = pd.concat([history, others])
    after = score_leads(fit_lead_scoring(grown, features=FEATURES, team="team", smoothing=s), leads)
    pd.testing.assert_series_equal(after, before)


@given(data=lead_histories(), extra=st.integers(1, 5), feature=st.sampled_from(FEATURES))
def test_more_won_deals_with_a_value_never_lower_its_score(
    data: tuple[pd.DataFrame, float], extra: int, feature: str
) -> None:
    history, s = data
    leads = history.drop(columns="status")
    model = fit_lead_scoring(history, features=FEATURES, team="team", smoothing=s)
    # One lead per (team, value of `feature`) seen in the history.
    seen = history.dropna(subset=["team", feature]).drop_duplicates(["team", feature])
    for _, row in seen.iterrows():
        won = pd.DataFrame(
            {
                "team": [row["team"]] * extra,
                "source": [row["source"] if feature == "source" else None] * extra,
                "size": [row["size"] if feature == "size" else None] * extra,
                "status": ["won"] * extra,
            },
            index=[f"new{i}" for i in range(extra)],
        )
        grown = fit_lead_scoring(
            pd.concat([history, won]), features=FEATURES, team="team", smoothing=s
        )
        holders = leads[(leads["team"] == row["team"]) & (leads[feature] == row[feature])]
        before = score_leads(model, holders)
        after = score_leads(grown, holders)
        assert (after >= before - 1e-12).all()


@given(data=lead_histories(), n_bins=st.integers(1, 12))
@settings(max_examples=50)
def test_calibration_counts_add_up(data: tuple[pd.DataFrame, float], n_bins: int) -> None:
    history, s = data
    model = fit_lead_scoring(history, features=FEATURES, team="team", smoothing=s)
    for strategy in ("quantile", "uniform"):
        got = lead_score_calibration(model, history, n_bins=n_bins, strategy=strategy)
        assert len(got) == n_bins
        assert got["count"].sum() == len(history)
        assert got["won"].sum() == (history["status"] == "won").sum()
        full = got[got["count"] > 0]
        assert (
            (full["predicted"] >= full["lower"] - 1e-12)
            & (full["predicted"] <= full["upper"] + 1e-12)
        ).all()


def test_millions_of_leads_take_no_per_row_python() -> None:
    # A correctness check at size, not a timing: two million leads score like two.
    model = fit_lead_scoring(worked_history(), features=["source"], smoothing=0)
    leads = pd.DataFrame({"source": np.tile(np.asarray(["fair", "web"], dtype=object), 1_000_000)})
    scores = score_leads(model, leads).to_numpy()
    assert scores[:2].tolist() == pytest.approx([0.75, 0.5])
    assert np.array_equal(scores[::2], np.full(1_000_000, scores[0]))


# --- the seeded lead history ----------------------------------------------------------------


def test_lead_history_is_seeded_and_scores_out_of_sample() -> None:
    from crmcore.datasets import lead_history

    leads = lead_history(6_000, seed=2)
    pd.testing.assert_frame_equal(leads, lead_history(6_000, seed=2))
    assert not leads.equals(lead_history(6_000, seed=3))
    assert set(leads["status"]) == {"won", "lost", "open"}
    assert leads["industry"].isna().any()
    closed = leads[leads["status"] != "open"]
    train = closed[closed["created_at"] < "2024-07-01"]
    test = closed[closed["created_at"] >= "2024-07-01"]
    features = ["source", "country", "size", "industry"]
    model = fit_lead_scoring(train, features=features, team="team")
    table = lead_score_calibration(model, test, n_bins=5)
    # The attributes carry a signal: the top fifth wins far more often than the bottom one,
    # and each fifth's observed rate is near its predicted one.
    assert table["observed"].iloc[-1] - table["observed"].iloc[0] > 0.3
    assert (table["observed"] - table["predicted"]).abs().max() < 0.08


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_leads": 0}, "n_leads"),
        ({"n_teams": 27}, "n_teams"),
        ({"open_share": 1.5}, "open_share"),
        ({"start": "2025-01-01", "end": "2024-01-01"}, "end"),
    ],
)
def test_lead_history_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    from crmcore.datasets import lead_history

    with pytest.raises(ConfigError, match=match):
        lead_history(**kwargs)
