"""Dask adapter of the customer-futures area, built on the generic core :mod:`crmcore._dask`.

The public fits and predictions import this module when they are handed a
``dask.dataframe.DataFrame`` summary (``btyd_summary`` of a Dask log is one).

- **Fits** compress each partition to its distinct model rows (``(frequency, recency, T)``,
  ``(frequency, monetary_value)``, ...) with the number of customers behind each as a weight,
  checking every partition with the pandas path's rules (errors name the caller's rows). The
  small weighted tables are gathered and fitted by the pandas function with ``weights``:
  :func:`~crmcore.clv._inputs.compress` puts distinct rows in a canonical order, so the fit
  sees exactly the arrays the pandas fit of the whole summary sees, and finds the same
  parameters to the last bit. A fit is eager: it returns a model.
- **Predictions** of a fitted model are row-wise: the pandas function runs per partition
  (:func:`crmcore._dask.map_rows`), lazily, keeping the partitions and their index.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

import crmcore._dask as core
from crmcore._frames import require_columns
from crmcore.clv._inputs import Columns, compress, read_columns

__all__ = ["fit", "predict"]

_WEIGHT = "__crmcore_customers__"
Check = Callable[[pd.DataFrame, Columns], None]
# A valid customer for the one-row sample a prediction's metadata is computed from.
_SAMPLE = {"frequency": 1, "recency": 1, "T": 2, "n_periods": 2, "monetary_value": 10}


def _compress_partition(
    part: pd.DataFrame, *, names: Mapping[str, str], integer: tuple[str, ...],
    weights: str | None, check: Check | None,
) -> pd.DataFrame:  # fmt: skip
    """Return the partition's distinct model rows and customer counts (checked as pandas)."""
    cols = read_columns(part, names, integer=integer, weights=weights)
    if check is not None:
        check(part, cols)
    values, counts = compress([cols[role] for role in names], cols.weights)
    return pd.DataFrame(
        {**dict(zip(names.values(), values, strict=True)), _WEIGHT: counts}, dtype=np.float64
    )


def fit(
    pandas_fit: Callable[..., Any],
    summary: Any,
    *,
    names: Mapping[str, str],
    integer: tuple[str, ...],
    weights: str | None,
    check: Check | None = None,
    options: Mapping[str, Any],
) -> Any:
    """Fit ``pandas_fit`` on a Dask summary through its compressed, weighted distinct rows.

    ``names`` maps the model's roles to the summary's columns (as :func:`read_columns` reads
    them), ``integer`` the roles holding whole numbers, ``weights`` the optional column of
    customer counts; ``check`` runs the model's own row rules on each partition (so errors
    name the caller's rows); ``options`` go to ``pandas_fit`` (penalizer, time unit, ...).

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from crmcore.clv import fit_bg_nbd
    >>> s = pd.DataFrame({"frequency": [0, 1, 2, 0, 4, 1, 0, 3] * 3,
    ...                   "recency": [0.0, 10.0, 20.0, 0.0, 35.0, 4.0, 0.0, 12.0] * 3,
    ...                   "T": [40.0, 38.0, 39.0, 30.0, 36.0, 25.0, 20.0, 38.0] * 3})
    >>> fit_bg_nbd(dd.from_pandas(s, npartitions=3)) == fit_bg_nbd(s)
    True
    """
    core.dataframe_module()
    columns = [*names.values()] + ([] if weights is None else [weights])
    require_columns(summary._meta, columns, arg="summary", allow_empty=True)
    step = partial(_compress_partition, names=names, integer=integer, weights=weights,
                   check=check)  # fmt: skip
    meta = pd.DataFrame({c: pd.Series(dtype=np.float64) for c in [*names.values(), _WEIGHT]})
    parts = core.map_rows(core.select_columns(summary, columns), step, meta=meta,
                          arg="summary")  # fmt: skip
    table = parts.compute().reset_index(drop=True)
    # The roles are the fit's keyword names (frequency=, recency=, T=, ...).
    return pandas_fit(table, **names, weights=_WEIGHT, **options)


def _predict_partition(part: pd.DataFrame, *, func: Callable[..., pd.Series],
                       args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> pd.Series:  # fmt: skip
    return func(*args, part, **kwargs)


def predict(
    func: Callable[..., pd.Series],
    summary: Any,
    *,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    names: Mapping[str, str],
) -> pd.Series:
    """Run the pandas prediction ``func(*args, partition, **kwargs)`` on every partition, lazily.

    ``names`` maps the roles the prediction reads (``frequency``, ``recency``, ``T``, ...) to
    the summary's columns. The result is a lazy Dask Series indexed like the summary (typed as
    the pandas result); options are checked eagerly on a one-row sample.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from crmcore.clv import BGNBD, probability_alive
    >>> m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> s = pd.DataFrame({"frequency": [2.0, 0.0, 5.0], "recency": [30.4, 0.0, 20.0],
    ...                   "T": [38.9, 38.9, 38.9]})
    >>> probability_alive(m, dd.from_pandas(s, npartitions=2)).compute().round(3).tolist()
    [0.726, 1.0, 0.286]
    """
    core.dataframe_module()
    columns = list(names.values())
    require_columns(summary._meta, columns, arg="summary", allow_empty=True)
    valid = {names[role]: value for role, value in _SAMPLE.items() if role in names}
    sample = core.meta_sample(summary, columns, **valid)
    meta = func(*args, sample, **kwargs).iloc[:0]
    step = partial(_predict_partition, func=func, args=args, kwargs=kwargs)
    result: pd.Series = core.map_rows(summary, step, meta=meta, arg="summary",  # type: ignore[arg-type]
                                      require_rows=False)  # fmt: skip
    return result
