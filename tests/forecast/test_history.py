"""Reading sales history: sums per period, zeros, incomplete periods, totals, bad input."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from crmcore.errors import ColumnTypeError, ConfigError, DataError, SchemaError
from crmcore.forecast import backtest, sales_forecast, seasonal_weights
from crmcore.forecast._history import read_history


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.to_datetime(
                ["2024-01-05", "2024-01-20", "2024-03-02", "2024-04-30 10:00"], format="ISO8601"
            ),
            "amount": [1.0, 2.0, 3.0, 4.0],
            "rep": ["a", "b", "a", "b"],
        },
        index=[10, 11, 12, 13],
    )


def test_transactions_are_summed_per_period_and_gaps_are_zero() -> None:
    hist = read_history(_tx(), date="date", amount="amount", period="M", by=())
    assert hist.grid.strftime("%Y-%m").tolist() == ["2024-01", "2024-02", "2024-03", "2024-04"]
    np.testing.assert_array_equal(hist.values, [[3.0, 0.0, 3.0, 4.0]])
    # 30 April is the last day of April: the period is complete and kept.
    assert hist.incomplete is None
    assert hist.excluded == 0


def test_grouped_series_start_at_their_own_first_sale_and_share_the_end() -> None:
    tx = _tx()
    tx.loc[10, "date"] = pd.Timestamp("2024-02-05")
    hist = read_history(tx, date="date", amount="amount", period="M", by=("rep",))
    assert hist.keys is not None
    assert hist.keys["rep"].tolist() == ["a", "b"]
    np.testing.assert_array_equal(hist.first, [1, 0])
    np.testing.assert_array_equal(hist.series(0), [1.0, 3.0, 0.0])
    np.testing.assert_array_equal(hist.series(1), [2.0, 0.0, 0.0, 4.0])
    assert hist.first_rows == [10, 11]


def test_incomplete_last_period_is_left_out_and_reported() -> None:
    tx = _tx()
    tx.loc[13, "date"] = pd.Timestamp("2024-04-29")
    result = sales_forecast(tx, horizon=1, method="drift", levels=[0.8])
    assert str(result.incomplete_period) == "2024-04"
    assert result.excluded == 1
    assert str(result.last_period) == "2024-03"
    assert result.models["periods"].tolist() == [3]
    # Asked for, the incomplete period stays.
    kept = sales_forecast(tx, horizon=1, method="drift", levels=[0.8], include_incomplete=True)
    assert kept.incomplete_period is None
    assert kept.excluded == 0
    assert str(kept.last_period) == "2024-04"


def test_as_of_after_the_data_adds_zero_periods_and_drops_its_own_partial_period() -> None:
    hist = read_history(_tx(), date="date", amount="amount", period="M", by=(), as_of="2024-06-15")
    np.testing.assert_array_equal(hist.values, [[3.0, 0.0, 3.0, 4.0, 0.0]])
    assert str(hist.incomplete) == "2024-06"
    whole = read_history(_tx(), date="date", amount="amount", period="M", by=(), as_of="2024-06-30")
    assert whole.values.shape == (1, 6)


def test_per_period_totals_are_taken_as_they_are() -> None:
    totals = pd.DataFrame(
        {"month": pd.period_range("2024-01", periods=3, freq="M"), "sales": [5.0, 0.0, 7.0]}
    )
    hist = read_history(totals, date="month", amount="sales", period="MS", by=())
    np.testing.assert_array_equal(hist.values, [[5.0, 0.0, 7.0]])
    assert hist.incomplete is None
    assert hist.periods().astype(str).tolist() == ["2024-01", "2024-02", "2024-03"]


def test_time_zones_bucket_on_the_local_wall_clock() -> None:
    tx = pd.DataFrame(
        {
            # 23:30 on 31 March in Paris is 21:30 UTC, still March on the wall clock.
            "date": pd.to_datetime(["2024-02-10 12:00", "2024-03-31 23:30"]).tz_localize(
                "Europe/Paris"
            ),
            "amount": [1.0, 2.0],
        }
    )
    hist = read_history(tx, date="date", amount="amount", period="M", by=())
    np.testing.assert_array_equal(hist.values, [[1.0, 2.0]])
    assert hist.incomplete is None


def test_refunds_allowed_net_the_period() -> None:
    tx = _tx()
    tx.loc[11, "amount"] = -2.0
    with pytest.raises(DataError, match=r"negative value -2\.0 at row 11.*refunds='allow'"):
        read_history(tx, date="date", amount="amount", period="M", by=())
    hist = read_history(tx, date="date", amount="amount", period="M", by=(), refunds="allow")
    np.testing.assert_array_equal(hist.values, [[-1.0, 0.0, 3.0, 4.0]])


PERIODS = pd.period_range("2024-01", periods=3, freq="M")

BAD = [
    pytest.param(
        pd.DataFrame({"date": ["2024-01-01"], "amount": ["ten"]}, index=["r1"]),
        {},
        ColumnTypeError,
        "column 'amount' of history has non-numeric value 'ten' at row 'r1'",
        id="non-numeric-sales",
    ),
    pytest.param(
        pd.DataFrame({"date": pd.to_datetime(["2024-01-01"]), "amount": [-5.0]}, index=[7]),
        {},
        DataError,
        "column 'amount' of history has negative value -5.0 at row 7",
        id="negative-sales",
    ),
    pytest.param(
        pd.DataFrame({"date": PERIODS[[0, 1, 1]], "amount": [1.0, 2, 3]}, index=[4, 5, 6]),
        {},
        DataError,
        "column 'date' of history has period 2024-02 twice for one series, again at row 6",
        id="duplicate-period",
    ),
    pytest.param(
        pd.DataFrame({"date": pd.to_datetime(["2024-01-01"]), "amount": [1.0]}),
        {"period": "fortnight"},
        ConfigError,
        "period='fortnight' is not a period",
        id="unknown-period",
    ),
    pytest.param(
        pd.DataFrame({"date": PERIODS, "amount": [1.0, 2, 3]}),
        {"period": "Q"},
        ConfigError,
        "column 'date' of history holds periods of type period[M] but period='Q'",
        id="period-column-of-another-frequency",
    ),
    pytest.param(
        pd.DataFrame({"date": pd.to_datetime(["2024-01-01", None]), "amount": [1.0, 2]}),
        {},
        DataError,
        "column 'date' of history has a missing date (NaT) at row 1",
        id="missing-date",
    ),
    pytest.param(
        pd.DataFrame({"date": ["2024-01-01", "soon"], "amount": [1.0, 2]}, index=["x", "y"]),
        {},
        ColumnTypeError,
        "column 'date' of history has value 'soon' at row 'y' that is not a date",
        id="text-date",
    ),
    pytest.param(
        pd.DataFrame({"date": pd.to_datetime(["2024-01-01"]), "amount": [np.nan]}),
        {},
        DataError,
        "column 'amount' of history has NaN at row 0",
        id="nan-sales",
    ),
    pytest.param(
        pd.DataFrame({"date": pd.to_datetime(["2024-01-01"])}),
        {},
        SchemaError,
        "history is missing column(s) 'amount'",
        id="missing-column",
    ),
    pytest.param(
        pd.DataFrame({"date": pd.to_datetime(["2024-01-01"]), "amount": [1.0]}),
        {"by": "territory"},
        SchemaError,
        "history is missing column(s) 'territory'",
        id="missing-by-column",
    ),
    pytest.param(
        pd.DataFrame(
            {"date": pd.to_datetime(["2024-01-01"] * 2), "amount": [1.0, 2], "t": ["a", None]}
        ),
        {"by": "t"},
        DataError,
        "column 't' of history has a missing value at row 1",
        id="missing-group-key",
    ),
    pytest.param(
        pd.DataFrame({"date": pd.to_datetime(["2024-01-01", "2024-05-01"]), "amount": [1.0, 2]}),
        {"as_of": "2024-03-31"},
        DataError,
        "column 'date' of history has date 2024-05-01 00:00:00 at row 1, after as_of",
        id="date-after-as-of",
    ),
    pytest.param(
        pd.DataFrame({"date": pd.to_datetime(["2024-01-01"]), "amount": [1.0]}),
        {"refunds": "maybe"},
        ConfigError,
        "refunds='maybe' is not one of 'error', 'allow'",
        id="unknown-refunds-option",
    ),
]


# seasonal_weights has no ``by``: the grouping cases apply to the other two.
CASES = [
    pytest.param(func, *case.values, id=f"{func.__name__}-{case.id}")
    for func in (sales_forecast, backtest, seasonal_weights)
    for case in BAD
    if not (func is seasonal_weights and "by" in case.values[1])
]


@pytest.mark.parametrize(("func", "frame", "kwargs", "error", "message"), CASES)
def test_bad_input_is_named(
    func: object, frame: pd.DataFrame, kwargs: dict[str, object], error: type, message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)) as info:
        func(frame, **kwargs)  # type: ignore[operator]
    assert isinstance(info.value, ValueError | TypeError)


def test_bad_input_error_carries_column_row_and_value() -> None:
    frame = pd.DataFrame({"date": PERIODS[[0, 1, 1]], "amount": [1.0, 2, 3]}, index=[4, 5, 6])
    with pytest.raises(DataError) as info:
        sales_forecast(frame)
    assert (info.value.column, info.value.row, str(info.value.value)) == ("date", 6, "2024-02")


def test_duplicate_periods_of_different_series_are_fine() -> None:
    frame = pd.DataFrame(
        {"date": PERIODS[[0, 1, 2, 0, 1, 2]], "amount": [1.0] * 6, "t": list("aaabbb")}
    )
    result = sales_forecast(frame, by="t", horizon=1, method="drift", levels=[0.8])
    assert result.forecast["t"].tolist() == ["a", "b"]


def test_too_short_history_names_the_series_and_what_is_needed() -> None:
    frame = pd.DataFrame(
        {
            "date": PERIODS[[0, 1, 2, 0, 1]],
            "amount": [1.0, 2, 3, 4, 5],
            "territory": ["North"] * 3 + ["South"] * 2,
        },
        index=list("abcde"),
    )
    message = (
        "the history of territory='South' (first row 'd') has 3 monthly period(s); "
        "method='seasonal_naive' (one season and one period) needs at least 13"
    )
    with pytest.raises(DataError, match=re.escape("the history of territory='North'")):
        sales_forecast(frame, by="territory", method="seasonal_naive")
    south = frame[frame["territory"] == "South"]
    with pytest.raises(DataError, match=re.escape(message.replace("3 monthly", "3 monthly"))):
        sales_forecast(south, by="territory", method="seasonal_naive", as_of="2024-03-31")
    with pytest.raises(DataError) as info:
        sales_forecast(frame.iloc[:1], method="auto")
    assert (
        "has 1 monthly period(s); method='auto' (its shortest fallback, drift) needs at least 3"
        in (str(info.value))
    )
    assert info.value.row == "a"


def test_bad_arguments() -> None:
    frame = pd.DataFrame({"date": PERIODS, "amount": [1.0, 2, 3]})
    with pytest.raises(ConfigError, match="horizon == 0, must be >= 1"):
        sales_forecast(frame, horizon=0)
    with pytest.raises(ConfigError, match="method='arima' is not one of 'auto', 'ets'"):
        sales_forecast(frame, method="arima")
    with pytest.raises(ConfigError, match=re.escape("levels == 1.5, must be < 1.0")):
        sales_forecast(frame, levels=[0.8, 1.5])
    with pytest.raises(ConfigError, match=r"levels=\[0.8, 0.8\] repeats a level"):
        sales_forecast(frame, levels=[0.8, 0.8])
    with pytest.raises(ConfigError, match="levels='80' must be a sequence"):
        sales_forecast(frame, levels="80")
    with pytest.raises(ConfigError, match=re.escape("by=[] must be a column name")):
        sales_forecast(frame, by=[])
    with pytest.raises(ConfigError, match="names column 'forecast', which is taken by the"):
        sales_forecast(frame.assign(forecast=1), by="forecast")
    with pytest.raises(ConfigError, match="names column 'date', which is taken by the"):
        backtest(frame, by="date")
    with pytest.raises(ConfigError, match="names column 't', which is given twice"):
        sales_forecast(frame.assign(t=1), by=["t", "t"])
    with pytest.raises(ConfigError, match="include_incomplete must be True or False"):
        sales_forecast(frame, include_incomplete="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="methods='auto' must be a non-empty list"):
        backtest(frame, methods="auto")
    with pytest.raises(ConfigError, match="period='W' is not one of 'M', 'Q'"):
        seasonal_weights(frame, period="W")


def test_a_period_whose_sales_add_up_past_the_largest_float_is_an_error() -> None:
    # January: 1.7e308 + 1.7e308 = 3.4e308: no float holds the month's sales; named at the
    # second January row (11); one sale of 1.7e308 a month is a float and is summed as it is
    tx = _tx().assign(amount=[1.7e308, 1.7e308, 1.0, 2.0])
    with pytest.raises(
        DataError,
        match=r"column 'amount' of history adds up past the largest "
        r"float \(about 1.8e308\) at row 11, value 1.7e\+308",
    ) as e:
        read_history(tx, date="date", amount="amount", period="M", by=())
    assert e.value.row == 11
    hist = read_history(tx.drop(index=11), date="date", amount="amount", period="M", by=())
    assert hist.values.tolist() == [[1.7e308, 0.0, 1.0, 2.0]]
