"""Tests for crmcore.kpi.commission: CommissionPlan, commission_lines, commission_statement."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ColumnTypeError, ConfigError, DataError, SchemaError
from crmcore.kpi import CommissionPlan, commission_lines, commission_statement
from crmcore.kpi._commission import deal_codes, line_order, paying_keys
from helpers import call_unmutated, shuffled

BANDS = [(0, 0.04), (150_000, 0.06), (250_000, 0.08)]


def deals_frame(rows: list[tuple[str, int, str, float]], **extra: list[object]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["person", "opportunity_id", "closed_at", "amount"])
    frame["closed_at"] = pd.to_datetime(frame["closed_at"])
    for name, values in extra.items():
        frame[name] = values
    return frame


# -- the issue's marginal example and other hand-worked plans -----------------------------------


def test_marginal_example_from_the_issue():
    # 145 000 already closed; the 20 000 deal: 5 000 * 4 % + 15 000 * 6 % = 200 + 900 = 1 100
    plan = CommissionPlan(tiers=BANDS, mode="marginal")
    deals = deals_frame([("ann", 1, "2024-03-01", 145_000.0), ("ann", 2, "2024-03-20", 20_000.0)])
    lines = call_unmutated(commission_lines, deals, plan)
    assert lines["commission_cents"].tolist() == [580_000, 110_000]  # 5 800.00 and 1 100.00
    assert lines["tier"].tolist() == [0, 1]
    assert plan.cumulative_commission([165_000_00]).tolist() == [690_000]
    # above 250 000: 150 000 * 4 % + 100 000 * 6 % + 50 000 * 8 % = 6 000 + 6 000 + 4 000
    assert plan.cumulative_commission([300_000_00]).tolist() == [1_600_000]


TWO = [(0, 0.10), (100, 0.20)]
# ann: 60 (Jan 5), 50 (Jan 10), 10 (Jan 20); cumulative 60, 110, 120
ANN = deals_frame(
    [("ann", 3, "2024-01-05", 60.0), ("ann", 1, "2024-01-10", 50.0), ("ann", 2, "2024-01-20", 10.0)]
)


@pytest.mark.parametrize(
    ("mode", "want"),
    [
        # marginal: C(60) = 6; C(110) = 10 + 2 = 12; C(120) = 10 + 4 = 14 -> 6, 6, 2
        ("marginal", [600, 600, 200]),
        # retroactive: C(60) = 6; C(110) = 20 % * 110 = 22 (re-rates the first 60); C(120) = 24
        ("retroactive", [600, 1600, 200]),
        # flat: 20 % of 120 = 24 spread by amount 60:50:10 -> 12, 10, 2
        ("flat", [1200, 1000, 200]),
    ],
)
def test_three_modes_by_hand(mode, want):
    lines = commission_lines(ANN, CommissionPlan(tiers=TWO, mode=mode))
    assert lines["opportunity_id"].tolist() == [3, 1, 2]  # closing order
    assert lines["commission_cents"].tolist() == want


def test_rate_and_payout_caps():
    # marginal with 50 % above 100: C(120) = 10 + 10 = 20; max_rate 15 % caps at 18
    plan = CommissionPlan(tiers=[(0, 0.1), (100, 0.5)], max_rate=0.15)
    assert plan.cumulative_commission([120_00]).tolist() == [1800]
    # payout cap 15.00: C(120) = 14 under TWO, C(200) = 10 + 20 = 30 -> 15
    capped = CommissionPlan(tiers=TWO, max_payout=15)
    assert capped.cumulative_commission([120_00, 200_00]).tolist() == [1400, 1500]
    lines = commission_lines(ANN.assign(amount=[60.0, 50.0, 90.0]), capped)
    assert lines["commission_cents"].tolist() == [600, 600, 300]  # 6, 12, then only 3 more


def test_decelerator_holds_back_until_the_threshold():
    # half rate below 100: C(60) = 6 * 0.5 = 3; at 110 the full 12 applies -> line of 9
    plan = CommissionPlan(tiers=TWO, decelerator=(100, 0.5))
    lines = commission_lines(ANN, plan)
    assert lines["commission_cents"].tolist() == [300, 900, 200]
    assert lines["commission_cents"].sum() == plan.cumulative_commission([120_00])[0] == 1400


def test_minimum_gate_pays_nothing_then_everything():
    plan = CommissionPlan(tiers=TWO, minimum=100)
    lines = commission_lines(ANN, plan)
    assert lines["commission_cents"].tolist() == [0, 1200, 200]


def test_attainment_basis_uses_each_persons_target():
    # tiers at 0 % (5 %) and 100 % of target (10 %), retroactive
    plan = CommissionPlan(tiers=[(0, 0.05), (1.0, 0.10)], basis="attainment", mode="retroactive")
    deals = deals_frame([("ann", 1, "2024-01-10", 120.0), ("bob", 2, "2024-01-12", 120.0)])
    targets = pd.DataFrame(
        {
            "person": ["ann", "bob"],
            "period": pd.to_datetime(["2024-01-01", "2024-01-15"]),
            "target": [100.0, 200.0],
        }
    )
    st_ = call_unmutated(commission_statement, deals, plan, targets=targets)
    # ann 120 / 100 = 120 % -> 10 % of 120 = 12.00; bob 60 % -> 5 % of 120 = 6.00
    assert st_["earned_cents"].tolist() == [1200, 600]
    assert st_["attainment"].tolist() == [1.2, 0.6]
    assert st_["tier"].tolist() == [1, 0]


def test_clawback_is_booked_later_and_never_touches_the_closed_period():
    plan = CommissionPlan(tiers=BANDS)
    base = deals_frame(
        [
            ("ann", 1, "2024-03-01", 145_000.0),
            ("ann", 2, "2024-03-20", 20_000.0),
            ("bob", 3, "2024-03-05", 50_000.0),
        ]
    )
    cancelled = base.assign(cancelled_at=pd.to_datetime([None, "2024-05-02", None]))
    before = commission_statement(base, plan)
    after = call_unmutated(commission_statement, cancelled, plan, cancelled_at="cancelled_at")
    march = pd.Timestamp("2024-03-01")
    pd.testing.assert_frame_equal(after.xs(march, level="period"), before.xs(march, level="period"))
    may = after.loc[("ann", pd.Timestamp("2024-05-01"))]
    assert may["clawback_cents"] == -110_000  # the 1 100.00 earned on deal 2
    assert may["payout_cents"] == -110_000
    assert may["deals"] == 0
    lines = commission_lines(cancelled, plan, cancelled_at="cancelled_at")
    back = lines[lines["kind"] == "clawback"]
    assert back["opportunity_id"].tolist() == [2]
    assert back["amount_cents"].tolist() == [-2_000_000]
    assert back["source_period"].tolist() == [march]


def test_statement_columns_and_effective_rate():
    st_ = commission_statement(ANN, CommissionPlan(tiers=TWO))
    assert list(st_.columns) == [
        "deals",
        "sales_cents",
        "target_cents",
        "attainment",
        "tier",
        "earned_cents",
        "clawback_cents",
        "payout_cents",
        "effective_rate",
    ]
    row = st_.iloc[0]
    assert row["deals"] == 3
    assert row["sales_cents"] == 12000
    assert row["earned_cents"] == 1400
    assert row["effective_rate"] == pytest.approx(1400 / 12000)
    assert np.isnan(row["target_cents"])
    assert st_.index.names == ["person", "period"]


def test_quarters_and_time_zones():
    deals = deals_frame([("a", 1, "2024-03-31 23:30", 10.0), ("a", 2, "2024-04-01 00:30", 10.0)])
    deals["closed_at"] = deals["closed_at"].dt.tz_localize("Europe/Paris")
    st_ = commission_statement(deals, CommissionPlan(tiers=TWO), period="Q")
    # wall-clock dates decide: Q1 and Q2, and the periods keep the time zone (crmcore 0.2;
    # they were naive before, unlike every other kpi function)
    assert st_.index.get_level_values("period").tolist() == [
        pd.Timestamp("2024-01-01", tz="Europe/Paris"),
        pd.Timestamp("2024-04-01", tz="Europe/Paris"),
    ]


# -- properties ---------------------------------------------------------------------------------


@st.composite
def plans(draw: st.DrawFn) -> CommissionPlan:
    mode = draw(st.sampled_from(["flat", "marginal", "retroactive"]))
    k = draw(st.integers(1, 4))
    steps = draw(st.lists(st.integers(1, 500), min_size=k - 1, max_size=k - 1))
    thresholds = np.cumsum([0, *steps]).tolist()
    rates = draw(st.lists(st.integers(0, 300), min_size=k, max_size=k))
    if mode != "marginal":
        rates = sorted(rates)
    kw: dict[str, object] = {}
    if draw(st.booleans()):
        kw["minimum"] = draw(st.integers(0, 400))
    if draw(st.booleans()):
        kw["decelerator"] = (draw(st.integers(1, 400)), draw(st.integers(0, 100)) / 100)
    if draw(st.booleans()):
        kw["max_rate"] = draw(st.integers(0, 300)) / 1000
    if draw(st.booleans()):
        kw["max_payout"] = draw(st.integers(0, 200))
    return CommissionPlan(
        tiers=[(t, r / 1000) for t, r in zip(thresholds, rates, strict=True)], mode=mode, **kw
    )


@st.composite
def deal_tables(draw: st.DrawFn, *, cancel: bool = False) -> pd.DataFrame:
    n = draw(st.integers(1, 25))
    people = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, 80), min_size=n, max_size=n))
    cents = draw(st.lists(st.integers(0, 30_000), min_size=n, max_size=n))
    frame = pd.DataFrame(
        {
            "person": people,
            "opportunity_id": np.arange(100, 100 + n),
            "closed_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"),
            "amount": np.asarray(cents, dtype=float) / 100,
        }
    )
    if cancel:
        later = draw(st.lists(st.one_of(st.none(), st.integers(0, 60)), min_size=n, max_size=n))
        frame["cancelled_at"] = [
            pd.NaT if d is None else c + pd.Timedelta(days=d)
            for d, c in zip(later, frame["closed_at"], strict=True)
        ]
        frame["cancelled_at"] = pd.to_datetime(frame["cancelled_at"])
    return frame


@given(plans(), st.lists(st.integers(0, 100_000), min_size=2, max_size=30))
def test_cumulative_commission_is_non_decreasing(plan, sales):
    s = np.sort(np.asarray(sales, dtype=np.int64))
    c = plan.cumulative_commission(s)
    assert (np.diff(c) >= 0).all()
    assert c.min() >= 0


@given(plans(), deal_tables())
def test_lines_are_never_negative_without_clawback_and_reconcile(plan, deals):
    lines = commission_lines(deals, plan)
    assert (lines["commission_cents"] >= 0).all()
    assert lines["commission_cents"].dtype == np.int64
    assert len(lines) == len(deals)
    # each person-period's lines sum exactly to C(period sales)
    g = lines.groupby(["person", "period"])
    sums = g["commission_cents"].sum()
    sales = g["amount_cents"].sum()
    np.testing.assert_array_equal(
        sums.to_numpy(), plan.cumulative_commission(sales.to_numpy(dtype=np.int64))
    )
    st_ = commission_statement(deals, plan)
    # team total == sum of every deal's commission, to the cent
    assert int(st_["payout_cents"].sum()) == int(lines["commission_cents"].sum())
    np.testing.assert_array_equal(st_["earned_cents"].to_numpy(), sums.to_numpy())


@settings(max_examples=30)  # four full runs per example
@given(plans(), deal_tables(cancel=True))
def test_clawbacks_reverse_exactly_and_cents_reconcile(plan, deals):
    lines = commission_lines(deals, plan, cancelled_at="cancelled_at")
    sale = lines[lines["kind"] == "sale"].set_index("opportunity_id")
    back = lines[lines["kind"] == "clawback"].set_index("opportunity_id")
    assert (back["commission_cents"] <= 0).all()
    np.testing.assert_array_equal(
        back["commission_cents"].to_numpy(), -sale.loc[back.index, "commission_cents"].to_numpy()
    )
    assert (back["period"] >= back["source_period"]).all()
    # without the cancellations the sale lines are identical: closed periods are untouched
    plain = commission_lines(deals.drop(columns="cancelled_at"), plan)
    pd.testing.assert_frame_equal(lines[lines["kind"] == "sale"].reset_index(drop=True), plain)
    st_ = commission_statement(deals, plan, cancelled_at="cancelled_at")
    assert int(st_["payout_cents"].sum()) == int(lines["commission_cents"].sum())
    assert (st_["payout_cents"] == st_["earned_cents"] + st_["clawback_cents"]).all()


@settings(max_examples=30)  # four full runs per example
@given(plans(), deal_tables(cancel=True), st.integers(0, 1000))
def test_row_order_changes_nothing(plan, deals, seed):
    a = commission_statement(deals, plan, cancelled_at="cancelled_at")
    b = commission_statement(shuffled(deals, seed), plan, cancelled_at="cancelled_at")
    pd.testing.assert_frame_equal(a, b)
    la = commission_lines(deals, plan, cancelled_at="cancelled_at")
    lb = commission_lines(shuffled(deals, seed), plan, cancelled_at="cancelled_at")
    pd.testing.assert_frame_equal(la, lb)


@given(plans())
def test_plan_round_trip(plan):
    assert CommissionPlan.from_dict(plan.to_dict()) == plan


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"tiers": [(0, 0.04), (100, 0.06), (100, 0.08)]}, "tier 2 starts at 100.0, not above"),
        ({"tiers": [(0, 0.04), (200, 0.06), (100, 0.08)]}, "must be sorted by threshold"),
        ({"tiers": [(10, 0.04)]}, "must start at 0"),
        ({"tiers": []}, "tiers is empty"),
        ({"tiers": [(0, 1.5)]}, r"rate == 1\.5, must be in \[0, 1\]"),
        ({"tiers": [(0, -0.1)]}, r"must be in \[0, 1\]"),
        ({"tiers": [(0, 0.1234567)]}, "more than 6 decimals"),
        ({"tiers": [(0, 0.1, 3)]}, r"\(threshold, rate\) pair"),
        ({"tiers": "0:0.1"}, "not text"),
        ({"tiers": [(0, float("nan"))]}, "finite numbers"),
        ({"tiers": [(0, 0.1), (10, 0.05)], "mode": "flat"}, "rates must not decrease"),
        ({"tiers": [(0, 0.1), (10, 0.05)], "mode": "retroactive"}, "rates must not decrease"),
        ({"tiers": TWO, "mode": "tiered"}, "mode='tiered' is not one of"),
        ({"tiers": TWO, "basis": "margin"}, "basis='margin' is not one of"),
        ({"tiers": TWO, "minimum": -1}, "minimum == -1.0"),
        ({"tiers": TWO, "decelerator": (100, 1.5)}, r"decelerator factor == 1\.5"),
        ({"tiers": TWO, "decelerator": (0, 0.5)}, "decelerator threshold == 0"),
        ({"tiers": TWO, "decelerator": (1, 2, 3)}, r"\(threshold, factor\) pair"),
        ({"tiers": TWO, "max_rate": 2}, r"max_rate == 2\.0"),
        ({"tiers": TWO, "max_payout": -5}, "max_payout == -5.0"),
        ({"tiers": TWO, "decimals": -1}, "decimals == -1"),
    ],
)
def test_bad_plans(kw, match):
    with pytest.raises(ConfigError, match=match):
        CommissionPlan(**kw)


def test_marginal_rates_may_fall():
    plan = CommissionPlan(tiers=[(0, 0.1), (100, 0.05)])
    assert plan.cumulative_commission([200_00]).tolist() == [1500]  # 10 + 5


def test_from_dict_rejects_unknown_fields():
    with pytest.raises(ConfigError, match="unknown CommissionPlan field"):
        CommissionPlan.from_dict({"tiers": TWO, "cap": 5})


PLAN = CommissionPlan(tiers=TWO)
ATT = CommissionPlan(tiers=[(0, 0.1)], basis="attainment")
TGT = pd.DataFrame({"person": ["ann"], "period": pd.to_datetime(["2024-01-01"]), "target": [100.0]})


@pytest.mark.parametrize(
    ("deals", "plan", "kw", "exc", "match"),
    [
        (
            ANN.assign(amount=[1.0, -2.0, 3.0]),
            PLAN,
            {},
            DataError,
            r"negative value -2\.0 at row 1 \(opportunity_id=1\).*cancelled_at=",
        ),
        (ANN.assign(amount=[1.0, np.nan, 3.0]), PLAN, {}, DataError, "has NaN at row 1"),
        (ANN.assign(amount=["1", "x", "3"]), PLAN, {}, ColumnTypeError, "non-numeric value 'x'"),
        (ANN.assign(opportunity_id=[1, 1, 2]), PLAN, {}, DataError, "duplicate value 1 at row 1"),
        (
            ANN.assign(closed_at=[pd.Timestamp("2024-01-01"), pd.NaT, pd.Timestamp("2024-01-02")]),
            PLAN,
            {},
            DataError,
            "missing date",
        ),
        (ANN.drop(columns="amount"), PLAN, {}, SchemaError, "missing column.*'amount'"),
        (ANN.iloc[:0], PLAN, {}, SchemaError, "is empty"),
        (ANN, PLAN, {"period": "W"}, ConfigError, "period=.W. is not allowed here"),
        (ANN, {"tiers": TWO}, {}, ConfigError, "must be a CommissionPlan"),
        (ANN, PLAN, {"cancelled_at": "cancelled_at"}, SchemaError, "'cancelled_at'"),
        (
            ANN.assign(cancelled_at=pd.to_datetime([None, "2024-01-01", None])),
            PLAN,
            {"cancelled_at": "cancelled_at"},
            DataError,
            r"at row 1 \(opportunity_id=1\), before the deal closed",
        ),
        (ANN, ATT, {}, ConfigError, "pass targets="),
        (ANN, PLAN, {"targets": TGT}, ConfigError, "only used by attainment-based plans"),
        (
            ANN.assign(person=["ann", "bob", "ann"]),
            ATT,
            {"targets": TGT},
            DataError,
            "no target for person 'bob' in period 2024-01-01",
        ),
        (ANN, ATT, {"targets": TGT.assign(target=[0.0])}, DataError, "needs targets > 0"),
        (ANN, ATT, {"targets": pd.concat([TGT, TGT])}, DataError, "second target for person"),
        (ANN.assign(amount=[5e10, 5e10, 1.0]), PLAN, {}, DataError, "exact commission arithmetic"),
    ],
)
def test_bad_deals(deals, plan, kw, exc, match):
    with pytest.raises(exc, match=match):
        commission_lines(deals, plan, **kw)
    with pytest.raises(exc, match=match):
        commission_statement(deals, plan, **kw)


@pytest.mark.parametrize(
    ("sales", "targets", "exc", "match"),
    [
        ([1.5], None, DataError, "integer minor units"),
        ([-1], None, DataError, "negative value -1"),
        ([10**13], None, DataError, "exceed"),
    ],
)
def test_bad_cumulative_inputs(sales, targets, exc, match):
    with pytest.raises(exc, match=match):
        PLAN.cumulative_commission(sales, targets)


def test_cumulative_commission_target_rules():
    with pytest.raises(ConfigError, match="needs targets"):
        ATT.cumulative_commission([100])
    with pytest.raises(ConfigError, match="only used by attainment"):
        PLAN.cumulative_commission([100], [100])
    with pytest.raises(DataError, match="must be > 0"):
        ATT.cumulative_commission([100], [0])


def test_deals_closing_at_the_same_time_are_taken_in_deal_id_order():
    # both close on the same day: deal 7 first (lower id) pays 4 % of 150 000, deal 9 then
    # pays 6 % of its 10 000 whatever the row order
    deals = deals_frame([("ann", 9, "2024-03-01", 10_000.0), ("ann", 7, "2024-03-01", 150_000.0)])
    lines = commission_lines(deals, CommissionPlan(tiers=BANDS))
    assert lines["opportunity_id"].tolist() == [7, 9]
    assert lines["commission_cents"].tolist() == [600_000, 60_000]


@pytest.mark.parametrize(
    "kw",
    [{"minimum": "10"}, {"minimum": None}, {"max_payout": "5"}, {"decelerator": ("a", 0.5)}],
)
def test_plan_numbers_must_be_numbers(kw):
    with pytest.raises(ConfigError, match="expected a number"):
        CommissionPlan(tiers=TWO, **kw)


# -- the fast sort paths against the plain lexsort they replace ----------------------------------


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(-5, 5), st.integers(0, 2)), min_size=0, max_size=40
    ),
    st.randoms(use_true_random=False),
)
def test_deal_order_equals_lexsort(rows: list[tuple[int, int, int]], rnd: random.Random) -> None:
    # person code, close time (few values: many ties) and a period that rises with the time;
    # deal codes are a permutation, as pd.factorize of unique ids gives.
    n = len(rows)
    p = np.array([r[0] for r in rows], dtype=np.intp)
    t = np.array([r[1] for r in rows], dtype=np.int64) * 10**12
    per = (t // (3 * 10**12)).astype(np.int64)
    d = np.arange(n, dtype=np.intp)
    rnd.shuffle(d)  # type: ignore[arg-type]
    expected = np.lexsort((d, t, per, p))
    np.testing.assert_array_equal(paying_keys(p, t, per, d, n).order, expected)


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(-5, 5), st.integers(0, 2)), min_size=0, max_size=40
    ),
    st.sampled_from(["arange", "gaps", "shuffled"]),
    st.randoms(use_true_random=False),
)
def test_paying_keys_equal_the_lexsort_and_its_gathers(
    rows: list[tuple[int, int, int]], codes: str, rnd: random.Random
) -> None:
    # Rows in opportunity order (consecutive codes or with gaps) take the radix path, whose
    # keys come from counts, a table and the order itself; shuffled codes the packed sort.
    # Every path gives the lexsort's order and the plain gathers of the keys.
    n = len(rows)
    p = np.array([r[0] for r in rows], dtype=np.intp)
    t = np.array([r[1] for r in rows], dtype=np.int64) * 10**12
    per = (t // (3 * 10**12)).astype(np.int64)
    d = np.arange(n, dtype=np.int64)
    if codes == "gaps":
        d = d * 3 + rnd.randint(0, 2)
    elif codes == "shuffled":
        rnd.shuffle(d)  # type: ignore[arg-type]
    expected = np.lexsort((d, t, per, p))
    got = paying_keys(p, t, per, d, int(d.max(initial=0)) + 1)
    np.testing.assert_array_equal(got.order, expected)
    np.testing.assert_array_equal(got.p_codes, p[expected])
    np.testing.assert_array_equal(got.per_val, per[expected])
    np.testing.assert_array_equal(got.d_codes, d[expected])
    assert got.p_codes.dtype == np.intp
    assert got.d_codes.dtype == np.int64


@settings(max_examples=60)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(-3, 3)), max_size=30),
    st.lists(st.booleans(), max_size=30),
    st.booleans(),
    st.booleans(),
)
def test_line_order_equals_lexsort(
    rows: list[tuple[int, int, int]], claw: list[bool], presort: bool, huge: bool
) -> None:
    # sale keys (person, period, date, deal) in sorted order (the usual case) or not (the
    # lexsort fallback); clawback lines copy person and deal of some sales with their own
    # period and date; huge= makes the packed key overflow (fallback too).
    n = len(rows)
    p = np.array([r[0] for r in rows], dtype=np.intp)
    per = np.array([r[1] for r in rows], dtype=np.int64)
    date = np.array([r[2] for r in rows], dtype=np.int64)
    deal = np.arange(n, dtype=np.intp)[::-1].copy()
    if presort:
        o = np.lexsort((deal, date, per, p))
        p, per, date, deal = p[o], per[o], date[o], deal[o]
    sel = np.array((claw + [False] * n)[:n], dtype=bool)
    m = int(sel.sum())
    keys = [
        (p, per, date, deal, np.zeros(n, dtype=np.int8)),
        (p[sel], per[sel] + 1, date[sel] + 2, deal[sel], np.ones(m, dtype=np.int8)),
    ]
    cat = [np.concatenate([k[i] for k in keys]) for i in range(5)]
    expected = np.lexsort((cat[4], cat[3], cat[2], cat[1], cat[0]))
    got = line_order(keys, n_deals=2**62 if huge else max(n, 1))
    np.testing.assert_array_equal(got, expected)


def reference_statement(lines: pd.DataFrame, person: str = "person") -> pd.DataFrame:
    """Plain groupby over the lines: the statement's previous algorithm, kept as a yardstick."""
    is_sale = (lines["kind"] == "sale").to_numpy()
    frame = pd.DataFrame(
        {
            person: lines[person].to_numpy(),
            "period": lines["period"].to_numpy(),
            "deals": is_sale.astype(np.int64),
            "sales_cents": np.where(is_sale, lines["amount_cents"].to_numpy(), 0),
            "tier": np.where(is_sale, lines["tier"].to_numpy(), 0),
            "earned_cents": np.where(is_sale, lines["commission_cents"].to_numpy(), 0),
            "clawback_cents": np.where(is_sale, 0, lines["commission_cents"].to_numpy()),
        }
    )
    out = frame.groupby([person, "period"], sort=True).agg(
        deals=("deals", "sum"),
        sales_cents=("sales_cents", "sum"),
        tier=("tier", "max"),
        earned_cents=("earned_cents", "sum"),
        clawback_cents=("clawback_cents", "sum"),
    )
    for col in out.columns:
        out[col] = out[col].astype(np.int64)
    return out


@given(plans(), deal_tables(cancel=True))
def test_statement_equals_groupby_of_its_lines(plan, deals):
    # the reduceat statement against a groupby of commission_lines (plans() are amount-based)
    st_ = commission_statement(deals, plan, cancelled_at="cancelled_at")
    ref = reference_statement(commission_lines(deals, plan, cancelled_at="cancelled_at"))
    got = st_[["deals", "sales_cents", "tier", "earned_cents", "clawback_cents"]]
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert st_["target_cents"].isna().all()
    np.testing.assert_array_equal(st_["payout_cents"], ref["earned_cents"] + ref["clawback_cents"])


@given(
    st.sets(st.integers(-(2**40), 2**40), min_size=1, max_size=30)
    | st.sets(st.integers(0, 40), min_size=1, max_size=30),
    st.sampled_from(["int64", "uint64", "int32", "str"]),
)
def test_deal_codes_sort_like_the_ids(ids, dtype):
    # integer ids over a short range are their own codes, others go through pd.factorize;
    # either way the codes sort exactly as a sorted factorize of the ids does
    values = sorted(ids)
    if dtype == "uint64":
        values = [v + 2**63 for v in values if v >= 0] or [2**63 + 5]
    if dtype == "int32":
        values = sorted({v % 2**31 for v in values})
    series = pd.Series(values, dtype=dtype).sample(frac=1, random_state=0)
    codes, n_codes = deal_codes(series)
    ref = pd.factorize(series, sort=True)[0]
    np.testing.assert_array_equal(np.argsort(codes), np.argsort(ref))
    assert codes.min() >= 0
    assert codes.max() < n_codes


@given(plans(), deal_tables(cancel=True), st.lists(st.sampled_from(["lost", "open"]), max_size=6))
def test_status_keeps_the_won_deals_and_judges_every_value(plan, deals, others):
    # status= lets the table hold every opportunity: the result is that of the won rows alone
    extra = deals.head(len(others)).copy()
    extra["opportunity_id"] = extra["opportunity_id"].astype(str) + "-other"
    extra["status"] = others[: len(extra)]
    won = deals.assign(opportunity_id=deals["opportunity_id"].astype(str), status="won")
    everything = pd.concat([won, extra], ignore_index=True).sample(frac=1, random_state=1)
    expected = commission_statement(won, plan, cancelled_at="cancelled_at")
    got = commission_statement(everything, plan, cancelled_at="cancelled_at", status="status")
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_status_values_are_judged_not_dropped():
    deals = pd.DataFrame(
        {
            "person": ["ann", "ann", "bob"],
            "opportunity_id": [1, 2, 3],
            "closed_at": pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-03"]),
            "amount": [100.0, 50.0, 10.0],
            "status": ["won", "lost", "Won"],
        }
    )
    plan = CommissionPlan(tiers=[(0, 0.1)])
    with pytest.raises(DataError, match=r"unknown value 'Won' at row 2 \(opportunity_id=3\)"):
        commission_lines(deals, plan, status="status")
    lines = commission_lines(deals, plan, status="status", won="won", open_values=None)
    assert lines["opportunity_id"].tolist() == [1]  # "Won" taken as not won, on request
    assert lines["commission_cents"].tolist() == [1000]
    with pytest.raises(DataError, match="holds no won opportunity"):
        commission_statement(deals.iloc[1:2], plan, status="status")


@pytest.mark.parametrize("field", ["minimum", "max_rate", "max_payout"])
def test_plan_numbers_name_their_field(field: str) -> None:
    # issue 14 catalogue: "expected a number or None, got True" said not which field
    with pytest.raises(ConfigError, match=rf"^{field}: expected a number.*, got True$"):
        CommissionPlan(tiers=[(0, 0.05)], **{field: True})  # type: ignore[arg-type]


@pytest.mark.parametrize("call", [commission_lines, commission_statement])
def test_amount_too_large_for_minor_units_names_the_row_label(call: object) -> None:
    # 1.7e308 * 100 cents is beyond 2**53 (exact minor units): the row is named by its label
    deals = deals_frame(
        [("ann", 1, "2024-03-01", 10.0), ("ann", 2, "2024-03-02", 1.7e308)]
    ).set_axis(["first", "second"])
    with pytest.raises(DataError, match=r"amount has value 1\.7e\+308 at row 'second'") as info:
        call(deals, CommissionPlan(tiers=TWO))
    assert info.value.row == "second"
    assert info.value.column == "amount"
