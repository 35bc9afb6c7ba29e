"""seasonal_weights: hand-worked profiles, agreement with statsmodels, trend robustness, quota."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmcore.errors import DataError
from crmcore.forecast import seasonal_weights
from crmcore.quota import build_plan, seasonal_split
from helpers import call_unmutated

DATA = Path(__file__).resolve().parents[1] / "data"


def _monthly(values: np.ndarray, start: str = "2020-01") -> pd.DataFrame:
    return pd.DataFrame(
        {"date": pd.period_range(start, periods=len(values), freq="M"), "amount": values}
    )


def test_stable_pattern_by_hand() -> None:
    # Every centred 2x4 average is (0.5*100 + 200 + 300 + 400 + 0.5*100) / 4 = 250, so the
    # ratios are 0.4, 0.8, 1.2, 1.6 and the weights 0.1, 0.2, 0.3, 0.4.
    history = pd.DataFrame(
        {
            "date": pd.period_range("2022Q1", periods=8, freq="Q"),
            "amount": [100.0, 200, 300, 400] * 2,
        }
    )
    weights = call_unmutated(seasonal_weights, history, period="Q")
    pd.testing.assert_series_equal(
        weights,
        pd.Series([0.1, 0.2, 0.3, 0.4], index=pd.RangeIndex(1, 5, name="quarter"), name="weight"),
        rtol=1e-12,
    )


def test_a_pure_trend_has_no_season() -> None:
    # The centred average of a straight line is the line itself: every ratio is 1.
    weights = seasonal_weights(_monthly(np.linspace(100, 500, 36)))
    np.testing.assert_allclose(weights, np.full(12, 1 / 12), rtol=1e-12)
    assert weights.index.name == "month"
    assert weights.index.tolist() == list(range(1, 13))


def test_growth_does_not_shift_weight_to_later_months() -> None:
    pattern = np.array([6, 6, 7, 8, 8, 9, 9, 9, 8, 10, 10, 10], dtype=float)
    pattern /= pattern.sum()
    growth = 1.04 ** np.arange(48)  # about 60 % a year
    history = _monthly(1000 * growth * np.tile(pattern * 12, 4))
    weights = seasonal_weights(history)
    np.testing.assert_allclose(weights, pattern, atol=0.002)
    # Plain shares of the sales would put far too much weight on December.
    shares = history.groupby(history["date"].dt.month)["amount"].sum()
    assert shares.iloc[-1] / shares.sum() > pattern[-1] + 0.02


def test_weights_follow_calendar_months_whatever_the_first_month() -> None:
    pattern = np.arange(1.0, 13.0)
    from_january = seasonal_weights(_monthly(np.tile(pattern, 3)))
    from_july = seasonal_weights(_monthly(np.tile(np.roll(pattern, -6), 3), start="2020-07"))
    np.testing.assert_allclose(from_july, from_january, rtol=1e-12)
    np.testing.assert_allclose(from_january, pattern / pattern.sum(), rtol=1e-12)


def test_agrees_with_statsmodels_classical_decomposition_on_wine_sales() -> None:
    tsa = pytest.importorskip("statsmodels.tsa.seasonal")
    raw = pd.read_csv(DATA / "wineind.csv")
    history = pd.DataFrame(
        {"date": pd.PeriodIndex(raw["month"], freq="M"), "amount": raw["sales"].astype(float)}
    )
    decomposition = tsa.seasonal_decompose(
        raw["sales"].to_numpy(dtype=float), model="multiplicative", period=12
    )
    # statsmodels scales the factors to average 1; the series starts in January.
    expected = decomposition.seasonal[:12] / 12
    np.testing.assert_allclose(seasonal_weights(history), expected, rtol=1e-12)


def test_weights_split_a_target_with_quota() -> None:
    history = pd.DataFrame(
        {
            "date": pd.period_range("2022Q1", periods=8, freq="Q"),
            "amount": [100.0, 200, 300, 400] * 2,
        }
    )
    weights = seasonal_weights(history, period="Q")
    # The one-line recipe: quota takes the fractions as they are.
    split = seasonal_split(1_000_000, seasonal_weights(history, period="Q"))
    assert split.tolist() == [100_000, 200_000, 300_000, 400_000]
    assert split.index.tolist() == [1, 2, 3, 4]
    pd.testing.assert_series_equal(split, seasonal_split(1_000_000, 100 * weights))


def test_weights_are_a_plan_distribution() -> None:
    history = _monthly(np.tile(np.arange(1.0, 13.0), 3))
    people = pd.DataFrame(
        {"region": ["N", "N", "S"], "person": ["a", "b", "c"], "weight": [2, 1, 1]}
    )
    plan = build_plan(people, 7_800_000, distribution=seasonal_weights(history))
    assert plan.check()
    months = plan.pivot().loc["total"].drop("total")
    # Month m's share of the year is m / 78: 100,000 cents per unit of the pattern.
    assert months.tolist() == [100_000 * m for m in range(1, 13)]
    assert plan.table.groupby("person")["quota_cents"].sum().tolist() == [
        3_900_000,
        1_950_000,
        1_950_000,
    ]


def test_transactions_are_summed_first() -> None:
    dates = pd.date_range("2022-01-01", "2023-12-31", freq="D")
    history = pd.DataFrame({"date": dates, "amount": np.where(dates.month == 12, 3.0, 1.0)})
    weights = seasonal_weights(history)
    assert weights.idxmax() == 12
    assert weights.sum() == pytest.approx(1.0)


def test_needs_two_full_seasons() -> None:
    with pytest.raises(DataError, match=r"has 23 monthly period\(s\); seasonal_weights"):
        seasonal_weights(_monthly(np.ones(23)))


def test_negative_net_sales_in_a_period() -> None:
    tx = pd.DataFrame(
        {
            "date": [
                *pd.date_range("2022-01-31", periods=24, freq="ME"),
                pd.Timestamp("2022-03-15"),
            ],
            "amount": [1.0] * 24 + [-5.0],
        }
    )
    with pytest.raises(DataError, match=r"negative value -5\.0 at row 24"):
        seasonal_weights(tx)
    # Refunds allowed, the rows may be negative but not a period's net sales.
    with pytest.raises(DataError, match=r"net sales -4\.0 in period 2022-03"):
        seasonal_weights(tx, refunds="allow")
    tx.loc[24, "amount"] = -0.5
    assert seasonal_weights(tx, refunds="allow").sum() == pytest.approx(1.0)


def test_no_sales_around_a_month() -> None:
    values = np.ones(24)
    values[:] = 0.0
    values[0] = 1.0
    with pytest.raises(DataError, match="no sales around month 1 in any year"):
        seasonal_weights(_monthly(values))
