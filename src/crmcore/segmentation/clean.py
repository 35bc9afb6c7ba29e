"""Clean a messy transaction export, reporting every row removed or changed and why."""

from __future__ import annotations

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
    require_columns,
    show,
)
from crmcore.errors import ColumnTypeError, DataError
from crmcore.money import from_minor_units, to_minor_units
from crmcore.segmentation._dates import numpy_dates

__all__ = ["REPORT_COLUMNS", "clean_transactions"]

#: Columns of the report returned by :func:`clean_transactions`.
REPORT_COLUMNS: tuple[str, ...] = ("row", "action", "reason", "column", "value", "new_value")

_BoolArray = npt.NDArray[np.bool_]


def _has_text(series: pd.Series) -> bool:
    """Whether the column holds (some) text, so that the ``.str`` accessor applies."""
    if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
        return False
    kind = pd.api.types.infer_dtype(series, skipna=True)
    return kind in ("string", "mixed", "mixed-integer")


def _blank(series: pd.Series) -> _BoolArray:
    """Missing values: NA/NaN/NaT, and text that is empty or only spaces."""
    missing = np.array(series.isna().to_numpy(dtype=bool), dtype=bool)
    if _has_text(series):
        text = series.str.strip()
        missing |= text.eq("").to_numpy(dtype=bool, na_value=False)
    return missing


def _stripped(series: pd.Series) -> pd.Series:
    """Text values without surrounding spaces; other values unchanged."""
    if _has_text(series):
        stripped = series.str.strip()
        return stripped.where(stripped.notna(), series)
    return series


def _parse_amounts(series: pd.Series) -> tuple[npt.NDArray[np.float64], _BoolArray]:
    """Amounts as float64 and a mask of values that are not finite numbers (NaN where bad)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return np.full(len(series), np.nan), np.ones(len(series), dtype=bool)
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = np.array(
            pd.to_numeric(_stripped(series), errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
        )
        is_bool = np.fromiter(
            (isinstance(v, bool | np.bool_) for v in series.to_numpy(dtype=object)),
            dtype=bool,
            count=len(series),
        )
        values[is_bool] = np.nan
    bad = ~np.isfinite(values)
    return values, bad


def _parse_dates(frame: pd.DataFrame, column: str, alive: _BoolArray, key: str) -> _BoolArray:
    """Mask of the ``alive`` rows whose ``column`` value does not parse as a date.

    Naive and tz-aware dates mixed are not "unparseable": they raise (``datetime_column``'s
    ``DataError``), because cleaning cannot choose a time zone for the caller.
    """
    series = frame[column]
    dtype = series.dtype
    none = np.zeros(len(series), dtype=bool)
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return none
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return series.notna().to_numpy(dtype=bool) & alive
    text = _stripped(series)
    live = pd.DataFrame({key: frame[key], column: text}).iloc[np.flatnonzero(alive)]
    if len(live) == 0:
        return none
    try:
        datetime_column(live, column, arg="transactions", key=key)
    except ColumnTypeError:
        pass
    else:
        return none
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    bad: _BoolArray = parsed.isna().to_numpy(dtype=bool) & alive
    return bad


class _Run:
    """One cleaning run: the input, which rows are still alive, and the report rows so far.

    Each step below reads the rows still alive, records what it removes or changes (one report
    row per input row, for the step that acted) and marks removed rows dead.
    """

    def __init__(self, frame: pd.DataFrame, *, customer: str, date: str, amount: str) -> None:
        self.frame = frame
        self.customer = customer
        self.date = date
        self.amount = amount
        self.alive = np.ones(len(frame), dtype=bool)
        self.parts: list[pd.DataFrame] = []

    def record(
        self,
        positions: npt.NDArray[np.intp],
        *,
        action: str,
        reason: str | list[str],
        column: str,
        new_value: object = None,
    ) -> None:
        """Add report rows for the input rows at ``positions``."""
        if len(positions) == 0:
            return
        frame = self.frame
        self.parts.append(
            pd.DataFrame(
                {
                    "position": positions,
                    "row": frame.index[positions].to_numpy(dtype=object),
                    "action": action,
                    "reason": reason,
                    "column": column,
                    "value": frame[column].iloc[positions].to_numpy(dtype=object),
                    "new_value": new_value,
                }
            )
        )

    def remove(
        self, positions: npt.NDArray[np.intp], *, reason: str | list[str], column: str
    ) -> None:
        """Report the rows at ``positions`` as removed and mark them dead."""
        self.record(positions, action="removed", reason=reason, column=column)
        self.alive[positions] = False

    def where(self, pos: int) -> str:
        """Describe the input row at ``pos`` for an error message (label and customer)."""
        return describe_row(self.frame, pos, self.customer)

    def report(self) -> pd.DataFrame:
        """Build the report: one row per removed or changed input row, in input order."""
        if self.parts:
            report = pd.concat(self.parts, ignore_index=True)
            report = report.sort_values("position", kind="stable").drop(columns="position")
            report = report.reset_index(drop=True)
        else:
            report = pd.DataFrame({c: pd.Series([], dtype=object) for c in REPORT_COLUMNS})
        report["action"] = report["action"].astype(object)
        return report[list(REPORT_COLUMNS)]


def _net_refunds(
    codes: npt.NDArray[np.intp],
    ticks: npt.NDArray[np.int64],
    cents: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Net refunds against the same customer's earlier purchases, latest purchase first.

    Returns the remaining cents of every row (0 for refunds) and, per row, the refund cents of
    its customer that found no earlier purchase to net against.
    """
    refund = cents < 0
    # Walk each customer's rows from the latest to the earliest, refunds before purchases at
    # the same instant: a refund waits in a balance B that earlier purchases absorb. Purchases
    # at one instant absorb the larger first, so the result does not depend on row order.
    order = np.lexsort((-cents, ~refund, -ticks, codes))
    c = codes[order]
    x = -cents[order]  # refund magnitude adds to B, a purchase subtracts
    start = np.ones(len(c), dtype=bool)
    start[1:] = c[1:] != c[:-1]
    group = np.cumsum(start) - 1
    csum = np.cumsum(x)
    group_base = (csum - x)[start]
    s = csum - group_base[group]
    # Lindley recursion B_k = max(0, B_{k-1} + x_k), B_0 = 0, in closed form:
    # B_k = S_k - min(0, min_{j<=k} S_j) with S the running sum within the customer.
    running_min = pd.Series(s).groupby(group).cummin().to_numpy()
    balance = s - np.minimum(running_min, 0)
    before = np.empty_like(balance)
    before[0] = 0
    before[1:] = balance[:-1]
    before[start] = 0
    amount = cents[order]
    absorbed = np.where(amount > 0, np.minimum(amount, before), 0)
    remaining_sorted = np.where(amount > 0, amount - absorbed, 0)
    end = np.ones(len(c), dtype=bool)
    end[:-1] = c[1:] != c[:-1]
    leftover_by_group = balance[end]
    remaining = np.empty_like(remaining_sorted)
    remaining[order] = remaining_sorted
    leftover = np.empty_like(remaining_sorted)
    leftover[order] = leftover_by_group[group]
    return remaining, leftover


def _drop_missing(run: _Run, missing: str) -> None:
    """Step 1: remove rows with a missing customer id, date or amount (or raise)."""
    frame = run.frame
    for col in (run.customer, run.date, run.amount):
        gone = _blank(frame[col]) & run.alive
        pos = first_true(gone)
        if pos is not None and missing == "error":
            raise DataError(
                f"column {col!r} of transactions has a missing value at {run.where(pos)}; "
                "pass missing='drop' to remove such rows",
                column=col,
                row=frame.index[pos],
                value=frame[col].iloc[pos],
            )
        run.remove(np.flatnonzero(gone), reason="missing value", column=col)


def _parse(run: _Run) -> tuple[_BoolArray, npt.NDArray[np.float64], _BoolArray]:
    """Read dates and amounts: the unparseable dates, the amounts and the unparseable amounts.

    The seam for export formats: options that change how text is read (day-first dates, a
    date format, decimal and thousands separators, currency symbols) belong in
    :func:`_parse_dates` and :func:`_parse_amounts`; a value they rewrite is reported as a
    ``changed`` row through :meth:`_Run.record`.
    """
    bad_date = _parse_dates(run.frame, run.date, run.alive, run.customer)
    values, bad_amount = _parse_amounts(run.frame[run.amount])
    return bad_date, values, bad_amount & run.alive & ~bad_date


def _drop_unparseable(
    run: _Run, bad_date: _BoolArray, bad_amount: _BoolArray, unparseable: str
) -> None:
    """Step 2: remove rows whose date or amount could not be read (or raise)."""
    frame = run.frame
    for col, bad, what in ((run.date, bad_date, "date"), (run.amount, bad_amount, "amount")):
        pos = first_true(bad)
        if pos is not None and unparseable == "error":
            raise ColumnTypeError(
                f"column {col!r} of transactions has value {show(frame[col].iloc[pos])} at "
                f"{run.where(pos)} that is not a valid {what}; pass unparseable='drop' to "
                "remove such rows",
                column=col,
                row=frame.index[pos],
                value=frame[col].iloc[pos],
            )
        run.remove(np.flatnonzero(bad), reason=f"unparseable {what}", column=col)


def _drop_duplicates(run: _Run) -> None:
    """Step 3: remove rows identical in every column to an earlier surviving row."""
    if not run.alive.any():
        return
    live = np.flatnonzero(run.alive)
    subset = run.frame.iloc[live]
    groups = subset.groupby(list(subset.columns), dropna=False, sort=False).ngroup().to_numpy()
    first_pos = np.full(int(groups.max()) + 1, len(run.frame), dtype=np.intp)
    np.minimum.at(first_pos, groups, live)  # first occurrence of each distinct row
    earlier = first_pos[groups]
    is_dup = earlier != live
    labels = run.frame.index[earlier[is_dup]]
    reasons = [f"exact duplicate of row {label}" for label in labels]
    run.remove(live[is_dup], reason=reasons, column=run.customer)


def _parsed_dates(run: _Run, positions: npt.NDArray[np.intp]) -> pd.Series:
    """Return the dates of the rows at ``positions`` (all parseable by now) as datetime64."""
    frame = run.frame.iloc[positions]
    text = pd.DataFrame({run.customer: frame[run.customer], run.date: _stripped(frame[run.date])})
    return datetime_column(text, run.date, arg="transactions", key=run.customer)


def _net(run: _Run, values: npt.NDArray[np.float64], decimals: int) -> npt.NDArray[np.float64]:
    """Net each refund against its customer's earlier purchases; return the new amounts."""
    live = np.flatnonzero(run.alive)
    sub = run.frame.iloc[live]
    codes, _ = pd.factorize(sub[run.customer], sort=False)
    dates = numpy_dates(_parsed_dates(run, live))
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    ticks = dates.to_numpy().view(np.int64)  # in the column's own unit: any date range works
    cents = np.asarray(to_minor_units(values[live], decimals, name=run.amount), dtype=np.int64)
    remaining, leftover = _net_refunds(codes.astype(np.intp), ticks, cents)
    is_refund = cents < 0
    unmatched = is_refund & (leftover > 0)
    run.record(
        live[is_refund & ~unmatched],
        action="removed",
        reason="refund netted against earlier purchases",
        column=run.amount,
    )
    reasons = [
        f"refund netted; {from_minor_units(int(v), decimals)} of this customer's "
        "refunds found no earlier purchase and is dropped"
        for v in leftover[unmatched]
    ]
    run.record(live[unmatched], action="removed", reason=reasons, column=run.amount)
    touched = (~is_refund) & (remaining != cents)
    cancelled = touched & (remaining == 0)
    reduced = touched & (remaining > 0)
    run.record(
        live[cancelled],
        action="removed",
        reason="cancelled by refunds of the same customer",
        column=run.amount,
    )
    new = np.asarray(from_minor_units(remaining[reduced], decimals), dtype=np.float64)
    run.record(
        live[reduced],
        action="changed",
        reason="reduced by refunds of the same customer",
        column=run.amount,
        new_value=new.astype(object),
    )
    new_amounts = values.copy()
    new_amounts[live[reduced]] = new
    run.alive[live[is_refund | cancelled]] = False
    return new_amounts


def _handle_refunds(
    run: _Run, values: npt.NDArray[np.float64], refunds: str, decimals: int
) -> npt.NDArray[np.float64]:
    """Step 4: keep, drop, net or refuse negative amounts; return the amounts after it."""
    refund = run.alive & (np.nan_to_num(values) < 0)
    if not refund.any() or refunds == "keep":
        return values
    if refunds == "error":
        pos = int(np.argmax(refund))
        raise DataError(
            f"column {run.amount!r} of transactions has negative value {show(values[pos])} at "
            f"{run.where(pos)}; pass refunds='keep', 'drop' or 'net' to say how refunds are "
            "handled",
            column=run.amount,
            row=run.frame.index[pos],
            value=run.frame[run.amount].iloc[pos],
        )
    if refunds == "drop":
        run.remove(np.flatnonzero(refund), reason="refund dropped", column=run.amount)
        return values
    return _net(run, values, decimals)


def _clean_rows(run: _Run, amounts: npt.NDArray[np.float64]) -> pd.DataFrame:
    """Return the kept rows: dates as datetime64, amounts as float64, the rest as given."""
    keep = np.flatnonzero(run.alive)
    clean = run.frame.iloc[keep].copy()
    if len(clean):
        clean[run.date] = _parsed_dates(run, keep)
    else:
        clean[run.date] = pd.Series(pd.to_datetime([]), index=clean.index)
    clean[run.amount] = amounts[keep]
    return clean


def clean_transactions(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer_id",
    date: str = "date",
    amount: str = "amount",
    duplicates: Literal["drop", "keep"] = "drop",
    missing: Literal["drop", "error"] = "drop",
    unparseable: Literal["drop", "error"] = "drop",
    refunds: Literal["keep", "drop", "net", "error"] = "keep",
    decimals: int = 2,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean a transaction export and report every row removed or changed, and why.

    The steps run in this order; a row removed by one step is reported once, for that step:

    1. **missing**: a missing customer id, date or amount (NA, NaN, NaT, empty or blank
       text). ``"drop"`` removes the row, ``"error"`` raises.
    2. **unparseable**: a date that is not a date (text that is not ISO 8601, numbers) or an
       amount that is not a finite number (text such as ``"n/a"``, booleans, infinities).
       ``"drop"`` or ``"error"``.
    3. **duplicates**: a row identical to an earlier row in *every* column (an exact
       duplicate; index labels do not count). ``"drop"`` keeps the first occurrence and
       removes the others, ``"keep"`` keeps all.
    4. **refunds** (negative amounts): ``"keep"`` leaves them (summaries then need
       ``refunds="allow"``); ``"drop"`` removes them; ``"error"`` raises; ``"net"`` removes
       each refund row and subtracts its amount from the same customer's purchases made at
       or before it, the latest purchase first (computed exactly in minor units at
       ``decimals``). A purchase reduced to zero is removed ("cancelled by refund"), one
       partly reduced is changed (its new amount is in ``new_value``). Refund amounts that
       find no earlier purchase (more refunded than bought before) cannot be netted; they are
       removed with the rest of the refund row and the amount is named in the reason.

    Reconciliation: ``len(clean) + (report["action"] == "removed").sum() == len(transactions)``;
    each input row is in ``clean`` or in the report as removed, never both; changed rows are
    in both. With ``refunds="net"`` the amounts reconcile per customer:
    ``sum(clean amounts) = sum(input purchases) + sum(refunds) + unmatched refund amount``.

    Parameters
    ----------
    transactions
        The raw table; other columns are carried along unchanged.
    customer, date, amount
        Column names.
    duplicates, missing, unparseable, refunds
        What to do with each kind of problem (see above).
    decimals
        Minor-unit digits of the currency, used by ``refunds="net"`` (default 2).

    Returns
    -------
    clean : pandas.DataFrame
        The kept rows in input order with their original index labels; ``date`` converted to
        datetime64 and ``amount`` to float64, other columns as given.
    report : pandas.DataFrame
        One row per removed or changed input row, in input order, with columns ``row`` (the
        original index label), ``action`` (``"removed"`` or ``"changed"``), ``reason`` (text),
        ``column`` (the column at fault), ``value`` (its original value) and ``new_value``
        (the new amount of a changed row, else ``None``).

    Raises
    ------
    SchemaError
        A column is missing or the table is empty.
    DataError
        With ``missing="error"`` or ``refunds="error"``: the first offending row; also naive
        and tz-aware dates mixed (cleaning cannot choose a time zone for you).
    ColumnTypeError
        With ``unparseable="error"``: the first unparseable value.
    ConfigError
        An unknown option.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import clean_transactions
    >>> raw = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, None, 2, 2],
    ...     "date": ["2024-01-02", "2024-01-02", "2024-01-05", "2024-01-06", "soon", "2024-01-07"],
    ...     "amount": [30.0, 30.0, -10.0, 5.0, 8.0, 12.0],
    ... })
    >>> clean, report = clean_transactions(raw, refunds="net")
    >>> clean
       customer_id       date  amount
    0          1.0 2024-01-02    20.0
    5          2.0 2024-01-07    12.0
    >>> report[["row", "action", "reason", "column"]]
       row   action                                   reason       column
    0    0  changed  reduced by refunds of the same customer       amount
    1    1  removed                 exact duplicate of row 0  customer_id
    2    2  removed  refund netted against earlier purchases       amount
    3    3  removed                            missing value  customer_id
    4    4  removed                         unparseable date         date
    >>> report["new_value"].tolist()[:2], len(clean) + int((report["action"] == "removed").sum())
    ([20.0, None], 6)
    """
    transactions = require_columns(transactions, [customer, date, amount], arg="transactions")
    check_choice(duplicates, "duplicates", ("drop", "keep"))
    check_choice(missing, "missing", ("drop", "error"))
    check_choice(unparseable, "unparseable", ("drop", "error"))
    check_choice(refunds, "refunds", ("keep", "drop", "net", "error"))
    check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    run = _Run(transactions, customer=customer, date=date, amount=amount)
    _drop_missing(run, missing)
    bad_date, values, bad_amount = _parse(run)
    _drop_unparseable(run, bad_date, bad_amount, unparseable)
    if duplicates == "drop":
        _drop_duplicates(run)
    amounts = _handle_refunds(run, values, refunds, decimals)
    return _clean_rows(run, amounts), run.report()
