"""Tests for crmcore.segmentation.segments: SegmentMap, built-in maps, rfm_segments."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ColumnTypeError, ConfigError, DataError, InputTypeError, SchemaError
from crmcore.segmentation import (
    RF_GRID_10,
    SEGMENTS_11,
    SegmentMap,
    SegmentRule,
    rfm_segments,
    segment_summary,
)
from helpers import call_unmutated, shuffled

ELEVEN = [
    "Champions",
    "Loyal Customers",
    "Potential Loyalist",
    "New Customers",
    "Promising",
    "Need Attention",
    "About To Sleep",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
]


def scores_frame(
    rows: list[tuple[int, int, int]], index: list[object] | None = None
) -> pd.DataFrame:
    arr = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
    return pd.DataFrame(
        {"r_score": arr[:, 0], "f_score": arr[:, 1], "m_score": arr[:, 2]},
        index=pd.Index(index if index is not None else range(len(arr)), name="customer_id"),
    )


# ------------------------------------------------------------------ built-in maps: examples

# One explicit example combination per segment, with the rule that decides it.
EXAMPLES_11 = [
    ((5, 5, 5), "Champions"),  # published R4-5 F4-5 M4-5
    ((4, 4, 4), "Champions"),
    ((3, 5, 5), "Loyal Customers"),  # R2-5 F3-5 M3-5, not Champions (R3)
    ((5, 3, 3), "Loyal Customers"),
    ((5, 5, 1), "Loyal Customers"),  # gap filler: R3-5 F4-5, any M
    ((5, 2, 2), "Potential Loyalist"),  # R3-5 F1-3 M1-3
    ((4, 1, 5), "Potential Loyalist"),  # gap filler: R3-5 F1-3, any M
    ((5, 1, 1), "New Customers"),  # R4-5 F1 M1 after Promising took R4
    ((4, 1, 1), "Promising"),  # R3-4 F1 M1 after About To Sleep took R3
    ((3, 3, 3), "Need Attention"),  # R2-3 F2-3 M2-3 before Loyal
    ((3, 2, 3), "Need Attention"),
    ((3, 2, 2), "About To Sleep"),  # R2-3 F1-2 M1-2 before Need Attention
    ((3, 1, 1), "About To Sleep"),
    ((2, 4, 4), "At Risk"),  # R1-2 F2-5 M2-5 before Loyal
    ((1, 5, 1), "At Risk"),  # gap filler: R1-2 F3-5, any M
    ((1, 5, 5), "Can't Lose Them"),  # R1 F4-5 M4-5 before At Risk
    ((2, 1, 1), "Hibernating"),  # R2 F1-2 M1-2 (R1 went to Lost)
    ((2, 1, 5), "Hibernating"),  # gap filler: R2 F1, any M
    ((1, 1, 1), "Lost"),  # Lost narrowed to R1
    ((1, 2, 2), "Lost"),
    ((1, 1, 5), "Lost"),  # gap filler: R1 F1, any M
]


@pytest.mark.parametrize(("combo", "segment"), EXAMPLES_11, ids=[str(c) for c, _ in EXAMPLES_11])
def test_segments_11_examples(combo: tuple[int, int, int], segment: str) -> None:
    assert SEGMENTS_11.segment_of(*combo) == segment


def test_segments_11_every_segment_reachable_and_counted() -> None:
    grid = SEGMENTS_11.to_frame()
    assert len(grid) == 125
    assert list(grid["segment"].cat.categories) == ELEVEN
    counts = grid["segment"].value_counts(sort=False)
    # Counted by hand from the rule table in the docs.
    assert counts.to_dict() == {
        "Champions": 8,
        "Loyal Customers": 30,
        "Potential Loyalist": 28,
        "New Customers": 1,
        "Promising": 1,
        "Need Attention": 3,
        "About To Sleep": 4,
        "At Risk": 32,
        "Can't Lose Them": 4,
        "Hibernating": 7,
        "Lost": 7,
    }
    assert {s for _, s in EXAMPLES_11} == set(ELEVEN)


def test_segments_11_agrees_with_published_ranges_where_they_do_not_conflict() -> None:
    # Published R/F/M ranges (rfm package vignette / Putler). Where a combination lies in
    # exactly one published box, the map must give that box's segment.
    published = {
        "Champions": ((4, 5), (4, 5), (4, 5)),
        "Loyal Customers": ((2, 5), (3, 5), (3, 5)),
        "Potential Loyalist": ((3, 5), (1, 3), (1, 3)),
        "New Customers": ((4, 5), (1, 1), (1, 1)),
        "Promising": ((3, 4), (1, 1), (1, 1)),
        "Need Attention": ((2, 3), (2, 3), (2, 3)),
        "About To Sleep": ((2, 3), (1, 2), (1, 2)),
        "At Risk": ((1, 2), (2, 5), (2, 5)),
        "Can't Lose Them": ((1, 1), (4, 5), (4, 5)),
        "Hibernating": ((1, 2), (1, 2), (1, 2)),
        "Lost": ((1, 2), (1, 2), (1, 2)),
    }
    checked = 0
    for combo in itertools.product(range(1, 6), repeat=3):
        inside = [
            name
            for name, box in published.items()
            if all(lo <= s <= hi for s, (lo, hi) in zip(combo, box, strict=True))
        ]
        if len(inside) == 1:
            assert SEGMENTS_11.segment_of(*combo) == inside[0], combo
            checked += 1
    assert checked > 40


RF_EXAMPLES = [
    ((1, 1), "Hibernating"),
    ((2, 2), "Hibernating"),
    ((1, 3), "At Risk"),
    ((2, 4), "At Risk"),
    ((1, 5), "Can't Lose Them"),
    ((3, 2), "About To Sleep"),
    ((3, 3), "Need Attention"),
    ((3, 5), "Loyal Customers"),
    ((4, 4), "Loyal Customers"),
    ((4, 1), "Promising"),
    ((5, 1), "New Customers"),
    ((4, 2), "Potential Loyalist"),
    ((5, 3), "Potential Loyalist"),
    ((5, 4), "Champions"),
    ((5, 5), "Champions"),
]


@pytest.mark.parametrize(("rf", "segment"), RF_EXAMPLES, ids=[str(c) for c, _ in RF_EXAMPLES])
def test_rf_grid_examples_ignore_monetary(rf: tuple[int, int], segment: str) -> None:
    for m in range(1, 6):
        assert RF_GRID_10.segment_of(rf[0], rf[1], m) == segment


def test_rf_grid_region_sizes() -> None:
    counts = RF_GRID_10.to_frame()["segment"].value_counts(sort=False).to_dict()
    # cells of the 5x5 grid times 5 monetary scores
    cells = {
        "Champions": 2,
        "Loyal Customers": 4,
        "Potential Loyalist": 4,
        "New Customers": 1,
        "Promising": 1,
        "Need Attention": 1,
        "About To Sleep": 2,
        "At Risk": 4,
        "Can't Lose Them": 2,
        "Hibernating": 4,
    }
    assert counts == {k: 5 * v for k, v in cells.items()}
    assert RF_GRID_10.overlap == "error"


def test_published_table_as_is_is_not_a_partition() -> None:
    # The published ranges taken literally, in table order: 36 combinations are uncovered.
    def box(name: str, r: tuple[int, int], f: tuple[int, int], m: tuple[int, int]) -> SegmentRule:
        return SegmentRule(
            segment=name, r=range(r[0], r[1] + 1), f=range(f[0], f[1] + 1), m=range(m[0], m[1] + 1)
        )

    literal = [
        box("Champions", (4, 5), (4, 5), (4, 5)),
        box("Loyal Customers", (2, 5), (3, 5), (3, 5)),
        box("Potential Loyalist", (3, 5), (1, 3), (1, 3)),
        box("New Customers", (4, 5), (1, 1), (1, 1)),
        box("Promising", (3, 4), (1, 1), (1, 1)),
        box("Need Attention", (2, 3), (2, 3), (2, 3)),
        box("About To Sleep", (2, 3), (1, 2), (1, 2)),
        box("At Risk", (1, 2), (2, 5), (2, 5)),
        box("Can't Lose Them", (1, 1), (4, 5), (4, 5)),
        box("Hibernating", (1, 2), (1, 2), (1, 2)),
        box("Lost", (1, 2), (1, 2), (1, 2)),
    ]
    with pytest.raises(ConfigError, match=r"leaves 36 score combination\(s\).*\(r=1, f=1, m=3\)"):
        SegmentMap(rules=literal)
    # With a catch-all, precedence still leaves published segments unreachable.
    # first match wins: New Customers and Promising sit inside Potential Loyalist, Can't Lose
    # Them inside At Risk, Lost is identical to Hibernating.
    never = r"""\['New Customers', 'Promising', "Can't Lose Them", 'Lost'\] are never"""
    with pytest.raises(ConfigError, match=never):
        SegmentMap(rules=[*literal, SegmentRule(segment="Others")])


def test_pickle_keeps_map_and_read_only_lookup() -> None:
    again = pickle.loads(pickle.dumps(SEGMENTS_11))
    assert again == SEGMENTS_11
    assert hash(again) == hash(SEGMENTS_11)
    assert not again.lookup.flags.writeable
    assert again.to_frame().equals(SEGMENTS_11.to_frame())


def test_builtins_round_trip_and_are_frozen() -> None:
    for seg_map in (SEGMENTS_11, RF_GRID_10):
        again = SegmentMap.from_dict(seg_map.to_dict())
        assert again == seg_map
        assert again.to_frame().equals(seg_map.to_frame())
        with pytest.raises(AttributeError):
            seg_map.bins = 4  # type: ignore[misc]
        with pytest.raises(ValueError, match="read-only"):
            seg_map.lookup[0] = 3


# ------------------------------------------------------------------ SegmentMap validation


def two_bin_rules() -> list[SegmentRule]:
    return [SegmentRule(segment="Best", r=2, f=2), SegmentRule(segment="Rest")]


def test_precedence_first_match_wins() -> None:
    m = SegmentMap(bins=2, rules=two_bin_rules())
    frame = m.to_frame()
    assert frame["segment"].tolist() == ["Rest"] * 6 + ["Best"] * 2
    assert frame["rule"].tolist() == [1] * 6 + [0] * 2
    # explicit display order differs from rule order
    m2 = SegmentMap(bins=2, rules=two_bin_rules(), segments=["Rest", "Best"])
    assert list(m2.to_frame()["segment"].cat.categories) == ["Rest", "Best"]


BAD_MAPS = [
    ({"rules": []}, ConfigError, "rules is empty"),
    ({"rules": [SegmentRule(segment="A", r=1)]}, ConfigError, r"leaves 4 score.*\(r=2, f=1, m=1\)"),
    (
        {"rules": [SegmentRule(segment="A", r=3), SegmentRule(segment="B")]},
        ConfigError,
        "uses r score 3, above bins=2",
    ),
    (
        {"rules": [SegmentRule(segment="A"), SegmentRule(segment="B", r=1)]},
        ConfigError,
        r"segment\(s\) \['B'\] are never reached",
    ),
    (
        {
            "rules": [
                SegmentRule(segment="A", r=1),
                SegmentRule(segment="A", r=1, f=1),
                SegmentRule(segment="B"),
            ]
        },
        ConfigError,
        r"rule\(s\) never apply.*rule 1 \(A: R 1, F 1, M any\)",
    ),
    (
        {"rules": [SegmentRule(segment="A", r=1), SegmentRule(segment="B")], "overlap": "error"},
        ConfigError,
        r"overlap='error' but 4 score combination\(s\) match several rules: \(r=1, f=1, m=1\)",
    ),
    ({"rules": two_bin_rules(), "bins": 1}, ConfigError, "bins == 1, must be >= 2"),
    ({"rules": two_bin_rules(), "bins": 2.0}, ConfigError, "bins must be int"),
    ({"rules": two_bin_rules(), "overlap": "last"}, ConfigError, "overlap='last' is not one of"),
    ({"rules": two_bin_rules(), "segments": ["Best"]}, ConfigError, r"missing \['Rest'\]"),
    ({"rules": two_bin_rules(), "segments": ["Best", "Rest", "X"]}, ConfigError, r"\['X'\]"),
    ({"rules": two_bin_rules(), "segments": ["Best", "Best"]}, ConfigError, "twice"),
    ({"rules": two_bin_rules(), "segments": "Best"}, ConfigError, "not a single string"),
    ({"rules": [("A", 1, 1, 1)]}, ConfigError, "SegmentRule or a mapping, got tuple"),
    ({"rules": "A"}, ConfigError, "sequence of SegmentRule"),
    ({"rules": [{"segment": "A", "x": 1}]}, ConfigError, r"unknown SegmentRule field\(s\) \['x'\]"),
]


@pytest.mark.parametrize(("kwargs", "exc", "match"), BAD_MAPS)
def test_bad_maps(kwargs: dict[str, object], exc: type[Exception], match: str) -> None:
    kwargs = {"bins": 2, **kwargs}
    with pytest.raises(exc, match=match):
        SegmentMap(**kwargs)  # type: ignore[arg-type]


BAD_RULES = [
    ({"segment": ""}, "segment must be non-empty text"),
    ({"segment": 3}, "segment must be non-empty text"),
    ({"segment": "A", "r": []}, "lists no scores"),
    ({"segment": "A", "r": 0}, "integers >= 1, got 0"),
    ({"segment": "A", "f": [1, 2.5]}, r"integers >= 1, got 2.5"),
    ({"segment": "A", "m": True}, "must be integers, got True"),
    ({"segment": "A", "m": [True]}, "integers >= 1, got True"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD_RULES)
def test_bad_rules(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        SegmentRule(**kwargs)  # type: ignore[arg-type]


def test_rule_normalises_scores() -> None:
    rule = SegmentRule(segment="A", r=range(2, 4), f=[3, 1, 3], m=np.int64(4))
    assert (rule.r, rule.f, rule.m) == ((2, 3), (1, 3), (4,))
    assert SegmentRule.from_dict(rule.to_dict()) == rule
    assert rule.describe() == "A: R 2-3, F 1,3, M 4"


def test_segment_of_rejects_out_of_range() -> None:
    with pytest.raises(ConfigError, match="r == 6, must be <= 5"):
        SEGMENTS_11.segment_of(6, 1, 1)
    with pytest.raises(ConfigError, match="m must be int"):
        SEGMENTS_11.segment_of(1, 1, 1.0)  # type: ignore[arg-type]


def test_from_dict_unknown_key() -> None:
    data = {**SEGMENTS_11.to_dict(), "name": "x"}
    with pytest.raises(ConfigError, match=r"unknown SegmentMap field\(s\) \['name'\]"):
        SegmentMap.from_dict(data)


# ------------------------------------------------------------------ hypothesis: validation


@st.composite
def partitions(draw: st.DrawFn) -> tuple[int, list[str]]:
    """A random labelling of every combination of a small grid (a valid partition)."""
    bins = draw(st.integers(2, 3))
    n_seg = draw(st.integers(1, 4))
    labels = draw(
        st.lists(st.integers(0, n_seg - 1), min_size=bins**3, max_size=bins**3).filter(
            lambda xs: len(set(xs)) == n_seg
        )
    )
    return bins, [f"S{k}" for k in labels]


def single_combo_rules(bins: int, labels: list[str]) -> list[SegmentRule]:
    combos = itertools.product(range(1, bins + 1), repeat=3)
    return [
        SegmentRule(segment=lab, r=r, f=f, m=m)
        for (r, f, m), lab in zip(combos, labels, strict=True)
    ]


@given(partitions(), st.data())
def test_validation_catches_random_gaps(part: tuple[int, list[str]], data: st.DataObject) -> None:
    bins, labels = part
    rules = single_combo_rules(bins, labels)
    m = SegmentMap(bins=bins, rules=rules, overlap="error")
    assert m.to_frame()["segment"].astype(str).tolist() == labels
    assert SegmentMap.from_dict(m.to_dict()) == m
    drop = data.draw(st.sets(st.integers(0, len(rules) - 1), min_size=1, max_size=len(rules) - 1))
    kept = [rule for i, rule in enumerate(rules) if i not in drop]
    first = min(drop)
    r, f, mm = rules[first].r, rules[first].f, rules[first].m
    assert r is not None
    assert f is not None
    assert mm is not None
    expected = f"(r={r[0]}, f={f[0]}, m={mm[0]})"
    # Dropping rules leaves gaps, or (when a segment lost all its cells) is still caught
    # as a gap: the first message names the first missing combination.
    with pytest.raises(ConfigError, match="without a segment") as info:
        SegmentMap(bins=bins, rules=kept)
    assert expected in str(info.value)


@given(partitions())
def test_catch_all_rule_fills_every_gap(part: tuple[int, list[str]]) -> None:
    bins, labels = part
    rules = single_combo_rules(bins, labels)[: bins**3 // 2]
    rules.append(SegmentRule(segment="Other"))
    m = SegmentMap(bins=bins, rules=rules)
    grid = m.to_frame()
    assert len(grid) == bins**3
    assert grid["segment"].notna().all()


# ------------------------------------------------------------------ rfm_segments


def test_rfm_segments_hand_example() -> None:
    scores = scores_frame([(5, 5, 5), (1, 1, 1), (2, 4, 4), (5, 1, 1)], index=[40, 10, 30, 20])
    scores["rfm_score"] = [555, 111, 244, 511]
    out = call_unmutated(rfm_segments, scores)
    expected = scores.copy()
    expected["segment"] = pd.Categorical(
        ["Champions", "Lost", "At Risk", "New Customers"],
        categories=pd.Index(ELEVEN, dtype=object),
    )
    pd.testing.assert_frame_equal(out, expected)


def test_rfm_segments_custom_columns_and_float_scores() -> None:
    scores = pd.DataFrame({"R": [5.0, 3.0], "F": [4.0, 3.0], "M": [1.0, 3.0]}, index=["a", "b"])
    out = call_unmutated(rfm_segments, scores, RF_GRID_10, r="R", f="F", m="M")
    assert out["segment"].tolist() == ["Champions", "Need Attention"]
    assert list(out.index) == ["a", "b"]


def test_rfm_segments_other_bins() -> None:
    m = SegmentMap(bins=3, rules=[SegmentRule(segment="Top", r=3), SegmentRule(segment="Rest")])
    out = rfm_segments(scores_frame([(3, 1, 1), (2, 3, 3)]), m)
    assert out["segment"].tolist() == ["Top", "Rest"]
    with pytest.raises(DataError, match=r"1\.\.3"):
        rfm_segments(scores_frame([(4, 1, 1)]), m)


BAD_SCORES = [
    (lambda s: s.drop(columns="f_score"), SchemaError, "missing column.*'f_score'"),
    (lambda s: s.iloc[:0], SchemaError, "scores is empty"),
    (lambda s: s.assign(segment="x"), SchemaError, "already has a column 'segment'"),
    (lambda s: s.assign(r_score=[5, 6, 1]), DataError, r"'r_score'.*value 6 at row 11; expected"),
    (lambda s: s.assign(m_score=[5, 0, 1]), DataError, r"'m_score'.*value 0 at row 11"),
    (lambda s: s.assign(f_score=[5.0, 2.5, 1.0]), DataError, r"'f_score'.*value 2.5 at row 11"),
    (lambda s: s.assign(f_score=[5.0, np.nan, 1.0]), DataError, r"'f_score'.*NaN at row 11"),
    (lambda s: s.assign(r_score=["5", "x", "1"]), ColumnTypeError, r"non-numeric value 'x'"),
    (lambda s: s.assign(r_score=[True, False, True]), ColumnTypeError, "booleans"),
]


@pytest.mark.parametrize(("mutate", "exc", "match"), BAD_SCORES)
def test_rfm_segments_bad_input(mutate, exc: type[Exception], match: str) -> None:  # type: ignore[no-untyped-def]
    base = scores_frame([(5, 5, 5), (1, 1, 1), (3, 3, 3)], index=[10, 11, 12])
    with pytest.raises(exc, match=match):
        rfm_segments(mutate(base))


def test_rfm_segments_bad_arguments() -> None:
    base = scores_frame([(5, 5, 5)])
    with pytest.raises(ConfigError, match="segment_map must be a SegmentMap, got dict"):
        rfm_segments(base, SEGMENTS_11.to_dict())  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match="must be a pandas DataFrame"):
        rfm_segments(base.to_numpy())  # type: ignore[arg-type]


score_rows = st.lists(
    st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5)), min_size=1, max_size=40
)


@given(score_rows, st.sampled_from(["11", "rf"]), st.integers(0, 2**31))
def test_every_customer_exactly_one_segment(rows, which: str, seed: int) -> None:  # type: ignore[no-untyped-def]
    seg_map = SEGMENTS_11 if which == "11" else RF_GRID_10
    scores = scores_frame(rows)
    out = rfm_segments(scores, seg_map)
    assert out.index.equals(scores.index)
    assert out["segment"].notna().all()
    assert set(out["segment"].astype(str)) <= set(seg_map.segments)
    # agrees with the scalar lookup, row by row
    assert out["segment"].astype(str).tolist() == [seg_map.segment_of(*row) for row in rows]
    # shuffling rows changes nothing but the order
    again = rfm_segments(shuffled(scores, seed), seg_map)
    pd.testing.assert_frame_equal(again.loc[out.index], out)
    # the summary counts every customer once
    summary = segment_summary(out, seg_map)
    assert summary["customers"].sum() == len(rows)
    assert summary["share"].sum() == pytest.approx(1.0)


@given(
    rows=score_rows,
    which=st.sampled_from(["11", "rf", "bins3"]),
    dtype=st.sampled_from(["int64", "int8", "uint64", "uint8", "float64", "Int64"]),
    block=st.sampled_from([1, 2, 7, 1 << 16]),
)
def test_block_lookup_equals_the_scalar_lookup_for_every_dtype(  # type: ignore[no-untyped-def]
    rows, which: str, dtype: str, block: int
) -> None:
    # The lookup works in blocks of rows from each column's own integer type: any block size
    # and any integer or whole-float score column gives segment_of's answer row by row.
    import crmcore.segmentation.segments as segments_module

    three = SegmentMap(bins=3, rules=[SegmentRule(segment="Top", r=3), SegmentRule(segment="Rest")])
    seg_map = {"11": SEGMENTS_11, "rf": RF_GRID_10, "bins3": three}[which]
    rows = [tuple(min(x, seg_map.bins) for x in row) for row in rows]
    scores = scores_frame(rows).astype(dtype)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(segments_module, "_BLOCK", block)
        out = call_unmutated(rfm_segments, scores, seg_map)
    assert out["segment"].astype(str).tolist() == [seg_map.segment_of(*row) for row in rows]
    assert out["segment"].cat.codes.dtype == np.int8
    pd.testing.assert_frame_equal(out.drop(columns="segment"), scores)


def test_result_is_a_copy_of_the_scores() -> None:
    # Copy-on-write: writing into the result never reaches the caller's frame.
    scores = scores_frame([(5, 5, 5), (1, 1, 1)])
    out = rfm_segments(scores)
    out.loc[0, "r_score"] = 1
    out["f_score"] = 3
    assert scores["r_score"].tolist() == [5, 1]
    assert scores["f_score"].tolist() == [5, 1]
    assert "segment" not in scores.columns


def test_bad_score_in_a_later_block_names_its_row() -> None:
    import crmcore.segmentation.segments as segments_module

    scores = scores_frame([(5, 5, 5)] * 5 + [(5, 9, 5)], index=list("abcdef"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(segments_module, "_BLOCK", 2)
        with pytest.raises(DataError, match=r"'f_score'.*value 9 at row 'f'"):
            rfm_segments(scores)


# ------------------------------------------------------------------ segment_summary


def test_segment_summary_hand_example() -> None:
    seg = rfm_segments(scores_frame([(5, 5, 5), (4, 4, 4), (1, 1, 1), (1, 1, 2)]))
    seg["monetary"] = [500.0, 300.0, 150.0, 50.0]
    out = call_unmutated(segment_summary, seg, value="monetary")
    assert list(out.index) == ELEVEN
    assert out.loc["Champions"].tolist() == [2, 0.5, 800.0, 0.8]  # 800 / 1000
    assert out.loc["Lost"].tolist() == [2, 0.5, 200.0, 0.2]
    assert out.loc["At Risk"].tolist() == [0, 0.0, 0.0, 0.0]
    assert out["customers"].dtype == np.int64


def test_segment_summary_accepts_text_labels_and_zero_total() -> None:
    seg = pd.DataFrame({"segment": ["Lost", "Lost"], "v": [0.0, 0.0]})
    out = segment_summary(seg, value="v")
    assert out.loc["Lost", "customers"] == 2
    assert out["value_share"].isna().all()


BAD_SUMMARY = [
    (pd.DataFrame({"segment": ["Nope"]}), {}, DataError, r"value 'Nope' at row 0.*not a segment"),
    (pd.DataFrame({"segment": ["Lost", None]}), {}, DataError, "missing value at row 1"),
    (pd.DataFrame({"seg": ["Lost"]}), {}, SchemaError, "missing column"),
    (pd.DataFrame({"segment": ["Lost"]}), {"value": "v"}, SchemaError, "missing column.*'v'"),
    (
        pd.DataFrame({"segment": ["Lost"], "v": [np.inf]}),
        {"value": "v"},
        DataError,
        "infinite value",
    ),
]


@pytest.mark.parametrize(("frame", "kw", "exc", "match"), BAD_SUMMARY)
def test_segment_summary_bad_input(
    frame: pd.DataFrame, kw: dict[str, str], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        segment_summary(frame, **kw)  # type: ignore[arg-type]


def test_segment_summary_values_near_the_largest_float() -> None:
    # Champions 1.7e308 and Lost 1.7e308: each segment's value is a float, their sum is not;
    # the shares are 1/2 each all the same. Two Champions of 1.7e308 add up past it: an error
    big = 1.7e308
    seg = pd.DataFrame({"segment": ["Champions", "Lost"], "v": [big, big]}, index=["a", "b"])
    out = segment_summary(seg, value="v")
    assert out.loc["Champions"].tolist() == [1, 0.5, big, 0.5]
    assert out.loc["Lost"].tolist() == [1, 0.5, big, 0.5]
    seg = pd.DataFrame(
        {"segment": ["Champions", "Lost", "Champions"], "v": [big, 1.0, big]}, index=["a", "b", "c"]
    )
    with pytest.raises(
        DataError,
        match=r"column 'v' of segments adds up past the largest float"
        r" \(about 1.8e308\) at row 'c', value 1.7e\+308",
    ):
        segment_summary(seg, value="v")
