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

from collections.abc import Collection, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

import crmcore._frames as fr
from crmcore._compat import renamed_parameters
from crmcore._periods import period_start
from crmcore.errors import ColumnTypeError, ConfigError, DataError
from crmcore.kpi._groups import (
    PERIOD,
    by_names,
    period_code,
    read_periods,
    same_unit,
    status_masks,
)
from crmcore.money import from_minor_units, sum_minor_units, to_minor_units

__all__ = ["attainment", "target_variance"]

Unmatched = Literal["include", "drop", "error"]


def _check_zero_target(zero_target: object) -> None:
    if isinstance(zero_target, str):
        fr.check_choice(zero_target, "zero_target", ("nan", "inf"))
    else:
        fr.check_scalar(zero_target, "zero_target", kind=float)


def _check_options(
    by: str | Sequence[str],
    unmatched: Unmatched,
    decimals: int | None,
    period_column: str,
) -> list[str]:
    """Return the key names, after checking the options that do not depend on the data."""
    names = by_names(by)
    if not names:
        raise ConfigError("by must name at least one key, e.g. ('person', 'period')", column="by")
    fr.check_choice(unmatched, "unmatched", ("include", "drop", "error"))
    if decimals is not None:
        fr.check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    if not isinstance(period_column, str):
        raise ConfigError(
            f"period_column must be a column name, got {fr.show(period_column)}",
            column="period_column",
        )
    return names


def _target_table(
    targets: pd.DataFrame, names: Sequence[str], *, target: str, period_column: str, code: str
) -> pd.DataFrame:
    """One row per key with its ``target`` (finite, >= 0); a key twice is an error."""
    t_cols = [period_column if n == PERIOD else n for n in names]
    targets = fr.require_columns(targets, [*t_cols, target], arg="targets")
    keys: dict[str, object] = {}
    for name in names:
        if name == PERIOD:
            keys[name] = read_periods(targets, period_column, arg="targets", period=code).array
        else:
            fr.require_not_null(targets, name, arg="targets")
            keys[name] = targets[name].to_numpy()
    table = pd.DataFrame(keys)
    values = fr.numeric_column(
        targets, target, arg="targets", allow_negative=False, what="targets >= 0"
    )
    dup = fr.first_true(table.duplicated().to_numpy())
    if dup is not None:
        label = ", ".join(f"{n}={fr.show(table[n].iloc[dup])}" for n in names)
        raise DataError(
            f"targets has a second target for ({label}) at {fr.describe_row(targets, dup)}; "
            "expected one target per key",
            column=target,
            row=targets.index[dup],
            value=values[dup],
        )
    table["target"] = values
    return table


def _actual_table(
    rows: pd.DataFrame,
    names: Sequence[str],
    *,
    amount: str,
    date: str | None,
    period_column: str,
    code: str,
    key: str | None,
) -> tuple[pd.DataFrame, npt.NDArray[np.float64]]:
    """Return the key columns of the counted actuals, and their amounts."""
    keys: dict[str, object] = {}
    for name in names:
        if name == PERIOD and date is None:
            keys[name] = read_periods(rows, period_column, arg="actuals", period=code).array
        elif name == PERIOD and date is not None:
            dates = fr.datetime_column(rows, date, arg="actuals", key=key)
            keys[name] = period_start(dates, code).array
        else:
            fr.require_not_null(rows, name, arg="actuals", key=key)
            keys[name] = rows[name].to_numpy()
    return pd.DataFrame(keys), fr.numeric_column(rows, amount, arg="actuals", key=key)


def _align_keys(
    t_frame: pd.DataFrame, a_frame: pd.DataFrame, names: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Put both tables' keys in one representation: period zone and unit, number or text."""
    if PERIOD in names and len(a_frame):
        tz_t = getattr(t_frame[PERIOD].dtype, "tz", None)
        tz_a = getattr(a_frame[PERIOD].dtype, "tz", None)
        if (tz_t is None) != (tz_a is None):
            raise DataError(
                "targets' 'period' and actuals' dates mix naive and tz-aware dates; "
                "use one convention",
                column=PERIOD,
            )
        a_period = a_frame[PERIOD] if tz_t is None else a_frame[PERIOD].dt.tz_convert(tz_t)
        t_period, a_period = same_unit(t_frame[PERIOD], a_period)
        t_frame = t_frame.assign(**{PERIOD: t_period})
        a_frame = a_frame.assign(**{PERIOD: a_period})
    for name in names:
        if name == PERIOD or not len(a_frame):
            continue
        kt = pd.api.types.is_numeric_dtype(t_frame[name].dtype)
        ka = pd.api.types.is_numeric_dtype(a_frame[name].dtype)
        if kt != ka:
            raise ColumnTypeError(
                f"column {name!r} holds {t_frame[name].dtype} in targets but "
                f"{a_frame[name].dtype} in actuals; keys must be of one type to match",
                column=name,
            )
    return t_frame, a_frame


def _achieved(
    a_frame: pd.DataFrame,
    names: Sequence[str],
    decimals: int | None,
    *,
    rows: pd.DataFrame,
    amount: str,
    key: str | None,
) -> pd.DataFrame:
    """Sum ``achieved`` per key: exactly, in checked int64 minor units, with ``decimals``.

    Float sums past the largest float are an error naming the row of ``rows`` (the actuals).
    """
    if decimals is None:
        grouped = a_frame.groupby(list(names), sort=False)["achieved"]
        with np.errstate(over="ignore", invalid="ignore"):  # past the largest float: below
            sums = grouped.sum()
        checked = fr.checked_totals(
            sums.to_numpy(dtype=np.float64),
            a_frame["achieved"].to_numpy(dtype=np.float64),
            lambda: grouped.ngroup().to_numpy(),
            rows,
            amount,
            arg="actuals",
            key=key,
        )
        return sums.to_frame().assign(achieved=checked).reset_index()
    index = pd.MultiIndex.from_frame(a_frame[list(names)])
    codes, uniques = index.factorize()
    exact = sum_minor_units(
        a_frame["achieved"].to_numpy(), codes, len(uniques), name="achieved minor units"
    )
    keys = pd.MultiIndex.from_tuples(list(uniques), names=list(names)) if len(uniques) else index
    return keys.to_frame(index=False).assign(achieved=exact)


def _match(
    t_frame: pd.DataFrame,
    a_frame: pd.DataFrame,
    names: Sequence[str],
    *,
    unmatched: Unmatched,
    decimals: int | None,
    rows: pd.DataFrame,
    values: npt.NDArray[np.float64],
    amount: str,
    key: str | None,
) -> tuple[pd.DataFrame, npt.NDArray[np.bool_]]:
    """Targets outer-joined with the achieved sums, and which rows are sales without target."""
    merged = t_frame.merge(
        _achieved(a_frame, names, decimals, rows=rows, amount=amount, key=key),
        on=list(names),
        how="outer",
        indicator=True,
    )
    only_actual = (merged["_merge"] == "right_only").to_numpy(dtype=bool)
    if only_actual.any() and unmatched == "error":
        probe = a_frame[list(names)].merge(
            t_frame[list(names)], on=list(names), how="left", indicator=True, sort=False
        )
        pos = fr.first_true((probe["_merge"] == "left_only").to_numpy(dtype=bool)) or 0
        label = ", ".join(f"{n}={fr.show(probe[n].iloc[pos])}" for n in names)
        raise DataError(
            f"actuals at {fr.describe_row(rows, pos, key)} has no target for ({label}); "
            "add a target or pass unmatched='include' (rows flagged has_target=False) or "
            "unmatched='drop'",
            column=amount,
            row=rows.index[pos],
            value=values[pos],
        )
    if unmatched == "drop":
        merged = merged.loc[~only_actual]
        only_actual = np.zeros(len(merged), dtype=bool)
    return merged, only_actual


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
    lost: str,
    open_values: Collection[str] | None,
    unmatched: Unmatched,
    decimals: int | None,
    opportunity: str | None,
    period_column: str,
) -> pd.DataFrame:
    """Return target, achieved and has_target per key (sorted), before the ratios."""
    names = _check_options(by, unmatched, decimals, period_column)
    code = period_code(period)
    t_frame = _target_table(targets, names, target=target, period_column=period_column, code=code)
    needed = [amount, *(n for n in names if n != PERIOD)]
    if PERIOD in names:
        needed.append(date if date is not None else period_column)
    actuals = fr.require_columns(actuals, needed, arg="actuals", allow_empty=True)
    k = opportunity if opportunity is not None and opportunity in actuals.columns else None
    rows = actuals
    if status is not None:
        actuals = fr.require_columns(actuals, [status], arg="actuals", allow_empty=True)
        is_won, _, _ = status_masks(
            actuals,
            status=status,
            won=won,
            lost=lost,
            open_values=open_values,
            key=k,
            arg="actuals",
        )
        rows = actuals.loc[is_won]
    a_frame, values = _actual_table(
        rows, names, amount=amount, date=date, period_column=period_column, code=code, key=k
    )
    a_frame["achieved"] = (
        values if decimals is None else to_minor_units(values, decimals, name=f"column {amount!r}")
    )
    t_frame, a_frame = _align_keys(t_frame, a_frame, names)
    merged, only_actual = _match(
        t_frame,
        a_frame,
        names,
        unmatched=unmatched,
        decimals=decimals,
        rows=rows,
        values=values,
        amount=amount,
        key=k,
    )
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
        index=pd.MultiIndex.from_frame(merged[list(names)])
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


@renamed_parameters(key="opportunity")
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
    lost: str = "lost",
    open_values: Collection[str] | None = ("open",),
    unmatched: Unmatched = "include",
    zero_target: Literal["nan", "inf"] | float = "nan",
    cap: float | None = None,
    decimals: int | None = None,
    opportunity: str | None = "opportunity_id",
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
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"`` (pandas aliases accepted).
    status, won, lost, open_values
        With ``status`` given, only rows of ``actuals`` whose ``status`` equals ``won`` count
        (pass ``status="status"`` for a deals table with open and lost deals). Every status
        must be ``won``, ``lost`` or one of ``open_values``, else a
        :class:`~crmcore.errors.DataError` names the row (``"Won"`` is not ``"won"``);
        ``open_values=None`` takes every other value as not won.
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
    opportunity
        Id column of ``actuals`` named in error messages (used when present; ``key=`` before
        crmcore 0.2).
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
        an unknown status, unmatched sales with ``unmatched="error"``.
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
        fr.check_scalar(cap, "cap", kind=float, min_value=0.0, include="neither")
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
        lost=lost,
        open_values=open_values,
        unmatched=unmatched,
        decimals=decimals,
        opportunity=opportunity,
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


@renamed_parameters(key="opportunity")
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
    lost: str = "lost",
    open_values: Collection[str] | None = ("open",),
    unmatched: Unmatched = "include",
    decimals: int | None = None,
    opportunity: str | None = "opportunity_id",
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
    by, amount, target, date, period, status, won, lost, open_values, unmatched
        As in :func:`attainment`.
    decimals, opportunity, period_column
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
        lost=lost,
        open_values=open_values,
        unmatched=unmatched,
        decimals=decimals,
        opportunity=opportunity,
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
