"""Expected spend and CLV equal lifetimes' (same parameters) to 1e-6 relative."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.clv import (
    BGBB,
    BGNBD,
    MBGNBD,
    GammaGamma,
    ParetoNBD,
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
)
from crmcore.errors import ConfigError, InputTypeError
from helpers import call_unmutated

GG = GammaGamma(p=6.25, q=3.74, v=15.44)
MODELS = {
    "bgnbd": BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W"),
    "mbgnbd": MBGNBD(r=0.3, alpha=5.0, a=1.5, b=6.0, time_unit="W"),
    "pnbd": ParetoNBD(r=0.55, alpha=10.58, s=0.61, beta=11.67, time_unit="W"),
}


def test_expected_spend_as_lifetimes(
    cdnow_summary: pd.DataFrame, lifetimes_predictions: pd.DataFrame
) -> None:
    got = expected_spend(GG, cdnow_summary)
    assert got.name == "expected_spend"
    np.testing.assert_allclose(got, lifetimes_predictions["gg_expected_spend"], rtol=1e-9)


def test_expected_spend_by_hand() -> None:
    # Population mean v p / (q - 1) = 15.44 * 6.25 / 2.74 = 35.2189...; one purchase of 50
    # weighs p x / (p x + q - 1) = 6.25 / 8.99.
    s = pd.DataFrame({"frequency": [0, 1], "monetary_value": [0.0, 50.0]})
    mean = 15.44 * 6.25 / 2.74
    w = 6.25 / 8.99
    np.testing.assert_allclose(expected_spend(GG, s), [mean, (1 - w) * mean + w * 50.0])


@pytest.mark.parametrize("key", list(MODELS))
def test_clv_as_lifetimes(
    key: str, cdnow_summary: pd.DataFrame, lifetimes_predictions: pd.DataFrame
) -> None:
    got = customer_lifetime_value(MODELS[key], GG, cdnow_summary, months=12, discount_rate=0.01)
    assert got.name == "clv"
    np.testing.assert_allclose(got, lifetimes_predictions[f"{key}_clv_12"], rtol=1e-6)


def test_clv_without_discount_is_spend_times_purchases(cdnow_summary: pd.DataFrame) -> None:
    s = cdnow_summary.iloc[:200]
    m = MODELS["pnbd"]
    clv = customer_lifetime_value(m, GG, s, months=6, discount_rate=0.0)
    by_hand = expected_spend(GG, s) * expected_purchases(m, s, 6 * 4.345)
    np.testing.assert_allclose(clv, by_hand, rtol=1e-9)


@given(st.floats(0.0, 0.2), st.integers(0, 24))
def test_clv_monotone_in_horizon_and_discount(rate: float, months: int) -> None:
    s = pd.DataFrame({"frequency": [0, 3, 8], "recency": [0.0, 20.0, 30.0],
                      "T": [38.0, 38.0, 38.0], "monetary_value": [0.0, 30.0, 12.0]})  # fmt: skip
    m = MODELS["bgnbd"]
    base = customer_lifetime_value(m, GG, s, months=months, discount_rate=rate)
    assert (base >= 0).all()
    assert (customer_lifetime_value(m, GG, s, months=months + 1, discount_rate=rate) >= base).all()
    cheaper = customer_lifetime_value(m, GG, s, months=months, discount_rate=rate + 0.05)
    assert (cheaper <= base + 1e-12).all()


def test_time_unit_rules(cdnow_summary: pd.DataFrame) -> None:
    s = cdnow_summary.iloc[:20]
    weekly = MODELS["bgnbd"]
    with pytest.raises(ConfigError, match=r"time_unit='D' does not match .* in 'W'"):
        customer_lifetime_value(weekly, GG, s, time_unit="D")
    unknown = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    with pytest.raises(ConfigError, match="needs the summary's time unit"):
        customer_lifetime_value(unknown, GG, s)
    pd.testing.assert_series_equal(
        customer_lifetime_value(unknown, GG, s, time_unit="W"),
        customer_lifetime_value(weekly, GG, s),
    )
    with pytest.raises(ConfigError, match="time_unit"):
        customer_lifetime_value(unknown, GG, s, time_unit="weeks")


def test_bad_arguments(cdnow_summary: pd.DataFrame) -> None:
    s = cdnow_summary.iloc[:20]
    m = MODELS["bgnbd"]
    with pytest.raises(ConfigError, match="q <= 1"):
        expected_spend(GammaGamma(p=1.0, q=0.9, v=3.0), s)
    with pytest.raises(InputTypeError, match="spend_model must be"):
        expected_spend(m, s)  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match="model must be one of"):
        customer_lifetime_value(BGBB(alpha=1, beta=1, gamma=1, delta=1), GG, s)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="months"):
        customer_lifetime_value(m, GG, s, months=-1)
    with pytest.raises(ConfigError, match="discount_rate"):
        customer_lifetime_value(m, GG, s, discount_rate=-0.1)


def test_value_leaves_input_unchanged(cdnow_summary: pd.DataFrame) -> None:
    s = cdnow_summary.iloc[:30].copy()
    call_unmutated(expected_spend, GG, s)
    call_unmutated(customer_lifetime_value, MODELS["pnbd"], GG, s, months=3)


def test_horizon_and_discount_rate_extremes() -> None:
    # issue 14 catalogue: months=10**9 ran month by month (OverflowError at (1 + r) ** k),
    # and a huge discount rate overflowed instead of discounting to nothing
    from crmcore.clv import BGNBD, GammaGamma, customer_lifetime_value

    model = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
    spend = GammaGamma(p=6.25, q=3.74, v=15.44)
    summary = pd.DataFrame(
        {"frequency": [2.0, 0.0], "recency": [30.0, 0.0], "T": [39.0, 39.0],
         "monetary_value": [20.0, 0.0]}
    )  # fmt: skip
    with pytest.raises(ConfigError, match="months"):
        customer_lifetime_value(model, spend, summary, months=10**9)
    clv = customer_lifetime_value(model, spend, summary, months=12, discount_rate=1e307)
    assert np.isfinite(clv).all()
    assert ((clv >= 0) & (clv < 1e-300)).all()
