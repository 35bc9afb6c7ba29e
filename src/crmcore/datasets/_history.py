"""Seeded synthetic stage-change logs drawn from a known stage model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from crmcore._frames import check_choice, check_scalar, weights_array
from crmcore.datasets._checks import check_date, check_size
from crmcore.errors import ConfigError, InputTypeError
from crmcore.pipeline.stages import StageModel

__all__ = ["lead_history", "stage_history"]


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
    check_size(n_deals, "n_deals")
    check_scalar(seed, "seed", kind=int, min_value=0)
    check_scalar(skip_probability, "skip_probability", kind=float, min_value=0.0, max_value=1.0)
    check_choice(duration, "duration", ("exponential", "gamma"))
    check_scalar(shape, "shape", kind=float, min_value=0.0, include="neither")
    if not np.isfinite(float(shape)):  # a gamma of infinite shape is no distribution
        raise ConfigError(f"shape == {shape!r}, must be finite", column="shape", value=shape)
    if model is None:
        model = _brief_model()
    if not isinstance(model, StageModel):
        raise InputTypeError(f"model must be a StageModel, got {type(model).__name__}")
    if model.unit != "D":
        raise ConfigError(
            f"model counts its stays in {model.unit!r} (calendar months); stage_history draws "
            "stays in days: give a model with unit='D'",
            column="model",
            value=model.unit,
        )
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


_SOURCES = ("web", "referral", "fair", "cold call", "partner")
_COUNTRIES = ("BE", "DE", "FR", "NL", "US")
_SIZES = ("1-10", "11-50", "51-200", "201+")
_INDUSTRIES = ("retail", "manufacturing", "services", "public")


def lead_history(
    n_leads: int = 2000,
    *,
    n_teams: int = 3,
    open_share: float = 0.2,
    missing_share: float = 0.05,
    seed: int = 0,
    start: str = "2023-01-01",
    end: str = "2024-12-31",
) -> pd.DataFrame:
    """Generate seeded leads with attributes, won, lost or still open, for lead scoring.

    Each lead gets a sales team (``"team 1"`` ...), a ``source``, ``country``, company
    ``size`` and ``industry``; a share ``missing_share`` of the industries is missing. Its
    chance of winning is a logistic function of the attributes (referrals and fairs win more,
    cold calls less, larger companies more, each team its own base rate and its own view of
    the fair), so the attributes carry a signal that differs by team. A share ``open_share``
    of the leads is still open; the rest are won or lost by that chance.

    Parameters
    ----------
    n_leads
        Number of leads (>= 1).
    n_teams
        Number of sales teams (1 to 26).
    open_share, missing_share
        Shares in [0, 1] of open leads and of missing industries.
    seed
        Seed (int >= 0): the same seed gives the same table.
    start, end
        Creation dates are uniform in ``[start, end)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``opportunity_id`` (1 ..), ``team``, ``source``, ``country``, ``size``,
        ``industry`` (text, missing allowed), ``created_at`` and ``status`` (``"won"``,
        ``"lost"`` or ``"open"``), sorted by ``opportunity_id``.

    Raises
    ------
    ConfigError
        A count or share out of range, or ``end`` not after ``start``.

    Examples
    --------
    >>> from crmcore.datasets import lead_history
    >>> leads = lead_history(500, seed=1)
    >>> leads.columns.tolist()
    ['opportunity_id', 'team', 'source', 'country', 'size', 'industry', 'created_at', 'status']
    >>> leads["status"].value_counts().sort_index().to_dict()
    {'lost': 223, 'open': 105, 'won': 172}
    """
    check_size(n_leads, "n_leads")
    check_scalar(n_teams, "n_teams", kind=int, min_value=1, max_value=26)
    check_scalar(open_share, "open_share", kind=float, min_value=0.0, max_value=1.0)
    check_scalar(missing_share, "missing_share", kind=float, min_value=0.0, max_value=1.0)
    check_scalar(seed, "seed", kind=int, min_value=0)
    first, last = check_date(start, "start").as_unit("s"), check_date(end, "end").as_unit("s")
    if not last > first:
        raise ConfigError(f"end={end!r} must be after start={start!r}", column="end", value=end)
    rng = np.random.default_rng([seed, 47])
    n = int(n_leads)
    team = rng.integers(0, n_teams, n)
    source = rng.choice(len(_SOURCES), n, p=[0.35, 0.15, 0.15, 0.25, 0.10])
    country = rng.choice(len(_COUNTRIES), n)
    size = rng.choice(len(_SIZES), n, p=[0.4, 0.3, 0.2, 0.1])
    industry = rng.choice(len(_INDUSTRIES), n)
    base = rng.normal(-0.5, 0.4, n_teams)
    fair_view = rng.normal(0.0, 1.0, n_teams)  # how well each team does at fairs
    source_effect = np.asarray([0.0, 1.2, 0.6, -1.0, 0.4])
    logit = base[team] + source_effect[source] + 0.35 * size + 0.1 * (country == 4)
    logit = logit + np.where(source == 2, fair_view[team], 0.0)
    p_win = 1.0 / (1.0 + np.exp(-logit))
    won = rng.random(n) < p_win
    is_open = rng.random(n) < open_share
    status = np.where(is_open, "open", np.where(won, "won", "lost"))
    industry_text = np.asarray(_INDUSTRIES, dtype=object)[industry]
    industry_text[rng.random(n) < missing_share] = None
    seconds = rng.random(n) * ((last - first) / pd.Timedelta(seconds=1))
    # in whole seconds, so a window reaching past 2262 (beyond nanoseconds) works too
    created = pd.DatetimeIndex(first.asm8 + np.floor(seconds).astype("timedelta64[s]"))
    if created.min() >= pd.Timestamp.min and created.max() <= pd.Timestamp.max:
        created = created.as_unit("ns")
    return pd.DataFrame(
        {
            "opportunity_id": np.arange(1, n + 1, dtype=np.int64),
            "team": np.asarray([f"team {i + 1}" for i in range(n_teams)], dtype=object)[team],
            "source": np.asarray(_SOURCES, dtype=object)[source],
            "country": np.asarray(_COUNTRIES, dtype=object)[country],
            "size": np.asarray(_SIZES, dtype=object)[size],
            "industry": industry_text,
            "created_at": created,
            "status": status.astype(object),
        }
    )
