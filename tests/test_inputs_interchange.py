"""Tables from polars and pyarrow at crmcore's one input boundary (``_frames.require_frame``).

Every public function of the four areas is called with each pandas frame argument handed over
as a polars DataFrame, a polars LazyFrame and a pyarrow Table; the result must equal the result
on the pandas frame (the cases, and the inputs, are those of ``tests/test_contract.py``). A
hypothesis property does the same on generated data for representative functions of every
area (clv and forecast included), and errors name the type that was passed in full.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore import _frames as fr
from crmcore import clv, forecast, kpi, pipeline, quota, segmentation
from crmcore._interchange import arrow_to_pandas, to_pandas, type_name
from crmcore.errors import InputTypeError, MissingDependencyError

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

import test_contract  # noqa: E402  # the table of public functions and their inputs

KINDS = ("polars", "lazy", "arrow")


def convert(frame: pd.DataFrame, kind: str) -> Any:
    """``frame`` as another library's table (the index, a RangeIndex, is not carried)."""
    if kind == "arrow":
        return pa.Table.from_pandas(frame, preserve_index=False)
    out = pl.from_pandas(frame)
    return out.lazy() if kind == "lazy" else out


def _plain(frame: object) -> bool:
    """A frame whose meaning needs no index: other libraries' tables have none."""
    return isinstance(frame, pd.DataFrame) and isinstance(frame.index, pd.RangeIndex)


# --------------------------------------------------------------------------------------------
# the conversion


def test_polars_and_arrow_tables_become_pandas_with_the_same_columns() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["00001", "00002", "00003"],
            "n": np.array([1, 2, 3], dtype=np.int64),
            "amount": [1.5, 2.25, -3.0],
            "date": pd.to_datetime(["2024-01-02", "2024-02-03", "2024-03-04"]).as_unit("us"),
            "zoned": pd.to_datetime(["2024-01-02 10:00"] * 3).tz_localize("Europe/Paris"),
        }
    )
    for kind in KINDS:
        got = fr.require_frame(convert(frame, kind), arg="transactions")
        pd.testing.assert_frame_equal(got, frame, check_dtype=True)


def test_pandas_frames_pass_unchanged() -> None:
    frame = pd.DataFrame({"a": [1]}, index=["x"])
    assert fr.require_frame(frame, arg="t") is frame
    assert fr.require_columns(frame, ["a"], arg="t") is frame


def test_nulls_in_whole_numbers_stay_exact() -> None:
    big = 2**53 + 1
    table = pa.table(
        {
            "id": pa.array([big, None], pa.int64()),
            "flag": pa.array([True, None]),
            "day": pa.array([19_000, 19_001], pa.date32()),
        }
    )
    got = arrow_to_pandas(table)
    assert got["id"].dtype == "Int64"
    assert got["id"].iloc[0] == big  # a float64 column would hold 2**53
    assert got["id"].isna().tolist() == [False, True]
    assert got["flag"].dtype == "boolean"
    assert got["day"].tolist() == [pd.Timestamp("2022-01-08"), pd.Timestamp("2022-01-09")]


def test_record_batches_and_arrow_streams_are_tables() -> None:
    class Stream:
        """Any library's table exporting the Arrow PyCapsule stream (e.g. a DuckDB relation)."""

        def __init__(self, table: Any) -> None:
            self.table = table

        def __arrow_c_stream__(self, requested_schema: object = None) -> object:
            return self.table.__arrow_c_stream__(requested_schema)

    table = pa.table({"a": [1, 2], "b": ["x", "y"]})
    expected = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    pd.testing.assert_frame_equal(fr.require_frame(table.to_batches()[0], arg="t"), expected)
    pd.testing.assert_frame_equal(fr.require_frame(Stream(table), arg="t"), expected)
    # a stream of plain values is a column, not a table
    assert to_pandas(Stream(pa.chunked_array([[1, 2]]))) is None


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: pl.Series("amount", [1, 2]), "polars.Series"),
        (lambda: pl.DataFrame({"a": [1]}).lazy().collect()["a"], "polars.Series"),
        (lambda: pa.chunked_array([[1, 2]]), "pyarrow.ChunkedArray"),
        (lambda: pa.array([1, 2]), "pyarrow.Int64Array"),
        (lambda: pd.Series([1, 2]), "pandas.Series"),
        (lambda: np.zeros((2, 2)), "numpy.ndarray"),
        (lambda: {"a": [1]}, "dict"),
        (lambda: None, "NoneType"),
    ],
)
def test_errors_name_the_type_in_full(make: Callable[[], object], name: str) -> None:
    message = f"transactions must be a pandas DataFrame (or polars/pyarrow table), got {name}"
    with pytest.raises(InputTypeError) as info:
        segmentation.rfm_summary(make())  # type: ignore[arg-type]
    assert str(info.value) == message
    assert type_name(make()) == name


def test_a_missing_pyarrow_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    frame = pl.DataFrame({"a": [1]})
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(MissingDependencyError, match=r"pip install pyarrow \(from a crmcore"):
        fr.require_frame(frame, arg="t")


def test_crmcore_imports_without_polars_or_pyarrow() -> None:
    import subprocess
    import sys

    # Blocked the way an absent package fails (a finder raising ModuleNotFoundError), not with
    # sys.modules['pyarrow'] = None: pandas 3.0.0 to 3.0.2 take a None there for a loaded
    # pyarrow and fail on any text Index (fixed in 3.0.3), which no real installation does.
    code = (
        "import importlib.abc, sys\n"
        "class Absent(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in ('polars', 'pyarrow'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Absent())\n"
        "import pandas as pd, crmcore.segmentation as s, crmcore.pipeline, crmcore.quota, "
        "crmcore.kpi\n"
        "tx = pd.DataFrame({'customer_id': [1], 'date': ['2024-01-01'], 'amount': [2.0]})\n"
        "print(s.rfm_summary(tx)['monetary'].tolist())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[2.0]"


# --------------------------------------------------------------------------------------------
# every public frame function, on the contract audit's inputs


def _frame_keys(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[test_contract.Key]:
    return [
        k
        for k in test_contract._frames(args, kwargs)
        if _plain(test_contract._get(args, kwargs, k))
    ]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("func", "case"), test_contract._params("interchange"))
def test_every_public_function_takes_polars_and_arrow_tables(
    func: Callable[..., Any], case: test_contract.Case, kind: str
) -> None:
    args, kwargs = case.build()
    keys = _frame_keys(args, kwargs)
    if not keys:
        pytest.skip("its frames are crmcore results indexed by their key (no other library's)")
    expected = func(*args, **kwargs)
    new_args, new_kwargs = args, kwargs
    for key in keys:
        frame = convert(test_contract._get(args, kwargs, key), kind)
        new_args, new_kwargs = test_contract._replace(new_args, new_kwargs, key, frame)
    got = func(*new_args, **new_kwargs)
    assert_same_result(expected, got)


def assert_same_result(expected: Any, got: Any) -> None:
    """Results equal: frames exactly (dtypes too), result objects field by field."""
    if attrs.has(type(expected)):
        assert type(got) is type(expected)
        for field in attrs.fields(type(expected)):
            assert_same_result(getattr(expected, field.name), getattr(got, field.name))
    else:
        test_contract._assert_same(expected, got)


# --------------------------------------------------------------------------------------------
# the property: generated data, one representative function or two per area

_ids = st.lists(st.sampled_from(["00007", "A-1", "b", "42", "ü"]), min_size=1, max_size=25)


@st.composite
def transactions(draw: st.DrawFn) -> pd.DataFrame:
    customers = draw(_ids)
    n = len(customers)
    days = draw(st.lists(st.integers(0, 800), min_size=n, max_size=n))
    cents = draw(st.lists(st.integers(0, 10**7), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "customer_id": customers,
            "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D"),
            "amount": np.asarray(cents, dtype=np.float64) / 100,
        }
    )


STAGES = ["prospect", "bid", "negotiation"]
MODEL = pipeline.StageModel.from_conversion_rates(STAGES, [0.5, 0.8, 0.9], [60, 30, 30])


@st.composite
def opportunities(draw: st.DrawFn, *, won_only: bool = False) -> pd.DataFrame:
    n = draw(st.integers(1, 25))
    kinds = ["won"] if won_only else [*STAGES, "won", "lost"]
    stages = draw(st.lists(st.sampled_from(kinds), min_size=n, max_size=n))
    amounts = draw(st.lists(st.integers(0, 10**8), min_size=n, max_size=n))
    people = draw(st.lists(st.sampled_from(["ann", "bob", "cid"]), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(-200, 400), min_size=n, max_size=n))
    closed = pd.Timestamp("2025-01-01") + pd.to_timedelta(days, unit="D")
    return pd.DataFrame(
        {
            "opportunity_id": [f"D{i:05d}" for i in range(n)],
            "stage": stages,
            "status": ["won" if s == "won" else "lost" for s in stages],
            "amount": np.asarray(amounts, dtype=np.float64) / 100,
            "person": people,
            "closed_at": closed,
            "close_date": closed,
        }
    )


@st.composite
def people(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 8))
    weights = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n).filter(any))
    return pd.DataFrame(
        {"person": [f"p{i}" for i in range(n)], "weight": np.asarray(weights, dtype=float)}
    )


@st.composite
def team(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 8))
    amounts = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(1, 90), min_size=n, max_size=n))
    return pd.DataFrame({"person": [f"p{i}" for i in range(n)], "amount": amounts, "days": days})


CARD = kpi.Scorecard(
    metrics=[kpi.Metric(column="amount", weight=0.7), kpi.Metric(column="days", weight=0.3)]
)
PLAN = kpi.CommissionPlan(tiers=[(0, 0.04), (50_000, 0.06)])

PROPERTY_CASES: list[tuple[str, Any, Callable[[pd.DataFrame], Any]]] = [
    ("rfm_summary", transactions(), lambda f: segmentation.rfm_summary(f, period="M")),
    ("abc_xyz", transactions(), segmentation.abc_xyz),
    ("cohort_retention", transactions(), lambda f: clv.cohort_retention(f, period="Q")),
    (
        "calibration_holdout",
        transactions(),
        lambda f: clv.calibration_holdout(f, amount="amount", calibration_end="2024-01-31"),
    ),
    (
        "sales_forecast",
        transactions(),
        lambda f: forecast.sales_forecast(f, period="M", horizon=3, method="drift"),
    ),
    ("weighted_pipeline", opportunities(), lambda f: pipeline.weighted_pipeline(f, MODEL)),
    (
        "close_schedule",
        opportunities(),
        lambda f: pipeline.close_schedule(
            f, MODEL, as_of="2025-01-01", close_date="close_date", overdue="exclude"
        ),
    ),
    ("allocate", people(), lambda f: quota.allocate(f, 1_000_003, method="webster")),
    (
        "commission_statement",
        opportunities(won_only=True),
        lambda f: kpi.commission_statement(f, PLAN),
    ),
    ("score_scorecard", team(), lambda f: kpi.score_scorecard(f, CARD)),
]


def _outcome(func: Callable[[Any], Any], frame: Any) -> Any:
    """The result, or the error's type and message (bad generated input fails alike)."""
    try:
        return func(frame)
    except (ValueError, TypeError) as exc:
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize(
    ("strategy", "func"),
    [(s, f) for _, s, f in PROPERTY_CASES],
    ids=[n for n, _, _ in PROPERTY_CASES],
)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_same_result_from_pandas_polars_and_arrow(
    strategy: Any, func: Callable[[Any], Any], data: st.DataObject
) -> None:
    frame = data.draw(strategy)
    expected = _outcome(func, frame)
    for kind in KINDS:
        got = _outcome(func, convert(frame, kind))
        if isinstance(expected, tuple) and isinstance(expected[0], str):
            assert got == expected
        else:
            assert_same_result(expected, got)
