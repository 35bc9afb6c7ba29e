"""Learn stage odds and durations from a stage-change log, with open deals treated as censored.

A stage-change log (one row per deal per stage it entered, with the time it entered) holds
three kinds of deal: won, lost and still open. A deal still open at the snapshot has not
failed; it has not been decided yet. Counting it as lost (the naive ``advanced / entered``)
biases every conversion rate down; here open deals are *censored*: they count neither as
advanced nor as lost from the stage they sit in, and the time they have spent there so far
still counts as time observed in that stage.

Conventions (see ``docs/pipeline-history.md``):

* A deal *enters* the funnel at its first recorded open stage; earlier stages never see it.
* ``skipped="passed"`` (default): a deal that jumps from stage 1 to stage 3 is counted as having
  entered and advanced from stage 2 with zero days in it; a won deal passed through every stage
  after its last recorded one. Then ``rate[i]`` is P(get past stage ``i`` | reached ``i``) and
  the product of the rates from ``i`` on is the probability of winning from ``i``.
  ``skipped="ignored"`` counts a deal only in the stages it was recorded in.
* Going back to an earlier stage is an error unless ``backward="furthest"``: then each deal
  keeps only the entries that take it further than it has been.
* Durations: total days spent in the stage by every deal that reached it (the censored stays
  up to ``as_of`` included) divided by the number of deals that left it. This is the maximum
  likelihood estimate of the mean of an exponential stay under right censoring.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_choice,
    check_scalar,
    describe_row,
    first_true,
    require_columns,
    require_not_null,
    resolve_as_of,
)
from crmcore.errors import ConfigError, DataError
from crmcore.pipeline._dates import US_PER_DAY, date_column, micros, timestamp_micros
from crmcore.pipeline._deals import check_id_types, code_stages
from crmcore.pipeline.stages import StageModel

__all__ = ["estimate_stage_model", "funnel_conversion"]

Skipped = Literal["passed", "ignored"]
Backward = Literal["error", "furthest"]


@attrs.frozen(kw_only=True)
class _StageCounts:
    """Per-stage tallies over every deal of a history (arrays in stage order)."""

    stages: tuple[str, ...]
    entered: npt.NDArray[np.int64]
    advanced: npt.NDArray[np.int64]
    won: npt.NDArray[np.int64]
    lost: npt.NDArray[np.int64]
    open: npt.NDArray[np.int64]
    exposure_days: npt.NDArray[np.float64]
    advanced_days: npt.NDArray[np.float64]
    as_of: pd.Timestamp


def _stage_names(stages: Sequence[str], won: str, lost: str) -> tuple[str, ...]:
    if isinstance(stages, StageModel):
        raise ConfigError("stages must be a sequence of stage names; pass model.stages")
    try:
        n = len(stages)
        # StageModel validates the names: non-empty, unique text, distinct from won and lost.
        probe = StageModel(
            stages=stages, win_probabilities=[1.0] * n, days_to_close=[0.0] * n, won=won, lost=lost
        )
    except TypeError:
        raise ConfigError(f"stages must be a sequence of stage names, got {stages!r}") from None
    return probe.stages


@attrs.frozen(kw_only=True, eq=False)
class _Log:
    """A checked stage-change log: per row its deal (id order), stage code and time in µs."""

    names: tuple[str, ...]
    lookup: pd.Index
    deal: npt.NDArray[np.int64]
    code: npt.NDArray[np.int64]
    time: npt.NDArray[np.int64]
    n_deals: int
    as_of: pd.Timestamp
    as_of_us: int


def _read_log(
    history: pd.DataFrame,
    *,
    stages: Sequence[str],
    won: str,
    lost: str,
    opportunity: str,
    stage: str,
    at: str,
    as_of: object,
) -> _Log:
    """Check the columns, stages and times of a log; nothing may happen after ``as_of``."""
    names = _stage_names(stages, won, lost)
    history = require_columns(history, [opportunity, stage, at], arg="history")
    require_not_null(history, opportunity, arg="history")
    check_id_types(history, opportunity)
    require_not_null(history, stage, arg="history", key=opportunity)
    times = date_column(history, at, arg="history", key=opportunity)
    as_of_ts = resolve_as_of(as_of, times, column=at)
    lookup = pd.Index([*names, won, lost], dtype=object)
    code = code_stages(
        history, stage, list(lookup), arg="history", key=opportunity, known_as="expected one of"
    )
    pos = first_true((times > as_of_ts).to_numpy())
    if pos is not None:
        raise DataError(
            f"column {at!r} of history has {times.iloc[pos]} at "
            f"{describe_row(history, pos, opportunity)}, after as_of={as_of_ts}; keep only the "
            f"rows known at as_of (history[history[{at!r}] <= as_of]) or move as_of",
            column=at,
            row=history.index[pos],
            value=times.iloc[pos],
        )
    t_us = micros(times, frame=history, column=at, arg="history", key=opportunity)
    try:  # deals in id order: sums (and so the result) do not depend on the row order
        deal, uniques = pd.factorize(history[opportunity], sort=True)
    except TypeError:  # ids of mixed, unorderable types
        deal, uniques = pd.factorize(history[opportunity])
    return _Log(
        names=names,
        lookup=lookup,
        deal=deal.astype(np.int64),
        code=code,
        time=t_us,
        n_deals=len(uniques),
        as_of=as_of_ts,
        as_of_us=timestamp_micros(as_of_ts, arg="as_of"),
    )


def _in_order(
    history: pd.DataFrame,
    log: _Log,
    *,
    opportunity: str,
    stage: str,
    won: str,
    lost: str,
    backward: Backward,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Entries sorted by deal, time and funnel order; moves back are errors or dropped."""
    n_stages, lookup = len(log.names), log.lookup
    # Sort by deal, then time, then funnel order (entries at the same instant go in funnel order).
    order = np.lexsort((log.code, log.time, log.deal))
    d, c, tt = log.deal[order], log.code[order], log.time[order]
    same = d[1:] == d[:-1]

    def where(i: int) -> str:
        return describe_row(history, int(order[i]), opportunity)

    def fail(i: int, message: str) -> DataError:
        row = history.index[int(order[i])]
        return DataError(message, column=stage, row=row, value=history[stage].iloc[int(order[i])])

    i = first_true(same & (c[:-1] >= n_stages))
    if i is not None:
        raise fail(
            i + 1,
            f"history has an entry to {lookup[c[i + 1]]!r} at {where(i + 1)} after the deal was "
            f"{lookup[c[i]]} at {where(i)}; {won!r} or {lost!r} must be a deal's last entry",
        )
    i = first_true(same & (c[1:] == c[:-1]) & (tt[1:] == tt[:-1]))
    if i is not None:
        raise fail(
            i + 1,
            f"history has a duplicate row at {where(i + 1)}: same deal, stage "
            f"{lookup[c[i]]!r} and time as {where(i)}; drop duplicates first",
        )
    if backward == "error":
        i = first_true(same & (c[1:] <= c[:-1]))
        if i is not None:
            what = (
                f"enters stage {lookup[c[i]]!r} again"
                if c[i + 1] == c[i]
                else f"moves back from stage {lookup[c[i]]!r} to earlier stage {lookup[c[i + 1]]!r}"
            )
            raise fail(
                i + 1,
                f"history: the deal at {where(i + 1)} {what} (previous entry at {where(i)}); "
                "stage entries must follow the funnel order in time (pass backward='furthest' "
                "to keep each deal's furthest progress)",
            )
        return d, c, tt
    key = d * (n_stages + 2) + c
    keep = np.ones(len(key), dtype=bool)
    keep[1:] = key[1:] > np.maximum.accumulate(key)[:-1]
    return d[keep], c[keep], tt[keep]


def _tally(
    log: _Log,
    d: npt.NDArray[np.int64],
    c: npt.NDArray[np.int64],
    tt: npt.NDArray[np.int64],
    skipped: Skipped,
) -> _StageCounts:
    """Entered, advanced, won, lost, open and days per stage from the ordered entries."""
    n_deals, n_stages = log.n_deals, len(log.names)
    days = (tt - log.as_of_us).astype(np.float64) / US_PER_DAY  # <= 0: days before as_of
    entry = np.full((n_deals, n_stages + 1), np.nan)  # last column: time won or lost
    is_open = c < n_stages
    entry[d[is_open], c[is_open]] = days[is_open]
    outcome = np.zeros(n_deals, dtype=np.int64)  # 0 open, 1 won, 2 lost
    term = ~is_open
    entry[d[term], n_stages] = days[term]
    outcome[d[term]] = c[term] - n_stages + 1
    deal_won = outcome == 1
    deal_lost = outcome == 2

    recorded = ~np.isnan(entry[:, :n_stages])
    any_rec = recorded.any(axis=1)
    first = np.where(any_rec, recorded.argmax(axis=1), n_stages)
    last = np.where(any_rec, n_stages - 1 - recorded[:, ::-1].argmax(axis=1), -1)
    idx = np.arange(n_stages)
    if skipped == "passed":
        top = np.where(deal_won & any_rec, n_stages - 1, last)
        reach = (idx >= first[:, None]) & (idx <= top[:, None])
    else:
        reach = recorded

    # Time of the next recorded event after entering each stage (NaN: none yet, censored).
    nxt = np.empty((n_deals, n_stages))
    following = entry[:, n_stages].copy()
    for s in range(n_stages - 1, -1, -1):
        nxt[:, s] = following
        following = np.where(recorded[:, s], entry[:, s], following)
    # A skipped stage is entered the moment the deal reaches the next recorded one.
    start = np.where(recorded, entry[:, :n_stages], nxt)
    exited = reach & ~np.isnan(nxt)
    lost_here = reach & deal_lost[:, None] & (idx == last[:, None])
    advanced = exited & ~lost_here
    stay = np.where(exited, nxt - start, -start)
    stay = np.where(reach, stay, 0.0)

    def tally(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        return np.asarray(mask.sum(axis=0), dtype=np.int64)

    return _StageCounts(
        stages=log.names,
        entered=tally(reach),
        advanced=tally(advanced),
        won=tally(reach & deal_won[:, None]),
        lost=tally(lost_here),
        open=tally(reach & ~exited),
        exposure_days=stay.sum(axis=0),
        advanced_days=np.where(advanced, stay, 0.0).sum(axis=0),
        as_of=log.as_of,
    )


def _counts(
    history: pd.DataFrame,
    *,
    stages: Sequence[str],
    won: str,
    lost: str,
    opportunity: str,
    stage: str,
    at: str,
    as_of: object,
    skipped: Skipped,
    backward: Backward,
) -> _StageCounts:
    """Per-stage tallies of a stage-change log: read it, order it, count it."""
    check_choice(skipped, "skipped", ("passed", "ignored"))
    check_choice(backward, "backward", ("error", "furthest"))
    log = _read_log(
        history,
        stages=stages,
        won=won,
        lost=lost,
        opportunity=opportunity,
        stage=stage,
        at=at,
        as_of=as_of,
    )
    d, c, tt = _in_order(
        history, log, opportunity=opportunity, stage=stage, won=won, lost=lost, backward=backward
    )
    return _tally(log, d, c, tt, skipped)


def funnel_conversion(
    history: pd.DataFrame,
    *,
    stages: Sequence[str],
    won: str = "won",
    lost: str = "lost",
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    at: str = "entered_at",
    as_of: object = None,
    skipped: Skipped = "passed",
    backward: Backward = "error",
) -> pd.DataFrame:
    """Count, per stage, the deals that entered, advanced, won, were lost or are still open.

    Open deals are censored: a deal still sitting in a stage is neither advanced nor lost, so
    the conversion rate of a stage is ``advanced / (entered - open)``, the share of the deals
    that have *left* the stage which left it forwards.

    Parameters
    ----------
    history
        Stage-change log: one row per deal and stage it entered, with the time it entered;
        reaching ``won`` or ``lost`` is an entry like any other and must be a deal's last.
    stages
        Open stage names in funnel order.
    won, lost
        Names of the terminal stages.
    opportunity, stage, at
        Columns holding the deal id, the stage entered and when (datetime64 or ISO text).
    as_of
        Snapshot time; default the latest ``at``. Entries after it are an error.
    skipped
        ``"passed"`` (default): a deal that jumps over a stage (1 to 3, or from stage 1
        straight to won) counts as having entered and advanced from the skipped stages.
        ``"ignored"``: a deal counts only in the stages it was recorded in.
    backward
        ``"error"`` (default): a deal entering a stage it has already passed is an error.
        ``"furthest"``: such entries are dropped; each deal keeps its furthest progress.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``stage`` (funnel order), columns:

        - ``entered``: deals that reached the stage (int64);
        - ``advanced``: of those, deals that went on to a later stage or won;
        - ``won``: of those, deals that were eventually won;
        - ``lost``: deals lost from this stage (it was their last open stage);
        - ``open``: deals sitting in this stage at ``as_of`` (censored);
          ``entered == advanced + lost + open``;
        - ``conversion_rate``: ``advanced / (advanced + lost)``, NaN when no deal left it;
        - ``win_rate``: product of the conversion rates from this stage to the last, the
          censoring-aware probability of eventually winning from this stage.

    Raises
    ------
    SchemaError
        A column is missing or the table is empty.
    DataError
        Missing values or NaT, an unknown stage, an entry after ``as_of``, a duplicate row,
        an entry after won or lost, or (with ``backward="error"``) a move back to an earlier
        stage; the message names the row and the deal.
    ConfigError
        Bad stage names or options.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import funnel_conversion
    >>> log = pd.DataFrame({
    ...     "opportunity_id": [1, 1, 1, 2, 2, 3, 3, 4],
    ...     "stage": ["lead", "demo", "won", "lead", "lost", "lead", "demo", "lead"],
    ...     "entered_at": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-02-01",
    ...                                   "2024-01-05", "2024-01-25", "2024-01-10",
    ...                                   "2024-01-20", "2024-02-01"])})
    >>> funnel_conversion(log, stages=["lead", "demo"])
           entered  advanced  won  lost  open  conversion_rate  win_rate
    stage
    lead         4         2    1     1     1         0.666667  0.666667
    demo         2         1    1     0     1         1.000000  1.000000
    """
    counts = _counts(
        history,
        stages=stages,
        won=won,
        lost=lost,
        opportunity=opportunity,
        stage=stage,
        at=at,
        as_of=as_of,
        skipped=skipped,
        backward=backward,
    )
    decided = counts.advanced + counts.lost
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(decided > 0, counts.advanced / np.maximum(decided, 1), np.nan)
    win_rate = np.cumprod(rate[::-1])[::-1]
    return pd.DataFrame(
        {
            "entered": counts.entered,
            "advanced": counts.advanced,
            "won": counts.won,
            "lost": counts.lost,
            "open": counts.open,
            "conversion_rate": rate,
            "win_rate": win_rate,
        },
        index=pd.Index(list(counts.stages), name="stage", dtype=object),
    )


def estimate_stage_model(
    history: pd.DataFrame,
    *,
    stages: Sequence[str],
    won: str = "won",
    lost: str = "lost",
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    at: str = "entered_at",
    as_of: object = None,
    smoothing: float = 0.0,
    durations: Literal["exposure", "advanced"] = "exposure",
    skipped: Skipped = "passed",
    backward: Backward = "error",
) -> StageModel:
    """Learn step conversion rates and days in stage from a stage-change log.

    For each stage ``i``, with ``a = smoothing``::

        rate[i] = (advanced[i] + a) / (advanced[i] + lost[i] + 2 a)

    Deals still open in stage ``i`` at ``as_of`` are censored: they are in neither count.
    Counting them as lost would bias every rate down by the share of open deals.

    Days in stage (``durations="exposure"``, default)::

        days[i] = (total days spent in stage i by every deal that reached it, open deals
                   counted up to as_of) / (advanced[i] + lost[i])

    which is the maximum-likelihood mean of an exponential stay under right censoring: open
    deals add the time they have been observed without adding an exit. ``"advanced"`` uses
    the plain mean of completed stays of the deals that advanced; it ignores open deals and so
    is biased low when many deals are still open (kept for comparison with CRM reports).

    Parameters
    ----------
    history, stages, won, lost, opportunity, stage, at, as_of, skipped, backward
        As in :func:`funnel_conversion`.
    smoothing
        Laplace pseudo-count ``a >= 0`` added to the advanced and to the lost count of every
        stage; it pulls each rate toward 0.5, most where there is little data.
    durations
        ``"exposure"`` (censoring-aware, default) or ``"advanced"``.

    Returns
    -------
    StageModel
        Built with :meth:`StageModel.from_conversion_rates` from the estimated rates and days.

    Raises
    ------
    DataError
        As :func:`funnel_conversion`, and when some stage has no deal that left it (its rate
        and duration cannot be estimated) or, with ``durations="advanced"``, no deal that
        advanced from it.
    ConfigError
        Bad stage names, options or ``smoothing``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import estimate_stage_model
    >>> log = pd.DataFrame({
    ...     "opportunity_id": [1, 1, 1, 2, 2, 3, 3, 4],
    ...     "stage": ["lead", "demo", "won", "lead", "lost", "lead", "demo", "lead"],
    ...     "entered_at": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-02-01",
    ...                                   "2024-01-05", "2024-01-25", "2024-01-10",
    ...                                   "2024-01-20", "2024-02-01"])})
    >>> m = estimate_stage_model(log, stages=["lead", "demo"])
    >>> [round(r, 4) for r in m.conversion_rates], [round(d, 2) for d in m.stage_durations]
    ([0.6667, 1.0], [13.33, 33.0])
    """
    check_scalar(smoothing, "smoothing", kind=float, min_value=0.0)
    if not math.isfinite(float(smoothing)):
        raise ConfigError(f"smoothing == {smoothing!r}, must be finite", column="smoothing")
    check_choice(durations, "durations", ("exposure", "advanced"))
    counts = _counts(
        history,
        stages=stages,
        won=won,
        lost=lost,
        opportunity=opportunity,
        stage=stage,
        at=at,
        as_of=as_of,
        skipped=skipped,
        backward=backward,
    )
    decided = counts.advanced + counts.lost
    need = counts.advanced if durations == "advanced" else decided
    for i, name in enumerate(counts.stages):
        if need[i] == 0:
            what = "advanced from" if durations == "advanced" else "left (advanced or lost)"
            raise DataError(
                f"stage {name!r} has no deal that {what} it by as_of={counts.as_of} "
                f"({counts.entered[i]} entered, {counts.open[i]} still open); its conversion "
                "rate and days in stage cannot be estimated",
                column=stage,
                value=name,
            )
    a = float(smoothing)
    rates = (counts.advanced + a) / (decided + 2.0 * a)
    if durations == "exposure":
        days = counts.exposure_days / decided
    else:
        days = counts.advanced_days / counts.advanced
    return StageModel.from_conversion_rates(
        counts.stages,
        [float(r) for r in rates],
        [max(float(x), 0.0) for x in days],
        won=won,
        lost=lost,
    )
