"""The fitted log-likelihoods and their gradients, against independent forms.

The fast objectives (buffers, the Pareto/NBD drop-out integral by Gauss-Legendre nodes) are
checked against the textbook formulas: BG/NBD and MBG/NBD against Fader, Hardie & Lee (2005)
eq. 6 and Batislam et al. (2007) written directly with ``logaddexp``; the Pareto/NBD drop-out
term against note 009's hyp2f1 closed form (``_pareto.log_a0``, the form lifetimes uses); every
gradient against central differences of its own value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import betaln, gammaln

from crmcore.clv import _bgnbd, _inputs, _pareto, fit_bg_nbd, fit_pareto_nbd
from crmcore.clv._dropout import DropoutIntegral
from crmcore.errors import ConvergenceError, DataError

FloatArray = Any


def _cdnow(cdnow_summary: pd.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray]:
    return tuple(cdnow_summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))  # type: ignore[return-value]


def _bg_textbook(params: tuple[float, ...], x: Any, tx: Any, T: Any, *, modified: bool) -> float:  # noqa: N803  # the literature's T
    r, alpha, a, b = params
    shift = 1.0 if modified else 0.0
    first = (
        betaln(a, b + x + shift) - betaln(a, b) + gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    )
    alive = -(r + x) * np.log(alpha + T)
    denominator = b + x - 1.0 + shift
    with np.errstate(all="ignore"):
        dead = np.log(a) - np.log(denominator) - (r + x) * np.log(alpha + tx)
    dead = np.where((x > 0) | modified, dead, -np.inf)
    return float(np.sum(first + np.logaddexp(alive, dead)))


def _central_gradient(fun: Any, log_params: Any, step: float = 1e-6) -> Any:
    out = np.empty(len(log_params))
    for j in range(len(log_params)):
        e = np.zeros(len(log_params))
        e[j] = step
        out[j] = (fun(log_params + e)[0] - fun(log_params - e)[0]) / (2 * step)
    return out


POINTS = [(0.243, 4.414, 0.793, 2.426), (2.0, 0.5, 0.1, 0.7), (0.05, 30.0, 5.0, 0.3)]


@pytest.mark.parametrize("modified", [False, True])
@pytest.mark.parametrize("params", POINTS)
def test_bg_nbd_objective_is_the_textbook_likelihood(
    cdnow_summary: pd.DataFrame, params: tuple[float, ...], modified: bool
) -> None:
    x, tx, T = _cdnow(cdnow_summary)
    fun = _bgnbd.objective(x, tx, T, np.ones(len(x)), 0.0, modified=modified)
    value, grad = fun(np.log(np.array(params)))
    expected = _bg_textbook(params, x, tx, T, modified=modified)
    assert -value * len(x) == pytest.approx(expected, rel=1e-12)
    numeric = _central_gradient(fun, np.log(np.array(params)))
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(
    "params",
    [
        (0.55, 10.58, 0.61, 11.67),  # Fader & Hardie's CDNOW estimates (weeks)
        (0.55, 11.67, 0.61, 10.58),  # alpha > beta: the other branch of both forms
        (5.0, 0.01, 0.05, 300.0),
        (0.02, 200.0, 8.0, 0.5),
        (1.0, 3.0, 1.0, 3.0),  # alpha == beta
        (12.0, 1e-3, 20.0, 1e-3),
        (0.3, 1000.0, 0.3, 1e-3),
    ],
)
def test_dropout_integral_equals_the_hyp2f1_form(
    cdnow_summary: pd.DataFrame, params: tuple[float, float, float, float]
) -> None:
    # s I = s/(r+s+x) A0 (Fader & Hardie, note 009, eq. 19-20): to 1e-10 relative for every
    # CDNOW customer, at the published estimates and at extreme parameters.
    x, tx, T = _cdnow(cdnow_summary)
    inside = tx < T
    x, tx, T = x[inside], tx[inside], T[inside]
    log_i, _ = DropoutIntegral(x, tx, T).evaluate(params, gradient=False)
    reference = _pareto.log_a0(params, x, tx, T) - np.log(params[0] + params[2] + x)
    np.testing.assert_allclose(np.exp(log_i - reference), 1.0, rtol=0, atol=1e-10)


def test_dropout_integral_at_the_end_of_observation_is_zero() -> None:
    integral = DropoutIntegral(np.array([2.0, 2.0]), np.array([5.0, 3.0]), np.array([5.0, 5.0]))
    log_i, grad = integral.evaluate((0.5, 2.0, 0.7, 3.0), gradient=True)
    assert log_i[0] == -np.inf
    assert np.isfinite(log_i[1])
    assert (grad[:, 0] == 0).all()


@given(
    st.floats(0.01, 30), st.floats(1e-3, 1e3), st.floats(0.01, 30), st.floats(1e-3, 1e3),
    st.integers(0, 300), st.floats(0.0, 0.99), st.floats(0.1, 10),
)  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_dropout_gradient_matches_differences(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    x: int,
    share: float,
    T: float,  # noqa: N803
) -> None:
    tx = 0.0 if x == 0 else share * T
    integral = DropoutIntegral(np.array([float(x)]), np.array([tx]), np.array([T]))
    params = np.array([r, alpha, s, beta])
    _, grad = integral.evaluate((r, alpha, s, beta), gradient=True)

    def central(j: int, h: float) -> float:
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        hi = integral.evaluate(tuple(up), gradient=False)[0][0]  # type: ignore[arg-type]
        lo = integral.evaluate(tuple(down), gradient=False)[0][0]  # type: ignore[arg-type]
        return float(hi - lo) / (2 * h)

    for j in range(4):
        # Richardson's extrapolation of central differences with a wide step: small steps
        # would divide the quadrature's 1e-12 error by the step.
        h = 1e-3 * params[j]
        numeric = (4 * central(j, h / 2) - central(j, h)) / 3
        assert grad[j, 0] == pytest.approx(numeric, rel=1e-6, abs=1e-8 / params[j])


@pytest.mark.parametrize("params", [(0.55, 10.58, 0.61, 11.67), (2.0, 0.5, 0.1, 0.7)])
def test_pareto_objective_matches_its_parts(
    cdnow_summary: pd.DataFrame, params: tuple[float, float, float, float]
) -> None:
    x, tx, T = _cdnow(cdnow_summary)
    fun = _pareto.objective(x, tx, T, np.ones(len(x)), 0.0)
    value, grad = fun(np.log(np.array(params)))
    r, alpha, s, beta = params
    with np.errstate(divide="ignore"):
        h = np.log(s) + _pareto.log_a0(params, x, tx, T) - np.log(r + s + x)
    g = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    expected = np.sum(
        gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(g, h)
    )
    assert -value * len(x) == pytest.approx(expected, rel=1e-11)
    numeric = _central_gradient(fun, np.log(np.array(params)))
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


# --------------------------------------------------------------------------- compression, starts


def test_compress_falls_back_to_exact_keys_on_a_hash_collision(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cols = [np.array([1.0, 2.0, 1.0, 3.0]), np.array([0.5, 0.5, 0.5, 0.0])]
    expected = _inputs.compress(cols, np.ones(4))
    monkeypatch.setattr(_inputs, "_row_hash", lambda columns: np.zeros(4, dtype=np.uint64))
    got = _inputs.compress(cols, np.ones(4))
    # The fallback sorts by value; the hash path by hash: the same rows and weights.
    assert sorted(zip(*got[0], got[1], strict=True)) == sorted(
        zip(*expected[0], expected[1], strict=True)
    )
    np.testing.assert_array_equal(got[0][0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(got[1], [2.0, 1.0, 1.0])


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=30),
       st.integers(0, 2**32 - 1))  # fmt: skip
@settings(max_examples=40, deadline=None)
def test_compress_is_canonical(rows: list[tuple[int, int]], seed: int) -> None:
    # Any order and any split into parts compressed first gives the same arrays.
    a = np.array(rows, dtype=float)
    cols, w = _inputs.compress([a[:, 0], a[:, 1]], np.ones(len(a)))
    perm = np.random.default_rng(seed).permutation(len(a))
    half = len(a) // 2
    parts = [
        _inputs.compress([a[p, 0], a[p, 1]], np.ones(len(p))) for p in (perm[:half], perm[half:])
    ]
    merged = _inputs.compress([np.concatenate([c[0][j] for c in parts]) for j in range(2)],
                              np.concatenate([c[1] for c in parts]))  # fmt: skip
    for x, y in zip(cols, merged[0], strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(w, merged[1])


@given(st.integers(0, 2**32 - 1))
@settings(max_examples=10, deadline=None)
def test_subsample_depends_on_values_not_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cols = [rng.integers(0, 20, 4000).astype(float), rng.uniform(0, 50, 4000)]
    order = rng.permutation(4000)
    a = _inputs.subsample(cols, 500)
    b = _inputs.subsample([c[order] for c in cols], 500)
    assert a is not None
    assert b is not None
    assert sorted(zip(cols[0][a], cols[1][a], strict=True)) == sorted(
        zip(cols[0][order][b], cols[1][order][b], strict=True)
    )
    assert 300 < len(a) < 800


@pytest.mark.parametrize("fit", [fit_bg_nbd, fit_pareto_nbd])
def test_warm_started_fit_equals_a_cold_fit(fit: Any, cdnow_summary: pd.DataFrame,
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # 15 copies of CDNOW with times jittered: 35,355 distinct rows, so the fit starts from a
    # subsample; the answer must not depend on the start.
    rng = np.random.default_rng(3)
    parts = []
    for _ in range(15):
        jitter = rng.uniform(0.999, 1.0, len(cdnow_summary))
        parts.append(cdnow_summary.assign(recency=cdnow_summary["recency"] * jitter,
                                          T=cdnow_summary["T"] * jitter))  # fmt: skip
    big = pd.concat(parts, ignore_index=True)
    assert len(big.drop_duplicates()) >= 3 * 10_000  # fit._WARM_ROWS: the warm path runs
    warm = fit(big)
    import crmcore.clv.fit as fit_module

    monkeypatch.setattr(fit_module, "_WARM_ROWS", 10**9)
    cold = fit(big)
    for name in warm.PARAMETERS:
        assert getattr(warm, name) == pytest.approx(getattr(cold, name), rel=1e-6)
    assert warm.diagnostics.log_likelihood == pytest.approx(
        cold.diagnostics.log_likelihood, rel=1e-12
    )


def test_no_optimum_raises_convergence_error() -> None:
    s = pd.DataFrame({"frequency": [50.0, 0.0], "recency": [0.001, 0.0], "T": [1000.0, 1000.0]})
    with pytest.raises(ConvergenceError, match=r"did not converge.*penalizer") as info:
        fit_bg_nbd(s)
    assert isinstance(info.value, DataError)
    assert isinstance(info.value, ValueError)


def test_dropout_integral_of_a_sharp_peak() -> None:
    # A heavy buyer with a tiny alpha: the integrand falls by e^-40 within y < 1 of the 6.9
    # available. Reference values by mpmath.quad at 40 digits (split at alpha * 2^k).
    integral = DropoutIntegral(np.array([38.0]), np.array([0.0]), np.array([1.0]))
    log_i, grad = integral.evaluate((1.0, 0.001, 24.0, 1.0), gradient=True)
    assert log_i[0] == pytest.approx(258.85643902548888, rel=1e-13)
    assert grad[2, 0] == pytest.approx(-2.7007016986613264e-05, rel=1e-8)
