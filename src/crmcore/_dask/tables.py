"""Global steps over a Dask collection, computed exactly from (value, count) tables.

A global step is one lazy Dask reduction: every partition is validated and measured into a
:data:`Box` (named value -> count tables and the partition's ids), the boxes are merged (in a
tree when there are many partitions) and a finishing function turns the merged box into the
fitted object. Memory grows with the number of *distinct* values, never with the rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import quantile_scale, show
from crmcore.errors import DataError

__all__ = [
    "Box",
    "counts",
    "duplicate_check",
    "global_step",
    "merge_counts",
    "quantiles_from_counts",
]

Box = tuple[dict[str, pd.Series], list[pd.Index]]
"""What a partition is measured into: named (value -> count) tables and the partition's ids."""

_FloatArray = npt.NDArray[np.float64]


def counts(values: pd.Series) -> pd.Series:
    """Distinct non-NaN values and their counts, sorted by value (float64 index).

    Examples
    --------
    >>> import pandas as pd
    >>> counts(pd.Series([3, 1, 3, None])).to_dict()
    {1.0: 1, 3.0: 2}
    """
    vc = pd.Series(values.to_numpy(dtype=np.float64, na_value=np.nan)).value_counts(dropna=True)
    return vc.groupby(level=0).sum().sort_index()


def merge_counts(tables: Sequence[pd.Series]) -> pd.Series:
    """Add (value -> count) tables; the result is sorted by value.

    Examples
    --------
    >>> import pandas as pd
    >>> merge_counts([pd.Series({1.0: 2}), pd.Series({1.0: 1, 5.0: 1})]).to_dict()
    {1.0: 3, 5.0: 1}
    """
    nonempty = [t for t in tables if len(t)]
    if not nonempty:
        return pd.Series([], dtype=np.int64)
    merged: pd.Series = pd.concat(nonempty).groupby(level=0).sum().sort_index()
    return merged


def quantiles_from_counts(table: pd.Series, probs: npt.ArrayLike) -> _FloatArray:
    """``numpy.quantile`` (linear) of the values a sorted (value, count) table describes.

    numpy interpolates between the order statistics ``lo = floor(h)`` and ``lo + 1`` with
    ``h = (n - 1) * q``; those two are read from the cumulative counts, and the interpolation
    itself is left to ``numpy.quantile`` on the pair (whose own ``h`` is then exactly the
    fraction), so the result is bit-for-bit numpy's. Values whose spread overflows are scaled
    by :func:`crmcore._frames.quantile_scale` first, as the pandas paths do.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> values = np.array([1.0, 1.0, 2.0, 7.0, 7.0, 7.0, 9.5])
    >>> table = pd.Series(values).value_counts().sort_index()
    >>> bool((quantiles_from_counts(table, [0.2, 0.5, 0.9]) ==
    ...       np.quantile(values, [0.2, 0.5, 0.9])).all())
    True
    """
    q = np.atleast_1d(np.asarray(probs, dtype=np.float64))
    uniq = table.index.to_numpy(dtype=np.float64)
    cum = np.cumsum(table.to_numpy(dtype=np.int64))
    n = int(cum[-1])
    h = (n - 1) * q
    lo = np.floor(h)
    gamma = h - lo
    lo_i = np.minimum(lo.astype(np.int64), n - 1)
    hi_i = np.minimum(lo_i + 1, n - 1)
    a = uniq[np.searchsorted(cum, lo_i, side="right")]
    b = uniq[np.searchsorted(cum, hi_i, side="right")]
    scale = quantile_scale(uniq[0], uniq[-1])  # the pandas paths' rule, on the same spread
    out = np.empty(len(q), dtype=np.float64)
    for i in range(len(q)):  # a handful of quantiles
        pair = np.array([a[i], b[i]]) * scale
        out[i] = pair[0] if h[i] >= n - 1 else np.quantile(pair, gamma[i])
    return out / scale


def _disjoint(ids: Sequence[pd.Index]) -> bool:
    """Tell whether the partitions' id ranges are ordered and do not overlap.

    Then an id can only repeat within one partition, which the per-partition checks cover.
    """
    try:
        bounds = [(t.min(), t.max()) for t in ids if len(t)]
        return all(hi < lo for (_, hi), (lo, _) in itertools.pairwise(bounds))
    except TypeError:  # ids of mixed types: compare them all instead
        return False


def duplicate_check(ids: Sequence[pd.Index], what: str, *, key: str = "id") -> None:
    """Raise ``DataError`` naming an id found in two partitions (``key`` names the id kind).

    Examples
    --------
    >>> import pandas as pd
    >>> duplicate_check([pd.Index([1, 2]), pd.Index([2, 3])], "summary", key="customer id")
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: summary has duplicate customer id 2 in different partitions; ...
    """
    if _disjoint(ids):
        return
    every = pd.Index(np.concatenate([t.to_numpy() for t in ids])) if ids else pd.Index([])
    dup = every.duplicated()
    if dup.any():
        label = every[int(np.argmax(dup))]
        raise DataError(
            f"{what} has duplicate {key} {show(label)} in different partitions; "
            f"each {key} must appear once",
            row=label,
            value=label,
        )


def _box_chunk(part: pd.DataFrame, measure: Callable[[pd.DataFrame], Box]) -> pd.DataFrame:
    box: Box = ({}, []) if len(part) == 0 else measure(part)
    return pd.DataFrame({"box": pd.Series([box], dtype=object)})


def _box_merge(frame: pd.DataFrame) -> Box:
    boxes: list[Box] = list(frame["box"])
    names = sorted({k for tables, _ in boxes for k in tables})
    tables = {k: merge_counts([t[k] for t, _ in boxes if k in t]) for k in names}
    ids = [i for _, idx in boxes for i in idx]
    return tables, ids


def _box_combine(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"box": pd.Series([_box_merge(frame)], dtype=object)})


def _box_aggregate(frame: pd.DataFrame, finish: Callable[[Box], Any]) -> Any:
    return finish(_box_merge(frame))


def global_step(
    frame: Any, measure: Callable[[pd.DataFrame], Box], finish: Callable[[Box], Any]
) -> Any:
    """Return a lazy Dask scalar: ``finish`` of the merged boxes of all partitions.

    ``measure`` validates one non-empty partition and returns its :data:`Box`; ``finish``
    gets the merged box (tables added up, id lists concatenated) and returns the fitted value.
    Hand the scalar to :func:`~crmcore._dask.map_rows` (lazy) or ``.compute()`` it.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> f = dd.from_pandas(pd.DataFrame({"x": [4.0, 1.0, 2.0, 3.0]}), npartitions=3)
    >>> def measure(part):
    ...     return {"x": counts(part["x"])}, [part.index]
    >>> def finish(box):
    ...     return float(quantiles_from_counts(box[0]["x"], [0.5])[0])
    >>> global_step(f, measure, finish).compute()
    2.5
    """
    return frame.reduction(
        partial(_box_chunk, measure=measure),
        aggregate=partial(_box_aggregate, finish=finish),
        combine=_box_combine,
        meta=object,
    )
