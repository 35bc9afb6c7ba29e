"""Clean a messy transaction export, reporting every row removed or changed and why."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs
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
from crmcore.errors import ColumnTypeError, ConfigError, CurrencyError, DataError
from crmcore.money import from_minor_units, to_minor_units
from crmcore.segmentation._dates import numpy_dates
from crmcore.segmentation._parse import (
    GROUPING_SEPARATORS,
    read_amounts,
    read_dates,
    read_ids,
)

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


@attrs.frozen(kw_only=True)
class _Reading:
    """How the export's text is read (the options of :func:`clean_transactions`)."""

    dayfirst: bool | None = None
    date_format: str | None = None
    decimal: str = "."
    thousands: str | None = None
    symbols: Mapping[str, str] = attrs.field(factory=dict)
    currency: str | None = None
    casefold_ids: bool = False


def _check_reading(transactions: pd.DataFrame, **options: Any) -> _Reading:
    """Validate the reading options, naming the option and the value at fault."""
    dayfirst = options["dayfirst"]
    if dayfirst is not None and not isinstance(dayfirst, bool):
        raise ConfigError(
            f"dayfirst={dayfirst!r} must be True, False or None", column="dayfirst", value=dayfirst
        )
    date_format = options["date_format"]
    if date_format is not None:
        if not isinstance(date_format, str) or "%" not in date_format:
            raise ConfigError(
                f"date_format={date_format!r} must be a strftime format such as '%d.%m.%Y'",
                column="date_format",
                value=date_format,
            )
        if dayfirst is not None:
            raise ConfigError(
                "give date_format or dayfirst, not both: the format already says where the day is",
                column="dayfirst",
                value=dayfirst,
            )
    decimal = check_choice(options["decimal"], "decimal", (".", ","))
    thousands = options["thousands"]
    if thousands is not None and (
        thousands not in (*GROUPING_SEPARATORS, "") or thousands == decimal
    ):
        raise ConfigError(
            f"thousands={thousands!r} must be None (any usual separator), '' (none) or one of "
            f"{', '.join(repr(c) for c in GROUPING_SEPARATORS)}, and differ from decimal="
            f"{decimal!r}",
            column="thousands",
            value=thousands,
        )
    symbols = options["symbols"] if options["symbols"] is not None else {}
    if not isinstance(symbols, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and k and v for k, v in symbols.items()
    ):
        raise ConfigError(
            f"symbols={symbols!r} must map currency symbols to currency codes, e.g. {{'¥': 'CNY'}}",
            column="symbols",
        )
    currency = options["currency"]
    if currency is not None:
        if not isinstance(currency, str) or not currency:
            raise ConfigError(
                f"currency={currency!r} must be the name of the column to add", column="currency"
            )
        if currency in transactions.columns:
            raise ConfigError(
                f"currency={currency!r}: transactions already has a column {currency!r}; name "
                "a new column for the currency of each amount",
                column="currency",
                value=currency,
            )
    casefold = options["casefold_ids"]
    if not isinstance(casefold, bool):
        raise ConfigError(f"casefold_ids={casefold!r} must be True or False", column="casefold_ids")
    return _Reading(
        dayfirst=dayfirst,
        date_format=date_format,
        decimal=decimal,
        thousands=thousands,
        symbols=dict(symbols),
        currency=currency,
        casefold_ids=casefold,
    )


class _Run:
    """One cleaning run: the input, which rows are still alive, and the report rows so far.

    Each step below reads the rows still alive, records what it removes or changes and marks
    removed rows dead. What was read from the export's text is kept here per input row: the
    ids, the date text for the ISO 8601 parser, the dates (once every kept row has one), the
    amounts and their currencies.
    """

    def __init__(self, frame: pd.DataFrame, *, customer: str, date: str, amount: str) -> None:
        self.frame = frame
        self.customer = customer
        self.date = date
        self.amount = amount
        n = len(frame)
        self.alive = np.ones(n, dtype=bool)
        self.parts: list[dict[str, npt.NDArray[Any]]] = []  # report rows, column by column
        self.ids: npt.NDArray[Any] = frame[customer].to_numpy()  # replaced when ids are read
        self.ids_changed = np.zeros(n, dtype=bool)
        self.date_text: pd.Series = frame[date]
        # parsed dates of the rows alive after the unparseable step; date_row maps a position
        # to its entry there
        self.dates: pd.Series = pd.Series(pd.DatetimeIndex([]))
        self.date_row = np.full(n, -1, dtype=np.intp)
        self.values = np.full(n, np.nan)
        self.labels: npt.NDArray[np.object_] | None = None  # currency per row, if any named

    def record(
        self,
        positions: npt.NDArray[np.intp],
        *,
        action: str,
        reason: str | list[str] | npt.NDArray[np.object_],
        column: str,
        new_value: object = None,
        value: npt.NDArray[Any] | None = None,
    ) -> None:
        """Add report rows for the input rows at ``positions`` (``value``: the raw values)."""
        if len(positions) == 0:
            return
        frame = self.frame
        n = len(positions)

        def objects(values: Any) -> npt.NDArray[np.object_]:
            out = np.empty(n, dtype=object)
            out[:] = values
            return out

        self.parts.append(
            {
                "position": np.asarray(positions, dtype=np.intp),
                "row": frame.index[positions].to_numpy(dtype=object),
                "action": objects(action),
                "reason": objects(reason),
                "column": objects(column),
                "value": (
                    frame[column].iloc[positions].to_numpy(dtype=object)
                    if value is None
                    else objects(value)
                ),
                "new_value": objects(new_value),
            }
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

    def dates_at(self, positions: npt.NDArray[np.intp]) -> pd.Series:
        """Return the parsed dates of the kept rows at ``positions``, with their index labels."""
        out = self.dates.iloc[self.date_row[positions]]
        out.index = self.frame.index[positions]
        return out

    def report(self) -> pd.DataFrame:
        """Build the report: removed rows, and changes of the rows kept, in input order."""
        if not self.parts:
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in REPORT_COLUMNS})
        joined = {c: np.concatenate([p[c] for p in self.parts]) for c in self.parts[0]}
        positions = joined["position"]
        shown = (joined["action"] == "removed") | self.alive[positions]  # not: changes of
        order = np.flatnonzero(shown)  # rows removed later in the run
        order = order[np.argsort(positions[order], kind="stable")]
        # object columns: pandas would infer string and datetime dtypes from the arrays
        return pd.DataFrame(
            {c: pd.Series(joined[c][order], dtype=object) for c in REPORT_COLUMNS}, copy=False
        )


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


def _read_id_text(run: _Run, live: npt.NDArray[np.intp], reading: _Reading) -> None:
    """Ids: surrounding spaces removed (and case folded on request), each change reported."""
    got = read_ids(run.frame[run.customer].iloc[live], casefold=reading.casefold_ids)
    if got.changed.any():
        ids = run.ids.astype(object)  # a copy: the input's own array is never written
        ids[live] = got.values
        run.ids = ids
        run.ids_changed[live] = got.changed
    run.record(
        live[got.changed],
        action="changed",
        reason=got.reasons,
        column=run.customer,
        new_value=got.new,
    )


def _read_date_text(run: _Run, live: npt.NDArray[np.intp], reading: _Reading) -> _BoolArray:
    """Dates in local forms rewritten as ISO 8601 text (reported); the unreadable ones."""
    column = run.date
    got = read_dates(
        run.frame[column].iloc[live], dayfirst=reading.dayfirst, date_format=reading.date_format
    )
    frame = run.frame
    if got.ambiguous is not None:
        pos = int(live[got.ambiguous])
        value = frame[column].iloc[pos]
        raise DataError(
            f"column {column!r} of transactions has date {show(value)} at {run.where(pos)}, "
            "which reads as a date both day-first and month-first; pass dayfirst=True or "
            "dayfirst=False (or date_format=...) to say which",
            column=column,
            row=frame.index[pos],
            value=value,
        )
    if got.conflict is not None:
        d, m = (int(live[p]) for p in got.conflict)
        raise DataError(
            f"column {column!r} of transactions mixes day-first dates "
            f"({show(frame[column].iloc[d])} at {run.where(d)}) and month-first dates "
            f"({show(frame[column].iloc[m])} at {run.where(m)}); pass dayfirst=True or "
            "dayfirst=False to say which (dates of the other form are then unparseable)",
            column=column,
            row=frame.index[m],
            value=frame[column].iloc[m],
        )
    if got.text is not None:  # a text column: the parser reads the rewritten text
        text = frame[column].to_numpy(dtype=object).copy()
        text[live] = got.text
        run.date_text = pd.Series(text, index=frame.index, dtype=object)
    run.record(
        live[got.changed],
        action="changed",
        reason=got.reasons,
        column=column,
        new_value=got.new,
    )
    bad = np.zeros(len(frame), dtype=bool)
    bad[live] = got.bad
    return bad


def _parse_dates(run: _Run, live: npt.NDArray[np.intp]) -> _BoolArray:
    """Mask of the ``live`` rows whose (rewritten) date does not parse as a date.

    Naive and tz-aware dates mixed are not "unparseable": they raise (``datetime_column``'s
    ``DataError``), because cleaning cannot choose a time zone for the caller.
    """
    series = run.date_text
    dtype = series.dtype
    none = np.zeros(len(series), dtype=bool)
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return none
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        bad = none.copy()
        bad[live] = True
        return bad
    key = run.customer
    frame = pd.DataFrame({key: run.frame[key], run.date: series}).iloc[live]
    if len(frame) == 0:
        return none
    try:
        datetime_column(frame, run.date, arg="transactions", key=key)
    except ColumnTypeError:
        pass
    else:
        return none
    parsed = pd.to_datetime(frame[run.date], errors="coerce", format="ISO8601")
    bad = none.copy()
    bad[live] = parsed.isna().to_numpy(dtype=bool)
    return bad


def _read_amount_text(run: _Run, live: npt.NDArray[np.intp], reading: _Reading) -> _BoolArray:
    """Amounts in export styles read as numbers (reported); the unreadable ones."""
    got = read_amounts(
        run.frame[run.amount].iloc[live],
        decimal=reading.decimal,
        thousands=reading.thousands,
        symbols=reading.symbols,
    )
    run.values[live] = got.values
    if got.labels is not None:
        run.labels = np.full(len(run.frame), None, dtype=object)
        run.labels[live] = got.labels
    run.record(
        live[got.changed],
        action="changed",
        reason=got.reasons,
        column=run.amount,
        new_value=got.new,
    )
    bad = np.zeros(len(run.frame), dtype=bool)
    bad[live] = got.bad
    return bad


def _parse(run: _Run, reading: _Reading) -> tuple[_BoolArray, _BoolArray]:
    """Read ids, dates and amounts; return the unparseable dates and amounts.

    The seam for export formats: what is read here from text (ids with spaces, dates in local
    forms, amounts with separators and currencies; see :mod:`._parse`) is kept on the run,
    and every value rewritten is reported as a ``changed`` row through :meth:`_Run.record`.
    """
    live = np.flatnonzero(run.alive)
    _read_id_text(run, live, reading)
    bad_date = _read_date_text(run, live, reading)
    bad_date |= _parse_dates(run, live)
    bad_amount = _read_amount_text(run, live, reading)
    return bad_date & run.alive, bad_amount & run.alive & ~bad_date


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


def _check_currencies(run: _Run, currency: str | None) -> None:
    """Step 3: one currency per amount column, unless a ``currency`` column is asked for.

    Amounts without a currency marker are in the column's currency when there is one; with
    several currencies each kept amount must name its own.
    """
    if run.labels is None:
        return
    live = np.flatnonzero(run.alive)
    labels = run.labels[live]
    marked = np.array([label is not None for label in labels], dtype=bool) if len(live) else labels
    codes, found = pd.factorize(labels[marked], sort=False)
    if len(found) <= 1:
        run.labels[live] = found[0] if len(found) else None
        return
    frame, column = run.frame, run.amount
    a = int(live[marked][int(np.argmax(codes == 0))])
    b = int(live[marked][int(np.argmax(codes == 1))])
    if currency is None:
        raise CurrencyError(
            f"column {column!r} of transactions mixes currencies {show(found[0])} "
            f"({show(frame[column].iloc[a])} at {run.where(a)}) and {show(found[1])} "
            f"({show(frame[column].iloc[b])} at {run.where(b)}); pass currency='currency' to "
            "keep each amount's currency in a column of that name (or clean one currency at "
            "a time); symbols={'$': 'USD'} says what a symbol stands for",
            column=column,
            row=frame.index[b],
            value=frame[column].iloc[b],
        )
    pos = first_true(~marked)
    if pos is not None:
        at = int(live[pos])
        raise CurrencyError(
            f"column {column!r} of transactions has amount {show(frame[column].iloc[at])} "
            f"without a currency at {run.where(at)}, while the column mixes "
            f"{', '.join(show(c) for c in found)}; write the currency of every amount",
            column=column,
            row=frame.index[at],
            value=frame[column].iloc[at],
        )


def _read_dates(run: _Run) -> None:
    """Parse the dates of the rows still alive (all readable by now) onto the run."""
    live = np.flatnonzero(run.alive)
    text = pd.DataFrame(
        {run.customer: run.frame[run.customer].iloc[live], run.date: run.date_text.iloc[live]}
    )
    if len(text) == 0:
        run.dates = pd.Series(pd.DatetimeIndex([]), index=pd.RangeIndex(0))
        return
    dates = datetime_column(text, run.date, arg="transactions", key=run.customer)
    run.dates = dates.reset_index(drop=True)
    run.date_row[live] = np.arange(len(live))


def _drop_duplicates(run: _Run) -> None:
    """Step 4: remove rows equal in every column, once read, to an earlier surviving row."""
    if not run.alive.any():
        return
    live = np.flatnonzero(run.alive)
    subset = run.frame.iloc[live]
    read = {run.customer: run.ids[live], run.amount: run.values[live]}
    # arrays, not Series: grouping by Series would first align each on the index
    keys: list[Any] = [
        read[c] if c in read else subset[c].array for c in subset.columns if c != run.date
    ]
    keys.append(run.dates.array[run.date_row[live]])
    if run.labels is not None:
        keys.append(run.labels[live])
    groups = subset.groupby(keys, dropna=False, sort=False).ngroup().to_numpy()
    first_pos = np.full(int(groups.max()) + 1, len(run.frame), dtype=np.intp)
    np.minimum.at(first_pos, groups, live)  # first occurrence of each distinct row
    earlier = first_pos[groups]
    is_dup = earlier != live
    dup, first = live[is_dup], earlier[is_dup]
    exact = np.ones(len(dup), dtype=bool)
    for c in (run.customer, run.date, run.amount):
        raw = run.frame[c]
        same = raw.iloc[dup].to_numpy(dtype=object) == raw.iloc[first].to_numpy(dtype=object)
        exact &= np.asarray(same, dtype=bool)
    labels = pd.Index(run.frame.index[first]).astype(str).to_numpy(dtype=object)
    reasons = np.where(exact, "exact duplicate of row ", "duplicate, once read, of row ") + labels
    run.remove(dup, reason=list(reasons), column=run.customer)


def _net(run: _Run, values: npt.NDArray[np.float64], decimals: int) -> npt.NDArray[np.float64]:
    """Net each refund against its customer's earlier purchases (in the same currency)."""
    live = np.flatnonzero(run.alive)
    customers, _ = pd.factorize(run.ids[live], sort=False)
    codes = customers.astype(np.int64)
    if run.labels is not None:
        currencies, found = pd.factorize(run.labels[live], sort=False, use_na_sentinel=False)
        codes = codes * len(found) + currencies
    dates = numpy_dates(run.dates_at(live))
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    ticks = dates.to_numpy().view(np.int64)  # in the column's own unit: any date range works
    cents = np.asarray(to_minor_units(values[live], decimals, name=run.amount), dtype=np.int64)
    remaining, leftover = _net_refunds(pd.factorize(codes)[0].astype(np.intp), ticks, cents)
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
        value=values[live[reduced]],
    )
    new_amounts = values.copy()
    new_amounts[live[reduced]] = new
    run.alive[live[is_refund | cancelled]] = False
    return new_amounts


def _handle_refunds(
    run: _Run, values: npt.NDArray[np.float64], refunds: str, decimals: int
) -> npt.NDArray[np.float64]:
    """Step 5: keep, drop, net or refuse negative amounts; return the amounts after it."""
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


def _clean_rows(run: _Run, amounts: npt.NDArray[np.float64], currency: str | None) -> pd.DataFrame:
    """Return the kept rows with ids, dates and amounts as read (and currencies if asked)."""
    keep = np.flatnonzero(run.alive)
    clean = run.frame.iloc[keep].copy()
    if run.ids_changed[keep].any():
        ids = pd.Series(run.ids[keep], index=clean.index, dtype=object)
        dtype = run.frame[run.customer].dtype
        clean[run.customer] = ids if pd.api.types.is_object_dtype(dtype) else ids.astype(dtype)
    if len(clean):
        clean[run.date] = run.dates_at(keep)
    else:
        clean[run.date] = pd.Series(pd.to_datetime([]), index=clean.index)
    clean[run.amount] = amounts[keep]
    if currency is not None:
        labels = run.labels[keep] if run.labels is not None else np.full(len(keep), None)
        clean[currency] = pd.Series(labels, index=clean.index, dtype=object)
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
    dayfirst: bool | None = None,
    date_format: str | None = None,
    decimal: Literal[".", ","] = ".",
    thousands: str | None = None,
    symbols: Mapping[str, str] | None = None,
    currency: str | None = None,
    casefold_ids: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean a transaction export and report every row removed or changed, and why.

    The steps run in this order; a row removed by one step is reported once, for that step:

    1. **missing**: a missing customer id, date or amount (NA, NaN, NaT, empty or blank
       text). ``"drop"`` removes the row, ``"error"`` raises.
    2. **reading** the text of real exports (every value rewritten is a ``changed`` row):

       - *ids*: text ids lose surrounding spaces (``" C7 "`` → ``"C7"``); with
         ``casefold_ids=True`` they are also case-folded (``"Ann"`` → ``"ann"``).
       - *dates*: ISO 8601 text as it is; ``2024/01/09`` and ``2024.01.09`` (year first);
         ``2024年1月9日`` and ``2024년 1월 9일``; ``05.01.2024``, ``05/01/2024`` and
         ``05-01-2024`` day-first with ``dayfirst=True``, month-first with
         ``dayfirst=False``. With ``dayfirst=None`` (the default) such a date is read only
         when one reading alone is a date (``13.01.2024``, reported as "the only reading");
         a date that reads both ways (``01.02.2024``) raises, and so does a column needing
         both forms. Each form may end with a time ``HH:MM[:SS]``. ``date_format`` (a
         strftime format) reads every date text with that format only.
       - *amounts*: numbers as they are, and text in CLDR number styles: the ``decimal``
         mark (``"."`` or ``","``); grouping by ``thousands`` (default ``None``: any of
         ``,`` ``.`` ``'`` U+2019, a space or a no-break space that is not the decimal
         mark), in groups of three or the Indian 2-2-3 (``12,34,567``), one separator per
         value; a currency symbol or ISO 4217 code before or after the number (``¥80``,
         ``$1,200``, ``80 CNY``, ``1.200,50 €``); negatives written ``-80``, U+2212 MINUS
         SIGN, ``(80)`` (accounting) or ``80-`` (trailing minus). Text that fits none
         of these (``1,5`` with ``decimal="."``, ``1.200,50`` without ``decimal=","``) is
         unparseable, never guessed.
       - *currencies*: an amount column holds one currency. Symbols that name one currency
         become its code (``€`` EUR, ``元`` CNY, ``HK$`` HKD, ...); ``$``, ``¥`` and ``kr``,
         which name several, stay as written unless ``symbols`` maps them
         (``symbols={"¥": "CNY"}``). Two currencies in one column raise
         :class:`~crmcore.errors.CurrencyError` unless ``currency`` names a column to add,
         holding each kept amount's currency (then every amount must name its own).
    3. **unparseable**: a date that could not be read (text in no form above, numbers) or an
       amount that is not a finite number (text such as ``"n/a"``, booleans, infinities).
       ``"drop"`` or ``"error"``.
    4. **duplicates**: a row equal to an earlier row in *every* column once ids, dates and
       amounts are read (index labels do not count); the reason says "exact duplicate"
       when the text was identical too. ``"drop"`` keeps the first occurrence and removes
       the others, ``"keep"`` keeps all.
    5. **refunds** (negative amounts): ``"keep"`` leaves them (summaries then need
       ``refunds="allow"``); ``"drop"`` removes them; ``"error"`` raises; ``"net"`` removes
       each refund row and subtracts its amount from the same customer's purchases (in the
       same currency) made at or before it, the latest purchase first (computed exactly in
       minor units at ``decimals``). A purchase reduced to zero is removed ("cancelled by
       refund"), one partly reduced is changed (its new amount is in ``new_value``). Refund
       amounts that find no earlier purchase (more refunded than bought before) cannot be
       netted; they are removed with the rest of the refund row and the amount is named in
       the reason.

    Reconciliation: ``len(clean) + (report["action"] == "removed").sum() == len(transactions)``;
    each input row is in ``clean`` or in the report as removed, once, never both; changed rows
    are rows of ``clean`` (a row removed later in the run shows only its removal). With
    ``refunds="net"`` the amounts reconcile per customer: ``sum(clean amounts) =
    sum(input purchases) + sum(refunds) + unmatched refund amount``.

    Parameters
    ----------
    transactions
        The raw table; not modified. Other columns are carried along unchanged.
    customer, date, amount
        Column names.
    duplicates, missing, unparseable, refunds
        What to do with each kind of problem (see above).
    decimals
        Minor-unit digits of the currency, used by ``refunds="net"`` (default 2).
    dayfirst
        ``True``: ``05.01.2024`` is 5 January; ``False``: 1 May; ``None`` (default): only
        dates that read one way are read, the others raise.
    date_format
        A strftime format (``"%d.%m.%Y %H:%M"``) every date text must fit; not with
        ``dayfirst``.
    decimal
        The decimal mark of amount text, ``"."`` (default) or ``","``.
    thousands
        The grouping separator of amount text: ``None`` (default) any usual one that is not
        ``decimal``, ``""`` none, or one of ``,`` ``.`` ``'`` U+2019 and a space (which also
        accepts U+00A0 and U+202F).
    symbols
        What currency symbols stand for, e.g. ``{"$": "USD", "¥": "CNY"}``; added to (and
        overriding) the built-in symbols.
    currency
        The name of a column added to ``clean`` with the currency of each amount (a code, or
        a symbol as written; ``None`` when no amount names one); allows several currencies.
    casefold_ids
        Also case-fold text ids (``str.casefold``), so ``"ANN"`` and ``"ann"`` are one
        customer. Default ``False``.

    Returns
    -------
    clean : pandas.DataFrame
        The kept rows in input order with their original index labels; ``customer`` as read,
        ``date`` converted to datetime64 and ``amount`` to float64, other columns as given,
        and the ``currency`` column when asked for.
    report : pandas.DataFrame
        One row per removed input row and per value rewritten in a kept row, in input order,
        with columns ``row`` (the original index label), ``action`` (``"removed"`` or
        ``"changed"``), ``reason`` (text), ``column`` (the column at fault), ``value`` (its
        original value) and ``new_value`` (the value read or the new amount of a changed
        row, else ``None``).

    Raises
    ------
    SchemaError
        A column is missing or the table is empty.
    DataError
        With ``missing="error"`` or ``refunds="error"``: the first offending row; a date that
        reads both day-first and month-first (or a column needing both) without
        ``dayfirst``; naive and tz-aware dates mixed (cleaning cannot choose a time zone).
    CurrencyError
        Two currencies in the amount column without ``currency``, or an amount without a
        currency among several.
    ColumnTypeError
        With ``unparseable="error"``: the first unparseable value.
    ConfigError
        An unknown or inconsistent option.

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

    A European export: day-first dates, decimal commas, the euro sign.

    >>> export = pd.DataFrame({
    ...     "customer_id": [" K-7", "K-7"],
    ...     "date": ["05.01.2024", "2024年1月9日"],
    ...     "amount": ["1.200,50 €", "(80,00 €)"],
    ... })
    >>> clean, report = clean_transactions(export, dayfirst=True, decimal=",", refunds="net")
    >>> clean
      customer_id       date  amount
    0         K-7 2024-01-05  1120.5
    >>> report[["row", "action", "column", "value", "new_value"]]
      row   action       column       value            new_value
    0   0  changed  customer_id         K-7                  K-7
    1   0  changed         date  05.01.2024  2024-01-05 00:00:00
    2   0  changed       amount  1.200,50 €               1200.5
    3   0  changed       amount      1200.5               1120.5
    4   1  removed       amount   (80,00 €)                 None
    >>> for reason in report["reason"][:3]:
    ...     print(reason)
    id: surrounding spaces removed
    date read day-first (dayfirst=True)
    amount read with currency '€' (EUR), thousands separator '.', decimal comma
    """
    transactions = require_columns(transactions, [customer, date, amount], arg="transactions")
    check_choice(duplicates, "duplicates", ("drop", "keep"))
    check_choice(missing, "missing", ("drop", "error"))
    check_choice(unparseable, "unparseable", ("drop", "error"))
    check_choice(refunds, "refunds", ("keep", "drop", "net", "error"))
    check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    reading = _check_reading(
        transactions,
        dayfirst=dayfirst,
        date_format=date_format,
        decimal=decimal,
        thousands=thousands,
        symbols=symbols,
        currency=currency,
        casefold_ids=casefold_ids,
    )
    run = _Run(transactions, customer=customer, date=date, amount=amount)
    _drop_missing(run, missing)
    bad_date, bad_amount = _parse(run, reading)
    _drop_unparseable(run, bad_date, bad_amount, unparseable)
    _check_currencies(run, currency)
    _read_dates(run)
    if duplicates == "drop":
        _drop_duplicates(run)
    amounts = _handle_refunds(run, run.values, refunds, decimals)
    return _clean_rows(run, amounts, currency), run.report()
