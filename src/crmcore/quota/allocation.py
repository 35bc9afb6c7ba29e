"""Quota weights and allocation: weigh people by potential or history, split a total by weight.

``potential_weights`` sums a weight per account grade for each person, ``history_weights``
blends last period's sales share with potential, and ``allocate`` splits an integer total over
the rows of a frame (people, territories) exactly, by any apportionment method.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._compat import renamed_parameters
from crmcore._frames import (
    check_scalar,
    numeric_column,
    refuse_first,
    require_columns,
    require_not_null,
    require_unique,
    shares,
)
from crmcore.errors import ConfigError
from crmcore.quota._apportion import apportion, canonical_method
from crmcore.quota._keys import key_order

__all__ = ["DEFAULT_GRADE_WEIGHTS", "allocate", "history_weights", "potential_weights"]

#: Weight of one account of each grade (A high value, B potential, C low value).
DEFAULT_GRADE_WEIGHTS: Mapping[str, float] = {"A": 5.0, "B": 3.0, "C": 1.0}


@renamed_parameters(owner="person")
def potential_weights(
    accounts: pd.DataFrame,
    *,
    person: str = "person",
    grade: str = "grade",
    grade_weights: Mapping[str, float] | None = None,
) -> pd.Series:
    """Sum a weight per account grade (A = 5, B = 3, C = 1 by default) for each person.

    Parameters
    ----------
    accounts
        One row per account with its ``person`` and ``grade`` (e.g. from customer grades).
    person, grade
        Column names.
    grade_weights
        Weight of one account of each grade; default :data:`DEFAULT_GRADE_WEIGHTS`.

    Returns
    -------
    pandas.Series of float64
        Named ``potential``, indexed by person (sorted).

    Raises
    ------
    SchemaError
        Missing columns or no rows.
    DataError
        A missing person or grade, or a grade not in ``grade_weights``.
    ConfigError
        Negative or non-finite grade weights.

    Examples
    --------
    >>> accounts = pd.DataFrame({"person": ["ann", "ann", "bob"], "grade": ["A", "C", "B"]})
    >>> potential_weights(accounts).to_dict()
    {'ann': 6.0, 'bob': 3.0}
    """
    accounts = require_columns(accounts, [person, grade], arg="accounts")
    require_not_null(accounts, person, arg="accounts", key=person)
    require_not_null(accounts, grade, arg="accounts", key=person)
    table = dict(DEFAULT_GRADE_WEIGHTS if grade_weights is None else grade_weights)
    for g, v in table.items():
        check_scalar(v, f"grade_weights[{g!r}]", kind=float, min_value=0.0)
        if not np.isfinite(float(v)):
            raise ConfigError(f"grade_weights[{g!r}] == {v!r}, must be finite", value=v)
    grades = accounts[grade]
    known = grades.isin(list(table)).to_numpy()
    weighted = ", ".join(repr(g) for g in table)
    refuse_first(accounts, ~known, grade, arg="accounts", problem="grade", key=person,
                 then=f" with no weight; grade_weights has {weighted}")  # fmt: skip
    w = grades.map(table).to_numpy(dtype=np.float64)
    out = pd.Series(w, index=accounts[person].to_numpy()).groupby(level=0, sort=True).sum()
    out.index.name = person
    return out.rename("potential").astype(np.float64)


@renamed_parameters(owner="person")
def history_weights(
    sales: pd.DataFrame,
    *,
    person: str = "person",
    amount: str = "amount",
    potential: pd.Series | None = None,
    blend: float = 0.0,
) -> pd.Series:
    """Weights from last period's sales per person, optionally blended with potential.

    ``weight = (1 - blend) * sales_share + blend * potential_share``, where each share is the
    person's fraction of the total (so the two signals are put on the same scale first).

    Parameters
    ----------
    sales
        Sales rows of the reference period (several rows per person allowed; amounts >= 0).
    person, amount
        Column names.
    potential
        Potential per person (e.g. :func:`potential_weights`); needed when ``blend > 0``.
        People present in only one of the two get 0 for the other signal.
    blend
        Share of potential in the weight, 0 (history only) to 1 (potential only).

    Returns
    -------
    pandas.Series of float64
        Named ``weight``, indexed by person (sorted); sums to 1.

    Raises
    ------
    SchemaError
        Missing columns or no rows.
    DataError
        Negative or NaN amounts, missing people.
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
    sales = require_columns(sales, [person, amount], arg="sales")
    require_not_null(sales, person, arg="sales", key=person)
    check_scalar(blend, "blend", kind=float, min_value=0.0, max_value=1.0)
    values = numeric_column(sales, amount, arg="sales", key=person, allow_negative=False)
    hist = _person_totals(values, sales[person].to_numpy())
    if blend > 0 and potential is None:
        raise ConfigError(f"blend == {blend!r} needs potential per person", column="potential")
    if potential is not None and blend > 0:
        pot_frame = pd.DataFrame({"potential": potential})
        pot = pd.Series(
            numeric_column(pot_frame, "potential", arg="potential", allow_negative=False),
            index=potential.index,
        )
        if pot.index.has_duplicates:
            raise ConfigError("potential has a duplicated person", column="potential")
        everyone = hist.index.union(pot.index).sort_values()
        hist = hist.reindex(everyone, fill_value=0.0)
        pot = pot.reindex(everyone, fill_value=0.0)
    else:
        pot = pd.Series(0.0, index=hist.index)
    has_h, has_p = bool((hist > 0).any()), bool((pot > 0).any())  # both are >= 0
    if blend < 1 and not has_h:
        raise ConfigError("sales amounts are all zero; cannot weight by history", column=amount)
    if blend > 0 and not has_p:
        raise ConfigError("potential is all zero; cannot blend it in", column="potential")
    h_share = pd.Series(shares(hist.to_numpy()), index=hist.index) if has_h else hist * 0.0
    p_share = pd.Series(shares(pot.to_numpy()), index=pot.index) if has_p else pot * 0.0
    out = (1.0 - blend) * h_share + blend * p_share
    out.index.name = person
    return out.rename("weight").astype(np.float64)


def _person_totals(values: npt.NDArray[np.float64], people: npt.NDArray[Any]) -> pd.Series:
    """Sales per person (sorted), in a smaller scale when one passes the largest float.

    The totals only make shares, which do not depend on the scale; amounts near 1.8e308 are
    summed as ``amount * 2**-k`` (an exact power of two), so no total overflows.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # past the largest float: just below
        hist = pd.Series(values, index=people).groupby(level=0, sort=True).sum()
    if np.isfinite(hist.to_numpy()).all():
        return hist
    scale = 2.0 ** -max(1, int(np.ceil(np.log2(max(len(values), 2)))))
    return pd.Series(values * scale, index=people).groupby(level=0, sort=True).sum()


def _bound_values(frame: pd.DataFrame, value: Any) -> Any:
    """Return a bound as given, or the values of the column it names."""
    if isinstance(value, str):
        frame = require_columns(frame, [value], arg="frame")
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
    frame = require_columns(frame, [key, weight], arg="frame")
    require_not_null(frame, key, arg="frame", key=key)
    require_unique(frame, key, arg="frame")
    canonical_method(method)
    order = key_order(frame, [key], arg="frame")
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
        {"weight": w, "share": shares(w), "quota_cents": parts.astype(np.int64)}, index=index
    )
