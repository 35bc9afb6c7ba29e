"""Tests for crmcore.kpi.levels: assign_levels and assign_levels_over_time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ConfigError, DataError, SchemaError
from crmcore.kpi import Metric, Scorecard, assign_levels, assign_levels_over_time, score_scorecard
from helpers import call_unmutated, shuffled

SCORES = pd.DataFrame({"total": [0.3, 0.5, 0.79, 0.8, 1.2]}, index=list("abcde"))


def test_default_thresholds_bounds_are_inclusive():
    # junior [0, 0.5), mid [0.5, 0.8), senior [0.8, inf)
    got = call_unmutated(assign_levels, SCORES)
    assert got["level"].tolist() == ["junior", "mid", "mid", "senior", "senior"]
    assert got["level"].cat.ordered
    assert list(got["level"].cat.categories) == ["junior", "mid", "senior"]
    pd.testing.assert_frame_equal(got.drop(columns="level"), SCORES)


def test_sequence_thresholds_with_labels_and_minus_infinity():
    s = pd.DataFrame({"total": [-2.0, 0.1, 0.6]})
    got = assign_levels(s, thresholds=[-np.inf, 0.0, 0.5], labels=["C", "B", "A"])
    assert got["level"].tolist() == ["C", "B", "A"]


def test_quantiles_within_each_period():
    # period 1: scores 1..5, median 3, q0.8 = 4.2 -> 1,2 low; 3,4 mid; 5 top
    # period 2: scores 10, 20 -> median 15, q0.8 = 18 -> 10 low, 20 top
    s = pd.DataFrame({"period": [1] * 5 + [2] * 2, "total": [1.0, 2, 3, 4, 5, 10, 20]})
    got = assign_levels(s, quantiles={"low": 0, "mid": 0.5, "top": 0.8}, period_column="period")
    assert got["level"].tolist() == ["low", "low", "mid", "mid", "top", "low", "top"]


def test_quantiles_give_equal_scores_equal_levels():
    s = pd.DataFrame({"total": [1.0, 1.0, 1.0, 1.0]})
    got = assign_levels(s, quantiles={"low": 0, "high": 0.5})
    assert got["level"].nunique() == 1


def test_period_may_be_an_index_level_of_score_scorecard_output():
    frame = pd.DataFrame(
        {"period": [1, 1, 2, 2], "person": ["a", "b", "a", "b"], "x": [1.0, 2.0, 4.0, 3.0]}
    )
    scores = score_scorecard(
        frame, Scorecard(metrics=[Metric(column="x", weight=1)]), period_column="period"
    )
    got = assign_levels(scores, quantiles={"low": 0, "high": 0.75}, period_column="period")
    assert got["level"].tolist() == ["low", "high", "high", "low"]


H = pd.DataFrame(
    {
        "person": ["ann"] * 6,
        "period": [1, 2, 3, 4, 5, 6],
        # raw: junior, mid, senior, mid, junior, junior
        "total": [0.4, 0.6, 0.9, 0.7, 0.1, 0.2],
    }
)


def test_hysteresis_promotes_after_n_periods_to_the_lowest_level_of_the_run():
    got = call_unmutated(assign_levels_over_time, H, promote_after=2, demote_after=2)
    assert got["raw_level"].tolist() == ["junior", "mid", "senior", "mid", "junior", "junior"]
    # p2 above (run 1), p3 above (run 2: promote to min(mid, senior) = mid); p4 mid = current;
    # p5 below (run 1), p6 below (run 2: demote to max(junior, junior) = junior)
    assert got["level"].tolist() == ["junior", "junior", "mid", "mid", "mid", "junior"]
    assert list(got.columns) == ["score", "raw_level", "level"]
    assert got.index.names == ["period", "person"]


def test_counts_of_one_follow_the_raw_level():
    got = assign_levels_over_time(H)
    assert got["level"].tolist() == got["raw_level"].tolist()


def test_a_missing_period_breaks_the_run():
    h = pd.DataFrame({"person": ["a"] * 4, "period": [1, 2, 4, 5], "total": [0.1, 0.9, 0.9, 0.1]})
    # also bob in period 3, so period 3 exists but 'a' has no score there
    h = pd.concat([h, pd.DataFrame({"person": ["b"], "period": [3], "total": [0.1]})])
    got = assign_levels_over_time(h, promote_after=2)
    a = got.xs("a", level="person")["level"].tolist()
    # run at p2 is broken by the absence at p3; p4 starts a new run of 1 -> never promoted
    assert a == ["junior", "junior", "junior", "junior"]


def test_initial_lowest_and_quantile_scheme():
    h = pd.DataFrame(
        {
            "person": ["a", "b"] * 3,
            "period": [1, 1, 2, 2, 3, 3],
            "total": [0.9, 0.1, 0.9, 0.2, 0.8, 0.3],
        }
    )
    got = assign_levels_over_time(
        h, quantiles={"low": 0, "high": 0.5}, promote_after=2, initial="lowest"
    )
    # a is 'high' in every period (above the median) -> starts low, promoted after p2
    assert got.xs("a", level="person")["level"].tolist() == ["low", "high", "high"]
    assert got.xs("b", level="person")["level"].tolist() == ["low", "low", "low"]


@st.composite
def histories(draw: st.DrawFn) -> pd.DataFrame:
    n_people = draw(st.integers(1, 5))
    n_periods = draw(st.integers(1, 8))
    rows = [
        (f"p{i}", t)
        for i in range(n_people)
        for t in range(n_periods)
        if draw(st.booleans()) or t == 0
    ]
    totals = draw(st.lists(st.integers(0, 10), min_size=len(rows), max_size=len(rows)))
    return pd.DataFrame(
        {
            "person": [r[0] for r in rows],
            "period": [r[1] for r in rows],
            "total": np.asarray(totals, dtype=float) / 10,
        }
    )


@given(histories(), st.integers(1, 3), st.integers(1, 3), st.integers(0, 99))
def test_hysteresis_properties(h, up, down, seed):
    got = assign_levels_over_time(h, promote_after=up, demote_after=down)
    again = assign_levels_over_time(shuffled(h, seed), promote_after=up, demote_after=down)
    pd.testing.assert_frame_equal(got, again)
    assert len(got) == len(h)
    for _, g in got.groupby(level="person"):
        lv = g["level"].cat.codes.to_numpy()
        raw = g["raw_level"].cat.codes.to_numpy()
        assert lv[0] == raw[0]
        for t in range(1, len(lv)):
            if lv[t] > lv[t - 1]:  # moved up: the raw level is at least the new level now
                assert raw[t] >= lv[t]
            if lv[t] < lv[t - 1]:
                assert raw[t] <= lv[t]
    if up == 1 and down == 1:
        assert got["level"].tolist() == got["raw_level"].tolist()


@given(st.lists(st.floats(0, 1), min_size=1, max_size=20), st.integers(0, 99))
def test_levels_are_monotone_in_the_score_and_order_free(values, seed):
    s = pd.DataFrame({"total": values})
    for kw in ({}, {"quantiles": {"c": 0, "b": 0.4, "a": 0.9}}):
        got = assign_levels(s, **kw)
        codes = got["level"].cat.codes.to_numpy()
        order = np.argsort(np.asarray(values), kind="stable")
        assert (np.diff(codes[order]) >= 0).all()
        shuffled_got = assign_levels(shuffled(s, seed), **kw)
        pd.testing.assert_series_equal(shuffled_got["level"].sort_index(), got["level"])


@pytest.mark.parametrize(
    ("kw", "exc", "match"),
    [
        ({"thresholds": {"a": 0}, "quantiles": {"a": 0}}, ConfigError, "not both"),
        ({"thresholds": {"a": 0.5, "b": 0.5}}, ConfigError, "increase strictly"),
        ({"thresholds": {"a": 0.8, "b": 0.5}}, ConfigError, r"'b' \(0\.5\) is not above 'a'"),
        ({"thresholds": [0, 0.5]}, ConfigError, "needs labels="),
        ({"thresholds": [0, 0.5], "labels": ["a"]}, ConfigError, "2 bounds but labels has 1"),
        ({"thresholds": {"a": 0}, "labels": ["a"]}, ConfigError, "do not pass labels"),
        ({"thresholds": {}}, ConfigError, "is empty"),
        ({"thresholds": {"a": float("nan")}}, ConfigError, "must be a number"),
        ({"thresholds": {"a": 0, "b": float("inf")}}, ConfigError, "only the lowest"),
        ({"quantiles": {"a": 0.1, "b": 0.5}}, ConfigError, "must start at quantile 0"),
        ({"quantiles": {"a": 0, "b": 1.5}}, ConfigError, "must be <= 1"),
        ({"thresholds": [0, 1], "labels": ["a", "a"]}, ConfigError, "labels repeat"),
        ({"score": "points"}, SchemaError, "missing column 'points'"),
    ],
)
def test_bad_level_schemes(kw, exc, match):
    with pytest.raises(exc, match=match):
        assign_levels(SCORES, **kw)


@pytest.mark.parametrize(
    ("frame", "kw", "exc", "match"),
    [
        (pd.DataFrame({"total": [0.1, np.nan]}), {}, DataError, "NaN at row 1"),
        (
            pd.DataFrame({"total": [0.1, -0.2]}),
            {},
            DataError,
            r"total -0\.2 at row 1 below the lowest threshold 0",
        ),
        (pd.DataFrame({"total": []}), {}, SchemaError, "is empty"),
        ([0.1, 0.2], {}, Exception, "must be a pandas DataFrame"),
    ],
)
def test_bad_scores(frame, kw, exc, match):
    with pytest.raises(exc, match=match):
        assign_levels(frame, **kw)


@pytest.mark.parametrize(
    ("frame", "kw", "exc", "match"),
    [
        (H, {"promote_after": 0}, ConfigError, "promote_after == 0, must be >= 1"),
        (H, {"demote_after": 1.5}, ConfigError, "demote_after must be int"),
        (H, {"initial": "top"}, ConfigError, "initial='top' is not one of"),
        (H.iloc[[0, 0]], {}, DataError, "second row for person 'ann' and period 1"),
        (H.drop(columns="period"), {}, SchemaError, "no column or index level 'period'"),
        (
            H.assign(total=[0.1, np.nan, 0, 0, 0, 0]),
            {},
            DataError,
            r"NaN at row 1 \(person='ann'\)",
        ),
        (H.iloc[:0], {}, SchemaError, "is empty"),
    ],
)
def test_bad_histories(frame, kw, exc, match):
    with pytest.raises(exc, match=match):
        assign_levels_over_time(frame, **kw)


def test_periods_mixing_numbers_and_text_are_an_error() -> None:
    # issue 14 catalogue: periods 1 and "1" were two periods of one person
    history = pd.DataFrame(
        {"person": ["ann", "ann", "bob"], "period": [1, "1", 1], "total": [0.2, 0.9, 0.5]},
        index=["r1", "r2", "r3"],
    )
    with pytest.raises(
        DataError, match=r"'period' of .* mixes number 1 .* and text '1' \(row 'r2'"
    ):
        assign_levels_over_time(history)


def test_quantile_levels_of_scores_spread_past_the_largest_float() -> None:
    # The median of -1.7e308, -1e308, 1e308, 1.7e308 lies halfway between -1e308 and 1e308: 0;
    # the 0.8 quantile at position 2.4 is 1e308 + 0.4 * 7e307 = 1.28e308. Before, pandas'
    # interpolation overflowed (1e308 - -1e308) and put 1e308 in the lowest level, silently.
    scores = pd.DataFrame({"total": [-1.7e308, -1e308, 1e308, 1.7e308]}, index=list("abcd"))
    got = call_unmutated(assign_levels, scores, quantiles={"junior": 0, "mid": 0.5, "senior": 0.8})
    assert got["level"].tolist() == ["junior", "junior", "mid", "senior"]
