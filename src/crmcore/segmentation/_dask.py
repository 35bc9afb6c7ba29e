"""Dask adapter of the segmentation area, built on the generic core :mod:`crmcore._dask`.

The public functions (``rfm_summary``, ``btyd_summary``, ``fit_rfm_bins``, ``score_rfm``,
``rfm_segments``, ``customer_grades``) import this module when they are handed a
``dask.dataframe.DataFrame``. Each adapter runs the public pandas function per partition, so
the rules live in one place. Results are typed like the public functions' (``DataFrame``); at
run time they are lazy Dask DataFrames.

- the summaries shuffle by customer (:func:`crmcore._dask.map_by_key`); the default ``as_of``
  (the latest date of the whole collection) is a global step handed to every partition;
- ``fit_rfm_bins`` and ``customer_grades`` fit their quantile edges and ABC / quantile cut-offs
  once, from exact (value, count) tables of the whole collection
  (:func:`crmcore._dask.global_step`), with the arithmetic of the pandas path;
- scores, segments and grades with fitted cut-offs are row-wise (:func:`crmcore._dask.map_rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import attrs
import numpy as np
import pandas as pd

import crmcore._dask as core
from crmcore._frames import (
    check_choice,
    check_scalar,
    datetime_column,
    require_columns,
    resolve_as_of,
)
from crmcore.errors import SchemaError
from crmcore.segmentation._classes import class_thresholds
from crmcore.segmentation.as_of import AsOfCut, cut_at_as_of
from crmcore.segmentation.grades import GradeRules
from crmcore.segmentation.grades import customer_grades as pandas_grades
from crmcore.segmentation.rfm import btyd_summary as pandas_btyd
from crmcore.segmentation.rfm import rfm_summary as pandas_rfm
from crmcore.segmentation.scores import MAX_BINS, RFMBins
from crmcore.segmentation.scores import fit_rfm_bins as pandas_fit
from crmcore.segmentation.scores import score_rfm as pandas_score
from crmcore.segmentation.segments import rfm_segments as pandas_segments

__all__ = [
    "btyd_summary",
    "customer_grades",
    "cut",
    "fit_rfm_bins",
    "rfm_segments",
    "rfm_summary",
    "score_rfm",
]

# --------------------------------------------------------------------------------------------
# Per-customer summaries
# --------------------------------------------------------------------------------------------


def _summary_partition(
    rows: pd.DataFrame,
    *latest: object,
    func: Callable[..., pd.DataFrame],
    as_of: object,
    cut: Mapping[str, str] | None,
    kwargs: Mapping[str, Any],
    meta: pd.DataFrame,
) -> pd.DataFrame:
    when = latest[0] if as_of is None else as_of  # the latest date of the whole collection
    if cut is not None:  # the deprecated after_as_of="exclude", as an explicit cut
        rows = cut_at_as_of(rows, as_of=when, **cut).kept
        if len(rows) == 0:
            return meta.copy()
    return func(rows, as_of=when, **kwargs)


def _per_customer(
    func: Callable[..., pd.DataFrame],
    transactions: Any,
    *,
    columns: list[str],
    as_of: object,
    after_as_of: str,
    kwargs: dict[str, Any],
) -> pd.DataFrame:
    core.dataframe_module()
    arg = "transactions"
    customer, date = kwargs["customer"], kwargs["date"]
    meta_in = transactions._meta
    require_columns(meta_in, columns, arg=arg, allow_empty=True)
    core.require_datetime(meta_in, date, arg)
    check_choice(after_as_of, "after_as_of", ("error", "exclude"))
    # Metadata from a one-row call: catches wrong dtypes and bad options before any work.
    sample = core.meta_sample(transactions, columns)
    meta = func(sample, as_of=None, **kwargs).iloc[:0]
    if as_of is not None:  # a bad as_of (not a date, wrong time zone) fails now
        resolve_as_of(as_of, datetime_column(sample, date, arg=arg), column=date)
    cut = None
    if after_as_of == "exclude" and as_of is not None:  # nothing is after the latest date
        cut = {"customer": customer, "date": date, "period": kwargs["period"]}
    step = partial(_summary_partition, func=func, as_of=as_of, cut=cut, kwargs=kwargs, meta=meta)
    latest = () if as_of is not None else (transactions[date].max(),)
    result: pd.DataFrame = core.map_by_key(
        transactions, step, key=customer, columns=columns, meta=meta, arg=arg, args=latest
    )
    return result


def rfm_summary(
    transactions: Any,
    *,
    customer: str,
    date: str,
    amount: str,
    as_of: object,
    period: str,
    refunds: str,
    after_as_of: str,
) -> pd.DataFrame:
    """Dask version of :func:`crmcore.segmentation.rfm_summary` (see there).

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [2, 1, 1], "amount": [8.0, 10.0, 20.0],
    ...                    "date": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-05"])})
    >>> rfm_summary(dd.from_pandas(tx, npartitions=2), customer="customer_id", date="date",
    ...             amount="amount", as_of=None, period="D", refunds="error",
    ...             after_as_of="error").compute()["recency"].tolist()
    [0, 2]
    """
    kwargs = {
        "customer": customer,
        "date": date,
        "amount": amount,
        "period": period,
        "refunds": refunds,
        "after_as_of": "error",
    }
    return _per_customer(
        pandas_rfm,
        transactions,
        columns=[customer, date, amount],
        as_of=as_of,
        after_as_of=after_as_of,
        kwargs=kwargs,
    )


def btyd_summary(
    transactions: Any,
    *,
    customer: str,
    date: str,
    amount: str | None,
    as_of: object,
    period: str,
    freq_multiplier: float,
    include_first_transaction: bool,
    refunds: str,
    after_as_of: str,
) -> pd.DataFrame:
    """Dask version of :func:`crmcore.segmentation.btyd_summary` (see there).

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [2, 1, 1],
    ...                    "date": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-05"])})
    >>> btyd_summary(dd.from_pandas(tx, npartitions=2), customer="customer_id", date="date",
    ...              amount=None, as_of=None, period="D", freq_multiplier=1,
    ...              include_first_transaction=False, refunds="error",
    ...              after_as_of="error").compute()["T"].tolist()
    [4.0, 2.0]
    """
    kwargs = {
        "customer": customer,
        "date": date,
        "amount": amount,
        "period": period,
        "freq_multiplier": freq_multiplier,
        "include_first_transaction": include_first_transaction,
        "refunds": refunds,
        "after_as_of": "error",
    }
    columns = [customer, date] if amount is None else [customer, date, amount]
    return _per_customer(
        pandas_btyd,
        transactions,
        columns=columns,
        as_of=as_of,
        after_as_of=after_as_of,
        kwargs=kwargs,
    )


def _cut_partition(part: pd.DataFrame, *, keep: bool, options: Mapping[str, Any]) -> pd.DataFrame:
    cut = cut_at_as_of(part, **options)
    return cut.kept if keep else cut.excluded


def cut(transactions: Any, *, as_of: object, customer: str, date: str, period: str) -> AsOfCut:
    """Cut a Dask collection at ``as_of`` row-wise: ``kept`` and ``excluded`` stay lazy.

    ``as_of`` is explicit, so every partition is cut on its own with the pandas rule;
    ``n_excluded`` (``len(excluded)``) computes the excluded rows' count when read.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 3], "amount": [5.0, 7.0, 9.0],
    ...                    "date": pd.to_datetime(["2024-01-02", "2024-02-09", "2024-01-30"])})
    >>> c = cut(dd.from_pandas(tx, npartitions=2), as_of="2024-01-31", customer="customer_id",
    ...         date="date", period="D")
    >>> c.n_excluded, c.kept.compute().index.tolist()
    (1, [0, 2])
    """
    core.dataframe_module()
    arg = "transactions"
    meta_in = transactions._meta
    require_columns(meta_in, [customer, date], arg=arg, allow_empty=True)
    core.require_datetime(meta_in, date, arg)
    options: dict[str, Any] = {"as_of": as_of, "customer": customer, "date": date, "period": period}
    probe = cut_at_as_of(core.meta_sample(transactions), **options)  # as_of, period: eagerly
    meta = meta_in.iloc[:0]
    kept, excluded = (
        core.map_rows(
            transactions,
            partial(_cut_partition, keep=keep, options=options),
            meta=meta,
            arg=arg,
            require_rows=False,
        )
        for keep in (True, False)
    )
    return AsOfCut(kept=kept, excluded=excluded, as_of=probe.as_of, period=probe.period)


# --------------------------------------------------------------------------------------------
# Bins, scores, segments
# --------------------------------------------------------------------------------------------


def _bins_measure(
    part: pd.DataFrame, bins: int, names: Mapping[str, str], customer: str | None
) -> core.Box:
    pandas_fit(part, bins, customer=customer, **names)  # validates this partition
    ids = part.index if customer is None else pd.Index(part[customer])
    return {k: core.counts(part[col]) for k, col in names.items()}, [ids]


def _bins_finish(box: core.Box, bins: int) -> RFMBins:
    tables, ids = box
    if not ids:
        raise SchemaError("summary is empty; expected at least one row")
    core.duplicate_check(ids, "summary", key="customer id")
    probs = np.arange(1, bins) / bins
    edges = {k: np.unique(core.quantiles_from_counts(t, probs)) for k, t in tables.items()}
    return RFMBins(bins=int(bins), **edges)


def fit_rfm_bins(
    summary: Any,
    bins: int,
    *,
    recency: str,
    frequency: str,
    monetary: str,
    customer: str | None,
) -> RFMBins:
    """Fit RFM edges once over a whole Dask summary (computes; returns an ``RFMBins``).

    The edges equal those of the pandas path on the computed summary: each partition is
    validated and reduced to a (value, count) table per metric, the tables are merged and
    the quantiles read from them exactly (:func:`crmcore._dask.quantiles_from_counts`).

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> s = pd.DataFrame({"recency": [1, 5, 20, 40], "frequency": [1, 1, 1, 6],
    ...                   "monetary": [10.0, 20.0, 30.0, 400.0]}, index=[1, 2, 3, 4])
    >>> fit_rfm_bins(dd.from_pandas(s, npartitions=2), 4, recency="recency",
    ...              frequency="frequency", monetary="monetary", customer=None).recency
    (4.0, 12.5, 25.0)
    """
    core.dataframe_module()
    check_scalar(bins, "bins", kind=int, min_value=2, max_value=MAX_BINS)
    names = {"recency": recency, "frequency": frequency, "monetary": monetary}
    columns = [*names.values()] + ([] if customer is None else [customer])
    require_columns(summary._meta, columns, arg="summary", allow_empty=True)
    pandas_fit(core.meta_sample(summary, columns), bins, customer=customer, **names)  # dtypes
    fitted = core.global_step(
        summary,
        partial(_bins_measure, bins=bins, names=names, customer=customer),
        partial(_bins_finish, bins=bins),
    )
    result: RFMBins = fitted.compute()
    return result


def _score_partition(
    part: pd.DataFrame, rfm_bins: RFMBins, names: Mapping[str, str], customer: str | None
) -> pd.DataFrame:
    if customer is not None:
        part = part.rename_axis(None)
    return pandas_score(part, rfm_bins, customer=customer, **names)


def score_rfm(
    summary: Any,
    rfm_bins: RFMBins,
    *,
    recency: str,
    frequency: str,
    monetary: str,
    customer: str | None,
) -> pd.DataFrame:
    """Score a Dask summary with fitted edges, lazily (row-wise per partition).

    A summary indexed by customer is scored partition by partition (no shuffle): the result is
    sorted within each partition, hence globally when the partitions are in customer order, as
    :func:`rfm_summary`'s output and any ``set_index`` result are. With a ``customer`` column
    the summary is first shuffled by it (``set_index``).

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from crmcore.segmentation import RFMBins
    >>> b = RFMBins(bins=3, recency=(10, 30), frequency=(1,), monetary=(50, 200))
    >>> s = pd.DataFrame({"recency": [3, 30, 90], "frequency": [4, 1, 1],
    ...                   "monetary": [500.0, 60.0, 10.0]}, index=["a", "b", "c"])
    >>> score_rfm(dd.from_pandas(s, npartitions=2), b, recency="recency",
    ...           frequency="frequency", monetary="monetary",
    ...           customer=None).compute()["rfm_score"].tolist()
    [323, 112, 111]
    """
    core.dataframe_module()
    names = {"recency": recency, "frequency": frequency, "monetary": monetary}
    columns = [*names.values()] + ([] if customer is None else [customer])
    require_columns(summary._meta, columns, arg="summary", allow_empty=True)
    sample = core.meta_sample(summary, columns)
    meta = pandas_score(sample, rfm_bins, customer=customer, **names).iloc[:0]
    keyed = summary if customer is None else summary.set_index(customer, drop=False)
    step = partial(_score_partition, rfm_bins=rfm_bins, names=names, customer=customer)
    result: pd.DataFrame = core.map_rows(keyed, step, meta=meta, arg="summary", require_rows=False)
    return result


def rfm_segments(scores: Any, segment_map: Any, *, r: str, f: str, m: str) -> pd.DataFrame:
    """Name segments of a Dask score table, partition by partition (row-wise, lazy).

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> s = pd.DataFrame({"r_score": [5, 1], "f_score": [5, 1], "m_score": [4, 2]})
    >>> rfm_segments(dd.from_pandas(s, npartitions=2), None, r="r_score", f="f_score",
    ...              m="m_score").compute()["segment"].tolist()
    ['Champions', 'Lost']
    """
    core.dataframe_module()
    require_columns(scores._meta, [r, f, m], arg="scores", allow_empty=True)
    sample = core.meta_sample(scores, None, **dict.fromkeys((r, f, m), 1))
    meta = pandas_segments(sample, segment_map, r=r, f=f, m=m).iloc[:0]
    step = partial(pandas_segments, segment_map=segment_map, r=r, f=f, m=m)
    result: pd.DataFrame = core.map_rows(scores, step, meta=meta, arg="scores")
    return result


# --------------------------------------------------------------------------------------------
# Grades
# --------------------------------------------------------------------------------------------


def _grades_measure(part: pd.DataFrame, rules: GradeRules, value: str, potential: str) -> core.Box:
    pandas_grades(part, rules, value=value, potential=potential)  # validates this partition
    tables = {"value": core.counts(part[value]), "potential": core.counts(part[potential])}
    return tables, [part.index]


def _above_quantile(table: pd.Series, q: float) -> float:
    """Return the smallest ``t`` with ``v >= t`` exactly when ``v > quantile(q)``."""
    if len(table) == 0:
        return 0.0
    return float(np.nextafter(float(core.quantiles_from_counts(table, [q])[0]), np.inf))


def _grades_finish(box: core.Box, rules: GradeRules) -> GradeRules:
    """Turn the rules' ABC shares and quantiles into the equivalent absolute thresholds."""
    tables, ids = box
    if not ids:
        raise SchemaError("frame is empty; expected at least one row")
    core.duplicate_check(ids, "frame", key="customer id")
    empty = pd.Series([], dtype=np.int64)
    values = tables.get("value", empty)
    changes: dict[str, Any] = {}
    if rules.value_method == "abc":
        cut = 0.0
        if len(values):
            uniq = values.index.to_numpy(dtype=np.float64)
            found = class_thresholds(
                uniq, values.to_numpy(dtype=np.int64), (float(rules.value_cutoff),), "value"
            )[0]
            # No value in class A: a threshold above every value.
            top = float(np.nextafter(max(float(uniq[-1]), 0.0), np.inf))
            cut = float(found) if np.isfinite(found) else top
        changes.update(value_method="threshold", value_cutoff=cut)
    elif rules.value_method == "quantile":
        cut = _above_quantile(values, rules.value_cutoff)
        changes.update(value_method="threshold", value_cutoff=cut)
    if rules.potential_method == "quantile":
        pcut = _above_quantile(tables.get("potential", empty), rules.potential_cutoff)
        changes.update(potential_method="threshold", potential_cutoff=pcut)
    return attrs.evolve(rules, **changes)


def customer_grades(
    frame: Any, rules: GradeRules | None, *, value: str, potential: str
) -> pd.DataFrame:
    """Grade a Dask frame: global cut-offs fitted once, then applied per partition (lazy).

    The ABC share and quantile tests of the rules are turned into equivalent thresholds over
    the whole collection (``v > q`` is ``v >= nextafter(q)``; ABC class A is ``v >= t``), and
    every partition is graded with those thresholds, keeping index and row order.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from crmcore.segmentation import GradeRules
    >>> f = pd.DataFrame({"monetary": [600.0, 250.0, 100.0, 50.0],
    ...                   "potential": [1.0, 1.0, 9.0, 2.0]}, index=[1, 2, 3, 4])
    >>> customer_grades(dd.from_pandas(f, npartitions=2), GradeRules(), value="monetary",
    ...                 potential="potential").compute()["grade"].tolist()
    ['A', 'A', 'B', 'C']
    """
    core.dataframe_module()
    rules = GradeRules() if rules is None else rules
    columns = [value, potential]
    require_columns(frame._meta, columns, arg="frame", allow_empty=True)
    sample = core.meta_sample(frame, columns)
    meta = pandas_grades(sample, rules, value=value, potential=potential).iloc[:0]
    fitted = core.global_step(
        frame,
        partial(_grades_measure, rules=rules, value=value, potential=potential),
        partial(_grades_finish, rules=rules),
    )
    step = partial(_grades_partition, value=value, potential=potential)
    result: pd.DataFrame = core.map_rows(
        core.select_columns(frame, columns),
        step,
        meta=meta,
        arg="frame",
        args=(fitted,),
        require_rows=False,
    )
    return result


def _grades_partition(
    part: pd.DataFrame, rules: GradeRules, value: str, potential: str
) -> pd.DataFrame:
    return pandas_grades(part, rules, value=value, potential=potential)
