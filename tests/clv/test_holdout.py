"""calibration_holdout equals lifetimes' calibration_and_holdout_data; holdout_report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmcore.clv import BGNBD, calibration_holdout, fit_bg_nbd, holdout_report
from crmcore.errors import ConfigError, DataError, InputTypeError, SchemaError
from helpers import call_unmutated

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize(("name", "multiplier"), [("days", 1), ("weeks", 7)])
def test_equals_lifetimes_on_cdnow(cdnow_log: pd.DataFrame, name: str, multiplier: int) -> None:
    ref = pd.read_csv(DATA / f"lifetimes_holdout_{name}.csv", index_col="customer_id")
    got = call_unmutated(
        calibration_holdout,
        cdnow_log,
        amount="amount",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        freq_multiplier=multiplier,
    )
    assert list(got.columns) == list(ref.columns)
    assert got.index.name == "customer_id"
    assert got.index.tolist() == ref.index.tolist()
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(dtype=float), rtol=1e-9)
    assert len(got) == 2357


def test_weekly_cut_is_exact_not_by_period(cdnow_log: pd.DataFrame) -> None:
    # 1997-09-30 is a Tuesday: purchases later that week are holdout, not calibration.
    got = calibration_holdout(
        cdnow_log, calibration_end="1997-09-30", observation_end="1998-06-30", period="W"
    )
    late = cdnow_log[(cdnow_log["date"] > "1997-09-30") & (cdnow_log["date"] <= "1997-10-05")]
    assert len(late) > 0
    cal_counts = (
        cdnow_log[cdnow_log["date"] <= "1997-09-30"]
        .assign(week=lambda f: f["date"].dt.to_period("W"))
        .groupby("customer_id")["week"]
        .nunique()
    )
    np.testing.assert_array_equal(got["frequency_cal"], cal_counts.to_numpy() - 1)


def test_a_purchase_on_the_end_day_is_calibration() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "date": pd.to_datetime(
                ["2024-01-01", "2024-01-31 23:59", "2024-02-01 00:00", "2024-02-10"],
                format="ISO8601",
            ),
            "amount": [10.0, 20.0, 30.0, 5.0],
        }
    )
    got = calibration_holdout(
        tx, amount="amount", calibration_end="2024-01-31", observation_end="2024-02-29"
    )
    assert got.index.tolist() == [1]  # customer 2 first bought in the holdout
    row = got.loc[1]
    assert (row["frequency_cal"], row["recency_cal"], row["T_cal"]) == (1.0, 30.0, 30.0)
    assert (row["monetary_value_cal"], row["frequency_holdout"]) == (20.0, 1.0)
    assert (row["monetary_value_holdout"], row["duration_holdout"]) == (30.0, 29.0)
    # A cut with a time of day is an instant.
    noon = calibration_holdout(tx, calibration_end="2024-01-31 12:00", observation_end="2024-02-29")
    assert noon.loc[1, "frequency_holdout"] == 2.0


def test_bad_input(cdnow_log: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="before calibration_end"):
        calibration_holdout(cdnow_log, calibration_end="1998-01-01", observation_end="1997-01-01")
    with pytest.raises(ConfigError, match="no purchase on or before"):
        calibration_holdout(cdnow_log, calibration_end="1990-01-01")
    with pytest.raises(ConfigError, match="calibration_end"):
        calibration_holdout(cdnow_log, calibration_end="not a date")
    with pytest.raises(SchemaError, match="missing column"):
        calibration_holdout(cdnow_log, calibration_end="1997-09-30", amount="price")
    bad = cdnow_log.head(5).assign(amount=[1.0, -2.0, 3.0, 4.0, 5.0])
    with pytest.raises(DataError, match="negative"):
        calibration_holdout(bad, amount="amount", calibration_end="1997-09-30")


def test_holdout_report_on_cdnow(cdnow_log: pd.DataFrame) -> None:
    ch = calibration_holdout(
        cdnow_log, calibration_end="1997-09-30", observation_end="1998-06-30", freq_multiplier=7
    )
    cal = ch.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency",
                             "T_cal": "T"})  # fmt: skip
    model = fit_bg_nbd(cal)
    report = holdout_report(model, ch)
    table = report.table
    assert table.index.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert int(table["customers"].sum()) == 2357
    assert report.actual_total == ch["frequency_holdout"].sum()
    # FHL (2005) figure 4: the BG/NBD tracks the holdout purchases by calibration frequency;
    # counted in purchase days (1,882 in weeks 40-78) it predicts about 12 % too few.
    assert report.actual_total == 1882
    assert -0.15 < report.total_error < -0.08
    assert (table["predicted"].diff().iloc[1:] > 0).all()
    np.testing.assert_allclose(table["predicted"], table["actual"], rtol=0.35, atol=0.1)


def test_holdout_report_bad_input() -> None:
    ch = pd.DataFrame({"frequency_cal": [0.0], "recency_cal": [0.0], "T_cal": [3.0],
                       "frequency_holdout": [1.0], "duration_holdout": [5.0]})  # fmt: skip
    m = BGNBD(r=1, alpha=1, a=1, b=1)
    with pytest.raises(ConfigError, match="max_frequency"):
        holdout_report(m, ch, max_frequency=0)
    with pytest.raises(SchemaError, match="missing"):
        holdout_report(m, ch.drop(columns="duration_holdout"))
    with pytest.raises(InputTypeError):
        holdout_report("model", ch)


def test_customer_ids_typed_two_ways_are_an_error() -> None:
    # issue 14 catalogue: 1 and '1' were two customers
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, "1"],
            "date": pd.to_datetime(["2024-01-05", "2024-02-07", "2024-03-20"]),
        }
    )
    with pytest.raises(DataError, match=r"mixes number 1 \(row 0\) and text '1' \(row 2\)"):
        calibration_holdout(tx, calibration_end="2024-02-29", observation_end="2024-06-30")


def test_max_frequency_is_capped() -> None:
    # issue 14 catalogue: max_frequency=10**9 built a billion groups (no answer in 30 s)
    report_input = pd.DataFrame(
        {"frequency_cal": [0.0, 1.0], "recency_cal": [0.0, 5.0], "T_cal": [39.0, 39.0],
         "frequency_holdout": [0.0, 1.0], "duration_holdout": [39.0, 39.0]}
    )  # fmt: skip
    model = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    with pytest.raises(ConfigError, match="max_frequency"):
        holdout_report(model, report_input, max_frequency=10**9)
    assert len(holdout_report(model, report_input, max_frequency=10_000).table) >= 1
