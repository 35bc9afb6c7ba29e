"""Charts of customer segmentation results: RFM heatmap, segment sizes, Pareto curve."""

from __future__ import annotations

import textwrap
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_choice,
    describe_row,
    numeric_column,
    refuse_first,
    require_columns,
    shares,
    show,
)
from crmcore.errors import ConfigError, DataError, InputTypeError
from crmcore.plot._style import (
    amount_axis,
    drawable,
    drawable_totals,
    finish,
    fmt_number,
    fmt_pct,
    new_axes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from crmcore.segmentation import RFMBins, SegmentMap

__all__ = ["pareto_curve", "rfm_heatmap", "segment_sizes"]

#: The most score levels the R x F grid draws: a SegmentMap reads scores 1..bins with bins up to
#: 20 (rfm_scores gives 1..bins with bins up to 9); a larger value is not a score.
_MAX_SCORE = 20


def rfm_heatmap(
    scores: pd.DataFrame,
    *,
    value: str | None = None,
    agg: Literal["sum", "mean"] = "sum",
    r: str = "r_score",
    f: str = "f_score",
    bins: int | None = None,
    rfm_bins: RFMBins | None = None,
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

    When most customers share one frequency (or recency), the fitted quantile edges collapse
    and fewer scores than ``bins`` can occur (see :class:`~crmcore.segmentation.RFMBins`). The
    chart says so under the grid instead of showing a silent row or column of zeros: given
    ``rfm_bins``, the cells no score can reach are hatched and marked ``-`` and the note names
    the fitted edges; without it, a note names the scores no customer has.

    Parameters
    ----------
    scores
        One row per customer with whole-number score columns ``r`` and ``f`` (1..bins, at most
        20: the most levels a :class:`~crmcore.segmentation.SegmentMap` reads), e.g. the
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
        Number of score levels (grid size), 1..20; default ``rfm_bins.bins``, else the largest
        score present.
    rfm_bins
        The :class:`~crmcore.segmentation.RFMBins` the scores were computed with (from
        :func:`~crmcore.segmentation.fit_rfm_bins`), to tell which scores its edges can give.
    annotate
        Write each cell's figure in it.
    cmap
        matplotlib colour map name.
    ax, title, xlabel, ylabel
        Axes to draw into (its figure is returned; default a new one) and text overrides.

    Returns
    -------
    matplotlib.figure.Figure
        The grid is ``fig.axes[0].images[0]`` (``bins x bins`` array, row ``i`` = R score
        ``i + 1``); the colour bar is the last Axes. A note about scores that do not occur is
        the text of ``fig.axes[0]`` with the ``gid`` ``"rfm-note"``.

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
        A score that is not a whole number in 1..``bins`` (1..20 without ``bins``), naming
        the column, row and value; a NaN or infinite value.
    ConfigError
        Bad ``agg`` or ``bins`` (not an integer in 1..20).

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
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "rfm-note"]
    ['No customer has F score 2.']
    """
    require_columns(scores, [r, f] if value is None else [r, f, value], arg="scores")
    check_choice(agg, "agg", ("sum", "mean"))
    if rfm_bins is not None:
        _check_rfm_bins(rfm_bins)
        if bins is None:
            bins = int(rfm_bins.bins)
    if bins is not None and (
        isinstance(bins, bool)
        or not isinstance(bins, int | np.integer)
        or not 1 <= bins <= _MAX_SCORE
    ):
        raise ConfigError(
            f"bins must be an integer in 1..{_MAX_SCORE}, got {show(bins)}", value=bins
        )
    top = _MAX_SCORE if bins is None else int(bins)
    rs = _whole_scores(scores, r, arg="scores", top=top)
    fs = _whole_scores(scores, f, arg="scores", top=top)
    bins = int(max(rs.max(), fs.max())) if bins is None else int(bins)
    reachable = (
        (bins, bins)
        if rfm_bins is None
        else (len(rfm_bins.recency) + 1, len(rfm_bins.frequency) + 1)
    )
    _check_reachable(scores, rs, fs, reachable, (r, f))
    cell = (rs - 1) * bins + (fs - 1)
    counts = np.bincount(cell, minlength=bins * bins).astype(np.float64).reshape(bins, bins)
    if value is None:
        grid = counts
        what = "customers"
        default_title = "Customers by R and F score"
    else:
        weights = numeric_column(scores, value, arg="scores")
        drawable(scores, value, weights, arg="scores")
        grid = _cell_values(scores, value, weights, cell, counts=counts, agg=agg)
        what = f"{agg} of {value}"
        default_title = f"{'Total' if agg == 'sum' else 'Mean'} {value} by R and F score"

    fig, axes = new_axes(ax, (5.2, 4.4))
    unreachable = np.zeros((bins, bins), dtype=bool)
    unreachable[reachable[0] :, :] = True
    unreachable[:, reachable[1] :] = True
    shown = np.where(unreachable, np.nan, grid)
    image = axes.imshow(shown, origin="lower", cmap=cmap, aspect="auto")
    ticks = np.arange(bins)
    axes.set_xticks(ticks, [str(i + 1) for i in ticks])
    axes.set_yticks(ticks, [str(i + 1) for i in ticks])
    _hatch_unreachable(axes, unreachable)
    if annotate:
        _annotate_cells(axes, shown, unreachable)
    note = _missing_scores_note(rs, fs, bins, rfm_bins)
    if note:
        axes.text(
            0.0,
            -0.16,
            note,
            transform=axes.transAxes,
            ha="left",
            va="top",
            fontsize=8,
            color="dimgray",
            gid="rfm-note",
        )
    bar = fig.colorbar(image, ax=axes, label=what)
    if value is not None:
        amount_axis(bar.ax.yaxis)
    return finish(
        fig,
        axes,
        title=title,
        default_title=default_title,
        xlabel="F score (frequency)" if xlabel is None else xlabel,
        ylabel="R score (recency)" if ylabel is None else ylabel,
    )


def _cell_values(
    scores: pd.DataFrame,
    value: str,
    weights: npt.NDArray[np.float64],
    cell: npt.NDArray[np.intp],
    *,
    counts: npt.NDArray[np.float64],
    agg: str,
) -> npt.NDArray[np.float64]:
    """Sum (held within a chart's range) or mean of ``weights`` per R x F cell."""
    bins = counts.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):  # checked or scaled just below
        sums = np.bincount(cell, weights=weights, minlength=bins * bins).astype(np.float64)
    if agg == "sum":
        return drawable_totals(sums, weights, cell, scores, value, arg="scores").reshape(bins, bins)
    scale = 1.0
    if not np.isfinite(sums).all():  # a mean of drawable values is drawable: sum them smaller
        scale = 2.0 ** -max(1, int(np.ceil(np.log2(max(len(weights), 2)))))
        sums = np.bincount(cell, weights=weights * scale, minlength=bins * bins).astype(np.float64)
    n = counts.reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        grid = np.where(n > 0, sums / np.where(n > 0, n, 1), np.nan) / scale
    return np.asarray(grid, dtype=np.float64).reshape(bins, bins)


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
    ax, title, xlabel
        Axes to draw into (its figure is returned; default a new one) and text overrides.

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
    if value is not None:
        drawable(segments, value, weights, arg="segments")
    grouped = pd.Series(weights).groupby(labels.to_numpy(), sort=False)
    with np.errstate(over="ignore", invalid="ignore"):  # held within a chart just below
        sums = grouped.sum()
    totals = pd.Series(
        drawable_totals(
            sums.to_numpy(dtype=np.float64),
            weights,
            lambda: grouped.ngroup().to_numpy(),
            segments,
            segment if value is None else value,
            arg="segments",
        ),
        index=sums.index,
    )
    order: list[Hashable]
    if segment_map is not None:
        order = list(segment_map.segments)
        unknown = ~labels.isin(order).to_numpy()
        refuse_first(segments, unknown, segment, arg="segments", problem="", values=labels,
                     then=", which is not a segment of the map; expected one of "
                     f"{', '.join(repr(s) for s in order)}")  # fmt: skip
    elif isinstance(labels.dtype, pd.CategoricalDtype):
        order = list(labels.cat.categories)
    else:
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], str(kv[0])))
        order = [k for k, _ in ranked]
    heights = totals.reindex(order, fill_value=0.0).to_numpy(dtype=np.float64)
    fractions = shares(heights, positive=True)

    fig, axes = new_axes(ax, (6.4, 0.35 * len(order) + 1.4))
    positions = np.arange(len(order))
    axes.barh(positions, heights, color="tab:blue")
    axes.set_yticks(positions, [str(s) for s in order])
    axes.invert_yaxis()
    for i, (height, share) in enumerate(zip(heights.tolist(), fractions.tolist(), strict=True)):
        axes.text(height, i, f" {fmt_number(height)} ({fmt_pct(share)})", va="center", fontsize=8)
    axes.margins(x=0.18)
    what = "customers" if value is None else f"total {value}"
    return finish(
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
    ax, title, xlabel, ylabel
        Axes to draw into (its figure is returned; default a new one) and text overrides.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0].lines``: the curve, then one line per cut-off; ``patches``: one shaded
        band (a ``Rectangle``, the full axes height) per non-empty class, labelled
        ``"<class>: <items> items, <share> of value"``.

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
    with np.errstate(over="ignore"):  # values near the largest float: summed smaller below
        total = ranked.sum()
    if not np.isfinite(total):  # the curve is of shares, the same in any scale
        ranked = ranked * 2.0 ** -max(1, int(np.ceil(np.log2(max(len(ranked), 2)))))
        total = ranked.sum()
    if total <= 0:
        raise DataError("values are all zero; a Pareto curve needs at least one positive value")
    codes = classes.cat.codes.to_numpy()[order]
    n = len(ranked)
    x = np.arange(n + 1) / n
    y = np.concatenate([[0.0], np.cumsum(ranked) / total])
    y[-1] = 1.0

    fig, axes = new_axes(ax, (6.0, 4.2))  # MissingDependencyError without matplotlib
    from matplotlib.patches import Rectangle

    colours = ("tab:green", "tab:orange", "tab:red", "tab:purple", "tab:brown", "tab:gray")
    for k, label in enumerate(classes.cat.categories):
        inside = np.flatnonzero(codes == k)
        if inside.size == 0:
            continue
        start, stop = int(inside[0]), int(inside[-1]) + 1
        share = ranked[start:stop].sum() / total
        # A Rectangle of our own rather than axvspan, which gives a Polygon before matplotlib
        # 3.9: the band is the same patch type (with get_x/get_width) on every version.
        band = Rectangle(
            (start / n, 0.0),
            (stop - start) / n,
            1.0,
            color=colours[k % len(colours)],
            alpha=0.15,
            label=f"{label}: {stop - start} items, {fmt_pct(share)} of value",
        )
        band.set_transform(axes.get_xaxis_transform())  # x in data, y the full axes height
        axes.add_patch(band)
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
    return finish(
        fig,
        axes,
        title=title,
        default_title="Pareto curve and ABC classes",
        xlabel="share of items (largest first)" if xlabel is None else xlabel,
        ylabel="cumulative share of value" if ylabel is None else ylabel,
    )


def _whole_scores(frame: pd.DataFrame, column: str, *, arg: str, top: int) -> npt.NDArray[np.int64]:
    """Return a score column as int64 after checking that it holds whole numbers in 1..top."""
    values = numeric_column(frame, column, arg=arg)
    good = (values >= 1) & (values <= top) & (values == np.floor(values))
    refuse_first(
        frame, ~good, column, arg=arg, problem="", then=f"; expected whole scores in 1..{top}"
    )
    return values.astype(np.int64)


def _check_rfm_bins(rfm_bins: object) -> None:
    from crmcore.segmentation import RFMBins

    if not isinstance(rfm_bins, RFMBins):
        raise InputTypeError(
            f"rfm_bins must be an RFMBins (from fit_rfm_bins) or None, "
            f"got {type(rfm_bins).__name__}"
        )


def _check_reachable(
    scores: pd.DataFrame,
    rs: npt.NDArray[np.int64],
    fs: npt.NDArray[np.int64],
    reachable: tuple[int, int],
    names: tuple[str, str],
) -> None:
    """Refuse a score that the given edges cannot produce (scores and bins do not belong)."""
    for arr, limit, column in ((rs, reachable[0], names[0]), (fs, reachable[1], names[1])):
        above = arr > limit
        if above.any():
            pos = int(np.argmax(above))
            raise DataError(
                f"column {column!r} of scores has {arr[pos]} at {describe_row(scores, pos)}, "
                f"but the edges of rfm_bins give scores 1..{limit} only; pass the RFMBins "
                "the scores were computed with",
                column=column,
                row=scores.index[pos],
                value=arr[pos],
            )


def _hatch_unreachable(axes: Axes, unreachable: npt.NDArray[np.bool_]) -> None:
    """Grey, hatched cells for the scores the fitted edges cannot give."""
    from matplotlib.patches import Rectangle

    for i, j in zip(*np.nonzero(unreachable), strict=True):
        axes.add_patch(
            Rectangle(
                (j - 0.5, i - 0.5),
                1.0,
                1.0,
                facecolor="whitesmoke",
                edgecolor="silver",
                hatch="///",
                linewidth=0.0,
            )
        )


def _annotate_cells(
    axes: Axes, grid: npt.NDArray[np.float64], unreachable: npt.NDArray[np.bool_]
) -> None:
    finite = grid[np.isfinite(grid)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    bins = grid.shape[0]
    for i in range(bins):
        for j in range(bins):
            cell_value = float(grid[i, j])
            dark = np.isfinite(cell_value) and cell_value > middle
            axes.text(
                j,
                i,
                "-" if unreachable[i, j] else fmt_number(cell_value),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "black",
            )


def _missing_scores_note(
    rs: npt.NDArray[np.int64],
    fs: npt.NDArray[np.int64],
    bins: int,
    rfm_bins: RFMBins | None,
) -> str:
    """One sentence per metric whose scores do not fill 1..bins, empty when all occur."""
    notes = []
    for letter, metric, arr in (("R", "recency", rs), ("F", "frequency", fs)):
        if rfm_bins is not None:
            edges = getattr(rfm_bins, metric)
            if len(edges) + 1 < bins:
                shown = ", ".join(fmt_number(e) for e in edges) or "none"
                notes.append(
                    f"{letter} scores above {len(edges) + 1} cannot occur: the fitted "
                    f"{metric} edges ({shown}) give {len(edges) + 1} scores only "
                    "(many customers share a value)."
                )
                continue
        absent = sorted(set(range(1, bins + 1)) - set(np.unique(arr).tolist()))
        if absent:
            listed = ", ".join(str(a) for a in absent)
            plural = "s" if len(absent) > 1 else ""
            notes.append(f"No customer has {letter} score{plural} {listed}.")
    # Short lines: the note sits under the grid and must not widen the figure's layout.
    return "\n".join(textwrap.fill(note, width=52) for note in notes)
