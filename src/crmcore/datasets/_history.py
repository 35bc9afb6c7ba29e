"""Seeded synthetic stage-change logs drawn from a known stage model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from crmcore._frames import check_choice, check_scalar, weights_array
from crmcore.errors import ConfigError, InputTypeError
from crmcore.pipeline.stages import StageModel

__all__ = ["stage_history"]


def _brief_model() -> StageModel:
    return StageModel.from_conversion_rates(
        ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [60, 30, 30]
    )


def stage_history(
    n_deals: int = 1000,
    model: StageModel | None = None,
    *,
    seed: int = 0,
    start: str = "2023-01-01",
    end: str = "2024-12-31",
    entry_shares: Sequence[float] | None = None,
    skip_probability: float = 0.0,
    duration: Literal["exponential", "gamma"] = "exponential",
    shape: float = 2.0,
) -> pd.DataFrame:
    """Generate a seeded stage-change log whose true stage odds and durations are known.

    Each deal is created at a uniformly random time in ``[start, end)`` in its entry stage
    (the first stage, or drawn from ``entry_shares``). In stage ``i`` it stays a random time
    with mean ``model.stage_durations[i]`` days, then advances with probability
    ``model.conversion_rates[i]`` (from the last stage: wins) or else is lost. The log is a
    snapshot taken at ``end``: entries after it are not there yet, so deals still in progress
    are open (censored). Pass ``as_of=end`` when learning from it.

    Parameters
    ----------
    n_deals
        Number of deals; ids ``1 .. n_deals``.
    model
        The true stage model; default the product brief's prospect / bid / negotiation
        funnel (rates 0.5, 0.8, 0.9; 60, 30 and 30 days).
    seed
        Same seed, same table.
    start, end
        Window in which deals are created; the snapshot is taken at ``end`` (midnight).
    entry_shares
        Share of deals created in each stage (normalised); default all in the first stage.
    skip_probability
        Chance that the entry of a stage the deal went *through* (entered and advanced from,
        not its entry stage) is missing from the log, as when a rep skips a stage in the CRM.
        Outcomes are unaffected; the time spent in the skipped stage merges into the stage
        before it.
    duration
        Distribution of the time in a stage: ``"exponential"`` (default) or ``"gamma"`` with
        the given ``shape`` (same mean).
    shape
        Gamma shape parameter, > 0.

    Returns
    -------
    pandas.DataFrame
        Columns ``opportunity_id`` (int64), ``stage`` (text: a model stage, ``model.won`` or
        ``model.lost``), ``entered_at`` (datetime64, whole seconds), ``amount`` (the deal's
        value, float64, two decimals, the same on every row of a deal); sorted by deal then
        time, index ``0 .. n-1``.

    Raises
    ------
    ConfigError
        Bad sizes, shares, probability, window or distribution.

    Examples
    --------
    >>> from crmcore.datasets import stage_history
    >>> h = stage_history(3, seed=1)
    >>> list(h.columns)
    ['opportunity_id', 'stage', 'entered_at', 'amount']
    >>> h.groupby("opportunity_id")["stage"].first().tolist()
    ['prospect', 'prospect', 'prospect']
    >>> h.equals(stage_history(3, seed=1))
    True
    """
    check_scalar(n_deals, "n_deals", kind=int, min_value=1)
    check_scalar(seed, "seed", kind=int, min_value=0)
    check_scalar(skip_probability, "skip_probability", kind=float, min_value=0.0, max_value=1.0)
    check_choice(duration, "duration", ("exponential", "gamma"))
    check_scalar(shape, "shape", kind=float, min_value=0.0, include="neither")
    if model is None:
        model = _brief_model()
    if not isinstance(model, StageModel):
        raise InputTypeError(f"model must be a StageModel, got {type(model).__name__}")
    first = pd.Timestamp(start)
    snapshot = pd.Timestamp(end)
    window = (snapshot - first) / pd.Timedelta(days=1)
    if not window > 0:
        raise ConfigError(f"end={end!r} must be after start={start!r}", column="end", value=end)
    n_stages = len(model.stages)
    if entry_shares is None:
        shares = np.zeros(n_stages)
        shares[0] = 1.0
    else:
        shares = weights_array(entry_shares, name="entry_shares")
        if shares.size != n_stages:
            raise ConfigError(
                f"entry_shares has {shares.size} values for {n_stages} stages",
                column="entry_shares",
            )
        shares = shares / shares.sum()

    rng = np.random.default_rng([seed, 31])
    n = n_deals
    idx = np.arange(n_stages)
    entry_stage = rng.choice(n_stages, size=n, p=shares)
    created = rng.random(n) * window
    means = np.asarray(model.stage_durations, dtype=np.float64)
    if duration == "exponential":
        stay = rng.standard_exponential((n, n_stages)) * means
    else:
        stay = rng.standard_gamma(float(shape), (n, n_stages)) * (means / float(shape))
    advance = rng.random((n, n_stages)) < np.asarray(model.conversion_rates)
    missing = rng.random((n, n_stages)) < float(skip_probability)
    amount = np.maximum(np.round(rng.lognormal(10.0, 1.0, size=n), 2), 0.01)

    after_entry = idx >= entry_stage[:, None]
    failed = after_entry & ~advance
    any_fail = failed.any(axis=1)
    fail_at = np.where(any_fail, failed.argmax(axis=1), n_stages)  # n_stages: won
    last = np.minimum(fail_at, n_stages - 1)
    visited = after_entry & (idx <= last[:, None])
    stay = np.where(visited, stay, 0.0)
    leave = created[:, None] + np.cumsum(stay, axis=1)
    enter = leave - stay
    shown = visited & ~(missing & (idx > entry_stage[:, None]) & (idx < fail_at[:, None]))
    ended = leave[np.arange(n), last]

    deal_rows, stage_rows = np.nonzero(shown)
    times = enter[deal_rows, stage_rows]
    term_code = np.where(any_fail, n_stages + 1, n_stages)
    deal_all = np.concatenate([deal_rows, np.arange(n)])
    code_all = np.concatenate([stage_rows, term_code])
    time_all = np.concatenate([times, ended])
    seconds = np.floor(time_all * 86_400.0).astype(np.int64)
    keep = seconds <= int(window * 86_400)
    deal_all, code_all, seconds = deal_all[keep], code_all[keep], seconds[keep]
    order = np.lexsort((code_all, seconds, deal_all))
    deal_all, code_all, seconds = deal_all[order], code_all[order], seconds[order]
    labels = np.asarray([*model.stages, model.won, model.lost], dtype=object)
    return pd.DataFrame(
        {
            "opportunity_id": (deal_all + 1).astype(np.int64),
            "stage": labels[code_all],
            "entered_at": (first + pd.to_timedelta(seconds, unit="s")).as_unit("ns"),
            "amount": amount[deal_all],
        }
    )
