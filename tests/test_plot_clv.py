"""Charts of customer futures (crmcore.plot.clv): rendered to PNG, content checked against the data.

The holdout chart is checked against the report lifetimes' and the paper's figure 4 are built
from (Fader, Hardie & Lee 2005: predicted vs actual holdout purchases by calibration frequency
on CDNOW); the cohort heatmap against an independent pandas count of who bought when.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from crmcore import plot
from crmcore.clv import (
    calibration_holdout,
    cohort_retention,
    fit_bg_nbd,
    holdout_report,
)
from crmcore.errors import ColumnTypeError, ConfigError, DataError, InputTypeError, SchemaError
from helpers import call_unmutated

mpl.use("Agg")

DATA = Path(__file__).resolve().parent / "data"


def render(fig: Figure) -> Figure:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    assert buf.getvalue().startswith(b"\x89PNG\r\n\x1a\n")
    return fig


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "cdnow_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "amount"])  # fmt: skip
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    return raw[["customer_id", "date", "amount"]]


@pytest.fixture(scope="module")
def report(log: pd.DataFrame) -> Any:
    ch = calibration_holdout(log, calibration_end="1997-09-30", observation_end="1998-06-30",
                             freq_multiplier=7)  # fmt: skip
    cal = ch.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency",
                             "T_cal": "T"})  # fmt: skip
    return holdout_report(fit_bg_nbd(cal), ch)


def test_holdout_chart_draws_the_report(report: Any) -> None:
    fig = render(plot.holdout_chart(report))
    ax = fig.axes[0]
    actual, predicted = ax.lines
    assert actual.get_label() == "actual"
    assert predicted.get_label() == "predicted"
    np.testing.assert_allclose(actual.get_ydata(), report.table["actual"].to_numpy())
    np.testing.assert_allclose(predicted.get_ydata(), report.table["predicted"].to_numpy())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4", "5", "6",
                                                            "7+"]  # fmt: skip
    # The totals of the report (1,882 actual holdout purchases on CDNOW, 12 % under-predicted).
    legend = ax.get_legend().get_title().get_text()
    assert legend == "total: actual 1,882, predicted 1,653 (-12%)"
    assert ax.get_ylabel() == "mean holdout purchases"
    assert ax.get_ylim()[0] == 0


def test_holdout_chart_takes_the_table_ax_and_texts(report: Any) -> None:
    base = Figure()
    ax = base.add_subplot()
    fig = plot.holdout_chart(report.table[["actual", "predicted"]], ax=ax, title="T",
                             xlabel="X", ylabel="Y")  # fmt: skip
    assert fig is base
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("T", "X", "Y")
    assert ax.get_legend().get_title().get_text() == ""  # no customers column, no totals
    call_unmutated(plot.holdout_chart, report.table.copy())


@pytest.mark.parametrize(
    ("report", "error", "match"),
    [
        ([1, 2], InputTypeError, "HoldoutReport or its table"),
        (pd.DataFrame({"actual": [1.0]}), SchemaError, "predicted"),
        (pd.DataFrame({"actual": [1.0], "predicted": ["x"]}), ColumnTypeError, "predicted"),
        (pd.DataFrame({"actual": [-1.0], "predicted": [1.0]}, index=["0"]), DataError, "row '0'"),
    ],
)
def test_holdout_chart_bad_input(report: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        plot.holdout_chart(report)


def _by_hand(log: pd.DataFrame) -> pd.DataFrame:
    month = log["date"].dt.to_period("M")
    cohort = month.groupby(log["customer_id"]).transform("min")
    since = (month - cohort).apply(lambda d: d.n)
    bought = pd.DataFrame({"c": cohort, "k": since, "id": log["customer_id"]}).drop_duplicates()
    table = bought.groupby(["c", "k"]).size().unstack(fill_value=0).astype(float)
    return table.div(table[0], axis=0)


def test_cohort_heatmap_draws_the_shares(log: pd.DataFrame) -> None:
    retention = cohort_retention(log)
    fig = render(plot.cohort_heatmap(retention))
    ax = fig.axes[0]
    grid = ax.images[0].get_array()
    expected = _by_hand(log)
    observable = ~grid.mask
    np.testing.assert_allclose(grid.data[observable], expected.to_numpy()[observable])
    # Cells after the end of the log are masked: the 1997-03 cohort has 16 observable months.
    assert observable.sum(axis=1).tolist() == [18, 17, 16]
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == observable.sum()
    assert texts[:3] == ["100%", "16%", "12%"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1997-01", "1997-02", "1997-03"]
    # Colours span the later periods; period 0 (100 %) is off the scale, drawn in the top colour.
    assert ax.images[0].get_clim() == (0.0, pytest.approx(float(np.nanmax(grid[:, 1:]))))


def test_cohort_heatmap_counts(log: pd.DataFrame) -> None:
    counts = cohort_retention(log, normalize=False)
    fig = render(plot.cohort_heatmap(counts, annotate=False))
    assert len(fig.axes[0].texts) == 0
    assert fig.axes[-1].get_ylabel() == "customers"
    with pytest.raises(ConfigError, match="share=True but retention holds 857"):
        plot.cohort_heatmap(counts, share=True)
    call_unmutated(plot.cohort_heatmap, counts.copy())


@pytest.mark.parametrize(
    ("retention", "error", "match"),
    [
        ("x", InputTypeError, "retention must be a DataFrame"),
        (pd.DataFrame(), SchemaError, "retention is empty"),
        (pd.DataFrame({0: [1.0], 1: [-0.5]}), DataError, "column 1 of retention"),
        (pd.DataFrame({0: [1.0], 1: [np.inf]}), DataError, "column 1 of retention"),
    ],
)
def test_cohort_heatmap_bad_input(retention: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        plot.cohort_heatmap(retention)


@given(st.lists(st.integers(0, 40), min_size=1, max_size=6), st.integers(1, 8))
@settings(max_examples=20, deadline=None)
def test_cohort_heatmap_draws_every_observable_cell(sizes: list[int], periods: int) -> None:
    rng = np.random.default_rng(len(sizes) * 100 + periods)
    values = rng.uniform(0, 1, (len(sizes), periods))
    values[:, 0] = 1.0
    for i in range(len(sizes)):  # the triangle: later cohorts see fewer periods
        values[i, max(1, periods - i) :] = np.nan
    frame = pd.DataFrame(values, index=pd.period_range("2024-01", periods=len(sizes), freq="M"))
    ax = plot.cohort_heatmap(frame, annotate=True).axes[0]
    assert len(ax.texts) == int(np.isfinite(values).sum())
    np.testing.assert_array_equal(ax.images[0].get_array().mask, ~np.isfinite(values))
