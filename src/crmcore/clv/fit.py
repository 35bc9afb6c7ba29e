"""Fit the customer-base models by maximum likelihood on a per-customer summary.

Every ``fit_*`` function reads the summary that :func:`crmcore.segmentation.btyd_summary`
returns (column names overridable by keyword), checks it, compresses identical customers into
one row with a weight, and maximises the log-likelihood with scipy (analytic gradients,
parameters on a log scale, times rescaled so the longest observation is 1 while fitting, as
lifetimes does). The result is a frozen model (:mod:`crmcore.clv.models`) with its
:class:`~crmcore.clv.FitDiagnostics`.

``penalizer`` adds lifetimes' L2 penalty ``penalizer * Σ θ²`` to the mean negative
log-likelihood per customer, with the parameters on the rescaled time axis, so a penalizer
means the same as lifetimes' ``penalizer_coef`` for BG/NBD, MBG/NBD, BG/BB and Gamma-Gamma
(lifetimes' Pareto/NBD fitter scales its penalty by the number of rows instead: its
``penalizer_coef`` equals crmcore's ``penalizer`` times the number of rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

import crmcore.clv._bgbb as bgbb
import crmcore.clv._bgnbd as bgnbd
import crmcore.clv._pareto as pareto
import crmcore.clv._spend as spend
from crmcore._dask import is_dask
from crmcore._frames import check_choice, first_true, refuse_first, show
from crmcore.clv._inputs import Columns, check_penalizer, compress, dot, read_columns, subsample
from crmcore.clv._mle import Optimum, maximise
from crmcore.clv.models import (
    BGBB,
    BGNBD,
    MBGNBD,
    TIME_UNITS,
    FitDiagnostics,
    GammaGamma,
    ParetoNBD,
    ShiftedBetaGeometric,
)
from crmcore.errors import ConvergenceError, DataError, InputTypeError

__all__ = [
    "fit_bg_bb",
    "fit_bg_nbd",
    "fit_gamma_gamma",
    "fit_mbg_nbd",
    "fit_pareto_nbd",
    "fit_shifted_beta_geometric",
]

FloatArray = npt.NDArray[np.float64]
_Model = TypeVar("_Model")
# Fits on more distinct rows than three times this start from the optimum on a subsample of
# about this many rows (and BFGS from the inverse Hessian there).
_WARM_ROWS = 10_000
_TIME_ADVICE = (
    "very long or very short times (e.g. days over decades) can also be rescaled: weeks "
    "(btyd_summary(..., freq_multiplier=7)) suit most retail data"
)


def _diagnostics(
    optimum: Optimum, names: Sequence[str], params: FloatArray, *, ll: float, n: float, pen: float
) -> FitDiagnostics:
    se = params * optimum.log_standard_errors
    return FitDiagnostics(
        log_likelihood=ll,
        n_customers=round(n),
        converged=True,
        iterations=optimum.iterations,
        message=optimum.message,
        standard_errors=dict(zip(names, (float(v) for v in se), strict=True)),
        penalizer=pen,
    )


def _fit_dask(
    pandas_fit: Callable[..., _Model],
    summary: Any,
    names: dict[str, str],
    weights: str | None,
    *,
    integer: tuple[str, ...] = ("frequency",),
    check: Callable[[pd.DataFrame, Columns], None] | None = None,
    **options: Any,
) -> _Model:
    """Fit a Dask summary through its compressed partitions (:mod:`crmcore.clv._dask`)."""
    check_penalizer(options["penalizer"])  # eager, before any partition is read
    if options.get("time_unit") is not None:
        check_choice(options["time_unit"], "time_unit", tuple(TIME_UNITS))
    import crmcore.clv._dask as dask_adapter

    model: _Model = dask_adapter.fit(pandas_fit, summary, names=names, integer=integer,
                              weights=weights, check=check, options=options)  # fmt: skip
    return model


def _no_repeat_customers(frequency: str) -> DataError:
    return DataError(
        f"summary has no repeat customers (column {frequency!r} is 0 in every row): there is "
        "nothing to fit; the models learn purchase rates and drop-out from repeat purchases",
        column=frequency,
    )


def _fit_purchases(
    pandas_fit: Callable[..., _Model],
    model_class: Callable[..., _Model],
    summary: Any,
    *,
    model: str,
    names: tuple[str, ...],
    columns: dict[str, str],
    weights: str | None,
    penalizer: float,
    time_unit: str | None,
    build: Callable[..., Callable[[FloatArray], tuple[float, FloatArray]]],
) -> _Model:
    """Fit BG/NBD, MBG/NBD or Pareto/NBD: check, compress, rescale, maximise, build the model.

    A Dask summary goes through :func:`_fit_dask` with ``pandas_fit``.
    """
    if is_dask(summary):
        return _fit_dask(pandas_fit, summary, columns, weights, penalizer=penalizer,
                         time_unit=time_unit)  # fmt: skip
    pen = check_penalizer(penalizer)
    if time_unit is not None:
        check_choice(time_unit, "time_unit", tuple(TIME_UNITS))
    cols = read_columns(summary, columns, integer=("frequency",), weights=weights)
    x, tx, big_t = cols["frequency"], cols["recency"], cols["T"]
    if not (x > 0).any():
        raise _no_repeat_customers(columns["frequency"])
    t_max = float(big_t.max())
    (x, tx, big_t), w = compress([x, tx, big_t], cols.weights)
    scale = 1.0 / t_max
    tx, big_t = tx * scale, big_t * scale
    fun = build(x, tx, big_t, w, pen)
    total = float(w.sum())
    rate = float(dot(w, x)) / float(dot(w, big_t))
    start = np.log(np.array([1.0, 1.0 / rate, 1.0, 1.0]))
    hess_inv0 = None
    pick = subsample([x, tx, big_t], _WARM_ROWS)
    if pick is not None:
        warm_fun = build(x[pick], tx[pick], big_t[pick], w[pick], pen)
        try:
            warm = maximise(warm_fun, start, n_customers=float(w[pick].sum()), model=model,
                            names=names, advice=_TIME_ADVICE)  # fmt: skip
        except ConvergenceError:
            pass  # the full data may still have an optimum: start from scratch
        else:
            start, hess_inv0 = warm.log_params, warm.inverse_hessian()
    optimum = maximise(fun, start, n_customers=total, model=model, names=names,
                       advice=_TIME_ADVICE, hess_inv0=hess_inv0)  # fmt: skip
    params = optimum.params.copy()
    # Back to the summary's time unit: the rate parameters (alpha, and beta for Pareto/NBD).
    params[1] /= scale
    if model == "Pareto/NBD":
        params[3] /= scale
    scaled = optimum.params
    ll_scaled = -(optimum.value - pen * float(dot(scaled, scaled))) * total
    # A likelihood of purchase times carries the unit: L(c t) = c^-x L(t).
    ll = ll_scaled + float(dot(w, x)) * np.log(scale)
    diag = _diagnostics(optimum, names, params, ll=ll, n=total, pen=pen)
    values = dict(zip(names, (float(v) for v in params), strict=True))
    return model_class(**values, time_unit=time_unit, diagnostics=diag)


def fit_bg_nbd(
    summary: pd.DataFrame,
    *,
    frequency: str = "frequency",
    recency: str = "recency",
    T: str = "T",
    weights: str | None = None,
    penalizer: float = 0.0,
    time_unit: str | None = None,
) -> BGNBD:
    r"""Fit the BG/NBD model (Fader, Hardie & Lee 2005) by maximum likelihood.

    Log-likelihood of a customer with ``x`` repeat purchases, the last at ``t_x``, observed
    for ``T`` (FHL 2005, eq. 6):

    .. math::

        \log L = \log\frac{B(a, b + x)}{B(a, b)} + \log\frac{\Gamma(r + x)\,\alpha^r}
        {\Gamma(r)} + \log\left[(\alpha + T)^{-(r+x)} + [x > 0]\frac{a}{b + x - 1}
        (\alpha + t_x)^{-(r+x)}\right]

    Parameters
    ----------
    summary
        One row per customer: repeat purchases, recency and age, as
        :func:`crmcore.segmentation.btyd_summary` returns them.
    frequency, recency, T
        Column names. ``frequency`` holds whole numbers; ``0 <= recency <= T``, and
        ``recency`` is 0 where ``frequency`` is.
    weights
        Optional column with the number of identical customers each row stands for.
    penalizer
        L2 penalty as in lifetimes (see the module notes); 0 for plain maximum likelihood.
    time_unit
        The unit of ``recency`` and ``T`` (``"H"``, ``"D"``, ``"W"`` or ``"M"``), kept in the
        model for :func:`~crmcore.clv.customer_lifetime_value`; ``None`` when unknown.

    Returns
    -------
    BGNBD
        Parameters ``r``, ``alpha`` (in the summary's time unit), ``a``, ``b`` and the
        diagnostics (log-likelihood, standard errors, ...).

    Raises
    ------
    SchemaError
        A column is missing or the summary is empty.
    ColumnTypeError
        A column is not numeric.
    DataError
        Negative or non-finite values, non-integer frequencies, recency above T, weights that
        are not positive whole numbers, no repeat customers, or a fit that does not converge
        (the message carries the optimiser's and advice).
    ConfigError
        A negative penalizer or an unknown time unit.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import fit_bg_nbd
    >>> summary = pd.DataFrame({
    ...     "frequency": [0, 1, 2, 0, 4, 1, 0, 3],
    ...     "recency": [0.0, 10.0, 20.0, 0.0, 35.0, 4.0, 0.0, 12.0],
    ...     "T": [40.0, 38.0, 39.0, 30.0, 36.0, 25.0, 20.0, 38.0],
    ... })
    >>> model = fit_bg_nbd(summary, time_unit="W")
    >>> model.diagnostics.n_customers, model.diagnostics.converged
    (8, True)
    >>> sorted(model.diagnostics.standard_errors)
    ['a', 'alpha', 'b', 'r']
    """
    return _fit_purchases(
        fit_bg_nbd,
        BGNBD,
        summary,
        model="BG/NBD",
        names=BGNBD.PARAMETERS,
        columns={"frequency": frequency, "recency": recency, "T": T},
        weights=weights,
        penalizer=penalizer,
        time_unit=time_unit,
        build=lambda *a: bgnbd.objective(*a, modified=False),
    )


def fit_mbg_nbd(
    summary: pd.DataFrame,
    *,
    frequency: str = "frequency",
    recency: str = "recency",
    T: str = "T",
    weights: str | None = None,
    penalizer: float = 0.0,
    time_unit: str | None = None,
) -> MBGNBD:
    r"""Fit the MBG/NBD model (Batislam, Denizel & Filiztekin 2007) by maximum likelihood.

    As :func:`fit_bg_nbd`, with the likelihood of the modified model (a customer may drop out
    at time 0):

    .. math::

        \log L = \log\frac{B(a, b + x + 1)}{B(a, b)} + \log\frac{\Gamma(r + x)\,\alpha^r}
        {\Gamma(r)} + \log\left[(\alpha + T)^{-(r+x)} + \frac{a}{b + x}
        (\alpha + t_x)^{-(r+x)}\right]

    Parameters
    ----------
    summary, frequency, recency, T, weights, penalizer, time_unit
        As in :func:`fit_bg_nbd`.

    Returns
    -------
    MBGNBD
        Parameters ``r``, ``alpha``, ``a``, ``b`` and the diagnostics.

    Raises
    ------
    SchemaError, ColumnTypeError, DataError, ConfigError
        As :func:`fit_bg_nbd`.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import fit_mbg_nbd
    >>> summary = pd.DataFrame({
    ...     "frequency": [0, 1, 2, 0, 4, 1, 0, 3],
    ...     "recency": [0.0, 10.0, 20.0, 0.0, 35.0, 4.0, 0.0, 12.0],
    ...     "T": [40.0, 38.0, 39.0, 30.0, 36.0, 25.0, 20.0, 38.0],
    ... })

    These eight customers have no interior optimum (the likelihood keeps rising towards the
    Poisson limit, r and alpha without bound); a small penalizer keeps the estimate finite:

    >>> fit_mbg_nbd(summary, penalizer=0.01).diagnostics.converged
    True
    """
    return _fit_purchases(
        fit_mbg_nbd,
        MBGNBD,
        summary,
        model="MBG/NBD",
        names=MBGNBD.PARAMETERS,
        columns={"frequency": frequency, "recency": recency, "T": T},
        weights=weights,
        penalizer=penalizer,
        time_unit=time_unit,
        build=lambda *a: bgnbd.objective(*a, modified=True),
    )


def fit_pareto_nbd(
    summary: pd.DataFrame,
    *,
    frequency: str = "frequency",
    recency: str = "recency",
    T: str = "T",
    weights: str | None = None,
    penalizer: float = 0.0,
    time_unit: str | None = None,
) -> ParetoNBD:
    r"""Fit the Pareto/NBD model (Schmittlein, Morrison & Colombo 1987) by maximum likelihood.

    Log-likelihood (Fader & Hardie's note 009, eq. 22, with :math:`p = r + s + x`):

    .. math::

        \log L = \log\frac{\Gamma(r + x)\,\alpha^r\beta^s}{\Gamma(r)} + \log\left[
        \frac{1}{(\alpha + T)^{r+x}(\beta + T)^s} + \frac{s}{p} A_0\right]

    where :math:`A_0` is a difference of two Gauss hypergeometric terms (see
    ``docs/clv.md``), evaluated in log-space.

    Parameters
    ----------
    summary, frequency, recency, T, weights, time_unit
        As in :func:`fit_bg_nbd`.
    penalizer
        L2 penalty on the mean log-likelihood per customer (lifetimes' Pareto/NBD
        ``penalizer_coef`` is this times the number of rows).

    Returns
    -------
    ParetoNBD
        Parameters ``r``, ``alpha``, ``s``, ``beta`` (rates in the summary's time unit) and
        the diagnostics.

    Raises
    ------
    SchemaError, ColumnTypeError, DataError, ConfigError
        As :func:`fit_bg_nbd`.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import fit_pareto_nbd
    >>> summary = pd.DataFrame({
    ...     "frequency": [0, 1, 2, 0, 4, 1, 0, 3],
    ...     "recency": [0.0, 10.0, 20.0, 0.0, 35.0, 4.0, 0.0, 12.0],
    ...     "T": [40.0, 38.0, 39.0, 30.0, 36.0, 25.0, 20.0, 38.0],
    ... })

    Eight customers cannot pin four parameters down (the likelihood keeps rising towards a
    Poisson limit); a small penalizer keeps the estimate finite:

    >>> fit_pareto_nbd(summary, penalizer=0.01).diagnostics.n_customers
    8
    """
    return _fit_purchases(
        fit_pareto_nbd,
        ParetoNBD,
        summary,
        model="Pareto/NBD",
        names=ParetoNBD.PARAMETERS,
        columns={"frequency": frequency, "recency": recency, "T": T},
        weights=weights,
        penalizer=penalizer,
        time_unit=time_unit,
        build=pareto.objective,
    )


def _check_bgbb_rows(summary: pd.DataFrame, cols: Columns) -> None:
    """X <= n, and the last transaction is at or after opportunity x (t_x >= x)."""
    x, tx, n, names = cols["frequency"], cols["recency"], cols["n_periods"], cols.names
    for bad, column, value, expected in (
        (x > n, names["frequency"], x, "at most n_periods transactions"),
        ((x > 0) & (tx < x), names["recency"], tx,
         "the opportunity of the last transaction, at least frequency"),
    ):  # fmt: skip
        refuse_first(summary, bad, column, arg="summary", problem="value",
                     then=f"; expected {expected}", values=value)  # fmt: skip


def fit_bg_bb(
    summary: pd.DataFrame,
    *,
    frequency: str = "frequency",
    recency: str = "recency",
    n_periods: str = "n_periods",
    weights: str | None = None,
    penalizer: float = 0.0,
) -> BGBB:
    r"""Fit the discrete-time BG/BB model (Fader, Hardie & Shang 2010) by maximum likelihood.

    Each row is a customer (or, with ``weights``, a group of identical customers) with
    ``frequency`` = x transactions in ``n_periods`` = n opportunities, the last at opportunity
    ``recency`` = :math:`t_x` (0 when x = 0). Likelihood (FHS 2010, eq. 5):

    .. math::

        L = \frac{B(\alpha+x, \beta+n-x)}{B(\alpha,\beta)}\frac{B(\gamma,\delta+n)}
        {B(\gamma,\delta)} + \sum_{i=0}^{n-t_x-1}\frac{B(\alpha+x,\beta+t_x-x+i)}
        {B(\alpha,\beta)}\frac{B(\gamma+1,\delta+t_x+i)}{B(\gamma,\delta)}

    Parameters
    ----------
    summary
        One row per customer or per pattern of (frequency, recency, n_periods).
    frequency, recency, n_periods
        Column names, whole numbers with ``frequency <= recency <= n_periods`` (recency 0
        where frequency is 0).
    weights
        Optional column with the number of customers per row.
    penalizer
        L2 penalty as in lifetimes' ``BetaGeoBetaBinomFitter``.

    Returns
    -------
    BGBB
        Parameters ``alpha``, ``beta``, ``gamma``, ``delta`` and the diagnostics.

    Raises
    ------
    SchemaError, ColumnTypeError, DataError, ConfigError
        As :func:`fit_bg_nbd`; also a frequency above ``n_periods`` or a recency below it.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import fit_bg_bb
    >>> patterns = pd.DataFrame({"frequency": [0, 1, 2, 3, 1, 2],
    ...                          "recency": [0, 1, 3, 3, 3, 2],
    ...                          "n_periods": [3, 3, 3, 3, 3, 3],
    ...                          "weights": [50, 20, 15, 10, 12, 8]})
    >>> fit_bg_bb(patterns, weights="weights").diagnostics.n_customers
    115
    """
    names = {"frequency": frequency, "recency": recency, "n_periods": n_periods}
    if is_dask(summary):
        integer = ("frequency", "recency", "n_periods")
        return _fit_dask(fit_bg_bb, summary, names, weights, penalizer=penalizer,
                         integer=integer, check=_check_bgbb_rows)  # fmt: skip
    pen = check_penalizer(penalizer)
    cols = read_columns(
        summary, names, integer=("frequency", "recency", "n_periods"), weights=weights
    )
    _check_bgbb_rows(summary, cols)
    x, tx, n = cols["frequency"], cols["recency"], cols["n_periods"]
    if not (x > 0).any():
        raise _no_repeat_customers(frequency)
    (x, tx, n), w = compress([x, tx, n], cols.weights)
    fun = bgbb.objective(x, tx, n, w, pen)
    total = float(w.sum())
    optimum = maximise(
        fun,
        np.zeros(4),
        n_customers=total,
        model="BG/BB",
        names=BGBB.PARAMETERS,
        advice="check that n_periods counts transaction opportunities",
    )
    params = optimum.params
    ll = -(optimum.value - pen * float(dot(params, params))) * total
    al, be, ga, de = (float(v) for v in params)
    diag = _diagnostics(optimum, BGBB.PARAMETERS, params, ll=ll, n=total, pen=pen)
    return BGBB(alpha=al, beta=be, gamma=ga, delta=de, diagnostics=diag)


def fit_gamma_gamma(
    summary: pd.DataFrame,
    *,
    frequency: str = "frequency",
    monetary_value: str = "monetary_value",
    weights: str | None = None,
    penalizer: float = 0.0,
) -> GammaGamma:
    r"""Fit the Gamma-Gamma spend model (Fader, Hardie & Lee 2005) on the repeat customers.

    Customers with ``frequency == 0`` carry no repeat-spend information and are left out
    (``diagnostics.n_customers`` counts the customers used). Log-likelihood of a customer with
    ``x`` repeat transactions of mean value ``m`` (note 025, eq. 1a):

    .. math::

        \log L = \log\Gamma(px+q) - \log\Gamma(px) - \log\Gamma(q) + q\log v
        + (px-1)\log m + px\log x - (px+q)\log(xm+v)

    The model assumes that spend does not depend on frequency; the Pearson correlation of the
    two among the repeat customers is reported as ``frequency_spend_correlation``.

    Parameters
    ----------
    summary
        One row per customer with ``frequency`` (repeat purchases) and ``monetary_value``
        (mean value of the repeat purchases), as ``btyd_summary(..., amount=...)`` returns.
    frequency, monetary_value
        Column names.
    weights
        Optional column with the number of identical customers per row.
    penalizer
        L2 penalty as in lifetimes' ``GammaGammaFitter``.

    Returns
    -------
    GammaGamma
        Parameters ``p``, ``q``, ``v``, the frequency-spend correlation and the diagnostics.

    Raises
    ------
    SchemaError, ColumnTypeError, ConfigError
        As :func:`fit_bg_nbd`.
    DataError
        Bad values as in :func:`fit_bg_nbd`, a repeat customer whose ``monetary_value`` is not
        > 0, no repeat customers, or a fit that does not converge.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import fit_gamma_gamma
    >>> summary = pd.DataFrame({"frequency": [1, 2, 5, 0, 3, 1, 4],
    ...                         "monetary_value": [20.0, 35.0, 18.5, 0.0, 60.0, 12.0, 25.0]})
    >>> model = fit_gamma_gamma(summary)
    >>> model.diagnostics.n_customers
    6
    """
    names = {"frequency": frequency, "monetary_value": monetary_value}
    if is_dask(summary):
        return _fit_dask(fit_gamma_gamma, summary, names, weights, penalizer=penalizer,
                         check=_check_spend)  # fmt: skip
    pen = check_penalizer(penalizer)
    cols = read_columns(summary, names, integer=("frequency",), weights=weights)
    _check_spend(summary, cols)
    x, m = cols["frequency"], cols["monetary_value"]
    repeat = x > 0
    if not repeat.any():
        raise _no_repeat_customers(frequency)
    (x, m), w = compress([x[repeat], m[repeat]], cols.weights[repeat])
    correlation = _correlation(x, m, w)
    fun = spend.gamma_gamma_objective(x, m, w, pen)
    total = float(w.sum())
    mean_m = float(dot(w, m)) / total
    optimum = maximise(
        fun,
        np.log(np.array([1.0, 2.0, mean_m])),
        n_customers=total,
        model="Gamma-Gamma",
        names=GammaGamma.PARAMETERS,
        advice="spend is assumed to vary around a customer's own mean; very few repeat "
        "customers or identical amounts make p and q unidentifiable",
    )
    params = optimum.params
    ll = -(optimum.value - pen * float(dot(params, params))) * total
    p, q, v = (float(c) for c in params)
    diag = _diagnostics(optimum, GammaGamma.PARAMETERS, params, ll=ll, n=total, pen=pen)
    return GammaGamma(p=p, q=q, v=v, frequency_spend_correlation=correlation, diagnostics=diag)


def _check_spend(summary: pd.DataFrame, cols: Columns) -> None:
    """Repeat customers' mean spend is > 0."""
    x, m, column = cols["frequency"], cols["monetary_value"], cols.names["monetary_value"]
    refuse_first(summary, (x > 0) & (m <= 0), column, arg="summary", problem="value",
                 then=" for a repeat customer; the Gamma-Gamma model needs mean repeat spend "
                 "> 0 (drop or correct zero-value purchases first)", values=m)  # fmt: skip


def _correlation(x: FloatArray, m: FloatArray, w: FloatArray) -> float | None:
    """Pearson correlation of the customers behind the weighted distinct rows (x, m, w)."""
    if len(x) < 2 or float(np.ptp(x)) == 0.0 or float(np.ptp(m)) == 0.0:
        return None
    # the correlation does not depend on scale: in units of the largest value, so values
    # near 1e307 do not overflow the squares
    c = np.cov(x / np.abs(x).max(), m / np.abs(m).max(), aweights=w)
    return float(c[0, 1] / np.sqrt(c[0, 0] * c[1, 1]))


def _active_counts(active: Any) -> FloatArray:
    if isinstance(active, pd.DataFrame | str | bytes):
        raise InputTypeError(
            "active must be a sequence or Series of customer counts (one cohort), "
            f"got {type(active).__name__}"
        )
    series = active if isinstance(active, pd.Series) else pd.Series(list(active), dtype=object)
    labels = series.index
    frame = series.rename("active").to_frame()
    if len(series) < 2:
        raise DataError(
            f"active holds {len(series)} count(s); expected the cohort size at period 0 and "
            "at least one later count",
            column="active",
        )
    cols = read_columns(frame, {"active": "active"}, integer=("active",), arg="active")
    counts = cols["active"]
    for bad, expected in (
        (np.r_[counts[0] <= 0, np.zeros(len(counts) - 1, dtype=bool)], "a cohort size > 0"),
        (np.r_[False, counts[1:] > counts[:-1]], "counts that never increase"),
    ):
        pos = first_true(bad)
        if pos is not None:
            raise DataError(
                f"active has {show(counts[pos])} at label {labels[pos]!r}; expected {expected} "
                "(customers still active at period 0, 1, 2, ...)",
                column="active",
                row=labels[pos],
                value=counts[pos],
            )
    return counts


def fit_shifted_beta_geometric(active: Any, *, penalizer: float = 0.0) -> ShiftedBetaGeometric:
    r"""Fit the shifted-beta-geometric churn model (Fader & Hardie 2007) to one cohort.

    ``active[t]`` customers of the cohort are still active at period ``t`` (``active[0]`` is
    the cohort size). With :math:`P(T = t) = B(\alpha+1, \beta+t-1)/B(\alpha,\beta)` the chance
    of leaving at period t and :math:`S(t) = B(\alpha, \beta+t)/B(\alpha,\beta)` of still being
    active (FH 2007, eq. 6-7), the log-likelihood is

    .. math::

        \log L = \sum_{t=1}^{k} (n_{t-1} - n_t)\log P(T = t) + n_k \log S(k)

    Parameters
    ----------
    active
        Counts of customers still active at periods 0, 1, 2, ... (a list, array or Series):
        whole numbers, the first > 0, never increasing.
    penalizer
        L2 penalty on the mean log-likelihood per customer.

    Returns
    -------
    ShiftedBetaGeometric
        Parameters ``alpha`` and ``beta`` and the diagnostics; see
        :func:`~crmcore.clv.survival_curve` and :func:`~crmcore.clv.retention_curve`.

    Raises
    ------
    InputTypeError
        ``active`` is a frame or text.
    DataError
        Fewer than two counts, non-integer or negative counts, a count that increases, or a
        fit that does not converge.

    Examples
    --------
    The "regular" customers of Fader & Hardie (2007), 1,000 at the start, over 7 years:

    >>> from crmcore.clv import fit_shifted_beta_geometric
    >>> m = fit_shifted_beta_geometric([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> round(m.alpha, 3), round(m.beta, 3)
    (0.704, 1.182)
    """
    pen = check_penalizer(penalizer)
    counts = _active_counts(active)
    if counts[-1] == counts[0]:
        raise DataError(
            "active never decreases: no customer of the cohort left, so churn cannot be estimated",
            column="active",
        )
    fun = spend.sbg_objective(counts, pen)
    optimum = maximise(
        fun,
        np.zeros(2),
        n_customers=float(counts[0]),
        model="shifted-beta-geometric",
        names=ShiftedBetaGeometric.PARAMETERS,
        advice="a cohort whose counts barely change cannot tell alpha from beta",
    )
    params = optimum.params
    ll = -(optimum.value - pen * float(dot(params, params))) * float(counts[0])
    al, be = (float(v) for v in params)
    diag = _diagnostics(
        optimum, ShiftedBetaGeometric.PARAMETERS, params, ll=ll, n=counts[0], pen=pen
    )
    return ShiftedBetaGeometric(alpha=al, beta=be, diagnostics=diag)
