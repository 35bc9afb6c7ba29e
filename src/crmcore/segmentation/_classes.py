"""Pareto class arithmetic shared by ABC classes, ABC-XYZ and customer grades (and their Dask path).

A value's class depends only on ``S(v)``, the share of the total held by values strictly
greater than ``v``: it is in class ``k`` (0 = best) for the first cutoff with
``S(v) < cutoffs[k]`` (within :data:`TOL`), and zeros always get the last class. The class is
therefore a non-increasing step function of the value, described by one *threshold* per class:
the smallest value in that class or better. Thresholds are computed from a sorted table of
distinct values and their counts, so the pandas path (one sort) and the Dask path (tables
merged over partitions) use the same arithmetic and agree bit for bit.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["TOL", "class_codes", "class_thresholds"]

TOL = 1e-12
"""Cumulative shares within this distance of a cutoff count as having reached it, so a cutoff
reached exactly in decimal arithmetic (e.g. 0.5 + 0.2 + 0.1 == 0.8) is not missed by rounding."""

_FloatArray = npt.NDArray[np.float64]


def class_thresholds(
    uniq: _FloatArray, counts: npt.NDArray[np.int64], cutoffs: tuple[float, ...], basis: str
) -> _FloatArray:
    """Smallest value of each class ``<= k`` (``inf`` when empty), for ``k < len(cutoffs)``.

    ``uniq`` are the distinct values (finite, >= 0, ascending) and ``counts`` how often each
    occurs; ``basis`` is ``"value"`` (shares of the summed values) or ``"count"`` (shares of the
    number of items).

    Examples
    --------
    >>> import numpy as np
    >>> class_thresholds(np.array([50.0, 100.0, 250.0, 600.0]), np.array([1, 1, 1, 1]),
    ...                  (0.8, 0.95), "value").tolist()
    [250.0, 100.0]
    """
    last = len(cutoffs)
    thresholds = np.full(last, np.inf)
    with np.errstate(over="ignore"):  # values near the largest float: scaled just below
        weights = uniq * counts if basis == "value" else counts * 1.0
        total = weights.sum() if len(uniq) else 0.0
    if basis == "value" and not np.isfinite(total):
        # Values near the largest float: shares do not change with the scale, so sum the
        # values over the largest one (an exact power of two, only subnormal bits are lost).
        scale = 2.0 ** -float(np.frexp(uniq[-1])[1])
        weights = (uniq * scale) * counts
        total = weights.sum()
    if len(uniq) == 0 or total <= 0:
        return thresholds
    # Share of the total held by values strictly greater than each distinct value.
    desc = weights[::-1]
    greater = (np.cumsum(desc) - desc)[::-1] / total
    del weights, desc
    cls = np.searchsorted(np.asarray(cutoffs) - TOL, greater, side="right")
    cls[uniq == 0] = last
    # cls does not increase along uniq (zero, the smallest value, gets the last class).
    for k in range(last):  # a handful of classes
        at = np.flatnonzero(cls <= k)
        if at.size:
            thresholds[k] = uniq[at[0]]
    return thresholds


def _distinct(values: _FloatArray) -> tuple[_FloatArray, npt.NDArray[np.int64]]:
    """Distinct values (ascending) and their counts, from one plain sort."""
    srt = np.sort(values)
    n = srt.shape[0]
    flag = np.empty(n, dtype=bool)
    flag[:1] = True
    np.not_equal(srt[1:], srt[:-1], out=flag[1:])
    first = np.flatnonzero(flag)
    del flag
    uniq = srt[first]
    del srt
    counts = np.diff(np.r_[first, n]).astype(np.int64)
    return uniq, counts


def class_codes(
    values: _FloatArray, cutoffs: tuple[float, ...], basis: str
) -> npt.NDArray[np.int64]:
    """Class position (0 = best) of each value; ``values`` are finite and >= 0.

    The distinct values and their counts come from one plain sort (no argsort, no inverse
    scatter), and each value is then placed by a binary search among the ``len(cutoffs)``
    class thresholds: its class is how many thresholds exceed it.

    Examples
    --------
    >>> import numpy as np
    >>> class_codes(np.array([8.0, 50, 3, 20, 10, 5, 4]), (0.8, 0.95), "value").tolist()
    [1, 0, 2, 0, 0, 1, 1]
    """
    uniq, counts = _distinct(values)
    thresholds = class_thresholds(uniq, counts, cutoffs, basis)  # non-increasing
    reached = np.searchsorted(thresholds[::-1], values, side="right").astype(np.int64)
    np.subtract(len(cutoffs), reached, out=reached)
    return reached
