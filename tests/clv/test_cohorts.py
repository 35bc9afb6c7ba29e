"""cohort_retention: hand-worked cohorts, counts vs shares, invariants, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.clv import cohort_retention
from crmcore.errors import ConfigError, DataError, SchemaError
from helpers import call_unmutated, shuffled


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3, 4, 4],
            "date": pd.to_datetime(
                [
                    "2024-01-03",
                    "2024-01-20",
                    "2024-03-01",  # 1: Jan, again in Mar
                    "2024-01-15",
                    "2024-02-02",  # 2: Jan, again in Feb
                    "2024-02-10",  # 3: Feb only
                    "2024-02-11",
                    "2024-03-30",  # 4: Feb, again in Mar
                ]
            ),
        }
    )


def test_counts_and_shares_by_hand() -> None:
    counts = call_unmutated(cohort_retention, _tx(), normalize=False)
    assert counts.index.tolist() == [pd.Period("2024-01", "M"), pd.Period("2024-02", "M")]
    assert counts.columns.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(counts.to_numpy(), [[2, 1, 1], [2, 1, np.nan]])
    shares = cohort_retention(_tx())
    np.testing.assert_array_equal(shares.to_numpy(), [[1.0, 0.5, 0.5], [1.0, 0.5, np.nan]])
    assert shares.index.name == "cohort"
    assert shares.columns.name == "periods_since"


def test_weeks_quarters_and_as_of() -> None:
    weeks = cohort_retention(_tx(), period="W", normalize=False)
    assert str(weeks.index.freq) in ("<Week: weekday=6>", "W-SUN")
    assert weeks[0].sum() == 4
    quarters = cohort_retention(_tx(), period="QS", as_of="2024-06-30")
    np.testing.assert_array_equal(quarters.to_numpy(), [[1.0, 0.0]])
    with pytest.raises(DataError, match="after as_of"):
        cohort_retention(_tx(), as_of="2024-02-15")


@given(st.integers(0, 2**32 - 1))
def test_invariants(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 80
    tx = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 25, n),
            "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 500, n), "D"),
        }
    )
    counts = cohort_retention(tx, normalize=False)
    assert counts[0].sum() == tx["customer_id"].nunique()
    values = counts.to_numpy()
    assert (np.nan_to_num(values) <= values[:, :1]).all()
    shares = cohort_retention(tx)
    assert ((shares >= 0) | shares.isna()).all().all()
    pd.testing.assert_frame_equal(cohort_retention(shuffled(tx, seed)), shares)


def test_bad_input() -> None:
    with pytest.raises(SchemaError):
        cohort_retention(_tx().drop(columns="date"))
    with pytest.raises(ConfigError, match="period"):
        cohort_retention(_tx(), period="fortnight")
    with pytest.raises(DataError, match="missing"):
        cohort_retention(_tx().assign(customer_id=[1, None, 1, 2, 2, 3, 4, 4]))


def test_as_of_beyond_the_nanosecond_range_and_ids_typed_two_ways() -> None:
    # issue 14 catalogue: as_of in 2500 was pandas' OutOfBoundsDatetime; 1 and '1' were two
    # customers
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": pd.to_datetime(["2024-01-05", "2024-02-07", "2024-01-20"]),
        }
    )
    far = cohort_retention(tx, as_of=pd.Timestamp("2500-01-01"))
    near = cohort_retention(tx, as_of="2024-02-29")
    pd.testing.assert_frame_equal(far.iloc[:, : near.shape[1]], near, check_names=False)
    with pytest.raises(DataError, match="after as_of=1500-01-01"):
        cohort_retention(tx, as_of=pd.Timestamp("1500-01-01"))
    with pytest.raises(DataError, match=r"mixes number 1 \(row 0\) and text '1' \(row 2\)"):
        cohort_retention(tx.assign(customer_id=[1, 2, "1"]))
