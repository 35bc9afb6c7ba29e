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
Params = tuple[float, float, float, float]


def objective(
    x: FloatArray, tx: FloatArray, T: FloatArray, w: FloatArray, penalizer: float, *, modified: bool
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Mean negative log-likelihood (plus penalty) of log-parameters, with its gradient.

    Per customer, ``log L = φ(x) + r log α - (r + x) log(α + T) + [odds row] softplus(u)``
    with ``u = log a - log(b + x - 1 + shift) + (r + x) (log(α + T) - log(α + t_x))``
    (``shift`` 1 for MBG/NBD; the odds rows are the repeat customers for BG/NBD, everyone
    for MBG/NBD). ``φ`` and every other term of the frequency alone are evaluated once per
    distinct frequency. The per-customer work is two logarithms, two exponentials, one
    ``log1p`` and a few products, written into buffers allocated once per fit: fresh
    temporaries of this size are page-faulted in on every call, which cost more than the
    arithmetic (and numpy's ``logaddexp`` and scipy's ``expit`` cost ten times more than
    the ``exp(-|u|)`` forms used here).
    """
    from scipy.special import digamma, gammaln

    ux, inv = np.unique(x, return_inverse=True)
    wx = np.bincount(inv, weights=w, minlength=len(ux))
    total = float(w.sum())
    shift = 1.0 if modified else 0.0
    w_times_x = w * x
    # The rows with the odds term, with their frequency's position in ux.
    rows = np.arange(len(x)) if modified else np.flatnonzero(x > 0)
    xo, txo, wo, codes = x[rows], tx[rows], w[rows], inv[rows]
    # The odds' denominator is b + x - 1 (BG/NBD, repeat customers) or b + x (MBG/NBD): its
    # offset from b per distinct frequency (BG/NBD's x = 0 entry is never used; 0 keeps it finite).
    bx_offset = ux.copy() if modified else np.maximum(ux - 1.0, 0.0)
    every_row = (np.empty(len(x)), np.empty(len(x)))
    odds_rows = tuple(np.empty(len(rows)) for _ in range(6))

    def fun(log_params: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = (float(v) for v in np.exp(log_params))
        log_at, inv_at = every_row
        gap, u, d_inv, tmp, s1, s2 = odds_rows
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
        # Every customer: r log alpha - (r + x) log(alpha + T).
        np.add(T, alpha, out=log_at)
        np.reciprocal(log_at, out=inv_at)
        np.log(log_at, out=log_at)
        sum_la, sum_xla = dot(w, log_at), dot(w_times_x, log_at)
        ll = dot(wx, per_x) + total * r * np.log(alpha) - r * sum_la - sum_xla
        g_r = dot(wx, d_r_x) + total * np.log(alpha) - sum_la
        g_alpha = total * r / alpha - r * dot(w, inv_at) - dot(w_times_x, inv_at)
        # The odds rows: gap = log(alpha + T) - log(alpha + t_x),
        # d_inv = 1/(alpha + T) - 1/(alpha + t_x).
        np.add(txo, alpha, out=tmp)
        np.reciprocal(tmp, out=d_inv)
        np.log(tmp, out=tmp)
        np.take(log_at, rows, out=gap)
        gap -= tmp
        np.take(inv_at, rows, out=tmp)
        np.subtract(tmp, d_inv, out=d_inv)
        np.add(xo, r, out=u)
        d_inv *= u  # (r + x) (1/(alpha + T) - 1/(alpha + t_x)) = du/d alpha
        u *= gap
        np.take(np.log(a) - np.log(b + bx_offset), codes, out=tmp)
        u += tmp
        # softplus(u) = max(u, 0) + log1p(e) and logistic(u) = exp(min(u, 0)) / (1 + e),
        # with e = exp(-|u|).
        np.abs(u, out=tmp)
        np.negative(tmp, out=tmp)
        np.exp(tmp, out=tmp)
        np.log1p(tmp, out=s1)
        np.maximum(u, 0.0, out=s2)
        s1 += s2
        ll += dot(wo, s1)
        np.add(tmp, 1.0, out=s2)
        np.minimum(u, 0.0, out=s1)
        np.exp(s1, out=s1)
        s1 /= s2
        s1 *= wo  # weight times logistic(u): d softplus(u) / du per row
        g_r += dot(s1, gap)
        g_alpha += dot(s1, d_inv)
        g_a = dot(wx, d_a_x) + float(s1.sum()) / a
        by_x = np.bincount(codes, weights=s1, minlength=len(ux))
        g_b = dot(wx, d_b_x) - dot(by_x, 1.0 / (b + bx_offset))
        params = np.array([r, alpha, a, b])
        grad = np.array([g_r, g_alpha, g_a, g_b]) * params
        value = -ll / total + penalizer * dot(params, params)
        return value, -grad / total + 2.0 * penalizer * params * params

    return fun


def log_likelihood(
    params: Params, x: FloatArray, tx: FloatArray, T: FloatArray, w: FloatArray, *, modified: bool
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
    params: Params, x: FloatArray, tx: FloatArray, T: FloatArray, *, modified: bool
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
    params: Params, t: float, x: FloatArray, tx: FloatArray, T: FloatArray, *, modified: bool
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


def expected_new(params: Params, t: float, *, modified: bool) -> float:
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
    params: Params, t: float, n: npt.NDArray[np.int64], *, modified: bool
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
