"""Charts of sales forecasts: the forecast with its prediction intervals after the history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmcore._frames import check_scalar, numeric_column, require_columns, show
from crmcore.errors import ConfigError, DataError, InputTypeError
from crmcore.plot._style import amount_axis, drawable, finish, new_axes, period_slots

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from crmcore.forecast import SalesForecast

__all__ = ["forecast_chart"]


def _timestamps(index: pd.Index, arg: str) -> pd.DatetimeIndex:
    """Return the periods of an index as period starts; a period twice is an error."""
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise DataError(
            f"{arg} has period {show(dup)} twice; one row per period", row=dup, value=dup
        )
    if index.dtype == object and len(index) and isinstance(index[0], pd.Period):
        try:
            index = pd.PeriodIndex(list(index))
        except (TypeError, ValueError):  # periods of different frequencies
            raise DataError(f"{arg} mixes periods of different lengths in its index") from None
    if isinstance(index, pd.PeriodIndex):
        return index.to_timestamp(how="start")
    try:
        return pd.DatetimeIndex(index)
    except (TypeError, ValueError):
        raise InputTypeError(
            f"the index of {arg} must hold periods or dates, got {show(index[0])}"
        ) from None


def forecast_chart(
    forecast: SalesForecast | pd.DataFrame,
    history: pd.Series | None = None,
    *,
    level: int = 80,
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Draw a sales forecast: the history as bars, the forecast as a line in its interval.

    Parameters
    ----------
    forecast
        The result of :func:`crmcore.forecast.sales_forecast` for one series (no ``by``), or
        its ``forecast`` frame: indexed by period, with ``forecast``, ``lower_<level>`` and
        ``upper_<level>`` columns.
    history
        Sales per past period (e.g. ``revenue_by_period(...)["revenue"]``), indexed by
        period starts or pandas Periods; drawn as bars before the forecast. Optional.
    level
        The prediction interval drawn as the band (a level the forecast holds: 80 or 95).
    ax, title, ylabel
        Axes to draw into (its figure is returned; default a new one) and text overrides.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]``: one bar per history period in ``patches``, the band in
        ``collections``, the forecast line in ``lines``.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InputTypeError
        ``forecast`` is neither a SalesForecast nor a DataFrame.
    SchemaError
        The forecast columns of ``level`` are missing, or the frame is empty.
    ConfigError
        A forecast of several series (``by``): draw one series' rows; ``level`` not a whole
        number from 1 to 99.
    DataError
        A period twice in the index of ``forecast`` or ``history``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.plot import forecast_chart
    >>> periods = pd.period_range("2025-01", periods=3, freq="M", name="period")
    >>> fc = pd.DataFrame({"forecast": [10.0, 11.0, 12.0], "lower_80": [8.0, 8.0, 8.0],
    ...                    "upper_80": [12.0, 14.0, 16.0]}, index=periods)
    >>> past = pd.Series([9.0, 10.0], index=pd.period_range("2024-11", periods=2, freq="M"))
    >>> ax = forecast_chart(fc, past).axes[0]
    >>> len(ax.patches), [t.get_text() for t in ax.get_xticklabels()]
    (2, ['2024-11', '2024-12', '2025-01', '2025-02', '2025-03'])
    """
    from crmcore.forecast import SalesForecast

    if isinstance(forecast, SalesForecast):
        if forecast.by:
            raise ConfigError(
                f"the forecast holds several series (by={list(forecast.by)}); draw one: "
                "pass the rows of one series of its forecast frame"
            )
        frame = forecast.forecast
    elif isinstance(forecast, pd.DataFrame):
        frame = forecast
    else:
        raise InputTypeError(
            f"forecast must be a SalesForecast or a DataFrame, got {type(forecast).__name__}"
        )
    check_scalar(level, "level", kind=int, min_value=1, max_value=99)
    low, high = f"lower_{level}", f"upper_{level}"
    require_columns(frame, ["forecast", low, high], arg="forecast")
    values = {c: numeric_column(frame, c, arg="forecast") for c in ("forecast", low, high)}
    for c, v in values.items():
        drawable(frame, c, v, arg="forecast")
    if history is not None:
        drawable(
            history.to_frame("history"),
            "history",
            pd.to_numeric(history, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan),
            arg="history",
        )
    future = _timestamps(frame.index, "forecast")
    past = pd.DatetimeIndex([]) if history is None else _timestamps(history.index, "history")
    periods = past.append(future)
    n_past = len(past)

    fig, axes = new_axes(ax, (min(max(6.4, 0.3 * len(periods) + 2), 12.0), 4.2))
    x_future = np.arange(n_past, len(periods), dtype=np.float64)
    handles: list[Any] = []
    if history is not None:
        bars = axes.bar(
            np.arange(n_past),
            history.to_numpy(dtype=np.float64),
            width=0.7,
            color="tab:blue",
            alpha=0.8,
            label="history",
        )
        handles.append(bars)
    band = axes.fill_between(
        x_future,
        values[low],
        values[high],
        color="tab:orange",
        alpha=0.3,
        label=f"{level} % interval",
    )
    (line,) = axes.plot(
        x_future,
        values["forecast"],
        color="tab:orange",
        marker="o",
        markersize=3,
        linewidth=1.5,
        label="forecast",
    )
    axes.legend(handles=[*handles, band, line], fontsize=8, loc="upper left")
    amount_axis(axes.yaxis)
    period_slots(fig, axes, periods)
    return finish(
        fig,
        axes,
        title=title,
        default_title="Sales forecast",
        xlabel="period",
        ylabel="sales" if ylabel is None else ylabel,
    )
