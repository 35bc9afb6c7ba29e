"""Monte-Carlo ranges of pipeline revenue per period: how much may land, and when.

Each draw decides every deal independently: it is won with its stage's probability of winning
(a won deal with probability 1, a lost one never) and, if won, lands after a random time whose
mean is the stage's days to close (or on the deal's own close date). Revenue landing in each
period is summed per draw; the result reports the mean and the 10th, 50th and 90th percentiles
over the draws, per period and for the total.

Draws are processed in chunks (bounded memory) and every draw has its own random stream,
spawned from ``seed`` with :meth:`numpy.random.SeedSequence.spawn`: the result does not depend on
``chunk_size``, and the first ``k`` draws are the same whatever ``n_draws`` is.

The steps, each a function below: check the options, parse the deals (``_deals``), plan the
draws (:func:`_plan`: who may win, who lands at a fixed time, who at a random one), draw chunk
by chunk into a (draw, period) revenue table (:func:`_draw_chunk`, :class:`_Revenue`), and
summarise it (:func:`_summarise`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from numbers import Integral
from typing import Any, Final, Literal

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._compat import renamed_parameters
from crmcore._frames import check_choice, check_scalar, require_columns, show
from crmcore._memory import normal_pages
from crmcore._periods import canonical_period
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.errors import ConfigError, InputTypeError
from crmcore.money import from_minor_units
from crmcore.pipeline._dates import (
    MAX_HORIZON,
    US_PER_DAY,
    add_months,
    check_horizon,
    period_grid,
    timestamp_micros,
)
from crmcore.pipeline._deals import Deals, ModelArg, parse_deals, per_stage
from crmcore.pipeline._landing import Landing, landing_rules
from crmcore.pipeline.stages import StageModel

__all__ = ["MAX_DRAWS", "Percentiles", "PipelineSimulation", "simulate_pipeline"]

Duration = Literal["exponential", "gamma", "stages", "fixed"]
Progress = Callable[[int, int], object]
FloatArray = npt.NDArray[np.float64]
IntpArray = npt.NDArray[np.intp]

#: The most draws one call accepts. The (draw, period) revenue table holds
#: ``n_draws * periods`` floats: 1 000 000 draws of 36 months take 288 MB.
MAX_DRAWS: Final = 1_000_000
# Elements (deals x draws) handled at once by default: a few arrays of this size stay ~100 MB.
_CHUNK_ELEMENTS: Final = 1 << 21
# Cells of the (draw, period) revenue table: 2**27 floats are 1 GiB.
_MAX_CELLS: Final = 1 << 27
# Landing days looked up in a day -> period table up to this many days, by binary search beyond.
_DAY_TABLE: Final = 1 << 20
_QUANTILES: Final = (0.1, 0.5, 0.9)


@attrs.frozen(kw_only=True)
class Percentiles:
    """Mean and 10th, 50th and 90th percentiles of a revenue figure over the draws.

    Examples
    --------
    >>> import numpy as np
    >>> p = Percentiles.of(np.array([0.0, 10.0, 20.0, 30.0, 40.0]))
    >>> p
    Percentiles(mean=20.0, p10=4.0, p50=20.0, p90=36.0)
    >>> p.to_dict()["p90"]
    36.0
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    mean: float
    p10: float
    p50: float
    p90: float

    def to_dict(self) -> dict[str, float]:
        """Return the four figures as a dict with keys ``mean``, ``p10``, ``p50``, ``p90``."""
        return {"mean": self.mean, "p10": self.p10, "p50": self.p50, "p90": self.p90}

    @classmethod
    def of(cls, values: FloatArray) -> Percentiles:
        """Mean and percentiles (linear interpolation) of one value per draw."""
        q = np.quantile(values, _QUANTILES)
        return cls(mean=float(values.mean()), p10=float(q[0]), p50=float(q[1]), p90=float(q[2]))


def _same_frame(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return a.equals(b)


@attrs.frozen(kw_only=True)
class PipelineSimulation:
    """Revenue ranges per period from :func:`simulate_pipeline`, with the draws behind them.

    Attributes
    ----------
    table
        Indexed by ``period`` (period starts, consecutive from the period holding ``as_of``
        to the horizon, or without one to the last period in which any draw lands revenue),
        columns ``mean``, ``p10``, ``p50`` and ``p90`` (float64) over the draws.
    total
        The same four figures for the total revenue of each draw, after the horizon included
        (the percentiles of the total are *not* the sums of the per-period percentiles).
    later
        The same four figures for the revenue landing after the horizon (zero without one).
    n_draws
        Number of draws.
    seed
        The seed that reproduces this result when passed as ``seed=`` (the given int; the
        fresh entropy when ``seed`` was ``None``; the number drawn from a Generator).
    as_of, period, horizon
        The forecast date (a Timestamp), the period code and the horizon (``None``: none).
    reporting_currency
        Currency of the amounts when known, else ``None``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import StageModel, simulate_pipeline
    >>> model = StageModel.from_conversion_rates(["bid"], [0.5], [10])
    >>> deals = pd.DataFrame({"opportunity_id": [1, 2], "stage": ["bid", "won"],
    ...                       "amount": [100.0, 40.0]})
    >>> sim = simulate_pipeline(deals, model, as_of="2025-01-01", n_draws=1_000, seed=3,
    ...                         duration="fixed")
    >>> sim.n_draws, sim.seed, sim.period, round(sim.total.mean, -1)
    (1000, 3, 'M', 90.0)
    >>> sim.table[["p10", "p90"]]
                  p10    p90
    period
    2025-01-01   40.0  140.0
    """

    _repr_html_ = attrs_repr_html

    table: pd.DataFrame = attrs.field(eq=attrs.cmp_using(eq=_same_frame), hash=False)
    total: Percentiles
    later: Percentiles
    n_draws: int
    seed: int
    as_of: pd.Timestamp
    period: str
    horizon: int | None
    reporting_currency: Any

    def __repr__(self) -> str:
        def figures(p: Percentiles) -> str:
            return ", ".join(f"{k} {v:,.2f}" for k, v in p.to_dict().items())

        return "\n".join(
            [
                (
                    f"PipelineSimulation(n_draws={self.n_draws}, seed={self.seed}, "
                    f"as_of={self.as_of}, period={self.period!r}, horizon={self.horizon!r}, "
                    f"reporting_currency={self.reporting_currency!r})"
                ),
                f"total: {figures(self.total)}",
                f"later: {figures(self.later)}",
                repr(self.table),
            ]
        )


def _root_seed(seed: object) -> tuple[np.random.SeedSequence, int]:
    """Return the root of every draw's stream, and the int seed that recreates it."""
    if seed is None:
        root = np.random.SeedSequence()
        return root, int(root.entropy)  # type: ignore[arg-type]  # an int when made from None
    if isinstance(seed, np.random.Generator):
        # 126 bits drawn from the caller's generator, as one reusable int.
        value = (int(seed.integers(0, 2**63)) << 63) | int(seed.integers(0, 2**63))
        return np.random.SeedSequence(value), value
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, Integral) or int(seed) < 0:
        raise ConfigError(
            f"seed must be None, an int >= 0 or a numpy Generator, got {show(seed)}",
            column="seed",
            value=seed,
        )
    return np.random.SeedSequence(int(seed)), int(seed)


def _check_options(
    n_draws: object, chunk_size: object, duration: object, shape: object, progress: object
) -> None:
    check_scalar(n_draws, "n_draws", kind=int, min_value=1)
    if int(n_draws) > MAX_DRAWS:  # type: ignore[call-overload]  # an int, checked above
        raise ConfigError(
            f"n_draws == {n_draws}, must be <= {MAX_DRAWS:,}: the per-draw revenue table "
            "would not fit in memory; the standard error falls with the square root of "
            "n_draws, so 100 000 draws already give it to 0.3 % of one draw's spread",
            column="n_draws",
            value=n_draws,
        )
    if chunk_size is not None:
        check_scalar(chunk_size, "chunk_size", kind=int, min_value=1)
    check_choice(duration, "duration", ("exponential", "gamma", "stages", "fixed"))
    check_scalar(shape, "shape", kind=float, min_value=0.0, include="neither")
    if not math.isfinite(float(shape)):  # type: ignore[arg-type]  # a real, checked above
        raise ConfigError(f"shape == {shape!r}, must be finite", column="shape", value=shape)
    if progress is not None and not callable(progress):
        raise ConfigError(
            f"progress must be None or a function progress(done, total), got "
            f"{type(progress).__name__}",
            column="progress",
        )


@attrs.frozen(kw_only=True, eq=False)
class _Plan:
    """Everything a draw needs, deals in draw order: random landing times first, then fixed.

    Deals are taken in opportunity-id order, so the row order of the input never changes the
    result. ``scale`` turns a standard exponential or gamma variate into the unit of each
    random-timing deal's model; with ``duration="stages"``, ``stage_means`` holds the mean
    stay in each stage still ahead of each of them. ``months`` marks the random-timing deals
    whose model counts calendar months (``to_days`` maps them onto the calendar from
    ``as_of``). ``fixed_days`` are the landing times (days from ``as_of``) of the others.
    """

    amounts: FloatArray
    probs: FloatArray
    n_rand: int
    scale: FloatArray
    stage_means: FloatArray | None
    fixed_days: FloatArray
    duration: str
    shape: float
    as_of: pd.Timestamp
    months: npt.NDArray[np.bool_]

    def to_days(self, t: FloatArray) -> FloatArray:
        """Drawn times (draw, deal) in each model's unit as days after ``as_of``."""
        if not self.months.any():
            return t
        t[:, self.months] = _month_days(self.as_of, t[:, self.months])
        return t


def _month_days(as_of: pd.Timestamp, months: FloatArray) -> FloatArray:
    """Days from ``as_of`` to ``as_of`` + ``months`` calendar months."""
    start = timestamp_micros(as_of, arg="as_of")
    days: FloatArray = (add_months(as_of, months) - start) / US_PER_DAY
    return days


def _plan(deals: Deals, rules: Landing, *, duration: str, shape: float, decimals: int) -> _Plan:
    weights, models = deals.weighted(), deals.models
    codes, proc, prob = weights.codes, weights.process, weights.probability
    amounts = np.asarray(from_minor_units(deals.money.cents, decimals), dtype=np.float64)
    mean_t = per_stage(models, [[*m.days_to_close, 0.0, 0.0] for m in models])[proc, codes]
    in_months = np.asarray([m.unit == "M" for m in models], dtype=bool)[proc]
    own_days = (rules.own_us - rules.as_of_us) / US_PER_DAY
    fixed_t = np.where(rules.has_own & ~rules.late, own_days, 0.0)
    if duration == "fixed":
        stage_t = mean_t.copy()
        stage_t[in_months] = _month_days(rules.as_of, mean_t[in_months])
        fixed_t = np.where(~rules.has_own, stage_t, fixed_t)
    random_t = deals.is_open & ~rules.has_own & (duration != "fixed")
    included = (prob > 0) & (amounts > 0) & ~rules.won_before
    by_id = deals.order()
    ordered = by_id[included[by_id]]
    random_first = random_t[ordered]
    order = np.concatenate([ordered[random_first], ordered[~random_first]])
    n_rand = int(random_first.sum())
    rand = order[:n_rand]
    scale = mean_t[rand] / (shape if duration == "gamma" else 1.0)
    stage_means = None
    if duration == "stages":
        # Mean stay in each stage still ahead of each random-timing deal (0 for stages behind).
        width = max(len(m.stages) for m in models)
        stays = per_stage(models, [m.stage_durations for m in models])[:, :width]
        stage_means = np.where(
            np.arange(width)[:, None] >= codes[rand][None, :], stays[proc[rand]].T, 0.0
        )
        scale = np.ones(n_rand)
    return _Plan(
        amounts=amounts[order],
        probs=prob[order],
        n_rand=n_rand,
        scale=scale,
        stage_means=stage_means,
        fixed_days=fixed_t[order[n_rand:]],
        duration=duration,
        shape=shape,
        as_of=rules.as_of,
        months=in_months[rand],
    )


class _Grid:
    """Period starts as days from the first one; which period a landing time falls in.

    With a horizon the grid holds ``horizon + 1`` starts and period ``horizon`` means "later".
    Without, it grows (doubling) until it covers the latest landing.
    """

    def __init__(self, rules: Landing, period: str, horizon: int | None, n_draws: int) -> None:
        self.first = rules.first_start
        self.period = period
        self.horizon = horizon
        self.offset = (rules.as_of_us - rules.first_us) / US_PER_DAY  # as_of, days after start
        # The revenue table has one column per period: bound it before it outgrows memory.
        self.max_periods = max(1, min(MAX_HORIZON, _MAX_CELLS // n_draws))
        if horizon is not None and horizon + 1 > self.max_periods:
            raise ConfigError(
                f"horizon == {horizon} with n_draws == {n_draws}: a table of {n_draws:,} draws "
                f"x {horizon + 1:,} periods would not fit in memory; at most "
                f"{_MAX_CELLS:,} cells (pass a shorter horizon or fewer draws)",
                column="horizon",
                value=horizon,
            )
        self.edges = self._edges(horizon if horizon is not None else min(16, self.max_periods))

    def _edges(self, n: int) -> FloatArray:
        starts = period_grid(self.first, self.period, n=n)
        return np.asarray((starts - starts[0]) / pd.Timedelta(days=1), dtype=np.float64)

    def starts(self, n: int) -> pd.DatetimeIndex:
        """Return the first ``n`` period starts, named ``period``."""
        starts: pd.DatetimeIndex = period_grid(self.first, self.period, n=n)[:n]
        return starts

    def _cover(self, t_max: float) -> None:
        """Grow the grid (doubling) until it covers a landing ``t_max`` days after its start."""
        n = len(self.edges) - 1
        while self.edges[-1] <= t_max:
            if n >= self.max_periods:
                raise ConfigError(
                    f"simulated landings reach {t_max:,.0f} days after the first period, more "
                    f"than {self.max_periods:,} periods: the (draw, period) table would not "
                    "fit in memory; pass horizon= (revenue after it is reported as later) or "
                    "check the model's days to close",
                    column="horizon",
                )
            n = min(2 * n, self.max_periods)
            self.edges = self._edges(n)

    def periods_of(self, t: FloatArray) -> IntpArray:
        """Period of each landing time ``t`` (days from ``as_of``); ``t`` is overwritten."""
        if t.size == 0:
            return np.zeros(t.shape, dtype=np.intp)
        t += self.offset
        np.maximum(t, 0.0, out=t)  # rounding: nothing lands before the first period
        if self.horizon is None:
            self._cover(float(t.max()))
        else:
            np.minimum(t, self.edges[-1], out=t)  # everything beyond is "later"
        edges = self.edges
        if edges[-1] <= _DAY_TABLE and np.all(edges == np.floor(edges)):
            # Periods start at midnight: look the whole day up in a day -> period table, much
            # faster than a binary search per landing.
            day_of = t.astype(np.int64)
            table = np.searchsorted(edges, np.arange(int(day_of.max()) + 1), side="right") - 1
            return np.asarray(table[day_of], dtype=np.intp)
        return np.asarray(np.searchsorted(edges, t, side="right") - 1, dtype=np.intp)


def _landing_times(
    plan: _Plan, gen: np.random.Generator, u: FloatArray, t: FloatArray, stays: FloatArray
) -> None:
    """One draw: a uniform per deal (won if below its probability) and random landing days."""
    gen.random(out=u)
    if not plan.n_rand:
        return
    if plan.duration == "exponential":
        gen.standard_exponential(out=t)
    elif plan.duration == "gamma":
        gen.standard_gamma(plan.shape, out=t)
    else:
        assert plan.stage_means is not None  # "stages"
        gen.standard_exponential(out=stays)
        np.einsum("ij,ij->j", stays, plan.stage_means, out=t)


def _draw_chunk(
    plan: _Plan, grid: _Grid, fixed_period: IntpArray, children: list[np.random.SeedSequence]
) -> tuple[FloatArray, FloatArray]:
    """Revenue per (draw, period) and per draw for one chunk, one random stream per draw.

    The per-draw total is summed over the deals, not the periods, so it does not depend on
    the horizon or on how many periods the draws reach.
    """
    k, m = len(children), len(plan.amounts)
    if m == 0:
        return np.zeros((k, 1)), np.zeros(k)
    u = np.empty((k, m))
    t = np.empty((k, plan.n_rand))
    stays = np.empty((0 if plan.stage_means is None else plan.stage_means.shape[0], plan.n_rand))
    for r, child in enumerate(children):
        _landing_times(plan, np.random.Generator(np.random.PCG64(child)), u[r], t[r], stays)
    period = np.empty((k, m), dtype=np.intp)
    period[:, plan.n_rand :] = fixed_period
    if plan.n_rand:
        t *= plan.scale
        period[:, : plan.n_rand] = grid.periods_of(plan.to_days(t))
    n_periods = int(period.max()) + 1
    period += (np.arange(k) * n_periods)[:, None]
    weights = np.where(u < plan.probs, plan.amounts, 0.0)
    del u, t
    sums = np.bincount(period.ravel(), weights=weights.ravel(), minlength=k * n_periods)
    totals = np.asarray(weights.sum(axis=1), dtype=np.float64)
    return np.asarray(sums, dtype=np.float64).reshape(k, n_periods), totals


class _Revenue:
    """The (draw, period) revenue table, filled chunk by chunk; it widens as periods appear."""

    def __init__(self, n_draws: int, width: int) -> None:
        self.values = np.zeros((n_draws, width))
        self.totals = np.zeros(n_draws)
        self.row = 0

    def add(self, part: FloatArray, totals: FloatArray) -> None:
        k, width = part.shape
        self.totals[self.row : self.row + k] = totals
        if width > self.values.shape[1]:
            wider = np.zeros((self.values.shape[0], max(width, 2 * self.values.shape[1])))
            wider[: self.row, : self.values.shape[1]] = self.values[: self.row]
            self.values = wider
        self.values[self.row : self.row + k, :width] = part
        self.row += k


def _summarise(
    revenue: FloatArray, totals: FloatArray, grid: _Grid, horizon: int | None
) -> tuple[pd.DataFrame, Percentiles, Percentiles]:
    """Per-period table, total and later ranges from the (draw, period) revenue table."""
    if horizon is not None:
        shown = revenue[:, :horizon]
        later = revenue[:, horizon] if revenue.shape[1] > horizon else np.zeros(len(revenue))
    else:
        used = np.flatnonzero(revenue.any(axis=0))
        shown = revenue[:, : int(used[-1]) + 1 if used.size else 1]
        later = np.zeros(len(revenue))
    q = np.quantile(shown, _QUANTILES, axis=0)
    table = pd.DataFrame(
        {"mean": shown.mean(axis=0), "p10": q[0], "p50": q[1], "p90": q[2]},
        index=grid.starts(shown.shape[1]),
    )
    return table, Percentiles.of(totals), Percentiles.of(later)


@renamed_parameters(freq="period")
@normal_pages
def simulate_pipeline(
    opportunities: pd.DataFrame,
    model: ModelArg,
    *,
    as_of: object,
    n_draws: int = 10_000,
    seed: int | np.random.Generator | None = None,
    period: str = "M",
    horizon: int | None = None,
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    amount: str = "amount",
    process: str = "process",
    close_date: str | None = None,
    duration: Duration = "exponential",
    shape: float = 2.0,
    currency: str | None = None,
    rates: Mapping[Any, float] | None = None,
    reporting_currency: Any = None,
    decimals: int = 2,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> PipelineSimulation:
    """Simulate which deals win and when they land; report revenue ranges per period.

    In every draw, deal ``j`` is won with probability ``p_j`` (its stage's win probability;
    1 for won deals, 0 for lost ones) and, when won, lands ``t_j`` days after ``as_of``:

    * on its own ``close_date`` when it has one (an open deal whose close date is before the
      ``as_of`` day is overdue and lands on ``as_of``);
    * else ``t_j`` is drawn with mean ``d_j`` = the stage's days to close: exponential with mean
      ``d_j`` (default), gamma with the given ``shape`` and mean ``d_j``, the sum of one
      exponential stay per remaining stage with the model's ``stage_durations`` as means
      (``"stages"``: the process :func:`~crmcore.datasets.stage_history` simulates, less
      spread than one exponential), or exactly ``d_j`` (``"fixed"``, the landing date of
      :func:`~crmcore.pipeline.close_schedule`);
    * a won deal without a close date lands on ``as_of``; a won deal closed before the
      ``as_of`` period is history and is left out, as in ``close_schedule``.

    With a model in calendar months (``unit="M"``), ``t_j`` is drawn the same way in months
    (a continuous duration with the model's means in months) and mapped through the calendar:
    ``as_of`` + the whole months of ``t_j`` as calendar months (the same day of the month, or
    the month's last day), plus the fraction of the next month's days. So ``"fixed"`` lands
    exactly where :func:`~crmcore.pipeline.close_schedule` does.

    Amounts are rounded to the minor unit first, as in
    :func:`~crmcore.pipeline.weighted_pipeline`. Over many draws the mean total tends to the
    weighted pipeline ``sum(p_j * amount_j)``, with standard error
    ``sqrt(sum(p_j (1 - p_j) amount_j**2) / n_draws)``.

    Parameters
    ----------
    opportunities
        One row per deal: id, stage (a model stage, ``model.won`` or ``model.lost``), amount
        and optionally a close date (NaT: none).
    model
        The stage model giving win probabilities and times to close; or a mapping from each
        sales process to its stage model, the ``process`` column saying which one each deal
        follows (models in days and in months may be mixed).
    as_of
        Forecast date (required); periods start with the one holding it.
    n_draws
        Number of Monte-Carlo draws, 1 to :data:`MAX_DRAWS` (1 000 000).
    seed
        ``None`` (fresh entropy), an int >= 0 or a :class:`numpy.random.Generator` (consumed:
        two integers are drawn from it). Same int, same result; the result's ``seed`` field
        reproduces any run.
    period
        Calendar period: ``"D"``, ``"W"`` (weeks from Monday), ``"M"`` (default), ``"Q"`` or
        ``"Y"``; pandas aliases (``"MS"``, ``"QS"``, ``"W-MON"``) are accepted. (Formerly
        ``freq``; the old name still works for one release, with a ``DeprecationWarning``.)
    horizon
        Number of periods in the table, from the one holding ``as_of``; ``None`` (default):
        up to the last period any draw lands revenue in. Revenue after the horizon is in
        ``later`` (and in ``total``), never dropped. A horizon also bounds the memory of the
        per-draw table to ``n_draws * (horizon + 1)`` floats.
    opportunity, stage, amount, close_date
        Column names; ``close_date=None`` means no own close dates.
    process
        With a mapping of models: the column of each deal's sales process (see
        :func:`~crmcore.pipeline.weighted_pipeline`).
    duration
        ``"exponential"`` (default), ``"gamma"``, ``"stages"`` or ``"fixed"``.
    shape
        Gamma shape (> 0); larger means less spread around the mean.
    currency, rates, reporting_currency, decimals
        As in :func:`~crmcore.pipeline.pipeline_by_stage`: several currencies need ``rates``.
    chunk_size
        Draws per chunk; default so that a chunk holds about two million deal-draws. Memory
        grows with ``chunk_size * deals`` plus ``n_draws * periods``; the result does not
        depend on it.
    progress
        Optional function called after every chunk as ``progress(done, total)`` with the
        number of draws done so far and ``n_draws``.

    Returns
    -------
    PipelineSimulation
        ``table`` indexed by ``period`` (period starts), columns ``mean``, ``p10``, ``p50``
        and ``p90`` (float64): the mean and percentiles (linear interpolation) over the draws
        of the revenue landing in that period; ``total`` and ``later`` (mean and percentiles
        of each draw's total, and of its revenue after the horizon), ``n_draws``, ``seed``,
        ``as_of``, ``period``, ``horizon`` and ``reporting_currency``.

    Raises
    ------
    InputTypeError
        ``opportunities`` is not a DataFrame or ``model`` not a StageModel.
    SchemaError
        A column is missing or the table is empty.
    DataError
        Missing or duplicated ids, unknown stages, negative or missing amounts, bad dates.
    CurrencyError
        Several currencies without rates, or a currency missing from ``rates``.
    ConfigError
        Missing ``as_of``, or a bad ``n_draws`` (above :data:`MAX_DRAWS` included), ``seed``,
        ``period``, ``horizon``, ``duration``, ``shape``, ``chunk_size`` or ``progress``; a
        (draw, period) table beyond 2**27 cells (1 GiB) or 100 000 periods, which a
        ``horizon`` avoids.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import StageModel, simulate_pipeline
    >>> model = StageModel.from_conversion_rates(
    ...     ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [60, 30, 30])
    >>> deals = pd.DataFrame({"opportunity_id": [1, 2, 3],
    ...                       "stage": ["prospect", "bid", "negotiation"],
    ...                       "amount": [500_000.0, 250_000.0, 200_000.0]})
    >>> sim = simulate_pipeline(deals, model, as_of="2025-01-01", n_draws=2_000, seed=7,
    ...                         period="Q", duration="fixed")
    >>> sim.table.round(-3)  # expected: Q1 180 000 + 180 000, Q2 180 000 (day 120 = May 1)
                    mean       p10       p50       p90
    period
    2025-01-01  359000.0  200000.0  450000.0  450000.0
    2025-04-01  188000.0       0.0       0.0  500000.0
    >>> sim.total  # expectation 3 x 180 000 = 540 000
    Percentiles(mean=546825.0, p10=200000.0, p50=450000.0, p90=950000.0)
    """
    opportunities = require_columns(opportunities, [], arg="opportunities")
    if not isinstance(model, StageModel | Mapping):
        raise InputTypeError(
            f"model must be a StageModel or a mapping process -> StageModel, got "
            f"{type(model).__name__}"
        )
    columns = [opportunity, stage, amount] + ([] if close_date is None else [close_date])
    columns += [] if isinstance(model, StageModel) else [process]
    opportunities = require_columns(opportunities, columns, arg="opportunities")
    _check_options(n_draws, chunk_size, duration, shape, progress)
    code = canonical_period(period)
    horizon = check_horizon(horizon)
    root, seed_value = _root_seed(seed)
    if as_of is None:
        raise ConfigError("as_of is required: the date the forecast starts from", column="as_of")
    deals = parse_deals(
        opportunities,
        model=model,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        process=process,
        close_date=close_date,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
    )
    rules = landing_rules(deals, as_of=as_of, period=code, close_date=close_date)
    plan = _plan(deals, rules, duration=duration, shape=float(shape), decimals=decimals)
    grid = _Grid(rules, code, horizon, int(n_draws))
    fixed_period = grid.periods_of(plan.fixed_days.copy())
    m = len(plan.amounts)
    per_chunk = chunk_size if chunk_size is not None else max(1, _CHUNK_ELEMENTS // max(m, 1))
    revenue = _Revenue(n_draws, 1 if horizon is None else horizon + 1)
    while revenue.row < n_draws:
        # Spawning chunk by chunk gives the same children as one spawn(n_draws).
        children = root.spawn(min(per_chunk, n_draws - revenue.row))
        revenue.add(*_draw_chunk(plan, grid, fixed_period, children))
        if progress is not None:
            progress(revenue.row, n_draws)
    table, total, later = _summarise(revenue.values, revenue.totals, grid, horizon)
    return PipelineSimulation(
        table=table,
        total=total,
        later=later,
        n_draws=int(n_draws),
        seed=seed_value,
        as_of=rules.as_of,
        period=code,
        horizon=horizon,
        reporting_currency=deals.money.reporting,
    )
