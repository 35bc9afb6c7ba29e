"""Shared input checks: every error names the column, the first offending row and the value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import _frames as fr
from crmcore.errors import (
    ColumnTypeError,
    ConfigError,
    DataError,
    InputTypeError,
    MissingDependencyError,
    SchemaError,
)


def tx(**cols: object) -> pd.DataFrame:
    base = {"customer_id": [1, 2, 3], "amount": [1.0, 2.0, 3.0]}
    base.update(cols)  # type: ignore[arg-type]
    return pd.DataFrame(base, index=[10, 11, 12])


@pytest.mark.parametrize(
    ("frame", "cols", "exc", "match"),
    [
        (
            [1, 2],
            ["a"],
            InputTypeError,
            r"transactions must be a pandas DataFrame \(or polars/pyarrow table\), got list",
        ),
        (
            tx(),
            ["date"],
            SchemaError,
            r"missing column\(s\) 'date'; it has 'customer_id', 'amount'",
        ),
        (tx().iloc[:0], ["amount"], SchemaError, "transactions is empty"),
        (
            pd.DataFrame([[1, 2]], columns=["a", "a"]),
            ["a"],
            SchemaError,
            "duplicated column name 'a'",
        ),
    ],
)
def test_require_columns_errors(frame: object, cols: list[str], exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        fr.require_columns(frame, cols, arg="transactions")  # type: ignore[arg-type]


def test_require_columns_allows_empty_when_asked() -> None:
    frame = tx().iloc[:0]
    assert fr.require_columns(frame, ["amount"], arg="t", allow_empty=True) is frame


@pytest.mark.parametrize(
    ("values", "kwargs", "exc", "match", "row"),
    [
        ([1.0, np.nan, 3.0], {}, DataError, r"has NaN at row 11 \(customer_id=2\)", 11),
        ([1.0, 2.0, np.inf], {}, DataError, r"infinite value inf at row 12 \(customer_id=3\)", 12),
        (
            [1.0, -2.0, 3.0],
            {"allow_negative": False, "negative_hint": "pass refunds='allow'"},
            DataError,
            (
                r"negative value -2.0 at row 11 \(customer_id=2\); expected amounts >= 0 "
                r"\(pass refunds='allow'\)"
            ),
            11,
        ),
        (["1", "x", "3"], {}, ColumnTypeError, r"non-numeric value 'x' at row 11", 11),
        ([True, False, True], {}, ColumnTypeError, "holds booleans", None),
        ([1, True, 3], {}, ColumnTypeError, r"non-numeric value True at row 11", 11),
    ],
)
def test_numeric_column_errors(
    values: list[object], kwargs: dict[str, object], exc: type, match: str, row: object
) -> None:
    frame = tx(
        amount=pd.Series(
            values,
            index=[10, 11, 12],
            dtype=object
            if any(isinstance(v, str | bool) for v in values)
            and not all(isinstance(v, bool) for v in values)
            else None,
        )
    )
    with pytest.raises(exc, match=match) as info:
        fr.numeric_column(frame, "amount", arg="transactions", key="customer_id", **kwargs)  # type: ignore[arg-type]
    assert info.value.column == "amount"
    assert info.value.row == row


def test_numeric_column_reads_numeric_text_and_nullable_ints() -> None:
    frame = tx(amount=pd.Series(["1.5", "2", "-3"], index=[10, 11, 12]))
    np.testing.assert_array_equal(
        fr.numeric_column(frame, "amount", arg="t"), np.array([1.5, 2.0, -3.0])
    )
    ints = tx(amount=pd.array([1, 2, 3], dtype="Int64"))
    assert fr.numeric_column(ints, "amount", arg="t").dtype == np.float64


def test_numeric_column_allow_nan() -> None:
    out = fr.numeric_column(tx(amount=[1.0, np.nan, 2.0]), "amount", arg="t", allow_nan=True)
    assert np.isnan(out[1])


@pytest.mark.parametrize(
    ("values", "exc", "match"),
    [
        (["2024-01-01", None, "2024-01-03"], DataError, r"missing date \(NaT\) at row 11"),
        (["2024-01-01", "not a date", "2024-01-03"], ColumnTypeError, r"'not a date' at row 11"),
        ([1, 2, 3], ColumnTypeError, r"has number 1 at row 10 \(customer_id=1\); expected dates"),
        (
            [
                pd.Timestamp("2024-01-01", tz="UTC"),
                pd.Timestamp("2024-01-02"),
                pd.Timestamp("2024-01-03", tz="UTC"),
            ],
            DataError,
            r"mixes naive and tz-aware dates: .* at row 11",
        ),
        (
            [
                pd.Timestamp("2024-01-01", tz="UTC"),
                pd.Timestamp("2024-01-02", tz="Europe/Paris"),
                pd.Timestamp("2024-01-03", tz="UTC"),
            ],
            DataError,
            r"mixes time zones: UTC at row 10 .* and Europe/Paris at row 11",
        ),
        (  # issue 14 catalogue: the odd zone first, both rows are named
            [
                pd.Timestamp("2024-01-01", tz="Asia/Tokyo"),
                pd.Timestamp("2024-01-02", tz="UTC"),
                pd.Timestamp("2024-01-03", tz="UTC"),
            ],
            DataError,
            r"mixes time zones: Asia/Tokyo at row 10 .* and UTC at row 11",
        ),
    ],
)
def test_datetime_column_errors(values: list[object], exc: type, match: str) -> None:
    frame = tx(date=pd.Series(values, index=[10, 11, 12], dtype=object))
    with pytest.raises(exc, match=match):
        fr.datetime_column(frame, "date", arg="transactions", key="customer_id")


def test_datetime_column_keeps_time_zone_and_does_not_mutate() -> None:
    dates = pd.date_range("2024-01-01", periods=3, tz="Europe/Paris")
    frame = tx(date=dates)
    out = fr.datetime_column(frame, "date", arg="t")
    assert str(out.dtype.tz) == "Europe/Paris"  # type: ignore[attr-defined]
    out.iloc[0] = pd.Timestamp("2000-01-01", tz="Europe/Paris")
    assert frame["date"].iloc[0] == dates[0]


def test_resolve_as_of() -> None:
    naive = pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"]))
    aware = naive.dt.tz_localize("UTC")
    assert fr.resolve_as_of(None, naive) == pd.Timestamp("2024-02-01")
    assert fr.resolve_as_of("2024-03-01T00:00+01:00", aware) == pd.Timestamp(
        "2024-02-29 23:00", tz="UTC"
    )
    with pytest.raises(ConfigError, match="mix naive and tz-aware"):
        fr.resolve_as_of("2024-03-01", aware)
    with pytest.raises(ConfigError, match="mix naive and tz-aware"):
        fr.resolve_as_of(pd.Timestamp("2024-03-01", tz="UTC"), naive)
    with pytest.raises(ConfigError, match="is not a date"):
        fr.resolve_as_of("soon", naive)


def test_require_unique_and_not_null() -> None:
    frame = pd.DataFrame({"id": [1, 2, 2], "x": [1, None, 3]}, index=["a", "b", "c"])
    with pytest.raises(DataError, match=r"duplicate value 2 at row 'c'") as info:
        fr.require_unique(frame, "id", arg="summary")
    assert (info.value.row, info.value.value) == ("c", 2)
    with pytest.raises(DataError, match=r"missing value at row 'b' \(id=2\)"):
        fr.require_not_null(frame, "x", arg="summary", key="id")


@pytest.mark.parametrize(
    ("value", "kwargs", "match"),
    [
        (True, {"kind": int}, "bins must be int, got bool True"),
        (2.5, {"kind": int}, "bins must be int, got float 2.5"),
        (float("nan"), {"kind": float}, "bins is NaN"),
        (1, {"kind": int, "min_value": 2}, "bins == 1, must be >= 2"),
        (0, {"kind": float, "min_value": 0, "include": "neither"}, "bins == 0, must be > 0"),
        (1.0, {"kind": float, "max_value": 1, "include": "left"}, r"bins == 1.0, must be < 1"),
    ],
)
def test_check_scalar_errors(value: object, kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        fr.check_scalar(value, "bins", **kwargs)  # type: ignore[arg-type]


def test_check_scalar_accepts_numpy_numbers() -> None:
    assert fr.check_scalar(np.int64(3), "n", kind=int, min_value=1) == 3
    assert fr.check_scalar(np.float32(0.5), "p", kind=float, max_value=1) == 0.5


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([1, np.nan], "NaN value nan at position 1"),
        ([1, -1], "negative value -1.0 at position 1"),
        ([np.inf], "infinite"),
        ([0, 0], "all zero"),
        ([], "empty"),
        ([[1, 2]], "one-dimensional"),
        (["a"], "non-numeric value 'a' at position 0"),
        (pd.Series([1.0, pd.NA], index=["x", "y"], dtype=object), "missing value at row 'y'"),
        (pd.Series([1.0, -2.0], index=["x", "y"]), "at label 'y'"),
    ],
)
def test_weights_array_errors(weights: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        fr.weights_array(weights)  # type: ignore[arg-type]


@given(st.lists(st.floats(0, 1e9), min_size=1).filter(lambda w: any(x > 0 for x in w)))
def test_weights_array_round_trip(weights: list[float]) -> None:
    np.testing.assert_array_equal(fr.weights_array(weights), np.asarray(weights))


def test_import_optional() -> None:
    with pytest.raises(
        MissingDependencyError,
        match=r"pip install surely_not_a_module_name \(from a crmcore source checkout: "
        r"pip install -e '\.\[plot\]'\)",
    ):
        fr.import_optional("surely_not_a_module_name", "plot")
    with pytest.raises(ImportError):
        fr.import_optional("surely_not_a_module_name", "plot")


def test_datetime_column_rejects_numeric_dtype() -> None:
    with pytest.raises(ColumnTypeError, match="holds int64 values; expected dates"):
        fr.datetime_column(tx(date=[1, 2, 3]), "date", arg="transactions")


def test_datetime_column_reads_pyarrow_timestamps() -> None:
    naive = pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"]))
    zoned = naive.dt.tz_localize("Europe/Paris")
    for series in (naive, zoned):
        frame = pd.DataFrame({"date": series.convert_dtypes(dtype_backend="pyarrow")})
        out = fr.datetime_column(frame, "date", arg="t")
        assert out.tolist() == series.tolist()
    gap = pd.DataFrame({"date": pd.Series([pd.Timestamp("2024-01-01"), None])})
    with pytest.raises(DataError, match=r"missing date \(NaT\) at row 1"):
        fr.datetime_column(gap.convert_dtypes(dtype_backend="pyarrow"), "date", arg="t")


@given(st.lists(st.integers(-5, 5), min_size=0, max_size=12))
def test_require_unique_fast_path_agrees_with_hash_check(values: list[int]) -> None:
    frame = pd.DataFrame({"id": values})
    has_dupes = len(set(values)) < len(values)
    if has_dupes:
        with pytest.raises(DataError, match="duplicate value"):
            fr.require_unique(frame, "id", arg="t")
    else:
        fr.require_unique(frame, "id", arg="t")
    fr.require_unique(pd.DataFrame({"id": sorted(set(values))}), "id", arg="t")


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (
            ["2024-01-05T09:00+01:00", "2024-07-05T09:00+02:00", "2024-08-01T00:00+02:00"],
            (
                r"column 'date' of transactions mixes UTC offsets: '2024-01-05T09:00\+01:00' at "
                r"row 10 \(customer_id=1\) and '2024-07-05T09:00\+02:00' at row 11 "
                r"\(customer_id=2\)"
            ),
        ),
        (
            ["2024-01-05", "2024-07-05T09:00+02:00", "2024-08-01"],
            (
                r"mixes naive and tz-aware dates: '2024-01-05' at row 10 \(customer_id=1\) has no "
                r"UTC offset while '2024-07-05T09:00\+02:00' at row 11 \(customer_id=2\) has one"
            ),
        ),
    ],
)
def test_datetime_column_names_mixed_utc_offsets(values: list[str], match: str) -> None:
    # pandas refuses such text with its own ValueError ("Mixed timezones detected"); the
    # check names the column and two example values instead
    with pytest.raises(DataError, match=match) as info:
        fr.datetime_column(tx(date=values), "date", arg="transactions", key="customer_id")
    assert info.value.column == "date"


def test_datetime_column_reads_one_offset_and_z_as_the_same_zone() -> None:
    out = fr.datetime_column(tx(date=["2024-01-05T09:00Z", "2024-01-05T10:00+00:00",
                                      "2024-01-05T11:00:00.5+0000"]), "date", arg="t")  # fmt: skip
    assert str(out.dt.tz) == "UTC"
    assert fr.utc_offsets(pd.Series(["2024-01-05T09:00+01", "x", None])).tolist()[0] == "+0100"


@given(
    values=st.lists(
        st.one_of(
            st.sampled_from([-1.7976931348623157e308, -1e308, 0.0, 1e308, 1.7e308]),
            st.floats(-1e300, 1e300),
        ),
        min_size=1,
        max_size=30,
    ),
    probs=st.lists(st.floats(0, 1), min_size=1, max_size=6),
)
def test_quantile_scale_keeps_quantiles_finite_ordered_and_unchanged(
    values: list[float], probs: list[float]
) -> None:
    v = np.asarray(values)
    scale = fr.quantile_scale(v.min(), v.max())
    q = np.sort(np.asarray(probs))
    got = np.quantile(v * scale, q) / scale
    assert np.isfinite(got).all()
    assert (got >= v.min()).all()
    assert (got <= v.max()).all()
    assert (got[1:] >= got[:-1]).all()
    if np.isfinite(float(v.max()) - float(v.min())):
        assert scale == 1.0  # nothing changes when numpy's own interpolation cannot overflow
    else:
        assert scale == 0.5


# -- checked float totals and shares near the largest float (catalogue: whole columns) ----------

BIG = 1.7e308  # any two of these add up past the largest float (about 1.797e308)


def _totals(values: list[float], groups: list[int] | None = None, n: int = 1) -> np.ndarray:
    """The fast totals a caller computes (overflow to inf allowed), then checked."""
    frame = pd.DataFrame({"amount": values}, index=[f"r{i}" for i in range(len(values))])
    v = frame["amount"].to_numpy()
    codes = np.zeros(len(v), dtype=np.int64) if groups is None else np.asarray(groups)
    with np.errstate(over="ignore", invalid="ignore"):
        fast = np.bincount(codes, weights=v, minlength=n)
    return fr.checked_totals(fast, v, None if groups is None else codes, frame, "amount", arg="x")


def test_checked_totals_return_finite_totals_as_they_are():
    fast = np.array([0.1 + 0.2, 7.0])
    out = fr.checked_totals(
        fast, [0.1, 0.2, 7.0], [0, 0, 1], pd.DataFrame({"a": [1, 2, 3]}), "a", arg="x"
    )
    assert out.tolist() == fast.tolist()  # bit for bit: the usual path changes nothing


def test_checked_totals_of_both_signs_are_the_true_total():
    # 1.7e308 - 1.7e308 + 5 = 5; a fast total that overflowed (inf, or NaN from inf - inf, as
    # pairwise summation gives for 16 alternating values) is summed again in row order
    assert _totals([BIG, -BIG, 5.0]).tolist() == [5.0]
    frame = pd.DataFrame({"amount": [BIG, BIG, -BIG, -BIG, 5.0]})
    for fast in (np.inf, np.nan):  # 1.7 + 1.7 overflows in row order; /8 it does not: 5
        got = fr.checked_totals([fast], frame["amount"].to_numpy(), None, frame, "amount", arg="x")
        assert got.tolist() == [5.0]


def test_checked_totals_name_the_row_where_the_running_total_overflows():
    # group 0: 1 + 1.7e308 is fine, + 1.7e308 (row r2) passes the largest float
    with pytest.raises(
        DataError,
        match=r"column 'amount' of x adds up past the largest float "
        r"\(about 1.8e308\) at row 'r2', value 1.7e\+308; expected totals",
    ) as e:
        _totals([1.0, BIG, BIG])
    assert (e.value.column, e.value.row, e.value.value) == ("amount", "r2", BIG)
    # per group: group 1 holds r1 and r3; r3 is where its total overflows (group 0 is fine)
    with pytest.raises(DataError, match="at row 'r3'"):
        _totals([BIG, BIG, 2.0, BIG], groups=[0, 1, 0, 1], n=2)


def test_checked_totals_with_a_limit_and_lazy_groups():
    frame = pd.DataFrame({"amount": [6.0, 5.0, -3.0]}, index=["a", "b", "c"])
    v = frame["amount"].to_numpy()
    # 6 + 5 = 11 passes a limit of 10 at row 'b', though the total 8 is within it
    assert fr.checked_totals([8.0], v, None, frame, "amount", arg="x", limit=10).tolist() == [8.0]
    with pytest.raises(DataError, match=r"adds up past 10 at row 'b', value 5.0; expected it"):
        fr.checked_totals(
            [11.0], v, lambda: [0, 0, -1], frame, "amount", arg="x", limit=10, expected="it"
        )


@given(
    st.lists(
        st.floats(min_value=-BIG, max_value=BIG, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=40,
    )
)
def test_checked_totals_are_the_exact_sum_or_an_error_past_the_largest_float(values):
    from fractions import Fraction

    exact = sum((Fraction(x) for x in values), Fraction(0))
    # rounding of n additions: at most n ulps of the largest partial sum, itself <= sum |x|
    slack = len(values) * Fraction(2.0**-52) * sum((abs(Fraction(x)) for x in values), Fraction(0))
    try:
        total = float(_totals(values)[0])
    except DataError:
        assert abs(exact) > Fraction(fr.LARGEST_FLOAT) - slack
    else:
        assert np.isfinite(total)
        assert abs(Fraction(total) - exact) <= slack


def test_shares_near_the_largest_float():
    # 1.7e308 + 1.7e308 overflows; the shares are 1/2 each all the same
    assert fr.shares([BIG, BIG]).tolist() == [0.5, 0.5]
    np.testing.assert_allclose(fr.shares([BIG, BIG, 0.0, BIG / 2]), [0.4, 0.4, 0.0, 0.2])
    assert np.isnan(fr.shares([0.0, 0.0])).all()
    assert np.isnan(fr.shares([-1.0, 0.5], positive=True)).all()


@given(
    st.lists(st.just(0.0) | st.floats(min_value=1e-100, max_value=BIG), min_size=1, max_size=30),
    st.integers(min_value=1, max_value=600),
)
def test_shares_do_not_depend_on_the_scale(values, k):
    v = np.array(values)
    if not (v > 0).any():
        return  # all zero: NaN shares, as in any scale
    got, smaller = fr.shares(v), fr.shares(v * 2.0**-k)  # 2**-k: exact, no subnormal values
    assert np.isfinite(got).all()
    assert (got >= 0).all()
    assert abs(got.sum() - 1.0) < 1e-12
    np.testing.assert_allclose(got, smaller, rtol=1e-12, atol=1e-300)
