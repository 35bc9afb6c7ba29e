"""Stage models: ordered open stages with their odds of winning and time to close."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import pandas as pd

from crmcore._config import check_config_keys
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.errors import ConfigError

__all__ = ["UNITS", "StageModel"]

#: Units of a stage model's times: days, or calendar months.
UNITS = ("D", "M")
_UNIT_NAMES = {"D": "days", "M": "calendar months"}


def _as_unit(value: object) -> str:
    text = value.upper() if isinstance(value, str) else value
    if text not in UNITS:
        raise ConfigError(
            f"unit == {value!r}, must be 'D' (days) or 'M' (calendar months)",
            column="unit",
            value=value,
        )
    return str(text)


def _as_name_tuple(value: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ConfigError("stages must be a sequence of stage names, not a single string")
    try:
        return tuple(value)
    except TypeError:
        raise ConfigError(
            f"stages must be a sequence of stage names, got {type(value).__name__} {value!r}",
            column="stages",
            value=value,
        ) from None


def _as_optional_float_tuple(value: Sequence[float] | str | None) -> tuple[float, ...] | None:
    return None if value is None else _as_float_tuple(value)


def _as_float_tuple(value: Sequence[float] | str) -> tuple[float, ...]:
    if isinstance(value, str):
        raise ConfigError(f"expected a sequence of numbers, got the string {value!r}")
    try:
        items = list(value)
    except TypeError:
        raise ConfigError(f"expected a sequence of numbers, got {value!r}") from None
    for v in items:
        if isinstance(v, bool | np.bool_):  # True is not the number 1.0
            raise ConfigError(f"expected numbers, got the boolean {v!r} in {value!r}", value=v)
    try:
        return tuple(float(v) for v in items)
    except (TypeError, ValueError):
        raise ConfigError(f"expected a sequence of numbers, got {value!r}") from None


@attrs.frozen(kw_only=True)
class StageModel:
    """Ordered open sales stages, each with its probability of eventually winning and time to close.

    A deal in stage ``i`` wins with probability ``win_probabilities[i]`` and, if it does, is
    expected to close ``days_to_close[i]`` units of time (days, or calendar months with
    ``unit="M"``) after it entered stage ``i`` (the time it spends in stage ``i`` and every
    later stage). The probabilities are *cumulative* odds of winning
    from that stage, not the odds of advancing one step: build the model from step conversion
    rates with :meth:`from_conversion_rates`.

    Parameters
    ----------
    stages
        Open stage names in funnel order (first to last); unique, non-empty text.
    win_probabilities
        Probability of eventually winning from each stage, in [0, 1], non-decreasing along the
        funnel (a deal further along cannot be less likely to win under a sequential funnel).
    days_to_close
        Expected time from entering each stage to closing, in ``unit`` (days by default; the
        name is kept from when days were the only unit), finite, >= 0, non-increasing.
    won
        Name of the terminal won stage (default ``"won"``); a won deal counts with probability 1.
    lost
        Name of the terminal lost stage (default ``"lost"``); a lost deal counts with 0.
    rates
        Optional step conversion rates the probabilities were built from (set by
        :meth:`from_conversion_rates`). When given they must multiply out to the win
        probabilities (within 1e-9) and :attr:`conversion_rates` returns them exactly; otherwise
        the rates are derived from the probabilities, which loses them where a later stage's
        win probability is 0.
    unit
        ``"D"`` (default): ``days_to_close`` counts days; ``"M"``: calendar months, so a deal
        lands on the same day of a later month (31 January + 1 month = 28 or 29 February,
        the end of the month; a fraction of a month is a share of the next month's days).
        Lower case is accepted.

    Raises
    ------
    ConfigError
        Lengths differ, names repeat, a probability is outside [0, 1], or orders are violated.

    Examples
    --------
    >>> from crmcore.pipeline import StageModel
    >>> m = StageModel.from_conversion_rates(
    ...     ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [60, 30, 30])
    >>> [round(p, 4) for p in m.win_probabilities]
    [0.36, 0.72, 0.9]
    >>> m.days_to_close
    (120.0, 60.0, 30.0)
    >>> StageModel.from_dict(m.to_dict()) == m
    True

    The funnel "2 months in prospecting, 1 in bidding, 1 in negotiation":

    >>> StageModel.from_conversion_rates(
    ...     ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [2, 1, 1], unit="M"
    ... ).days_to_close
    (4.0, 2.0, 1.0)
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    stages: tuple[str, ...] = attrs.field(converter=_as_name_tuple)
    win_probabilities: tuple[float, ...] = attrs.field(converter=_as_float_tuple)
    days_to_close: tuple[float, ...] = attrs.field(converter=_as_float_tuple)
    won: str = "won"
    lost: str = "lost"
    rates: tuple[float, ...] | None = attrs.field(default=None, converter=_as_optional_float_tuple)
    unit: str = attrs.field(default="D", converter=_as_unit)

    def __attrs_post_init__(self) -> None:
        n = len(self.stages)
        if n == 0:
            raise ConfigError("stages is empty; a stage model needs at least one open stage")
        if len(self.win_probabilities) != n or len(self.days_to_close) != n:
            raise ConfigError(
                f"stages, win_probabilities and days_to_close must have equal lengths, got "
                f"{n}, {len(self.win_probabilities)} and {len(self.days_to_close)}"
            )
        for name in (*self.stages, self.won, self.lost):
            if not isinstance(name, str) or not name:
                raise ConfigError(f"stage names must be non-empty text, got {name!r}", value=name)
        seen: set[str] = set()
        for name in self.stages:
            if name in seen:
                raise ConfigError(f"stage {name!r} appears twice; names must be unique", value=name)
            seen.add(name)
        if self.won == self.lost:
            raise ConfigError(f"won and lost must differ, both are {self.won!r}")
        for terminal in (self.won, self.lost):
            if terminal in seen:
                raise ConfigError(
                    f"terminal stage {terminal!r} is also listed as an open stage", value=terminal
                )
        for stage, p in zip(self.stages, self.win_probabilities, strict=True):
            if not (0.0 <= p <= 1.0):
                raise ConfigError(
                    f"win probability of stage {stage!r} == {p!r}, must be in [0, 1]",
                    column=stage,
                    value=p,
                )
        for stage, d in zip(self.stages, self.days_to_close, strict=True):
            if not (math.isfinite(d) and d >= 0):
                raise ConfigError(
                    f"time to close of stage {stage!r} == {d!r}, must be finite and >= 0",
                    column=stage,
                    value=d,
                )
        if self.rates is not None:
            self._check_rates(self.rates)
        for i in range(n - 1):
            a, b = self.stages[i], self.stages[i + 1]
            if self.win_probabilities[i] > self.win_probabilities[i + 1] + 1e-12:
                raise ConfigError(
                    f"win probability falls from {self.win_probabilities[i]!r} at stage {a!r} to "
                    f"{self.win_probabilities[i + 1]!r} at later stage {b!r}; cumulative win "
                    "probabilities must not decrease along the funnel (did you give step "
                    "conversion rates? use StageModel.from_conversion_rates)",
                    column=b,
                    value=self.win_probabilities[i + 1],
                )
            if self.days_to_close[i] < self.days_to_close[i + 1] - 1e-9:
                raise ConfigError(
                    f"times to close rise from {self.days_to_close[i]!r} at stage {a!r} to "
                    f"{self.days_to_close[i + 1]!r} at later stage {b!r}; they must not increase",
                    column=b,
                    value=self.days_to_close[i + 1],
                )

    def _check_rates(self, rates: tuple[float, ...]) -> None:
        if len(rates) != len(self.stages):
            raise ConfigError(
                f"rates must have one entry per stage ({len(self.stages)}), got {len(rates)}"
            )
        for stage, rate in zip(self.stages, rates, strict=True):
            if not (0.0 <= rate <= 1.0):
                raise ConfigError(
                    f"conversion rate of stage {stage!r} == {rate!r}, must be in [0, 1]",
                    column=stage,
                    value=rate,
                )
        implied = np.cumprod(np.asarray(rates[::-1], dtype=np.float64))[::-1]
        for stage, p, q in zip(self.stages, self.win_probabilities, implied, strict=True):
            if abs(p - q) > 1e-9:
                raise ConfigError(
                    f"rates multiply out to win probability {float(q)!r} at stage {stage!r}, "
                    f"but win_probabilities gives {p!r}; they must agree",
                    column=stage,
                    value=p,
                )

    @classmethod
    def from_conversion_rates(
        cls,
        stages: Sequence[str],
        rates: Sequence[float],
        durations: Sequence[float],
        *,
        won: str = "won",
        lost: str = "lost",
        unit: str = "D",
    ) -> StageModel:
        """Build a model from step conversion rates and time spent in each stage.

        ``rates[i]`` is P(advance from stage ``i`` to the next); the last rate is P(win from the
        last stage). ``durations[i]`` is the expected time spent in stage ``i``, in ``unit``
        (``"D"`` days, default; ``"M"`` calendar months). Then the win probability of stage
        ``i`` is ``rates[i] * rates[i+1] * ... * rates[-1]`` and its time to close is
        ``durations[i] + ... + durations[-1]``.

        Raises
        ------
        ConfigError
            Lengths differ, a rate is outside [0, 1] or a duration is negative or not finite.

        Examples
        --------
        >>> from crmcore.pipeline import StageModel
        >>> m = StageModel.from_conversion_rates(["a", "b"], [0.5, 0.5], [10, 5])
        >>> m.win_probabilities, m.days_to_close
        ((0.25, 0.5), (15.0, 5.0))
        """
        names = _as_name_tuple(stages)
        r = _as_float_tuple(rates)
        d = _as_float_tuple(durations)
        if not (len(names) == len(r) == len(d)):
            raise ConfigError(
                f"stages, rates and durations must have equal lengths, got "
                f"{len(names)}, {len(r)} and {len(d)}"
            )
        for stage, rate in zip(names, r, strict=True):
            if not (0.0 <= rate <= 1.0):
                raise ConfigError(
                    f"conversion rate of stage {stage!r} == {rate!r}, must be in [0, 1]",
                    column=stage,
                    value=rate,
                )
        for stage, days in zip(names, d, strict=True):
            if not (math.isfinite(days) and days >= 0):
                raise ConfigError(
                    f"duration of stage {stage!r} == {days!r}, must be finite and >= 0",
                    column=stage,
                    value=days,
                )
        probs = np.cumprod(np.asarray(r[::-1], dtype=np.float64))[::-1]
        days_left = np.cumsum(np.asarray(d[::-1], dtype=np.float64))[::-1]
        return cls(
            stages=names,
            win_probabilities=tuple(float(p) for p in probs),
            days_to_close=tuple(float(x) for x in days_left),
            won=won,
            lost=lost,
            rates=r,
            unit=unit,
        )

    @property
    def conversion_rates(self) -> tuple[float, ...]:
        """Step conversion rates in stage order: P(advance to the next stage), last = P(win).

        The rates the model was built from when it has them (:meth:`from_conversion_rates`);
        otherwise derived as ``p[i] / p[i + 1]``, reported as 0.0 where the next stage's win
        probability is 0.

        Examples
        --------
        >>> from crmcore.pipeline import StageModel
        >>> StageModel(stages=["a", "b"], win_probabilities=[0.2, 0.5],
        ...            days_to_close=[30, 10]).conversion_rates
        (0.4, 0.5)
        """
        if self.rates is not None:
            return self.rates
        p = self.win_probabilities
        out = [p[i] / p[i + 1] if p[i + 1] > 0 else 0.0 for i in range(len(p) - 1)]
        out.append(p[-1])
        return tuple(out)

    @property
    def stage_durations(self) -> tuple[float, ...]:
        """Expected time spent in each stage, in ``unit`` (differences of ``days_to_close``).

        Examples
        --------
        >>> from crmcore.pipeline import StageModel
        >>> StageModel.from_conversion_rates(["a", "b"], [1, 1], [7, 3]).stage_durations
        (7.0, 3.0)
        """
        d = self.days_to_close
        return (*(d[i] - d[i + 1] for i in range(len(d) - 1)), d[-1])

    def probability(self, stage: str) -> float:
        """Win probability of one stage; 1 for the won stage, 0 for the lost stage.

        Raises
        ------
        ConfigError
            The stage is not part of the model.

        Examples
        --------
        >>> from crmcore.pipeline import StageModel
        >>> m = StageModel.from_conversion_rates(["a", "b"], [0.5, 0.5], [10, 5])
        >>> m.probability("b"), m.probability("won"), m.probability("lost")
        (0.5, 1.0, 0.0)
        """
        self._check(stage)
        if stage == self.won:
            return 1.0
        if stage == self.lost:
            return 0.0
        return self.win_probabilities[self.stages.index(stage)]

    def _check(self, stage: str) -> str:
        if stage not in (*self.stages, self.won, self.lost):
            known = ", ".join(repr(s) for s in (*self.stages, self.won, self.lost))
            raise ConfigError(f"unknown stage {stage!r}; the model knows {known}", value=stage)
        return stage

    def to_frame(self, *, include_terminal: bool = False) -> pd.DataFrame:
        """Return the model as a table indexed by stage.

        Columns ``order`` (0-based position; won and lost after the open stages),
        ``conversion_rate``, ``win_probability``, ``stage_days`` and ``days_to_close`` (both in
        the model's ``unit``: months when it is ``"M"``).
        With ``include_terminal`` the won (probability 1) and lost (0) stages are added, both
        with 0 days to close and a conversion rate of NaN.

        Examples
        --------
        >>> from crmcore.pipeline import StageModel
        >>> m = StageModel.from_conversion_rates(["a", "b"], [0.5, 0.5], [10, 5])
        >>> m.to_frame()
               order  conversion_rate  win_probability  stage_days  days_to_close
        stage
        a          0              0.5             0.25        10.0           15.0
        b          1              0.5             0.50         5.0            5.0
        """
        n = len(self.stages)
        frame = pd.DataFrame(
            {
                "order": np.arange(n, dtype=np.int64),
                "conversion_rate": np.asarray(self.conversion_rates, dtype=np.float64),
                "win_probability": np.asarray(self.win_probabilities, dtype=np.float64),
                "stage_days": np.asarray(self.stage_durations, dtype=np.float64),
                "days_to_close": np.asarray(self.days_to_close, dtype=np.float64),
            },
            index=pd.Index(list(self.stages), name="stage", dtype=object),
        )
        if include_terminal:
            terminal = pd.DataFrame(
                {
                    "order": np.array([n, n + 1], dtype=np.int64),
                    "conversion_rate": [np.nan, np.nan],
                    "win_probability": [1.0, 0.0],
                    "stage_days": [0.0, 0.0],
                    "days_to_close": [0.0, 0.0],
                },
                index=pd.Index([self.won, self.lost], name="stage", dtype=object),
            )
            frame = pd.concat([frame, terminal])
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (lists, floats, text) that :meth:`from_dict` reads back.

        Examples
        --------
        >>> from crmcore.pipeline import StageModel
        >>> StageModel.from_conversion_rates(["a"], [0.5], [10]).to_dict()
        {'stages': ['a'], 'win_probabilities': [0.5], 'days_to_close': [10.0], 'won': 'won', \
'lost': 'lost', 'rates': [0.5], 'unit': 'D'}
        """
        return {
            "stages": list(self.stages),
            "win_probabilities": list(self.win_probabilities),
            "days_to_close": list(self.days_to_close),
            "won": self.won,
            "lost": self.lost,
            "rates": None if self.rates is None else list(self.rates),
            "unit": self.unit,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageModel:
        """Rebuild a model from :meth:`to_dict` output; unknown keys are an error.

        Examples
        --------
        >>> from crmcore.pipeline import StageModel
        >>> StageModel.from_dict({"stages": ["a"], "win_probabilities": [0.5],
        ...                       "days_to_close": [10]}).probability("a")
        0.5
        """
        required = ("stages", "win_probabilities", "days_to_close")
        return cls(**check_config_keys(cls, data, required))
