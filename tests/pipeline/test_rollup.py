"""Tests of forecast_rollup, pipeline_waterfall, sales_velocity and pipeline_coverage."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.datasets import opportunities
from crmcore.errors import ConfigError, CurrencyError, DataError, SchemaError
from crmcore.money import to_minor_units
from crmcore.pipeline import (
    forecast_rollup,
    pipeline_coverage,
    pipeline_waterfall,
    sales_velocity,
)
from helpers import call_unmutated, shuffled
from strategies_pipeline import AS_OF, snapshot_pairs


def units(values: Any) -> np.ndarray:
    return np.asarray(to_minor_units(np.asarray(values, dtype=np.float64)))


# --- forecast_rollup ----------------------------------------------------------------------


def _categories() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4, 5, 6, 7],
            "forecast_category": [
                "Closed",
                "commit",
                "BEST CASE",
                "best_case",
                "Pipeline",
                "Omitted",
                "Commit",
            ],
            "amount": [100.0, 200.0, 300.0, 50.0, 400.0, 500.0, 25.0],
            "owner": ["a", "a", "b", "a", "b", "b", "b"],
        }
    )


def test_rollup_cumulative_categories() -> None:
    out = call_unmutated(forecast_rollup, _categories())
    row = out.loc["total"]
    # Individual: closed 100, commit 200 + 25, best case 300 + 50, pipeline 400, omitted 500.
    assert row[["closed", "commit", "best_case", "pipeline", "omitted"]].tolist() == [
        100.0,
        225.0,
        350.0,
        400.0,
        500.0,
    ]
    # Commit forecast = closed + commit = 325; best case = 325 + 350 = 675;
    # open pipeline = commit + best case + pipeline = 225 + 350 + 400 = 975 (closed excluded).
    assert row["commit_forecast"] == 325.0
    assert row["best_case_forecast"] == 675.0
    assert row["open_pipeline"] == 975.0
    assert row["count"] == 7


def test_most_likely_sits_between_commit_and_best_case() -> None:
    # Salesforce ForecastingSubmissionItem (API 62.0): MostLikelyForecast = Most Likely +
    # Commit + Closed; Best Case and Open Pipeline include Most Likely too.
    deals = _categories()
    deals.loc[6, "forecast_category"] = "Most Likely"  # the 25 of row 6
    row = forecast_rollup(deals).loc["total"]
    assert row["commit"] == 200.0
    assert row["most_likely"] == 25.0
    assert row["commit_forecast"] == 300.0  # closed 100 + commit 200
    assert row["most_likely_forecast"] == 325.0  # + most likely 25
    assert row["best_case_forecast"] == 675.0  # + best case 350
    assert row["open_pipeline"] == 975.0  # commit + most likely + best case + pipeline
    assert list(forecast_rollup(deals).columns[:10]) == [
        "closed",
        "commit",
        "most_likely",
        "best_case",
        "pipeline",
        "omitted",
        "commit_forecast",
        "most_likely_forecast",
        "best_case_forecast",
        "open_pipeline",
    ]


@pytest.mark.parametrize(
    ("names", "column"),
    [
        (["Closed", "Won", "closed won", "CLOSED_WON"], "closed"),
        (["Commit", "Committed", "Forecast"], "commit"),  # Forecast: Salesforce's API value
        (["Most Likely", "MostLikely", "most_likely"], "most_likely"),
        (["Best Case", "BestCase", "Upside"], "best_case"),
        (["Pipeline", "PIPELINE"], "pipeline"),
        (["Omitted", "Lost", "Closed Lost", "Not forecasted"], "omitted"),
    ],
)
def test_common_crm_names_are_accepted(names: list[str], column: str) -> None:
    deals = pd.DataFrame(
        {
            "opportunity_id": range(len(names)),
            "forecast_category": names,
            "amount": [10.0] * len(names),
        }
    )
    row = forecast_rollup(deals).loc["total"]
    assert row[column] == 10.0 * len(names)
    assert row[["closed", "commit", "most_likely", "best_case", "pipeline", "omitted"]].sum() == (
        10.0 * len(names)
    )


def test_rollup_by_owner() -> None:
    out = forecast_rollup(_categories(), by="owner")
    assert list(out.index) == ["a", "b"]
    assert out.index.name == "owner"
    # a: closed 100, commit 200, best case 50 -> best case forecast 350; open 250.
    assert out.loc["a", "best_case_forecast"] == 350.0
    assert out.loc["a", "open_pipeline"] == 250.0
    # b: commit 25, best case 300, pipeline 400, omitted 500 -> open 725.
    assert out.loc["b", "open_pipeline"] == 725.0
    assert out.loc["b", "omitted"] == 500.0
    assert out["count"].tolist() == [3, 4]


def test_rollup_with_currencies() -> None:
    deals = _categories().assign(currency=["EUR"] * 6 + ["USD"])
    with pytest.raises(CurrencyError, match="mix currencies 'EUR' at row 0"):
        forecast_rollup(deals, currency="currency")
    out = forecast_rollup(
        deals, currency="currency", rates={"EUR": 1.0, "USD": 2.0}, reporting_currency="EUR"
    )
    assert out.loc["total", "commit"] == 250.0  # 200 + 25 USD * 2
    assert out.loc["total", "reporting_currency"] == "EUR"
    single = forecast_rollup(deals.assign(currency="USD"), currency="currency", by="owner")
    assert single["reporting_currency"].tolist() == ["USD", "USD"]
    assert "reporting_currency" not in forecast_rollup(_categories()).columns


def test_rollup_on_generated_data_matches_salesforce_definitions() -> None:
    deals = opportunities(300, seed=4)
    out = forecast_rollup(deals, by="person")
    cols = ["closed", "commit", "most_likely", "best_case", "pipeline", "omitted"]
    c = units(out[cols].to_numpy()).T
    assert (units(out["commit_forecast"]) == c[0] + c[1]).all()
    assert (units(out["most_likely_forecast"]) == c[0] + c[1] + c[2]).all()
    assert (units(out["best_case_forecast"]) == c[0] + c[1] + c[2] + c[3]).all()
    assert (units(out["open_pipeline"]) == c[1] + c[2] + c[3] + c[4]).all()
    assert c.sum() == units(deals["amount"]).sum()


@given(st.integers(0, 10_000), st.integers(0, 2**16))
def test_rollup_invariant_under_row_order(data_seed: int, seed: int) -> None:
    deals = opportunities(40, seed=data_seed)
    pd.testing.assert_frame_equal(
        forecast_rollup(deals, by="person"),
        forecast_rollup(shuffled(deals, seed), by="person"),
        check_exact=True,
    )


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        (
            {"forecast_category": ["Closed", "Maybe", "x", "x", "x", "x", "x"]},
            DataError,
            "unknown forecast category 'Maybe' at row 1 \\(opportunity_id=2\\)",
        ),
        (
            {"forecast_category": ["Closed", None, "Commit", "Commit", "Commit", "Commit", "x"]},
            DataError,
            "column 'forecast_category' of opportunities has a missing value at row 1",
        ),
        ({"amount": [1.0, -1.0, 1, 1, 1, 1, 1]}, DataError, "negative value -1.0 at row 1"),
        ({"opportunity_id": [1, 1, 2, 3, 4, 5, 6]}, DataError, "duplicate value 1"),
    ],
)
def test_rollup_bad_input(changes: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        forecast_rollup(_categories().assign(**changes))


def test_rollup_missing_by_column() -> None:
    with pytest.raises(SchemaError, match="missing column\\(s\\) 'region'"):
        forecast_rollup(_categories(), by="region")


# --- pipeline_waterfall -------------------------------------------------------------------


def _identity(out: pd.DataFrame) -> None:
    a = dict(zip(out.index, units(out["amount"]), strict=True))
    assert (
        a["start"]
        + a["new"]
        + a["increased"]
        - a["decreased"]
        + a["pulled_in"]
        - a["pushed_out"]
        - a["won"]
        - a["lost"]
        == a["end"]
    )
    assert (out["amount"] >= 0).all()
    signed = units(out["amount"]) * out["sign"].to_numpy()
    assert a["start"] + signed.sum() == a["end"]


def test_waterfall_without_window() -> None:
    start = pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4],
            "stage": ["bid", "bid", "negotiation", "bid"],
            "amount": [100.0, 200.0, 300.0, 400.0],
        }
    )
    end = pd.DataFrame(
        {
            "opportunity_id": [5, 4, 3, 2, 1],
            "stage": ["prospect", "bid", "lost", "won", "negotiation"],
            "amount": [50.0, 350.0, 300.0, 250.0, 150.0],
        }
    )
    out = call_unmutated(pipeline_waterfall, start, end)
    # start 100 + 200 + 300 + 400 = 1000; new deal 5 = 50; deal 1 +50; deal 4 -50;
    # deal 2 won at its start amount 200 (its rise to 250 is not counted twice); deal 3 lost 300.
    # end = 150 + 350 + 50 = 550 = 1000 + 50 + 50 - 50 - 200 - 300.
    assert out["amount"].to_dict() == {
        "start": 1000.0,
        "new": 50.0,
        "increased": 50.0,
        "decreased": 50.0,
        "pulled_in": 0.0,
        "pushed_out": 0.0,
        "won": 200.0,
        "lost": 300.0,
        "end": 550.0,
    }
    assert out["count"].tolist() == [4, 1, 1, 1, 0, 0, 1, 1, 3]
    _identity(out)


def test_waterfall_with_window_pulls_and_pushes() -> None:
    start = pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4],
            "stage": ["bid", "bid", "bid", "won"],
            "amount": [100.0, 200.0, 300.0, 400.0],
            "close_date": pd.to_datetime(["2025-02-01", "2025-03-15", "2025-05-01", "2025-01-02"]),
        }
    )
    end = pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4],
            "stage": ["bid", "bid", "bid", "bid"],
            "amount": [100.0, 200.0, 330.0, 10.0],
            "close_date": pd.to_datetime(["2025-04-02", "2025-03-31", "2025-03-01", "2025-02-01"]),
        }
    )
    out = pipeline_waterfall(
        start,
        end,
        close_date="close_date",
        period_start="2025-01-01",
        period_end="2025-03-31",
    )
    # Window Q1: start pipeline = deals 1 and 2 = 300. Deal 1 pushed to April (-100); deal 2
    # stays (moved within the window, same amount); deal 3 pulled in from May at its end amount
    # 330; deal 4 was won and re-opened: new, 10. End = 200 + 330 + 10 = 540.
    assert out["amount"].to_dict() == {
        "start": 300.0,
        "new": 10.0,
        "increased": 0.0,
        "decreased": 0.0,
        "pulled_in": 330.0,
        "pushed_out": 100.0,
        "won": 0.0,
        "lost": 0.0,
        "end": 540.0,
    }
    _identity(out)


def test_waterfall_missing_deal_policy() -> None:
    start = pd.DataFrame({"opportunity_id": [1, 2], "stage": ["bid", "bid"], "amount": [1.0, 2.0]})
    end = pd.DataFrame({"opportunity_id": [1], "stage": ["bid"], "amount": [1.0]})
    with pytest.raises(DataError, match="deal 2 is in the start pipeline \\(row 1"):
        pipeline_waterfall(start, end)
    out = pipeline_waterfall(start, end, missing="lost")
    assert out.loc["lost", "amount"] == 2.0
    _identity(out)


@given(
    snapshot_pairs(),
    st.one_of(st.none(), st.integers(-120, 0)),
    st.one_of(st.none(), st.integers(0, 120)),
)
def test_waterfall_identity_holds_exactly(
    pair: tuple[pd.DataFrame, pd.DataFrame], lo: int | None, hi: int | None
) -> None:
    start, end = pair
    kw: dict[str, Any] = {"close_date": "close_date"}
    if lo is not None:
        kw["period_start"] = AS_OF + pd.Timedelta(days=lo)
    if hi is not None:
        kw["period_end"] = AS_OF + pd.Timedelta(days=hi)
    out = pipeline_waterfall(start, end, **kw)
    _identity(out)
    # Start and end equal the open in-window amounts of each snapshot.
    for snap, bucket in ((start, "start"), (end, "end")):
        inside = ~snap["stage"].isin(["won", "lost"])
        if lo is not None:
            inside &= snap["close_date"] >= kw["period_start"]
        if hi is not None:
            inside &= snap["close_date"] <= kw["period_end"]
        assert units(out.loc[bucket, "amount"]) == units(snap.loc[inside, "amount"]).sum()
        assert out.loc[bucket, "count"] == inside.sum()


@given(snapshot_pairs(), st.integers(0, 2**16))
def test_waterfall_invariant_under_row_order(
    pair: tuple[pd.DataFrame, pd.DataFrame], seed: int
) -> None:
    start, end = pair
    kw: dict[str, Any] = {"close_date": "close_date", "period_end": AS_OF}
    a = pipeline_waterfall(start, end, **kw)
    b = pipeline_waterfall(shuffled(start, seed), shuffled(end, seed + 1), **kw)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def _snap(**changes: Any) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "opportunity_id": [1, 2],
            "stage": ["bid", "won"],
            "amount": [1.0, 2.0],
            "close_date": pd.to_datetime(["2025-01-05", "2025-01-06"]),
        }
    )
    return frame.assign(**changes)


@pytest.mark.parametrize(
    ("start", "kwargs", "error", "match"),
    [
        (_snap(), {"period_end": "2025-02-01"}, ConfigError, "need close_date=<column>"),
        (
            _snap(),
            {"close_date": "close_date", "period_start": "2025-02-01", "period_end": "2025-01-01"},
            ConfigError,
            "period_start=2025-02-01 00:00:00 is after period_end",
        ),
        (
            _snap(close_date=[None, "2025-01-06"]),
            {"close_date": "close_date", "period_end": "2025-02-01"},
            DataError,
            "no close date at row 0 \\(opportunity_id=1\\), an open deal",
        ),
        (
            _snap(opportunity_id=[1, 1]),
            {},
            DataError,
            "column 'opportunity_id' of snapshot_start has duplicate value 1",
        ),
        (_snap(amount=[1.0, np.nan]), {}, DataError, "has NaN at row 1"),
        (_snap(), {"missing": "ignore"}, ConfigError, "missing='ignore' is not one of"),
        (_snap(), {"period_end": "later", "close_date": "close_date"}, ConfigError, "not a date"),
        (
            _snap(),
            {"close_date": "close_date", "period_end": pd.Timestamp("2025-02-01", tz="UTC")},
            ConfigError,
            "mix naive and tz-aware dates",
        ),
        (_snap().drop(columns="stage"), {}, SchemaError, "snapshot_start is missing column"),
    ],
)
def test_waterfall_bad_input(
    start: pd.DataFrame, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        pipeline_waterfall(start, _snap(), **kwargs)


# --- sales_velocity -----------------------------------------------------------------------


def _velocity_deals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4, 5, 6, 7, 8],
            "stage": ["bid", "bid", "bid", "won", "won", "lost", "bid", "won"],
            "amount": [1.0, 1.0, 1.0, 1000.0, 3000.0, 500.0, 7.0, 600.0],
            "owner": ["a", "a", "a", "a", "a", "a", "b", "b"],
            "created_at": pd.to_datetime(["2025-01-01"] * 8),
            "close_date": pd.to_datetime(
                [None, None, None, "2025-01-21", "2025-03-02", "2025-01-10", None, "2025-01-01"]
            ),
        }
    ).assign(closed_at=lambda d: d["close_date"])


def test_velocity_by_owner() -> None:
    out = call_unmutated(sales_velocity, _velocity_deals(), by="owner")
    a = out.loc["a"]
    # a: 3 open; won 2 of 3 closed; average won 2000; cycle (20 + 60) / 2 = 40 days.
    # velocity = 3 * (2/3) * 2000 / 40 = 100 per day.
    assert (a["opportunities"], a["won"], a["lost"]) == (3, 2, 1)
    assert a["win_rate"] == pytest.approx(2 / 3)
    assert a["average_deal_size"] == 2000.0
    assert a["cycle_days"] == 40.0
    assert a["velocity"] == pytest.approx(100.0)
    # b: one open, one won on the day it was created: a cycle of 0 days is undefined.
    assert out.loc["b", "cycle_days"] == 0.0
    assert math.isnan(out.loc["b", "velocity"])


def test_velocity_without_closed_deals_is_nan() -> None:
    deals = _velocity_deals().iloc[:3]
    out = sales_velocity(deals)
    assert out.loc["total", "opportunities"] == 3
    assert math.isnan(out.loc["total", "win_rate"])
    assert math.isnan(out.loc["total", "velocity"])


@given(st.integers(0, 5000), st.integers(1, 4))
def test_velocity_formula_and_scaling(seed: int, copies: int) -> None:
    deals = opportunities(60, seed=seed)
    one = sales_velocity(deals).loc["total"]
    assert 0.0 <= one["win_rate"] <= 1.0
    if one["won"] and one["cycle_days"] > 0:
        assert one["velocity"] == pytest.approx(
            one["opportunities"] * one["win_rate"] * one["average_deal_size"] / one["cycle_days"]
        )
    # Copying the open deals multiplies velocity by the number of copies.
    open_ = deals[~deals["stage"].isin(["won", "lost"])]
    extra = [
        open_.assign(opportunity_id=open_["opportunity_id"] + 10_000 * k) for k in range(1, copies)
    ]
    more = sales_velocity(pd.concat([deals, *extra], ignore_index=True)).loc["total"]
    assert more["opportunities"] == copies * one["opportunities"]
    if not math.isnan(one["velocity"]):
        assert more["velocity"] == pytest.approx(copies * one["velocity"])


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (
            {"closed_at": pd.to_datetime([None] * 8)},
            (
                "column 'closed_at' of opportunities has a missing date at row 3 "
                "\\(opportunity_id=4\\), a won deal"
            ),
        ),
        (
            {
                "created_at": pd.to_datetime(
                    ["2025-01-01"] * 3 + ["2025-02-01"] + ["2025-01-01"] * 4
                )
            },
            "closed_at 2025-01-21 00:00:00 before created_at 2025-02-01 00:00:00 at row 3",
        ),
        ({"stage": ["bid"] * 7 + [None]}, "column 'stage' of opportunities has a missing value"),
    ],
)
def test_velocity_bad_input(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(DataError, match=match):
        sales_velocity(_velocity_deals().assign(**changes))


# --- pipeline_coverage --------------------------------------------------------------------


def test_coverage_by_owner_with_quota_mapping() -> None:
    deals = _velocity_deals()
    out = call_unmutated(
        pipeline_coverage, deals, {"a": 5000.0, "b": 500.0, "c": 100.0}, by="owner"
    )
    assert list(out.index) == ["a", "b", "c"]
    a = out.loc["a"]
    # a: won 4000, remaining 1000, open 3 -> coverage 0.003; win rate by amount
    # 4000 / (4000 + 500) = 8/9 -> required 9/8 = 1.125; pipeline needed 1125.
    assert (a["closed_won"], a["remaining"], a["open_pipeline"]) == (4000.0, 1000.0, 3.0)
    assert a["coverage"] == pytest.approx(0.003)
    assert a["required_coverage"] == pytest.approx(1.125)
    assert a["pipeline_needed"] == pytest.approx(1125.0)
    assert not a["covered"]
    # b: won 600 >= quota 500: nothing remains, coverage is infinite and covered.
    assert out.loc["b", "remaining"] == 0.0
    assert out.loc["b", "coverage"] == math.inf
    assert out.loc["b", "covered"]
    # c: no deals at all: no win rate.
    assert math.isnan(out.loc["c", "win_rate"])
    assert out.loc["c", "open_pipeline"] == 0.0


def test_coverage_count_basis_and_window() -> None:
    deals = _velocity_deals()
    out = pipeline_coverage(
        deals,
        10_000.0,
        basis="count",
        close_date="close_date",
        period_start="2025-01-01",
        period_end="2025-01-31",
    )
    row = out.loc["total"]
    # Won in January: 1000 (Jan 21) + 600 (Jan 1) = 1600; the March win is outside.
    # Open deals have no close date, so none falls in the window: pipeline 0.
    # Win rate by count over all closed deals: 3 won of 4 -> required 4/3.
    assert row["closed_won"] == 1600.0
    assert row["open_pipeline"] == 0.0
    assert row["win_rate"] == 0.75
    assert row["required_coverage"] == pytest.approx(4 / 3)


@given(st.integers(0, 5000), st.floats(0.0, 1e7))
def test_coverage_definitions(seed: int, quota: float) -> None:
    out = pipeline_coverage(opportunities(50, seed=seed), quota).loc["total"]
    assert out["remaining"] == max(quota - out["closed_won"], 0.0)
    if out["remaining"] > 0:
        assert out["coverage"] * out["remaining"] == pytest.approx(out["open_pipeline"])
    if out["win_rate"] > 0:
        assert out["required_coverage"] * out["win_rate"] == pytest.approx(1.0)
    assert out["covered"] == (out["coverage"] >= out["required_coverage"])


@pytest.mark.parametrize(
    ("quota", "kwargs", "match"),
    [
        (-1.0, {}, "quota == -1.0, must be >= 0"),
        (float("nan"), {}, "quota must be a finite number"),
        ("lots", {}, "quota must be a finite number"),
        ({"a": 1.0}, {}, "quota is per group but by is None"),
        (100.0, {"by": "owner"}, "quota must map each owner to its quota"),
        ({"a": 1.0}, {"by": "owner"}, "quota has no entry for owner='b'"),
        (100.0, {"basis": "value"}, "basis='value' is not one of"),
        (100.0, {"period_end": "2025-01-01"}, "need close_date=<column>"),
        (
            # Issue 14: a reversed window was accepted and gave an empty pipeline.
            100.0,
            {"close_date": "close_date", "period_start": "2024-06-30", "period_end": "2024-01-01"},
            "period_start=2024-06-30 00:00:00 is after period_end=2024-01-01 00:00:00",
        ),
        (
            100.0,
            {
                "close_date": "close_date",
                "period_start": "2024-01-01",
                "period_end": pd.Timestamp("2024-06-30", tz="UTC"),
            },
            "mix naive and tz-aware dates",
        ),
    ],
)
def test_coverage_bad_input(quota: Any, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        pipeline_coverage(_velocity_deals(), quota, **kwargs)


def test_velocity_close_date_keyword_still_works() -> None:
    deals = _velocity_deals().drop(columns="closed_at")
    with pytest.warns(DeprecationWarning, match=r"sales_velocity\(close_date=...\) was renamed"):
        old = sales_velocity(deals, close_date="close_date", by="owner")
    pd.testing.assert_frame_equal(old, sales_velocity(_velocity_deals(), by="owner"))


# --- issue 14: labels, not positions; sums that cannot wrap --------------------------------


def test_rollup_amount_too_large_for_cents_names_the_row_label() -> None:
    deals = _categories().assign(amount=[1.0, 2.0, 1e15, 1.0, 1.0, 1.0, 1.0])
    deals.index = [f"r{10 * (i + 1)}" for i in range(7)]
    with pytest.raises(DataError, match=r"at row 'r30' \(opportunity_id=3\), too large") as err:
        forecast_rollup(deals)
    assert err.value.row == "r30"


def test_rollup_totals_past_2_63_cents_raise_instead_of_wrapping() -> None:
    n = 1_100
    deals = pd.DataFrame(
        {
            "opportunity_id": np.arange(n),
            "forecast_category": ["Commit"] * n,
            "amount": [9.0e13 - 1] * n,
            "owner": ["ann"] * n,
        }
    )
    with pytest.raises(DataError, match=r"amounts of 'ann' sum to \d+ minor units, which passes"):
        forecast_rollup(deals, by="owner")
