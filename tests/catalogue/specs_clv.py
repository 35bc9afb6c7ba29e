"""Specs of crmcore.clv (models given as published parameters, so no fit runs per case)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from catalogue import checks as c
from catalogue import data as d
from catalogue.model import Kind, Spec
from crmcore import clv

M, ID, D = Kind.MEASURE, Kind.ID, Kind.DATE
R = Kind.REAL
SUMMARY = {"frequency": M, "recency": M, "T": M}


def _a(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


def _cdnow() -> pd.DataFrame:
    # a few CDNOW-like customers (weeks): frequency, recency, T, monetary_value
    return pd.DataFrame(
        {
            "frequency": [0.0, 2.0, 1.0, 0.0, 4.0, 7.0, 1.0, 3.0],
            "recency": [0.0, 30.43, 1.71, 0.0, 29.43, 35.71, 5.0, 20.0],
            "T": [38.86, 38.86, 38.86, 38.86, 38.86, 38.71, 38.57, 38.0],
            "monetary_value": [0.0, 22.35, 11.77, 0.0, 36.25, 30.0, 20.0, 50.0],
        }
    )


def _cdnow_fit() -> pd.DataFrame:
    # the first 200 customers of CDNOW (Fader, Hardie & Lee 2005), weeks
    path = Path(__file__).resolve().parents[1] / "data" / "cdnow_summary.csv"
    cols = {"x": "frequency", "t_x": "recency", "zbar": "monetary_value"}
    return pd.read_csv(path).head(200).rename(columns=cols).drop(columns="ID")


def _patterns() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frequency": [0, 1, 2, 3, 1, 2],
            "recency": [0, 1, 3, 3, 3, 2],
            "n_periods": [3, 3, 3, 3, 3, 3],
            "weights": [50, 20, 15, 10, 12, 8],
        }
    )


def _bgnbd() -> clv.BGNBD:
    return clv.BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)


def _gg() -> clv.GammaGamma:
    return clv.GammaGamma(p=6.25, q=3.74, v=15.44)


def _bgbb() -> clv.BGBB:
    return clv.BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)


def _sbg() -> clv.ShiftedBetaGeometric:
    return clv.ShiftedBetaGeometric(alpha=0.704, beta=1.182)


def _holdout() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frequency_cal": [0.0, 1.0, 9.0, 2.0, 0.0, 3.0],
            "recency_cal": [0.0, 5.0, 30.0, 10.0, 0.0, 20.0],
            "T_cal": [39.0, 39.0, 39.0, 38.0, 30.0, 25.0],
            "frequency_holdout": [0.0, 1.0, 6.0, 1.0, 0.0, 2.0],
            "duration_holdout": [39.0, 39.0, 39.0, 39.0, 39.0, 39.0],
        }
    )


def _active() -> pd.Series:
    return pd.Series([1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0], name="active")


def _positive_prob(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    v = np.asarray(result, dtype=float)
    assert ((v >= 0) & (v <= 1)).all(), f"probabilities leave [0, 1]: {v[:4]}"


def _nonneg(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    v = np.atleast_1d(np.asarray(result, dtype=float))
    assert (np.isfinite(v) & (v >= 0)).all(), f"values are not finite and >= 0: {v[:4]}"


def _fitted(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    import attrs

    for f in attrs.fields(type(result)):
        v = getattr(result, f.name)
        if isinstance(v, float) and "correlation" not in f.name:
            assert np.isfinite(v), f"parameter {f.name} = {v}"
            assert v > 0, f"parameter {f.name} = {v}"


def _gg_rows() -> pd.DataFrame:
    s = _cdnow_fit()
    return s[s["frequency"] > 0].reset_index(drop=True)


FIT_SUMMARY = {0: {**SUMMARY}}

CLV = [
    *[
        Spec(
            f"clv.{name}",
            getattr(clv, name),
            lambda: _a(_cdnow_fit(), penalizer=0.0),
            FIT_SUMMARY,
            {"penalizer": R},
            check=_fitted,
            fast=False,
            rtol=1e-5,
        )
        for name in ("fit_bg_nbd", "fit_mbg_nbd", "fit_pareto_nbd")
    ],
    Spec(
        "clv.fit_gamma_gamma",
        clv.fit_gamma_gamma,
        lambda: _a(_gg_rows()),
        {0: {"frequency": M, "monetary_value": Kind.AMOUNT}},
        check=_fitted,
        fast=False,
        rtol=1e-5,
    ),
    Spec(
        "clv.fit_bg_bb",
        clv.fit_bg_bb,
        lambda: _a(_patterns(), weights="weights"),
        {0: {"frequency": M, "recency": M, "n_periods": M, "weights": M}},
        check=_fitted,
        fast=False,
        rtol=1e-5,
    ),
    Spec(
        "clv.fit_shifted_beta_geometric",
        clv.fit_shifted_beta_geometric,
        lambda: _a(_active()),
        {0: {None: M}},
        check=_fitted,
        fast=False,
        order_independent=False,  # counts per period, in period order
    ),
    Spec(
        "clv.probability_alive",
        clv.probability_alive,
        lambda: _a(_bgnbd(), _cdnow()),
        {1: SUMMARY},
        keeps_index=True,
        check=c.all_of(_positive_prob, c.index_kept(1)),
    ),
    Spec(
        "clv.expected_purchases",
        clv.expected_purchases,
        lambda: _a(_bgnbd(), _cdnow(), 10.0),
        {1: SUMMARY},
        {2: R},
        keeps_index=True,
        check=c.all_of(_nonneg, c.index_kept(1)),
    ),
    Spec(
        "clv.expected_purchases_new",
        clv.expected_purchases_new,
        lambda: _a(_bgnbd(), 10.0),
        {},
        {1: R},
        check=_nonneg,
    ),
    Spec(
        "clv.probability_of_purchases",
        clv.probability_of_purchases,
        lambda: _a(_bgnbd(), 39.0, [0, 1, 2]),
        {},
        {1: R},
        check=_positive_prob,
    ),
    Spec(
        "clv.expected_spend",
        clv.expected_spend,
        lambda: _a(_gg(), _cdnow()),
        {1: {"frequency": M, "monetary_value": Kind.AMOUNT}},
        keeps_index=True,
        check=c.all_of(_nonneg, c.index_kept(1)),
    ),
    Spec(
        "clv.customer_lifetime_value",
        clv.customer_lifetime_value,
        lambda: _a(
            clv.BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W"),
            _gg(),
            _cdnow(),
            months=12,
            discount_rate=0.01,
        ),
        {2: {**SUMMARY, "monetary_value": Kind.AMOUNT}},
        {"months": Kind.COUNT, "discount_rate": R},
        keeps_index=True,
        check=c.all_of(_nonneg, c.index_kept(2)),
    ),
    Spec(
        "clv.retention_curve",
        clv.retention_curve,
        lambda: _a(_sbg(), 8),
        {},
        {1: Kind.COUNT},
        check=_positive_prob,
    ),
    Spec(
        "clv.survival_curve",
        clv.survival_curve,
        lambda: _a(_sbg(), 8),
        {},
        {1: Kind.COUNT},
        check=_positive_prob,
    ),
    Spec(
        "clv.calibration_holdout",
        clv.calibration_holdout,
        lambda: _a(d.tx(), calibration_end="2024-06-30", observation_end="2024-12-31"),
        {0: {"customer_id": ID, "date": D}},
        {"calibration_end": Kind.WHEN, "observation_end": Kind.WHEN},
    ),
    Spec(
        "clv.holdout_report",
        clv.holdout_report,
        lambda: _a(_bgnbd(), _holdout()),
        {
            1: {
                "frequency_cal": M,
                "recency_cal": M,
                "T_cal": M,
                "frequency_holdout": M,
                "duration_holdout": M,
            }
        },
        {"max_frequency": Kind.COUNT},
    ),
    Spec(
        "clv.cohort_retention",
        clv.cohort_retention,
        lambda: _a(d.tx(), as_of=d.AS_OF),
        {0: {"customer_id": ID, "date": D}},
        {"as_of": Kind.WHEN},
    ),
    Spec(
        "clv.BGNBD",
        clv.BGNBD,
        lambda: _a(r=0.243, alpha=4.414, a=0.793, b=2.426),
        {},
        {"r": R, "alpha": R, "a": R, "b": R},
    ),
    Spec(
        "clv.MBGNBD",
        clv.MBGNBD,
        lambda: _a(r=0.243, alpha=4.414, a=0.793, b=2.426),
        {},
        {"r": R, "b": R},
    ),
    Spec(
        "clv.ParetoNBD",
        clv.ParetoNBD,
        lambda: _a(r=0.55, alpha=10.6, s=0.61, beta=11.7),
        {},
        {"r": R, "beta": R},
    ),
    Spec(
        "clv.BGBB",
        clv.BGBB,
        lambda: _a(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783),
        {},
        {"alpha": R, "delta": R},
    ),
    Spec(
        "clv.GammaGamma",
        clv.GammaGamma,
        lambda: _a(p=6.25, q=3.74, v=15.44),
        {},
        {"p": R, "q": R, "v": R},
    ),
    Spec(
        "clv.ShiftedBetaGeometric",
        clv.ShiftedBetaGeometric,
        lambda: _a(alpha=0.704, beta=1.182),
        {},
        {"alpha": R, "beta": R},
    ),
]
