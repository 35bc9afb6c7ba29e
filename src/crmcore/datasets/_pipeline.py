"""Seeded synthetic opportunities: an open pipeline plus won and lost deals, as a CRM exports it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._compat import renamed_parameters
from crmcore._frames import check_scalar
from crmcore.datasets._checks import check_date, check_size
from crmcore.errors import ConfigError

__all__ = ["opportunities"]

DEFAULT_STAGES = ("prospect", "qualification", "proposal", "negotiation")
_CATEGORY_LABELS = np.asarray(
    ["Closed", "Commit", "Best Case", "Pipeline", "Omitted"], dtype=object
)


def _day_offsets(base: pd.Timestamp, days: npt.NDArray[np.int64]) -> npt.NDArray[np.datetime64]:
    start = base.normalize().to_datetime64().astype("datetime64[D]")
    out: npt.NDArray[np.datetime64] = (start + days.astype("timedelta64[D]")).astype(
        "datetime64[ns]"
    )
    return out


@renamed_parameters(n_owners="n_people")
def opportunities(
    n: int = 500,
    *,
    seed: int = 0,
    as_of: str = "2025-01-01",
    stages: Sequence[str] = DEFAULT_STAGES,
    currencies: Sequence[str] = ("EUR",),
    n_people: int = 8,
    open_share: float = 0.6,
    win_share: float = 0.4,
    missing_close_share: float = 0.15,
    overdue_share: float = 0.1,
) -> pd.DataFrame:
    """Generate seeded opportunities: open deals in every stage, won and lost ones.

    A share ``open_share`` of deals is open, spread over ``stages`` with fewer deals in later
    stages; of the closed ones a share ``win_share`` is won. Amounts are lognormal (median
    about 12 000, long tail), two decimals. Open deals were created up to 180 days before
    ``as_of``; among them a share ``missing_close_share`` has no close date (NaT) and a share
    ``overdue_share`` has a close date *before* ``as_of`` (overdue, as in real CRMs); the others
    close within the next months, later stages sooner. Closed deals were created 30 to 400 days
    before ``as_of`` and closed after a gamma-distributed cycle (mean about 60 days), never
    after ``as_of``. Forecast categories use Salesforce labels: won deals ``"Closed"``, lost
    ``"Omitted"``, open deals ``"Pipeline"``, ``"Best Case"`` or ``"Commit"`` (likelier in later
    stages) and a few ``"Omitted"``.

    Parameters
    ----------
    n
        Number of deals; ids ``1 .. n``.
    seed
        Same seed, same table.
    as_of
        "Today" of the export.
    stages
        Open stage names in funnel order; terminal stages are ``"won"`` and ``"lost"``.
    currencies
        Currency codes, drawn with decreasing frequency (the first is the most common).
    n_people
        Number of salespeople, ids ``"R01"`` ... (formerly ``n_owners``; the old keyword
        still works for one release, with a ``DeprecationWarning``).
    open_share, win_share, missing_close_share, overdue_share
        Shares in [0, 1] described above.

    Returns
    -------
    pandas.DataFrame
        Columns ``opportunity_id`` (int64), ``stage``, ``amount`` (float64, > 0),
        ``currency``, ``person`` (the salesperson the deal belongs to), ``created_at``,
        ``close_date`` (datetime64: the expected close date of open deals, NaT for some, and,
        as CRM exports keep it, the date closed deals closed), ``closed_at`` (when a won or
        lost deal closed; NaT for open deals) and ``forecast_category``, sorted by
        ``opportunity_id``.

    Examples
    --------
    >>> from crmcore.datasets import opportunities
    >>> deals = opportunities(200, seed=1)
    >>> list(deals.columns)
    ['opportunity_id', 'stage', 'amount', 'currency', 'person', 'created_at', 'close_date', \
'closed_at', 'forecast_category']
    >>> sorted(deals["stage"].unique())
    ['lost', 'negotiation', 'proposal', 'prospect', 'qualification', 'won']
    >>> deals.equals(opportunities(200, seed=1))
    True
    """
    check_size(n, "n")
    check_scalar(seed, "seed", kind=int, min_value=0)
    check_size(n_people, "n_people")
    for name, share in (
        ("open_share", open_share),
        ("win_share", win_share),
        ("missing_close_share", missing_close_share),
        ("overdue_share", overdue_share),
    ):
        check_scalar(share, name, kind=float, min_value=0.0, max_value=1.0)
    if missing_close_share + overdue_share > 1.0:
        raise ConfigError(
            f"missing_close_share + overdue_share == {missing_close_share + overdue_share}, "
            "must be <= 1",
            column="overdue_share",
        )
    names = tuple(stages) if not isinstance(stages, str) else ()
    if not names or len(set(names)) != len(names) or {"won", "lost"} & set(names):
        raise ConfigError(
            f"stages must be unique open stage names other than 'won'/'lost', got {stages!r}",
            column="stages",
        )
    curs = tuple(currencies) if not isinstance(currencies, str) else ()
    if not curs:
        raise ConfigError(f"currencies must be a non-empty sequence, got {currencies!r}")
    base = check_date(as_of, "as_of")
    rng = np.random.default_rng([seed, 301])
    k = len(names)
    is_open = rng.random(n) < open_share
    is_won = ~is_open & (rng.random(n) < win_share)
    stage_w = np.arange(k, 0, -1, dtype=np.float64)
    stage_i = rng.choice(k, size=n, p=stage_w / stage_w.sum())
    labels = np.asarray([*names, "won", "lost"], dtype=object)
    code = np.where(is_open, stage_i, np.where(is_won, k, k + 1))
    amount = np.maximum(np.round(rng.lognormal(np.log(12_000.0), 0.9, size=n), 2), 1.0)
    cur_w = 1.0 / np.arange(1, len(curs) + 1) ** 2
    currency = np.asarray(curs, dtype=object)[rng.choice(len(curs), size=n, p=cur_w / cur_w.sum())]
    width = max(2, len(str(n_people)))
    persons = np.asarray([f"R{i:0{width}d}" for i in range(1, n_people + 1)], dtype=object)
    person = persons[rng.integers(0, n_people, size=n)]
    # Dates, in whole days relative to as_of.
    created_open = -rng.integers(0, 181, size=n)
    created_closed = -rng.integers(30, 401, size=n)
    created = np.where(is_open, created_open, created_closed)
    cycle = np.maximum(np.round(rng.gamma(2.0, 30.0, size=n)), 1.0).astype(np.int64)
    closed_day = np.minimum(created + cycle, 0)
    u = rng.random(n)
    remaining = np.maximum(k - stage_i, 1) * 45
    ahead = (rng.random(n) * remaining).astype(np.int64)
    overdue_by = rng.integers(1, 46, size=n)
    open_day = np.where(u < overdue_share, -overdue_by, ahead)
    missing = is_open & (u >= overdue_share) & (u < overdue_share + missing_close_share)
    close_day = np.where(is_open, open_day, closed_day).astype(np.int64)
    close = pd.Series(_day_offsets(base, close_day)).where(~missing)
    # Forecast categories: later stages are committed more often.
    score = stage_i / max(k - 1, 1) + rng.normal(0.0, 0.25, size=n)
    open_cat = np.where(score > 0.85, 1, np.where(score > 0.45, 2, 3))
    open_cat = np.where(rng.random(n) < 0.04, 4, open_cat)
    category = np.where(is_open, open_cat, np.where(is_won, 0, 4))
    return pd.DataFrame(
        {
            "opportunity_id": np.arange(1, n + 1, dtype=np.int64),
            "stage": labels[code],
            "amount": amount,
            "currency": currency,
            "person": person,
            "created_at": _day_offsets(base, created.astype(np.int64)),
            "close_date": close.to_numpy(),
            "closed_at": close.where(~is_open).to_numpy(),
            "forecast_category": _CATEGORY_LABELS[category],
        }
    )
