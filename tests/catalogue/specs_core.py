"""Specs of the shared core (money, privacy), segmentation and the dataset generators."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from catalogue import checks as c
from catalogue import data as d
from catalogue.model import Expect, Kind, Spec
from crmcore import datasets, money, privacy, segmentation

A, ID, K, L, M, D, MI = (
    Kind.AMOUNT,
    Kind.ID,
    Kind.KEY,
    Kind.LABEL,
    Kind.MEASURE,
    Kind.DATE,
    Kind.MINOR,
)
TX = {"customer_id": ID, "date": D, "amount": A}


def _a(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


def _labelled(values: list[float]) -> pd.Series:
    return pd.Series(values, name="values")


def _money_close(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    amounts = np.asarray(pd.to_numeric(pd.Series(args[0]), errors="coerce"), dtype=float)
    decimals = kwargs.get("decimals", args[1] if len(args) > 1 else 2)
    got = np.asarray(result, dtype=float)
    assert np.all(
        np.abs(got - amounts * 10**decimals) <= 0.5 + 1e-6 * np.abs(amounts * 10**decimals)
    ), "minor units do not round the amounts"


def _from_close(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    units = np.asarray(pd.Series(args[0]).astype(object).tolist(), dtype=object)
    got = np.asarray(result, dtype=float)
    want = np.array([float(u) for u in units]) / 100
    assert np.allclose(got, want, rtol=1e-12), "amounts are not the minor units / 100"


def _split_exact(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    total = int(args[0])
    assert sum(int(v) for v in np.asarray(result).tolist()) == total, (
        "the parts do not sum to the total"
    )


def _sum_exact(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    values = [int(v) for v in pd.Series(args[0]).astype(object)]
    assert sum(int(v) for v in np.asarray(result).tolist()) == sum(values), "the sum is not exact"


def _tokens_consistent(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    frame = args[0]
    assert result.index.equals(frame.index), "pseudonymize does not keep the index"
    col = "customer_id"
    # tokens are keyed by the value's text, so that 1 and "1" (a CSV and a database) join
    pairs = pd.DataFrame({"v": frame[col].astype(str), "t": result[col].astype(object)}).dropna()
    if pairs.empty:
        return
    assert pairs.groupby("v")["t"].nunique().max() <= 1, "one value got several tokens"
    assert pairs.groupby("t")["v"].nunique().max() <= 1, "several values got one token"


def _people_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 2, 5, 6],
            "email": ["ann@x.org", "bob@y.com", "cid@z.de", "bob@y.com", "dee@x.org", "eve@q.cn"],
            "phone": [
                "+49 30 1234567",
                "030-555 1234",
                "+1 555 0100",
                "030-555 1234",
                "12345",
                "+86 10 8888 8888",
            ],
            "name": ["Ann Li", "Bob Ma", "Cid Ng", "Bob Ma", "Dee Oh", "Eve Xu"],
        }
    )


def _cut_keeps_rows(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    assert len(result.kept) + len(result.excluded) == len(args[0]), "rows lost in the cut"


def _union_rows(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    want = args[0].index.union(args[1].index)
    assert len(result) == len(want), f"{len(result)} rows for {len(want)} customers"


def _grades_in() -> pd.DataFrame:
    return d.summary().assign(potential=lambda f: (f["frequency"] * 37 % 11).astype(float))


def _ranks(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    bins = args[1] if len(args) > 1 else kwargs.get("bins", 5)
    if hasattr(bins, "bins"):
        bins = bins.bins
    for col in ("r_score", "f_score", "m_score"):
        v = result[col].to_numpy(dtype=float)
        assert ((v >= 1) & (v <= bins)).all(), f"{col} leaves 1..{bins}"


SEGMENTATION = [
    Spec(
        "segmentation.rfm_summary",
        segmentation.rfm_summary,
        lambda: _a(d.tx(), as_of=d.AS_OF),
        {0: TX},
        {"as_of": Kind.WHEN},
        check=c.all_of(
            c.total_matches("monetary", 0, "amount"),
            c.finite("monetary"),
            c.rows_equal(0, "customer_id"),
            c.nonnegative("recency"),
            c.in_range("frequency", 1, np.inf),
        ),
    ),
    Spec(
        "segmentation.btyd_summary",
        segmentation.btyd_summary,
        lambda: _a(d.tx(), amount="amount", as_of=d.AS_OF),
        {0: TX},
        {"as_of": Kind.WHEN},
        check=c.all_of(
            c.rows_equal(0, "customer_id"), c.nonnegative("frequency"), c.nonnegative("recency")
        ),
    ),
    Spec(
        "segmentation.abc_xyz",
        segmentation.abc_xyz,
        lambda: _a(d.tx()),
        {0: TX},
        check=c.all_of(
            c.total_matches("total", 0, "amount"), c.rows_equal(0, "customer_id"), c.finite("total")
        ),
    ),
    Spec(
        "segmentation.item_totals",
        segmentation.item_totals,
        lambda: _a(d.tx()),
        {0: {"customer_id": ID, "amount": A}},
        check=c.all_of(
            c.total_matches(None, 0, "amount"), c.rows_equal(0, "customer_id"), c.finite(None)
        ),
    ),
    Spec(
        "segmentation.clean_transactions",
        segmentation.clean_transactions,
        lambda: _a(d.tx()),
        {0: TX},
        nulls_ok=frozenset({(0, "customer_id"), (0, "date"), (0, "amount")}),
        labels_rows=True,
        overrides={
            "inf:0:amount": (
                Expect.ANY,
                "documented: unparseable amounts are dropped and reported",
            ),
            "-inf:0:amount": (
                Expect.ANY,
                "documented: unparseable amounts are dropped and reported",
            ),
            "bool:0:amount": (
                Expect.ANY,
                "documented: unparseable amounts are dropped and reported",
            ),
            "booleans:0:amount": (
                Expect.ANY,
                "documented: unparseable amounts are dropped and reported",
            ),
            "mixed_id:0:customer_id": (
                Expect.ANY,
                "cleaning reports ids, it does not group by them",
            ),
            "dup_row:0:*": (Expect.ANY, "documented: duplicates are dropped and reported"),
        },
        order_independent=False,
    ),
    Spec(
        "segmentation.cut_at_as_of",
        segmentation.cut_at_as_of,
        lambda: _a(d.tx(), as_of="2024-06-30"),
        {0: {"customer_id": ID, "date": D}},
        {"as_of": Kind.WHEN},
        check=_cut_keeps_rows,
        order_independent=False,
        labels_rows=True,
        overrides={
            "text_dates:0:date": (
                Expect.ANY,
                "documented: both parts keep the input's rows as they are",
            )
        },
    ),
    Spec(
        "segmentation.customer_grades",
        segmentation.customer_grades,
        lambda: _a(_grades_in()),
        {0: {"monetary": A, "potential": M}},
        check=c.rows_equal(0),
    ),
    Spec(
        "segmentation.fit_rfm_bins",
        segmentation.fit_rfm_bins,
        lambda: _a(d.summary()),
        {0: {"recency": M, "frequency": M, "monetary": A}},
        {"bins": Kind.COUNT},
    ),
    Spec(
        "segmentation.rfm_scores",
        segmentation.rfm_scores,
        lambda: _a(d.summary()),
        {0: {"recency": M, "frequency": M, "monetary": A}},
        {"bins": Kind.COUNT},
        check=c.all_of(c.rows_equal(0), _ranks),
    ),
    Spec(
        "segmentation.score_rfm",
        segmentation.score_rfm,
        lambda: _a(d.summary(), segmentation.fit_rfm_bins(d.summary())),
        {0: {"recency": M, "frequency": M, "monetary": A}},
        check=c.all_of(c.rows_equal(0), _ranks),
    ),
    Spec(
        "segmentation.rfm_segments",
        segmentation.rfm_segments,
        lambda: _a(segmentation.rfm_scores(d.summary())),
        {0: {"r_score": M, "f_score": M, "m_score": M}},
        check=c.rows_equal(0),
        keeps_index=True,
    ),
    Spec(
        "segmentation.segment_summary",
        segmentation.segment_summary,
        lambda: _a(
            segmentation.rfm_segments(segmentation.rfm_scores(d.summary())).join(
                d.summary()["monetary"]
            ),
            value="monetary",
        ),
        {0: {"segment": L, "monetary": A}},
        check=c.all_of(c.total_matches("value", 0, "monetary"), c.finite("value")),
    ),
    Spec(
        "segmentation.abc_summary",
        segmentation.abc_summary,
        lambda: _a(segmentation.abc_xyz(d.tx())),
        {0: {"abc": L, "total": A}},
        check=c.all_of(c.total_matches("total", 0, "total"), c.finite("total")),
    ),
    Spec(
        "segmentation.grade_summary",
        segmentation.grade_summary,
        lambda: _a(segmentation.customer_grades(_grades_in())),
        {0: {"grade": L, "value": A}},
        nulls_ok=frozenset({(0, "value")}),
        check=c.all_of(c.total_matches("value", 0, "value"), c.finite("value")),
    ),
    Spec(
        "segmentation.grade_inputs",
        segmentation.grade_inputs,
        lambda: _a(d.summary()["monetary"], _grades_in()["potential"]),
        {0: {None: A}, 1: {None: M}},
        # documented: NaN passes through (GradeRules.missing decides); every customer of
        # either series gets a row
        nulls_ok=frozenset({(0, None), (1, None)}),
        check=_union_rows,
    ),
    Spec(
        "segmentation.abc_classes",
        segmentation.abc_classes,
        lambda: _a(_labelled([30.0, 10.0, 60.0, 5.0, 1.0, 0.5, 12.0])),
        {0: {None: A}},
        keeps_index=True,
        check=c.index_kept(0),
    ),
]

MONEY = [
    Spec(
        "money.to_minor_units",
        money.to_minor_units,
        lambda: _a(pd.Series([12.34, 0.005, 99.99, 1500.0, 0.1, 7.25], name="amount")),
        {0: {None: A}},
        {"decimals": Kind.COUNT},
        keeps_index=True,
        check=_money_close,
    ),
    Spec(
        "money.from_minor_units",
        money.from_minor_units,
        lambda: _a(
            pd.Series(np.array([1234, 5, 9999, 150000, 10, 725], dtype=np.int64), name="cents")
        ),
        {0: {None: MI}},
        keeps_index=True,
        check=_from_close,
    ),
    Spec(
        "money.largest_remainder",
        money.largest_remainder,
        lambda: _a(1_000_001, pd.Series([4.0, 3.0, 3.0, 4.0, 4.0, 1.0, 2.0], name="weight")),
        {1: {None: M}},
        {0: Kind.TOTAL},
        check=c.all_of(_split_exact, c.nonnegative(None)),
        order_independent=False,  # documented: ties go to the first row
    ),
    Spec(
        "money.split_minor_units",
        money.split_minor_units,
        lambda: _a(7, pd.Series([4.0, 3.0, 3.0, 4.0, 4.0, 1.0, 2.0], name="weight")),
        {1: {None: M}},
        {0: Kind.TOTAL},
        check=c.all_of(_split_exact, c.nonnegative(None)),
        order_independent=False,  # documented: ties go to the first row
    ),
    Spec(
        "money.sum_minor_units",
        money.sum_minor_units,
        lambda: _a(pd.Series(np.array([150, 250, 100, 7, 1, 0], dtype=np.int64), name="cents")),
        {0: {None: MI}},
        check=_sum_exact,
    ),
]

PRIVACY = [
    Spec(
        "privacy.pseudonymize",
        privacy.pseudonymize,
        lambda: _a(_people_frame(), ["customer_id", "email"], key="catalogue-key-0123456789"),
        {0: {"customer_id": ID, "email": L}},
        {"key": Kind.LABEL},
        no_echo=frozenset({"key"}),
        nulls_ok=frozenset({(0, "customer_id"), (0, "email")}),
        keeps_index=True,
        check=_tokens_consistent,
        overrides={
            "mixed_id:0:customer_id": (Expect.ANY, "1 and '1' are different values; tokens say so"),
            "scalar_case:key:*": (Expect.ANY, "another key is a valid key"),
        },
    ),
    Spec(
        "privacy.mask",
        privacy.mask,
        lambda: _a(_people_frame(), {"email": "email", "phone": "phone", "name": "name"}),
        {0: {"email": L, "phone": L, "name": L}},
        nulls_ok=frozenset({(0, "email"), (0, "phone"), (0, "name")}),
        keeps_index=True,
        check=c.index_kept(0),
    ),
]

DATASETS = [
    Spec(
        f"datasets.{name}",
        getattr(datasets, name),
        build,
        {},
        scalars,
        shift_dates=False,
        overrides={"scalar_tz_mismatch:*:*": (Expect.ANY, "a zoned date makes zoned data")},
    )
    for name, build, scalars in [
        (
            "transactions",
            lambda: _a(5, n_transactions=20, seed=1),
            {0: Kind.COUNT, "n_transactions": Kind.COUNT, "seed": Kind.COUNT},
        ),
        ("customers", lambda: _a(5, seed=1), {0: Kind.COUNT, "seed": Kind.COUNT}),
        (
            "deals",
            lambda: _a(10, n_people=2, n_customers=5, seed=1),
            {0: Kind.COUNT, "n_people": Kind.COUNT, "n_customers": Kind.COUNT},
        ),
        (
            "targets",
            lambda: _a(2, months=3, n_deals=10, seed=1),
            {0: Kind.COUNT, "months": Kind.COUNT, "n_deals": Kind.COUNT},
        ),
        (
            "opportunities",
            lambda: _a(10, seed=1, as_of="2025-01-01", open_share=0.6),
            {0: Kind.COUNT, "open_share": Kind.REAL, "as_of": Kind.WHEN},
        ),
        (
            "stage_history",
            lambda: _a(5, seed=1, skip_probability=0.1, shape=2.0),
            {0: Kind.COUNT, "skip_probability": Kind.REAL, "shape": Kind.REAL},
        ),
        (
            "activities",
            lambda: _a(2, end="2024-01-31", per_rep_per_day=0.5, seed=1),
            {0: Kind.COUNT, "per_rep_per_day": Kind.REAL, "end": Kind.WHEN},
        ),
        ("feedback", lambda: _a(2, months=3, seed=1), {0: Kind.COUNT, "months": Kind.COUNT}),
        ("team", lambda: _a(3, seed=1, as_of="2024-01-01"), {0: Kind.COUNT, "as_of": Kind.WHEN}),
        (
            "lead_history",
            lambda: _a(20, n_teams=2, seed=1, open_share=0.2, missing_share=0.1, end="2024-12-31"),
            {0: Kind.COUNT, "n_teams": Kind.COUNT, "open_share": Kind.REAL, "end": Kind.WHEN},
        ),
    ]
]
