"""crmcore._periods: one period helper for every area (codes, starts, ranges, labels)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore._compat import renamed_parameters
from crmcore._periods import (
    PERIODS,
    canonical_period,
    period_labels,
    period_range,
    period_start,
    to_period_index,
)
from crmcore.errors import ConfigError

PANDAS_FREQ = {"W": "W-SUN", "M": "M", "Q": "Q-DEC", "Y": "Y-DEC"}


@pytest.mark.parametrize(
    ("alias", "code"),
    [("D", "D"), ("W", "W"), ("W-MON", "W"), ("MS", "M"), ("ME", "M"), ("QS", "Q"), ("A", "Y")],
)
def test_aliases(alias: str, code: str) -> None:
    assert canonical_period(alias) == code


@pytest.mark.parametrize("bad", ["fortnight", "2M", None, 3, "W-SUN"])
def test_unknown_period_is_a_config_error(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"period=.* is not a period; expected one of 'D'"):
        canonical_period(bad)


def test_hand_worked_starts() -> None:
    dates = pd.Series(
        pd.to_datetime(["2024-02-29 23:59", "2023-01-01 00:00", "2024-12-30 08:00"]),
        index=["a", "b", "c"],
        name="when",
    )
    assert period_start(dates, "W").astype(str).tolist() == [
        "2024-02-26",  # Thursday -> Monday
        "2022-12-26",  # a Sunday belongs to the week that started on Monday
        "2024-12-30",
    ]
    assert period_start(dates, "Q").astype(str).tolist() == [
        "2024-01-01",
        "2023-01-01",
        "2024-10-01",
    ]
    out = period_start(dates, "M")
    assert out.index.tolist() == ["a", "b", "c"]
    assert out.name == "when"


def test_dates_outside_the_nanosecond_range_keep_their_unit() -> None:
    values = np.array(["1500-07-15T12:00", "2500-11-30T00:00"], dtype="datetime64[s]")
    dates = pd.Series(values)
    out = period_start(dates, "Q")
    assert out.dtype == np.dtype("datetime64[s]")
    assert out.astype(str).tolist() == ["1500-07-01", "2500-10-01"]
    rng = period_range(out.iloc[0], out.iloc[0] + pd.Timedelta(days=200), "Q")
    assert rng.strftime("%Y-%m").tolist() == ["1500-07", "1500-10", "1501-01"]


def test_time_zone_kept_and_wall_clock_used() -> None:
    dates = pd.Series(pd.to_datetime(["2024-03-31 23:30"]).tz_localize("Asia/Shanghai"))
    out = period_start(dates, "M")
    assert out.dtype == dates.dtype  # same unit and zone
    assert out.iloc[0] == pd.Timestamp("2024-03-01", tz="Asia/Shanghai")


@pytest.mark.parametrize("tz", [None, "UTC", "Asia/Shanghai"])
def test_pyarrow_timestamps_like_numpy(tz: str | None) -> None:
    dates = pd.Series(pd.to_datetime(["2024-03-31 23:30", "2023-01-01 00:00"]), index=[5, 7])
    if tz is not None:
        dates = dates.dt.tz_localize(tz)
    arrow = dates.astype(pd.ArrowDtype(pa.timestamp("us", tz=tz)))
    expected = period_start(dates.dt.as_unit("us"), "M")
    pd.testing.assert_series_equal(period_start(arrow, "M"), expected)


def test_nat_stays_nat() -> None:
    dates = pd.Series(pd.to_datetime(["2024-05-05", None]))
    assert period_start(dates, "W").isna().tolist() == [False, True]


def test_labels_one_style() -> None:
    starts = pd.DatetimeIndex(["2024-01-01", "2024-04-01"])
    assert period_labels(starts, "M").tolist() == ["2024-01", "2024-04"]
    assert period_labels(starts, "Q").tolist() == ["2024-Q1", "2024-Q2"]
    assert period_labels(starts, "Y").tolist() == ["2024", "2024"]
    assert period_labels(starts, "D").tolist() == ["2024-01-01", "2024-04-01"]


def test_period_index() -> None:
    idx = to_period_index(pd.DatetimeIndex(["2024-01-01"], tz="UTC"), "M")
    assert idx.tolist() == [pd.Period("2024-01", "M")]


def test_empty_range_when_last_before_first() -> None:
    assert len(period_range(pd.Timestamp("2024-05-01"), pd.Timestamp("2024-01-01"), "M")) == 0


DATES = st.lists(
    st.datetimes(min_value=pd.Timestamp("1900-01-01"), max_value=pd.Timestamp("2200-01-01")),
    min_size=1,
    max_size=30,
)


@given(DATES, st.sampled_from(PERIODS))
def test_agrees_with_pandas_periods(values: list[object], code: str) -> None:
    dates = pd.Series(pd.to_datetime(values)).astype("datetime64[ns]")
    ours = period_start(dates, code)
    if code == "D":
        expected = dates.dt.normalize()
    else:
        expected = dates.dt.to_period(PANDAS_FREQ[code]).dt.start_time.astype("datetime64[ns]")
    pd.testing.assert_series_equal(ours, expected, check_names=False)
    # starts are idempotent, ordered like the dates, and every date falls in its range
    pd.testing.assert_series_equal(period_start(ours, code), ours)
    grid = period_range(ours.min(), ours.max(), code)
    assert set(ours) <= set(grid)
    assert grid.is_monotonic_increasing
    assert grid.is_unique


def test_renamed_parameters_maps_old_names_with_a_warning() -> None:
    @renamed_parameters(freq="period", owner="person")
    def f(*, period: str = "M", person: str = "person") -> tuple[str, str]:
        return period, person

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert f(freq="Q", owner="rep") == ("Q", "rep")
    assert [w.category for w in caught] == [DeprecationWarning, DeprecationWarning]
    assert f(period="Y") == ("Y", "person")
    with pytest.raises(ConfigError, match="got both 'freq' and its new name 'period'"):
        f(freq="Q", period="M")


def test_period_range_bounds_of_different_units() -> None:
    # issue 14 catalogue: a nanosecond first date and a last date after 2262 (seconds) were
    # held as objects and failed with a numpy TypeError
    first = pd.Timestamp("2261-11-20").as_unit("ns")
    last = pd.Timestamp(np.datetime64("2263-07-02", "s"))
    got = period_range(first, last, "Y")
    assert got.strftime("%Y").tolist() == ["2261", "2262", "2263"]
    assert period_range(first, pd.Timestamp("2262-02-01").as_unit("ns"), "M").unit == "ns"
