"""clean_transactions: every removal and change is reported and the counts reconcile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ColumnTypeError, ConfigError, DataError, SchemaError
from crmcore.segmentation import clean_transactions, rfm_summary
from helpers import call_unmutated, shuffled
from strategies import transaction_frames
from strategies_segmentation import date_kinds, represent_dates

MESSY = pd.DataFrame(
    {
        "customer_id": [1, 1, None, 2, 2, 3, 3, "  ", 4],
        "date": [
            "2024-01-02",
            "2024-01-02",
            "2024-01-03",
            "yesterday",
            " 2024-01-04 ",
            "2024-01-05",
            None,
            "2024-01-06",
            "2024-01-07",
        ],
        "amount": [10.0, 10.0, 5.0, 7.0, "12.5", "n/a", 3.0, 4.0, np.inf],
        "note": ["a", "a", "b", "c", "d", "e", "f", "g", "h"],
    },
    index=[100, 101, 102, 103, 104, 105, 106, 107, 108],
)


def _reconciles(raw: pd.DataFrame, clean: pd.DataFrame, report: pd.DataFrame) -> None:
    removed = report.loc[report["action"] == "removed", "row"].tolist()
    changed = report.loc[report["action"] == "changed", "row"].tolist()
    assert len(clean) + len(removed) == len(raw)
    assert not set(removed) & set(clean.index)
    assert set(changed) <= set(clean.index)
    assert sorted(removed + clean.index.tolist()) == sorted(raw.index.tolist())
    assert report["row"].is_unique


def test_messy_export_hand_checked() -> None:
    clean, report = call_unmutated(clean_transactions, MESSY)
    assert clean.index.tolist() == [100, 104]
    assert clean["amount"].tolist() == [10.0, 12.5]
    assert clean["date"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-04")]
    assert clean["note"].tolist() == ["a", "d"]
    expected = pd.DataFrame(
        {
            "row": [101, 102, 103, 105, 106, 107, 108],
            "action": ["removed"] * 7,
            "reason": [
                "exact duplicate of row 100",
                "missing value",
                "unparseable date",
                "unparseable amount",
                "missing value",
                "missing value",
                "unparseable amount",
            ],
            "column": [
                "customer_id",
                "customer_id",
                "date",
                "amount",
                "date",
                "customer_id",
                "amount",
            ],
        }
    )
    pd.testing.assert_frame_equal(
        report[["row", "action", "reason", "column"]].astype({"row": "int64"}),
        expected.astype({"action": object}),
        check_dtype=False,
    )
    assert report["value"].tolist()[3] == "n/a"
    assert report["new_value"].isna().all()
    _reconciles(MESSY, clean, report)


def test_nothing_to_clean_gives_empty_report() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "amount": [1.0, 2.0],
        }
    )
    clean, report = clean_transactions(raw)
    pd.testing.assert_frame_equal(clean, raw)
    assert report.empty
    assert list(report.columns) == ["row", "action", "reason", "column", "value", "new_value"]


def test_duplicates_keep() -> None:
    clean, report = clean_transactions(MESSY.iloc[:2], duplicates="keep")
    assert clean.index.tolist() == [100, 101]
    assert report.empty


def test_duplicates_differ_in_another_column_are_kept() -> None:
    raw = MESSY.iloc[:2].assign(note=["a", "b"])
    clean, _ = clean_transactions(raw)
    assert len(clean) == 2


# refunds ------------------------------------------------------------------------------------
REFUNDS = pd.DataFrame(
    {
        "customer_id": [1, 1, 1, 2, 2, 3],
        "date": pd.to_datetime(
            ["2024-01-01", "2024-01-05", "2024-01-10", "2024-02-01", "2024-02-01", "2024-03-01"]
        ),
        "amount": [100.0, 50.0, -70.0, 30.0, -30.0, -5.0],
    }
)


def test_refunds_net_hand_worked() -> None:
    clean, report = call_unmutated(clean_transactions, REFUNDS, refunds="net")
    # customer 1: the -70 refund absorbs the latest purchase (50, cancelled) and 20 of the 100
    # customer 2: a same-day refund cancels the purchase exactly
    # customer 3: a refund with no earlier purchase cannot be netted: removed and named
    assert clean.index.tolist() == [0]
    assert clean["amount"].tolist() == [80.0]
    rows = report.set_index("row")
    assert rows.loc[0, ["action", "reason", "new_value"]].tolist() == [
        "changed",
        "reduced by refunds of the same customer",
        80.0,
    ]
    assert rows.loc[1, "reason"] == "cancelled by refunds of the same customer"
    assert rows.loc[2, "reason"] == "refund netted against earlier purchases"
    assert rows.loc[3, "reason"] == "cancelled by refunds of the same customer"
    assert rows.loc[4, "reason"] == "refund netted against earlier purchases"
    assert rows.loc[5, "reason"] == (
        "refund netted; 5.0 of this customer's refunds found no earlier purchase and is dropped"
    )
    assert rows.loc[5, "value"] == -5.0
    _reconciles(REFUNDS, clean, report)


def test_refund_only_nets_earlier_purchases() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "amount": [-10.0, 40.0, -15.0],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
        }
    )
    clean, report = clean_transactions(raw, refunds="net")
    # the first refund precedes every purchase: 10.0 unmatched; the second takes 15 of 40
    assert clean["amount"].tolist() == [25.0]
    assert "10.0 of this customer's refunds" in report.set_index("row").loc[0, "reason"]


def test_refunds_net_in_exact_cents() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "amount": [0.3, -0.1],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        }
    )
    clean, _ = clean_transactions(raw, refunds="net")
    assert clean["amount"].tolist() == [0.2]  # not 0.19999999999999998


def test_refunds_drop_keep_error() -> None:
    clean, report = clean_transactions(REFUNDS, refunds="drop")
    assert clean["amount"].tolist() == [100.0, 50.0, 30.0]
    assert report["reason"].tolist() == ["refund dropped"] * 3
    clean, report = clean_transactions(REFUNDS, refunds="keep")
    assert len(clean) == len(REFUNDS)
    assert report.empty
    with pytest.raises(DataError, match=r"negative value -70.0 at row 2 \(customer_id=1\)"):
        clean_transactions(REFUNDS, refunds="error")


# properties ---------------------------------------------------------------------------------
@st.composite
def messy_frames(draw: st.DrawFn) -> pd.DataFrame:
    tx = draw(transaction_frames(max_rows=40))
    n = len(tx)
    signs = draw(st.lists(st.sampled_from([1.0, 1.0, 1.0, -1.0]), min_size=n, max_size=n))
    tx = tx.assign(amount=tx["amount"] * np.asarray(signs))
    dup = draw(st.lists(st.integers(0, n - 1), max_size=5))
    tx = pd.concat([tx, tx.iloc[dup]], ignore_index=True)
    holes = draw(st.lists(st.integers(0, len(tx) - 1), max_size=3))
    amount = tx["amount"].astype(object)
    amount.iloc[holes] = None
    return tx.assign(amount=amount)


@given(raw=messy_frames(), refunds=st.sampled_from(["keep", "drop", "net"]))
def test_report_reconciles(raw: pd.DataFrame, refunds: str) -> None:
    clean, report = clean_transactions(raw, refunds=refunds)  # type: ignore[arg-type]
    _reconciles(raw, clean, report)
    assert not clean.duplicated().any()
    assert clean["amount"].notna().all()
    if refunds != "keep":
        assert (clean["amount"] >= 0).all()
        if len(clean):  # the cleaned table is accepted by the summaries as is
            assert rfm_summary(clean)["monetary"].sum() >= 0


@given(raw=messy_frames())
def test_net_preserves_each_customers_total(raw: pd.DataFrame) -> None:
    clean, report = clean_transactions(raw, duplicates="keep", refunds="net")
    kept = raw[raw["amount"].notna()].astype({"amount": float})
    cents_in = (kept["amount"] * 100).round().groupby(kept["customer_id"]).sum()
    cents_out = (clean["amount"] * 100).round().groupby(clean["customer_id"]).sum()
    cents_out = cents_out.reindex(cents_in.index, fill_value=0)
    # what is missing is exactly the refunds that found no earlier purchase (never positive)
    unmatched = cents_out - cents_in
    assert (unmatched >= 0).all()
    has_unmatched = report["reason"].str.contains("found no earlier purchase")
    customers_named = set(raw.loc[report.loc[has_unmatched, "row"], "customer_id"])
    assert customers_named == set(unmatched[unmatched > 0].index)


@given(raw=messy_frames(), seed=st.integers(0, 2**16), refunds=st.sampled_from(["drop", "net"]))
def test_row_order_does_not_change_the_result(raw: pd.DataFrame, seed: int, refunds: str) -> None:
    a, ra = clean_transactions(raw, refunds=refunds)  # type: ignore[arg-type]
    b, rb = clean_transactions(shuffled(raw, seed), refunds=refunds)  # type: ignore[arg-type]
    key = ["customer_id", "date", "amount"]
    pd.testing.assert_frame_equal(
        a[key].sort_values(key).reset_index(drop=True),
        b[key].sort_values(key).reset_index(drop=True),
    )

    # the same reasons (which of two identical rows counts as "the" duplicate follows row order)
    def kinds(report: pd.DataFrame) -> list[str]:
        return sorted(report["reason"].str.replace(r"of row \S+", "of row", regex=True))

    assert kinds(ra) == kinds(rb)


# bad input ----------------------------------------------------------------------------------
BAD = [
    (
        "missing column",
        MESSY.drop(columns="amount"),
        {},
        SchemaError,
        r"transactions is missing column\(s\) 'amount'",
    ),
    ("empty", MESSY.iloc[:0], {}, SchemaError, "transactions is empty"),
    (
        "missing error",
        MESSY,
        {"missing": "error"},
        DataError,
        r"'customer_id' of transactions has a missing value at row 102.*missing='drop'",
    ),
    (
        "unparseable date error",
        MESSY.drop(index=[102, 106, 107]),
        {"unparseable": "error"},
        ColumnTypeError,
        r"value 'yesterday' at row 103 .*not a valid date.*unparseable='drop'",
    ),
    (
        "unparseable amount error",
        MESSY.drop(index=[102, 103, 106, 107]),
        {"unparseable": "error"},
        ColumnTypeError,
        r"value 'n/a' at row 105 .*not a valid amount",
    ),
    (
        "mixed tz",
        pd.DataFrame(
            {
                "customer_id": [1, 2],
                "amount": [1.0, 2.0],
                "date": [pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-02")],
            }
        ),
        {},
        DataError,
        "mixes naive and tz-aware",
    ),
    ("bad option", MESSY, {"refunds": "maybe"}, ConfigError, "refunds='maybe' is not one of"),
    ("bad duplicates", MESSY, {"duplicates": "error"}, ConfigError, "duplicates='error'"),
    ("bad decimals", MESSY, {"decimals": -1}, ConfigError, "decimals == -1"),
]


@pytest.mark.parametrize(
    ("raw", "kwargs", "exc", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_input(
    raw: pd.DataFrame, kwargs: dict[str, object], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        clean_transactions(raw, **kwargs)  # type: ignore[arg-type]


def test_refunds_net_across_five_centuries() -> None:
    # A refund in 2030 nets against a purchase made in 1500 (seconds resolution). Netting in
    # nanoseconds wrapped 1500 past 2030, so the refund found "no earlier purchase".
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "date": np.array(["1500-01-01", "2030-01-01"], dtype="datetime64[s]"),
            "amount": [10.0, -4.0],
        }
    )
    clean, report = clean_transactions(raw, refunds="net")
    assert clean["amount"].tolist() == [6.0]
    assert clean["date"].dtype == np.dtype("datetime64[s]")
    assert report["reason"].tolist() == [
        "reduced by refunds of the same customer",
        "refund netted against earlier purchases",
    ]


@given(tx=transaction_frames(), kind=date_kinds, refunds=st.sampled_from(["keep", "net"]))
def test_cleaning_does_not_depend_on_how_dates_are_held(
    tx: pd.DataFrame, kind: str, refunds: str
) -> None:
    raw = tx.assign(amount=np.where(np.arange(len(tx)) % 4 == 3, -tx["amount"], tx["amount"]))
    got_clean, got_report = clean_transactions(represent_dates(raw, kind), refunds=refunds)
    clean, report = clean_transactions(raw, refunds=refunds)
    pd.testing.assert_frame_equal(got_clean.drop(columns="date"), clean.drop(columns="date"))
    pd.testing.assert_frame_equal(got_report, report)
