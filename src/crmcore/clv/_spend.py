"""Gamma-Gamma spend model and the shifted-beta-geometric churn model: likelihoods, gradients.

Sources: Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base
analysis", JMR 42(4), and Fader & Hardie (2013), note 025 "The Gamma-Gamma model of monetary
value" (likelihood eq. 1a, conditional expectation eq. 5); Fader & Hardie (2007), "How to
project customer retention", Journal of Interactive Marketing 21(1) (sBG: P(T = t) eq. 6,
S(t) eq. 7, retention r_t = (β + t - 1)/(α + β + t - 1)).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from crmcore.clv._inputs import dot

__all__ = ["gamma_gamma_objective", "sbg_objective"]

FloatArray = npt.NDArray[np.float64]


def gamma_gamma_objective(
    x: FloatArray, m: FloatArray, w: FloatArray, penalizer: float
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Mean negative log-likelihood (plus penalty) of log (p, q, v), with its gradient.

    ``x`` is the number of repeat transactions (> 0) and ``m`` their mean value (> 0).
    """
    from scipy.special import digamma, gammaln

    total = float(w.sum())
    log_m = np.log(m)
    log_x = np.log(x)
    xm = x * m

    def fun(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        p, q, v = (float(c) for c in params)
        px = p * x
        log_xmv = np.log(xm + v)
        ll_rows = (
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(v)
            + (px - 1.0) * log_m
            + px * log_x
            - (px + q) * log_xmv
        )
        d_pxq = digamma(px + q)
        g_p = dot(w, x * (d_pxq - digamma(px) + log_m + log_x - log_xmv))
        g_q = float(dot(w, (d_pxq - digamma(q) + np.log(v) - log_xmv)))
        g_v = float(dot(w, (q / v - (px + q) / (xm + v))))
        grad = np.array([g_p, g_q, g_v]) * params
        value = -float(dot(w, ll_rows)) / total + penalizer * float(dot(params, params))
        return value, -grad / total + 2.0 * penalizer * params * params

    return fun


def sbg_objective(
    active: FloatArray, penalizer: float
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Mean negative log-likelihood (plus penalty) of log (α, β) for one cohort.

    ``active[t]`` customers are active at period t (``active[0]`` the cohort size): the
    ``active[t-1] - active[t]`` who left at period t contribute ``log P(T = t)`` and the
    ``active[-1]`` still active ``log S(k)``.
    """
    from scipy.special import betaln, digamma

    k = len(active) - 1
    t = np.arange(1, k + 1, dtype=np.float64)
    lost = active[:-1] - active[1:]
    survivors = float(active[-1])
    total = float(active[0])

    def fun(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        al, be = (float(c) for c in params)
        base = betaln(al, be)
        log_p = betaln(al + 1.0, be + t - 1.0) - base
        log_s = betaln(al, be + k) - base
        ll = float(dot(lost, log_p)) + survivors * float(log_s)
        d_base_a = digamma(al) - digamma(al + be)
        d_base_b = digamma(be) - digamma(al + be)
        dp_a = digamma(al + 1.0) - digamma(al + be + t) - d_base_a
        dp_b = digamma(be + t - 1.0) - digamma(al + be + t) - d_base_b
        ds_a = digamma(al) - digamma(al + be + k) - d_base_a
        ds_b = digamma(be + k) - digamma(al + be + k) - d_base_b
        g = np.array(
            [float(dot(lost, dp_a)) + survivors * ds_a, float(dot(lost, dp_b)) + survivors * ds_b]
        )
        value = -ll / total + penalizer * float(dot(params, params))
        return value, -g * params / total + 2.0 * penalizer * params * params

    return fun
