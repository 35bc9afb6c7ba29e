"""simulate_pipeline: Monte-Carlo revenue ranges per period, reproducible and chunk-independent."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import (
    ColumnTypeError,
    ConfigError,
    CurrencyError,
    DataError,
    InputTypeError,
    SchemaError,
)
from crmcore.pipeline import (
    Percentiles,
    PipelineSimulation,
    StageModel,
    simulate_pipeline,
    weighted_pipeline,
)
from crmcore.pipeline.simulate import MAX_DRAWS
from helpers import call_unmutated, shuffled

BRIEF = ["prospect", "bid", "negotiation"]
MODEL = StageModel.from_conversion_rates(BRIEF, [0.5, 0.8, 0.9], [60, 30, 30])


def brief_deals() -> pd.DataFrame:
    # The product brief: each deal is expected to bring 180 000, landing 120, 60, 30 days out.
    return pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3],
            "stage": BRIEF,
            "amount": [500_000.0, 250_000.0, 200_000.0],
        }
    )


def _clt_bound(amounts: np.ndarray, probs: np.ndarray, n_draws: int, z: float = 5.0) -> float:
    # Standard error of the mean of the simulated total: sqrt(sum p(1-p) a^2 / n).
    return z * math.sqrt(float(np.sum(probs * (1 - probs) * amounts**2)) / n_draws) + 1e-6


def _bernstein_bound(
    amounts: np.ndarray, probs: np.ndarray, n_draws: int, delta: float = 1e-6
) -> float:
    # The normal approximation fails for rare wins: a deal won with p = 6e-5 in one draw of 400
    # (a 2.4% chance) moves the mean by amount / 400, over 5 standard errors. Bernstein's
    # inequality holds for any p: the n_draws x deals outcomes a_i * (win - p_i) are independent,
    # bounded by b = max a_i, and their sum has variance n * V, V = sum p(1-p) a^2, so
    # P(|mean - expected| >= t) <= 2 exp(-n t^2 / (2 V + 2 b t / 3)); solved for t at delta.
    log_term = math.log(2 / delta)
    variance = float(np.sum(probs * (1 - probs) * amounts**2))
    b = float(amounts.max(initial=0.0)) * log_term / 3
    return (b + math.sqrt(b**2 + 2 * n_draws * variance * log_term)) / n_draws + 1e-6


# ---------------------------------------------------------------- worked example


def test_brief_example_fixed_timing_lands_in_the_right_months() -> None:
    n = 4_000
    result = call_unmutated(
        simulate_pipeline,
        brief_deals(),
        MODEL,
        as_of="2025-01-01",
        n_draws=n,
        seed=1,
        duration="fixed",
    )
    assert isinstance(result, PipelineSimulation)
    sim = result.table
    # Landing: negotiation day 30 = Jan 31, bid day 60 = Mar 2, prospect day 120 = May 1.
    assert list(sim.index) == list(pd.date_range("2025-01-01", periods=5, freq="MS"))
    assert sim.index.name == "period"
    assert list(sim.columns) == ["mean", "p10", "p50", "p90"]
    assert sim.loc["2025-02-01"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert sim.loc["2025-04-01"].tolist() == [0.0, 0.0, 0.0, 0.0]
    for month, amount, p in [
        ("2025-01-01", 200_000.0, 0.9),
        ("2025-03-01", 250_000.0, 0.72),
        ("2025-05-01", 500_000.0, 0.36),
    ]:
        row = sim.loc[month]
        # One deal per month: mean -> p * amount = 180 000 (SE amount * sqrt(p(1-p)/n)).
        assert abs(row["mean"] - 180_000) < 5 * amount * math.sqrt(p * (1 - p) / n)
        # It is won in a share p of the draws: p90 = amount; p10 = amount only if p > 0.9.
        assert row["p90"] == amount
        assert row["p10"] == 0.0
    total = result.total
    assert abs(total.mean - 540_000) < _clt_bound(
        np.array([500_000.0, 250_000.0, 200_000.0]), np.array([0.36, 0.72, 0.9]), n
    )
    assert total.mean == pytest.approx(sim["mean"].sum())
    assert (result.n_draws, result.seed, result.period, result.horizon) == (n, 1, "M", None)
    assert result.as_of == pd.Timestamp("2025-01-01")
    assert result.later == Percentiles(mean=0.0, p10=0.0, p50=0.0, p90=0.0)


def test_certain_deals_give_exact_ranges() -> None:
    deals = pd.DataFrame(
        {
            "opportunity_id": ["a", "b", "c"],
            "stage": ["won", "won", "lost"],
            "amount": [100.0, 50.0, 999.0],
            "close_date": pd.to_datetime(["2025-03-15", None, "2025-01-10"]),
        }
    )
    result = simulate_pipeline(
        deals, MODEL, as_of="2025-01-20", n_draws=7, seed=0, close_date="close_date"
    )
    sim = result.table
    # b (won, no close date) lands on as_of; a on its own date; c is lost: never lands.
    expected = pd.DataFrame(
        {
            "mean": [50.0, 0.0, 100.0],
            "p10": [50.0, 0.0, 100.0],
            "p50": [50.0, 0.0, 100.0],
            "p90": [50.0, 0.0, 100.0],
        },
        index=pd.date_range("2025-01-01", periods=3, freq="MS", name="period", unit="us"),
    )
    pd.testing.assert_frame_equal(sim, expected, check_freq=False)
    assert result.total.to_dict() == {"mean": 150.0, "p10": 150.0, "p50": 150.0, "p90": 150.0}


def test_close_dates_overdue_and_won_history() -> None:
    deals = pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4],
            "stage": ["negotiation", "negotiation", "won", "won"],
            "amount": [10.0, 20.0, 30.0, 40.0],
            # 1: own date in March; 2: overdue (before as_of) -> lands on as_of;
            # 3: won in an earlier period -> history, left out; 4: won this month.
            "close_date": pd.to_datetime(["2025-03-03", "2024-12-01", "2024-12-20", "2025-01-02"]),
        }
    )
    sim = simulate_pipeline(
        deals, MODEL, as_of="2025-01-15", n_draws=3_000, seed=2, close_date="close_date"
    ).table
    assert list(sim.index) == list(pd.date_range("2025-01-01", periods=3, freq="MS"))
    # January: 40 (certain) + 20 with p = 0.9 -> mean 58; March: 10 with p = 0.9 -> 9.
    assert abs(sim.loc["2025-01-01", "mean"] - 58.0) < 5 * 20 * math.sqrt(0.09 / 3_000)
    assert sim.loc["2025-01-01", "p10"] == 40.0
    assert sim.loc["2025-01-01", "p90"] == 60.0
    assert sim.loc["2025-02-01", "mean"] == 0.0
    assert abs(sim.loc["2025-03-01", "mean"] - 9.0) < 5 * 10 * math.sqrt(0.09 / 3_000)


def test_exponential_timing_share_landing_in_first_month() -> None:
    deals = pd.DataFrame({"opportunity_id": [1], "stage": ["won"], "amount": [1.0]})
    model = StageModel(stages=["s"], win_probabilities=[1.0], days_to_close=[30.0])
    deals.loc[0, "stage"] = "s"
    n = 20_000
    sim = simulate_pipeline(deals, model, as_of="2025-01-01", n_draws=n, seed=3).table
    # P(exponential with mean 30 < 31 days of January) = 1 - exp(-31/30) = 0.644
    p = 1 - math.exp(-31 / 30)
    assert abs(sim.iloc[0]["mean"] - p) < 5 * math.sqrt(p * (1 - p) / n)
    gamma_result = simulate_pipeline(
        deals, model, as_of="2025-01-01", n_draws=n, seed=3, duration="gamma", shape=50.0
    )
    gamma = gamma_result.table
    # A gamma with shape 50 has sd 30 / sqrt(50) = 4.2 days: ~ 60 % before Jan 31 (day 31),
    # almost nothing after February.
    assert gamma.iloc[0]["mean"] > 0.5
    assert gamma["mean"].iloc[:2].sum() > 0.999
    assert gamma_result.total.mean == 1.0


def test_stages_timing_is_a_sum_of_exponential_stays() -> None:
    model = StageModel.from_conversion_rates(["a", "b"], [1.0, 1.0], [10.0, 20.0])
    deals = pd.DataFrame({"opportunity_id": [1], "stage": ["a"], "amount": [1.0]})
    n = 20_000
    sim = simulate_pipeline(
        deals, model, as_of="2025-01-01", n_draws=n, seed=4, duration="stages"
    ).table
    # Time to close = Exp(mean 10) + Exp(mean 20); P(T < 31 days) for rates l1 = 1/10,
    # l2 = 1/20 is 1 - (l2 exp(-l1 31) - l1 exp(-l2 31)) / (l2 - l1) = 0.6205.
    l1, l2 = 1 / 10, 1 / 20
    p = 1 - (l2 * math.exp(-l1 * 31) - l1 * math.exp(-l2 * 31)) / (l2 - l1)
    assert p == pytest.approx(0.6205, abs=1e-4)
    assert abs(sim.iloc[0]["mean"] - p) < 5 * math.sqrt(p * (1 - p) / n)
    # A deal in the last stage has one exponential stay left: P(T < 31) = 1 - exp(-31/20).
    late = simulate_pipeline(
        deals.assign(stage="b"), model, as_of="2025-01-01", n_draws=n, seed=4, duration="stages"
    ).table
    q = 1 - math.exp(-31 / 20)
    assert abs(late.iloc[0]["mean"] - q) < 5 * math.sqrt(q * (1 - q) / n)


# ---------------------------------------------------------------- reproducibility


def test_same_seed_same_result_and_chunk_size_does_not_matter() -> None:
    deals = brief_deals()
    a = simulate_pipeline(deals, MODEL, as_of="2025-01-01", n_draws=500, seed=9)
    b = simulate_pipeline(deals, MODEL, as_of="2025-01-01", n_draws=500, seed=9, chunk_size=7)
    c = simulate_pipeline(deals, MODEL, as_of="2025-01-01", n_draws=500, seed=9, chunk_size=1)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    pd.testing.assert_frame_equal(a.table, c.table, check_exact=True)
    assert a == b == c
    d = simulate_pipeline(deals, MODEL, as_of="2025-01-01", n_draws=500, seed=10)
    assert not a.table.equals(d.table)
    assert a != d


def test_generator_seed_is_reproducible() -> None:
    deals = brief_deals()
    a = simulate_pipeline(
        deals, MODEL, as_of="2025-01-01", n_draws=300, seed=np.random.default_rng(4)
    )
    b = simulate_pipeline(
        deals, MODEL, as_of="2025-01-01", n_draws=300, seed=np.random.default_rng(4)
    )
    assert a == b
    # The seed field reproduces the run as a plain int.
    assert simulate_pipeline(deals, MODEL, as_of="2025-01-01", n_draws=300, seed=a.seed) == a


def test_fresh_entropy_run_is_reproducible_from_its_seed_field() -> None:
    deals = brief_deals()
    a = simulate_pipeline(deals, MODEL, as_of="2025-01-01", n_draws=200)
    assert a.seed >= 2**64  # 128 bits of fresh entropy
    assert simulate_pipeline(deals, MODEL, as_of="2025-01-01", n_draws=200, seed=a.seed) == a


def test_row_order_does_not_matter() -> None:
    deals = pd.concat([brief_deals()] * 5, ignore_index=True)
    deals["opportunity_id"] = np.arange(15)
    a = simulate_pipeline(deals, MODEL, as_of="2025-01-01", n_draws=300, seed=5)
    b = simulate_pipeline(shuffled(deals, 1), MODEL, as_of="2025-01-01", n_draws=300, seed=5)
    assert a == b


# ---------------------------------------------------------------- properties


@st.composite
def pipelines(draw: st.DrawFn) -> tuple[pd.DataFrame, StageModel]:
    n_stages = draw(st.integers(1, 4))
    stages = [f"s{i}" for i in range(n_stages)]
    rates = draw(st.lists(st.floats(0.0, 1.0), min_size=n_stages, max_size=n_stages))
    days = draw(st.lists(st.floats(0.0, 200.0), min_size=n_stages, max_size=n_stages))
    model = StageModel.from_conversion_rates(stages, rates, days)
    n = draw(st.integers(1, 25))
    names = [*stages, "won", "lost"]
    deal_stages = draw(st.lists(st.sampled_from(names), min_size=n, max_size=n))
    cents = draw(st.lists(st.integers(0, 10_000_000), min_size=n, max_size=n))
    frame = pd.DataFrame(
        {
            "opportunity_id": np.arange(n),
            "stage": deal_stages,
            "amount": np.asarray(cents, dtype=np.float64) / 100,
        }
    )
    return frame, model


@given(
    pipelines(),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["exponential", "gamma", "stages", "fixed"]),
)
def test_mean_converges_to_weighted_pipeline(
    case: tuple[pd.DataFrame, StageModel], seed: int, duration: str
) -> None:
    deals, model = case
    n = 400
    result = simulate_pipeline(
        deals, model, as_of="2025-01-01", n_draws=n, seed=seed, duration=duration, period="Q"
    )
    sim, total = result.table, result.total
    weighted = weighted_pipeline(deals, model)
    expected = float(weighted["expected_amount"].sum())
    probs = weighted["win_probability"].to_numpy()
    amounts = weighted["amount"].to_numpy()
    # Bernstein's bound at 1e-6 (5 standard errors where the normal approximation holds) plus
    # the cents weighted_pipeline rounds each deal to.
    bound = _bernstein_bound(amounts, probs, n) + 0.005 * len(deals)
    assert abs(total.mean - expected) < bound
    assert total.mean == pytest.approx(sim["mean"].sum(), abs=1e-6)
    # Ranges are ordered and never exceed the unweighted total.
    assert (sim["p10"] <= sim["p50"]).all()
    assert (sim["p50"] <= sim["p90"]).all()
    assert (sim["mean"] >= 0).all()
    assert 0 <= total.p10 <= total.p50 <= total.p90 <= amounts.sum() + 1e-6


@given(pipelines(), st.integers(0, 2**32 - 1), st.integers(1, 60))
def test_chunking_and_row_order_never_change_the_result(
    case: tuple[pd.DataFrame, StageModel], seed: int, chunk: int
) -> None:
    deals, model = case
    kw = {"as_of": "2025-01-01", "n_draws": 60, "seed": seed}
    a = simulate_pipeline(deals, model, **kw)  # type: ignore[arg-type]
    b = simulate_pipeline(shuffled(deals, seed), model, chunk_size=chunk, **kw)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    assert a == b


# ---------------------------------------------------------------- bad input


def bad_cases() -> list[tuple[object, dict[str, object], type[Exception], str]]:
    base = brief_deals()
    unknown = base.copy()
    unknown.loc[1, "stage"] = "closing"
    dup = base.copy()
    dup.loc[2, "opportunity_id"] = 1
    negative = base.copy()
    negative.loc[0, "amount"] = -5.0
    nan_amount = base.copy()
    nan_amount.loc[2, "amount"] = np.nan
    bad_date = base.assign(close_date=["2025-01-01", "soon", None])
    aware = base.assign(close_date=pd.to_datetime(["2025-02-01"] * 3).tz_localize("UTC"))
    ok = {"as_of": "2025-01-01"}
    return [
        ([1], ok, InputTypeError, "opportunities must be a pandas DataFrame"),
        (base, {**ok, "model": "m"}, InputTypeError, "model must be a StageModel"),
        (base.drop(columns="amount"), ok, SchemaError, "missing column.*'amount'"),
        (base.iloc[:0], ok, SchemaError, "opportunities is empty"),
        (unknown, ok, DataError, r"unknown stage 'closing' at row 1 \(opportunity_id=2\)"),
        (dup, ok, DataError, "duplicate value 1 at row 2"),
        (negative, ok, DataError, r"negative value -5.0 at row 0 \(opportunity_id=1\)"),
        (nan_amount, ok, DataError, r"NaN at row 2 \(opportunity_id=3\)"),
        (bad_date, {**ok, "close_date": "close_date"}, ColumnTypeError, r"'soon' at row 1"),
        (aware, {**ok, "close_date": "close_date"}, ConfigError, "mix naive and tz-aware"),
        (base, {"as_of": None}, ConfigError, "as_of is required"),
        (base, {"as_of": "later"}, ConfigError, "as_of='later' is not a date"),
        (base, {**ok, "n_draws": 0}, ConfigError, "n_draws == 0, must be >= 1"),
        (base, {**ok, "n_draws": 2.5}, ConfigError, "n_draws must be int"),
        (base, {**ok, "chunk_size": 0}, ConfigError, "chunk_size == 0"),
        (base, {**ok, "seed": -1}, ConfigError, "seed must be None, an int >= 0"),
        (base, {**ok, "seed": "x"}, ConfigError, "seed must be None"),
        (base, {**ok, "period": "fortnight"}, ConfigError, "period='fortnight' is not a period"),
        (base, {**ok, "period": "2MS"}, ConfigError, "period='2MS'"),
        (base, {**ok, "horizon": 0}, ConfigError, "horizon == 0"),
        (
            base,
            {**ok, "n_draws": 1_000_001},
            ConfigError,
            "n_draws == 1000001, must be <= 1,000,000",
        ),
        (base, {**ok, "n_draws": 10**9}, ConfigError, "would not fit in memory"),
        (base, {**ok, "progress": "yes"}, ConfigError, "progress must be None or a function"),
        (base, {**ok, "duration": "normal"}, ConfigError, "duration='normal' is not one of"),
        (base, {**ok, "duration": "gamma", "shape": 0.0}, ConfigError, "shape == 0.0"),
        (base, {**ok, "shape": math.inf}, ConfigError, "shape == inf, must be finite"),
    ]


@pytest.mark.parametrize(("deals", "kwargs", "error", "match"), bad_cases())
def test_bad_input(
    deals: object, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    kwargs = dict(kwargs)
    model = kwargs.pop("model", MODEL)
    with pytest.raises(error, match=match):
        simulate_pipeline(deals, model, n_draws=kwargs.pop("n_draws", 5), **kwargs)  # type: ignore[arg-type]


def test_mixed_type_ids_keep_working() -> None:
    model = StageModel(stages=["s"], win_probabilities=[0.5], days_to_close=[3])
    deals = pd.DataFrame({"opportunity_id": [1, "a"], "stage": ["s", "won"], "amount": [1.0, 2.0]})
    sim = simulate_pipeline(deals, model, as_of="2024-01-01", n_draws=10, seed=1)
    assert sim.table["p10"].iloc[0] >= 2.0  # the won deal is always there


@pytest.mark.slow
def test_large_run_mean_and_chunk_independence() -> None:
    rng = np.random.default_rng(0)
    n = 10_000
    deals = pd.DataFrame(
        {
            "opportunity_id": np.arange(n),
            "stage": np.asarray(BRIEF, dtype=object)[rng.integers(0, 3, n)],
            "amount": np.round(rng.lognormal(10, 1, n), 2),
        }
    )
    kw = {"as_of": "2025-01-01", "n_draws": 2_000, "seed": 3}
    a = simulate_pipeline(deals, MODEL, **kw)  # type: ignore[arg-type]
    b = simulate_pipeline(deals, MODEL, chunk_size=333, **kw)  # type: ignore[arg-type]
    assert a == b
    weighted = weighted_pipeline(deals, MODEL)
    bound = _clt_bound(weighted["amount"].to_numpy(), weighted["win_probability"].to_numpy(), 2_000)
    assert abs(a.total.mean - weighted["expected_amount"].sum()) < bound + 0.005 * n


# ---------------------------------------------------------------- horizon, progress, cap


def test_horizon_keeps_the_total_and_reports_later_revenue() -> None:
    # Fixed timing: negotiation lands in January, bid in March, prospect in May. A two-month
    # horizon shows January and February; March and May revenue is "later", still in the total.
    kw = {"as_of": "2025-01-01", "n_draws": 3_000, "seed": 8, "duration": "fixed"}
    full = simulate_pipeline(brief_deals(), MODEL, **kw)  # type: ignore[arg-type]
    short = simulate_pipeline(brief_deals(), MODEL, horizon=2, **kw)  # type: ignore[arg-type]
    assert list(short.table.index) == list(full.table.index[:2])
    pd.testing.assert_frame_equal(short.table, full.table.iloc[:2])
    assert short.total == full.total
    later_mean = full.table["mean"].iloc[2:].sum()
    assert short.later.mean == pytest.approx(later_mean)
    # Later is 0, 250 000, 500 000 or 750 000 in a draw: p90 is 750 000 (P = 0.72 * 0.36 ...)
    assert short.later.p90 in (500_000.0, 750_000.0)
    assert "later: mean" in repr(short)
    # A horizon longer than the landings pads the table with zero periods.
    long = simulate_pipeline(brief_deals(), MODEL, horizon=8, **kw)  # type: ignore[arg-type]
    assert len(long.table) == 8
    assert long.table["mean"].iloc[5:].tolist() == [0.0, 0.0, 0.0]
    assert long.total == full.total
    assert long.later.to_dict() == {"mean": 0.0, "p10": 0.0, "p50": 0.0, "p90": 0.0}


@given(pipelines(), st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_horizon_never_drops_revenue(
    case: tuple[pd.DataFrame, StageModel], seed: int, horizon: int
) -> None:
    deals, model = case
    kw = {"as_of": "2025-01-01", "n_draws": 80, "seed": seed}
    full = simulate_pipeline(deals, model, **kw)  # type: ignore[arg-type]
    cut = simulate_pipeline(deals, model, horizon=horizon, **kw)  # type: ignore[arg-type]
    assert len(cut.table) == horizon
    assert cut.total == full.total
    shown = min(horizon, len(full.table))
    np.testing.assert_allclose(
        cut.table["mean"].iloc[:shown].to_numpy(), full.table["mean"].iloc[:shown].to_numpy()
    )
    assert cut.table["mean"].sum() + cut.later.mean == pytest.approx(full.total.mean, abs=1e-6)


def test_progress_is_called_after_every_chunk() -> None:
    calls: list[tuple[int, int]] = []
    simulate_pipeline(
        brief_deals(),
        MODEL,
        as_of="2025-01-01",
        n_draws=10,
        seed=1,
        chunk_size=4,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(4, 10), (8, 10), (10, 10)]


def test_too_many_draws_is_refused_before_any_work() -> None:
    calls: list[int] = []
    with pytest.raises(ConfigError, match=f"must be <= {MAX_DRAWS:,}"):
        simulate_pipeline(
            brief_deals(),
            MODEL,
            as_of="2025-01-01",
            n_draws=10**9,
            progress=lambda done, total: calls.append(done),
        )
    assert calls == []


def test_period_aliases_and_the_old_freq_keyword() -> None:
    kw = {"as_of": "2025-01-01", "n_draws": 50, "seed": 3}
    a = simulate_pipeline(brief_deals(), MODEL, period="Q", **kw)  # type: ignore[arg-type]
    assert a == simulate_pipeline(brief_deals(), MODEL, period="QS", **kw)  # type: ignore[arg-type]
    with pytest.warns(DeprecationWarning, match=r"simulate_pipeline\(freq=...\) was renamed"):
        old = simulate_pipeline(brief_deals(), MODEL, freq="QS", **kw)  # type: ignore[call-arg]
    assert old == a


def test_currencies_are_converted_like_in_the_schedule() -> None:
    deals = brief_deals().assign(stage="won", currency=["EUR", "USD", "EUR"])
    with pytest.raises(CurrencyError, match="mix currencies"):
        simulate_pipeline(deals, MODEL, as_of="2025-01-01", n_draws=5, currency="currency")
    sim = simulate_pipeline(
        deals,
        MODEL,
        as_of="2025-01-01",
        n_draws=5,
        currency="currency",
        rates={"USD": 0.5},
        reporting_currency="EUR",
    )
    # Won deals are certain: 500 000 + 125 000 + 200 000 EUR in every draw.
    assert sim.total.to_dict() == dict.fromkeys(("mean", "p10", "p50", "p90"), 825_000.0)
    assert sim.reporting_currency == "EUR"


def test_a_table_too_large_for_memory_is_refused_with_a_way_out() -> None:
    # Days to close of a million years: monthly landings far beyond any table.
    model = StageModel.from_conversion_rates(["s"], [1.0], [365.25 * 1e6])
    deals = pd.DataFrame({"opportunity_id": [1], "stage": ["s"], "amount": [1.0]})
    with pytest.raises(ConfigError, match=r"more than 100,000 periods.*pass horizon="):
        simulate_pipeline(deals, model, as_of="2025-01-01", n_draws=10, seed=1)
    cut = simulate_pipeline(deals, model, as_of="2025-01-01", n_draws=10, seed=1, horizon=12)
    assert cut.total.mean == 1.0  # all of it lands later, and is reported
    assert cut.later.mean == cut.total.mean
    with pytest.raises(ConfigError, match=r"1,000,000 draws x 1,001 periods would not fit"):
        simulate_pipeline(deals, model, as_of="2025-01-01", n_draws=MAX_DRAWS, horizon=1_000)
