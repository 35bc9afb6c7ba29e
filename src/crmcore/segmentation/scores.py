"""RFM scores from fitted, serialisable quantile edges.

A score is a function of the value alone: ``1 +`` the number of fitted edges the value is
strictly better than (above, for frequency and monetary value; below, for recency). Equal
values therefore always get equal scores, and a metric where most customers share one value
(frequency 1) simply yields fewer distinct scores: the duplicate quantile edges collapse into
one, so nothing can fail the way ``pandas.qcut`` does on duplicate edges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

import crmcore._frames as fr
from crmcore._dask import is_dask
from crmcore._memory import normal_pages
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.errors import ConfigError, DataError, InputTypeError

__all__ = ["RFMBins", "fit_rfm_bins", "rfm_scores", "score_rfm"]

_METRICS = ("recency", "frequency", "monetary")
MAX_BINS = 9
_SCORE_COLUMNS = pd.Index(["r_score", "f_score", "m_score", "rfm_score"])


def _edges(value: object, name: str) -> tuple[float, ...]:
    raw = np.asarray(value, dtype=object)
    items = raw.tolist() if raw.ndim == 1 else []
    pos = fr.first_true([isinstance(v, bool | np.bool_) for v in items])
    if pos is not None:  # True would read as the edge 1.0
        raise ConfigError(
            f"{name} has boolean edge {items[pos]} at position {pos}; edges must be numbers",
            column=name,
            value=items[pos],
        )
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} must be a sequence of numbers, got {value!r}", column=name
        ) from None
    if arr.ndim != 1:
        raise ConfigError(f"{name} must be one-dimensional, got shape {arr.shape}", column=name)
    pos = fr.first_true(~np.isfinite(arr))
    if pos is not None:
        raise ConfigError(
            f"{name} has non-finite edge {fr.show(arr[pos])} at position {pos}; "
            "edges must be finite",
            column=name,
            value=arr[pos],
        )
    pos = fr.first_true(arr[1:] <= arr[:-1])  # compared, not subtracted: +-1e308 must not overflow
    if pos is not None:
        raise ConfigError(
            f"{name} edges must be strictly increasing; {fr.show(arr[pos + 1])} at position "
            f"{pos + 1} follows {fr.show(arr[pos])}",
            column=name,
            value=arr[pos + 1],
        )
    return tuple(float(x) for x in arr)


def _recency_edges(value: object) -> tuple[float, ...]:
    return _edges(value, "recency")


def _frequency_edges(value: object) -> tuple[float, ...]:
    return _edges(value, "frequency")


def _monetary_edges(value: object) -> tuple[float, ...]:
    return _edges(value, "monetary")


@attrs.frozen(kw_only=True)
class RFMBins:
    """Fitted edges that turn recency, frequency and monetary values into scores ``1..bins``.

    For each metric, ``edges`` are the distinct interior quantiles of the fitted values
    (at most ``bins - 1``, strictly increasing). A value's score is

    - frequency and monetary: ``1 + #{edges e : value > e}`` (higher value, higher score);
    - recency: ``1 + #{edges e : value < e}`` (more recent, higher score).

    A value equal to an edge is not better than it, so the score depends on the value alone and
    is monotone in it. When quantiles coincide (heavy ties) there are fewer edges than
    ``bins - 1`` and the best scores are not reached: with ``n`` distinct edges the scores are
    ``1..n+1``. Values outside the fitted range clamp to the lowest or highest reachable score,
    so edges fitted once can score later data or other partitions.

    Attributes
    ----------
    bins
        Number of score levels asked for, 2..9 (the combined score has one digit per metric).
    recency, frequency, monetary
        The edges of each metric, as tuples of floats.

    Examples
    --------
    >>> from crmcore.segmentation import RFMBins
    >>> b = RFMBins(bins=3, recency=(10.0, 30.0), frequency=(1.0,), monetary=(50.0, 200.0))
    >>> b.to_dict()["frequency"]
    [1.0]
    >>> RFMBins.from_dict(b.to_dict()) == b
    True
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    bins: int = attrs.field()
    recency: tuple[float, ...] = attrs.field(converter=_recency_edges)
    frequency: tuple[float, ...] = attrs.field(converter=_frequency_edges)
    monetary: tuple[float, ...] = attrs.field(converter=_monetary_edges)

    def __attrs_post_init__(self) -> None:
        fr.check_scalar(self.bins, "bins", kind=int, min_value=2, max_value=MAX_BINS)
        for name in _METRICS:
            edges = getattr(self, name)
            if len(edges) > self.bins - 1:
                raise ConfigError(
                    f"{name} has {len(edges)} edges; with bins={self.bins} at most "
                    f"{self.bins - 1} are allowed",
                    column=name,
                    value=len(edges),
                )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: ``bins`` and one list of edges per metric.

        Examples
        --------
        >>> from crmcore.segmentation import RFMBins
        >>> RFMBins(bins=2, recency=[5], frequency=[], monetary=[9.5]).to_dict()
        {'bins': 2, 'recency': [5.0], 'frequency': [], 'monetary': [9.5]}
        """
        return {
            "bins": int(self.bins),
            "recency": list(self.recency),
            "frequency": list(self.frequency),
            "monetary": list(self.monetary),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RFMBins:
        """Rebuild from :meth:`to_dict` output (validated like the constructor).

        Examples
        --------
        >>> from crmcore.segmentation import RFMBins
        >>> RFMBins.from_dict({"bins": 2, "recency": [5], "frequency": [], "monetary": [1]}).bins
        2
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"RFMBins.from_dict expects a mapping, got {type(data).__name__}")
        expected = {"bins", *_METRICS}
        unknown = sorted(set(data) - expected)
        missing = sorted(expected - set(data))
        if unknown or missing:
            raise ConfigError(
                f"RFMBins.from_dict: missing keys {missing}, unknown keys {unknown}; "
                f"expected {sorted(expected)}"
            )
        return cls(
            bins=data["bins"],
            recency=data["recency"],
            frequency=data["frequency"],
            monetary=data["monetary"],
        )


def _summary_values(
    summary: pd.DataFrame,
    columns: Sequence[str],
    *,
    customer: str | None,
    allow_empty: bool,
) -> tuple[list[npt.NDArray[np.float64]], pd.Index]:
    """Validate a per-customer summary; return the metric arrays and the customer ids."""
    arg = "summary"
    summary = fr.require_frame(summary, arg=arg)
    needed = list(columns) if customer is None else [customer, *columns]
    summary = fr.require_columns(summary, needed, arg=arg, allow_empty=allow_empty)
    if customer is not None:
        fr.require_unique(summary, customer, arg=arg)
        ids = pd.Index(summary[customer], name=customer)
    else:
        dup = summary.index.duplicated()
        pos = fr.first_true(dup)
        if pos is not None:
            label = summary.index[pos]
            raise DataError(
                f"index of {arg} has duplicate customer id {fr.show(label)} at position {pos} "
                f"({fr.describe_row(summary, pos)}); a summary holds one row per customer",
                row=label,
                value=label,
            )
        ids = summary.index
    values = [fr.numeric_column(summary, c, arg=arg, key=customer) for c in columns]
    return values, ids


def _fit_edges(values: npt.NDArray[np.float64], bins: int) -> npt.NDArray[np.float64]:
    probs = np.arange(1, bins) / bins
    scale = fr.quantile_scale(values.min(), values.max()) if values.size else 1.0
    if scale == 1.0:  # the usual case: no scaled copy of the column
        quantiles = np.quantile(values, probs)
    else:
        quantiles = np.quantile(values * scale, probs) / scale
    # np.unique sorts and drops the duplicate quantiles of heavily tied data.
    edges: npt.NDArray[np.float64] = np.unique(quantiles)
    return edges


def fit_rfm_bins(
    summary: pd.DataFrame,
    bins: int = 5,
    *,
    recency: str = "recency",
    frequency: str = "frequency",
    monetary: str = "monetary",
    customer: str | None = None,
) -> RFMBins:
    """Fit quantile edges for RFM scores on a per-customer summary.

    For each metric the edges are the distinct values of the quantiles at ``1/bins, 2/bins,
    ..., (bins-1)/bins`` of the customers' values (``numpy.quantile``, linear interpolation).
    Duplicate quantiles (e.g. when most customers have frequency 1) are merged, so fitting
    never fails on ties; the metric then gets fewer distinct scores (see :class:`RFMBins`).

    Parameters
    ----------
    summary
        One row per customer, e.g. the output of :func:`rfm_summary`.
    bins
        Score levels, 2..9 (default 5).
    recency, frequency, monetary
        Column names of the three metrics (e.g. ``monetary="monetary_value"``).
    customer
        Column holding the customer id; default ``None``: the index holds it. Ids must be
        unique.

    Returns
    -------
    RFMBins
        The fitted edges, serialisable with ``to_dict``.

    Raises
    ------
    SchemaError
        Missing column or empty summary.
    ColumnTypeError
        A metric column is not numeric.
    DataError
        NaN or infinite values, duplicate customer ids.
    ConfigError
        ``bins`` is not an integer in 2..9.

    Notes
    -----
    Dask: ``summary`` may also be a ``dask.dataframe.DataFrame``: the edges are then fitted
    once over the whole collection (this computes it) and equal the pandas ones. See
    ``docs/scaling.md``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import fit_rfm_bins
    >>> summary = pd.DataFrame({
    ...     "recency": [1, 5, 20, 40], "frequency": [1, 1, 1, 6],
    ...     "monetary": [10.0, 20.0, 30.0, 400.0]}, index=[1, 2, 3, 4])
    >>> b = fit_rfm_bins(summary, bins=4)
    >>> b.recency, b.frequency
    ((4.0, 12.5, 25.0), (1.0, 2.25))
    """
    if is_dask(summary):
        import crmcore.segmentation._dask as dask_adapter

        return dask_adapter.fit_rfm_bins(
            summary,
            bins,
            recency=recency,
            frequency=frequency,
            monetary=monetary,
            customer=customer,
        )
    fr.check_scalar(bins, "bins", kind=int, min_value=2, max_value=MAX_BINS)
    (r, f, m), _ = _summary_values(
        summary, [recency, frequency, monetary], customer=customer, allow_empty=False
    )
    return RFMBins(
        bins=int(bins),
        recency=_fit_edges(r, bins),
        frequency=_fit_edges(f, bins),
        monetary=_fit_edges(m, bins),
    )


def _score(
    values: npt.NDArray[np.float64],
    edges: tuple[float, ...],
    *,
    lower_is_better: bool,
    out: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.int64]:
    """Score ``1 + edges beaten``; ``values`` are finite (validated), at most 8 edges.

    One comparison pass per edge into an int8 counter beats a binary search per value.
    """
    e = np.asarray(edges, dtype=np.float64)
    n = values.shape[0]
    beaten = np.zeros(n, dtype=np.int8)
    hit = np.empty(n, dtype=bool)
    for edge in e.tolist():  # at most MAX_BINS - 1 edges
        if lower_is_better:
            np.less(values, edge, out=hit)  # edges strictly above the value
        else:
            np.greater(values, edge, out=hit)  # edges strictly below the value
        beaten += hit.view(np.int8)
    if out is None:
        out = np.empty(n, dtype=np.int64)
    np.add(beaten, 1, out=out, casting="unsafe")
    return out


def _score_frame(
    values: Sequence[npt.NDArray[np.float64]], rfm_bins: RFMBins, ids: pd.Index
) -> pd.DataFrame:
    """Build the score frame in one int64 block (no per-column stacking copy)."""
    r, f, m = values
    block = np.empty((4, r.shape[0]), dtype=np.int64)
    rs = _score(r, rfm_bins.recency, lower_is_better=True, out=block[0])
    fs = _score(f, rfm_bins.frequency, lower_is_better=False, out=block[1])
    ms = _score(m, rfm_bins.monetary, lower_is_better=False, out=block[2])
    total = block[3]
    np.multiply(rs, 100, out=total)
    total += 10 * fs
    total += ms
    out = pd.DataFrame(block.T, index=pd.Index(ids), columns=_SCORE_COLUMNS, copy=False)
    if not out.index.is_monotonic_increasing:
        out = out.sort_index(kind="stable")
    return out


def score_rfm(
    summary: pd.DataFrame,
    rfm_bins: RFMBins,
    *,
    recency: str = "recency",
    frequency: str = "frequency",
    monetary: str = "monetary",
    customer: str | None = None,
) -> pd.DataFrame:
    """Score each customer's recency, frequency and monetary value with fitted edges.

    See :class:`RFMBins` for the rule. ``rfm_score = 100 * r_score + 10 * f_score + m_score``,
    the usual three-digit code (``555`` best when ``bins=5``); ``bins <= 9`` keeps it
    unambiguous.

    Parameters
    ----------
    summary
        One row per customer with the three metric columns; may be empty (an empty result is
        returned, handy for Dask's ``map_partitions`` metadata).
    rfm_bins
        Edges from :func:`fit_rfm_bins` (possibly fitted on other data).
    recency, frequency, monetary, customer
        As in :func:`fit_rfm_bins`.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id, sorted; int64 columns ``r_score``, ``f_score``, ``m_score``
        (each in ``1..bins``) and ``rfm_score``.

    Raises
    ------
    InputTypeError
        ``rfm_bins`` is not an :class:`RFMBins`.
    SchemaError, ColumnTypeError, DataError
        As in :func:`fit_rfm_bins`.

    Notes
    -----
    Dask: ``summary`` may also be a ``dask.dataframe.DataFrame``; it is scored lazily partition by
    partition and the result is sorted by customer when the partitions are in customer
    order (as :func:`rfm_summary` returns them). See ``docs/scaling.md``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import RFMBins, score_rfm
    >>> b = RFMBins(bins=3, recency=(10, 30), frequency=(1,), monetary=(50, 200))
    >>> summary = pd.DataFrame({"recency": [3, 30, 90], "frequency": [4, 1, 1],
    ...                         "monetary": [500.0, 60.0, 10.0]}, index=["a", "b", "c"])
    >>> score_rfm(summary, b)
       r_score  f_score  m_score  rfm_score
    a        3        2        3        323
    b        1        1        2        112
    c        1        1        1        111
    """
    if is_dask(summary):
        import crmcore.segmentation._dask as dask_adapter

        return dask_adapter.score_rfm(
            summary,
            rfm_bins,
            recency=recency,
            frequency=frequency,
            monetary=monetary,
            customer=customer,
        )
    given: object = rfm_bins
    if not isinstance(given, RFMBins):
        raise InputTypeError(f"rfm_bins must be an RFMBins, got {type(given).__name__}")
    (r, f, m), ids = _summary_values(
        summary, [recency, frequency, monetary], customer=customer, allow_empty=True
    )
    return _score_frame((r, f, m), rfm_bins, ids)


@normal_pages
def rfm_scores(
    summary: pd.DataFrame,
    bins: int = 5,
    *,
    recency: str = "recency",
    frequency: str = "frequency",
    monetary: str = "monetary",
    customer: str | None = None,
) -> pd.DataFrame:
    """Fit edges on ``summary`` and score it: ``score_rfm(summary, fit_rfm_bins(summary))``.

    Parameters
    ----------
    summary, bins, recency, frequency, monetary, customer
        As in :func:`fit_rfm_bins`.

    Returns
    -------
    pandas.DataFrame
        As :func:`score_rfm`. The fitted edges are not returned: to keep them (to score later
        data or other partitions the same way, or to save them with ``to_dict()``), call the
        two steps yourself: ``rfm_bins = fit_rfm_bins(summary, bins)`` then
        ``score_rfm(summary, rfm_bins)``, which gives the same scores.

    Raises
    ------
    SchemaError, ColumnTypeError, DataError, ConfigError
        As in :func:`fit_rfm_bins`.

    Notes
    -----
    Dask: a Dask summary gives a lazy Dask result; the edges are fitted once over the whole
    collection (as :func:`fit_rfm_bins` does, which computes the summary).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import rfm_scores
    >>> summary = pd.DataFrame({"recency": [0, 10, 50], "frequency": [5, 1, 1],
    ...                         "monetary": [900.0, 50.0, 20.0]}, index=[7, 8, 9])
    >>> rfm_scores(summary, bins=3)["rfm_score"].tolist()
    [333, 212, 111]

    To keep the edges, fit and score in two steps (same scores):

    >>> from crmcore.segmentation import fit_rfm_bins, score_rfm
    >>> rfm_bins = fit_rfm_bins(summary, bins=3)
    >>> rfm_bins.to_dict()["recency"]
    [6.666666666666666, 23.33333333333333]
    >>> score_rfm(summary, rfm_bins).equals(rfm_scores(summary, bins=3))
    True
    """
    names = {"recency": recency, "frequency": frequency, "monetary": monetary}
    if is_dask(summary):
        fitted = fit_rfm_bins(summary, bins, customer=customer, **names)
        return score_rfm(summary, fitted, customer=customer, **names)
    # fit_rfm_bins then score_rfm, validating and converting the summary once.
    fr.check_scalar(bins, "bins", kind=int, min_value=2, max_value=MAX_BINS)
    (r, f, m), ids = _summary_values(
        summary, [recency, frequency, monetary], customer=customer, allow_empty=False
    )
    fitted = RFMBins(
        bins=int(bins),
        recency=_fit_edges(r, bins),
        frequency=_fit_edges(f, bins),
        monetary=_fit_edges(m, bins),
    )
    return _score_frame((r, f, m), fitted, ids)
