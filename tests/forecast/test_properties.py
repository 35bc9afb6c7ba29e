"""Hypothesis properties of the forecast area (issue 13's "Done when" list)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.forecast import backtest, sales_forecast, seasonal_weights
from helpers import call_unmutated, shuffled

sales = st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False)
# Short monthly histories keep the ETS fits out of most examples (auto falls back under 24
# months); the ETS paths have their own tests.
quick_methods = st.sampled_from(["seasonal_naive", "drift", "auto"])


@st.composite
def monthly(
    draw: st.DrawFn, min_size: int = 3, max_size: int = 23, low: float = 0.0
) -> pd.DataFrame:
    values = draw(st.lists(st.floats(low, 1e6), min_size=min_size, max_size=max_size))
    start = draw(st.sampled_from(["2020-01", "2020-05", "2021-11"]))
    return pd.DataFrame(
        {"date": pd.period_range(start, periods=len(values), freq="M"), "amount": values}
    )


@st.composite
def grouped(draw: st.DrawFn) -> pd.DataFrame:
    frames = []
    for key in draw(st.lists(st.sampled_from("abcd"), min_size=1, max_size=4, unique=True)):
        values = draw(st.lists(sales, min_size=3, max_size=20))
        frames.append(
            pd.DataFrame(
                {
                    "date": pd.period_range(end="2023-12", periods=len(values), freq="M"),
                    "amount": values,
                    "team": key,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _usable(method: str, n: int) -> bool:
    return n >= 13 if method == "seasonal_naive" else True


@given(history=monthly(min_size=24, max_size=48, low=0.01), start_quarter=st.booleans())
def test_weights_are_a_profile(history: pd.DataFrame, start_quarter: bool) -> None:
    period = "M"
    if start_quarter:
        history = (
            history.assign(date=history["date"].dt.asfreq("Q"))
            .groupby("date", as_index=False)["amount"]
            .sum()
        )
        period = "Q"
        if len(history) < 8:
            return
    weights = call_unmutated(seasonal_weights, history, period=period)
    assert len(weights) == (12 if period == "M" else 4)
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert (weights >= 0).all()


@given(history=monthly(), method=quick_methods, horizon=st.integers(1, 30))
def test_intervals_hold_the_forecast_nest_by_level_and_stay_non_negative(
    history: pd.DataFrame, method: str, horizon: int
) -> None:
    if not _usable(method, len(history)):
        return
    result = call_unmutated(
        sales_forecast, history, horizon=horizon, method=method, levels=(0.5, 0.8, 0.95)
    )
    f = result.forecast
    assert len(f) == horizon
    assert (f.to_numpy() >= 0).all()
    assert (f["lower_95"] <= f["lower_80"]).all()
    assert (f["lower_80"] <= f["lower_50"]).all()
    assert (f["lower_50"] <= f["forecast"]).all()
    assert (f["forecast"] <= f["upper_50"]).all()
    assert (f["upper_50"] <= f["upper_80"]).all()
    assert (f["upper_80"] <= f["upper_95"]).all()
    assert f.index.is_monotonic_increasing
    assert f.index[0] == result.last_period + 1


@given(history=monthly(), method=st.sampled_from(["seasonal_naive", "drift"]))
def test_intervals_widen_with_the_horizon(history: pd.DataFrame, method: str) -> None:
    # Without the clipping at zero (refunds allowed) the widths are the method's spread.
    if not _usable(method, len(history)):
        return
    f = sales_forecast(history, horizon=36, method=method, refunds="allow").forecast
    for level in ("80", "95"):
        width = (f[f"upper_{level}"] - f[f"lower_{level}"]).to_numpy()
        assert (np.diff(width) >= -1e-9 * max(1.0, width.max())).all()


@given(history=grouped(), method=quick_methods, seed=st.integers(0, 10**6))
def test_a_group_equals_a_call_on_that_group_alone(
    history: pd.DataFrame, method: str, seed: int
) -> None:
    lengths = history.groupby("team").size()
    if not all(_usable(method, n) for n in lengths):
        return
    together = call_unmutated(
        sales_forecast, shuffled(history, seed), by="team", horizon=4, method=method
    )
    for team, rows in history.groupby("team"):
        alone = sales_forecast(rows, by="team", horizon=4, method=method, as_of="2023-12-31")
        got = together.forecast[together.forecast["team"] == team]
        pd.testing.assert_frame_equal(got, alone.forecast, check_exact=True)
        models = together.models[together.models["team"] == team].reset_index(drop=True)
        pd.testing.assert_frame_equal(models, alone.models, check_exact=True)


@given(history=grouped())
def test_backtest_is_unchanged_by_row_order(history: pd.DataFrame) -> None:
    if (history.groupby("team").size() < 5).any():
        return
    first = call_unmutated(backtest, history, by="team", horizon=1, n_origins=2, methods=["drift"])
    again = backtest(shuffled(history, 3), by="team", horizon=1, n_origins=2, methods=["drift"])
    pd.testing.assert_frame_equal(first.scores, again.scores, check_exact=True)
    scores = first.scores
    assert ((scores["coverage_80"] >= 0) & (scores["coverage_80"] <= 1)).all()
    assert (scores["rmse"] >= scores["mae"] - 1e-9).all()


@pytest.mark.slow
@settings(max_examples=3)
@given(seed=st.integers(0, 1000))
def test_grouped_ets_equals_per_group(seed: int) -> None:
    rng = np.random.default_rng(seed)
    months = pd.period_range("2020-01", periods=30, freq="M")
    season = 1 + 0.3 * np.sin(np.arange(30) * np.pi / 6)
    frames = [
        pd.DataFrame(
            {
                "date": months,
                "amount": 100 * (k + 1) * season * rng.lognormal(0, 0.05, 30),
                "team": name,
            }
        )
        for k, name in enumerate(["x", "y"])
    ]
    history = pd.concat(frames, ignore_index=True)
    together = sales_forecast(history, by="team", horizon=6, method="ets")
    for frame in frames:
        alone = sales_forecast(frame, by="team", horizon=6, method="ets")
        team = frame["team"].iloc[0]
        got = together.forecast[together.forecast["team"] == team]
        pd.testing.assert_frame_equal(got, alone.forecast, check_exact=True)
