"""Monte-Carlo ranges of pipeline revenue per period: how much may land, and when.

Each draw decides every deal independently: it is won with its stage's probability of winning
(a won deal with probability 1, a lost one never) and, if won, lands after a random time whose
mean is the stage's days to close (or on the deal's own close date). Revenue landing in each
period is summed per draw; the result reports the mean and the 10th, 50th and 90th percentiles
over the draws.

Draws are processed in chunks (bounded memory) and every draw has its own random stream,
spawned from ``seed`` with :meth:`numpy.random.SeedSequence.spawn`: the result does not depend on
``chunk_size``, and the first ``k`` draws are the same whatever ``n_draws`` is.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.tseries.offsets import BaseOffset

from crmcore._frames import (
    check_choice,
    check_scalar,
    datetime_column,
    describe_row,
    first_true,
    numeric_column,
    require_columns,
    require_not_null,
    require_unique,
    resolve_as_of,
    show,
)
from crmcore.errors import ConfigError, DataError, InputTypeError
from crmcore.pipeline.stages import StageModel

__all__ = ["simulate_pipeline"]

Duration = Literal["exponential", "gamma", "stages", "fixed"]

# Elements (deals x draws) handled at once by default: a few arrays of this size stay ~100 MB.
_CHUNK_ELEMENTS = 1 << 21
_QUANTILES = (0.1, 0.5, 0.9)


def _root_seed(seed: object) -> np.random.SeedSequence:
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=4).tolist())
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, Integral) or int(seed) < 0:
        raise ConfigError(
            f"seed must be None, an int >= 0 or a numpy Generator, got {show(seed)}",
            column="seed",
            value=seed,
        )
    return np.random.SeedSequence(int(seed))


def _offset(freq: str) -> BaseOffset:
    try:
        off = pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        off = None
    if off is None or getattr(off, "n", 1) != 1:
        raise ConfigError(
            f"freq={freq!r} is not a single pandas period such as 'MS', 'QS', 'W-MON' or 'D'",
            column="freq",
            value=freq,
        )
    return off


def _optional_dates(frame: pd.DataFrame, column: str, *, key: str) -> pd.Series:
    present = frame[column].notna().to_numpy()
    if not present.any():
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    parsed = datetime_column(frame.loc[present], column, arg="opportunities", key=key)
    out = pd.Series(pd.NaT, index=frame.index, dtype=parsed.dtype)
    out[present] = parsed.to_numpy()
    return out


def simulate_pipeline(
    opportunities: pd.DataFrame,
    model: StageModel,
    *,
    as_of: object,
    n_draws: int = 10_000,
    seed: int | np.random.Generator | None = None,
    freq: str = "MS",
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    amount: str = "amount",
    close_date: str | None = None,
    duration: Duration = "exponential",
    shape: float = 2.0,
    chunk_size: int | None = None,
) -> pd.DataFrame:
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

    Over many draws the mean total tends to the weighted pipeline ``sum(p_j * amount_j)``,
    with standard error ``sqrt(sum(p_j (1 - p_j) amount_j**2) / n_draws)``.

    Parameters
    ----------
    opportunities
        One row per deal: id, stage (a model stage, ``model.won`` or ``model.lost``), amount
        (one currency; convert first) and optionally a close date (NaT: none).
    model
        The stage model giving win probabilities and days to close.
    as_of
        Forecast date (required); periods start with the one holding it.
    n_draws
        Number of Monte-Carlo draws, >= 1.
    seed
        ``None`` (fresh entropy), an int >= 0 or a :class:`numpy.random.Generator` (consumed:
        four integers are drawn from it). Same int, same result.
    freq
        Period length as a pandas frequency: ``"MS"`` (months, default), ``"QS"``, ``"W-MON"``,
        ``"D"`` ...
    opportunity, stage, amount, close_date
        Column names; ``close_date=None`` means no own close dates.
    duration
        ``"exponential"`` (default), ``"gamma"``, ``"stages"`` or ``"fixed"``.
    shape
        Gamma shape (> 0); larger means less spread around the mean.
    chunk_size
        Draws per chunk; default so that a chunk holds about two million deal-draws. Memory
        grows with ``chunk_size * deals`` plus ``n_draws * periods``; the result does not
        depend on it.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period`` (period starts, consecutive from the period holding ``as_of`` to
        the last one in which any draw lands revenue), columns ``mean``, ``p10``, ``p50`` and
        ``p90`` (float64): the mean and percentiles (linear interpolation) over the draws of
        the revenue landing in that period. ``result.attrs["total"]`` holds the same four
        figures for the total over all periods (the percentiles of the total are *not* the sums
        of the per-period percentiles), and ``result.attrs["n_draws"]`` the number of draws.

    Raises
    ------
    InputTypeError
        ``opportunities`` is not a DataFrame or ``model`` not a StageModel.
    SchemaError
        A column is missing or the table is empty.
    DataError
        Missing or duplicated ids, unknown stages, negative or missing amounts, bad dates.
    ConfigError
        Missing ``as_of``, or a bad ``n_draws``, ``seed``, ``freq``, ``duration``, ``shape`` or
        ``chunk_size``.

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
    ...                         freq="QS", duration="fixed")
    >>> sim.round(-3)  # expected: Q1 180 000 + 180 000, Q2 180 000 (day 120 = May 1)
                    mean       p10       p50       p90
    period
    2025-01-01  359000.0  200000.0  450000.0  450000.0
    2025-04-01  188000.0       0.0       0.0  500000.0
    >>> sim.attrs["total"]  # expectation 3 x 180 000 = 540 000
    {'mean': 546825.0, 'p10': 200000.0, 'p50': 450000.0, 'p90': 950000.0}
    """
    require_columns(opportunities, [], arg="opportunities")
    if not isinstance(model, StageModel):
        raise InputTypeError(f"model must be a StageModel, got {type(model).__name__}")
    columns = [opportunity, stage, amount] + ([] if close_date is None else [close_date])
    require_columns(opportunities, columns, arg="opportunities")
    check_scalar(n_draws, "n_draws", kind=int, min_value=1)
    if chunk_size is not None:
        check_scalar(chunk_size, "chunk_size", kind=int, min_value=1)
    check_choice(duration, "duration", ("exponential", "gamma", "stages", "fixed"))
    check_scalar(shape, "shape", kind=float, min_value=0.0, include="neither")
    if not math.isfinite(float(shape)):
        raise ConfigError(f"shape == {shape!r}, must be finite", column="shape", value=shape)
    off = _offset(freq)
    root = _root_seed(seed)
    if as_of is None:
        raise ConfigError("as_of is required: the date the forecast starts from", column="as_of")

    arg = "opportunities"
    require_not_null(opportunities, opportunity, arg=arg)
    require_unique(opportunities, opportunity, arg=arg)
    require_not_null(opportunities, stage, arg=arg, key=opportunity)
    n_open = len(model.stages)
    lookup = pd.Index([*model.stages, model.won, model.lost], dtype=object)
    codes = lookup.get_indexer(pd.Index(opportunities[stage].to_numpy(dtype=object)))
    pos = first_true(codes < 0)
    if pos is not None:
        value = opportunities[stage].iloc[pos]
        known = ", ".join(repr(s) for s in lookup)
        raise DataError(
            f"column {stage!r} of {arg} has unknown stage {show(value)} at "
            f"{describe_row(opportunities, pos, opportunity)}; the model knows {known}",
            column=stage,
            row=opportunities.index[pos],
            value=value,
        )
    amounts = numeric_column(opportunities, amount, arg=arg, key=opportunity, allow_negative=False)
    if close_date is None:
        # no close dates: NaT in as_of's zone, so a tz-aware as_of is not a "mix"
        try:
            zone = pd.Timestamp(as_of).tz  # type: ignore[arg-type]  # resolve_as_of checks it
        except (ValueError, TypeError):
            zone = None
        naive = "datetime64[ns]"
        own = pd.Series(
            pd.NaT,
            index=opportunities.index,
            dtype=naive if zone is None else pd.DatetimeTZDtype("ns", zone),
        )
    else:
        own = _optional_dates(opportunities, close_date, key=opportunity)
    ts = resolve_as_of(as_of, own, column=close_date or "close_date")

    day = ts.normalize()
    first_start = off.rollback(day)
    prob = np.asarray([*model.win_probabilities, 1.0, 0.0], dtype=np.float64)[codes]
    mean_days = np.asarray([*model.days_to_close, 0.0, 0.0], dtype=np.float64)[codes]
    own_index = pd.DatetimeIndex(own)
    has_own = own.notna().to_numpy()
    own_days = np.asarray((own_index - ts) / pd.Timedelta(days=1), dtype=np.float64)
    is_open = codes < n_open
    won_before = (codes == n_open) & has_own & np.asarray(own_index < first_start)
    late = has_own & is_open & np.asarray(own_index < day)
    fixed_t = np.where(has_own & ~late, own_days, 0.0)
    fixed_t = np.where(~has_own & (duration == "fixed"), mean_days, fixed_t)
    random_t = is_open & ~has_own & (duration != "fixed")
    included = (prob > 0) & (amounts > 0) & ~won_before

    # Deals in opportunity-id order, so the row order of the input does not change the result.
    try:
        by_id = np.asarray(pd.Index(opportunities[opportunity]).argsort(), dtype=np.int64)
    except TypeError:  # ids of mixed, unorderable types: keep the given order
        by_id = np.arange(len(opportunities), dtype=np.int64)
    # Deals with a random landing time first, then those with a fixed one (each in id order).
    ordered = by_id[included[by_id]]
    random_first = random_t[ordered]
    deals = np.concatenate([ordered[random_first], ordered[~random_first]])
    n_rand = int(random_first.sum())
    a = amounts[deals]
    p = prob[deals]
    scale = mean_days[deals[:n_rand]] / (float(shape) if duration == "gamma" else 1.0)
    t_fixed = fixed_t[deals[n_rand:]]
    if duration == "stages":
        # Mean stay in each stage still ahead of each random-timing deal (0 for stages behind).
        stage_means = np.where(
            np.arange(n_open)[:, None] >= codes[deals[:n_rand]][None, :],
            np.asarray(model.stage_durations, dtype=np.float64)[:, None],
            0.0,
        )
        scale = np.ones(n_rand)
        stays = np.empty((n_open, n_rand))
    m = len(deals)

    edges_cache: list[npt.NDArray[np.float64]] = []
    start_offset = float((ts - first_start) / pd.Timedelta(days=1))  # >= 0

    def edges_until(t_max: float) -> npt.NDArray[np.float64]:
        """Period starts in days from the first period start, the last one beyond ``t_max``."""
        if edges_cache and edges_cache[0][-1] > t_max + start_offset:
            return edges_cache[0]
        n_edges = 2 * len(edges_cache[0]) if edges_cache else 16
        while True:
            starts = pd.date_range(first_start, periods=n_edges, freq=off)
            edges = np.asarray((starts - first_start) / pd.Timedelta(days=1), dtype=np.float64)
            if edges[-1] > t_max + start_offset:
                break
            n_edges *= 2
        edges_cache[:] = [edges]
        return edges

    def periods_of(t: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
        """Period of each landing time ``t`` (days from ``as_of``); ``t`` is overwritten."""
        if t.size == 0:
            return np.zeros(t.shape, dtype=np.intp)
        edges = edges_until(float(t.max()))
        t += start_offset
        np.maximum(t, 0.0, out=t)  # rounding: nothing lands before the first period
        if np.all(edges == np.floor(edges)):
            # Periods start at midnight: look the whole day up in a day -> period table, much
            # faster than a binary search per landing.
            day_of = t.astype(np.int64)
            table = np.searchsorted(edges, np.arange(int(day_of.max()) + 1), side="right") - 1
            return np.asarray(table[day_of], dtype=np.intp)
        return np.asarray(np.searchsorted(edges, t, side="right") - 1, dtype=np.intp)

    fixed_period = periods_of(t_fixed.copy())
    per_chunk = chunk_size if chunk_size is not None else max(1, _CHUNK_ELEMENTS // max(m, 1))
    children = root.spawn(n_draws)
    parts: list[npt.NDArray[np.float64]] = []
    for j0 in range(0, n_draws, per_chunk):
        k = min(per_chunk, n_draws - j0)
        if m == 0:
            parts.append(np.zeros((k, 1)))
            continue
        u = np.empty((k, m))
        t = np.empty((k, n_rand))
        for r in range(k):
            gen = np.random.Generator(np.random.PCG64(children[j0 + r]))
            gen.random(out=u[r])
            if n_rand and duration == "exponential":
                gen.standard_exponential(out=t[r])
            elif n_rand and duration == "gamma":
                gen.standard_gamma(float(shape), out=t[r])
            elif n_rand:
                gen.standard_exponential(out=stays)
                np.einsum("ij,ij->j", stays, stage_means, out=t[r])
        period = np.empty((k, m), dtype=np.intp)
        period[:, n_rand:] = fixed_period
        if n_rand:
            t *= scale
            period[:, :n_rand] = periods_of(t)
        n_periods = int(period.max()) + 1
        period += (np.arange(k) * n_periods)[:, None]
        weights = np.where(u < p, a, 0.0)
        del u, t
        sums = np.asarray(
            np.bincount(period.ravel(), weights=weights.ravel(), minlength=k * n_periods),
            dtype=np.float64,
        )
        parts.append(sums.reshape(k, n_periods))
        del period, weights

    width = max(part.shape[1] for part in parts)
    revenue = np.zeros((n_draws, width))
    row = 0
    for part in parts:
        revenue[row : row + part.shape[0], : part.shape[1]] = part
        row += part.shape[0]
    used = np.flatnonzero(revenue.any(axis=0))
    width = int(used[-1]) + 1 if used.size else 1
    revenue = revenue[:, :width]

    index = pd.date_range(first_start, periods=width, freq=off, name="period")
    q = np.quantile(revenue, _QUANTILES, axis=0)
    result = pd.DataFrame(
        {"mean": revenue.mean(axis=0), "p10": q[0], "p50": q[1], "p90": q[2]}, index=index
    )
    total = revenue.sum(axis=1)
    tq = np.quantile(total, _QUANTILES)
    summary: dict[str, Any] = {
        "mean": float(total.mean()),
        "p10": float(tq[0]),
        "p50": float(tq[1]),
        "p90": float(tq[2]),
    }
    result.attrs["total"] = summary
    result.attrs["n_draws"] = int(n_draws)
    return result
