"""Quota plans on frames: weights from potential and history, allocation, seasonality, ramps.

Every amount is an ``int64`` count of minor units (cents); every split is an exact
apportionment (:func:`crmcore.quota.apportion`), so each level of a plan adds up to the level
above it to the cent.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_choice,
    check_scalar,
    describe_row,
    first_true,
    numeric_column,
    require_columns,
    require_not_null,
    require_unique,
    show,
)
from crmcore.errors import ConfigError, CRMError, DataError
from crmcore.money import from_minor_units, split_minor_units
from crmcore.quota._apportion import apportion, canonical_method

__all__ = [
    "DEFAULT_GRADE_WEIGHTS",
    "DEFAULT_RAMP",
    "QuotaPlan",
    "allocate",
    "build_plan",
    "history_weights",
    "plan_pivot",
    "potential_weights",
    "ramp_factors",
    "reassign_accounts",
    "seasonal_split",
]

#: Weight of one account of each grade (A high value, B potential, C low value).
DEFAULT_GRADE_WEIGHTS: Mapping[str, float] = {"A": 5.0, "B": 3.0, "C": 1.0}
#: Share of a full quota carried in the 1st, 2nd, 3rd, ... month of tenure (then 100 %).
DEFAULT_RAMP: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)

_PCT_TOLERANCE = 1e-9


# --------------------------------------------------------------------------------------------
# Seasonality
# --------------------------------------------------------------------------------------------


def _percentages(distribution: Any) -> pd.Series:
    if isinstance(distribution, pd.Series):
        series = distribution.copy()
    elif isinstance(distribution, Mapping):
        series = pd.Series(list(distribution.values()), index=list(distribution.keys()))
    else:
        values = list(distribution)
        series = pd.Series(values, index=pd.RangeIndex(1, len(values) + 1))
    if len(series) == 0:
        raise ConfigError(
            "distribution is empty; expected at least one period", column="distribution"
        )
    if series.index.has_duplicates:
        dup = series.index[series.index.duplicated()][0]
        raise ConfigError(
            f"distribution has period {dup!r} twice; each period must appear once",
            column="distribution",
            value=dup,
        )
    try:
        pct = series.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError("distribution must hold numbers (percentages)") from None
    for mask, what in ((~np.isfinite(pct), "non-finite"), (pct < 0, "negative")):
        pos = first_true(mask)
        if pos is not None:
            raise ConfigError(
                f"distribution has {what} percentage {show(pct[pos])} for period "
                f"{series.index[pos]!r}; expected finite percentages >= 0",
                column="distribution",
                row=series.index[pos],
                value=pct[pos],
            )
    total = float(pct.sum())
    if abs(total - 100.0) > _PCT_TOLERANCE:
        raise ConfigError(
            f"distribution percentages sum to {total:g}, not 100; every period's share must be "
            "given so that they add up to 100 %",
            column="distribution",
            value=total,
        )
    return pd.Series(pct, index=series.index)


def seasonal_split(
    total: int,
    distribution: Mapping[Hashable, float] | pd.Series | Sequence[float],
    *,
    method: str = "hamilton",
) -> pd.Series:
    """Split a total over months (or quarters) by percentages, exactly.

    Like ERPNext's *Monthly Distribution*, the percentages must add up to 100; unlike it, the
    parts are whole minor units that add up to ``total`` exactly (largest remainder by default).

    Parameters
    ----------
    total
        Non-negative integer total in minor units.
    distribution
        Percentage per period: a Series or mapping keyed by period label, or a sequence (labels
        ``1 .. n``). Must be finite, non-negative and sum to 100 (within ``1e-9``).
    method
        Apportionment method (see :func:`crmcore.quota.apportion`).

    Returns
    -------
    pandas.Series of int64
        Named ``quota_cents``, indexed by the period labels in the given order (index name
        ``period``); sums to ``total``.

    Raises
    ------
    ConfigError
        Percentages not summing to 100, negative or NaN, duplicated labels, or bad total/method.

    Examples
    --------
    >>> seasonal_split(100_000, {"Q1": 20, "Q2": 25, "Q3": 25, "Q4": 30}).tolist()
    [20000, 25000, 25000, 30000]
    >>> seasonal_split(100, [100 / 3] * 3).tolist()
    [34, 33, 33]
    """
    pct = _percentages(distribution)
    parts = apportion(total, pct.to_numpy(), method)
    index = pd.Index(pct.index, name="period")
    return pd.Series(parts, index=index, name="quota_cents", dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------


def potential_weights(
    accounts: pd.DataFrame,
    *,
    owner: str = "person",
    grade: str = "grade",
    grade_weights: Mapping[str, float] | None = None,
) -> pd.Series:
    """Sum a weight per account grade (A = 5, B = 3, C = 1 by default) for each owner.

    Parameters
    ----------
    accounts
        One row per account with its ``owner`` and ``grade`` (e.g. from customer grades).
    owner, grade
        Column names.
    grade_weights
        Weight of one account of each grade; default :data:`DEFAULT_GRADE_WEIGHTS`.

    Returns
    -------
    pandas.Series of float64
        Named ``potential``, indexed by owner (sorted).

    Raises
    ------
    SchemaError
        Missing columns or no rows.
    DataError
        A missing owner or grade, or a grade not in ``grade_weights``.
    ConfigError
        Negative or non-finite grade weights.

    Examples
    --------
    >>> accounts = pd.DataFrame({"person": ["ann", "ann", "bob"], "grade": ["A", "C", "B"]})
    >>> potential_weights(accounts).to_dict()
    {'ann': 6.0, 'bob': 3.0}
    """
    require_columns(accounts, [owner, grade], arg="accounts")
    require_not_null(accounts, owner, arg="accounts", key=owner)
    require_not_null(accounts, grade, arg="accounts", key=owner)
    table = dict(DEFAULT_GRADE_WEIGHTS if grade_weights is None else grade_weights)
    for g, v in table.items():
        check_scalar(v, f"grade_weights[{g!r}]", kind=float, min_value=0.0)
        if not np.isfinite(float(v)):
            raise ConfigError(f"grade_weights[{g!r}] == {v!r}, must be finite", value=v)
    grades = accounts[grade]
    known = grades.isin(list(table)).to_numpy()
    pos = first_true(~known)
    if pos is not None:
        value = grades.iloc[pos]
        raise DataError(
            f"column {grade!r} of accounts has grade {show(value)} at "
            f"{describe_row(accounts, pos, owner)} with no weight; grade_weights has "
            f"{', '.join(repr(g) for g in table)}",
            column=grade,
            row=accounts.index[pos],
            value=value,
        )
    w = grades.map(table).to_numpy(dtype=np.float64)
    out = pd.Series(w, index=accounts[owner].to_numpy()).groupby(level=0, sort=True).sum()
    out.index.name = owner
    return out.rename("potential").astype(np.float64)


def history_weights(
    sales: pd.DataFrame,
    *,
    owner: str = "person",
    amount: str = "amount",
    potential: pd.Series | None = None,
    blend: float = 0.0,
) -> pd.Series:
    """Weights from last period's sales per owner, optionally blended with potential.

    ``weight = (1 - blend) * sales_share + blend * potential_share``, where each share is the
    owner's fraction of the total (so the two signals are put on the same scale first).

    Parameters
    ----------
    sales
        Sales rows of the reference period (several rows per owner allowed; amounts >= 0).
    owner, amount
        Column names.
    potential
        Potential per owner (e.g. :func:`potential_weights`); needed when ``blend > 0``.
        Owners present in only one of the two get 0 for the other signal.
    blend
        Share of potential in the weight, 0 (history only) to 1 (potential only).

    Returns
    -------
    pandas.Series of float64
        Named ``weight``, indexed by owner (sorted); sums to 1.

    Raises
    ------
    SchemaError
        Missing columns or no rows.
    DataError
        Negative or NaN amounts, missing owners.
    ConfigError
        ``blend`` outside [0, 1], ``blend > 0`` without potential, all-zero signals.

    Examples
    --------
    >>> sales = pd.DataFrame({"person": ["ann", "bob", "bob"], "amount": [300.0, 50.0, 50.0]})
    >>> history_weights(sales).to_dict()
    {'ann': 0.75, 'bob': 0.25}
    >>> pot = pd.Series({"ann": 1.0, "bob": 3.0})
    >>> history_weights(sales, potential=pot, blend=0.5).to_dict()
    {'ann': 0.5, 'bob': 0.5}
    """
    require_columns(sales, [owner, amount], arg="sales")
    require_not_null(sales, owner, arg="sales", key=owner)
    check_scalar(blend, "blend", kind=float, min_value=0.0, max_value=1.0)
    values = numeric_column(sales, amount, arg="sales", key=owner, allow_negative=False)
    hist = pd.Series(values, index=sales[owner].to_numpy()).groupby(level=0, sort=True).sum()
    if blend > 0 and potential is None:
        raise ConfigError(f"blend == {blend!r} needs potential per owner", column="potential")
    if potential is not None and blend > 0:
        pot_frame = pd.DataFrame({"potential": potential})
        pot = pd.Series(
            numeric_column(pot_frame, "potential", arg="potential", allow_negative=False),
            index=potential.index,
        )
        if pot.index.has_duplicates:
            raise ConfigError("potential has a duplicated owner", column="potential")
        owners = hist.index.union(pot.index).sort_values()
        hist = hist.reindex(owners, fill_value=0.0)
        pot = pot.reindex(owners, fill_value=0.0)
    else:
        pot = pd.Series(0.0, index=hist.index)
    hsum, psum = float(hist.sum()), float(pot.sum())
    if blend < 1 and hsum <= 0:
        raise ConfigError("sales amounts are all zero; cannot weight by history", column=amount)
    if blend > 0 and psum <= 0:
        raise ConfigError("potential is all zero; cannot blend it in", column="potential")
    h_share = hist / hsum if hsum > 0 else hist * 0.0
    p_share = pot / psum if psum > 0 else pot * 0.0
    out = (1.0 - blend) * h_share + blend * p_share
    out.index.name = owner
    return out.rename("weight").astype(np.float64)


# --------------------------------------------------------------------------------------------
# Allocation
# --------------------------------------------------------------------------------------------


def _bound_values(frame: pd.DataFrame, value: Any) -> Any:
    """Return a bound as given, or the values of the column it names."""
    if isinstance(value, str):
        require_columns(frame, [value], arg="frame")
        return numeric_column(frame, value, arg="frame", allow_negative=False)
    return value


def allocate(
    frame: pd.DataFrame,
    total: int,
    *,
    weight: str = "weight",
    key: str = "person",
    method: str = "hamilton",
    minimum: int | str | None = None,
    maximum: int | str | None = None,
) -> pd.DataFrame:
    """Allocate an integer total over the rows of a frame (people, territories) by weight.

    Rows are put in ``key`` order before apportioning, so the result does not depend on the
    order of the input rows (exact ties go to the smaller key).

    Parameters
    ----------
    frame
        One row per ``key`` with a non-negative ``weight`` column.
    total
        Non-negative integer total in minor units.
    weight, key
        Column names.
    method
        Apportionment method (see :func:`crmcore.quota.apportion`).
    minimum, maximum
        ``None``, one integer for every row, or the name of a column of whole numbers.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``key`` (sorted), columns ``weight`` (float64), ``share`` (weight / sum of
        weights, float64) and ``quota_cents`` (int64, summing to ``total``).

    Raises
    ------
    SchemaError
        Missing columns or no rows.
    DataError
        Duplicated or missing keys, NaN or negative weights.
    ConfigError
        All-zero weights, infeasible bounds, unknown method.

    Examples
    --------
    >>> people = pd.DataFrame({"person": ["bob", "ann", "cy"], "weight": [1, 1, 1]})
    >>> allocate(people, 100_00)
            weight     share  quota_cents
    person
    ann        1.0  0.333333         3334
    bob        1.0  0.333333         3333
    cy         1.0  0.333333         3333
    """
    require_columns(frame, [key, weight], arg="frame")
    require_not_null(frame, key, arg="frame", key=key)
    require_unique(frame, key, arg="frame")
    canonical_method(method)
    order = np.argsort(frame[key].to_numpy(), kind="stable")
    ordered = frame.iloc[order]
    w = numeric_column(ordered, weight, arg="frame", key=key, allow_negative=False)
    if not (w > 0).any():
        raise ConfigError(
            f"column {weight!r} of frame is all zero; at least one weight must be positive",
            column=weight,
        )
    lo = _bound_values(ordered, minimum)
    hi = _bound_values(ordered, maximum)
    parts = apportion(total, w, method, minimum=lo, maximum=hi)
    index = pd.Index(ordered[key].to_numpy(), name=key)
    return pd.DataFrame(
        {"weight": w, "share": w / w.sum(), "quota_cents": parts.astype(np.int64)}, index=index
    )


# --------------------------------------------------------------------------------------------
# Ramp
# --------------------------------------------------------------------------------------------


def _check_ramp(ramp: Sequence[float]) -> npt.NDArray[np.float64]:
    arr = np.asarray(list(ramp), dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ConfigError("ramp must be a non-empty sequence of factors", column="ramp")
    pos = first_true(~np.isfinite(arr) | (arr < 0) | (arr > 1))
    if pos is not None:
        raise ConfigError(
            f"ramp has factor {show(arr[pos])} for tenure month {pos + 1}; expected 0 .. 1",
            column="ramp",
            row=pos,
            value=arr[pos],
        )
    return arr


def _monthly_periods(periods: Any) -> pd.PeriodIndex:
    index = pd.Index(periods)
    if isinstance(index, pd.PeriodIndex):
        return index.asfreq("M")
    if isinstance(index, pd.DatetimeIndex):
        return index.to_period("M")
    if index.dtype.kind in "OU" or pd.api.types.is_string_dtype(index.dtype):
        try:  # month text such as "2025-01"
            return pd.PeriodIndex([pd.Period(str(x), freq="M") for x in index])
        except (ValueError, TypeError):
            pass
    raise ConfigError(
        "periods must be monthly pandas Periods or dates to apply ramp factors from start dates",
        column="periods",
    )


def ramp_factors(
    people: pd.DataFrame,
    periods: Sequence[Any] | pd.PeriodIndex,
    *,
    person: str = "person",
    start: str = "start",
    ramp: Sequence[float] = DEFAULT_RAMP,
) -> pd.DataFrame:
    """Share of a full quota each person carries in each month, from their start date.

    In the month a person starts their factor is ``ramp[0]``, the next month ``ramp[1]``, and
    so on; after the last factor it stays at the last factor (normally 1). Before the start month
    the factor is 0.

    Parameters
    ----------
    people
        One row per person with a ``start`` date (hire date).
    periods
        The plan's months (monthly Periods or dates).
    person, start
        Column names.
    ramp
        Factors by month of tenure, each in [0, 1].

    Returns
    -------
    pandas.DataFrame
        Persons (sorted) as rows, periods as columns, float64 factors.

    Raises
    ------
    ConfigError
        Factors outside [0, 1]; periods that are not months.
    SchemaError, DataError
        Missing columns, missing or unreadable start dates, duplicated persons.

    Examples
    --------
    >>> people = pd.DataFrame({"person": ["ann", "new"], "start": ["2020-05-01", "2025-02-10"]})
    >>> ramp_factors(people, pd.period_range("2025-01", periods=4, freq="M"))
    month   2025-01  2025-02  2025-03  2025-04
    person
    ann         1.0     1.00      1.0     1.00
    new         0.0     0.25      0.5     0.75
    """
    from crmcore._frames import datetime_column

    require_columns(people, [person, start], arg="people")
    require_not_null(people, person, arg="people", key=person)
    require_unique(people, person, arg="people")
    factors = _check_ramp(ramp)
    months = _monthly_periods(periods)
    dates = datetime_column(people, start, arg="people", key=person)
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_localize(None)
    start_m = dates.dt.to_period("M")
    start_ord = np.asarray([p.ordinal for p in start_m], dtype=np.int64)
    month_ord = months.asi8.astype(np.int64)
    tenure = month_ord[None, :] - start_ord[:, None]
    idx = np.clip(tenure, 0, factors.size - 1)
    values = np.where(tenure < 0, 0.0, factors[idx])
    out = pd.DataFrame(
        values,
        index=pd.Index(people[person].to_numpy(), name=person),
        columns=pd.Index(months.astype(str), name="month"),
    )
    return out.sort_index()


# --------------------------------------------------------------------------------------------
# Controlled rounding (person x month)
# --------------------------------------------------------------------------------------------

#: Relative tolerance below which a float cell counts as a whole number (float noise of x).
_INTEGRAL_TOLERANCE = 64 * float(np.finfo(np.float64).eps)


def _augment(
    e: npt.NDArray[np.bool_],
    eligible: npt.NDArray[np.bool_],
    row_left: npt.NDArray[np.int64],
    col_left: npt.NDArray[np.int64],
) -> bool:
    """Push one more unit along a shortest augmenting path (max-flow step); ``False`` if none.

    The flow network is source -> row ``i`` (capacity ``row_left``) -> column ``j`` (capacity
    1 on eligible cells) -> sink (capacity ``col_left``). A path enters a column from a row
    with units left, then may move a unit of some row from the column it holds to another
    column, and ends at a column with units left. Breadth-first search runs over the ``m``
    columns; each step is vectorised over rows.
    """
    m = e.shape[1]
    free = eligible & ~e
    e_int = e.astype(np.float64)
    # move[j, k]: number of rows holding column j that could take column k instead.
    move = e_int.T @ free.astype(np.float64)
    start = free[row_left > 0].any(axis=0)
    parent = np.full(m, -2, dtype=np.int64)  # -2 unreached, -1 entered from a row with units
    parent[start] = -1
    frontier = [int(j) for j in np.flatnonzero(start)]
    end = -1
    while frontier and end < 0:
        nxt: list[int] = []
        for j in frontier:
            if col_left[j] > 0:
                end = j
                break
            reached = [int(c) for c in np.flatnonzero((move[j] > 0) & (parent == -2))]
            parent[reached] = j
            nxt += reached
        frontier = nxt
    if end < 0:
        return False
    k = end
    while parent[k] >= 0:  # walk back: a row moves its unit from column parent[k] to k
        j = int(parent[k])
        i = int(np.argmax(e[:, j] & free[:, k]))
        e[i, j] = False
        e[i, k] = True
        free[i, j] = True
        free[i, k] = False
        k = j
    i = int(np.argmax(free[:, k] & (row_left > 0)))
    e[i, k] = True
    row_left[i] -= 1
    col_left[end] -= 1
    return True


def _controlled_round(
    exact: npt.NDArray[np.float64],
    row_totals: npt.NDArray[np.int64],
    col_totals: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Round a non-negative real matrix to integers with both margins prescribed.

    Controlled rounding (Bacharach 1966; Cox & Ernst 1982): every cell becomes the floor or
    the ceiling of its exact value (a whole-number cell stays as it is), row ``i`` sums to
    ``row_totals[i]`` and column ``j`` to ``col_totals[j]``. With ``f = floor(exact)`` the
    residual problem is a 0/1 matrix with row sums ``row_totals - f.sum(1)`` and column sums
    ``col_totals - f.sum(0)`` on the cells with a fractional part: a transportation problem,
    whose polytope has integral vertices, so a solution exists whenever a fractional one does.

    It is found by the Gale-Ryser greedy (columns in non-increasing residual; each column's
    units to the eligible rows with the least slack, i.e. eligible cells left in this and later
    columns minus units still needed, which without whole cells is Ryser's "most units left";
    ties to the larger fractional part, then the lower position), vectorised over rows, then
    completed by augmenting paths (a max-flow over the few columns) for the units the greedy
    could not place. If no augmenting path is
    left, no such rounding exists and a :class:`~crmcore.errors.CRMError` says so (never seen
    for the plans :func:`build_plan` makes).
    """
    tol = _INTEGRAL_TOLERANCE * np.maximum(exact, 1.0)
    base = np.floor(exact + tol)
    frac = exact - base
    return _round_residual(base.astype(np.int64), frac, frac > tol, row_totals, col_totals)


def _proportional_cells(
    totals: npt.NDArray[np.int64], weights: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Floors, fractional parts and "has a fraction" of ``totals_i * w_j / sum(w)``, exactly.

    The weights are read as the exact binary fractions they store, put on a common
    denominator and reduced, so floors and whole-number cells are exact at any total (int64
    products when they fit, Python integers otherwise); fractions are floats, used for ties.
    """
    ratios = [float(v).as_integer_ratio() for v in weights]
    denom = max(d for _, d in ratios)
    nums = [num * (denom // d) for num, d in ratios]
    g = 0
    for v in nums:
        g = math.gcd(g, v)
    nums = [v // max(g, 1) for v in nums]
    whole = sum(nums)
    if max(nums) * max(int(totals.max(initial=0)), 1) < 2**62 // max(len(nums), 1):
        prod = totals[:, None] * np.asarray(nums, dtype=np.int64)[None, :]
        base = prod // whole
        rem = prod - base * whole
        return base, rem / whole, rem != 0
    prod_o = totals.astype(object)[:, None] * np.asarray(nums, dtype=object)[None, :]
    base_o = prod_o // whole
    rem_o = prod_o - base_o * whole
    frac = np.asarray(rem_o / whole, dtype=np.float64)
    return base_o.astype(np.int64), frac, np.asarray(rem_o != 0, dtype=np.bool_)


def _round_residual(
    base_i: npt.NDArray[np.int64],
    frac: npt.NDArray[np.float64],
    eligible: npt.NDArray[np.bool_],
    row_totals: npt.NDArray[np.int64],
    col_totals: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Add a 0/1 matrix on the ``eligible`` cells of ``base_i`` to meet both margins."""
    n, m = base_i.shape
    row_left = row_totals.astype(np.int64) - base_i.sum(axis=1)
    col_left = col_totals.astype(np.int64) - base_i.sum(axis=0)
    if int(row_left.sum()) != int(col_left.sum()):
        raise CRMError(
            f"controlled rounding: row totals sum to {int(row_totals.sum())} but column totals "
            f"to {int(col_totals.sum())}"
        )
    e = np.zeros((n, m), dtype=np.bool_)
    if (row_left < 0).any() or (col_left < 0).any():
        raise CRMError("controlled rounding: a margin is below the sum of its cells' floors")
    position = np.arange(n)
    open_cells = eligible.sum(axis=1)  # eligible cells of each row in columns not yet done
    for j in np.argsort(-col_left, kind="stable"):  # the few periods, never the rows
        slack = open_cells - row_left  # cells a row can still skip; 0: it needs them all
        open_cells -= eligible[:, j]
        if col_left[j] == 0:
            continue
        cand = np.flatnonzero(eligible[:, j] & (row_left > 0))
        if cand.size == 0:
            continue
        pick = cand[np.lexsort((position[cand], -frac[cand, j], slack[cand]))]
        pick = pick[: int(col_left[j])]
        e[pick, j] = True
        row_left[pick] -= 1
        col_left[j] -= pick.size
    while col_left.sum() > 0:
        if not _augment(e, eligible, row_left, col_left):
            raise CRMError(
                "controlled rounding is infeasible: no integer matrix has these margins with "
                "every cell the floor or ceiling of its exact value (internal error; please "
                "report the input)"
            )
    return base_i + e.astype(np.int64)


def _redistribute(
    cells: npt.NDArray[np.int64],
    factors: npt.NDArray[np.float64],
    *,
    group_total: npt.NDArray[np.int64],
    group: npt.NDArray[np.int64],
    codes: npt.NDArray[np.int64],
    n_months: int,
) -> npt.NDArray[np.int64]:
    """Split each region-month total over its people by ramped quota, margins controlled.

    The exact share of person ``i`` in month ``j`` of region ``k`` is
    ``y_ij = G_kj * u_ij f_ij / sum_k(u f)``. Each region's people x months block is rounded
    with the region-month totals ``G_kj`` as column margins and, as row margins, the largest
    remainder split of the region total over the people's exact ramped years ``sum_j y_ij``.
    Should a block have no such rounding, the years only need to be the floor or ceiling of
    their exact value (a slack column ``ceil(year) - year`` makes every margin whole, so a
    rounding exists); only if float noise defeats that too, each region-month is split on its
    own (columns exact, every cell the floor or ceiling of ``y_ij``).
    """
    weights = cells * factors
    fallback = split_minor_units(group_total, weights, group)
    capacity = np.bincount(group, weights=weights, minlength=group_total.size)
    safe = np.where(capacity > 0, capacity, 1.0)
    exact = (group_total[group] * (weights / safe[group])).reshape(-1, n_months)
    out = fallback.reshape(-1, n_months).copy()
    for r in range(int(codes.max()) + 1 if codes.size else 0):  # a handful of regions
        members = np.flatnonzero(codes == r)
        month_total = group_total[r * n_months : (r + 1) * n_months]
        region_sum = int(month_total.sum())
        if region_sum == 0:
            continue
        years = split_minor_units(np.array([region_sum]), exact[members].sum(axis=1))
        try:
            out[members] = _controlled_round(exact[members], years, month_total)
            continue
        except CRMError:  # no rounding with these years: years to floor or ceiling
            pass
        block = exact[members]
        ramped = block.sum(axis=1)
        ceil_rows = np.ceil(ramped - _INTEGRAL_TOLERANCE * np.maximum(ramped, 1.0))
        padded = np.column_stack([block, np.maximum(ceil_rows - ramped, 0.0)])
        slack = np.array([int(ceil_rows.sum()) - region_sum], dtype=np.int64)
        try:  # all margins whole numbers: a rounding exists; float noise aside
            out[members] = _controlled_round(
                padded, ceil_rows.astype(np.int64), np.concatenate([month_total, slack])
            )[:, :n_months]
        except CRMError:  # keep the per-month split
            continue
    return out.reshape(-1)


def _round_all_margins(exact: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Round cells, row sums, column sums and total each to floor or ceiling (Cox & Ernst).

    The matrix is bordered by a slack column ``ceil(row) - row``, a slack row
    ``ceil(col) - col`` and a corner ``total - floor(total)``, so every row and column of the
    bordered matrix sums to a whole number; its controlled rounding always exists (the
    transportation polytope is integral) and the greedy plus augmenting paths finds it.
    """
    rows, cols, total = exact.sum(axis=1), exact.sum(axis=0), float(exact.sum())

    def up(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.ceil(v - _INTEGRAL_TOLERANCE * np.maximum(v, 1.0))

    floor_total = float(np.floor(total + _INTEGRAL_TOLERANCE * max(total, 1.0)))
    bordered = np.zeros((exact.shape[0] + 1, exact.shape[1] + 1))
    bordered[:-1, :-1] = exact
    bordered[:-1, -1] = np.maximum(up(rows) - rows, 0.0)
    bordered[-1, :-1] = np.maximum(up(cols) - cols, 0.0)
    bordered[-1, -1] = max(total - floor_total, 0.0)
    row_totals = np.append(up(rows), up(cols).sum() - floor_total).astype(np.int64)
    col_totals = np.append(up(cols), up(rows).sum() - floor_total).astype(np.int64)
    return _controlled_round(bordered, row_totals, col_totals)[:-1, :-1]


def _drop(
    cells: npt.NDArray[np.int64], factors: npt.NDArray[np.float64], n_months: int
) -> npt.NDArray[np.int64]:
    """Scale each person-month by its ramp factor, rounding with controlled margins.

    The exact ramped matrix is ``z_ij = u_ij f_ij``. The plan total is ``z``'s sum rounded half
    up and each month's total its largest remainder share (so within one unit of the exact
    ``sum_i z_ij``); every cell is the floor or ceiling of ``z_ij``, and each person's year the
    floor or ceiling of ``sum_j z_ij``. Should no rounding have these months, cells, years,
    months and total are each rounded to the floor or ceiling of their exact value (always
    possible, :func:`_round_all_margins`).
    """
    exact = (cells * factors).reshape(-1, n_months)
    fallback = np.floor(exact + 0.5).astype(np.int64)
    total = np.array([int(np.floor(exact.sum() + 0.5))], dtype=np.int64)
    rows = exact.sum(axis=1)
    if total[0] == 0 or not (rows > 0).any():
        return fallback.reshape(-1)
    months = split_minor_units(total, exact.sum(axis=0))
    # Years only need to be the floor or ceiling of their exact value: a slack column holding
    # ceil(year) - year makes every row sum a whole number, and the slack column's total is
    # what the rows give up, sum(ceil(year)) - total (Cox & Ernst's construction).
    ceil_rows = np.ceil(rows - _INTEGRAL_TOLERANCE * np.maximum(rows, 1.0))
    padded = np.column_stack([exact, np.maximum(ceil_rows - rows, 0.0)])
    slack = np.array([int(ceil_rows.sum()) - int(total[0])], dtype=np.int64)
    try:
        out = _controlled_round(
            padded, ceil_rows.astype(np.int64), np.concatenate([months, slack])
        )[:, :n_months]
    except CRMError:  # no rounding with these margins: every margin to floor or ceiling
        try:
            out = _round_all_margins(exact)
        except CRMError:  # float noise beyond 2**53: round each cell on its own
            out = fallback
    return out.reshape(-1)


# --------------------------------------------------------------------------------------------
# Hierarchical plan
# --------------------------------------------------------------------------------------------


def plan_pivot(
    table: pd.DataFrame,
    *,
    rows: str = "person",
    columns: str = "month",
    values: str = "quota_cents",
    margins: bool = True,
) -> pd.DataFrame:
    """Pivot a long plan table (e.g. ``QuotaPlan.table``) to rows x months, with exact totals.

    Parameters
    ----------
    table
        Long frame with the ``rows``, ``columns`` and ``values`` columns.
    rows, columns, values
        Column names; ``rows`` may also be a list (e.g. ``["region", "person"]``).
    margins
        Add a ``total`` column and a ``total`` row (int64 sums).

    Returns
    -------
    pandas.DataFrame
        int64 sums; the columns keep the order in which the periods first appear.

    Raises
    ------
    SchemaError
        A column is missing or the table is empty.
    ColumnTypeError
        Values that are text.
    DataError
        A missing key, period or value, or a fractional value (naming the row).

    Examples
    --------
    >>> t = pd.DataFrame({"person": ["a", "a", "b", "b"], "month": [1, 2, 1, 2],
    ...                   "quota_cents": [1, 2, 3, 4]})
    >>> plan_pivot(t)
    month   1  2  total
    person
    a       1  2      3
    b       3  4      7
    total   4  6     10
    """
    keys = [rows] if isinstance(rows, str) else list(rows)
    require_columns(table, [*keys, columns, values], arg="table")
    for col in (*keys, columns, values):  # pivot_table would drop such rows silently
        require_not_null(table, col, arg="table")
    if not pd.api.types.is_integer_dtype(table[values].dtype):
        cells = numeric_column(table, values, arg="table")  # text, inf: an error
        pos = first_true(cells != np.round(cells))
        if pos is not None:
            raise DataError(
                f"{values} of table is {show(cells[pos])} at {describe_row(table, pos, None)}; "
                "expected whole minor units",
                column=values,
                row=table.index[pos],
                value=cells[pos],
            )
    col_order = pd.unique(table[columns])
    wide = table.pivot_table(
        index=keys, columns=columns, values=values, aggfunc="sum", fill_value=0, sort=True
    )
    wide = wide.reindex(columns=col_order).fillna(0).astype(np.int64)
    wide.columns.name = columns
    if margins:
        wide["total"] = wide.sum(axis=1).astype(np.int64)
        totals = wide.sum(axis=0).astype(np.int64)
        label: Any = "total" if len(keys) == 1 else tuple(["total"] * len(keys))
        index = (
            pd.Index([label], name=keys[0])
            if len(keys) == 1
            else pd.MultiIndex.from_tuples([label], names=keys)
        )
        row = pd.DataFrame([totals.to_numpy()], index=index, columns=wide.columns)
        wide = pd.concat([wide, row.astype(np.int64)])
    return wide


@attrs.frozen(kw_only=True, eq=False)
class QuotaPlan:
    """A company → region → person → month quota plan in exact minor units.

    Attributes
    ----------
    table
        Long frame with columns ``region``, ``person``, ``month`` (named as in the input) and
        ``quota_cents`` (int64), sorted by region, person and month order.
    total
        Company total in minor units (after ramp: dropped quota is excluded).
    requested
        The total asked for; ``requested - total`` was dropped by ramp factors.
    region, person
        The column names used for regions and people.
    decimals
        Digits of the currency's minor unit (2: cents), used by :meth:`to_amounts`.

    Examples
    --------
    >>> people = pd.DataFrame({"region": ["N", "N", "S"], "person": ["a", "b", "c"],
    ...                        "weight": [2.0, 1.0, 1.0]})
    >>> plan = build_plan(people, 1_200_00, distribution=[25, 25, 25, 25])
    >>> plan.by("region").tolist()
    [90000, 30000]
    >>> plan.check()
    True
    """

    table: pd.DataFrame
    total: int
    requested: int
    region: str = "region"
    person: str = "person"
    decimals: int = 2

    def by(self, level: str) -> pd.Series:
        """Total quota per region, person or month (int64, summing to :attr:`total`).

        Examples
        --------
        >>> people = pd.DataFrame({"region": ["N", "S"], "person": ["a", "b"], "weight": [1, 3]})
        >>> build_plan(people, 400, distribution=[50, 50]).by("month").tolist()
        [200, 200]
        """
        names = {"region": self.region, "person": self.person, "month": "month"}
        check_choice(level, "level", tuple(names))
        col = names[level]
        out = self.table.groupby(col, sort=level != "month")["quota_cents"].sum()
        if level == "month":
            out = out.reindex(pd.unique(self.table["month"]))
        return out.astype(np.int64)

    def pivot(self, rows: str = "person", *, margins: bool = True) -> pd.DataFrame:
        """Pivot to ``rows`` (``"person"``, ``"region"`` or both) x months; see :func:`plan_pivot`.

        Examples
        --------
        >>> people = pd.DataFrame({"region": ["N", "S"], "person": ["a", "b"], "weight": [1, 3]})
        >>> build_plan(people, 400, distribution=[50, 50]).pivot("region")
        month     1    2  total
        region
        N        50   50    100
        S       150  150    300
        total   200  200    400
        """
        names = {"region": self.region, "person": self.person}
        check_choice(rows, "rows", ("person", "region", "region_person"))
        keys: Any = [self.region, self.person] if rows == "region_person" else names[rows]
        return plan_pivot(self.table, rows=keys, margins=margins)

    def check(self) -> bool:
        """Verify that every level reconciles exactly; return ``True`` or raise.

        Raises
        ------
        DataError
            A level does not add up (never expected; a guard for edited tables).

        Examples
        --------
        >>> people = pd.DataFrame({"region": ["N"], "person": ["a"], "weight": [1]})
        >>> build_plan(people, 7, distribution=[50, 50]).check()
        True
        """
        grand = int(self.table["quota_cents"].sum())
        for level in ("region", "person", "month"):
            if int(self.by(level).sum()) != self.total:
                raise DataError(f"plan level {level!r} does not add up to total {self.total}")
        if grand != self.total:
            raise DataError(f"plan cells sum to {grand}, not total {self.total}")
        return True

    def to_amounts(self) -> pd.DataFrame:
        """Return the table with ``quota`` as decimal amounts instead of ``quota_cents``.

        Examples
        --------
        >>> people = pd.DataFrame({"region": ["N"], "person": ["a"], "weight": [1]})
        >>> build_plan(people, 1001, distribution=[50, 50]).to_amounts()["quota"].tolist()
        [5.01, 5.0]
        """
        out = self.table.drop(columns="quota_cents")
        out["quota"] = from_minor_units(self.table["quota_cents"], self.decimals)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return a plain-data dict (the table as a list of records) for :meth:`from_dict`.

        Examples
        --------
        >>> people = pd.DataFrame({"region": ["N"], "person": ["a"], "weight": [1]})
        >>> plan = build_plan(people, 10, distribution=[50, 50])
        >>> QuotaPlan.from_dict(plan.to_dict()).table.equals(plan.table)
        True
        """
        return {
            "table": self.table.to_dict(orient="list"),
            "columns": list(self.table.columns),
            "dtypes": {str(c): str(t) for c, t in self.table.dtypes.items()},
            "total": self.total,
            "requested": self.requested,
            "region": self.region,
            "person": self.person,
            "decimals": self.decimals,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuotaPlan:
        """Rebuild a plan from :meth:`to_dict` output.

        Examples
        --------
        >>> QuotaPlan.from_dict({"table": {"region": [], "person": [], "month": [],
        ...     "quota_cents": []}, "columns": ["region", "person", "month", "quota_cents"],
        ...     "total": 0, "requested": 0}).total
        0
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"QuotaPlan.from_dict needs a mapping, got {type(data).__name__}")
        required = ["table", "columns", "total", "requested"]
        allowed = {*required, "dtypes", "region", "person", "decimals"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(f"unknown QuotaPlan field(s) {unknown}; expected {sorted(allowed)}")
        missing = [name for name in required if name not in data]
        if missing:
            raise ConfigError(
                f"QuotaPlan field(s) {missing} missing; required: {required}", column=missing[0]
            )
        try:  # plain data of the wrong shape or type: name the field, not a pandas error
            field = "table"
            table = pd.DataFrame(data["table"], columns=list(data["columns"]))
            field = "dtypes"
            for col, dtype in dict(data.get("dtypes", {})).items():
                table[col] = table[col].astype(dtype)
            field = "table"
            table["quota_cents"] = table["quota_cents"].astype(np.int64)
            field = "total, requested or decimals"
            numbers = [int(data["total"]), int(data["requested"]), int(data.get("decimals", 2))]
        except (TypeError, ValueError, KeyError) as exc:
            raise ConfigError(f"QuotaPlan.from_dict: bad {field}: {exc}", column=field) from exc
        return cls(
            table=table,
            total=numbers[0],
            requested=numbers[1],
            region=str(data.get("region", "region")),
            person=str(data.get("person", "person")),
            decimals=numbers[2],
        )


def build_plan(
    people: pd.DataFrame,
    total: int,
    *,
    distribution: Mapping[Hashable, float] | pd.Series | Sequence[float] | None = None,
    periods: Sequence[Any] | pd.PeriodIndex | None = None,
    region: str = "region",
    person: str = "person",
    weight: str = "weight",
    start: str | None = None,
    ramp: Sequence[float] = DEFAULT_RAMP,
    ramp_excess: Literal["redistribute", "drop"] = "redistribute",
    method: str = "hamilton",
    decimals: int = 2,
) -> QuotaPlan:
    """Build a company → region → person → month plan whose every level reconciles exactly.

    1. The company ``total`` is apportioned over regions by the sum of their people's weights;
    2. each region's total over its people by weight (``method`` at both levels);
    3. the person x period matrix by *controlled rounding* (Bacharach 1966; Cox & Ernst 1982):
       each person's periods add up to their year, each period's company total is exactly
       ``seasonal_split(total, distribution)``, and every cell is the floor or ceiling of
       ``year * percentage / 100`` (vectorised over people; see ``docs/quotas.md``);
    4. with ``start`` dates, each person-month is scaled by the ramp factor of that month of
       tenure (:func:`ramp_factors`). ``ramp_excess="redistribute"`` (default) gives the
       ramped-away quota of each region-month to the people of the same region and month in
       proportion to their ramped quotas, so region, region-month and company month totals
       stay as asked (each region's block is rounded with the region-month totals and the
       largest remainder split of the region over the exact ramped years as margins);
       ``"drop"`` removes it, so the plan total is lower (:attr:`QuotaPlan.requested` keeps the
       asked total; the ramped cells are rounded with the rounded exact total, years and
       months as margins).

    Parameters
    ----------
    people
        One row per person with ``region``, ``person``, ``weight`` (and ``start`` if ramping).
    total
        Company total in minor units (non-negative integer).
    distribution
        Percentages per period summing to 100 (see :func:`seasonal_split`); default equal
        months. A Series/mapping gives the period labels, else ``periods`` does.
    periods
        Period labels (e.g. ``pd.period_range("2025-01", periods=12, freq="M")``); default
        the distribution's labels, or ``1 .. 12``.
    region, person, weight, start
        Column names (``start=None``: no ramp).
    ramp, ramp_excess
        Ramp factors by month of tenure and what happens to the quota they remove.
    method
        Apportionment method for the region and person levels.
    decimals
        Minor-unit digits of the currency (for :meth:`QuotaPlan.to_amounts`).

    Returns
    -------
    QuotaPlan
        ``table`` columns: ``region``, ``person`` (input names), ``month``, ``quota_cents``.

    Raises
    ------
    SchemaError, DataError
        Missing columns, duplicated people, NaN/negative weights, bad start dates.
    ConfigError
        Bad distribution or ramp, all-zero weights, a region-month with quota but nobody ramped
        in to carry it (``redistribute``), unknown method.

    Examples
    --------
    >>> people = pd.DataFrame({"region": ["N", "N", "S"], "person": ["a", "b", "c"],
    ...                        "weight": [2, 1, 1]})
    >>> plan = build_plan(people, 1000, distribution={"H1": 40, "H2": 60})
    >>> plan.table
      region person month  quota_cents
    0      N      a    H1          200
    1      N      a    H2          300
    2      N      b    H1          100
    3      N      b    H2          150
    4      S      c    H1          100
    5      S      c    H2          150
    """
    require_columns(people, [region, person, weight] + ([start] if start else []), arg="people")
    require_not_null(people, person, arg="people", key=person)
    require_not_null(people, region, arg="people", key=person)
    require_unique(people, person, arg="people")
    check_choice(ramp_excess, "ramp_excess", ("redistribute", "drop"))
    check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    check_scalar(total, "total", kind=int, min_value=0)
    method = canonical_method(method)
    # Periods and percentages.
    if distribution is None:
        labels = list(periods) if periods is not None else list(range(1, 13))
        if len(labels) == 0:
            raise ConfigError("periods is empty; expected at least one period", column="periods")
        pct = pd.Series(np.full(len(labels), 100.0 / len(labels)))  # equal shares
    else:
        pct = _percentages(distribution)
        if periods is not None:
            labels = list(periods)
            if len(labels) != len(pct):
                raise ConfigError(
                    f"periods has {len(labels)} labels but distribution {len(pct)} percentages",
                    column="periods",
                )
        elif isinstance(distribution, pd.Series | Mapping):
            labels = list(pct.index)
        else:
            labels = list(range(1, len(pct) + 1))
    n_months = len(labels)
    month_w = pct.to_numpy(dtype=np.float64)
    # People in (region, person) order.
    order = np.lexsort((people[person].to_numpy(), people[region].to_numpy()))
    ppl = people.iloc[order]
    w = numeric_column(ppl, weight, arg="people", key=person, allow_negative=False)
    if not (w > 0).any():
        raise ConfigError(f"column {weight!r} of people is all zero", column=weight)
    regions, codes = np.unique(ppl[region].to_numpy(), return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    region_w = np.bincount(codes, weights=w, minlength=regions.size)
    region_total = apportion(total, region_w, method) if region_w.size else region_w
    person_total = np.zeros(w.size, dtype=np.int64)
    for r in range(regions.size):  # a handful of regions; each split is vectorised
        members = np.flatnonzero(codes == r)
        if region_total[r] == 0 or not (w[members] > 0).any():
            continue
        person_total[members] = apportion(int(region_total[r]), w[members], method)
    n = w.size
    rows = np.repeat(np.arange(n), n_months)
    # Person x month by controlled rounding: rows add up to each person's year, columns to the
    # company's seasonal split of the total, every cell is the floor or ceiling of its share.
    month_total = apportion(total, month_w, "hamilton")
    base, frac, has_frac = _proportional_cells(person_total, month_w)
    cells = _round_residual(base, frac, has_frac, person_total, month_total).reshape(-1)
    plan_total = total
    if start is not None:
        factors = ramp_factors(ppl, labels, person=person, start=start, ramp=ramp)
        f = factors.reindex(ppl[person].to_numpy()).to_numpy(dtype=np.float64).reshape(-1)
        if ramp_excess == "drop":
            cells = _drop(cells, f, n_months)
            plan_total = int(cells.sum())
        else:
            month_idx = np.tile(np.arange(n_months), n)
            group = codes[rows] * n_months + month_idx
            n_groups = regions.size * n_months
            group_total = np.zeros(n_groups, dtype=np.int64)
            np.add.at(group_total, group, cells)
            capacity = np.bincount(group, weights=cells * f, minlength=n_groups)
            bad = first_true((group_total > 0) & (capacity <= 0))
            if bad is not None:
                raise ConfigError(
                    f"region {regions[bad // n_months]!r} has quota in period "
                    f"{labels[bad % n_months]!r} but nobody ramped in to carry it; use "
                    "ramp_excess='drop' or a later start of the plan",
                    column="ramp_excess",
                )
            cells = _redistribute(
                cells, f, group_total=group_total, group=group, codes=codes, n_months=n_months
            )
    month_labels = pd.Index([str(x) if isinstance(x, pd.Period) else x for x in labels])
    table = pd.DataFrame(
        {
            region: ppl[region].iloc[rows].to_numpy(),
            person: ppl[person].iloc[rows].to_numpy(),
            "month": month_labels.take(np.tile(np.arange(n_months), n)).to_numpy(),
            "quota_cents": cells.astype(np.int64),
        }
    )
    for col in (region, person):
        table[col] = table[col].astype(people[col].dtype)
    return QuotaPlan(
        table=table,
        total=plan_total,
        requested=total,
        region=region,
        person=person,
        decimals=decimals,
    )


# --------------------------------------------------------------------------------------------
# Reassignment
# --------------------------------------------------------------------------------------------


def reassign_accounts(
    quotas: pd.DataFrame,
    accounts: pd.DataFrame,
    moves: Mapping[Hashable, Hashable] | pd.Series,
    *,
    account: str = "account_id",
    owner: str = "person",
    weight: str = "weight",
    quota: str = "quota_cents",
) -> pd.DataFrame:
    """Move accounts between people and their share of quota with them (quota relief).

    Each person's quota is first split over their accounts in proportion to account weight
    (largest remainder, exact); a moved account's share then leaves its old owner (relief) and
    joins the new one. People with no accounts keep their quota. The total never changes.

    Parameters
    ----------
    quotas
        Quota per person, indexed by person (e.g. :func:`allocate`'s result), with ``quota``.
    accounts
        One row per account: ``account``, current ``owner`` and ``weight`` (>= 0).
    moves
        New owner per moved account id.
    account, owner, weight, quota
        Column names.

    Returns
    -------
    pandas.DataFrame
        Indexed by person (sorted; new owners added), columns ``previous_cents``,
        ``moved_out_cents``, ``moved_in_cents`` and ``quota_cents`` (all int64).
        ``quota_cents`` sums to the same total as before.

    Raises
    ------
    SchemaError, DataError
        Missing columns, duplicated accounts or people, owners without a quota, negative or
        NaN weights, moves of unknown accounts.
    ConfigError
        A person with quota whose accounts all have zero weight but some are moved.

    Examples
    --------
    >>> quotas = pd.DataFrame({"quota_cents": [900, 100]}, index=pd.Index(["ann", "bob"],
    ...                       name="person"))
    >>> accounts = pd.DataFrame({"account_id": [1, 2, 3], "person": ["ann", "ann", "bob"],
    ...                          "weight": [2.0, 1.0, 1.0]})
    >>> reassign_accounts(quotas, accounts, {2: "bob"})
            previous_cents  moved_out_cents  moved_in_cents  quota_cents
    person
    ann                900              300               0          600
    bob                100                0             300          400
    """
    require_columns(quotas, [quota], arg="quotas")
    require_columns(accounts, [account, owner, weight], arg="accounts")
    require_not_null(accounts, account, arg="accounts", key=account)
    require_not_null(accounts, owner, arg="accounts", key=account)
    require_unique(accounts, account, arg="accounts")
    if quotas.index.has_duplicates:
        dup = quotas.index[quotas.index.duplicated()][0]
        raise DataError(f"quotas has person {dup!r} twice; one row per person", value=dup)
    q = quotas[quota]
    if not pd.api.types.is_integer_dtype(q.dtype):
        raise DataError(
            f"column {quota!r} of quotas must hold integers (minor units)", column=quota
        )
    aw = numeric_column(accounts, weight, arg="accounts", key=account, allow_negative=False)
    owners = accounts[owner]
    known = owners.isin(quotas.index).to_numpy()
    pos = first_true(~known)
    if pos is not None:
        raise DataError(
            f"column {owner!r} of accounts has owner {show(owners.iloc[pos])} at "
            f"{describe_row(accounts, pos, account)} with no row in quotas",
            column=owner,
            row=accounts.index[pos],
            value=owners.iloc[pos],
        )
    move = pd.Series(moves) if not isinstance(moves, pd.Series) else moves
    unknown = ~move.index.isin(accounts[account])
    upos = first_true(unknown)
    if upos is not None:
        raise DataError(
            f"moves names account {show(move.index[upos])}, which is not in accounts",
            column=account,
            value=move.index[upos],
        )
    people_idx = quotas.index
    code = people_idx.get_indexer(pd.Index(owners))
    p_total = q.to_numpy(dtype=np.int64)
    wsum = np.bincount(code, weights=aw, minlength=len(people_idx))
    moved_mask = accounts[account].isin(move.index).to_numpy()
    carry = (wsum > 0)[code]
    bad = first_true(moved_mask & ~carry & (p_total[code] != 0))
    if bad is not None:
        raise ConfigError(
            f"owner {show(owners.iloc[bad])} has quota but only zero-weight accounts; cannot "
            "tell what share the moved accounts carry",
            column=weight,
            value=owners.iloc[bad],
        )
    has_acc = wsum > 0
    share = np.zeros(len(accounts), dtype=np.int64)
    if has_acc.any():
        totals = np.where(has_acc, p_total, 0)
        share = split_minor_units(totals, aw, code)
    new_owner = accounts[account].map(move).to_numpy()
    moved_share = np.where(moved_mask, share, 0)
    out_cents = pd.Series(moved_share, index=owners.to_numpy()).groupby(level=0).sum()
    in_cents = (
        pd.Series(moved_share[moved_mask], index=new_owner[moved_mask]).groupby(level=0).sum()
    )
    everyone = people_idx.union(pd.Index(pd.unique(new_owner[moved_mask]))).sort_values()
    prev = q.reindex(everyone, fill_value=0).astype(np.int64)
    mo = out_cents.reindex(everyone, fill_value=0).astype(np.int64)
    mi = in_cents.reindex(everyone, fill_value=0).astype(np.int64)
    result = pd.DataFrame(
        {
            "previous_cents": prev.to_numpy(),
            "moved_out_cents": mo.to_numpy(),
            "moved_in_cents": mi.to_numpy(),
            "quota_cents": (prev - mo + mi).to_numpy(),
        },
        index=pd.Index(everyone, name=people_idx.name or owner),
    )
    return result
