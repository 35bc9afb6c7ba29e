"""Specs of crmcore.pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from catalogue import checks as c
from catalogue import data as d
from catalogue.model import Expect, Kind, Spec
from crmcore import money, pipeline

A, ID, K, L, M, D, MI = (
    Kind.AMOUNT,
    Kind.ID,
    Kind.KEY,
    Kind.LABEL,
    Kind.MEASURE,
    Kind.DATE,
    Kind.MINOR,
)
OPP = {"opportunity_id": K, "stage": L, "amount": A}
HIST = {"opportunity_id": ID, "stage": L, "entered_at": D}
STATES = {"opportunity_id": ID, "state": L, "entered_at": D}
STAGES = ["prospect", "bid", "negotiation"]


def _a(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


def _prob(field: str | None = None) -> c.Check:
    return c.in_range("win_probability", 0.0, 1.0, field)


def _percentiles(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    t = result.table
    assert (t["p10"] <= t["p50"] + 1e-9).all(), "P10 above P50"
    assert (t["p50"] <= t["p90"] + 1e-9).all(), "P50 above P90"
    assert result.total.p10 <= result.total.p50 + 1e-9 <= result.total.p90 + 2e-9, (
        "total percentiles out of order"
    )


def _model_probabilities(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    p = np.asarray(result.win_probabilities, dtype=float)
    assert ((p >= 0) & (p <= 1)).all(), f"win probabilities leave [0, 1]: {p}"
    days = np.asarray(result.days_to_close, dtype=float)
    assert (np.isfinite(days) & (days >= 0)).all(), f"days to close are not finite and >= 0: {days}"


def _credit_exact(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    opps = args[0]
    cents = money.to_minor_units(opps["amount"].astype(float))
    want = sum(int(v) for v in np.asarray(cents).tolist())
    got = sum(int(v) for v in result["credited_cents"].tolist())
    assert got == want, f"credited cents total {got}, deals total {want}"


def _category_totals(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    cols = ["closed", "commit", "best_case", "pipeline", "omitted"]
    total = float(result[cols].to_numpy(dtype=float).sum())
    want = float(pd.to_numeric(args[0]["amount"]).sum())
    assert np.isclose(total, want, rtol=1e-9, atol=0.01), f"categories total {total}, deals {want}"


def _funnel(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    assert (result["advanced"] <= result["entered"]).all(), "more advanced than entered"
    for col in ("conversion_rate", "win_rate"):
        v = result[col].to_numpy(dtype=float)
        v = v[~np.isnan(v)]
        assert ((v >= 0) & (v <= 1)).all(), f"{col} leaves [0, 1]"


LEAD_FRAME = {"source": L, "country": L, "size": L, "team": ID}
LEAD_NULLS = frozenset((k, col) for k in (0, 1) for col in LEAD_FRAME)
#: a feature or team value is any hashable value; one never seen is ignored (scored on the rest)
LEAD_VALUES = {
    "unknown_label:*:*": (Expect.ANY, "any text is a feature value; unseen ones are ignored"),
    "mixed_id:*:team": (Expect.ANY, "1 and '1' are two teams; an unknown team uses all history"),
    "ids_near_2**62:*:team": (Expect.ANY, "team names are values, not numbers"),
}


def _lead_probabilities(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    p = np.asarray(result, dtype=float).ravel() if isinstance(result, pd.Series) else None
    if p is None:
        p = result["win_probability"].to_numpy(dtype=float)
        parts = result.drop(columns=["log_odds", "win_probability"]).to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            total = parts.sum(axis=1)
        close = np.isclose(total, result["log_odds"].to_numpy(dtype=float), rtol=1e-9, atol=1e-9)
        assert close.all(), "prior + contributions != log_odds"
    assert ((p >= 0) & (p <= 1)).all(), f"win probabilities leave [0, 1]: {p}"


def _lead_counts(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    history = args[0]
    status = history["status"].astype(str)
    won = sum(w for _, w, _ in result.teams)
    lost = sum(n for _, _, n in result.teams)
    assert won == int((status == "won").sum()), f"teams count {won} won deals"
    assert lost == int((status == "lost").sum()), f"teams count {lost} lost deals"


def _calibration(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    assert int(result["count"].sum()) == len(args[1]), "bins do not hold every deal"
    assert (result["won"] <= result["count"]).all(), "more won than deals in a bin"


LEADS = [
    Spec(
        "pipeline.fit_lead_scoring",
        pipeline.fit_lead_scoring,
        lambda: _a(d.closed_leads(), features=d.LEAD_FEATURES, team="team"),
        {0: {**LEAD_FRAME, "status": L}},
        {"smoothing": Kind.REAL},
        nulls_ok=LEAD_NULLS,
        overrides=LEAD_VALUES,
        check=_lead_counts,
    ),
    Spec(
        "pipeline.score_leads",
        pipeline.score_leads,
        lambda: _a(d.lead_model(), d.open_leads()),
        {1: LEAD_FRAME},
        nulls_ok=LEAD_NULLS,
        overrides=LEAD_VALUES,
        keeps_index=True,
        check=c.all_of(_lead_probabilities, c.index_kept(1)),
    ),
    Spec(
        "pipeline.explain_leads",
        pipeline.explain_leads,
        lambda: _a(d.lead_model(), d.open_leads()),
        {1: LEAD_FRAME},
        nulls_ok=LEAD_NULLS,
        overrides=LEAD_VALUES,
        keeps_index=True,
        check=c.all_of(_lead_probabilities, c.index_kept(1)),
    ),
    Spec(
        "pipeline.lead_score_calibration",
        pipeline.lead_score_calibration,
        lambda: _a(d.lead_model(), d.closed_leads(), n_bins=4),
        {1: {**LEAD_FRAME, "status": L}},
        {"n_bins": Kind.COUNT},
        nulls_ok=LEAD_NULLS,
        overrides=LEAD_VALUES,
        check=_calibration,
    ),
    Spec(
        "pipeline.LeadScoring",
        pipeline.LeadScoring,
        lambda: _a(features=["source", "country"], smoothing=0.1),
        {},
        {"smoothing": Kind.REAL},
    ),
]


PIPELINE = [
    Spec(
        "pipeline.weighted_pipeline",
        pipeline.weighted_pipeline,
        lambda: _a(d.opps(), d.model()),
        {0: OPP},
        check=c.all_of(_prob(), c.rows_equal(0), c.total_matches("amount", 0, "amount")),
    ),
    Spec(
        "pipeline.pipeline_by_stage",
        pipeline.pipeline_by_stage,
        lambda: _a(d.opps(), d.model()),
        {0: OPP},
        check=c.all_of(c.total_matches("amount", 0, "amount"), c.count_total("count", 0), _prob()),
    ),
    Spec(
        "pipeline.close_schedule",
        pipeline.close_schedule,
        lambda: _a(d.opps(), d.model(), as_of=d.AS_OF, close_date="close_date", horizon=36),
        {0: {**OPP, "close_date": D}},
        {"as_of": Kind.WHEN, "horizon": Kind.COUNT},
        nulls_ok=frozenset({(0, "close_date")}),
        check=c.nonnegative("expected_amount", "table"),
    ),
    Spec(
        "pipeline.landing_dates",
        pipeline.landing_dates,
        lambda: _a(d.opps(), d.model(), as_of=d.AS_OF, close_date="close_date"),
        {0: {**OPP, "close_date": D}},
        {"as_of": Kind.WHEN},
        nulls_ok=frozenset({(0, "close_date")}),
        check=_prob(),
    ),
    Spec(
        "pipeline.simulate_pipeline",
        pipeline.simulate_pipeline,
        lambda: _a(
            d.opps(),
            d.model(),
            as_of=d.AS_OF,
            n_draws=200,
            seed=7,
            close_date="close_date",
            horizon=24,
        ),
        {0: {**OPP, "close_date": D}},
        {"as_of": Kind.WHEN, "n_draws": Kind.COUNT, "horizon": Kind.COUNT, "shape": Kind.REAL},
        nulls_ok=frozenset({(0, "close_date")}),
        check=_percentiles,
    ),
    Spec(
        "pipeline.estimate_stage_model",
        pipeline.estimate_stage_model,
        lambda: _a(d.history(), stages=STAGES, smoothing=0.5),
        {0: HIST},
        {"smoothing": Kind.REAL},
        check=_model_probabilities,
    ),
    Spec(
        "pipeline.funnel_conversion",
        pipeline.funnel_conversion,
        lambda: _a(d.history(), stages=STAGES),
        {0: HIST},
        check=_funnel,
    ),
    Spec(
        "pipeline.forecast_rollup",
        pipeline.forecast_rollup,
        lambda: _a(d.opps()),
        {0: {"forecast_category": L, "amount": A, "opportunity_id": K}},
        check=_category_totals,
    ),
    Spec(
        "pipeline.pipeline_coverage",
        pipeline.pipeline_coverage,
        lambda: _a(d.opps(), 250_000.0),
        {0: OPP},
        {1: Kind.REAL},
        check=c.in_range("win_rate", 0.0, 1.0),
        # documented: coverage is inf when nothing of the quota remains (a quota of 1e-300)
        inf_ok=frozenset({"coverage", "required_coverage"}),
    ),
    Spec(
        "pipeline.pipeline_waterfall",
        pipeline.pipeline_waterfall,
        lambda: _a(*d.snapshots(), missing="lost"),
        {0: OPP, 1: OPP},
    ),
    Spec(
        "pipeline.sales_velocity",
        pipeline.sales_velocity,
        lambda: _a(d.opps()),
        {0: {**OPP, "created_at": D, "closed_at": D}},
        nulls_ok=frozenset({(0, "closed_at")}),
        check=c.in_range("win_rate", 0.0, 1.0),
    ),
    Spec(
        "pipeline.split_credit",
        pipeline.split_credit,
        lambda: _a(d.opps(), d.splits(), default_person="person"),
        {
            0: {"opportunity_id": K, "amount": A, "person": ID},
            1: {"opportunity_id": ID, "person": ID, "share": M},
        },
        nulls_ok=frozenset({(0, "person")}),
        check=_credit_exact,
    ),
    Spec(
        "pipeline.credit_totals",
        pipeline.credit_totals,
        lambda: _a(d.credit()),
        {0: {"credited_cents": MI}},
        check=c.total_matches("credited_cents", 0, "credited_cents", exact=True),
    ),
    Spec(
        "pipeline.campaign_roi",
        pipeline.campaign_roi,
        lambda: _a(*d.campaign_frames()),
        {
            0: {"campaign_id": K, "cost": A},
            1: {"campaign_id": ID, "opportunity_id": ID, "touched_at": D},
            2: OPP,
        },
        nulls_ok=frozenset({(1, "opportunity_id")}),
        check=c.total_matches("cost", 0, "cost"),
    ),
    Spec(
        "pipeline.check_history",
        pipeline.check_history,
        lambda: _a(d.states()),
        {0: STATES},
        labels_rows=True,
        overrides={
            "unknown_label:0:state": (Expect.ANY, "documented: reported as a row (errors='report')")
        },
    ),
    Spec(
        "pipeline.current_states",
        pipeline.current_states,
        lambda: _a(d.states()),
        {0: STATES},
        check=c.rows_equal(0, "opportunity_id"),
    ),
    Spec(
        "pipeline.apply_transition",
        pipeline.apply_transition,
        lambda: _a("open", "won"),
        {},
        {0: Kind.LABEL, 1: Kind.LABEL},
    ),
    Spec(
        "pipeline.StageModel",
        pipeline.StageModel,
        lambda: _a(
            stages=STAGES, win_probabilities=[0.3, 0.6, 0.8], days_to_close=[60.0, 30.0, 10.0]
        ),
        {},
        {"win_probabilities": Kind.REALS, "days_to_close": Kind.REALS},
        check=_model_probabilities,
    ),
    Spec(
        "pipeline.StageModel.from_conversion_rates",
        pipeline.StageModel.from_conversion_rates,
        lambda: _a(STAGES, [0.5, 0.8, 0.9], [60.0, 30.0, 30.0]),
        {},
        {1: Kind.REALS, 2: Kind.REALS},
        check=_model_probabilities,
    ),
    Spec(
        "pipeline.Lifecycle",
        pipeline.Lifecycle,
        lambda: _a(initial=["open"]),
        {},
        {"initial": Kind.REALS},
    ),
    *LEADS,
]
