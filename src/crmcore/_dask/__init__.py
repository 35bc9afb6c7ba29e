"""Generic Dask partition machinery: it knows no business area.

A public function that accepts a Dask collection checks :func:`is_dask` and, when it is one,
imports its area's *adapter* lazily (``crmcore/segmentation/_dask.py``,
``crmcore/pipeline/_dask.py``). Every adapter is built from the pieces here, in one pattern:

1. **Global steps are fitted once over the whole collection** (:func:`global_step`): every
   partition is validated and reduced to small exact tables (distinct value -> count, plus the
   partition's ids), the tables are merged, and a finishing function turns them into the fitted
   value (a default date, quantile edges, thresholds). The result is a lazy Dask scalar handed to
   every partition, so each partition is judged against the same numbers as the pandas path.
   :func:`quantiles_from_counts` and :func:`duplicate_check` are the exact helpers such steps use.
2. **Per-key work runs after a shuffle by key** (:func:`map_by_key`): ``set_index(key)`` puts
   all rows of one key (a customer, a deal) in one partition, in key ranges with sorted
   divisions; each partition is put back in input order with the caller's row labels
   (so float sums add in the pandas order and errors name the caller's rows), then the pandas
   implementation runs on it.
3. **Per-key aggregates without moving rows** (:func:`partial_aggregate`): every partition is
   reduced to partial records per key, which are cut by key range and merged per range (the
   per-customer summaries).
4. **Row-wise work** (:func:`map_rows`) keeps the partitions as they are.

Dask itself is imported lazily (extra ``crmcore[dask]``): importing this package costs nothing
for pandas users.

Compatibility with the declared minimum (``dask[dataframe]>=2024.8``): ``map_partitions`` gets
only partitions, Dask scalars and plain numbers as arguments; every other argument is bound to
the partition function with :func:`functools.partial` (Dask 2024.8 executes a tuple whose first
item is callable as a task, and walks lists and dicts looking for tasks).
"""

from crmcore._dask.aggregate import partial_aggregate
from crmcore._dask.partitions import (
    check_nonempty,
    dataframe_module,
    is_dask,
    map_by_key,
    map_rows,
    meta_sample,
    require_datetime,
    select_columns,
)
from crmcore._dask.tables import (
    Box,
    counts,
    duplicate_check,
    global_step,
    merge_counts,
    quantiles_from_counts,
)

__all__ = [
    "Box",
    "check_nonempty",
    "counts",
    "dataframe_module",
    "duplicate_check",
    "global_step",
    "is_dask",
    "map_by_key",
    "map_rows",
    "merge_counts",
    "meta_sample",
    "partial_aggregate",
    "quantiles_from_counts",
    "require_datetime",
    "select_columns",
]
