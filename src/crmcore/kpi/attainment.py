r"""Target attainment and variance per person and period.

Actual sales (a tidy table of deals or transactions) are summed per group key — by default
person and month — and set against targets in the long shape of a quota plan (one row per
person and period with a target). For each key:

.. math::

    \text{variance} = \text{achieved} - \text{target},\qquad
    \text{attainment} = \frac{\text{achieved}}{\text{target}}

Periods with a target but no sales show ``achieved = 0``; attainment is not capped at 100 %
unless a ``cap`` is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_choice,
    check_scalar,
    datetime_column,
    describe_row,
    first_true,
    numeric_column,
    require_columns,
    require_not_null,
    show,
)
from crmcore.errors import ColumnTypeError, ConfigError, DataError
from crmcore.kpi.metrics import PERIOD, _by_names, _freq, period_start
from crmcore.money import from_minor_units, to_minor_units

__all__ = ["attainment", "target_variance"]

Unmatched = Literal["include", "drop", "error"]


def _period_column(frame: pd.DataFrame, column: str, *, arg: str, freq: str) -> pd.Series:
    """Read a period column (Period dtype, dates or ISO text) as period-start timestamps."""
    series = frame[column]
    if isinstance(series.dtype, pd.PeriodDtype):
        require_not_null(frame, column, arg=arg)
        stamps = series.dt.start_time
        return period_start(stamps, freq)
    return period_start(datetime_column(frame, column, arg=arg), freq)


def _check_zero_target(zero_target: object) -> None:
    if isinstance(zero_target, str):
        check_choice(zero_target, "zero_target", ("nan", "inf"))
    else:
        check_scalar(zero_target, "zero_target", kind=float)


def _core(
    actuals: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    by: str | Sequence[str],
    amount: str,
    target: str,
    date: str | None,
    period: str,
    status: str | None,
    won: str,
    unmatched: Unmatched,
    decimals: int | None,
    key: str | None,
    period_column: str,
) -> pd.DataFrame:
    """Return target, achieved and has_target per key (sorted), before the ratios."""
    names = _by_names(by)
    if not names:
        raise ConfigError("by must name at least one key, e.g. ('person', 'period')", column="by")
    freq = _freq(period)
    check_choice(unmatched, "unmatched", ("include", "drop", "error"))
    if decimals is not None:
        check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    plain = [n for n in names if n != PERIOD]

    # Targets: one row per key, finite and >= 0.
    if not isinstance(period_column, str):
        raise ConfigError(
            f"period_column must be a column name, got {show(period_column)}",
            column="period_column",
        )
    t_cols = [period_column if n == PERIOD else n for n in names]
    require_columns(targets, [*t_cols, target], arg="targets")
    t_keys: dict[str, object] = {}
    for name in names:
        if name == PERIOD:
            t_keys[name] = _period_column(
                targets, period_column, arg="targets", freq=freq
            ).to_numpy()
        else:
            require_not_null(targets, name, arg="targets")
            t_keys[name] = targets[name].to_numpy()
    t_frame = pd.DataFrame(t_keys)
    t_values = numeric_column(
        targets, target, arg="targets", allow_negative=False, what="targets >= 0"
    )
    dup = first_true(t_frame.duplicated().to_numpy())
    if dup is not None:
        label = ", ".join(f"{n}={show(t_frame[n].iloc[dup])}" for n in names)
        raise DataError(
            f"targets has a second target for ({label}) at {describe_row(targets, dup)}; "
            "expected one target per key",
            column=target,
            row=targets.index[dup],
            value=t_values[dup],
        )
    t_frame["target"] = t_values

    # Actuals: won rows only when a status column is given; period from the date.
    needed = [amount, *plain]
    if PERIOD in names:
        needed.append(date if date is not None else period_column)
    require_columns(actuals, needed, arg="actuals", allow_empty=True)
    k = key if key is not None and key in actuals.columns else None
    rows = actuals
    if status is not None:
        require_columns(actuals, [status], arg="actuals", allow_empty=True)
        require_not_null(actuals, status, arg="actuals", key=k)
        rows = actuals.loc[(actuals[status] == won).to_numpy(dtype=bool)]
    a_keys: dict[str, object] = {}
    for name in names:
        if name == PERIOD:
            if date is None:
                a_keys[name] = _period_column(
                    rows, period_column, arg="actuals", freq=freq
                ).to_numpy()
            else:
                dates = datetime_column(rows, date, arg="actuals", key=k)
                a_keys[name] = period_start(dates, freq).to_numpy()
        else:
            require_not_null(rows, name, arg="actuals", key=k)
            a_keys[name] = rows[name].to_numpy()
    a_frame = pd.DataFrame(a_keys)
    values = numeric_column(rows, amount, arg="actuals", key=k)
    if decimals is not None:
        a_frame["achieved"] = to_minor_units(values, decimals, name=f"column {amount!r}")
    else:
        a_frame["achieved"] = values
    if PERIOD in names:
        tz_t = getattr(t_frame[PERIOD].dtype, "tz", None)
        tz_a = getattr(a_frame[PERIOD].dtype, "tz", None)
        if len(a_frame) and (tz_t is None) != (tz_a is None):
            raise DataError(
                "targets' 'period' and actuals' dates mix naive and tz-aware dates; "
                "use one convention",
                column=PERIOD,
            )
        if tz_t is not None and tz_a is not None:
            a_frame[PERIOD] = a_frame[PERIOD].dt.tz_convert(tz_t)
    for name in plain:
        kt = pd.api.types.is_numeric_dtype(t_frame[name].dtype)
        ka = pd.api.types.is_numeric_dtype(a_frame[name].dtype)
        if len(a_frame) and kt != ka:
            raise ColumnTypeError(
                f"column {name!r} holds {t_frame[name].dtype} in targets but "
                f"{a_frame[name].dtype} in actuals; keys must be of one type to match",
                column=name,
            )

    achieved = a_frame.groupby(names, sort=False)["achieved"].sum().reset_index()
    merged = t_frame.merge(achieved, on=names, how="outer", indicator=True, sort=False)
    only_actual = (merged["_merge"] == "right_only").to_numpy(dtype=bool)
    if only_actual.any() and unmatched == "error":
        probe = a_frame[names].merge(
            t_frame[names], on=names, how="left", indicator=True, sort=False
        )
        pos = first_true((probe["_merge"] == "left_only").to_numpy(dtype=bool)) or 0
        label = ", ".join(f"{n}={show(probe[n].iloc[pos])}" for n in names)
        raise DataError(
            f"actuals at {describe_row(rows, pos, k)} has no target for ({label}); "
            "add a target or pass unmatched='include' (rows flagged has_target=False) or "
            "unmatched='drop'",
            column=amount,
            row=rows.index[pos],
            value=values[pos],
        )
    if unmatched == "drop":
        merged = merged.loc[~only_actual]
        only_actual = np.zeros(len(merged), dtype=bool)
    got = merged["achieved"].to_numpy(dtype=np.float64, na_value=np.nan)
    got = np.where(np.isnan(got), 0.0, got)
    if decimals is not None:
        got = np.asarray(from_minor_units(got.astype(np.int64), decimals), dtype=np.float64)
    out = pd.DataFrame(
        {
            "target": merged["target"].to_numpy(dtype=np.float64, na_value=np.nan),
            "achieved": got,
            "has_target": ~only_actual,
        },
        index=pd.MultiIndex.from_frame(merged[names])
        if len(names) > 1
        else pd.Index(merged[names[0]], name=names[0]),
    )
    return out.sort_index(kind="mergesort")


def _attainment_ratio(
    achieved: npt.NDArray[np.float64],
    target: npt.NDArray[np.float64],
    zero_target: object,
    cap: float | None,
) -> npt.NDArray[np.float64]:
    ratio = np.full(achieved.shape, np.nan)
    pos = target > 0
    np.divide(achieved, target, out=ratio, where=pos)
    zero = target == 0
    if zero_target == "inf":
        sign = np.sign(achieved[zero])
        ratio[zero] = np.select([sign > 0, sign < 0], [np.inf, -np.inf], default=np.nan)
    elif not isinstance(zero_target, str):
        ratio[zero] = float(zero_target)  # type: ignore[arg-type]  # checked as a real number
    if cap is not None:
        ratio = np.where(np.isnan(ratio), np.nan, np.minimum(ratio, cap))
    return ratio


def attainment(
    actuals: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("person", "period"),
    amount: str = "amount",
    target: str = "target",
    date: str | None = "date",
    period: str = "M",
    status: str | None = None,
    won: str = "won",
    unmatched: Unmatched = "include",
    zero_target: Literal["nan", "inf"] | float = "nan",
    cap: float | None = None,
    decimals: int | None = None,
    key: str | None = "opportunity_id",
    period_column: str = "period",
) -> pd.DataFrame:
    r"""Compute target, achieved, variance and attainment per person and period.

    ``achieved`` is the sum of ``amount`` over the actuals of each key (negative amounts such
    as refunds reduce it); ``variance = achieved - target``; ``attainment = achieved / target``
    (1.0 = exactly on target; not capped at 1 unless ``cap`` is given).

    Parameters
    ----------
    actuals
        One row per sale (deal or transaction); may be empty (every target then shows 0
        achieved). Needs ``amount``, the non-period ``by`` columns and ``date``.
    targets
        One row per key with its target, e.g. a quota plan in long form: ``person``,
        ``period`` (month start; any date inside the period, ``Period`` values or ISO text are
        read as that period), ``target`` (finite, >= 0). A key twice is an error. A
        :class:`crmcore.quota.QuotaPlan` fits as ``plan.to_amounts()`` with
        ``target="quota", period_column="month"``.
    by
        Key columns present in both tables; default ``("person", "period")``. ``"period"``
        in actuals comes from ``date`` with frequency ``period``.
    amount, target
        Amount column of ``actuals`` and target column of ``targets``.
    date
        Date column of ``actuals`` that places each sale in a period; ``None`` reads an
        existing ``period`` column of ``actuals`` instead (pre-aggregated actuals).
    period
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.
    status, won
        With ``status`` given, only rows of ``actuals`` whose ``status`` equals ``won`` count
        (pass ``status="status"`` for a deals table with open and lost deals).
    unmatched
        What to do with sales whose key has no target: ``"include"`` (default) adds a row with
        target NaN, attainment NaN and ``has_target=False``; ``"drop"`` leaves them out;
        ``"error"`` raises :class:`~crmcore.errors.DataError` naming the first such row.
    zero_target
        Attainment where the target is 0: ``"nan"`` (default; undefined), ``"inf"``
        (``±inf`` when something was achieved, NaN when nothing was) or a number used as is
        (e.g. ``1.0`` to treat a zero target as met).
    cap
        Upper bound on attainment (e.g. ``1.0`` for Odoo-style completeness); ``None``
        (default) leaves it uncapped. Variance is never capped.
    decimals
        When given, amounts are summed exactly in integer minor units with this many decimals
        (:func:`crmcore.money.to_minor_units`), so achieved totals reconcile to the cent.
    key
        Id column of ``actuals`` named in error messages (used when present).
    period_column
        Name of the period column of ``targets`` (and of ``actuals`` when ``date`` is None),
        e.g. ``"month"`` for a :class:`crmcore.quota.QuotaPlan` table; the result's index
        level is called ``"period"`` either way.

    Returns
    -------
    pandas.DataFrame
        Indexed by the ``by`` keys, sorted. Columns ``target``, ``achieved``, ``variance``,
        ``attainment`` (float64) and ``has_target`` (bool).

    Raises
    ------
    SchemaError
        Missing column, or empty targets.
    DataError
        Duplicate target keys, NaN or negative targets, NaN amounts, missing keys or dates,
        unmatched sales with ``unmatched="error"``.
    ColumnTypeError
        Non-numeric amounts or targets, or a key holding numbers in one table and text in the
        other.
    ConfigError
        Bad ``by``, ``period``, ``unmatched``, ``zero_target``, ``cap`` or ``decimals``.

    See Also
    --------
    target_variance : the same comparison with percentage variance and shortfall.

    Examples
    --------
    >>> from crmcore.kpi import attainment
    >>> sales = pd.DataFrame({"person": ["ann", "ann", "bob"],
    ...                       "date": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-01-09"]),
    ...                       "amount": [600.0, 600.0, 300.0]})
    >>> goals = pd.DataFrame({"person": ["ann", "ann", "bob"],
    ...                       "period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-01"]),
    ...                       "target": [1000.0, 1000.0, 0.0]})
    >>> attainment(sales, goals)
                       target  achieved  variance  attainment  has_target
    person period
    ann    2024-01-01  1000.0    1200.0     200.0         1.2        True
           2024-02-01  1000.0       0.0   -1000.0         0.0        True
    bob    2024-01-01     0.0     300.0     300.0         NaN        True
    """
    _check_zero_target(zero_target)
    if cap is not None:
        check_scalar(cap, "cap", kind=float, min_value=0.0, include="neither")
    base = _core(
        actuals,
        targets,
        by=by,
        amount=amount,
        target=target,
        date=date,
        period=period,
        status=status,
        won=won,
        unmatched=unmatched,
        decimals=decimals,
        key=key,
        period_column=period_column,
    )
    t = base["target"].to_numpy(dtype=np.float64)
    a = base["achieved"].to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "target": t,
            "achieved": a,
            "variance": a - t,
            "attainment": _attainment_ratio(a, t, zero_target, cap),
            "has_target": base["has_target"].to_numpy(dtype=bool),
        },
        index=base.index,
    )


def target_variance(
    actuals: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("person", "period"),
    amount: str = "amount",
    target: str = "target",
    date: str | None = "date",
    period: str = "M",
    status: str | None = None,
    won: str = "won",
    unmatched: Unmatched = "include",
    decimals: int | None = None,
    key: str | None = "opportunity_id",
    period_column: str = "period",
) -> pd.DataFrame:
    r"""Compute absolute and percentage variance against target, and the shortfall.

    The ERPNext-style variance report, plus the relative figure ERPNext leaves out:

    .. math::

        \text{variance} = a - t,\quad
        \text{variance\_pct} = \frac{a - t}{t},\quad
        \text{shortfall} = \max(t - a, 0)

    ``variance_pct`` equals ``attainment - 1`` and is NaN where the target is 0 (or missing).
    Keys, matching and options are those of :func:`attainment`.

    Parameters
    ----------
    actuals, targets
        As in :func:`attainment`.
    by, amount, target, date, period, status, won, unmatched, decimals, key, period_column
        As in :func:`attainment`.

    Returns
    -------
    pandas.DataFrame
        Indexed by the ``by`` keys, sorted. Columns ``target``, ``achieved``, ``variance``,
        ``variance_pct``, ``shortfall`` (float64; shortfall NaN without a target) and
        ``has_target`` (bool).

    Raises
    ------
    SchemaError, DataError, ColumnTypeError, ConfigError
        As in :func:`attainment`.

    Examples
    --------
    >>> from crmcore.kpi import target_variance
    >>> sales = pd.DataFrame({"person": ["ann", "bob"],
    ...                       "date": pd.to_datetime(["2024-01-03", "2024-01-09"]),
    ...                       "amount": [1200.0, 450.0]})
    >>> goals = pd.DataFrame({"person": ["ann", "bob"],
    ...                       "period": pd.to_datetime(["2024-01-01", "2024-01-01"]),
    ...                       "target": [1000.0, 500.0]})
    >>> target_variance(sales, goals)[["variance", "variance_pct", "shortfall"]]
                       variance  variance_pct  shortfall
    person period
    ann    2024-01-01     200.0           0.2        0.0
    bob    2024-01-01     -50.0          -0.1       50.0
    """
    base = _core(
        actuals,
        targets,
        by=by,
        amount=amount,
        target=target,
        date=date,
        period=period,
        status=status,
        won=won,
        unmatched=unmatched,
        decimals=decimals,
        key=key,
        period_column=period_column,
    )
    t = base["target"].to_numpy(dtype=np.float64)
    a = base["achieved"].to_numpy(dtype=np.float64)
    var = a - t
    pct = np.full(t.shape, np.nan)
    np.divide(var, t, out=pct, where=t > 0)
    return pd.DataFrame(
        {
            "target": t,
            "achieved": a,
            "variance": var,
            "variance_pct": pct,
            "shortfall": np.maximum(t - a, 0.0),
            "has_target": base["has_target"].to_numpy(dtype=bool),
        },
        index=base.index,
    )
