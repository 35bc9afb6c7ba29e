"""Charts of quota plans: quota by person and period."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from crmcore._frames import (
    check_choice,
    describe_row,
    import_optional,
    numeric_column,
    require_columns,
    require_one_id_type,
)
from crmcore.errors import DataError, InputTypeError
from crmcore.plot._style import (
    amount_axis,
    finish,
    fmt_number,
    new_axes,
    period_axis,
    period_labels_for,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from crmcore.quota import QuotaPlan

__all__ = ["quota_chart"]


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
    ax, title, ylabel
        Axes to draw into (its figure is returned; default a new one) and text overrides.

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
        NaN, infinite or negative quotas; a missing person or month; a person or month typed
        two ways (``1`` and ``"1"``), naming both rows.
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
        # 1 and "1" would be two bars or two months: the same id typed two ways is an error
        require_one_id_type(table, col, arg="plan")
    people = pd.unique(table[person].to_numpy())
    months = pd.unique(table[month].to_numpy())
    row = pd.Index(people).get_indexer(table[person].to_numpy())
    col = pd.Index(months).get_indexer(table[month].to_numpy())
    grid = np.zeros((len(people), len(months)))
    np.add.at(grid, (row, col), amounts)
    month_index = (
        pd.DatetimeIndex(months)
        if len(months) and all(isinstance(m, np.datetime64 | pd.Timestamp) for m in months)
        else pd.Index(months)
    )
    month_labels = period_labels_for(month_index)
    person_labels = [str(p) for p in people]

    if kind == "heatmap":
        width = min(max(6.0, 0.5 * len(months) + 2.5), 12.0)
        fig, axes = new_axes(ax, (width, 0.35 * len(people) + 2))
        image = axes.imshow(grid, cmap=cmap, aspect="auto")
        period_axis(axes, month_index, width=width - 2.5)
        axes.set_yticks(np.arange(len(people)), person_labels)
        amount_axis(fig.colorbar(image, ax=axes, label=value).ax.yaxis)
        return finish(
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
    fig, axes = new_axes(ax, (max(6.0, 0.5 * len(people) + 3), 4.4))
    x = np.arange(len(people), dtype=np.float64)
    bottom = np.zeros(len(people))
    for j, label in enumerate(month_labels):
        axes.bar(x, grid[:, j], bottom=bottom, color=colours[j], label=label, width=0.7)
        bottom = bottom + grid[:, j]
    for i, total in enumerate(bottom):
        axes.text(x[i], total, fmt_number(float(total)), ha="center", va="bottom", fontsize=7)
    axes.set_xticks(x, person_labels)
    amount_axis(axes.yaxis)
    if len(people) > 8:
        for tick in axes.get_xticklabels():
            tick.set_rotation(60)
    axes.legend(
        title=month, fontsize=7, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0)
    )
    return finish(
        fig,
        axes,
        title=title,
        default_title="Quota by person and month",
        xlabel=person,
        ylabel=value if ylabel is None else ylabel,
    )
