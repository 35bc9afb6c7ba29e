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


@pytest.mark.parametrize(
    ("call", "match"),
    [
        # issue 14 catalogue: huge sizes were a MemoryError, bad dates pandas' own errors
        (lambda: datasets.transactions(10**9), r"n_customers == 1000000000, must be <= 10000000"),
        (
            lambda: datasets.transactions(5, n_transactions=2**62),
            r"n_transactions == .*<= 10000000",
        ),
        (lambda: datasets.customers(10**9), r"n_customers == .*<= 10000000"),
        (lambda: datasets.deals(10**9), r"n_deals == .*<= 10000000"),
        (lambda: datasets.targets(2, months=10**9), r"months == .*<= 1200"),
        (lambda: datasets.opportunities(10**9), r"n == .*<= 10000000"),
        (lambda: datasets.team(10**9), r"n_people == .*<= 10000000"),
        (
            lambda: datasets.opportunities(5, as_of="not a date"),
            r"as_of='not a date' is not a date",
        ),
        (lambda: datasets.team(3, as_of=pd.NaT), r"as_of is NaT"),
        (
            lambda: datasets.activities(2, end=pd.Timestamp("2024-02-01", tz="UTC")),
            r"end=.* time zone",
        ),
        (lambda: datasets.activities(2, per_rep_per_day=float("inf")), r"about inf rows"),
        (lambda: datasets.activities(2, per_rep_per_day=1e307), r"about .* rows, more than"),
    ],
)
def test_generator_arguments_beyond_reason_are_refused(call: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        call()  # type: ignore[operator]


def test_lead_history_arguments_are_checked_and_far_dates_work() -> None:
    # issue 14 catalogue: 10**9 leads tried to allocate 7 GiB, a bad end date was pandas'
    # parse error, and an end after 2262 overflowed a nanosecond timedelta
    with pytest.raises(ConfigError, match="n_leads"):
        datasets.lead_history(10**9)
    with pytest.raises(ConfigError, match="end='not a date' is not a date"):
        datasets.lead_history(5, end="not a date")
    with pytest.raises(ConfigError, match="time zone"):
        datasets.lead_history(5, end=pd.Timestamp("2024-12-31", tz="UTC"))
    far = datasets.lead_history(50, seed=1, end="2500-12-31")
    assert far["created_at"].min() >= pd.Timestamp("2023-01-01")
    assert far["created_at"].max() < pd.Timestamp("2500-12-31")
    near = datasets.lead_history(50, seed=1)
    assert near["created_at"].dtype == "datetime64[ns]"
    assert near.drop(columns="created_at").equals(far.drop(columns="created_at"))


def test_stage_history_size_and_shape_are_checked() -> None:
    # issue 14 catalogue: 10**9 deals was a 7.45 GiB MemoryError, shape=inf drew NaN stays
    with pytest.raises(ConfigError, match="n_deals"):
        datasets.stage_history(10**9)
    with pytest.raises(ConfigError, match="shape == inf"):
        datasets.stage_history(5, shape=float("inf"))
