"""BG/BB (discrete time): log-likelihood with its analytic gradient, and the predictions.

Source: Fader, Hardie & Shang (2010), "Customer-base analysis in a discrete-time noncontractual
setting", Marketing Science 29(6): likelihood (5), P(X(n) = x) (7), E[X(n)] (8), P(alive)
(A10 with m = 0: alive after the n-th opportunity), conditional expectation (13).

A customer with ``x`` transactions in ``n`` opportunities, the last at opportunity ``t_x``, has

    L = B(α+x, β+n-x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
        + Σ_{i=0}^{n-t_x-1} B(α+x, β+t_x-x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ)

summed in log-space over a (rows x terms) matrix (``logsumexp``); each term's gradient is a
difference of digammas, and the gradient of ``log L`` is their softmax-weighted sum.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import numpy.typing as npt

from crmcore.clv._inputs import dot

__all__ = [
    "conditional_expected",
    "expected_new",
    "log_likelihood_rows",
    "objective",
    "probability_alive",
    "probability_of_purchases",
]

FloatArray = npt.NDArray[np.float64]
Params = tuple[float, float, float, float]


def _terms(
    params: Params, x: FloatArray, tx: FloatArray, n: FloatArray, *, gradient: bool
) -> tuple[FloatArray, FloatArray | None]:
    """Log-terms of L (rows x (1 + max(n - t_x))) and, optionally, their parameter gradients."""
    from scipy.special import betaln, digamma

    al, be, ga, de = params
    width = int(np.max(n - tx, initial=0))
    i = np.arange(width, dtype=np.float64)[None, :]
    valid = i < (n - tx)[:, None]
    xc, txc = x[:, None], tx[:, None]
    base = -betaln(al, be) - betaln(ga, de)
    with np.errstate(all="ignore"):
        first = betaln(al + x, be + n - x) + betaln(ga, de + n) + base
        rest = betaln(al + xc, be + txc - xc + i) + betaln(ga + 1.0, de + txc + i) + base
    logs = np.concatenate([first[:, None], np.where(valid, rest, -np.inf)], axis=1)
    if not gradient:
        return logs, None
    c_al = digamma(al) - digamma(al + be)
    c_be = digamma(be) - digamma(al + be)
    c_ga = digamma(ga) - digamma(ga + de)
    c_de = digamma(de) - digamma(ga + de)
    grads = np.empty((4, *logs.shape), dtype=np.float64)
    with np.errstate(all="ignore"):
        grads[0, :, 0] = digamma(al + x) - digamma(al + be + n) - c_al
        grads[1, :, 0] = digamma(be + n - x) - digamma(al + be + n) - c_be
        grads[2, :, 0] = digamma(ga) - digamma(ga + de + n) - c_ga
        grads[3, :, 0] = digamma(de + n) - digamma(ga + de + n) - c_de
        grads[0, :, 1:] = digamma(al + xc) - digamma(al + be + txc + i) - c_al
        grads[1, :, 1:] = digamma(be + txc - xc + i) - digamma(al + be + txc + i) - c_be
        grads[2, :, 1:] = digamma(ga + 1.0) - digamma(ga + de + 1.0 + txc + i) - c_ga
        grads[3, :, 1:] = digamma(de + txc + i) - digamma(ga + de + 1.0 + txc + i) - c_de
    grads[:, :, 1:] = np.where(valid[None], grads[:, :, 1:], 0.0)
    return logs, grads


def log_likelihood_rows(params: Params, x: FloatArray, tx: FloatArray, n: FloatArray) -> FloatArray:
    """Log L per row."""
    from scipy.special import logsumexp

    logs, _ = _terms(params, x, tx, n, gradient=False)
    out: FloatArray = logsumexp(logs, axis=1)
    return out


def objective(
    x: FloatArray, tx: FloatArray, n: FloatArray, w: FloatArray, penalizer: float
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Mean negative log-likelihood (plus penalty) of log-parameters, with its gradient."""
    from scipy.special import logsumexp

    total = float(w.sum())

    def fun(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        logs, grads = _terms(
            (float(params[0]), float(params[1]), float(params[2]), float(params[3])),
            x,
            tx,
            n,
            gradient=True,
        )
        ll = logsumexp(logs, axis=1)
        soft = np.exp(logs - ll[:, None])
        grad = np.einsum("kij,ij,i->k", cast("FloatArray", grads), soft, w) * params
        value = -float(dot(w, ll)) / total + penalizer * float(dot(params, params))
        return value, -grad / total + 2.0 * penalizer * params * params

    return fun


def probability_alive(params: Params, x: FloatArray, tx: FloatArray, n: FloatArray) -> FloatArray:
    """P(alive after opportunity n | x, t_x, n): FHS (2010) (A10) with m = 0."""
    from scipy.special import betaln

    al, be, ga, de = params
    log_alive = betaln(al + x, be + n - x) - betaln(al, be) + betaln(ga, de + n) - betaln(ga, de)
    out: FloatArray = np.exp(log_alive - log_likelihood_rows(params, x, tx, n))
    return out


def conditional_expected(
    params: Params, t: float, x: FloatArray, tx: FloatArray, n: FloatArray
) -> FloatArray:
    """E[X(n, n + t) | x, t_x, n]: expected transactions in the next t opportunities (13)."""
    from scipy.special import betaln, gammaln

    al, be, ga, de = params
    ll = log_likelihood_rows(params, x, tx, n)
    log_front = betaln(al + x + 1.0, be + n - x) - betaln(al, be) - ll
    const = de / (ga - 1.0) * np.exp(gammaln(ga + de) - gammaln(1.0 + de))
    diff = np.exp(gammaln(1.0 + de + n) - gammaln(ga + de + n)) - np.exp(
        gammaln(1.0 + de + n + t) - gammaln(ga + de + n + t)
    )
    out: FloatArray = np.exp(log_front) * const * diff
    return out


def expected_new(params: Params, n: float) -> float:
    """E[X(n)] for a new customer over n opportunities: FHS (2010) eq. (8)."""
    from scipy.special import gammaln

    al, be, ga, de = params
    ratio = np.exp(
        gammaln(ga + de) + gammaln(1.0 + de + n) - gammaln(ga + de + n) - gammaln(1.0 + de)
    )
    return float(al / (al + be) * de / (ga - 1.0) * (1.0 - ratio))


def probability_of_purchases(params: Params, n: int, x: npt.NDArray[np.int64]) -> FloatArray:
    """P(X(n) = x) for a new customer: FHS (2010) eq. (7)."""
    from scipy.special import betaln, gammaln

    al, be, ga, de = params
    xf = x.astype(np.float64)[:, None]
    out = np.zeros(len(x), dtype=np.float64)
    valid = x <= n
    log_choose_n = gammaln(n + 1.0) - gammaln(xf[:, 0] + 1.0) - gammaln(n - xf[:, 0] + 1.0)
    with np.errstate(all="ignore"):
        first = np.exp(
            log_choose_n
            + betaln(al + xf[:, 0], be + n - xf[:, 0])
            - betaln(al, be)
            + betaln(ga, de + n)
            - betaln(ga, de)
        )
        i = np.arange(n, dtype=np.float64)[None, :]
        terms = np.exp(
            gammaln(i + 1.0)
            - gammaln(xf + 1.0)
            - gammaln(i - xf + 1.0)
            + betaln(al + xf, be + i - xf)
            - betaln(al, be)
            + betaln(ga + 1.0, de + i)
            - betaln(ga, de)
        )
    terms = np.where(i >= xf, terms, 0.0)
    out = np.where(valid, first + np.nan_to_num(terms).sum(axis=1), 0.0)
    return out
