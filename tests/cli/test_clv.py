"""The ``clv`` command (crmcore.cli.clv), run as users run it: a subprocess on files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from crmcore.clv import (
    BGNBD,
    GammaGamma,
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
    fit_bg_nbd,
    fit_gamma_gamma,
    fit_pareto_nbd,
    probability_alive,
)
from crmcore.segmentation import btyd_summary
from helpers_cli import assert_same, run

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CDNOW's 39-week calibration log (purchases up to 1997-09-30), ids shuffled in order."""
    raw = pd.read_csv(DATA / "cdnow_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "client", "day", "cds", "total"])  # fmt: skip
    raw["day"] = pd.to_datetime(raw["day"].astype(str), format="%Y%m%d")
    log = raw.loc[raw["day"] <= "1997-09-30", ["client", "day", "total"]]
    path = tmp_path_factory.mktemp("clv") / "cdnow.csv"
    log.sample(frac=1.0, random_state=1).to_csv(path, index=False)
    return path


ARGS = ["--customer", "client", "--date", "day", "--amount", "total"]


def _expected(path: Path, period: str, months: int, fit: Any) -> pd.DataFrame:
    tx = pd.read_csv(path, parse_dates=["day"])
    summary = btyd_summary(tx, customer="client", date="day", amount="total", period=period)
    model = fit(summary, time_unit=period)
    spend = fit_gamma_gamma(summary)
    horizon = months * {"D": 30.0, "W": 4.345}[period]
    return pd.DataFrame(
        {
            "probability_alive": probability_alive(model, summary),
            "expected_purchases": expected_purchases(model, summary, horizon),
            "expected_spend": expected_spend(spend, summary),
            "clv": customer_lifetime_value(
                model, spend, summary, months=months, discount_rate=0.02, time_unit=period
            ),
        }
    )


@pytest.mark.parametrize(
    ("period", "model", "fit"), [("W", "bg_nbd", fit_bg_nbd), ("D", "pareto_nbd", fit_pareto_nbd)]
)
def test_clv_file_equals_the_library(
    cdnow: Path, tmp_path: Path, period: str, model: str, fit: object
) -> None:
    out = tmp_path / "clv.csv"
    result = run("clv", str(cdnow), *ARGS, "--months", "6", "--period", period, "--model", model,
                 "--discount-rate", "0.02", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = pd.read_csv(out)
    expected = _expected(cdnow, period, 6, fit)
    assert_same(written, expected)
    assert written["client"].is_monotonic_increasing  # sorted by customer
    assert len(written) == 2357


def test_clv_prints_parameters_and_writes_models(cdnow: Path, tmp_path: Path) -> None:
    params = tmp_path / "models.json"
    result = run("clv", str(cdnow), *ARGS, "--period", "W", "--params", str(params))
    assert result.returncode == 0, result.stderr
    assert "probability_alive" in result.stdout.splitlines()[0]
    assert result.stderr.startswith("crmcore clv: BGNBD r=")
    assert "GammaGamma p=" in result.stderr
    stored = json.loads(params.read_text())
    model = BGNBD.from_dict(stored["purchase_model"])
    spend = GammaGamma.from_dict(stored["spend_model"])
    assert model.time_unit == "W"
    assert f"r={model.r:.6g}" in result.stderr
    assert spend.diagnostics is not None
    assert spend.diagnostics.n_customers > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customer", "nobody"], "SchemaError: transactions is missing column(s) 'nobody'"),
        (["--months", "-1"], "--months must be a whole number of months >= 0, got -1"),
        (["--discount-rate", "-1"], "discount_rate"),
    ],
)
def test_clv_bad_input_is_one_line_with_status_2(
    cdnow: Path, args: list[str], message: str
) -> None:
    result = run("clv", str(cdnow), "--date", "day", "--amount", "total", "--customer", "client",
                 *args)  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("crmcore clv: error: ")
    assert message in lines[0]


def test_clv_without_repeat_customers_is_status_2(tmp_path: Path) -> None:
    path = tmp_path / "once.csv"
    pd.DataFrame({"customer_id": [1, 2, 3], "date": ["2024-01-01", "2024-02-01", "2024-03-01"],
                  "amount": [10.0, 20.0, 30.0]}).to_csv(path, index=False)  # fmt: skip
    result = run("clv", str(path))
    assert result.returncode == 2
    assert "no repeat customers" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
