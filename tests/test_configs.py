"""Every config class: to_dict/from_dict round trip, bad plain-data input, frozen instances.

One table drives the checks: for each class, a builder of a valid instance and (where a
strategy is easy) a hypothesis strategy of instances. ``from_dict`` must turn a missing required
field, a non-mapping and an unknown key into :class:`~crmcore.errors.ConfigError` naming the
field or key, never a bare ``TypeError``/``KeyError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ConfigError
from crmcore.kpi import CommissionPlan, Metric, Scorecard
from crmcore.pipeline import Lifecycle, StageModel
from crmcore.quota import QuotaPlan, build_plan
from crmcore.segmentation import SEGMENTS_11, GradeRules, RFMBins, SegmentMap, SegmentRule
from strategies_pipeline import stage_models

# --------------------------------------------------------------------------------------------
# strategies


@st.composite
def commission_plans(draw: st.DrawFn) -> CommissionPlan:
    n = draw(st.integers(1, 4))
    steps = draw(st.lists(st.integers(1, 10_000), min_size=n - 1, max_size=n - 1))
    thresholds = [0]
    for s in steps:
        thresholds.append(thresholds[-1] + s)
    # non-decreasing rates with at most 3 decimals suit every mode
    rates = sorted(draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n)))
    return CommissionPlan(
        tiers=[(t, r / 1000) for t, r in zip(thresholds, rates, strict=True)],
        mode=draw(st.sampled_from(["marginal", "retroactive", "flat"])),
        minimum=draw(st.integers(0, 100)),
        max_payout=draw(st.none() | st.integers(1, 10**6)),
        decimals=draw(st.integers(0, 3)),
    )


_names = st.text(alphabet="abcdefgh_", min_size=1, max_size=6)


@st.composite
def metrics(draw: st.DrawFn, column: str | None = None) -> Metric:
    return Metric(
        column=column if column is not None else draw(_names),
        weight=draw(st.floats(0, 10, allow_nan=False)),
        direction=draw(st.sampled_from(["higher", "lower"])),
        normalisation=draw(st.sampled_from(["minmax", "zscore", "percentile"])),
    )


@st.composite
def scorecards(draw: st.DrawFn) -> Scorecard:
    columns = draw(st.lists(_names, min_size=1, max_size=3, unique=True))
    items = [draw(metrics(c)) for c in columns]
    if all(m.weight == 0 for m in items):
        items[0] = attrs.evolve(items[0], weight=1.0)
    return Scorecard(metrics=items, normalise_weights=True)


_edges = st.lists(st.integers(0, 1000), max_size=3, unique=True).map(
    lambda xs: [float(x) for x in sorted(xs)]
)


@st.composite
def rfm_bins(draw: st.DrawFn) -> RFMBins:
    return RFMBins(
        bins=draw(st.integers(4, 9)),
        recency=draw(_edges),
        frequency=draw(_edges),
        monetary=draw(_edges),
    )


_scores = st.none() | st.lists(st.integers(1, 5), min_size=1, max_size=5, unique=True)


@st.composite
def segment_rules(draw: st.DrawFn) -> SegmentRule:
    return SegmentRule(segment=draw(_names), r=draw(_scores), f=draw(_scores), m=draw(_scores))


def _quota_plan() -> QuotaPlan:
    people = pd.DataFrame(
        {"region": ["N", "N", "S"], "person": ["a", "b", "c"], "weight": [2.0, 1.0, 1.0]}
    )
    return build_plan(people, 1_200_00, distribution=[25, 25, 25, 25])


# --------------------------------------------------------------------------------------------
# the table: class -> (builder of one valid instance, strategy or None, required fields)

CONFIGS: dict[type, tuple[Callable[[], Any], Any, list[str]]] = {
    CommissionPlan: (
        lambda: CommissionPlan(tiers=[(0, 0.04), (150_000, 0.06)], max_rate=0.5),
        commission_plans(),
        ["tiers"],
    ),
    Metric: (
        lambda: Metric(column="revenue", weight=0.6, normalisation="target", target=50_000),
        metrics(),
        ["column", "weight"],
    ),
    Scorecard: (
        lambda: Scorecard(
            metrics=[Metric(column="a", weight=1), Metric(column="b", weight=2)],
            normalise_weights=True,
        ),
        scorecards(),
        ["metrics"],
    ),
    GradeRules: (
        lambda: GradeRules(value_method="quantile", value_cutoff=0.5, labels=("X", "Y", "Z")),
        None,
        [],
    ),
    RFMBins: (
        lambda: RFMBins(bins=3, recency=(10.0, 30.0), frequency=(1.0,), monetary=(50.0, 200.0)),
        rfm_bins(),
        ["bins", "recency", "frequency", "monetary"],
    ),
    SegmentRule: (
        lambda: SegmentRule(segment="Champions", r=range(4, 6), f=[5, 4]),
        segment_rules(),
        ["segment"],
    ),
    SegmentMap: (lambda: SEGMENTS_11, None, ["rules"]),
    Lifecycle: (lambda: Lifecycle(transitions={"open": ["won", "lost"]}), None, []),
    StageModel: (
        lambda: StageModel.from_conversion_rates(["a", "b"], [0.5, 0.8], [30, 10]),
        stage_models(),
        ["stages", "win_probabilities", "days_to_close"],
    ),
    QuotaPlan: (_quota_plan, None, ["table", "columns", "total", "requested"]),
}
IDS = [cls.__name__ for cls in CONFIGS]
CLASSES = list(CONFIGS)


def _same(a: Any, b: Any) -> None:
    if isinstance(a, QuotaPlan):  # eq=False: it holds a frame
        pd.testing.assert_frame_equal(b.table, a.table, check_exact=True)
        for f in attrs.fields(QuotaPlan):
            if f.name != "table":
                assert getattr(b, f.name) == getattr(a, f.name), f.name
    else:
        assert b == a


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_round_trip_example(cls: type) -> None:
    obj = CONFIGS[cls][0]()
    data = obj.to_dict()
    back = cls.from_dict(data)  # type: ignore[attr-defined]
    _same(obj, back)
    if cls is not QuotaPlan:  # its dict holds the table's lists, compared by _same
        assert back.to_dict() == data


_WITH_STRATEGY = [cls for cls in CLASSES if CONFIGS[cls][1] is not None]


@pytest.mark.parametrize("cls", _WITH_STRATEGY, ids=[c.__name__ for c in _WITH_STRATEGY])
def test_round_trip_property(cls: type) -> None:
    @given(CONFIGS[cls][1])
    def check(obj: Any) -> None:
        back = cls.from_dict(obj.to_dict())  # type: ignore[attr-defined]
        assert back == obj
        assert back.to_dict() == obj.to_dict()

    check()


_REQUIRED = [(cls, name) for cls in CLASSES for name in CONFIGS[cls][2]]


@pytest.mark.parametrize(
    ("cls", "field"), _REQUIRED, ids=[f"{c.__name__}-{n}" for c, n in _REQUIRED]
)
def test_missing_required_field(cls: type, field: str) -> None:
    data = CONFIGS[cls][0]().to_dict()
    del data[field]
    with pytest.raises(ConfigError, match=rf"\b{field}\b.*missing|missing.*\b{field}\b"):
        cls.from_dict(data)  # type: ignore[attr-defined]


def test_required_table_matches_attrs() -> None:
    # the table lists exactly the init fields without a default (QuotaPlan adds 'columns',
    # which its to_dict writes beside the table)
    for cls in CLASSES:
        required = [f.name for f in attrs.fields(cls) if f.init and f.default is attrs.NOTHING]
        extra = ["columns"] if cls is QuotaPlan else []
        assert sorted(CONFIGS[cls][2]) == sorted(required + extra), cls.__name__


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
@pytest.mark.parametrize("data", [None, [("a", 1)], "abc", 3, ("x",)], ids=repr)
def test_non_mapping(cls: type, data: Any) -> None:
    with pytest.raises(ConfigError, match="mapping"):
        cls.from_dict(data)  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_unknown_key(cls: type) -> None:
    data = CONFIGS[cls][0]().to_dict()
    data["zz_not_a_field"] = 1
    with pytest.raises(ConfigError, match="zz_not_a_field"):
        cls.from_dict(data)  # type: ignore[attr-defined]


def test_scorecard_nested_metric_errors() -> None:
    with pytest.raises(ConfigError, match="column"):
        Scorecard.from_dict({"metrics": [{"weight": 1}]})
    with pytest.raises(ConfigError, match="mapping"):
        Scorecard.from_dict({"metrics": [3]})


_BAD_VALUES = [None, "x", [], {}, -1, 1.5, float("nan"), ["a", None], [[1]]]
_FIELDS = [
    pytest.param(
        cls,
        name,
        id=f"{cls.__name__}-{name}",
    )
    for cls in CLASSES
    for name in CONFIGS[cls][0]().to_dict()
]


@pytest.mark.parametrize(("cls", "name"), _FIELDS)
def test_wrong_value_type(cls: type, name: str) -> None:
    # any value of the wrong type or shape is accepted or a ConfigError, never a bare
    # TypeError/ValueError/KeyError from a converter or from pandas
    data = CONFIGS[cls][0]().to_dict()
    for bad in _BAD_VALUES:
        try:
            cls.from_dict({**data, name: bad})  # type: ignore[attr-defined]
        except ConfigError:
            pass
        except Exception as exc:  # the point is to name whatever escaped
            pytest.fail(f"{name}={bad!r} raised {type(exc).__name__}: {exc}")


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_frozen(cls: type) -> None:
    obj = CONFIGS[cls][0]()
    name = attrs.fields(cls)[0].name
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(obj, name, getattr(obj, name))
