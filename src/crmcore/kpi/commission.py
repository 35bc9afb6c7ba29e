"""Sales commissions in exact integer minor units: tiers, accelerators, caps and clawbacks.

A :class:`CommissionPlan` turns a person's cumulative sales within a commission period into the
cumulative commission they are owed, ``C(S)``, in whole minor units (cents at two decimals).
Every deal's commission line is the difference ``C(S after the deal) - C(S before it)`` (flat
plans spread the period total over the deals instead), so the lines of a person and period sum
exactly to ``C`` of their period's sales, and the lines of a team sum exactly to the team's
total — no cent is lost or invented by rounding.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._config import as_float, check_config_keys, named_float, named_opt_float
from crmcore._frames import (
    check_choice,
    check_scalar,
    first_true,
    require_columns,
    require_frame,
    show,
)
from crmcore._memory import normal_pages
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.errors import ConfigError, DataError
from crmcore.kpi._commission import (
    SaleColumns,
    Sales,
    check_cumulative,
    group_targets,
    lines_frame,
    read_clawbacks,
    read_sales,
    run_targets,
    sale_columns,
    statement_frame,
)
from crmcore.kpi._daygrid import DayPlan, day_statement
from crmcore.kpi._groups import StatusRule, period_code, status_masks
from crmcore.kpi._renames import renamed_period_parameters
from crmcore.money import split_minor_units

__all__ = ["CommissionPlan", "commission_lines", "commission_statement"]

MODES = ("flat", "marginal", "retroactive")
BASES = ("amount", "attainment")
#: Commission periods: month, quarter or year.
PERIODS = ("M", "Q", "Y")
#: Rates and factors are held as integer parts per million, so commission is exact.
PPM = 1_000_000
_HALF = PPM // 2
#: Cumulative sales above this many minor units could overflow int64 when multiplied by a rate.
MAX_CUMULATIVE = 9_000_000_000_000


def _ppm(value: float, name: str) -> int:
    scaled = value * PPM
    units = round(scaled)
    if abs(scaled - units) > 1e-6:
        raise ConfigError(
            f"{name} == {value!r} has more than 6 decimals; rates and factors are exact to "
            "1e-6 (0.0001 %)",
            column=name,
            value=value,
        )
    return int(units)


def _tiers(value: Any) -> tuple[tuple[float, float], ...]:
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, str):
        raise ConfigError("tiers must be (threshold, rate) pairs, not text", column="tiers")
    else:
        try:
            items = [tuple(p) for p in value]
        except TypeError:
            raise ConfigError(
                f"tiers must be a sequence of (threshold, rate) pairs, got {value!r}",
                column="tiers",
            ) from None
    out: list[tuple[float, float]] = []
    for pair in items:
        if len(pair) != 2:
            raise ConfigError(
                f"each tier must be a (threshold, rate) pair, got {pair!r}",
                column="tiers",
                value=pair,
            )
        try:
            out.append((float(pair[0]), float(pair[1])))
        except (TypeError, ValueError):
            raise ConfigError(
                f"tier {pair!r} must hold two numbers", column="tiers", value=pair
            ) from None
    return tuple(out)


def _opt_pair(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, str) or not hasattr(value, "__len__") or len(value) != 2:
        raise ConfigError(
            f"decelerator must be a (threshold, factor) pair, got {value!r}",
            column="decelerator",
            value=value,
        )
    return (as_float(value[0]), as_float(value[1]))


# attrs converters that name their field in errors (a converter is not told its field)
def _minimum(value: Any) -> float:
    return named_float(value, "minimum")


def _max_rate(value: Any) -> float | None:
    return named_opt_float(value, "max_rate")


def _max_payout(value: Any) -> float | None:
    return named_opt_float(value, "max_payout")


@attrs.frozen(kw_only=True)
class CommissionPlan:
    """A tiered commission plan computed in exact integer minor units.

    Tiers are ``(threshold, rate)`` pairs: the band from a threshold up to the next one pays
    ``rate``. Thresholds are amounts in currency units (``basis="amount"``) or fractions of the
    person's target for the period (``basis="attainment"``: 1.0 = 100 % of target; each
    threshold becomes ``round_half_up(threshold * target)`` minor units). Cumulative sales
    ``S`` restart at zero every commission period. The cumulative commission ``C(S)`` is, by
    ``mode``:

    - ``"marginal"``: each band pays its own slice, ``C = sum_k rate_k * |[t_k, t_k+1) ∩ [0, S)|``.
      With bands 0-150 000 at 4 %, 150 000-250 000 at 6 % and 8 % above, a 20 000 deal closed on
      top of 145 000 pays 5 000 * 4 % + 15 000 * 6 % = 1 100.
    - ``"retroactive"``: ``C = rate(S) * S`` where ``rate(S)`` is the rate of the highest tier
      reached. Each deal pays at the rate in force; the deal that crosses a threshold also
      carries the re-rating of the period's earlier sales (the accelerator's catch-up).
    - ``"flat"``: the same period total ``rate(S_end) * S_end``, but the highest tier reached by
      the end of the period sets the rate for every deal: the total is spread over the deals in
      proportion to their amounts (largest remainder, exact).

    Then, in this order: ``max_rate`` caps ``C`` at ``floor(max_rate * S)``; a
    ``decelerator=(threshold, factor)`` multiplies ``C`` by ``factor`` while ``S`` is below the
    threshold (reaching it pays what was held back); ``minimum`` pays nothing while ``S`` is
    below it (reaching it pays everything earned so far); ``max_payout`` caps ``C`` per person
    and period. Every step rounds half up to whole minor units and keeps ``C`` non-decreasing in
    ``S``, so no sale line is ever negative.

    Parameters
    ----------
    tiers
        ``(threshold, rate)`` pairs, or a ``{threshold: rate}`` mapping. The first threshold is
        0, thresholds increase strictly, rates lie in ``[0, 1]`` with at most 6 decimals. For
        ``"flat"`` and ``"retroactive"`` rates must not decrease (else a bigger sale would cut
        the commission already earned).
    mode
        ``"marginal"`` (default), ``"retroactive"`` or ``"flat"``.
    basis
        ``"amount"`` (default) or ``"attainment"`` (needs targets when computing).
    minimum
        Gate: nothing pays until ``S`` reaches it (same unit as the thresholds); default 0.
    decelerator
        ``(threshold, factor)`` with ``0 <= factor <= 1`` (same unit as the thresholds), or
        ``None``.
    max_rate
        Cap on the effective rate ``C / S`` in ``[0, 1]``, or ``None``.
    max_payout
        Cap on a person's commission per period in currency units, or ``None``.
    decimals
        Minor-unit digits of the currency (2: cents).

    Raises
    ------
    ConfigError
        Overlapping, unsorted or empty tiers, a first threshold other than 0, rates outside
        ``[0, 1]``, falling rates in flat or retroactive mode, or an out-of-range option.

    Examples
    --------
    >>> from crmcore.kpi import CommissionPlan
    >>> plan = CommissionPlan(tiers=[(0, 0.04), (150_000, 0.06), (250_000, 0.08)])
    >>> plan.cumulative_commission([145_000_00, 165_000_00])  # cents
    array([580000, 690000])
    >>> int(690000 - 580000)  # the 20 000 deal pays 1 100.00
    110000
    >>> CommissionPlan.from_dict(plan.to_dict()) == plan
    True
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    tiers: tuple[tuple[float, float], ...] = attrs.field(converter=_tiers)
    mode: str = "marginal"
    basis: str = "amount"
    minimum: float = attrs.field(default=0.0, converter=_minimum)
    decelerator: tuple[float, float] | None = attrs.field(default=None, converter=_opt_pair)
    max_rate: float | None = attrs.field(default=None, converter=_max_rate)
    max_payout: float | None = attrs.field(default=None, converter=_max_payout)
    decimals: int = 2

    def __attrs_post_init__(self) -> None:
        check_choice(self.mode, "mode", MODES)
        check_choice(self.basis, "basis", BASES)
        check_scalar(self.decimals, "decimals", kind=int, min_value=0, max_value=6)
        self._check_tiers()
        self._check_options()

    def _check_tiers(self) -> None:
        """Tiers: finite, rates in [0, 1], first at 0, increasing (rates too unless marginal)."""
        if not self.tiers:
            raise ConfigError("tiers is empty; a plan needs at least one (threshold, rate)")
        for i, (threshold, rate) in enumerate(self.tiers):
            if not math.isfinite(threshold) or not math.isfinite(rate):
                raise ConfigError(
                    f"tier {i} ({threshold!r}, {rate!r}) must hold finite numbers",
                    column="tiers",
                    row=i,
                    value=(threshold, rate),
                )
            if not 0.0 <= rate <= 1.0:
                raise ConfigError(
                    f"tier {i} rate == {rate!r}, must be in [0, 1]",
                    column="tiers",
                    row=i,
                    value=rate,
                )
            _ppm(rate, f"tier {i} rate")
        if self.tiers[0][0] != 0.0:
            raise ConfigError(
                f"the first tier starts at {self.tiers[0][0]!r}; it must start at 0 (use "
                "minimum= for a threshold before anything pays)",
                column="tiers",
                row=0,
                value=self.tiers[0][0],
            )
        for i in range(1, len(self.tiers)):
            prev, cur = self.tiers[i - 1], self.tiers[i]
            if not cur[0] > prev[0]:
                raise ConfigError(
                    f"tier {i} starts at {cur[0]!r}, not above tier {i - 1} at {prev[0]!r}; "
                    "tiers must be sorted by threshold and must not overlap",
                    column="tiers",
                    row=i,
                    value=cur[0],
                )
            if self.mode != "marginal" and cur[1] < prev[1]:
                raise ConfigError(
                    f"tier {i} rate {cur[1]!r} is below tier {i - 1} rate {prev[1]!r}; in "
                    f"{self.mode} mode rates must not decrease (a larger sale would lower "
                    "commission already earned)",
                    column="tiers",
                    row=i,
                    value=cur[1],
                )

    def _check_options(self) -> None:
        """Minimum, decelerator, rate and payout caps: finite and in range."""
        if not (math.isfinite(self.minimum) and self.minimum >= 0):
            raise ConfigError(
                f"minimum == {self.minimum!r}, must be finite and >= 0",
                column="minimum",
                value=self.minimum,
            )
        if self.decelerator is not None:
            threshold, factor = self.decelerator
            if not (math.isfinite(threshold) and threshold > 0):
                raise ConfigError(
                    f"decelerator threshold == {threshold!r}, must be finite and > 0",
                    column="decelerator",
                    value=threshold,
                )
            if not 0.0 <= factor <= 1.0:
                raise ConfigError(
                    f"decelerator factor == {factor!r}, must be in [0, 1]",
                    column="decelerator",
                    value=factor,
                )
            _ppm(factor, "decelerator factor")
        if self.max_rate is not None:
            if not 0.0 <= self.max_rate <= 1.0:
                raise ConfigError(
                    f"max_rate == {self.max_rate!r}, must be in [0, 1]",
                    column="max_rate",
                    value=self.max_rate,
                )
            _ppm(self.max_rate, "max_rate")
        if self.max_payout is not None and not (
            math.isfinite(self.max_payout) and self.max_payout >= 0
        ):
            raise ConfigError(
                f"max_payout == {self.max_payout!r}, must be finite and >= 0",
                column="max_payout",
                value=self.max_payout,
            )

    # -- the cumulative commission function --------------------------------------------------

    def _to_units(self, threshold: float | npt.NDArray[np.float64], target: Any) -> Any:
        """Thresholds (basis units) to minor units: amounts, or fractions of ``target`` units."""
        if self.basis == "amount":
            return np.floor(np.asarray(threshold) * 10.0**self.decimals + 0.5).astype(np.int64)
        return np.floor(np.asarray(threshold) * target + 0.5).astype(np.int64)

    def cumulative_commission(
        self,
        sales: npt.ArrayLike,
        targets: npt.ArrayLike | None = None,
    ) -> npt.NDArray[np.int64]:
        """Cumulative commission ``C(S)`` in minor units for cumulative sales ``S`` in minor units.

        Parameters
        ----------
        sales
            Cumulative sales within a period, integer minor units, >= 0.
        targets
            The period's target in minor units for each entry (``basis="attainment"`` only).

        Returns
        -------
        numpy.ndarray of int64

        Raises
        ------
        ConfigError
            Targets missing for an attainment plan (or given for an amount plan).
        DataError
            Negative or non-integer sales, non-positive targets, or sales too large for exact
            arithmetic (above 9e12 minor units).

        Examples
        --------
        >>> from crmcore.kpi import CommissionPlan
        >>> plan = CommissionPlan(tiers=[(0, 0.05), (1.0, 0.10)], basis="attainment",
        ...                       mode="retroactive")
        >>> plan.cumulative_commission([90_00, 100_00], targets=[100_00, 100_00])
        array([ 450, 1000])
        """
        s = np.asarray(sales)
        if s.dtype.kind not in "iu":
            raise DataError(f"sales must be integer minor units, got dtype {s.dtype}")
        s = s.astype(np.int64)
        pos = first_true(s < 0)
        if pos is not None:
            raise DataError(
                f"sales has negative value {int(s[pos])} at position {pos}; expected >= 0",
                row=pos,
                value=int(s[pos]),
            )
        pos = first_true(s > MAX_CUMULATIVE)
        if pos is not None:
            raise DataError(
                f"cumulative sales {int(s[pos])} at position {pos} exceed {MAX_CUMULATIVE} "
                "minor units; exact integer commission arithmetic is limited to that",
                row=pos,
                value=int(s[pos]),
            )
        if self.basis == "attainment":
            if targets is None:
                raise ConfigError("an attainment-based plan needs targets", column="targets")
            tgt = np.broadcast_to(np.asarray(targets, dtype=np.float64), s.shape)
            pos = first_true(~(np.isfinite(tgt) & (tgt > 0)))
            if pos is not None:
                raise DataError(
                    f"target {show(tgt.reshape(-1)[pos])} at position {pos} must be > 0 for an "
                    "attainment-based plan",
                    row=pos,
                    value=tgt.reshape(-1)[pos],
                )
        else:
            if targets is not None:
                raise ConfigError(
                    "targets are only used by attainment-based plans", column="targets"
                )
            tgt = np.ones(s.shape)
        return self._cumulative(s, tgt)

    def _cumulative(
        self, s: npt.NDArray[np.int64], tgt: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.int64]:
        bounds = [self._to_units(t, tgt) for t, _ in self.tiers]  # broadcast against s
        rates = [_ppm(r, "rate") for _, r in self.tiers]
        num = np.zeros(s.shape, dtype=np.int64)
        if self.mode == "marginal":
            for k, rate in enumerate(rates):
                low = bounds[k]
                part = np.maximum(s - low, 0)
                if k + 1 < len(bounds):
                    part = np.minimum(part, np.maximum(bounds[k + 1] - low, 0))
                num += part * rate
        else:
            current = np.full(s.shape, rates[0], dtype=np.int64)
            for k in range(1, len(rates)):
                current = np.where(s >= bounds[k], rates[k], current)
            num = current * s
        c = (num + _HALF) // PPM
        if self.max_rate is not None:
            c = np.minimum(c, (s * _ppm(self.max_rate, "max_rate")) // PPM)
        if self.decelerator is not None:
            threshold, factor = self.decelerator
            held = (c * _ppm(factor, "factor") + _HALF) // PPM
            c = np.where(s < self._to_units(threshold, tgt), held, c)
        if self.minimum > 0:
            c = np.where(s < self._to_units(self.minimum, tgt), 0, c)
        if self.max_payout is not None:
            cap = math.floor(self.max_payout * 10.0**self.decimals + 0.5)
            c = np.minimum(c, cap)
        out: npt.NDArray[np.int64] = c.astype(np.int64)
        return out

    def tier_reached(self, sales: npt.ArrayLike, targets: npt.ArrayLike | None = None) -> Any:
        """Index (0-based) of the highest tier whose threshold cumulative sales have reached.

        Examples
        --------
        >>> from crmcore.kpi import CommissionPlan
        >>> CommissionPlan(tiers=[(0, 0.04), (150_000, 0.06)]).tier_reached([100, 150_000_00])
        array([0, 1])
        """
        s = np.asarray(sales, dtype=np.int64)
        tgt = np.ones(s.shape) if targets is None else np.asarray(targets, dtype=np.float64)
        tier = np.zeros(s.shape, dtype=np.int64)
        for k in range(1, len(self.tiers)):
            tier = np.where(s >= self._to_units(self.tiers[k][0], tgt), k, tier)
        return tier

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form that :meth:`from_dict` reads back.

        Examples
        --------
        >>> from crmcore.kpi import CommissionPlan
        >>> CommissionPlan(tiers=[(0, 0.05)]).to_dict()["tiers"]
        [[0.0, 0.05]]
        """
        return {
            "tiers": [list(t) for t in self.tiers],
            "mode": self.mode,
            "basis": self.basis,
            "minimum": self.minimum,
            "decelerator": None if self.decelerator is None else list(self.decelerator),
            "max_rate": self.max_rate,
            "max_payout": self.max_payout,
            "decimals": self.decimals,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CommissionPlan:
        """Rebuild a plan from :meth:`to_dict` output; unknown keys are an error.

        Examples
        --------
        >>> from crmcore.kpi import CommissionPlan
        >>> CommissionPlan.from_dict({"tiers": [[0, 0.05]], "mode": "flat"}).mode
        'flat'
        """
        return cls(**check_config_keys(cls, data, required=("tiers",)))


# --------------------------------------------------------------------------------------------
# statements


#: Sales per pass when computing commission: the plan's temporaries stay cache-sized.
_CHUNK = 1 << 16


def _pay(
    plan: CommissionPlan, sales: Sales, tgt_group: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Commission and tier reached of every sale, in paying order (in cache-sized chunks)."""
    n = len(sales.cum)
    flat = plan.mode == "flat"
    attainment = plan.basis == "attainment"
    commission = np.empty(n, dtype=np.int64)  # C(S after) in flat mode, split below
    tier = np.empty(n, dtype=np.int64)
    for lo in range(0, n, _CHUNK):
        hi = min(lo + _CHUNK, n)
        cum = sales.cum[lo:hi]
        tgt = tgt_group[sales.group[lo:hi]] if attainment else np.ones(hi - lo)
        after = plan._cumulative(cum, tgt)
        if flat:
            commission[lo:hi] = after
        else:
            commission[lo:hi] = after - plan._cumulative(cum - sales.cents[lo:hi], tgt)
        tier[lo:hi] = plan.tier_reached(cum, tgt)
    if flat:
        last = np.r_[sales.starts[1:], n] - 1
        split = split_minor_units(commission[last], sales.cents.astype(np.float64), sales.group)
        commission = np.asarray(split, dtype=np.int64)
    return commission, tier


def _lines(
    opportunities: pd.DataFrame,
    plan: CommissionPlan,
    *,
    person: str,
    opportunity: str,
    closed_at: str,
    amount: str,
    cancelled_at: str | None,
    period: str,
    targets: pd.DataFrame | None,
    period_column: str,
    target: str,
    status: StatusRule,
    summary: bool,
) -> pd.DataFrame:
    """Build the lines frame, or with ``summary=True`` the statement, of the opportunities."""
    if not isinstance(plan, CommissionPlan):
        raise ConfigError(
            f"plan must be a CommissionPlan, got {type(plan).__name__}", column="plan"
        )
    code = period_code(period, allowed=PERIODS)
    opportunities = require_frame(opportunities, arg="opportunities")
    if status.column is not None:
        opportunities = _won_only(opportunities, status, key=opportunity)
    cols = SaleColumns(person, opportunity, closed_at, amount, cancelled_at)
    frame, closed, cents = sale_columns(opportunities, cols, plan.decimals)
    if plan.basis == "attainment" and targets is None:
        raise ConfigError(
            f"plan.basis is 'attainment': pass targets= ({person}, {period_column}, {target})",
            column="targets",
        )
    if plan.basis != "attainment" and targets is not None:
        raise ConfigError(
            "targets= is only used by attainment-based plans (plan.basis='attainment')",
            column="targets",
        )
    by_target: dict[str, Any] = {
        "person": person,
        "period_column": period_column,
        "target": target,
        "period": code,
        "decimals": plan.decimals,
    }
    if summary:
        got = day_statement(
            frame, closed, cents, cols, _day_plan(plan, targets, by_target), period=code
        )
        if got is not None:
            return got
    sales = read_sales(frame, closed, cents, cols, period=code)
    tgt_group = np.full(len(sales.starts), np.nan)
    if targets is not None:
        tgt_group = group_targets(targets, sales, **by_target)
    check_cumulative(sales, limit=MAX_CUMULATIVE, amount=amount, opportunity=opportunity)
    commission, tier = _pay(plan, sales, tgt_group)
    claws = read_clawbacks(
        sales, cancelled_at=cancelled_at, closed_at=closed_at, opportunity=opportunity, period=code
    )
    if summary:
        return statement_frame(
            sales, claws, person=person, tier=tier, commission=commission, tgt_group=tgt_group
        )
    return lines_frame(
        sales, claws, person=person, opportunity=opportunity, tier=tier, commission=commission
    )


def _day_plan(
    plan: CommissionPlan, targets: pd.DataFrame | None, by_target: dict[str, Any]
) -> DayPlan:
    """Give the plan's commission, tier and targets as :func:`day_statement` takes them."""
    if targets is None:
        read = None
    else:

        def read(persons: npt.NDArray[Any], periods: Any) -> npt.NDArray[np.float64]:
            return run_targets(targets, persons, periods, **by_target)

    return DayPlan(
        cumulative=plan._cumulative,
        tier=plan.tier_reached,
        flat=plan.mode == "flat",
        targets=read,
        limit=MAX_CUMULATIVE,
    )


def _won_only(frame: pd.DataFrame, status: StatusRule, *, key: str) -> pd.DataFrame:
    """Keep the won rows; a status that is not won, lost or open is an error naming its row."""
    column = str(status.column)
    frame = require_columns(frame, [column], arg="opportunities")
    is_won, _, _ = status_masks(
        frame,
        status=column,
        won=status.won,
        lost=status.lost,
        open_values=status.open_values,
        key=key,
    )
    if not is_won.any():
        raise DataError(
            f"column {column!r} of opportunities holds no won opportunity ({status.won!r}); "
            "there is nothing to pay commission on",
            column=column,
        )
    return frame[is_won]


@renamed_period_parameters(deals="opportunities", deal="opportunity", freq="period")
def commission_lines(
    opportunities: pd.DataFrame,
    plan: CommissionPlan,
    *,
    person: str = "person",
    opportunity: str = "opportunity_id",
    closed_at: str = "closed_at",
    amount: str = "amount",
    cancelled_at: str | None = None,
    period: str = "M",
    targets: pd.DataFrame | None = None,
    period_column: str = "period",
    target: str = "target",
    status: str | None = None,
    won: str = "won",
    lost: str = "lost",
    open_values: Collection[str] | None = ("open",),
) -> pd.DataFrame:
    """Per-deal commission lines (and clawback lines) in exact minor units.

    Opportunities of one person and period are taken in order of ``closed_at`` (ties: by opportunity
    id) and each pays ``C(S after) - C(S before)`` of the plan (see :class:`CommissionPlan`); in
    flat mode the period total ``C(S_end)`` is spread over the deals in proportion to their amounts.
    Either way the lines of a person and period add up exactly to ``C(S_end)``.

    Parameters
    ----------
    opportunities
        One row per opportunity to pay commission on (usually the won ones): ``person``, the
        ``opportunity`` id (unique), ``closed_at`` date, ``amount`` (decimal currency units,
        >= 0; converted to minor units half up) and, optionally, a ``cancelled_at`` date (NaT
        when not cancelled). ``deals=`` before crmcore 0.2.
    plan
        The :class:`CommissionPlan`.
    person, opportunity, closed_at, amount
        Column names (``opportunity`` was ``deal=`` before crmcore 0.2).
    cancelled_at
        Column of cancellation / full-refund dates, or ``None``. A cancelled deal keeps its
        original line in its own period (a closed period is never changed) and gets a
        ``"clawback"`` line in the period of the cancellation reversing exactly the commission
        it earned. Other deals are not re-rated.
    period
        Commission period: ``"M"`` (month, default), ``"Q"`` or ``"Y"`` (pandas aliases such
        as ``"QS"`` accepted; ``freq=`` before crmcore 0.2). Periods are labelled by their
        first day; wall-clock dates decide the period and a time zone is kept.
    targets
        For attainment plans: a table of ``person``, ``period_column`` (any date within the
        period, ``Period`` values or ISO text; read on its wall clock, in the opportunities'
        zone) and ``target`` (currency units, > 0), one row per person and period.
    period_column, target
        Column names in ``targets`` (``period_column`` was ``period=`` before crmcore 0.2: an
        old ``period="month"`` naming a column is refused with a ConfigError saying so).
    status, won, lost, open_values
        With ``status`` given, the table may hold every opportunity: only rows whose
        ``status`` equals ``won`` earn commission. Every status must be ``won``, ``lost`` or
        one of ``open_values``, else a :class:`~crmcore.errors.DataError` names the row
        (``"Won"`` is not ``"won"``); ``open_values=None`` takes every other value as not won.

    Returns
    -------
    pandas.DataFrame
        Columns ``person``, ``period`` (start of the period the line is booked in), the
        ``opportunity`` id, ``kind`` (``"sale"`` or ``"clawback"``), ``date`` (closing or
        cancellation date), ``amount_cents`` (negative for clawbacks), ``cumulative_cents`` (the
        person's sales in the period up to and including the deal), ``tier`` (0-based tier reached),
        and ``commission_cents`` (int64; negative only on clawback lines), ``source_period`` (period
        of the original sale). Sorted by person, period, date, deal, with a ``RangeIndex``; clawback
        lines copy ``cumulative_cents`` and ``tier`` of the sale they reverse.

    Raises
    ------
    SchemaError
        A column is missing or the table is empty.
    ColumnTypeError
        Non-numeric amounts or non-date dates.
    DataError
        Missing or duplicated opportunity ids, NaN or negative amounts, missing dates, an
        unknown status or none won (with ``status``), a cancellation before the close, missing
        or non-positive targets, cumulative sales of a person and period above 9e12 minor
        units, sums past 2**63.
    ConfigError
        ``plan`` is not a plan, an unknown ``period`` (or an old ``period=<column>``), targets
        missing for an attainment plan.

    Examples
    --------
    >>> from crmcore.kpi import CommissionPlan, commission_lines
    >>> plan = CommissionPlan(tiers=[(0, 0.04), (150_000, 0.06), (250_000, 0.08)])
    >>> won = pd.DataFrame({"person": ["ann", "ann"], "opportunity_id": [1, 2],
    ...                     "closed_at": pd.to_datetime(["2024-03-01", "2024-03-20"]),
    ...                     "amount": [145_000.0, 20_000.0]})
    >>> commission_lines(won, plan)[["opportunity_id", "cumulative_cents", "commission_cents"]]
       opportunity_id  cumulative_cents  commission_cents
    0               1          14500000            580000
    1               2          16500000            110000
    """
    return _lines(
        opportunities,
        plan,
        person=person,
        opportunity=opportunity,
        closed_at=closed_at,
        amount=amount,
        cancelled_at=cancelled_at,
        period=period,
        targets=targets,
        period_column=period_column,
        target=target,
        status=StatusRule(column=status, won=won, lost=lost, open_values=open_values),
        summary=False,
    )


@renamed_period_parameters(deals="opportunities", deal="opportunity", freq="period")
@normal_pages
def commission_statement(
    opportunities: pd.DataFrame,
    plan: CommissionPlan,
    *,
    person: str = "person",
    opportunity: str = "opportunity_id",
    closed_at: str = "closed_at",
    amount: str = "amount",
    cancelled_at: str | None = None,
    period: str = "M",
    targets: pd.DataFrame | None = None,
    period_column: str = "period",
    target: str = "target",
    status: str | None = None,
    won: str = "won",
    lost: str = "lost",
    open_values: Collection[str] | None = ("open",),
) -> pd.DataFrame:
    """Commission statement per person and period: sales, tier, earned, clawed back, payout.

    Built from :func:`commission_lines`, so its money columns reconcile exactly with the lines.

    Parameters
    ----------
    opportunities, plan
        As for :func:`commission_lines`.
    person, opportunity, closed_at, amount, cancelled_at, period, targets
        As for :func:`commission_lines`.
    period_column, target, status, won, lost, open_values
        As for :func:`commission_lines`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(person, period)``, sorted; one row per person and period with a sale or a
        clawback. Columns ``deals`` (sales booked), ``sales_cents``, ``target_cents`` (float;
        NaN for amount-based plans), ``attainment`` (``sales_cents / target_cents``; NaN for
        amount plans), ``tier`` (highest tier reached), ``earned_cents`` (commission on the
        period's sales, >= 0), ``clawback_cents`` (<= 0, reversals booked in this period),
        ``payout_cents`` (``earned + clawback``) and ``effective_rate`` (``earned / sales``,
        NaN without sales). Money columns are int64 minor units.

    Raises
    ------
    SchemaError, ColumnTypeError, DataError, ConfigError
        As for :func:`commission_lines`.

    Examples
    --------
    >>> from crmcore.kpi import CommissionPlan, commission_statement
    >>> plan = CommissionPlan(tiers=[(0, 0.04), (150_000, 0.06), (250_000, 0.08)])
    >>> won = pd.DataFrame({"person": ["ann", "ann", "bob"], "opportunity_id": [1, 2, 3],
    ...     "closed_at": pd.to_datetime(["2024-03-01", "2024-03-20", "2024-03-05"]),
    ...     "amount": [145_000.0, 20_000.0, 50_000.0],
    ...     "cancelled_at": pd.to_datetime([None, "2024-04-02", None])})
    >>> st = commission_statement(won, plan, cancelled_at="cancelled_at")
    >>> st[["sales_cents", "earned_cents", "clawback_cents", "payout_cents"]]
                       sales_cents  earned_cents  clawback_cents  payout_cents
    person period
    ann    2024-03-01     16500000        690000               0        690000
           2024-04-01            0             0         -110000       -110000
    bob    2024-03-01      5000000        200000               0        200000
    """
    return _lines(
        opportunities,
        plan,
        person=person,
        opportunity=opportunity,
        closed_at=closed_at,
        amount=amount,
        cancelled_at=cancelled_at,
        period=period,
        targets=targets,
        period_column=period_column,
        target=target,
        status=StatusRule(column=status, won=won, lost=lost, open_values=open_values),
        summary=True,
    )
