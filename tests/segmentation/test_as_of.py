"""cut_at_as_of: the explicit, counted way to leave out transactions after as_of."""

from __future__ import annotations

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ColumnTypeError, ConfigError, DataError, SchemaError
from crmcore.segmentation import AsOfCut, btyd_summary, cut_at_as_of, rfm_summary
from helpers import call_unmutated, shuffled
from strategies import transaction_frames
from strategies_segmentation import date_kinds, represent_as_of, represent_dates

# customer 1: Tue 2024-01-30, Fri 2024-02-02, Wed 2024-05-15; customer 2: Sun 2024-03-31 twice
TX = pd.DataFrame(
    {
        "customer_id": [2, 1, 1, 2, 1],
        "date": pd.to_datetime(
            ["2024-03-31 18:00", "2024-01-30", "2024-05-15", "2024-03-31 10:00", "2024-02-02"],
            format="ISO8601",
        ),
        "amount": [7.0, 10.0, 30.0, 5.0, 20.0],
        "channel": ["web", "shop", "web", "web", "shop"],
    },
    index=pd.Index(["r0", "r1", "r2", "r3", "r4"], name="line"),
)


@pytest.mark.parametrize(
    ("as_of", "period", "excluded"),
    [
        ("2024-04-01", "D", ["r2"]),  # only the May purchase is later
        ("2024-03-31", "D", ["r2"]),  # 18:00 on the as_of day is the same day: kept
        ("2024-03-30", "D", ["r0", "r2", "r3"]),
        ("2024-02-01", "D", ["r0", "r2", "r3", "r4"]),
        ("2024-02-01", "M", ["r0", "r2", "r3"]),  # February 2: same month as as_of
        ("2024-01-31", "W", ["r0", "r2", "r3"]),  # Fri 02-02 is in the week of Wed 01-31
        ("2024-03-01", "Q", ["r2"]),  # Q1 ends 03-31: only May is later
        ("2024-01-01", "Y", []),
        ("2023-12-31", "Y", ["r0", "r1", "r2", "r3", "r4"]),
    ],
)
def test_hand_worked_cuts(as_of: str, period: str, excluded: list[str]) -> None:
    cut = call_unmutated(cut_at_as_of, TX, as_of=as_of, period=period)
    assert cut.excluded.index.tolist() == excluded
    assert cut.n_excluded == len(excluded)
    assert cut.kept.index.tolist() == [r for r in TX.index if r not in excluded]
    assert cut.as_of == pd.Timestamp(as_of)
    assert cut.period == period
    # the rows are the caller's rows, every column unchanged
    pd.testing.assert_frame_equal(cut.excluded, TX.loc[excluded])


def test_kept_rows_are_what_the_summary_accepts() -> None:
    cut = cut_at_as_of(TX, as_of="2024-04-01")
    with pytest.raises(DataError, match="cut_at_as_of"):
        rfm_summary(TX, as_of="2024-04-01")
    out = rfm_summary(cut.kept, as_of=cut.as_of)
    # c1: last purchase 02-02 -> 04-01 = 27 + 31 + 1 = 59 days; two purchases, 30.0
    assert out.loc[1, ["recency", "frequency", "monetary"]].tolist() == [59, 2, 30.0]


def test_period_aliases_and_text_dates() -> None:
    text = TX.assign(date=TX["date"].dt.strftime("%Y-%m-%d %H:%M"))
    cut = cut_at_as_of(text, as_of="2024-02-01", period="MS")
    assert cut.period == "M"
    assert cut.excluded.index.tolist() == ["r0", "r2", "r3"]
    assert cut.kept["date"].tolist() == text["date"].iloc[[1, 4]].tolist()  # text kept as text


def test_tz_aware_dates_use_the_local_calendar() -> None:
    # 23:30 in Berlin on Jan 31 is still January locally (22:30 UTC)
    aware = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "date": pd.to_datetime(["2024-01-31 23:30", "2024-02-01 00:30"]).tz_localize(
                "Europe/Berlin"
            ),
        }
    )
    cut = cut_at_as_of(aware, as_of=pd.Timestamp("2024-01-31", tz="Europe/Berlin"))
    assert cut.excluded["customer_id"].tolist() == [2]
    assert str(cut.as_of.tz) == "Europe/Berlin"
    with pytest.raises(ConfigError, match="mix naive and tz-aware"):
        cut_at_as_of(aware, as_of="2024-01-31")


def test_empty_transactions_give_empty_parts() -> None:
    cut = cut_at_as_of(TX.iloc[:0], as_of="2024-01-01")
    assert cut.kept.empty
    assert cut.n_excluded == 0
    assert list(cut.kept.columns) == list(TX.columns)


def test_result_is_frozen() -> None:
    cut = cut_at_as_of(TX, as_of="2024-04-01")
    assert isinstance(cut, AsOfCut)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        cut.as_of = pd.Timestamp("2025-01-01")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "match"),
    [
        (TX, {}, TypeError, "as_of"),
        (TX, {"as_of": None}, ConfigError, "as_of is required"),
        (TX, {"as_of": "not a date"}, ConfigError, "as_of='not a date' is not a date"),
        (TX, {"as_of": "2024-01-01", "period": "fortnight"}, ConfigError, "period"),
        (TX, {"as_of": "2024-01-01", "date": "when"}, SchemaError, "when"),
        (
            TX.assign(date=TX["date"].where(TX.index != "r3")),
            {"as_of": "2024-01-01"},
            DataError,
            r"missing date \(NaT\) at row 'r3' \(customer_id=2\)",
        ),
        (TX.assign(date=1.5), {"as_of": "2024-01-01"}, ColumnTypeError, "expected dates"),
        (
            TX.assign(customer_id=[1, None, 2, 3, 4]),
            {"as_of": "2024-01-01"},
            DataError,
            "customer_id.*'r1'",
        ),
        ("not a frame", {"as_of": "2024-01-01"}, TypeError, "transactions"),
    ],
)
def test_bad_input(frame: object, kwargs: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        cut_at_as_of(frame, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@given(
    tx=transaction_frames(min_rows=1),
    day=st.integers(-5, 420),
    period=st.sampled_from(["D", "W", "M", "Q", "Y"]),
)
def test_cut_partitions_the_rows_and_matches_the_summaries(
    tx: pd.DataFrame, day: int, period: str
) -> None:
    as_of = pd.Timestamp("2024-01-01") + pd.Timedelta(days=day)
    cut = call_unmutated(cut_at_as_of, tx, as_of=as_of, period=period)
    # every row is in exactly one part, each part in input order
    assert sorted([*cut.kept.index, *cut.excluded.index]) == list(tx.index)
    assert cut.kept.index.is_monotonic_increasing
    assert cut.excluded.index.is_monotonic_increasing
    # the kept rows are exactly those the summaries accept: none is after as_of...
    if len(cut.kept):
        rfm_summary(cut.kept, as_of=as_of, period=period)
        btyd_summary(cut.kept, as_of=as_of, period=period)
    # ...and each excluded row alone is refused
    for label in cut.excluded.index[:3]:
        with pytest.raises(DataError, match="after as_of"):
            rfm_summary(tx.loc[[label]], as_of=as_of, period=period)


@given(tx=transaction_frames(min_rows=1), day=st.integers(0, 400), seed=st.integers(0, 9))
def test_row_order_does_not_change_which_rows_are_cut(
    tx: pd.DataFrame, day: int, seed: int
) -> None:
    as_of = pd.Timestamp("2024-01-01") + pd.Timedelta(days=day)
    cut = cut_at_as_of(tx, as_of=as_of, period="W")
    mixed = cut_at_as_of(shuffled(tx, seed), as_of=as_of, period="W")
    assert set(mixed.excluded.index) == set(cut.excluded.index)


@given(
    tx=transaction_frames(min_rows=1),
    kind=date_kinds,
    day=st.integers(0, 400),
    period=st.sampled_from(["D", "W", "M", "Q", "Y"]),
)
def test_any_date_dtype_and_range_cuts_the_same_rows(
    tx: pd.DataFrame, kind: str, day: int, period: str
) -> None:
    as_of = pd.Timestamp("2024-01-01") + pd.Timedelta(days=day)
    expected = cut_at_as_of(tx, as_of=as_of, period=period).excluded.index
    held = represent_dates(tx, kind)
    cut = cut_at_as_of(held, as_of=represent_as_of(as_of, kind), period=period)
    pd.testing.assert_index_equal(cut.excluded.index, expected)
    assert cut.kept["date"].dtype == held["date"].dtype
    np.testing.assert_array_equal(cut.kept.index, tx.index.difference(expected))


def test_customer_ids_mixing_numbers_and_text_are_an_error() -> None:
    # issue 14 catalogue: 1 and "1" were cut as two customers
    tx = TX.astype({"customer_id": object})
    tx.loc[tx.index[-1], "customer_id"] = str(tx["customer_id"].iloc[0])
    with pytest.raises(DataError, match=r"mixes number 2 \(row 'r0'\) and text '2' \(row 'r4'\)"):
        cut_at_as_of(tx, as_of="2024-03-01")
