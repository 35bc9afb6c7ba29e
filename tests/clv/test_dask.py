"""Dask summaries: fits equal the pandas fits to the last bit, predictions equal pandas.

A fit of a Dask summary compresses each partition to its distinct rows with customer counts
and fits the merged table (issue #12: "identical parameters"); the collections below cut CDNOW
into uneven partitions, some empty, in shuffled order.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
import dask  # noqa: E402  (after the importorskip guard)

from crmcore.clv import (  # noqa: E402
    BGNBD,
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
    fit_bg_bb,
    fit_bg_nbd,
    fit_gamma_gamma,
    fit_mbg_nbd,
    fit_pareto_nbd,
    probability_alive,
)
from crmcore.errors import ConfigError, DataError, SchemaError  # noqa: E402
from crmcore.segmentation import btyd_summary  # noqa: E402


@pytest.fixture(autouse=True)
def _synchronous() -> Iterator[None]:
    with dask.config.set(scheduler="synchronous"):
        yield


def split(frame: pd.DataFrame, cuts: list[int]) -> Any:
    bounds = [0, *sorted(cuts), len(frame)]
    pieces = [frame.iloc[a:b] for a, b in itertools.pairwise(bounds)]
    return dd.concat([dd.from_pandas(p, npartitions=1, sort=False) for p in pieces])


@pytest.fixture(scope="module")
def mixed(cdnow_summary: pd.DataFrame) -> pd.DataFrame:
    return cdnow_summary.sample(frac=1, random_state=2)


def partitionings(frame: pd.DataFrame) -> list[Any]:
    n = len(frame)
    return [
        dd.from_pandas(frame, npartitions=5, sort=False),
        split(frame, [1, n // 3, n // 3, n - 7]),  # sizes 1, ..., 0 (empty), ..., 7
    ]


@pytest.mark.parametrize("fit", [fit_bg_nbd, fit_mbg_nbd, fit_pareto_nbd])
def test_purchase_fits_equal_pandas_exactly(fit: Any, mixed: pd.DataFrame) -> None:
    expected = fit(mixed, time_unit="W")
    for ddf in partitionings(mixed):
        got = fit(ddf, time_unit="W")
        assert got == expected  # every parameter, the log-likelihood, standard errors, ...


def test_gamma_gamma_and_bg_bb_equal_pandas_exactly(
    mixed: pd.DataFrame, donations: pd.DataFrame
) -> None:
    expected = fit_gamma_gamma(mixed)
    for ddf in partitionings(mixed):
        assert fit_gamma_gamma(ddf) == expected
    bb = fit_bg_bb(donations, n_periods="periods", weights="weights")
    ddf = dd.from_pandas(donations, npartitions=3)
    assert fit_bg_bb(ddf, n_periods="periods", weights="weights") == bb


def test_fit_of_a_dask_log_summary(cdnow_log: pd.DataFrame) -> None:
    log = cdnow_log[cdnow_log["date"] <= "1997-09-30"]
    expected = fit_bg_nbd(btyd_summary(log, freq_multiplier=7), time_unit="W")
    summary = btyd_summary(dd.from_pandas(log, npartitions=4), freq_multiplier=7)
    got = fit_bg_nbd(summary, time_unit="W")
    for name in BGNBD.PARAMETERS:
        assert getattr(got, name) == pytest.approx(getattr(expected, name), rel=1e-12)


def test_predictions_equal_pandas_per_partition(mixed: pd.DataFrame) -> None:
    model = fit_bg_nbd(mixed, time_unit="W")
    spend = fit_gamma_gamma(mixed)
    ddf = dd.from_pandas(mixed, npartitions=4, sort=False)
    cases = [
        (probability_alive(model, ddf), probability_alive(model, mixed)),
        (expected_purchases(model, ddf, 13), expected_purchases(model, mixed, 13)),
        (expected_spend(spend, ddf), expected_spend(spend, mixed)),
        (
            customer_lifetime_value(model, spend, ddf, months=6, discount_rate=0.02),
            customer_lifetime_value(model, spend, mixed, months=6, discount_rate=0.02),
        ),
    ]
    for lazy, expected in cases:
        assert isinstance(lazy, dd.Series)
        pd.testing.assert_series_equal(lazy.compute(), expected, check_exact=True)


def test_bad_rows_name_the_callers_row_at_fit(mixed: pd.DataFrame) -> None:
    bad = mixed.copy()
    label = bad.index[1500]
    bad.loc[label, "recency"] = bad.loc[label, "T"] + 1.0
    with pytest.raises(DataError, match=rf"column 'recency' of summary has value .* row {label}"):
        fit_bg_nbd(dd.from_pandas(bad, npartitions=4, sort=False))
    spend = mixed.copy()
    label = spend.index[spend["frequency"].to_numpy() > 0][10]
    spend.loc[label, "monetary_value"] = 0.0
    with pytest.raises(DataError, match=rf"row {label}.*repeat customer"):
        fit_gamma_gamma(dd.from_pandas(spend, npartitions=4, sort=False))


def test_options_and_columns_are_checked_eagerly(mixed: pd.DataFrame) -> None:
    ddf = dd.from_pandas(mixed, npartitions=2)
    with pytest.raises(SchemaError, match="missing column"):
        fit_bg_nbd(ddf, T="age")
    with pytest.raises(ConfigError, match="penalizer"):
        fit_pareto_nbd(ddf, penalizer=-1.0)
    model = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
    with pytest.raises(SchemaError, match="missing column"):
        probability_alive(model, ddf, recency="last")
    with pytest.raises(ConfigError, match="time_unit"):
        customer_lifetime_value(model, fit_gamma_gamma(mixed), ddf, time_unit="D")
    assert np.isfinite(expected_purchases(model, ddf, 4).compute()).all()
