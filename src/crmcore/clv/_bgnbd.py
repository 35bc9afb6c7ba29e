"""BG/NBD and MBG/NBD: log-likelihood with its analytic gradient, and the prediction formulas.

Sources (equation numbers refer to these):

- Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
  Pareto/NBD model", Marketing Science 24(2): likelihood (6), E[X(t)] (9), P(X(t) = x) (8),
  conditional expectation (10);
- Fader, Hardie & Lee (2008), note 021 "Computing P(alive) using the BG/NBD model";
- Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models for
  customer base analysis", IJRM 24: the MBG/NBD variant (drop-out possible at time 0).

The log-likelihood is computed in log-space with ``logaddexp``-style softplus for the sum of its
two terms (the form of Fader & Hardie's note 004); the terms that depend on the frequency only
(``gammaln``/``digamma`` of ``r + x`` etc.) are evaluated once per distinct frequency and summed
with the total weight of that frequency.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from crmcore.clv._inputs import dot

__all__ = [
    "conditional_expected",
    "expected_new",
    "log_hyp2f1",
    "objective",
    "probability_alive",
    "probability_of_purchases",
]

FloatArray = npt.NDArray[np.float64]


def objective(
    x: FloatArray,
    tx: FloatArray,
    T: FloatArray,
    w: FloatArray,
    penalizer: float,
    *,
    modified: bool,
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Mean negative log-likelihood (plus penalty) of log-parameters, with its gradient."""
    from scipy.special import digamma, expit, gammaln

    ux, inv = np.unique(x, return_inverse=True)
    wx = np.bincount(inv, weights=w, minlength=len(ux))
    total = float(w.sum())
    shift = 1.0 if modified else 0.0
    # BG/NBD: the second term exists only for repeat customers (x > 0).
    mask = np.ones_like(x) if modified else (x > 0).astype(np.float64)
    # The odds' denominator b + bx: b + x (MBG/NBD), b + x - 1 (BG/NBD, repeat customers).
    bx = x.copy() if modified else x - (x > 0)
    w_mask = w * mask

    def fun(log_params: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = np.exp(log_params)
        # Terms that depend on x only, summed over distinct frequencies.
        per_x = (
            gammaln(r + ux)
            - gammaln(r)
            + gammaln(a + b)
            + gammaln(b + ux + shift)
            - gammaln(b)
            - gammaln(a + b + ux + shift)
        )
        d_r_x = digamma(r + ux) - digamma(r)
        d_a_x = digamma(a + b) - digamma(a + b + ux + shift)
        d_b_x = d_a_x + digamma(b + ux + shift) - digamma(b)
        log_at = np.log(alpha + T)
        log_ax = np.log(alpha + tx)
        rx = r + x
        u = np.log(a) - np.log(b + bx) + rx * (log_at - log_ax)
        soft = np.logaddexp(0.0, u)
        sig = expit(u)
        ll = float(dot(wx, per_x)) + total * r * np.log(alpha) - float(dot(w, (rx * log_at)))
        ll += float(dot(w_mask, soft))
        ws = w_mask * sig
        g_r = float(dot(wx, d_r_x)) + total * np.log(alpha) - float(dot(w, log_at))
        g_r += float(dot(ws, (log_at - log_ax)))
        inv_at = 1.0 / (alpha + T)
        g_alpha = total * r / alpha - float(dot(w, (rx * inv_at)))
        g_alpha += dot(ws, rx * (inv_at - 1.0 / (alpha + tx)))
        g_a = float(dot(wx, d_a_x)) + float(ws.sum()) / a
        g_b = float(dot(wx, d_b_x)) - float(dot(ws, (1.0 / (b + bx))))
        params = np.array([r, alpha, a, b])
        grad = np.array([g_r, g_alpha, g_a, g_b]) * params
        value = -ll / total + penalizer * float(dot(params, params))
        return value, -grad / total + 2.0 * penalizer * params * params

    return fun


def log_likelihood(
    params: tuple[float, float, float, float],
    x: FloatArray,
    tx: FloatArray,
    T: FloatArray,
    w: FloatArray,
    *,
    modified: bool,
) -> float:
    """Total log-likelihood at ``params`` (original time unit), without penalty."""
    fun = objective(x, tx, T, w, 0.0, modified=modified)
    value, _ = fun(np.log(np.asarray(params, dtype=np.float64)))
    return -value * float(w.sum())


def log_hyp2f1(a: FloatArray, b: FloatArray, c: FloatArray, z: FloatArray) -> FloatArray:
    """``log 2F1(a, b; c; z)``, through Euler's transformation where the direct value overflows.

    ``2F1(a, b; c; z) = (1 - z)^(c - a - b) 2F1(c - a, c - b; c; z)`` (the same fallback as
    lifetimes' BG/NBD conditional expectation).
    """
    from scipy.special import hyp2f1

    with np.errstate(all="ignore"):
        direct = np.log(hyp2f1(a, b, c, z))
        bad = ~np.isfinite(direct)
        if bad.any():
            alt = (c - a - b) * np.log1p(-z) + np.log(hyp2f1(c - a, c - b, c, z))
            direct = np.where(bad, alt, direct)
    out: FloatArray = direct
    return out


def probability_alive(
    params: tuple[float, float, float, float],
    x: FloatArray,
    tx: FloatArray,
    T: FloatArray,
    *,
    modified: bool,
) -> FloatArray:
    """P(alive at T | x, t_x, T): note 021 (BG/NBD), Batislam et al. (2007) (MBG/NBD)."""
    from scipy.special import expit

    r, alpha, a, b = params
    bx = b + x if modified else b + np.maximum(x, 1.0) - 1.0
    log_odds = np.log(a) - np.log(bx) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    out: FloatArray = expit(-log_odds)
    if not modified:
        out = np.where(x == 0, 1.0, out)
    return out


def conditional_expected(
    params: tuple[float, float, float, float],
    t: float,
    x: FloatArray,
    tx: FloatArray,
    T: FloatArray,
    *,
    modified: bool,
) -> FloatArray:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t]; FHL (2005) eq. (10)."""
    r, alpha, a, b = params
    shift = 1.0 if modified else 0.0
    big_c = a + b + x - 1.0 + shift
    z = t / (alpha + T + t)
    log_h = log_hyp2f1(r + x, b + x + shift, big_c, z)
    with np.errstate(all="ignore"):
        first = big_c / (a - 1.0)
        second = -np.expm1(log_h + (r + x) * np.log((alpha + T) / (alpha + t + T)))
    # The denominator 1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)
    # (MBG/NBD: 1 + a / (b + x) (...)) is 1 / P(alive).
    out: FloatArray = first * second * probability_alive(params, x, tx, T, modified=modified)
    return out


def expected_new(params: tuple[float, float, float, float], t: float, *, modified: bool) -> float:
    """E[X(t)] for a new customer: FHL (2005) eq. (9); Batislam et al. (2007) for MBG/NBD."""
    from scipy.special import hyp2f1

    r, alpha, a, b = params
    z = t / (alpha + t)
    if modified:
        h = hyp2f1(r, b + 1.0, a + b, z)
        return float(b / (a - 1.0) * (1.0 - h * (alpha / (alpha + t)) ** r))
    h = hyp2f1(r, b, a + b - 1.0, z)
    return float((a + b - 1.0) / (a - 1.0) * (1.0 - h * (alpha / (alpha + t)) ** r))


def probability_of_purchases(
    params: tuple[float, float, float, float],
    t: float,
    n: npt.NDArray[np.int64],
    *,
    modified: bool,
) -> FloatArray:
    """P(X(t) = n) for a new customer: FHL (2005) eq. (8), its MBG/NBD analogue."""
    from scipy.special import betaln, gammaln

    r, alpha, a, b = params
    shift = 1.0 if modified else 0.0
    nf = n.astype(np.float64)
    with np.errstate(divide="ignore"):
        log_p = np.log(alpha / (alpha + t))
        log_q = np.log(t / (alpha + t)) if t > 0 else -np.inf
    j = np.arange(int(n.max(initial=0)) + 1, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        log_nbd = gammaln(r + j) - gammaln(r) - gammaln(j + 1.0) + r * log_p + j * log_q
    nbd = np.exp(np.where(np.isnan(log_nbd), -np.inf, log_nbd))
    # sum_{j < n} NBD(j): cumulative sums, then pick index n - 1.
    below = np.concatenate([[0.0], np.cumsum(nbd)])[n]
    first = np.exp(betaln(a, b + nf + shift) - betaln(a, b)) * nbd[n]
    with np.errstate(all="ignore"):
        second_weight = np.exp(betaln(a + 1.0, b + nf - 1.0 + shift) - betaln(a, b))
    # BG/NBD: no drop-out before the first repeat purchase, so no second term at n = 0.
    second = np.where((n > 0) | modified, second_weight * (1.0 - below), 0.0)
    out: FloatArray = first + second
    return out
