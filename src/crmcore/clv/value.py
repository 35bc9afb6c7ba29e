"""What customers are worth: expected spend per transaction and discounted lifetime value."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

import crmcore.clv._dispatch as dispatch
from crmcore._dask import is_dask
from crmcore._frames import check_choice, check_scalar
from crmcore.clv._dispatch import CONTINUOUS, PurchaseModel
from crmcore.clv._inputs import read_columns
from crmcore.clv.models import TIME_UNITS, GammaGamma
from crmcore.errors import ConfigError

#: the longest horizon: a century of months (the sum runs month by month)
_MAX_MONTHS = 1200

__all__ = ["customer_lifetime_value", "expected_spend"]


def _spend(gamma_gamma: GammaGamma, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    p, q, v = gamma_gamma.p, gamma_gamma.q, gamma_gamma.v
    if q <= 1:
        raise ConfigError(
            f"GammaGamma q == {q}: with q <= 1 the mean spend per transaction is infinite, so "
            "no expected spend exists; refit with a penalizer or check the monetary values",
            column="q",
            value=q,
        )
    weight = p * x / (p * x + q - 1.0)
    return np.asarray((1.0 - weight) * (v * p / (q - 1.0)) + weight * m, dtype=np.float64)


def expected_spend(
    gamma_gamma: GammaGamma,
    summary: pd.DataFrame,
    *,
    frequency: str = "frequency",
    monetary_value: str = "monetary_value",
) -> pd.Series:
    r"""Expect the value of each customer's future transactions, given their past ones.

    The Gamma-Gamma conditional mean (Fader, Hardie & Lee 2005; note 025 eq. 5): a weighted
    average of the population mean :math:`vp/(q-1)` and the customer's own mean ``m`` over
    ``x`` repeat transactions, the customer's weight :math:`px/(px+q-1)` growing with ``x``.
    Customers without repeat purchases get the population mean.

    Parameters
    ----------
    gamma_gamma
        A :class:`~crmcore.clv.GammaGamma` model.
    summary
        One row per customer with ``frequency`` and ``monetary_value``.
    frequency, monetary_value
        Column names.

    Returns
    -------
    pandas.Series
        ``expected_spend``, indexed like ``summary``.

    Raises
    ------
    InputTypeError
        ``gamma_gamma`` is not a Gamma-Gamma model.
    ConfigError
        The model's ``q <= 1`` (infinite mean spend).
    SchemaError, ColumnTypeError, DataError
        Missing columns or bad values.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import GammaGamma, expected_spend
    >>> gg = GammaGamma(p=6.25, q=3.74, v=15.44)
    >>> s = pd.DataFrame({"frequency": [0, 1, 10], "monetary_value": [0.0, 50.0, 50.0]})
    >>> expected_spend(gg, s).round(2).tolist()
    [35.22, 45.49, 49.38]
    """
    model = dispatch.spend_model(gamma_gamma)
    names = {"frequency": frequency, "monetary_value": monetary_value}
    if is_dask(summary):
        return dispatch.dask_predict(
            expected_spend, summary, args=(model,), kwargs=names, names=names
        )
    cols = read_columns(summary, names, integer=("frequency",))
    return dispatch.to_series(
        _spend(model, cols["frequency"], cols["monetary_value"]), cols, "expected_spend"
    )


def _time_unit(model: PurchaseModel, time_unit: str | None) -> str:
    own = getattr(model, "time_unit", None)
    if time_unit is None:
        if own is None:
            raise ConfigError(
                "customer_lifetime_value needs the summary's time unit: pass time_unit='D', "
                "'W', 'M' or 'H', or fit the model with time_unit=...",
                column="time_unit",
            )
        return str(own)
    check_choice(time_unit, "time_unit", tuple(TIME_UNITS))
    if own is not None and own != time_unit:
        raise ConfigError(
            f"time_unit={time_unit!r} does not match the summary the model was fitted on, "
            f"whose recency and T are in {own!r}; pass time_unit={own!r} (or leave it out)",
            column="time_unit",
            value=time_unit,
        )
    return time_unit


def customer_lifetime_value(
    model: PurchaseModel,
    gamma_gamma: GammaGamma,
    summary: pd.DataFrame,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
    time_unit: str | None = None,
    frequency: str = "frequency",
    recency: str = "recency",
    T: str = "T",
    monetary_value: str = "monetary_value",
) -> pd.Series:
    r"""Discounted value of each customer's purchases over the next ``months`` months.

    As lifetimes computes it (so results are comparable): in monthly steps
    :math:`k = 1 .. K`, the expected purchases in month k (from the purchase model, given
    the customer's history) times the expected spend per purchase (Gamma-Gamma), discounted
    per month:

    .. math::

        \text{CLV} = \sum_{k=1}^{K} \frac{\bar m \,(E[Y(k f)] - E[Y((k-1) f)])}
        {(1 + d)^k}

    with :math:`f` the number of time units in a month: 30 days, 4.345 weeks, 1 month or
    720 hours.

    Parameters
    ----------
    model
        A fitted :class:`~crmcore.clv.BGNBD`, :class:`~crmcore.clv.MBGNBD` or
        :class:`~crmcore.clv.ParetoNBD`.
    gamma_gamma
        A :class:`~crmcore.clv.GammaGamma` spend model.
    summary
        One row per customer with frequency, recency, T and monetary value.
    months
        Horizon in months (a whole number from 0 to 1200, a century).
    discount_rate
        Monthly discount rate (>= 0).
    time_unit
        The unit of the summary's ``recency`` and ``T``: ``"D"``, ``"W"``, ``"M"`` or
        ``"H"``. Default: the unit the model was fitted with (``fit_*(..., time_unit=...)``);
        an error when neither says, or when they differ.
    frequency, recency, T, monetary_value
        Column names.

    Returns
    -------
    pandas.Series
        ``clv`` in money units, indexed like ``summary``.

    Raises
    ------
    InputTypeError
        A model of the wrong kind.
    ConfigError
        Bad ``months``/``discount_rate``, an unknown time unit, a time unit that does not
        match the model's, or a spend model with ``q <= 1``.
    SchemaError, ColumnTypeError, DataError
        Missing columns or bad values.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import BGNBD, GammaGamma, customer_lifetime_value
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
    >>> gg = GammaGamma(p=6.25, q=3.74, v=15.44)
    >>> s = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 30.4], "T": [38.9, 38.9],
    ...                   "monetary_value": [0.0, 22.35]})
    >>> customer_lifetime_value(m, gg, s, months=12).round(2).tolist()
    [8.36, 36.22]
    >>> customer_lifetime_value(m, gg, s, time_unit="D")
    Traceback (most recent call last):
    ...
    crmcore.errors.ConfigError: time_unit='D' does not match the summary the model was fitted ...
    """
    dispatch.check_model(model, CONTINUOUS, "model")
    spend = dispatch.spend_model(gamma_gamma)
    check_scalar(months, "months", kind=int, min_value=0, max_value=_MAX_MONTHS)
    check_scalar(discount_rate, "discount_rate", kind=float, min_value=0.0)
    if not np.isfinite(float(discount_rate)):
        raise ConfigError("discount_rate must be finite", column="discount_rate")
    factor = TIME_UNITS[_time_unit(model, time_unit)]
    if is_dask(summary):
        names = {
            "frequency": frequency,
            "recency": recency,
            "T": T,
            "monetary_value": monetary_value,
        }
        options = {"months": months, "discount_rate": discount_rate, "time_unit": time_unit}
        return dispatch.dask_predict(customer_lifetime_value, summary, args=(model, spend),
                            kwargs={**options, **names}, names=names)  # fmt: skip
    cols = dispatch.history(model, summary, frequency=frequency, recency=recency, T=T, n_periods="")
    money = read_columns(
        summary, {"frequency": frequency, "monetary_value": monetary_value}, integer=()
    )
    value = _spend(spend, cols["frequency"], money["monetary_value"])
    total = np.zeros(len(cols.index), dtype=np.float64)
    previous = np.zeros(len(cols.index), dtype=np.float64)
    for k in range(1, int(months) + 1):
        current = dispatch.conditional_purchases(model, k * factor, cols)
        # (1 + d) ** -k as exp(-k log1p(d)): a huge rate discounts to 0 instead of overflowing
        total += value * (current - previous) * math.exp(-k * math.log1p(float(discount_rate)))
        previous = current
    return dispatch.to_series(total, cols, "clv")
