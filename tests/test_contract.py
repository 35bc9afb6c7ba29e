"""Contract audit of every public function taking a DataFrame in the four areas.

For each function in the ``__all__`` of crmcore.segmentation, .pipeline, .quota and .kpi that
takes a frame, a table (``CASES``) gives a builder of a small valid input made from
:mod:`crmcore.datasets` and checks that

1. no input is mutated (:func:`helpers.call_unmutated`);
2. shuffling the rows of every input frame gives the same result up to row order (where the
   function is order-independent; results are compared after sorting by index);
3. an empty primary frame raises a :mod:`crmcore.errors` exception (``SchemaError`` unless the
   case says otherwise) instead of a pandas/numpy error;
4. a frame missing a required column raises ``SchemaError`` naming the column;
5. a missing value in a required column raises a crmcore error naming the column (unless the
   case lists it as documented), never a silently dropped row;
6. a non-frame input raises ``InputTypeError``, and text in a numeric measure column a crmcore
   error naming the column.

A last test checks that every public attrs class is frozen.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest

import crmcore.kpi as kpi
import crmcore.pipeline as pipeline
import crmcore.quota as quota
import crmcore.segmentation as segmentation
import small_inputs as small
from crmcore import datasets
from crmcore.errors import CRMError, InputTypeError, SchemaError
from helpers import call_unmutated, shuffled

PACKAGES = (segmentation, pipeline, quota, kpi)
AS_OF, OPEN_STAGES = small.AS_OF, small.OPEN_STAGES

Args = tuple[tuple[Any, ...], dict[str, Any]]
Key = int | str  # position of a frame in args, or its keyword


# --------------------------------------------------------------------------------------------
# shared small inputs (built once; every test works on copies handed out by the builders)


_tx = partial(small.transactions, small.CONTRACT)
_deals = partial(small.deals, small.CONTRACT)
_won = partial(small.won, small.CONTRACT)
_targets = partial(small.targets, small.CONTRACT)
_opps = partial(small.opportunities, small.CONTRACT)
_history = partial(small.history, small.CONTRACT)
_activities = partial(small.activities, small.CONTRACT)
_states = partial(small.states, small.CONTRACT)
_accounts = partial(small.accounts, small.CONTRACT)
_snapshots = partial(small.snapshots, small.CONTRACT)
_campaign_frames = partial(small.campaign_frames, small.CONTRACT)
_splits = partial(small.splits, small.CONTRACT)
_model, _card, _team_scores = small.model, small.card, small.team_scores
_plan, _quotas = small.plan, small.quotas


def _summary() -> pd.DataFrame:
    return segmentation.rfm_summary(_tx())


def _kpis() -> pd.DataFrame:
    args, kwargs = CASES[kpi.kpi_table].build()
    return kpi.kpi_table(*args, **kwargs).reset_index()


def _people() -> pd.DataFrame:
    cust = datasets.customers(30, seed=3)
    return pd.DataFrame(
        {
            "region": np.repeat(sorted(cust["region"].unique())[:3], 3),
            "person": [f"P{i}" for i in range(9)],
            "weight": np.arange(1.0, 10.0),
            "start": ["2020-01-01"] * 7 + ["2025-03-01", "2025-05-15"],
        }
    )


# --------------------------------------------------------------------------------------------
# the table


@dataclass(frozen=True)
class Case:
    """How to call one function and what its contract promises."""

    build: Callable[[], Args]
    #: frame (args position or keyword) -> columns it must have (each dropped in turn)
    required: dict[Key, list[str]]
    #: shuffled rows give the same result up to row order
    order_independent: bool = True
    #: compare with columns sorted too (the column order is documented to follow row order)
    sort_columns: bool = False
    #: what an empty primary frame (``args[0]``) raises; ``None``: documented to return
    empty: type[Exception] | None = SchemaError
    #: required columns where a missing value is documented as allowed
    nulls_ok: tuple[str, ...] = ()
    #: per-test xfail reasons for known, reported bugs
    xfail: dict[str, str] = field(default_factory=dict)


def _a(*args: Any, **kwargs: Any) -> Args:
    return args, kwargs


TX = ["customer_id", "date", "amount"]
OPP = ["opportunity_id", "stage", "amount"]
HIST = ["opportunity_id", "stage", "entered_at"]
STATES = ["opportunity_id", "state", "entered_at"]

CASES: dict[Callable[..., Any], Case] = {
    # segmentation ---------------------------------------------------------------------------
    segmentation.abc_summary: Case(lambda: _a(segmentation.abc_xyz(_tx())), {0: ["abc", "total"]}),
    segmentation.abc_xyz: Case(lambda: _a(_tx()), {0: TX}),
    segmentation.btyd_summary: Case(
        lambda: _a(_tx(), amount="amount", as_of="2025-01-01"), {0: TX}
    ),
    segmentation.clean_transactions: Case(
        lambda: _a(_tx()),
        {0: TX},
        nulls_ok=tuple(TX),  # documented: dropped and reported
    ),
    segmentation.cut_at_as_of: Case(
        lambda: _a(_tx(), as_of="2024-06-30"),
        {0: ["customer_id", "date"]},
        order_independent=False,  # documented: both parts keep the input's row order
        empty=None,  # documented: an empty table cuts into two empty parts
    ),
    segmentation.customer_grades: Case(
        lambda: _a(_summary().assign(potential=lambda f: (f["frequency"] * 37 % 11).astype(float))),
        {0: ["monetary", "potential"]},
    ),
    segmentation.fit_rfm_bins: Case(
        lambda: _a(_summary()), {0: ["recency", "frequency", "monetary"]}
    ),
    segmentation.grade_summary: Case(
        lambda: _a(
            segmentation.customer_grades(
                _summary().assign(potential=lambda f: (f["frequency"] * 37 % 11).astype(float))
            )
        ),
        {0: ["grade", "value"]},
        nulls_ok=("value",),  # documented: a missing value (GradeRules(missing='low')) is 0
    ),
    segmentation.item_totals: Case(lambda: _a(_tx()), {0: ["customer_id", "amount"]}),
    segmentation.rfm_scores: Case(
        lambda: _a(_summary()), {0: ["recency", "frequency", "monetary"]}
    ),
    segmentation.rfm_segments: Case(
        lambda: _a(segmentation.rfm_scores(_summary())), {0: ["r_score", "f_score", "m_score"]}
    ),
    segmentation.rfm_summary: Case(lambda: _a(_tx()), {0: TX}),
    segmentation.score_rfm: Case(
        lambda: _a(_summary(), segmentation.fit_rfm_bins(_summary())),
        {0: ["recency", "frequency", "monetary"]},
        empty=None,  # documented: an empty summary gives an empty result (Dask metadata)
    ),
    segmentation.segment_summary: Case(
        lambda: _a(
            segmentation.rfm_segments(segmentation.rfm_scores(_summary())).join(
                _summary()["monetary"]
            ),
            value="monetary",
        ),
        {0: ["segment", "monetary"]},
    ),
    # pipeline -------------------------------------------------------------------------------
    pipeline.campaign_roi: Case(
        lambda: _a(*_campaign_frames()),
        {
            0: ["campaign_id", "cost"],
            1: ["campaign_id", "opportunity_id", "touched_at"],
            2: OPP,
        },
        nulls_ok=("opportunity_id",),  # documented: a touch that led to no deal
    ),
    pipeline.check_history: Case(lambda: _a(_states()), {0: STATES}, empty=None),  # documented
    pipeline.close_schedule: Case(lambda: _a(_opps(), _model(), as_of=AS_OF), {0: OPP}),
    pipeline.credit_totals: Case(
        lambda: _a(pipeline.split_credit(_opps(), _splits(), default_person="person")),
        {0: ["credited_cents"]},
        empty=None,  # documented: no credit lines, no totals
    ),
    pipeline.current_states: Case(lambda: _a(_states()), {0: STATES}, empty=None),  # documented
    pipeline.estimate_stage_model: Case(
        lambda: _a(_history(), stages=["prospect", "bid", "negotiation"]), {0: HIST}
    ),
    pipeline.fit_lead_scoring: Case(
        lambda: _a(
            datasets.lead_history(60, open_share=0.0, seed=3),
            features=["source", "size"],
            team="team",
        ),
        {0: ["status", "source", "size", "team"]},
        nulls_ok=("source", "size", "team"),  # documented: missing values are not counted
    ),
    pipeline.forecast_rollup: Case(
        lambda: _a(_opps()), {0: ["forecast_category", "amount", "opportunity_id"]}
    ),
    pipeline.funnel_conversion: Case(
        lambda: _a(_history(), stages=["prospect", "bid", "negotiation"]), {0: HIST}
    ),
    pipeline.landing_dates: Case(lambda: _a(_opps(), _model(), as_of=AS_OF), {0: OPP}),
    pipeline.pipeline_by_stage: Case(lambda: _a(_opps(), _model()), {0: OPP}),
    pipeline.pipeline_coverage: Case(lambda: _a(_opps(), 250_000.0), {0: OPP}),
    pipeline.pipeline_waterfall: Case(
        lambda: _a(*_snapshots(), missing="lost"),
        {0: OPP, 1: OPP},
        empty=None,  # documented: an empty start snapshot (every end deal is new)
    ),
    pipeline.sales_velocity: Case(lambda: _a(_opps()), {0: [*OPP, "created_at", "closed_at"]}),
    pipeline.simulate_pipeline: Case(
        lambda: _a(_opps(), _model(), as_of=AS_OF, n_draws=200, seed=7), {0: OPP}
    ),
    pipeline.split_credit: Case(
        lambda: _a(_opps(), _splits(), default_person="person"),
        {0: ["opportunity_id", "amount", "person"], 1: ["opportunity_id", "person", "share"]},
        nulls_ok=("person",),  # only read for deals without splits (the row tested has some)
    ),
    pipeline.weighted_pipeline: Case(lambda: _a(_opps(), _model()), {0: OPP}),
    # quota ----------------------------------------------------------------------------------
    quota.allocate: Case(lambda: _a(_people(), 1_000_000), {0: ["person", "weight"]}),
    quota.build_plan: Case(
        lambda: _a(_people(), 1_000_000, distribution=[20, 30, 50]),
        {0: ["region", "person", "weight"]},
    ),
    quota.history_weights: Case(
        lambda: _a(_deals()[["person", "amount"]]), {0: ["person", "amount"]}
    ),
    quota.plan_pivot: Case(
        lambda: _a(quota.build_plan(_people(), 1_000_000, distribution=[20, 30, 50]).table),
        {0: ["person", "month", "quota_cents"]},
        sort_columns=True,  # documented: months keep the order in which they first appear
    ),
    quota.potential_weights: Case(lambda: _a(_accounts()), {0: ["person", "grade"]}),
    quota.ramp_factors: Case(
        lambda: _a(_people(), pd.period_range("2025-01", periods=6, freq="M")),
        {0: ["person", "start"]},
    ),
    quota.reassign_accounts: Case(
        lambda: _a(_quotas(), _accounts(), {1: "P1", 2: "P3", 7: "P0"}),
        {0: ["quota_cents"], 1: ["account_id", "person", "weight"]},
    ),
    # kpi ------------------------------------------------------------------------------------
    kpi.activity_counts: Case(
        lambda: _a(_activities(), by=["person", "period"]), {0: ["person", "kind", "date"]}
    ),
    kpi.assign_levels: Case(
        lambda: _a(kpi.score_scorecard(_team_scores(), _card())), {0: ["total"]}
    ),
    kpi.assign_levels_over_time: Case(
        lambda: _a(
            pd.DataFrame(
                {
                    "person": np.repeat(["ann", "bob", "cid"], 4),
                    "period": np.tile([1, 2, 3, 4], 3),
                    "total": np.linspace(0.1, 0.95, 12)[np.random.default_rng(3).permutation(12)],
                }
            ),
            promote_after=2,
        ),
        {0: ["person", "period", "total"]},
    ),
    kpi.attainment: Case(
        lambda: _a(_deals(), _targets(), date="closed_at", status="status"),
        {0: ["person", "closed_at", "amount", "status"], 1: ["person", "period", "target"]},
        empty=None,  # documented: no sales, every target shows 0 achieved
    ),
    kpi.average_deal_size: Case(
        lambda: _a(_deals(), by=["person", "period"]),
        {0: ["status", "amount", "closed_at", "person"]},
    ),
    kpi.commission_lines: Case(
        lambda: _a(_won(), _plan()), {0: ["person", "opportunity_id", "closed_at", "amount"]}
    ),
    kpi.commission_statement: Case(
        lambda: _a(_won(), _plan()), {0: ["person", "opportunity_id", "closed_at", "amount"]}
    ),
    kpi.explain_scorecard: Case(
        lambda: _a(_team_scores(), _card()), {0: ["person", "revenue", "cycle_days", "rating"]}
    ),
    kpi.kpi_table: Case(
        lambda: _a(
            _deals(),
            _targets(),
            feedback=datasets.feedback(4, months=12, seed=3),
            activities=_activities(),
        ),
        {
            0: ["person", "status", "amount", "created_at", "closed_at"],
            1: ["person", "period", "target"],
            "feedback": ["person", "period"],  # other columns: whatever is numeric
            "activities": ["person", "date", "kind"],
        },
    ),
    kpi.new_customers: Case(lambda: _a(_tx()), {0: ["customer_id", "date"]}),
    kpi.performance_report: Case(
        lambda: _a(
            _kpis(),
            kpi.Scorecard(
                metrics=[
                    kpi.Metric(column="attainment", weight=0.6, normalisation="target", target=1),
                    kpi.Metric(column="deals_won", weight=0.4),
                ]
            ),
            missing="zero",
        ),
        {0: ["person", "period", "attainment", "deals_won"]},
        nulls_ok=("attainment", "deals_won"),  # missing="zero" asks for it
    ),
    kpi.retention: Case(
        lambda: _a(_tx(), period_a="2024-01", period_b="2024-02"), {0: ["customer_id", "date"]}
    ),
    kpi.revenue_by_period: Case(lambda: _a(_tx()), {0: ["date", "amount"]}),
    kpi.sales_cycle_length: Case(
        lambda: _a(_deals(), by="person"),
        {0: ["created_at", "closed_at", "status", "person"]},
    ),
    kpi.score_scorecard: Case(
        lambda: _a(_team_scores(), _card()), {0: ["person", "revenue", "cycle_days", "rating"]}
    ),
    kpi.target_variance: Case(
        lambda: _a(_deals(), _targets(), date="closed_at", status="status"),
        {0: ["person", "closed_at", "amount", "status"], 1: ["person", "period", "target"]},
        empty=None,  # documented: no sales, every target shows 0 achieved
    ),
    kpi.win_rate: Case(
        lambda: _a(_deals(), by=["person", "period"]), {0: ["status", "person", "closed_at"]}
    ),
}


def _public_frame_functions() -> list[Callable[..., Any]]:
    out = []
    for pkg in PACKAGES:
        for name in pkg.__all__:
            obj = getattr(pkg, name)
            if not inspect.isfunction(obj):
                continue
            params = list(inspect.signature(obj).parameters.values())
            if params and "DataFrame" in str(params[0].annotation):
                out.append(obj)
    return out


def _id(func: Callable[..., Any]) -> str:
    return f"{func.__module__.split('.')[1]}.{func.__name__}"


def test_table_covers_every_public_frame_function() -> None:
    public = _public_frame_functions()
    missing = sorted(_id(f) for f in public if f not in CASES)
    assert not missing, f"add these to CASES: {missing}"
    assert len(public) == len(CASES)


def _params(test: str) -> list[Any]:
    out = []
    for func, case in CASES.items():
        marks = []
        if test in case.xfail:
            marks.append(pytest.mark.xfail(strict=True, reason=case.xfail[test]))
        out.append(pytest.param(func, case, id=_id(func), marks=marks))
    return out


def _frames(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Key]:
    keys: list[Key] = [i for i, a in enumerate(args) if isinstance(a, pd.DataFrame)]
    keys += [k for k, v in kwargs.items() if isinstance(v, pd.DataFrame)]
    return keys


def _replace(args: tuple[Any, ...], kwargs: dict[str, Any], key: Key, value: Any) -> Args:
    if isinstance(key, int):
        new = list(args)
        new[key] = value
        return tuple(new), kwargs
    return args, {**kwargs, key: value}


def _get(args: tuple[Any, ...], kwargs: dict[str, Any], key: Key) -> Any:
    return args[key] if isinstance(key, int) else kwargs[key]


def _canonical(result: Any, sort_columns: bool) -> Any:
    """The result in a form where row order does not matter."""
    if isinstance(result, pd.DataFrame | pd.Series):
        out = result.sort_index(kind="stable")
        if sort_columns and isinstance(out, pd.DataFrame):
            out = out[sorted(out.columns, key=str)]
        return out
    if isinstance(result, quota.QuotaPlan):
        return _canonical(result.table, sort_columns)
    return result


def _assert_same(a: Any, b: Any, sort_columns: bool = False) -> None:
    a, b = _canonical(a, sort_columns), _canonical(b, sort_columns)
    if isinstance(a, tuple):
        assert isinstance(b, tuple)
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y, sort_columns)
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(b, a, rtol=1e-9)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(b, a, rtol=1e-9)
    elif attrs.has(type(a)):
        da, db = attrs.asdict(a, recurse=False), attrs.asdict(b, recurse=False)
        assert da.keys() == db.keys()
        for k in da:
            if isinstance(da[k], tuple) and da[k] and isinstance(da[k][0], float):
                np.testing.assert_allclose(db[k], da[k], rtol=1e-9, err_msg=k)
            elif isinstance(da[k], pd.DataFrame | pd.Series) or attrs.has(type(da[k])):
                _assert_same(da[k], db[k], sort_columns)  # a result object's table or figures
            else:
                assert db[k] == da[k], k
    else:
        assert b == a


# --------------------------------------------------------------------------------------------
# the tests


@pytest.mark.parametrize(("func", "case"), _params("unmutated"))
def test_inputs_not_mutated(func: Callable[..., Any], case: Case) -> None:
    args, kwargs = case.build()
    call_unmutated(func, *args, **kwargs)


@pytest.mark.parametrize(("func", "case"), _params("shuffled"))
def test_row_order_does_not_matter(func: Callable[..., Any], case: Case) -> None:
    if not case.order_independent:
        pytest.skip("documented as order-dependent")
    args, kwargs = case.build()
    expected = func(*args, **kwargs)
    for seed in (1, 2):
        new_args, new_kwargs = args, kwargs
        for key in _frames(args, kwargs):
            frame = _get(args, kwargs, key)
            new_args, new_kwargs = _replace(new_args, new_kwargs, key, shuffled(frame, seed))
        _assert_same(expected, func(*new_args, **new_kwargs), case.sort_columns)


@pytest.mark.parametrize(("func", "case"), _params("empty"))
def test_empty_frame(func: Callable[..., Any], case: Case) -> None:
    args, kwargs = case.build()
    args, kwargs = _replace(args, kwargs, 0, args[0].iloc[:0])
    if case.empty is None:
        func(*args, **kwargs)  # documented: an empty frame gives an empty result
        return
    with pytest.raises(case.empty):
        func(*args, **kwargs)


def _missing_params() -> list[Any]:
    out = []
    for func, case in CASES.items():
        for key, cols in case.required.items():
            for col in cols:
                tid = f"{_id(func)}-{key}-{col}"
                marks = []
                if tid in case.xfail:
                    marks.append(pytest.mark.xfail(strict=True, reason=case.xfail[tid]))
                out.append(pytest.param(func, case, key, col, id=tid, marks=marks))
    return out


@pytest.mark.parametrize(("func", "case", "key", "column"), _missing_params())
def test_missing_column(func: Callable[..., Any], case: Case, key: Key, column: str) -> None:
    args, kwargs = case.build()
    frame = _get(args, kwargs, key)
    assert column in frame.columns, f"the case's input has no {column!r} to drop"
    args, kwargs = _replace(args, kwargs, key, frame.drop(columns=[column]))
    with pytest.raises(SchemaError, match=rf"\b{column}\b") as info:
        func(*args, **kwargs)
    assert isinstance(info.value, CRMError)


def _null_params() -> list[Any]:
    return [
        pytest.param(func, key, col, id=f"{_id(func)}-{key}-{col}")
        for func, case in CASES.items()
        for key, cols in case.required.items()
        for col in cols
        if col not in case.nulls_ok
    ]


@pytest.mark.parametrize(("func", "key", "column"), _null_params())
def test_missing_value(func: Callable[..., Any], key: Key, column: str) -> None:
    # a missing value in a required column is an error naming the column, never a row
    # dropped silently (the row tested is a won deal where the frame has a won status)
    args, kwargs = CASES[func].build()
    frame = _get(args, kwargs, key).copy()
    pos = min(3, len(frame) - 1)
    for status in ("status", "stage"):
        if status in frame.columns and (frame[status] == "won").any():
            pos = int(np.flatnonzero((frame[status] == "won").to_numpy())[0])
    frame.iloc[pos, frame.columns.get_loc(column)] = None
    args, kwargs = _replace(args, kwargs, key, frame)
    with pytest.raises(CRMError, match=rf"\b{column}\b"):
        func(*args, **kwargs)


@pytest.mark.parametrize(("func", "case"), _params("non_frame"))
@pytest.mark.parametrize("bad", [None, [1, 2], {"a": [1]}, pd.Series([1.0])], ids=repr)
def test_non_frame_input(func: Callable[..., Any], case: Case, bad: Any) -> None:
    args, kwargs = case.build()
    args, kwargs = _replace(args, kwargs, 0, bad)
    with pytest.raises(InputTypeError, match="DataFrame"):
        func(*args, **kwargs)


#: numeric columns that are labels (ids, periods): text is as good a label as a number
_LABELS = {"customer_id", "opportunity_id", "account_id", "period", "month"}


def _text_params() -> list[Any]:
    out = []
    for func, case in CASES.items():
        args, kwargs = case.build()
        for key, cols in case.required.items():
            frame = _get(args, kwargs, key)
            out.extend(
                pytest.param(func, key, col, id=f"{_id(func)}-{key}-{col}")
                for col in cols
                if col not in _LABELS
                and func is not segmentation.clean_transactions  # documented: drops, reports
                and pd.api.types.is_numeric_dtype(frame[col])
            )
    return out


@pytest.mark.parametrize(("func", "key", "column"), _text_params())
def test_text_in_numeric_column(func: Callable[..., Any], key: Key, column: str) -> None:
    args, kwargs = CASES[func].build()
    frame = _get(args, kwargs, key).copy()
    frame[column] = ["x" + str(v) for v in frame[column]]
    args, kwargs = _replace(args, kwargs, key, frame)
    with pytest.raises(CRMError, match=rf"\b{column}\b"):
        func(*args, **kwargs)


def test_fractional_minor_units() -> None:
    # int64 cents are exact; a fractional cent would be truncated silently by the int cast
    credit = pipeline.split_credit(_opps(), _splits(), default_person="person")
    credit["credited_cents"] = credit["credited_cents"] + 0.5
    with pytest.raises(CRMError, match=r"credited_cents.*whole minor units"):
        pipeline.credit_totals(credit)
    table = quota.build_plan(_people(), 1_000_000, distribution=[20, 30, 50]).table
    table["quota_cents"] = table["quota_cents"] + 0.25
    with pytest.raises(CRMError, match=r"quota_cents.*whole minor units"):
        quota.plan_pivot(table)


def _dated_params() -> list[Any]:
    out = []
    for func, case in CASES.items():
        args, kwargs = case.build()
        frames = [_get(args, kwargs, key) for key in _frames(args, kwargs)]
        if any(pd.api.types.is_datetime64_dtype(f[c]) for f in frames for c in f.columns):
            out.append(pytest.param(func, case, id=_id(func)))
    return out


@pytest.mark.parametrize(("func", "case"), _dated_params())
@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin"])
def test_tz_aware_dates(func: Callable[..., Any], case: Case, tz: str) -> None:
    # tz-aware dates work like naive ones (warnings are errors here, so a pandas warning
    # about dropping the zone fails)
    args, kwargs = case.build()
    for key in _frames(args, kwargs):
        frame = _get(args, kwargs, key).copy()
        for col in frame.columns:
            if pd.api.types.is_datetime64_dtype(frame[col]):
                frame[col] = frame[col].dt.tz_localize(tz)
        args, kwargs = _replace(args, kwargs, key, frame)
    if "as_of" in kwargs:  # the as_of of a zoned table is zoned too
        kwargs = {**kwargs, "as_of": pd.Timestamp(kwargs["as_of"], tz=tz)}
    func(*args, **kwargs)


_ARRAY_CALLS: list[Any] = [
    pytest.param(segmentation.abc_classes, (), id="segmentation.abc_classes"),
    pytest.param(quota.apportion, (1000,), id="quota.apportion"),
    pytest.param(quota.seasonal_split, (1000,), id="quota.seasonal_split"),
    pytest.param(quota.to_minor_units, (), id="quota.to_minor_units"),
]


@pytest.mark.parametrize(("func", "lead"), _ARRAY_CALLS)
@pytest.mark.parametrize("kind", ["series", "array"])
def test_array_inputs_not_mutated(
    func: Callable[..., Any], lead: tuple[Any, ...], kind: str
) -> None:
    # the public functions taking a Series or an array instead of a frame
    values = pd.Series([30.0, 10.0, 60.0], index=["a", "b", "c"])
    arg = values if kind == "series" else values.to_numpy()
    call_unmutated(func, *lead, arg)


def test_pyarrow_backed_dates() -> None:
    # read_parquet(dtype_backend="pyarrow") gives timestamp[pyarrow] columns
    tx = _tx()
    expected = segmentation.rfm_summary(tx)
    got = segmentation.rfm_summary(tx.convert_dtypes(dtype_backend="pyarrow"))
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_index_type=False)


def _public_classes() -> list[Any]:
    out = []
    for pkg in PACKAGES:
        for name in pkg.__all__:
            obj = getattr(pkg, name)
            if inspect.isclass(obj) and attrs.has(obj):
                out.append(pytest.param(obj, id=f"{pkg.__name__.split('.')[1]}.{name}"))
    return out


@pytest.mark.parametrize("cls", _public_classes())
def test_public_attrs_classes_are_frozen(cls: type) -> None:
    # an uninitialised instance is enough: a frozen class refuses every attribute assignment
    blank = object.__new__(cls)
    name = attrs.fields(cls)[0].name
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(blank, name, None)
