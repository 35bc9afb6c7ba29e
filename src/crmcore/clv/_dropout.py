"""The Pareto/NBD drop-out integral by fixed Gauss-Legendre nodes, with its gradient.

A customer with ``x`` repeat purchases, the last at ``t_x``, observed until ``T``, who dropped
out at ``τ`` in ``(t_x, T]`` (density ``s β^s (β+τ)^-(s+1)``) made no purchase in
``(t_x, τ]``, which has probability ``Γ(r+x)/Γ(r) α^r (α+τ)^-(r+x)`` after integrating over
the purchase rate. The drop-out part of the Pareto/NBD likelihood is therefore
``Γ(r+x) α^r β^s / Γ(r) · s · I`` with

    I = ∫_{t_x}^{T} (α+τ)^-(r+x) (β+τ)^-(s+1) dτ

(the ``s/(r+s+x) A0`` of Fader & Hardie's note 009, written without Gauss hypergeometric
functions). With ``m = min(α, β)`` (exponent ``p_m``), ``M`` the other (exponent ``q_M``),
``y = log((m+τ)/(m+t_x))`` and ``k = (M-m)/(m+t_x) >= 0`` the integrand becomes

    (m+t_x)^(1-p_m-q_M) (1+k)^-q_M · exp(-c y - q_M [log1p(k e^-y) - log1p(k)]),

with ``c = r + s + x``: an exponential decay times a bounded factor, smooth in ``y`` (its
nearest complex singularity is π away from the real axis), and log-concave in ``y``. It is
integrated with :data:`NODES` Gauss-Legendre nodes over ``[0, Y']``, ``Y'`` the smaller of
``log((m+T)/(m+t_x))`` and the point where the log-integrand has fallen ``_TAIL`` below its
maximum (found by Newton steps from the right, which stay past it on a concave function; the
integral beyond is below ``e^(1-_TAIL)`` of the whole). Accuracy against a 40-digit
``mpmath`` integration over random parameter sets with ``r, s`` in 0.01..30, ``α, β`` in
0.001..1000 and up to 300 purchases: 1e-12 relative at 24 nodes.

The gradient of ``log I`` is the integrand-weighted mean of the derivatives of the log
integrand (``-log(α+τ)`` in ``r``, ``-log(β+τ)`` in ``s``, ``-(r+x)/(α+τ)`` in ``α``,
``-(s+1)/(β+τ)`` in ``β``), evaluated at the same nodes: analytic in all four parameters,
vectorised over customers and nodes, in blocks of rows whose buffers are allocated once per
fit (fresh temporaries are page-faulted in on every call).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["NODES", "DropoutIntegral"]

FloatArray = npt.NDArray[np.float64]
Params = tuple[float, float, float, float]

#: Gauss-Legendre nodes per customer.
NODES = 24
# The log-integrand falls this far below its maximum at Y'.
_TAIL = 40.0
_NEWTON_STEPS = 4
_BLOCK = 4096


class DropoutIntegral:
    """``log I`` and its derivatives for fixed customers ``(x, t_x, T)`` at any parameters.

    Rows with ``t_x == T`` have ``I = 0`` (``log I = -inf``, derivatives 0).
    """

    def __init__(self, x: FloatArray, tx: FloatArray, T: FloatArray) -> None:
        self.x, self.tx, self.T = x, tx, T
        xi, wi = np.polynomial.legendre.leggauss(NODES)
        self.unit = (xi + 1.0) / 2.0  # nodes on [0, 1]
        self.weights = wi / 2.0
        self.weighted_unit = self.weights * self.unit
        size = min(_BLOCK, max(len(x), 1))
        self.buffers = tuple(np.empty((size, NODES)) for _ in range(4))

    def evaluate(self, params: Params, *, gradient: bool) -> tuple[FloatArray, FloatArray]:
        """``log I`` per row and, with ``gradient``, ``d log I / d(r, α, s, β)`` (4 x rows)."""
        n = len(self.x)
        log_i = np.empty(n)
        grad = np.zeros((4, n)) if gradient else np.zeros((4, 0))
        with np.errstate(divide="ignore", invalid="ignore"):  # rows with t_x == T
            for start in range(0, n, _BLOCK):
                stop = min(start + _BLOCK, n)
                self._block(params, slice(start, stop), log_i, grad, gradient=gradient)
        return log_i, grad

    def _block(
        self, params: Params, rows: slice, log_i: FloatArray, grad: FloatArray, *, gradient: bool
    ) -> None:
        r, alpha, s, beta = params
        x, tx, big_t = self.x[rows], self.tx[rows], self.T[rows]
        alpha_low = alpha <= beta
        m, big_m = (alpha, beta) if alpha_low else (beta, alpha)
        p_m, q_m = (r + x, s + 1.0) if alpha_low else (s + 1.0, r + x)
        q_arr = np.broadcast_to(np.asarray(q_m, dtype=np.float64), x.shape)
        base = tx + m
        k = (big_m - m) / base
        log1p_k = np.log1p(k)
        c = x + (r + s)
        span = np.minimum(np.log((big_t + m) / base), _cutoff(c, q_arr, k, log1p_k))
        y, z, lk, h = (b[: len(x)] for b in self.buffers)
        np.multiply(span[:, None], self.unit, out=y)
        np.negative(y, out=z)
        np.exp(z, out=z)  # e^-y = (m+t_x)/(m+τ)
        np.multiply(z, k[:, None], out=lk)
        np.log1p(lk, out=lk)
        np.subtract(lk, log1p_k[:, None], out=h)
        h *= -q_arr[:, None]
        np.multiply(y, c[:, None], out=y)
        h -= y
        np.exp(h, out=h)
        s0 = np.einsum("ij,j->i", h, self.weights)
        log_base = np.log(base)
        log_i[rows] = (1.0 - p_m - q_m) * log_base - q_arr * log1p_k + np.log(span) + np.log(s0)
        if not gradient:
            return
        # Means over the normalised integrand: y, log1p(k e^-y), e^-y and e^-y/(1 + k e^-y).
        mean_y = np.einsum("ij,j->i", h, self.weighted_unit) * span / s0
        mean_lk = np.einsum("ij,ij,j->i", h, lk, self.weights) / s0
        mean_z = np.einsum("ij,ij,j->i", h, z, self.weights) / s0
        np.multiply(z, k[:, None], out=y)
        y += 1.0
        np.divide(z, y, out=z)
        mean_zk = np.einsum("ij,ij,j->i", h, z, self.weights) / s0
        # log(m+τ) = log(m+t_x) + y; log(M+τ) = log(m+t_x) + y + log1p(k e^-y);
        # 1/(m+τ) = e^-y/(m+t_x); 1/(M+τ) = e^-y/(1 + k e^-y)/(m+t_x).
        mean_log_m = log_base + mean_y
        mean_log_big = mean_log_m + mean_lk
        d_m = -p_m * mean_z / base
        d_big = -q_arr * mean_zk / base
        if alpha_low:
            parts = (-mean_log_m, d_m, -mean_log_big, d_big)
        else:
            parts = (-mean_log_big, d_big, -mean_log_m, d_m)
        inside = span > 0
        for j, part in enumerate(parts):
            grad[j, rows] = np.where(inside, part, 0.0)


def _cutoff(c: FloatArray, q: FloatArray, k: FloatArray, log1p_k: FloatArray) -> FloatArray:
    """Where ``φ(y) = -c y - q (log1p(k e^-y) - log1p(k))`` falls ``_TAIL`` below its maximum.

    ``φ`` is concave; its maximum is at 0, or at ``log(k (q - c) / c)`` when that is positive
    (only when ``q > c``). Newton steps start at ``(_TAIL + q log1p(k)) / c``, past the point
    (``φ <= -c y + q log1p(k)``), and stay past it.
    """

    def phi(y: FloatArray) -> tuple[FloatArray, FloatArray]:
        kz = k * np.exp(-y)
        return -c * y - q * (np.log1p(kz) - log1p_k), q * kz / (1.0 + kz) - c

    with np.errstate(divide="ignore", invalid="ignore"):
        peak = np.where(q > c, np.log(k * (q - c) / c), 0.0)
    peak = np.where(np.isfinite(peak), np.maximum(peak, 0.0), 0.0)
    level = phi(peak)[0] - _TAIL
    y = (_TAIL + q * log1p_k) / c
    for _ in range(_NEWTON_STEPS):
        value, slope = phi(y)
        y = np.clip(y - (value - level) / slope, peak, y)
    return y
