"""Tests of weighted_pipeline and pipeline_by_stage."""

from __future__ import annotations

from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import (
    ColumnTypeError,
    ConfigError,
    CurrencyError,
    DataError,
    InputTypeError,
    SchemaError,
)
from crmcore.money import to_minor_units
from crmcore.pipeline import StageModel, pipeline_by_stage, weighted_pipeline
from helpers import call_unmutated, shuffled
from strategies_pipeline import models_and_deals

MODEL = StageModel.from_conversion_rates(
    ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [60, 30, 30]
)


def worked_deals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3],
            "stage": ["prospect", "bid", "negotiation"],
            "amount": [500_000.0, 250_000.0, 200_000.0],
        }
    )


def cents(values: Any) -> np.ndarray:
    return np.asarray(to_minor_units(np.asarray(values, dtype=np.float64)))


# --- examples -----------------------------------------------------------------------------


def test_worked_example_each_deal_brings_180000() -> None:
    # Win odds are cumulative: prospect 0.5*0.8*0.9 = 0.36, bid 0.8*0.9 = 0.72, negotiation 0.9.
    # 500 000 * 0.36 = 250 000 * 0.72 = 200 000 * 0.9 = 180 000; total 540 000.
    out = call_unmutated(weighted_pipeline, worked_deals(), MODEL)
    expected = pd.DataFrame(
        {
            "stage": ["prospect", "bid", "negotiation"],
            "amount": [500_000.0, 250_000.0, 200_000.0],
            "win_probability": [0.5 * 0.8 * 0.9, 0.8 * 0.9, 0.9],
            "expected_amount": [180_000.0, 180_000.0, 180_000.0],
        },
        index=pd.Index([1, 2, 3], name="opportunity_id"),
    )
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)
    assert out["expected_amount"].sum() == 540_000.0


def test_worked_example_by_stage() -> None:
    out = call_unmutated(pipeline_by_stage, worked_deals(), MODEL)
    assert list(out.index) == ["prospect", "bid", "negotiation", "won", "lost"]
    assert out["count"].tolist() == [1, 1, 1, 0, 0]
    assert out["expected_amount"].tolist() == [180_000.0, 180_000.0, 180_000.0, 0.0, 0.0]
    assert out["expected_amount"].sum() == 540_000.0
    assert out["count"].dtype == np.int64


def test_step_odds_typed_as_cumulative_overstate_by_17_percent() -> None:
    # The Odoo trap: 50/80/90 typed as win odds gives 250 000 + 200 000 + 180 000
    # = 630 000 instead of 540 000, i.e. 630/540 - 1 = 16.7 % too much.
    naive = StageModel(
        stages=["prospect", "bid", "negotiation"],
        win_probabilities=[0.5, 0.8, 0.9],
        days_to_close=[120, 60, 30],
    )
    total = weighted_pipeline(worked_deals(), naive)["expected_amount"].sum()
    assert total == 630_000.0
    assert round(total / 540_000.0 - 1, 3) == 0.167


def test_won_counts_full_lost_counts_zero_and_index_is_sorted() -> None:
    deals = pd.DataFrame(
        {"opportunity_id": ["c", "a", "b"], "stage": ["won", "lost", "bid"], "amount": [10, 20, 30]}
    )
    out = weighted_pipeline(deals, MODEL)
    assert list(out.index) == ["a", "b", "c"]
    # a lost -> 0; b bid 30 * 0.72 = 21.60; c won -> 10.
    assert out["win_probability"].tolist() == [0.0, MODEL.probability("bid"), 1.0]
    assert out["expected_amount"].tolist() == [0.0, 21.6, 10.0]
    by = pipeline_by_stage(deals, MODEL)
    assert by.loc["won", "amount"] == 10.0
    assert by.loc["lost", "amount"] == 20.0
    assert by.loc["lost", "expected_amount"] == 0.0


def test_expected_rounds_half_up_to_the_cent() -> None:
    # 0.05 at 0.9 = 0.045 -> 0.05 (half up); 0.01 at 0.36 = 0.0036 -> 0.00.
    deals = pd.DataFrame(
        {"opportunity_id": [1, 2], "stage": ["negotiation", "prospect"], "amount": [0.05, 0.01]}
    )
    out = weighted_pipeline(deals, MODEL)
    assert out["expected_amount"].tolist() == [0.05, 0.0]


def test_currencies_with_rates_convert_to_reporting_currency() -> None:
    deals = pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3],
            "stage": ["negotiation", "negotiation", "won"],
            "amount": [100.0, 200.0, 1000.0],
            "currency": ["USD", "EUR", "JPY"],
        }
    )
    rates = {"USD": 0.9, "JPY": 0.006}
    out = weighted_pipeline(
        deals, MODEL, currency="currency", rates=rates, reporting_currency="EUR"
    )
    # USD 100 * 0.9 = 90 EUR, * 0.9 = 81; EUR 200 * 0.9 = 180; JPY 1000 * 0.006 = 6 EUR (won).
    assert out["amount"].tolist() == [90.0, 200.0, 6.0]
    assert out["expected_amount"].tolist() == [81.0, 180.0, 6.0]
    assert out["fx_rate"].tolist() == [0.9, 1.0, 0.006]
    assert out["currency"].tolist() == ["USD", "EUR", "JPY"]
    # The currency the amounts are in is a column: it survives concat, filters and Dask.
    assert out["reporting_currency"].tolist() == ["EUR"] * 3
    by = pipeline_by_stage(deals, MODEL, currency="currency", rates=rates, reporting_currency="EUR")
    assert by.loc["negotiation", "expected_amount"] == 261.0
    assert by["reporting_currency"].tolist() == ["EUR"] * 5


def test_single_currency_needs_no_rates() -> None:
    deals = worked_deals().assign(currency="EUR")
    by = pipeline_by_stage(deals, MODEL, currency="currency")
    assert by["expected_amount"].sum() == 540_000.0
    assert set(by["reporting_currency"]) == {"EUR"}
    # Per deal, the currency column already says it (and the column set never depends on data).
    assert "reporting_currency" not in weighted_pipeline(deals, MODEL, currency="currency")


def test_mixed_currencies_per_deal_without_rates_stay_in_own_currency() -> None:
    deals = worked_deals().assign(currency=["EUR", "USD", "EUR"])
    out = weighted_pipeline(deals, MODEL, currency="currency")
    assert out["currency"].tolist() == ["EUR", "USD", "EUR"]
    assert "fx_rate" not in out.columns
    assert "reporting_currency" not in out.columns


def test_reporting_currency_column_only_when_known() -> None:
    assert "reporting_currency" not in weighted_pipeline(worked_deals(), MODEL).columns
    assert "reporting_currency" not in pipeline_by_stage(worked_deals(), MODEL).columns
    named = pipeline_by_stage(worked_deals(), MODEL, reporting_currency="CHF")
    assert named["reporting_currency"].tolist() == ["CHF"] * 5
    per_deal = weighted_pipeline(worked_deals(), MODEL, reporting_currency="CHF")
    assert per_deal["reporting_currency"].tolist() == ["CHF"] * 3
    fx = worked_deals().assign(currency=["EUR", "USD", "EUR"])
    rates = {"EUR": 1.0, "USD": 0.5}
    unnamed = pipeline_by_stage(fx, MODEL, currency="currency", rates=rates)
    assert "reporting_currency" not in unnamed.columns  # converted, but into what is not said


def test_three_decimal_currency() -> None:
    deals = pd.DataFrame({"opportunity_id": [1], "stage": ["negotiation"], "amount": [1.005]})
    # KWD has three decimals: 1.005 * 0.9 = 0.9045 -> 0.905 (half up at three decimals).
    out = weighted_pipeline(deals, MODEL, decimals=3)
    assert out["expected_amount"].tolist() == [0.905]


# --- properties ---------------------------------------------------------------------------


@given(models_and_deals(close_dates=False))
def test_weighted_never_exceeds_unweighted(case: tuple[StageModel, pd.DataFrame]) -> None:
    model, deals = case
    out = weighted_pipeline(deals, model)
    assert (out["expected_amount"] <= out["amount"]).all()
    assert (out["expected_amount"] >= 0).all()
    by = pipeline_by_stage(deals, model)
    assert by["expected_amount"].sum() <= by["amount"].sum()
    assert by["count"].sum() == len(deals)


@given(models_and_deals(close_dates=False), st.integers(0, 2**16))
def test_totals_invariant_under_row_order(case: tuple[StageModel, pd.DataFrame], seed: int) -> None:
    model, deals = case
    a = pipeline_by_stage(deals, model)
    b = pipeline_by_stage(shuffled(deals, seed), model)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(
        weighted_pipeline(deals, model), weighted_pipeline(shuffled(deals, seed), model)
    )


@given(models_and_deals(close_dates=False))
def test_stage_totals_reconcile_with_deals_exactly(case: tuple[StageModel, pd.DataFrame]) -> None:
    model, deals = case
    per_deal = weighted_pipeline(deals, model)
    by = pipeline_by_stage(deals, model)
    assert cents(by["expected_amount"]).sum() == cents(per_deal["expected_amount"]).sum()
    assert cents(by["amount"]).sum() == cents(deals["amount"]).sum()
    # Per stage, the expected amount is within half a cent per deal of count * p * amount.
    for name, row in by.iterrows():
        raw = per_deal.loc[per_deal["stage"] == name, "amount"].sum() * row["win_probability"]
        assert abs(row["expected_amount"] - raw) <= 0.005 * row["count"] + 1e-6


def _reference_weighted(deals: pd.DataFrame, model: StageModel) -> pd.DataFrame:
    """weighted_pipeline written the obvious way: a merge with the stage table, a sort by id."""
    names = [*model.stages, model.won, model.lost]
    table = pd.DataFrame({"stage": names, "win_probability": [*model.win_probabilities, 1.0, 0.0]})
    merged = deals.astype({"stage": object}).merge(table.astype({"stage": object}), on="stage")
    merged = merged.sort_values("opportunity_id").set_index("opportunity_id")
    cents_ = to_minor_units(merged["amount"].to_numpy())
    expected = to_minor_units(cents_.astype(np.float64) * merged["win_probability"].to_numpy(), 0)
    return pd.DataFrame(
        {
            "stage": merged["stage"].tolist(),
            "amount": cents_ / 100,
            "win_probability": merged["win_probability"].to_numpy(),
            "expected_amount": expected / 100,
        },
        index=merged.index,
    )


@settings(max_examples=150)
@given(
    models_and_deals(close_dates=False, max_rows=60),
    st.booleans(),
    st.sampled_from(["str", "object", "category"]),
    st.sampled_from([1, 3, 1 << 16]),
)
def test_weighted_equals_a_pandas_merge_reference(
    case: tuple[StageModel, pd.DataFrame], in_id_order: bool, stage_dtype: str, chunk: int
) -> None:
    # Ids already ascending take the no-copy path, others are sorted; stage columns of every
    # kind, and the result's block filled a few rows at a time, give the reference exactly.
    model, deals = case
    deals = deals.astype({"stage": stage_dtype})
    if in_id_order:
        deals = deals.sort_values("opportunity_id", ignore_index=True)
    with mock.patch("crmcore.pipeline._output._CHUNK", chunk):
        out = call_unmutated(weighted_pipeline, deals, model)
    ref = _reference_weighted(deals, model)
    assert list(out.columns) == ["stage", "amount", "win_probability", "expected_amount"]
    assert out.index.equals(ref.index)
    assert out.index.name == "opportunity_id"
    assert [str(s) for s in out["stage"]] == [str(s) for s in ref["stage"]]
    for column in ("amount", "win_probability", "expected_amount"):
        assert out[column].to_numpy().tolist() == ref[column].to_numpy().tolist(), column


def test_weighted_keeps_optional_columns_in_front_of_the_amounts() -> None:
    deals = worked_deals().assign(currency=["EUR", "USD", "EUR"])
    out = weighted_pipeline(
        deals, MODEL, currency="currency", rates={"EUR": 1.0, "USD": 0.5},
        reporting_currency="EUR",
    )  # fmt: skip
    assert list(out.columns) == [
        "stage", "currency", "fx_rate", "reporting_currency", "amount", "win_probability",
        "expected_amount",
    ]  # fmt: skip
    assert out["amount"].tolist() == [500_000.0, 125_000.0, 200_000.0]
    assert out["fx_rate"].tolist() == [1.0, 0.5, 1.0]
    assert out["reporting_currency"].tolist() == ["EUR"] * 3
    assert out["expected_amount"].tolist() == [180_000.0, 90_000.0, 180_000.0]


# --- bad input ----------------------------------------------------------------------------


def _deals(**changes: Any) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3],
            "stage": ["prospect", "bid", "won"],
            "amount": [10.0, 20.0, 30.0],
            "currency": ["EUR", "USD", "EUR"],
        }
    )
    for col, values in changes.items():
        frame[col] = values
    return frame


BAD: list[tuple[str, Any, dict[str, Any], type[Exception], str]] = [
    ("not a frame", [1, 2], {}, InputTypeError, "opportunities must be a pandas DataFrame"),
    (
        "missing column",
        _deals().drop(columns="amount"),
        {},
        SchemaError,
        "missing column\\(s\\) 'amount'",
    ),
    ("empty", _deals().iloc[:0], {}, SchemaError, "opportunities is empty"),
    (
        "unknown stage",
        _deals(stage=["prospect", "closing", "won"]),
        {},
        DataError,
        (
            "unknown stage 'closing' at row 1 \\(opportunity_id=2\\); the model knows 'prospect', "
            "'bid', 'negotiation', 'won', 'lost'"
        ),
    ),
    (
        "missing stage",
        _deals(stage=["prospect", None, "won"]),
        {},
        DataError,
        "column 'stage' of opportunities has a missing value at row 1",
    ),
    ("duplicate id", _deals(opportunity_id=[1, 1, 3]), {}, DataError, "duplicate value 1"),
    ("missing id", _deals(opportunity_id=[1, None, 3]), {}, DataError, "missing value at row 1"),
    (
        "negative amount",
        _deals(amount=[10.0, -1.0, 3.0]),
        {},
        DataError,
        "negative value -1.0 at row 1 \\(opportunity_id=2\\)",
    ),
    ("NaN amount", _deals(amount=[10.0, np.nan, 3.0]), {}, DataError, "has NaN at row 1"),
    (
        "text amount",
        _deals(amount=["10", "x", "3"]),
        {},
        ColumnTypeError,
        "non-numeric value 'x' at row 1",
    ),
    (
        "rates without currency",
        _deals(),
        {"rates": {"EUR": 1.0}},
        ConfigError,
        "rates were given but no currency column",
    ),
    (
        "negative rate",
        _deals(),
        {"currency": "currency", "rates": {"EUR": 1.0, "USD": -0.9}},
        ConfigError,
        "rates\\['USD'\\] == -0.9, must be > 0",
    ),
    (
        "currency without rate",
        _deals(),
        {"currency": "currency", "rates": {"EUR": 1.0}},
        CurrencyError,
        "currency 'USD' at row 1 \\(opportunity_id=2\\) has no exchange rate; rates has 'EUR'",
    ),
    (
        "reporting rate not 1",
        _deals(),
        {
            "currency": "currency",
            "rates": {"EUR": 2.0, "USD": 1.0},
            "reporting_currency": "EUR",
        },
        ConfigError,
        "'EUR' is the reporting currency; its rate must be 1",
    ),
    (
        "rates not a mapping",
        _deals(),
        {"currency": "currency", "rates": [1.0]},
        ConfigError,
        "rates must be a mapping",
    ),
    (
        "missing currency value",
        _deals(currency=["EUR", None, "EUR"]),
        {"currency": "currency", "rates": {"EUR": 1.0}},
        DataError,
        "column 'currency' of opportunities has a missing value at row 1",
    ),
    ("bad decimals", _deals(), {"decimals": -1}, ConfigError, "decimals == -1, must be >= 0"),
    ("model not a StageModel", _deals(), {"model": {"a": 1}}, ConfigError, "must be a StageModel"),
]


@pytest.mark.parametrize("func", [weighted_pipeline, pipeline_by_stage])
@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "match"),
    [b[1:] for b in BAD],
    ids=[b[0] for b in BAD],
)
def test_bad_input(
    func: Any, frame: Any, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    kw = dict(kwargs)
    model = kw.pop("model", MODEL)
    with pytest.raises(error, match=match):
        func(frame, model, **kw)


def test_mixed_currencies_cannot_be_summed_without_rates() -> None:
    with pytest.raises(
        CurrencyError,
        match="mix currencies 'EUR' at row 0 \\(opportunity_id=1\\) and 'USD' at row 1 "
        "\\(opportunity_id=2\\), and no rates were given",
    ):
        pipeline_by_stage(_deals(), MODEL, currency="currency")


def test_single_currency_differing_from_reporting_currency_needs_rates() -> None:
    with pytest.raises(CurrencyError, match="in currency 'EUR' but reporting_currency is 'USD'"):
        pipeline_by_stage(
            _deals(currency="EUR"), MODEL, currency="currency", reporting_currency="USD"
        )


# --- issue 14: the row label, not a position; sums that cannot wrap ------------------------


@pytest.mark.parametrize("func", [weighted_pipeline, pipeline_by_stage])
def test_amount_too_large_for_cents_names_the_row_label(func: Any) -> None:
    deals = worked_deals().assign(amount=[1.0, 2.0, 1e15])
    deals.index = ["r10", "r20", "r30"]
    with pytest.raises(
        DataError, match=r"amount 1000000000000000.0 at row 'r30' \(opportunity_id=3\)"
    ) as err:
        func(deals, MODEL)
    assert err.value.row == "r30"
    assert "position" not in str(err.value)


def test_amount_too_large_after_conversion_names_the_row_label() -> None:
    deals = worked_deals().assign(amount=[1.0, 1e13, 2.0], currency=["EUR", "JPY", "EUR"])
    deals.index = ["r10", "r20", "r30"]
    with pytest.raises(DataError, match=r"converted into the reporting currency\) at row 'r20'"):
        weighted_pipeline(deals, MODEL, currency="currency", rates={"EUR": 1.0, "JPY": 1000.0})


def test_stage_totals_past_2_63_cents_raise_instead_of_wrapping() -> None:
    # 1 100 deals of 9e13 cents-worth each: 9.9e16 currency units = 9.9e18 cents > 2**63.
    n = 1_100
    deals = pd.DataFrame(
        {"opportunity_id": np.arange(n), "stage": ["won"] * n, "amount": [9.0e13 - 1] * n}
    )
    with pytest.raises(DataError, match=r"amounts of 'won' sum to \d+ minor units, which passes"):
        pipeline_by_stage(deals, MODEL)


def test_mixed_type_ids_sort_by_type_then_value() -> None:
    deals = pd.DataFrame({"opportunity_id": ["b", 2, "a", 1], "stage": ["won"] * 4,
                          "amount": [1.0, 2.0, 3.0, 4.0]})  # fmt: skip
    out = weighted_pipeline(deals, MODEL)
    assert list(out.index) == [1, 2, "a", "b"]
    pd.testing.assert_frame_equal(out, weighted_pipeline(shuffled(deals, 3), MODEL))
    same = deals.assign(opportunity_id=[1, "1", 2, 3])
    with pytest.raises(DataError, match=r"mixes id types: 1 at row 0 and '1' at row 1"):
        weighted_pipeline(same, MODEL)


def test_pyarrow_and_nullable_columns_behave_like_numpy() -> None:
    deals = worked_deals().assign(stage=["prospect", "won", "lost"])
    arrow = deals.astype(
        {
            "opportunity_id": "int64[pyarrow]",
            "stage": "string[pyarrow]",
            "amount": "double[pyarrow]",
        }
    )
    nullable = deals.astype({"opportunity_id": "Int64", "stage": "string", "amount": "Float64"})
    expected = weighted_pipeline(deals, MODEL)
    for other in (arrow, nullable):
        got = weighted_pipeline(other, MODEL)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_index_type=False)
        pd.testing.assert_frame_equal(
            pipeline_by_stage(other, MODEL), pipeline_by_stage(deals, MODEL)
        )
