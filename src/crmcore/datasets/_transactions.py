"""Seeded synthetic customers and transactions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmcore._frames import check_scalar
from crmcore.datasets._checks import check_date, check_size

__all__ = ["customers", "transactions"]

_REGIONS = ("North", "South", "East", "West")
_INDUSTRIES = ("Retail", "Manufacturing", "Services", "Public")


def _customer_traits(n_customers: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 1])
    return {
        # How often a customer buys, relative to others (gamma: many rare buyers, few frequent).
        "rate": rng.gamma(shape=0.8, scale=1.0, size=n_customers),
        # Typical order size (lognormal: a long tail of large customers).
        "scale": rng.lognormal(mean=4.5, sigma=0.9, size=n_customers),
        # Where in the window the customer started and how long they stayed.
        "start": rng.uniform(0.0, 0.7, size=n_customers),
        "life": rng.uniform(0.15, 1.0, size=n_customers),
        "region": rng.integers(0, len(_REGIONS), size=n_customers),
        "industry": rng.integers(0, len(_INDUSTRIES), size=n_customers),
        "potential": rng.lognormal(mean=9.0, sigma=1.0, size=n_customers),
    }


def customers(n_customers: int = 500, *, seed: int = 0) -> pd.DataFrame:
    """Generate a seeded table of customers, consistent with :func:`transactions`.

    Parameters
    ----------
    n_customers
        Number of customers; ids are ``1 .. n_customers``.
    seed
        Same seed, same table; the same seed in :func:`transactions` gives those customers'
        purchases.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (int64), ``region`` and ``industry`` (text), ``potential``
        (estimated yearly spend the customer could bring, float64, rounded to whole units).

    Examples
    --------
    >>> from crmcore.datasets import customers
    >>> c = customers(3, seed=1)
    >>> list(c.columns)
    ['customer_id', 'region', 'industry', 'potential']
    >>> c["customer_id"].tolist()
    [1, 2, 3]
    """
    check_size(n_customers, "n_customers")
    check_scalar(seed, "seed", kind=int, min_value=0)
    t = _customer_traits(n_customers, seed)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n_customers + 1, dtype=np.int64),
            "region": np.asarray(_REGIONS, dtype=object)[t["region"]],
            "industry": np.asarray(_INDUSTRIES, dtype=object)[t["industry"]],
            "potential": np.round(t["potential"]),
        }
    )


def transactions(
    n_customers: int = 500,
    *,
    n_transactions: int | None = None,
    start: str = "2023-01-01",
    end: str = "2024-12-31",
    seed: int = 0,
) -> pd.DataFrame:
    """Generate seeded synthetic purchase transactions.

    Customers differ in how often they buy (gamma-distributed rates), how much they spend per
    order (lognormal) and when they were active (each has a start and, often, a point after
    which they stop buying), so RFM scores, ABC classes and grades come out with realistic
    spread: many one-off buyers, a few heavy customers, a long tail of lapsed ones. Several
    orders by one customer on one day occur, as in real exports.

    Parameters
    ----------
    n_customers
        Number of customers; ids are ``1 .. n_customers`` (customers with no purchase can occur).
    n_transactions
        Number of rows; default ``8 * n_customers``.
    start, end
        The window of purchase dates (inclusive, whole days).
    seed
        Same seed, same table.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (int64), ``date`` (datetime64, midnight), ``amount`` (float64,
        positive, two decimals), sorted by date then customer, index ``0 .. n-1``.

    Examples
    --------
    >>> from crmcore.datasets import transactions
    >>> tx = transactions(50, n_transactions=200, seed=7)
    >>> tx.shape, list(tx.columns)
    ((200, 3), ['customer_id', 'date', 'amount'])
    >>> bool((tx["amount"] > 0).all())
    True
    >>> tx.equals(transactions(50, n_transactions=200, seed=7))
    True
    """
    check_size(n_customers, "n_customers")
    check_scalar(seed, "seed", kind=int, min_value=0)
    n_rows = 8 * n_customers if n_transactions is None else n_transactions
    check_size(n_rows, "n_transactions")
    first = check_date(start, "start")
    last = check_date(end, "end")
    n_days = (last - first).days + 1
    if n_days < 1:
        from crmcore.errors import ConfigError

        raise ConfigError(f"end={end!r} is before start={start!r}")
    t = _customer_traits(n_customers, seed)
    rng = np.random.default_rng([seed, 2])
    p = t["rate"] * t["life"]
    cust = rng.choice(n_customers, size=n_rows, p=p / p.sum())
    begin = t["start"][cust]
    stop = np.minimum(begin + t["life"][cust], 1.0)
    pos = begin + rng.random(n_rows) * (stop - begin)
    day = np.minimum((pos * n_days).astype(np.int64), n_days - 1)
    amount = np.round(t["scale"][cust] * rng.lognormal(0.0, 0.5, size=n_rows), 2)
    amount = np.maximum(amount, 0.01)
    dates = first.to_datetime64().astype("datetime64[D]") + day.astype("timedelta64[D]")
    order = np.lexsort((cust, day))
    return pd.DataFrame(
        {
            "customer_id": (cust[order] + 1).astype(np.int64),
            "date": pd.to_datetime(dates[order]).astype("datetime64[ns]"),
            "amount": amount[order],
        }
    )
