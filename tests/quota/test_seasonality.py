"""Tests of crmcore.quota.seasonality: seasonal splits (percentages or fractions) and ramps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ConfigError
from crmcore.quota import ramp_factors, seasonal_split
from helpers import call_unmutated
from strategies_quota import METHOD_NAMES

MONTHS = pd.period_range("2025-01", periods=12, freq="M")


# ---------------------------------------------------------------------------------------------
# seasonal_split
# ---------------------------------------------------------------------------------------------


def test_seasonal_split_hand_example() -> None:
    # 1,000.00 over quarters 20/25/25/30 % -> 200.00, 250.00, 250.00, 300.00 exactly.
    got = seasonal_split(100_000, {"Q1": 20, "Q2": 25, "Q3": 25, "Q4": 30})
    assert got.to_dict() == {"Q1": 20_000, "Q2": 25_000, "Q3": 25_000, "Q4": 30_000}
    assert got.name == "quota_cents"
    assert got.index.name == "period"


def test_seasonal_split_twelve_equal_months_of_an_odd_total() -> None:
    # 1,000,001 cents / 12 = 83,333.42 -> floors 83,333 (sum 999,996); 5 cents left go to the
    # first 5 months (equal remainders: lower position first).
    got = seasonal_split(1_000_001, [100 / 12] * 12)
    assert got.tolist() == [83_334] * 5 + [83_333] * 7
    assert int(got.sum()) == 1_000_001


def test_seasonal_split_keeps_series_labels_and_does_not_mutate() -> None:
    dist = pd.Series([50.0, 50.0], index=pd.Index(["H1", "H2"]))
    got = call_unmutated(seasonal_split, 3, dist)
    assert got.to_dict() == {"H1": 2, "H2": 1}


@given(
    total=st.integers(0, 10**12),
    parts=st.lists(st.integers(0, 1000), min_size=1, max_size=12).filter(any),
    method=st.sampled_from(METHOD_NAMES),
)
def test_seasonal_split_sums_exactly(total: int, parts: list[int], method: str) -> None:
    pct = np.asarray(parts, dtype=np.float64) / sum(parts) * 100.0
    pct[-1] = 100.0 - pct[:-1].sum()  # make the float sum exactly 100 (within tolerance)
    got = seasonal_split(total, pct.tolist(), method=method)
    assert int(got.sum()) == total
    assert (got[np.asarray(parts) == 0] == 0).all()


@pytest.mark.parametrize(
    ("distribution", "match"),
    [
        (
            [30, 30, 30],
            r"distribution sums to 90; give every period's share as percentages that sum to 100",
        ),
        ([60, 50], r"sums to 110;"),
        ([110, -10], r"negative share -10.0 for period 2"),
        ([float("nan"), 100], r"non-finite share nan for period 1"),
        ([], r"distribution is empty"),
        (pd.Series([50, 50], index=["a", "a"]), r"period 'a' twice"),
        (["x", "y"], r"must hold numbers"),
    ],
)
def test_seasonal_split_bad_distribution(distribution: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        seasonal_split(100, distribution)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# ramp
# ---------------------------------------------------------------------------------------------


def test_ramp_factors_hand_example() -> None:
    people = pd.DataFrame(
        {"person": ["new", "old", "late"], "start": ["2025-02-20", "2019-03-01", "2025-12-01"]}
    )
    got = call_unmutated(ramp_factors, people, MONTHS[:5])
    # new starts in February: 0 in January, then 25, 50, 75, 100 %.
    assert got.loc["new"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert got.loc["old"].tolist() == [1.0] * 5
    assert got.loc["late"].tolist() == [0.0] * 5
    assert got.index.tolist() == ["late", "new", "old"]


def test_ramp_factors_read_month_text() -> None:
    people = pd.DataFrame({"person": ["a"], "start": ["2025-02-01"]})
    got = ramp_factors(people, ["2025-01", "2025-02", "2025-03"], ramp=(0.5, 1.0))
    assert got.loc["a"].tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"periods": ["Q1", "Q2"]}, r"periods must be pandas Periods, dates or period labels"),
        ({"ramp": (0.5, 1.5)}, r"ramp has factor 1.5 for tenure month 2; expected 0 .. 1"),
        ({"ramp": ()}, r"ramp must be a non-empty sequence"),
        ({"periods": [1, 2, 3]}, r"periods must be pandas Periods, dates or period labels"),
    ],
)
def test_ramp_factors_bad_input(kwargs: dict[str, object], match: str) -> None:
    people = pd.DataFrame({"person": ["a"], "start": ["2025-01-01"]})
    args: dict[str, object] = {"periods": MONTHS}
    args.update(kwargs)
    periods = args.pop("periods")
    with pytest.raises(ConfigError, match=match):
        ramp_factors(people, periods, **args)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# shares as fractions (crmcore.forecast.seasonal_weights' shape)
# ---------------------------------------------------------------------------------------------

# A hand-made seasonal_weights result: 12 fractions summing to 1, indexed by month number.
SEASON = pd.Series(
    [0.06, 0.06, 0.08, 0.08, 0.09, 0.08, 0.07, 0.07, 0.09, 0.1, 0.1, 0.12],
    index=pd.Index(range(1, 13), name="month"),
)


def test_seasonal_split_takes_fractions_summing_to_one() -> None:
    assert SEASON.sum() == pytest.approx(1.0)
    got = seasonal_split(1_000_000, SEASON)
    # 1,000,000 * 0.06 = 60,000 ... exactly (shares are read as the binary fractions stored).
    assert got.tolist() == [60_000, 60_000, 80_000, 80_000, 90_000, 80_000, 70_000, 70_000,
                            90_000, 100_000, 100_000, 120_000]  # fmt: skip
    assert got.index.tolist() == list(range(1, 13))
    pd.testing.assert_series_equal(got, seasonal_split(1_000_000, SEASON * 100))


@given(
    total=st.integers(0, 10**12),
    parts=st.lists(st.integers(0, 1000), min_size=1, max_size=12).filter(any),
)
def test_fractions_and_percentages_split_alike(total: int, parts: list[int]) -> None:
    # Exact fractions p / sum(p) and percentages 100 p / sum(p) have the same ratios.
    den = sum(parts)
    frac = [p / den for p in parts]
    pct = [100 * p / den for p in parts]
    if abs(sum(pct) - 100) > 1e-9 or abs(sum(frac) - 1) > 1e-11:
        return  # float sums off the tolerance: not a valid distribution either way
    got = seasonal_split(total, frac)
    assert int(got.sum()) == total
    assert ((got - seasonal_split(total, pct)).abs() <= 1).all()


@pytest.mark.parametrize("shares", [[0.5, 0.4], [0.5, 0.6], [50.0, 49.0], [1.0, 0.5, 0.5, 0.5]])
def test_shares_summing_to_neither_100_nor_1(shares: list[float]) -> None:
    with pytest.raises(ConfigError, match=r"as percentages that sum to 100 or as fractions"):
        seasonal_split(100, shares)


# ---------------------------------------------------------------------------------------------
# ramp_factors: quarters, years, and every way of writing a period
# ---------------------------------------------------------------------------------------------

JANUARY = pd.DataFrame({"person": ["jan", "old"], "start": ["2025-01-20", "2019-06-01"]})


@pytest.mark.parametrize(
    ("periods", "kwargs"),
    [
        (pd.period_range("2025Q1", periods=2, freq="Q"), {}),
        (pd.date_range("2025-01-01", periods=2, freq="QS"), {}),
        (["2025-Q1", "2025-Q2"], {}),
        (["2025Q1", "2025Q2"], {}),
        (pd.DatetimeIndex(["2025-01-01", "2025-04-01"]), {"period": "Q"}),
        ([pd.Timestamp("2025-02-14"), pd.Timestamp("2025-05-31")], {"period": "QS"}),
    ],
)
def test_quarters_are_the_mean_of_their_months(periods: object, kwargs: dict[str, str]) -> None:
    # Issue #14: a January starter got Q1 = 0.75 with Periods but 0.25 with quarter-start
    # dates. Months of tenure in Q1: January 25 %, February 50 %, March 75 % -> mean 50 %;
    # Q2 is April-June at 100 %.
    got = call_unmutated(ramp_factors, JANUARY, periods, **kwargs)
    assert got.loc["jan"].tolist() == [0.5, 1.0]
    assert got.loc["old"].tolist() == [1.0, 1.0]
    assert got.columns.tolist() == ["2025-Q1", "2025-Q2"]


def test_years_and_late_starters() -> None:
    people = pd.DataFrame({"person": ["a", "b"], "start": ["2025-11-03", "2026-01-01"]})
    got = ramp_factors(people, pd.period_range("2025", periods=2, freq="Y"))
    # a: Nov 25 %, Dec 50 % of 12 months in 2025 -> 0.75 / 12; 2026: 75 % + 11 x 100 %.
    assert got.loc["a"].tolist() == pytest.approx([0.75 / 12, (0.75 + 11) / 12])
    assert got.loc["b"].tolist() == pytest.approx([0.0, (0.25 + 0.5 + 0.75 + 9) / 12])
    assert got.columns.tolist() == ["2025", "2026"]


def test_quarter_start_dates_without_a_frequency_are_refused() -> None:
    dates = pd.DatetimeIndex(["2025-01-01", "2025-04-01", "2025-07-01"])
    with pytest.raises(ConfigError, match=r"3 months apart: pass period='Q'"):
        ramp_factors(JANUARY, dates)
    months = ramp_factors(JANUARY, dates, period="M")  # read each date as its month
    assert months.loc["jan"].tolist() == [0.25, 1.0, 1.0]  # January, April, July


@pytest.mark.parametrize(
    ("periods", "kwargs", "match"),
    [
        (pd.period_range("2025Q1", periods=2, freq="Q"), {"period": "M"}, r"contradicts"),
        (pd.period_range("2025-01-01", periods=3, freq="D"), {}, r"not 'D'"),
        (MONTHS, {"period": "W"}, r"contradicts"),
        (["2025-01", "2025-Q2"], {}, r"periods must be pandas Periods"),
    ],
)
def test_ramp_periods_that_cannot_be_read(
    periods: object, kwargs: dict[str, str], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        ramp_factors(JANUARY, periods, **kwargs)  # type: ignore[arg-type]


def test_start_dates_in_any_representation() -> None:
    base = ramp_factors(JANUARY, MONTHS[:4])
    arrow = JANUARY.assign(start=pd.to_datetime(JANUARY["start"])).astype(
        {"start": "timestamp[ns][pyarrow]"}
    )
    pd.testing.assert_frame_equal(ramp_factors(arrow, MONTHS[:4]), base)  # issue #14
    zoned = JANUARY.assign(start=pd.to_datetime(JANUARY["start"]).dt.tz_localize("Asia/Tokyo"))
    pd.testing.assert_frame_equal(ramp_factors(zoned, MONTHS[:4]), base)
    seconds = JANUARY.assign(start=pd.to_datetime(JANUARY["start"]).astype("datetime64[s]"))
    pd.testing.assert_frame_equal(ramp_factors(seconds, MONTHS[:4]), base)


def test_dates_beyond_the_nanosecond_range() -> None:
    people = pd.DataFrame(
        {"person": ["p"], "start": np.array(["2301-02-01"], dtype="datetime64[s]")}
    )
    periods = pd.DatetimeIndex(
        np.array(["2301-01-01", "2301-02-01", "2301-03-01"], dtype="datetime64[s]")
    )
    assert ramp_factors(people, periods, period="M").loc["p"].tolist() == [0.0, 0.25, 0.5]


@given(
    offsets=st.lists(st.integers(-40, 40), min_size=1, max_size=6),
    ramp=st.lists(st.floats(0, 1), min_size=1, max_size=6).map(sorted),
)
def test_quarterly_factors_are_monthly_means_and_never_fall(
    offsets: list[int], ramp: list[float]
) -> None:
    people = pd.DataFrame(
        {
            "person": [f"p{i}" for i in range(len(offsets))],
            "start": pd.Timestamp("2025-01-01") + pd.to_timedelta(np.asarray(offsets) * 30, "D"),
        }
    )
    monthly = ramp_factors(people, pd.period_range("2024-01", periods=36, freq="M"), ramp=ramp)
    quarterly = ramp_factors(people, pd.period_range("2024Q1", periods=12, freq="Q"), ramp=ramp)
    means = monthly.to_numpy().reshape(len(offsets), 12, 3).mean(axis=2)
    np.testing.assert_allclose(quarterly.to_numpy(), means, rtol=0, atol=1e-15)
    assert (np.diff(monthly.to_numpy(), axis=1) >= 0).all()  # a sorted ramp never falls
    assert ((monthly >= 0) & (monthly <= 1)).all().all()


def test_seasonal_split_refuses_a_distribution_past_the_largest_float() -> None:
    # 1.7e308 + 1.7e308 sums to neither 100 nor 1: named, not a RuntimeWarning
    with pytest.raises(ConfigError, match="distribution adds up past the largest float"):
        seasonal_split(1000, [1.7e308, 1.7e308])
