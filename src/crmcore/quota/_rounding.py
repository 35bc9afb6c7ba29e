"""Controlled rounding of person x period matrices: both margins exact, cells floor or ceiling.

Private helpers of :func:`crmcore.quota.build_plan` (Bacharach 1966; Cox & Ernst 1982): a real
matrix is rounded so that every cell is the floor or ceiling of its exact value while row and
column totals are prescribed. ``docs/quotas.md`` explains the method and how often each step
is needed.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from crmcore.errors import CRMError
from crmcore.money import split_minor_units, sum_minor_units

INTEGRAL_TOLERANCE = 64 * float(np.finfo(np.float64).eps)


def augment(
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


def controlled_round(
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
    tol = INTEGRAL_TOLERANCE * np.maximum(exact, 1.0)
    base = np.floor(exact + tol)
    frac = exact - base
    return round_residual(base.astype(np.int64), frac, frac > tol, row_totals, col_totals)


def proportional_cells(
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


def round_residual(
    base_i: npt.NDArray[np.int64],
    frac: npt.NDArray[np.float64],
    eligible: npt.NDArray[np.bool_],
    row_totals: npt.NDArray[np.int64],
    col_totals: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Add a 0/1 matrix on the ``eligible`` cells of ``base_i`` to meet both margins."""
    n, m = base_i.shape
    # Floors never exceed their margin, and margins are at most 2**62: these sums cannot wrap.
    row_left = row_totals.astype(np.int64) - base_i.sum(axis=1)
    col_left = col_totals.astype(np.int64) - base_i.sum(axis=0)
    row_sum = int(sum_minor_units(row_totals.astype(np.int64), name="row totals")[0])
    col_sum = int(sum_minor_units(col_totals.astype(np.int64), name="column totals")[0])
    if row_sum != col_sum or int(row_left.sum()) != int(col_left.sum()):
        raise CRMError(
            f"controlled rounding: row totals sum to {row_sum} but column totals to {col_sum}"
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
        if not augment(e, eligible, row_left, col_left):
            raise CRMError(
                "controlled rounding is infeasible: no integer matrix has these margins with "
                "every cell the floor or ceiling of its exact value (internal error; please "
                "report the input)"
            )
    return base_i + e.astype(np.int64)


def redistribute(
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
        region_sum = int(sum_minor_units(month_total, name="quota_cents")[0])
        if region_sum == 0:
            continue
        years = split_minor_units(np.array([region_sum]), exact[members].sum(axis=1))
        try:
            out[members] = controlled_round(exact[members], years, month_total)
            continue
        except CRMError:  # no rounding with these years: years to floor or ceiling
            pass
        block = exact[members]
        ramped = block.sum(axis=1)
        ceil_rows = np.ceil(ramped - INTEGRAL_TOLERANCE * np.maximum(ramped, 1.0))
        padded = np.column_stack([block, np.maximum(ceil_rows - ramped, 0.0)])
        slack = np.array([int(ceil_rows.sum()) - region_sum], dtype=np.int64)
        try:  # all margins whole numbers: a rounding exists; float noise aside
            out[members] = controlled_round(
                padded, ceil_rows.astype(np.int64), np.concatenate([month_total, slack])
            )[:, :n_months]
        except CRMError:  # keep the per-month split
            continue
    return out.reshape(-1)


def round_all_margins(exact: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Round cells, row sums, column sums and total each to floor or ceiling (Cox & Ernst).

    The matrix is bordered by a slack column ``ceil(row) - row``, a slack row
    ``ceil(col) - col`` and a corner ``total - floor(total)``, so every row and column of the
    bordered matrix sums to a whole number; its controlled rounding always exists (the
    transportation polytope is integral) and the greedy plus augmenting paths finds it.
    """
    rows, cols, total = exact.sum(axis=1), exact.sum(axis=0), float(exact.sum())

    def up(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.ceil(v - INTEGRAL_TOLERANCE * np.maximum(v, 1.0))

    floor_total = float(np.floor(total + INTEGRAL_TOLERANCE * max(total, 1.0)))
    bordered = np.zeros((exact.shape[0] + 1, exact.shape[1] + 1))
    bordered[:-1, :-1] = exact
    bordered[:-1, -1] = np.maximum(up(rows) - rows, 0.0)
    bordered[-1, :-1] = np.maximum(up(cols) - cols, 0.0)
    bordered[-1, -1] = max(total - floor_total, 0.0)
    row_totals = np.append(up(rows), up(cols).sum() - floor_total).astype(np.int64)
    col_totals = np.append(up(cols), up(rows).sum() - floor_total).astype(np.int64)
    return controlled_round(bordered, row_totals, col_totals)[:-1, :-1]


def drop_ramped(
    cells: npt.NDArray[np.int64], factors: npt.NDArray[np.float64], n_months: int
) -> npt.NDArray[np.int64]:
    """Scale each person-month by its ramp factor, rounding with controlled margins.

    The exact ramped matrix is ``z_ij = u_ij f_ij``. The plan total is ``z``'s sum rounded half
    up and each month's total its largest remainder share (so within one unit of the exact
    ``sum_i z_ij``); every cell is the floor or ceiling of ``z_ij``, and each person's year the
    floor or ceiling of ``sum_j z_ij``. Should no rounding have these months, cells, years,
    months and total are each rounded to the floor or ceiling of their exact value (always
    possible, :func:`round_all_margins`).
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
    ceil_rows = np.ceil(rows - INTEGRAL_TOLERANCE * np.maximum(rows, 1.0))
    padded = np.column_stack([exact, np.maximum(ceil_rows - rows, 0.0)])
    slack = np.array([int(ceil_rows.sum()) - int(total[0])], dtype=np.int64)
    try:
        out = controlled_round(padded, ceil_rows.astype(np.int64), np.concatenate([months, slack]))[
            :, :n_months
        ]
    except CRMError:  # no rounding with these margins: every margin to floor or ceiling
        try:
            out = round_all_margins(exact)
        except CRMError:  # float noise beyond 2**53: round each cell on its own
            out = fallback
    return out.reshape(-1)
