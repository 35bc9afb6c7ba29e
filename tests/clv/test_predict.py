"""Predictions equal lifetimes' formulas (same parameters) to 1e-6 relative; invariants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.clv import (
    BGBB,
    BGNBD,
    MBGNBD,
    GammaGamma,
    ParetoNBD,
    ShiftedBetaGeometric,
    expected_purchases,
    expected_purchases_new,
    probability_alive,
    probability_of_purchases,
    retention_curve,
    survival_curve,
)
from crmcore.errors import ConfigError, DataError, InputTypeError
from helpers import call_unmutated

DATA = Path(__file__).resolve().parents[1] / "data"
MODELS = {
    "bgnbd": BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W"),
    "mbgnbd": MBGNBD(r=0.3, alpha=5.0, a=1.5, b=6.0, time_unit="W"),
    "pnbd": ParetoNBD(r=0.55, alpha=10.58, s=0.61, beta=11.67, time_unit="W"),
}
BB = BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)


def _close(ours: pd.Series, theirs: pd.Series) -> None:
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("key", list(MODELS))
def test_probability_alive_as_lifetimes(
    key: str, cdnow_summary: pd.DataFrame, lifetimes_predictions: pd.DataFrame
) -> None:
    got = probability_alive(MODELS[key], cdnow_summary)
    assert got.name == "p_alive"
    pd.testing.assert_index_equal(got.index, cdnow_summary.index)
    _close(got, lifetimes_predictions[f"{key}_p_alive"])


@pytest.mark.parametrize("key", list(MODELS))
@pytest.mark.parametrize("t", [10, 39])
def test_expected_purchases_as_lifetimes(
    key: str, t: int, cdnow_summary: pd.DataFrame, lifetimes_predictions: pd.DataFrame
) -> None:
    got = expected_purchases(MODELS[key], cdnow_summary, t)
    _close(got, lifetimes_predictions[f"{key}_expected_{t}"])


def test_bg_bb_as_lifetimes(donations: pd.DataFrame) -> None:
    ref = pd.read_csv(DATA / "lifetimes_bgbb.csv")
    _close(probability_alive(BB, donations, n_periods="periods"), ref["p_alive"])
    for t in (1, 5, 10):
        got = expected_purchases(BB, donations, t, n_periods="periods")
        _close(got, ref[f"expected_{t}"])


def test_unconditional_as_lifetimes() -> None:
    ref = json.loads((DATA / "lifetimes_fits.json").read_text())
    for key, model in MODELS.items():
        assert expected_purchases_new(model, 39) == pytest.approx(
            ref[f"{key}_expected_new_39"], rel=1e-9
        )
    for key in ("bgnbd", "mbgnbd"):
        got = probability_of_purchases(MODELS[key], 39, range(6))
        np.testing.assert_allclose(got.to_numpy(), ref[f"{key}_pmf_39"], rtol=1e-9)
        assert got.index.name == "purchases"


@pytest.mark.parametrize("model", [*MODELS.values(), BB])
def test_probabilities_sum_to_one_and_match_the_mean(model: Any) -> None:
    t = 6 if isinstance(model, BGBB) else 30.0
    n = np.arange(7 if isinstance(model, BGBB) else 120)
    pmf = probability_of_purchases(model, t, n)
    assert (pmf >= 0).all()
    assert pmf.sum() == pytest.approx(1.0, abs=1e-7)
    mean = float((pmf.index.to_numpy() * pmf).sum())
    assert mean == pytest.approx(expected_purchases_new(model, t), rel=1e-6)


def test_bg_bb_unconditional_matches_fader_hardie_shang(donations: pd.DataFrame) -> None:
    # FHS (2010) figure 3: the fitted model tracks the 1996-2001 repeat donations; the expected
    # number of repeat transactions in 6 opportunities times the cohort equals the sum of the
    # pattern-weighted P(X(6) = x) x (eq. 7-8 are consistent).
    pmf = probability_of_purchases(BB, 6, range(7))
    assert float((pmf.index * pmf).sum()) == pytest.approx(expected_purchases_new(BB, 6))
    observed = np.bincount(donations["frequency"], weights=donations["weights"]) / 11104
    np.testing.assert_allclose(pmf.to_numpy(), observed, atol=0.01)


cases = st.tuples(
    st.integers(0, 40), st.floats(0.0, 1.0), st.floats(0.1, 200.0), st.floats(0.0, 100.0)
)


@given(st.lists(cases, min_size=1, max_size=20), st.sampled_from(list(MODELS)))
def test_ranges_and_monotonicity(rows: list[tuple[int, float, float, float]], key: str) -> None:
    x = np.array([r[0] for r in rows], dtype=float)
    T = np.array([r[2] for r in rows])
    rec = np.where(x > 0, np.array([r[1] for r in rows]) * T, 0.0)
    summary = pd.DataFrame({"frequency": x, "recency": rec, "T": T})
    model = MODELS[key]
    p = probability_alive(model, summary)
    assert ((p >= 0) & (p <= 1)).all()
    t = rows[0][3]
    near = expected_purchases(model, summary, t)
    far = expected_purchases(model, summary, t + 5.0)
    assert (near >= 0).all()
    assert (far >= near - 1e-12).all()
    # A more recent last purchase never makes a customer less likely to be alive.
    later = summary.assign(recency=np.where(x > 0, (rec + T) / 2, 0.0))
    assert (probability_alive(model, later) >= p - 1e-12).all()


def test_survival_and_retention_fader_hardie_2007() -> None:
    # FH (2007) table 1 / figure 4: the "regular" model projects 24.1 % of the cohort active
    # after 7 years fitted, and retention rates rising towards 1.
    m = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
    surv = survival_curve(m, 12)
    assert surv.iloc[0] == 1.0
    assert surv.loc[7] == pytest.approx(0.241, abs=0.01)
    assert (np.diff(surv.to_numpy()) < 0).all()
    ret = retention_curve(m, 12)
    np.testing.assert_allclose(ret.to_numpy(), surv.to_numpy()[1:] / surv.to_numpy()[:-1])
    assert (np.diff(ret.to_numpy()) > 0).all()
    assert retention_curve(m, 0).empty


def test_predictions_leave_input_unchanged(cdnow_summary: pd.DataFrame) -> None:
    s = cdnow_summary.iloc[:50].copy()
    for model in MODELS.values():
        call_unmutated(probability_alive, model, s)
        call_unmutated(expected_purchases, model, s, 10.0)


def test_bad_arguments(cdnow_summary: pd.DataFrame) -> None:
    m = MODELS["bgnbd"]
    with pytest.raises(InputTypeError, match="model must be one of"):
        probability_alive(GammaGamma(p=1, q=2, v=3), cdnow_summary)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="t == -1"):
        expected_purchases(m, cdnow_summary, -1)
    with pytest.raises(ConfigError, match="t must be int"):
        expected_purchases(BB, pd.DataFrame({"frequency": [1], "recency": [1], "n_periods": [2]}),
                           1.5)  # fmt: skip
    with pytest.raises(ConfigError, match="n == -1"):
        probability_of_purchases(m, 10, [-1])
    with pytest.raises(DataError, match=r"row 2.*above its T"):
        probability_alive(m, pd.DataFrame({"frequency": [1, 1, 1], "recency": [1, 2, 9],
                                           "T": [5, 5, 5]}))  # fmt: skip
    with pytest.raises(InputTypeError):
        survival_curve(m, 3)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        survival_curve(ShiftedBetaGeometric(alpha=1, beta=1), -1)


def test_horizons_and_curves_beyond_their_range_are_config_errors() -> None:
    # issue 14 catalogue: t=1e307 predicted inf purchases, 10**9 curve periods tried to
    # allocate 7.45 GiB, counts near 1e307 overflowed the likelihood
    from crmcore.clv import (
        BGNBD,
        ShiftedBetaGeometric,
        expected_purchases_new,
        retention_curve,
        survival_curve,
    )

    model = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    with pytest.raises(ConfigError, match="too large"):
        expected_purchases_new(model, 1e307)
    assert np.isfinite(expected_purchases_new(model, 1e12))  # 1e14 overflowed to inf
    with pytest.raises(ConfigError, match=r"at most 10\*\*12"):
        expected_purchases_new(model, 1e14)
    sbg = ShiftedBetaGeometric(alpha=0.704, beta=1.182)
    for curve in (retention_curve, survival_curve):
        with pytest.raises(ConfigError, match="n_periods"):
            curve(sbg, 10**9)
    summary = pd.DataFrame({"frequency": [1e307, 1.0], "recency": [30.0, 10.0], "T": 39.0})
    with pytest.raises(DataError, match=r"value too large .*at row 0"):
        expected_purchases(model, summary, 10.0)
