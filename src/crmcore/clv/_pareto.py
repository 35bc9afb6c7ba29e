"""Pareto/NBD: log-likelihood with its gradient, and the prediction formulas.

Sources: Schmittlein, Morrison & Colombo (1987), "Counting your customers: who are they and
what will they do next?", Management Science 33(1); Fader & Hardie (2005), note 008/009 "A note
on deriving the Pareto/NBD model and related expressions" (likelihood eq. 22, P(alive) eq. 11,
conditional expectation eq. 41, E[X(t)] eq. 17).

The likelihood of a customer with ``x`` repeat purchases, the last at ``t_x``, observed for
``T`` is (note 009, with ``p = r + s + x``)

    L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^-(r+x) (β+T)^-s + s/p · A0 ]

where ``s/p · A0 = s · I``, ``I = ∫_{t_x}^{T} (α+τ)^-(r+x) (β+τ)^-(s+1) dτ`` (the customer
dropped out at some ``τ`` after the last purchase). The fit and P(alive) evaluate ``I`` by fixed
Gauss-Legendre nodes (:mod:`crmcore.clv._dropout`), with analytic derivatives in all four
parameters; the terms of the bracket are combined in log-space so heavy buyers do not overflow.

:func:`log_a0` keeps note 009's closed form (eq. 19-20, the form lifetimes uses) as the tested
reference: with ``m = max(α, β)`` and ``F(t) = 2F1(p, b'; p + 1; |α-β| / (m + t))``,
``b' = s + 1`` if ``α >= β`` else ``r + x``, ``A0 = F(t_x)/(m+t_x)^p - F(T)/(m+T)^p``,
evaluated as ``ℓ(t_x) + log1p(-exp(ℓ(T) - ℓ(t_x)))`` with ``ℓ(t) = log F(t) - p log(m + t)``.
scipy's ``hyp2f1`` costs about 230 ns a value and has no derivatives in its parameters, and
the difference of the two terms loses digits when ``t_x`` is close to ``T``; the integral has
neither problem.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from crmcore.clv._dropout import DropoutIntegral
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
    """Mean negative log-likelihood (plus penalty) of log-parameters, with its gradient.

    Per customer ``log L = log Γ(r+x) - log Γ(r) + r log α + s log β + log(e^g + e^h)`` with
    ``g = -(r+x) log(α+T) - s log(β+T)`` (alive at T) and ``h = log s + log I`` (dropped out
    in ``(t_x, T]``, :class:`~crmcore.clv._dropout.DropoutIntegral`); every derivative is
    analytic.
    """
    from scipy.special import digamma, gammaln

    ux, inv = np.unique(x, return_inverse=True)
    wx = np.bincount(inv, weights=w, minlength=len(ux))
    total = float(w.sum())
    integral = DropoutIntegral(x, tx, T)

    def fun(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        r, alpha, s, beta = (float(v) for v in params)
        log_i, d_i = integral.evaluate((r, alpha, s, beta), gradient=True)
        log_at = np.log(T + alpha)
        log_bt = np.log(T + beta)
        g = -(r + x) * log_at - s * log_bt
        h = log_i + np.log(s)
        with np.errstate(invalid="ignore"):  # h = -inf where t_x == T
            e = np.exp(-np.abs(g - h))
        e = np.where(np.isnan(e), 0.0, e)
        lb = np.maximum(g, h) + np.log1p(e)  # log(e^g + e^h)
        pi = np.exp(np.minimum(h - g, 0.0)) / (1.0 + e)  # e^h / (e^g + e^h)
        keep = 1.0 - pi
        wk, wp = w * keep, w * pi
        ll = dot(wx, gammaln(r + ux) - gammaln(r)) + total * (r * np.log(alpha) + s * np.log(beta))
        ll += dot(w, lb)
        g_r = dot(wx, digamma(r + ux) - digamma(r)) + total * np.log(alpha)
        g_r += dot(wp, d_i[0]) - dot(wk, log_at)
        g_alpha = total * r / alpha + dot(wp, d_i[1]) - dot(wk * (r + x), 1.0 / (T + alpha))
        g_s = total * np.log(beta) + dot(wp, d_i[2]) + float(wp.sum()) / s - dot(wk, log_bt)
        g_beta = total * s / beta + dot(wp, d_i[3]) - s * dot(wk, 1.0 / (T + beta))
        grad = np.array([g_r, g_alpha, g_s, g_beta]) * params
        value = -ll / total + penalizer * dot(params, params)
        return value, -grad / total + 2.0 * penalizer * params * params

    return fun


def _log_bracket(params: Params, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """Log of L's bracket and its first term: (α+T)^-(r+x) (β+T)^-s + s/p A0."""
    r, alpha, s, beta = params
    g = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    h = np.log(s) + DropoutIntegral(x, tx, T).evaluate(params, gradient=False)[0]
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
