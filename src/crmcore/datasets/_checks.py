"""Argument checks shared by the generators: sizes within a cap, dates that are dates."""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmcore._frames import check_scalar, show
from crmcore.errors import ConfigError

#: the most rows (people, customers, deals, transactions) one generator call makes
MAX_ROWS = 10_000_000
#: the most months a monthly generator spans (a century)
MAX_MONTHS = 1200


def check_size(value: Any, name: str) -> int:
    """Check a count of rows: an int from 1 to :data:`MAX_ROWS` (more would exhaust memory)."""
    return int(check_scalar(value, name, kind=int, min_value=1, max_value=MAX_ROWS))


def check_date(value: Any, name: str) -> pd.Timestamp:
    """Read a naive date (text, Timestamp or datetime64); anything else names ``name``."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={show(value)} is not a date", column=name, value=value) from None
    if pd.isna(ts):
        raise ConfigError(f"{name} is NaT; expected a date", column=name, value=value)
    if ts.tzinfo is not None:
        raise ConfigError(
            f"{name}={show(value)} has a time zone; the generators make naive dates",
            column=name,
            value=value,
        )
    return ts


def check_rows(expected: float, what: str) -> None:
    """Refuse arguments whose expected number of rows passes :data:`MAX_ROWS`."""
    if not expected <= MAX_ROWS:
        raise ConfigError(
            f"{what} would make about {expected:.3g} rows, more than the {MAX_ROWS:,} a "
            "generator makes; lower them",
            value=expected,
        )
