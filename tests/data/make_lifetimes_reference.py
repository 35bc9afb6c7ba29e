"""Regenerate the lifetimes reference values in this folder (not run by the tests).

Run with lifetimes 0.11.3 in a scratch environment, never crmcore's:

    python -m venv /tmp/lt && /tmp/lt/bin/pip install lifetimes==0.11.3
    /tmp/lt/bin/python tests/data/make_lifetimes_reference.py

It writes ``lifetimes_predictions.csv`` (per-customer predictions of lifetimes' fitters set to
the published parameters, CDNOW summary), ``lifetimes_bgbb.csv`` (BG/BB predictions on the
donation patterns), ``lifetimes_holdout_days.csv`` / ``lifetimes_holdout_weeks.csv``
(``calibration_and_holdout_data`` on the CDNOW log, daily periods) and
``lifetimes_fits.json`` (parameters lifetimes' fitters find, and scalar predictions).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from lifetimes import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)
from lifetimes.utils import calibration_and_holdout_data

warnings.filterwarnings("ignore")
HERE = Path(__file__).resolve().parent
BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
MBGNBD = {"r": 0.3, "alpha": 5.0, "a": 1.5, "b": 6.0}
PNBD = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
BGBB = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
GG = {"p": 6.25, "q": 3.74, "v": 15.44}


def _set(fitter, params):
    fitter.params_ = pd.Series(params)
    return fitter


def cdnow_log() -> pd.DataFrame:
    raw = pd.read_csv(
        HERE / "cdnow_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
    )
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    return raw


def predictions() -> None:
    s = pd.read_csv(HERE / "cdnow_summary.csv").set_index("ID")
    x, tx, T, m = s["x"], s["t_x"], s["T"], s["zbar"]
    bg = _set(BetaGeoFitter(), BGNBD)
    mbg = _set(ModifiedBetaGeoFitter(), MBGNBD)
    pn = _set(ParetoNBDFitter(), PNBD)
    gg = _set(GammaGammaFitter(), GG)
    out = pd.DataFrame(index=s.index)
    for name, f in (("bgnbd", bg), ("mbgnbd", mbg), ("pnbd", pn)):
        out[f"{name}_p_alive"] = np.asarray(f.conditional_probability_alive(x, tx, T)).ravel()
        for t in (10, 39):
            out[f"{name}_expected_{t}"] = np.asarray(
                f.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
            )
        f.predict = f.conditional_expected_number_of_purchases_up_to_time
        out[f"{name}_clv_12"] = np.asarray(
            gg.customer_lifetime_value(f, x, tx, T, m, time=12, discount_rate=0.01, freq="W")
        )
    out["gg_expected_spend"] = np.asarray(gg.conditional_expected_average_profit(x, m))
    out.to_csv(HERE / "lifetimes_predictions.csv", float_format="%.12g")


def bgbb() -> None:
    d = pd.read_csv(HERE / "donations.csv")
    f = _set(BetaGeoBetaBinomFitter(), BGBB)
    x, tx, n = d["frequency"], d["recency"], d["periods"]
    out = d.copy()
    out["p_alive"] = np.asarray(f.conditional_probability_alive(0, x, tx, n))
    for t in (1, 5, 10):
        out[f"expected_{t}"] = np.asarray(
            f.conditional_expected_number_of_purchases_up_to_time(t, x, tx, n)
        )
    out.to_csv(HERE / "lifetimes_bgbb.csv", index=False, float_format="%.12g")


def holdout() -> None:
    log = cdnow_log()
    for name, mult in (("days", 1), ("weeks", 7)):
        ch = calibration_and_holdout_data(
            log,
            "customer_id",
            "date",
            calibration_period_end="1997-09-30",
            observation_period_end="1998-06-30",
            freq="D",
            freq_multiplier=mult,
            monetary_value_col="amount",
        )
        ch.to_csv(HERE / f"lifetimes_holdout_{name}.csv", float_format="%.12g")


def fits() -> dict[str, object]:
    s = pd.read_csv(HERE / "cdnow_summary.csv")
    x, tx, T, m = s["x"], s["t_x"], s["T"], s["zbar"]
    res: dict[str, object] = {}
    res["bgnbd"] = BetaGeoFitter().fit(x, tx, T).params_.to_dict()
    res["bgnbd_penalized_0.1"] = BetaGeoFitter(penalizer_coef=0.1).fit(x, tx, T).params_.to_dict()
    res["mbgnbd"] = ModifiedBetaGeoFitter().fit(x, tx, T).params_.to_dict()
    res["pnbd"] = ParetoNBDFitter().fit(x, tx, T).params_.to_dict()
    rep = x > 0
    res["gamma_gamma"] = GammaGammaFitter().fit(x[rep], m[rep]).params_.to_dict()
    d = pd.read_csv(HERE / "donations.csv")
    res["bgbb"] = (
        BetaGeoBetaBinomFitter()
        .fit(d["frequency"], d["recency"], d["periods"], weights=d["weights"])
        .params_.to_dict()
    )
    bg = _set(BetaGeoFitter(), BGNBD)
    mbg = _set(ModifiedBetaGeoFitter(), MBGNBD)
    pn = _set(ParetoNBDFitter(), PNBD)
    res["bgnbd_expected_new_39"] = float(bg.expected_number_of_purchases_up_to_time(39))
    res["mbgnbd_expected_new_39"] = float(mbg.expected_number_of_purchases_up_to_time(39))
    res["pnbd_expected_new_39"] = float(pn.expected_number_of_purchases_up_to_time(39))
    res["bgnbd_pmf_39"] = [float(bg.probability_of_n_purchases_up_to_time(39, n)) for n in range(6)]
    res["mbgnbd_pmf_39"] = [
        float(mbg.probability_of_n_purchases_up_to_time(39, n)) for n in range(6)
    ]
    return res


if __name__ == "__main__":
    predictions()
    bgbb()
    holdout()
    (HERE / "lifetimes_fits.json").write_text(json.dumps(fits(), indent=1) + "\n")
