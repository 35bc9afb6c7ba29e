"""ABC (Pareto) classes by cumulative share, and ABC-XYZ classes with demand variability."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

import crmcore._frames as fr
from crmcore._memory import normal_pages
from crmcore.errors import ConfigError, DataError, InputTypeError, SchemaError
from crmcore.segmentation._classes import class_codes
from crmcore.segmentation._dates import period_ordinals

__all__ = ["abc_classes", "abc_summary", "abc_xyz", "item_totals"]

_PERIODS = ("D", "W", "M", "Q", "Y")


def _check_cutoffs(cutoffs: object, name: str = "cutoffs") -> tuple[float, ...]:
    if isinstance(cutoffs, str) or not isinstance(cutoffs, Sequence):
        raise ConfigError(f"{name} must be a sequence of numbers, got {cutoffs!r}", column=name)
    if len(cutoffs) == 0:
        raise ConfigError(f"{name} is empty; expected at least one cutoff", column=name)
    out = tuple(
        float(fr.check_scalar(c, name, kind=float, min_value=0.0, max_value=1.0, include="right"))
        for c in cutoffs
    )
    for a, b in itertools.pairwise(out):
        if not a < b:
            raise ConfigError(
                f"{name} must increase strictly, got {list(out)}", column=name, value=b
            )
    return out


def _check_thresholds(value: object) -> tuple[float, ...]:
    name = "xyz_thresholds"
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) == 0:
        raise ConfigError(
            f"{name} must be a non-empty sequence of numbers, got {value!r}", column=name
        )
    out = tuple(
        float(fr.check_scalar(t, name, kind=float, min_value=0.0, include="neither")) for t in value
    )
    if any(math.isinf(t) for t in out):
        raise ConfigError(f"{name} must be finite, got {list(out)}", column=name)
    for a, b in itertools.pairwise(out):
        if not a < b:
            raise ConfigError(
                f"{name} must increase strictly, got {list(out)}", column=name, value=b
            )
    return out


def _check_labels(labels: object, n: int, name: str = "labels") -> tuple[str, ...]:
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise ConfigError(f"{name} must be a sequence of text labels, got {labels!r}", column=name)
    out = tuple(labels)
    if len(out) != n:
        raise ConfigError(
            f"{name} has {len(out)} label(s) but {n - 1} cutoff(s) need {n}", column=name
        )
    for i, lab in enumerate(out):
        if not isinstance(lab, str) or not lab:
            raise ConfigError(f"{name} must be non-empty text, got {lab!r}", column=name)
        if lab in out[:i]:
            raise ConfigError(f"{name} lists {lab!r} twice", column=name, value=lab)
    return out


@normal_pages
def abc_classes(
    values: pd.Series | npt.ArrayLike,
    cutoffs: Sequence[float] = (0.8, 0.95),
    *,
    labels: Sequence[str] = ("A", "B", "C"),
    basis: Literal["value", "count"] = "value",
) -> pd.Series:
    """Pareto (ABC) classes by cumulative share of the values sorted in descending order.

    **Boundary rule.** Sort the values from largest to smallest and accumulate their share of
    the total. Class A is the *smallest* set of top items whose cumulative share reaches the
    first cutoff: the item whose cumulative share first reaches or crosses 80 % **is in A**.
    This keeps A non-empty and makes it hold at least the cutoff share, the point of a Pareto
    class; the other reading would leave a single item holding 90 % of the value out of A.
    Then A+B is the smallest top set
    reaching the second cutoff, and the rest is C. Formally, with ``S(v)`` the share of the
    total held by values *strictly greater* than ``v``, a value is in class ``k`` (0 = A) when
    ``S(v) < cutoffs[k]`` for the first such ``k``; values reaching no cutoff get the last
    label. Shares within 1e-12 of a cutoff count as reaching it.

    **Ties** get the same class, whatever their order: class depends on ``S(v)`` only, so a
    group of equal values straddling a cutoff goes wholly into the better class. Hence a larger
    value never gets a worse class, and shuffling the input changes nothing.

    **Zeros** always get the last label ("C"). **All zero**: every item gets the last label
    (there is no value to concentrate). **Negative, NaN or infinite** values are errors.

    Parameters
    ----------
    values
        Non-negative finite numbers: a Series (its index is kept) or array-like (RangeIndex).
    cutoffs
        Increasing cumulative-share cutoffs in (0, 1]; ``len(labels) - 1`` of them.
    labels
        Class labels from best to worst; default ``("A", "B", "C")``.
    basis
        ``"value"`` (default): shares of the summed values. ``"count"``: shares of the number of
        items ranked by value (e.g. ``cutoffs=(0.2, 0.5)`` puts the top 20 % of items in A);
        equal values still share a class and zeros still get the last label.

    Returns
    -------
    Series
        Named ``"abc"``, same index and order as ``values``; categorical with the labels as
        categories (best first).

    Raises
    ------
    InputTypeError
        ``values`` is a DataFrame or not one-dimensional.
    SchemaError
        ``values`` is empty.
    ColumnTypeError
        Non-numeric values.
    DataError
        NaN, infinite or negative values (names the label and value).
    ConfigError
        Bad cutoffs, labels or basis.

    Examples
    --------
    Values 50, 20, 10, 8, 5, 4, 3 (total 100) have cumulative shares 50, 70, 80, 88, 93, 97,
    100 %: 80 % is reached at 10, 95 % at 4.

    >>> import pandas as pd
    >>> from crmcore.segmentation import abc_classes
    >>> v = pd.Series([8, 50, 3, 20, 10, 5, 4], index=list("defabgh"))
    >>> abc_classes(v).to_dict()
    {'d': 'B', 'e': 'A', 'f': 'C', 'a': 'A', 'b': 'A', 'g': 'B', 'h': 'B'}
    >>> abc_classes([90, 5, 5]).tolist()
    ['A', 'B', 'B']
    """
    if isinstance(values, pd.DataFrame):
        raise InputTypeError("values must be a Series or 1-D array, got a DataFrame")
    if isinstance(values, pd.Series):
        series = values
    else:
        arr = np.asarray(values)
        if arr.ndim != 1:
            raise InputTypeError(f"values must be one-dimensional, got shape {arr.shape}")
        series = pd.Series(arr)
    cuts = _check_cutoffs(cutoffs)
    labs = _check_labels(labels, len(cuts) + 1)
    fr.check_choice(basis, "basis", ("value", "count"))
    if len(series) == 0:
        raise SchemaError("values is empty; expected at least one value")
    frame = pd.DataFrame({"value": series.to_numpy()}, index=series.index)
    arr64 = fr.numeric_column(
        frame,
        "value",
        arg="values",
        allow_negative=False,
        negative_hint="ABC classes need non-negative values; net refunds first",
    )
    codes = class_codes(arr64, cuts, basis)
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=pd.Index(list(labs), dtype=object)),
        index=series.index.copy(),
        name="abc",
    )


def abc_xyz(
    transactions: pd.DataFrame,
    *,
    item: str = "customer_id",
    date: str = "date",
    amount: str = "amount",
    period: str = "M",
    cutoffs: Sequence[float] = (0.8, 0.95),
    xyz_thresholds: Sequence[float] = (0.5, 1.0),
    ddof: int = 0,
    include_empty_periods: bool = True,
    abc_labels: Sequence[str] = ("A", "B", "C"),
    xyz_labels: Sequence[str] = ("X", "Y", "Z"),
) -> pd.DataFrame:
    """ABC class by total amount and XYZ class by variability of per-period totals, per item.

    Definitions, per item (a customer, product, ...):

    - ``total`` = sum of ``amount``; ``abc`` = :func:`abc_classes` of the totals with
      ``cutoffs`` (the item crossing a cutoff is in the better class; ties share a class).
    - The analysis window runs from the calendar period of the earliest date in
      ``transactions`` to that of the latest (``period`` = "D", "W", "M", "Q" or "Y"; weeks
      end on Sunday, pandas' ``W``). Per-period totals ``x_t`` sum the item's amounts in each
      period.
    - ``periods`` = n, the number of periods counted: every period of the window when
      ``include_empty_periods`` (periods without purchases count as 0 — the usual XYZ
      convention, since no demand is demand), otherwise only periods with a transaction.
    - ``mean`` = sum(x_t) / n; ``std`` = sqrt(sum((x_t - mean)^2) / (n - ddof)) with
      ``ddof=0`` the population deviation (default) or ``ddof=1`` the sample deviation;
      ``cv`` = std / mean, the coefficient of variation.
    - ``xyz``: X if cv <= t1, Y if t1 < cv <= t2, Z if cv > t2, with ``xyz_thresholds``
      = (t1, t2) = (0.5, 1.0) by default, the thresholds commonly used in inventory management
      (X stable, Y variable, Z erratic demand; other sources use 0.1/0.25 on monthly unit
      demand, pass them explicitly). Boundary conventions differ between sources; here a cv
      equal to a threshold takes the more stable class.
    - ``cv`` is NaN, and the item is class Z (its stability cannot be shown), when ``mean`` is 0
      or when n <= ``ddof``.
    - ``abc_xyz`` = the two labels joined, e.g. ``"AX"``.

    Time-zone-aware dates are bucketed by their local wall-clock date.

    Parameters
    ----------
    transactions
        One row per transaction with ``item``, ``date`` and ``amount`` columns.
    item, date, amount
        Column names. Amounts must be finite and >= 0 (net refunds first, e.g. with
        ``clean_transactions``).
    period
        Period length: "D", "W", "M" (default), "Q" or "Y".
    cutoffs, abc_labels
        ABC cumulative-share cutoffs and labels (see :func:`abc_classes`).
    xyz_thresholds, xyz_labels
        Increasing, positive CV thresholds and the labels, most stable first.
    ddof
        0 (population standard deviation, default) or 1 (sample).
    include_empty_periods
        Count periods without a transaction as zero demand (default) or leave them out.

    Returns
    -------
    DataFrame
        Indexed by ``item`` (sorted), columns ``total``, ``abc`` (categorical), ``periods``
        (int64), ``mean``, ``std``, ``cv`` (float64), ``xyz`` (categorical) and ``abc_xyz``
        (categorical, all label pairs as categories, e.g. AX, AY, ..., CZ).

    Raises
    ------
    SchemaError
        A column is missing or ``transactions`` is empty.
    DataError
        Missing item ids or dates, NaN/infinite/negative amounts (names row and value).
    ColumnTypeError
        Non-numeric amounts or non-date dates.
    ConfigError
        Bad period, cutoffs, thresholds, labels or ddof.

    Examples
    --------
    Customer 1 buys 10 every month (cv 0); customer 2 buys 30 in January only: monthly totals
    30, 0, 0, mean 10, population std sqrt((400 + 100 + 100) / 3) = 14.14, cv 1.41.

    >>> import pandas as pd
    >>> from crmcore.segmentation import abc_xyz
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-02-05", "2024-03-05",
    ...                                            "2024-01-09"]),
    ...                    "amount": [10.0, 10.0, 10.0, 30.0]})
    >>> abc_xyz(tx)[["total", "abc", "mean", "std", "cv", "xyz", "abc_xyz"]].round(4)
                 total abc  mean      std      cv xyz abc_xyz
    customer_id
    1             30.0   A  10.0   0.0000  0.0000   X      AX
    2             30.0   A  10.0  14.1421  1.4142   Z      AZ
    """
    transactions = fr.require_columns(transactions, [item, date, amount], arg="transactions")
    fr.check_choice(period, "period", _PERIODS)
    cuts = _check_cutoffs(cutoffs)
    abc_labs = _check_labels(abc_labels, len(cuts) + 1, "abc_labels")
    thresholds = _check_thresholds(xyz_thresholds)
    xyz_labs = _check_labels(xyz_labels, len(thresholds) + 1, "xyz_labels")
    fr.check_scalar(ddof, "ddof", kind=int, min_value=0, max_value=1)
    if not isinstance(include_empty_periods, bool | np.bool_):
        raise ConfigError(
            f"include_empty_periods must be True or False, got {include_empty_periods!r}",
            column="include_empty_periods",
        )

    fr.require_not_null(transactions, item, arg="transactions")
    fr.require_one_id_type(transactions, item, arg="transactions")
    dates = fr.datetime_column(transactions, date, arg="transactions", key=item)
    amounts = fr.numeric_column(
        transactions,
        amount,
        arg="transactions",
        key=item,
        allow_negative=False,
        negative_hint="net refunds first, e.g. with clean_transactions",
    )
    ordinals = period_ordinals(dates, period)
    first = int(ordinals.min())
    n_window = int(ordinals.max()) - first + 1

    item_codes, items = pd.factorize(transactions[item], sort=True)
    item_codes = np.asarray(item_codes, dtype=np.int64)
    n_items = len(items)
    # Per (item, period) totals over the periods that have transactions.
    cell = item_codes * n_window + (ordinals - first)
    cell_inv, cells = pd.factorize(cell)  # hash-based: no sort of the transactions
    cell_tot = np.bincount(cell_inv, weights=amounts)
    cell_item = cells // n_window

    total = _item_totals(transactions, item, amount, item_codes, amounts, n_items=n_items)
    active = np.bincount(cell_item, minlength=n_items).astype(np.int64)
    n = np.full(n_items, n_window, dtype=np.int64) if include_empty_periods else active
    mean = total / n
    # Deviations in units of a power of two near each item's largest period total (exact to
    # divide by), so squares of amounts near the float limit (1e307) cannot overflow; the
    # coefficient of variation does not depend on the unit.
    largest = np.zeros(n_items, dtype=np.float64)
    np.maximum.at(largest, cell_item, cell_tot)
    scale = np.ldexp(1.0, np.frexp(largest)[1])
    scaled_mean = mean / scale
    dev: npt.NDArray[np.float64] = np.asarray(
        np.bincount(
            cell_item,
            weights=(cell_tot / scale[cell_item] - scaled_mean[cell_item]) ** 2,
            minlength=n_items,
        ),
        dtype=np.float64,
    )
    dev = dev + (n - active) * scaled_mean**2  # the empty periods, each at distance `mean`
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(n > ddof, dev / np.maximum(n - ddof, 1), np.nan)
        scaled_std = np.sqrt(np.maximum(var, 0.0))
        std = scaled_std * scale
        cv = np.where((mean > 0) & (n > ddof), scaled_std / scaled_mean, np.nan)
    xyz_codes = np.searchsorted(np.asarray(thresholds), cv, side="left").astype(np.int64)
    xyz_codes[np.isnan(cv)] = len(thresholds)
    abc_codes = class_codes(total, cuts, "value")

    pairs = [a + x for a in abc_labs for x in xyz_labs]
    index = pd.Index(items, name=item)
    out = pd.DataFrame(
        {
            "total": total,
            "abc": pd.Categorical.from_codes(abc_codes, categories=_cats(abc_labs)),
            "periods": n,
            "mean": mean,
            "std": std,
            "cv": cv,
            "xyz": pd.Categorical.from_codes(xyz_codes, categories=_cats(xyz_labs)),
            "abc_xyz": pd.Categorical.from_codes(
                abc_codes * len(xyz_labs) + xyz_codes, categories=_cats(pairs)
            ),
        },
        index=index,
    )
    return out


def _cats(labels: Sequence[Any]) -> pd.Index:
    idx: pd.Index = pd.Index(list(labels), dtype=object)
    return idx


def _item_totals(
    transactions: pd.DataFrame,
    item: str,
    amount: str,
    codes: npt.NDArray[np.int64],
    amounts: npt.NDArray[np.float64],
    *,
    n_items: int,
) -> npt.NDArray[np.float64]:
    """Total amount per item code; a total beyond the float range is an error naming the item."""
    with np.errstate(over="ignore"):
        total = np.asarray(np.bincount(codes, weights=amounts, minlength=n_items), np.float64)
    big = fr.first_true(np.isinf(total))
    if big is not None:
        pos = int(np.flatnonzero(codes == big)[0])
        raise DataError(
            f"column {amount!r} of transactions adds up to more than the float range "
            f"(1.8e308) for {item} {fr.show(transactions[item].iloc[pos])} (first at "
            f"{fr.describe_row(transactions, pos, item)}); use a larger currency unit",
            column=amount,
            row=transactions.index[pos],
            value=transactions[amount].iloc[pos],
        )
    return total


def item_totals(
    transactions: pd.DataFrame, *, item: str = "customer_id", amount: str = "amount"
) -> pd.Series:
    """Total amount per item: the values :func:`abc_classes` ranks.

    Rows of the same item are added, so a transactions file and a file with one value per item
    give the same totals. Negative amounts (refunds) are added like any other amount; the sum
    of an item that comes out negative is an error of :func:`abc_classes`, not of this step.

    Parameters
    ----------
    transactions
        One row per transaction (or per item), holding the ``item`` and ``amount`` columns.
    item, amount
        Column names: the item (customer, product, ...) and its amount.

    Returns
    -------
    Series
        Named ``"total"``, one float per item, indexed by the item (index named ``item``) and
        sorted by it.

    Raises
    ------
    InputTypeError
        ``transactions`` is not a DataFrame.
    SchemaError
        A column is missing or ``transactions`` is empty.
    DataError
        A missing item, or a NaN or infinite amount (names the row).
    ColumnTypeError
        Amounts that are not numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import abc_classes, item_totals
    >>> tx = pd.DataFrame({"customer_id": [2, 1, 2, 3], "amount": [30.0, 50.0, 10.0, 10.0]})
    >>> totals = item_totals(tx)
    >>> totals.to_dict()
    {1: 50.0, 2: 40.0, 3: 10.0}
    >>> abc_classes(totals).tolist()
    ['A', 'A', 'B']
    """
    transactions = fr.require_frame(transactions, arg="transactions")
    transactions = fr.require_columns(transactions, [item, amount], arg="transactions")
    if len(transactions) == 0:
        raise SchemaError("transactions is empty; expected at least one row", column=item)
    fr.require_not_null(transactions, item, arg="transactions")
    fr.require_one_id_type(transactions, item, arg="transactions")
    values = fr.numeric_column(transactions, amount, arg="transactions", key=item)
    codes, items = pd.factorize(transactions[item], sort=True)
    total = _item_totals(
        transactions, item, amount, codes.astype(np.int64), values, n_items=len(items)
    )
    return pd.Series(total, index=pd.Index(items, name=item), name="total")


def abc_summary(classes: pd.DataFrame, *, abc: str = "abc", total: str = "total") -> pd.DataFrame:
    """Items, total and share of the total per ABC class: how concentrated the value is.

    Parameters
    ----------
    classes
        One row per item with its class and total, e.g. the output of :func:`abc_xyz`, or
        ``pd.DataFrame({"total": totals, "abc": abc_classes(totals)})``.
    abc, total
        Column names: the class (a categorical keeps every category, empty ones included, in
        its order) and the item's total.

    Returns
    -------
    DataFrame
        Indexed by class (best first for a categorical, else sorted), columns ``items`` (int),
        ``total`` and ``share`` (of the grand total; NaN when the grand total is 0). The
        shares add up to 1 and the items to ``len(classes)``.

    Raises
    ------
    InputTypeError
        ``classes`` is not a DataFrame.
    SchemaError
        A column is missing or ``classes`` is empty.
    DataError
        A missing class, or a NaN or infinite total.
    ColumnTypeError
        Totals that are not numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import abc_classes, abc_summary
    >>> totals = pd.Series([50.0, 20.0, 10.0, 8.0, 5.0, 4.0, 3.0], index=list("abcdefg"))
    >>> abc_summary(pd.DataFrame({"total": totals, "abc": abc_classes(totals)}))
         items  total  share
    abc
    A        3   80.0   0.80
    B        3   17.0   0.17
    C        1    3.0   0.03
    """
    classes = fr.require_frame(classes, arg="classes")
    classes = fr.require_columns(classes, [abc, total], arg="classes")
    if len(classes) == 0:
        raise SchemaError("classes is empty; expected at least one item", column=abc)
    fr.require_not_null(classes, abc, arg="classes")
    values = pd.Series(fr.numeric_column(classes, total, arg="classes"), index=classes.index)
    # A categorical's own array keeps its empty classes and its order; other labels group as a
    # numpy array (pandas 2.2 deprecates grouping by a NumpyExtensionArray).
    labels = classes[abc]
    key = labels.array if isinstance(labels.dtype, pd.CategoricalDtype) else labels.to_numpy()
    groups = values.groupby(key, observed=False, sort=True)
    with np.errstate(over="ignore", invalid="ignore"):  # past the largest float: just below
        sums = groups.sum()
    out = pd.DataFrame({"items": groups.size().astype(np.int64), "total": sums})
    out["total"] = fr.checked_totals(
        sums.to_numpy(dtype=np.float64),
        values.to_numpy(),
        lambda: out.index.get_indexer(pd.Index(key)),
        classes,
        total,
        arg="classes",
    )
    out.index.name = abc
    out["share"] = fr.shares(out["total"].to_numpy())
    return out
