"""Tests for crmcore.segmentation.grades: GradeRules and customer_grades."""

from __future__ import annotations

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ColumnTypeError, ConfigError, DataError, InputTypeError, SchemaError
from crmcore.segmentation import (
    GradeRules,
    abc_classes,
    customer_grades,
    grade_inputs,
    grade_summary,
)
from helpers import call_unmutated, shuffled


def signals(
    value: list[float], potential: list[float], index: list[object] | None = None
) -> pd.DataFrame:
    return pd.DataFrame(
        {"monetary": value, "potential": potential},
        index=pd.Index(
            index if index is not None else range(1, len(value) + 1), name="customer_id"
        ),
    )


def test_default_rules_hand_example() -> None:
    # value 600, 250, 100, 50 (total 1000): cumulative 60 %, 85 % -> the first two are A.
    # potential 1, 1, 9, 2: 75th percentile (linear) of sorted (1, 1, 2, 9) is
    # 2 + 0.25 * (9 - 2) = 3.75 -> only customer 3 (9) has high potential -> B; customer 4 -> C.
    frame = signals([600, 250, 100, 50], [1, 1, 9, 2])
    out = call_unmutated(customer_grades, frame)
    expected = pd.DataFrame(
        {
            "value": [600.0, 250.0, 100.0, 50.0],
            "potential": [1.0, 1.0, 9.0, 2.0],
            "high_value": [True, True, False, False],
            "high_potential": [False, False, True, False],
            "grade": pd.Categorical(list("AABC"), categories=pd.Index(list("ABC"), dtype=object)),
            "reason": pd.Categorical(
                ["high value", "high value", "high potential", "low value and potential"],
                categories=out["reason"].cat.categories,
            ),
        },
        index=frame.index,
    )
    pd.testing.assert_frame_equal(out, expected)
    assert out["reason"].cat.categories[0] == "high value"


def test_a_takes_precedence_over_b() -> None:
    # customer 1 is both high value and high potential: graded A, once.
    out = customer_grades(signals([900, 100], [10, 0]))
    assert out["grade"].tolist() == ["A", "C"]
    assert out["high_potential"].tolist() == [True, False]


def test_quantile_and_threshold_methods() -> None:
    frame = signals([0, 10, 20, 30, 40], [5, 50, 500, 0, 0])
    # value quantile 0.8 of (0, 10, 20, 30, 40) = 32 -> only 40 is A.
    # potential threshold 50 -> customers 2 and 3 have potential; 3 is not A -> B; 2 -> B.
    rules = GradeRules(
        value_method="quantile",
        value_cutoff=0.8,
        potential_method="threshold",
        potential_cutoff=50,
    )
    out = customer_grades(frame, rules)
    assert out["grade"].tolist() == ["C", "B", "B", "C", "A"]
    # absolute value threshold 20 -> 20, 30, 40 are A; zero value never A
    rules2 = attrs.evolve(rules, value_method="threshold", value_cutoff=20)
    assert customer_grades(frame, rules2)["grade"].tolist() == ["C", "B", "A", "A", "A"]
    # threshold 0: every positive value is A, but the zero value is still not
    zero = attrs.evolve(rules2, value_cutoff=0)
    assert customer_grades(frame, zero)["grade"].tolist() == ["C", "A", "A", "A", "A"]


def test_abc_value_rule_matches_abc_classes() -> None:
    frame = signals([50, 20, 10, 8, 5, 4, 3], [0] * 7)
    out = customer_grades(frame, GradeRules(potential_method="threshold", potential_cutoff=1))
    assert (out["grade"] == "A").tolist() == (abc_classes(frame["monetary"]) == "A").tolist()
    assert out["grade"].tolist() == list("AAACCCC")


def test_missing_low_option() -> None:
    frame = signals([100.0, np.nan, 1.0, np.nan], [np.nan, 9.0, 0.0, np.nan])
    out = customer_grades(frame, GradeRules(missing="low"))
    # known values 100, 1: 100 alone holds 99 % -> A. potential known (9, 0): q75 = 6.75.
    assert out["grade"].tolist() == ["A", "B", "C", "C"]
    assert out["reason"].tolist() == [
        "high value",
        "high potential",
        "low value and potential",
        "both signals missing",
    ]
    out2 = customer_grades(signals([1.0, np.nan], [9.0, 0.0]), GradeRules(missing="low"))
    assert out2["reason"].tolist() == ["high value", "value missing, low potential"]
    # the only known potential, 0, is not strictly above its own 75th percentile
    out3 = customer_grades(signals([1.0, 0.0], [np.nan, 0.0]), GradeRules(missing="low"))
    assert out3["reason"].tolist() == ["high value", "low value and potential"]
    by_threshold = GradeRules(missing="low", potential_method="threshold", potential_cutoff=1)
    out4 = customer_grades(signals([0.0, 0.0], [np.nan, 1.0]), by_threshold)
    assert out4["reason"].tolist() == ["low value, potential missing", "high potential"]


def test_custom_columns_labels_and_text_index() -> None:
    frame = pd.DataFrame({"spend": [5.0, 1.0], "wallet": [0.0, 3.0]}, index=["x", "y"])
    rules = GradeRules(labels=["Gold", "Silver", "Bronze"])
    out = call_unmutated(customer_grades, frame, rules, value="spend", potential="wallet")
    assert out["grade"].tolist() == ["Gold", "Silver"]
    assert list(out.index) == ["x", "y"]


BAD_FRAMES = [
    (lambda f: f.drop(columns="potential"), SchemaError, "missing column.*'potential'"),
    (lambda f: f.iloc[:0], SchemaError, "frame is empty"),
    (lambda f: f.assign(monetary=[1.0, np.nan, 2.0]), DataError, "'monetary'.*NaN at row 2"),
    (lambda f: f.assign(potential=[1.0, 2.0, np.nan]), DataError, "'potential'.*NaN at row 3"),
    (lambda f: f.assign(monetary=[1.0, -2.0, 2.0]), DataError, "negative value -2.0 at row 2"),
    (lambda f: f.assign(monetary=[1.0, np.inf, 2.0]), DataError, "infinite value inf at row 2"),
    (lambda f: f.assign(potential=["a", "b", "c"]), ColumnTypeError, "non-numeric value 'a'"),
    (lambda f: f.set_axis([1, 2, 1]), DataError, "duplicate index label 1 at row 1"),
]


@pytest.mark.parametrize(("mutate", "exc", "match"), BAD_FRAMES)
def test_customer_grades_bad_input(mutate, exc: type[Exception], match: str) -> None:  # type: ignore[no-untyped-def]
    frame = signals([3.0, 2.0, 1.0], [1.0, 2.0, 3.0])
    with pytest.raises(exc, match=match):
        customer_grades(mutate(frame))


BAD_RULES = [
    ({"value_method": "rank"}, "value_method='rank' is not one of"),
    ({"potential_method": "abc"}, "potential_method='abc' is not one of"),
    ({"missing": "skip"}, "missing='skip' is not one of"),
    ({"value_cutoff": 0.0}, "value_cutoff == 0.0, must be > 0.0"),
    ({"value_cutoff": 1.2}, "value_cutoff == 1.2, must be <= 1.0"),
    ({"value_method": "quantile", "value_cutoff": 1.0}, "value_cutoff == 1.0, must be < 1.0"),
    ({"value_method": "threshold", "value_cutoff": -1}, "value_cutoff == -1, must be >= 0.0"),
    ({"value_method": "threshold", "value_cutoff": float("inf")}, "value_cutoff must be finite"),
    ({"potential_cutoff": 1.0}, "potential_cutoff == 1.0, must be < 1.0"),
    ({"potential_cutoff": "high"}, "potential_cutoff must be float"),
    (
        {"potential_method": "threshold", "potential_cutoff": float("nan")},
        "potential_cutoff is NaN",
    ),
    (
        {"potential_method": "threshold", "potential_cutoff": float("-inf")},
        "potential_cutoff must be finite",
    ),
    ({"labels": ("A", "B")}, "three grade labels"),
    ({"labels": ("A", "A", "C")}, "three distinct"),
    ({"labels": "ABC"}, "not a single string"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD_RULES)
def test_bad_rules(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        GradeRules(**kwargs)  # type: ignore[arg-type]


def test_rules_round_trip_and_bad_arguments() -> None:
    rules = GradeRules(value_method="quantile", value_cutoff=0.9, missing="low")
    assert GradeRules.from_dict(rules.to_dict()) == rules
    with pytest.raises(ConfigError, match=r"unknown GradeRules field\(s\) \['x'\]"):
        GradeRules.from_dict({"x": 1})
    with pytest.raises(ConfigError, match="rules must be GradeRules, got dict"):
        customer_grades(signals([1.0], [1.0]), rules.to_dict())  # type: ignore[arg-type]


rule_sets = st.builds(
    GradeRules,
    value_method=st.sampled_from(["abc", "quantile", "threshold"]),
    value_cutoff=st.floats(0.05, 0.95),
    potential_method=st.sampled_from(["quantile", "threshold"]),
    potential_cutoff=st.floats(0.05, 0.95),
)
frames = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        st.lists(st.one_of(st.just(0.0), st.integers(0, 20).map(float)), min_size=n, max_size=n),
        st.lists(st.floats(-5, 5, allow_nan=False), min_size=n, max_size=n),
    )
)


@given(rule_sets, st.sampled_from(["error", "low"]))
def test_rules_round_trip_property(rules: GradeRules, missing: str) -> None:
    rules = attrs.evolve(rules, missing=missing)
    assert GradeRules.from_dict(rules.to_dict()) == rules


@given(frames, rule_sets, st.integers(0, 2**31))
def test_every_customer_graded_exactly_once(data, rules: GradeRules, seed: int) -> None:  # type: ignore[no-untyped-def]
    value, potential = data
    frame = signals(value, potential, index=[f"c{i}" for i in range(len(value))])
    out = customer_grades(frame, rules)
    assert out.index.equals(frame.index)
    assert out["grade"].notna().all()
    grade = out["grade"].astype(str)
    assert ((grade == "A") == out["high_value"]).all()
    assert ((grade == "B") == (~out["high_value"] & out["high_potential"])).all()
    assert (grade[frame["monetary"] == 0] != "A").all()
    # monotone in value: every high-value customer has more value than every other customer
    v = frame["monetary"].to_numpy()
    hv = out["high_value"].to_numpy()
    if hv.any() and (~hv).any():
        assert v[hv].min() > v[~hv].max()
    # shuffling rows changes nothing
    again = customer_grades(shuffled(frame, seed), rules)
    pd.testing.assert_frame_equal(again.loc[out.index], out)


# ------------------------------------------------------------------ grade_inputs, grade_summary


def test_grade_inputs_grades_every_customer_of_either_signal() -> None:
    spend = pd.Series([600.0, 250.0], index=pd.Index([4, 2], name="customer_id"))
    wallet = pd.Series([1.0, 9.0], index=pd.Index([2, 3], name="id"))
    out = call_unmutated(grade_inputs, spend, wallet)
    # 4 bought but has no potential (NaN); 3 has potential but bought nothing (value 0)
    expected = pd.DataFrame(
        {"value": [250.0, 0.0, 600.0], "potential": [1.0, 9.0, np.nan]},
        index=pd.Index([2, 3, 4], name="customer_id"),
    )
    pd.testing.assert_frame_equal(out, expected)
    alone = grade_inputs(spend)
    assert alone["potential"].tolist() == [0.0, 0.0]
    assert alone.index.tolist() == [2, 4]


def test_grade_inputs_then_grades_never_drop_a_customer() -> None:
    spend = pd.Series([600.0, 250.0, 100.0], index=[1, 2, 3])
    wallet = pd.Series([1.0, 1.0, 9.0, 50.0], index=[1, 2, 3, 4])
    grades = customer_grades(grade_inputs(spend, wallet), value="value")
    assert grades.index.tolist() == [1, 2, 3, 4]
    # 4 never bought: value 0, so never A; its potential 50 is the highest: B
    assert grades.loc[4, "grade"] == "B"
    without = customer_grades(grade_inputs(spend), value="value")
    assert "B" not in set(without["grade"])  # no potential: nobody is B


@pytest.mark.parametrize(
    ("value", "potential", "error", "message"),
    [
        (pd.Series([1.0, 2.0], index=[7, 7]), None, DataError, "value has customer 7 twice"),
        (
            pd.Series([1.0], index=[1]),
            pd.Series([1.0, 2.0], index=["x", "x"]),
            DataError,
            "potential has customer 'x' twice",
        ),
        (pd.DataFrame({"v": [1.0]}), None, InputTypeError, "value must be a pandas Series"),
        (pd.Series([1.0]), [1.0], InputTypeError, "potential must be a pandas Series"),
    ],
)
def test_grade_inputs_bad_input(
    value: object, potential: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        grade_inputs(value, potential)  # type: ignore[arg-type]


def test_grade_summary_worked_example_with_an_empty_grade_and_missing_values() -> None:
    # 600 and 250 hold 85 % of 1000: A. Potential 9 is above the 75th percentile 3.75: B.
    frame = pd.DataFrame(
        {"monetary": [600.0, 250.0, 100.0, 50.0], "potential": [1.0, 1.0, 9.0, 2.0]}
    )
    grades = customer_grades(frame)
    out = call_unmutated(grade_summary, grades)
    expected = pd.DataFrame(
        {"customers": [2, 1, 1], "value": [850.0, 100.0, 50.0]},
        index=pd.CategoricalIndex(
            ["A", "B", "C"], categories=pd.Index(["A", "B", "C"], dtype=object), name="grade"
        ),
    )
    pd.testing.assert_frame_equal(out, expected)
    # nobody with potential: B is listed with no customers; a missing value counts as 0
    flat = customer_grades(
        pd.DataFrame({"monetary": [600.0, np.nan], "potential": [0.0, 0.0]}),
        GradeRules(missing="low"),
    )
    assert grade_summary(flat)["customers"].tolist() == [1, 0, 1]
    assert grade_summary(flat)["value"].tolist() == [600.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("frame", "error", "message"),
    [
        (pd.DataFrame({"grade": ["A"]}), SchemaError, "'value'"),
        (pd.DataFrame({"grade": [], "value": []}), SchemaError, "grades is empty"),
        (pd.DataFrame({"grade": [None], "value": [1.0]}), DataError, "'grade'"),
        (pd.DataFrame({"grade": ["A"], "value": [np.inf]}), DataError, "'value'"),
    ],
)
def test_grade_summary_bad_input(frame: pd.DataFrame, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        grade_summary(frame)


@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=30),
    st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=30),
    st.integers(0, 2**32 - 1),
)
def test_grade_inputs_and_summary_reconcile(
    values: list[float], potentials: list[float], seed: int
) -> None:
    value = pd.Series(values, index=range(len(values)))
    potential = pd.Series(potentials, index=range(5, 5 + len(potentials)))
    frame = grade_inputs(value, potential)
    assert frame.index.tolist() == sorted(set(value.index) | set(potential.index))
    assert frame["value"].sum() == pytest.approx(value.sum())
    grades = customer_grades(frame, GradeRules(missing="low"), value="value")
    out = grade_summary(grades)
    assert int(out["customers"].sum()) == len(frame)
    assert out["value"].sum() == pytest.approx(value.sum())
    pd.testing.assert_frame_equal(grade_summary(shuffled(grades, seed)), out)


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.inf, DataError, r"column 'value' of the Series has infinite value inf at row 2"),
        (
            True,
            ColumnTypeError,
            r"column 'value' of the Series (holds booleans|has non-numeric value True at row 2)",
        ),
        ("x", ColumnTypeError, r"non-numeric value 'x' at row 2"),
    ],
)
def test_grade_inputs_refuses_what_is_not_a_number(bad: object, error: type, match: str) -> None:
    # issue 14 catalogue: grade_inputs passed infinities, booleans and text on unchecked
    value = pd.Series([600.0, 250.0], index=pd.Index([1, 2], name="customer_id"), dtype=object)
    value.loc[2] = bad
    with pytest.raises(error, match=match):
        grade_inputs(value, pd.Series([1.0, 9.0], index=[2, 3]))


def test_grade_inputs_keeps_missing_signals_and_needs_one_index_shape() -> None:
    spend = pd.Series([600.0, np.nan], index=pd.Index([1, 2], name="customer_id"))
    out = grade_inputs(spend, pd.Series([np.nan, 9.0], index=[2, 3]))
    assert out["value"].isna().tolist() == [False, True, False]  # GradeRules.missing decides
    nested = pd.Series([1.0], index=pd.MultiIndex.from_tuples([("x", 2)]))
    with pytest.raises(DataError, match=r"indexed by 1 level\(s\) and potential by 2"):
        grade_inputs(spend, nested)


def test_quantile_potential_spread_past_the_largest_float() -> None:
    # Potential may be negative; the median of -1.5e308, -1e308, 1e308, 1.7e308 is 0 (halfway
    # between -1e308 and 1e308), which numpy's unscaled interpolation overflowed to compute.
    frame = pd.DataFrame(
        {"monetary": 0.0, "potential": [-1e308, -1.5e308, 1e308, 1.7e308]},
        index=pd.Index([1, 2, 3, 4], name="customer_id"),
    )
    rules = GradeRules(potential_method="quantile", potential_cutoff=0.5)
    got = call_unmutated(customer_grades, frame, rules)
    assert got["grade"].tolist() == ["C", "C", "B", "B"]


def test_grade_summary_values_near_the_largest_float() -> None:
    # one A of 1.7e308 and one C of 1.7e308 are floats; two A's add up past the largest float,
    # which the error names at the second A (row 'z'), whatever the missing value between
    big = 1.7e308
    grades = pd.DataFrame(
        {
            "grade": pd.Categorical(["A", "C", "A", "A"], categories=["A", "B", "C"]),
            "value": [big, big, np.nan, big],
        },
        index=["x", "y", "n", "z"],
    )
    assert grade_summary(grades.iloc[:3])["value"].tolist() == [big, 0.0, big]
    with pytest.raises(
        DataError,
        match=r"column 'value' of grades adds up past the largest "
        r"float \(about 1.8e308\) at row 'z', value 1.7e\+308",
    ):
        grade_summary(grades)
