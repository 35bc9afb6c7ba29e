"""clean_transactions: every removal and change is reported and the counts reconcile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ColumnTypeError, ConfigError, CurrencyError, DataError, SchemaError
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
    # a removed row is reported once; a kept row once per value rewritten (id, date, amount)
    assert len(set(removed)) == len(removed)
    per_column = report.loc[report["action"] == "changed", ["row", "column", "reason"]]
    assert not per_column.duplicated().any()


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


# reading real exports ------------------------------------------------------------------------
# Number styles follow the CLDR number patterns (Unicode TR35 part 3, "Number Patterns"): en
# "#,##0.###", de "#.##0,###" (grouping ".", decimal ","), fr "# ##0,###" with U+202F NARROW
# NO-BREAK SPACE, de-CH "#'##0.###", en-IN "#,##,##0.###" (secondary grouping of two digits),
# and the accounting pattern "¤#,##0.00;(¤#,##0.00)" (negatives in parentheses).
def _one(amount: object, **kwargs: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.DataFrame({"customer_id": ["c1"], "date": ["2024-01-09"], "amount": [amount]})
    return call_unmutated(clean_transactions, raw, **kwargs)  # type: ignore[no-any-return]


AMOUNTS = [
    # text, options, value, reason
    ("1,200.00", {}, 1200.0, "amount read with thousands separator ','"),  # en
    ("$1,200", {}, 1200.0, "amount read with currency '$', thousands separator ','"),
    ("¥80", {}, 80.0, "amount read with currency '¥'"),
    ("80 CNY", {}, 80.0, "amount read with currency 'CNY'"),
    ("HK$ 80", {}, 80.0, "amount read with currency 'HK$' (HKD)"),
    ("80元", {}, 80.0, "amount read with currency '元' (CNY)"),
    ("\uffe580", {}, 80.0, "amount read with currency '\uffe5' (¥)"),  # full-width yen sign
    (
        "1.200,50 €",  # de, CLDR "#,##0.00 ¤"
        {"decimal": ","},
        1200.5,
        "amount read with currency '€' (EUR), thousands separator '.', decimal comma",
    ),
    (
        "1\u202f234,56",  # fr
        {"decimal": ","},
        1234.56,
        "amount read with thousands separator '\\u202f', decimal comma",
    ),
    ("1'234.50", {}, 1234.5, 'amount read with thousands separator "\'"'),  # de-CH
    ("12,34,567.00", {}, 1234567.0, "amount read with thousands separator ','"),  # en-IN
    ("(80.00)", {}, -80.0, "amount read with parentheses as minus"),  # accounting
    (
        "($1,200.00)",
        {},
        -1200.0,
        "amount read with currency '$', thousands separator ',', parentheses as minus",
    ),
    ("80-", {}, -80.0, "amount read with trailing minus"),
    ("\u221280", {}, -80.0, "amount read with minus sign U+2212"),
    ("1,5", {"decimal": ","}, 1.5, "amount read with decimal comma"),
    (
        "1.200",
        {"decimal": ",", "thousands": "."},
        1200.0,
        "amount read with thousands separator '.'",
    ),
]


@pytest.mark.parametrize(
    ("text", "options", "value", "reason"), AMOUNTS, ids=[a[0] for a in AMOUNTS]
)
def test_amount_styles_hand_worked(
    text: str, options: dict[str, object], value: float, reason: str
) -> None:
    clean, report = _one(text, **options)
    assert clean["amount"].tolist() == [value]
    assert report[["action", "column", "value", "new_value", "reason"]].values.tolist() == [
        ["changed", "amount", text, value, reason]
    ]


@pytest.mark.parametrize("text", ["12.5", "-80", "+3", " 7 ", "1e3"])
def test_plain_number_text_is_read_without_a_report(text: str) -> None:
    clean, report = _one(text)
    assert clean["amount"].tolist() == [float(text)]
    assert report.empty


UNREADABLE = [
    ("1,5", {}),  # a comma that groups needs three digits after it: decimal="," says otherwise
    ("1.200,50", {}),  # two separators, but the decimal mark is "."
    ("1.5", {"decimal": ","}),
    ("1,200", {"thousands": ""}),
    ("1 200", {"thousands": ","}),
    ("1,234,56", {}),
    ("--80", {}),
    ("(80", {}),
    ("(-80)", {}),
    ("$80€", {}),
    ("80 usd", {}),
]


@pytest.mark.parametrize(("text", "options"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_amount_text_that_fits_no_style_is_unparseable(
    text: str, options: dict[str, object]
) -> None:
    clean, report = _one(text, **options)
    assert clean.empty
    assert report[["action", "reason", "value"]].values.tolist() == [
        ["removed", "unparseable amount", text]
    ]
    with pytest.raises(
        ColumnTypeError, match=r"value .* at row 0 \(customer_id='c1'\) that is not a valid amount"
    ):
        _one(text, unparseable="error", **options)


DATES = [
    (
        "2024年1月9日",
        {},
        "2024-01-09",
        "date read from the year-month-day characters (年月日, 년월일)",
    ),
    (
        "2024년 1월 9일",
        {},
        "2024-01-09",
        "date read from the year-month-day characters (年月日, 년월일)",
    ),
    (
        "2024年1月9日 14:30",
        {},
        "2024-01-09 14:30",
        "date read from the year-month-day characters (年月日, 년월일)",
    ),
    ("05.01.2024", {"dayfirst": True}, "2024-01-05", "date read day-first (dayfirst=True)"),
    ("05.01.2024", {"dayfirst": False}, "2024-05-01", "date read month-first (dayfirst=False)"),
    (
        "05/01/2024 9:05",
        {"dayfirst": True},
        "2024-01-05 09:05",
        "date read day-first (dayfirst=True)",
    ),
    ("13.01.2024", {}, "2024-01-13", "date read day-first: the only reading that is a date"),
    ("01/13/2024", {}, "2024-01-13", "date read month-first: the only reading that is a date"),
    ("07.07.2024", {}, "2024-07-07", "date read: day and month are the same number"),
    ("2024/01/09", {}, "2024-01-09", "date read as year-month-day separated by '/'"),
    ("2024.1.9", {}, "2024-01-09", "date read as year-month-day separated by '.'"),
    (
        "09 Jan 2024",
        {"date_format": "%d %b %Y"},
        "2024-01-09",
        "date read with date_format='%d %b %Y'",
    ),
]


@pytest.mark.parametrize(("text", "options", "when", "reason"), DATES, ids=[d[0] for d in DATES])
def test_date_forms_hand_worked(
    text: str, options: dict[str, object], when: str, reason: str
) -> None:
    raw = pd.DataFrame({"customer_id": [1], "date": [text], "amount": [5.0]}, index=["r1"])
    clean, report = call_unmutated(clean_transactions, raw, **options)
    assert clean["date"].tolist() == [pd.Timestamp(when)]
    assert report[["row", "action", "column", "value", "new_value", "reason"]].values.tolist() == [
        ["r1", "changed", "date", text, pd.Timestamp(when), reason]
    ]


def test_iso_text_is_read_without_a_report_even_with_a_format() -> None:
    raw = pd.DataFrame({"customer_id": [1], "date": ["2024-01-09"], "amount": [5.0]})
    assert clean_transactions(raw)[1].empty
    assert clean_transactions(raw, date_format="%Y-%m-%d")[1].empty
    # the format says year-day-month: the same text is another date, and the report says so
    clean, report = clean_transactions(raw, date_format="%Y-%d-%m")
    assert clean["date"].tolist() == [pd.Timestamp("2024-09-01")]
    assert report["reason"].tolist() == ["date read with date_format='%Y-%d-%m'"]


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("31.02.2024", {"dayfirst": True}),
        ("01.13.2024", {"dayfirst": True}),
        ("13.01.2024", {"dayfirst": False}),
        ("2024-01-09", {"date_format": "%d.%m.%Y"}),
        ("05.01.24", {"dayfirst": True}),
        ("Jan 9, 2024", {}),
    ],
)
def test_dates_in_no_form_are_unparseable(text: str, options: dict[str, object]) -> None:
    good = "01.01.2024" if "date_format" in options else "2024-01-01"
    raw = pd.DataFrame({"customer_id": [1, 2], "date": [text, good], "amount": [5.0, 1.0]})
    clean, report = clean_transactions(raw, **options)  # type: ignore[arg-type]
    assert clean.index.tolist() == [1]
    assert report.loc[report["action"] == "removed", ["row", "reason"]].values.tolist() == [
        [0, "unparseable date"]
    ]


def test_ambiguous_day_and_month_is_an_error_naming_column_row_and_value() -> None:
    raw = pd.DataFrame(
        {"customer_id": [7, 8], "date": ["13.01.2024", "01.02.2024"], "amount": [1.0, 2.0]},
        index=["a", "b"],
    )
    with pytest.raises(
        DataError,
        match=r"column 'date' .* date '01.02.2024' at row 'b' \(customer_id=8\).*dayfirst=True",
    ) as err:
        clean_transactions(raw, unparseable="drop")
    assert (err.value.column, err.value.row, err.value.value) == ("date", "b", "01.02.2024")
    assert clean_transactions(raw, dayfirst=True)[0]["date"].dt.month.tolist() == [1, 2]


def test_a_column_needing_both_day_first_and_month_first_is_an_error() -> None:
    raw = pd.DataFrame(
        {"customer_id": [7, 8], "date": ["13.01.2024", "01.13.2024"], "amount": [1.0, 2.0]}
    )
    with pytest.raises(
        DataError,
        match=r"mixes day-first dates \('13.01.2024' at row 0 .*month-first dates \('01.13.2024'",
    ):
        clean_transactions(raw)
    clean, report = clean_transactions(raw, dayfirst=True)
    assert clean.index.tolist() == [0]
    assert report.set_index("row").loc[1, "reason"] == "unparseable date"


def test_ids_are_stripped_and_case_folded_only_on_request() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [" C7 ", "C7", "c7", 12],
            "date": [f"2024-01-0{d}" for d in (1, 2, 3, 4)],
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    clean, report = call_unmutated(clean_transactions, raw)
    assert clean["customer_id"].tolist() == ["C7", "C7", "c7", 12]
    assert report[["row", "column", "value", "new_value", "reason"]].values.tolist() == [
        [0, "customer_id", " C7 ", "C7", "id: surrounding spaces removed"]
    ]
    clean, report = clean_transactions(raw, casefold_ids=True)
    assert clean["customer_id"].tolist() == ["c7", "c7", "c7", 12]
    assert report["reason"].tolist() == [
        "id: surrounding spaces removed; case folded",
        "id: case folded",
    ]


def test_rows_equal_once_read_are_duplicates_and_say_so() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": ["C7", " C7", "C7"],
            "date": ["2024-01-05", "05.01.2024", "2024-01-05"],
            "amount": ["1200", "$1,200.00", "1200"],
        },
        index=[10, 11, 12],
    )
    clean, report = clean_transactions(raw, dayfirst=True)
    assert clean.index.tolist() == [10]
    assert report[["row", "action", "reason"]].values.tolist() == [
        [11, "removed", "duplicate, once read, of row 10"],
        [12, "removed", "exact duplicate of row 10"],
    ]  # the changes of row 11 are not listed: the row is gone


def test_mixed_currencies_are_an_error_unless_a_currency_column_is_asked_for() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "amount": ["¥80", "80 CNY", "¥5"],
        },
        index=["x", "y", "z"],
    )
    with pytest.raises(
        CurrencyError,
        match=r"mixes currencies '¥' \('¥80' at row 'x' .*'CNY' \('80 CNY' at row 'y'",
    ) as err:
        clean_transactions(raw)
    assert (err.value.column, err.value.row) == ("amount", "y")
    clean, _ = clean_transactions(raw, symbols={"¥": "CNY"})
    assert clean["amount"].tolist() == [80.0, 80.0, 5.0]
    clean, _ = clean_transactions(raw, currency="currency")
    assert clean["currency"].tolist() == ["¥", "CNY", "¥"]
    # an amount without a currency among several cannot be placed
    bare = raw.assign(amount=["¥80", "80 CNY", "5"])
    with pytest.raises(CurrencyError, match=r"amount '5' without a currency at row 'z'"):
        clean_transactions(bare, currency="currency")


def test_one_currency_fills_the_currency_column_and_bare_amounts_share_it() -> None:
    raw = pd.DataFrame({"customer_id": [1, 2], "date": ["2024-01-01"] * 2, "amount": ["€5", "6"]})
    clean, _ = clean_transactions(raw, currency="cur")
    assert clean["cur"].tolist() == ["EUR", "EUR"]
    clean, _ = clean_transactions(raw.assign(amount=[5.0, 6.0]), currency="cur")
    assert clean["cur"].tolist() == [None, None]


def test_refunds_net_within_one_currency() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "date": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "amount": ["$100", "€50", "(€20)"],
        },
    )
    clean, report = clean_transactions(
        raw, currency="currency", symbols={"$": "USD"}, refunds="net"
    )
    assert clean[["amount", "currency"]].values.tolist() == [[100.0, "USD"], [30.0, "EUR"]]
    reduced = report[report["reason"] == "reduced by refunds of the same customer"]
    assert reduced[["row", "value", "new_value"]].values.tolist() == [[1, 50.0, 30.0]]


BAD_OPTIONS = [
    ({"dayfirst": "yes"}, "dayfirst='yes' must be True, False or None"),
    ({"date_format": "dd.mm.yyyy"}, "date_format='dd.mm.yyyy' must be a strftime format"),
    ({"date_format": "%d.%m.%Y", "dayfirst": True}, "give date_format or dayfirst, not both"),
    ({"decimal": ";"}, "decimal=';' is not one of"),
    ({"thousands": "."}, r"thousands='.' must be None .* differ from decimal='.'"),
    ({"thousands": "_"}, "thousands='_' must be None"),
    ({"symbols": {"¥": 1}}, "symbols=.* must map currency symbols to currency codes"),
    ({"currency": "amount"}, "transactions already has a column 'amount'"),
    ({"casefold_ids": 1}, "casefold_ids=1 must be True or False"),
]


@pytest.mark.parametrize(("options", "match"), BAD_OPTIONS, ids=[str(o[0]) for o in BAD_OPTIONS])
def test_bad_reading_options(options: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        clean_transactions(MESSY, **options)  # type: ignore[arg-type]


# properties of reading ----------------------------------------------------------------------
# (decimal mark, grouping separator, Indian grouping) per CLDR locale pattern
STYLES = {
    "en": (".", ",", False),
    "de": (",", ".", False),
    "fr": (",", "\u202f", False),
    "de-CH": (".", "'", False),
    "en-IN": (".", ",", True),
    "plain": (".", "", False),
}


def _group(digits: str, sep: str, indian: bool) -> str:
    """Group integer digits from the right: threes, or the Indian 3 then twos."""
    if not sep or len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    size = 2 if indian else 3
    groups = []
    while head:
        groups.insert(0, head[-size:])
        head = head[:-size]
    return sep.join([*groups, tail])


def _format(cents: int, style: str, marker: str, where: str, negative: str) -> str:
    decimal, sep, indian = STYLES[style]
    units, rest = divmod(abs(cents), 100)
    body = f"{_group(str(units), sep, indian)}{decimal}{rest:02d}"
    if marker:
        body = f"{marker}{body}" if where == "before" else f"{body} {marker}"
    if cents >= 0:
        return body
    return {
        "minus": f"-{body}",
        "parentheses": f"({body})",
        "trailing": f"{body}-",
        "unicode": f"\u2212{body}",
    }[negative]


def _is_plain(text: str) -> bool:
    """Whether Python reads the text as a number as it is (then nothing is reported)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


@given(
    cents=st.lists(st.integers(-(10**11), 10**11), min_size=1, max_size=20),
    style=st.sampled_from(sorted(STYLES)),
    marker=st.sampled_from(["", "$", "¥", "€", "CNY", "US$"]),
    where=st.sampled_from(["before", "after"]),
    negative=st.sampled_from(["minus", "parentheses", "trailing", "unicode"]),
)
def test_an_amount_formatted_in_a_locale_style_reads_back(
    cents: list[int], style: str, marker: str, where: str, negative: str
) -> None:
    texts = [_format(c, style, marker, where, negative) for c in cents]
    raw = pd.DataFrame({"customer_id": range(len(cents)), "date": "2024-01-01", "amount": texts})
    decimal = STYLES[style][0]
    clean, report = call_unmutated(clean_transactions, raw, decimal=decimal, duplicates="keep")
    assert clean["amount"].tolist() == [c / 100 for c in cents]
    changed = report.loc[report["action"] == "changed", "row"].tolist()
    plain = [i for i, t in enumerate(texts) if _is_plain(t)]
    assert sorted(changed + plain) == list(range(len(cents)))  # every rewrite is reported


DATE_STYLES = {
    "dmy.": ("{d:02d}.{m:02d}.{y}", {"dayfirst": True}),
    "dmy/": ("{d}/{m}/{y}", {"dayfirst": True}),
    "mdy/": ("{m:02d}/{d:02d}/{y}", {"dayfirst": False}),
    "mdy-": ("{m}-{d}-{y}", {"dayfirst": False}),
    "cjk": ("{y}年{m}月{d}日", {}),
    "ko": ("{y}년 {m}월 {d}일", {}),
    "ymd/": ("{y}/{m:02d}/{d:02d}", {}),
    "format": ("{d:02d}|{m:02d}|{y}", {"date_format": "%d|%m|%Y"}),
}


@given(
    days=st.lists(st.integers(0, 365 * 300), min_size=1, max_size=20),
    style=st.sampled_from(sorted(DATE_STYLES)),
)
def test_a_date_formatted_in_a_local_style_reads_back(days: list[int], style: str) -> None:
    # Timedelta(d, unit="D"): pandas 3.0.0 bounds Timedelta(days=d) by nanoseconds (292 years).
    when = [pd.Timestamp("1900-01-01") + pd.Timedelta(d, unit="D") for d in days]
    pattern, options = DATE_STYLES[style]
    texts = [pattern.format(d=w.day, m=w.month, y=w.year) for w in when]
    raw = pd.DataFrame({"customer_id": 1, "date": texts, "amount": 1.0})
    clean, report = clean_transactions(raw, duplicates="keep", **options)  # type: ignore[arg-type]
    assert clean["date"].tolist() == when
    assert report["row"].tolist() == list(range(len(days)))
    assert (report["action"] == "changed").all()


@st.composite
def export_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A clean table and the same rows as a messy text export (spaces, local forms, holes)."""
    tx = draw(transaction_frames(max_rows=30))
    n = len(tx)
    tx = tx.assign(
        customer_id="C" + tx["customer_id"].astype(str),
        date=tx["date"].dt.normalize(),
        amount=tx["amount"]
        * np.asarray(draw(st.lists(st.sampled_from([1, 1, -1]), min_size=n, max_size=n))),
    )
    pad = draw(st.lists(st.sampled_from(["", " ", "  "]), min_size=n, max_size=n))
    form = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    cents = (tx["amount"] * 100).round().astype(np.int64)
    export = pd.DataFrame(
        {
            "customer_id": [p + c + p for p, c in zip(pad, tx["customer_id"], strict=True)],
            "date": [
                d.strftime("%d.%m.%Y") if f else d.strftime("%Y-%m-%d")
                for f, d in zip(form, tx["date"], strict=True)
            ],
            "amount": [
                _format(int(c), "en", "$", "before", "parentheses") if f else f"{c / 100:.2f}"
                for f, c in zip(form, cents, strict=True)
            ],
        },
        index=draw(st.permutations(range(100, 100 + n))),
    )
    holes = draw(st.lists(st.integers(0, n - 1), max_size=3))
    export.iloc[holes, 0] = None
    return tx.set_axis(export.index), export


@given(frames=export_frames(), refunds=st.sampled_from(["keep", "drop", "net"]))
def test_an_export_cleans_like_the_table_it_was_made_from(
    frames: tuple[pd.DataFrame, pd.DataFrame], refunds: str
) -> None:
    table, export = frames
    got, report = call_unmutated(clean_transactions, export, dayfirst=True, refunds=refunds)
    _reconciles(export, got, report)
    changed = report.loc[report["action"] == "changed", "row"]
    assert set(changed) <= set(got.index)
    order = list(export.index)
    assert [order.index(r) for r in got.index] == sorted(order.index(r) for r in got.index)
    kept = table[export["customer_id"].notna()]
    if kept.empty:  # every row lost its id: nothing to compare with (an empty table is an error)
        assert got.empty
        return
    want, _ = clean_transactions(kept, refunds=refunds)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
