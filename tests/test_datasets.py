"""Seeded synthetic data: reproducible, well-formed."""

from __future__ import annotations

import pandas as pd
import pytest

from crmcore import datasets
from crmcore.errors import ConfigError


def test_transactions_shape_and_reproducibility() -> None:
    a = datasets.transactions(100, seed=5)
    assert len(a) == 800
    assert list(a.columns) == ["customer_id", "date", "amount"]
    assert a["customer_id"].between(1, 100).all()
    assert a["date"].between(pd.Timestamp("2023-01-01"), pd.Timestamp("2024-12-31")).all()
    assert (a["amount"] > 0).all()
    assert a["date"].is_monotonic_increasing
    pd.testing.assert_frame_equal(a, datasets.transactions(100, seed=5))
    assert not a.equals(datasets.transactions(100, seed=6))


def test_transactions_have_realistic_repeats() -> None:
    tx = datasets.transactions(300, seed=1)
    per_customer = tx.groupby("customer_id").size()
    assert (per_customer == 1).mean() > 0.05  # one-off buyers exist
    assert per_customer.max() >= 20  # and a few heavy buyers
    revenue = tx.groupby("customer_id")["amount"].sum().sort_values(ascending=False)
    top_fifth = revenue.iloc[: len(revenue) // 5].sum() / revenue.sum()
    assert top_fifth > 0.5  # Pareto-like concentration, so ABC classes are meaningful
    assert tx.duplicated(["customer_id", "date"]).any()  # several orders on one day occur


def test_customers_consistent_ids() -> None:
    c = datasets.customers(50, seed=2)
    assert c["customer_id"].tolist() == list(range(1, 51))
    assert set(c["region"]) <= {"North", "South", "East", "West"}
    assert (c["potential"] > 0).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_customers": 0}, "n_customers == 0, must be >= 1"),
        ({"n_customers": 5, "n_transactions": 0}, "n_transactions == 0"),
        ({"n_customers": 5, "start": "2024-01-02", "end": "2024-01-01"}, "before start"),
        ({"n_customers": 5, "seed": -1}, "seed == -1"),
    ],
)
def test_transactions_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        datasets.transactions(**kwargs)  # type: ignore[arg-type]
