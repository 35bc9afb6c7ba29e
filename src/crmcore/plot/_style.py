"""Shared figure helpers of :mod:`crmcore.plot`: axes, number formats, period labels, titles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmcore._frames import import_optional
from crmcore.errors import ConfigError, InputTypeError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def new_axes(
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


def fmt_number(value: float) -> str:
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


def fmt_pct(value: float) -> str:
    """Format a ratio as a whole percentage; NaN as 'n/a'."""
    if not np.isfinite(value):
        return "n/a"
    if 0 < abs(value) < 0.005:
        return "<1%" if value > 0 else ">-1%"
    return f"{value:.0%}"


def fmt_count(value: float) -> str:
    """Format a count with thousands separators: 1,234."""
    return f"{value:,.0f}"


def amount_axis(axis: Any) -> None:
    """Label an amount axis compactly (800k, 1.2M) instead of in scientific notation."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_number(float(v))))


def period_label(value: Any) -> str:
    """Label a period: month starts as 2025-01, other timestamps as dates, else ``str``."""
    if isinstance(value, pd.Timestamp):
        if value == value.normalize() and value.day == 1:
            return value.strftime("%Y-%m")
        if value == value.normalize():
            return value.strftime("%Y-%m-%d")
    return str(value)


def finish(
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
