"""Tests for crmcore.kpi._daygrid: the statement from per-day cell sums, against the ordered path.

``commission_statement`` takes the day grid whenever the input allows (naive close dates,
integer ids, rows in paying order within each person and day: ids increasing down the rows
with whole-day dates, or rows sorted by close time then id; integer or text persons; no flat
plan with cancellations) and the ordered path (every sale sorted into paying order) otherwise. These
tests force each path with a spy on ``crmcore.kpi.commission.day_statement`` and require the
two statements to be identical, cent for cent and label for label.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore.kpi._daygrid as daygrid
import crmcore.kpi.commission as commission_module
from crmcore.errors import DataError
from crmcore.kpi import CommissionPlan, commission_statement
from helpers import call_unmutated

TWO = [(0, 0.10), (100, 0.20)]


@contextmanager
def day_path(taken: list[bool]) -> Iterator[None]:
    """Record whether each statement took the day grid (True) or fell back (False)."""
    real = commission_module.day_statement

    def spy(*args: Any, **kwargs: Any) -> Any:
        got = real(*args, **kwargs)
        taken.append(got is not None)
        return got

    with patch.object(commission_module, "day_statement", spy):
        yield


def ordered_statement(*args: Any, **kwargs: Any) -> pd.DataFrame:
    """The statement by the ordered path (every sale sorted into paying order)."""
    with patch.object(commission_module, "day_statement", lambda *a, **k: None):
        return commission_statement(*args, **kwargs)


def both(*args: Any, **kwargs: Any) -> tuple[pd.DataFrame, list[bool]]:
    """The day-grid statement (unmutated input), checked identical to the ordered one."""
    taken: list[bool] = []
    with day_path(taken):
        fast = call_unmutated(commission_statement, *args, **kwargs)
    pd.testing.assert_frame_equal(fast, ordered_statement(*args, **kwargs), check_exact=True)
    return fast, taken


# -- hand-worked ---------------------------------------------------------------------------------


def test_same_day_ties_are_paid_in_id_order_and_the_clawback_reverses_its_own_slice():
    # ann closes 60, 50 and 10 on one day (ids 1, 2, 3): cumulative 60, 110, 120 under
    # bands 0-100 at 10 % and 20 % above, so deal 2 crosses the threshold and earns
    # C(110) - C(60) = (10 + 2) - 6 = 6.00; it is cancelled in February.
    deals = pd.DataFrame(
        {
            "person": ["ann", "ann", "ann", "bob"],
            "opportunity_id": [1, 2, 3, 4],
            "closed_at": pd.to_datetime(["2024-01-10"] * 3 + ["2024-01-31"]),
            "amount": [60.0, 50.0, 10.0, 100.0],
            "cancelled_at": pd.to_datetime([None, "2024-02-03", None, None]),
        }
    )
    st_, taken = both(deals, CommissionPlan(tiers=TWO), cancelled_at="cancelled_at")
    assert taken == [True]
    jan, feb = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")
    assert st_.index.tolist() == [("ann", jan), ("ann", feb), ("bob", jan)]
    assert st_["deals"].tolist() == [3, 0, 1]
    assert st_["sales_cents"].tolist() == [12_000, 0, 10_000]
    assert st_["earned_cents"].tolist() == [1_400, 0, 1_000]  # C(120) = 10 + 4; C(100) = 10
    assert st_["clawback_cents"].tolist() == [0, -600, 0]
    assert st_["tier"].tolist() == [1, 0, 1]


def test_earlier_days_of_the_period_count_and_a_new_period_restarts():
    # ann: 80 on Jan 5, then 40 on Jan 20 (cancelled): C(120) - C(80) = 14 - 8 = 6.00;
    # 40 on Feb 2 (cancelled) starts February from zero: C(40) = 4.00
    deals = pd.DataFrame(
        {
            "person": [7, 7, 7],
            "opportunity_id": [10, 11, 12],
            "closed_at": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-02"]),
            "amount": [80.0, 40.0, 40.0],
            "cancelled_at": pd.to_datetime([None, "2024-03-01", "2024-03-09"]),
        }
    )
    st_, taken = both(deals, CommissionPlan(tiers=TWO), cancelled_at="cancelled_at")
    assert taken == [True]
    assert st_["clawback_cents"].tolist() == [0, 0, -1_000]  # March: -6.00 - 4.00
    assert st_["earned_cents"].tolist() == [1_400, 400, 0]


def test_times_of_day_order_a_days_sales_when_rows_are_sorted_by_time():
    # one day: deal 2 at 09:00 (50), deal 1 at 15:00 (60, cancelled): deal 1 is paid second,
    # C(110) - C(50) = 12 - 5 = 7.00, though its id is the smaller
    deals = pd.DataFrame(
        {
            "person": ["ann", "ann"],
            "opportunity_id": [2, 1],
            "closed_at": pd.to_datetime(["2024-01-10 09:00", "2024-01-10 15:00"]),
            "amount": [50.0, 60.0],
            "cancelled_at": pd.to_datetime([None, "2024-02-01"]),
        }
    )
    st_, taken = both(deals, CommissionPlan(tiers=TWO), cancelled_at="cancelled_at")
    assert taken == [True]
    assert st_["earned_cents"].tolist() == [1_200, 0]
    assert st_["clawback_cents"].tolist() == [0, -700]


def test_attainment_targets_place_each_runs_thresholds():
    plan = CommissionPlan(tiers=[(0, 0.05), (1.0, 0.10)], basis="attainment", mode="retroactive")
    deals = pd.DataFrame(
        {
            "person": [1, 2, 1],
            "opportunity_id": [1, 2, 3],
            "closed_at": pd.to_datetime(["2024-01-10", "2024-01-12", "2024-01-10"]),
            "amount": [60.0, 120.0, 60.0],
            "cancelled_at": pd.to_datetime([None, None, "2024-02-01"]),
        }
    )
    targets = pd.DataFrame(
        {"person": [1, 2], "period": pd.to_datetime(["2024-01-01"] * 2), "target": [100.0, 200.0]}
    )
    st_, taken = both(deals, plan, cancelled_at="cancelled_at", targets=targets)
    assert taken == [True]
    # person 1: 60 then 60 reaches 120 % of 100: 10 % of 120 = 12.00, of which deal 3 earned
    # 12.00 - 3.00 (5 % of 60) = 9.00; person 2: 60 % of 200 -> 5 % of 120 = 6.00
    assert st_["earned_cents"].tolist() == [1_200, 0, 600]
    assert st_["clawback_cents"].tolist() == [0, -900, 0]
    assert st_["attainment"].iloc[[0, 2]].tolist() == [1.2, 0.6]


# -- which path ----------------------------------------------------------------------------------


def _base() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person": ["a", "b", "a", "a"],
            "opportunity_id": [1, 2, 3, 4],
            "closed_at": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-02", "2024-02-03"]),
            "amount": [60.0, 10.0, 50.0, 30.0],
            "cancelled_at": pd.to_datetime([None, None, "2024-03-01", None]),
        }
    )


def _sub_day(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(closed_at=frame["closed_at"] + pd.to_timedelta([3, 1, 2, 0], unit="h"))


@pytest.mark.parametrize(
    ("change", "plan", "day"),
    [
        (lambda f: f, CommissionPlan(tiers=TWO), True),
        (
            lambda f: f.assign(closed_at=f["closed_at"].dt.as_unit("s")),
            CommissionPlan(tiers=TWO),
            True,
        ),
        (lambda f: f.iloc[::-1], CommissionPlan(tiers=TWO), False),  # ids decrease
        (_sub_day, CommissionPlan(tiers=TWO), False),  # times of day decide within a day
        (lambda f: _sub_day(f).iloc[[1, 2, 0, 3]], CommissionPlan(tiers=TWO), True),  # by time
        (
            lambda f: f.assign(
                closed_at=f["closed_at"].dt.tz_localize("Europe/Paris"),
                cancelled_at=f["cancelled_at"].dt.tz_localize("Europe/Paris"),
            ),
            CommissionPlan(tiers=TWO),
            False,
        ),
        (lambda f: f.assign(person=f["person"].astype(object)), CommissionPlan(tiers=TWO), False),
        (
            lambda f: f.assign(person=f["person"].astype("category")),
            CommissionPlan(tiers=TWO),
            False,
        ),
        (
            lambda f: f.assign(opportunity_id=f["opportunity_id"].astype(str)),
            CommissionPlan(tiers=TWO),
            False,
        ),
        (lambda f: f, CommissionPlan(tiers=TWO, mode="flat"), False),  # flat with a clawback
        (lambda f: f.drop(columns="cancelled_at"), CommissionPlan(tiers=TWO, mode="flat"), True),
    ],
)
def test_each_input_takes_its_path_and_both_agree(change, plan, day):
    frame = change(_base())
    kw = {"cancelled_at": "cancelled_at"} if "cancelled_at" in frame else {}
    _, taken = both(frame, plan, **kw)
    assert taken == [day]


def test_sums_past_the_exact_limit_are_refused_by_the_ordered_path_with_its_message():
    frame = _base().assign(amount=[5e10, 1.0, 5e10, 1.0])  # a's January passes 9e12 cents
    taken: list[bool] = []
    with (
        day_path(taken),
        pytest.raises(DataError, match=r"cumulative sales .* reach 10000000000000 "),
    ):
        commission_statement(frame, CommissionPlan(tiers=TWO), cancelled_at="cancelled_at")
    assert taken == [False]


def test_a_cancellation_before_the_close_is_named_on_the_day_path():
    frame = _base().assign(cancelled_at=pd.to_datetime([None, None, "2024-01-01", None]))
    frame.index = ["w", "x", "y", "z"]
    with pytest.raises(DataError, match=r"'cancelled_at'.*2024-01-01.*'y'.*before the deal closed"):
        commission_statement(frame, CommissionPlan(tiers=TWO), cancelled_at="cancelled_at")


# -- properties ------------------------------------------------------------------------------------


@st.composite
def day_plans(draw: st.DrawFn) -> CommissionPlan:
    mode = draw(st.sampled_from(["flat", "marginal", "retroactive"]))
    basis = draw(st.sampled_from(["amount", "attainment"]))
    k = draw(st.integers(1, 4))
    scale = 100 if basis == "amount" else 0.01  # currency units, or % of target
    steps = draw(st.lists(st.integers(1, 150), min_size=k - 1, max_size=k - 1))
    thresholds = [t * scale for t in np.cumsum([0, *steps]).tolist()]
    rates = draw(st.lists(st.integers(0, 300), min_size=k, max_size=k))
    if mode != "marginal":
        rates = sorted(rates)
    kw: dict[str, Any] = {}
    if draw(st.booleans()):
        kw["minimum"] = draw(st.integers(0, 300)) * scale
    if draw(st.booleans()):
        kw["decelerator"] = (draw(st.integers(1, 300)) * scale, draw(st.integers(0, 100)) / 100)
    if draw(st.booleans()):
        kw["max_rate"] = draw(st.integers(0, 300)) / 1000
    if draw(st.booleans()):
        kw["max_payout"] = draw(st.integers(0, 200))
    return CommissionPlan(
        tiers=[(t, r / 1000) for t, r in zip(thresholds, rates, strict=True)],
        mode=mode,
        basis=basis,
        **kw,
    )


PEOPLE = {"text": ["ann", "bob", "cy"], "int": [-7, 3, 40], "int8": [-128, 0, 127]}


@st.composite
def tied_sales(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sales on a few days (many ties within a day) with cancellations, and their targets."""
    n = draw(st.integers(1, 40))
    kind = draw(st.sampled_from(sorted(PEOPLE)))
    pool = PEOPLE[kind]
    people = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    day_pool = draw(st.lists(st.integers(0, 120), min_size=1, max_size=5))
    days = draw(st.lists(st.sampled_from(day_pool), min_size=n, max_size=n))
    cents = draw(st.lists(st.integers(0, 30_000), min_size=n, max_size=n))
    gaps = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    later = draw(st.lists(st.one_of(st.none(), st.integers(0, 100)), min_size=n, max_size=n))
    unit = draw(st.sampled_from(["s", "ms", "us", "ns"]))
    closed = (pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")).as_unit(unit)
    frame = pd.DataFrame(
        {
            "person": np.asarray(people, dtype=np.int8) if kind == "int8" else people,
            "opportunity_id": 100 + np.cumsum(gaps),
            "closed_at": closed,
            "amount": np.asarray(cents, dtype=float) / 100,
        }
    )
    frame["cancelled_at"] = pd.to_datetime(
        [
            pd.NaT if d is None else c + pd.Timedelta(days=d)
            for d, c in zip(later, closed, strict=True)
        ]
    ).as_unit(unit)
    months = pd.date_range("2024-01-01", periods=5, freq="MS")
    tgt = draw(st.lists(st.integers(1, 50_000), min_size=15, max_size=15))
    targets = pd.DataFrame(
        {
            "person": np.repeat(np.asarray(pool, dtype=np.int8 if kind == "int8" else None), 5),
            "period": np.tile(months, 3),
            "target": np.asarray(tgt, dtype=float),
        }
    )
    return frame, targets


@given(
    day_plans(),
    tied_sales(),
    st.booleans(),
    st.sampled_from([1, 2, 3, 7, 1 << 16]),
    st.none() | st.lists(st.integers(0, 3), min_size=40, max_size=40),
)
def test_day_grid_statement_equals_the_ordered_path(plan, sales, cancel, chunk, hours):
    # small chunks: a cancelled sale's earlier sales of its day come from earlier chunks too;
    # with hours, times of day order a day's sales and the rows are sorted by time then id
    frame, targets = sales
    if hours is not None:
        times = frame["closed_at"] + pd.to_timedelta(hours[: len(frame)], unit="h")
        frame = frame.assign(
            closed_at=times, cancelled_at=frame["cancelled_at"] + pd.Timedelta(hours=4)
        )
        frame = frame.sort_values("closed_at", kind="stable")
    if not cancel:
        frame = frame.drop(columns="cancelled_at")
    kw: dict[str, Any] = {"cancelled_at": "cancelled_at"} if cancel else {}
    if plan.basis == "attainment":
        kw["targets"] = targets
    with patch.object(daygrid, "CHUNK", chunk):
        st_, taken = both(frame, plan, **kw)
    has_claw = cancel and frame["cancelled_at"].notna().any()
    assert taken == [not (plan.mode == "flat" and has_claw)]
    assert (st_["payout_cents"] == st_["earned_cents"] + st_["clawback_cents"]).all()
    assert st_["deals"].sum() == len(frame)


@pytest.mark.parametrize(
    ("ids", "match"),
    [
        ([5, 3, 9, 3], "duplicate value 3 at row 3"),
        (np.array([2**64 - 1, 2**64 - 3, 2**64 - 2, 2**64 - 1], dtype=np.uint64), "at row 3"),
        ([-(2**63), 7, 2**63 - 1, 7], "duplicate value 7 at row 3"),  # a wide range: hashed
    ],
)
def test_repeated_ids_out_of_order_are_named_once_counted(ids, match):
    frame = _base().assign(opportunity_id=ids)
    with pytest.raises(DataError, match=match):
        commission_statement(frame, CommissionPlan(tiers=TWO), cancelled_at="cancelled_at")


def test_ids_out_of_order_but_unique_pass_the_count():
    frame = _base().assign(opportunity_id=np.array([9, 3, 5, 4], dtype=np.uint8))
    _, taken = both(frame, CommissionPlan(tiers=TWO), cancelled_at="cancelled_at")
    assert taken == [False]  # neither in id order nor sorted by time: the ordered path
