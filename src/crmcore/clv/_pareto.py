"""Pareto/NBD: log-likelihood with its gradient, and the prediction formulas.

Sources: Schmittlein, Morrison & Colombo (1987), "Counting your customers: who are they and
what will they do next?", Management Science 33(1); Fader & Hardie (2005), note 008/009 "A note
on deriving the Pareto/NBD model and related expressions" (likelihood eq. 22, P(alive) eq. 11,
conditional expectation eq. 41, E[X(t)] eq. 17).

The likelihood of a customer with ``x`` repeat purchases, the last at ``t_x``, observed for
``T`` is (note 009, with ``p = r + s + x``)

    L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^-(r+x) (β+T)^-s + s/p · A0 ]

where, with ``m = max(α, β)`` and ``F(t) = 2F1(p, b'; p + 1; |α-β| / (m + t))``,
``b' = s + 1`` if ``α >= β`` else ``r + x``, ``A0 = F(t_x)/(m+t_x)^p - F(T)/(m+T)^p`` (note
009 eq. 19-20, the form lifetimes uses). It is evaluated in log-space: ``log A0`` as
``ℓ(t_x) + log1p(-exp(ℓ(T) - ℓ(t_x)))`` with ``ℓ(t) = log F(t) - p log(m + t)`` and the two
terms of the bracket combined by ``logaddexp``, so heavy buyers (large ``p``) do not overflow.

The gradient is analytic in α and β (``dF/dz = p b' / (p + 1) · 2F1(p + 1, b' + 1; p + 2; z)``)
and by forward differences of ``log A0`` in r and s (the derivatives of 2F1 in its parameters
have no closed form in scipy). ``F`` depends on the customer only through ``(x, t)``, so it is
evaluated once per distinct ``(x, t_x)`` and ``(x, T)`` pair: with dates, most customers share
them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore.clv._inputs import dot

__all__ = [
    "conditional_expected",
    "expected_new",
    "log_a0",
    "objective",
    "probability_alive",
    "probability_of_purchases",
]

FloatArray = npt.NDArray[np.float64]
Params = tuple[float, float, float, float]
_FD_STEP = 1e-7


class _Pairs:
    """Distinct (x, t) pairs and each row's pair."""

    def __init__(self, x: FloatArray, t: FloatArray) -> None:
        frame = pd.DataFrame({"x": x, "t": t})
        codes, uniques = pd.factorize(pd.MultiIndex.from_frame(frame))
        self.inverse = codes
        self.x = np.asarray(uniques.get_level_values(0), dtype=np.float64)
        self.t = np.asarray(uniques.get_level_values(1), dtype=np.float64)


def _ell(params: Params, x: FloatArray, t: FloatArray) -> FloatArray:
    """ℓ(t) = log 2F1(p, b'; p+1; |α-β|/(m+t)) - p log(m+t)."""
    from scipy.special import hyp2f1

    r, alpha, s, beta = params
    p = r + s + x
    m = max(alpha, beta)
    b_prime = s + 1.0 if alpha >= beta else r + x
    z = abs(alpha - beta) / (m + t)
    with np.errstate(all="ignore"):
        out: FloatArray = np.log(hyp2f1(p, b_prime, p + 1.0, z)) - p * np.log(m + t)
    return out


def _ell_with_gradient(
    params: Params, x: FloatArray, t: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """ℓ(t) and its derivatives in α and β."""
    from scipy.special import hyp2f1

    r, alpha, s, beta = params
    p = r + s + x
    b_prime: FloatArray | float
    if alpha >= beta:
        m, other, b_prime = alpha, beta, s + 1.0
    else:
        m, other, b_prime = beta, alpha, r + x
    z = abs(alpha - beta) / (m + t)
    with np.errstate(all="ignore"):
        f = hyp2f1(p, b_prime, p + 1.0, z)
        ratio = p * b_prime / (p + 1.0) * hyp2f1(p + 1.0, b_prime + 1.0, p + 2.0, z) / f
        ell = np.log(f) - p * np.log(m + t)
    # z = (m - other) / (m + t): dz/dm = (other + t) / (m + t)^2, dz/dother = -1 / (m + t).
    d_max = ratio * (other + t) / (m + t) ** 2 - p / (m + t)
    d_other = -ratio / (m + t)
    if alpha >= beta:
        return ell, d_max, d_other
    return ell, d_other, d_max


def _log_a0_from(ell_x: FloatArray, ell_t: FloatArray) -> FloatArray:
    with np.errstate(all="ignore"):
        out: FloatArray = ell_x + np.log1p(-np.exp(ell_t - ell_x))
    return out


def log_a0(params: Params, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """Log A0 (note 009 eq. 19-20); -inf where t_x == T."""
    return _log_a0_from(_ell(params, x, tx), _ell(params, x, T))


def objective(
    x: FloatArray, tx: FloatArray, T: FloatArray, w: FloatArray, penalizer: float
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Mean negative log-likelihood (plus penalty) of log-parameters, with its gradient."""
    from scipy.special import digamma, gammaln

    ux, inv = np.unique(x, return_inverse=True)
    wx = np.bincount(inv, weights=w, minlength=len(ux))
    total = float(w.sum())
    at_x = _Pairs(x, tx)
    at_t = _Pairs(x, T)
    alive_to_end = tx >= T  # A0 = 0: the customer bought at the end of the observation

    def ell_rows(params: Params) -> FloatArray:
        return _log_a0_from(
            _ell(params, at_x.x, at_x.t)[at_x.inverse], _ell(params, at_t.x, at_t.t)[at_t.inverse]
        )

    def fun(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        r, alpha, s, beta = (float(v) for v in params)
        ex, dax, dbx = _ell_with_gradient((r, alpha, s, beta), at_x.x, at_x.t)
        et, dat, dbt = _ell_with_gradient((r, alpha, s, beta), at_t.x, at_t.t)
        ex, dax, dbx = ex[at_x.inverse], dax[at_x.inverse], dbx[at_x.inverse]
        et, dat, dbt = et[at_t.inverse], dat[at_t.inverse], dbt[at_t.inverse]
        la0 = _log_a0_from(ex, et)
        h_r = _FD_STEP * max(r, 1.0)
        h_s = _FD_STEP * max(s, 1.0)
        with np.errstate(all="ignore"):
            d_la0_r = (ell_rows((r + h_r, alpha, s, beta)) - la0) / h_r
            d_la0_s = (ell_rows((r, alpha, s + h_s, beta)) - la0) / h_s
            e_x = 1.0 / -np.expm1(et - ex)  # term(t_x) / A0
            e_t = e_x - 1.0
            d_la0_a = e_x * dax - e_t * dat
            d_la0_b = e_x * dbx - e_t * dbt
            p = r + s + x
            log_at = np.log(alpha + T)
            log_bt = np.log(beta + T)
            g = -(r + x) * log_at - s * log_bt
            h = np.log(s) - np.log(p) + la0
            lb = np.logaddexp(g, h)
            pi = np.where(alive_to_end, 0.0, np.exp(h - lb))
        clean = ~alive_to_end
        d_la0_r = np.where(clean, d_la0_r, 0.0)
        d_la0_s = np.where(clean, d_la0_s, 0.0)
        d_la0_a = np.where(clean, d_la0_a, 0.0)
        d_la0_b = np.where(clean, d_la0_b, 0.0)
        keep = 1.0 - pi
        ll = float(dot(wx, (gammaln(r + ux) - gammaln(r))))
        ll += total * (r * np.log(alpha) + s * np.log(beta)) + float(dot(w, lb))
        g_r = float(dot(wx, (digamma(r + ux) - digamma(r)))) + total * np.log(alpha)
        g_r += float(dot(w, (keep * -log_at + pi * (d_la0_r - 1.0 / p))))
        g_alpha = total * r / alpha + dot(w, keep * (-(r + x) / (alpha + T)) + pi * d_la0_a)
        g_s = total * np.log(beta)
        g_s += float(dot(w, (keep * -log_bt + pi * (1.0 / s - 1.0 / p + d_la0_s))))
        g_beta = total * s / beta + dot(w, keep * (-s / (beta + T)) + pi * d_la0_b)
        grad = np.array([g_r, g_alpha, g_s, g_beta]) * params
        value = -ll / total + penalizer * float(dot(params, params))
        return value, -grad / total + 2.0 * penalizer * params * params

    return fun


def _log_bracket(params: Params, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """Log of L's bracket and its first term: (α+T)^-(r+x) (β+T)^-s + s/p A0."""
    r, alpha, s, beta = params
    g = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    h = np.log(s) - np.log(r + s + x) + log_a0(params, x, tx, T)
    out: FloatArray = np.logaddexp(g, h) - g
    return out


def probability_alive(params: Params, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """P(alive at T | x, t_x, T): note 009 eq. (11)."""
    with np.errstate(all="ignore"):
        out: FloatArray = np.exp(-_log_bracket(params, x, tx, T))
    return out


def _growth(s: float, horizon: FloatArray | float, base: FloatArray | float) -> FloatArray:
    """[1 - (base / (base + horizon))^(s-1)] / (s-1), its limit log(1 + horizon/base) at s=1."""
    log_q = -np.log1p(np.asarray(horizon) / np.asarray(base))
    if abs(s - 1.0) < 1e-12:
        out: FloatArray = -log_q
        return out
    out = -np.expm1((s - 1.0) * log_q) / (s - 1.0)
    return out


def conditional_expected(
    params: Params, t: float, x: FloatArray, tx: FloatArray, T: FloatArray
) -> FloatArray:
    """E[Y(t) | x, t_x, T]: note 009 eq. (41)."""
    r, alpha, s, beta = params
    rate = (r + x) * (beta + T) / (alpha + T)
    out: FloatArray = rate * _growth(s, t, beta + T) * probability_alive(params, x, tx, T)
    return out


def expected_new(params: Params, t: float) -> float:
    """E[X(t)] for a new customer: note 009 eq. (17)."""
    r, alpha, s, beta = params
    return float(r * beta / alpha * _growth(s, t, beta))


def probability_of_purchases(params: Params, t: float, n: npt.NDArray[np.int64]) -> FloatArray:
    """P(X(t) = n) for a new customer.

    The customer is either alive at ``t`` (probability ``(β/(β+t))^s``) with an NBD count over
    ``t``, or dies at ``τ < t`` (density ``s β^s / (β+τ)^(s+1)``) with an NBD count over
    ``τ``; the second part is integrated with ``scipy.integrate.quad`` (one integral per
    ``n``; Fader & Hardie's note 012 gives the same quantity as a sum of 2F1 terms).
    """
    from scipy.integrate import quad
    from scipy.special import gammaln

    r, alpha, s, beta = params

    def nbd(k: float, tau: float) -> float:
        if tau <= 0:
            return 1.0 if k == 0 else 0.0
        return float(
            np.exp(
                gammaln(r + k)
                - gammaln(r)
                - gammaln(k + 1.0)
                + r * np.log(alpha / (alpha + tau))
                + k * np.log(tau / (alpha + tau))
            )
        )

    out = np.empty(len(n), dtype=np.float64)
    alive = (beta / (beta + t)) ** s
    for i, k in enumerate(n.tolist()):
        dead, _ = quad(
            lambda tau, k=k: nbd(k, tau) * s * beta**s / (beta + tau) ** (s + 1.0),
            0.0,
            t,
            epsabs=1e-13,
            epsrel=1e-11,
            limit=200,
        )
        out[i] = alive * nbd(k, t) + dead
    return out
