"""Tests for crmcore.kpi.scorecard: Metric, Scorecard, score_scorecard, explain_scorecard."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ColumnTypeError, ConfigError, DataError, SchemaError
from crmcore.kpi import Metric, Scorecard, explain_scorecard, score_scorecard
from helpers import call_unmutated, shuffled

NORMALISATIONS = ["target", "minmax", "zscore", "percentile"]


def one(metric: Metric, values: list[float], **kw: object) -> np.ndarray:
    """Normalised values of one metric (weight 1) for people p0, p1, ... in order."""
    card = Scorecard(metrics=[attrs_evolve_weight(metric)])
    frame = pd.DataFrame({"person": [f"p{i}" for i in range(len(values))], metric.column: values})
    out = explain_scorecard(frame, card, **kw)  # type: ignore[arg-type]
    return out["normalised"].to_numpy()


def attrs_evolve_weight(metric: Metric) -> Metric:
    return Metric.from_dict({**metric.to_dict(), "weight": 1.0})


# -- hand-worked normalisations -----------------------------------------------------------------


def test_target_higher_is_capped():
    # 120/100 = 1.2, 80/100 = 0.8, 200/100 = 2.0 -> capped at 1.5
    m = Metric(column="rev", weight=1, normalisation="target", target=100, cap=1.5)
    np.testing.assert_allclose(one(m, [120, 80, 200]), [1.2, 0.8, 1.5])


def test_target_lower_is_inverted_and_zero_earns_the_cap():
    # target / value: 20/10 = 2, 20/20 = 1, 20/0 -> unbounded -> cap 3
    m = Metric(column="days", weight=1, normalisation="target", target=20, direction="lower", cap=3)
    np.testing.assert_allclose(one(m, [10, 20, 0]), [2.0, 1.0, 3.0])


def test_target_floor():
    # 30/100 = 0.3 floored at 0.5
    m = Metric(column="rev", weight=1, normalisation="target", target=100, floor=0.5)
    np.testing.assert_allclose(one(m, [30, 70]), [0.5, 0.7])


def test_minmax_observed_both_directions():
    # min 10, max 40: (10-10)/30 = 0, (20-10)/30 = 1/3, 1; lower: (40-v)/30
    hi = Metric(column="x", weight=1)
    lo = Metric(column="x", weight=1, direction="lower")
    np.testing.assert_allclose(one(hi, [10, 20, 40]), [0, 1 / 3, 1])
    np.testing.assert_allclose(one(lo, [10, 20, 40]), [1, 2 / 3, 0])


def test_minmax_constant_column_gives_one_half():
    np.testing.assert_allclose(one(Metric(column="x", weight=1), [7, 7, 7]), [0.5, 0.5, 0.5])


def test_minmax_fixed_scale_for_a_rating():
    # manager rating on 1..5: (v - 1) / 4
    m = Metric(column="rating", weight=1, scale=(1, 5))
    np.testing.assert_allclose(one(m, [1, 3, 5, 4]), [0, 0.5, 1, 0.75])
    # fixed bounds do not depend on the others: one person alone still gets (4-1)/4
    np.testing.assert_allclose(one(m, [4]), [0.75])


def test_zscore_population_std():
    # mean 2, population std sqrt(2/3): z = (v - 2) / 0.81650
    z = 1 / math.sqrt(2 / 3)
    np.testing.assert_allclose(
        one(Metric(column="x", weight=1, normalisation="zscore"), [1, 2, 3]), [-z, 0, z]
    )
    np.testing.assert_allclose(
        one(Metric(column="x", weight=1, normalisation="zscore", direction="lower"), [1, 2, 3]),
        [z, 0, -z],
    )
    np.testing.assert_allclose(
        one(Metric(column="x", weight=1, normalisation="zscore"), [5, 5]), [0, 0]
    )


def test_percentile_ties_share_the_average_rank():
    # ranks 1, 2.5, 2.5, 4 -> (r - 1) / 3 = 0, 0.5, 0.5, 1
    m = Metric(column="x", weight=1, normalisation="percentile")
    np.testing.assert_allclose(one(m, [10, 20, 20, 30]), [0, 0.5, 0.5, 1])
    lo = Metric(column="x", weight=1, normalisation="percentile", direction="lower")
    np.testing.assert_allclose(one(lo, [10, 20, 20, 30]), [1, 0.5, 0.5, 0])
    np.testing.assert_allclose(one(m, [3]), [0.5])


# -- whole scorecards ---------------------------------------------------------------------------

CARD = Scorecard(
    metrics=[
        Metric(column="revenue", weight=0.5, normalisation="target", target=100, cap=1.5),
        Metric(column="cycle_days", weight=0.3, direction="lower"),
        Metric(column="rating", weight=0.2, scale=(1, 5)),
    ]
)
TEAM = pd.DataFrame(
    {
        "person": ["cid", "ann", "bob", "dee"],
        "revenue": [200.0, 120.0, 80.0, 50.0],
        "cycle_days": [40.0, 30.0, 20.0, 40.0],
        "rating": [3.0, 4.0, 5.0, 1.0],
    }
)


def test_score_scorecard_by_hand():
    # revenue: 0.5 * (1.2, 0.8, 1.5 capped, 0.5)
    # cycle (lower, min 20 max 40): 0.3 * ((40-30)/20, 1, 0, 0) = 0.15, 0.3, 0, 0
    # rating ((v-1)/4): 0.2 * (0.75, 1, 0.5, 0) = 0.15, 0.2, 0.1, 0
    # totals: ann 0.9, bob 0.9 (a tie despite float noise), cid 0.85, dee 0.25
    got = call_unmutated(score_scorecard, TEAM, CARD)
    want = pd.DataFrame(
        {
            "revenue_points": [0.6, 0.4, 0.75, 0.25],
            "cycle_days_points": [0.15, 0.3, 0.0, 0.0],
            "rating_points": [0.15, 0.2, 0.1, 0.0],
            "total": [0.9, 0.9, 0.85, 0.25],
            "rank": np.array([1, 1, 3, 4], dtype=np.int64),
        },
        index=pd.Index(["ann", "bob", "cid", "dee"], name="person"),
    )
    pd.testing.assert_frame_equal(got, want, check_index_type=False, atol=1e-12)


def test_totals_near_the_largest_float_are_kept_not_overflowed():
    # Totals are rounded to 12 decimals before ranking; 5e304 * 10**12 overflows a float, so a
    # total that large (a whole number anyway) is kept as it is (issue #14's catalogue).
    # revenue 1e307 / target 100 = 1e305 (no cap), points 0.5 * 1e305 = 5e304; rating 4 of
    # 1..5 -> 0.75, points 0.375; total 5e304 (0.375 is far below its precision)
    card = Scorecard(
        metrics=[
            Metric(column="revenue", weight=0.5, normalisation="target", target=100.0),
            Metric(column="rating", weight=0.5, scale=(1, 5)),
        ]
    )
    frame = pd.DataFrame({"person": ["ann", "bob"], "revenue": [1e307, 50.0], "rating": [4.0, 5.0]})
    got = call_unmutated(score_scorecard, frame, card)
    assert got["total"].tolist() == [5e304, 0.75]
    assert got["rank"].tolist() == [1, 2]
    explained = call_unmutated(explain_scorecard, frame, card)  # the other scoring path
    assert explained.groupby("person")["points"].sum().tolist() == [5e304, 0.75]


def test_explanation_points_sum_to_total_and_notes_explain():
    ex = call_unmutated(explain_scorecard, TEAM, CARD)
    assert list(ex.columns) == [
        "person",
        "metric",
        "value",
        "normalised",
        "weight",
        "points",
        "note",
    ]
    assert len(ex) == 4 * 3
    sums = ex.groupby("person")["points"].sum()
    scores = score_scorecard(TEAM, CARD)
    np.testing.assert_allclose(sums.to_numpy(), scores["total"].to_numpy(), atol=1e-12)
    cid = ex[(ex["person"] == "cid") & (ex["metric"] == "revenue")].iloc[0]
    assert cid["note"] == "value / target 100, capped at 1.5"
    assert cid["normalised"] == 1.5
    bob = ex[(ex["person"] == "bob") & (ex["metric"] == "cycle_days")].iloc[0]
    assert bob["note"] == "(40 - value) / (40 - 20), observed"


def test_periods_are_normalised_separately():
    frame = pd.DataFrame(
        {
            "period": ["2024-01", "2024-01", "2024-02", "2024-02"],
            "person": ["ann", "bob", "ann", "bob"],
            "calls": [10.0, 20.0, 100.0, 50.0],
        }
    )
    card = Scorecard(metrics=[Metric(column="calls", weight=1)])
    got = score_scorecard(frame, card, period_column="period")
    assert got.index.names == ["period", "person"]
    # Jan: min 10 max 20 -> ann 0, bob 1; Feb: min 50 max 100 -> ann 1, bob 0
    assert got["total"].tolist() == [0.0, 1.0, 1.0, 0.0]
    assert got["rank"].tolist() == [2, 1, 1, 2]


def test_missing_zero_gives_zero_points_and_is_left_out_of_statistics():
    frame = pd.DataFrame({"person": ["a", "b", "c"], "x": [10.0, np.nan, 30.0]})
    card = Scorecard(metrics=[Metric(column="x", weight=1)])
    got = score_scorecard(frame, card, missing="zero")
    assert got["total"].tolist() == [0.0, 0.0, 1.0]  # min 10, max 30 over a and c only
    ex = explain_scorecard(frame, card, missing="zero")
    assert ex.loc[1, "note"] == "missing value: 0 points"
    assert np.isnan(ex.loc[1, "normalised"])


def test_qualitative_feedback_combines_with_revenue():
    # feedback on 1..5 (fixed scale) counts 30 %, revenue vs target 70 %
    card = Scorecard(
        metrics=[
            Metric(column="revenue", weight=0.7, normalisation="target", target=1000, cap=1.2),
            Metric(column="feedback", weight=0.3, scale=(1, 5)),
        ]
    )
    frame = pd.DataFrame({"person": ["a", "b"], "revenue": [1000.0, 800.0], "feedback": [2.0, 5.0]})
    got = score_scorecard(frame, card)
    # a: 0.7 * 1 + 0.3 * 0.25 = 0.775; b: 0.7 * 0.8 + 0.3 * 1 = 0.86
    np.testing.assert_allclose(got["total"], [0.775, 0.86])
    assert got["rank"].tolist() == [2, 1]


def test_normalise_weights_divides_by_the_sum():
    card = Scorecard(
        metrics=[Metric(column="a", weight=3), Metric(column="b", weight=1)], normalise_weights=True
    )
    assert card.weights == (0.75, 0.25)
    assert [m.weight for m in card.metrics] == [3.0, 1.0]
    frame = pd.DataFrame({"person": ["x", "y"], "a": [0.0, 1.0], "b": [1.0, 0.0]})
    assert score_scorecard(frame, card)["total"].tolist() == [0.25, 0.75]


def test_metric_name_allows_one_column_twice():
    card = Scorecard(
        metrics=[
            Metric(column="rev", weight=0.5, name="rev_target", normalisation="target", target=10),
            Metric(column="rev", weight=0.5, name="rev_rank", normalisation="percentile"),
        ]
    )
    got = score_scorecard(pd.DataFrame({"person": ["a", "b"], "rev": [5.0, 10.0]}), card)
    assert list(got.columns) == ["rev_target_points", "rev_rank_points", "total", "rank"]
    np.testing.assert_allclose(got["total"], [0.25, 1.0])


# -- properties ---------------------------------------------------------------------------------


@st.composite
def metrics_st(draw: st.DrawFn, i: int, *, higher_only: bool = False) -> Metric:
    norm = draw(st.sampled_from(NORMALISATIONS))
    direction = "higher" if higher_only else draw(st.sampled_from(["higher", "lower"]))
    kw: dict[str, object] = {}
    if norm == "target":
        kw["target"] = draw(st.sampled_from([10.0, 50.0, 100.0]))
        kw["cap"] = draw(st.sampled_from([1.2, 1.5, 3.0]))
    elif norm == "minmax" and draw(st.booleans()):
        kw["scale"] = (0.0, 100.0)
    if draw(st.booleans()) and norm != "target":
        kw["cap"] = 0.9 if norm != "zscore" else 1.5
    if draw(st.booleans()):
        kw["floor"] = -1.0 if norm == "zscore" else 0.1
    weight = draw(st.integers(1, 5))
    return Metric(column=f"m{i}", weight=weight, direction=direction, normalisation=norm, **kw)


@st.composite
def cards_and_frames(
    draw: st.DrawFn, *, higher_only: bool = False, with_period: bool = False
) -> tuple[Scorecard, pd.DataFrame]:
    k = draw(st.integers(1, 4))
    metrics = [draw(metrics_st(i, higher_only=higher_only)) for i in range(k)]
    card = Scorecard(metrics=metrics, normalise_weights=True)
    n = draw(st.integers(1, 10))
    data: dict[str, object] = {"person": [f"p{i:02d}" for i in range(n)]}
    for i in range(k):
        data[f"m{i}"] = np.asarray(
            draw(st.lists(st.integers(0, 100), min_size=n, max_size=n)), dtype=np.float64
        )
    frame = pd.DataFrame(data)
    if with_period:
        frame["period"] = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
        frame["person"] = [f"p{i:02d}" for i in range(n)]  # unique per period anyway
    return card, frame


@given(cards_and_frames(higher_only=True), st.data())
def test_score_is_monotone_in_each_higher_is_better_metric(case, data):
    card, frame = case
    who = data.draw(st.integers(0, len(frame) - 1))
    j = data.draw(st.integers(0, len(card.metrics) - 1))
    col = f"m{j}"
    bump = data.draw(st.integers(1, 100))
    better = frame.copy()
    better.loc[who, col] = min(100.0, better.loc[who, col] + bump)
    before = score_scorecard(frame, card)["total"].iloc[who]
    after = score_scorecard(better, card)["total"].iloc[who]
    assert after >= before - 1e-9


@given(cards_and_frames(with_period=True))
def test_ranks_are_a_permutation_when_totals_are_distinct(case):
    card, frame = case
    got = score_scorecard(frame, card, period_column="period")
    for _, g in got.groupby(level="period"):
        if g["total"].is_unique:
            assert sorted(g["rank"]) == list(range(1, len(g) + 1))
            # rank 1 has the highest total
            assert g["total"].iloc[int(np.argmin(g["rank"]))] == g["total"].max()
        else:  # "min" ties: every rank r has exactly r - 1 people strictly above
            for total, rank in zip(g["total"], g["rank"], strict=True):
                assert rank == 1 + int((g["total"] > total).sum())


@settings(max_examples=30)  # four full runs per example
@given(cards_and_frames(with_period=True), st.integers(0, 1000))
def test_row_order_changes_nothing(case, seed):
    card, frame = case
    a = score_scorecard(frame, card, period_column="period")
    b = score_scorecard(shuffled(frame, seed), card, period_column="period")
    pd.testing.assert_frame_equal(a, b)
    ea = explain_scorecard(frame, card, period_column="period")
    eb = explain_scorecard(shuffled(frame, seed), card, period_column="period")
    pd.testing.assert_frame_equal(ea, eb)


@given(cards_and_frames())
def test_points_reconcile_with_total(case):
    card, frame = case
    scores = score_scorecard(frame, card)
    pts = scores[[f"{m.name}_points" for m in card.metrics]].sum(axis=1)
    np.testing.assert_allclose(pts.to_numpy(), scores["total"].to_numpy(), atol=1e-11)
    ex = explain_scorecard(frame, card)
    np.testing.assert_allclose(
        ex.groupby("person", sort=True)["points"].sum().to_numpy(),
        scores["total"].to_numpy(),
        atol=1e-11,
    )


@given(cards_and_frames())
def test_scorecard_round_trip(case):
    card, _ = case
    again = Scorecard.from_dict(card.to_dict())
    assert again == card
    assert again.weights == card.weights


@given(st.lists(st.integers(0, 50), min_size=1, max_size=12))
def test_minmax_and_percentile_totals_lie_in_unit_interval(values):
    card = Scorecard(
        metrics=[
            Metric(column="a", weight=0.5),
            Metric(column="a", weight=0.5, normalisation="percentile", name="p"),
        ]
    )
    frame = pd.DataFrame({"person": range(len(values)), "a": np.asarray(values, dtype=float)})
    total = score_scorecard(frame, card)["total"]
    assert ((total >= 0) & (total <= 1)).all()


# -- bad input ----------------------------------------------------------------------------------


def _metric(**kw: object) -> Metric:
    return Metric(**{"column": "x", "weight": 1.0, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: Scorecard(metrics=[_metric(weight=0.6)]), ConfigError, r"sum to 0\.6, expected 1"),
        (
            lambda: Scorecard(metrics=[_metric(weight=0.5), _metric(column="y", weight=0.6)]),
            ConfigError,
            "normalise_weights=True",
        ),
        (lambda: Scorecard(metrics=[]), ConfigError, "at least one metric"),
        (lambda: Scorecard(metrics=[_metric(), _metric()]), ConfigError, "'x' appears twice"),
        (lambda: Scorecard(metrics=[_metric(weight=0)]), ConfigError, "all zero"),
        (lambda: Scorecard(metrics=["x"]), ConfigError, "must hold Metric objects"),
        (lambda: _metric(normalisation="rank"), ConfigError, "normalisation='rank' is not one of"),
        (lambda: _metric(direction="up"), ConfigError, "direction='up' is not one of"),
        (lambda: _metric(weight=-1), ConfigError, r"weight == -1\.0"),
        (lambda: _metric(weight=float("nan")), ConfigError, "must be finite"),
        (lambda: _metric(normalisation="target"), ConfigError, "needs target > 0"),
        (lambda: _metric(normalisation="target", target=0), ConfigError, "needs target > 0"),
        (lambda: _metric(target=5), ConfigError, "only used with normalisation 'target'"),
        (lambda: _metric(scale=(5, 1)), ConfigError, "low < high"),
        (lambda: _metric(scale=(1, 2, 3)), ConfigError, r"pair \(low, high\)"),
        (lambda: _metric(normalisation="zscore", scale=(1, 5)), ConfigError, "only used with"),
        (lambda: _metric(cap=0.5, floor=0.5), ConfigError, "must be below cap"),
        (lambda: _metric(column=""), ConfigError, "non-empty text"),
        (
            lambda: Metric.from_dict({"column": "x", "weight": 1, "wieght": 2}),
            ConfigError,
            "unknown Metric field",
        ),
        (
            lambda: Scorecard.from_dict({"metrics": [], "extra": 1}),
            ConfigError,
            "unknown Scorecard field",
        ),
    ],
)
def test_bad_configs(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


ONE = Scorecard(metrics=[Metric(column="x", weight=1)])


@pytest.mark.parametrize(
    ("frame", "card", "kw", "exc", "match"),
    [
        (
            pd.DataFrame({"person": ["a", "b"], "x": [1.0, np.nan]}),
            ONE,
            {},
            DataError,
            r"column 'x' of frame has NaN at row 1 \(person='b'\)",
        ),
        (pd.DataFrame({"person": ["a"], "y": [1.0]}), ONE, {}, SchemaError, "missing column.*'x'"),
        (pd.DataFrame({"person": [], "x": []}), ONE, {}, SchemaError, "is empty"),
        (
            pd.DataFrame({"person": ["a", "a"], "x": [1.0, 2.0]}),
            ONE,
            {},
            DataError,
            "second row for the same 'person' at row 1",
        ),
        (
            pd.DataFrame({"person": ["a", None], "x": [1.0, 2.0]}),
            ONE,
            {},
            DataError,
            "missing value at row 1",
        ),
        (
            pd.DataFrame({"person": ["a"], "x": ["lots"]}),
            ONE,
            {},
            ColumnTypeError,
            "non-numeric value 'lots'",
        ),
        (pd.DataFrame({"person": ["a"], "x": [np.inf]}), ONE, {}, DataError, "infinite value"),
        (
            pd.DataFrame({"person": ["a", "b"], "x": [3.0, 6.0]}),
            Scorecard(metrics=[Metric(column="x", weight=1, scale=(1, 5))]),
            {},
            DataError,
            r"value 6\.0 at row 1 \(person='b'\) outside the scale \[1, 5\]",
        ),
        (
            pd.DataFrame({"person": ["a"], "x": [0.0]}),
            Scorecard(
                metrics=[
                    Metric(
                        column="x", weight=1, normalisation="target", target=5, direction="lower"
                    )
                ]
            ),
            {},
            DataError,
            "give metric 'x' a cap",
        ),
        (
            pd.DataFrame({"person": ["a"], "x": [-2.0]}),
            Scorecard(
                metrics=[
                    Metric(
                        column="x",
                        weight=1,
                        normalisation="target",
                        target=5,
                        direction="lower",
                        cap=2,
                    )
                ]
            ),
            {},
            DataError,
            "negative value -2.0",
        ),
        (
            pd.DataFrame({"person": ["a"], "x": [1.0]}),
            ONE,
            {"missing": "drop"},
            ConfigError,
            "missing='drop' is not one of",
        ),
        (
            pd.DataFrame({"person": ["a"], "x": [1.0]}),
            {"metrics": []},
            {},
            ConfigError,
            "must be a Scorecard",
        ),
        (
            pd.DataFrame({"person": ["a"], "x": [1.0]}),
            ONE,
            {"period_column": "month"},
            SchemaError,
            "'month'",
        ),
    ],
)
def test_bad_frames(frame, card, kw, exc, match):
    with pytest.raises(exc, match=match):
        score_scorecard(frame, card, **kw)
    with pytest.raises(exc, match=match):
        explain_scorecard(frame, card, **kw)


@given(cards_and_frames(with_period=True))
def test_percentile_matches_pandas_average_rank_within_periods(case):
    _, frame = case
    card = Scorecard(metrics=[Metric(column="m0", weight=1, normalisation="percentile")])
    ex = explain_scorecard(frame, card, period_column="period")
    ordered = frame.sort_values(["period", "person"]).reset_index(drop=True)
    r = ordered.groupby("period")["m0"].rank(method="average")
    n = ordered.groupby("period")["m0"].transform("count")
    want = np.where(n > 1, (r - 1) / (n - 1).where(n > 1, 1), 0.5)
    np.testing.assert_allclose(ex["normalised"].to_numpy(), want)


@pytest.mark.parametrize("bad", ["0.5", None, True])
def test_metric_numbers_must_be_numbers(bad):
    with pytest.raises(ConfigError, match="expected a number"):
        Metric(column="x", weight=bad)


# The fast rank (per-period sorts for contiguous groups, else one global sort) against pandas'
# groupby rank as a simple reference, on ties, NaN, sorted and unsorted groups.
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),
            st.one_of(st.sampled_from([0.0, 1.0, 2.5, -3.0]), st.just(math.nan)),
        ),
        min_size=1,
        max_size=60,
    ),
    st.booleans(),
    st.sampled_from(["average", "min"]),
    st.booleans(),
)
def test_group_rank_matches_pandas_reference(
    rows: list[tuple[int, float]], contiguous: bool, method: str, descending: bool
) -> None:
    from crmcore.kpi._scoring import group_rank as _group_rank

    if contiguous:
        rows = sorted(rows, key=lambda r: r[0])
    group = np.array([g for g, _ in rows], dtype=np.intp)
    values = np.array([v for _, v in rows], dtype=np.float64)
    got = _group_rank(values, group, method=method, descending=descending)
    want = (
        pd.Series(values)
        .groupby(group)
        .rank(method=method, ascending=not descending, na_option="keep")
        .to_numpy()
    )
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("field", ["weight", "target", "cap", "floor"])
def test_metric_numbers_name_their_field(field: str) -> None:
    # issue 14 catalogue: "expected a number or None, got True" said not which field
    kwargs = {"column": "revenue", "weight": 0.5, field: True}
    with pytest.raises(ConfigError, match=rf"^{field}: expected a number.*, got True$"):
        Metric(**kwargs)  # type: ignore[arg-type]


# score_scorecard scores rows already in (period, person) order in chunks of whole periods
# without sorting; shuffled rows take the sorting path. Both must give the same frame, bit for
# bit, and the same points as explain_scorecard (which scores the whole frame at once), for
# any chunk size (patched small so that examples span several chunks).
@settings(max_examples=40)
@given(
    cards_and_frames(),
    st.integers(1, 4),
    st.integers(0, 1000),
    st.sampled_from([1, 2, 3, 7, 1 << 17]),
    st.booleans(),
)
def test_rows_in_key_order_score_like_the_sorting_path(
    case: tuple[Scorecard, pd.DataFrame], n_periods: int, seed: int, chunk: int, nan: bool
) -> None:
    from unittest import mock

    from crmcore.kpi import _scoring

    card, people = case
    n = len(people)
    frame = pd.concat([people] * n_periods, ignore_index=True)
    frame["period"] = np.repeat(np.arange(n_periods) * 10, n)
    frame["person"] = np.tile(np.arange(n) + 100, n_periods)
    missing = "raise"
    if nan:
        frame.loc[frame.index % 3 == 1, "m0"] = np.nan
        missing = "zero"
    with mock.patch.object(_scoring, "CHUNK", chunk):
        ordered = score_scorecard(frame, card, period_column="period", missing=missing)
    mixed = score_scorecard(shuffled(frame, seed), card, period_column="period", missing=missing)
    pd.testing.assert_frame_equal(ordered, mixed, check_exact=True)
    explained = explain_scorecard(frame, card, period_column="period", missing=missing)
    for i, metric in enumerate(card.metrics):
        points = explained["points"].to_numpy()[i :: len(card.metrics)]
        np.testing.assert_array_equal(ordered[f"{metric.name}_points"].to_numpy(), points)
    single = score_scorecard(frame[frame["period"] == 0], card, missing=missing)
    assert single.index.name == "person"


# -- ratios beyond the largest float ------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "target", "value", "how"),
    [("higher", 1e-300, 1e10, "value / target"), ("lower", 1e300, 1e-10, "target / value")],
)
def test_target_ratio_beyond_the_largest_float_is_refused_without_a_cap(
    direction: str, target: float, value: float, how: str
) -> None:
    # 1e10 / 1e-300 = 1e310 and 1e300 / 1e-10 = 1e310: no float holds either.
    card = Scorecard(
        metrics=[
            Metric(column="x", weight=1, normalisation="target", target=target, direction=direction)
        ]
    )
    frame = pd.DataFrame({"person": ["a", "b"], "x": [1.0, value]}, index=[10, 20])
    with pytest.raises(DataError, match=rf"value \S+ at row 20 \(person='b'\); {how}") as e:
        score_scorecard(frame, card)
    assert (e.value.column, e.value.row) == ("x", 20)


def test_target_ratio_beyond_the_largest_float_earns_the_cap_when_there_is_one() -> None:
    m = Metric(column="x", weight=1, normalisation="target", target=1e-300, cap=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from the overflowing division
        np.testing.assert_allclose(one(m, [1e10, 1e-301]), [2.0, 0.1])


@given(
    values=st.lists(st.floats(0, 1e308), min_size=1, max_size=6),
    target=st.floats(1e-308, 1e308),
    direction=st.sampled_from(["higher", "lower"]),
)
def test_target_points_are_finite_or_refused(
    values: list[float], target: float, direction: str
) -> None:
    card = Scorecard(
        metrics=[
            Metric(column="x", weight=1, normalisation="target", target=target, direction=direction)
        ]
    )
    frame = pd.DataFrame({"person": [f"p{i}" for i in range(len(values))], "x": values})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            out = score_scorecard(frame, card)
        except DataError:
            return
    assert np.isfinite(out["total"].to_numpy()).all()


def test_minmax_of_values_spanning_more_than_the_largest_float():
    # min -1.7e308, max 1.7e308: max - min overflows, the positions do not:
    # (v - min) / (max - min) = 0, 1/2, 3/4, 1 (computed at half scale, exactly)
    big = 1.7e308
    hi = Metric(column="x", weight=1)
    lo = Metric(column="x", weight=1, direction="lower")
    np.testing.assert_allclose(one(hi, [-big, 0.0, big / 2, big]), [0, 0.5, 0.75, 1])
    np.testing.assert_allclose(one(lo, [-big, 0.0, big / 2, big]), [1, 0.5, 0.25, 0])
    # a fixed scale that spans past the largest float
    m = Metric(column="x", weight=1, scale=(-big, big))
    np.testing.assert_allclose(one(m, [0.0, big]), [0.5, 1.0])


@given(
    st.lists(st.floats(min_value=-1e3, max_value=1e3), min_size=2, max_size=12),
    st.integers(min_value=1000, max_value=1013),
)
def test_minmax_does_not_depend_on_a_power_of_two_scale(values, k):
    # the same values near 1.8e308 (their span may overflow) and near 1: the same points
    m = Metric(column="x", weight=1)
    big = [v * 2.0**k for v in values]
    np.testing.assert_allclose(one(m, big), one(m, values), rtol=1e-12, atol=1e-12)
