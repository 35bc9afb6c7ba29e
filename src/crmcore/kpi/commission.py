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
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._config import as_float, check_config_keys, opt_float
from crmcore._frames import (
    check_choice,
    check_scalar,
    datetime_column,
    describe_row,
    first_true,
    numeric_column,
    require_columns,
    require_frame,
    require_not_null,
    require_unique,
    show,
)
from crmcore.errors import ConfigError, DataError
from crmcore.money import split_minor_units, to_minor_units

__all__ = ["CommissionPlan", "commission_lines", "commission_statement"]

MODES = ("flat", "marginal", "retroactive")
BASES = ("amount", "attainment")
FREQS = ("M", "Q", "Y")
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

    tiers: tuple[tuple[float, float], ...] = attrs.field(converter=_tiers)
    mode: str = "marginal"
    basis: str = "amount"
    minimum: float = attrs.field(default=0.0, converter=as_float)
    decelerator: tuple[float, float] | None = attrs.field(default=None, converter=_opt_pair)
    max_rate: float | None = attrs.field(default=None, converter=opt_float)
    max_payout: float | None = attrs.field(default=None, converter=opt_float)
    decimals: int = 2

    def __attrs_post_init__(self) -> None:
        check_choice(self.mode, "mode", MODES)
        check_choice(self.basis, "basis", BASES)
        check_scalar(self.decimals, "decimals", kind=int, min_value=0, max_value=6)
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


def _period_start(dates: pd.Series, freq: str) -> pd.Series:
    naive = dates.dt.tz_localize(None) if getattr(dates.dt, "tz", None) is not None else dates
    out: pd.Series = naive.dt.to_period(freq).dt.start_time
    return out


def _ns(dates: Any) -> npt.NDArray[np.int64]:
    """Nanoseconds since the epoch (UTC for tz-aware dates) of a datetime array."""
    out: npt.NDArray[np.int64] = pd.DatetimeIndex(dates).as_unit("ns").asi8
    return out


def _dense_rank(values: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], int]:
    """Codes of ``values`` in sorted order of their distinct values, and how many there are."""
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), len(uniques)


def _fits(*sizes: int) -> bool:
    """Whether a mixed-radix key with these digit ranges fits in int64."""
    return math.prod(max(int(s), 1) for s in sizes) < 2**62


def _deal_codes(ids: pd.Series) -> tuple[npt.NDArray[np.int64], int]:
    """Codes that sort like the (unique) deal ids, and their range.

    Integer ids are their own codes (offset by the smallest) when their range is at most four
    times their count; otherwise the codes of a sorted ``pd.factorize`` (same order).
    """
    n = len(ids)
    if n and ids.dtype.kind in "iu":
        vals = ids.to_numpy()
        lo, hi = int(vals.min()), int(vals.max())
        if hi - lo < 4 * n:
            return (vals - vals.min()).astype(np.int64), hi - lo + 1
    codes = pd.factorize(ids, sort=True)[0]
    return codes.astype(np.int64), n


def _deal_order(
    p_codes: npt.NDArray[np.intp],
    t_val: npt.NDArray[np.int64],
    per_val: npt.NDArray[np.int64],
    d_codes: npt.NDArray[np.integer[Any]],
    n_deals: int,
) -> npt.NDArray[np.intp]:
    """Order of the deals by person, period, close time, deal id.

    Same permutation as ``np.lexsort((d_codes, t_val, per_val, p_codes))``. The period is a
    non-decreasing function of the (wall-clock) close time, so it adds nothing to the key; the
    remaining keys are packed into one int64, unique since deal codes are, so one single-key
    sort gives the lexicographic order (any sort algorithm: no ties).
    """
    n = len(d_codes)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    t_rank, n_t = _dense_rank(t_val)
    n_p = int(p_codes.max()) + 1
    if not _fits(n_p, n_t, n_deals):
        return np.lexsort((d_codes, t_val, per_val, p_codes))
    key = (p_codes.astype(np.int64) * n_t + t_rank) * n_deals + d_codes
    out: npt.NDArray[np.intp] = np.argsort(key)
    return out


def _line_order(
    keys: Sequence[tuple[npt.NDArray[Any], ...]], *, n_deals: int
) -> npt.NDArray[np.intp]:
    """Order of the lines by person, period, date, deal, sale before clawback.

    Same permutation as a ``np.lexsort`` of the concatenated keys. The sale lines (first block)
    usually arrive sorted already, so each line's keys are packed into one unique int64, the
    few clawback lines are sorted alone and merged into the sale lines by ``searchsorted``.
    Falls back to the lexsort when the packed key could overflow or the sales are not in order
    (tz-aware dates around a daylight-saving change).
    """
    p_key, per_key, date_key, deal_key, kind_key = (
        np.concatenate([k[i] for k in keys]) for i in range(5)
    )
    total = len(p_key)
    n = len(keys[0][0])
    if total == 0:
        return np.zeros(0, dtype=np.intp)
    per_rank, n_per = _dense_rank(per_key)
    date_rank, n_date = _dense_rank(date_key)
    n_p = int(p_key.max()) + 1
    if not _fits(n_p, n_per, n_date, n_deals, 2):
        return np.lexsort((kind_key, deal_key, date_key, per_key, p_key))
    packed = (
        ((p_key.astype(np.int64) * n_per + per_rank) * n_date + date_rank) * n_deals
        + deal_key.astype(np.int64)
    ) * 2 + kind_key
    sale = packed[:n]
    if not bool(np.all(sale[1:] > sale[:-1])):
        return np.lexsort((kind_key, deal_key, date_key, per_key, p_key))
    claw_sorted = np.argsort(packed[n:])
    pos = np.searchsorted(sale, packed[n:][claw_sorted])
    m = total - n
    out = np.empty(total, dtype=np.intp)
    out[np.arange(n) + np.searchsorted(pos, np.arange(n), side="right")] = np.arange(n)
    out[pos + np.arange(m)] = n + claw_sorted
    return out


def _lines(
    deals: pd.DataFrame,
    plan: CommissionPlan,
    *,
    person: str,
    deal: str,
    closed_at: str,
    amount: str,
    cancelled_at: str | None,
    freq: str,
    targets: pd.DataFrame | None,
    period: str,
    target: str,
    summary: bool = False,
) -> pd.DataFrame:
    """Build the lines frame, or with ``summary=True`` the statement, of the deals."""
    arg = "deals"
    if not isinstance(plan, CommissionPlan):
        raise ConfigError(
            f"plan must be a CommissionPlan, got {type(plan).__name__}", column="plan"
        )
    check_choice(freq, "freq", FREQS)
    cols = [person, deal, closed_at, amount] + ([cancelled_at] if cancelled_at else [])
    require_columns(deals, cols, arg=arg)
    require_not_null(deals, person, arg=arg, key=deal)
    require_not_null(deals, deal, arg=arg)
    require_unique(deals, deal, arg=arg)
    closed = datetime_column(deals, closed_at, arg=arg, key=deal)
    values = numeric_column(
        deals,
        amount,
        arg=arg,
        key=deal,
        allow_negative=False,
        negative_hint="record a refund or cancellation with cancelled_at= instead",
    )
    cents = np.asarray(to_minor_units(values, plan.decimals, name=amount), dtype=np.int64)
    periods = _period_start(closed, freq).reset_index(drop=True)

    n = len(deals)
    # Deterministic order: person, period, close time, deal id.
    p_codes = pd.factorize(deals[person], sort=True)[0]
    d_codes, n_deals = _deal_codes(deals[deal])
    t_ns = closed.dt.tz_localize(None) if getattr(closed.dt, "tz", None) is not None else closed
    t_val = t_ns.to_numpy().astype("datetime64[ns]").astype(np.int64)
    per_val = periods.to_numpy().astype("datetime64[ns]").astype(np.int64)
    order = _deal_order(p_codes, t_val, per_val, d_codes, n_deals)
    pc, pv, amt = p_codes[order], per_val[order], cents[order]
    new_group = np.r_[True, (pc[1:] != pc[:-1]) | (pv[1:] != pv[:-1])]
    group = np.cumsum(new_group) - 1
    starts = np.flatnonzero(new_group)
    n_groups = len(starts)
    csum = np.cumsum(amt)
    before_group = np.r_[0, csum][starts]
    cum = csum - before_group[group]
    prev = cum - amt

    tgt_rows = np.ones(n, dtype=np.float64)
    tgt_group = np.full(n_groups, np.nan)
    if plan.basis == "attainment":
        if targets is None:
            raise ConfigError(
                "plan.basis is 'attainment': pass targets= (person, period, target)",
                column="targets",
            )
        tgt_group = _group_targets(
            targets,
            keys=pd.DataFrame(
                {
                    person: deals[person].to_numpy()[order][starts],
                    period: periods.to_numpy()[order][starts],
                }
            ),
            person=person,
            period=period,
            target=target,
            freq=freq,
            decimals=plan.decimals,
        )
        tgt_rows = tgt_group[group]
    elif targets is not None:
        raise ConfigError(
            "targets= is only used by attainment-based plans (plan.basis='attainment')",
            column="targets",
        )

    if cum.size and int(cum.max()) > MAX_CUMULATIVE:
        pos = int(order[int(np.argmax(cum))])
        raise DataError(
            f"cumulative sales of one person and period reach {int(cum.max())} minor units at "
            f"{describe_row(deals, pos, deal)}; exact commission arithmetic is limited to "
            f"{MAX_CUMULATIVE}",
            column=amount,
            row=deals.index[pos],
        )
    c_after = plan._cumulative(cum, tgt_rows)
    if plan.mode == "flat":
        last = np.r_[starts[1:], n] - 1
        totals = c_after[last]
        commission = split_minor_units(totals, amt.astype(np.float64), group)
    else:
        commission = c_after - plan._cumulative(prev, tgt_rows)
    tier = plan.tier_reached(cum, tgt_rows)

    person_vals = deals[person].to_numpy()[order]
    sale_periods = periods.to_numpy()[order]
    sale_dates = closed.iloc[order].array
    # Sort keys of the lines, built from the codes already at hand (no second factorize of the
    # concatenated ids): person, period, date, deal, sale before clawback.
    d_sorted = d_codes[order]
    keys = [(pc, pv, _ns(sale_dates), d_sorted, np.zeros(n, dtype=np.int8))]
    sel: npt.NDArray[np.bool_] | None = None
    c_dates: pd.Series | None = None
    c_periods: npt.NDArray[Any] | None = None
    if cancelled_at is not None:
        mask = deals[cancelled_at].notna().to_numpy()
        if mask.any():
            cancel = datetime_column(deals.loc[mask], cancelled_at, arg=arg, key=deal)
            cancel_full = pd.Series(pd.NaT, index=range(n), dtype=cancel.dtype)
            cancel_full.iloc[np.flatnonzero(mask)] = cancel.array
            if (getattr(cancel.dtype, "tz", None) is None) != (
                getattr(closed.dtype, "tz", None) is None
            ):
                raise DataError(
                    f"columns {closed_at!r} and {cancelled_at!r} of deals mix naive and tz-aware "
                    "dates; use one convention",
                    column=cancelled_at,
                )
            early = mask & (cancel_full < closed.reset_index(drop=True)).to_numpy()
            bad = first_true(early)
            if bad is not None:
                raise DataError(
                    f"column {cancelled_at!r} of deals has {show(cancel_full.iloc[bad])} at "
                    f"{describe_row(deals, bad, deal)}, before the deal closed on "
                    f"{show(closed.iloc[bad])}; a deal is cancelled after it closes",
                    column=cancelled_at,
                    row=deals.index[bad],
                    value=cancel_full.iloc[bad],
                )
            sel = mask[order]
            c_dates = cancel_full.iloc[order[sel]].reset_index(drop=True)
            c_periods = _period_start(c_dates, freq).to_numpy()
            keys.append(
                (
                    pc[sel],
                    c_periods.astype("datetime64[ns]").astype(np.int64),
                    _ns(c_dates.array),
                    d_sorted[sel],
                    np.ones(int(sel.sum()), dtype=np.int8),
                )
            )
    l_order = _line_order(keys, n_deals=n_deals)
    if summary:
        return _statement(
            person=person,
            l_order=l_order,
            keys=keys,
            sel=sel,
            person_vals=person_vals,
            sale_periods=sale_periods,
            c_periods=c_periods,
            amt=amt,
            tier=tier,
            commission=commission,
            group=group,
            tgt_group=tgt_group,
        )
    sale = pd.DataFrame(
        {
            person: person_vals,
            "period": sale_periods,
            deal: deals[deal].to_numpy()[order],
            "kind": "sale",
            "date": sale_dates,
            "amount_cents": amt,
            "cumulative_cents": cum,
            "tier": tier,
            "commission_cents": commission,
            "source_period": sale_periods,
        }
    )
    parts = [sale]
    if sel is not None and c_dates is not None:
        back = sale.loc[sel].copy()
        back["kind"] = "clawback"
        back["date"] = c_dates.array
        back["period"] = c_periods
        back["amount_cents"] = -back["amount_cents"]
        back["commission_cents"] = -back["commission_cents"]
        parts.append(back)
    lines = pd.concat(parts, ignore_index=True)
    lines["kind"] = lines["kind"].astype(object)
    lines = lines.iloc[l_order].reset_index(drop=True)
    return lines


def _statement(
    *,
    person: str,
    l_order: npt.NDArray[np.intp],
    keys: Sequence[tuple[npt.NDArray[Any], ...]],
    sel: npt.NDArray[np.bool_] | None,
    person_vals: npt.NDArray[Any],
    sale_periods: npt.NDArray[Any],
    c_periods: npt.NDArray[Any] | None,
    amt: npt.NDArray[np.int64],
    tier: npt.NDArray[np.int64],
    commission: npt.NDArray[np.int64],
    group: npt.NDArray[np.int64],
    tgt_group: npt.NDArray[np.float64],
) -> pd.DataFrame:
    """Sum the line arrays into the statement: segment sums over the lines in line order.

    Lines are sorted by person and period first, so each statement row is one contiguous run of
    lines; sums and maxima are ``np.add.reduceat`` / ``np.maximum.reduceat`` over the runs.
    """
    n = len(amt)
    zero = np.zeros(0, dtype=np.int64)
    if sel is not None and c_periods is not None:
        m = int(sel.sum())
        p_all = np.concatenate([person_vals, person_vals[sel]])
        per_all = np.concatenate([sale_periods, c_periods])
        claw_comm = -commission[sel]
    else:
        m = 0
        p_all, per_all, claw_comm = person_vals, sale_periods, zero
    pc = np.concatenate([k[0] for k in keys])[l_order]
    pv = np.concatenate([k[1] for k in keys])[l_order]
    is_sale = l_order < n
    new_row = np.r_[True, (pc[1:] != pc[:-1]) | (pv[1:] != pv[:-1])]
    starts = np.flatnonzero(new_row)
    pad = np.zeros(m, dtype=np.int64)
    sales = np.add.reduceat(np.concatenate([amt, pad])[l_order], starts)
    deals_n = np.add.reduceat(is_sale.astype(np.int64), starts)
    tier_max = np.maximum.reduceat(np.concatenate([tier.astype(np.int64), pad])[l_order], starts)
    earned = np.add.reduceat(np.concatenate([commission, pad])[l_order], starts)
    clawback = np.add.reduceat(
        np.concatenate([np.zeros(n, dtype=np.int64), claw_comm])[l_order], starts
    )
    sale_group = np.maximum.reduceat(
        np.concatenate([group.astype(np.int64), np.full(m, -1, dtype=np.int64)])[l_order], starts
    )
    tgt = np.where(sale_group >= 0, tgt_group[np.maximum(sale_group, 0)], np.nan)
    index = pd.MultiIndex.from_arrays(
        [p_all[l_order[starts]], per_all[l_order[starts]]], names=[person, "period"]
    )
    sales_f = sales.astype(np.float64)
    earned_f = earned.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        attainment = sales_f / tgt
        rate = np.where(sales_f > 0, earned_f / np.where(sales_f > 0, sales_f, 1), np.nan)
    return pd.DataFrame(
        {
            "deals": deals_n,
            "sales_cents": sales,
            "target_cents": tgt,
            "attainment": attainment,
            "tier": tier_max,
            "earned_cents": earned,
            "clawback_cents": clawback,
            "payout_cents": earned + clawback,
            "effective_rate": rate,
        },
        index=index,
    )


def _group_targets(
    targets: pd.DataFrame,
    *,
    keys: pd.DataFrame,
    person: str,
    period: str,
    target: str,
    freq: str,
    decimals: int,
) -> npt.NDArray[np.float64]:
    arg = "targets"
    require_frame(targets, arg=arg)
    require_columns(targets, [person, period, target], arg=arg)
    require_not_null(targets, person, arg=arg)
    tdates = datetime_column(targets, period, arg=arg, key=person)
    tvals = numeric_column(targets, target, arg=arg, key=person)
    pos = first_true(tvals <= 0)
    if pos is not None:
        raise DataError(
            f"column {target!r} of targets has {show(tvals[pos])} at "
            f"{describe_row(targets, pos, person)}; attainment-based commission needs targets > 0",
            column=target,
            row=targets.index[pos],
            value=tvals[pos],
        )
    tab = pd.DataFrame(
        {
            person: targets[person].to_numpy(),
            period: _period_start(tdates, freq).to_numpy(),
            "_t": np.asarray(to_minor_units(tvals, decimals, name=target), dtype=np.float64),
        }
    )
    pos = first_true(tab.duplicated(subset=[person, period]).to_numpy())
    if pos is not None:
        raise DataError(
            f"targets has a second target for person {show(tab[person].iloc[pos])} in period "
            f"{tab[period].iloc[pos]:%Y-%m-%d} at {describe_row(targets, pos)}; expected one",
            column=period,
            row=targets.index[pos],
        )
    merged = keys.merge(tab, on=[person, period], how="left")
    got = merged["_t"].to_numpy(dtype=np.float64)
    pos = first_true(np.isnan(got))
    if pos is not None:
        raise DataError(
            f"targets has no target for person {show(keys[person].iloc[pos])} in period "
            f"{pd.Timestamp(keys[period].iloc[pos]):%Y-%m-%d}, which has deals; every "
            "person and period with deals needs a target",
            column=target,
            value=keys[person].iloc[pos],
        )
    return got


def commission_lines(
    deals: pd.DataFrame,
    plan: CommissionPlan,
    *,
    person: str = "person",
    deal: str = "opportunity_id",
    closed_at: str = "closed_at",
    amount: str = "amount",
    cancelled_at: str | None = None,
    freq: str = "M",
    targets: pd.DataFrame | None = None,
    period: str = "period",
    target: str = "target",
) -> pd.DataFrame:
    """Per-deal commission lines (and clawback lines) in exact minor units.

    Deals of one person and period are taken in order of ``closed_at`` (ties: by deal id) and
    each pays ``C(S after) - C(S before)`` of the plan (see :class:`CommissionPlan`); in flat
    mode the period total ``C(S_end)`` is spread over the deals in proportion to their amounts.
    Either way the lines of a person and period add up exactly to ``C(S_end)``.

    Parameters
    ----------
    deals
        One row per deal to pay commission on (usually the won deals): ``person``, ``deal`` id
        (unique), ``closed_at`` date, ``amount`` (decimal currency units, >= 0; converted to
        minor units half up) and, optionally, a ``cancelled_at`` date (NaT when not cancelled).
    plan
        The :class:`CommissionPlan`.
    person, deal, closed_at, amount
        Column names.
    cancelled_at
        Column of cancellation / full-refund dates, or ``None``. A cancelled deal keeps its
        original line in its own period (a closed period is never changed) and gets a
        ``"clawback"`` line in the period of the cancellation reversing exactly the commission
        it earned. Other deals are not re-rated.
    freq
        Commission period: ``"M"`` (month, default), ``"Q"`` or ``"Y"``; periods are labelled by
        their first day (time zones are dropped: wall-clock dates decide the period).
    targets
        For attainment plans: a table of ``person``, ``period`` (any date within the period)
        and ``target`` (currency units, > 0), one row per person and period.
    period, target
        Column names in ``targets``.

    Returns
    -------
    pandas.DataFrame
        Columns ``person``, ``period`` (start of the period the line is booked in), the ``deal``
        id, ``kind`` (``"sale"`` or ``"clawback"``), ``date`` (closing or cancellation date),
        ``amount_cents`` (negative for clawbacks), ``cumulative_cents`` (the person's sales in
        the period up to and including the deal), ``tier`` (0-based tier reached), and
        ``commission_cents`` (int64; negative only on clawback lines), ``source_period`` (period
        of the original sale). Sorted by person, period, date, deal, with a ``RangeIndex``;
        clawback lines copy ``cumulative_cents`` and ``tier`` of the sale they reverse.

    Raises
    ------
    SchemaError
        A column is missing or the table is empty.
    ColumnTypeError
        Non-numeric amounts or non-date dates.
    DataError
        Missing or duplicated deal ids, NaN or negative amounts, missing dates, a cancellation
        before the close, missing or non-positive targets.
    ConfigError
        ``plan`` is not a plan, unknown ``freq``, targets missing for an attainment plan.

    Examples
    --------
    >>> from crmcore.kpi import CommissionPlan, commission_lines
    >>> plan = CommissionPlan(tiers=[(0, 0.04), (150_000, 0.06), (250_000, 0.08)])
    >>> deals = pd.DataFrame({"person": ["ann", "ann"], "opportunity_id": [1, 2],
    ...                       "closed_at": pd.to_datetime(["2024-03-01", "2024-03-20"]),
    ...                       "amount": [145_000.0, 20_000.0]})
    >>> commission_lines(deals, plan)[["opportunity_id", "cumulative_cents", "commission_cents"]]
       opportunity_id  cumulative_cents  commission_cents
    0               1          14500000            580000
    1               2          16500000            110000
    """
    return _lines(
        deals,
        plan,
        person=person,
        deal=deal,
        closed_at=closed_at,
        amount=amount,
        cancelled_at=cancelled_at,
        freq=freq,
        targets=targets,
        period=period,
        target=target,
    )


def commission_statement(
    deals: pd.DataFrame,
    plan: CommissionPlan,
    *,
    person: str = "person",
    deal: str = "opportunity_id",
    closed_at: str = "closed_at",
    amount: str = "amount",
    cancelled_at: str | None = None,
    freq: str = "M",
    targets: pd.DataFrame | None = None,
    period: str = "period",
    target: str = "target",
) -> pd.DataFrame:
    """Commission statement per person and period: sales, tier, earned, clawed back, payout.

    Built from :func:`commission_lines`, so its money columns reconcile exactly with the lines.

    Parameters
    ----------
    deals, plan
        As for :func:`commission_lines`.
    person, deal, closed_at, amount, cancelled_at, freq, targets, period, target
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
    >>> deals = pd.DataFrame({"person": ["ann", "ann", "bob"], "opportunity_id": [1, 2, 3],
    ...     "closed_at": pd.to_datetime(["2024-03-01", "2024-03-20", "2024-03-05"]),
    ...     "amount": [145_000.0, 20_000.0, 50_000.0],
    ...     "cancelled_at": pd.to_datetime([None, "2024-04-02", None])})
    >>> st = commission_statement(deals, plan, cancelled_at="cancelled_at")
    >>> st[["sales_cents", "earned_cents", "clawback_cents", "payout_cents"]]
                       sales_cents  earned_cents  clawback_cents  payout_cents
    person period
    ann    2024-03-01     16500000        690000               0        690000
           2024-04-01            0             0         -110000       -110000
    bob    2024-03-01      5000000        200000               0        200000
    """
    return _lines(
        deals,
        plan,
        person=person,
        deal=deal,
        closed_at=closed_at,
        amount=amount,
        cancelled_at=cancelled_at,
        freq=freq,
        targets=targets,
        period=period,
        target=target,
        summary=True,
    )
