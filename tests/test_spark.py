"""crmcore.spark.per_customer on a local PySpark session, checked against the pandas results.

The Spark tests are slow (a JVM starts; marked ``slow``, run by the slow CI step, which
installs the ``spark`` extra; Java 17 is on the machine). They compare every per-customer-safe
function run through Spark hash buckets with the same function on the whole pandas frame:
identical values, dtypes and index, except that Spark keeps timestamps in microseconds.

PySpark 4 warns about pandas 3 (``FutureWarning: PySpark does not yet fully support pandas >=
3.0.0``) and calls ``astype(copy=False)``, which pandas 3 deprecates (``Pandas4Warning``).
The suite turns warnings into errors; exactly those two messages are ignored here, nothing
else (docs/scaling.md states them for users).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmcore import datasets
from crmcore.errors import ConfigError, InputTypeError, MissingDependencyError, SchemaError
from crmcore.segmentation import (
    GradeRules,
    btyd_summary,
    customer_grades,
    fit_rfm_bins,
    rfm_segments,
    rfm_summary,
    score_rfm,
)
from crmcore.spark import BUCKET_COLUMN, per_customer

ROOT = Path(__file__).resolve().parents[1]
PYSPARK_PANDAS3 = [
    pytest.mark.filterwarnings(
        "ignore:PySpark does not yet fully support pandas >= 3.0.0:FutureWarning"
    ),
    pytest.mark.filterwarnings(
        "ignore:The copy keyword is deprecated:pandas.errors.Pandas4Warning"
    ),
]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if os.environ.get("CI"):  # CI installs the spark extra: a missing PySpark fails there
        import pyspark.sql as sql
    else:
        sql = pytest.importorskip("pyspark.sql")
    # The workers must run this interpreter (the one with crmcore installed), not `python3`.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        sql.SparkSession.builder.master("local[2]")
        .appName("crmcore-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    return datasets.transactions(600, seed=11)


def collected(result: Any, customer: str = "customer_id") -> pd.DataFrame:
    return result.toPandas().set_index(customer).sort_index()


def in_microseconds(frame: pd.DataFrame) -> pd.DataFrame:
    """Spark stores timestamps in microseconds: the pandas result at that unit (no rounding)."""
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, np.dtype) and out[name].dtype.kind == "M":
            assert (out[name].dt.nanosecond == 0).all()
            out[name] = out[name].astype("datetime64[us]")
    return out


@pytest.mark.parametrize("buckets", [1, 7, 300])
@pytest.mark.slow
@PYSPARK_PANDAS3[0]
@PYSPARK_PANDAS3[1]
def test_rfm_summary_through_buckets_equals_pandas(
    spark: Any, tx: pd.DataFrame, buckets: int
) -> None:
    as_of = tx["date"].max()
    func = partial(rfm_summary, as_of=as_of)
    got = collected(per_customer(spark.createDataFrame(tx), func, buckets=buckets))
    pd.testing.assert_frame_equal(got, in_microseconds(rfm_summary(tx, as_of=as_of)))


@pytest.mark.slow
@PYSPARK_PANDAS3[0]
@PYSPARK_PANDAS3[1]
def test_btyd_summary_with_text_ids_and_an_explicit_schema(spark: Any, tx: pd.DataFrame) -> None:
    text = tx.assign(customer_id="C" + tx["customer_id"].astype(str).str.zfill(5))
    as_of = text["date"].max()
    expected = btyd_summary(text, amount="amount", as_of=as_of)
    schema = "customer_id string, frequency long, recency double, T double, monetary_value double"
    assert list(expected.columns) == ["frequency", "recency", "T", "monetary_value"]
    result = per_customer(
        spark.createDataFrame(text),
        partial(btyd_summary, amount="amount", as_of=as_of),
        buckets=16,
        schema=schema,
    )
    got = collected(result)
    got.index = got.index.astype(expected.index.dtype)
    pd.testing.assert_frame_equal(got, expected.astype(got.dtypes.to_dict()))
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=True)


@pytest.mark.slow
@PYSPARK_PANDAS3[0]
@PYSPARK_PANDAS3[1]
def test_scores_and_segments_with_fitted_bins_equal_pandas(spark: Any, tx: pd.DataFrame) -> None:
    as_of = tx["date"].max()
    summary = rfm_summary(tx, as_of=as_of)
    bins = fit_rfm_bins(summary)  # the global step: fitted once, shipped to every bucket
    frozen = bins.to_dict()

    def scores_and_segments(part: pd.DataFrame) -> pd.DataFrame:
        from crmcore.segmentation import RFMBins

        scored = score_rfm(part, RFMBins.from_dict(frozen), customer="customer_id")
        return rfm_segments(scored)

    summaries = per_customer(spark.createDataFrame(tx), partial(rfm_summary, as_of=as_of))
    got = collected(per_customer(summaries, scores_and_segments, buckets=5))
    expected = rfm_segments(score_rfm(summary, bins))
    assert str(got["segment"].dtype) in ("object", "str", "string")
    pd.testing.assert_frame_equal(
        got, expected.assign(segment=expected["segment"].astype(str)), check_dtype=False
    )
    assert (got.dtypes.drop("segment") == expected.dtypes.drop("segment")).all()


def fitted_grade_rules(frame: pd.DataFrame, rules: GradeRules) -> GradeRules:
    """Fixed thresholds equivalent to ``rules`` on ``frame`` (the global step of grading)."""
    graded = customer_grades(frame, rules)
    value = graded.loc[graded["high_value"], "value"].min()
    potential = graded.loc[graded["high_potential"], "potential"].min()
    return GradeRules(
        value_method="threshold",
        value_cutoff=float(value) if np.isfinite(value) else np.inf,
        potential_method="threshold",
        potential_cutoff=float(potential) if np.isfinite(potential) else np.inf,
    )


@pytest.mark.slow
@PYSPARK_PANDAS3[0]
@PYSPARK_PANDAS3[1]
def test_grades_with_fitted_thresholds_equal_pandas(spark: Any, tx: pd.DataFrame) -> None:
    summary = rfm_summary(tx).assign(potential=lambda s: s["frequency"] * 1.0)
    rules = fitted_grade_rules(summary, GradeRules())
    expected = customer_grades(summary, GradeRules())
    pd.testing.assert_frame_equal(
        customer_grades(summary, rules).drop(columns="grade"),
        expected.drop(columns="grade"),
    )

    def grade(part: pd.DataFrame) -> pd.DataFrame:
        return customer_grades(part.set_index("customer_id"), rules)

    got = collected(per_customer(spark.createDataFrame(summary.reset_index()), grade, buckets=9))
    pd.testing.assert_frame_equal(
        got[["value", "potential", "high_value", "high_potential"]],
        expected[["value", "potential", "high_value", "high_potential"]],
    )
    assert got["grade"].tolist() == expected["grade"].astype(str).tolist()
    assert got["reason"].tolist() == expected["reason"].astype(str).tolist()


@pytest.mark.slow
@PYSPARK_PANDAS3[0]
@PYSPARK_PANDAS3[1]
def test_every_customer_is_in_exactly_one_bucket(spark: Any, tx: pd.DataFrame) -> None:
    def sizes(part: pd.DataFrame) -> pd.DataFrame:
        counts = part.groupby("customer_id").size()
        return counts.rename("rows").to_frame()

    got = collected(per_customer(spark.createDataFrame(tx), sizes, buckets=13))
    expected = tx.groupby("customer_id").size().rename("rows").to_frame()
    assert got.index.is_unique
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


@pytest.mark.slow
@PYSPARK_PANDAS3[0]
@PYSPARK_PANDAS3[1]
def test_errors_at_the_call_and_in_the_buckets(spark: Any, tx: pd.DataFrame) -> None:
    sdf = spark.createDataFrame(tx)
    with pytest.raises(SchemaError, match="df has no column 'client'"):
        per_customer(sdf, rfm_summary, customer="client")
    with pytest.raises(ConfigError, match="buckets"):
        per_customer(sdf, rfm_summary, buckets=0)
    with pytest.raises(InputTypeError, match="func must be callable"):
        per_customer(sdf, "rfm_summary")  # type: ignore[arg-type]
    clash = sdf.withColumn(BUCKET_COLUMN, sdf["amount"])
    with pytest.raises(SchemaError, match=re.escape(BUCKET_COLUMN)):
        per_customer(clash, rfm_summary)
    empty = sdf.limit(0)
    with pytest.raises(Exception, match="pass schema= explicitly"):
        per_customer(empty, rfm_summary)
    # a crmcore error inside a bucket reaches the driver with its class and message
    bad = spark.createDataFrame(tx.assign(amount=-tx["amount"]))
    as_of = tx["date"].max()
    with pytest.raises(Exception, match=r"DataError: column 'amount'.*negative"):
        per_customer(bad, partial(rfm_summary, as_of=as_of), schema=_SUMMARY).collect()
    with pytest.raises(Exception, match="func's result has no index or column named"):
        per_customer(sdf, lambda p: p[["amount"]], schema=_SUMMARY).collect()


_SUMMARY = (
    "customer_id long, recency long, frequency long, monetary double, "
    "first_purchase timestamp, last_purchase timestamp, tenure long"
)


_SPARK_BLOCK = re.compile(r"^```\{\.python \.spark\}\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


@pytest.mark.slow
@PYSPARK_PANDAS3[0]
@PYSPARK_PANDAS3[1]
def test_the_spark_example_of_the_scaling_page_runs(spark: Any) -> None:
    page = (ROOT / "docs" / "scaling.md").read_text(encoding="utf-8")
    blocks = _SPARK_BLOCK.findall(page)
    assert len(blocks) >= 1
    namespace: dict[str, Any] = {"__name__": "docs_scaling_spark", "spark": spark}
    for code in blocks:
        exec(compile(code, "docs/scaling.md", "exec"), namespace)
    assert namespace["checked"] is True


# ------------------------------------------------------------------------------------------
# fast: argument checks that need no JVM
# ------------------------------------------------------------------------------------------


def test_without_pyspark_the_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(MissingDependencyError, match=re.escape("pip install -e '.[spark]'")):
        per_customer(pd.DataFrame({"customer_id": [1]}), rfm_summary)


def test_a_pandas_frame_is_refused_with_a_hint() -> None:
    pytest.importorskip("pyspark.sql")
    with pytest.raises(InputTypeError, match=r"pyspark\.sql\.DataFrame, got pandas\.DataFrame"):
        per_customer(pd.DataFrame({"customer_id": [1]}), rfm_summary)


@pytest.mark.slow
@PYSPARK_PANDAS3[0]
@PYSPARK_PANDAS3[1]
def test_the_docstring_example_runs_on_spark(spark: Any) -> None:
    import doctest

    import crmcore.spark

    # the Examples section, with its SKIP marks (no Spark in the default run) taken off
    text = (crmcore.spark.per_customer.__doc__ or "").replace("# doctest: +SKIP", "")
    test = doctest.DocTestParser().get_doctest(text, {}, "per_customer", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert runner.summarize(verbose=False).attempted >= 9
