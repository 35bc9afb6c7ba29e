"""RFM scores: hand-worked edges, heavy ties, serialisation, properties, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from crmcore.datasets import transactions
from crmcore.errors import ColumnTypeError, ConfigError, DataError, InputTypeError, SchemaError
from crmcore.segmentation import (
    RFMBins,
    btyd_summary,
    fit_rfm_bins,
    rfm_scores,
    rfm_summary,
    score_rfm,
)
from helpers import call_unmutated, shuffled
from strategies_segmentation import summaries

# Ten customers. Quantiles at 0.2, 0.4, 0.6, 0.8 with numpy's linear rule: position
# (n - 1) * q = 1.8, 3.6, 5.4, 7.2 in the sorted values.
SUMMARY = pd.DataFrame(
    {
        # sorted: 0 1 2 3 5 8 13 21 34 55 -> edges 1.8, 3 + .6*2 = 4.2, 8 + .4*5 = 10,
        #                                     21 + .2*13 = 23.6
        "recency": [55, 0, 34, 1, 21, 2, 13, 3, 8, 5],
        # frequency: seven customers bought once -> sorted 1 1 1 1 1 1 1 2 3 9, quantiles
        # 1, 1, 1 and 2 + .2 * (3 - 2) = 2.2
        "frequency": [1, 1, 1, 1, 1, 1, 1, 2, 3, 9],
        # sorted: 10 .. 100 step 10 -> edges 28, 46, 64, 82
        "monetary": [100.0, 90.0, 80.0, 70.0, 60.0, 50.0, 40.0, 30.0, 20.0, 10.0],
    },
    index=pd.Index(list("jihgfedcba"), name="customer_id"),
)


def test_fit_rfm_bins_hand_worked() -> None:
    b = call_unmutated(fit_rfm_bins, SUMMARY, 5)
    assert b.bins == 5
    np.testing.assert_allclose(b.recency, [1.8, 4.2, 10.0, 23.6])
    # duplicate quantiles (1, 1, 1) collapse into one edge
    np.testing.assert_allclose(b.frequency, [1.0, 2.2])
    np.testing.assert_allclose(b.monetary, [28.0, 46.0, 64.0, 82.0])


def test_score_rfm_hand_worked() -> None:
    b = fit_rfm_bins(SUMMARY, 5)
    out = call_unmutated(score_rfm, SUMMARY, b)
    # sorted by customer id a..j
    assert out.index.tolist() == list("abcdefghij")
    # recency a..j = 5 8 3 13 2 21 1 34 0 55; r = 1 + #edges above the value:
    # 5 -> {10, 23.6} -> 3; 8 -> 3; 3 -> 4; 13 -> 2; 2 -> 4; 21 -> 2; 1 -> 5; 34 -> 1; 0 -> 5;
    # 55 -> 1
    assert out["r_score"].tolist() == [3, 3, 4, 2, 4, 2, 5, 1, 5, 1]
    # frequency a..j = 9 3 2 1 1 1 1 1 1 1; f = 1 + #edges below: 9 -> 3, 3 -> 3, 2 -> 2, 1 -> 1
    assert out["f_score"].tolist() == [3, 3, 2, 1, 1, 1, 1, 1, 1, 1]
    # monetary a..j = 10 .. 100: 10, 20 -> 1; 30, 40 -> 2; 50, 60 -> 3; 70, 80 -> 4; 90, 100 -> 5
    assert out["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert out["rfm_score"].tolist() == [331, 331, 422, 212, 413, 213, 514, 114, 515, 115]
    assert all(out[c].dtype == np.int64 for c in out.columns)


def test_all_equal_values_never_crash() -> None:
    flat = pd.DataFrame({"recency": [7] * 6, "frequency": [1] * 6, "monetary": [5.0] * 6})
    b = fit_rfm_bins(flat)
    assert (b.recency, b.frequency, b.monetary) == ((7.0,), (1.0,), (5.0,))
    out = score_rfm(flat, b)
    assert out["rfm_score"].tolist() == [111] * 6


def test_single_customer() -> None:
    one = pd.DataFrame({"recency": [3], "frequency": [2], "monetary": [9.0]}, index=[42])
    assert rfm_scores(one)["rfm_score"].tolist() == [111]


def test_fitted_edges_score_other_data_with_clamping() -> None:
    b = fit_rfm_bins(SUMMARY, 5)
    later = pd.DataFrame(
        {"recency": [-3, 1000], "frequency": [500, 0], "monetary": [1e9, -50.0]},
        index=[100, 101],
    )
    out = score_rfm(later, b)
    # beyond the fitted range: best reachable scores (5, 3 = 1 + two frequency edges, 5) and 1s
    assert out["rfm_score"].tolist() == [535, 111]


def test_amounts_near_the_largest_float_score_without_overflow() -> None:
    # issue #14's catalogue: with refunds allowed, monetary totals of both signs near the largest
    # float made numpy's interpolation (b - a) overflow. Sorted monetary -1.5e308, 0, 3e307,
    # 1.5e308; quantiles at 1/3 and 2/3 sit at positions 1 and 2 of the sorted values:
    # edges 0 and 3e307 exactly. Scores: -1.5e308 -> 1, 0 -> 1, 3e307 -> 2, 1.5e308 -> 3.
    summary = pd.DataFrame(
        {
            "recency": [1, 2, 3, 4],
            "frequency": [1, 2, 3, 4],
            "monetary": [1.5e308, -1.5e308, 3e307, 0.0],
        },
        index=pd.Index([1, 2, 3, 4], name="customer_id"),
    )
    assert fit_rfm_bins(summary, 3).monetary == (0.0, 3e307)
    assert call_unmutated(rfm_scores, summary, 3)["m_score"].tolist() == [3, 1, 2, 1]
    # two customers: the median edge is halfway, -1.5e308 + 0.5 * 3e308 = 0 (3e308 overflows)
    pair = summary.iloc[:2]
    assert fit_rfm_bins(pair, 2).monetary == (0.0,)
    assert rfm_scores(pair, 2)["m_score"].tolist() == [2, 1]
    # edges that far apart are valid bins (checked by comparing, not subtracting)
    assert RFMBins(bins=2, recency=[1.0], frequency=[1.0], monetary=[-1e308]).bins == 2
    assert RFMBins(bins=3, recency=[1.0], frequency=[1.0], monetary=[-1e308, 1e308]).bins == 3


def test_score_rfm_on_empty_partition() -> None:
    b = fit_rfm_bins(SUMMARY)
    out = score_rfm(SUMMARY.iloc[:0], b)
    assert out.empty
    assert list(out.columns) == ["r_score", "f_score", "m_score", "rfm_score"]


def test_rfm_scores_equals_the_two_steps_that_keep_the_bins() -> None:
    out = call_unmutated(rfm_scores, SUMMARY, 4)
    assert out.attrs == {}  # the edges come back from fit_rfm_bins, not in attrs
    b = RFMBins.from_dict(fit_rfm_bins(SUMMARY, 4).to_dict())
    pd.testing.assert_frame_equal(score_rfm(SUMMARY, b), out)


def test_customer_column_and_btyd_names() -> None:
    tx = transactions(40, n_transactions=200, seed=5)
    b = btyd_summary(tx, amount="amount").reset_index()
    out = call_unmutated(rfm_scores, b, 3, customer="customer_id", monetary="monetary_value")
    assert out.index.name == "customer_id"
    assert out.index.tolist() == sorted(b["customer_id"])


def test_real_data_heavy_ties_frequency() -> None:
    # synthetic data: many one-off buyers
    summary = rfm_summary(transactions(300, n_transactions=600, seed=2))
    out = rfm_scores(summary)
    assert out["f_score"].between(1, 5).all()
    assert out["f_score"].min() == 1


def test_matches_qcut_when_quantiles_distinct() -> None:
    values = pd.Series(np.arange(1.0, 21.0) ** 1.5)
    frame = pd.DataFrame({"recency": values, "frequency": values, "monetary": values})
    out = rfm_scores(frame, 4)
    q = pd.qcut(values, 4, labels=False) + 1
    assert out["f_score"].tolist() == q.tolist()
    assert out["r_score"].tolist() == (5 - q).tolist()


# ---------------------------------------------------------------------------- properties
@given(summary=summaries(), bins=st.integers(2, 9), seed=st.integers(0, 2**16))
def test_score_properties(summary: pd.DataFrame, bins: int, seed: int) -> None:
    b = fit_rfm_bins(summary, bins)
    out = score_rfm(summary, b)
    for col in ("r_score", "f_score", "m_score"):
        assert out[col].between(1, bins).all()
    assert out.index.is_monotonic_increasing
    assert (out["rfm_score"] == 100 * out["r_score"] + 10 * out["f_score"] + out["m_score"]).all()
    # order of rows changes nothing (fitting included)
    pd.testing.assert_frame_equal(
        rfm_scores(shuffled(summary, seed), bins), rfm_scores(summary, bins)
    )
    s = summary.loc[out.index]
    for metric, score, sign in (
        ("recency", "r_score", -1),
        ("frequency", "f_score", 1),
        ("monetary", "m_score", 1),
    ):
        # a function of the value alone: equal values, equal scores
        assert (out.groupby(s[metric].to_numpy())[score].nunique() == 1).all()
        # monotone: better value, score at least as high
        order = np.argsort(sign * s[metric].to_numpy(), kind="stable")
        assert (np.diff(out[score].to_numpy()[order]) >= 0).all()


@given(summary=summaries(), other=summaries(), bins=st.integers(2, 9))
def test_fitted_bins_score_other_partitions(
    summary: pd.DataFrame, other: pd.DataFrame, bins: int
) -> None:
    b = fit_rfm_bins(summary, bins)
    both = pd.concat([summary, other[~other.index.isin(summary.index)]])
    whole = score_rfm(both, b)
    part = score_rfm(other[~other.index.isin(summary.index)], b)
    pd.testing.assert_frame_equal(whole.loc[part.index], part)


@given(summary=summaries(), bins=st.integers(2, 9))
def test_bins_round_trip(summary: pd.DataFrame, bins: int) -> None:
    b = fit_rfm_bins(summary, bins)
    assert RFMBins.from_dict(b.to_dict()) == b
    import json

    assert RFMBins.from_dict(json.loads(json.dumps(b.to_dict()))) == b


@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=4, max_size=30),
    bins=st.integers(2, 9),
)
def test_qcut_equivalence_without_duplicate_edges(values: list[float], bins: int) -> None:
    s = pd.Series(values)
    # Edges that differ only by rounding (-1.0000000000000002 and -1.0) are one edge for
    # fit_rfm_bins but two for qcut: require clearly distinct edges.
    all_edges = np.quantile(s, np.linspace(0, 1, bins + 1))
    assume(bool((np.diff(all_edges) > 1e-9 * (1.0 + np.abs(all_edges[1:]))).all()))
    frame = pd.DataFrame({"recency": s, "frequency": s, "monetary": s})
    out = score_rfm(frame, fit_rfm_bins(frame, bins))["m_score"].to_numpy()
    expected = (pd.qcut(s, bins, labels=False) + 1).to_numpy()
    # pandas computes its edges at np.linspace(0, 1, bins + 1), which can differ from k / bins
    # in the last bit: a value lying on an edge may then fall on either side of it (pandas 2.2
    # puts 4.0 above an edge of 3.9999999999999996). Elsewhere the scores are identical.
    edges = np.quantile(s, np.linspace(0, 1, bins + 1)[1:-1])
    near = np.isclose(s.to_numpy()[:, None], edges[None, :], rtol=1e-12, atol=1e-12).any(axis=1)
    np.testing.assert_array_equal(out[~near], expected[~near])
    assert (np.abs(out[near] - expected[near]) <= 1).all()


# ---------------------------------------------------------------------------- bad input
def _summary(**changes: object) -> pd.DataFrame:
    base: dict[str, object] = {
        "recency": [1, 2, 3],
        "frequency": [1, 1, 2],
        "monetary": [1.0, 2.0, 3.0],
    }
    base.update(changes)
    return pd.DataFrame(base, index=pd.Index([10, 11, 12], name="customer_id"))


BAD = [
    (
        "missing column",
        _summary().drop(columns="monetary"),
        {},
        SchemaError,
        r"summary is missing column\(s\) 'monetary'",
    ),
    ("empty", _summary().iloc[:0], {}, SchemaError, "summary is empty"),
    ("not a frame", [1, 2, 3], {}, InputTypeError, "summary must be a pandas DataFrame"),
    (
        "NaN",
        _summary(recency=[1, np.nan, 3]),
        {},
        DataError,
        "'recency' of summary has NaN at row 11",
    ),
    (
        "infinite",
        _summary(monetary=[1.0, 2.0, np.inf]),
        {},
        DataError,
        "infinite value inf at row 12",
    ),
    (
        "text",
        _summary(frequency=["1", "many", "2"]),
        {},
        ColumnTypeError,
        "non-numeric value 'many' at row 11",
    ),
    (
        "duplicate index",
        _summary().set_axis(pd.Index([10, 11, 10])),
        {},
        DataError,
        "duplicate customer id 10 at position 2",
    ),
    (
        "duplicate customer column",
        _summary().assign(cid=[5, 6, 5]),
        {"customer": "cid"},
        DataError,
        "column 'cid' of summary has duplicate value 5 at row 12",
    ),
    ("bins too small", _summary(), {"bins": 1}, ConfigError, "bins == 1, must be >= 2"),
    ("bins too large", _summary(), {"bins": 10}, ConfigError, "bins == 10, must be <= 9"),
    ("bins float", _summary(), {"bins": 5.0}, ConfigError, "bins must be int"),
    ("bins bool", _summary(), {"bins": True}, ConfigError, "bins must be int"),
]


@pytest.mark.parametrize(
    ("summary", "kwargs", "exc", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_fit_bad_input(
    summary: object, kwargs: dict[str, object], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        fit_rfm_bins(summary, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(exc, match=match):
        rfm_scores(summary, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("summary", "kwargs", "exc", "match"),
    [b[1:] for b in BAD if b[0] not in ("empty",) and "bins" not in b[2]],
    ids=[b[0] for b in BAD if b[0] not in ("empty",) and "bins" not in b[2]],
)
def test_score_bad_input(
    summary: object, kwargs: dict[str, object], exc: type[Exception], match: str
) -> None:
    b = RFMBins(bins=3, recency=[2], frequency=[1], monetary=[2])
    with pytest.raises(exc, match=match):
        score_rfm(summary, b, **kwargs)  # type: ignore[arg-type]


def test_score_rejects_non_bins() -> None:
    with pytest.raises(InputTypeError, match="rfm_bins must be an RFMBins, got dict"):
        score_rfm(_summary(), {"bins": 5})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bins": 1}, "bins == 1, must be >= 2"),
        ({"recency": [3, 2]}, "recency edges must be strictly increasing; 2.0 at position 1"),
        ({"frequency": [1, 1]}, "frequency edges must be strictly increasing"),
        ({"monetary": [1, float("nan")]}, "monetary has non-finite edge nan at position 1"),
        ({"monetary": [1, 2, 3, 4, 5]}, "monetary has 5 edges; with bins=5 at most 4"),
        ({"recency": "abc"}, "recency must be a sequence of numbers"),
        ({"recency": [[1, 2]]}, "recency must be one-dimensional"),
    ],
)
def test_rfmbins_validation(kwargs: dict[str, object], match: str) -> None:
    fields: dict[str, object] = {"bins": 5, "recency": [1], "frequency": [1], "monetary": [1]}
    fields.update(kwargs)
    with pytest.raises(ConfigError, match=match):
        RFMBins(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"bins": 5, "recency": [], "frequency": []}, r"missing keys \['monetary'\]"),
        (
            {"bins": 5, "recency": [], "frequency": [], "monetary": [], "x": 1},
            r"unknown keys \['x'\]",
        ),
        ([1, 2], "expects a mapping, got list"),
    ],
)
def test_rfmbins_from_dict_rejects(data: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        RFMBins.from_dict(data)  # type: ignore[arg-type]


def test_rfmbins_is_frozen() -> None:
    import attrs

    b = RFMBins(bins=2, recency=[1], frequency=[], monetary=[])
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        b.bins = 3  # type: ignore[misc]


# The comparison-count scorer against the plain binary-search definition (1 + edges beaten).
@given(
    st.lists(st.sampled_from([-1.0, 0.0, 1.0, 2.0, 2.5, 3.0, 7.0]), min_size=1, max_size=40),
    st.lists(st.sampled_from([0.0, 1.0, 2.0, 2.5, 3.0, 5.0, 6.0, 8.0]), max_size=8, unique=True),
    st.booleans(),
)
def test_score_matches_searchsorted_reference(
    values: list[float], edges: list[float], lower_is_better: bool
) -> None:
    from crmcore.segmentation.scores import _score

    v = np.array(values, dtype=np.float64)
    e = np.array(sorted(edges), dtype=np.float64)
    if lower_is_better:
        want = 1 + len(e) - np.searchsorted(e, v, side="right")
    else:
        want = 1 + np.searchsorted(e, v, side="left")
    got = _score(v, tuple(e.tolist()), lower_is_better=lower_is_better)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


def test_boolean_edges_are_refused() -> None:
    # issue 14 catalogue: True was read as the edge 1.0
    with pytest.raises(ConfigError, match=r"recency has boolean edge True at position 1"):
        RFMBins(bins=3, recency=[0.5, True], frequency=[1.0, 2.0], monetary=[50.0, 200.0])
