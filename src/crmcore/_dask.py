"""Dask versions of the per-customer summaries, scores, segments, grades and weighted pipeline.

The public functions (``rfm_summary``, ``btyd_summary``, ``fit_rfm_bins``, ``score_rfm``,
``rfm_segments``, ``customer_grades``, ``weighted_pipeline``) call into this module when they
are given a ``dask.dataframe.DataFrame``. Everything here follows one pattern:

1. **Global steps are fitted once over the whole collection** (the default ``as_of`` = latest
   date, quantile edges, ABC cumulative shares) as a small lazy task; it is handed to every
   partition, so each partition is judged against the same numbers as the pandas path.
2. **Per-customer work runs after a shuffle by key**: ``set_index(key, drop=False)`` puts all
   rows of a customer (or deal) in one partition, in key ranges with sorted divisions. Then the
   pandas implementation runs per partition (``map_partitions`` with an explicit ``meta``),
   so results come out sorted by key, partition after partition, like the pandas result.
3. **Row-wise work** (scores with fitted edges, segments, grades with fitted thresholds) is a
   plain ``map_partitions`` that keeps the partitioning.

Dask itself is imported lazily (``crmcore[dask]`` extra); this module imports nothing from it at
import time, so :func:`is_dask` costs nothing for pandas users.

Exactness: float sums depend on the order of the terms, so before a per-customer call the rows
of a partition are put back in their original order (a global row number taken before the
shuffle); quantiles and ABC shares are computed from exact (value, count) tables with the same
numpy arithmetic as the pandas path.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    datetime_column,
    import_optional,
    require_columns,
    resolve_as_of,
    show,
)
from crmcore.errors import ColumnTypeError, DataError, SchemaError

if TYPE_CHECKING:
    from crmcore.segmentation import RFMBins

__all__ = ["is_dask"]

_ROW = "__crmcore_row__"
_LABEL = "__crmcore_label__"


def _shuffle_by(frame: Any, columns: list[str], key: str) -> Any:
    """Rows of ``frame[columns]`` moved by ``set_index(key)``; labels and order travel along.

    The original row label and a global row number ride in two extra columns, so that each
    partition can be put back in input order with its own labels (:func:`_unshuffle`): float
    sums then add in the pandas path's order, and error messages name the caller's rows.
    """
    rows = frame[columns]
    rows = rows.assign(**{_LABEL: rows.index, _ROW: 1})
    rows = rows.assign(**{_ROW: rows[_ROW].cumsum()})
    return rows.set_index(key, drop=False)


def _unshuffle(part: pd.DataFrame, index_name: Any) -> pd.DataFrame:
    part = part.sort_values(_ROW, kind="stable").drop(columns=_ROW)
    return part.set_index(_LABEL).rename_axis(index_name)


_FloatArray = npt.NDArray[np.float64]


def is_dask(obj: object) -> bool:
    """Tell whether ``obj`` is a Dask collection, without importing Dask.

    Examples
    --------
    >>> import pandas as pd
    >>> is_dask(pd.DataFrame())
    False
    """
    return type(obj).__module__.startswith("dask")


def _dd() -> Any:
    return import_optional("dask.dataframe", "dask")


def _clear_attrs(frame: pd.DataFrame) -> pd.DataFrame:
    # Per-partition attrs (e.g. rows excluded after as_of) are partial counts; pandas keeps
    # attrs in concat only when all agree, which could report one partition's count as the
    # total. Drop them: on Dask the result carries no attrs.
    frame.attrs = {}
    return frame


def _meta_sample(frame: Any, columns: Sequence[str] | None, **values: Any) -> pd.DataFrame:
    """Return a one-row pandas frame with the collection's dtypes (Dask's fake metadata)."""
    fake: pd.DataFrame = frame._meta_nonempty.iloc[:1]
    sample = (fake if columns is None else fake[list(columns)]).copy()
    for name, value in values.items():
        sample[name] = pd.Series([value], index=sample.index).astype(sample[name].dtype)
    return sample


def _check_nonempty(n_rows: int, arg: str) -> None:
    if int(n_rows) == 0:
        raise SchemaError(f"{arg} is empty; expected at least one row")


# A global step is one lazy Dask reduction: every partition is validated and measured into a
# "box" (value -> count tables and the partition's ids), boxes are merged (in a tree when
# there are many partitions) and a final function turns the merged box into the fitted
# object. The result is a Dask Scalar handed to ``map_partitions``, so nothing runs before
# ``.compute()`` and the step runs once, whatever the number of partitions.

_Box = tuple[dict[str, pd.Series], list[pd.Index]]


def _box_chunk(part: pd.DataFrame, measure: Callable[[pd.DataFrame], _Box]) -> pd.DataFrame:
    box: _Box = ({}, []) if len(part) == 0 else measure(part)
    return pd.DataFrame({"box": pd.Series([box], dtype=object)})


def _box_merge(frame: pd.DataFrame) -> _Box:
    boxes: list[_Box] = list(frame["box"])
    names = sorted({k for tables, _ in boxes for k in tables})
    tables = {k: _merge_counts([t[k] for t, _ in boxes if k in t]) for k in names}
    ids = [i for _, idx in boxes for i in idx]
    return tables, ids


def _box_combine(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"box": pd.Series([_box_merge(frame)], dtype=object)})


def _box_aggregate(frame: pd.DataFrame, finish: Callable[[_Box], Any]) -> Any:
    return finish(_box_merge(frame))


def _global_step(
    frame: Any, measure: Callable[[pd.DataFrame], _Box], finish: Callable[[_Box], Any]
) -> Any:
    """Return a lazy Dask Scalar: ``finish`` of the merged boxes of all partitions."""
    return frame.reduction(
        partial(_box_chunk, measure=measure),
        aggregate=partial(_box_aggregate, finish=finish),
        combine=_box_combine,
        meta=object,
    )


def _require_datetime(meta: pd.DataFrame, column: str, arg: str) -> None:
    dtype = meta[column].dtype
    if not (isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype)):
        raise ColumnTypeError(
            f"column {column!r} of {arg} holds {dtype} values; on a Dask collection dates must "
            "already be datetime64 (convert with dask.dataframe.to_datetime(..., format=...)), "
            "since each partition would otherwise infer its own time resolution",
            column=column,
        )


# --------------------------------------------------------------------------------------------
# Exact global statistics from (value, count) tables
# --------------------------------------------------------------------------------------------


def _counts(values: pd.Series) -> pd.Series:
    """Distinct non-NaN values and their counts, sorted by value (float64 index)."""
    vc = pd.Series(values.to_numpy(dtype=np.float64, na_value=np.nan)).value_counts(dropna=True)
    return vc.groupby(level=0).sum().sort_index()


def _merge_counts(tables: Sequence[pd.Series]) -> pd.Series:
    nonempty = [t for t in tables if len(t)]
    if not nonempty:
        return pd.Series([], dtype=np.int64)
    merged: pd.Series = pd.concat(nonempty).groupby(level=0).sum().sort_index()
    return merged


def quantiles_from_counts(counts: pd.Series, probs: npt.ArrayLike) -> _FloatArray:
    """``numpy.quantile`` (linear) of the values a sorted (value, count) table describes.

    numpy interpolates between the order statistics ``lo = floor(h)`` and ``lo + 1`` with
    ``h = (n - 1) * q``; those two are read from the cumulative counts, and the interpolation
    itself is left to ``numpy.quantile`` on the pair (whose own ``h`` is then exactly the
    fraction), so the result is bit-for-bit numpy's.

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
    uniq = counts.index.to_numpy(dtype=np.float64)
    cum = np.cumsum(counts.to_numpy(dtype=np.int64))
    n = int(cum[-1])
    h = (n - 1) * q
    lo = np.floor(h)
    gamma = h - lo
    lo_i = np.minimum(lo.astype(np.int64), n - 1)
    hi_i = np.minimum(lo_i + 1, n - 1)
    a = uniq[np.searchsorted(cum, lo_i, side="right")]
    b = uniq[np.searchsorted(cum, hi_i, side="right")]
    out = np.empty(len(q), dtype=np.float64)
    for i in range(len(q)):  # a handful of quantiles
        out[i] = a[i] if h[i] >= n - 1 else np.quantile(np.array([a[i], b[i]]), gamma[i])
    return out


def abc_threshold(counts: pd.Series, cutoff: float) -> float | None:
    """Smallest positive value in ABC class A of a sorted (value, count) table, or None.

    Same arithmetic as ``abc_classes`` (basis ``"value"``): with ``S(v)`` the share of the total
    held by values strictly greater than ``v``, ``v`` is in A when ``S(v) < cutoff`` (within
    1e-12); class A is therefore ``{v >= threshold}``.

    Examples
    --------
    >>> import pandas as pd
    >>> abc_threshold(pd.Series([1, 1, 1, 1], index=[50.0, 100.0, 250.0, 600.0]), 0.8)
    250.0
    """
    uniq = counts.index.to_numpy(dtype=np.float64)
    weights = uniq * counts.to_numpy(dtype=np.int64)
    total = weights.sum()
    if len(uniq) == 0 or total <= 0:
        return None
    desc = weights[::-1]
    greater = (np.cumsum(desc) - desc)[::-1] / total
    in_a = (greater < float(cutoff) - 1e-12) & (uniq > 0)
    if not in_a.any():
        return None
    return float(uniq[int(np.argmax(in_a))])


def _disjoint(tables: Sequence[pd.Index]) -> bool:
    """Tell whether the partitions' id ranges are ordered and do not overlap.

    Then an id can only repeat within one partition, which the per-partition checks cover.
    """
    try:
        bounds = [(t.min(), t.max()) for t in tables if len(t)]
        return all(hi < lo for (_, hi), (lo, _) in itertools.pairwise(bounds))
    except TypeError:  # ids of mixed types: compare them all instead
        return False


def _duplicate_check(tables: Sequence[pd.Index], what: str) -> None:
    """Raise DataError naming an id found in two partitions."""
    if _disjoint(tables):
        return
    ids = pd.Index(np.concatenate([t.to_numpy() for t in tables])) if tables else pd.Index([])
    dup = ids.duplicated()
    if dup.any():
        label = ids[int(np.argmax(dup))]
        raise DataError(
            f"{what} has duplicate customer id {show(label)} in different partitions; "
            "each customer must appear once",
            row=label,
            value=label,
        )


# --------------------------------------------------------------------------------------------
# Per-customer summaries
# --------------------------------------------------------------------------------------------


def _summary_partition(
    part: pd.DataFrame,
    n_rows: int,
    latest: object,
    spec: tuple[Callable[..., pd.DataFrame], object, Mapping[str, Any], pd.DataFrame, Any],
) -> pd.DataFrame:
    func, as_of, kwargs, meta, index_name = spec
    _check_nonempty(n_rows, "transactions")
    if as_of is None:
        as_of = latest  # the latest date of the whole collection
    if len(part) == 0:
        return meta.copy()
    part = _unshuffle(part, index_name)
    return _clear_attrs(func(part, as_of=as_of, **kwargs))


def _per_customer(
    func: Callable[..., pd.DataFrame],
    transactions: Any,
    *,
    customer: str,
    date: str,
    columns: list[str],
    as_of: object,
    kwargs: dict[str, Any],
) -> pd.DataFrame:
    _dd()
    arg = "transactions"
    meta_in = transactions._meta
    require_columns(meta_in, columns, arg=arg, allow_empty=True)
    _require_datetime(meta_in, date, arg)
    # Metadata from a one-row call: catches wrong dtypes and bad options before any work.
    sample = _meta_sample(transactions, columns)
    meta = _clear_attrs(func(sample, as_of=None, **kwargs).iloc[:0])
    if as_of is not None:  # a bad as_of (not a date, wrong time zone) fails now
        resolve_as_of(as_of, datetime_column(sample, date, arg=arg), column=date)
    keyed = _shuffle_by(transactions, columns, customer)
    latest = transactions[date].max() if as_of is None else None
    result: pd.DataFrame = keyed.map_partitions(
        _summary_partition,
        transactions.shape[0],
        latest,
        (func, as_of, kwargs, meta, meta_in.index.name),
        meta=meta,
        align_dataframes=False,
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
    from crmcore.segmentation import rfm_summary as pandas_rfm

    kwargs = {
        "customer": customer,
        "date": date,
        "amount": amount,
        "period": period,
        "refunds": refunds,
        "after_as_of": after_as_of,
    }
    return _per_customer(
        pandas_rfm,
        transactions,
        customer=customer,
        date=date,
        columns=[customer, date, amount],
        as_of=as_of,
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
    from crmcore.segmentation import btyd_summary as pandas_btyd

    kwargs = {
        "customer": customer,
        "date": date,
        "amount": amount,
        "period": period,
        "freq_multiplier": freq_multiplier,
        "include_first_transaction": include_first_transaction,
        "refunds": refunds,
        "after_as_of": after_as_of,
    }
    columns = [customer, date] if amount is None else [customer, date, amount]
    return _per_customer(
        pandas_btyd,
        transactions,
        customer=customer,
        date=date,
        columns=columns,
        as_of=as_of,
        kwargs=kwargs,
    )


# --------------------------------------------------------------------------------------------
# Scores and segments
# --------------------------------------------------------------------------------------------


def _bins_measure(
    part: pd.DataFrame, bins: int, names: Mapping[str, str], customer: str | None
) -> _Box:
    from crmcore.segmentation import fit_rfm_bins as pandas_fit

    pandas_fit(part, bins, customer=customer, **names)  # validates this partition
    ids = part.index if customer is None else pd.Index(part[customer])
    return {k: _counts(part[col]) for k, col in names.items()}, [ids]


def _bins_finish(box: _Box, bins: int, names: Mapping[str, str]) -> Any:
    from crmcore.segmentation import RFMBins

    tables, ids = box
    if not ids:
        raise SchemaError("summary is empty; expected at least one row")
    _duplicate_check(ids, "summary")
    probs = np.arange(1, bins) / bins
    edges = {k: np.unique(quantiles_from_counts(t, probs)) for k, t in tables.items()}
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
    the quantiles read from them exactly (:func:`quantiles_from_counts`).

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> s = pd.DataFrame({"recency": [1, 5, 20, 40], "frequency": [1, 1, 1, 6],
    ...                   "monetary": [10.0, 20.0, 30.0, 400.0]}, index=[1, 2, 3, 4])
    >>> fit_rfm_bins(dd.from_pandas(s, npartitions=2), 4, recency="recency",
    ...              frequency="frequency", monetary="monetary", customer=None).recency
    (4.0, 12.5, 25.0)
    """
    from crmcore._frames import check_scalar
    from crmcore.segmentation import fit_rfm_bins as pandas_fit

    _dd()
    check_scalar(bins, "bins", kind=int, min_value=2, max_value=9)
    names = {"recency": recency, "frequency": frequency, "monetary": monetary}
    columns = [*names.values()] + ([] if customer is None else [customer])
    require_columns(summary._meta, columns, arg="summary", allow_empty=True)
    pandas_fit(_meta_sample(summary, columns), bins, customer=customer, **names)  # dtypes
    fitted = _global_step(
        summary,
        partial(_bins_measure, bins=bins, names=names, customer=customer),
        partial(_bins_finish, bins=bins, names=names),
    )
    result: RFMBins = fitted.compute()
    return result


def _score_partition(
    part: pd.DataFrame,
    rfm_bins: Any,
    names: Mapping[str, str],
    customer: str | None,
) -> pd.DataFrame:
    from crmcore.segmentation import score_rfm as pandas_score

    if customer is not None:
        part = part.rename_axis(None)
    return pandas_score(part, rfm_bins, customer=customer, **names)


def score_rfm(
    summary: Any,
    rfm_bins: Any,
    *,
    recency: str,
    frequency: str,
    monetary: str,
    customer: str | None,
) -> pd.DataFrame:
    """Score a Dask summary with fitted edges, lazily (``map_partitions``).

    A summary indexed by customer is scored partition by partition (row-wise, no shuffle):
    the result is sorted within each partition, hence globally when the partitions are in
    customer order, as :func:`rfm_summary`'s output and any ``set_index`` result are. With a
    ``customer`` column the summary is first shuffled by it (``set_index``).

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
    from crmcore.segmentation import score_rfm as pandas_score

    _dd()
    names = {"recency": recency, "frequency": frequency, "monetary": monetary}
    columns = [*names.values()] + ([] if customer is None else [customer])
    require_columns(summary._meta, columns, arg="summary", allow_empty=True)
    meta = pandas_score(_meta_sample(summary, columns), rfm_bins, customer=customer, **names)
    meta = meta.iloc[:0]
    keyed = summary if customer is None else summary.set_index(customer, drop=False)
    result: pd.DataFrame = keyed.map_partitions(
        _score_partition,
        rfm_bins,
        names,
        customer,
        meta=meta,
        align_dataframes=False,
    )
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
    from crmcore.segmentation import rfm_segments as pandas_segments

    _dd()
    require_columns(scores._meta, [r, f, m], arg="scores", allow_empty=True)
    sample = _meta_sample(scores, None, **dict.fromkeys((r, f, m), 1))
    meta = pandas_segments(sample, segment_map, r=r, f=f, m=m).iloc[:0]
    nonempty = scores.shape[0]
    result: pd.DataFrame = scores.map_partitions(
        _segments_partition,
        segment_map,
        (r, f, m),
        nonempty,
        meta,
        meta=meta,
        align_dataframes=False,
    )
    return result


def _segments_partition(
    part: pd.DataFrame,
    segment_map: Any,
    cols: tuple[str, str, str],
    n_rows: int,
    meta: pd.DataFrame,
) -> pd.DataFrame:
    from crmcore.segmentation import rfm_segments as pandas_segments

    _check_nonempty(n_rows, "scores")
    if len(part) == 0:
        return meta.copy()
    r, f, m = cols
    return pandas_segments(part, segment_map, r=r, f=f, m=m)


# --------------------------------------------------------------------------------------------
# Grades
# --------------------------------------------------------------------------------------------


def _grades_measure(part: pd.DataFrame, rules: Any, value: str, potential: str) -> _Box:
    from crmcore.segmentation import customer_grades as pandas_grades

    pandas_grades(part, rules, value=value, potential=potential)  # validates this partition
    return {"value": _counts(part[value]), "potential": _counts(part[potential])}, [part.index]


def _grades_finish(box: _Box, rules: Any) -> Any:
    import attrs

    tables, ids = box
    if not ids:
        raise SchemaError("frame is empty; expected at least one row")
    _duplicate_check(ids, "frame")
    empty = pd.Series([], dtype=np.int64)
    values = tables.get("value", empty)
    potentials = tables.get("potential", empty)
    changes: dict[str, Any] = {}
    if rules.value_method != "threshold":
        if len(values) == 0:
            cut = 0.0
        elif rules.value_method == "abc":
            found = abc_threshold(values, rules.value_cutoff)
            top = float(values.index[-1])
            cut = found if found is not None else float(np.nextafter(max(top, 0.0), np.inf))
        else:
            q = float(quantiles_from_counts(values, [rules.value_cutoff])[0])
            cut = float(np.nextafter(q, np.inf))  # v > q  <=>  v >= next float after q
        changes.update(value_method="threshold", value_cutoff=cut)
    if rules.potential_method == "quantile":
        if len(potentials) == 0:
            pcut = 0.0
        else:
            q = float(quantiles_from_counts(potentials, [rules.potential_cutoff])[0])
            pcut = float(np.nextafter(q, np.inf))
        changes.update(potential_method="threshold", potential_cutoff=pcut)
    evolved: Any = attrs.evolve(rules, **changes)
    return evolved


def _grades_partition(
    part: pd.DataFrame, rules: Any, value: str, potential: str, meta: pd.DataFrame
) -> pd.DataFrame:
    from crmcore.segmentation import customer_grades as pandas_grades

    if len(part) == 0:
        return meta.copy()
    return pandas_grades(part, rules, value=value, potential=potential)


def customer_grades(frame: Any, rules: Any, *, value: str, potential: str) -> pd.DataFrame:
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
    from crmcore.segmentation import GradeRules
    from crmcore.segmentation import customer_grades as pandas_grades

    _dd()
    rules = GradeRules() if rules is None else rules
    columns = [value, potential]
    require_columns(frame._meta, columns, arg="frame", allow_empty=True)
    meta = pandas_grades(_meta_sample(frame, columns), rules, value=value, potential=potential)
    meta = meta.iloc[:0]
    fitted = _global_step(
        frame,
        partial(_grades_measure, rules=rules, value=value, potential=potential),
        partial(_grades_finish, rules=rules),
    )
    result: pd.DataFrame = frame[columns].map_partitions(
        _grades_partition,
        fitted,
        value,
        potential,
        meta,
        meta=meta,
        align_dataframes=False,
    )
    return result


# --------------------------------------------------------------------------------------------
# Weighted pipeline
# --------------------------------------------------------------------------------------------


def _pipeline_partition(
    part: pd.DataFrame,
    model: Any,
    kwargs: Mapping[str, Any],
    n_rows: int,
    spec: tuple[pd.DataFrame, Any],
) -> pd.DataFrame:
    from crmcore.pipeline import weighted_pipeline as pandas_pipeline

    meta, index_name = spec
    _check_nonempty(n_rows, "opportunities")
    if len(part) == 0:
        return meta.copy()
    return _clear_attrs(pandas_pipeline(_unshuffle(part, index_name), model, **kwargs))


def weighted_pipeline(
    opportunities: Any,
    model: Any,
    *,
    opportunity: str,
    stage: str,
    amount: str,
    currency: str | None,
    rates: Mapping[Any, float] | None,
    reporting_currency: Any,
    decimals: int,
) -> pd.DataFrame:
    """Weigh the deals of a Dask frame: shuffle by deal id, then the pandas path per partition.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from crmcore.pipeline import StageModel
    >>> model = StageModel.from_conversion_rates(["a", "b"], [0.5, 0.8], [10, 10])
    >>> deals = pd.DataFrame({"opportunity_id": [2, 1], "stage": ["b", "a"],
    ...                       "amount": [100.0, 100.0]})
    >>> weighted_pipeline(dd.from_pandas(deals, npartitions=2), model,
    ...                   opportunity="opportunity_id", stage="stage", amount="amount",
    ...                   currency=None, rates=None, reporting_currency=None,
    ...                   decimals=2).compute()["expected_amount"].tolist()
    [40.0, 80.0]
    """
    from crmcore.pipeline import StageModel
    from crmcore.pipeline import weighted_pipeline as pandas_pipeline

    _dd()
    kwargs: dict[str, Any] = {
        "opportunity": opportunity,
        "stage": stage,
        "amount": amount,
        "currency": currency,
        "rates": rates,
        "reporting_currency": reporting_currency,
        "decimals": decimals,
    }
    columns = [opportunity, stage, amount] + ([] if currency is None else [currency])
    require_columns(opportunities._meta, columns, arg="opportunities", allow_empty=True)
    fill: dict[str, Any] = {}
    if isinstance(model, StageModel):
        fill[stage] = model.stages[0]
    if currency is not None and rates:
        fill[currency] = next(iter(rates))
    sample = _meta_sample(opportunities, columns, **fill)
    meta = _clear_attrs(pandas_pipeline(sample, model, **kwargs).iloc[:0])
    nonempty = opportunities.shape[0]
    keyed = _shuffle_by(opportunities, columns, opportunity)
    result: pd.DataFrame = keyed.map_partitions(
        _pipeline_partition,
        model,
        kwargs,
        nonempty,
        (meta, opportunities._meta.index.name),
        meta=meta,
        align_dataframes=False,
    )
    return result
