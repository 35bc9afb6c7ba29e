"""Predictions of a fitted (or hand-built) model: functions of (model, summary).

Every per-customer prediction returns a Series indexed like the summary, in its row order, so
one fitted model scores any frame or partition. Times ``t`` are in the summary's own unit
(transaction opportunities for BG/BB). The formulas are those lifetimes 0.11.3 implements (the
tests check equality to 1e-6 relative on values lifetimes computed), cited per model in
``docs/clv.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

import crmcore.clv._bgbb as bgbb
import crmcore.clv._bgnbd as bgnbd
import crmcore.clv._pareto as pareto
from crmcore._dask import is_dask
from crmcore._frames import check_scalar
from crmcore.clv._dispatch import (
    CONTINUOUS,
    PurchaseModel,
    check_model,
    conditional_purchases,
    dask_predict,
    history,
    history_names,
    params4,
    to_series,
)
from crmcore.clv._inputs import check_time
from crmcore.clv.models import BGBB, MBGNBD, ParetoNBD, ShiftedBetaGeometric
from crmcore.errors import ConfigError

__all__ = [
    "expected_purchases",
    "expected_purchases_new",
    "probability_alive",
    "probability_of_purchases",
    "retention_curve",
    "survival_curve",
]

FloatArray = npt.NDArray[np.float64]


def probability_alive(
    model: PurchaseModel,
    summary: pd.DataFrame,
    *,
    frequency: str = "frequency",
    recency: str = "recency",
    T: str = "T",
    n_periods: str = "n_periods",
) -> pd.Series:
    r"""Probability that each customer is still active at the end of their observation.

    BG/NBD: :math:`1 / (1 + [x>0]\frac{a}{b+x-1}(\frac{\alpha+T}{\alpha+t_x})^{r+x})`
    (Fader, Hardie & Lee's note 021); MBG/NBD the same with :math:`\frac{a}{b+x}` and no
    :math:`[x > 0]`; Pareto/NBD note 009 eq. (11); BG/BB: alive after opportunity ``n``
    (FHS 2010, (A10) with m = 0, lifetimes' ``conditional_probability_alive(0, ...)``).

    Parameters
    ----------
    model
        A :class:`~crmcore.clv.BGNBD`, :class:`~crmcore.clv.MBGNBD`,
        :class:`~crmcore.clv.ParetoNBD` or :class:`~crmcore.clv.BGBB`.
    summary
        One row per customer (``btyd_summary`` output; for BG/BB ``frequency``, ``recency``,
        ``n_periods``).
    frequency, recency, T, n_periods
        Column names (``T`` for the continuous-time models, ``n_periods`` for BG/BB).

    Returns
    -------
    pandas.Series
        ``p_alive`` in [0, 1], indexed like ``summary``.

    Raises
    ------
    InputTypeError
        ``model`` is not a purchase model.
    SchemaError, ColumnTypeError, DataError
        Missing columns or bad values (as the fits).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import BGNBD, probability_alive
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> s = pd.DataFrame({"frequency": [0, 2, 2], "recency": [0.0, 30.4, 5.0],
    ...                   "T": [38.9, 38.9, 38.9]}, index=pd.Index([7, 8, 9], name="customer_id"))
    >>> probability_alive(m, s).round(4)
    customer_id
    7    1.0000
    8    0.7258
    9    0.1235
    Name: p_alive, dtype: float64
    """
    check_model(model, (*CONTINUOUS, BGBB), "model")
    names = {"frequency": frequency, "recency": recency, "T": T, "n_periods": n_periods}
    if is_dask(summary):
        return dask_predict(probability_alive, summary, args=(model,), kwargs=names,
                            names=history_names(model, **names))  # fmt: skip
    cols = history(model, summary, **names)
    x, tx = cols["frequency"], cols["recency"]
    if isinstance(model, BGBB):
        out = bgbb.probability_alive(params4(model), x, tx, cols["n_periods"])
    elif isinstance(model, ParetoNBD):
        out = pareto.probability_alive(params4(model), x, tx, cols["T"])
    else:
        out = bgnbd.probability_alive(
            params4(model), x, tx, cols["T"], modified=isinstance(model, MBGNBD)
        )
    return to_series(out, cols, "p_alive")


def expected_purchases(
    model: PurchaseModel,
    summary: pd.DataFrame,
    t: float,
    *,
    frequency: str = "frequency",
    recency: str = "recency",
    T: str = "T",
    n_periods: str = "n_periods",
) -> pd.Series:
    r"""Expect repeat purchases of each customer in the next ``t``, given their history.

    BG/NBD: FHL (2005) eq. (10); MBG/NBD: Batislam et al. (2007); Pareto/NBD: note 009
    eq. (41); BG/BB: FHS (2010) eq. (13), ``t`` counting future transaction opportunities.

    Parameters
    ----------
    model
        A purchase model (see :func:`probability_alive`).
    summary
        One row per customer.
    t
        Horizon, in the summary's time unit (opportunities for BG/BB), >= 0.
    frequency, recency, T, n_periods
        Column names.

    Returns
    -------
    pandas.Series
        ``expected_purchases`` (>= 0), indexed like ``summary``.

    Raises
    ------
    InputTypeError, SchemaError, ColumnTypeError, DataError
        As :func:`probability_alive`.
    ConfigError
        ``t`` negative or not finite (BG/BB: not a whole number).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import BGNBD, expected_purchases
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> s = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 30.4], "T": [38.9, 38.9]})
    >>> expected_purchases(m, s, 39).round(4).tolist()
    [0.1949, 1.2237]
    """
    check_model(model, (*CONTINUOUS, BGBB), "model")
    horizon = check_time(t)
    if isinstance(model, BGBB):
        check_scalar(t, "t", kind=int, min_value=0)
    names = {"frequency": frequency, "recency": recency, "T": T, "n_periods": n_periods}
    if is_dask(summary):
        roles = history_names(model, **names)
        return dask_predict(expected_purchases, summary, args=(model,),
                            kwargs={"t": t, **names}, names=roles)  # fmt: skip
    cols = history(model, summary, **names)
    return to_series(conditional_purchases(model, horizon, cols), cols, "expected_purchases")


def expected_purchases_new(model: PurchaseModel, t: float) -> float:
    """Expect repeat purchases of a new customer (first purchase just made) in their first ``t``.

    BG/NBD: FHL (2005) eq. (9); MBG/NBD: Batislam et al. (2007); Pareto/NBD: note 009
    eq. (17); BG/BB: FHS (2010) eq. (8) (``t`` opportunities).

    Parameters
    ----------
    model
        A purchase model.
    t
        Horizon in the model's time unit (opportunities for BG/BB), >= 0.

    Returns
    -------
    float
        The expected number of purchases.

    Raises
    ------
    InputTypeError
        ``model`` is not a purchase model.
    ConfigError
        ``t`` negative or not finite.

    Examples
    --------
    >>> from crmcore.clv import ParetoNBD, expected_purchases_new
    >>> round(expected_purchases_new(ParetoNBD(r=0.55, alpha=10.58, s=0.61, beta=11.67), 52), 4)
    1.4593
    """
    check_model(model, (*CONTINUOUS, BGBB), "model")
    horizon = check_time(t)
    if isinstance(model, BGBB):
        return bgbb.expected_new(params4(model), horizon)
    if isinstance(model, ParetoNBD):
        return pareto.expected_new(params4(model), horizon)
    return bgnbd.expected_new(params4(model), horizon, modified=isinstance(model, MBGNBD))


def probability_of_purchases(
    model: PurchaseModel, t: float, n: int | Sequence[int] | npt.ArrayLike
) -> pd.Series:
    """Probability that a new customer makes exactly ``n`` repeat purchases in their first ``t``.

    BG/NBD: FHL (2005) eq. (8); MBG/NBD: its analogue (Batislam et al. 2007); Pareto/NBD:
    an NBD count mixed over the exponential lifetime (Fader & Hardie's note 012), the lifetime
    integrated numerically; BG/BB: FHS (2010) eq. (7), ``t`` opportunities.

    Parameters
    ----------
    model
        A purchase model.
    t
        Horizon (>= 0; a whole number of opportunities for BG/BB).
    n
        One purchase count or several (whole numbers >= 0).

    Returns
    -------
    pandas.Series
        ``probability`` indexed by the purchase counts (index name ``purchases``).

    Raises
    ------
    InputTypeError
        ``model`` is not a purchase model.
    ConfigError
        ``t`` or ``n`` out of range.

    Examples
    --------
    >>> from crmcore.clv import BGNBD, probability_of_purchases
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> probability_of_purchases(m, 39, [0, 1, 2]).round(4).tolist()
    [0.5738, 0.1994, 0.0854]
    """
    check_model(model, (*CONTINUOUS, BGBB), "model")
    horizon = check_time(t)
    counts = np.atleast_1d(np.asarray(n))
    if counts.ndim != 1 or counts.size == 0:
        raise ConfigError(f"n must be a count or a list of counts, got {n!r}", column="n")
    for value in counts.tolist():
        check_scalar(value, "n", kind=int, min_value=0)
    ints = counts.astype(np.int64)
    if isinstance(model, BGBB):
        check_scalar(t, "t", kind=int, min_value=0)
        out = bgbb.probability_of_purchases(params4(model), int(horizon), ints)
    elif isinstance(model, ParetoNBD):
        out = pareto.probability_of_purchases(params4(model), horizon, ints)
    else:
        out = bgnbd.probability_of_purchases(
            params4(model), horizon, ints, modified=isinstance(model, MBGNBD)
        )
    return pd.Series(out, index=pd.Index(ints, name="purchases"), name="probability")


#: the longest curve drawn: a million periods (10**9 tried to allocate 7.45 GiB)
_MAX_PERIODS = 1_000_000


def _periods(n_periods: int) -> npt.NDArray[np.float64]:
    check_scalar(n_periods, "n_periods", kind=int, min_value=0, max_value=_MAX_PERIODS)
    return np.arange(int(n_periods) + 1, dtype=np.float64)


def survival_curve(model: ShiftedBetaGeometric, n_periods: int) -> pd.Series:
    r"""Share of a cohort still active at periods 0 .. ``n_periods``.

    :math:`S(t) = B(\alpha, \beta + t) / B(\alpha, \beta)` (Fader & Hardie 2007, eq. 7).

    Parameters
    ----------
    model
        A :class:`~crmcore.clv.ShiftedBetaGeometric` model.
    n_periods
        The last period (a whole number from 0 to 1 000 000).

    Returns
    -------
    pandas.Series
        ``survival`` indexed by ``period`` 0, 1, ..., starting at 1.0 and never increasing.

    Raises
    ------
    InputTypeError
        ``model`` is not a shifted-beta-geometric model.
    ConfigError
        ``n_periods`` negative or not a whole number.

    Examples
    --------
    >>> from crmcore.clv import ShiftedBetaGeometric, survival_curve
    >>> survival_curve(ShiftedBetaGeometric(alpha=0.704, beta=1.182), 3).round(3).tolist()
    [1.0, 0.627, 0.474, 0.388]
    """
    from scipy.special import betaln

    check_model(model, (ShiftedBetaGeometric,), "model")
    t = _periods(n_periods)
    values = np.exp(betaln(model.alpha, model.beta + t) - betaln(model.alpha, model.beta))
    return pd.Series(values, index=pd.Index(t.astype(np.int64), name="period"), name="survival")


def retention_curve(model: ShiftedBetaGeometric, n_periods: int) -> pd.Series:
    r"""Retention rate at periods 1 .. ``n_periods``: the share of last period's actives kept.

    :math:`r_t = S(t)/S(t-1) = (\beta + t - 1)/(\alpha + \beta + t - 1)` (Fader & Hardie
    2007, eq. 8): it rises with t as the likelier churners leave first.

    Parameters
    ----------
    model
        A :class:`~crmcore.clv.ShiftedBetaGeometric` model.
    n_periods
        The last period (a whole number from 0 to 1 000 000; 0 gives an empty curve).

    Returns
    -------
    pandas.Series
        ``retention`` indexed by ``period`` 1, 2, ...

    Raises
    ------
    InputTypeError, ConfigError
        As :func:`survival_curve`.

    Examples
    --------
    >>> from crmcore.clv import ShiftedBetaGeometric, retention_curve
    >>> retention_curve(ShiftedBetaGeometric(alpha=0.704, beta=1.182), 3).round(3).tolist()
    [0.627, 0.756, 0.819]
    """
    check_model(model, (ShiftedBetaGeometric,), "model")
    t = _periods(n_periods)[1:]
    values = (model.beta + t - 1.0) / (model.alpha + model.beta + t - 1.0)
    return pd.Series(values, index=pd.Index(t.astype(np.int64), name="period"), name="retention")
