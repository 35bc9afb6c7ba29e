"""Text tables for the shell: the demo report and the command line print through these.

One style everywhere:

- **one number format per column**, chosen from the column's values: whole numbers with
  thousands separators (``1,234``); other numbers with the fewest decimals (at most 6) that
  show every value exactly, and 2 once the column reaches 1,000 (money: ``1,591,112.54``),
  never switching to scientific notation;
- **periods** (a period column or index level) as :func:`crmcore._periods.period_labels` writes
  them: ``2025-01-06`` (day), ``2025-W02``, ``2025-01``, ``2025-Q1``, ``2025``;
- dates as ``2025-01-31`` (with the time only when some value has one).

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame(
...     {"count": [3, 1200], "amount": [1876713.0, 12.5], "p": [0.25, 0.5]},
...     index=pd.Index(pd.to_datetime(["2025-01-01", "2025-04-01"]), name="period"),
... )
>>> print(format_table(frame, period="Q"))
         count        amount    p
period
2025-Q1      3  1,876,713.00 0.25
2025-Q2  1,200         12.50 0.50
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from crmcore._periods import period_labels

__all__ = ["PERIOD_NAMES", "format_table", "label_periods", "number_format"]

#: Column and index names that hold periods (relabelled when the period code is known).
PERIOD_NAMES = frozenset({"period", "month", "source_period"})

_MAX_DECIMALS = 6
_MONEY_FROM = 1_000.0


def number_format(values: pd.Series) -> Callable[[Any], str]:
    """Return the one formatter for a numeric column (see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> f = number_format(pd.Series([0.361607142857, 1.0]))
    >>> f(0.361607142857), f(1.0)
    ('0.361607', '1.000000')
    >>> number_format(pd.Series([1_500_000.123, 2.0]))(2.0)
    '2.00'
    >>> number_format(pd.Series([1.7e308, 2.5]))(2.5)
    '2.50'
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return str
    numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = numbers[np.isfinite(numbers)]
    decimals = 0 if pd.api.types.is_integer_dtype(values.dtype) else _decimals(finite)
    spec = f"{{:,.{decimals}f}}"

    def show(value: Any) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return "NaN"
        number = float(value)
        return str(value) if not np.isfinite(number) else spec.format(number)

    return show


def _decimals(finite: np.ndarray[Any, Any]) -> int:
    """Fewest decimals (0..6) showing every value; 0 or 2 in a column reaching 1,000."""
    if finite.size == 0:
        return 0
    # Floats from 2**52 on are whole numbers (and rounding 1e307 to 6 decimals would overflow).
    fraction = finite[np.abs(finite) < 2.0**52]
    scale = np.maximum(1.0, np.abs(fraction))
    decimals = _MAX_DECIMALS
    for d in range(_MAX_DECIMALS + 1):
        if bool((np.abs(np.round(fraction, d) - fraction) <= 1e-9 * scale).all()):
            decimals = d
            break
    if np.abs(finite).max() >= _MONEY_FROM and decimals:
        decimals = 2  # money: cents, whatever the other values need
    return decimals


def _date_format(values: pd.Series) -> Callable[[Any], str]:
    stamps = pd.DatetimeIndex(values.dropna())
    local = stamps.tz_localize(None) if stamps.tz is not None else stamps
    midnight = bool((local == local.normalize()).all())

    def show(value: Any) -> str:
        if pd.isna(value):
            return "NaT"
        stamp = pd.Timestamp(value)
        return stamp.strftime("%Y-%m-%d") if midnight and stamp.tz is None else stamp.isoformat()

    return show


def label_periods(frame: pd.DataFrame, period: str | None) -> pd.DataFrame:
    """Replace period starts (a ``period``/``month`` column or index level) by period labels.

    Nothing changes without a ``period`` code or when those columns hold no dates.

    Examples
    --------
    >>> import pandas as pd
    >>> starts = pd.to_datetime(["2025-01-01", "2025-02-01"])
    >>> label_periods(pd.DataFrame({"period": starts, "x": [1, 2]}), "M")["period"].tolist()
    ['2025-01', '2025-02']
    """
    if period is None:
        return frame
    out = frame
    for name in frame.columns:
        if name in PERIOD_NAMES and pd.api.types.is_datetime64_any_dtype(frame[name].dtype):
            labels = period_labels(pd.DatetimeIndex(frame[name]), period)
            out = out.assign(**{str(name): labels.to_numpy()})
    index = frame.index
    if isinstance(index, pd.MultiIndex):
        levels = [_labelled(index.get_level_values(i), period) for i in range(index.nlevels)]
        out = out.set_axis(pd.MultiIndex.from_arrays(levels), axis=0)
    else:
        out = out.set_axis(_labelled(index, period), axis=0)
    return out


def _labelled(index: pd.Index, period: str) -> pd.Index:
    if index.name in PERIOD_NAMES and isinstance(index, pd.DatetimeIndex):
        labels: pd.Index = pd.Index(period_labels(index, period), name=index.name)
        return labels
    return index


def format_table(
    frame: pd.DataFrame, *, period: str | None = None, max_rows: int | None = None
) -> str:
    """Return ``frame`` as text in the shell's one style; ``max_rows`` cuts it (and says so).

    Parameters
    ----------
    frame
        Any result frame; its index is printed as pandas prints it.
    period
        The period code (``D``/``W``/``M``/``Q``/``Y`` or a pandas alias) of a ``period``
        column or index level holding period starts, shown as labels.
    max_rows
        Show only the first ``max_rows`` rows, followed by a line saying how many are hidden;
        ``None`` shows every row.

    Returns
    -------
    str
        The table, without a trailing newline.

    Examples
    --------
    >>> import pandas as pd
    >>> print(format_table(pd.DataFrame({"n": range(5)}), max_rows=2))
       n
    0  0
    1  1
    ... 3 more rows not shown
    """
    shown = label_periods(frame, period)
    hidden = 0
    if max_rows is not None and len(shown) > max_rows:
        hidden = len(shown) - max_rows
        shown = shown.iloc[:max_rows]
    formatters: dict[Any, Callable[[Any], str]] = {}
    for position, name in enumerate(frame.columns):
        values = frame.iloc[:, position]  # formats come from every row, shown or not
        if pd.api.types.is_bool_dtype(values.dtype):
            continue
        if pd.api.types.is_numeric_dtype(values.dtype):
            formatters[name] = number_format(values)
        elif pd.api.types.is_datetime64_any_dtype(values.dtype) and name not in PERIOD_NAMES:
            formatters[name] = _date_format(values)
    if isinstance(shown.index, pd.DatetimeIndex) and shown.index.name not in PERIOD_NAMES:
        show = _date_format(shown.index.to_series())
        shown = shown.set_axis(pd.Index([show(v) for v in shown.index], name=shown.index.name))
    with pd.option_context("display.width", 10_000, "display.max_columns", None):
        text = shown.to_string(formatters=formatters, max_rows=None, max_cols=None)
    text = "\n".join(line.rstrip() for line in text.splitlines())
    if hidden:
        text += f"\n... {hidden:,} more row{'s' if hidden > 1 else ''} not shown"
    return text
