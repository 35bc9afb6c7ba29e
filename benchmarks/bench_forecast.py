"""Grouped sales forecasts: crmcore against statsforecast's AutoETS and a statsmodels ETS loop.

Run::

    .venv/bin/python benchmarks/bench_forecast.py --series 100            # speed, short run
    .venv/bin/python benchmarks/bench_forecast.py --series 10000          # the issue's size
    .venv/bin/python benchmarks/bench_forecast.py --accuracy-only         # real series only
    .venv/bin/python benchmarks/bench_forecast.py --statsforecast-python /tmp/sf/bin/python

Two measurements, in one run:

**Speed.** ``--series`` synthetic monthly series of ``--months`` months (retail-like: level,
trend, multiplicative season, noise; seeded) are forecast 12 months ahead with 80 % and 95 %
intervals by

- crmcore: ``sales_forecast(history, by="series", horizon=12)`` (ETS by AICc, statsmodels);
- a statsmodels loop: the same 15 ETS models per series with ``ETSModel``, the smallest AICc
  kept, its forecast and intervals (what a user writes by hand);
- statsforecast: ``StatsForecast(models=[AutoETS(season_length=12)]).forecast(...)``, one job.

Issue 13's goal: crmcore no slower than 1.5x the faster of the other two.

**Accuracy.** The real monthly sales series in ``tests/data`` (wine, souvenirs, antidiabetic
drugs; see ``tests/data/README_forecast.md``), rolling origin with a 12-month horizon and
origins over the last four years: MAE relative to seasonal naive and 80 % interval coverage
for crmcore's ``auto`` and statsforecast's AutoETS.

statsforecast 2.x requires pandas < 3, so it cannot share the project's environment (pandas 3);
it runs in the interpreter given by ``--statsforecast-python`` (a separate venv with
``pip install statsforecast``), fed the same data through a temporary ``.npz`` file. Without
that option its columns are left out. Figures from a shared machine are noisy: re-measure on a
quiet one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from crmcore.forecast import backtest, sales_forecast

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
REAL = ("wineind", "souvenirs", "a10")
HORIZON = 12
START = "2019-01"

# Run by the statsforecast interpreter: forecasts for the speed run, or per-origin forecasts of
# the real series for the accuracy run. Reads and writes .npz files; prints JSON timings.
CHILD = r"""
import json, sys, time, resource
import numpy as np, pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS

def frame(values, start):
    n, t = values.shape
    ds = pd.period_range(start, periods=t, freq="M").to_timestamp()
    return pd.DataFrame({"unique_id": np.repeat(np.arange(n), t), "ds": np.tile(ds, n),
                         "y": values.ravel()})

def run(values, start, h):
    sf = StatsForecast(models=[AutoETS(season_length=12)], freq="MS", n_jobs=1)
    fc = sf.forecast(df=frame(values, start), h=h, level=[80, 95])
    fc = fc.sort_values(["unique_id", "ds"])
    cols = ["AutoETS", "AutoETS-lo-80", "AutoETS-hi-80", "AutoETS-lo-95", "AutoETS-hi-95"]
    return fc[cols].to_numpy().reshape(values.shape[0], h, 5)

mode, path_in, path_out = sys.argv[1:4]
data = np.load(path_in)
if mode == "speed":
    run(data["values"][:2], str(data["start"]), int(data["h"]))  # first-call costs
    t0, c0 = time.perf_counter(), time.process_time()
    out = run(data["values"], str(data["start"]), int(data["h"]))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    np.savez(path_out, forecast=out)
    print(json.dumps({"seconds": seconds, "cpu": cpu,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3}))
else:
    outs = []
    for key in sorted(k for k in data.files if k.startswith("train_")):
        train = data[key]
        outs.append(run(train[None, :], str(data["start_" + key[6:]]), int(data["h"]))[0])
    np.savez(path_out, forecast=np.array(outs))
    print(json.dumps({}))
"""


def synthetic(n_series: int, months: int, seed: int = 0) -> np.ndarray:
    """Positive retail-like monthly sales: level x trend x season x noise, one row per series."""
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    level = rng.lognormal(7.0, 1.0, (n_series, 1))
    trend = 1 + rng.normal(0.004, 0.006, (n_series, 1)) * t
    amplitude = rng.uniform(0.0, 0.4, (n_series, 1))
    phase = rng.uniform(0, 2 * np.pi, (n_series, 1))
    season = 1 + amplitude * np.sin(2 * np.pi * t / 12 + phase)
    noise = rng.lognormal(0.0, rng.uniform(0.03, 0.2, (n_series, 1)), (n_series, months))
    return np.maximum(level * trend * season * noise, 0.01).round(2)


def as_history(values: np.ndarray) -> pd.DataFrame:
    n, months = values.shape
    periods = pd.period_range(START, periods=months, freq="M")
    return pd.DataFrame(
        {
            "series": np.repeat(np.arange(n), months),
            "date": np.tile(periods, n),
            "amount": values.ravel(),
        }
    )


def _timed(func):  # type: ignore[no-untyped-def]
    t0, c0 = time.perf_counter(), time.process_time()
    out = func()
    return out, time.perf_counter() - t0, time.process_time() - c0


def statsmodels_loop(values: np.ndarray) -> np.ndarray:
    """The hand-written loop: 15 ETSModel fits per series, smallest AICc, 80/95 % intervals."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel
    from threadpoolctl import threadpool_limits

    from crmcore.forecast._ets import candidates  # the same candidate list, for a fair race

    out = np.empty((values.shape[0], HORIZON, 5))
    # One BLAS thread, as crmcore does: the loop is timed at its best.
    with warnings.catch_warnings(), np.errstate(all="ignore"), threadpool_limits(1, "blas"):
        warnings.simplefilter("ignore")
        for i, y in enumerate(values):
            best = None
            for error, trend, damped, seasonal in candidates(bool((y > 0).all()), 12):
                try:
                    fit = ETSModel(
                        pd.Series(y),
                        error=error,
                        trend=trend,
                        damped_trend=damped,
                        seasonal=seasonal,
                        seasonal_periods=12 if seasonal else None,
                    ).fit(disp=False)
                except (ValueError, ArithmeticError, np.linalg.LinAlgError):
                    continue
                if np.isfinite(fit.aicc) and (best is None or fit.aicc < best.aicc):
                    best = fit
            assert best is not None
            pred = best.get_prediction(start=len(y), end=len(y) + HORIZON - 1)
            lo80, hi80 = np.asarray(pred.pred_int(alpha=0.2)).T
            lo95, hi95 = np.asarray(pred.pred_int(alpha=0.05)).T
            out[i] = np.column_stack([np.asarray(pred.predicted_mean), lo80, hi80, lo95, hi95])
    return out


def _child(python: str, mode: str, payload: dict[str, object]) -> tuple[dict, np.ndarray]:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, **payload)  # type: ignore[arg-type]
        done = subprocess.run(
            [python, "-c", CHILD, mode, str(src), str(dst)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "NIXTLA_ID_AS_COL": "1"},
        )
        return json.loads(done.stdout.strip().splitlines()[-1]), np.load(dst)["forecast"]


def speed(n_series: int, months: int, loop_series: int, sf_python: str | None) -> None:
    values = synthetic(n_series, months)
    history = as_history(values)
    sales_forecast(as_history(values[:2]), by="series", horizon=HORIZON)  # first-call costs
    result, wall, cpu = _timed(lambda: sales_forecast(history, by="series", horizon=HORIZON))
    rows = [("crmcore sales_forecast", n_series, wall, cpu)]
    loop_n = min(loop_series, n_series)
    _, lwall, lcpu = _timed(lambda: statsmodels_loop(values[:loop_n]))
    rows.append(("statsmodels ETSModel loop", loop_n, lwall, lcpu))
    if sf_python:
        payload = {"values": values, "start": START, "h": HORIZON}
        info, sf = _child(sf_python, "speed", payload)
        rows.append(("statsforecast AutoETS", n_series, info["seconds"], info["cpu"]))
        ours = result.forecast["forecast"].to_numpy().reshape(n_series, HORIZON)
        gap = np.median(np.abs(ours - sf[:, :, 0]) / np.maximum(sf[:, :, 0], 1e-9))
        print(f"median relative gap crmcore vs statsforecast point forecasts: {gap:.3%}")
    print(f"\n{n_series} series x {months} months, horizon {HORIZON}, levels 80/95 %")
    print(
        f"{'engine':<28}{'series':>8}{'wall s':>10}{'cpu s':>10}{'s/series':>10}"
        f"{f'{n_series} series s':>18}"
    )
    per = {}
    for name, n, w, c in rows:
        per[name] = w / n
        print(f"{name:<28}{n:>8}{w:>10.2f}{c:>10.2f}{w / n:>10.4f}{w / n * n_series:>18.1f}")
    fastest = min(v for k, v in per.items() if not k.startswith("crmcore"))
    ratio = per["crmcore sales_forecast"] / fastest
    print(
        f"crmcore / fastest reference: {ratio:.2f}x (goal <= 1.5x); "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB"
    )
    models = result.models["model"].value_counts().head(5)
    print("models chosen by crmcore:", ", ".join(f"{k} {v}" for k, v in models.items()))


def _real(name: str) -> pd.DataFrame:
    raw = pd.read_csv(DATA / f"{name}.csv")
    return pd.DataFrame(
        {"date": pd.PeriodIndex(raw["month"], freq="M"), "amount": raw["sales"].astype(float)}
    )


def accuracy(sf_python: str | None) -> None:
    print(
        "\nrolling origin, horizon 12, origins over the last 4 years "
        "(relative MAE < 1 beats seasonal naive; coverage of the 80 % interval)"
    )
    print(f"{'series':<12}{'engine':<26}{'rel. MAE':>10}{'cover 80':>10}{'seconds':>10}")
    pooled: dict[str, list[float]] = {}
    for name in REAL:
        history = _real(name)
        bt, wall, _ = _timed(lambda h=history: backtest(h, methods=["auto", "seasonal_naive"]))
        auto = bt.scores.loc["auto"]
        print(
            f"{name:<12}{'crmcore auto':<26}{auto['relative_mae']:>10.3f}"
            f"{auto['coverage_80']:>10.3f}{wall:>10.2f}"
        )
        pooled.setdefault("crmcore auto", []).append(auto["coverage_80"])
        if not sf_python:
            continue
        rows = bt.forecasts[bt.forecasts["method"] == "auto"]
        payload: dict[str, object] = {"h": HORIZON}
        y = history["amount"].to_numpy()
        periods = history["date"]
        for k, origin in enumerate(bt.origins):
            end = int(np.flatnonzero(periods == origin)[0]) + 1
            payload[f"train_{k}"] = y[:end]
            payload[f"start_{k}"] = str(periods.iloc[0])
        t0 = time.perf_counter()
        _, sf = _child(sf_python, "origins", payload)
        sf_wall = time.perf_counter() - t0
        actual = rows["actual"].to_numpy().reshape(len(bt.origins), HORIZON)
        naive = rows["naive"].to_numpy().reshape(len(bt.origins), HORIZON)
        point = np.maximum(sf[:, :, 0], 0)
        rel = np.abs(actual - point).mean() / np.abs(actual - naive).mean()
        cover = ((sf[:, :, 1] <= actual) & (actual <= sf[:, :, 2])).mean()
        print(f"{'':<12}{'statsforecast AutoETS':<26}{rel:>10.3f}{cover:>10.3f}{sf_wall:>10.2f}")
        pooled.setdefault("statsforecast AutoETS", []).append(cover)
    for engine, covers in pooled.items():
        print(f"pooled 80 % coverage, {engine}: {np.mean(covers):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument(
        "--loop-series",
        type=int,
        default=200,
        help="series timed for the statsmodels loop (its time per series is extrapolated)",
    )
    parser.add_argument("--statsforecast-python", default=None, help="python with statsforecast")
    parser.add_argument("--accuracy-only", action="store_true")
    parser.add_argument("--speed-only", action="store_true")
    args = parser.parse_args()
    if not args.accuracy_only:
        speed(args.series, args.months, args.loop_series, args.statsforecast_python)
    if not args.speed_only:
        accuracy(args.statsforecast_python)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
