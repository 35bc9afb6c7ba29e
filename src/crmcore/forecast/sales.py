"""Sales forecasts from history: future periods with point forecasts and prediction intervals."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
import pandas as pd

from crmcore._frames import check_scalar
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.errors import ConfigError
from crmcore.forecast._engine import Batch, check_levels, check_method, forecast_all, level_label
from crmcore.forecast._history import History, by_columns, read_history

__all__ = ["SalesForecast", "sales_forecast"]

#: the largest horizon sales_forecast accepts (274 years of days)
_MAX_HORIZON = 100_000


@attrs.frozen(kw_only=True)
class SalesForecast:
    """What :func:`sales_forecast` returns: the forecast frame and the model of each series.

    Attributes
    ----------
    forecast
        One row per series and future period, indexed by the period (pandas ``Period``, index
        name ``period``): the ``by`` columns (when grouped), ``forecast``, then ``lower_<L>``
        and ``upper_<L>`` per level ``L`` in percent (``lower_80``, ``upper_80``, ...).
    models
        One row per series: the ``by`` columns, ``model`` (``ETS(A,Ad,M)``,
        ``seasonal_naive`` or ``drift``), ``periods`` (length of its history), ``first_period``
        and ``aicc`` (NaN for seasonal naive and drift).
    period
        The period code of the forecast (``"M"``, ``"Q"``, ...).
    by
        The grouping columns (empty when ungrouped).
    last_period
        The last period of the history the forecast starts after.
    incomplete_period
        The incomplete period at the end of the history that was left out, or ``None``.
    excluded
        Rows of the input in that left-out period.

    Examples
    --------
    >>> import pandas as pd
    >>> history = pd.DataFrame({"date": pd.period_range("2024-01", periods=5, freq="M"),
    ...                         "amount": [10.0, 12, 14, 16, 18]})
    >>> result = sales_forecast(history, horizon=2, method="drift")
    >>> result.models[["model", "periods"]]
       model  periods
    0  drift        5
    >>> result.forecast["forecast"].tolist()
    [20.0, 22.0]
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    forecast: pd.DataFrame
    models: pd.DataFrame
    period: str
    by: tuple[str, ...]
    last_period: pd.Period
    incomplete_period: pd.Period | None
    excluded: int

    def totals(self) -> pd.Series:
        """Total forecast over the horizon per group: weights for ``quota.apportion``.

        Returns
        -------
        pandas.Series
            Named ``forecast``, indexed by the ``by`` key (a MultiIndex for several columns),
            sorted by it.

        Raises
        ------
        ConfigError
            The forecast was made without ``by``.

        Examples
        --------
        >>> import pandas as pd
        >>> history = pd.DataFrame({
        ...     "date": list(pd.period_range("2024-01", periods=4, freq="M")) * 2,
        ...     "territory": ["North"] * 4 + ["South"] * 4,
        ...     "amount": [10.0, 10, 10, 10, 5, 6, 7, 8]})
        >>> sales_forecast(history, by="territory", horizon=2, method="drift").totals()
        territory
        North    20.0
        South    19.0
        Name: forecast, dtype: float64
        """
        if not self.by:
            raise ConfigError(
                "totals() needs a forecast made with by=...; for one series use "
                "result.forecast['forecast'].sum()",
                column="by",
            )
        return self.forecast.groupby(list(self.by), sort=True)["forecast"].sum()


def result_frame(
    hist: History,
    batch: Batch,
    periods: pd.PeriodIndex,
    levels: Sequence[float],
    by: Sequence[str],
) -> pd.DataFrame:
    """Build the long frame: one row per series and period, series in key order."""
    n_series, horizon = batch.point.shape
    columns: dict[str, object] = {}
    if hist.keys is not None:
        for column in by:
            columns[column] = np.repeat(hist.keys[column].to_numpy(), horizon)
    columns["forecast"] = batch.point.ravel()
    for j, level in enumerate(levels):
        label = level_label(level)
        columns[f"lower_{label}"] = batch.lower[:, j, :].ravel()
        columns[f"upper_{label}"] = batch.upper[:, j, :].ravel()
    index = pd.PeriodIndex(np.tile(periods, n_series), name="period")
    return pd.DataFrame(columns, index=index)


def model_frame(hist: History, batch: Batch, by: Sequence[str], end: int | None) -> pd.DataFrame:
    """One row per series: by columns, model, periods, first_period, aicc."""
    frame = hist.keys.copy() if hist.keys is not None else pd.DataFrame(index=pd.RangeIndex(1))
    frame["model"] = batch.models
    frame["periods"] = batch.lengths.astype(np.int64)
    frame["first_period"] = hist.periods()[hist.first]
    frame["aicc"] = batch.aicc
    del by, end
    return frame


def sales_forecast(
    history: pd.DataFrame,
    *,
    date: str = "date",
    amount: str = "amount",
    period: str = "M",
    horizon: int = 12,
    levels: Sequence[float] = (0.8, 0.95),
    by: str | Sequence[str] | None = None,
    method: str = "auto",
    as_of: object = None,
    include_incomplete: bool = False,
    refunds: str = "error",
    seed: int = 0,
) -> SalesForecast:
    """Forecast sales per period from their history, with prediction intervals.

    ``history`` is transactions (``date`` holds dates: amounts are summed per period) or
    per-period totals (``date`` holds pandas Periods of ``period``'s frequency, one row per
    period and series). Periods with no sales count as zero. The history ends at ``as_of``
    (default: the latest date); when that date is not the last day of its period, the
    incomplete period is left out (and reported) unless ``include_incomplete``.

    Methods: ``"ets"`` chooses, per series, the exponential-smoothing model (additive or
    multiplicative error; no, additive or damped trend; no, additive or multiplicative season)
    with the smallest AICc; ``"seasonal_naive"`` repeats the last season; ``"drift"`` extends
    the line from the first to the last period. ``"auto"`` uses ETS when a series has two full
    seasons (and at least 10 periods), seasonal naive when it has more than one season, drift
    otherwise; the model chosen for each series is reported in ``models``. Forecasts and
    intervals are clipped at zero (sales do not go negative) unless ``refunds="allow"``.

    Parameters
    ----------
    history
        Transactions or per-period totals; never modified.
    date, amount
        Column names: dates (or Periods) and sales amounts.
    period
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"`` (pandas aliases accepted). One season is
        7 days, 52 weeks, 12 months, 4 quarters, 1 year.
    horizon
        Number of future periods, 1 to 100 000 (beyond that the result would not fit in
        memory for daily periods long before it meant anything).
    levels
        Prediction interval levels: fractions in (0, 1), one number or a sequence.
    by
        Column(s) naming separate series (person, territory, product): each is forecast on its
        own history (from its first period with sales to the common last period), so a group's
        result equals a call on that group alone with the same ``as_of``.
    method
        ``"auto"``, ``"ets"``, ``"seasonal_naive"`` or ``"drift"``.
    as_of
        The last day the history covers; default the latest date in ``history``.
    include_incomplete
        Keep a last period that ``as_of`` does not complete.
    refunds
        ``"error"`` (default): negative amounts are an error; ``"allow"``: net sales may go
        negative, and so may forecasts.
    seed
        Seeds the simulated intervals of ETS models with a multiplicative part (each series
        draws from its own generator seeded with ``seed``).

    Returns
    -------
    SalesForecast
        ``forecast``: indexed by ``period`` (pandas Periods), columns the ``by`` columns,
        ``forecast``, ``lower_<L>``, ``upper_<L>`` per level (``lower_80``, ``upper_80``,
        ``lower_95``, ``upper_95`` by default); sorted by the ``by`` key, then period.
        ``models``: the model, history length, first period and AICc of each series.

    Raises
    ------
    SchemaError
        A column is missing or ``history`` is empty.
    ColumnTypeError
        Non-numeric amounts or non-date dates.
    DataError
        Negative amounts (without ``refunds="allow"``), missing values, a period twice in
        per-period input, dates after ``as_of``, or a series too short for ``method``.
    ConfigError
        An unknown period, method or level, or a bad horizon.
    MissingDependencyError
        ``method`` needs ETS and statsmodels is not installed (``pip install statsmodels``,
        or ``pip install -e '.[forecast]'`` from a source checkout).

    Examples
    --------
    Transactions; 2 April does not complete April, so the history ends in March, and three
    months are too few for anything but drift (the line from January's 100 to March's 150):

    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "date": pd.to_datetime(["2024-01-15", "2024-02-03", "2024-02-20", "2024-03-09",
    ...                             "2024-04-02"]),
    ...     "amount": [100.0, 60.0, 70.0, 150.0, 20.0]})
    >>> result = sales_forecast(tx, horizon=2, levels=[0.8])
    >>> result.forecast.round(1)
             forecast  lower_80  upper_80
    period
    2024-04     175.0     163.9     186.1
    2024-05     200.0     181.9     218.1
    >>> result.models["model"].tolist(), str(result.incomplete_period), result.excluded
    (['drift'], '2024-04', 1)
    >>> sales_forecast(tx.iloc[:3], horizon=2)
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: the history (first row 0) has 1 monthly period(s); method='auto' \
(its shortest fallback, drift) needs at least 3
    """
    check_method(method)
    check_scalar(horizon, "horizon", kind=int, min_value=1, max_value=_MAX_HORIZON)
    check_scalar(seed, "seed", kind=int, min_value=0)
    level_tuple = check_levels(levels)
    outputs = [f"{side}_{level_label(lv)}" for lv in level_tuple for side in ("lower", "upper")]
    by_cols = by_columns(
        by,
        reserved=[date, amount, "forecast", "model", "periods", "first_period", "aicc", *outputs],
    )
    hist = read_history(
        history,
        date=date,
        amount=amount,
        period=period,
        by=by_cols,
        as_of=as_of,
        include_incomplete=include_incomplete,
        refunds=refunds,
    )
    batch = forecast_all(
        hist,
        end=None,
        horizon=int(horizon),
        levels=level_tuple,
        method=method,
        by=by_cols,
        seed=int(seed),
    )
    periods = hist.future(int(horizon))
    return SalesForecast(
        forecast=result_frame(hist, batch, periods, level_tuple, by_cols),
        models=model_frame(hist, batch, by_cols, None),
        period=hist.period,
        by=by_cols,
        last_period=hist.periods()[-1],
        incomplete_period=hist.incomplete,
        excluded=hist.excluded,
    )
