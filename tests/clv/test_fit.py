"""Fits: published figures, lifetimes' estimates, compression, penalizer, bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.clv import (
    fit_bg_bb,
    fit_bg_nbd,
    fit_gamma_gamma,
    fit_mbg_nbd,
    fit_pareto_nbd,
    fit_shifted_beta_geometric,
)
from crmcore.errors import ColumnTypeError, ConfigError, DataError, InputTypeError, SchemaError
from helpers import call_unmutated

CONTINUOUS = [fit_bg_nbd, fit_mbg_nbd, fit_pareto_nbd]
_RAW = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "cdnow_summary.csv")
_CDNOW = pd.DataFrame({"frequency": _RAW["x"].to_numpy(float), "recency": _RAW["t_x"].to_numpy(),
                       "T": _RAW["T"].to_numpy()})  # fmt: skip


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


# --------------------------------------------------------------------------- published figures


def test_bg_nbd_cdnow_fader_hardie_lee_2005(cdnow_summary: pd.DataFrame) -> None:
    # Fader, Hardie & Lee (2005), "Counting your customers the easy way", section 5:
    # r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
    m = fit_bg_nbd(cdnow_summary, time_unit="W")
    assert (round(m.r, 3), round(m.alpha, 3), round(m.a, 3), round(m.b, 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert m.diagnostics is not None
    assert round(m.diagnostics.log_likelihood, 1) == -9582.4
    assert m.diagnostics.n_customers == 2357
    assert m.time_unit == "W"


def test_pareto_nbd_cdnow(cdnow_summary: pd.DataFrame) -> None:
    # Fader, Hardie & Lee (2005), table 1 / Fader & Hardie note 008: r = 0.55, alpha = 10.58,
    # s = 0.61, beta = 11.67, LL = -9595.0.
    m = fit_pareto_nbd(cdnow_summary)
    assert (round(m.r, 2), round(m.alpha, 2), round(m.s, 2), round(m.beta, 2)) == (
        0.55,
        10.58,
        0.61,
        11.67,
    )
    assert m.diagnostics is not None
    assert round(m.diagnostics.log_likelihood, 1) == -9595.0


def test_gamma_gamma_cdnow(cdnow_summary: pd.DataFrame) -> None:
    # Fader, Hardie & Lee (2005), "RFM and CLV" / note 025: p = 6.25, q = 3.74, v = 15.44,
    # fitted on the 946 repeat customers.
    m = fit_gamma_gamma(cdnow_summary)
    assert (round(m.p, 2), round(m.q, 2)) == (6.25, 3.74)
    assert abs(m.v - 15.44) < 0.01  # 15.4477 (lifetimes finds the same); the paper rounds down
    assert m.diagnostics is not None
    assert m.diagnostics.n_customers == 946
    repeat = cdnow_summary[cdnow_summary["frequency"] > 0]
    expected = np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1]
    assert m.frequency_spend_correlation == pytest.approx(expected)
    assert abs(expected) < 0.2  # the model's assumption holds on CDNOW (note 025: 0.11)


def test_bg_bb_donations_fader_hardie_shang_2010(donations: pd.DataFrame) -> None:
    # Fader, Hardie & Shang (2010), table 2: alpha = 1.204, beta = 0.750, gamma = 0.657,
    # delta = 2.783, LL = -33,225.6.
    m = fit_bg_bb(donations, n_periods="periods", weights="weights")
    assert (round(m.alpha, 3), round(m.beta, 3), round(m.gamma, 3), round(m.delta, 3)) == (
        1.204,
        0.750,
        0.657,
        2.783,
    )
    assert m.diagnostics is not None
    assert round(m.diagnostics.log_likelihood, 1) == -33225.6
    assert m.diagnostics.n_customers == 11104


@pytest.mark.parametrize(
    ("active", "alpha", "beta"),
    [
        # Fader & Hardie (2007), "How to project customer retention", years 0-7.
        ([1000, 631, 468, 382, 326, 289, 262, 241], 0.704, 1.182),  # "regular"
        ([1000, 869, 743, 653, 593, 551, 517, 491], 0.668, 3.806),  # "high end"
    ],
)
def test_shifted_beta_geometric_fader_hardie_2007(
    active: list[int], alpha: float, beta: float
) -> None:
    m = fit_shifted_beta_geometric(pd.Series(active))
    assert (round(m.alpha, 3), round(m.beta, 3)) == (alpha, beta)


# --------------------------------------------------------------------------- against lifetimes


@pytest.mark.parametrize(
    ("fit", "key", "kwargs"),
    [
        (fit_bg_nbd, "bgnbd", {}),
        (fit_bg_nbd, "bgnbd_penalized_0.1", {"penalizer": 0.1}),
        (fit_mbg_nbd, "mbgnbd", {}),
        (fit_pareto_nbd, "pnbd", {}),
    ],
)
def test_same_parameters_as_lifetimes(
    cdnow_summary: pd.DataFrame,
    lifetimes_fits: dict[str, Any],
    fit: Any,
    key: str,
    kwargs: dict[str, Any],
) -> None:
    m = fit(cdnow_summary, **kwargs)
    for name, value in lifetimes_fits[key].items():
        assert _rel(getattr(m, name), value) < 1e-3, (name, getattr(m, name), value)


def test_gamma_gamma_and_bg_bb_as_lifetimes(
    cdnow_summary: pd.DataFrame, donations: pd.DataFrame, lifetimes_fits: dict[str, Any]
) -> None:
    gg = fit_gamma_gamma(cdnow_summary)
    for name, value in lifetimes_fits["gamma_gamma"].items():
        assert _rel(getattr(gg, name), value) < 1e-4
    bb = fit_bg_bb(donations, n_periods="periods", weights="weights")
    for name, value in lifetimes_fits["bgbb"].items():
        assert _rel(getattr(bb, name), value) < 1e-4


def test_standard_errors_are_positive_and_shrink_with_data(cdnow_summary: pd.DataFrame) -> None:
    full = fit_bg_nbd(cdnow_summary)
    half = fit_bg_nbd(cdnow_summary.iloc[::2])
    assert full.diagnostics is not None
    assert half.diagnostics is not None
    for name in ("r", "alpha", "a", "b"):
        se = full.diagnostics.standard_errors[name]
        assert 0 < se < getattr(full, name)
        assert half.diagnostics.standard_errors[name] > se


# --------------------------------------------------------------------------- weights, units


@pytest.mark.parametrize("fit", CONTINUOUS)
def test_weights_equal_repeated_rows(fit: Any, cdnow_summary: pd.DataFrame) -> None:
    small = cdnow_summary.iloc[:300].round(0)
    counts = small.groupby(["frequency", "recency", "T"]).size().rename("n").reset_index()
    by_rows = fit(small)
    by_weights = fit(counts, weights="n")
    for name in by_rows.PARAMETERS:
        assert getattr(by_weights, name) == pytest.approx(getattr(by_rows, name), rel=1e-6)
    assert by_weights.diagnostics.n_customers == 300
    assert by_weights.diagnostics.log_likelihood == pytest.approx(
        by_rows.diagnostics.log_likelihood, rel=1e-9
    )


@pytest.mark.parametrize("fit", CONTINUOUS)
def test_time_unit_scales_rates_only(fit: Any, cdnow_summary: pd.DataFrame) -> None:
    weeks = fit(cdnow_summary)
    days = fit(cdnow_summary.assign(recency=cdnow_summary["recency"] * 7, T=cdnow_summary["T"] * 7))
    rates = {"alpha", "beta"}
    for name in weeks.PARAMETERS:
        factor = 7 if name in rates else 1
        assert getattr(days, name) == pytest.approx(getattr(weeks, name) * factor, rel=1e-5)


@settings(max_examples=8)
@given(st.integers(0, 2**32 - 1), st.sampled_from(CONTINUOUS))
def test_row_order_and_index_do_not_matter(seed: int, fit: Any) -> None:
    frame = _CDNOW.iloc[:500]
    rng = np.random.default_rng(seed)
    a = fit(frame)
    b = fit(frame.iloc[rng.permutation(len(frame))].set_index(pd.Index(rng.permutation(500))))
    for name in a.PARAMETERS:
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-5)


def test_fits_leave_input_unchanged(cdnow_summary: pd.DataFrame, donations: pd.DataFrame) -> None:
    frame = cdnow_summary.iloc[:400].copy()
    for fit in (*CONTINUOUS, fit_gamma_gamma):
        call_unmutated(fit, frame)
    call_unmutated(fit_bg_bb, donations.copy(), n_periods="periods", weights="weights")
    active = pd.Series([100, 60, 40, 30])
    call_unmutated(fit_shifted_beta_geometric, active)


# --------------------------------------------------------------------------- bad input


def _summary() -> pd.DataFrame:
    return pd.DataFrame(
        {"frequency": [0.0, 2.0, 1.0], "recency": [0.0, 5.0, 3.0], "T": [8.0, 9.0, 7.0]},
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )


@pytest.mark.parametrize("fit", CONTINUOUS)
@pytest.mark.parametrize(
    ("change", "error", "match", "row"),
    [
        ({"recency": [0.0, 10.0, 3.0]}, DataError, r"'recency' .* row 'b'; above its T 9.0", "b"),
        ({"frequency": [0.0, -2.0, 1.0]}, DataError, r"'frequency' .* negative value -2.0", "b"),
        ({"frequency": [0.0, 1.5, 1.0]}, DataError, r"non-integer value 1.5 at row 'b'", "b"),
        ({"T": [8.0, np.inf, 7.0]}, DataError, r"'T' .* infinite value inf", "b"),
        ({"T": [np.nan, 9.0, 7.0]}, DataError, r"'T' .* NaN at row 'a'", "a"),
        ({"recency": [1.0, 5.0, 3.0]}, DataError, r"row 'a'; expected 0 where frequency", "a"),
        ({"frequency": [0.0, 0.0, 0.0], "recency": [0.0] * 3}, DataError, "no repeat", None),
        ({"T": ["x", "9", "7"]}, ColumnTypeError, r"non-numeric value 'x' at row 'a'", "a"),
    ],
)
def test_bad_summary(
    fit: Any, change: dict[str, Any], error: type, match: str, row: object
) -> None:
    with pytest.raises(error, match=match) as info:
        fit(_summary().assign(**change))
    assert info.value.row == row


@pytest.mark.parametrize("fit", CONTINUOUS)
def test_bad_weights_and_options(fit: Any) -> None:
    s = _summary()
    with pytest.raises(DataError, match=r"'w' .* weight 0.5 at row 'b'; weights count"):
        fit(s.assign(w=[1, 0.5, 2]), weights="w")
    with pytest.raises(DataError, match=r"weight 0.0 at row 'a'"):
        fit(s.assign(w=[0, 1, 2]), weights="w")
    with pytest.raises(SchemaError, match="missing column"):
        fit(s, weights="nope")
    with pytest.raises(ConfigError, match="penalizer"):
        fit(s, penalizer=-1)
    with pytest.raises(ConfigError, match="time_unit"):
        fit(s, time_unit="weeks")
    with pytest.raises(InputTypeError):
        fit(s.to_numpy())
    with pytest.raises(SchemaError, match="empty"):
        fit(s.iloc[:0])


def test_non_convergence_raises_with_message_and_advice() -> None:
    # One repeat customer whose purchases all fall at the very start: the likelihood keeps
    # rising as the drop-out probability goes to 1, so no finite optimum exists.
    s = pd.DataFrame({"frequency": [50.0, 0.0], "recency": [0.001, 0.0], "T": [1000.0, 1000.0]})
    with pytest.raises(DataError, match=r"did not converge.*penalizer"):
        fit_bg_nbd(s)


def test_gamma_gamma_bad_spend() -> None:
    s = pd.DataFrame({"frequency": [1, 2], "monetary_value": [10.0, 0.0]}, index=[5, 6])
    with pytest.raises(DataError, match=r"value 0.0 at row 6 for a repeat customer") as info:
        fit_gamma_gamma(s)
    assert info.value.row == 6
    with pytest.raises(DataError, match="no repeat"):
        fit_gamma_gamma(pd.DataFrame({"frequency": [0, 0], "monetary_value": [0.0, 0.0]}))


def test_bg_bb_bad_rows() -> None:
    base = pd.DataFrame({"frequency": [1, 2], "recency": [3, 4], "n_periods": [6, 6]})
    with pytest.raises(DataError, match=r"'frequency' .* value 7.0 at row 1"):
        fit_bg_bb(base.assign(frequency=[1, 7], recency=[3, 6]))
    with pytest.raises(DataError, match=r"'recency' .* value 1.0 at row 1"):
        fit_bg_bb(base.assign(recency=[3, 1]))
    with pytest.raises(DataError, match=r"'recency' .* above its n_periods"):
        fit_bg_bb(base.assign(recency=[3, 9]))


@pytest.mark.parametrize(
    ("active", "error", "match"),
    [
        ([100], DataError, "at least one later count"),
        ([100, 120, 50], DataError, r"120.0 at label 1; expected counts that never increase"),
        ([0, 0], DataError, "cohort size > 0"),
        ([100, 100, 100], DataError, "no customer of the cohort left"),
        ([100, 50.5], DataError, "non-integer"),
        (pd.DataFrame({"a": [1, 2]}), InputTypeError, "sequence or Series"),
    ],
)
def test_shifted_beta_geometric_bad_input(active: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        fit_shifted_beta_geometric(active)


def test_gamma_gamma_weights_equal_repeated_rows_correlation_included(
    cdnow_summary: pd.DataFrame,
) -> None:
    small = cdnow_summary.iloc[:400].round(0)
    counts = small.groupby(["frequency", "monetary_value"]).size().rename("n").reset_index()
    by_rows = fit_gamma_gamma(small)
    by_weights = fit_gamma_gamma(counts, weights="n")
    for name in by_rows.PARAMETERS:
        assert getattr(by_weights, name) == pytest.approx(getattr(by_rows, name), rel=1e-6)
    assert by_weights.frequency_spend_correlation == pytest.approx(
        by_rows.frequency_spend_correlation, rel=1e-12
    )


@pytest.mark.parametrize("fit", [fit_bg_nbd, fit_pareto_nbd])
def test_counts_near_1e307_and_huge_penalties_are_named(fit: Any) -> None:
    # issue 14 catalogue: the optimiser drove alpha to 0 and 'total * r / alpha' raised
    # a bare ZeroDivisionError (counts near 1e307, or penalizer=1e307)
    summary = pd.DataFrame(
        {"frequency": [1e307, 1.0, 0.0, 2.0], "recency": [30.0, 10.0, 0.0, 20.0], "T": 39.0}
    )
    with pytest.raises(DataError, match=r"frequency' of summary has value too large 1e\+307"):
        fit(summary)
    with pytest.raises(DataError, match="did not converge"):
        fit(summary.assign(frequency=[3.0, 1.0, 0.0, 2.0]), penalizer=1e307)


def test_gamma_gamma_spend_near_1e307_is_named() -> None:
    # issue 14 catalogue: the spend/frequency correlation squared 1e307 in np.cov
    rows = pd.DataFrame(
        {"frequency": [1.0, 2.0, 3.0, 5.0, 1.0], "monetary_value": [1e307, 20.0, 35.0, 30.0, 9.0]}
    )
    with pytest.raises(DataError, match="monetary_value up to 2\\*\\*53"):
        fit_gamma_gamma(rows)
