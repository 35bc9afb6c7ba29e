"""Dask paths: every result, computed, equals the pandas result on the same data.

Collections are cut into uneven partitions (some empty, customers spread over several), and
compared with ``pd.testing.assert_frame_equal(..., check_exact=True)`` against the pandas
function called on ``ddf.compute()`` (Dask turns ``str`` columns into ``string[pyarrow]``, so
"the same data" is the computed collection).
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
import dask  # noqa: E402  (after the importorskip guard)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from crmcore import _dask  # noqa: E402
from crmcore.datasets import transactions  # noqa: E402
from crmcore.errors import (  # noqa: E402
    ColumnTypeError,
    ConfigError,
    DataError,
    MissingDependencyError,
    SchemaError,
)
from crmcore.pipeline import StageModel, weighted_pipeline  # noqa: E402
from crmcore.segmentation import (  # noqa: E402
    RF_GRID_10,
    GradeRules,
    btyd_summary,
    customer_grades,
    cut_at_as_of,
    fit_rfm_bins,
    rfm_scores,
    rfm_segments,
    rfm_summary,
    score_rfm,
)
from crmcore.segmentation import _dask as seg_dask  # noqa: E402
from strategies import transaction_frames  # noqa: E402

FEW = settings(max_examples=10, deadline=None)


@pytest.fixture(autouse=True)
def _synchronous() -> Iterator[None]:
    with dask.config.set(scheduler="synchronous"):
        yield


def split(frame: pd.DataFrame, cuts: list[int]) -> Any:
    """A Dask frame whose partitions are ``frame`` cut at ``cuts`` (rows in order, may be empty)."""
    bounds = [0, *sorted(min(max(c, 0), len(frame)) for c in cuts), len(frame)]
    pieces = [frame.iloc[a:b] for a, b in itertools.pairwise(bounds)]
    return dd.concat([dd.from_pandas(p, npartitions=1, sort=False) for p in pieces])


def partitionings(frame: pd.DataFrame) -> list[Any]:
    """Several uneven partitionings of a shuffled copy of ``frame``."""
    mixed = frame.sample(frac=1, random_state=0)
    n = len(mixed)
    return [
        dd.from_pandas(mixed, npartitions=7, sort=False),
        split(mixed, [1, 2, n // 3, n // 3, n - 5]),  # sizes 1, 1, ..., 0 (empty), ..., 5
        split(frame, [n // 2]),  # in date order, two halves
    ]


#: Money columns of the summaries: summed per partition, then the partial sums added, so they
#: equal the pandas sums up to the order of float additions (a few ulps).
MONEY = ("monetary", "monetary_value")


def same(result: Any, expected: pd.DataFrame) -> None:
    assert isinstance(result, dd.DataFrame)
    got = result.compute()
    money = [c for c in MONEY if c in expected.columns]
    pd.testing.assert_frame_equal(got.drop(columns=money), expected.drop(columns=money),
                                  check_exact=True)  # fmt: skip
    for column in money:  # same dtype and index, values within float summation order
        pd.testing.assert_series_equal(got[column], expected[column], check_exact=False,
                                       rtol=1e-12, atol=1e-9)  # fmt: skip
    # The declared metadata matches what the partitions really return.
    pd.testing.assert_frame_equal(result._meta, expected.iloc[:0], check_exact=True)


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    frame = transactions(150, seed=3)
    # a refund and a late timestamp on a busy day: float sums must add in the same order
    frame.loc[frame.index[5], "amount"] = -12.34
    return frame


# --------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"refunds": "allow"},
        {"refunds": "allow", "period": "W"},
        {"refunds": "allow", "period": "M", "as_of": "2025-03-01"},
    ],
)
def test_rfm_summary_equals_pandas(tx: pd.DataFrame, options: dict[str, Any]) -> None:
    for ddf in partitionings(tx):
        same(rfm_summary(ddf, **options), rfm_summary(ddf.compute(), **options))


@pytest.mark.parametrize(
    "options",
    [
        {"amount": "amount", "refunds": "allow"},
        {},
        {"amount": "amount", "refunds": "allow", "include_first_transaction": True},
        {"period": "D", "freq_multiplier": 7, "as_of": "2025-01-31"},
    ],
)  # fmt: skip
def test_btyd_summary_equals_pandas(tx: pd.DataFrame, options: dict[str, Any]) -> None:
    for ddf in partitionings(tx):
        same(btyd_summary(ddf, **options), btyd_summary(ddf.compute(), **options))


def test_summaries_with_text_ids_and_zoned_dates(tx: pd.DataFrame) -> None:
    frame = tx.assign(
        customer_id="c" + tx["customer_id"].astype(str),
        date=tx["date"].dt.tz_localize("Europe/Paris"),
    )
    for ddf in partitionings(frame)[1:2]:
        base = ddf.compute()
        same(rfm_summary(ddf, refunds="allow"), rfm_summary(base, refunds="allow"))
        same(btyd_summary(ddf, period="W"), btyd_summary(base, period="W"))


@FEW
@given(frame=transaction_frames(max_rows=40), cuts=st.lists(st.integers(0, 40), max_size=5))
def test_summaries_equal_pandas_on_any_partitioning(frame: pd.DataFrame, cuts: list[int]) -> None:
    ddf = split(frame, cuts)
    base = ddf.compute()
    same(rfm_summary(ddf, period="W"), rfm_summary(base, period="W"))
    same(btyd_summary(ddf, amount="amount"), btyd_summary(base, amount="amount"))


SUMMARY_OPTIONS = st.sampled_from(
    [
        (rfm_summary, {"period": "D", "refunds": "allow"}),
        (rfm_summary, {"period": "M"}),
        (btyd_summary, {"amount": "amount"}),
        (btyd_summary, {"amount": "amount", "period": "W", "include_first_transaction": True}),
        (btyd_summary, {"period": "Q", "freq_multiplier": 3}),
    ]
)


@settings(max_examples=40, deadline=None)
@given(
    frame=transaction_frames(max_rows=60, max_days=120),
    cuts=st.lists(st.integers(0, 60), max_size=6),
    in_date_order=st.booleans(),
    summary=SUMMARY_OPTIONS,
)
def test_summaries_equal_pandas_in_date_order_and_in_any_order(
    frame: pd.DataFrame, cuts: list[int], in_date_order: bool, summary: Any
) -> None:
    # Date order: partitions touch only at their first and last periods (the fast path: only
    # those rows travel as rows). Any order: partitions overlap in time, and every row of a
    # period two partitions hold travels to the combine, so each period is counted once.
    summarise, options = summary
    rows = frame.sort_values("date", kind="stable") if in_date_order else frame
    ddf = split(rows, cuts)
    same(summarise(ddf, **options), summarise(ddf.compute(), **options))


@pytest.mark.parametrize(
    "ids",
    [
        np.array([5, 10**12, 7, 5, 10**12, 3], dtype=np.int64),  # sparse: sorted, not a table
        np.array([2**64 - 1, 0, 2**63, 0, 2**64 - 1, 9], dtype=np.uint64),
        np.array([-100, 100, 0, -100, 100, 1], dtype=np.int8),
    ],
)  # fmt: skip
def test_integer_ids_of_any_width_and_spread(ids: Any) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "date": pd.to_datetime(
                ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05", "2024-01-05"]
            ),
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    for cuts in ([2], [1, 3, 5], [3]):
        ddf = split(frame, cuts)
        same(rfm_summary(ddf), rfm_summary(frame))
        same(btyd_summary(ddf, amount="amount"), btyd_summary(frame, amount="amount"))


def test_money_past_the_largest_float_over_partitions_is_named() -> None:
    # each partition's sum is finite; the customer's total is not
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2, 1],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "amount": [1.5e308, 1.0, 1.5e308],
        }
    )
    with pytest.raises(DataError, match="customer 1 add up past the largest float"):
        rfm_summary(frame)
    with pytest.raises(DataError, match="customer 1 add up past the largest float"):
        rfm_summary(split(frame, [2])).compute()


def test_a_partition_within_one_period_is_counted_once() -> None:
    # three partitions in date order, the middle one inside March: March is shared by all
    # three, and customer 1 bought in it in each of them
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2, 1, 1, 2, 1, 1],
            "date": pd.to_datetime(
                [
                    "2024-02-10",
                    "2024-03-01",
                    "2024-03-02",
                    "2024-03-15",
                    "2024-03-20",
                    "2024-03-31",
                    "2024-05-01",
                ]
            ),
            "amount": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
        }
    )
    ddf = split(frame, [3, 5])
    got = btyd_summary(ddf, amount="amount", period="M").compute()
    # customer 1: February, March (3 rows in 3 partitions), May -> 2 repeat periods
    assert got.loc[1, "frequency"] == 2.0
    assert got.loc[1, "monetary_value"] == (4.0 + 8.0 + 32.0 + 64.0) / 2
    same(btyd_summary(ddf, amount="amount", period="M"),
         btyd_summary(frame, amount="amount", period="M"))  # fmt: skip


@given(
    ranges=st.lists(
        st.tuples(st.integers(-5, 30), st.integers(0, 8)).map(lambda t: (t[0], t[0] + t[1])),
        max_size=8,
    )
)
def test_multiply_covered_periods_by_brute_force(ranges: list[tuple[int, int]]) -> None:
    got = seg_dask._multiply_covered(ranges)
    covered = {p for p in range(-5, 40) if sum(lo <= p <= hi for lo, hi in ranges) >= 2}
    assert {p for a, b in got for p in range(a, b + 1)} == covered
    for (_, b), (a, _) in itertools.pairwise(got):  # sorted, disjoint, not touching
        assert b + 1 < a


def test_multiply_covered_periods_of_date_ordered_partitions() -> None:
    # touching at their ends: only the touching periods are shared
    assert seg_dask._multiply_covered([(0, 10), (10, 20), (20, 20), (20, 25), (30, 31)]) == [
        (10, 10),
        (20, 20),
    ]


@given(mask=st.lists(st.booleans(), max_size=30))
def test_rows_apart_equal_boolean_selection(mask: list[bool]) -> None:
    part = pd.DataFrame({"x": np.arange(len(mask))}, index=[f"r{i}" for i in range(len(mask))])
    keep, moved = seg_dask._apart(part, np.array(mask, dtype=bool))
    flags = np.array(mask, dtype=bool)
    pd.testing.assert_frame_equal(keep, part[~flags])
    pd.testing.assert_frame_equal(moved, part[flags])


def test_summary_partitions_are_id_ranges_in_order(tx: pd.DataFrame) -> None:
    ddf = partitionings(tx)[0]
    result = rfm_summary(ddf, refunds="allow")
    # one output partition per input partition, each an id range, in id order (the divisions
    # are not known before the ids are read: the graph stays lazy)
    assert result.npartitions == ddf.npartitions
    assert not result.known_divisions
    parts = [p for p in dask.compute(*result.to_delayed()) if len(p)]
    assert len(parts) > 1
    for part in parts:
        assert part.index.is_monotonic_increasing
    for before, after in itertools.pairwise(parts):
        assert before.index[-1] < after.index[0]
    got = result.compute()
    assert got.index.is_monotonic_increasing
    assert got.index.is_unique


@pytest.mark.parametrize(
    ("summarise", "options"),
    [
        (rfm_summary, {"refunds": "allow", "as_of": "2024-06-30"}),
        (btyd_summary, {"amount": "amount", "refunds": "allow", "period": "Q",
                        "as_of": "2024-09-30"}),
        (btyd_summary, {"period": "W", "as_of": "2024-02-01"}),
    ],
)  # fmt: skip
def test_deprecated_exclude_equals_the_explicit_cut(
    tx: pd.DataFrame, summarise: Any, options: dict[str, Any]
) -> None:
    # after_as_of="exclude" still works for one release: warned once, at the call, and the
    # result is the summary of the rows cut_at_as_of keeps.
    for ddf in partitionings(tx):
        base = ddf.compute()
        cut = cut_at_as_of(base, as_of=options["as_of"], period=options.get("period", "D"))
        assert cut.n_excluded > 0
        with pytest.warns(DeprecationWarning, match="cut_at_as_of") as caught:
            lazy = summarise(ddf, after_as_of="exclude", **options)
        assert len(caught) == 1
        same(lazy, summarise(cut.kept, **options))


def test_results_carry_no_attrs(tx: pd.DataFrame) -> None:
    ddf = partitionings(tx)[0]
    assert rfm_summary(ddf, refunds="allow").compute().attrs == {}
    assert rfm_summary(ddf.compute(), refunds="allow").attrs == {}


# --------------------------------------------------------------------------------------------
# Bins, scores, segments
# --------------------------------------------------------------------------------------------


@FEW
@given(
    values=st.lists(
        st.one_of(st.integers(0, 5).map(float), st.floats(-1e6, 1e6, allow_nan=False)),
        min_size=1,
        max_size=60,
    ),
    probs=st.lists(st.floats(0, 1), min_size=1, max_size=8),
)
def test_quantiles_from_counts_equal_numpy(values: list[float], probs: list[float]) -> None:
    arr = np.asarray(values)
    table = pd.Series(arr).value_counts().sort_index()
    got = _dask.quantiles_from_counts(table, probs)
    np.testing.assert_array_equal(got, np.quantile(arr, probs))


@FEW
@given(
    values=st.lists(
        st.one_of(st.sampled_from([-1.7e308, -1e308, 0.0, 1e308, 1.7e308]), st.floats(-1e6, 1e6)),
        min_size=1,
        max_size=40,
    ),
    probs=st.lists(st.floats(0, 1), min_size=1, max_size=8),
)
def test_quantiles_from_counts_near_the_largest_float(
    values: list[float], probs: list[float]
) -> None:
    # Neighbours of both signs near 1.8e308 overflow b - a in numpy's interpolation; both paths
    # then interpolate halves (quantile_scale), so they agree and stay finite and ordered.
    arr = np.asarray(values)
    table = pd.Series(arr).value_counts().sort_index()
    got = _dask.quantiles_from_counts(table, probs)
    scale = 1.0 if np.isfinite(float(arr.max()) - float(arr.min())) else 0.5
    np.testing.assert_array_equal(got, np.quantile(arr * scale, probs) / scale)
    assert np.isfinite(got).all()
    assert (got >= arr.min()).all()
    assert (got <= arr.max()).all()


def test_fit_rfm_bins_and_grades_near_the_largest_float_equal_pandas() -> None:
    # Before, the Dask path interpolated -1e308 .. 1e308 unscaled: an edge of -inf and a
    # ConfigError, where pandas fitted finite edges. Sorted monetary -1.5e308, -1e308, 1e308,
    # 1.7e308; the median lies halfway between -1e308 and 1e308: 0.
    frame = pd.DataFrame(
        {
            "recency": [1.0, 2.0, 3.0, 4.0],
            "frequency": [1.0, 2.0, 3.0, 4.0],
            "monetary": [-1e308, -1.5e308, 1e308, 1.7e308],
            "potential": [-1e308, -1.5e308, 1e308, 1.7e308],
        },
        index=pd.Index([1, 2, 3, 4], name="customer_id"),
    )
    ddf = dd.from_pandas(frame, npartitions=2)
    expected = fit_rfm_bins(frame, 2)
    assert expected.monetary == (0.0,)
    assert fit_rfm_bins(ddf, 2) == expected
    rules = GradeRules(potential_method="quantile", potential_cutoff=0.5)
    # zero value is never high, so the grade is B exactly when the potential is above 0
    grades = customer_grades(frame.assign(monetary=0.0), rules)
    assert grades["grade"].tolist() == ["C", "C", "B", "B"]
    same(customer_grades(ddf.assign(monetary=0.0), rules), grades)


@pytest.mark.parametrize("bins", [2, 5, 9])
def test_fit_rfm_bins_equals_pandas(tx: pd.DataFrame, bins: int) -> None:
    summary = rfm_summary(partitionings(tx)[1], refunds="allow")
    pandas_summary = summary.compute()
    expected = fit_rfm_bins(pandas_summary, bins)
    assert fit_rfm_bins(summary, bins) == expected
    # also from a plain collection with unknown divisions, ids spread over partitions
    mixed = pandas_summary.sample(frac=1, random_state=1)
    plain = dd.from_pandas(mixed, npartitions=4, sort=False)
    assert fit_rfm_bins(plain, bins) == expected


def test_fit_rfm_bins_with_customer_column(tx: pd.DataFrame) -> None:
    summary = rfm_summary(tx, refunds="allow").reset_index()
    ddf = split(summary.sample(frac=1, random_state=2), [3, 40, 40, 90])
    assert fit_rfm_bins(ddf, 4, customer="customer_id") == fit_rfm_bins(
        summary, 4, customer="customer_id"
    )


def test_scores_and_segments_equal_pandas(tx: pd.DataFrame) -> None:
    for ddf in partitionings(tx)[:2]:
        summary = rfm_summary(ddf, refunds="allow")
        bins = fit_rfm_bins(summary)
        pandas_summary = summary.compute()
        expected = score_rfm(pandas_summary, bins)
        scores = score_rfm(summary, bins)
        same(scores, expected)
        same(rfm_segments(scores), rfm_segments(expected))
        same(rfm_segments(scores, RF_GRID_10), rfm_segments(expected, RF_GRID_10))


def test_rfm_scores_one_step_equals_pandas(tx: pd.DataFrame) -> None:
    summary = rfm_summary(split(tx, [5, 200, 900]), refunds="allow")
    expected = rfm_scores(summary.compute(), 4)
    result = rfm_scores(summary, 4)
    assert type(result).__module__.startswith("dask")
    computed = result.compute()
    assert computed.attrs == {}
    assert expected.attrs == {}
    pd.testing.assert_frame_equal(computed, expected, check_exact=True)


def test_score_rfm_with_customer_column_shuffles_by_it(tx: pd.DataFrame) -> None:
    summary = rfm_summary(tx, refunds="allow")
    bins = fit_rfm_bins(summary, 4)
    flat = summary.reset_index().sample(frac=1, random_state=4)
    ddf = split(flat, [10, 11, 60, 60])
    same(
        score_rfm(ddf, bins, customer="customer_id"), score_rfm(flat, bins, customer="customer_id")
    )


def test_score_rfm_sorts_within_partitions_only(tx: pd.DataFrame) -> None:
    # Documented: a summary indexed by customer is scored row-wise; partitions not in customer
    # order give rows sorted per partition. After set_index it equals the pandas result.
    summary = rfm_summary(tx, refunds="allow")
    bins = fit_rfm_bins(summary, 3)
    mixed = dd.from_pandas(summary.sample(frac=1, random_state=5), npartitions=3, sort=False)
    got = score_rfm(mixed, bins).compute()
    pd.testing.assert_frame_equal(got.sort_index(), score_rfm(summary, bins), check_exact=True)
    ordered = dd.from_pandas(summary.sample(frac=1, random_state=5), npartitions=3)  # sorts
    same(score_rfm(ordered, bins), score_rfm(summary, bins))


# --------------------------------------------------------------------------------------------
# Grades
# --------------------------------------------------------------------------------------------

GRADE_RULES = [
    GradeRules(),
    GradeRules(value_cutoff=0.5),
    GradeRules(value_method="quantile", value_cutoff=0.6, potential_cutoff=0.5),
    GradeRules(value_method="threshold", value_cutoff=300.0, potential_method="threshold",
               potential_cutoff=2.0),
    GradeRules(missing="low"),
]  # fmt: skip


@pytest.mark.parametrize("rules", GRADE_RULES)
def test_customer_grades_equals_pandas(tx: pd.DataFrame, rules: GradeRules) -> None:
    summary = rfm_summary(tx, refunds="allow")
    frame = summary.assign(
        monetary=summary["monetary"].clip(lower=0), potential=summary["frequency"] * 1.5
    )
    if rules.missing == "low":
        frame.loc[frame.index[::7], "potential"] = np.nan
        frame.loc[frame.index[::11], "monetary"] = np.nan
    for ddf in partitionings(frame):
        same(customer_grades(ddf, rules), customer_grades(ddf.compute(), rules))


@FEW
@given(
    values=st.lists(st.sampled_from([0.0, 1.0, 2.5, 10.0, 10.0, 400.0]), min_size=1, max_size=30),
    cutoff=st.sampled_from([0.2, 0.5, 0.8, 0.95, 1.0]),
    cuts=st.lists(st.integers(0, 30), max_size=4),
)
def test_abc_grades_equal_pandas_with_ties_and_zeros(
    values: list[float], cutoff: float, cuts: list[int]
) -> None:
    frame = pd.DataFrame(
        {"monetary": values, "potential": np.arange(len(values)) % 3 * 1.0},
        index=pd.Index(np.arange(len(values)) * 10, name="customer_id"),
    )
    rules = GradeRules(value_cutoff=cutoff)
    ddf = split(frame, cuts)
    same(customer_grades(ddf, rules), customer_grades(frame, rules))


# --------------------------------------------------------------------------------------------
# Weighted pipeline
# --------------------------------------------------------------------------------------------

MODEL = StageModel.from_conversion_rates(
    ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [60, 30, 30]
)


@pytest.fixture(scope="module")
def deals() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 120
    stages = np.array(["prospect", "bid", "negotiation", "won", "lost"])
    return pd.DataFrame(
        {
            "opportunity_id": rng.permutation(n) + 1000,
            "stage": stages[rng.integers(0, 5, n)],
            "amount": rng.integers(0, 10_000_00, n) / 100.0,
            "currency": np.array(["EUR", "USD"])[rng.integers(0, 2, n)],
        }
    )


@pytest.mark.parametrize(
    "options",
    [{}, {"currency": "currency"}, {"currency": "currency", "rates": {"EUR": 1.0, "USD": 0.9}}],
)
def test_weighted_pipeline_equals_pandas(deals: pd.DataFrame, options: dict[str, Any]) -> None:
    for ddf in partitionings(deals):
        same(
            weighted_pipeline(ddf, MODEL, **options),
            weighted_pipeline(ddf.compute(), MODEL, **options),
        )


# --------------------------------------------------------------------------------------------
# Laziness, errors, dependency
# --------------------------------------------------------------------------------------------


def test_results_are_lazy(tx: pd.DataFrame, deals: pd.DataFrame) -> None:
    calls: list[int] = []

    def counting(dsk: Any, keys: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return dask.get(dsk, keys, **kwargs)

    ddf = partitionings(tx)[1]
    bins = fit_rfm_bins(rfm_summary(tx, refunds="allow"))
    frame = rfm_summary(tx, refunds="allow").assign(potential=1.0)
    with dask.config.set(scheduler=counting):
        summary = rfm_summary(ddf, refunds="allow")
        results = [
            summary,
            btyd_summary(ddf, amount="amount", refunds="allow"),
            score_rfm(summary, bins),
            rfm_segments(score_rfm(summary, bins)),
            customer_grades(dd.from_pandas(frame, npartitions=3)),
            weighted_pipeline(dd.from_pandas(deals, npartitions=3, sort=False), MODEL),
        ]
        assert calls == []  # nothing ran before .compute()
        assert all(isinstance(r, dd.DataFrame) for r in results)
        results[0].compute()
        assert calls


def test_value_errors_surface_at_compute(tx: pd.DataFrame) -> None:
    ddf = partitionings(tx)[0]
    lazy = rfm_summary(ddf)  # the refund row is only seen when the data is read
    with pytest.raises(DataError, match="column 'amount' of transactions has"):
        lazy.compute()
    late = rfm_summary(ddf, refunds="allow", as_of="2024-01-31")
    with pytest.raises(DataError, match="after as_of"):
        late.compute()
    nan = tx.assign(amount=tx["amount"].where(tx.index != tx.index[40]))
    with pytest.raises(DataError, match="NaN"):
        btyd_summary(partitionings(nan)[1], amount="amount", refunds="allow").compute()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda d: rfm_summary(d, amount="revenue"), SchemaError, "revenue"),
        (lambda d: rfm_summary(d.assign(date=d["date"].astype(str))), ColumnTypeError,
         "must already be datetime64"),
        (lambda d: btyd_summary(d, period="H"), ConfigError, "period"),
        (lambda d: btyd_summary(d, as_of="not a date"), ConfigError, "as_of"),
        (lambda d: rfm_summary(d.assign(amount="x")), ColumnTypeError, "amount"),
    ],
)  # fmt: skip
def test_schema_errors_are_eager(tx: pd.DataFrame, call: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call(partitionings(tx)[0])


def test_empty_collection_is_a_schema_error(tx: pd.DataFrame, deals: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="transactions is empty"):
        rfm_summary(dd.from_pandas(tx.iloc[:0], npartitions=1)).compute()
    with pytest.raises(SchemaError, match="opportunities is empty"):
        weighted_pipeline(dd.from_pandas(deals.iloc[:0], npartitions=1), MODEL).compute()
    with pytest.raises(SchemaError, match="summary is empty"):
        fit_rfm_bins(dd.from_pandas(rfm_summary(tx, refunds="allow").iloc[:0], npartitions=1))


def test_duplicates_across_partitions_are_found(tx: pd.DataFrame, deals: pd.DataFrame) -> None:
    summary = rfm_summary(tx, refunds="allow").assign(potential=1.0)
    twice = split(pd.concat([summary.iloc[:50], summary.iloc[40:45]]), [50])
    with pytest.raises(DataError, match="duplicate customer id"):
        customer_grades(twice).compute()
    with pytest.raises(DataError, match="duplicate customer id"):
        fit_rfm_bins(twice)
    repeated = pd.concat([deals, deals.iloc[[3]]])
    with pytest.raises(DataError, match="opportunity_id"):
        weighted_pipeline(split(repeated, [60]), MODEL).compute()


def test_missing_dask_is_a_clear_error(tx: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    ddf = partitionings(tx)[0]
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)  # import fails as if not installed
    with pytest.raises(MissingDependencyError, match=r"'dask\[dataframe\]' .*-e '\.\[dask\]'"):
        rfm_summary(ddf)


def test_pandas_users_never_import_dask() -> None:
    code = (
        "import sys, pandas as pd\n"
        "from crmcore.segmentation import rfm_summary\n"
        "tx = pd.DataFrame({'customer_id': [1], 'date': pd.to_datetime(['2024-01-01']),"
        " 'amount': [1.0]})\n"
        "rfm_summary(tx)\n"
        "assert not any(m == 'dask' or m.startswith('dask.') for m in sys.modules), 'dask'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_input_collection_is_not_changed(tx: pd.DataFrame) -> None:
    before = tx.copy(deep=True)
    ddf = dd.from_pandas(tx, npartitions=3)
    rfm_summary(ddf, refunds="allow").compute()
    pd.testing.assert_frame_equal(tx, before, check_exact=True)
    pd.testing.assert_frame_equal(ddf.compute(), before, check_exact=True)


def test_error_messages_name_the_callers_row(tx: pd.DataFrame) -> None:
    labelled = tx.set_axis(pd.Index([f"t{i}" for i in range(len(tx))], name="line"))
    # the refund is the only negative amount; its label survives the shuffle by customer
    with pytest.raises(DataError, match=r"row 't5' \(customer_id="):
        rfm_summary(partitionings(labelled)[0]).compute()


# --------------------------------------------------------------------------------------------
# Cutting at as_of, and the generic core on its own
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["D", "M"])
def test_cut_at_as_of_equals_pandas(tx: pd.DataFrame, period: str) -> None:
    for ddf in partitionings(tx):
        base = ddf.compute()
        expected = cut_at_as_of(base, as_of="2024-06-30", period=period)
        cut = cut_at_as_of(ddf, as_of="2024-06-30", period=period)
        assert cut.as_of == expected.as_of
        assert cut.period == expected.period
        same(cut.kept, expected.kept)
        same(cut.excluded, expected.excluded)
        assert cut.n_excluded == expected.n_excluded > 0
        # the kept rows summarise like the pandas ones
        options = {"as_of": cut.as_of, "refunds": "allow"}
        same(rfm_summary(cut.kept, **options), rfm_summary(expected.kept, **options))


def test_cut_at_as_of_checks_eagerly(tx: pd.DataFrame) -> None:
    ddf = partitionings(tx)[0]
    with pytest.raises(ConfigError, match="mix naive and tz-aware"):
        cut_at_as_of(ddf, as_of=pd.Timestamp("2024-01-01", tz="UTC"))
    with pytest.raises(ColumnTypeError, match="must already be datetime64"):
        cut_at_as_of(ddf.assign(date=ddf["date"].astype(str)), as_of="2024-01-01")


def test_column_selection_fallback_of_old_dask(
    tx: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dask < 2025.1 cannot project columns through a concat of frames with unknown divisions;
    # the per-partition fallback must give the same results (run here on any Dask version).
    from crmcore._dask import partitions

    monkeypatch.setattr(partitions, "_projection_is_safe", lambda: False)
    wide = tx.assign(channel="web", note=np.arange(len(tx)))
    ddf = split(wide, [10, 10, 70])
    same(rfm_summary(ddf, refunds="allow"), rfm_summary(wide, refunds="allow"))
    summary = rfm_summary(tx, refunds="allow").assign(potential=1.0, extra="x")
    same(customer_grades(split(summary, [7, 30])), customer_grades(summary))
