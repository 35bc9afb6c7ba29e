"""Checked, compressed model inputs shared by every fit and prediction of :mod:`crmcore.clv`.

A *summary* is one row per customer (``segmentation.btyd_summary`` output, or any frame with the
same columns). :func:`read_columns` reads the columns a model needs into float arrays after
checking them, naming the column, the first offending row label and value on bad input.
:func:`compress` turns rows into distinct rows with counts as weights (identical customers add
identical terms to a log-likelihood, so each distinct row is evaluated once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_scalar,
    describe_row,
    first_true,
    numeric_column,
    refuse_first,
    require_columns,
    show,
)
from crmcore.errors import ConfigError, DataError

__all__ = [
    "Columns",
    "check_penalizer",
    "check_time",
    "compress",
    "dot",
    "read_columns",
    "subsample",
]

FloatArray = npt.NDArray[np.float64]


class Columns:
    """The checked columns of a summary, as float64 arrays, plus weights and the index.

    ``values`` maps a role (``"frequency"``, ``"recency"``, ``"T"``, ...) to its array;
    ``names`` maps the role to the user's column name (for messages); ``weights`` holds the
    number of customers per row (ones when no weights column was given).
    """

    def __init__(
        self,
        values: dict[str, FloatArray],
        names: dict[str, str],
        weights: FloatArray,
        index: pd.Index,
    ) -> None:
        self.values = values
        self.names = names
        self.weights = weights
        self.index = index

    def __getitem__(self, role: str) -> FloatArray:
        return self.values[role]


#: the largest count or time a summary holds: floats count exactly up to 2**53
_LARGEST = float(2**53)
#: the longest prediction horizon, in time units (the models' formulas stay finite below it)
_MAX_HORIZON = 1e12
#: the most opportunities (BG/BB's n_periods) per customer: its likelihood has one term each
_MAX_OPPORTUNITIES = 100_000


def read_columns(
    summary: object,
    names: Mapping[str, str],
    *,
    integer: Sequence[str] = (),
    weights: str | None = None,
    arg: str = "summary",
) -> Columns:
    """Read and check the columns ``names`` (role -> column name) of ``summary``.

    Every value must be a finite number >= 0; roles in ``integer`` hold whole numbers;
    ``recency <= T`` (or ``recency <= n_periods``) and ``recency == 0`` where
    ``frequency == 0`` when those roles are present. ``weights`` (a column name) must hold
    positive whole numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"frequency": [2.0, 0.0], "recency": [5.0, 0.0], "T": [9.0, 3.0]})
    >>> cols = read_columns(s, {"frequency": "frequency", "recency": "recency", "T": "T"})
    >>> cols["recency"].tolist(), cols.weights.tolist()
    ([5.0, 0.0], [1.0, 1.0])
    >>> read_columns(s.assign(recency=[10.0, 0.0]),
    ...              {"frequency": "frequency", "recency": "recency", "T": "T"})
    Traceback (most recent call last):
    ...
    crmcore.errors.DataError: column 'recency' of summary has value 10.0 at row 0; above its T ...
    """
    wanted = list(names.values()) + ([] if weights is None else [weights])
    summary = require_columns(summary, wanted, arg=arg)
    values: dict[str, FloatArray] = {}
    for role, column in names.items():
        arr = numeric_column(
            summary,
            column,
            arg=arg,
            allow_negative=False,
            negative_hint=f"{role} counts or times are never negative",
            what=f"finite {role} values >= 0",
        )
        # 1e307 purchases overflow the likelihoods; 2**62 periods exhaust memory
        limit = "100 000 opportunities" if role == "n_periods" else "2**53 (about 9.0e15)"
        refuse_first(summary, arr > (_MAX_OPPORTUNITIES if role == "n_periods" else _LARGEST),
                     column, arg="summary", problem="value too large", values=arr,
                     then=f"; {role} up to {limit}")  # fmt: skip
        if role in integer:
            refuse_first(summary, arr != np.round(arr), column, arg="summary",
                         problem="non-integer value", values=arr,
                         then=f"; {role} counts whole purchases (or periods)")  # fmt: skip
        values[role] = arr
    _check_relations(summary, values, dict(names))
    if weights is None:
        w = np.ones(len(summary), dtype=np.float64)
    else:
        w = numeric_column(summary, weights, arg=arg, what="positive whole numbers of customers")
        refuse_first(summary, (w <= 0) | (w != np.round(w)), weights, arg="summary",
                     problem="weight", values=w, then="; weights count identical customers "
                     "and must be positive whole numbers")  # fmt: skip
    return Columns(values, dict(names), w, summary.index)


def _check_relations(
    frame: pd.DataFrame, values: dict[str, FloatArray], names: dict[str, str]
) -> None:
    """Recency <= T (or n_periods); recency == 0 for customers without repeat purchases."""
    if "recency" not in values:
        return
    rec = values["recency"]
    for bound in ("T", "n_periods"):
        if bound in values:
            pos = first_true(rec > values[bound])
            if pos is not None:
                raise DataError(
                    f"column {names['recency']!r} of summary has value {show(rec[pos])} at "
                    f"{describe_row(frame, pos)}; above its {bound} {show(values[bound][pos])}; "
                    "the last purchase cannot come after the end of the observation "
                    f"({names[bound]!r})",
                    column=names["recency"],
                    row=frame.index[pos],
                    value=rec[pos],
                )
    if "frequency" in values:
        refuse_first(frame, (values["frequency"] == 0) & (rec != 0), names["recency"],
                     arg="summary", problem="value", values=rec, then="; expected 0 where "
                     "frequency is 0 (no repeat purchase, so no time between the first and the "
                     "last purchase)")  # fmt: skip


def compress(
    columns: Sequence[FloatArray], weights: FloatArray
) -> tuple[list[FloatArray], FloatArray]:
    """Distinct rows of ``columns`` in a canonical order and the summed weights of each.

    The rows come out sorted by a 64-bit hash of their values (by the values themselves in the
    never-seen case of a hash collision), so the result depends on the set of rows and their
    weights only: a fit on a frame and on its compressed parts (Dask partitions compressed one
    by one, then merged) sees the same arrays in the same order and finds the same parameters
    to the last bit.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([2.0, 1.0, 1.0])
    >>> cols, w = compress([x, np.array([3.0, 3.0, 3.0])], np.ones(3))
    >>> sorted(zip(cols[0].tolist(), w.tolist()))
    [(1.0, 2.0), (2.0, 1.0)]
    >>> again, _ = compress([x[::-1], np.array([3.0, 3.0, 3.0])], np.ones(3))
    >>> again[0].tolist() == cols[0].tolist()
    True
    """
    n = len(weights)
    if n == 0:
        return [c.copy() for c in columns], weights.copy()
    # One hash table over a 64-bit hash of each row, then a check that every row equals the
    # first row of its group (a collision, never seen in practice, falls back to exact keys).
    hashes = _row_hash(columns)
    row_codes, first = _first_positions(hashes)
    if all(np.array_equal(c[first][row_codes], c) for c in columns):
        order = np.argsort(hashes[first], kind="stable")
    else:
        row_codes, first = _first_positions(_exact_key(columns))
        order = np.lexsort([c[first] + 0.0 for c in reversed(columns)])  # -0.0 sorts as 0.0
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order), dtype=np.intp)
    summed = np.bincount(rank[row_codes], weights=weights, minlength=len(first))
    return [c[first[order]] + 0.0 for c in columns], summed.astype(np.float64)


def _exact_key(columns: Sequence[FloatArray]) -> npt.NDArray[np.int64]:
    """Row codes built column by column from each column's own codes."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    span = 1
    for col in columns:
        codes, uniques = pd.factorize(col)
        k = len(uniques)
        if span * k >= 2**62:  # pragma: no cover - needs astronomically many distinct values
            key, _ = pd.factorize(key)
            span = int(key.max()) + 1
        key = key * k + codes
        span *= k
    return key


def _first_positions(
    key: npt.NDArray[np.int64] | npt.NDArray[np.uint64],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Codes of ``key`` (first-seen order) and the position where each code first occurs."""
    codes = pd.factorize(key)[0].astype(np.intp)
    # factorize numbers codes in order of first appearance: a row starts a new code exactly
    # when its code is above every code before it.
    seen = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.r_[True, seen[1:] > seen[:-1]])
    return codes, first.astype(np.intp)


def check_penalizer(penalizer: object) -> float:
    """Return the L2 penalizer as a float after checking it is a finite number >= 0.

    Examples
    --------
    >>> check_penalizer(0.1)
    0.1
    """
    check_scalar(penalizer, "penalizer", kind=float, min_value=0.0)
    value = float(penalizer)  # type: ignore[arg-type]  # a Real, checked just above
    if not np.isfinite(value):
        raise ConfigError(f"penalizer == {value}, must be finite", column="penalizer", value=value)
    return value


def check_time(t: object, name: str = "t") -> float:
    """Return a prediction horizon as a float: a finite number >= 0.

    Examples
    --------
    >>> check_time(4)
    4.0
    """
    check_scalar(t, name, kind=float, min_value=0.0)
    value = float(t)  # type: ignore[arg-type]  # a Real, checked just above
    if not np.isfinite(value):
        raise ConfigError(f"{name} == {value}, must be finite", column=name, value=value)
    if value > _MAX_HORIZON:  # BG/NBD's hypergeometric term overflows to inf near 1e14
        raise ConfigError(
            f"{name} == {value:g}, too large; a horizon is at most 10**12 time units",
            column=name,
            value=value,
        )
    return value


def dot(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Inner product of two 1-D arrays without BLAS.

    ``a @ b`` goes through the BLAS thread pool, whose wake-up costs milliseconds per call on
    a busy machine; a log-likelihood takes a dozen such sums per evaluation.

    Examples
    --------
    >>> dot([1.0, 2.0], [3.0, 4.0])
    11.0
    """
    return float(
        np.einsum("i,i->", np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    )


def subsample(columns: Sequence[FloatArray], size: int) -> npt.NDArray[np.intp] | None:
    """Positions of about ``size`` rows picked by a hash of their values, or ``None`` if small.

    Rows are kept when a hash of their bits falls in one of ``len // size`` buckets, so the
    pick depends on the values only, never on the row order (a fit started from it stays
    order-independent). ``None`` when there are fewer than ``3 * size`` rows.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(30_000, dtype=np.float64)
    >>> pick = subsample([t], 1000)
    >>> 800 < len(pick) < 1200, subsample([t[:2000]], 1000) is None
    (True, True)
    >>> bool(np.array_equal(np.sort(t[pick]), np.sort(t[::-1][subsample([t[::-1]], 1000)])))
    True
    """
    n = len(columns[0])
    if n < 3 * size:
        return None
    return np.flatnonzero(_row_hash(columns) % np.uint64(n // size) == 0)


def _row_hash(columns: Sequence[FloatArray]) -> npt.NDArray[np.uint64]:
    """Return a 64-bit hash of each row's float bits (0.0 and -0.0 alike)."""
    h = np.zeros(len(columns[0]), dtype=np.uint64)
    for col in columns:
        h ^= np.ascontiguousarray(col + 0.0, dtype=np.float64).view(np.uint64)
        # splitmix64's finaliser: every input bit moves every output bit.
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return h
