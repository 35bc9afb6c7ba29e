"""The landing rules shared by the schedule and the simulation.

Given parsed deals, ``as_of`` and a period, decide for each deal which of its own close date it
keeps: an open deal whose close date is before the ``as_of`` day is *overdue* (it lands on
``as_of`` instead), a won deal closed before the ``as_of`` period is *history* (left out of any
forecast), a lost deal never lands. Instants are int64 microseconds (see ``_dates``).
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import first_true
from crmcore.errors import ConfigError
from crmcore.pipeline._dates import (
    CHUNK,
    MAX_MONTHS,
    NAT,
    US_PER_DAY,
    add_months,
    as_of_timestamp,
    first_period_start,
    micros,
    timestamp_micros,
)
from crmcore.pipeline._deals import OPEN, WON, Deals
from crmcore.pipeline.stages import StageModel

__all__ = ["Landing", "landing_rules", "stage_landing"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_LIMIT = float(2**63 - 2**12)


@attrs.frozen(kw_only=True, eq=False)
class Landing:
    """What the landing rules decided per deal (arrays in input row order)."""

    as_of: pd.Timestamp
    tz: Any
    as_of_us: int
    first_start: pd.Timestamp
    own_us: IntArray
    has_own: BoolArray
    late: BoolArray
    won_before: BoolArray

    @property
    def first_us(self) -> int:
        """Start of the ``as_of`` period, in microseconds."""
        return timestamp_micros(self.first_start, arg="as_of")


def landing_rules(deals: Deals, *, as_of: object, period: str, close_date: str | None) -> Landing:
    """Resolve ``as_of`` against the deals' close dates and apply the landing rules."""
    own = deals.close_date
    ts = as_of_timestamp(as_of, own, column=close_date or "close_date")
    tz = ts.tz
    as_of_us = timestamp_micros(ts, arg="as_of")
    day = ts.normalize()
    first_start = first_period_start(day, period)
    if own is None or close_date is None:
        own_us = np.full(len(deals.ids), NAT, dtype=np.int64)
    else:
        own_us = micros(
            own, frame=deals.frame, column=close_date, arg="opportunities", key=deals.key
        )
    day_us = timestamp_micros(day, arg="as_of")
    first_us = timestamp_micros(first_start, arg="as_of")
    has_own, late, won_before = _own_date_rules(own_us, deals.state, day_us, first_us)
    return Landing(
        as_of=ts,
        tz=tz,
        as_of_us=as_of_us,
        first_start=first_start,
        own_us=own_us,
        has_own=has_own,
        late=late,
        won_before=won_before,
    )


def _own_date_rules(
    own_us: IntArray, state: npt.NDArray[np.int8], day_us: int, first_us: int
) -> tuple[BoolArray, BoolArray, BoolArray]:
    """Per deal: has its own date, is late, was won before the ``as_of`` period.

    Late: open and dated before the ``as_of`` day. Filled a cache-sized chunk at a time,
    without full-length temporaries.
    """
    n = len(own_us)
    has_own = np.empty(n, dtype=bool)
    late = np.empty(n, dtype=bool)
    won_before = np.empty(n, dtype=bool)
    for lo in range(0, n, CHUNK):
        rows = slice(lo, lo + CHUNK)
        own, kind = own_us[rows], state[rows]
        dated = np.not_equal(own, NAT, out=has_own[rows])
        late[rows] = dated & (kind == OPEN) & (own < day_us)
        won_before[rows] = dated & (kind == WON) & (own < first_us)
    return has_own, late, won_before


def stage_landing(model: StageModel, codes: IntArray, as_of: pd.Timestamp) -> IntArray:
    """``as_of`` + the stage's time to close, per deal, in microseconds (won/lost: ``as_of``).

    Days are 24-hour spans; calendar months (``model.unit == "M"``) follow
    :func:`~crmcore.pipeline._dates.add_months`. One instant per stage (a handful), then
    gathered by stage code.
    """
    as_of_us = timestamp_micros(as_of, arg="as_of")
    if model.unit == "M":
        months = np.asarray([*model.days_to_close, 0.0, 0.0], dtype=np.float64)
        too_far = first_true(months > MAX_MONTHS)
        if too_far is not None:
            raise ConfigError(
                f"months to close of stage {model.stages[too_far]!r} == {months[too_far]!r}, "
                f"more than {MAX_MONTHS:,} months (250 000 years)",
                column=model.stages[too_far],
                value=months[too_far],
            )
        month_landing: IntArray = add_months(as_of, months)[codes]
        return month_landing
    days = np.asarray([*model.days_to_close, 0.0, 0.0], dtype=np.float64)
    span = np.round(days * US_PER_DAY)
    too_far = first_true(as_of_us + span >= _LIMIT)
    if too_far is not None:
        raise ConfigError(
            f"days to close of stage {model.stages[too_far]!r} == {days[too_far]!r} take the "
            "landing date beyond the dates a microsecond count can hold (year 294 000)",
            column=model.stages[too_far],
            value=days[too_far],
        )
    per_stage = as_of_us + span.astype(np.int64)
    out: IntArray = per_stage[codes]
    return out
