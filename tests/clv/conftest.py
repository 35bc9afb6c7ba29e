"""Public data sets and lifetimes reference values for the clv tests (see tests/data/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """Fader & Hardie's CDNOW calibration summary: 2,357 customers, 39 weeks, time in weeks."""
    raw = pd.read_csv(DATA / "cdnow_summary.csv")
    return pd.DataFrame(
        {
            "frequency": raw["x"].to_numpy(dtype=float),
            "recency": raw["t_x"].to_numpy(),
            "T": raw["T"].to_numpy(),
            "monetary_value": raw["zbar"].to_numpy(),
        },
        index=pd.Index(raw["ID"], name="customer_id"),
    )


@pytest.fixture(scope="session")
def cdnow_log() -> pd.DataFrame:
    """The CDNOW 1/10 sample purchase log (2,357 customers, 1997-01-01 to 1998-06-30)."""
    raw = pd.read_csv(
        DATA / "cdnow_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
    )
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    return raw[["customer_id", "date", "cds", "amount"]]


@pytest.fixture(scope="session")
def donations() -> pd.DataFrame:
    """The 1995 donation cohort as (frequency, recency, periods) patterns with counts."""
    return pd.read_csv(DATA / "donations.csv")


@pytest.fixture(scope="session")
def lifetimes_predictions() -> pd.DataFrame:
    return pd.read_csv(DATA / "lifetimes_predictions.csv", index_col="ID")


@pytest.fixture(scope="session")
def lifetimes_fits() -> dict[str, Any]:
    out: dict[str, Any] = json.loads((DATA / "lifetimes_fits.json").read_text())
    return out
