"""Row order by key columns for the quota frames, with a clear error for unsortable keys."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import describe_row, show
from crmcore.errors import DataError


def key_order(frame: pd.DataFrame, keys: list[str], *, arg: str) -> npt.NDArray[np.intp]:
    """Positions that sort ``frame`` by ``keys`` (last key fastest), stable.

    Raises
    ------
    DataError
        A key column mixes values that cannot be compared (``1`` and ``"1"``), naming the
        column, both values and the row of the second one.
    """
    columns = [frame[key].to_numpy() for key in reversed(keys)]
    try:
        if len(columns) == 1:
            return np.argsort(columns[0], kind="stable")
        return np.lexsort(columns)
    except TypeError:  # only then look for the values that cannot be compared
        for key in keys:
            _check_comparable(frame, key, arg=arg)
        raise


def _check_comparable(frame: pd.DataFrame, key: str, *, arg: str) -> None:
    values = frame[key]
    if values.dtype != object:
        return
    kinds = values.map(lambda v: "number" if isinstance(v, int | float | np.number) else type(v))
    first = kinds.iloc[0] if len(kinds) else None
    other = np.flatnonzero((kinds != first).to_numpy())
    if other.size:
        pos = int(other[0])
        raise DataError(
            f"column {key!r} of {arg} mixes {show(values.iloc[0])} and {show(values.iloc[pos])} "
            f"(at {describe_row(frame, pos, None)}), which cannot be ordered; use one type of "
            "key",
            column=key,
            row=frame.index[pos],
            value=values.iloc[pos],
        )
