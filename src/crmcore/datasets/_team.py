"""Seeded synthetic sales team: people, deals, monthly targets, activities and feedback.

All generators share per-person traits drawn from the same ``seed``: a salesperson's skill raises
both win rate and deal size, their activity level drives how many calls, meetings and emails they
log and how many deals they open, and their monthly targets are set near what they can be
expected to win, so attainment comes out spread around 100 %. Use the same ``seed`` and
``n_people`` in every generator to get one consistent team (``n_people`` was ``n_reps`` before
crmcore 0.2; the old name still works, with a DeprecationWarning).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._compat import renamed_parameters
from crmcore._frames import check_scalar
from crmcore.datasets._checks import MAX_MONTHS, check_date, check_rows, check_size
from crmcore.errors import ConfigError

__all__ = ["activities", "deals", "feedback", "targets", "team"]

_REGIONS = ("North", "South", "East", "West")
_FIRST = ("Ada", "Ben", "Cleo", "Dev", "Eva", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kim", "Leo")
_LAST = ("Adams", "Brown", "Chen", "Diaz", "Evans", "Fox", "Garcia", "Hill", "Ito", "Jones")
_LEVELS = ("junior", "mid", "senior")
_KINDS = ("call", "email", "meeting")


def _person_ids(n_people: int) -> npt.NDArray[np.object_]:
    width = max(2, len(str(n_people)))
    return np.asarray([f"R{i:0{width}d}" for i in range(1, n_people + 1)], dtype=object)


def _person_traits(n_people: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 101])
    tenure_years = rng.gamma(shape=2.0, scale=1.5, size=n_people)
    return {
        # Skill: raises win odds and deal size (standard normal, nudged up with tenure).
        "skill": rng.normal(0.0, 0.6, size=n_people) + 0.15 * np.minimum(tenure_years, 6.0),
        # Activity: relative number of calls/meetings/emails and of deals opened.
        "activity": rng.lognormal(0.0, 0.3, size=n_people),
        "tenure": tenure_years,
        "region": rng.integers(0, len(_REGIONS), size=n_people),
        "first": rng.integers(0, len(_FIRST), size=n_people),
        "last": rng.integers(0, len(_LAST), size=n_people),
    }


def _window(start: str, end: str) -> tuple[pd.Timestamp, int]:
    first = check_date(start, "start")
    last = check_date(end, "end")
    n_days = (last - first).days + 1
    if n_days < 1:
        raise ConfigError(f"end={end!r} is before start={start!r}")
    return first, n_days


def _days(first: pd.Timestamp, offsets: npt.NDArray[np.int64]) -> pd.DatetimeIndex:
    base = first.to_datetime64().astype("datetime64[D]")
    return pd.DatetimeIndex((base + offsets.astype("timedelta64[D]")).astype("datetime64[ns]"))


def _check_common(n_people: int, seed: int) -> None:
    check_size(n_people, "n_people")
    check_scalar(seed, "seed", kind=int, min_value=0)


@renamed_parameters(n_reps="n_people")
def team(n_people: int = 12, *, as_of: str = "2024-01-01", seed: int = 0) -> pd.DataFrame:
    """Generate a seeded sales team: one row per salesperson.

    Parameters
    ----------
    n_people
        Number of salespeople; ids are ``"R01" .. "R12"`` (zero-padded to the width of
        ``n_people``; ``n_reps=`` before crmcore 0.2).
    as_of
        Reference date: hire dates fall before it (tenure gamma-distributed, mean 3 years).
    seed
        Same seed, same team; pass it to :func:`deals`, :func:`targets`, :func:`activities` and
        :func:`feedback` (with the same ``n_people``) for consistent tables.

    Returns
    -------
    pandas.DataFrame
        Columns ``person`` (person id, text), ``name``, ``region`` (North/South/East/West),
        ``team`` (``"<region> 1"`` or ``"<region> 2"``), ``hire_date`` (datetime64) and
        ``level`` (``"junior"`` under 2 years of tenure, ``"mid"`` under 5, else ``"senior"``),
        sorted by ``person``, index ``0 .. n-1``.

    Examples
    --------
    >>> from crmcore.datasets import team
    >>> t = team(4, seed=1)
    >>> list(t.columns)
    ['person', 'name', 'region', 'team', 'hire_date', 'level']
    >>> t["person"].tolist()
    ['R01', 'R02', 'R03', 'R04']
    """
    _check_common(n_people, seed)
    t = _person_traits(n_people, seed)
    ref = check_date(as_of, "as_of")
    region = np.asarray(_REGIONS, dtype=object)[t["region"]]
    sub = np.where(np.arange(n_people) % 2 == 0, " 1", " 2")
    names = np.char.add(
        np.char.add(np.asarray(_FIRST)[t["first"]], " "), np.asarray(_LAST)[t["last"]]
    )
    tenure_days = np.round(t["tenure"] * 365.25).astype(np.int64)
    hire = _days(ref, -tenure_days)
    level = np.asarray(_LEVELS, dtype=object)[np.searchsorted([2.0, 5.0], t["tenure"], "right")]
    return pd.DataFrame(
        {
            "person": _person_ids(n_people),
            "name": names.astype(object),
            "region": region,
            "team": np.char.add(region.astype(str), sub).astype(object),
            "hire_date": hire,
            "level": level,
        }
    )


@renamed_parameters(n_reps="n_people")
def deals(
    n_deals: int = 600,
    *,
    n_people: int = 12,
    n_customers: int = 200,
    start: str = "2024-01-01",
    end: str = "2024-12-31",
    seed: int = 0,
) -> pd.DataFrame:
    """Generate seeded opportunities owned by the people of :func:`team`: won, lost and open.

    Deals are created uniformly over ``[start, end]``; each takes a gamma-distributed number of
    days to close (mean about 45). A deal whose close would fall after ``end`` is still
    ``"open"`` (``closed_at`` NaT). Closed deals are won with a probability that rises with the
    owner's skill (about 35 % on average); won and lost deals alike have amounts that grow with
    skill (lognormal, long tail).

    Parameters
    ----------
    n_deals
        Number of opportunities; ids ``1 .. n_deals`` in creation order.
    n_people
        Size of the team (same meaning and traits as in :func:`team`; ``n_reps=`` before 0.2).
    n_customers
        Customers are drawn from ids ``1 .. n_customers`` (some buy several times).
    start, end
        Window of creation dates; ``end`` is also the "today" that decides what is still open.
    seed
        Same seed, same table.

    Returns
    -------
    pandas.DataFrame
        Columns ``opportunity_id`` (int64), ``person`` (owner's id), ``team``, ``region``
        (the owner's), ``customer_id`` (int64), ``created_at`` and ``closed_at`` (datetime64;
        ``closed_at`` NaT for open deals), ``status`` (``"won"``, ``"lost"`` or ``"open"``),
        ``amount`` (float64, two decimals, positive), sorted by ``opportunity_id``.

    Examples
    --------
    >>> from crmcore.datasets import deals
    >>> d = deals(50, n_people=3, seed=2)
    >>> list(d.columns)
    ['opportunity_id', 'person', 'team', 'region', 'customer_id', 'created_at', 'closed_at', \
'status', 'amount']
    >>> sorted(d["status"].unique())
    ['lost', 'open', 'won']
    >>> bool(d.loc[d["status"] == "open", "closed_at"].isna().all())
    True
    """
    _check_common(n_people, seed)
    check_size(n_deals, "n_deals")
    check_size(n_customers, "n_customers")
    first, n_days = _window(start, end)
    t = _person_traits(n_people, seed)
    people = team(n_people, seed=seed)
    rng = np.random.default_rng([seed, 102])
    p = t["activity"] / t["activity"].sum()
    owner = rng.choice(n_people, size=n_deals, p=p)
    created = np.sort(rng.integers(0, n_days, size=n_deals))
    cycle = np.maximum(np.round(rng.gamma(shape=2.0, scale=22.0, size=n_deals)), 1.0)
    cycle = cycle.astype(np.int64)
    closed_day = created + cycle
    is_open = closed_day >= n_days
    skill = t["skill"][owner]
    p_win = 1.0 / (1.0 + np.exp(-(skill - 0.9)))
    won = rng.random(n_deals) < p_win
    amount = np.round(4000.0 * np.exp(0.35 * skill) * rng.lognormal(0.0, 0.7, n_deals), 2)
    status = np.where(is_open, "open", np.where(won, "won", "lost")).astype(object)
    closed = _days(first, np.where(is_open, 0, closed_day).astype(np.int64))
    closed_at = pd.Series(closed).where(~is_open)
    return pd.DataFrame(
        {
            "opportunity_id": np.arange(1, n_deals + 1, dtype=np.int64),
            "person": people["person"].to_numpy()[owner],
            "team": people["team"].to_numpy()[owner],
            "region": people["region"].to_numpy()[owner],
            "customer_id": rng.integers(1, n_customers + 1, size=n_deals).astype(np.int64),
            "created_at": _days(first, created),
            "closed_at": closed_at.to_numpy(),
            "status": status,
            "amount": np.maximum(amount, 1.0),
        }
    )


def _months(start: str, months: int) -> pd.DatetimeIndex:
    check_scalar(months, "months", kind=int, min_value=1, max_value=MAX_MONTHS)
    first = check_date(start, "start").to_period("M").to_timestamp()
    return pd.date_range(first, periods=months, freq="MS")


@renamed_parameters(n_reps="n_people")
def targets(
    n_people: int = 12,
    *,
    start: str = "2024-01-01",
    months: int = 12,
    n_deals: int = 600,
    seed: int = 0,
) -> pd.DataFrame:
    """Generate seeded monthly sales targets per person, in the long shape of a quota plan.

    A person's monthly target is set near the won amount :func:`deals` (same ``seed``,
    ``n_people`` and ``n_deals``) can be expected to produce for them, scaled by a random stretch
    factor (0.8 to 1.3) and rounded to whole hundreds, so attainment spreads around 100 %.

    Parameters
    ----------
    n_people
        Size of the team (as in :func:`team`; ``n_reps=`` before crmcore 0.2).
    start
        First month (any date in it); periods are month starts.
    months
        Number of months.
    n_deals
        Deal volume the targets are calibrated to (as in :func:`deals`, over one year).
    seed
        Same seed, same table.

    Returns
    -------
    pandas.DataFrame
        Columns ``person`` (person id), ``period`` (datetime64 month start) and ``target``
        (float64, whole hundreds, positive); one row per person and month, sorted by person then
        period.

    Examples
    --------
    >>> from crmcore.datasets import targets
    >>> tg = targets(2, months=3, seed=1)
    >>> tg[["person", "period"]].astype(str).values.tolist()[:2]
    [['R01', '2024-01-01'], ['R01', '2024-02-01']]
    >>> bool((tg["target"] > 0).all()), tg.shape
    (True, (6, 3))
    """
    _check_common(n_people, seed)
    check_size(n_deals, "n_deals")
    periods = _months(start, months)
    t = _person_traits(n_people, seed)
    rng = np.random.default_rng([seed, 103])
    share = t["activity"] / t["activity"].sum()
    p_win = 1.0 / (1.0 + np.exp(-(t["skill"] - 0.9)))
    # Expected monthly won value: deals per month x P(win) x mean amount (lognormal mean factor).
    per_month = n_deals / 12.0 * share * p_win * 4000.0 * np.exp(0.35 * t["skill"] + 0.245)
    stretch = rng.uniform(0.8, 1.3, size=n_people)
    season = rng.uniform(0.85, 1.15, size=(n_people, months))
    value = np.maximum(np.round(per_month[:, None] * stretch[:, None] * season, -2), 100.0)
    return pd.DataFrame(
        {
            "person": np.repeat(_person_ids(n_people), months),
            "period": np.tile(periods.to_numpy(), n_people),
            "target": value.ravel(),
        }
    )


@renamed_parameters(n_reps="n_people")
def activities(
    n_people: int = 12,
    *,
    start: str = "2024-01-01",
    end: str = "2024-12-31",
    per_rep_per_day: float = 3.0,
    n_customers: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Generate a seeded activity log: calls, emails and meetings per person.

    Each person logs a Poisson number of activities (mean ``per_rep_per_day`` x their activity
    level x number of days) spread uniformly over the window; about half are emails, 35 % calls
    and 15 % meetings.

    Parameters
    ----------
    n_people
        Size of the team (as in :func:`team`; ``n_reps=`` before crmcore 0.2).
    start, end
        Window of activity dates (inclusive, whole days).
    per_rep_per_day
        Average number of activities a typical person logs per day.
    n_customers
        Customers are drawn from ids ``1 .. n_customers``.
    seed
        Same seed, same table.

    Returns
    -------
    pandas.DataFrame
        Columns ``person`` (person id), ``date`` (datetime64, midnight), ``kind`` (``"call"``,
        ``"email"`` or ``"meeting"``) and ``customer_id`` (int64), sorted by date then person.

    Examples
    --------
    >>> from crmcore.datasets import activities
    >>> a = activities(2, start="2024-01-01", end="2024-01-31", seed=1)
    >>> list(a.columns), sorted(a["kind"].unique())
    (['person', 'date', 'kind', 'customer_id'], ['call', 'email', 'meeting'])
    """
    _check_common(n_people, seed)
    check_scalar(per_rep_per_day, "per_rep_per_day", kind=float, min_value=0.0)
    check_size(n_customers, "n_customers")
    first, n_days = _window(start, end)
    # the busiest person's expected count (activity up to 2x the mean) bounds the table
    check_rows(
        2.0 * n_people * n_days * float(per_rep_per_day),
        f"n_people={n_people} x {n_days} days x per_rep_per_day={per_rep_per_day!r}",
    )
    t = _person_traits(n_people, seed)
    rng = np.random.default_rng([seed, 104])
    counts = rng.poisson(per_rep_per_day * t["activity"] * n_days)
    who = np.repeat(np.arange(n_people), counts)
    n = int(counts.sum())
    day = rng.integers(0, n_days, size=n)
    kind = np.asarray(_KINDS, dtype=object)[rng.choice(3, size=n, p=[0.35, 0.5, 0.15])]
    cust = rng.integers(1, n_customers + 1, size=n).astype(np.int64)
    order = np.lexsort((who, day))
    return pd.DataFrame(
        {
            "person": _person_ids(n_people)[who[order]],
            "date": _days(first, day[order]),
            "kind": kind[order],
            "customer_id": cust[order],
        }
    )


@renamed_parameters(n_reps="n_people")
def feedback(
    n_people: int = 12,
    *,
    start: str = "2024-01-01",
    months: int = 12,
    seed: int = 0,
) -> pd.DataFrame:
    """Generate seeded qualitative scores per person and month: feedback and manager rating.

    Both scales run from 1 to 5 and lean higher for more skilled people. ``feedback`` is an
    average of customer survey answers (one decimal); ``manager_rating`` is a whole number.

    Parameters
    ----------
    n_people, start, months, seed
        As in :func:`targets`.

    Returns
    -------
    pandas.DataFrame
        Columns ``person`` (person id), ``period`` (datetime64 month start), ``feedback``
        (float64 in [1, 5], one decimal) and ``manager_rating`` (int64 in 1..5), sorted by
        person then period.

    Examples
    --------
    >>> from crmcore.datasets import feedback
    >>> f = feedback(3, months=2, seed=1)
    >>> list(f.columns), f.shape
    (['person', 'period', 'feedback', 'manager_rating'], (6, 4))
    >>> bool(f["feedback"].between(1, 5).all() and f["manager_rating"].between(1, 5).all())
    True
    """
    _check_common(n_people, seed)
    periods = _months(start, months)
    t = _person_traits(n_people, seed)
    rng = np.random.default_rng([seed, 105])
    centre = 3.6 + 0.5 * t["skill"][:, None]
    fb = np.clip(np.round(centre + rng.normal(0.0, 0.4, (n_people, months)), 1), 1.0, 5.0)
    mr = np.clip(np.round(centre + rng.normal(0.0, 0.7, (n_people, months))), 1, 5)
    return pd.DataFrame(
        {
            "person": np.repeat(_person_ids(n_people), months),
            "period": np.tile(periods.to_numpy(), n_people),
            "feedback": fb.ravel(),
            "manager_rating": mr.ravel().astype(np.int64),
        }
    )
