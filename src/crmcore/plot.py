"""Charts of crmcore results (optional extra ``crmcore[plot]``, matplotlib).

Every function takes the frame a crmcore function returned and returns a new
:class:`matplotlib.figure.Figure` built with ``Figure()`` directly, not ``pyplot``: nothing global
is touched, nothing is shown or saved. Save it with ``fig.savefig("chart.png")`` or let a
notebook display it. Pass ``ax=`` to draw into an existing Axes instead (the function then
returns that Axes' figure). matplotlib is imported only when a chart is drawn, so importing
this module works without it; drawing a chart without it raises
:class:`~crmcore.errors.MissingDependencyError` with the install hint.

The core never imports this module.

Examples
--------
>>> import pandas as pd
>>> from crmcore.plot import pareto_curve
>>> fig = pareto_curve(pd.Series([50, 20, 10, 8, 5, 4, 3]))
>>> fig.axes[0].get_ylabel()
'cumulative share of value'
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_choice,
    describe_row,
    import_optional,
    numeric_column,
    require_columns,
    require_frame,
    show,
)
from crmcore.errors import ConfigError, DataError, InputTypeError, SchemaError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.projections.polar import PolarAxes

    from crmcore.kpi import Scorecard
    from crmcore.quota import QuotaPlan
    from crmcore.segmentation import SegmentMap

__all__ = [
    "attainment_bars",
    "funnel_chart",
    "landing_schedule",
    "pareto_curve",
    "quota_chart",
    "rfm_heatmap",
    "scorecard_chart",
    "segment_sizes",
]


# --------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------


def _axes(
    ax: Axes | None, figsize: tuple[float, float], *, polar: bool = False
) -> tuple[Figure, Axes]:
    """Return ``(figure, axes)``: a new constrained-layout Figure, or ``ax`` and its root figure."""
    import_optional("matplotlib", "plot")
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        new = fig.add_subplot(projection="polar" if polar else None)
        return fig, new
    if not isinstance(ax, Axes):
        raise InputTypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    if polar and ax.name != "polar":
        raise ConfigError(
            f"ax must be a polar Axes for a radar chart, got a {ax.name!r} Axes; "
            "create it with fig.add_subplot(projection='polar')"
        )
    root: Any = ax.figure
    while not isinstance(root, Figure):  # a SubFigure: climb to the root Figure
        root = root.figure
    return root, ax


def _fmt(value: float) -> str:
    """Format a number compactly for a chart annotation: 950, 12.3k, 4.5M; NaN as 'n/a'."""
    if not np.isfinite(value):
        return "n/a"
    size = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{value / limit:.3g}{suffix}"
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.3g}"


def _pct(value: float) -> str:
    """Format a ratio as a whole percentage; NaN as 'n/a'."""
    if not np.isfinite(value):
        return "n/a"
    if 0 < abs(value) < 0.005:
        return "<1%" if value > 0 else ">-1%"
    return f"{value:.0%}"


def _count(value: float) -> str:
    """Format a count with thousands separators: 1,234."""
    return f"{value:,.0f}"


def _amount_axis(axis: Any) -> None:
    """Label an amount axis compactly (800k, 1.2M) instead of in scientific notation."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: _fmt(float(v))))


def _period_label(value: Any) -> str:
    """Label a period: month starts as 2025-01, other timestamps as dates, else ``str``."""
    if isinstance(value, pd.Timestamp):
        if value == value.normalize() and value.day == 1:
            return value.strftime("%Y-%m")
        if value == value.normalize():
            return value.strftime("%Y-%m-%d")
    return str(value)


def _whole_scores(frame: pd.DataFrame, column: str, *, arg: str) -> npt.NDArray[np.int64]:
    """Return a score column as int64 after checking that it holds whole numbers >= 1."""
    values = numeric_column(frame, column, arg=arg)
    bad = (values < 1) | (values != np.round(values))
    if bad.any():
        pos = int(np.argmax(bad))
        raise DataError(
            f"column {column!r} of {arg} has {show(frame[column].iloc[pos])} at "
            f"{describe_row(frame, pos)}; expected whole scores >= 1",
            column=column,
            row=frame.index[pos],
            value=frame[column].iloc[pos],
        )
    return values.astype(np.int64)


def _finish(
    fig: Figure,
    ax: Axes,
    *,
    title: str | None,
    default_title: str,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Set title and axis labels (caller's overrides win) and return the figure."""
    ax.set_title(default_title if title is None else title)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    return fig


# --------------------------------------------------------------------------------------------
# segmentation
# --------------------------------------------------------------------------------------------


def rfm_heatmap(
    scores: pd.DataFrame,
    *,
    value: str | None = None,
    agg: Literal["sum", "mean"] = "sum",
    r: str = "r_score",
    f: str = "f_score",
    bins: int | None = None,
    annotate: bool = True,
    cmap: str = "Blues",
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Draw the R x F grid: customers (or a value) per recency and frequency score.

    Rows are the recency scores (1 at the bottom, ``bins`` at the top: recent buyers high),
    columns the frequency scores (1 left). A cell's colour is the number of customers with that
    (R, F) pair, or the sum or mean of ``value`` over them; every cell is annotated with its
    figure (``0`` for an empty cell when counting or summing, ``n/a`` for the mean of none).
    A colour bar is added next to the grid.

    Parameters
    ----------
    scores
        One row per customer with whole-number score columns ``r`` and ``f`` (1..bins), e.g. the
        output of :func:`crmcore.segmentation.rfm_scores` or ``score_rfm``, or of
        :func:`~crmcore.segmentation.rfm_segments` (extra columns are ignored). Join a value
        column (e.g. ``monetary`` from ``rfm_summary``) to colour by value.
    value
        Numeric column to aggregate instead of counting customers (finite; NaN is an error).
    agg
        ``"sum"`` (default) or ``"mean"`` of ``value`` per cell; ignored without ``value``.
    r, f
        Names of the recency and frequency score columns.
    bins
        Number of score levels (grid size); default the largest score present.
    annotate
        Write each cell's figure in it.
    cmap
        matplotlib colour map name.
    ax
        Axes to draw into (its figure is returned); default a new figure.
    title, xlabel, ylabel
        Overrides of the default texts.

    Returns
    -------
    matplotlib.figure.Figure
        The grid is ``fig.axes[0].images[0]`` (``bins x bins`` array, row ``i`` = R score
        ``i + 1``); the colour bar is the last Axes.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InputTypeError
        ``scores`` is not a DataFrame or ``ax`` not an Axes.
    SchemaError
        A column is missing or ``scores`` is empty.
    ColumnTypeError
        A score or value column is not numeric.
    DataError
        A score that is not a whole number >= 1 or above ``bins``; a NaN or infinite value.
    ConfigError
        Bad ``agg`` or ``bins``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.plot import rfm_heatmap
    >>> scores = pd.DataFrame({"r_score": [1, 2, 2, 3], "f_score": [1, 1, 1, 3]})
    >>> fig = rfm_heatmap(scores)
    >>> fig.axes[0].images[0].get_array().tolist()
    [[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    >>> len(fig.axes), fig.axes[0].get_ylabel()
    (2, 'R score (recency)')
    """
    require_columns(scores, [r, f] if value is None else [r, f, value], arg="scores")
    check_choice(agg, "agg", ("sum", "mean"))
    rs = _whole_scores(scores, r, arg="scores")
    fs = _whole_scores(scores, f, arg="scores")
    top = int(max(rs.max(), fs.max()))
    if bins is None:
        bins = top
    elif isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise ConfigError(f"bins must be an integer >= 1, got {show(bins)}", value=bins)
    elif top > bins:
        column, arr = (r, rs) if rs.max() > bins else (f, fs)
        pos = int(np.argmax(arr > bins))
        raise DataError(
            f"column {column!r} of scores has {arr[pos]} at {describe_row(scores, pos)}; "
            f"expected scores in 1..{bins}",
            column=column,
            row=scores.index[pos],
            value=arr[pos],
        )
    bins = int(bins)
    cell = (rs - 1) * bins + (fs - 1)
    counts = np.bincount(cell, minlength=bins * bins).astype(np.float64).reshape(bins, bins)
    if value is None:
        grid = counts
        what = "customers"
        default_title = "Customers by R and F score"
    else:
        weights = numeric_column(scores, value, arg="scores")
        sums = (
            np.bincount(cell, weights=weights, minlength=bins * bins)
            .astype(np.float64)
            .reshape(bins, bins)
        )
        if agg == "sum":
            grid = sums
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                grid = np.where(counts > 0, sums / np.where(counts > 0, counts, 1), np.nan)
        what = f"{agg} of {value}"
        default_title = f"{'Total' if agg == 'sum' else 'Mean'} {value} by R and F score"

    fig, axes = _axes(ax, (5.2, 4.4))
    image = axes.imshow(grid, origin="lower", cmap=cmap, aspect="auto")
    ticks = np.arange(bins)
    axes.set_xticks(ticks, [str(i + 1) for i in ticks])
    axes.set_yticks(ticks, [str(i + 1) for i in ticks])
    if annotate:
        finite = grid[np.isfinite(grid)]
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for i in range(bins):
            for j in range(bins):
                cell_value = float(grid[i, j])
                dark = np.isfinite(cell_value) and cell_value > middle
                axes.text(
                    j,
                    i,
                    _fmt(cell_value),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
    bar = fig.colorbar(image, ax=axes, label=what)
    if value is not None:
        _amount_axis(bar.ax.yaxis)
    return _finish(
        fig,
        axes,
        title=title,
        default_title=default_title,
        xlabel="F score (frequency)" if xlabel is None else xlabel,
        ylabel="R score (recency)" if ylabel is None else ylabel,
    )


def segment_sizes(
    segments: pd.DataFrame,
    *,
    segment_map: SegmentMap | None = None,
    value: str | None = None,
    segment: str = "segment",
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str | None = None,
) -> Figure:
    """Draw horizontal bars of customers (or summed value) per segment, in segment order.

    Every segment is drawn, empty ones as zero-length bars, first segment at the top, each
    annotated with its figure and share of the total.

    Parameters
    ----------
    segments
        One row per customer with a ``segment`` column, e.g. the output of
        :func:`crmcore.segmentation.rfm_segments` (a categorical in map order).
    segment_map
        The :class:`~crmcore.segmentation.SegmentMap` whose ``segments`` give the bars and
        their order. Default: the categories of a categorical ``segment`` column (so
        ``rfm_segments`` output keeps its map order), else the segments present, largest
        first.
    value
        Numeric column to sum per segment instead of counting customers.
    segment
        Name of the segment column.
    ax
        Axes to draw into (its figure is returned); default a new figure.
    title, xlabel
        Overrides of the default texts.

    Returns
    -------
    matplotlib.figure.Figure
        One bar (``Rectangle``) per segment in ``fig.axes[0].patches``.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    SchemaError
        A column is missing or ``segments`` is empty.
    DataError
        A missing segment, a segment not in ``segment_map``, a NaN or infinite value.
    ColumnTypeError
        ``value`` is not numeric.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.plot import segment_sizes
    >>> seg = pd.DataFrame({"segment": ["Lost", "Champions", "Lost"]})
    >>> fig = segment_sizes(seg)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['Lost', 'Champions']
    >>> [float(p.get_width()) for p in fig.axes[0].patches]
    [2.0, 1.0]
    """
    require_columns(segments, [segment] if value is None else [segment, value], arg="segments")
    labels = segments[segment]
    missing = labels.isna().to_numpy()
    if missing.any():
        pos = int(np.argmax(missing))
        raise DataError(
            f"column {segment!r} of segments is missing at {describe_row(segments, pos)}; "
            "every customer needs a segment",
            column=segment,
            row=segments.index[pos],
        )
    weights = (
        np.ones(len(segments)) if value is None else numeric_column(segments, value, arg="segments")
    )
    totals = pd.Series(weights).groupby(labels.to_numpy(), sort=False).sum()
    order: list[Hashable]
    if segment_map is not None:
        order = list(segment_map.segments)
        unknown = ~labels.isin(order).to_numpy()
        if unknown.any():
            pos = int(np.argmax(unknown))
            raise DataError(
                f"column {segment!r} of segments has {show(labels.iloc[pos])} at "
                f"{describe_row(segments, pos)}, which is not a segment of the map; "
                f"expected one of {', '.join(repr(s) for s in order)}",
                column=segment,
                row=segments.index[pos],
                value=labels.iloc[pos],
            )
    elif isinstance(labels.dtype, pd.CategoricalDtype):
        order = list(labels.cat.categories)
    else:
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], str(kv[0])))
        order = [k for k, _ in ranked]
    heights = totals.reindex(order, fill_value=0.0).to_numpy(dtype=np.float64)
    grand = heights.sum()

    fig, axes = _axes(ax, (6.4, 0.35 * len(order) + 1.4))
    positions = np.arange(len(order))
    axes.barh(positions, heights, color="tab:blue")
    axes.set_yticks(positions, [str(s) for s in order])
    axes.invert_yaxis()
    for i, height in enumerate(heights.tolist()):
        share = height / grand if grand > 0 else np.nan
        axes.text(height, i, f" {_fmt(height)} ({_pct(share)})", va="center", fontsize=8)
    axes.margins(x=0.18)
    what = "customers" if value is None else f"total {value}"
    return _finish(
        fig,
        axes,
        title=title,
        default_title=f"{what.capitalize()} per segment",
        xlabel=what if xlabel is None else xlabel,
    )


def pareto_curve(
    values: pd.Series | npt.ArrayLike,
    cutoffs: Sequence[float] = (0.8, 0.95),
    *,
    labels: Sequence[str] = ("A", "B", "C"),
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Draw the Pareto curve (cumulative share of value) with the ABC cut-offs and classes.

    Items are sorted by value, largest first; the curve runs from (0, 0) through
    ``(k / n, share of the total held by the top k items)``. Each cut-off is a dashed
    horizontal line, and each class is a shaded vertical band over the items it holds, with
    the classes computed by :func:`crmcore.segmentation.abc_classes` (same boundary and tie
    rules), so the chart and the class table always agree.

    Parameters
    ----------
    values
        Non-negative finite numbers, one per item (customers, products): a Series or array-like,
        e.g. ``rfm_summary(...)["monetary"]``. At least one must be positive.
    cutoffs, labels
        As in :func:`~crmcore.segmentation.abc_classes`.
    ax
        Axes to draw into (its figure is returned); default a new figure.
    title, xlabel, ylabel
        Overrides of the default texts.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0].lines``: the curve, then one line per cut-off; ``patches``: one shaded
        band per non-empty class, labelled ``"<class>: <items> items, <share> of value"``.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InputTypeError, SchemaError, ColumnTypeError, ConfigError
        As in :func:`~crmcore.segmentation.abc_classes`.
    DataError
        NaN, infinite or negative values, or all values zero (no curve to draw).

    Examples
    --------
    >>> from crmcore.plot import pareto_curve
    >>> fig = pareto_curve([50, 20, 10, 8, 5, 4, 3])
    >>> ax = fig.axes[0]
    >>> ax.lines[0].get_ydata().round(2).tolist()
    [0.0, 0.5, 0.7, 0.8, 0.88, 0.93, 0.97, 1.0]
    >>> [float(line.get_ydata()[0]) for line in ax.lines[1:]]
    [0.8, 0.95]
    >>> [p.get_label() for p in ax.patches]
    ['A: 3 items, 80% of value', 'B: 3 items, 17% of value', 'C: 1 items, 3% of value']
    """
    from crmcore.segmentation import abc_classes

    classes = abc_classes(values, cutoffs, labels=labels)  # validates values, cutoffs, labels
    numbers = pd.Series(values).to_numpy(dtype=np.float64)
    order = np.argsort(-numbers, kind="stable")
    ranked = numbers[order]
    total = ranked.sum()
    if total <= 0:
        raise DataError("values are all zero; a Pareto curve needs at least one positive value")
    codes = classes.cat.codes.to_numpy()[order]
    n = len(ranked)
    x = np.arange(n + 1) / n
    y = np.concatenate([[0.0], np.cumsum(ranked) / total])
    y[-1] = 1.0

    fig, axes = _axes(ax, (6.0, 4.2))
    colours = ("tab:green", "tab:orange", "tab:red", "tab:purple", "tab:brown", "tab:gray")
    for k, label in enumerate(classes.cat.categories):
        inside = np.flatnonzero(codes == k)
        if inside.size == 0:
            continue
        start, stop = int(inside[0]), int(inside[-1]) + 1
        share = ranked[start:stop].sum() / total
        axes.axvspan(
            start / n,
            stop / n,
            color=colours[k % len(colours)],
            alpha=0.15,
            label=f"{label}: {stop - start} items, {_pct(share)} of value",
        )
    axes.plot(x, y, color="black", linewidth=1.5, label="cumulative share")
    for cut in cutoffs:
        axes.axhline(
            float(cut), color="gray", linestyle="--", linewidth=1, label=f"cut-off {cut:.0%}"
        )
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    from matplotlib.ticker import PercentFormatter

    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.legend(loc="lower right", fontsize=8)
    return _finish(
        fig,
        axes,
        title=title,
        default_title="Pareto curve and ABC classes",
        xlabel="share of items (largest first)" if xlabel is None else xlabel,
        ylabel="cumulative share of value" if ylabel is None else ylabel,
    )


# --------------------------------------------------------------------------------------------
# pipeline
# --------------------------------------------------------------------------------------------


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
    ax
        Axes to draw into (its figure is returned); default a new figure.
    title, xlabel
        Overrides of the default texts.

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
    fig, axes = _axes(ax, (6.4, 0.55 * len(stages) + 1.4))
    positions = np.arange(len(stages))
    axes.barh(positions, counts, left=-counts / 2, color="tab:blue", alpha=0.8)
    axes.set_yticks(positions, stages)
    axes.invert_yaxis()
    widest = float(counts.max()) if counts.size else 0.0
    for i in range(len(stages)):
        parts = [_count(float(counts[i])), f"{_pct(float(rates[conversion_rate][i]))} advance"]
        if win_rate is not None:
            parts.append(f"{_pct(float(rates[win_rate][i]))} win")
        axes.text(widest * 0.53, i, " · ".join(parts), va="center", fontsize=8)
    axes.set_xlim(-widest / 2 * 1.05, widest * 1.6 if widest > 0 else 1)
    axes.set_xticks([])
    axes.tick_params(axis="y", length=0)
    for side in ("top", "right", "bottom", "left"):
        axes.spines[side].set_visible(False)
    return _finish(
        fig,
        axes,
        title=title,
        default_title="Stage funnel",
        xlabel="deals entering each stage" if xlabel is None else xlabel,
    )


def landing_schedule(
    schedule: pd.DataFrame,
    simulation: pd.DataFrame | None = None,
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
    10th to 90th percentile of the revenue landing in each period and a line marks the median.
    Periods of either frame are shown (missing ones count as 0 revenue), in time order.

    Parameters
    ----------
    schedule
        Indexed by period, with the ``value`` column (``close_schedule`` output).
    simulation
        Indexed by period, with ``low``, ``high`` (and ``median``) columns; optional.
    value, low, high, median
        Column names; ``median=None`` leaves out the median line.
    until
        Last period to draw (a date for period-start indexes, e.g. ``"2025-12-01"``); later
        periods are left out and the x label says so. Simulated exponential landing times have
        a long tail of near-zero periods that this trims. Default: every period.
    ax
        Axes to draw into (its figure is returned); default a new figure.
    title, ylabel
        Overrides of the default texts.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per period in ``fig.axes[0].patches``; with ``simulation``, the band is a
        ``PolyCollection`` in ``fig.axes[0].collections`` and the median a line.

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
    require_columns(schedule, [value], arg="schedule")
    expected = numeric_column(schedule, value, arg="schedule")
    _unique_index(schedule, arg="schedule")
    periods = schedule.index
    band: dict[str, npt.NDArray[np.float64]] = {}
    if simulation is not None:
        cols = [low, high] + ([] if median is None else [median])
        require_columns(simulation, cols, arg="simulation")
        _unique_index(simulation, arg="simulation")
        band = {c: numeric_column(simulation, c, arg="simulation") for c in cols}
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
                "of close_schedule and simulate_pipeline with the same freq"
            ) from exc
    xlabel = "period"
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
            xlabel = f"period (to {_period_label(periods[keep][-1])}; later periods not shown)"
        periods = periods[keep]
    bars = pd.Series(expected, index=schedule.index).reindex(periods, fill_value=0.0)

    fig, axes = _axes(ax, (min(max(6.4, 0.45 * len(periods) + 2), 12.0), 4.2))
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
    _amount_axis(axes.yaxis)
    if simulation is not None:
        frame = pd.DataFrame(band, index=simulation.index).reindex(periods, fill_value=0.0)
        handles.append(
            axes.fill_between(
                x,
                frame[low].to_numpy(),
                frame[high].to_numpy(),
                step="mid",
                color="tab:orange",
                alpha=0.3,
                zorder=1,
                label=f"simulated {low.upper()}-{high.upper()}",
            )
        )
        if median is not None:
            (line,) = axes.plot(
                x,
                frame[median].to_numpy(),
                color="tab:orange",
                marker="o",
                markersize=3,
                linewidth=1,
                zorder=3,
                label=f"simulated {median.upper()}",
            )
            handles.append(line)
        axes.legend(handles=handles, fontsize=8)
    axes.set_xticks(x, [_period_label(p) for p in periods])
    if len(periods) > 8:
        for tick in axes.get_xticklabels():
            tick.set_rotation(60)
    return _finish(
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
            f"{arg} has period {_period_label(frame.index[pos])} twice "
            f"({describe_row(frame, pos)}); expected one row per period",
            row=frame.index[pos],
        )


# --------------------------------------------------------------------------------------------
# quota
# --------------------------------------------------------------------------------------------


def quota_chart(
    plan: QuotaPlan | pd.DataFrame,
    *,
    kind: Literal["bars", "heatmap"] = "bars",
    person: str | None = None,
    month: str = "month",
    value: str | None = None,
    cmap: str = "viridis",
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Draw quota by person and month: stacked bars (one segment per month) or a heat map.

    Parameters
    ----------
    plan
        A :class:`crmcore.quota.QuotaPlan` (drawn in currency units, from ``to_amounts()``),
        or a long frame with one row per person and month, e.g. ``QuotaPlan.table`` or the
        output of ``to_amounts()``. Rows repeating a (person, month) pair are added up.
        People and months keep the order in which they first appear.
    kind
        ``"bars"`` (default): one bar per person, stacked by month, total on top.
        ``"heatmap"``: people x months grid.
    person, month
        Column names; ``person`` defaults to the plan's person column (``"person"`` for a
        frame).
    value
        Quota column; default ``"quota"`` when present, else ``"quota_cents"``.
    cmap
        Colour map: month colours for bars, the scale of the heat map.
    ax
        Axes to draw into (its figure is returned); default a new figure.
    title, ylabel
        Overrides of the default texts.

    Returns
    -------
    matplotlib.figure.Figure
        Bars: ``people x months`` rectangles in ``fig.axes[0].patches`` (month by month).
        Heat map: ``fig.axes[0].images[0]`` holds the people x months array.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InputTypeError
        ``plan`` is neither a QuotaPlan nor a DataFrame.
    SchemaError
        A column is missing or the plan is empty.
    ColumnTypeError
        The quota column is not numeric.
    DataError
        NaN, infinite or negative quotas; a missing person or month.
    ConfigError
        Bad ``kind``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.quota import build_plan
    >>> from crmcore.plot import quota_chart
    >>> people = pd.DataFrame({"region": ["N", "N", "S"], "person": ["a", "b", "c"],
    ...                        "weight": [2, 1, 1]})
    >>> plan = build_plan(people, 1000_00, distribution={"H1": 40, "H2": 60})
    >>> fig = quota_chart(plan)
    >>> len(fig.axes[0].patches), fig.axes[0].get_ylabel()
    (6, 'quota')
    >>> quota_chart(plan, kind="heatmap").axes[0].images[0].get_array().tolist()
    [[200.0, 300.0], [100.0, 150.0], [100.0, 150.0]]
    """
    from crmcore.quota import QuotaPlan

    check_choice(kind, "kind", ("bars", "heatmap"))
    if isinstance(plan, QuotaPlan):
        table = plan.to_amounts()
        person = plan.person if person is None else person
    elif isinstance(plan, pd.DataFrame):
        table = plan
        person = "person" if person is None else person
    else:
        raise InputTypeError(
            f"plan must be a QuotaPlan or a pandas DataFrame, got {type(plan).__name__}"
        )
    if value is None:
        value = "quota" if "quota" in table.columns else "quota_cents"
    require_columns(table, [person, month, value], arg="plan")
    amounts = numeric_column(
        table, value, arg="plan", allow_negative=False, negative_hint="quotas cannot be negative"
    )
    for col in (person, month):
        missing = table[col].isna().to_numpy()
        if missing.any():
            pos = int(np.argmax(missing))
            raise DataError(
                f"column {col!r} of plan is missing at {describe_row(table, pos)}",
                column=col,
                row=table.index[pos],
            )
    people = pd.unique(table[person].to_numpy())
    months = pd.unique(table[month].to_numpy())
    row = pd.Index(people).get_indexer(table[person].to_numpy())
    col = pd.Index(months).get_indexer(table[month].to_numpy())
    grid = np.zeros((len(people), len(months)))
    np.add.at(grid, (row, col), amounts)
    month_labels = [
        _period_label(pd.Timestamp(m) if isinstance(m, np.datetime64) else m) for m in months
    ]
    person_labels = [str(p) for p in people]

    if kind == "heatmap":
        fig, axes = _axes(ax, (max(6.0, 0.5 * len(months) + 2.5), 0.35 * len(people) + 2))
        image = axes.imshow(grid, cmap=cmap, aspect="auto")
        axes.set_xticks(np.arange(len(months)), month_labels)
        axes.set_yticks(np.arange(len(people)), person_labels)
        fig.colorbar(image, ax=axes, label=value)
        return _finish(
            fig,
            axes,
            title=title,
            default_title="Quota by person and month",
            xlabel=month,
            ylabel=person if ylabel is None else ylabel,
        )

    import_optional("matplotlib", "plot")
    from matplotlib import colormaps

    colours = colormaps[cmap](np.linspace(0.0, 0.95, max(len(months), 1)))
    fig, axes = _axes(ax, (max(6.0, 0.5 * len(people) + 3), 4.4))
    x = np.arange(len(people), dtype=np.float64)
    bottom = np.zeros(len(people))
    for j, label in enumerate(month_labels):
        axes.bar(x, grid[:, j], bottom=bottom, color=colours[j], label=label, width=0.7)
        bottom = bottom + grid[:, j]
    for i, total in enumerate(bottom):
        axes.text(x[i], total, _fmt(float(total)), ha="center", va="bottom", fontsize=7)
    axes.set_xticks(x, person_labels)
    _amount_axis(axes.yaxis)
    if len(people) > 8:
        for tick in axes.get_xticklabels():
            tick.set_rotation(60)
    axes.legend(
        title=month, fontsize=7, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0)
    )
    return _finish(
        fig,
        axes,
        title=title,
        default_title="Quota by person and month",
        xlabel=person,
        ylabel=value if ylabel is None else ylabel,
    )


# --------------------------------------------------------------------------------------------
# kpi
# --------------------------------------------------------------------------------------------


def _key_values(frame: pd.DataFrame, key: str, *, arg: str) -> npt.NDArray[Any]:
    """Values of ``key`` from an index level or a column of ``frame``."""
    if key in (frame.index.names or []):
        return frame.index.get_level_values(key).to_numpy()
    if key in frame.columns:
        return frame[key].to_numpy()
    levels = [n for n in frame.index.names if n is not None]
    raise SchemaError(
        f"{arg} has no index level or column {key!r}; its index levels are "
        f"{', '.join(repr(n) for n in levels) or 'unnamed'}",
        column=key,
    )


def attainment_bars(
    attainment: pd.DataFrame,
    *,
    by: str = "person",
    target: str = "target",
    achieved: str = "achieved",
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Draw achieved vs target bars per person, annotated with the attainment percentage.

    Rows are added up per ``by`` value over the other keys (e.g. a year of months), and the
    attainment drawn is ``sum(achieved) / sum(target)`` (``n/a`` where the target sums to 0).
    Missing targets (sales with no target, ``has_target=False``) count as 0 target.

    Parameters
    ----------
    attainment
        Output of :func:`crmcore.kpi.attainment` or ``target_variance`` (indexed by person and
        period), or any frame with ``by`` as an index level or column and the two amount
        columns.
    by
        Index level or column to group by.
    target, achieved
        Column names.
    ax
        Axes to draw into (its figure is returned); default a new figure.
    title, ylabel
        Overrides of the default texts.

    Returns
    -------
    matplotlib.figure.Figure
        Two bars per person in ``fig.axes[0].patches`` (all targets, then all achieved), one
        attainment annotation per person in ``texts``; people sorted.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    SchemaError
        A column or the ``by`` key is missing, or the frame is empty.
    ColumnTypeError
        A column is not numeric.
    DataError
        Infinite values, negative targets, a missing ``by`` value.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.plot import attainment_bars
    >>> att = pd.DataFrame({"person": ["ann", "ann", "bob"], "target": [100.0, 100.0, 50.0],
    ...                     "achieved": [150.0, 90.0, 20.0]}).set_index("person")
    >>> fig = attainment_bars(att)
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['120%', '40%']
    """
    require_columns(attainment, [target, achieved], arg="attainment")
    keys = _key_values(attainment, by, arg="attainment")
    missing = pd.isna(keys)
    if missing.any():
        pos = int(np.argmax(missing))
        raise DataError(
            f"{by!r} of attainment is missing at {describe_row(attainment, pos)}",
            column=by,
            row=attainment.index[pos],
        )
    goal = numeric_column(
        attainment,
        target,
        arg="attainment",
        allow_nan=True,
        allow_negative=False,
        negative_hint="targets cannot be negative",
    )
    done = numeric_column(attainment, achieved, arg="attainment")
    sums = (
        pd.DataFrame({"target": np.nan_to_num(goal, nan=0.0), "achieved": done})
        .groupby(keys, sort=True)
        .sum()
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(
            sums["target"] > 0, sums["achieved"] / sums["target"].where(sums["target"] > 0), np.nan
        )

    fig, axes = _axes(ax, (max(6.0, 0.7 * len(sums) + 2), 4.2))
    x = np.arange(len(sums), dtype=np.float64)
    width = 0.38
    axes.bar(
        x - width / 2,
        sums["target"].to_numpy(),
        width,
        color="lightgray",
        edgecolor="gray",
        label=target,
    )
    axes.bar(x + width / 2, sums["achieved"].to_numpy(), width, color="tab:blue", label=achieved)
    tops = np.maximum(sums["target"].to_numpy(), sums["achieved"].to_numpy())
    for i, share in enumerate(ratio):
        axes.text(
            x[i], max(float(tops[i]), 0.0), _pct(float(share)), ha="center", va="bottom", fontsize=8
        )
    axes.set_xticks(x, [str(k) for k in sums.index])
    _amount_axis(axes.yaxis)
    if len(sums) > 8:
        for tick in axes.get_xticklabels():
            tick.set_rotation(60)
    axes.margins(y=0.12)
    axes.legend(fontsize=8)
    return _finish(
        fig,
        axes,
        title=title,
        default_title="Achieved vs target",
        xlabel=by,
        ylabel="amount" if ylabel is None else ylabel,
    )


def scorecard_chart(
    scores: pd.DataFrame,
    scorecard: Scorecard | None = None,
    *,
    kind: Literal["bars", "radar"] = "bars",
    people: Sequence[Hashable] | None = None,
    period: Any = None,
    max_people: int = 5,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Draw each person's scorecard points: stacked bars per metric, or a radar.

    ``"bars"``: one horizontal bar per person (best total at the top), stacked from the
    points of each metric, the total written at the end. ``"radar"``: one closed line per
    person over one spoke per metric, for a few people: the points per metric, or with
    ``scorecard`` given the share of each metric's weight earned (``points / weight``, 1 = full
    marks), so metrics of different weights read on one scale.

    Parameters
    ----------
    scores
        Output of :func:`crmcore.kpi.score_scorecard`: indexed by person (or by period and
        person), with ``<metric>_points`` columns (other columns are ignored).
    scorecard
        The :class:`crmcore.kpi.Scorecard` used, to take the metric names and order from it;
        default every ``*_points`` column in frame order.
    kind
        ``"bars"`` (default) or ``"radar"``.
    people
        People to draw (in this order). Default: everyone for bars; for the radar, the
        ``max_people`` with the highest totals.
    period
        With scores of several periods (a ``period`` index level), the period to draw;
        required then unless only one period is present.
    max_people
        Cap on the default radar selection (>= 1).
    ax
        Axes to draw into (its figure is returned; a polar Axes for the radar); default a new
        figure.
    title
        Override of the default title.

    Returns
    -------
    matplotlib.figure.Figure
        Bars: ``people x metrics`` rectangles in ``fig.axes[0].patches`` (metric by metric).
        Radar: one ``Line2D`` per person in ``fig.axes[0].lines`` holding ``metrics + 1``
        points (closed).

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    SchemaError
        No points columns, a points column of the scorecard missing, or an empty frame.
    ColumnTypeError
        A points column is not numeric.
    DataError
        NaN or infinite points; a person listed twice (select a period), or unknown people.
    ConfigError
        Bad ``kind`` or ``max_people``, fewer than three metrics for a radar, several periods
        without ``period``, an unknown ``period``, or a non-polar ``ax`` for the radar.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.kpi import Metric, Scorecard, score_scorecard
    >>> from crmcore.plot import scorecard_chart
    >>> card = Scorecard(metrics=[Metric(column="revenue", weight=0.5),
    ...                           Metric(column="calls", weight=0.3),
    ...                           Metric(column="rating", weight=0.2, scale=(1, 5))])
    >>> team = pd.DataFrame({"person": ["ann", "bob", "cid"], "revenue": [120, 80, 200],
    ...                      "calls": [30, 20, 40], "rating": [4, 5, 3]})
    >>> scores = score_scorecard(team, card)
    >>> fig = scorecard_chart(scores, card)
    >>> len(fig.axes[0].patches), [t.get_text() for t in fig.axes[0].get_yticklabels()]
    (9, ['cid', 'ann', 'bob'])
    >>> radar = scorecard_chart(scores, card, kind="radar")
    >>> [len(line.get_xdata()) for line in radar.axes[0].lines]
    [4, 4, 4]
    """
    check_choice(kind, "kind", ("bars", "radar"))
    require_frame(scores, arg="scores")
    if scorecard is not None:
        names = [m.name for m in scorecard.metrics]
        columns = [f"{n}_points" for n in names]
    else:
        columns = [str(c) for c in scores.columns if str(c).endswith("_points")]
        if not columns:
            raise SchemaError(
                "scores has no '<metric>_points' columns; pass the output of score_scorecard"
            )
        names = [c.removesuffix("_points") for c in columns]
    require_columns(scores, columns, arg="scores")
    frame = scores
    if "period" in (frame.index.names or []) and frame.index.nlevels > 1:
        periods = frame.index.unique(level="period")
        if period is None:
            if len(periods) > 1:
                raise ConfigError(
                    f"scores hold {len(periods)} periods; pass period= one of them "
                    f"(e.g. period={show(periods[-1])})"
                )
            period = periods[0]
        if period not in periods:
            raise ConfigError(f"period {show(period)} is not in scores", value=period)
        frame = pd.DataFrame(frame.xs(period, level="period"))
    elif period is not None:
        raise ConfigError("period= was given but scores has no 'period' index level")
    dupes = frame.index.duplicated()
    if dupes.any():
        pos = int(np.argmax(dupes))
        raise DataError(
            f"scores has person {show(frame.index[pos])} twice; expected one row per person",
            row=frame.index[pos],
        )
    points = np.column_stack([numeric_column(frame, c, arg="scores") for c in columns])
    totals = points.sum(axis=1)
    order = np.lexsort((np.arange(len(frame)), -totals))  # best first, stable
    if people is not None:
        wanted = list(people)
        index = frame.index.get_indexer(pd.Index(wanted))
        if (index < 0).any():
            raise DataError(
                f"people {show(wanted[int(np.argmax(index < 0))])} is not in scores",
                value=wanted[int(np.argmax(index < 0))],
            )
        order = index
    elif kind == "radar":
        if isinstance(max_people, bool) or not isinstance(max_people, int) or max_people < 1:
            raise ConfigError(
                f"max_people must be an integer >= 1, got {show(max_people)}", value=max_people
            )
        order = order[:max_people]
    labels = [str(frame.index[i]) for i in order]
    points = points[order]

    if kind == "radar":
        if len(columns) < 3:
            raise ConfigError(
                f"a radar needs at least 3 metrics, the scorecard has {len(columns)}; "
                "use kind='bars'"
            )
        radial = points
        default_title = "Scorecard points per metric"
        if scorecard is not None:
            weights = np.asarray(scorecard.weights, dtype=np.float64)
            safe = np.where(weights > 0, weights, 1.0)
            radial = np.where(weights > 0, points / safe, points)
            default_title = "Scorecard: share of each metric's weight earned"
        fig, plain = _axes(ax, (6.4, 5.0), polar=True)
        polar = cast("PolarAxes", plain)
        polar.set_theta_offset(np.pi / 2)  # first metric at the top, clockwise
        polar.set_theta_direction(-1)
        angles = np.linspace(0.0, 2 * np.pi, len(columns), endpoint=False)
        closed = np.concatenate([angles, angles[:1]])
        for label, row in zip(labels, radial, strict=True):
            values = np.concatenate([row, row[:1]])
            polar.plot(closed, values, marker="o", markersize=3, linewidth=1.4, label=label)
        polar.set_xticks(angles, names, fontsize=8)
        polar.set_rlabel_position(float(np.degrees(np.pi / len(columns))))
        polar.tick_params(axis="y", labelsize=7)
        polar.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.08, 1.05))
        return _finish(fig, polar, title=title, default_title=default_title)

    import_optional("matplotlib", "plot")
    from matplotlib import colormaps

    colours = colormaps["tab10"](np.arange(len(columns)) % 10)
    fig, axes = _axes(ax, (6.8, 0.4 * len(labels) + 1.6))
    y = np.arange(len(labels), dtype=np.float64)
    left = np.zeros(len(labels))
    for j, name in enumerate(names):
        axes.barh(y, points[:, j], left=left, color=colours[j], label=name, height=0.7)
        left = left + points[:, j]
    for i, total in enumerate(left):
        axes.text(total, y[i], f" {total:.2f}", va="center", fontsize=8)
    axes.set_yticks(y, labels)
    axes.invert_yaxis()
    axes.margins(x=0.12)
    axes.legend(title="metric", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _finish(
        fig,
        axes,
        title=title,
        default_title="Scorecard points",
        xlabel="points",
        ylabel=None,
    )
