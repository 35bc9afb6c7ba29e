"""Tests for crmcore.kpi.metrics (opportunities and activities): examples, properties, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from crmcore.datasets import activities, deals
from crmcore.errors import ColumnTypeError, ConfigError, DataError, InputTypeError, SchemaError
from crmcore.kpi import (
    activity_counts,
    average_deal_size,
    sales_cycle_length,
    win_rate,
)
from helpers import call_unmutated, shuffled
from strategies_kpi import activity_frames, deal_frames

D = pd.to_datetime


def _deals() -> pd.DataFrame:
    """Six deals for two reps; the numbers below are worked from this table."""
    return pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4, 5, 6],
            "person": ["ann", "ann", "ann", "bob", "bob", "ann"],
            "status": ["won", "lost", "open", "lost", "won", "won"],
            "amount": [300.0, 100.0, 50.0, 80.0, 20.0, 100.0],
            "created_at": D(
                ["2024-01-01", "2024-01-05", "2024-02-10", "2024-01-01", "2024-02-01", "2024-02-01"]
            ),
            "closed_at": D(
                ["2024-01-11", "2024-02-04", None, "2024-01-31", "2024-03-02", "2024-02-06"]
            ),
        }
    )


# ------------------------------------------------------------------------------------ win_rate


def test_win_rate_by_person_hand_worked() -> None:
    # ann: won 300 + 100 (2 deals), lost 100 (1), open 1 -> 2/3 by count, 400/500 by value.
    # bob: won 20 (1), lost 80 (1) -> 1/2 by count, 20/100 by value.
    got = win_rate(_deals(), by="person")
    want = pd.DataFrame(
        {
            "won": [2, 1],
            "lost": [1, 1],
            "closed": [3, 2],
            "open": [1, 0],
            "win_rate_count": [2 / 3, 0.5],
            "won_amount": [400.0, 20.0],
            "lost_amount": [100.0, 80.0],
            "win_rate_value": [0.8, 0.2],
        },
        index=pd.Index(["ann", "bob"], name="person"),
    )
    pd.testing.assert_frame_equal(got, want)


def test_win_rate_overall_is_one_all_row() -> None:
    # 3 won / 5 closed; 420 won of 600 closed value.
    got = win_rate(_deals())
    assert got.index.tolist() == ["all"]
    assert got.loc["all", "win_rate_count"] == pytest.approx(0.6)
    assert got.loc["all", "win_rate_value"] == pytest.approx(0.7)
    assert got.loc["all", "open"] == 1


def test_win_rate_by_period_uses_close_month_and_creation_month_for_open() -> None:
    # Closed: Jan: deal 1 (won), 4 (lost); Feb: 2 (lost), 6 (won); Mar: 5 (won).
    # Open deal 3 was created in Feb.
    got = win_rate(_deals(), by="period")
    assert got.index.name == "period"
    assert [str(p.date()) for p in got.index] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert got["won"].tolist() == [1, 1, 1]
    assert got["lost"].tolist() == [1, 1, 0]
    assert got["open"].tolist() == [0, 1, 0]
    assert got["win_rate_count"].tolist() == [0.5, 0.5, 1.0]


def test_win_rate_by_person_and_quarter() -> None:
    got = win_rate(_deals(), by=["person", "period"], period="Q")
    assert got.index.names == ["person", "period"]
    assert got.loc[("ann", pd.Timestamp("2024-01-01")), "won"] == 2


def test_win_rate_no_closed_deal_gives_nan_not_zero() -> None:
    d = pd.DataFrame({"person": ["a", "b"], "status": ["open", "won"], "amount": [5.0, 0.0]})
    got = win_rate(d, by="person")
    assert np.isnan(got.loc["a", "win_rate_count"])
    assert np.isnan(got.loc["a", "win_rate_value"])
    # b won one deal worth 0: the count rate is 1 but the value rate is undefined.
    assert got.loc["b", "win_rate_count"] == 1.0
    assert np.isnan(got.loc["b", "win_rate_value"])


def test_win_rate_open_values_none_reads_a_stage_column() -> None:
    d = pd.DataFrame(
        {"stage": ["Qualify", "Won", "Lost", "Propose"], "amount": [1.0, 2.0, 3.0, 4.0]}
    )
    got = win_rate(d, status="stage", won="Won", lost="Lost", open_values=None)
    assert got.loc["all", "open"] == 2
    assert got.loc["all", "win_rate_count"] == 0.5


def test_win_rate_ignores_amounts_of_open_deals() -> None:
    d = pd.DataFrame({"status": ["won", "open"], "amount": [1.0, np.nan]})
    assert win_rate(d).loc["all", "won_amount"] == 1.0


@settings(max_examples=30)  # several pandas group-bys per example; keep the area fast
@given(deal_frames())
def test_win_rate_properties(deals_: pd.DataFrame) -> None:
    got = win_rate(deals_, by=["person", "region"])
    rate = got["win_rate_count"]
    assert ((rate >= 0) & (rate <= 1) | rate.isna()).all()
    assert (rate.isna() == (got["closed"] == 0)).all()
    value = got["win_rate_value"].dropna()
    assert ((value >= 0) & (value <= 1)).all()
    assert int(got[["won", "lost", "open"]].to_numpy().sum()) == len(deals_)
    assert got.index.is_monotonic_increasing
    total = win_rate(deals_)
    assert int(total.loc["all", "won"]) == int(got["won"].sum())
    pd.testing.assert_frame_equal(win_rate(shuffled(deals_, 1), by=["person", "region"]), got)


@settings(max_examples=30)  # several pandas group-bys per example; keep the area fast
@given(deal_frames())
def test_win_rate_by_period_counts_every_deal(deals_: pd.DataFrame) -> None:
    got = win_rate(deals_, by=["period", "person"], period="W")
    assert int(got[["won", "lost", "open"]].to_numpy().sum()) == len(deals_)
    pd.testing.assert_frame_equal(
        win_rate(shuffled(deals_, 2), by=["period", "person"], period="W"), got
    )


# ------------------------------------------------------------------------ average_deal_size


def test_average_deal_size_hand_worked() -> None:
    # ann won 300 and 100 -> mean 200, median 200; bob won 20.
    got = average_deal_size(_deals(), by="person")
    want = pd.DataFrame(
        {
            "count": [2, 1],
            "total": [400.0, 20.0],
            "mean": [200.0, 20.0],
            "median": [200.0, 20.0],
        },
        index=pd.Index(["ann", "bob"], name="person"),
    )
    pd.testing.assert_frame_equal(got, want)


def test_average_deal_size_overall_median_of_three() -> None:
    # Won amounts 300, 20, 100 -> mean 140, median 100.
    got = average_deal_size(_deals())
    assert got.loc["all"].tolist() == [3, 420.0, 140.0, 100.0]


def test_average_deal_size_nothing_won() -> None:
    d = pd.DataFrame({"status": ["lost"], "amount": [5.0]})
    got = average_deal_size(d)
    assert got.loc["all", "count"] == 0
    assert np.isnan(got.loc["all", "mean"])


def test_average_deal_size_status_none_takes_all_rows() -> None:
    d = pd.DataFrame({"amount": [1.0, 2.0, 6.0]})
    assert average_deal_size(d, status=None).loc["all", "mean"] == 3.0


@settings(max_examples=30)  # several pandas group-bys per example; keep the area fast
@given(deal_frames(statuses=("won", "lost")))
def test_average_deal_size_properties(deals_: pd.DataFrame) -> None:
    got = average_deal_size(deals_, by="person")
    won = deals_[deals_["status"] == "won"]
    assert int(got["count"].sum()) == len(won)
    np.testing.assert_allclose(got["total"].sum(), won["amount"].sum(), rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(got["total"], got["count"] * got["mean"], rtol=1e-9)
    pd.testing.assert_frame_equal(average_deal_size(shuffled(deals_, 3), by="person"), got)


# ------------------------------------------------------------------------ sales_cycle_length


def test_sales_cycle_length_won_only() -> None:
    # Won cycles: deal 1: 10 days, deal 5: 30 days (Feb 2024 has 29 days), deal 6: 5 days.
    got = sales_cycle_length(_deals())
    assert got.loc["all", "count"] == 3
    assert got.loc["all", "mean"] == pytest.approx(15.0)
    assert got.loc["all", "median"] == 10.0
    # p90 with linear interpolation over [5, 10, 30]: position 0.9 * 2 = 1.8 -> 10 + 0.8 * 20.
    assert got.loc["all", "p90"] == pytest.approx(26.0)
    assert (got.loc["all", "min"], got.loc["all", "max"]) == (5.0, 30.0)


def test_sales_cycle_length_including_lost_by_person() -> None:
    # ann: 10, 30 (lost, Jan 5 -> Feb 4), 5 -> mean 15; bob: 30 (lost, Jan 1 -> 31), 30.
    got = sales_cycle_length(_deals(), by="person", include_lost=True)
    assert got["count"].tolist() == [3, 2]
    assert got["mean"].tolist() == [15.0, 30.0]


def test_sales_cycle_length_fractional_days() -> None:
    d = pd.DataFrame(
        {
            "status": ["won"],
            "created_at": D(["2024-01-01 00:00"]),
            "closed_at": D(["2024-01-02 12:00"]),
        }
    )
    assert sales_cycle_length(d).loc["all", "mean"] == 1.5


@settings(max_examples=30)  # several pandas group-bys per example; keep the area fast
@given(deal_frames())
def test_sales_cycle_length_properties(deals_: pd.DataFrame) -> None:
    got = sales_cycle_length(deals_, by="region", include_lost=True)
    assert int(got["count"].sum()) == int((deals_["status"] != "open").sum())
    assert (got["min"] <= got["median"]).all()
    assert (got["median"] <= got["max"]).all()
    assert (got["p90"] <= got["max"] + 1e-9).all()
    assert (got["min"] >= 0).all()
    pd.testing.assert_frame_equal(
        sales_cycle_length(shuffled(deals_, 4), by="region", include_lost=True), got
    )


# ---------------------------------------------------------------------------- activity_counts


def test_activity_counts_hand_worked_by_month() -> None:
    a = pd.DataFrame(
        {
            "person": ["ann", "ann", "bob", "ann"],
            "kind": ["call", "email", "call", "call"],
            "date": D(["2024-01-02", "2024-03-05", "2024-01-09", "2024-01-30"]),
        }
    )
    got = activity_counts(a, by=["person", "period"])
    # ann: Jan 2 calls, Feb nothing, Mar 1 email; bob: Jan 1 call, Feb and Mar nothing.
    assert got["call"].tolist() == [2, 0, 0, 1, 0, 0]
    assert got["email"].tolist() == [0, 0, 1, 0, 0, 0]
    assert got["total"].tolist() == [2, 0, 1, 1, 0, 0]


def test_activity_counts_fixed_kinds_and_overall() -> None:
    a = activities(2, start="2024-01-01", end="2024-01-31", seed=1)
    got = activity_counts(a, by=None, kinds=["meeting", "call", "email", "visit"])
    assert list(got.columns) == ["meeting", "call", "email", "visit", "total"]
    assert got.loc["all", "visit"] == 0
    assert got.loc["all", "total"] == len(a)


@settings(max_examples=30)  # several pandas group-bys per example; keep the area fast
@given(activity_frames())
def test_activity_counts_properties(a: pd.DataFrame) -> None:
    got = activity_counts(a, by=["person", "period"], period="W")
    assert int(got["total"].sum()) == len(a)
    kinds = [c for c in got.columns if c != "total"]
    assert (got[kinds].sum(axis=1) == got["total"]).all()
    pd.testing.assert_frame_equal(
        activity_counts(shuffled(a, 8), by=["person", "period"], period="W"), got
    )


# ------------------------------------------------------------------------------- generated data


def test_metrics_run_on_generated_team_data() -> None:
    d = deals(200, n_people=4, seed=3)
    rates = win_rate(d, by="person")
    assert rates.index.tolist() == ["R01", "R02", "R03", "R04"]
    assert int(rates[["won", "lost", "open"]].to_numpy().sum()) == 200
    cycle = sales_cycle_length(d, by="team")
    assert (cycle["min"] >= 1).all()


def test_time_zones_are_kept_and_bucketed_on_the_local_calendar() -> None:
    d = _deals()
    for col in ("created_at", "closed_at"):
        d[col] = d[col].dt.tz_localize("Europe/Berlin")
    d.index = [7] * len(d)  # duplicate labels do not matter
    got = win_rate(d, by="period")
    assert str(got.index.dtype) == f"datetime64[{d['closed_at'].dt.unit}, Europe/Berlin]"
    assert got["won"].tolist() == [1, 1, 1]


def test_generators_are_seeded_and_consistent() -> None:
    from crmcore import datasets

    reps = datasets.team(5, seed=11)
    assert reps["person"].is_unique
    assert set(reps["level"]) <= {"junior", "mid", "senior"}
    d = datasets.deals(120, n_people=5, seed=11)
    assert d.equals(datasets.deals(120, n_people=5, seed=11))
    assert not d.equals(datasets.deals(120, n_people=5, seed=12))
    assert set(d["person"]) <= set(reps["person"])
    # A deal's team and region are its owner's.
    owner = reps.set_index("person").loc[d["person"]]
    assert (owner["region"].to_numpy() == d["region"].to_numpy()).all()
    assert (owner["team"].to_numpy() == d["team"].to_numpy()).all()
    closed = d["status"] != "open"
    assert d.loc[closed, "closed_at"].notna().all()
    assert (d.loc[closed, "closed_at"] >= d.loc[closed, "created_at"]).all()
    t = datasets.targets(5, months=3, seed=11)
    assert len(t) == 15
    assert not t.duplicated(["person", "period"]).any()
    f = datasets.feedback(5, months=3, seed=11)
    assert f["manager_rating"].between(1, 5).all()
    a = datasets.activities(5, end="2024-01-31", seed=11)
    assert set(a["person"]) <= set(reps["person"])
    assert a["date"].is_monotonic_increasing


# ----------------------------------------------------------------------------------- bad input


def _with(**changes: object) -> pd.DataFrame:
    d = _deals()
    for col, (row, value) in changes.items():
        d[col] = d[col].astype(object) if not isinstance(value, float) else d[col]
        d.loc[row, col] = value  # type: ignore[index]
    return d


BAD = [
    (win_rate, "not a frame", {}, InputTypeError, "opportunities must be a pandas DataFrame"),
    (win_rate, _deals().iloc[:0], {}, SchemaError, "opportunities is empty"),
    (win_rate, _deals().drop(columns="status"), {}, SchemaError, "missing column.*'status'"),
    (win_rate, _deals(), {"by": "team"}, SchemaError, "missing column.*'team'"),
    (
        win_rate,
        _with(status=(2, "pending")),
        {},
        DataError,
        r"unknown value 'pending' at row 2 \(opportunity_id=3\)",
    ),
    (
        win_rate,
        _with(status=(1, None)),
        {},
        DataError,
        r"'status' of opportunities has a missing value",
    ),
    (
        win_rate,
        _with(amount=(0, np.nan)),
        {},
        DataError,
        r"'amount' of opportunities has NaN at row 0",
    ),
    (win_rate, _with(amount=(3, -1.0)), {}, DataError, r"negative value -1.0 at row 3"),
    (win_rate, _with(amount=(0, "lots")), {}, ColumnTypeError, r"non-numeric value 'lots'"),
    (win_rate, _with(person=(4, None)), {"by": "person"}, DataError, r"'person'.*row 4"),
    (win_rate, _deals(), {"period": "fortnight"}, ConfigError, r"period='fortnight'"),
    (win_rate, _deals(), {"by": ["person", "person"]}, ConfigError, "twice"),
    (win_rate, _deals(), {"by": [1]}, ConfigError, "by must be None"),
    (
        win_rate,
        _with(closed_at=(0, pd.NaT)),
        {"by": "period"},
        DataError,
        r"'closed_at' of opportunities has a missing date \(NaT\) at row 0 \(opportunity_id=1\)",
    ),
    (average_deal_size, _with(amount=(5, np.nan)), {}, DataError, r"NaN at row 5"),
    (average_deal_size, _deals().drop(columns="amount"), {}, SchemaError, "'amount'"),
    (
        sales_cycle_length,
        _with(closed_at=(5, pd.Timestamp("2024-01-15"))),
        {},
        DataError,
        r"row 5 \(opportunity_id=6\) closes before it was created",
    ),
    (sales_cycle_length, _with(closed_at=(0, pd.NaT)), {}, DataError, r"NaT\) at row 0"),
    (sales_cycle_length, _deals(), {"include_lost": "yes"}, ConfigError, "include_lost"),
    (
        activity_counts,
        pd.DataFrame({"person": ["a"], "kind": ["fax"]}),
        {"kinds": ["call"]},
        DataError,
        r"unexpected value 'fax' at row 0",
    ),
    (activity_counts, pd.DataFrame({"person": ["a"]}), {}, SchemaError, "'kind'"),
    (
        activity_counts,
        pd.DataFrame({"person": ["a"], "kind": ["call"]}),
        {"kinds": []},
        ConfigError,
        "kinds",
    ),
]


@pytest.mark.parametrize(("func", "frame", "kwargs", "exc", "match"), BAD)
def test_bad_input(
    func: object, frame: object, kwargs: dict[str, object], exc: type, match: str
) -> None:
    with pytest.raises(exc, match=match):
        func(frame, **kwargs)  # type: ignore[operator]


# ------------------------------------------------------------------------------- no mutation


@pytest.mark.parametrize(
    ("func", "kwargs"),
    [
        (win_rate, {"by": ["person", "period"]}),
        (average_deal_size, {"by": "person"}),
        (sales_cycle_length, {"by": "period", "include_lost": True}),
    ],
)
def test_deal_metrics_do_not_mutate(func: object, kwargs: dict[str, object]) -> None:
    call_unmutated(func, _deals(), **kwargs)  # type: ignore[arg-type]


def test_activity_counts_does_not_mutate() -> None:
    call_unmutated(
        activity_counts, activities(2, end="2024-02-01", seed=0), by=["person", "period"]
    )


def test_activity_kinds_as_a_categorical_with_unused_categories() -> None:
    # issue 14 catalogue: an unused category made pandas warn (Pandas4Warning) and is no kind
    a = pd.DataFrame({"person": ["ann", "ann", "bob"], "kind": ["call", "email", "call"]})
    cat = a.assign(kind=pd.Categorical(a["kind"], categories=["call", "email", "visit"]))
    pd.testing.assert_frame_equal(activity_counts(cat), activity_counts(a))


# -- amounts near the largest float (catalogue: whole columns of 1.7e308) -----------------------

BIG = 1.7e308  # two of these add up past the largest float (about 1.797e308)


def _huge_deals(status: list[str], amount: list[float], person: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"person": person, "status": status, "amount": amount},
        index=pd.Index([f"d{i}" for i in range(len(amount))], name="deal"),
    )


def test_average_deal_size_of_two_huge_won_deals_is_an_error_naming_the_row() -> None:
    # 1.7e308 + 1.7e308 = 3.4e308 > 1.797e308: no float holds the total; the second won
    # deal (d1) is where the running total passes it
    d = _huge_deals(["won", "won"], [BIG, BIG], ["ann", "ann"])
    with pytest.raises(
        DataError,
        match=r"column 'amount' of opportunities adds up past the "
        r"largest float \(about 1.8e308\) at row 'd1', value 1.7e\+308",
    ) as e:
        average_deal_size(d)
    assert (e.value.column, e.value.row) == ("amount", "d1")
    # per person: ann's d0 + d2 overflow at d2; bob's single deal alone would be fine
    d = _huge_deals(["won", "won", "won"], [BIG, BIG, BIG], ["ann", "bob", "ann"])
    with pytest.raises(DataError, match="at row 'd2'"):
        average_deal_size(d, by="person")
    # a lost deal does not count: one won 1.7e308 has total, mean and median 1.7e308
    d = _huge_deals(["won", "lost"], [BIG, BIG], ["ann", "ann"])
    out = average_deal_size(d)
    assert out[["count", "total", "mean", "median"]].iloc[0].tolist() == [1, BIG, BIG, BIG]


def test_win_rate_value_of_huge_won_and_lost_amounts_is_finite() -> None:
    # ann: won 1.7e308, lost 1.7e308: their sum overflows but the share is 1.7 / 3.4 = 0.5;
    # bob: won 0.85e308 + 0.425e308 = 1.275e308, lost 1.7e308: 1.275 / 2.975 = 3/7
    d = _huge_deals(
        ["won", "lost", "won", "won", "lost"],
        [BIG, BIG, BIG / 2, BIG / 4, BIG],
        ["ann", "ann", "bob", "bob", "bob"],
    )
    out = win_rate(d, by="person")
    assert out.loc["ann", "win_rate_value"] == 0.5
    assert out.loc["bob", "won_amount"] == BIG * 0.75
    assert out.loc["bob", "win_rate_value"] == pytest.approx(3 / 7, rel=1e-15)
    # a person's won amounts that add up past the largest float are an error naming the row
    with pytest.raises(DataError, match=r"at row 'd1', value 1.7e\+308"):
        win_rate(_huge_deals(["won", "won"], [BIG, BIG], ["ann", "ann"]))


@settings(max_examples=60)
@given(deal_frames(statuses=("won", "lost")))
def test_average_deal_size_of_huge_amounts_is_finite_or_an_error(deals_: pd.DataFrame) -> None:
    # amounts scaled to within a factor 1e6 of the largest float: a total is finite and right,
    # or the error names a won row of the group whose running total overflows
    huge = deals_.assign(amount=deals_["amount"] / 1e6 * 1e308)
    won = huge[huge["status"] == "won"]
    # in row order, as the error counts: a person's running total passes the largest float
    over = won.groupby("person")["amount"].agg(lambda a: sum(a.tolist()) == np.inf)
    if over.any():
        with pytest.raises(DataError, match="column 'amount' of opportunities adds up") as e:
            average_deal_size(huge, by="person")
        row = huge.loc[e.value.row]
        assert row["status"] == "won"
        assert over[row["person"]]
    else:
        out = average_deal_size(huge, by="person")
        assert np.isfinite(out[["total", "mean", "median"]].to_numpy()).all()
