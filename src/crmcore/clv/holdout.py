"""Checking a model: split a log into calibration and holdout, compare predictions to actuals."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pandas as pd

from crmcore._frames import (
    check_scalar,
    datetime_column,
    numeric_column,
    require_columns,
    require_not_null,
    require_one_id_type,
    resolve_as_of,
)
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.clv._calendar import end_of_day, ordinals
from crmcore.clv._dispatch import CONTINUOUS, check_model, conditional_purchases
from crmcore.clv._inputs import read_columns
from crmcore.errors import ConfigError
from crmcore.segmentation import btyd_summary

__all__ = ["HoldoutReport", "calibration_holdout", "holdout_report"]


def _before(dates: pd.Series, end: pd.Timestamp) -> np.ndarray:
    bound, exclusive = end_of_day(end)
    return np.asarray(dates < bound if exclusive else dates <= bound, dtype=bool)


def calibration_holdout(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer_id",
    date: str = "date",
    amount: str | None = None,
    calibration_end: object,
    observation_end: object = None,
    period: str = "D",
    freq_multiplier: float = 1,
) -> pd.DataFrame:
    """Summarise each customer over a calibration window and the holdout window after it.

    Equal to lifetimes' ``calibration_and_holdout_data`` (0.11.3, daily periods): the
    calibration columns are :func:`~crmcore.segmentation.btyd_summary` of the purchases up to
    ``calibration_end`` with ``as_of=calibration_end``; the holdout columns count the purchase
    periods after ``calibration_end`` up to ``observation_end``.

    The cut is at exact dates: a purchase **on** ``calibration_end`` belongs to the
    calibration. A date without a time of day stands for that whole day (lifetimes compares
    timestamps, so a purchase at 10:00 on the calibration end day would be holdout there);
    a date with a time of day is compared as an instant. Purchases after ``observation_end``
    are outside the study and ignored, as in lifetimes.

    Parameters
    ----------
    transactions
        One row per purchase.
    customer, date, amount
        Column names (``amount`` optional: with it the result has the monetary columns).
    calibration_end
        Last date of the calibration window (required).
    observation_end
        Last date of the holdout window; default the latest date.
    period
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``, as in ``btyd_summary``.
    freq_multiplier
        Divides the recency, T and holdout duration (``7`` with ``period="D"`` gives weeks).

    Returns
    -------
    pandas.DataFrame
        One row per customer who bought by ``calibration_end`` (indexed by customer id,
        sorted), float64 columns ``frequency_cal``, ``recency_cal``, ``T_cal``,
        (``monetary_value_cal``), ``frequency_holdout`` (purchase periods in the holdout),
        (``monetary_value_holdout``: mean amount of the holdout purchase rows, 0 when none),
        ``duration_holdout``.

    Raises
    ------
    SchemaError, ColumnTypeError, DataError
        Missing columns, bad dates or amounts (as ``btyd_summary``).
    ConfigError
        A bad date, ``observation_end`` before ``calibration_end``, an unknown period, or no
        purchase by ``calibration_end``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import calibration_holdout
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2, 3],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-02-05",
    ...                                            "2024-01-20", "2024-02-01"])})
    >>> ch = calibration_holdout(tx, calibration_end="2024-01-20", observation_end="2024-02-29")
    >>> ch[["frequency_cal", "recency_cal", "T_cal", "frequency_holdout"]]
                 frequency_cal  recency_cal  T_cal  frequency_holdout
    customer_id
    1                      1.0          9.0   19.0                1.0
    2                      0.0          0.0    0.0                0.0
    >>> ch["duration_holdout"].tolist()
    [40.0, 40.0]
    """
    cols = [customer, date] if amount is None else [customer, date, amount]
    transactions = require_columns(transactions, cols, arg="transactions")
    require_not_null(transactions, customer, arg="transactions")
    require_one_id_type(transactions, customer, arg="transactions")
    check_scalar(
        freq_multiplier, "freq_multiplier", kind=(int, float), min_value=0, include="right"
    )
    dates = datetime_column(transactions, date, arg="transactions", key=customer)
    if calibration_end is None:
        raise ConfigError("calibration_end is required", column="calibration_end")
    cal_end = resolve_as_of(calibration_end, dates, arg="calibration_end", column=date)
    obs_end = resolve_as_of(observation_end, dates, arg="observation_end", column=date)
    if obs_end < cal_end:
        raise ConfigError(
            f"observation_end={obs_end} is before calibration_end={cal_end}",
            column="observation_end",
            value=observation_end,
        )
    in_cal = _before(dates, cal_end)
    in_study = _before(dates, obs_end)
    if not in_cal.any():
        raise ConfigError(
            f"no purchase on or before calibration_end={cal_end}; nothing to calibrate on",
            column="calibration_end",
            value=calibration_end,
        )
    frame = transactions[cols].assign(**{date: dates})
    cal = btyd_summary(
        frame[in_cal],
        customer=customer,
        date=date,
        amount=amount,
        as_of=cal_end,
        period=period,  # type: ignore[arg-type]  # checked by btyd_summary
        freq_multiplier=freq_multiplier,
    )
    out = pd.DataFrame({f"{c}_cal": cal[c].to_numpy() for c in cal.columns}, index=cal.index)
    holdout = frame[in_study & ~in_cal]
    out["frequency_holdout"] = _holdout_periods(holdout, out.index, customer, date, period)
    if amount is not None:
        values = numeric_column(holdout, amount, arg="transactions", key=customer)
        means = pd.Series(values, index=holdout[customer].to_numpy()).groupby(level=0).mean()
        out["monetary_value_holdout"] = means.reindex(out.index).fillna(0.0).to_numpy()
    ends = pd.Series([cal_end, obs_end])
    start, stop = ordinals(ends, period)
    out["duration_holdout"] = float(stop - start) / float(freq_multiplier)
    return out


def _holdout_periods(
    holdout: pd.DataFrame, index: pd.Index, customer: str, date: str, period: str
) -> np.ndarray:
    """Distinct purchase periods per customer of ``index`` among the holdout rows."""
    if len(holdout) == 0:
        return np.zeros(len(index), dtype=np.float64)
    codes = index.get_indexer(pd.Index(holdout[customer]))
    keep = codes >= 0
    pairs = pd.DataFrame({"c": codes[keep], "p": ordinals(holdout[date], period)[keep]})
    distinct = pairs.drop_duplicates()
    counts = np.bincount(distinct["c"].to_numpy(), minlength=len(index))
    return counts.astype(np.float64)


@attrs.frozen(kw_only=True, eq=False)
class HoldoutReport:
    """Predicted against actual holdout purchases, by calibration frequency.

    Parameters
    ----------
    table
        Indexed by ``frequency_cal`` group (``"0"``, ``"1"``, ..., ``"7+"``), columns
        ``customers`` (int64), ``actual`` and ``predicted`` (mean holdout purchases per
        customer, float64).
    actual_total, predicted_total
        Holdout purchases of all customers: observed, and expected by the model.
    total_error
        ``(predicted_total - actual_total) / actual_total`` (NaN when nothing was bought).
    mean_absolute_error
        Mean over customers of ``|predicted - actual|`` holdout purchases.

    Examples
    --------
    >>> import pandas as pd
    >>> r = HoldoutReport(table=pd.DataFrame(), actual_total=10.0, predicted_total=9.0,
    ...                   total_error=-0.1, mean_absolute_error=0.4)
    >>> r.total_error
    -0.1
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    table: pd.DataFrame
    actual_total: float
    predicted_total: float
    total_error: float
    mean_absolute_error: float


def holdout_report(
    model: Any,
    cal_holdout: pd.DataFrame,
    *,
    max_frequency: int = 7,
    frequency: str = "frequency_cal",
    recency: str = "recency_cal",
    T: str = "T_cal",
    actual: str = "frequency_holdout",
    duration: str = "duration_holdout",
) -> HoldoutReport:
    """Compare holdout purchases predicted from the calibration summary with the actual ones.

    Each customer's expected purchases over their holdout duration (given the calibration
    history) against what they bought, averaged by calibration frequency ``0, 1, ...,
    max_frequency - 1`` and ``max_frequency+`` (Fader, Hardie & Lee 2005, figure 4), plus the
    error of the total.

    Parameters
    ----------
    model
        A fitted :class:`~crmcore.clv.BGNBD`, :class:`~crmcore.clv.MBGNBD` or
        :class:`~crmcore.clv.ParetoNBD` (fitted on the calibration columns).
    cal_holdout
        :func:`calibration_holdout` output.
    max_frequency
        The last group pools this frequency and above (1 to 10 000).
    frequency, recency, T, actual, duration
        Column names.

    Returns
    -------
    HoldoutReport
        The table by frequency group and the aggregate errors.

    Raises
    ------
    InputTypeError
        ``model`` is not a continuous-time purchase model.
    SchemaError, ColumnTypeError, DataError, ConfigError
        Missing columns, bad values, bad ``max_frequency``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import BGNBD, holdout_report
    >>> ch = pd.DataFrame({"frequency_cal": [0.0, 1.0, 9.0], "recency_cal": [0.0, 5.0, 30.0],
    ...                    "T_cal": [39.0, 39.0, 39.0], "frequency_holdout": [0.0, 1.0, 6.0],
    ...                    "duration_holdout": [39.0, 39.0, 39.0]})
    >>> report = holdout_report(BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426), ch)
    >>> report.table["customers"].tolist(), report.actual_total
    ([1, 1, 0, 0, 0, 0, 0, 1], 7.0)
    """
    check_model(model, CONTINUOUS, "model")
    check_scalar(max_frequency, "max_frequency", kind=int, min_value=1, max_value=10_000)
    names = {"frequency": frequency, "recency": recency, "T": T, "actual": actual}
    cols = read_columns(
        cal_holdout, {**names, "duration": duration}, integer=("frequency", "actual")
    )
    predicted = np.zeros(len(cols.index), dtype=np.float64)
    for horizon in np.unique(cols["duration"]):
        rows = cols["duration"] == horizon
        part = read_columns(cal_holdout[rows], {"frequency": frequency, "recency": recency, "T": T})
        predicted[rows] = conditional_purchases(model, float(horizon), part)
    groups = np.minimum(cols["frequency"], max_frequency).astype(np.int64)
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    counts = np.bincount(groups, minlength=max_frequency + 1)
    observed = cols["actual"]
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame(
            {
                "customers": counts.astype(np.int64),
                "actual": np.bincount(groups, observed, max_frequency + 1) / counts,
                "predicted": np.bincount(groups, predicted, max_frequency + 1) / counts,
            },
            index=pd.Index(labels, name="frequency_cal"),
        )
    actual_total = float(observed.sum())
    predicted_total = float(predicted.sum())
    error = (predicted_total - actual_total) / actual_total if actual_total else float("nan")
    return HoldoutReport(
        table=table,
        actual_total=actual_total,
        predicted_total=predicted_total,
        total_error=error,
        mean_absolute_error=float(np.mean(np.abs(predicted - observed))),
    )
