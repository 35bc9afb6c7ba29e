"""Customer grades A/B/C: A high value, B potential, C low value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

import crmcore._frames as fr
from crmcore._config import check_config_keys
from crmcore._dask import is_dask
from crmcore._memory import normal_pages
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.errors import ConfigError, DataError, InputTypeError, SchemaError
from crmcore.segmentation._classes import class_codes

__all__ = ["GradeRules", "customer_grades", "grade_inputs", "grade_summary"]

_VALUE_METHODS = ("abc", "quantile", "threshold")
_POTENTIAL_METHODS = ("quantile", "threshold")
_REASONS = pd.Index(
    [
        "high value",
        "high potential",
        "low value and potential",
        "both signals missing",
        "value missing, low potential",
        "low value, potential missing",
    ],
    dtype=object,
)


def _as_labels(value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ConfigError("labels must be a sequence of three labels, not a single string")
    if not isinstance(value, Iterable):
        raise ConfigError(f"labels must be a sequence of three labels, got {value!r}", value=value)
    return tuple(value)


def _check_cutoff(
    value: float, name: str, method: str, *, threshold_min: float | None = None
) -> None:
    """Check a cutoff for its method.

    A share in (0, 1] for abc, a quantile in (0, 1), else a finite threshold (>=
    ``threshold_min`` when given).
    """
    if method == "threshold":
        fr.check_scalar(value, name, kind=float, min_value=threshold_min)
        if not np.isfinite(float(value)):
            raise ConfigError(f"{name} must be finite", column=name)
    else:
        include: Literal["right", "neither"] = "right" if method == "abc" else "neither"
        fr.check_scalar(value, name, kind=float, min_value=0.0, max_value=1.0, include=include)


@attrs.frozen(kw_only=True)
class GradeRules:
    """Rules that grade customers A (high value), B (potential) or C (low value).

    A customer is **A** when their value signal is high, else **B** when their potential
    signal is high, else **C**. "High" is decided as follows.

    Value (``value_method``, ``value_cutoff``):

    - ``"abc"`` (default, cutoff 0.8): the customer is in the top set holding ``value_cutoff`` of
      the total value — ABC class A by :func:`~crmcore.segmentation.abc_classes` (the customer
      whose cumulative share crosses the cutoff is included; ties share a class).
    - ``"quantile"``: value strictly above the ``value_cutoff`` quantile of all values (linear
      interpolation, ``numpy.quantile``'s default), cutoff in (0, 1). Strictly, so that a value
      most customers share never counts as high.
    - ``"threshold"``: value >= ``value_cutoff`` (an absolute amount).

    In every method a value of 0 is never high (a customer who spent nothing is not A).

    Potential (``potential_method``, ``potential_cutoff``):

    - ``"quantile"`` (default, cutoff 0.75): potential strictly above the 75th percentile of
      all potentials (so when most customers share one potential, e.g. 0, they are not high).
    - ``"threshold"``: potential >= ``potential_cutoff``.

    Parameters
    ----------
    value_method, value_cutoff
        How high value is decided (see above). Default ``"abc"`` with 0.8.
    potential_method, potential_cutoff
        How high potential is decided (see above). Default ``"quantile"`` with 0.75.
    missing
        ``"error"`` (default): a NaN signal is a :class:`~crmcore.errors.DataError` naming the
        row. ``"low"``: a NaN signal counts as not high (quantiles and ABC shares use the known
        values only), and the ``reason`` column says which signal was missing.
    labels
        The three grade labels, best first; default ``("A", "B", "C")``.

    Raises
    ------
    ConfigError
        Unknown method, a cutoff out of range for its method, or bad labels.

    Examples
    --------
    >>> from crmcore.segmentation import GradeRules
    >>> GradeRules().value_method, GradeRules().potential_cutoff
    ('abc', 0.75)
    >>> GradeRules(value_method="quantile", value_cutoff=1.5)
    Traceback (most recent call last):
    ...
    crmcore.errors.ConfigError: value_cutoff == 1.5, must be < 1.0
    >>> GradeRules.from_dict(GradeRules().to_dict()) == GradeRules()
    True
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    value_method: Literal["abc", "quantile", "threshold"] = "abc"
    value_cutoff: float = 0.8
    potential_method: Literal["quantile", "threshold"] = "quantile"
    potential_cutoff: float = 0.75
    missing: Literal["error", "low"] = "error"
    labels: tuple[str, ...] = attrs.field(default=("A", "B", "C"), converter=_as_labels)

    def __attrs_post_init__(self) -> None:
        fr.check_choice(self.value_method, "value_method", _VALUE_METHODS)
        fr.check_choice(self.potential_method, "potential_method", _POTENTIAL_METHODS)
        fr.check_choice(self.missing, "missing", ("error", "low"))
        _check_cutoff(self.value_cutoff, "value_cutoff", self.value_method, threshold_min=0.0)
        _check_cutoff(self.potential_cutoff, "potential_cutoff", self.potential_method)
        if len(self.labels) != 3:
            raise ConfigError(
                f"labels must hold three grade labels, got {list(self.labels)}", column="labels"
            )
        for i, lab in enumerate(self.labels):
            if not isinstance(lab, str) or not lab or lab in self.labels[:i]:
                raise ConfigError(
                    f"labels must be three distinct non-empty texts, got {list(self.labels)}",
                    column="labels",
                    value=lab,
                )

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form that :meth:`from_dict` reads back.

        Examples
        --------
        >>> from crmcore.segmentation import GradeRules
        >>> GradeRules().to_dict()["labels"]
        ['A', 'B', 'C']
        """
        data = attrs.asdict(self)
        data["labels"] = list(self.labels)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GradeRules:
        """Rebuild rules from :meth:`to_dict` output; unknown keys are an error.

        Examples
        --------
        >>> from crmcore.segmentation import GradeRules
        >>> GradeRules.from_dict({"potential_method": "threshold", "potential_cutoff": 100})
        GradeRules(value_method='abc', value_cutoff=0.8, potential_method='threshold', \
potential_cutoff=100, missing='error', labels=('A', 'B', 'C'))
        """
        return cls(**check_config_keys(cls, data, required=()))


def _high(
    values: npt.NDArray[np.float64], known: npt.NDArray[np.bool_], method: str, cutoff: float
) -> npt.NDArray[np.bool_]:
    """Which known values count as high under ``method``; unknown values are never high."""
    out = np.zeros(len(values), dtype=bool)
    if not known.any():
        return out
    v = values[known]
    if method == "abc":
        high = class_codes(v, (float(cutoff),), "value") == 0
    elif method == "quantile":
        scale = fr.quantile_scale(v.min(), v.max())  # finite even for a spread past 1.8e308
        high = v > np.quantile(v * scale, float(cutoff)) / scale
    else:
        high = v >= float(cutoff)
    out[known] = high
    return out


@normal_pages
def customer_grades(
    frame: pd.DataFrame,
    rules: GradeRules | None = None,
    *,
    value: str = "monetary",
    potential: str = "potential",
) -> pd.DataFrame:
    """Grade every customer exactly once: A high value, B potential, C low value.

    The grade is A if the value signal is high, else B if the potential signal is high, else C
    (see :class:`GradeRules` for what "high" means and the defaults: A = the customers holding
    80 % of value, Pareto style; B = potential in the top quartile). Vectorised.

    Parameters
    ----------
    frame
        One row per customer, indexed by customer (e.g. an RFM summary with a potential column
        added), holding the two signal columns.
    rules
        Grading rules; default ``GradeRules()``.
    value
        Column with the value signal (e.g. total spend): finite and >= 0.
    potential
        Column with the potential signal (e.g. predicted future spend or wallet size): finite;
        negative numbers are allowed (e.g. z-scores).

    Returns
    -------
    DataFrame
        Same index and row order as ``frame``, columns ``value`` and ``potential`` (float64,
        the signals used), ``high_value`` and ``high_potential`` (bool, the two tests),
        ``grade`` (categorical with the three labels, best first) and ``reason``
        (categorical text: ``"high value"``, ``"high potential"``, ``"low value and
        potential"``, or with ``missing="low"`` a note naming the missing signal).

    Raises
    ------
    SchemaError
        A column is missing or the frame is empty.
    ColumnTypeError
        A signal column is not numeric.
    DataError
        A duplicated index label; NaN (with ``missing="error"``), infinite or, for ``value``,
        negative signals — naming the row and value.

    Notes
    -----
    Dask: ``frame`` may also be a ``dask.dataframe.DataFrame``: the ABC shares and quantiles are
    fitted once over the whole collection, then applied lazily per partition (same index
    and row order). See ``docs/scaling.md``.

    Examples
    --------
    Values 600, 250, 100, 50 (total 1000): cumulative shares 60 %, 85 %, ... so the top two
    customers hold 80 % and are A. The potential 75th percentile of (1, 1, 9, 2) is 3.75:
    customer 3 (potential 9) is B, customer 4 is C.

    >>> import pandas as pd
    >>> from crmcore.segmentation import customer_grades
    >>> f = pd.DataFrame({"monetary": [600.0, 250.0, 100.0, 50.0],
    ...                   "potential": [1.0, 1.0, 9.0, 2.0]},
    ...                  index=pd.Index([1, 2, 3, 4], name="customer_id"))
    >>> customer_grades(f)[["high_value", "high_potential", "grade", "reason"]]
                 high_value  high_potential grade                   reason
    customer_id
    1                  True           False     A               high value
    2                  True           False     A               high value
    3                 False            True     B           high potential
    4                 False           False     C  low value and potential
    """
    if is_dask(frame):
        import crmcore.segmentation._dask as dask_adapter

        return dask_adapter.customer_grades(frame, rules, value=value, potential=potential)
    rules = GradeRules() if rules is None else rules
    if not isinstance(rules, GradeRules):
        raise ConfigError(f"rules must be GradeRules, got {type(rules).__name__}", column="rules")
    frame = fr.require_columns(frame, [value, potential], arg="frame")
    dup = fr.first_true(frame.index.duplicated())
    if dup is not None:
        label = frame.index[dup]
        raise DataError(
            f"frame has duplicate index label {fr.show(label)} at {fr.describe_row(frame, dup)}; "
            "each customer must appear once",
            row=label,
            value=label,
        )
    allow_nan = rules.missing == "low"
    v = fr.numeric_column(
        frame,
        value,
        arg="frame",
        allow_negative=False,
        negative_hint="the value signal must be >= 0",
        allow_nan=allow_nan,
    )
    p = fr.numeric_column(frame, potential, arg="frame", allow_nan=allow_nan)
    v_known = ~np.isnan(v)
    p_known = ~np.isnan(p)
    high_value = _high(v, v_known, rules.value_method, rules.value_cutoff) & (np.nan_to_num(v) > 0)
    high_potential = _high(p, p_known, rules.potential_method, rules.potential_cutoff)
    codes = np.where(high_value, 0, np.where(high_potential, 1, 2)).astype(np.int64)
    reason = np.select(
        [high_value, high_potential, ~v_known & ~p_known, ~v_known, ~p_known],
        [0, 1, 3, 4, 5],
        default=2,
    ).astype(np.int64)
    return pd.DataFrame(
        {
            "value": v,
            "potential": p,
            "high_value": high_value,
            "high_potential": high_potential,
            "grade": pd.Categorical.from_codes(
                codes, categories=pd.Index(list(rules.labels), dtype=object)
            ),
            "reason": pd.Categorical.from_codes(reason, categories=_REASONS),
        },
        index=frame.index.copy(),
    )


def grade_inputs(value: pd.Series, potential: pd.Series | None = None) -> pd.DataFrame:
    """Join a value and a potential per customer into the frame :func:`customer_grades` reads.

    Every customer of either series gets one row. A customer known only from ``potential`` has
    bought nothing: value 0, graded all the same (B when the potential is high), never
    dropped. A customer known only from ``value`` has no potential (NaN: ``GradeRules.missing``
    decides). Without ``potential`` every customer's potential is 0, so nobody is B.

    Parameters
    ----------
    value
        The value signal per customer (e.g. ``rfm_summary(...)["monetary"]``), indexed by
        customer, each customer once.
    potential
        The potential signal per customer, indexed by customer, each customer once; default
        none (0 for everybody).

    Returns
    -------
    DataFrame
        Indexed by every customer of either series, sorted (index named like ``value``'s),
        columns ``value`` and ``potential``.

    Raises
    ------
    InputTypeError
        ``value`` or ``potential`` is not a Series.
    ColumnTypeError
        Values that are not numbers (text, booleans), naming the customer.
    DataError
        A customer appears twice in one series (names the customer), an infinite value, or
        the two series indexed by a different number of levels.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import customer_grades, grade_inputs
    >>> spend = pd.Series([600.0, 250.0], index=pd.Index([1, 2], name="customer_id"))
    >>> wallet = pd.Series([1.0, 9.0], index=[2, 3])
    >>> grade_inputs(spend, wallet)
                 value  potential
    customer_id
    1            600.0        NaN
    2            250.0        1.0
    3              0.0        9.0
    >>> grade_inputs(spend)["potential"].tolist()
    [0.0, 0.0]
    """
    value = _check_customers(value, "value")
    if potential is None:
        potential = pd.Series(0.0, index=value.index)
    potential = _check_customers(potential, "potential")
    if value.index.nlevels != potential.index.nlevels:
        raise DataError(
            f"value is indexed by {value.index.nlevels} level(s) and potential by "
            f"{potential.index.nlevels}; index both by customer",
            column="potential",
        )
    index = value.index.union(potential.index).sort_values()
    index.name = value.index.name
    return pd.DataFrame(
        {"value": value.reindex(index, fill_value=0.0), "potential": potential.reindex(index)},
        index=index,
    )


def _check_customers(series: object, arg: str) -> pd.Series:
    """``series`` as float64 (NaN kept: GradeRules.missing decides), each customer once."""
    if not isinstance(series, pd.Series):
        raise InputTypeError(f"{arg} must be a pandas Series, got {type(series).__name__}")
    dup = fr.first_true(series.index.duplicated())
    if dup is not None:
        label = series.index[dup]
        raise DataError(
            f"{arg} has customer {fr.show(label)} twice; expected one {arg} per customer",
            row=label,
            value=label,
        )
    # numbers only: text, booleans and infinities name their customer; NaN is a missing signal
    values = fr.numeric_column(series.to_frame(name=arg), arg, arg="the Series", allow_nan=True)
    return pd.Series(values, index=series.index, name=series.name)


def grade_summary(grades: pd.DataFrame) -> pd.DataFrame:
    """Count customers and add up their value per grade of :func:`customer_grades` output.

    Parameters
    ----------
    grades
        The frame :func:`customer_grades` returned (columns ``grade`` and ``value``).

    Returns
    -------
    DataFrame
        Indexed by grade (named ``grade``; every label of a categorical, best first, empty
        grades included), columns ``customers`` (int) and ``value`` (the summed value
        signal; missing values count as 0).

    Raises
    ------
    InputTypeError
        ``grades`` is not a DataFrame.
    SchemaError
        A column is missing or ``grades`` is empty.
    DataError
        A missing grade, or an infinite value.
    ColumnTypeError
        Values that are not numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import customer_grades, grade_summary
    >>> f = pd.DataFrame({"monetary": [600.0, 250.0, 100.0, 50.0],
    ...                   "potential": [1.0, 1.0, 9.0, 2.0]})
    >>> grade_summary(customer_grades(f))
           customers  value
    grade
    A              2  850.0
    B              1  100.0
    C              1   50.0
    """
    grades = fr.require_frame(grades, arg="grades")
    grades = fr.require_columns(grades, ["grade", "value"], arg="grades")
    if len(grades) == 0:
        raise SchemaError("grades is empty; expected at least one customer", column="grade")
    fr.require_not_null(grades, "grade", arg="grades")
    values = fr.numeric_column(grades, "value", arg="grades", allow_nan=True)
    groups = pd.Series(values, index=grades.index).groupby(
        grades["grade"].array, observed=False, sort=True
    )
    with np.errstate(over="ignore", invalid="ignore"):  # past the largest float: just below
        sums = groups.sum()
    out = pd.DataFrame({"customers": groups.size().astype(np.int64), "value": sums})
    out["value"] = fr.checked_totals(
        sums.to_numpy(dtype=np.float64),
        values,
        lambda: out.index.get_indexer(pd.Index(grades["grade"].array)),
        grades,
        "value",
        arg="grades",
    )
    out.index.name = "grade"
    return out
