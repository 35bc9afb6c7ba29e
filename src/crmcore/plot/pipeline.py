"""Charts of sales pipeline results: the funnel and the landing schedule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import describe_row, numeric_column, require_columns, show
from crmcore.errors import ConfigError, DataError
from crmcore.pipeline import CloseSchedule, PipelineSimulation
from crmcore.plot._style import (
    amount_axis,
    drawable,
    finish,
    fmt_count,
    fmt_pct,
    new_axes,
    period_label,
    period_labels_for,
    period_slots,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


__all__ = ["funnel_chart", "landing_schedule"]


def funnel_chart(
    funnel: pd.DataFrame,
    *,
    entered: str = "entered",
    conversion_rate: str = "conversion_rate",
    win_rate: str | None = "win_rate",
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str | None = None,
) -> Figure:
    """Draw the stage funnel: a centred bar per stage, annotated with its conversion rates.

    Bar length is the number of deals that entered the stage (first stage at the top). Each
    bar is annotated ``"<entered> · <conversion> advance · <win> win"``: the share of the deals
    that left the stage which left it forwards, and the chance of eventually winning from it.

    Parameters
    ----------
    funnel
        Output of :func:`crmcore.pipeline.funnel_conversion`: indexed by stage in funnel order,
        with ``entered``, ``conversion_rate`` and ``win_rate`` columns.
    entered, conversion_rate, win_rate
        Column names; ``win_rate=None`` leaves the win rate out of the annotations.
    ax, title, xlabel
        Axes to draw into (its figure is returned; default a new one) and text overrides.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per stage in ``fig.axes[0].patches``; one annotation per stage in ``texts``.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    SchemaError
        A column is missing or ``funnel`` is empty.
    ColumnTypeError
        A column is not numeric.
    DataError
        A negative or missing ``entered`` count, or a rate outside [0, 1] (NaN rates, for a
        stage no deal has left yet, are shown as ``n/a``).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.plot import funnel_chart
    >>> funnel = pd.DataFrame({"entered": [4, 2], "conversion_rate": [2 / 3, 1.0],
    ...                        "win_rate": [2 / 3, 1.0]}, index=pd.Index(["lead", "demo"]))
    >>> fig = funnel_chart(funnel)
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['4 · 67% advance · 67% win', '2 · 100% advance · 100% win']
    """
    wanted = [entered, conversion_rate] + ([] if win_rate is None else [win_rate])
    require_columns(funnel, wanted, arg="funnel")
    counts = numeric_column(funnel, entered, arg="funnel", allow_negative=False, what="deal counts")
    rates = {
        name: numeric_column(funnel, name, arg="funnel", allow_nan=True, what="rates")
        for name in wanted[1:]
    }
    for name, arr in rates.items():
        bad = (arr < 0) | (arr > 1)
        if bad.any():
            pos = int(np.argmax(bad))
            raise DataError(
                f"column {name!r} of funnel has {arr[pos]} at {describe_row(funnel, pos)}; "
                "expected a rate in [0, 1]",
                column=name,
                row=funnel.index[pos],
                value=arr[pos],
            )
    stages = [str(s) for s in funnel.index]
    fig, axes = new_axes(ax, (6.4, 0.55 * len(stages) + 1.4))
    positions = np.arange(len(stages))
    axes.barh(positions, counts, left=-counts / 2, color="tab:blue", alpha=0.8)
    axes.set_yticks(positions, stages)
    axes.invert_yaxis()
    widest = float(counts.max()) if counts.size else 0.0
    for i in range(len(stages)):
        parts = [
            fmt_count(float(counts[i])),
            f"{fmt_pct(float(rates[conversion_rate][i]))} advance",
        ]
        if win_rate is not None:
            parts.append(f"{fmt_pct(float(rates[win_rate][i]))} win")
        axes.text(widest * 0.53, i, " · ".join(parts), va="center", fontsize=8)
    axes.set_xlim(-widest / 2 * 1.05, widest * 1.6 if widest > 0 else 1)
    axes.set_xticks([])
    axes.tick_params(axis="y", length=0)
    for side in ("top", "right", "bottom", "left"):
        axes.spines[side].set_visible(False)
    return finish(
        fig,
        axes,
        title=title,
        default_title="Stage funnel",
        xlabel="deals entering each stage" if xlabel is None else xlabel,
    )


def landing_schedule(
    schedule: pd.DataFrame | CloseSchedule,
    simulation: pd.DataFrame | PipelineSimulation | None = None,
    *,
    value: str = "expected_amount",
    low: str = "p10",
    high: str = "p90",
    median: str | None = "p50",
    until: Any = None,
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Draw expected revenue by landing period, with the simulated P10-P90 band.

    Bars are the expected (stage-weighted) revenue per period from
    :func:`crmcore.pipeline.close_schedule`. With ``simulation`` (the output of
    :func:`crmcore.pipeline.simulate_pipeline` for the same deals) a shaded band spans the
    10th to 90th percentile of the revenue landing in each period and a line marks the median,
    both drawn as steps spanning each period. Periods of either frame are shown (missing ones
    count as 0 revenue), in time order; long axes label every few periods (each keeps a tick).

    Parameters
    ----------
    schedule
        The result of ``close_schedule`` (its ``table`` is drawn), or a frame indexed by
        period with the ``value`` column.
    simulation
        The result of ``simulate_pipeline`` (its ``table``), or a frame indexed by period with
        ``low``, ``high`` (and ``median``) columns; optional.
    value, low, high, median
        Column names; ``median=None`` leaves out the median line.
    until
        Last period to draw (a date for period-start indexes, e.g. ``"2025-12-01"``); later
        periods are left out and the x label says so. Simulated exponential landing times have
        a long tail of near-zero periods that this trims. Default: every period.
    ax, title, ylabel
        Axes to draw into (its figure is returned; default a new one) and text overrides.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per period in ``fig.axes[0].patches``; with ``simulation``, the band is a
        ``PolyCollection`` in ``fig.axes[0].collections`` and the median a step line whose
        ``ydata`` holds one level per period plus the last repeated (the right edge).

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    SchemaError
        A column is missing or a frame is empty.
    ColumnTypeError
        A column is not numeric.
    DataError
        NaN or infinite values, a duplicated period, or ``low`` above ``high``.
    ConfigError
        ``until`` is before the first period.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.plot import landing_schedule
    >>> months = pd.DatetimeIndex(["2025-01-01", "2025-02-01"], name="period")
    >>> sched = pd.DataFrame({"expected_amount": [100.0, 50.0]}, index=months)
    >>> sim = pd.DataFrame({"p10": [60.0, 0.0], "p50": [100.0, 40.0], "p90": [140.0, 90.0]},
    ...                    index=months)
    >>> fig = landing_schedule(sched, sim)
    >>> ax = fig.axes[0]
    >>> len(ax.patches), len(ax.collections), [t.get_text() for t in ax.get_xticklabels()]
    (2, 1, ['2025-01', '2025-02'])
    """
    if isinstance(schedule, CloseSchedule):
        schedule = schedule.table
    if isinstance(simulation, PipelineSimulation):
        simulation = simulation.table
    require_columns(schedule, [value], arg="schedule")
    expected = numeric_column(schedule, value, arg="schedule")
    drawable(schedule, value, expected, arg="schedule")
    _unique_index(schedule, arg="schedule")
    periods = schedule.index
    band: dict[str, npt.NDArray[np.float64]] = {}
    if simulation is not None:
        cols = [low, high] + ([] if median is None else [median])
        require_columns(simulation, cols, arg="simulation")
        _unique_index(simulation, arg="simulation")
        band = {c: numeric_column(simulation, c, arg="simulation") for c in cols}
        for c in cols:
            drawable(simulation, c, band[c], arg="simulation")
        above = band[low] > band[high]
        if above.any():
            pos = int(np.argmax(above))
            raise DataError(
                f"simulation has {low}={band[low][pos]} above {high}={band[high][pos]} at "
                f"{describe_row(simulation, pos)}; expected {low} <= {high}",
                column=low,
                row=simulation.index[pos],
                value=band[low][pos],
            )
        try:
            periods = periods.union(simulation.index)
        except TypeError as exc:
            raise DataError(
                "schedule and simulation have periods of different kinds; pass the outputs "
                "of close_schedule and simulate_pipeline with the same period"
            ) from exc
    xlabel = "period"
    labels = period_labels_for(periods)
    if until is not None:
        last = pd.Timestamp(until) if isinstance(periods, pd.DatetimeIndex) else until
        try:
            keep = np.asarray(periods <= last, dtype=bool)
        except TypeError as exc:
            raise ConfigError(
                f"until={show(until)} cannot be compared with the periods", value=until
            ) from exc
        if not keep.any():
            raise ConfigError(
                f"until={show(until)} is before the first period {periods[0]!r}", value=until
            )
        if not keep.all():
            last_shown = labels[int(np.flatnonzero(keep)[-1])]
            xlabel = f"period (to {last_shown}; later periods not shown)"
        periods = periods[keep]
    bars = pd.Series(expected, index=schedule.index).reindex(periods, fill_value=0.0)

    fig, axes = new_axes(ax, (min(max(6.4, 0.45 * len(periods) + 2), 12.0), 4.2))
    x = np.arange(len(periods), dtype=np.float64)
    handles: list[Any] = []
    bar_container = axes.bar(
        x,
        bars.to_numpy(),
        width=0.7,
        color="tab:blue",
        alpha=0.8,
        zorder=2,
        label=f"expected ({value})",
    )
    handles.append(bar_container)
    amount_axis(axes.yaxis)
    if simulation is not None:
        frame = pd.DataFrame(band, index=simulation.index).reindex(periods, fill_value=0.0)
        # Band and median are both drawn as steps over each period's full width (edges at
        # i - 0.5 and i + 0.5), so the median is a level inside its period's band, not a
        # point on a line that cuts across the neighbouring periods' bands.
        edges = np.arange(len(periods) + 1, dtype=np.float64) - 0.5

        def steps(column: str) -> npt.NDArray[np.float64]:
            values = frame[column].to_numpy(dtype=np.float64)
            return np.append(values, values[-1:])

        handles.append(
            axes.fill_between(
                edges,
                steps(low),
                steps(high),
                step="post",
                color="tab:orange",
                alpha=0.3,
                linewidth=0,
                zorder=1,
                label=f"simulated {low.upper()}-{high.upper()}",
            )
        )
        if median is not None:
            (line,) = axes.step(
                edges,
                steps(median),
                where="post",
                color="tab:orange",
                linewidth=1.5,
                zorder=3,
                label=f"simulated {median.upper()}",
            )
            handles.append(line)
        axes.legend(handles=handles, fontsize=8)
    period_slots(fig, axes, periods)
    return finish(
        fig,
        axes,
        title=title,
        default_title="Expected revenue by landing period",
        xlabel=xlabel,
        ylabel="revenue" if ylabel is None else ylabel,
    )


def _unique_index(frame: pd.DataFrame, *, arg: str) -> None:
    dupes = frame.index.duplicated()
    if dupes.any():
        pos = int(np.argmax(dupes))
        raise DataError(
            f"{arg} has period {period_label(frame.index[pos])} twice "
            f"({describe_row(frame, pos)}); expected one row per period",
            row=frame.index[pos],
        )
