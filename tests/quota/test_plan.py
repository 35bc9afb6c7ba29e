"""Tests of crmcore.quota.plan: the hierarchical plan, QuotaPlan and plan_pivot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ConfigError, DataError, SchemaError
from crmcore.quota import QuotaPlan, allocate, build_plan, plan_pivot, ramp_factors, seasonal_split
from helpers import call_unmutated, shuffled
from strategies_quota import METHOD_NAMES, int_percentages, people_frames

MONTHS = pd.period_range("2025-01", periods=12, freq="M")

PEOPLE = pd.DataFrame(
    {
        "region": ["North", "North", "South", "South", "South"],
        "person": ["ann", "bob", "cy", "dan", "eve"],
        "weight": [3.0, 1.0, 2.0, 1.0, 1.0],
    }
)


# ---------------------------------------------------------------------------------------------
# build_plan
# ---------------------------------------------------------------------------------------------


def test_build_plan_hand_example() -> None:
    # 1,000 over regions by weight: North 3 + 1 = 4, South 2 + 1 + 1 = 4 -> 500 / 500.
    # North 500 over ann 3, bob 1 -> 375, 125; South 500 over 2, 1, 1 -> 250, 125, 125.
    # Halves 40/60: ann 150/225, bob 50/75, cy 100/150, dan 50/75, eve 50/75.
    plan = call_unmutated(build_plan, PEOPLE, 1000, distribution={"H1": 40, "H2": 60})
    assert plan.by("region").to_dict() == {"North": 500, "South": 500}
    assert plan.by("person").to_dict() == {
        "ann": 375,
        "bob": 125,
        "cy": 250,
        "dan": 125,
        "eve": 125,
    }
    assert plan.by("month").to_dict() == {"H1": 400, "H2": 600}
    assert plan.table["quota_cents"].tolist() == [150, 225, 50, 75, 100, 150, 50, 75, 50, 75]
    assert list(plan.table.columns) == ["region", "person", "month", "quota_cents"]
    assert plan.check()


def test_build_plan_odd_cents_reconcile() -> None:
    # 1,000,000.01 (100,000,001 cents) over three equal people in one region, 12 equal months.
    people = pd.DataFrame({"region": ["R"] * 3, "person": ["a", "b", "c"], "weight": [1, 1, 1]})
    plan = build_plan(people, 100_000_001, periods=MONTHS)
    # 100,000,001 / 3 = 33,333,333.67: floors sum to 99,999,999, the 2 cents left go to a and b
    # (equal remainders: lower position first). Each year then splits into 12 months.
    assert plan.by("person").tolist() == [33_333_334, 33_333_334, 33_333_333]
    assert int(plan.table["quota_cents"].sum()) == 100_000_001
    assert plan.table["month"].iloc[:3].tolist() == ["2025-01", "2025-02", "2025-03"]


def test_build_plan_ramp_redistribute_and_drop() -> None:
    people = pd.DataFrame(
        {
            "region": ["R", "R"],
            "person": ["old", "new"],
            "weight": [1.0, 1.0],
            "start": ["2018-01-01", "2025-01-01"],
        }
    )
    periods = MONTHS[:4]
    # Without ramp: 800 -> 400 each -> 100 a month each.
    # Ramp 25/50/75/100 %: new carries 25, 50, 75, 100 of its 100 a month.
    drop = build_plan(people, 800, periods=periods, start="start", ramp_excess="drop")
    assert drop.pivot(margins=False).loc["new"].tolist() == [25, 50, 75, 100]
    assert drop.pivot(margins=False).loc["old"].tolist() == [100, 100, 100, 100]
    assert drop.total == 650
    assert drop.requested == 800
    assert drop.check()
    # Redistribute: each region-month keeps 200, split in proportion to ramped quotas:
    # month 1: old 100, new 25 -> 200 * 100/125 = 160, 40; month 2: 100:50 -> 133.33, 66.67;
    # month 3: 100:75 -> 114.29 / 85.71; month 4: 100 / 100. Exact years: old 507.62, new
    # 292.38 -> rows 508 / 292 (largest remainder). Controlled rounding: floors are old
    # 160+133+114+100 = 507, new 40+66+85+100 = 291, one unit each to place, one per month 2
    # and 3; month 2 goes to the larger fraction (new .67 > old .33), month 3 to old.
    red = build_plan(people, 800, periods=periods, start="start")
    assert red.pivot(margins=False).loc["old"].tolist() == [160, 133, 115, 100]
    assert red.pivot(margins=False).loc["new"].tolist() == [40, 67, 85, 100]
    assert red.by("person").to_dict() == {"new": 292, "old": 508}
    assert red.total == 800
    assert red.check()


def test_build_plan_nobody_to_carry_a_month_is_an_error() -> None:
    people = pd.DataFrame(
        {"region": ["R"], "person": ["new"], "weight": [1.0], "start": ["2025-03-01"]}
    )
    with pytest.raises(ConfigError, match=r"region 'R' has quota in period .*2025-01.* nobody"):
        build_plan(people, 1200, periods=MONTHS, start="start")
    # Dropping instead is well defined: nothing before March.
    plan = build_plan(people, 1200, periods=MONTHS, start="start", ramp_excess="drop")
    assert plan.pivot(margins=False).loc["new"].tolist()[:4] == [0, 0, 25, 50]


@given(
    people=people_frames(),
    total=st.integers(0, 10**11),
    method=st.sampled_from(METHOD_NAMES),
    ramp_excess=st.sampled_from(["redistribute", "drop", None]),
    seed=st.integers(0, 99),
)
def test_build_plan_levels_reconcile_and_ignore_row_order(
    people: pd.DataFrame, total: int, method: str, ramp_excess: str | None, seed: int
) -> None:
    kwargs: dict[str, object] = {"periods": MONTHS, "method": method}
    if ramp_excess is not None:
        # Everyone starts by 2025-01 at the latest -> every region has someone ramped in.
        people = people.assign(start=people["start"].clip(upper=pd.Timestamp("2025-01-01")))
        kwargs.update(start="start", ramp_excess=ramp_excess)
    plan = build_plan(people, total, **kwargs)  # type: ignore[arg-type]
    assert plan.check()
    table = plan.table
    assert table["quota_cents"].dtype == np.int64
    assert (table["quota_cents"] >= 0).all()
    # Each region = sum of its people; each person = sum of their months; company = everything.
    person_sum = table.groupby("person")["quota_cents"].sum()
    region_sum = table.groupby("region")["quota_cents"].sum()
    assert int(person_sum.sum()) == int(region_sum.sum()) == plan.total
    if ramp_excess != "drop":
        assert plan.total == total
        if ramp_excess is None:
            # Without ramp, regions get the apportionment of the total by summed weights.
            regions = people.groupby("region")["weight"].sum()
            alloc = allocate(regions.reset_index(), total, key="region", method=method)
            assert region_sum.to_dict() == alloc["quota_cents"].to_dict()
    else:
        assert plan.total <= total
    again = build_plan(shuffled(people, seed), total, **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(again.table, plan.table)


def test_build_plan_company_months_are_the_seasonal_split() -> None:
    # 100 over three equal people: years 34, 33, 33 (largest remainder, ties to lower key).
    # Halves 50/50: a 17 + 17; b and c 16.5 + 16.5. Split person by person, b and c would both
    # get 17 + 16 and the months 51 + 49. Controlled rounding keeps the months at
    # seasonal_split(100, [50, 50]) = 50, 50: one extra cent per month, month 1 to b (tie on
    # need and fraction -> lower position), month 2 to c.
    trio = pd.DataFrame({"region": ["R"] * 3, "person": ["a", "b", "c"], "weight": [1, 1, 1]})
    plan = build_plan(trio, 100, distribution=[50, 50])
    assert plan.by("month").tolist() == seasonal_split(100, [50, 50]).tolist() == [50, 50]
    assert plan.table["quota_cents"].tolist() == [17, 17, 17, 16, 16, 17]
    assert plan.by("person").tolist() == [34, 33, 33]


def test_build_plan_demo_quarters_are_exact() -> None:
    # The demo's shape: 7+7+8 % of 2,400,000.00 is 528,000.00 in Q1 to the cent, with nine
    # people whose years are not multiples of 100 cents.
    season = [7, 7, 8, 8, 9, 8, 6, 6, 9, 10, 10, 12]
    people = pd.DataFrame(
        {
            "region": list("EENNNSSWW"),
            "person": [f"p{i}" for i in range(9)],
            "weight": [0.101, 0.147, 0.07, 0.062, 0.047, 0.19, 0.095, 0.106, 0.097],
        }
    )
    plan = build_plan(people, 2_400_000_00, distribution=season, periods=MONTHS)
    months = plan.by("month").to_numpy()
    assert months.tolist() == seasonal_split(2_400_000_00, season).tolist()
    assert [int(months[3 * q : 3 * q + 3].sum()) for q in range(4)] == [
        528_000_00,
        600_000_00,
        504_000_00,
        768_000_00,
    ]


@given(
    people=people_frames(),
    total=st.integers(0, 10**11),
    parts=int_percentages(),
    method=st.sampled_from(METHOD_NAMES),
)
def test_build_plan_cells_are_floor_or_ceil_and_months_exact(
    people: pd.DataFrame, total: int, parts: list[int], method: str
) -> None:
    pct = np.asarray(parts, dtype=np.float64) / sum(parts) * 100.0
    pct[-1] = max(100.0 - pct[:-1].sum(), 0.0)
    plan = build_plan(people, total, distribution=pct.tolist(), method=method)
    assert plan.by("month").tolist() == seasonal_split(total, pct.tolist()).tolist()
    # Exact share of person i in month j: year_i * pct_j / sum(pct), with the percentages read
    # as the exact binary fractions the floats hold (as apportion and seasonal_split do).
    _assert_floor_or_ceil(plan, pct.tolist())


def _assert_floor_or_ceil(plan: QuotaPlan, distribution: list[float]) -> None:
    ratios = [float(v).as_integer_ratio() for v in distribution]
    den = max(d for _, d in ratios)
    nums = [n * (den // d) for n, d in ratios]
    years = plan.by("person").reindex(plan.table["person"]).tolist()
    cells = plan.table["quota_cents"].tolist()
    for year, cell, num in zip(years, cells, nums * (len(cells) // len(nums)), strict=True):
        q, r = divmod(year * num, sum(nums))
        assert cell in (q, q + (r > 0))


@pytest.mark.parametrize("total", [10**14 + 3, 2**53 + 1, 10**18 + 3, 2**62 - 1])
@pytest.mark.parametrize("distribution", [[100 / 12] * 12, [19.1, 25.0, 23.1, 32.8]])
def test_build_plan_months_exact_at_huge_totals(total: int, distribution: list[float]) -> None:
    # Beyond 2**53 a float cannot hold a cent: floors and fractions are computed in integers
    # (the percentages as the exact binary fractions they store).
    people = PEOPLE.assign(weight=[3.0, 1.0, 2.0, 1.0, 1.7])
    plan = build_plan(people, total, distribution=distribution)
    assert plan.check()
    assert plan.by("month").tolist() == seasonal_split(total, distribution).tolist()
    _assert_floor_or_ceil(plan, distribution)


@given(
    people=people_frames(),
    total=st.integers(0, 10**10),
    parts=int_percentages(),
    ramp_excess=st.sampled_from(["redistribute", "drop"]),
)
def test_build_plan_ramped_margins(
    people: pd.DataFrame, total: int, parts: list[int], ramp_excess: str
) -> None:
    pct = np.asarray(parts, dtype=np.float64) / sum(parts) * 100.0
    pct[-1] = max(100.0 - pct[:-1].sum(), 0.0)
    periods = MONTHS[: len(parts)]
    people = people.assign(start=people["start"].clip(upper=pd.Timestamp("2025-01-01")))
    flat = build_plan(people, total, distribution=pct.tolist(), periods=periods)
    plan = build_plan(
        people,
        total,
        distribution=pct.tolist(),
        periods=periods,
        start="start",
        ramp_excess=ramp_excess,  # type: ignore[arg-type]
    )
    assert plan.check()
    got = plan.pivot("region_person", margins=False)
    unramped = flat.pivot("region_person", margins=False)
    factors = ramp_factors(people, periods).reindex(got.index.get_level_values(1))
    ramped = unramped * factors.to_numpy()  # u_ij * f_ij
    if ramp_excess == "redistribute":
        # Region-month totals (hence the company's months) are those of the unramped plan.
        region_months = unramped.groupby(level=0).sum()
        pd.testing.assert_frame_equal(got.groupby(level=0).sum(), region_months)
        assert plan.by("month").tolist() == seasonal_split(total, pct.tolist()).tolist()
        # Exact share: G_kj * u_ij f_ij / sum over the region-month of u f.
        share = ramped / ramped.groupby(level=0).transform("sum").replace(0.0, 1.0)
        exact = share * region_months.reindex(got.index.get_level_values(0)).to_numpy()
    else:
        exact = ramped
        assert abs(plan.total - exact.to_numpy().sum()) < 1
        assert (np.abs(got.sum(axis=0) - exact.sum(axis=0)) < 1).all()
    # Every cell, and every person's year, within one unit of its exact ramped value.
    assert (np.abs(got - exact).to_numpy() < 1).all()
    assert (np.abs(got.sum(axis=1) - exact.sum(axis=1)) < 1).all()
    assert ((factors.to_numpy() > 0) | (got.to_numpy() == 0)).all()  # not started: 0


def test_plan_pivot_and_amounts_and_round_trip() -> None:
    plan = build_plan(PEOPLE, 1001, distribution=[50, 50])
    wide = plan.pivot("region")
    assert wide.loc["total", "total"] == 1001
    assert wide["total"].iloc[:-1].tolist() == plan.by("region").tolist()
    both = plan.pivot("region_person")
    assert both.loc[("North", "ann"), "total"] == plan.by("person")["ann"]
    amounts = plan.to_amounts()
    assert amounts["quota"].sum() == pytest.approx(10.01)
    again = QuotaPlan.from_dict(plan.to_dict())
    pd.testing.assert_frame_equal(again.table, plan.table)
    assert again.total == plan.total


def test_plan_pivot_on_a_plain_table() -> None:
    t = pd.DataFrame(
        {"person": ["b", "a", "a"], "month": ["m2", "m1", "m2"], "quota_cents": [5, 1, 2]}
    )
    got = call_unmutated(plan_pivot, t)
    # Months keep their first-appearance order (m2, m1); people are sorted.
    assert list(got.columns) == ["m2", "m1", "total"]
    assert got.loc["a"].tolist() == [2, 1, 3]
    assert got.loc["total"].tolist() == [7, 1, 8]


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "match"),
    [
        (PEOPLE, {"distribution": [50, 40]}, ConfigError, r"sums to 90;"),
        (
            PEOPLE,
            {"distribution": [50, 50], "periods": [1, 2, 3]},
            ConfigError,
            r"periods has 3 labels but distribution 2 shares",
        ),
        (PEOPLE, {"periods": []}, ConfigError, r"periods is empty"),
        (PEOPLE, {"ramp_excess": "keep"}, ConfigError, r"ramp_excess='keep' is not one of"),
        (PEOPLE, {"start": "start"}, SchemaError, r"missing column\(s\) 'start'"),
        (
            PEOPLE.assign(region=[None, "N", "S", "S", "S"]),
            {},
            DataError,
            r"column 'region' of people has a missing value at row 0",
        ),
        (PEOPLE.assign(weight=0), {}, ConfigError, r"column 'weight' of people is all zero"),
        (PEOPLE, {"method": "nope"}, ConfigError, r"method='nope'"),
    ],
)
def test_build_plan_bad_input(
    frame: pd.DataFrame, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        build_plan(frame, 1000, **kwargs)  # type: ignore[arg-type]


def test_build_plan_takes_seasonal_fractions() -> None:
    # A hand-made seasonal_weights Series (fractions of 1 by month number) and the same
    # distribution as percentages give the same plan.
    season = pd.Series(
        [0.06, 0.06, 0.08, 0.08, 0.09, 0.08, 0.07, 0.07, 0.09, 0.1, 0.1, 0.12],
        index=range(1, 13),
    )
    frac = build_plan(PEOPLE, 1_000_000_01, distribution=season, periods=MONTHS)
    pct = build_plan(PEOPLE, 1_000_000_01, distribution=season * 100, periods=MONTHS)
    pd.testing.assert_frame_equal(frac.table, pct.table)
    assert frac.by("month").tolist() == seasonal_split(1_000_000_01, season).tolist()
    assert frac.check()
    by_number = build_plan(PEOPLE, 1_000, distribution=season)
    assert by_number.table["month"].unique().tolist() == list(range(1, 13))


def test_build_plan_ramps_by_quarter() -> None:
    people = pd.DataFrame(
        {
            "region": ["R", "R"],
            "person": ["old", "new"],
            "weight": [1.0, 1.0],
            "start": ["2018-01-01", "2025-01-15"],
        }
    )
    quarters = pd.period_range("2025Q1", periods=4, freq="Q")
    drop = build_plan(people, 800, periods=quarters, start="start", ramp_excess="drop")
    # 100 a quarter each; new carries (25 + 50 + 75) / 3 = 50 % of Q1, then 100 %.
    assert drop.pivot(margins=False).loc["new"].tolist() == [50, 100, 100, 100]
    assert drop.total == 750
    assert drop.check()


def test_plan_pivot_refuses_sums_past_the_64_bit_limit() -> None:
    # Issue #14: int64 wrapped to negative totals.
    big = 2**62
    t = pd.DataFrame({"person": ["a", "a", "b"], "month": [1, 2, 1], "quota_cents": [big, big, 5]})
    with pytest.raises(DataError, match=r"passes the 64-bit limit"):
        plan_pivot(t)
    ok = plan_pivot(t.assign(quota_cents=[big, big - 1, -5]))  # inside the limit: exact
    assert ok.loc["a", "total"] == 2**63 - 1
    dup = pd.DataFrame({"person": ["a", "a"], "month": [1, 1], "quota_cents": [big, big]})
    with pytest.raises(DataError, match=r"passes the 64-bit limit"):
        plan_pivot(dup, margins=False)  # one cell holding two rows


def test_quota_plan_sums_are_checked() -> None:
    table = pd.DataFrame(
        {"region": ["N", "N"], "person": ["a", "b"], "month": [1, 1],
         "quota_cents": np.array([2**62, 2**62], dtype=np.int64)}
    )  # fmt: skip
    plan = QuotaPlan(table=table, total=0, requested=0)
    with pytest.raises(DataError, match=r"passes the 64-bit limit"):
        plan.by("month")


@given(
    rows=st.lists(
        st.tuples(st.sampled_from("abc"), st.integers(1, 3), st.integers(-(10**15), 10**15)),
        min_size=1,
        max_size=20,
    )
)
def test_plan_pivot_margins_are_exact_sums(rows: list[tuple[str, int, int]]) -> None:
    t = pd.DataFrame(rows, columns=["person", "month", "quota_cents"])
    wide = call_unmutated(plan_pivot, t)
    body = wide.drop(index="total", columns="total")
    for (person, month), value in t.groupby(["person", "month"])["quota_cents"].sum().items():
        assert body.loc[person, month] == value
    assert (wide["total"].iloc[:-1] == body.sum(axis=1)).all()
    assert wide.loc["total", "total"] == t["quota_cents"].sum()
    assert body.index.is_monotonic_increasing


def test_regions_mixing_types_are_a_clear_error() -> None:
    people = pd.DataFrame({"region": [1, "1"], "person": ["a", "b"], "weight": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"column 'region' of people mixes 1 and '1'"):
        build_plan(people, 100)
    table = pd.DataFrame({"person": [1, "1"], "month": [1, 1], "quota_cents": [1, 2]})
    with pytest.raises(DataError, match=r"'person' of table mixes number 1 \(row 0\) and text '1'"):
        plan_pivot(table)
    # issue 14 catalogue: months 1 and "1" were two columns of the pivot, silently
    table = pd.DataFrame({"person": ["a", "a"], "month": [1, "1"], "quota_cents": [1, 2]})
    with pytest.raises(DataError, match=r"'month' of table mixes number 1 \(row 0\) and text '1'"):
        plan_pivot(table)
