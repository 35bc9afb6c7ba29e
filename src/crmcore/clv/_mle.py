"""Maximum-likelihood driver shared by every fit: scipy's optimiser, convergence, standard errors.

Every model is fitted on the logarithms of its (positive) parameters, so the optimiser is
unconstrained, by minimising

    objective(log θ) = - Σ w_i log L_i(θ) / Σ w_i  +  penalizer * Σ θ_k²

(the mean negative log-likelihood per customer plus lifetimes' L2 penalty) with its analytic
gradient, using ``scipy.optimize.minimize(method="BFGS")`` (L-BFGS-B's Fortran core calls
BLAS for its few-element vectors, whose thread wake-ups cost more than the likelihood on a
busy machine). A fit may start from a warm start: the optimum of the same objective on a
subsample and the inverse of its Hessian there (``hess_inv0``), which leaves BFGS a few
Newton-like steps on the full data instead of thirty. Standard errors come from the
Hessian of the objective in log-parameters, taken by forward differences of the analytic
gradient, and the delta method: ``se(θ_k) = θ_k * sqrt(inv(H)_kk / Σ w_i)`` (the same estimate
as lifetimes' ``standard_errors_``). :class:`Optimum` holds ``sqrt(inv(H)_kk / Σ w_i)``, the
standard errors of the log-parameters, which do not depend on the time scale of the fit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from crmcore.errors import ConvergenceError

__all__ = ["Objective", "Optimum", "maximise"]

FloatArray = npt.NDArray[np.float64]
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

# A fit counts as converged when the optimiser says so, or when it stopped on a line search
# that could not improve a point whose gradient is already this small (per customer, in
# log-parameters): the optimum to the precision floating point allows.
_GRADIENT_TOLERANCE = 1e-5
# BFGS's own stop (max |gradient|, per customer, log-parameters). A line search needs the
# objective to fall by about gradient^2 / curvature, which drowns in the objective's rounding
# (1e-15 to 1e-14 of a mean over 10^4-10^6 customers) once the gradient is below ~1e-7: there
# line searches thrash (dozens of calls for nothing). Newton steps (_newton_polish), which
# need no line search, take the gradient the rest of the way.
_GTOL = 1e-7
_POLISH_STEPS = 2
# A Newton step may raise the objective by its rounding noise and still be kept.
_NOISE = 1e-12
# Forward differences of the gradient (one gradient per parameter, the one at the optimum is
# known): truncation ~1e-6 and rounding ~1e-8 relative, plenty for standard errors.
_HESSIAN_STEP = 1e-6


class Optimum:
    """What the optimiser found: log-parameters, objective value, iterations, message, Hessian."""

    def __init__(  # noqa: PLR0917  # a private record, built in one place
        self,
        log_params: FloatArray,
        value: float,
        iterations: int,
        message: str,
        hessian: FloatArray,
        n_customers: float,
    ) -> None:
        self.log_params = log_params
        self.params = np.exp(log_params)
        self.value = value
        self.iterations = iterations
        self.message = message
        self.hessian = hessian
        self.log_standard_errors = _standard_errors(hessian, n_customers)

    def inverse_hessian(self) -> FloatArray | None:
        """Return the inverse Hessian when the Hessian is positive definite, else ``None``."""
        try:
            np.linalg.cholesky(self.hessian)
        except np.linalg.LinAlgError:
            return None
        inverse = np.linalg.inv(self.hessian)
        symmetric: FloatArray = (inverse + inverse.T) / 2  # scipy checks exact symmetry
        return symmetric


def maximise(
    objective: Objective,
    start: FloatArray,
    *,
    n_customers: float,
    model: str,
    names: tuple[str, ...],
    advice: str,
    hess_inv0: FloatArray | None = None,
) -> Optimum:
    """Minimise ``objective`` from ``start`` (log-parameters); raise if it does not converge.

    ``hess_inv0`` is BFGS's first inverse-Hessian estimate (the identity when ``None``).

    Raises
    ------
    ConvergenceError
        The optimiser did not converge (its message and ``advice`` are in the error), or it
        converged to parameters that are not finite.
    """
    from scipy.optimize import minimize

    try:
        with np.errstate(all="ignore"):
            result = minimize(
                objective,
                np.asarray(start, dtype=np.float64),
                jac=True,
                method="BFGS",
                options={"maxiter": 2000, "gtol": _GTOL, "hess_inv0": hess_inv0},
            )
    except (ZeroDivisionError, OverflowError):  # a step took a parameter to 0 or infinity
        raise ConvergenceError(
            f"the {model} fit did not converge: the optimiser drove a parameter to zero or "
            f"infinity. Check that the summary's counts and times are plausible (values near "
            f"1e307 leave the range of floating-point numbers) and in one unit; {advice}"
        ) from None
    x = np.asarray(result.x, dtype=np.float64)
    grad = np.asarray(result.jac, dtype=np.float64)
    finite = bool(np.isfinite(x).all() and np.isfinite(result.fun) and np.isfinite(grad).all())
    small = finite and float(np.max(np.abs(grad))) <= _GRADIENT_TOLERANCE
    if not (finite and (bool(result.success) or small)) or (np.abs(x) > 700).any():
        raise ConvergenceError(
            f"the {model} fit did not converge after {result.nit} iterations: "
            f"{result.message} (parameters {_show(names, x)}). Try a penalizer "
            f"(penalizer=0.001 or more), check that the summary's times are in one unit and "
            f"that it has enough repeat customers; {advice}"
        )
    hessian = _hessian(objective, x, grad)
    x, value = _newton_polish(objective, x, float(result.fun), grad, hessian)
    return Optimum(x, value, int(result.nit), str(result.message), hessian, n_customers)


def _newton_polish(
    objective: Objective, x: FloatArray, value: float, grad: FloatArray, hessian: FloatArray
) -> tuple[FloatArray, float]:
    """Newton steps from BFGS's answer, each kept if it shrinks the gradient.

    BFGS stops at ``_GTOL``; a step with the Hessian computed for the standard errors (no line
    search, one evaluation) takes the gradient towards its rounding floor. A step is kept when
    the gradient shrinks and the objective does not rise by more than its rounding noise.
    """
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return x, value
    for _ in range(_POLISH_STEPS):
        candidate = x - np.linalg.solve(hessian, grad)
        with np.errstate(all="ignore"):
            new_value, new_grad = objective(candidate)
        if not (
            np.isfinite(new_value)
            and np.isfinite(new_grad).all()
            and new_value <= value + _NOISE * max(abs(value), 1.0)
            and np.max(np.abs(new_grad)) < np.max(np.abs(grad))
        ):
            break
        x, value, grad = candidate, float(new_value), new_grad
        if np.max(np.abs(grad)) < 1e-12:
            break
    return x, value


def _show(names: tuple[str, ...], log_params: FloatArray) -> str:
    with np.errstate(over="ignore"):
        values = np.exp(log_params)
    return ", ".join(f"{n}={v:.6g}" for n, v in zip(names, values, strict=True))


def _hessian(objective: Objective, x: FloatArray, grad: FloatArray) -> FloatArray:
    """Return the Hessian at ``x`` (gradient ``grad``) by differences of the gradient."""
    k = len(x)
    hessian = np.empty((k, k), dtype=np.float64)
    with np.errstate(all="ignore"):
        for j in range(k):
            step = np.zeros(k)
            step[j] = _HESSIAN_STEP
            hessian[:, j] = (objective(x + step)[1] - grad) / _HESSIAN_STEP
    out: FloatArray = (hessian + hessian.T) / 2
    return out


def _standard_errors(hessian: FloatArray, n_customers: float) -> FloatArray:
    """Return standard errors of the log-parameters from the Hessian (NaN if singular)."""
    k = len(hessian)
    if not np.isfinite(hessian).all():
        return np.full(k, np.nan)
    try:
        inverse = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    variance = np.diag(inverse) / n_customers
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.where(variance > 0, np.sqrt(np.abs(variance)), np.nan)
    return out
