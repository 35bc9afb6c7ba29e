"""kpi on the inputs the bad-input catalogue found wanting (issue #14), as regression tests.

- a status that is neither won, lost nor open (``"Won"`` with ``won="won"``) is an error naming
  the value and the row label, never a silently dropped opportunity;
- feedback columns that do not hold numbers are an error (text numbers are read as numbers);
- performance_report / score_scorecard errors name the caller's argument and row label;
- dates before 1677 or after 2262 (valid with second units) give the right answer;
- ``timestamp[ns][pyarrow]`` columns behave exactly like numpy datetimes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ColumnTypeError, DataError
from crmcore.kpi import (
    CommissionPlan,
    Metric,
    Scorecard,
    attainment,
    average_deal_size,
    commission_statement,
    kpi_table,
    new_customers,
    performance_report,
    retention,
    revenue_by_period,
    sales_cycle_length,
    score_scorecard,
    win_rate,
)
from strategies_kpi import deal_frames


def _deals(year: int = 2024) -> pd.DataFrame:
    """Five opportunities of two people in January-February (index labels r1..r5)."""
    return pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4, 5],
            "person": ["ann", "ann", "bob", "bob", "ann"],
            "status": ["won", "lost", "won", "open", "won"],
            "amount": [100.0, 50.0, 300.0, 70.0, 200.0],
            "created_at": _dates(["01-02", "01-03", "01-05", "02-01", "01-20"], year),
            "closed_at": _dates(["01-12", "01-23", "02-15", None, "02-03"], year),
        },
        index=[f"r{i}" for i in range(1, 6)],
    )


def _targets(year: int = 2024) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person": ["ann", "ann", "bob", "bob"],
            "period": _dates(["01-01", "02-01", "01-01", "02-01"], year),
            "target": [200.0, 200.0, 100.0, 400.0],
        }
    )


def _dates(days: list[str | None], year: int) -> np.ndarray:
    """Dates of ``year`` in second units, so any year from -2**31 on fits."""
    return np.array([None if d is None else f"{year}-{d}" for d in days], dtype="datetime64[s]")


# -- unknown statuses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda d: kpi_table(d, _targets()),
        win_rate,
        lambda d: win_rate(d, by=["person", "period"]),
        average_deal_size,
        sales_cycle_length,
    ],
)
def test_an_unknown_status_names_its_value_and_row_label(call):
    # "Won" is not "won": before, kpi_table dropped the 300.00 deal without a word
    d = _deals().assign(status=["won", "lost", "Won", "open", "won"])
    with pytest.raises(DataError, match=r"unknown value 'Won' at row 'r3' \(opportunity_id=3\)"):
        call(d)


def test_attainment_checks_statuses_too():
    d = _deals().assign(status=["won", "lost", "Won", "open", "won"])
    with pytest.raises(DataError, match=r"'status' of actuals has unknown value 'Won' at row 'r3'"):
        attainment(d, _targets(), date="closed_at", status="status")
    # open_values=None takes every value but won and lost as not won (a stage column)
    got = attainment(d, _targets(), date="closed_at", status="status", open_values=None)
    assert got["achieved"].sum() == 300.0  # 100 + 200; the "Won" row is not won


def test_kpi_table_counts_every_known_status():
    k = kpi_table(_deals(), _targets())
    jan, feb = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")
    # ann: won 100 (Jan), lost 50 (Jan), won 200 (Feb); bob: won 300 (Feb), one open deal
    assert k.loc[("ann", jan), ["revenue", "deals_won", "win_rate"]].tolist() == [100.0, 1, 0.5]
    assert k.loc[("bob", feb), ["revenue", "deals_won", "win_rate"]].tolist() == [300.0, 1, 1.0]


# -- feedback columns ---------------------------------------------------------------------------


def _feedback(**columns: list[object]) -> pd.DataFrame:
    base = pd.DataFrame(
        {"person": ["ann", "ann", "bob"], "period": pd.to_datetime(["2024-01-01"] * 3)},
        index=["f1", "f2", "f3"],
    )
    return base.assign(**columns)


@pytest.mark.parametrize(
    ("feedback", "match"),
    [
        (
            _feedback(rating=[4.0, 5.0, 3.0], comment=["good", "fine", "ok"]),
            (
                r"column 'comment' of feedback has non-numeric value 'good' at row 'f1' "
                r"\(person='ann'\); expected numeric scores"
            ),
        ),
        (
            _feedback(rating=["4", "good", "3"]),
            r"column 'rating' of feedback has non-numeric value 'good' at row 'f2'",
        ),
        (_feedback(seen=pd.to_datetime(["2024-01-02"] * 3)), "'seen' of feedback holds datetime"),
        (_feedback(happy=[True, False, True]), "'happy' of feedback holds booleans"),
    ],
)
def test_feedback_that_is_not_numbers_is_an_error_not_dropped(feedback, match):
    with pytest.raises(ColumnTypeError, match=match):
        kpi_table(_deals(), _targets(), feedback=feedback)


def test_feedback_text_numbers_are_read_as_numbers():
    # "4" and "5" from a CSV file: the same means as the numbers 4 and 5
    as_text = kpi_table(_deals(), _targets(), feedback=_feedback(rating=["4", "5", "3"]))
    as_numbers = kpi_table(_deals(), _targets(), feedback=_feedback(rating=[4, 5, 3]))
    pd.testing.assert_frame_equal(as_text, as_numbers)
    assert as_text.loc[("ann", pd.Timestamp("2024-01-01")), "rating"] == 4.5


# -- the caller's names in errors ---------------------------------------------------------------


CARD = Scorecard(metrics=[Metric(column="rating", weight=1, scale=(1, 5))])
KPIS = pd.DataFrame(
    {
        "person": ["ann", "bob", "ann", "bob"],
        "period": [1, 1, 2, 2],
        "rating": [4.0, np.nan, 3.0, 5.0],
    },
    index=["r10", "r20", "r30", "r40"],
)


def test_performance_report_names_kpis_and_the_row_label():
    with pytest.raises(DataError, match=r"column 'rating' of kpis has NaN at row 'r20'"):
        performance_report(KPIS, CARD)
    dup = KPIS.assign(rating=[4.0, 2.0, 3.0, 5.0], period=[1, 1, 1, 2])
    with pytest.raises(DataError, match=r"kpis has a second row for the same .* at row 'r30'"):
        performance_report(dup, CARD)


def test_performance_report_with_keys_in_the_index_names_the_index_entry():
    with pytest.raises(DataError, match=r"of kpis has NaN at row \('bob', 1\)"):
        performance_report(KPIS.set_index(["person", "period"]), CARD)


def test_score_scorecard_names_frame_and_the_row_label():
    with pytest.raises(DataError, match=r"column 'rating' of frame has NaN at row 'r20'"):
        score_scorecard(KPIS, CARD, period_column="period")


# -- dates before 1677 and after 2262 -----------------------------------------------------------


def _relabel(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """The result with its period labels moved from ``year`` to 2024 (as text)."""

    def move(values: pd.Index) -> pd.Index:
        if isinstance(values, pd.DatetimeIndex):
            return pd.Index(values.strftime("%Y-%m-%d").str.replace(str(year), "2024"))
        return values

    out = frame.copy()
    if isinstance(out.index, pd.MultiIndex):
        out.index = out.index.set_levels([move(lv) for lv in out.index.levels])
    else:
        out.index = move(out.index)
    return out


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return _relabel(frame, 2024)


def _tx(year: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 1, 3, 2],
            "date": _dates(["01-05", "01-20", "03-02", "03-09", "04-01"], year),
            "amount": [10.0, 20.0, 5.0, 2.5, 1.0],
        }
    )


CALLS = {
    "win_rate by period": lambda y: win_rate(_deals(y), by=["person", "period"]),
    "average_deal_size": lambda y: average_deal_size(_deals(y), by="period", period="Q"),
    "sales_cycle_length": lambda y: sales_cycle_length(_deals(y), by="period"),
    "revenue_by_period": lambda y: revenue_by_period(_tx(y)),
    "new_customers": lambda y: new_customers(_tx(y)),
    "retention": lambda y: retention(_tx(y)),
    "attainment": lambda y: attainment(_deals(y), _targets(y), date="closed_at", status="status"),
    "kpi_table": lambda y: kpi_table(_deals(y), _targets(y)),
    "commission_statement": lambda y: commission_statement(
        _deals(y).query("status == 'won'"), CommissionPlan(tiers=[(0, 0.05), (250, 0.1)])
    ),
}


@pytest.mark.parametrize("year", [1524, 2524])  # leap years, as 2024: the same calendar
@pytest.mark.parametrize("name", list(CALLS))
def test_dates_outside_the_nanosecond_range_give_the_same_answer(name, year):
    call = CALLS[name]
    far, near = call(year), call(2024)
    pd.testing.assert_frame_equal(_relabel(far, year), _as_text(near), check_dtype=False)


def test_far_dates_by_hand():
    # 1524: ann won 100 in January and 200 in February; bob won 300 in February
    got = revenue_by_period(
        _deals(1524).query("status == 'won'"), date="closed_at", by="person", period="M"
    )
    assert got["revenue"].tolist() == [100.0, 200.0, 0.0, 300.0]
    assert str(got.index.levels[1].dtype) == "datetime64[s]"
    st = commission_statement(
        _deals(2524).query("status == 'won'"), CommissionPlan(tiers=[(0, 0.05)])
    )
    assert st["earned_cents"].tolist() == [500, 1000, 1500]
    assert [str(p.date()) for p in st.index.get_level_values("period")] == [
        "2524-01-01",
        "2524-02-01",
        "2524-02-01",
    ]


# -- Arrow timestamps ---------------------------------------------------------------------------


def _arrow(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.assign(**{c: frame[c].astype("timestamp[ns][pyarrow]") for c in columns})


ARROW = {
    "new_customers": (new_customers, ("date",), lambda f: (f,), {}),
    "revenue_by_period": (revenue_by_period, ("date",), lambda f: (f,), {}),
    "win_rate": (win_rate, ("created_at", "closed_at"), lambda f: (f,), {"by": "period"}),
    "kpi_table": (kpi_table, ("created_at", "closed_at"), lambda f: (f, _targets()), {}),
    "attainment": (
        attainment,
        ("closed_at",),
        lambda f: (f, _targets()),
        {"date": "closed_at", "status": "status"},
    ),
    "commission_statement": (
        commission_statement,
        ("closed_at",),
        lambda f: (f.query("status == 'won'"), CommissionPlan(tiers=[(0, 0.05)])),
        {},
    ),
}


@pytest.mark.parametrize("name", list(ARROW))
def test_arrow_timestamps_work_exactly_like_numpy(name):
    func, columns, args, kwargs = ARROW[name]
    frame = _tx(2024) if "date" in columns else _deals()
    frame = frame.assign(**{c: frame[c].astype("datetime64[ns]") for c in columns})
    want = func(*args(frame), **kwargs)
    got = func(*args(_arrow(frame, *columns)), **kwargs)
    pd.testing.assert_frame_equal(got, want)


def test_arrow_null_is_a_missing_date_naming_the_row():
    d = _deals().assign(closed_at=pd.array([None] * 5, dtype="timestamp[ns][pyarrow]"))
    with pytest.raises(DataError, match=r"missing date \(NaT\) at row 'r1'"):
        win_rate(d, by="period")


# -- properties ---------------------------------------------------------------------------------


def _as_ns(frame: pd.DataFrame) -> pd.DataFrame:
    """The result with its period level in nanoseconds, to compare across units."""
    out = frame.copy()
    if isinstance(out.index, pd.MultiIndex):
        out.index = out.index.set_levels(
            [
                lv.as_unit("ns") if isinstance(lv, pd.DatetimeIndex) else lv
                for lv in out.index.levels
            ]
        )
    elif isinstance(out.index, pd.DatetimeIndex):
        out.index = out.index.as_unit("ns")
    return out


@settings(max_examples=25)  # several group-bys per example
@given(deal_frames(), st.sampled_from(["s", "ms", "us", "arrow"]), st.sampled_from(["W", "M", "Q"]))
def test_the_date_representation_changes_nothing(deals_, unit, period):
    cols = ["created_at", "closed_at"]
    if unit == "arrow":
        other = deals_.assign(**{c: deals_[c].astype("timestamp[ns][pyarrow]") for c in cols})
    else:
        other = deals_.assign(**{c: deals_[c].astype(f"datetime64[{unit}]") for c in cols})
    for call in (
        lambda d: win_rate(d, by=["person", "period"], period=period),
        lambda d: average_deal_size(d, by=["period", "region"], period=period),
        lambda d: sales_cycle_length(d, by="period", period=period, include_lost=True),
    ):
        pd.testing.assert_frame_equal(_as_ns(call(other)), _as_ns(call(deals_)))


@settings(max_examples=40)
@given(deal_frames(statuses=("won", "lost", "open", "Won", "pending")))
def test_a_status_outside_won_lost_open_is_never_ignored(deals_):
    unknown = ~deals_["status"].isin(["won", "lost", "open"])
    if unknown.any():
        first = deals_.index[unknown.to_numpy().argmax()]
        with pytest.raises(DataError, match=rf"unknown value '\w+' at row {first} "):
            win_rate(deals_, by="person")
        with pytest.raises(DataError, match="unknown value"):
            average_deal_size(deals_)
    else:
        got = win_rate(deals_, by="person")
        assert int(got[["won", "lost", "open"]].to_numpy().sum()) == len(deals_)
