"""The hierarchical quota plan: company -> region -> person -> period, reconciled exactly.

``build_plan`` apportions a company total over regions, people and periods so that every
level adds up to the level above it to the cent; ``QuotaPlan`` holds the result, and
``plan_pivot`` shows any long plan table as rows x periods with exact margins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

import crmcore._frames as fr
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.errors import ConfigError, DataError
from crmcore.money import from_minor_units, sum_minor_units
from crmcore.quota._apportion import apportion, canonical_method
from crmcore.quota._distribution import Distribution, period_shares
from crmcore.quota._keys import key_order
from crmcore.quota._rounding import drop_ramped, proportional_cells, redistribute, round_residual
from crmcore.quota.seasonality import DEFAULT_RAMP, ramp_factors

__all__ = ["QuotaPlan", "build_plan", "plan_pivot"]


def _whole_cents(table: pd.DataFrame, values: str) -> npt.NDArray[np.int64]:
    """Return the ``values`` column as int64 minor units (whole floats accepted), checked."""
    if pd.api.types.is_integer_dtype(table[values].dtype):
        return table[values].to_numpy(dtype=np.int64)
    cells = fr.numeric_column(table, values, arg="table")  # text, inf: an error
    pos = fr.first_true((cells != np.round(cells)) | (np.abs(cells) >= 2.0**63))
    if pos is not None:
        raise DataError(
            f"{values} of table is {fr.show(cells[pos])} at {fr.describe_row(table, pos, None)}; "
            "expected whole minor units",
            column=values,
            row=table.index[pos],
            value=cells[pos],
        )
    return cells.astype(np.int64)


def _sorted_keys(table: pd.DataFrame, keys: list[str]) -> tuple[pd.Index, pd.Index]:
    """Return each row's key (one column or several) and the distinct keys, sorted."""
    row_keys = pd.Index(table[keys[0]]) if len(keys) == 1 else pd.MultiIndex.from_frame(table[keys])
    try:
        return row_keys, row_keys.unique().sort_values()
    except TypeError:
        raise DataError(
            f"column(s) {keys} of table mix values that cannot be sorted (e.g. numbers and text)",
            column=keys[0],
        ) from None


def plan_pivot(
    table: pd.DataFrame,
    *,
    rows: str | Sequence[str] = "person",
    columns: str = "month",
    values: str = "quota_cents",
    margins: bool = True,
) -> pd.DataFrame:
    """Pivot a long plan table (e.g. ``QuotaPlan.table``) to rows x months, with exact totals.

    Cells, row totals, column totals and the grand total are exact integer sums
    (:func:`crmcore.money.sum_minor_units`): a sum that would pass ``2**63`` is an error,
    never a wrapped negative number.

    Parameters
    ----------
    table
        Long frame with the ``rows``, ``columns`` and ``values`` columns.
    rows, columns, values
        Column names; ``rows`` may also be a list (e.g. ``["region", "person"]``).
    margins
        Add a ``total`` column and a ``total`` row (int64 sums).

    Returns
    -------
    pandas.DataFrame
        int64 sums, rows sorted by key; the columns keep the order in which the periods first
        appear.

    Raises
    ------
    SchemaError
        A column is missing or the table is empty.
    ColumnTypeError
        Values that are text.
    DataError
        A missing key, period or value, a fractional value (naming the row), or a sum beyond
        the 64-bit range.

    Examples
    --------
    >>> t = pd.DataFrame({"person": ["a", "a", "b", "b"], "month": [1, 2, 1, 2],
    ...                   "quota_cents": [1, 2, 3, 4]})
    >>> plan_pivot(t)
    month   1  2  total
    person
    a       1  2      3
    b       3  4      7
    total   4  6     10
    """
    keys = [rows] if isinstance(rows, str) else list(rows)
    table = fr.require_columns(table, [*keys, columns, values], arg="table")
    for col in (*keys, columns, values):  # a pivot would drop such rows silently
        fr.require_not_null(table, col, arg="table")
    for col in (*keys, columns):  # 1 and "1" would be two rows (or columns) of one person
        fr.require_one_id_type(table, col, arg="table")
    cents = _whole_cents(table, values)
    row_keys, row_index = _sorted_keys(table, keys)
    col_index = pd.Index(pd.unique(table[columns]), name=columns)
    n_rows, n_cols = len(row_index), len(col_index)
    cell_code = row_index.get_indexer(row_keys) * n_cols + col_index.get_indexer(
        pd.Index(table[columns])
    )
    cells = sum_minor_units(cents, cell_code, n_rows * n_cols, name=values)
    wide = pd.DataFrame(cells.reshape(n_rows, n_cols), index=row_index, columns=col_index)
    if not margins:
        return wide
    row_code = np.repeat(np.arange(n_rows), n_cols)
    col_code = np.tile(np.arange(n_cols), n_rows)
    wide["total"] = sum_minor_units(cells, row_code, n_rows, name=values)
    col_totals = sum_minor_units(cells, col_code, n_cols, name=values)
    grand = sum_minor_units(col_totals, name=values)
    label: Any = "total" if len(keys) == 1 else tuple(["total"] * len(keys))
    index = (
        pd.Index([label], name=keys[0])
        if len(keys) == 1
        else pd.MultiIndex.from_tuples([label], names=keys)
    )
    row = pd.DataFrame([np.r_[col_totals, grand]], index=index, columns=wide.columns)
    return pd.concat([wide, row.astype(np.int64)])


@attrs.frozen(kw_only=True, eq=False)
class QuotaPlan:
    """A company → region → person → month quota plan in exact minor units.

    Attributes
    ----------
    table
        Long frame with columns ``region``, ``person``, ``month`` (named as in the input) and
        ``quota_cents`` (int64), sorted by region, person and month order.
    total
        Company total in minor units (after ramp: dropped quota is excluded).
    requested
        The total asked for; ``requested - total`` was dropped by ramp factors.
    region, person
        The column names used for regions and people.
    decimals
        Digits of the currency's minor unit (2: cents), used by :meth:`to_amounts`.

    Examples
    --------
    >>> people = pd.DataFrame({"region": ["N", "N", "S"], "person": ["a", "b", "c"],
    ...                        "weight": [2.0, 1.0, 1.0]})
    >>> plan = build_plan(people, 1_200_00, distribution=[25, 25, 25, 25])
    >>> plan.by("region").tolist()
    [90000, 30000]
    >>> plan.check()
    True
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    table: pd.DataFrame
    total: int
    requested: int
    region: str = "region"
    person: str = "person"
    decimals: int = 2

    def by(self, level: str) -> pd.Series:
        """Total quota per region, person or month (int64, summing to :attr:`total`).

        Examples
        --------
        >>> people = pd.DataFrame({"region": ["N", "S"], "person": ["a", "b"], "weight": [1, 3]})
        >>> build_plan(people, 400, distribution=[50, 50]).by("month").tolist()
        [200, 200]
        """
        names = {"region": self.region, "person": self.person, "month": "month"}
        fr.check_choice(level, "level", tuple(names))
        col = names[level]
        keys = self.table[col]
        found = pd.Index(pd.unique(keys))
        labels = found if level == "month" else found.sort_values()
        sums = sum_minor_units(
            self.table["quota_cents"].to_numpy(dtype=np.int64),
            labels.get_indexer(pd.Index(keys)),
            len(labels),
            name="quota_cents",
        )
        return pd.Series(sums, index=labels.rename(col), name="quota_cents")

    def pivot(self, rows: str = "person", *, margins: bool = True) -> pd.DataFrame:
        """Pivot to ``rows`` (``"person"``, ``"region"`` or both) x months; see :func:`plan_pivot`.

        Examples
        --------
        >>> people = pd.DataFrame({"region": ["N", "S"], "person": ["a", "b"], "weight": [1, 3]})
        >>> build_plan(people, 400, distribution=[50, 50]).pivot("region")
        month     1    2  total
        region
        N        50   50    100
        S       150  150    300
        total   200  200    400
        """
        names = {"region": self.region, "person": self.person}
        fr.check_choice(rows, "rows", ("person", "region", "region_person"))
        keys: Any = [self.region, self.person] if rows == "region_person" else names[rows]
        return plan_pivot(self.table, rows=keys, margins=margins)

    def check(self) -> bool:
        """Verify that every level reconciles exactly; return ``True`` or raise.

        Raises
        ------
        DataError
            A level does not add up (never expected; a guard for edited tables).

        Examples
        --------
        >>> people = pd.DataFrame({"region": ["N"], "person": ["a"], "weight": [1]})
        >>> build_plan(people, 7, distribution=[50, 50]).check()
        True
        """
        grand = int(sum_minor_units(self.table["quota_cents"].to_numpy(dtype=np.int64))[0])
        for level in ("region", "person", "month"):
            if int(sum_minor_units(self.by(level).to_numpy())[0]) != self.total:
                raise DataError(f"plan level {level!r} does not add up to total {self.total}")
        if grand != self.total:
            raise DataError(f"plan cells sum to {grand}, not total {self.total}")
        return True

    def to_amounts(self) -> pd.DataFrame:
        """Return the table with ``quota`` as decimal amounts instead of ``quota_cents``.

        Examples
        --------
        >>> people = pd.DataFrame({"region": ["N"], "person": ["a"], "weight": [1]})
        >>> build_plan(people, 1001, distribution=[50, 50]).to_amounts()["quota"].tolist()
        [5.01, 5.0]
        """
        out = self.table.drop(columns="quota_cents")
        out["quota"] = from_minor_units(self.table["quota_cents"], self.decimals)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return a plain-data dict (the table as a list of records) for :meth:`from_dict`.

        Examples
        --------
        >>> people = pd.DataFrame({"region": ["N"], "person": ["a"], "weight": [1]})
        >>> plan = build_plan(people, 10, distribution=[50, 50])
        >>> QuotaPlan.from_dict(plan.to_dict()).table.equals(plan.table)
        True
        """
        return {
            "table": self.table.to_dict(orient="list"),
            "columns": list(self.table.columns),
            "dtypes": {str(c): str(t) for c, t in self.table.dtypes.items()},
            "total": self.total,
            "requested": self.requested,
            "region": self.region,
            "person": self.person,
            "decimals": self.decimals,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuotaPlan:
        """Rebuild a plan from :meth:`to_dict` output.

        Examples
        --------
        >>> QuotaPlan.from_dict({"table": {"region": [], "person": [], "month": [],
        ...     "quota_cents": []}, "columns": ["region", "person", "month", "quota_cents"],
        ...     "total": 0, "requested": 0}).total
        0
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"QuotaPlan.from_dict needs a mapping, got {type(data).__name__}")
        required = ["table", "columns", "total", "requested"]
        allowed = {*required, "dtypes", "region", "person", "decimals"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(f"unknown QuotaPlan field(s) {unknown}; expected {sorted(allowed)}")
        missing = [name for name in required if name not in data]
        if missing:
            raise ConfigError(
                f"QuotaPlan field(s) {missing} missing; required: {required}", column=missing[0]
            )
        try:  # plain data of the wrong shape or type: name the field, not a pandas error
            field = "table"
            table = pd.DataFrame(data["table"], columns=list(data["columns"]))
            field = "dtypes"
            for col, dtype in dict(data.get("dtypes", {})).items():
                table[col] = table[col].astype(dtype)
            field = "table"
            table["quota_cents"] = table["quota_cents"].astype(np.int64)
            field = "total, requested or decimals"
            numbers = [int(data["total"]), int(data["requested"]), int(data.get("decimals", 2))]
        except (TypeError, ValueError, KeyError) as exc:
            raise ConfigError(f"QuotaPlan.from_dict: bad {field}: {exc}", column=field) from exc
        return cls(
            table=table,
            total=numbers[0],
            requested=numbers[1],
            region=str(data.get("region", "region")),
            person=str(data.get("person", "person")),
            decimals=numbers[2],
        )


def build_plan(
    people: pd.DataFrame,
    total: int,
    *,
    distribution: Distribution | None = None,
    periods: Sequence[Any] | pd.PeriodIndex | None = None,
    region: str = "region",
    person: str = "person",
    weight: str = "weight",
    start: str | None = None,
    ramp: Sequence[float] = DEFAULT_RAMP,
    ramp_excess: Literal["redistribute", "drop"] = "redistribute",
    method: str = "hamilton",
    decimals: int = 2,
) -> QuotaPlan:
    """Build a company → region → person → month plan whose every level reconciles exactly.

    1. The company ``total`` is apportioned over regions by the sum of their people's weights;
    2. each region's total over its people by weight (``method`` at both levels);
    3. the person x period matrix by *controlled rounding* (Bacharach 1966; Cox & Ernst 1982):
       each person's periods add up to their year, each period's company total is exactly
       ``seasonal_split(total, distribution)``, and every cell is the floor or ceiling of
       ``year * share`` (vectorised over people; see ``docs/quotas.md``);
    4. with ``start`` dates, each person-period is scaled by its ramp factor
       (:func:`ramp_factors`; a quarter's factor is the mean of its months' factors).
       ``ramp_excess="redistribute"`` (default) gives the ramped-away quota of each
       region-month to the people of the same region and month in proportion to their
       ramped quotas, so region, region-month and company month totals
       stay as asked (each region's block is rounded with the region-month totals and the
       largest remainder split of the region over the exact ramped years as margins);
       ``"drop"`` removes it, so the plan total is lower (:attr:`QuotaPlan.requested` keeps the
       asked total; the ramped cells are rounded with the rounded exact total, years and
       months as margins).

    Parameters
    ----------
    people
        One row per person with ``region``, ``person``, ``weight`` (and ``start`` if ramping).
    total
        Company total in minor units (non-negative integer).
    distribution
        Share per period: percentages summing to 100, or fractions summing to 1 such as
        ``crmcore.forecast.seasonal_weights`` (see :func:`seasonal_split`); default equal
        periods. A Series/mapping gives the period labels unless ``periods`` does.
    periods
        Period labels (e.g. ``pd.period_range("2025-01", periods=12, freq="M")``); default
        the distribution's labels, or ``1 .. 12``. With ``start``, they must say months,
        quarters or years (see :func:`ramp_factors`).
    region, person, weight, start
        Column names (``start=None``: no ramp).
    ramp, ramp_excess
        Ramp factors by month of tenure and what happens to the quota they remove.
    method
        Apportionment method for the region and person levels.
    decimals
        Minor-unit digits of the currency (for :meth:`QuotaPlan.to_amounts`).

    Returns
    -------
    QuotaPlan
        ``table`` columns: ``region``, ``person`` (input names), ``month``, ``quota_cents``.

    Raises
    ------
    SchemaError, DataError
        Missing columns, duplicated people, NaN/negative weights, bad start dates.
    ConfigError
        Bad distribution or ramp, all-zero weights, a region-month with quota but nobody ramped
        in to carry it (``redistribute``), unknown method.

    Examples
    --------
    >>> people = pd.DataFrame({"region": ["N", "N", "S"], "person": ["a", "b", "c"],
    ...                        "weight": [2, 1, 1]})
    >>> plan = build_plan(people, 1000, distribution={"H1": 40, "H2": 60})
    >>> plan.table
      region person month  quota_cents
    0      N      a    H1          200
    1      N      a    H2          300
    2      N      b    H1          100
    3      N      b    H2          150
    4      S      c    H1          100
    5      S      c    H2          150
    """
    columns = [region, person, weight] + ([start] if start else [])
    people = fr.require_columns(people, columns, arg="people")
    fr.require_not_null(people, person, arg="people", key=person)
    fr.require_not_null(people, region, arg="people", key=person)
    fr.require_unique(people, person, arg="people")
    fr.check_choice(ramp_excess, "ramp_excess", ("redistribute", "drop"))
    fr.check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    fr.check_scalar(total, "total", kind=int, min_value=0)
    method = canonical_method(method)
    labels, shares = _plan_periods(distribution, periods)
    order = key_order(people, [region, person], arg="people")
    ppl = people.iloc[order]  # (region, person) order
    w = fr.numeric_column(ppl, weight, arg="people", key=person, allow_negative=False)
    if not (w > 0).any():
        raise ConfigError(f"column {weight!r} of people is all zero", column=weight)
    regions, codes = np.unique(ppl[region].to_numpy(), return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    years = _person_years(total, w, codes, regions.size, method)
    # Person x period by controlled rounding: rows add up to each person's year, columns to the
    # company's seasonal split of the total, every cell is the floor or ceiling of its share.
    base, frac, has_frac = proportional_cells(years, shares)
    cells = round_residual(base, frac, has_frac, years, apportion(total, shares)).reshape(-1)
    plan_total = total
    if start is not None:
        factors = ramp_factors(ppl, labels, person=person, start=start, ramp=ramp)
        f = factors.reindex(ppl[person].to_numpy()).to_numpy(dtype=np.float64).reshape(-1)
        if ramp_excess == "drop":
            cells = drop_ramped(cells, f, len(labels))
            plan_total = int(sum_minor_units(cells)[0])
        else:
            cells = _redistribute_ramped(cells, f, codes, regions, labels)
    return QuotaPlan(
        table=_plan_table(ppl, people, cells, labels, region=region, person=person),
        total=plan_total,
        requested=total,
        region=region,
        person=person,
        decimals=decimals,
    )


def _plan_periods(
    distribution: Distribution | None, periods: Sequence[Any] | pd.PeriodIndex | None
) -> tuple[list[Any], npt.NDArray[np.float64]]:
    """Return the period labels and their shares (equal when no distribution is given)."""
    if distribution is None:
        labels = list(periods) if periods is not None else list(range(1, 13))
        if len(labels) == 0:
            raise ConfigError("periods is empty; expected at least one period", column="periods")
        return labels, np.full(len(labels), 100.0 / len(labels))
    shares = period_shares(distribution)
    if periods is not None:
        labels = list(periods)
        if len(labels) != len(shares):
            raise ConfigError(
                f"periods has {len(labels)} labels but distribution {len(shares)} shares",
                column="periods",
            )
    elif isinstance(distribution, pd.Series | Mapping):
        labels = list(shares.index)
    else:
        labels = list(range(1, len(shares) + 1))
    return labels, shares.to_numpy(dtype=np.float64)


def _person_years(
    total: int,
    w: npt.NDArray[np.float64],
    codes: npt.NDArray[np.int64],
    n_regions: int,
    method: str,
) -> npt.NDArray[np.int64]:
    """Split the company total over regions (by their people's weights), then over people."""
    region_w = np.bincount(codes, weights=w, minlength=n_regions)
    region_total = apportion(total, region_w, method)
    years = np.zeros(w.size, dtype=np.int64)
    for r in range(n_regions):  # a handful of regions; each split is vectorised
        members = np.flatnonzero(codes == r)
        if region_total[r] == 0 or not (w[members] > 0).any():
            continue
        years[members] = apportion(int(region_total[r]), w[members], method)
    return years


def _redistribute_ramped(
    cells: npt.NDArray[np.int64],
    f: npt.NDArray[np.float64],
    codes: npt.NDArray[np.int64],
    regions: npt.NDArray[Any],
    labels: list[Any],
) -> npt.NDArray[np.int64]:
    """Give the quota ramped away in each region-period to that region-period's people."""
    n_months = len(labels)
    rows = np.repeat(np.arange(codes.size), n_months)
    group = codes[rows] * n_months + np.tile(np.arange(n_months), codes.size)
    n_groups = regions.size * n_months
    group_total = sum_minor_units(cells, group, n_groups, name="quota_cents")
    capacity = np.bincount(group, weights=cells * f, minlength=n_groups)
    bad = fr.first_true((group_total > 0) & (capacity <= 0))
    if bad is not None:
        raise ConfigError(
            f"region {regions[bad // n_months]!r} has quota in period "
            f"{labels[bad % n_months]!r} but nobody ramped in to carry it; use "
            "ramp_excess='drop' or a later start of the plan",
            column="ramp_excess",
        )
    return redistribute(
        cells, f, group_total=group_total, group=group, codes=codes, n_months=n_months
    )


def _plan_table(
    ppl: pd.DataFrame,
    people: pd.DataFrame,
    cells: npt.NDArray[np.int64],
    labels: list[Any],
    *,
    region: str,
    person: str,
) -> pd.DataFrame:
    """Return the long plan table: a row per person and period, (region, person) order."""
    n_months = len(labels)
    rows = np.repeat(np.arange(len(ppl)), n_months)
    month_labels = pd.Index([str(x) if isinstance(x, pd.Period) else x for x in labels])
    table = pd.DataFrame(
        {
            region: ppl[region].iloc[rows].to_numpy(),
            person: ppl[person].iloc[rows].to_numpy(),
            "month": month_labels.take(np.tile(np.arange(n_months), len(ppl))).to_numpy(),
            "quota_cents": cells.astype(np.int64),
        }
    )
    for col in (region, person):
        table[col] = table[col].astype(people[col].dtype)
    return table
