"""sales_forecast: hand-worked benchmarks, ETS agreement with statsmodels, groups, quota."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmcore.errors import ConfigError, MissingDependencyError
from crmcore.forecast import SalesForecast, sales_forecast
from crmcore.forecast._ets import candidates
from crmcore.quota import allocate, apportion
from helpers import call_unmutated

DATA = Path(__file__).resolve().parents[1] / "data"
Z80 = 1.2815515655446004  # standard normal 90 % quantile: the 80 % two-sided multiplier
Z95 = 1.959963984540054


def _quarters(values: list[float], start: str = "2022Q1") -> pd.DataFrame:
    return pd.DataFrame(
        {"date": pd.period_range(start, periods=len(values), freq="Q"), "amount": values}
    )


def wineind() -> pd.DataFrame:
    """Australian wine sales, monthly, Jan 1980 - Aug 1994 (tests/data/README_forecast.md)."""
    raw = pd.read_csv(DATA / "wineind.csv")
    return pd.DataFrame(
        {"date": pd.PeriodIndex(raw["month"], freq="M"), "amount": raw["sales"].astype(float)}
    )


def test_seasonal_naive_by_hand() -> None:
    # Two seasons; every seasonal difference is 2, so the residual sd is sqrt(4 * 2^2 / 4) = 2
    # (FPP3 section 5.5: no parameter, m missing residuals). The h-step sd is 2 * sqrt(k + 1)
    # with k = (h - 1) // 4 whole seasons: 2 for h = 1..4, 2 * sqrt(2) for h = 5.
    history = _quarters([10.0, 20, 30, 40, 12, 22, 32, 42])
    result = call_unmutated(sales_forecast, history, period="Q", horizon=5, method="seasonal_naive")
    frame = result.forecast
    assert frame.index.astype(str).tolist() == ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1"]
    np.testing.assert_allclose(frame["forecast"], [12, 22, 32, 42, 12])
    sd = np.array([2, 2, 2, 2, 2 * np.sqrt(2)])
    np.testing.assert_allclose(frame["lower_80"], frame["forecast"] - Z80 * sd)
    np.testing.assert_allclose(frame["upper_95"], frame["forecast"] + Z95 * sd)
    assert list(frame.columns) == ["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert frame.index.name == "period"
    assert result.models["model"].tolist() == ["seasonal_naive"]
    assert np.isnan(result.models["aicc"].iloc[0])


def test_drift_by_hand() -> None:
    # y = 10, 13, 15, 20: slope (20 - 10) / 3; residuals of the changes 3, 2, 5 around it are
    # -1/3, -4/3, 5/3, sum of squares 42/9 over T - K - M = 4 - 1 - 1 = 2 degrees of freedom.
    # h-step sd = s * sqrt(h * (1 + h / (T - 1))) (FPP3 section 5.5, Table 5.2).
    history = _quarters([10.0, 13, 15, 20])
    result = sales_forecast(history, period="Q", horizon=2, method="drift", levels=[0.8])
    s = np.sqrt(42 / 9 / 2)
    h = np.array([1.0, 2.0])
    sd = s * np.sqrt(h * (1 + h / 3))
    np.testing.assert_allclose(result.forecast["forecast"], 20 + h * 10 / 3)
    np.testing.assert_allclose(result.forecast["upper_80"], 20 + h * 10 / 3 + Z80 * sd)
    assert list(result.forecast.columns) == ["forecast", "lower_80", "upper_80"]


def test_level_labels_follow_the_levels() -> None:
    result = sales_forecast(
        _quarters([1.0, 2, 3]), period="Q", horizon=1, levels=np.array([0.975, 0.5])
    )
    assert (
        sales_forecast(_quarters([1.0, 2, 3]), period="Q", horizon=1, levels=0.9).forecast.columns[
            1
        ]
        == "lower_90"
    )
    assert list(result.forecast.columns) == [
        "forecast",
        "lower_50",
        "upper_50",
        "lower_97.5",
        "upper_97.5",
    ]


def test_forecasts_and_intervals_never_go_negative_unless_refunds_are_allowed() -> None:
    falling = _quarters([40.0, 30, 20, 10])
    result = sales_forecast(falling, period="Q", horizon=4, method="drift")
    np.testing.assert_allclose(result.forecast["forecast"], [0.0, 0.0, 0.0, 0.0])
    assert (result.forecast >= 0).all().all()
    allowed = sales_forecast(falling, period="Q", horizon=4, method="drift", refunds="allow")
    np.testing.assert_allclose(allowed.forecast["forecast"], [0.0, -10.0, -20.0, -30.0])


def test_auto_chooses_by_the_length_of_each_series() -> None:
    months = pd.period_range("2020-01", periods=30, freq="M")
    rng = np.random.default_rng(1)
    long = 100 + 20 * np.sin(np.arange(30) * np.pi / 6) + rng.normal(0, 3, 30)
    frame = pd.DataFrame(
        {
            "date": list(months) + list(months[-15:]) + list(months[-5:]),
            "amount": list(long) + list(long[-15:]) + list(long[-5:]),
            "product": ["long"] * 30 + ["medium"] * 15 + ["new"] * 5,
        }
    )
    result = sales_forecast(frame, by="product", horizon=3)
    models = result.models.set_index("product")
    assert models.loc["long", "model"].startswith("ETS(")
    assert np.isfinite(models.loc["long", "aicc"])
    assert models.loc["medium", "model"] == "seasonal_naive"
    assert models.loc["new", "model"] == "drift"
    assert models["periods"].tolist() == [30, 15, 5]
    assert models["first_period"].astype(str).tolist() == ["2020-01", "2021-04", "2022-02"]
    assert result.forecast["product"].tolist() == ["long"] * 3 + ["medium"] * 3 + ["new"] * 3


def test_constant_history_gets_a_flat_forecast_without_spread() -> None:
    result = sales_forecast(_quarters([5.0] * 12), period="Q", horizon=2)
    assert result.models["model"].tolist() == ["seasonal_naive"]
    np.testing.assert_allclose(result.forecast.to_numpy(), 5.0)


def test_ets_agrees_with_statsmodels_on_wine_sales() -> None:
    statsmodels_ets = pytest.importorskip("statsmodels.tsa.exponential_smoothing.ets")
    history = wineind()
    result = sales_forecast(history, horizon=12)
    y = history["amount"].to_numpy()
    aicc = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for error, trend, damped, seasonal in candidates(True, 12):
            fit = statsmodels_ets.ETSModel(
                pd.Series(y),
                error=error,
                trend=trend,
                damped_trend=damped,
                seasonal=seasonal,
                seasonal_periods=12 if seasonal else None,
            ).fit(disp=False)
            aicc[(error, trend, damped, seasonal)] = (fit.aicc, fit)
    best = min(aicc, key=lambda k: aicc[k][0])
    short = {None: "N", "add": "A", "mul": "M"}
    name = f"ETS({short[best[0]]},{short[best[1]]}{'d' if best[2] else ''},{short[best[3]]})"
    assert result.models["model"].tolist() == [name]
    assert result.models["aicc"].iloc[0] == pytest.approx(aicc[best][0])
    expected = aicc[best][1].forecast(12)
    np.testing.assert_allclose(result.forecast["forecast"], expected, rtol=1e-9)
    assert result.forecast.index[0] == pd.Period("1994-09", freq="M")
    frame = result.forecast
    assert (frame["lower_95"] <= frame["lower_80"]).all()
    assert (frame["lower_80"] <= frame["forecast"]).all()
    assert (frame["upper_80"] <= frame["upper_95"]).all()


def test_ets_candidates_are_those_of_forecast_ets() -> None:
    # R forecast::ets (Hyndman et al. 2008): 15 models on positive seasonal data without a
    # multiplicative trend; additive error with a multiplicative season left out.
    assert len(candidates(True, 12)) == 15
    assert len(candidates(False, 12)) == 6
    assert len(candidates(True, 1)) == 6
    assert len(candidates(True, 52)) == 6  # seasons over 24 periods: no seasonal models


def test_simulated_intervals_are_seeded() -> None:
    history = wineind()
    first = sales_forecast(history, horizon=3, seed=7).forecast
    again = sales_forecast(history, horizon=3, seed=7).forecast
    pd.testing.assert_frame_equal(first, again)


def test_missing_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "statsmodels.tsa.exponential_smoothing.ets", None)
    history = wineind()
    with pytest.raises(MissingDependencyError, match=r"pip install -e '\.\[forecast\]'"):
        sales_forecast(history, horizon=2)
    # The own methods need nothing more.
    assert len(sales_forecast(history, horizon=2, method="seasonal_naive").forecast) == 2


def test_territory_forecasts_weigh_a_quota() -> None:
    # Market demand by territory: the forecast totals are apportionment weights, and the
    # parts add up to the target exactly.
    months = pd.period_range("2023-01", periods=6, freq="M")
    history = pd.DataFrame(
        {
            "date": list(months) * 2,
            "territory": ["North"] * 6 + ["South"] * 6,
            "amount": [10.0, 11, 12, 13, 14, 15, 30, 30, 30, 30, 30, 30],
        }
    )
    result = sales_forecast(history, by="territory", horizon=3, method="drift")
    demand = result.totals()
    assert demand.to_dict() == {"North": pytest.approx(16 + 17 + 18), "South": 90.0}
    quota = apportion(1_000_000, demand)
    assert quota.sum() == 1_000_000
    np.testing.assert_array_equal(quota, [361_702, 638_298])


def test_territory_forecasts_feed_allocate() -> None:
    months = pd.period_range("2023-01", periods=6, freq="M")
    history = pd.DataFrame(
        {
            "date": list(months) * 2,
            "territory": ["South"] * 6 + ["North"] * 6,
            "amount": [30.0] * 6 + [10.0, 11, 12, 13, 14, 15],
        }
    )
    demand = sales_forecast(history, by="territory", horizon=3, method="drift").totals()
    plan = allocate(demand.rename("weight").reset_index(), 1_000_000, key="territory")
    assert plan["quota_cents"].to_dict() == {"North": 361_702, "South": 638_298}
    assert plan["share"].sum() == pytest.approx(1.0)


def test_totals_need_groups() -> None:
    result = sales_forecast(_quarters([1.0, 2, 3]), period="Q", horizon=1)
    with pytest.raises(ConfigError, match="totals\\(\\) needs a forecast made with by="):
        result.totals()


def test_result_is_a_frozen_value() -> None:
    result = sales_forecast(_quarters([1.0, 2, 3]), period="Q", horizon=1)
    assert isinstance(result, SalesForecast)
    with pytest.raises(AttributeError):
        result.period = "M"  # type: ignore[misc]
    assert result.forecast.attrs == {}


def test_two_group_columns() -> None:
    months = pd.period_range("2024-01", periods=4, freq="M")
    history = pd.DataFrame(
        {
            "date": list(months) * 2,
            "region": ["EU"] * 8,
            "person": ["ann"] * 4 + ["bob"] * 4,
            "amount": [1.0, 2, 3, 4, 4, 3, 2, 1],
        }
    )
    result = sales_forecast(history, by=["region", "person"], horizon=1, method="drift")
    assert list(result.forecast.columns[:2]) == ["region", "person"]
    assert result.forecast["person"].tolist() == ["ann", "bob"]
    np.testing.assert_allclose(result.forecast["forecast"], [5.0, 0.0])
    assert result.totals().index.names == ["region", "person"]


@pytest.mark.parametrize(
    ("period", "dates", "method", "first", "model"),
    [
        # Weeks start on Monday (ISO 8601); one season is 52 weeks, so 8 weeks get drift.
        ("W", pd.date_range("2024-01-01", periods=8, freq="W-SUN"), "auto", "2024-02-26", "drift"),
        # Days: a season is a week; 12 days are more than one week, less than two: seasonal
        # naive (two weeks would get ETS).
        (
            "D",
            pd.date_range("2024-01-01", periods=12, freq="D"),
            "auto",
            "2024-01-13",
            "seasonal_naive",
        ),
        # Years have no season: drift.
        ("Y", pd.date_range("2019-12-31", periods=5, freq="YE"), "auto", "2024", "drift"),
    ],
)
def test_other_periods(
    period: str, dates: pd.DatetimeIndex, method: str, first: str, model: str
) -> None:
    history = pd.DataFrame({"date": dates, "amount": np.arange(1.0, len(dates) + 1)})
    result = sales_forecast(history, period=period, horizon=2, method=method)
    assert result.models["model"].tolist() == [model]
    assert str(result.forecast.index[0]).startswith(first)
    assert result.incomplete_period is None


def test_amounts_near_the_float_limit_give_finite_bands() -> None:
    # issue 14 catalogue: the residual sd squared amounts near 1e307 (a RuntimeWarning and
    # infinite bands); in units of the largest residual it is the same sd, scaled
    small = _quarters([1.0, 2.0, 3.0, 4.0, 1.5, 2.5, 3.5, 4.5, 2.0, 3.0, 4.0, 5.0])
    big = small.assign(amount=small["amount"] * 1e307)
    got = sales_forecast(big, period="Q", horizon=2, method="seasonal_naive").forecast
    want = sales_forecast(small, period="Q", horizon=2, method="seasonal_naive").forecast
    assert np.isfinite(got.to_numpy()).all()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy() * 1e307, rtol=1e-12)


@pytest.mark.parametrize("horizon", [100_001, 10**9, 2**62])
def test_a_horizon_beyond_the_cap_is_refused(horizon: int) -> None:
    # issue 14 catalogue: horizon=10**9 tried to allocate 7.45 GiB (MemoryError)
    with pytest.raises(ConfigError, match=r"horizon == .*, must be <= 100000"):
        sales_forecast(_quarters([1.0, 2.0, 3.0, 4.0]), period="Q", horizon=horizon)


def test_a_horizon_beyond_2262_gives_periods() -> None:
    # the periods after 2262 are beyond nanoseconds but not beyond the result's Periods
    history = _quarters([1.0, 2.0, 3.0, 4.0, 1.5, 2.5, 3.5, 4.5])
    out = sales_forecast(history, period="Q", horizon=2, as_of=np.datetime64("2500-12-31", "s"))
    assert len(out.forecast) == 2


def test_an_as_of_beyond_2262_with_nanosecond_dates() -> None:
    # issue 14 catalogue: a grid reaching past 2262 could not be compared with ns dates
    days = pd.to_datetime(["2024-01-15", "2024-02-03", "2024-03-09", "2024-04-02"]).as_unit("ns")
    history = pd.DataFrame({"date": days, "amount": [100.0, 60.0, 150.0, 20.0]})
    out = sales_forecast(
        history, horizon=1, method="drift", as_of=np.datetime64("2300-01-01", "s"), levels=[0.8]
    )
    assert out.last_period == pd.Period("2299-12", "M")
