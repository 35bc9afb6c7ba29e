"""Two-phase aggregation by key over a Dask collection: rows stay where they are.

A SQL engine's partial aggregate, as a lazy Dask graph of four kinds of tasks:

1. ``measure(part)`` reduces every partition to a few numbers (its size, its key and date
   ranges, ...);
2. ``plan(measures)`` runs once on those numbers and returns what every partition must know
   (a default date, which of its values it may share with other partitions, the key ranges of
   the output partitions);
3. ``split(part, plan, i)`` reduces partition ``i`` to partial records and cuts them into
   ``n_buckets`` pieces by key range;
4. ``combine(pieces, plan)`` merges the pieces of one key range, from every partition in
   partition order, into one partition of the result.

Only the partial records move between processes, never the rows (unless ``split`` chooses to
send some raw). The result has one partition per key range, in key order, with unknown
divisions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from crmcore._dask.partitions import dataframe_module

__all__ = ["partial_aggregate"]


def _piece(pieces: Sequence[Any], j: int) -> Any:
    return pieces[j]


def partial_aggregate(
    frame: Any,
    *,
    measure: Callable[[pd.DataFrame], Any],
    plan: Callable[[list[Any]], Any],
    split: Callable[[pd.DataFrame, Any, int], Sequence[Any]],
    combine: Callable[[list[Any], Any], pd.DataFrame],
    n_buckets: int,
    meta: pd.DataFrame,
) -> Any:
    """Return a lazy Dask DataFrame: ``combine`` of every bucket's pieces (see the module).

    ``split`` must return ``n_buckets`` pieces; ``combine`` gets bucket ``j``'s pieces in
    partition order and returns a pandas frame shaped like ``meta``.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> tx = dd.from_pandas(pd.DataFrame({"k": [2, 1, 2, 3], "x": [1, 2, 3, 4]}), npartitions=2)
    >>> def split(part, top, i):
    ...     sums = part.groupby("k")["x"].sum()
    ...     return [sums[sums.index <= top // 2], sums[sums.index > top // 2]]
    >>> def combine(pieces, top):
    ...     return pd.concat(pieces).groupby(level=0).sum().to_frame()
    >>> out = partial_aggregate(tx, measure=lambda part: part["k"].max(), plan=max,
    ...                         split=split, combine=combine, n_buckets=2,
    ...                         meta=pd.DataFrame({"x": pd.Series([], dtype="int64")}))
    >>> out.compute()["x"].to_dict(), out.npartitions
    ({1: 2, 2: 4, 3: 4}, 2)
    """
    from dask.delayed import delayed

    dd = dataframe_module()
    parts = frame.to_delayed()
    measures = [delayed(measure)(part) for part in parts]
    fitted = delayed(plan)(measures)
    pieces = [delayed(split)(part, fitted, i) for i, part in enumerate(parts)]
    buckets = [
        delayed(combine)([delayed(_piece)(one, j) for one in pieces], fitted)
        for j in range(n_buckets)
    ]
    return dd.from_delayed(buckets, meta=meta, verify_meta=False)
