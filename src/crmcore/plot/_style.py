"""Shared figure helpers of :mod:`crmcore.plot`: axes, number formats, period labels, titles."""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import checked_totals, import_optional, refuse_first
from crmcore._periods import period_labels
from crmcore.errors import ConfigError, InputTypeError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@functools.cache
def chart_figure_class() -> type[Figure]:
    """Return the Figure subclass every chart is drawn on: it displays itself in Jupyter.

    A bare :class:`~matplotlib.figure.Figure` made without pyplot has no rich display of its
    own: unless the user has run ``%matplotlib inline`` (which registers a PNG formatter for
    every Figure), a notebook cell ending in a chart prints ``<Figure size ... with 2 Axes>``.
    ``_repr_png_`` renders the figure with the Agg canvas (tight bounding box, as the inline
    backend does) whenever IPython asks for it; where the inline formatter is registered,
    IPython uses that instead, so the figure is never shown twice. Built on first use because
    matplotlib is an optional, lazily imported dependency.
    """
    from matplotlib.figure import Figure

    class ChartFigure(Figure):
        """A matplotlib Figure that IPython displays as a PNG image."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", bbox_inches="tight")
            return buffer.getvalue()

    # Found again by pickle through this module's __getattr__ (figures pickle and unpickle).
    ChartFigure.__module__ = __name__
    ChartFigure.__qualname__ = "ChartFigure"
    return ChartFigure


def __getattr__(name: str) -> Any:
    """Give ``ChartFigure`` on first access (it needs matplotlib, imported lazily)."""
    if name == "ChartFigure":
        return chart_figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def new_axes(
    ax: Axes | None, figsize: tuple[float, float], *, polar: bool = False
) -> tuple[Figure, Axes]:
    """Return ``(figure, axes)``: a new constrained-layout Figure, or ``ax`` and its root figure."""
    import_optional("matplotlib", "plot")
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    if ax is None:
        fig = chart_figure_class()(figsize=figsize, layout="constrained")
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


#: the largest magnitude a chart draws (2**996, about 6.7e299): an axis or colour scale from
#: -v to v, with its margins, stays within the largest float, and so does matplotlib's image
#: scaling (matplotlib 3.8 multiplies an image's value range by 1e7), where it would overflow
DRAWABLE = 2.0**996


def drawable(
    frame: pd.DataFrame, column: str, values: npt.ArrayLike, *, arg: str, what: str = "value"
) -> None:
    """Refuse a value beyond :data:`DRAWABLE`, naming ``column``, its row and the value.

    ``values`` are aligned with the rows of ``frame`` (NaN passes: charts leave it out).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"amount": [1.0, 1.7e308]}, index=["a", "b"])
    >>> drawable(frame, "amount", frame["amount"].to_numpy(), arg="schedule")
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: column 'amount' of schedule has value 1.7e+308 at row 'b', too \
large to draw: a chart spans at most about 6.7e+299 either side of 0; express the values in a \
larger unit (e.g. thousands)
    """
    size = np.abs(np.asarray(values, dtype=np.float64))
    refuse_first(
        frame,
        size > DRAWABLE,
        column,
        arg=arg,
        problem=what,
        then=f", too large to draw: a chart spans at most about {DRAWABLE:.2g} either side of "
        "0; express the values in a larger unit (e.g. thousands)",
        values=np.asarray(values),
    )


def drawable_totals(
    totals: npt.ArrayLike,
    values: npt.ArrayLike,
    groups: npt.ArrayLike | Callable[[], npt.ArrayLike | None] | None,
    frame: pd.DataFrame,
    column: str,
    *,
    arg: str,
) -> npt.NDArray[np.float64]:
    """Add up ``values`` per group, the totals held within :data:`DRAWABLE`.

    As :func:`crmcore._frames.checked_totals` does for the largest float: an error names the
    row where a group's running total passes the limit.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"amount": [5e299, 5e299]}, index=["a", "b"])
    >>> v = frame["amount"].to_numpy()
    >>> drawable_totals(np.array([v.sum()]), v, None, frame, "amount", arg="segments")
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: column 'amount' of segments adds up past 6.7e+299 at row 'b', \
value 5e+299; expected totals a chart can draw (express the values in a larger unit, e.g. \
thousands)
    """
    return checked_totals(
        totals,
        values,
        groups,
        frame,
        column,
        arg=arg,
        limit=DRAWABLE,
        expected="totals a chart can draw (express the values in a larger unit, e.g. thousands)",
    )


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


def _period_code(index: pd.DatetimeIndex) -> str | None:
    """Return the period (Y/Q/M/W/D) of a sorted index of period starts; None if not whole days."""
    if len(index) == 0 or not (index == index.normalize()).all():
        return None
    wall = index.tz_localize(None) if index.tz is not None else index  # whole days on the clock
    day_numbers = np.asarray(wall.to_numpy().astype("datetime64[D]"), dtype=np.int64)
    days: npt.NDArray[np.int64] = day_numbers[1:] - day_numbers[:-1]
    if (index.day == 1).all():
        if (index.month == 1).all() and len(index) > 1:
            return "Y"
        if index.month.isin([1, 4, 7, 10]).all() and len(index) > 1 and (days >= 89).all():
            return "Q"
        return "M"
    weekly = (index.day_of_week == index[0].day_of_week).all() and (days % 7 == 0).all()
    if len(index) > 1 and weekly:
        return "W"
    return "D"


def period_labels_for(periods: pd.Index) -> list[str]:
    """Display labels for a chart's period axis, in :func:`crmcore._periods.period_labels` style.

    A datetime index of period starts is labelled by the period it is in (``2025``,
    ``2025-Q1``, ``2025-01``, ``2025-W03``, ``2025-01-15``), inferred from the dates; anything
    else (months numbered 1..12, period names) is shown as written.
    """
    if isinstance(periods, pd.DatetimeIndex):
        code = _period_code(periods)
        if code is not None:
            return [str(label) for label in period_labels(periods, code)]
    return [period_label(p) for p in periods]


#: Label steps that keep a period axis on calendar boundaries (quarters, years, ...).
_NICE_STEPS = {
    "D": (1, 2, 7, 14, 28),
    "W": (1, 2, 4, 13, 26, 52),
    "M": (1, 2, 3, 6, 12),
    "Q": (1, 2, 4),
    "Y": (1, 2, 5, 10),
}


def period_axis(axes: Axes, periods: pd.Index, *, width: float, axis: str = "x") -> list[str]:
    """Label a category axis of periods at positions ``0..n-1``, readable at any length.

    Every period keeps a minor tick; labels are rotated when they would not fit side by side,
    and at most about three rotated labels per inch of axis are written, every ``k``-th one
    from the first with ``k`` a calendar step where the periods are dates (13 weeks, 3 or 12
    months), so 130 weekly periods read as 10 labels a quarter apart instead of an
    overlapping band. Returns the labels of all periods.
    """
    labels = period_labels_for(periods)
    positions = np.arange(len(labels))
    longest = max((len(label) for label in labels), default=1)
    # ~0.085 in per character of a 10 pt label; rotate when a row of labels would not fit
    rotated = axis == "x" and len(labels) * (longest + 2) * 0.085 > width
    per_inch = 3.0 if rotated else max(1.0, 11.0 / longest)
    most = max(1, int(width * per_inch))
    need = max(1, math.ceil(len(labels) / most))
    code = _period_code(periods) if isinstance(periods, pd.DatetimeIndex) else None
    nice = [k for k in _NICE_STEPS.get(code or "", ()) if k >= need]
    step = nice[0] if nice else need
    shown = positions[::step]
    setter = axes.set_xticks if axis == "x" else axes.set_yticks
    setter(shown, [labels[i] for i in shown])
    if step > 1:
        setter(positions, minor=True)
    if rotated:
        for tick in axes.get_xticklabels():
            tick.set_rotation(60)
            tick.set_horizontalalignment("right")
            tick.set_rotation_mode("anchor")
    return labels


def period_slots(fig: Figure, axes: Axes, periods: pd.Index) -> None:
    """Make the x axis one slot per period: limits half a slot past each end, period labels.

    The labels are spaced for the Axes' width in inches (see :func:`period_axis`).
    """
    axes.set_xlim(-0.6, len(periods) - 0.4)
    period_axis(axes, periods, width=float(axes.get_position().width * fig.get_figwidth()))


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
