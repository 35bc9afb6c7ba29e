"""Charts of team performance: attainment bars and scorecards."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_choice,
    describe_row,
    first_true,
    import_optional,
    numeric_column,
    require_columns,
    require_frame,
    show,
)
from crmcore.errors import ConfigError, DataError, SchemaError
from crmcore.plot._style import (
    DRAWABLE,
    amount_axis,
    drawable,
    drawable_totals,
    finish,
    fmt_pct,
    new_axes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.projections.polar import PolarAxes

    from crmcore.kpi import Scorecard

__all__ = ["attainment_bars", "scorecard_chart"]


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
    ax, title, ylabel
        Axes to draw into (its figure is returned; default a new one) and text overrides.

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
    drawable(attainment, target, goal, arg="attainment")
    drawable(attainment, achieved, done, arg="attainment")
    values = pd.DataFrame({"target": np.nan_to_num(goal, nan=0.0), "achieved": done})
    grouped = values.groupby(keys, sort=True)
    with np.errstate(over="ignore", invalid="ignore"):  # held within a chart just below
        sums = grouped.sum()
    for name, col in (("target", target), ("achieved", achieved)):
        sums[name] = drawable_totals(
            sums[name].to_numpy(dtype=np.float64),
            values[name].to_numpy(),
            lambda: grouped.ngroup().to_numpy(),
            attainment,
            col,
            arg="attainment",
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(
            sums["target"] > 0, sums["achieved"] / sums["target"].where(sums["target"] > 0), np.nan
        )

    fig, axes = new_axes(ax, (max(6.0, 0.7 * len(sums) + 2), 4.2))
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
            x[i],
            max(float(tops[i]), 0.0),
            fmt_pct(float(share)),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axes.set_xticks(x, [str(k) for k in sums.index])
    amount_axis(axes.yaxis)
    if len(sums) > 8:
        for tick in axes.get_xticklabels():
            tick.set_rotation(60)
    axes.margins(y=0.12)
    axes.legend(fontsize=8)
    return finish(
        fig,
        axes,
        title=title,
        default_title="Achieved vs target",
        xlabel=by,
        ylabel="amount" if ylabel is None else ylabel,
    )


def _stackable(
    frame: pd.DataFrame, columns: Sequence[str], points: npt.NDArray[np.float64]
) -> None:
    """Refuse points whose stacked bar would pass :data:`DRAWABLE` (a chart's range).

    The error names the person and the largest of the row's points.
    """
    with np.errstate(over="ignore"):  # inf is past the limit too
        reach = np.abs(points).sum(axis=1)
    pos = first_true(~(reach <= DRAWABLE))
    if pos is None:
        return
    j = int(np.argmax(np.abs(points[pos])))
    raise DataError(
        f"column {columns[j]!r} of scores has {show(points[pos, j])} at "
        f"{describe_row(frame, pos)}: the person's stacked points reach past "
        f"{DRAWABLE:.2g}, more than a chart draws; expected points in a smaller scale",
        column=columns[j],
        row=frame.index[pos],
        value=points[pos, j],
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
    _stackable(frame, columns, points)
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
        fig, plain = new_axes(ax, (6.4, 5.0), polar=True)
        polar = cast("PolarAxes", plain)
        polar.set_theta_offset(np.pi / 2)  # first metric at the top, clockwise
        polar.set_theta_direction(-1)
        angles = np.linspace(0.0, 2 * np.pi, len(columns), endpoint=False)
        closed = np.concatenate([angles, angles[:1]])
        for label, row in zip(labels, radial, strict=True):
            values = np.concatenate([row, row[:1]])
            polar.plot(closed, values, marker="o", markersize=3, linewidth=1.4, label=label)
        polar.set_xticks(angles, names, fontsize=8)
        polar.tick_params(axis="x", pad=10)  # spoke names clear of the outer circle
        polar.set_rlabel_position(float(np.degrees(np.pi / len(columns))))
        polar.tick_params(axis="y", labelsize=7)
        polar.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.08, 1.05))
        return finish(fig, polar, title=title, default_title=default_title)

    import_optional("matplotlib", "plot")
    from matplotlib import colormaps

    colours = colormaps["tab10"](np.arange(len(columns)) % 10)
    fig, axes = new_axes(ax, (6.8, 0.4 * len(labels) + 1.6))
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
    return finish(
        fig,
        axes,
        title=title,
        default_title="Scorecard points",
        xlabel="points",
        ylabel=None,
    )
