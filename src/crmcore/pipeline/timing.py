"""When pipeline money lands: a landing date per deal and expected revenue per period.

A deal lands on its own close date when it has one, else ``as_of`` plus its stage's expected
days to close. Open deals whose close date lies before ``as_of`` are *overdue*: they are never
dropped silently; by default they land in the ``as_of`` period and are counted in an
``overdue`` column (other policies: exclude them and count them, or raise). With a ``horizon``,
revenue landing after it is reported as ``later``, never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._compat import renamed_parameters
from crmcore._frames import check_choice, first_true
from crmcore._memory import normal_pages
from crmcore._periods import canonical_period
from crmcore._repr import attrs_repr_html
from crmcore.errors import ConfigError, DataError
from crmcore.money import from_minor_units, sum_minor_units
from crmcore.pipeline._dates import US_PER_DAY, check_horizon, from_micros, period_grid
from crmcore.pipeline._deals import Deals, ModelArg, parse_deals, sum_cents
from crmcore.pipeline._landing import Landing, landing_rules, stage_landing
from crmcore.pipeline._output import weighted_frame
from crmcore.pipeline._schedule import Totals, stream_schedule
from crmcore.pipeline.stages import StageModel

__all__ = ["CloseSchedule", "close_schedule", "landing_dates"]

OverduePolicy = Literal["as_of", "exclude", "error"]
_SOURCES = np.asarray(["close_date", "stage", "as_of"], dtype=object)
_CLOSE_DATE, _STAGE, _AS_OF = 0, 1, 2

#: Deals per pass when placing them in periods (temporaries stay cache-sized).
_CHUNK = 1 << 16
#: Up to this many periods, the grid may run to the latest date and be trimmed (one pass).
_FEW_PERIODS = 24
#: The shortest each period can be, in days (a month: 28), and an hour in microseconds.
_SHORTEST_DAYS = {"D": 1, "W": 7, "M": 28, "Q": 89, "Y": 365}
_HOUR_US = 3_600 * 10**6


def _same_frame(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return a.equals(b)


@attrs.frozen(kw_only=True)
class CloseSchedule:
    """Expected revenue per landing period, with everything the schedule left out, counted.

    Returned by :func:`close_schedule`.

    Attributes
    ----------
    table
        Indexed by ``period`` (period starts, consecutive from the period holding ``as_of``),
        columns ``count`` (scheduled deals, int64), ``amount`` (their unweighted amount),
        ``expected_amount`` and ``overdue`` (overdue open deals placed in the period, int64).
    later_count, later_amount, later_expected_amount
        Deals landing after the ``horizon``, their amount and expected amount (zero without
        a horizon): revenue beyond it is reported here, never dropped.
    as_of
        The forecast date, as a Timestamp (in the close dates' time zone).
    period
        The period code (``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``).
    horizon
        Number of periods in ``table`` when one was asked for, else ``None``.
    reporting_currency
        Currency of the amounts when known (the ``reporting_currency`` argument, or the single
        currency of the ``currency`` column), else ``None``.
    overdue
        Open deals whose close date was before ``as_of`` (placed in the ``as_of`` period, or
        excluded with ``overdue="exclude"``).
    excluded_overdue, excluded_won_before, excluded_lost
        Deals left out: overdue ones under ``overdue="exclude"``, won deals booked before the
        ``as_of`` period (history, not forecast), lost deals.
    deals
        Rows in the input; ``table["count"].sum() + later_count`` plus the three excluded
        counts equals it.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import StageModel, close_schedule
    >>> model = StageModel.from_conversion_rates(["bid"], [0.5], [45])
    >>> deals = pd.DataFrame({"opportunity_id": [1, 2, 3], "stage": ["bid", "won", "lost"],
    ...                       "amount": [100.0, 40.0, 70.0]})
    >>> schedule = close_schedule(deals, model, as_of="2025-01-20", horizon=1)
    >>> schedule
    CloseSchedule(as_of=2025-01-20 00:00:00, period='M', horizon=1, reporting_currency=None)
    deals 3: 1 scheduled, 1 later than the horizon, 0 overdue; excluded 0 overdue,
    0 won before the as_of period, 1 lost
    later: amount 100.0, expected_amount 50.0
                count  amount  expected_amount  overdue
    period
    2025-01-01      1    40.0             40.0        0
    >>> schedule.later_expected_amount, schedule.excluded_lost
    (50.0, 1)
    """

    _repr_html_ = attrs_repr_html

    table: pd.DataFrame = attrs.field(eq=attrs.cmp_using(eq=_same_frame), hash=False)
    later_count: int
    later_amount: float
    later_expected_amount: float
    as_of: pd.Timestamp
    period: str
    horizon: int | None
    reporting_currency: Any
    overdue: int
    excluded_overdue: int
    excluded_won_before: int
    excluded_lost: int
    deals: int

    def __repr__(self) -> str:
        lines = [
            (
                f"CloseSchedule(as_of={self.as_of}, period={self.period!r}, "
                f"horizon={self.horizon!r}, reporting_currency={self.reporting_currency!r})"
            ),
            (
                f"deals {self.deals}: {int(self.table['count'].sum())} scheduled, "
                f"{self.later_count} later than the horizon, {self.overdue} overdue; excluded "
                f"{self.excluded_overdue} overdue, {self.excluded_won_before} won before the "
                f"as_of period, {self.excluded_lost} lost"
            ),
            f"later: amount {self.later_amount!r}, expected_amount {self.later_expected_amount!r}",
            repr(self.table),
        ]
        return "\n".join(lines)


@attrs.frozen(kw_only=True, eq=False)
class _Placed:
    """What decides where each deal lands, and whether the schedule counts it.

    ``stage_us`` holds the landing instant per (process, stage code) of a deal without a
    date of its own: the stage rule for open stages, ``as_of`` for won (and lost) deals. A
    handful of values, gathered per deal by :meth:`landing` a chunk at a time, so the
    schedule never holds a full-length landing array or its temporaries.
    """

    deals: Deals
    rules: Landing
    stage_us: npt.NDArray[np.int64]
    scheduled: npt.NDArray[np.bool_]

    def landing(self, lo: int = 0, hi: int | None = None) -> npt.NDArray[np.int64]:
        """Landing instants (microseconds) of the deals at positions ``lo`` .. ``hi``."""
        rows = slice(lo, hi)
        weights, rules = self.deals.weighted(), self.rules
        codes = weights.codes[rows]
        if len(self.stage_us) == 1:
            by_stage = self.stage_us[0][codes]
        else:
            by_stage = self.stage_us[weights.process[rows], codes]
        landing = np.where(rules.has_own[rows], rules.own_us[rows], by_stage)
        landing[rules.late[rows]] = rules.as_of_us
        return landing

    def source(self) -> npt.NDArray[np.int8]:
        """Return the rule that placed each deal: ``_CLOSE_DATE``, ``_STAGE`` or ``_AS_OF``."""
        rules = self.rules
        source = np.full(len(rules.late), _STAGE, dtype=np.int8)
        source[self.deals.is_won] = _AS_OF
        source[rules.has_own] = _CLOSE_DATE
        source[rules.late] = _AS_OF
        return source


def _stage_table(deals: Deals, rules: Landing) -> npt.NDArray[np.int64]:
    """Landing without an own date, per (process, stage code) in its own model.

    Open stages: ``as_of`` + the stage's time to close; won and lost: ``as_of`` itself.
    """
    width = max(len(m.stages) for m in deals.models) + 2
    table = np.zeros((len(deals.models), width), dtype=np.int64)
    for p, model in enumerate(deals.models):
        k = len(model.stages)
        table[p, :k] = stage_landing(model, np.arange(k, dtype=np.int64), rules.as_of)
        table[p, k : k + 2] = rules.as_of_us
    return table


def _place(
    opportunities: pd.DataFrame,
    model: ModelArg,
    *,
    as_of: object,
    period: str,
    close_date: str | None,
    overdue: str,
    columns: dict[str, Any],
    money: dict[str, Any],
    must_sum: bool,
) -> _Placed:
    check_choice(overdue, "overdue", ("as_of", "exclude", "error"))
    code = canonical_period(period)
    if as_of is None:
        raise ConfigError("as_of is required: the date the schedule starts from", column="as_of")
    deals = parse_deals(
        opportunities, model=model, close_date=close_date, must_sum=must_sum, **columns, **money
    )
    rules = landing_rules(deals, as_of=as_of, period=code, close_date=close_date)
    if overdue == "error":
        pos = first_true(rules.late)
        if pos is not None:
            own = deals.close_date.iloc[pos] if deals.close_date is not None else None
            raise DataError(
                f"column {close_date!r} of opportunities has close date {own} at "
                f"{deals.where(pos)}, before as_of {rules.as_of} although the deal is still "
                "open; update the close date or pass overdue='as_of' or 'exclude'",
                column=close_date,
                row=deals.label(pos),
                value=own,
            )
    scheduled = ~deals.is_lost & ~rules.won_before
    if overdue == "exclude":
        scheduled &= ~rules.late
    return _Placed(
        deals=deals,
        rules=rules,
        stage_us=_stage_table(deals, rules),
        scheduled=scheduled,
    )


@renamed_parameters(freq="period")
def landing_dates(
    opportunities: pd.DataFrame,
    model: ModelArg,
    *,
    as_of: object,
    period: str = "M",
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    amount: str = "amount",
    process: str = "process",
    close_date: str | None = None,
    overdue: OverduePolicy = "as_of",
    currency: str | None = None,
    rates: Mapping[Any, float] | None = None,
    reporting_currency: Any = None,
    decimals: int = 2,
) -> pd.DataFrame:
    """Landing date of each deal and whether :func:`close_schedule` counts it.

    The rules, per deal:

    * open deal with its own close date on or after the ``as_of`` day: that date
      (``source="close_date"``);
    * open deal without a close date: ``as_of`` + the stage's expected days to close
      (``source="stage"``);
    * open deal whose close date is before the ``as_of`` day: *overdue*; with
      ``overdue="as_of"`` it lands on ``as_of`` (``source="as_of"``), with ``"exclude"`` it is
      not scheduled, with ``"error"`` a :class:`~crmcore.errors.DataError` names it;
    * won deal: its close date (``as_of`` when it has none); scheduled only when that falls in
      the ``as_of`` period or later — revenue booked in earlier periods is history, not forecast;
    * lost deal: never scheduled (expected amount 0).

    Parameters
    ----------
    opportunities, model, opportunity, stage, amount, process, currency, rates, \
reporting_currency, decimals
        As in :func:`~crmcore.pipeline.weighted_pipeline`: ``model`` may map sales processes
        to stage models, each deal then landing by its own process's model (in days or
        calendar months, its ``unit``).
    as_of
        The date the forecast is made (date, text or Timestamp; naive or tz-aware like the
        close dates).
    period
        Calendar period of the schedule: ``"D"``, ``"W"`` (weeks from Monday), ``"M"``
        (default), ``"Q"`` or ``"Y"``; pandas aliases (``"MS"``, ``"QS"``, ``"W-MON"``) are
        accepted. It decides which won deals count as history. (Formerly ``freq``; the old
        name still works for one release, with a ``DeprecationWarning``.)
    close_date
        Optional column of each deal's own expected (open) or actual (won) close date; missing
        values fall back to the stage rule. Any datetime unit, dates before 1677 or after 2262
        included.
    overdue
        ``"as_of"`` (default), ``"exclude"`` or ``"error"``, see above.

    Returns
    -------
    pandas.DataFrame
        Indexed by opportunity id (sorted), columns ``stage``, ``process`` (only with a
        mapping of models), ``amount``,
        ``win_probability``, ``expected_amount`` (as in ``weighted_pipeline``; in the
        reporting currency when ``rates`` are given),
        ``landing_date`` (datetime64 in microseconds, in the close dates' time zone),
        ``source`` (``"close_date"``, ``"stage"`` or ``"as_of"``), ``overdue`` (bool) and
        ``scheduled`` (bool).

    Raises
    ------
    DataError
        An overdue open deal with ``overdue="error"``; bad ids, stages, amounts (the message
        names the row label) or dates.
    ConfigError
        Missing ``as_of``, a bad ``period`` or ``overdue``, naive/aware dates mixed.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import StageModel, landing_dates
    >>> model = StageModel.from_conversion_rates(["bid", "negotiation"], [0.8, 0.9], [30, 30])
    >>> deals = pd.DataFrame({"opportunity_id": [1, 2, 3],
    ...                       "stage": ["bid", "negotiation", "negotiation"],
    ...                       "amount": [100.0, 200.0, 50.0],
    ...                       "close_date": [None, "2025-03-15", "2024-12-20"]})
    >>> landing_dates(deals, model, as_of="2025-01-01", close_date="close_date")[
    ...     ["expected_amount", "landing_date", "source", "overdue"]]
                    expected_amount landing_date      source  overdue
    opportunity_id
    1                          72.0   2025-03-02       stage    False
    2                         180.0   2025-03-15  close_date    False
    3                          45.0   2025-01-01       as_of     True
    """
    placed = _place(
        opportunities,
        model,
        as_of=as_of,
        period=period,
        close_date=close_date,
        overdue=overdue,
        columns={
            "opportunity": opportunity,
            "stage": stage,
            "amount": amount,
            "process": process,
        },
        money={
            "currency": currency,
            "rates": rates,
            "reporting_currency": reporting_currency,
            "decimals": decimals,
        },
        must_sum=False,
    )
    deals = placed.deals
    order = deals.rows_by_id()
    weights = deals.weighted()
    columns: dict[str, Any] = {"stage": deals.frame[stage].to_numpy()[order]}
    if not isinstance(model, StageModel):
        columns["process"] = deals.frame[process].to_numpy()[order]
    return weighted_frame(
        columns,
        deals.ids[order].rename(opportunity),
        cents=deals.money.cents[order],
        probability=weights.probability[order],
        expected=weights.expected[order],
        decimals=decimals,
        after={
            "landing_date": from_micros(placed.landing()[order], placed.rules.tz),
            "source": _SOURCES[placed.source()[order]],
            "overdue": placed.rules.late[order],
            "scheduled": placed.scheduled[order],
        },
    )


def _grid(placed: _Placed, period: str, horizon: int | None) -> tuple[pd.DatetimeIndex, bool]:
    """Period starts from the ``as_of`` period: ``horizon`` + 1 of them, or to the last landing.

    Also tells whether the grid ends exactly there (``True``). Without a horizon, when every
    date the deals hold lies within a few periods, the grid runs to the latest of them, so
    the deals are placed in one pass; the caller then drops the empty periods at its end
    (``False``). Otherwise a first pass finds the last landing.
    """
    first = placed.rules.first_start
    if horizon is not None:
        return period_grid(first, period, n=horizon), True
    rules = placed.rules
    first_us = rules.first_us
    own = rules.own_us
    bound = max(rules.as_of_us, int(placed.stage_us.max()), int(own.max()) if len(own) else 0)
    shortest = _SHORTEST_DAYS[period] * US_PER_DAY - _HOUR_US  # a clock change shortens a day
    if (bound - first_us) // shortest + 2 <= _FEW_PERIODS:
        return period_grid(first, period, last=bound), False
    last = first_us
    keep = placed.scheduled
    for lo in range(0, len(keep), _CHUNK):
        kept = placed.landing(lo, lo + _CHUNK)[keep[lo : lo + _CHUNK]]
        if kept.size:
            last = max(last, int(kept.max()))
    return period_grid(first, period, last=last), True


def _chunk_codes(placed: _Placed, edges: npt.NDArray[np.int64], lo: int) -> tuple[Any, Any]:
    """Rows kept among ``lo`` .. ``lo + _CHUNK`` (a slice when all are) and their period codes.

    Codes by binary search on int64 instants (no DatetimeIndex), the last edge being where
    "later than the horizon" begins.
    """
    hi = lo + _CHUNK
    keep = placed.scheduled[lo:hi]
    rows: Any = slice(lo, hi) if keep.all() else lo + np.flatnonzero(keep)
    landing = placed.landing(lo, hi)
    codes = np.searchsorted(edges, landing if isinstance(rows, slice) else landing[keep], "right")
    codes -= 1
    return rows, codes


def _sums(placed: _Placed, grid: pd.DatetimeIndex, labels: list[Any], decimals: int) -> Any:
    """Count, amount, expected amount and overdue deals per period (exact minor units).

    One pass over cache-sized chunks: each chunk's period codes are used at once and dropped.
    Minor units are summed per chunk and the chunk sums summed again, exactly (integer sums do
    not depend on the order); should any sum pass 2**63, the columns are summed whole so the
    error names the period and the true total.
    """
    deals, n = placed.deals, len(labels)
    cents, expected = deals.money.cents, deals.weighted().expected
    count = np.zeros(n, dtype=np.int64)
    overdue = np.zeros(n, dtype=np.int64)
    amounts: list[npt.NDArray[np.int64]] = []
    weighted: list[npt.NDArray[np.int64]] = []
    edges = grid.asi8
    try:
        for lo in range(0, len(placed.scheduled), _CHUNK):
            rows, codes = _chunk_codes(placed, edges, lo)
            count += np.bincount(codes, minlength=n)
            overdue += np.bincount(codes[placed.rules.late[rows]], minlength=n)
            amounts.append(sum_minor_units(cents[rows], codes, n, name="amounts"))
            weighted.append(sum_minor_units(expected[rows], codes, n, name="expected amounts"))
    except DataError:  # a chunk's own sum passed 2**63: sum whole columns to name the period
        amount, expected_total = _whole_sums(placed, edges, n, labels)
    else:
        amount = _add_parts(amounts, n, "amounts", labels)
        expected_total = _add_parts(weighted, n, "expected amounts", labels)
    return {
        "count": count,
        "amount": from_minor_units(amount, decimals),
        "expected_amount": from_minor_units(expected_total, decimals),
        "overdue": overdue,
    }


def _add_parts(
    parts: list[npt.NDArray[np.int64]], n: int, name: str, labels: list[Any]
) -> npt.NDArray[np.int64]:
    """Add per-chunk sums (``n`` each) into per-period totals, exactly and checked."""
    values = np.concatenate([np.zeros(0, dtype=np.int64), *parts])
    groups = np.tile(np.arange(n), len(parts))
    return sum_cents(values, groups, n, name=name, labels=labels)


def _whole_sums(
    placed: _Placed, edges: npt.NDArray[np.int64], n: int, labels: list[Any]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Amount and expected sums of whole columns: the error path, naming the sum passing 2**63."""
    chunks = [_chunk_codes(placed, edges, lo)[1] for lo in range(0, len(placed.scheduled), _CHUNK)]
    codes = np.concatenate([np.zeros(0, dtype=np.int64), *chunks])
    keep = np.flatnonzero(placed.scheduled)
    deals = placed.deals
    amount = sum_cents(deals.money.cents[keep], codes, n, name="amounts", labels=labels)
    expected = deals.weighted().expected[keep]
    return amount, sum_cents(expected, codes, n, name="expected amounts", labels=labels)


def _from_totals(
    totals: Totals,
    *,
    period: str,
    horizon: int | None,
    overdue: str,
    decimals: int,
    reporting_currency: Any,
) -> CloseSchedule:
    """Build the schedule from the streaming path's totals (minor units -> amounts)."""
    shown = len(totals.grid)
    amount = np.asarray(from_minor_units(totals.amount, decimals), dtype=np.float64)
    expected = np.asarray(from_minor_units(totals.expected, decimals), dtype=np.float64)
    table = pd.DataFrame(
        {
            "count": totals.count[:shown],
            "amount": amount[:shown],
            "expected_amount": expected[:shown],
            "overdue": totals.overdue[:shown],
        },
        index=totals.grid,
    )
    return CloseSchedule(
        table=table,
        later_count=int(totals.count[shown]),
        later_amount=float(amount[shown]),
        later_expected_amount=float(expected[shown]),
        as_of=totals.as_of,
        period=period,
        horizon=horizon,
        reporting_currency=reporting_currency,
        overdue=totals.late,
        excluded_overdue=totals.late if overdue == "exclude" else 0,
        excluded_won_before=totals.won_before,
        excluded_lost=totals.lost,
        deals=totals.deals,
    )


@renamed_parameters(freq="period")
@normal_pages
def close_schedule(
    opportunities: pd.DataFrame,
    model: ModelArg,
    *,
    as_of: object,
    period: str = "M",
    horizon: int | None = None,
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    amount: str = "amount",
    process: str = "process",
    close_date: str | None = None,
    overdue: OverduePolicy = "as_of",
    currency: str | None = None,
    rates: Mapping[Any, float] | None = None,
    reporting_currency: Any = None,
    decimals: int = 2,
) -> CloseSchedule:
    """Total expected revenue per period, by the period in which each deal is expected to land.

    Each scheduled deal (see :func:`landing_dates` for the rules: own close date, else
    ``as_of`` + the stage's days to close; overdue open deals land on ``as_of`` by default;
    won deals count when booked in the ``as_of`` period or later; lost deals never) adds its
    ``expected_amount`` (as in :func:`~crmcore.pipeline.weighted_pipeline`) to the period
    holding its landing date. Sums are exact in minor units, so the schedule's total (with
    ``later``) equals the weighted total of the deals it schedules.

    Parameters
    ----------
    opportunities, model, as_of, period, opportunity, stage, amount, process, close_date, \
overdue, decimals
        As in :func:`landing_dates` (``model`` may map sales processes to stage models: the
        schedule is then the sum of the schedules of each process's deals).
    horizon
        Number of periods to show, from the one holding ``as_of``; ``None`` (default): up to
        the last landing. Revenue landing after the horizon is reported in
        ``later_count``, ``later_amount`` and ``later_expected_amount`` of the result, never
        dropped. At most 100 000.
    currency, rates, reporting_currency
        As in :func:`~crmcore.pipeline.pipeline_by_stage`: several currencies need ``rates``.

    Returns
    -------
    CloseSchedule
        ``table`` indexed by ``period`` (period starts, consecutive from the period holding
        ``as_of`` to the last landing or the horizon, empty periods filled with zeros),
        columns ``count`` (scheduled deals, int64), ``amount`` (their unweighted amount),
        ``expected_amount`` and ``overdue`` (overdue open deals placed in the period, int64);
        ``later_count``, ``later_amount`` and ``later_expected_amount`` (beyond the horizon);
        the counts of overdue and excluded deals,
        ``as_of``, ``period`` and ``reporting_currency``.

    Raises
    ------
    CurrencyError
        Several currencies without rates, or a currency missing from ``rates``.
    DataError, ConfigError, SchemaError
        As in :func:`landing_dates`; a bad ``horizon``; a sum of minor units beyond 2**63.

    Examples
    --------
    The worked example: 180 000 lands in each of January, March and May (30, 60, 120 days).

    >>> import pandas as pd
    >>> from crmcore.pipeline import StageModel, close_schedule
    >>> model = StageModel.from_conversion_rates(
    ...     ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [60, 30, 30])
    >>> deals = pd.DataFrame({"opportunity_id": [1, 2, 3],
    ...                       "stage": ["prospect", "bid", "negotiation"],
    ...                       "amount": [500_000, 250_000, 200_000]})
    >>> close_schedule(deals, model, as_of="2025-01-01").table
                count    amount  expected_amount  overdue
    period
    2025-01-01      1  200000.0         180000.0        0
    2025-02-01      0       0.0              0.0        0
    2025-03-01      1  250000.0         180000.0        0
    2025-04-01      0       0.0              0.0        0
    2025-05-01      1  500000.0         180000.0        0

    A quarter's horizon keeps January to March; May's deal is reported as later:

    >>> schedule = close_schedule(deals, model, as_of="2025-01-01", horizon=3)
    >>> schedule.table["expected_amount"].tolist(), schedule.later_expected_amount
    ([180000.0, 0.0, 180000.0], 180000.0)
    """
    code = canonical_period(period)
    horizon = check_horizon(horizon)
    totals = stream_schedule(
        opportunities, model, as_of=as_of, period=code, horizon=horizon, overdue=overdue,
        opportunity=opportunity, stage=stage, amount=amount, close_date=close_date,
        currency=currency, decimals=decimals,
    )  # fmt: skip
    if totals is not None:
        return _from_totals(
            totals, period=code, horizon=horizon, overdue=overdue, decimals=decimals,
            reporting_currency=reporting_currency,
        )  # fmt: skip
    placed = _place(
        opportunities,
        model,
        as_of=as_of,
        period=code,
        close_date=close_date,
        overdue=overdue,
        columns={
            "opportunity": opportunity,
            "stage": stage,
            "amount": amount,
            "process": process,
        },
        money={
            "currency": currency,
            "rates": rates,
            "reporting_currency": reporting_currency,
            "decimals": decimals,
        },
        must_sum=True,
    )
    grid, exact = _grid(placed, code, horizon)
    shown = horizon if horizon is not None else len(grid)
    labels = [*(f"period {p}" for p in grid[:shown]), "later than the horizon"]
    sums = _sums(placed, grid, labels, decimals)
    if not exact:  # up to the period of the last landing (the as_of period at least)
        shown = int(np.flatnonzero(sums["count"][:shown]).max(initial=0)) + 1
    table = pd.DataFrame({k: v[:shown] for k, v in sums.items()}, index=grid[:shown])
    rules, deals = placed.rules, placed.deals
    late = int(rules.late.sum())
    return CloseSchedule(
        table=table,
        later_count=int(sums["count"][shown]),
        later_amount=float(sums["amount"][shown]),
        later_expected_amount=float(sums["expected_amount"][shown]),
        as_of=rules.as_of,
        period=code,
        horizon=horizon,
        reporting_currency=deals.money.reporting,
        overdue=late,
        excluded_overdue=late if overdue == "exclude" else 0,
        excluded_won_before=int(rules.won_before.sum()),
        excluded_lost=int(deals.is_lost.sum()),
        deals=len(deals.ids),
    )
