"""Tests for crmcore.kpi.attainment: hand-worked examples, properties, bad input, no mutation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from crmcore.datasets import deals, targets
from crmcore.errors import ColumnTypeError, ConfigError, DataError, SchemaError
from crmcore.kpi import attainment, target_variance
from helpers import call_unmutated, shuffled
from strategies_kpi import sales_and_targets

D = pd.to_datetime
JAN, FEB, MAR = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01")


def _sales() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4, 5],
            "person": ["ann", "ann", "bob", "ann", "cid"],
            "date": D(["2024-01-03", "2024-01-20", "2024-01-09", "2024-03-31", "2024-01-05"]),
            "amount": [600.0, 600.0, 300.0, 250.0, 70.0],
            "status": ["won", "won", "won", "lost", "won"],
        }
    )


def _targets() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person": ["ann", "ann", "bob", "bob"],
            "period": D(["2024-01-01", "2024-02-01", "2024-01-01", "2024-02-01"]),
            "target": [1000.0, 1000.0, 0.0, 400.0],
        }
    )


def test_attainment_hand_worked() -> None:
    # ann Jan: 600 + 600 = 1200 of 1000 -> variance +200, attainment 1.2 (no 100 % cap).
    # ann Feb: no sales -> achieved 0 (not missing), variance -1000, attainment 0.
    # ann Mar: 250 sold, no target -> included, flagged has_target=False.
    # bob Jan: 300 against a zero target -> attainment NaN by default.
    # bob Feb: nothing against 400 -> 0.
    # cid Jan: 70 sold, no target.
    got = attainment(_sales(), _targets())
    want = pd.DataFrame(
        {
            "target": [1000.0, 1000.0, np.nan, 0.0, 400.0, np.nan],
            "achieved": [1200.0, 0.0, 250.0, 300.0, 0.0, 70.0],
            "variance": [200.0, -1000.0, np.nan, 300.0, -400.0, np.nan],
            "attainment": [1.2, 0.0, np.nan, np.nan, 0.0, np.nan],
            "has_target": [True, True, False, True, True, False],
        },
        index=pd.MultiIndex.from_arrays(
            [
                ["ann", "ann", "ann", "bob", "bob", "cid"],
                # period starts keep the unit of the dates they come from
                pd.DatetimeIndex([JAN, FEB, MAR, JAN, FEB, JAN]).as_unit(_sales()["date"].dt.unit),
            ],
            names=["person", "period"],
        ),
    )
    pd.testing.assert_frame_equal(got, want)


def test_attainment_status_filter_keeps_only_won() -> None:
    # The lost deal 4 (ann, Mar) no longer counts: the Mar row disappears.
    got = attainment(_sales(), _targets(), status="status")
    assert ("ann", MAR) not in got.index
    assert got.loc[("ann", JAN), "achieved"] == 1200.0


def test_attainment_zero_target_options() -> None:
    t = pd.DataFrame({"person": ["a", "b"], "period": [JAN, JAN], "target": [0.0, 0.0]})
    s = pd.DataFrame({"person": ["a"], "date": [JAN], "amount": [5.0]})
    # a sold 5 against 0; b sold nothing against 0.
    assert attainment(s, t)["attainment"].isna().all()
    inf = attainment(s, t, zero_target="inf")["attainment"].tolist()
    assert inf[0] == np.inf
    assert np.isnan(inf[1])  # 0 / 0 stays undefined
    assert attainment(s, t, zero_target=1.0)["attainment"].tolist() == [1.0, 1.0]
    # A refund against a zero target is -inf under "inf".
    refund = s.assign(amount=-5.0)
    assert attainment(refund, t, zero_target="inf")["attainment"].iloc[0] == -np.inf


def test_attainment_cap_is_optional_and_leaves_variance() -> None:
    got = attainment(_sales(), _targets(), cap=1.0, zero_target="inf")
    assert got.loc[("ann", JAN), "attainment"] == 1.0
    assert got.loc[("ann", JAN), "variance"] == 200.0
    assert got.loc[("bob", JAN), "attainment"] == 1.0  # inf capped


def test_attainment_unmatched_drop_and_error() -> None:
    dropped = attainment(_sales(), _targets(), unmatched="drop")
    assert dropped["has_target"].all()
    assert len(dropped) == 4
    with pytest.raises(DataError, match=r"row 3 \(opportunity_id=4\) has no target for"):
        attainment(_sales(), _targets(), unmatched="error")


def test_attainment_reads_quota_plan_periods_in_any_form() -> None:
    base = attainment(_sales(), _targets())
    as_period = _targets().assign(period=_targets()["period"].dt.to_period("M"))
    as_text = _targets().assign(period=["2024-01", "2024-02", "2024-01", "2024-02"])
    mid_month = _targets().assign(
        period=D(["2024-01-15", "2024-02-29", "2024-01-31", "2024-02-02"])
    )
    for t in (as_period, as_text, mid_month):
        pd.testing.assert_frame_equal(attainment(_sales(), t), base)


def test_attainment_quarterly_and_person_only() -> None:
    t = pd.DataFrame({"person": ["ann", "bob"], "target": [2000.0, 500.0]})
    got = attainment(_sales(), t, by="person")
    # ann: 600 + 600 + 250 = 1450 of 2000.
    assert got.loc["ann", "attainment"] == pytest.approx(0.725)
    assert got.loc["bob", "achieved"] == 300.0
    q = pd.DataFrame({"person": ["ann"], "period": [JAN], "target": [1000.0]})
    got_q = attainment(_sales(), q, period="Q", unmatched="drop")
    assert got_q.loc[("ann", JAN), "achieved"] == 1450.0


def test_attainment_preaggregated_actuals_with_period_column() -> None:
    a = pd.DataFrame({"person": ["ann"], "period": ["2024-02"], "amount": [900.0]})
    got = attainment(a, _targets(), date=None, unmatched="drop")
    assert got.loc[("ann", FEB), "attainment"] == 0.9


def test_attainment_decimals_reconcile_exactly() -> None:
    s = pd.DataFrame({"person": ["a"] * 3, "date": [JAN] * 3, "amount": [0.1, 0.2, 0.3]})
    t = pd.DataFrame({"person": ["a"], "period": [JAN], "target": [0.6]})
    assert attainment(s, t, decimals=2).loc[("a", JAN), "achieved"] == 0.6
    assert attainment(s, t, decimals=2).loc[("a", JAN), "variance"] == 0.0


def test_attainment_time_zone_aware_on_both_sides() -> None:
    s = _sales().assign(date=_sales()["date"].dt.tz_localize("Europe/Berlin"))
    t = _targets().assign(period=_targets()["period"].dt.tz_localize("Europe/Berlin"))
    got = attainment(s, t, unmatched="drop")
    assert got["achieved"].tolist() == [1200.0, 0.0, 300.0, 0.0]
    assert str(got.index.levels[1].dtype) == f"datetime64[{s['date'].dt.unit}, Europe/Berlin]"


def test_attainment_empty_actuals_give_zero_achieved() -> None:
    got = attainment(_sales().iloc[:0], _targets())
    assert got["achieved"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert got["has_target"].all()


def test_attainment_on_generated_quota_shaped_targets() -> None:
    d = deals(300, n_people=4, seed=5)
    t = targets(4, n_deals=300, seed=5)
    got = attainment(d, t, date="closed_at", status="status")
    assert len(got) == len(t)  # every won deal of 2024 falls in a targeted month
    won = d[d["status"] == "won"]
    np.testing.assert_allclose(got["achieved"].sum(), won["amount"].sum(), rtol=1e-12)


def test_attainment_reads_a_quota_plan_directly() -> None:
    from crmcore.quota import build_plan

    people = pd.DataFrame({"region": ["N", "N"], "person": ["ann", "bob"], "weight": [3, 1]})
    # 4 000.00 split 3:1 -> ann 3 000.00, bob 1 000.00; over Jan/Feb 50/50 -> 1 500 and 500.
    plan = build_plan(
        people,
        400_000,
        distribution=[50, 50],
        periods=pd.period_range("2024-01", periods=2, freq="M"),
    )
    got = attainment(
        _sales(), plan.to_amounts(), target="quota", period_column="month", unmatched="drop"
    )
    assert got.index.names == ["person", "period"]
    assert got["target"].tolist() == [1500.0, 1500.0, 500.0, 500.0]
    # ann Jan 1200 of 1500 = 0.8; bob Jan 300 of 500 = 0.6.
    assert got["attainment"].tolist() == [0.8, 0.0, 0.6, 0.0]


def test_target_variance_hand_worked() -> None:
    # ann Jan: +200 on 1000 -> +20 %, no shortfall; ann Feb: -1000 -> -100 %, shortfall 1000;
    # bob Jan: target 0 -> pct NaN, shortfall 0; bob Feb: -400 -> -100 %.
    got = target_variance(_sales(), _targets(), unmatched="drop")
    assert got["variance"].tolist() == [200.0, -1000.0, 300.0, -400.0]
    np.testing.assert_allclose(got["variance_pct"], [0.2, -1.0, np.nan, -1.0])
    assert got["shortfall"].tolist() == [0.0, 1000.0, 0.0, 400.0]


# ----------------------------------------------------------------------------------- properties


@settings(max_examples=30)  # several pandas group-bys per example; keep the area fast
@given(sales_and_targets())
def test_attainment_properties(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    sales, goals = data
    got = attainment(sales, goals, decimals=2)
    # Rows: every target appears exactly once.
    assert int(got["has_target"].sum()) == len(goals)
    # Achieved within targeted keys equals the sum of the sales that fall in them (to the cent).
    month = sales["date"].dt.to_period("M").dt.start_time.astype("datetime64[ns]")
    keys = set(zip(goals["person"], goals["period"], strict=True))
    inside = np.asarray([(p, m) in keys for p, m in zip(sales["person"], month, strict=True)])
    want = round(float(sales.loc[inside, "amount"].sum()), 2) if len(sales) else 0.0
    assert round(float(got.loc[got["has_target"], "achieved"].sum()), 2) == pytest.approx(want)
    # With unmatched="include" nothing is lost.
    assert round(float(got["achieved"].sum()), 2) == pytest.approx(
        round(float(sales["amount"].sum()), 2)
    )
    # Variance is achieved - target; attainment x target = achieved for positive targets.
    np.testing.assert_allclose(got["variance"], got["achieved"] - got["target"])
    pos = got["target"] > 0
    np.testing.assert_allclose(
        (got["attainment"] * got["target"])[pos], got["achieved"][pos], rtol=1e-9, atol=1e-9
    )
    assert got.index.is_monotonic_increasing
    assert got.index.is_unique
    # Row order of either table changes nothing.
    again = attainment(shuffled(sales, 1), shuffled(goals, 2), decimals=2)
    pd.testing.assert_frame_equal(again, got)


@settings(max_examples=30)  # several pandas group-bys per example; keep the area fast
@given(sales_and_targets(allow_refunds=False))
def test_target_variance_agrees_with_attainment(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    sales, goals = data
    att = attainment(sales, goals, unmatched="drop")
    var = target_variance(sales, goals, unmatched="drop")
    pd.testing.assert_series_equal(var["variance"], att["variance"])
    pos = att["target"] > 0
    np.testing.assert_allclose(var["variance_pct"][pos], att["attainment"][pos] - 1, atol=1e-12)
    assert var.loc[~pos, "variance_pct"].isna().all()
    assert (var["shortfall"] >= 0).all()
    capped = attainment(sales, goals, unmatched="drop", cap=1.5)
    assert (capped["attainment"].dropna() <= 1.5).all()


# ----------------------------------------------------------------------------------- bad input


def _t(**changes: object) -> pd.DataFrame:
    t = _targets()
    for col, (row, value) in changes.items():
        if not isinstance(value, float):
            t[col] = t[col].astype(object)
        t.loc[row, col] = value  # type: ignore[index]
    return t


BAD = [
    (
        {"targets": _t(period=(1, pd.Timestamp("2024-01-31")))},
        DataError,
        r"second target for \(person='ann', period=Timestamp\('2024-01-01 00:00:00'\)\) at row 1",
    ),
    ({"targets": _t(target=(2, np.nan))}, DataError, r"'target' of targets has NaN at row 2"),
    ({"targets": _t(target=(3, -5.0))}, DataError, r"negative value -5.0 at row 3"),
    ({"targets": _t(target=(0, "high"))}, ColumnTypeError, r"non-numeric value 'high' at row 0"),
    ({"targets": _t(person=(0, None))}, DataError, r"'person' of targets has a missing value"),
    ({"targets": _t(period=(0, "someday"))}, ColumnTypeError, r"'someday'.*not a date"),
    ({"targets": _targets().iloc[:0]}, SchemaError, "targets is empty"),
    ({"targets": _targets().drop(columns="target")}, SchemaError, "missing column.*'target'"),
    ({"actuals": _sales().drop(columns="date")}, SchemaError, "actuals is missing.*'date'"),
    (
        {"actuals": _sales().assign(amount=[1.0, np.nan, 3.0, 4.0, 5.0])},
        DataError,
        r"'amount' of actuals has NaN at row 1 \(opportunity_id=2\)",
    ),
    (
        {
            "actuals": _sales().assign(
                date=D(["2024-01-03", None, "2024-01-09", "2024-03-31", None])
            )
        },
        DataError,
        r"missing date \(NaT\) at row 1",
    ),
    (
        {"actuals": _sales().assign(person=[1, 2, 3, 4, 5])},
        ColumnTypeError,
        r"'person' holds .* in targets but int64 in actuals",
    ),
    (
        {"actuals": _sales().assign(date=_sales()["date"].dt.tz_localize("UTC"))},
        DataError,
        "mix naive and tz-aware",
    ),
    ({"by": None}, ConfigError, "by must name at least one key"),
    ({"by": ["person", "team"]}, SchemaError, "'team'"),
    ({"zero_target": "huge"}, ConfigError, "zero_target='huge'"),
    ({"cap": 0.0}, ConfigError, "cap == 0.0, must be > 0.0"),
    ({"cap": "1"}, ConfigError, "cap must be float"),
    ({"unmatched": "ignore"}, ConfigError, "unmatched='ignore'"),
    ({"decimals": -1}, ConfigError, "decimals == -1"),
    ({"period": "H"}, ConfigError, "period='H'"),
    ({"period_column": "month"}, SchemaError, "targets is missing column.*'month'"),
    ({"period_column": 3}, ConfigError, "period_column must be a column name"),
]


@pytest.mark.parametrize(("changes", "exc", "match"), BAD)
def test_bad_input(changes: dict[str, object], exc: type, match: str) -> None:
    kwargs: dict[str, object] = {"actuals": _sales(), "targets": _targets()}
    kwargs.update(changes)
    actuals = kwargs.pop("actuals")
    goals = kwargs.pop("targets")
    with pytest.raises(exc, match=match):
        attainment(actuals, goals, **kwargs)  # type: ignore[arg-type]


def test_target_variance_rejects_the_same_bad_input() -> None:
    with pytest.raises(DataError, match=r"'target' of targets has NaN at row 2"):
        target_variance(_sales(), _t(target=(2, np.nan)))


# ---------------------------------------------------------------------------------- no mutation


def test_attainment_does_not_mutate() -> None:
    call_unmutated(attainment, _sales(), _targets(), status="status", zero_target="inf", cap=2.0)


def test_target_variance_does_not_mutate() -> None:
    call_unmutated(target_variance, _sales(), _targets(), decimals=2)


def test_achieved_past_the_largest_float_is_an_error_naming_the_row() -> None:
    # ann's two January sales of 1.7e308 add up past the largest float: named at the second
    sales = _sales().assign(amount=[1.7e308, 1.7e308, 300.0, 250.0, 70.0])
    with pytest.raises(
        DataError,
        match=r"column 'amount' of actuals adds up past the largest "
        r"float \(about 1.8e308\) at row 1",
    ) as e:
        attainment(sales, _targets(), unmatched="include")
    assert e.value.row == 1
    # one of them is a float: achieved 1.7e308 against a target of 1000
    out = attainment(sales.drop(index=1), _targets(), unmatched="include")
    assert out.loc[("ann", JAN), "achieved"] == 1.7e308
