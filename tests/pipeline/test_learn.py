"""funnel_conversion and estimate_stage_model: counts, censoring, skipped stages, recovery."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.datasets import stage_history
from crmcore.errors import ColumnTypeError, ConfigError, DataError, InputTypeError, SchemaError
from crmcore.pipeline import StageModel, estimate_stage_model, funnel_conversion
from helpers import call_unmutated, shuffled

STAGES = ["lead", "demo"]
BRIEF = ["prospect", "bid", "negotiation"]


def tiny_log() -> pd.DataFrame:
    # deal 1: lead 01-01, demo 01-11, won 02-01
    # deal 2: lead 01-05, lost 01-25
    # deal 3: lead 01-10, demo 01-20, still open
    # deal 4: lead 02-01, still open (as_of defaults to 02-01, the latest entry)
    return pd.DataFrame(
        {
            "opportunity_id": [1, 1, 1, 2, 2, 3, 3, 4],
            "stage": ["lead", "demo", "won", "lead", "lost", "lead", "demo", "lead"],
            "entered_at": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-11",
                    "2024-02-01",
                    "2024-01-05",
                    "2024-01-25",
                    "2024-01-10",
                    "2024-01-20",
                    "2024-02-01",
                ]
            ),
        }
    )


def log(rows: list[tuple[object, str, str]]) -> pd.DataFrame:
    ids, stages, dates = zip(*rows, strict=True)
    return pd.DataFrame(
        {"opportunity_id": list(ids), "stage": list(stages), "entered_at": pd.to_datetime(dates)}
    )


# ---------------------------------------------------------------- hand-computed examples


def test_funnel_on_tiny_log() -> None:
    got = call_unmutated(funnel_conversion, tiny_log(), stages=STAGES)
    # lead: 4 entered; deals 1 and 3 advanced, deal 2 lost there, deal 4 sits in it.
    #   conversion = 2 / (2 + 1); win rate = 2/3 * 1.
    # demo: deals 1 and 3 entered; 1 advanced (won), 3 sits in it: conversion 1 / 1.
    expected = pd.DataFrame(
        {
            "entered": np.array([4, 2], dtype=np.int64),
            "advanced": np.array([2, 1], dtype=np.int64),
            "won": np.array([1, 1], dtype=np.int64),
            "lost": np.array([1, 0], dtype=np.int64),
            "open": np.array([1, 1], dtype=np.int64),
            "conversion_rate": [2 / 3, 1.0],
            "win_rate": [2 / 3, 1.0],
        },
        index=pd.Index(STAGES, name="stage", dtype=object),
    )
    pd.testing.assert_frame_equal(got, expected)


def test_estimate_on_tiny_log() -> None:
    m = call_unmutated(estimate_stage_model, tiny_log(), stages=STAGES)
    assert isinstance(m, StageModel)
    assert m.conversion_rates == pytest.approx((2 / 3, 1.0))
    # lead exposure: 10 (deal 1) + 20 (deal 2) + 10 (deal 3) + 0 (deal 4, open) = 40 days,
    #   exits = 3 -> 13.33 days.
    # demo exposure: 21 (deal 1, 01-11 to 02-01) + 12 (deal 3, open since 01-20) = 33 days,
    #   exits = 1 -> 33 days. Ignoring deal 3's 12 open days would give 21.
    assert m.stage_durations == pytest.approx((40 / 3, 33.0))
    # Plain mean of completed stays of deals that advanced: lead (10 + 10) / 2, demo 21 / 1.
    m2 = estimate_stage_model(tiny_log(), stages=STAGES, durations="advanced")
    assert m2.stage_durations == pytest.approx((10.0, 21.0))


def test_later_as_of_adds_exposure_to_open_deals() -> None:
    # As of 02-11, deals 3 and 4 have been open 10 more days each.
    m = estimate_stage_model(tiny_log(), stages=STAGES, as_of="2024-02-11")
    # lead: 40 + 10 (deal 4) = 50 over 3 exits; demo: 33 + 10 (deal 3) = 43 over 1 exit.
    assert m.stage_durations == pytest.approx((50 / 3, 43.0))
    assert m.conversion_rates == pytest.approx((2 / 3, 1.0))


def test_laplace_smoothing_by_hand() -> None:
    # lead: (2 + 1) / (3 + 2) = 0.6; demo: (1 + 1) / (1 + 2) = 2/3
    m = estimate_stage_model(tiny_log(), stages=STAGES, smoothing=1)
    assert m.conversion_rates == pytest.approx((0.6, 2 / 3))


def test_skipped_stage_passed_and_ignored() -> None:
    h = log(
        [
            (1, "a", "2024-01-01"),
            (1, "c", "2024-01-11"),  # skips b
            (1, "won", "2024-01-21"),
            (2, "a", "2024-01-01"),
            (2, "b", "2024-01-06"),
            (2, "lost", "2024-01-16"),
            (3, "b", "2024-01-02"),  # enters the funnel at b: never counted in a
            (3, "won", "2024-01-12"),  # skips c on the way to won
        ]
    )
    stages = ["a", "b", "c"]
    passed = funnel_conversion(h, stages=stages)
    # a: deals 1, 2 entered and advanced. b: 1 (passed through), 2 (lost), 3 (advanced).
    # c: 1 (recorded) and 3 (passed through on its way to won); both won.
    assert passed["entered"].tolist() == [2, 3, 2]
    assert passed["advanced"].tolist() == [2, 2, 2]
    assert passed["lost"].tolist() == [0, 1, 0]
    assert passed["won"].tolist() == [1, 2, 2]
    ignored = funnel_conversion(h, stages=stages, skipped="ignored")
    assert ignored["entered"].tolist() == [2, 2, 1]
    assert ignored["advanced"].tolist() == [2, 1, 1]
    m = estimate_stage_model(h, stages=stages)
    assert m.conversion_rates == pytest.approx((1.0, 2 / 3, 1.0))
    # a: 10 + 5 days over 2 exits; b: 0 (deal 1 skipped it) + 10 + 10 over 3; c: 10 + 0 over 2.
    assert m.stage_durations == pytest.approx((7.5, 20 / 3, 5.0))


def test_backward_move_error_and_furthest() -> None:
    h = log(
        [
            (1, "a", "2024-01-01"),
            (1, "b", "2024-01-05"),
            (1, "a", "2024-01-08"),  # back to a
            (1, "b", "2024-01-10"),  # and on again
            (1, "won", "2024-01-20"),
        ]
    )
    with pytest.raises(DataError, match=r"moves back from stage 'b' to earlier stage 'a'"):
        funnel_conversion(h, stages=["a", "b"])
    furthest = funnel_conversion(h, stages=["a", "b"], backward="furthest")
    clean = funnel_conversion(h.iloc[[0, 1, 4]], stages=["a", "b"])
    pd.testing.assert_frame_equal(furthest, clean)
    m = estimate_stage_model(h, stages=["a", "b"], backward="furthest")
    assert m.stage_durations == (4.0, 15.0)  # a: 01-01 to 01-05; b: 01-05 to 01-20


def test_same_instant_entries_follow_funnel_order() -> None:
    # Created and moved on in the same second: zero days in a, not an error.
    h = log([(1, "a", "2024-01-01"), (1, "b", "2024-01-01"), (1, "won", "2024-01-04")])
    m = estimate_stage_model(h, stages=["a", "b"])
    assert m.stage_durations == (0.0, 3.0)


def test_deal_recorded_only_as_won_is_outside_the_open_stages() -> None:
    h = log([(1, "a", "2024-01-01"), (1, "lost", "2024-01-03"), (2, "won", "2024-01-02")])
    f = funnel_conversion(h, stages=["a"])
    assert f["entered"].tolist() == [1]
    assert f["won"].tolist() == [0]


def test_tz_aware_history() -> None:
    h = tiny_log()
    h["entered_at"] = h["entered_at"].dt.tz_localize("Europe/Paris")
    m = estimate_stage_model(h, stages=STAGES)
    assert m.stage_durations == pytest.approx((40 / 3, 33.0))
    with pytest.raises(ConfigError, match="mix naive and tz-aware"):
        estimate_stage_model(h, stages=STAGES, as_of="2024-03-01")


# ---------------------------------------------------------------- recovery from synthetic logs


TRUE = StageModel.from_conversion_rates(BRIEF, [0.5, 0.8, 0.9], [60, 30, 30])
# Deals are created over 435 days; the mean life of a deal is 60 + 0.5*30 + 0.4*30 = 87 days,
# so about 87 / 435 = 20 % are still open at the snapshot.
END = "2024-03-11"


def test_recovers_known_rates_and_durations_with_20pct_open() -> None:
    h = stage_history(20_000, TRUE, seed=11, start="2023-01-01", end=END)
    f = funnel_conversion(h, stages=BRIEF, as_of=END)
    open_share = f["open"].sum() / 20_000
    assert 0.17 < open_share < 0.23
    m = estimate_stage_model(h, stages=BRIEF, as_of=END)
    decided = (f["advanced"] + f["lost"]).to_numpy()
    for i, true_rate in enumerate(TRUE.conversion_rates):
        # Binomial standard error of a proportion over the deals that left the stage; 4 SE
        # leaves a 6e-5 chance of a false alarm per stage.
        se = math.sqrt(true_rate * (1 - true_rate) / decided[i])
        assert abs(m.conversion_rates[i] - true_rate) < 4 * se
        # Exponential MLE: SE of the mean = mean / sqrt(exits).
        true_days = TRUE.stage_durations[i]
        assert abs(m.stage_durations[i] - true_days) < 4 * true_days / math.sqrt(decided[i])
        # Counting open deals as lost (advanced / entered) is biased far beyond that.
        naive = f["advanced"].iloc[i] / f["entered"].iloc[i]
        assert true_rate - naive > 10 * se
    # Ignoring the open stays (mean completed stay) underestimates the first stage's time.
    completed = estimate_stage_model(h, stages=BRIEF, as_of=END, durations="advanced")
    assert completed.stage_durations[0] < TRUE.stage_durations[0] - 4 * 60 / math.sqrt(decided[0])


def test_recovers_rates_with_skipped_stages_and_late_entries() -> None:
    h = stage_history(
        20_000,
        TRUE,
        seed=5,
        end=END,
        entry_shares=[0.6, 0.3, 0.1],
        skip_probability=0.3,
    )
    f = funnel_conversion(h, stages=BRIEF, as_of=END)
    decided = (f["advanced"] + f["lost"]).to_numpy()
    m = estimate_stage_model(h, stages=BRIEF, as_of=END)
    for i, true_rate in enumerate(TRUE.conversion_rates):
        se = math.sqrt(true_rate * (1 - true_rate) / decided[i])
        assert abs(m.conversion_rates[i] - true_rate) < 4 * se
    # Leaving skippers out of a skipped stage's counts drops deals that went *through* it,
    # so its rate comes out too low.
    ignored = estimate_stage_model(h, stages=BRIEF, as_of=END, skipped="ignored")
    se_bid = math.sqrt(0.8 * 0.2 / decided[1])
    assert ignored.conversion_rates[1] < TRUE.conversion_rates[1] - 5 * se_bid


def test_generator_is_seeded_and_censored() -> None:
    a = stage_history(200, seed=3, end="2023-06-01")
    pd.testing.assert_frame_equal(a, stage_history(200, seed=3, end="2023-06-01"))
    assert not a.equals(stage_history(200, seed=4, end="2023-06-01"))
    assert a["entered_at"].max() <= pd.Timestamp("2023-06-01")
    last = a.groupby("opportunity_id")["stage"].last()
    assert (~last.isin(["won", "lost"])).any()  # some deals still open at the snapshot
    # A deal never appears after it was won or lost: estimate validates the whole log.
    estimate_stage_model(a, stages=BRIEF, as_of="2023-06-01")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_deals": 0}, "n_deals == 0"),
        ({"end": "2022-01-01"}, "must be after start"),
        ({"entry_shares": [1, 0]}, "entry_shares has 2 values for 3 stages"),
        ({"skip_probability": 1.5}, "skip_probability == 1.5"),
        ({"duration": "uniform"}, "duration='uniform'"),
    ],
)
def test_generator_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        stage_history(**kwargs)  # type: ignore[arg-type]


def test_generator_rejects_non_model() -> None:
    with pytest.raises(InputTypeError, match="model must be a StageModel"):
        stage_history(10, {"stages": ["a"]})  # type: ignore[arg-type]


# ---------------------------------------------------------------- properties


@st.composite
def histories(draw: st.DrawFn) -> tuple[pd.DataFrame, list[str]]:
    """Small valid logs: each deal enters somewhere, moves forward (maybe skipping), ends
    won, lost or open."""
    n_stages = draw(st.integers(1, 4))
    stages = [f"s{i}" for i in range(n_stages)]
    n_deals = draw(st.integers(1, 15))
    rows: list[tuple[object, str, pd.Timestamp]] = []
    base = pd.Timestamp("2024-01-01")
    for deal in range(n_deals):
        visited = sorted(draw(st.sets(st.integers(0, n_stages - 1), min_size=1, max_size=n_stages)))
        t = base + pd.Timedelta(days=draw(st.integers(0, 30)))
        for s in visited:
            rows.append((deal, stages[s], t))
            t = t + pd.Timedelta(hours=draw(st.integers(0, 24 * 40)))
        end = draw(st.sampled_from(["won", "lost", None]))
        if end is not None:
            rows.append((deal, end, t))
    frame = pd.DataFrame(rows, columns=["opportunity_id", "stage", "entered_at"])
    return frame, stages


@given(histories(), st.integers(0, 2**31))
def test_funnel_identities_and_order_independence(
    case: tuple[pd.DataFrame, list[str]], seed: int
) -> None:
    h, stages = case
    f = funnel_conversion(h, stages=stages)
    assert (f["entered"] == f["advanced"] + f["lost"] + f["open"]).all()
    assert (f["won"] <= f["entered"]).all()
    rates = f["conversion_rate"].dropna()
    assert ((rates >= 0) & (rates <= 1)).all()
    pd.testing.assert_frame_equal(funnel_conversion(shuffled(h, seed), stages=stages), f)


@given(histories(), st.floats(0.01, 50.0), st.floats(0.01, 50.0))
def test_smoothing_pulls_toward_half(
    case: tuple[pd.DataFrame, list[str]], a: float, b: float
) -> None:
    h, stages = case
    f = funnel_conversion(h, stages=stages)
    if ((f["advanced"] + f["lost"]) == 0).any():
        with pytest.raises(DataError, match="has no deal that left"):
            estimate_stage_model(h, stages=stages)
        return
    lo, hi = sorted((a, b))
    r0 = np.array(estimate_stage_model(h, stages=stages).win_probabilities)
    ra = np.asarray(estimate_stage_model(h, stages=stages, smoothing=lo).conversion_rates)
    rb = np.asarray(estimate_stage_model(h, stages=stages, smoothing=hi).conversion_rates)
    raw = f["conversion_rate"].to_numpy()
    assert ((ra >= 0) & (ra <= 1)).all()
    assert (np.abs(rb - 0.5) <= np.abs(ra - 0.5) + 1e-12).all()
    assert (np.abs(ra - 0.5) <= np.abs(raw - 0.5) + 1e-12).all()
    assert np.all(np.diff(r0) >= -1e-12)  # cumulative odds never fall along the funnel


@given(histories())
def test_estimate_is_order_independent(case: tuple[pd.DataFrame, list[str]]) -> None:
    h, stages = case
    f = funnel_conversion(h, stages=stages)
    if ((f["advanced"] + f["lost"]) == 0).any():
        return
    m = estimate_stage_model(h, stages=stages, smoothing=0.5)
    assert estimate_stage_model(h.iloc[::-1], stages=stages, smoothing=0.5) == m
    assert all(d >= 0 for d in m.stage_durations)


# ---------------------------------------------------------------- bad input


def bad_cases() -> list[tuple[object, dict[str, object], type[Exception], str]]:
    base = tiny_log()
    unknown = base.copy()
    unknown.loc[2, "stage"] = "closed"
    nat = base.copy()
    nat["entered_at"] = nat["entered_at"].astype(object)
    nat.loc[3, "entered_at"] = None
    dup = pd.concat([base, base.iloc[[1]]], ignore_index=True)
    after_won = pd.concat([base, log([(1, "demo", "2024-02-02")])], ignore_index=True)
    won_and_lost = pd.concat([base, log([(1, "lost", "2024-02-01")])], ignore_index=True)
    reenter = pd.concat([base, log([(3, "demo", "2024-01-25")])], ignore_index=True)
    missing_id = base.copy()
    missing_id["opportunity_id"] = missing_id["opportunity_id"].astype(float)
    missing_id.loc[0, "opportunity_id"] = np.nan
    no_exit = log([(1, "lead", "2024-01-01"), (1, "demo", "2024-01-02")])
    text_dates = base.copy()
    text_dates["entered_at"] = text_dates["entered_at"].astype(str)
    text_dates.loc[5, "entered_at"] = "soon"
    s = {"stages": STAGES}
    return [
        ([1, 2], s, InputTypeError, "history must be a pandas DataFrame"),
        (base.drop(columns="stage"), s, SchemaError, "missing column.*'stage'"),
        (base.iloc[:0], s, SchemaError, "history is empty"),
        (unknown, s, DataError, r"unknown stage 'closed' at row 2 \(opportunity_id=1\)"),
        (nat, s, DataError, r"missing date \(NaT\) at row 3 \(opportunity_id=2\)"),
        (text_dates, s, ColumnTypeError, r"'soon' at row 5 \(opportunity_id=3\)"),
        (missing_id, s, DataError, "'opportunity_id' of history has a missing value at row 0"),
        (
            dup,
            s,
            DataError,
            r"duplicate row at row 8 \(opportunity_id=1\).*same deal, stage 'demo'",
        ),
        (after_won, s, DataError, r"entry to 'demo' at row 8 .*after the deal was won at row 2"),
        (won_and_lost, s, DataError, r"entry to 'lost' .*after the deal was won"),
        (reenter, s, DataError, r"row 8 \(opportunity_id=3\) enters stage 'demo' again"),
        (base, {**s, "as_of": "2024-01-15"}, DataError, r"after as_of=2024-01-15"),
        (no_exit, s, DataError, r"stage 'demo' has no deal that left .*1 still open"),
        (base, {"stages": ["lead", "lead"]}, ConfigError, "stage 'lead' appears twice"),
        (base, {"stages": ["lead", "won"]}, ConfigError, "terminal stage 'won'"),
        (base, {"stages": "lead"}, ConfigError, "not a single string"),
        (base, {"stages": None}, ConfigError, "sequence of stage names"),
        (base, {"stages": TRUE}, ConfigError, "pass model.stages"),
        (base, {**s, "smoothing": -1}, ConfigError, "smoothing == -1"),
        (base, {**s, "smoothing": math.inf}, ConfigError, "must be finite"),
        (base, {**s, "skipped": "drop"}, ConfigError, "skipped='drop' is not one of"),
        (base, {**s, "backward": "last"}, ConfigError, "backward='last' is not one of"),
        (base, {**s, "durations": "median"}, ConfigError, "durations='median'"),
        (base, {**s, "as_of": "whenever"}, ConfigError, "as_of='whenever' is not a date"),
    ]


@pytest.mark.parametrize(("history", "kwargs", "error", "match"), bad_cases())
def test_bad_input(
    history: object, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        estimate_stage_model(history, **kwargs)  # type: ignore[arg-type]
    if "smoothing" not in kwargs and "durations" not in kwargs and "no deal that left" not in match:
        with pytest.raises(error, match=match):
            funnel_conversion(history, **kwargs)  # type: ignore[arg-type]


def test_mixed_type_ids_keep_working() -> None:
    # Ids 1 and "a" cannot be sorted together; the deals are still told apart.
    h = log([(1, "s", "2024-01-01"), ("a", "s", "2024-01-02"), (1, "won", "2024-01-03")])
    f = funnel_conversion(h, stages=["s"])
    assert f[["entered", "advanced", "open"]].iloc[0].tolist() == [2, 1, 1]


def test_generator_entry_stage_and_skips() -> None:
    h = stage_history(300, TRUE, seed=2, entry_shares=[0, 0, 1])
    assert (h.groupby("opportunity_id")["stage"].first() == "negotiation").all()
    skipped = stage_history(2_000, TRUE, seed=2, skip_probability=1.0)
    # Every stage a deal went through (not its entry stage) is missing: deals that got past
    # prospect jump straight to their last stage or the outcome, never to "bid" then on.
    per_deal = skipped.groupby("opportunity_id")["stage"].agg(list)
    assert not per_deal.map(lambda s: s[:3] == ["prospect", "bid", "negotiation"]).any()
    assert per_deal.map(lambda s: s[:2] == ["prospect", "won"]).any()
