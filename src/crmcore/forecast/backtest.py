"""Rolling-origin evaluation: how each forecast method would have done on past sales."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import check_scalar, show
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.errors import ConfigError
from crmcore.forecast._engine import check_levels, check_method, forecast_all, level_label
from crmcore.forecast._history import History, by_columns, read_history

__all__ = ["Backtest", "backtest"]

_Array = npt.NDArray[np.float64]


@attrs.frozen(kw_only=True)
class Backtest:
    """What :func:`backtest` returns: accuracy per method and every forecast behind it.

    Attributes
    ----------
    scores
        Indexed by ``method`` (by the ``by`` columns, then ``method``, when grouped), sorted:
        ``mae``, ``rmse``, ``mase``, ``relative_mae`` (MAE divided by seasonal naive's MAE on
        the same forecasts: below 1 beats it; NaN when seasonal naive made no error),
        ``coverage_<L>`` per level (share of actual
        values inside the interval) and ``forecasts`` (how many were scored).
    forecasts
        One row per series, method, origin and step: the ``by`` columns, ``method``,
        ``origin`` (the last period of the training history), ``period`` (the forecast
        period), ``step`` (1 = the period after the origin), ``model`` (the model used),
        ``actual``, ``forecast``, ``lower_<L>``, ``upper_<L>`` and ``naive`` (the seasonal
        naive forecast of the same period, NaN when the training history is shorter than a
        season).
    origins
        The origins, oldest first (pandas Periods).
    horizon, step
        Periods forecast from each origin, and periods between origins.

    Examples
    --------
    >>> import pandas as pd
    >>> history = pd.DataFrame({"date": pd.period_range("2020Q1", periods=16, freq="Q"),
    ...                         "amount": [10.0, 20, 30, 40] * 4})
    >>> bt = backtest(history, period="Q", n_origins=2, methods=["seasonal_naive"])
    >>> bt.origins.astype(str).tolist()
    ['2021Q4', '2022Q4']
    >>> bt.scores[["mae", "relative_mae", "forecasts"]]
                    mae  relative_mae  forecasts
    method
    seasonal_naive  0.0           NaN          8
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    scores: pd.DataFrame
    forecasts: pd.DataFrame
    origins: pd.PeriodIndex
    horizon: int
    step: int


def _origins(hist: History, horizon: int, step: int, n_origins: int) -> list[int]:
    width = len(hist.grid)
    first = width - horizon - step * (n_origins - 1)  # checked before any list is built
    if first < 1:
        raise ConfigError(
            f"the history has {width} periods; {n_origins} origins {step} period(s) apart, each "
            f"forecasting {horizon} period(s), need at least {width - first + 1}; lower "
            "n_origins, step or horizon",
            column="n_origins",
            value=n_origins,
        )
    return [first + step * k for k in range(n_origins)]


def _naive(hist: History, end: int, horizon: int) -> _Array:
    """Seasonal naive point forecasts after grid position ``end`` (NaN if a season is missing)."""
    m = hist.season
    out = np.full((hist.n_series, horizon), np.nan)
    if end - m < 0:
        return out
    cols = end - m + (np.arange(horizon) % m)
    ok = hist.first <= end - m
    out[ok] = hist.values[np.ix_(ok, cols)]
    return out


def _scale(hist: History, end: int) -> _Array:
    """Per series, the mean absolute in-sample seasonal difference before ``end`` (MASE scale)."""
    m = hist.season
    diffs = np.abs(hist.values[:, m:end] - hist.values[:, : end - m]) if end > m else None
    if diffs is None:
        return np.full(hist.n_series, np.nan)
    t = np.arange(m, end)
    mask = t[None, :] >= (hist.first[:, None] + m)
    counts = mask.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, (diffs * mask).sum(axis=1) / counts, np.nan)


def _long(
    hist: History,
    *,
    methods: Sequence[str],
    ends: list[int],
    horizon: int,
    levels: Sequence[float],
    by: tuple[str, ...],
    seed: int,
) -> pd.DataFrame:
    periods = hist.periods()
    blocks = []
    for method in methods:
        for end in ends:
            batch = forecast_all(
                hist,
                end=end,
                horizon=horizon,
                levels=levels,
                method=method,
                by=by,
                seed=seed,
                where=f" up to the origin {periods[end - 1]}",
            )
            future = hist.future(horizon, end)
            block: dict[str, object] = {"series": np.repeat(np.arange(hist.n_series), horizon)}
            block["method"] = method
            block["origin"] = periods[end - 1]
            block["period"] = np.tile(future, hist.n_series)
            block["step"] = np.tile(np.arange(1, horizon + 1), hist.n_series)
            block["model"] = np.repeat(np.array(batch.models, dtype=object), horizon)
            block["actual"] = hist.values[:, end : end + horizon].ravel()
            block["forecast"] = batch.point.ravel()
            for j, level in enumerate(levels):
                block[f"lower_{level_label(level)}"] = batch.lower[:, j, :].ravel()
                block[f"upper_{level_label(level)}"] = batch.upper[:, j, :].ravel()
            block["naive"] = _naive(hist, end, horizon).ravel()
            block["scale"] = np.repeat(_scale(hist, end), horizon)
            blocks.append(pd.DataFrame(block))
    # Series in key order, then method, origin and step as computed.
    return pd.concat(blocks, ignore_index=True).sort_values(
        "series", kind="stable", ignore_index=True
    )


def _scores(long: pd.DataFrame, levels: Sequence[float]) -> pd.DataFrame:
    error = (long["actual"] - long["forecast"]).abs()
    naive_error = (long["actual"] - long["naive"]).abs()
    has_naive = long["naive"].notna()
    parts = pd.DataFrame(
        {
            "series": long["series"],
            "method": long["method"],
            "abs": error,
            "sq": error**2,
            "scaled": (error / long["scale"]).where(long["scale"] > 0),
            "abs_ref": error.where(has_naive),
            "naive_ref": naive_error.where(has_naive),
        }
    )
    for level in levels:
        label = level_label(level)
        inside = (long[f"lower_{label}"] <= long["actual"]) & (
            long["actual"] <= long[f"upper_{label}"]
        )
        parts[f"coverage_{label}"] = inside.astype(np.float64)
    grouped = parts.groupby(["series", "method"], sort=True)
    means = grouped.mean()
    sums = grouped[["abs_ref", "naive_ref"]].sum(min_count=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = sums["abs_ref"] / sums["naive_ref"].where(sums["naive_ref"] > 0)
    scores = pd.DataFrame(
        {
            "mae": means["abs"],
            "rmse": np.sqrt(means["sq"]),
            "mase": means["scaled"],
            "relative_mae": relative,
        }
    )
    for level in levels:
        label = level_label(level)
        scores[f"coverage_{label}"] = means[f"coverage_{label}"]
    scores["forecasts"] = grouped.size().astype(np.int64)
    return scores


def _keyed(frame: pd.DataFrame, hist: History, by: tuple[str, ...], series: pd.Series) -> None:
    """Put the ``by`` columns in front of ``frame`` (in place on a frame this module built)."""
    if hist.keys is None:
        return
    for pos, column in enumerate(by):
        frame.insert(pos, column, hist.keys[column].to_numpy()[series.to_numpy()])


def backtest(
    history: pd.DataFrame,
    *,
    date: str = "date",
    amount: str = "amount",
    period: str = "M",
    horizon: int | None = None,
    step: int | None = None,
    n_origins: int = 4,
    methods: Sequence[str] = ("auto", "seasonal_naive"),
    levels: Sequence[float] = (0.8, 0.95),
    by: str | Sequence[str] | None = None,
    as_of: object = None,
    include_incomplete: bool = False,
    refunds: str = "error",
    seed: int = 0,
) -> Backtest:
    """Evaluate forecast methods by rolling origin: forecast from the past, score on what came.

    The history is cut at ``n_origins`` origins, ``step`` periods apart, the last one
    ``horizon`` periods before the end. From each origin every method forecasts the next
    ``horizon`` periods from the history up to the origin only (as :func:`sales_forecast`
    would have), and the forecasts are scored against the actual sales (Hyndman &
    Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., section 5.10). By default
    the horizon is one season and the origins are one season apart, so the four default origins
    cover the last four seasons once each.

    Scores per method (and series, with ``by``): mean absolute error ``mae``, root mean
    squared error ``rmse``, ``mase`` (each absolute error divided by the mean absolute seasonal
    difference of the training history at its origin: Hyndman & Koehler, 2006, *Another look
    at measures of forecast accuracy*), ``relative_mae`` (MAE over seasonal naive's MAE on the
    same forecasts: below 1 the method beats the obvious) and ``coverage_<L>`` (share of actual
    values inside the ``L`` % interval).

    Parameters
    ----------
    history, date, amount, period, by, as_of, include_incomplete, refunds, seed
        As in :func:`sales_forecast`.
    horizon
        Periods forecast from each origin (default: one season; 1 for years).
    step
        Periods between origins (default: ``horizon``).
    n_origins
        Number of origins (>= 1).
    methods
        Methods to compare (each one of ``"auto"``, ``"ets"``, ``"seasonal_naive"``,
        ``"drift"``).
    levels
        Prediction interval levels scored for coverage.

    Returns
    -------
    Backtest
        ``scores`` (columns ``mae``, ``rmse``, ``mase``, ``relative_mae``, ``coverage_<L>``,
        ``forecasts``; indexed by method, or by the ``by`` columns and method) and
        ``forecasts`` (every scored forecast), plus the origins.

    Raises
    ------
    ConfigError
        Too few periods for the origins asked, an unknown method, or bad numbers.
    DataError
        As :func:`sales_forecast`; a series too short for a method at an origin names it.

    Examples
    --------
    >>> import pandas as pd
    >>> history = pd.DataFrame({"date": pd.period_range("2020-01", periods=10, freq="M"),
    ...                         "amount": [10.0, 12, 14, 16, 18, 20, 22, 24, 26, 28]})
    >>> bt = backtest(history, horizon=2, n_origins=2, methods=["drift"], levels=[0.8])
    >>> bt.forecasts[["origin", "period", "actual", "forecast"]]
        origin   period  actual  forecast
    0  2020-06  2020-07    22.0      22.0
    1  2020-06  2020-08    24.0      24.0
    2  2020-08  2020-09    26.0      26.0
    3  2020-08  2020-10    28.0      28.0
    >>> bt.scores[["mae", "coverage_80", "forecasts"]]
            mae  coverage_80  forecasts
    method
    drift   0.0          1.0          4
    """
    level_tuple = check_levels(levels)
    outputs = [
        f"{kind}_{level_label(lv)}" for lv in level_tuple for kind in ("lower", "upper", "coverage")
    ]
    fixed = ["method", "origin", "period", "step", "model", "actual", "forecast", "naive"]
    metrics = ["mae", "rmse", "mase", "relative_mae", "forecasts", "series", "scale"]
    by_cols = by_columns(by, reserved=[date, amount, *fixed, *metrics, *outputs])
    if isinstance(methods, str) or not isinstance(methods, Sequence) or not methods:
        raise ConfigError(
            f"methods={show(methods)} must be a non-empty list of method names",
            column="methods",
            value=methods,
        )
    method_list = list(dict.fromkeys(check_method(m) for m in methods))
    check_scalar(n_origins, "n_origins", kind=int, min_value=1)
    check_scalar(seed, "seed", kind=int, min_value=0)
    hist = read_history(
        history,
        date=date,
        amount=amount,
        period=period,
        by=by_cols,
        as_of=as_of,
        include_incomplete=include_incomplete,
        refunds=refunds,
    )
    h = (
        hist.season
        if horizon is None
        else int(check_scalar(horizon, "horizon", kind=int, min_value=1))
    )
    s = h if step is None else int(check_scalar(step, "step", kind=int, min_value=1))
    ends = _origins(hist, h, s, int(n_origins))
    long = _long(
        hist,
        methods=method_list,
        ends=ends,
        horizon=h,
        levels=level_tuple,
        by=by_cols,
        seed=int(seed),
    )
    scores = _scores(long, level_tuple).reset_index()
    _keyed(scores, hist, by_cols, scores.pop("series"))
    scores = scores.set_index([*by_cols, "method"]).sort_index()
    long = long.drop(columns="scale")
    _keyed(long, hist, by_cols, long.pop("series"))
    return Backtest(
        scores=scores,
        forecasts=long,
        origins=pd.PeriodIndex([hist.periods()[e - 1] for e in ends]),
        horizon=h,
        step=s,
    )
