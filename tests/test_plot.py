"""Charts: each one is rendered to PNG on Agg and its content checked against the data.

Expected figures are computed independently (pandas crosstab/groupby, abc_classes) and compared
with what the chart draws: bar lengths, cell values and their annotations, the cut-off lines,
the simulated band, the number of bars, lines and points, titles and axis labels.
"""

from __future__ import annotations

import importlib.util
import io
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from crmcore import datasets, plot
from crmcore.errors import (
    ColumnTypeError,
    ConfigError,
    DataError,
    InputTypeError,
    MissingDependencyError,
    SchemaError,
)
from crmcore.kpi import Metric, Scorecard, attainment, score_scorecard
from crmcore.pipeline import StageModel, close_schedule, funnel_conversion, simulate_pipeline
from crmcore.quota import build_plan
from crmcore.segmentation import (
    SEGMENTS_11,
    SegmentMap,
    SegmentRule,
    abc_classes,
    rfm_scores,
    rfm_segments,
    rfm_summary,
)
from helpers import call_unmutated, shuffled

mpl.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"
STAGES = ["prospect", "qualification", "proposal", "negotiation"]


def render(fig: Figure) -> Figure:
    """Render to PNG on Agg (proves the figure draws) and return it."""
    assert isinstance(fig, Figure)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    assert buf.getvalue().startswith(PNG)
    return fig


def texts(ax: Any) -> list[str]:
    return [t.get_text() for t in ax.texts]


# ------------------------------------------------------------------------------------------
# data (small, seeded)
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return rfm_summary(datasets.transactions(150, seed=4))


@pytest.fixture(scope="module")
def scores(summary: pd.DataFrame) -> pd.DataFrame:
    return rfm_scores(summary)


@pytest.fixture(scope="module")
def segments(scores: pd.DataFrame) -> pd.DataFrame:
    return rfm_segments(scores)


@pytest.fixture(scope="module")
def funnel() -> pd.DataFrame:
    history = datasets.stage_history(200, seed=2)
    return funnel_conversion(history, stages=["prospect", "bid", "negotiation"])


@pytest.fixture(scope="module")
def pipeline_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    model = StageModel.from_conversion_rates(STAGES, [0.5, 0.6, 0.7, 0.8], [30, 20, 20, 15])
    book = datasets.opportunities(120, seed=3)
    schedule = close_schedule(book, model, as_of="2025-01-01", close_date="close_date")
    sim = simulate_pipeline(
        book, model, as_of="2025-01-01", close_date="close_date", n_draws=300, seed=1
    )
    return schedule.table, sim.table


@pytest.fixture(scope="module")
def quota_plan() -> Any:
    people = pd.DataFrame(
        {"region": ["N", "N", "S", "S"], "person": ["a", "b", "c", "d"], "weight": [3, 1, 2, 2]}
    )
    return build_plan(people, 120_000_00, distribution=[20, 30, 25, 25])


@pytest.fixture(scope="module")
def attained() -> pd.DataFrame:
    return attainment(
        datasets.deals(200, n_people=4, seed=5),
        datasets.targets(4, n_deals=200, seed=5),
        status="status",
        date="closed_at",
    )


CARD = Scorecard(
    metrics=[
        Metric(column="revenue", weight=0.4),
        Metric(column="calls", weight=0.3),
        Metric(column="rating", weight=0.2, scale=(1, 5)),
        Metric(column="wins", weight=0.1),
    ]
)


@pytest.fixture(scope="module")
def team_scores() -> pd.DataFrame:
    team = pd.DataFrame(
        {
            "person": ["ann", "bob", "cid", "dee", "eve", "fay", "gus"],
            "revenue": [120, 80, 200, 150, 60, 90, 130],
            "calls": [30, 20, 40, 35, 10, 25, 5],
            "rating": [4, 5, 3, 4, 2, 3, 5],
            "wins": [3, 1, 6, 4, 0, 2, 3],
        }
    )
    return score_scorecard(team, CARD)


# ------------------------------------------------------------------------------------------
# rfm_heatmap
# ------------------------------------------------------------------------------------------


def _cells(ax: Any) -> dict[tuple[int, int], str]:
    """Annotations keyed by (r, f): a text at x = f - 1, y = r - 1."""
    return {
        (round(t.get_position()[1]) + 1, round(t.get_position()[0]) + 1): t.get_text()
        for t in ax.texts
    }


def test_rfm_heatmap_counts_match_crosstab(scores: pd.DataFrame) -> None:
    fig = render(call_unmutated(plot.rfm_heatmap, scores))
    ax = fig.axes[0]
    expected = (
        pd.crosstab(scores["r_score"], scores["f_score"])
        .reindex(index=range(1, 6), columns=range(1, 6), fill_value=0)
        .to_numpy(dtype=float)
    )
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    cells = _cells(ax)
    assert len(ax.texts) == 25
    assert cells == {
        (r, f): str(int(expected[r - 1, f - 1])) for r in range(1, 6) for f in range(1, 6)
    }
    assert ax.get_xlabel() == "F score (frequency)"
    assert ax.get_ylabel() == "R score (recency)"
    assert ax.get_title() == "Customers by R and F score"
    assert len(fig.axes) == 2  # the grid and its colour bar
    assert fig.axes[1].get_ylabel() == "customers"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize(
    ("column", "values", "shown"),
    [
        ("r_score", [1.0, 2.0, 1e307], "1e+307"),  # issue #14: was cast to int with a warning
        ("f_score", [2, 1, 2**62 + 1], "4611686018427387905"),  # was a 2**62-wide grid
        ("r_score", [1, 2, 21], "21"),
        ("f_score", [1.0, 2.0, 2.5], "2.5"),
    ],
)
def test_rfm_heatmap_names_a_score_that_is_not_a_small_whole_number(
    column: str, values: list[float], shown: str
) -> None:
    scores = pd.DataFrame({"r_score": [1, 2, 3], "f_score": [2, 1, 3]}, index=["a", "b", "c"])
    scores[column] = values
    with pytest.raises(DataError) as info:
        plot.rfm_heatmap(scores)
    assert str(info.value) == (
        f"column {column!r} of scores has {shown} at row 'c'; expected whole scores in 1..20"
    )
    assert (info.value.column, info.value.row) == (column, "c")
    with pytest.raises(DataError) as given_bins:
        plot.rfm_heatmap(scores, bins=3)
    assert str(given_bins.value).endswith(f"has {shown} at row 'c'; expected whole scores in 1..3")


def test_rfm_heatmap_draws_up_to_twenty_score_levels() -> None:
    # a SegmentMap reads up to 20 levels: scores 20 and 1 give a 20 x 20 grid, one customer at
    # (r=20, f=1) and one at (r=1, f=20)
    scores = pd.DataFrame({"r_score": [20, 1], "f_score": [1, 20]})
    grid = render(plot.rfm_heatmap(scores, annotate=False)).axes[0].images[0].get_array()
    assert grid.shape == (20, 20)
    assert (grid[19, 0], grid[0, 19], float(grid.sum())) == (1.0, 1.0, 2.0)


def test_rfm_heatmap_value_sum_and_mean_by_hand() -> None:
    # cells: (r=1,f=1): 10 + 30 = 40, mean 20; (r=2,f=2): 5; (r=1,f=2) and (r=2,f=1) empty
    frame = pd.DataFrame(
        {"r_score": [1, 1, 2], "f_score": [1, 1, 2], "monetary": [10.0, 30.0, 5.0]}
    )
    total = render(plot.rfm_heatmap(frame, value="monetary")).axes[0]
    assert total.images[0].get_array().tolist() == [[40.0, 0.0], [0.0, 5.0]]
    assert _cells(total) == {(1, 1): "40", (1, 2): "0", (2, 1): "0", (2, 2): "5"}
    assert total.get_title() == "Total monetary by R and F score"
    mean = render(plot.rfm_heatmap(frame, value="monetary", agg="mean")).axes[0]
    assert _cells(mean) == {(1, 1): "20", (1, 2): "n/a", (2, 1): "n/a", (2, 2): "5"}
    assert mean.get_title() == "Mean monetary by R and F score"


def test_rfm_heatmap_value_matches_groupby(scores: pd.DataFrame, summary: pd.DataFrame) -> None:
    joined = scores.join(summary["monetary"])
    ax = render(plot.rfm_heatmap(joined, value="monetary", bins=6)).axes[0]
    expected = np.zeros((6, 6))
    for (r, f), v in joined.groupby(["r_score", "f_score"])["monetary"].sum().items():
        expected[r - 1, f - 1] = v
    np.testing.assert_allclose(ax.images[0].get_array(), expected)
    assert len([t for t in ax.texts if t.get_gid() != "rfm-note"]) == 36
    (note,) = [t.get_text() for t in ax.texts if t.get_gid() == "rfm-note"]
    assert note == "No customer has R score 6.\nNo customer has F score 6."


def test_rfm_heatmap_overrides_and_no_annotations() -> None:
    frame = pd.DataFrame({"R": [1, 3], "F": [2, 2]})
    fig = plot.rfm_heatmap(
        frame, r="R", f="F", annotate=False, title="T", xlabel="freq", ylabel="rec"
    )
    ax = render(fig).axes[0]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("T", "freq", "rec")
    # no cell annotations; the one text is the note that R 2 and F 1, 3 do not occur
    assert [t.get_text() for t in ax.texts] == [
        "No customer has R score 2.\nNo customer has F scores 1, 3."
    ]
    assert ax.images[0].get_array().shape == (3, 3)


def _collapsed_scores() -> tuple[pd.DataFrame, Any]:
    """Scores whose frequency edges collapse: most customers bought once (edges 1, 2, 5)."""
    from crmcore.segmentation import fit_rfm_bins, score_rfm

    rng = np.random.default_rng(3)
    n = 500
    summary = pd.DataFrame(
        {
            "recency": rng.integers(0, 400, n),
            "frequency": np.where(rng.random(n) < 0.55, 1, rng.integers(2, 9, n)),
            "monetary": rng.gamma(2.0, 300.0, n),
        },
        index=pd.Index(range(n), name="customer_id"),
    )
    bins = fit_rfm_bins(summary)
    return score_rfm(summary, bins), bins


def test_rfm_heatmap_says_when_frequency_edges_give_fewer_scores() -> None:
    scores, bins = _collapsed_scores()
    assert bins.frequency == (1.0, 2.0, 5.0)  # 4 F scores; R reaches 5
    assert scores["f_score"].max() == 4
    assert scores["r_score"].max() == 5
    # without the bins: a note names the F score nobody has (it used to be a silent 0 column)
    plain = render(plot.rfm_heatmap(scores)).axes[0]
    assert [t.get_text() for t in plain.texts if t.get_gid() == "rfm-note"] == [
        "No customer has F score 5."
    ]
    # with the bins: the unreachable column is hatched, marked '-', not coloured, and explained
    fig = render(call_unmutated(plot.rfm_heatmap, scores, rfm_bins=bins))
    ax = fig.axes[0]
    grid = ax.images[0].get_array()
    assert grid.shape == (5, 5)
    assert np.ma.getmaskarray(grid)[:, 4].all()  # NaN cells: no colour
    expected = pd.crosstab(scores["r_score"], scores["f_score"]).to_numpy(dtype=float)
    np.testing.assert_array_equal(grid[:, :4], expected)
    cells = {k: v for k, v in _cells(ax).items() if k[1] <= 5 and "\n" not in v}
    assert [cells[(r, 5)] for r in range(1, 6)] == ["-"] * 5
    hatched = [p for p in ax.patches if p.get_hatch() == "///"]
    assert sorted((p.get_x(), p.get_y()) for p in hatched) == [(3.5, r - 0.5) for r in range(5)]
    (note,) = [t.get_text() for t in ax.texts if t.get_gid() == "rfm-note"]
    assert note.replace("\n", " ") == (
        "F scores above 4 cannot occur: the fitted frequency edges (1, 2, 5) give 4 scores "
        "only (many customers share a value)."
    )
    # a full grid has no note
    full = rfm_scores(rfm_summary(datasets.transactions(1000, seed=1)))
    assert not [t for t in render(plot.rfm_heatmap(full)).axes[0].texts if t.get_gid()]


def test_rfm_heatmap_rejects_scores_its_bins_cannot_give() -> None:
    scores, bins = _collapsed_scores()
    wrong = scores.assign(f_score=scores["f_score"].where(scores.index != 7, 5))
    expected = r"column 'f_score' of scores has 5 at row 7, .* scores 1\.\.4 only"
    with pytest.raises(DataError, match=expected):
        plot.rfm_heatmap(wrong, rfm_bins=bins)
    with pytest.raises(InputTypeError, match="rfm_bins must be an RFMBins"):
        plot.rfm_heatmap(scores, rfm_bins=bins.to_dict())


# ------------------------------------------------------------------------------------------
# segment_sizes
# ------------------------------------------------------------------------------------------


def test_segment_sizes_in_map_order(segments: pd.DataFrame) -> None:
    fig = render(call_unmutated(plot.segment_sizes, segments))
    ax = fig.axes[0]
    counts = segments["segment"].astype(str).value_counts()
    expected = [float(counts.get(s, 0)) for s in SEGMENTS_11.segments]
    assert [p.get_width() for p in ax.patches] == expected
    assert [t.get_text() for t in ax.get_yticklabels()] == list(SEGMENTS_11.segments)
    assert ax.yaxis_inverted()  # first segment on top
    assert len(ax.texts) == 11
    first = SEGMENTS_11.segments[0]
    share = counts.get(first, 0) / len(segments)
    assert ax.texts[0].get_text() == f" {counts.get(first, 0)} ({share:.0%})"
    assert (ax.get_title(), ax.get_xlabel()) == ("Customers per segment", "customers")


def test_segment_sizes_value_and_explicit_map(
    segments: pd.DataFrame, summary: pd.DataFrame
) -> None:
    joined = segments.join(summary["monetary"])
    ax = render(plot.segment_sizes(joined, segment_map=SEGMENTS_11, value="monetary")).axes[0]
    sums = joined.groupby("segment", observed=False)["monetary"].sum()
    np.testing.assert_allclose(
        [p.get_width() for p in ax.patches], sums.reindex(SEGMENTS_11.segments).fillna(0)
    )
    assert ax.get_xlabel() == "total monetary"


def test_segment_sizes_plain_text_largest_first_with_ties_by_name() -> None:
    # b: 3, a: 1, c: 1 -> b first, then a and c by name
    frame = pd.DataFrame({"segment": ["c", "b", "a", "b", "b"]})
    ax = render(plot.segment_sizes(frame)).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a", "c"]
    assert [p.get_width() for p in ax.patches] == [3.0, 1.0, 1.0]
    assert texts(ax) == [" 3 (60%)", " 1 (20%)", " 1 (20%)"]


def test_segment_sizes_keeps_empty_map_segments() -> None:
    small = SegmentMap(
        bins=2, rules=[SegmentRule(segment="Best", r=2, f=2), SegmentRule(segment="Rest")]
    )
    frame = pd.DataFrame({"segment": ["Rest", "Rest"]})
    ax = render(plot.segment_sizes(frame, segment_map=small)).axes[0]
    assert [p.get_width() for p in ax.patches] == [0.0, 2.0]
    assert texts(ax) == [" 0 (0%)", " 2 (100%)"]


# ------------------------------------------------------------------------------------------
# pareto_curve
# ------------------------------------------------------------------------------------------


def test_pareto_curve_hand_worked() -> None:
    # 50, 20, 10, 8, 5, 4, 3 (total 100): cumulative 50, 70, 80, 88, 93, 97, 100 %.
    # A = {50, 20, 10} (80 % reached at 10), B = {8, 5, 4} (95 % reached at 4), C = {3}.
    values = pd.Series([8, 50, 3, 20, 10, 5, 4], index=list("defabgh"))
    fig = render(call_unmutated(plot.pareto_curve, values))
    ax = fig.axes[0]
    curve, *cuts = ax.lines
    np.testing.assert_allclose(curve.get_xdata(), np.arange(8) / 7)
    np.testing.assert_allclose(curve.get_ydata(), [0, 0.5, 0.7, 0.8, 0.88, 0.93, 0.97, 1.0])
    assert [float(c.get_ydata()[0]) for c in cuts] == [0.8, 0.95]
    assert [c.get_linestyle() for c in cuts] == ["--", "--"]
    spans = [(round(p.get_x() * 7), round((p.get_x() + p.get_width()) * 7)) for p in ax.patches]
    assert spans == [(0, 3), (3, 6), (6, 7)]
    assert [p.get_label() for p in ax.patches] == [
        "A: 3 items, 80% of value",
        "B: 3 items, 17% of value",
        "C: 1 items, 3% of value",
    ]
    assert ax.get_xlabel() == "share of items (largest first)"
    assert ax.get_ylabel() == "cumulative share of value"
    assert ax.get_title() == "Pareto curve and ABC classes"
    assert ax.get_legend() is not None


def test_pareto_curve_agrees_with_abc_classes(summary: pd.DataFrame) -> None:
    values = summary["monetary"]
    ax = render(plot.pareto_curve(values, cutoffs=(0.7, 0.9))).axes[0]
    classes = abc_classes(values, (0.7, 0.9)).value_counts().reindex(["A", "B", "C"])
    counts = [int(p.get_label().split(": ")[1].split(" ")[0]) for p in ax.patches]
    assert counts == classes[classes > 0].tolist()
    assert [float(c.get_ydata()[0]) for c in ax.lines[1:]] == [0.7, 0.9]


def test_pareto_curve_skips_empty_classes_and_custom_labels() -> None:
    # one item holds 90 %: A = {90}; B = {5, 5} (tie, both reach 95 % together); C empty
    ax = render(plot.pareto_curve([90, 5, 5], labels=("X", "Y", "Z"))).axes[0]
    assert [p.get_label().split(":")[0] for p in ax.patches] == ["X", "Y"]
    assert len(ax.lines) == 3


@settings(max_examples=25)
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=40).filter(lambda v: sum(v) > 0))
def test_pareto_curve_properties(values: list[int]) -> None:
    ax = plot.pareto_curve(values).axes[0]
    y = np.asarray(ax.lines[0].get_ydata())
    assert y[0] == 0.0
    assert y[-1] == 1.0
    assert np.all(np.diff(y) >= -1e-12)  # non-decreasing
    # concave: each item adds no more than the one before it
    assert np.all(np.diff(np.diff(y)) <= 1e-12)
    counts = [int(p.get_label().split(": ")[1].split(" ")[0]) for p in ax.patches]
    assert sum(counts) == len(values)
    # order-independent
    again = plot.pareto_curve(list(reversed(values))).axes[0]
    np.testing.assert_allclose(again.lines[0].get_ydata(), y)


# ------------------------------------------------------------------------------------------
# funnel_chart
# ------------------------------------------------------------------------------------------


def test_funnel_chart_bars_and_rates(funnel: pd.DataFrame) -> None:
    fig = render(call_unmutated(plot.funnel_chart, funnel))
    ax = fig.axes[0]
    assert len(ax.patches) == len(funnel) == 3
    assert [p.get_width() for p in ax.patches] == funnel["entered"].astype(float).tolist()
    # centred: each bar spans -entered/2 .. +entered/2
    assert [p.get_x() for p in ax.patches] == (-funnel["entered"] / 2).tolist()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["prospect", "bid", "negotiation"]
    expected = [
        f"{row.entered:,} · {row.conversion_rate:.0%} advance · {row.win_rate:.0%} win"
        for row in funnel.itertuples()
    ]
    assert texts(ax) == expected
    assert (ax.get_title(), ax.get_xlabel()) == ("Stage funnel", "deals entering each stage")


def test_funnel_chart_nan_rate_and_no_win_rate() -> None:
    frame = pd.DataFrame(
        {"entered": [1200, 3], "conversion_rate": [0.25, np.nan]}, index=["lead", "demo"]
    )
    ax = render(plot.funnel_chart(frame, win_rate=None)).axes[0]
    assert texts(ax) == ["1,200 · 25% advance", "3 · n/a advance"]


# ------------------------------------------------------------------------------------------
# landing_schedule
# ------------------------------------------------------------------------------------------


def test_landing_schedule_bars_and_band(pipeline_frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    schedule, sim = pipeline_frames
    fig = render(call_unmutated(plot.landing_schedule, schedule, sim))
    # The result objects of close_schedule and simulate_pipeline draw the same chart.
    model = StageModel.from_conversion_rates(STAGES, [0.5, 0.6, 0.7, 0.8], [30, 20, 20, 15])
    book = datasets.opportunities(120, seed=3)
    kw = {"as_of": "2025-01-01", "close_date": "close_date"}
    same = render(
        plot.landing_schedule(
            close_schedule(book, model, **kw),
            simulate_pipeline(book, model, n_draws=300, seed=1, **kw),
        )
    )
    assert [p.get_height() for p in same.axes[0].patches] == [
        p.get_height() for p in fig.axes[0].patches
    ]
    ax = fig.axes[0]
    periods = schedule.index.union(sim.index)
    assert len(ax.patches) == len(periods)
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(
        heights, schedule["expected_amount"].reindex(periods, fill_value=0.0)
    )
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
    ys = np.concatenate([p.vertices[:, 1] for p in bands[0].get_paths()])
    assert ys.min() == pytest.approx(sim["p10"].min())
    assert ys.max() == pytest.approx(sim["p90"].max())
    (median,) = ax.lines
    # the median is drawn in the band's style: a step over each period's full width
    p50 = sim["p50"].reindex(periods, fill_value=0.0).to_numpy()
    assert median.get_drawstyle() == "steps-post"
    assert median.get_marker() == "None"
    np.testing.assert_allclose(median.get_xdata(), np.arange(len(periods) + 1) - 0.5)
    np.testing.assert_allclose(median.get_ydata(), np.append(p50, p50[-1]))
    band_x = np.concatenate([p.vertices[:, 0] for p in bands[0].get_paths()])
    assert (band_x.min(), band_x.max()) == (-0.5, len(periods) - 0.5)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == [p.strftime("%Y-%m") for p in periods]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "expected (expected_amount)",
        "simulated P10-P90",
        "simulated P50",
    ]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == (
        "Expected revenue by landing period",
        "period",
        "revenue",
    )


def test_landing_schedule_without_simulation_and_until() -> None:
    months = pd.date_range("2025-01-01", periods=4, freq="MS", name="period")
    sched = pd.DataFrame({"expected_amount": [100.0, 0.0, 50.0, 25.0]}, index=months)
    ax = render(plot.landing_schedule(sched)).axes[0]
    assert len(ax.patches) == 4
    assert len(ax.collections) == 0
    assert ax.get_legend() is None
    trimmed = render(plot.landing_schedule(sched, until="2025-02-15")).axes[0]
    assert [p.get_height() for p in trimmed.patches] == [100.0, 0.0]
    assert trimmed.get_xlabel() == "period (to 2025-02; later periods not shown)"
    # a simulation running longer than the schedule adds zero-height bars
    sim = pd.DataFrame(
        {"p10": [0.0] * 5, "p50": [1.0] * 5, "p90": [2.0] * 5},
        index=pd.date_range("2025-01-01", periods=5, freq="MS", name="period"),
    )
    longer = render(plot.landing_schedule(sched, sim, median=None)).axes[0]
    assert [p.get_height() for p in longer.patches] == [100.0, 0.0, 50.0, 25.0, 0.0]
    assert len(longer.lines) == 0


def _weekly(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    weeks = pd.date_range("2025-01-06", periods=n, freq="W-MON", name="period")
    values = np.random.default_rng(1).gamma(2.0, 1000.0, n)
    sched = pd.DataFrame({"expected_amount": values}, index=weeks)
    sim = pd.DataFrame({"p10": values * 0.6, "p50": values, "p90": values * 1.5}, index=weeks)
    return sched, sim


def _overlapping_labels(fig: Figure, labels: list[Any]) -> list[tuple[str, str]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels if t.get_text()]
    return [
        (a, b)
        for i, (a, box_a) in enumerate(boxes)
        for b, box_b in boxes[i + 1 :]
        if box_a.overlaps(box_b)
    ]


def test_landing_schedule_thins_130_weekly_labels_to_a_readable_axis() -> None:
    sched, sim = _weekly(130)
    fig = render(plot.landing_schedule(sched, sim))
    ax = fig.axes[0]
    assert len(ax.patches) == 130
    ticks = set(ax.get_xticks(minor=True)) | set(ax.get_xticks())
    assert ticks == set(range(130))  # every week keeps a tick
    labels = [t.get_text() for t in ax.get_xticklabels()]
    # ISO-week labels every 13 weeks (a quarter), from the first week
    assert labels[:3] == ["2025-W02", "2025-W15", "2025-W28"]
    assert len(labels) == 10
    assert list(ax.get_xticks()) == list(range(0, 130, 13))
    assert _overlapping_labels(fig, ax.get_xticklabels()) == []


@pytest.mark.parametrize("n", [3, 12, 30, 60, 130, 400])
def test_period_labels_never_overlap(n: int) -> None:
    sched, sim = _weekly(n)
    fig = render(plot.landing_schedule(sched, sim))
    ax = fig.axes[0]
    assert _overlapping_labels(fig, ax.get_xticklabels()) == []
    assert len(ax.get_xticklabels()) >= min(n, 3)


def test_period_labels_follow_the_period_style() -> None:
    for freq, first in [("MS", "2025-01"), ("QS", "2025-Q1"), ("YS", "2025"), ("D", "2025-01-01")]:
        idx = pd.date_range("2025-01-01", periods=4, freq=freq, name="period")
        sched = pd.DataFrame({"expected_amount": [1.0, 2.0, 3.0, 4.0]}, index=idx)
        ax = plot.landing_schedule(sched).axes[0]
        assert ax.get_xticklabels()[0].get_text() == first, freq


# ------------------------------------------------------------------------------------------
# forecast_chart
# ------------------------------------------------------------------------------------------

FORECAST = pd.DataFrame(
    {
        "forecast": [10.0, 11.0, 12.0],
        "lower_80": [8.0, 8.5, 9.0],
        "upper_80": [12.0, 13.5, 15.0],
        "lower_95": [7.0, 7.0, 7.0],
        "upper_95": [13.0, 15.0, 17.0],
    },
    index=pd.period_range("2025-01", periods=3, freq="M", name="period"),
)
PAST = pd.Series([9.0, 0.0, 10.0], index=pd.period_range("2024-10", periods=3, freq="M"))


def test_forecast_chart_history_bars_band_and_line() -> None:
    ax = render(call_unmutated(plot.forecast_chart, FORECAST, PAST)).axes[0]
    assert [p.get_height() for p in ax.patches] == [9.0, 0.0, 10.0]
    (band,) = ax.collections
    ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
    assert (ys.min(), ys.max()) == (8.0, 15.0)
    (line,) = ax.lines
    assert list(line.get_xdata()) == [3.0, 4.0, 5.0]
    assert list(line.get_ydata()) == [10.0, 11.0, 12.0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["2024-10", "2024-11", "2024-12", "2025-01", "2025-02", "2025-03"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "history",
        "80 % interval",
        "forecast",
    ]
    wide = render(plot.forecast_chart(FORECAST, level=95)).axes[0]
    ys = np.concatenate([p.vertices[:, 1] for p in wide.collections[0].get_paths()])
    assert (ys.min(), ys.max()) == (7.0, 17.0)
    assert len(wide.patches) == 0


def test_forecast_chart_of_a_sales_forecast_result() -> None:
    from crmcore.forecast import sales_forecast
    from crmcore.kpi import revenue_by_period

    tx = datasets.transactions(300, seed=2)
    result = sales_forecast(tx, horizon=4)
    past = revenue_by_period(tx)["revenue"]
    ax = render(plot.forecast_chart(result, past)).axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), result.forecast["forecast"])
    assert len(ax.patches) == len(past)
    deals = datasets.deals(200, n_people=2, seed=1)
    won = deals[deals["status"] == "won"]
    by_person = sales_forecast(won, date="closed_at", by="person", horizon=2)
    with pytest.raises(ConfigError, match="several series"):
        plot.forecast_chart(by_person)
    with pytest.raises(InputTypeError, match="SalesForecast or a DataFrame"):
        plot.forecast_chart([1, 2])  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="lower_90"):
        plot.forecast_chart(FORECAST, level=90)


def test_forecast_chart_bad_levels_and_periods_are_named() -> None:
    # issue 14 catalogue: level=True asked for column 'lower_True'; a repeated period was
    # pandas' "Period is not convertible to datetime"
    with pytest.raises(ConfigError, match="level"):
        plot.forecast_chart(FORECAST, level=True)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="level"):
        plot.forecast_chart(FORECAST, level=0)
    twice = pd.concat([FORECAST, FORECAST.iloc[[0]]])
    with pytest.raises(DataError, match=r"forecast has period .*2025-01.* twice"):
        plot.forecast_chart(twice)
    with pytest.raises(DataError, match="history has period"):
        plot.forecast_chart(FORECAST, pd.concat([PAST, PAST.iloc[[0]]]))
    with pytest.raises(InputTypeError, match="periods or dates"):
        plot.forecast_chart(FORECAST.set_axis(["a", "b", "c"]))


# ------------------------------------------------------------------------------------------
# quota_chart
# ------------------------------------------------------------------------------------------


def test_quota_chart_stacked_bars(quota_plan: Any) -> None:
    before = quota_plan.table.copy(deep=True)
    fig = render(plot.quota_chart(quota_plan))  # (QuotaPlan's == cannot compare its table)
    pd.testing.assert_frame_equal(quota_plan.table, before, check_exact=True)
    ax = fig.axes[0]
    amounts = quota_plan.to_amounts()
    pivot = amounts.pivot(index="person", columns="month", values="quota")
    assert len(ax.patches) == 4 * 4  # people x months
    # month by month: heights of month j are the people's quotas in month j
    heights = np.asarray([p.get_height() for p in ax.patches]).reshape(4, 4).T
    np.testing.assert_allclose(heights, pivot.to_numpy())
    totals = [float(t.get_text().replace("k", "")) * 1000 for t in ax.texts]
    np.testing.assert_allclose(totals, pivot.sum(axis=1), rtol=1e-2)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["1", "2", "3", "4"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "person",
        "quota",
        "Quota by person and month",
    )


def test_quota_chart_heatmap_from_frame(quota_plan: Any) -> None:
    table = quota_plan.table
    fig = render(call_unmutated(plot.quota_chart, table, kind="heatmap"))
    ax = fig.axes[0]
    pivot = table.pivot(index="person", columns="month", values="quota_cents")
    np.testing.assert_array_equal(ax.images[0].get_array(), pivot.to_numpy(dtype=float))
    assert fig.axes[1].get_ylabel() == "quota_cents"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("month", "person")
    # short labels stay level; the colour bar reads in compact amounts (12k, not 12000)
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {0.0}
    assert _overlapping_labels(fig, ax.get_xticklabels()) == []
    assert any(t.get_text().endswith("M") for t in fig.axes[1].get_yticklabels())


def test_quota_chart_adds_repeated_pairs_and_keeps_first_seen_order() -> None:
    frame = pd.DataFrame(
        {
            "rep": ["z", "z", "a", "z"],
            "month": pd.to_datetime(["2025-02-01", "2025-01-01", "2025-01-01", "2025-02-01"]),
            "quota": [1.0, 2.0, 3.0, 4.0],
        }
    )
    ax = render(plot.quota_chart(frame, person="rep", kind="heatmap")).axes[0]
    assert ax.images[0].get_array().tolist() == [[5.0, 2.0], [0.0, 3.0]]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2025-02", "2025-01"]


@pytest.mark.parametrize("column", ["month", "rep"])
def test_quota_chart_names_both_rows_of_an_id_typed_two_ways(column: str) -> None:
    # issue #14: months 1 and "1" (a join of two sources) were drawn as two months; a person
    # typed two ways as two bars. One month (or person) as written, so an error naming both.
    frame = pd.DataFrame(
        {"rep": ["a", "b", "a"], "month": [1, 2, 2], "quota": [1.0, 2.0, 3.0]},
        index=["p", "q", "r"],
    )
    frame[column] = [1, 2, "1"] if column == "month" else ["a", "b", 7]
    first = "number 1 (row 'p')" if column == "month" else "text 'a' (row 'p')"
    second = "text '1' (row 'r')" if column == "month" else "number 7 (row 'r')"
    with pytest.raises(DataError) as info:
        plot.quota_chart(frame, person="rep")
    assert str(info.value) == (
        f"column {column!r} of plan mixes {first} and {second}; ids must be all numbers or all text"
    )
    assert (info.value.column, info.value.row) == (column, "r")


# ------------------------------------------------------------------------------------------
# attainment_bars
# ------------------------------------------------------------------------------------------


def test_attainment_bars_match_sums(attained: pd.DataFrame) -> None:
    fig = render(call_unmutated(plot.attainment_bars, attained))
    ax = fig.axes[0]
    sums = attained.groupby(level="person")[["target", "achieved"]].sum()
    n = len(sums)
    assert len(ax.patches) == 2 * n
    np.testing.assert_allclose([p.get_height() for p in ax.patches[:n]], sums["target"])
    np.testing.assert_allclose([p.get_height() for p in ax.patches[n:]], sums["achieved"])
    assert texts(ax) == [f"{a / t:.0%}" for t, a in sums.itertuples(index=False)]
    assert [t.get_text() for t in ax.get_xticklabels()] == sums.index.tolist()
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "person",
        "amount",
        "Achieved vs target",
    )


def test_attainment_bars_by_column_missing_target_and_zero() -> None:
    # ann: 150 + 90 over 100 + 100 = 120 %; bob: no target (NaN) and 0 target -> n/a
    frame = pd.DataFrame(
        {
            "rep": ["ann", "ann", "bob", "bob"],
            "target": [100.0, 100.0, np.nan, 0.0],
            "achieved": [150.0, 90.0, 20.0, 5.0],
        }
    )
    ax = render(plot.attainment_bars(frame, by="rep")).axes[0]
    assert texts(ax) == ["120%", "n/a"]
    assert [p.get_height() for p in ax.patches] == [200.0, 0.0, 240.0, 25.0]


# ------------------------------------------------------------------------------------------
# scorecard_chart
# ------------------------------------------------------------------------------------------


def test_scorecard_bars(team_scores: pd.DataFrame) -> None:
    fig = render(call_unmutated(plot.scorecard_chart, team_scores, CARD))
    ax = fig.axes[0]
    n, m = len(team_scores), 4
    assert len(ax.patches) == n * m
    ranked = team_scores.sort_values("total", ascending=False, kind="stable")
    assert [t.get_text() for t in ax.get_yticklabels()] == ranked.index.tolist()
    widths = np.asarray([p.get_width() for p in ax.patches]).reshape(m, n).T
    cols = ["revenue_points", "calls_points", "rating_points", "wins_points"]
    np.testing.assert_allclose(widths, ranked[cols].to_numpy())
    np.testing.assert_allclose([float(t) for t in texts(ax)], ranked["total"], atol=0.005)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "revenue",
        "calls",
        "rating",
        "wins",
    ]
    assert (ax.get_xlabel(), ax.get_title()) == ("points", "Scorecard points")
    # without the scorecard: the *_points columns in frame order give the same chart
    plain = render(plot.scorecard_chart(team_scores)).axes[0]
    assert [p.get_width() for p in plain.patches] == [p.get_width() for p in ax.patches]


def test_scorecard_radar(team_scores: pd.DataFrame) -> None:
    fig = render(plot.scorecard_chart(team_scores, CARD, kind="radar", max_people=3))
    ax = fig.axes[0]
    assert ax.name == "polar"
    assert len(ax.lines) == 3
    ranked = team_scores.sort_values("total", ascending=False, kind="stable")
    cols = ["revenue_points", "calls_points", "rating_points", "wins_points"]
    for line, (person, row) in zip(ax.lines, ranked.head(3)[cols].iterrows(), strict=True):
        assert line.get_label() == person
        assert len(line.get_xdata()) == 5  # 4 metrics, closed
        share = row.to_numpy() / np.asarray(CARD.weights)
        np.testing.assert_allclose(line.get_ydata(), [*share, share[0]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["revenue", "calls", "rating", "wins"]
    # without a scorecard the radius is the points themselves; chosen people in given order
    plain = render(plot.scorecard_chart(team_scores, kind="radar", people=["eve", "ann"])).axes[0]
    assert [line.get_label() for line in plain.lines] == ["eve", "ann"]
    np.testing.assert_allclose(
        plain.lines[1].get_ydata()[:-1], team_scores.loc["ann", cols].astype(float)
    )


def test_scorecard_chart_picks_a_period(team_scores: pd.DataFrame) -> None:
    two = pd.concat(
        {pd.Timestamp("2024-01-01"): team_scores, pd.Timestamp("2024-02-01"): team_scores},
        names=["period", "person"],
    )
    with pytest.raises(ConfigError, match=r"scores hold 2 periods; pass period="):
        plot.scorecard_chart(two)
    ax = render(plot.scorecard_chart(two, period=pd.Timestamp("2024-02-01"))).axes[0]
    assert len(ax.patches) == 7 * 4
    one = two.loc[[pd.Timestamp("2024-01-01")]]
    assert len(render(plot.scorecard_chart(one)).axes[0].patches) == 28


# ------------------------------------------------------------------------------------------
# drawing into an existing Axes
# ------------------------------------------------------------------------------------------


def _calls(
    scores: pd.DataFrame,
    segments: pd.DataFrame,
    funnel: pd.DataFrame,
    pipeline_frames: tuple[pd.DataFrame, pd.DataFrame],
    quota_plan: Any,
    attained: pd.DataFrame,
    team_scores: pd.DataFrame,
) -> list[tuple[Callable[..., Figure], tuple[Any, ...], dict[str, Any]]]:
    return [
        (plot.rfm_heatmap, (scores,), {}),
        (plot.segment_sizes, (segments,), {}),
        (plot.pareto_curve, ([5, 3, 1],), {}),
        (plot.funnel_chart, (funnel,), {}),
        (plot.landing_schedule, pipeline_frames, {}),
        (plot.quota_chart, (quota_plan,), {}),
        (plot.quota_chart, (quota_plan,), {"kind": "heatmap"}),
        (plot.attainment_bars, (attained,), {}),
        (plot.scorecard_chart, (team_scores,), {}),
        (plot.forecast_chart, (FORECAST, PAST), {}),
    ]


def test_every_chart_draws_into_a_given_axes_and_subfigure(
    scores: pd.DataFrame,
    segments: pd.DataFrame,
    funnel: pd.DataFrame,
    pipeline_frames: tuple[pd.DataFrame, pd.DataFrame],
    quota_plan: Any,
    attained: pd.DataFrame,
    team_scores: pd.DataFrame,
) -> None:
    calls = _calls(scores, segments, funnel, pipeline_frames, quota_plan, attained, team_scores)
    fig = Figure(figsize=(12, 16), layout="constrained")
    sub = fig.subfigures(1, 2)[1]
    for i, (func, args, kwargs) in enumerate(calls):
        parent = fig if i % 2 == 0 else sub
        ax = parent.add_subplot(len(calls), 1, i + 1)
        assert func(*args, ax=ax, title=f"chart {i}", **kwargs) is fig
        assert ax.get_title() == f"chart {i}"
    polar = sub.add_subplot(len(calls) + 1, 1, len(calls) + 1, projection="polar")
    assert plot.scorecard_chart(team_scores, kind="radar", ax=polar) is fig
    assert len(polar.lines) == 5
    render(fig)


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------

SC = pd.DataFrame({"r_score": [1, 2], "f_score": [1, 2]}, index=[10, 11])
SEG = pd.DataFrame({"segment": ["Lost", None]}, index=[5, 6])
FUN = pd.DataFrame({"entered": [3, 1], "conversion_rate": [0.5, 1.2]}, index=["a", "b"])
MONTHS = pd.date_range("2025-01-01", periods=2, freq="MS", name="period")
SCHED = pd.DataFrame({"expected_amount": [1.0, 2.0]}, index=MONTHS)
SIM = pd.DataFrame({"p10": [1.0, 5.0], "p50": [2.0, 3.0], "p90": [3.0, 4.0]}, index=MONTHS)
PLAN = pd.DataFrame({"person": ["a", "b"], "month": [1, 1], "quota": [5.0, -1.0]})
ATT = pd.DataFrame({"person": ["a"], "target": [1.0], "achieved": [1.0]})
PTS = pd.DataFrame({"x_points": [0.5, 0.2], "y_points": [0.1, 0.3]}, index=["a", "b"])

BAD: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], type, str]] = [
    (plot.rfm_heatmap, ([1, 2],), {}, InputTypeError, r"scores must be a pandas DataFrame"),
    (plot.rfm_heatmap, (SC[["r_score"]],), {}, SchemaError, r"missing column\(s\) 'f_score'"),
    (plot.rfm_heatmap, (SC,), {"value": "m"}, SchemaError, r"missing column\(s\) 'm'"),
    (plot.rfm_heatmap, (SC.iloc[:0],), {}, SchemaError, r"scores is empty"),
    (plot.rfm_heatmap, (SC.assign(r_score=[1, 0]),), {}, DataError, r"'r_score'.*0.*row 11"),
    (plot.rfm_heatmap, (SC.assign(f_score=[1.5, 2]),), {}, DataError, r"'f_score'.*1.5.*row 10"),
    (plot.rfm_heatmap, (SC.assign(r_score=["a", "b"]),), {}, ColumnTypeError, r"'r_score'"),
    (plot.rfm_heatmap, (SC,), {"bins": 1}, DataError, r"'r_score'.*2 at row 11.*1\.\.1"),
    (plot.rfm_heatmap, (SC,), {"bins": 0}, ConfigError, r"bins must be an integer in 1\.\.20"),
    (plot.rfm_heatmap, (SC,), {"bins": 21}, ConfigError, r"bins must be an integer in 1\.\.20"),
    (plot.rfm_heatmap, (SC,), {"agg": "max"}, ConfigError, r"agg"),
    (plot.rfm_heatmap, (SC.assign(v=[1.0, np.nan]),), {"value": "v"}, DataError, r"'v'.*NaN"),
    (plot.rfm_heatmap, (SC,), {"ax": "ax"}, InputTypeError, r"ax must be a matplotlib Axes"),
    (plot.segment_sizes, (SEG,), {}, DataError, r"'segment' of segments is missing at row 6"),
    (plot.segment_sizes, (SEG.iloc[:1],), {"value": "v"}, SchemaError, r"missing.*'v'"),
    (
        plot.segment_sizes,
        (pd.DataFrame({"segment": ["Lost", "Gold"]}),),
        {"segment_map": SEGMENTS_11},
        DataError,
        r"'Gold' at row 1, which is not a segment of the map",
    ),
    (plot.pareto_curve, ([0, 0],), {}, DataError, r"values are all zero"),
    (plot.pareto_curve, ([3, -1],), {}, DataError, r"negative"),
    (plot.pareto_curve, ([],), {}, SchemaError, r"empty"),
    (plot.pareto_curve, ([3, 1],), {"cutoffs": (0.9, 0.5)}, ConfigError, r"cutoffs"),
    (plot.funnel_chart, (FUN,), {}, SchemaError, r"missing column\(s\) 'win_rate'"),
    (plot.funnel_chart, (FUN,), {"win_rate": None}, DataError, r"'conversion_rate'.*1.2.*'b'"),
    (
        plot.funnel_chart,
        (FUN.assign(entered=[-1, 1], conversion_rate=0.5),),
        {"win_rate": None},
        DataError,
        r"negative",
    ),
    (plot.landing_schedule, (SCHED[[]],), {}, SchemaError, r"'expected_amount'"),
    (plot.landing_schedule, (SCHED, SIM[["p10"]]), {}, SchemaError, r"'p90', 'p50'"),
    (plot.landing_schedule, (SCHED, SIM), {}, DataError, r"p10=5.0 above p90=4.0"),
    (
        plot.landing_schedule,
        (pd.concat([SCHED, SCHED]),),
        {},
        DataError,
        r"schedule has period .* twice",
    ),
    (plot.landing_schedule, (SCHED,), {"until": "2024-01-01"}, ConfigError, r"before the first"),
    (
        plot.quota_chart,
        ([1],),
        {},
        InputTypeError,
        r"plan must be a QuotaPlan or a pandas DataFrame, got list",
    ),
    (plot.quota_chart, (PLAN,), {}, DataError, r"'quota' of plan has negative value -1.0 at row 1"),
    (plot.quota_chart, (PLAN,), {"kind": "pie"}, ConfigError, r"kind"),
    (plot.quota_chart, (PLAN.drop(columns="quota"),), {}, SchemaError, r"'quota_cents'"),
    (
        plot.quota_chart,
        (PLAN.assign(quota=1.0, month=[1, None]),),
        {},
        DataError,
        r"'month' of plan is missing at row 1",
    ),
    (plot.attainment_bars, (ATT,), {"by": "region"}, SchemaError, r"no index level or column"),
    (plot.attainment_bars, (ATT.drop(columns="target"),), {}, SchemaError, r"'target'"),
    (plot.attainment_bars, (ATT.assign(target=-1.0),), {}, DataError, r"negative"),
    (plot.scorecard_chart, (PTS.rename(columns=str.upper),), {}, SchemaError, r"_points"),
    (plot.scorecard_chart, (PTS, CARD), {}, SchemaError, r"'revenue_points'"),
    (plot.scorecard_chart, (PTS,), {"kind": "pie"}, ConfigError, r"kind"),
    (plot.scorecard_chart, (PTS,), {"kind": "radar"}, ConfigError, r"at least 3 metrics"),
    (plot.scorecard_chart, (PTS,), {"period": 1}, ConfigError, r"no 'period' index level"),
    (plot.scorecard_chart, (PTS,), {"people": ["zed"]}, DataError, r"'zed' is not in scores"),
    (plot.scorecard_chart, (pd.concat([PTS, PTS]),), {}, DataError, r"person 'a' twice"),
    (
        plot.scorecard_chart,
        (PTS.assign(z_points=1.0),),
        {"kind": "radar", "max_people": 0},
        ConfigError,
        r"max_people must be an integer >= 1",
    ),
    (
        plot.scorecard_chart,
        (PTS.assign(z_points=1.0),),
        {"kind": "radar", "ax": Figure().add_subplot()},
        ConfigError,
        r"must be a polar Axes",
    ),
]


@pytest.mark.parametrize(
    ("func", "args", "kwargs", "exc", "match"),
    BAD,
    ids=[f"{b[0].__name__}-{i}" for i, b in enumerate(BAD)],
)
def test_bad_input(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], exc: type, match: str
) -> None:
    with pytest.raises(exc, match=match):
        func(*args, **kwargs)


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------


@settings(max_examples=20)
@given(
    st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=50),
    st.integers(0, 1000),
)
def test_heatmap_and_segment_counts_add_up(pairs: list[tuple[int, int]], seed: int) -> None:
    frame = pd.DataFrame(pairs, columns=["r_score", "f_score"])
    grid = plot.rfm_heatmap(frame, bins=4).axes[0].images[0].get_array()
    assert grid.sum() == len(frame)
    again = plot.rfm_heatmap(shuffled(frame, seed), bins=4).axes[0].images[0].get_array()
    np.testing.assert_array_equal(again, grid)
    seg = frame.assign(segment=frame["r_score"].astype(str))
    widths = [p.get_width() for p in plot.segment_sizes(seg).axes[0].patches]
    assert sum(widths) == len(frame)
    assert widths == sorted(widths, reverse=True)


@settings(max_examples=15)
@given(
    st.lists(st.integers(0, 50), min_size=1, max_size=6).filter(lambda w: sum(w) > 0),
    st.integers(0, 10**9),
)
def test_quota_chart_stacks_reconcile_with_the_plan(weights: list[int], total: int) -> None:
    people = pd.DataFrame(
        {
            "region": ["N" if i % 2 else "S" for i in range(len(weights))],
            "person": [f"p{i}" for i in range(len(weights))],
            "weight": weights,
        }
    )
    plan = build_plan(people, total, distribution=[25, 25, 50])
    ax = plot.quota_chart(plan.table).axes[0]
    heights = np.asarray([p.get_height() for p in ax.patches]).reshape(3, len(weights))
    people_order = [t.get_text() for t in ax.get_xticklabels()]
    by_person = plan.by("person").reindex(people_order)
    # exact: int64 cents are drawn as they are and every stack adds the person's months
    assert heights.sum(axis=0).tolist() == by_person.astype(float).tolist()
    assert heights.sum() == plan.total


@settings(max_examples=15)
@given(
    st.lists(
        st.tuples(*[st.floats(0, 2, allow_subnormal=False)] * 3),
        min_size=1,
        max_size=8,
    )
)
def test_scorecard_bars_add_up_to_totals(rows: list[tuple[float, float, float]]) -> None:
    frame = pd.DataFrame(rows, columns=["a_points", "b_points", "c_points"])
    frame.index = [f"p{i}" for i in range(len(rows))]
    ax = plot.scorecard_chart(frame).axes[0]
    n = len(rows)
    widths = np.asarray([p.get_width() for p in ax.patches]).reshape(3, n).sum(axis=0)
    people = [t.get_text() for t in ax.get_yticklabels()]
    totals = frame[["a_points", "b_points", "c_points"]].sum(axis=1).reindex(people)
    np.testing.assert_allclose(widths, totals, atol=1e-12)
    assert np.all(np.diff(totals.to_numpy()) <= 1e-12)  # best first


# ------------------------------------------------------------------------------------------
# optional dependency, image script, docs
# ------------------------------------------------------------------------------------------

ALL_CHARTS = [getattr(plot, name) for name in plot.__all__]


@pytest.mark.parametrize("chart", ALL_CHARTS, ids=plot.__all__)
def test_missing_matplotlib_raises_with_pip_hint(
    chart: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    scores: pd.DataFrame,
    segments: pd.DataFrame,
    funnel: pd.DataFrame,
    pipeline_frames: tuple[pd.DataFrame, pd.DataFrame],
    quota_plan: Any,
    attained: pd.DataFrame,
    team_scores: pd.DataFrame,
) -> None:
    args = {
        "rfm_heatmap": (scores,),
        "segment_sizes": (segments,),
        "pareto_curve": ([3, 1],),
        "funnel_chart": (funnel,),
        "landing_schedule": pipeline_frames,
        "quota_chart": (quota_plan,),
        "attainment_bars": (attained,),
        "scorecard_chart": (team_scores,),
        "forecast_chart": (FORECAST, PAST),
        "holdout_chart": (pd.DataFrame({"actual": [1.0], "predicted": [0.9]}),),
        "cohort_heatmap": (pd.DataFrame({0: [1.0, 1.0], 1: [0.5, np.nan]}),),
    }[chart.__name__]
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(MissingDependencyError, match=re.escape("pip install -e '.[plot]'")):
        chart(*args)


def test_import_works_without_matplotlib_and_core_never_imports_it() -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import crmcore, crmcore.segmentation, crmcore.pipeline, crmcore.quota, crmcore.kpi\n"
        "import crmcore.plot\n"
        "assert sorted(crmcore.plot.__all__) == crmcore.plot.__all__\n"
        "try:\n"
        "    crmcore.plot.pareto_curve([1, 2])\n"
        "except crmcore.errors.MissingDependencyError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert "pip install matplotlib (from a crmcore source checkout" in out.stdout
    core = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys, crmcore, crmcore.segmentation, crmcore.pipeline, crmcore.quota, "
                "crmcore.kpi, crmcore.datasets; print('matplotlib' in sys.modules, "
                "'crmcore.plot' in sys.modules)"
            ),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert core.stdout.split() == ["False", "False"]


def test_make_images_regenerates_every_committed_image(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_images", ROOT / "docs" / "make_images.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.main([str(tmp_path)])
    names = sorted(p.name for p in written)
    committed = sorted(p.name for p in (ROOT / "docs" / "images").glob("*.png"))
    assert names == committed
    for path in written:
        data = path.read_bytes()
        assert data.startswith(PNG)
        assert len(data) < 60_000, f"{path.name} is {len(data)} bytes"


def test_charts_page_shows_every_image_and_every_chart() -> None:
    page = (ROOT / "docs" / "charts.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"!\[[^\]]*\]\(images/([\w.-]+\.png)\)", page))
    committed = {p.name for p in (ROOT / "docs" / "images").glob("*.png")}
    assert shown == committed
    for name in plot.__all__:
        assert f"## `{name}`" in page, f"docs/charts.md has no section for {name}"


# ------------------------------------------------------------------------------------------
# notebooks: figures display as returned, without %matplotlib inline
# ------------------------------------------------------------------------------------------


def test_every_chart_displays_itself_as_png(
    scores: pd.DataFrame,
    segments: pd.DataFrame,
    funnel: pd.DataFrame,
    pipeline_frames: tuple[pd.DataFrame, pd.DataFrame],
    quota_plan: Any,
    attained: pd.DataFrame,
    team_scores: pd.DataFrame,
) -> None:
    calls = _calls(scores, segments, funnel, pipeline_frames, quota_plan, attained, team_scores)
    for func, args, kwargs in calls:
        fig = func(*args, **kwargs)
        assert isinstance(fig, Figure)
        png = fig._repr_png_()
        assert png.startswith(PNG), func.__name__
        assert len(png) > 5_000, func.__name__


def test_ipython_shows_a_chart_as_an_image_without_matplotlib_inline() -> None:
    formatters = pytest.importorskip("IPython.core.formatters")
    fig = plot.pareto_curve([50, 20, 10, 8, 5, 4, 3])
    data, _ = formatters.DisplayFormatter().format(fig)
    assert data["image/png"].startswith(PNG)
    assert data["text/plain"].startswith("<ChartFigure size")


def test_a_chart_pickles_and_still_displays_itself() -> None:
    import pickle

    fig = plot.pareto_curve([50, 20, 10, 8, 5, 4, 3])
    again = pickle.loads(pickle.dumps(fig))
    assert type(again) is type(fig)
    assert again._repr_png_().startswith(PNG)
    assert [t.get_text() for t in again.axes[0].get_legend().get_texts()] == [
        t.get_text() for t in fig.axes[0].get_legend().get_texts()
    ]


# -- values near the largest float (catalogue: whole columns of 1.7e308) ------------------------


def test_charts_refuse_values_too_large_to_draw() -> None:
    # 1.7e308 > 2**996: an axis from -v to v with margins (or matplotlib 3.8's image scaling,
    # which multiplies a colour range by 1e7) would pass the largest float
    big = 1.7e308
    frame = pd.DataFrame({"segment": ["Lost", "Lost"], "monetary": [1.0, big]}, index=["a", "b"])
    with pytest.raises(
        DataError,
        match=r"column 'monetary' of segments has value 1.7e\+308 at "
        r"row 'b', too large to draw",
    ):
        plot.segment_sizes(frame, value="monetary")
    # two values a chart draws whose bar adds up past what it draws: named at the second
    frame = frame.assign(monetary=[5e299, 5e299])
    with pytest.raises(
        DataError,
        match=r"column 'monetary' of segments adds up past 6.7e\+299 "
        r"at row 'b'",
    ):
        plot.segment_sizes(frame, value="monetary")
    schedule = pd.DataFrame(
        {"expected_amount": [big, -big]}, index=pd.period_range("2024-01", periods=2, freq="M")
    )
    with pytest.raises(DataError, match="column 'expected_amount' of schedule has value"):
        plot.landing_schedule(schedule)


def test_pareto_curve_and_mean_cells_of_huge_values_are_those_of_the_values_scaled() -> None:
    # a curve of shares and a mean per cell are finite when the sums are not
    values = [60.0, 20.0, 12.0, 5.0, 3.0]
    k = 2.0**1018  # 100 * 2**1018: the total passes the largest float
    big = plot.pareto_curve([v * k for v in values]).axes[0]
    small = plot.pareto_curve(values).axes[0]
    np.testing.assert_allclose(big.lines[0].get_ydata(), small.lines[0].get_ydata(), rtol=1e-15)
    # a mean cell of values a chart draws is drawn: 3e299 and 5e299 average to 4e299
    frame = pd.DataFrame({"r_score": [1, 1], "f_score": [1, 1], "monetary": [3e299, 5e299]})
    mean = render(plot.rfm_heatmap(frame, value="monetary", agg="mean", bins=1)).axes[0]
    np.testing.assert_allclose(mean.images[0].get_array().tolist(), [[4e299]], rtol=1e-15)
    # values beyond what a chart draws are refused by row before any cell is averaged
    with pytest.raises(DataError, match=r"'monetary' of scores has value 1e\+307 at row 1"):
        plot.rfm_heatmap(frame.assign(monetary=[1.0, 1e307]), value="monetary", agg="mean", bins=1)
