"""Charts of customer futures: the holdout check of a purchase model, cohort retention."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import checked_totals, numeric_column, require_columns, show
from crmcore.errors import ConfigError, InputTypeError, SchemaError
from crmcore.plot._style import (
    drawable,
    finish,
    fmt_count,
    fmt_number,
    fmt_pct,
    new_axes,
    period_label,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["cohort_heatmap", "holdout_chart"]

# Heatmaps with more cells than this are not annotated unless asked (the text would not fit).
_ANNOTATE_CELLS = 400


def _holdout_table(report: Any) -> pd.DataFrame:
    from crmcore.clv import HoldoutReport

    table = report.table if isinstance(report, HoldoutReport) else report
    if not isinstance(table, pd.DataFrame):
        raise InputTypeError(
            "report must be a crmcore.clv.HoldoutReport or its table (a DataFrame), "
            f"got {type(report).__name__}"
        )
    require_columns(table, ["actual", "predicted"], arg="report")
    return table


def _customers_total(
    table: pd.DataFrame,
    counts: npt.NDArray[np.float64],
    means: npt.NDArray[np.float64],
    column: str,
) -> float:
    """Add up customers times mean purchases; past the largest float, name the row."""
    with np.errstate(over="ignore", invalid="ignore"):  # checked just below
        products = counts * means
        total = products.sum()
    return float(checked_totals(total, products, None, table, column, arg="report"))


def holdout_chart(
    report: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Draw predicted against actual holdout purchases by calibration frequency.

    The classic check of a purchase model (Fader, Hardie & Lee 2005, figure 4): for the
    customers who made 0, 1, ..., 7+ repeat purchases in the calibration period, the mean
    number of purchases they made in the holdout period (solid line) and the mean the model
    expected (dashed). The legend's title gives the totals and their relative error.

    Parameters
    ----------
    report
        A :class:`crmcore.clv.HoldoutReport` (from :func:`crmcore.clv.holdout_report`), or a
        frame like its ``table``: one row per calibration-frequency group (the index labels
        the x axis), columns ``actual`` and ``predicted`` (and optionally ``customers``).
    ax, title, xlabel, ylabel
        Axes to draw into (its figure is returned; default a new one) and text overrides.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0].lines`` are the actual (first) and predicted (second) lines, one point
        per group, in the table's order.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InputTypeError
        ``report`` is neither a HoldoutReport nor a DataFrame, or ``ax`` is not an Axes.
    SchemaError
        The table lacks ``actual`` or ``predicted``, or is empty.
    ColumnTypeError, DataError
        A non-numeric, negative or non-finite mean.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.plot import holdout_chart
    >>> table = pd.DataFrame({"customers": [10, 5, 2], "actual": [0.2, 0.8, 2.5],
    ...                       "predicted": [0.25, 0.7, 2.2]},
    ...                      index=pd.Index(["0", "1", "2+"], name="frequency_cal"))
    >>> fig = holdout_chart(table)
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['actual', 'predicted']
    >>> fig.axes[0].lines[1].get_ydata().tolist()
    [0.25, 0.7, 2.2]
    """
    table = _holdout_table(report)
    actual = numeric_column(table, "actual", arg="report", allow_negative=False)
    predicted = numeric_column(table, "predicted", arg="report", allow_negative=False)
    drawable(table, "actual", actual, arg="report")
    drawable(table, "predicted", predicted, arg="report")
    labels = [str(v) for v in table.index]
    positions = np.arange(len(labels))
    fig, axes = new_axes(ax, (6.4, 4.0))
    axes.plot(positions, actual, marker="o", color="#1f4e79", label="actual")
    axes.plot(positions, predicted, marker="s", linestyle="--", color="#c55a11", label="predicted")
    axes.set_xticks(positions, labels)
    axes.set_ylim(bottom=0)
    axes.grid(axis="y", alpha=0.3)
    if "customers" in table.columns:
        counts = numeric_column(table, "customers", arg="report", allow_negative=False)
        total_actual = _customers_total(table, counts, actual, "actual")
        total_predicted = _customers_total(table, counts, predicted, "predicted")
        error = (total_predicted - total_actual) / total_actual if total_actual else np.nan
        legend_title = (
            f"total: actual {fmt_count(total_actual)}, predicted "
            f"{fmt_count(total_predicted)} ({_fmt_signed_pct(error)})"
        )
        axes.legend(title=legend_title, title_fontsize=8, fontsize=8, loc="upper left")
    else:
        axes.legend(fontsize=8, loc="upper left")
    name = table.index.name or "calibration frequency"
    return finish(
        fig,
        axes,
        title=title,
        default_title="Holdout purchases per customer: actual and predicted",
        xlabel=f"repeat purchases in calibration ({name})" if xlabel is None else xlabel,
        ylabel="mean holdout purchases" if ylabel is None else ylabel,
    )


def _fmt_signed_pct(value: float) -> str:
    """Format a relative error with its sign: +5%, -12%; NaN as 'n/a'."""
    text = fmt_pct(value)
    return text if text == "n/a" or value < 0 else f"+{text}"


def _retention_grid(retention: object) -> tuple[pd.DataFrame, np.ndarray]:
    if not isinstance(retention, pd.DataFrame):
        raise InputTypeError(
            f"retention must be a DataFrame (from crmcore.clv.cohort_retention), got "
            f"{type(retention).__name__}"
        )
    if retention.empty:
        raise SchemaError("retention is empty: there is no cohort to draw", column="retention")
    columns = [
        numeric_column(
            retention,
            c,
            arg="retention",
            allow_nan=True,
            allow_negative=False,
            negative_hint="shares and counts of customers are never negative",
            what="shares or counts of customers (NaN where not observable)",
        )
        for c in retention.columns
    ]
    for c, v in zip(retention.columns, columns, strict=True):
        drawable(retention, c, v, arg="retention")
    return retention, np.column_stack(columns).astype(np.float64)


def cohort_heatmap(
    retention: pd.DataFrame,
    *,
    share: bool | None = None,
    annotate: bool | None = None,
    cmap: str = "Blues",
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Draw cohorts against periods since the first purchase: the retention triangle.

    One row per cohort (oldest at the top), one column per period since the first purchase;
    a cell's colour is the share (or count) of the cohort's customers who bought in that
    period, on a scale that spans the later periods (period 0, the whole cohort, is drawn in
    the top colour, so that the later periods' differences show). Cells that cannot be
    observed yet (NaN) are left blank, which gives the chart its triangle. A colour bar is
    added next to the grid.

    Parameters
    ----------
    retention
        The frame :func:`crmcore.clv.cohort_retention` returns: cohorts as the index, periods
        since the first purchase as columns, shares or counts (NaN where not observable).
    share
        Whether the cells are shares of the cohort (annotated as percentages) or counts;
        default: shares when every value is at most 1.
    annotate
        Write each cell's figure in it; default when the grid has at most 400 cells.
    cmap
        matplotlib colour map name.
    ax, title, xlabel, ylabel
        Axes to draw into (its figure is returned; default a new one) and text overrides.

    Returns
    -------
    matplotlib.figure.Figure
        The grid is ``fig.axes[0].images[0]`` (row ``i`` = the ``i``-th cohort, NaN cells
        masked); the colour bar is the last Axes.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed.
    InputTypeError
        ``retention`` is not a DataFrame or ``ax`` not an Axes.
    SchemaError
        ``retention`` is empty.
    ColumnTypeError, DataError
        A non-numeric, negative or infinite cell.
    ConfigError
        ``share=True`` with a value above 1.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.clv import cohort_retention
    >>> from crmcore.plot import cohort_heatmap
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3],
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20",
    ...                                            "2024-02-03", "2024-03-01"])})
    >>> fig = cohort_heatmap(cohort_retention(tx))
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['100%', '50%', '0%', '100%', '100%']
    >>> fig.axes[0].get_ylabel()
    'cohort (first purchase)'
    """
    frame, grid = _retention_grid(retention)
    finite = grid[np.isfinite(grid)]
    top = float(finite.max()) if finite.size else 0.0
    if share is None:
        share = top <= 1.0
    elif share and top > 1.0:
        raise ConfigError(
            f"share=True but retention holds {show(top)}; shares are at most 1 (pass "
            "share=False for counts)",
            column="share",
            value=top,
        )
    if annotate is None:
        annotate = grid.size <= _ANNOTATE_CELLS
    # Period 0 is the whole cohort (100 %): the colours span the later periods, so their
    # differences show; period 0 is drawn in the top colour (the colour bar's arrow).
    later = grid[:, 1:][np.isfinite(grid[:, 1:])]
    vmax = float(later.max()) if later.size and later.max() > 0 else max(top, 1e-12)
    size = (max(5.0, 0.45 * grid.shape[1] + 2.5), max(3.0, 0.3 * len(grid) + 1.5))
    fig, axes = new_axes(ax, size)
    image = axes.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto", vmin=0.0, vmax=vmax)
    axes.set_xticks(np.arange(grid.shape[1]), [str(c) for c in frame.columns])
    axes.set_yticks(np.arange(len(grid)), [period_label(v) for v in frame.index])
    if annotate:
        for i, j in zip(*np.nonzero(np.isfinite(grid)), strict=True):
            value = float(grid[i, j])
            axes.text(
                j, i, fmt_pct(value) if share else fmt_number(value), ha="center",
                va="center", fontsize=7, color="white" if value > vmax / 2 else "black",
            )  # fmt: skip
    label = "share of the cohort" if share else "customers"
    bar = fig.colorbar(image, ax=axes, label=label, extend="max" if top > vmax else "neither")
    if share:
        from matplotlib.ticker import PercentFormatter

        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    return finish(
        fig,
        axes,
        title=title,
        default_title="Cohort retention: customers buying again, by periods since the first",
        xlabel="periods since the first purchase" if xlabel is None else xlabel,
        ylabel="cohort (first purchase)" if ylabel is None else ylabel,
    )
