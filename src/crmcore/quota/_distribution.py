"""Seasonal distributions: each period's share of a year, as percentages or as fractions.

Shared by :func:`crmcore.quota.seasonal_split` and :func:`crmcore.quota.build_plan`. A
distribution is a Series or mapping keyed by period label, or a sequence (labels ``1 .. n``),
of finite non-negative shares that sum to 100 (percentages, as ERPNext's *Monthly
Distribution* takes them) or to 1 (fractions, as ``crmcore.forecast.seasonal_weights``
returns them). Apportionment depends on ratios only, so the shares are used as given.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmcore._frames import first_true, show
from crmcore.errors import ConfigError

#: Distribution = percentages per period, or fractions per period.
Distribution = Mapping[Hashable, float] | pd.Series | Sequence[float]

#: Relative tolerance of the sum (100 +- 1e-9, 1 +- 1e-11).
SUM_TOLERANCE = 1e-11


def _as_series(distribution: Any) -> pd.Series:
    if isinstance(distribution, pd.Series):
        return distribution
    if isinstance(distribution, Mapping):
        return pd.Series(list(distribution.values()), index=list(distribution.keys()))
    if isinstance(distribution, str) or not hasattr(distribution, "__iter__"):
        raise ConfigError(
            f"distribution must be a Series, a mapping or a sequence of shares, got "
            f"{type(distribution).__name__}",
            column="distribution",
        )
    values = list(distribution)
    return pd.Series(values, index=pd.RangeIndex(1, len(values) + 1), dtype=object)


def period_shares(distribution: Any) -> pd.Series:
    """Return the shares as a float64 Series indexed by period label, checked.

    Raises
    ------
    ConfigError
        Empty, duplicated labels, non-numbers or booleans, NaN/inf or negative shares, or a sum
        that is neither 100 nor 1.
    """
    series = _as_series(distribution)
    if len(series) == 0:
        raise ConfigError(
            "distribution is empty; expected at least one period", column="distribution"
        )
    if series.index.has_duplicates:
        dup = series.index[series.index.duplicated()][0]
        raise ConfigError(
            f"distribution has period {dup!r} twice; each period must appear once",
            column="distribution",
            value=dup,
        )
    bools = [isinstance(v, bool | np.bool_) for v in series.tolist()]
    if any(bools):
        label = series.index[bools.index(True)]
        raise ConfigError(
            f"distribution holds a boolean at period {label!r}; expected shares",
            column="distribution",
            row=label,
            value=series.loc[label],
        )
    try:
        shares = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise ConfigError(
            "distribution must hold numbers (percentages or fractions)", column="distribution"
        ) from None
    for mask, what in ((~np.isfinite(shares), "non-finite"), (shares < 0, "negative")):
        pos = first_true(mask)
        if pos is not None:
            raise ConfigError(
                f"distribution has {what} share {show(shares[pos])} for period "
                f"{series.index[pos]!r}; expected finite shares >= 0",
                column="distribution",
                row=series.index[pos],
                value=shares[pos],
            )
    with np.errstate(over="ignore"):  # shares near the largest float: refused just below
        total = float(shares.sum())
    if not np.isfinite(total):
        raise ConfigError(
            "distribution adds up past the largest float (about 1.8e308); give every "
            "period's share as percentages that sum to 100 or as fractions that sum to 1",
            column="distribution",
            value=total,
        )
    if not any(abs(total - scale) <= SUM_TOLERANCE * scale for scale in (100.0, 1.0)):
        raise ConfigError(
            f"distribution sums to {total:g}; give every period's share as percentages that "
            "sum to 100 or as fractions that sum to 1",
            column="distribution",
            value=total,
        )
    return pd.Series(shares, index=series.index)
