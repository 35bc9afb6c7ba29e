"""Tests of crmcore.quota.plan: weights, allocation, seasonality, ramps, plans, reassignment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ConfigError, CRMError, DataError, SchemaError
from crmcore.quota import (
    QuotaPlan,
    allocate,
    apportion,
    build_plan,
    history_weights,
    plan_pivot,
    potential_weights,
    ramp_factors,
    reassign_accounts,
    seasonal_split,
)
from crmcore.quota.plan import _controlled_round, _round_all_margins
from helpers import call_unmutated, shuffled
from strategies_quota import METHOD_NAMES, people_frames

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
        ([30, 30, 30], r"distribution percentages sum to 90, not 100"),
        ([60, 50], r"sum to 110, not 100"),
        ([110, -10], r"negative percentage -10.0 for period 2"),
        ([float("nan"), 100], r"non-finite percentage nan for period 1"),
        ([], r"distribution is empty"),
        (pd.Series([50, 50], index=["a", "a"]), r"period 'a' twice"),
        (["x", "y"], r"must hold numbers"),
    ],
)
def test_seasonal_split_bad_distribution(distribution: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        seasonal_split(100, distribution)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------------------------


ACCOUNTS = pd.DataFrame(
    {
        "account_id": [1, 2, 3, 4, 5, 6],
        "person": ["ann", "ann", "bob", "bob", "bob", "cy"],
        "grade": ["A", "C", "B", "B", "C", "A"],
    }
)


def test_potential_weights_hand_example() -> None:
    # ann: A + C = 5 + 1 = 6; bob: B + B + C = 3 + 3 + 1 = 7; cy: A = 5.
    got = call_unmutated(potential_weights, ACCOUNTS)
    assert got.to_dict() == {"ann": 6.0, "bob": 7.0, "cy": 5.0}
    assert got.name == "potential"
    assert got.index.name == "person"


def test_potential_weights_custom_table_and_order_independence() -> None:
    table = {"A": 10, "B": 2, "C": 0}
    base = potential_weights(ACCOUNTS, grade_weights=table)
    assert base.to_dict() == {"ann": 10.0, "bob": 4.0, "cy": 10.0}
    pd.testing.assert_series_equal(
        potential_weights(shuffled(ACCOUNTS, 3), grade_weights=table), base
    )


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "match"),
    [
        (
            ACCOUNTS.assign(grade=["A", "Z", "B", "B", "C", "A"]),
            {},
            DataError,
            r"grade 'Z' at row 1 \(person='ann'\) with no weight",
        ),
        (
            ACCOUNTS.assign(grade=["A", None, "B", "B", "C", "A"]),
            {},
            DataError,
            r"missing value at row 1",
        ),
        (ACCOUNTS.drop(columns="grade"), {}, SchemaError, r"missing column\(s\) 'grade'"),
        (
            ACCOUNTS,
            {"grade_weights": {"A": -1, "B": 1, "C": 1}},
            ConfigError,
            r"grade_weights\['A'\] == -1",
        ),
    ],
)
def test_potential_weights_bad_input(
    frame: pd.DataFrame, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        potential_weights(frame, **kwargs)  # type: ignore[arg-type]


SALES = pd.DataFrame(
    {"person": ["ann", "bob", "bob", "cy"], "amount": [600.0, 100.0, 100.0, 200.0]}
)


def test_history_weights_hand_example() -> None:
    # Sales: ann 600, bob 200, cy 200 of 1000 -> 0.6, 0.2, 0.2.
    got = call_unmutated(history_weights, SALES)
    assert got.round(12).to_dict() == {"ann": 0.6, "bob": 0.2, "cy": 0.2}
    # Blend 50 % with potential ann 6, bob 7, cy 5, dan 2 (of 20): potential shares .3, .35, .25,
    # .1 -> ann .5*.6 + .5*.3 = .45, bob .5*.2 + .5*.35 = .275, cy .5*.2+.5*.25 = .225,
    # dan .5*0 + .5*.1 = .05 (a new person without history still gets a potential-based weight).
    pot = pd.Series({"ann": 6.0, "bob": 7.0, "cy": 5.0, "dan": 2.0})
    got = history_weights(SALES, potential=pot, blend=0.5)
    assert got.round(12).to_dict() == {"ann": 0.45, "bob": 0.275, "cy": 0.225, "dan": 0.05}
    assert got.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "match"),
    [
        (SALES, {"blend": 0.5}, ConfigError, r"blend == 0.5 needs potential"),
        (SALES, {"blend": 1.5}, ConfigError, r"blend == 1.5, must be <= 1.0"),
        (
            SALES.assign(amount=[1.0, -1.0, 1.0, 1.0]),
            {},
            DataError,
            r"negative value -1.0 at row 1",
        ),
        (SALES.assign(amount=[1.0, np.nan, 1.0, 1.0]), {}, DataError, r"NaN at row 1"),
        (SALES.assign(amount=0.0), {}, ConfigError, r"sales amounts are all zero"),
        (
            SALES,
            {"potential": pd.Series({"ann": 0.0}), "blend": 0.2},
            ConfigError,
            r"potential is all zero",
        ),
    ],
)
def test_history_weights_bad_input(
    frame: pd.DataFrame, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        history_weights(frame, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# allocate
# ---------------------------------------------------------------------------------------------

PEOPLE = pd.DataFrame(
    {
        "region": ["North", "North", "South", "South", "South"],
        "person": ["ann", "bob", "cy", "dan", "eve"],
        "weight": [3.0, 1.0, 2.0, 1.0, 1.0],
    }
)


def test_allocate_hand_example() -> None:
    # 1,000.00 over weights 3, 1, 2, 1, 1 (sum 8): quotas 37,500, 12,500, 25,000, 12,500, 12,500.
    got = call_unmutated(allocate, PEOPLE, 100_000)
    expected = pd.DataFrame(
        {
            "weight": [3.0, 1.0, 2.0, 1.0, 1.0],
            "share": [0.375, 0.125, 0.25, 0.125, 0.125],
            "quota_cents": np.array([37_500, 12_500, 25_000, 12_500, 12_500], dtype=np.int64),
        },
        index=pd.Index(["ann", "bob", "cy", "dan", "eve"], name="person"),
    )
    pd.testing.assert_frame_equal(got, expected, check_index_type=False)


def test_allocate_with_bounds_from_columns() -> None:
    frame = PEOPLE.assign(cap=[30_000, 99_999, 99_999, 99_999, 99_999], floor=0)
    got = allocate(frame, 100_000, maximum="cap", minimum="floor")
    # ann capped at 30,000; 70,000 over 1, 2, 1, 1 (sum 5): 14,000, 28,000, 14,000, 14,000.
    assert got["quota_cents"].tolist() == [30_000, 14_000, 28_000, 14_000, 14_000]


@given(
    people=people_frames(),
    total=st.integers(0, 10**10),
    method=st.sampled_from(METHOD_NAMES),
    seed=st.integers(0, 99),
)
def test_allocate_is_exact_and_order_independent(
    people: pd.DataFrame, total: int, method: str, seed: int
) -> None:
    base = allocate(people, total, method=method)
    assert int(base["quota_cents"].sum()) == total
    assert base.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(allocate(shuffled(people, seed), total, method=method), base)


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "match"),
    [
        (
            PEOPLE.assign(weight=[1.0, -1.0, 1.0, 1.0, 1.0]),
            {},
            DataError,
            r"negative value -1.0 at row 1 \(person='bob'\)",
        ),
        (
            PEOPLE.assign(weight=[1.0, np.nan, 1.0, 1.0, 1.0]),
            {},
            DataError,
            r"NaN at row 1 \(person='bob'\)",
        ),
        (PEOPLE.assign(weight=0.0), {}, ConfigError, r"column 'weight' of frame is all zero"),
        (
            PEOPLE.assign(person=["a", "a", "b", "c", "d"]),
            {},
            DataError,
            r"duplicate value 'a' at row 1",
        ),
        (PEOPLE.drop(columns="weight"), {}, SchemaError, r"missing column\(s\) 'weight'"),
        (PEOPLE, {"method": "borda"}, ConfigError, r"method='borda'"),
        (
            PEOPLE,
            {"minimum": 30_000},
            ConfigError,
            r"minimum sums to 150000, more than total 100000",
        ),
        (PEOPLE, {"maximum": "nope"}, SchemaError, r"missing column\(s\) 'nope'"),
        (PEOPLE.iloc[:0], {}, SchemaError, r"frame is empty"),
    ],
)
def test_allocate_bad_input(
    frame: pd.DataFrame, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        allocate(frame, 100_000, **kwargs)  # type: ignore[arg-type]


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
        ({"periods": ["Q1", "Q2"]}, r"periods must be monthly pandas Periods or dates"),
        ({"ramp": (0.5, 1.5)}, r"ramp has factor 1.5 for tenure month 2; expected 0 .. 1"),
        ({"ramp": ()}, r"ramp must be a non-empty sequence"),
        ({"periods": [1, 2, 3]}, r"periods must be monthly pandas Periods or dates"),
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


int_percentages = st.lists(st.integers(0, 30), min_size=1, max_size=12).filter(any)


@given(
    people=people_frames(),
    total=st.integers(0, 10**11),
    parts=int_percentages,
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
    parts=int_percentages,
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


# ---------------------------------------------------------------------------------------------
# controlled rounding (private helper behind build_plan)
# ---------------------------------------------------------------------------------------------


def test_controlled_round_completes_by_augmenting_path() -> None:
    # x = [[1.75, 1.5, 0], [1.5, 1, 1.75]], rows 3 and 4, columns 3, 3, 1. Floors [[1, 1, 0],
    # [1, 1, 1]] leave one unit per row and one per column 1 and 2; row 2's month 2 is whole.
    # Greedy: column 1 goes to row 1 (fraction .75 > .5), then column 2 has no one (row 1 is
    # done, row 2's cell is whole). The augmenting path: row 2 enters column 1, row 1 moves
    # its unit to column 2.
    x = np.array([[1.75, 1.5, 0.0], [1.5, 1.0, 1.75]])
    got = _controlled_round(x, np.array([3, 4]), np.array([3, 3, 1]))
    assert got.tolist() == [[1, 2, 0], [2, 1, 1]]


def test_controlled_round_reports_infeasible_margins() -> None:
    # Row 1 has fractions only in columns 1-2, row 2 only in 3-4; columns 1 and 2 both asking
    # for a unit would need two from row 1, which has one.
    x = np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]])
    with pytest.raises(CRMError, match=r"controlled rounding is infeasible"):
        _controlled_round(x, np.array([1, 1]), np.array([1, 1, 0, 0]))
    with pytest.raises(CRMError, match=r"row totals sum to 2 but column totals to 3"):
        _controlled_round(x, np.array([1, 1]), np.array([1, 1, 1, 0]))


@given(
    st.integers(1, 12).flatmap(
        lambda m: st.tuples(
            st.lists(
                st.lists(st.integers(0, 4 * 64), min_size=m, max_size=m), min_size=1, max_size=15
            ),
            st.randoms(use_true_random=False),
        )
    )
)
def test_controlled_round_finds_a_rounding_whenever_one_exists(data: tuple) -> None:  # type: ignore[type-arg]
    # A random real matrix (multiples of 1/64, exact in floats) and margins taken from a
    # random floor-or-ceil rounding of it, so a solution is known to exist.
    numerators, rnd = data
    num = np.asarray(numerators, dtype=np.int64)
    x = num / 64.0
    lo, hi = num // 64, -(-num // 64)
    up = np.asarray([[rnd.random() < 0.5 for _ in row] for row in numerators], dtype=bool)
    witness = np.where(up, hi, lo)
    got = _controlled_round(x, witness.sum(axis=1), witness.sum(axis=0))
    assert got.dtype == np.int64
    assert (got.sum(axis=1) == witness.sum(axis=1)).all()
    assert (got.sum(axis=0) == witness.sum(axis=0)).all()
    assert ((got == lo) | (got == hi)).all()


@given(st.lists(st.lists(st.integers(0, 4 * 64), min_size=4, max_size=4), min_size=1, max_size=15))
def test_round_all_margins_always_exists(numerators: list[list[int]]) -> None:
    # Cox & Ernst: cells, row sums, column sums and the total each to floor or ceiling.
    num = np.asarray(numerators, dtype=np.int64)
    got = _round_all_margins(num / 64.0)
    for part, exact in (
        (got, num),
        (got.sum(axis=1), num.sum(axis=1)),
        (got.sum(axis=0), num.sum(axis=0)),
        (got.sum(), num.sum()),
    ):
        assert (np.asarray(part) >= np.asarray(exact) // 64).all()
        assert (np.asarray(part) <= -(-np.asarray(exact) // 64)).all()


@given(
    years=st.lists(st.integers(0, 10**9), min_size=1, max_size=40),
    parts=int_percentages,
)
def test_controlled_round_rank_one_with_hamilton_columns(
    years: list[int], parts: list[int]
) -> None:
    # build_plan's case: x_ij = year_i * p_j, columns the largest-remainder split of the total.
    r = np.asarray(years, dtype=np.int64)
    p = np.asarray(parts, dtype=np.int64)
    cols = apportion(int(r.sum()), p.astype(np.float64))
    x = r.astype(np.float64)[:, None] * (p / p.sum())[None, :]
    got = call_unmutated(_controlled_round, x, r, cols)
    assert (got.sum(axis=1) == r).all()
    assert (got.sum(axis=0) == cols).all()
    num = r[:, None] * p[None, :]
    assert ((got == num // p.sum()) | (got == -(-num // p.sum()))).all()


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
        (PEOPLE, {"distribution": [50, 40]}, ConfigError, r"sum to 90, not 100"),
        (
            PEOPLE,
            {"distribution": [50, 50], "periods": [1, 2, 3]},
            ConfigError,
            r"periods has 3 labels but distribution 2",
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


# ---------------------------------------------------------------------------------------------
# reassign_accounts
# ---------------------------------------------------------------------------------------------

QUOTAS = pd.DataFrame(
    {"quota_cents": np.array([90_000, 30_000, 0], dtype=np.int64)},
    index=pd.Index(["ann", "bob", "cy"], name="person"),
)
BOOK = pd.DataFrame(
    {
        "account_id": [1, 2, 3, 4, 5],
        "person": ["ann", "ann", "ann", "bob", "bob"],
        "weight": [5.0, 3.0, 1.0, 3.0, 0.0],
    }
)


def test_reassign_accounts_hand_example() -> None:
    # ann's 90,000 over accounts 5:3:1 -> 50,000, 30,000, 10,000. Moving account 2 to cy and
    # account 3 to bob: ann keeps 50,000; bob gets 10,000 more; cy 30,000.
    got = call_unmutated(reassign_accounts, QUOTAS, BOOK, {2: "cy", 3: "bob"})
    assert got["quota_cents"].to_dict() == {"ann": 50_000, "bob": 40_000, "cy": 30_000}
    assert got["moved_out_cents"].to_dict() == {"ann": 40_000, "bob": 0, "cy": 0}
    assert got["moved_in_cents"].to_dict() == {"ann": 0, "bob": 10_000, "cy": 30_000}
    assert int(got["quota_cents"].sum()) == int(QUOTAS["quota_cents"].sum())


def test_reassign_accounts_to_a_new_person() -> None:
    got = reassign_accounts(QUOTAS, BOOK, pd.Series({4: "dan"}))
    # bob's 30,000 over weights 3 and 0 -> account 4 carries all of it.
    assert got["quota_cents"].to_dict() == {"ann": 90_000, "bob": 0, "cy": 0, "dan": 30_000}


@given(
    totals=st.lists(st.integers(0, 10**9), min_size=3, max_size=3),
    weights=st.lists(st.floats(0.01, 100.0), min_size=5, max_size=5),
    moves=st.dictionaries(st.integers(1, 5), st.sampled_from(["ann", "bob", "cy", "dan"])),
)
def test_reassign_accounts_keeps_the_total(
    totals: list[int], weights: list[float], moves: dict[int, str]
) -> None:
    quotas = QUOTAS.assign(quota_cents=np.asarray(totals, dtype=np.int64))
    got = reassign_accounts(quotas, BOOK.assign(weight=weights), moves)
    assert int(got["quota_cents"].sum()) == sum(totals)
    assert (got["quota_cents"] >= 0).all()
    assert int(got["moved_out_cents"].sum()) == int(got["moved_in_cents"].sum())


@pytest.mark.parametrize(
    ("quotas", "book", "moves", "error", "match"),
    [
        (QUOTAS, BOOK, {9: "cy"}, DataError, r"moves names account 9, which is not in accounts"),
        (
            QUOTAS,
            BOOK.assign(person=["ann", "ann", "ann", "bob", "zed"]),
            {1: "cy"},
            DataError,
            r"owner 'zed' at row 4 \(account_id=5\) with no row in quotas",
        ),
        (
            QUOTAS,
            BOOK.assign(account_id=[1, 1, 2, 3, 4]),
            {1: "cy"},
            DataError,
            r"duplicate value 1 at row 1",
        ),
        (
            QUOTAS,
            BOOK.assign(weight=[1.0, 1.0, 1.0, 0.0, 0.0]),
            {4: "cy"},
            ConfigError,
            r"owner 'bob' has quota but only zero-weight accounts",
        ),
        (
            QUOTAS.assign(quota_cents=[1.5, 2.0, 0.0]),
            BOOK,
            {1: "cy"},
            DataError,
            r"must hold integers",
        ),
        (
            QUOTAS,
            BOOK.drop(columns="weight"),
            {1: "cy"},
            SchemaError,
            r"missing column\(s\) 'weight'",
        ),
    ],
)
def test_reassign_accounts_bad_input(
    quotas: pd.DataFrame,
    book: pd.DataFrame,
    moves: dict[int, str],
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        reassign_accounts(quotas, book, moves)
