"""StageModel: cumulative odds from step rates, validation, serialisation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ConfigError
from crmcore.pipeline import StageModel

STAGES = ["prospect", "bid", "negotiation"]


def brief_model() -> StageModel:
    # The product brief's worked example: rates 0.5, 0.8, 0.9; 60, 30, 30 days in stage.
    return StageModel.from_conversion_rates(STAGES, [0.5, 0.8, 0.9], [60, 30, 30])


def test_brief_example_cumulative_probabilities_and_days() -> None:
    m = brief_model()
    # prospect: 0.5 * 0.8 * 0.9 = 0.36; bid: 0.8 * 0.9 = 0.72; negotiation: 0.9
    assert m.win_probabilities == pytest.approx((0.36, 0.72, 0.9))
    # prospect: 60 + 30 + 30 = 120; bid: 30 + 30 = 60; negotiation: 30
    assert m.days_to_close == (120.0, 60.0, 30.0)
    assert m.conversion_rates == pytest.approx((0.5, 0.8, 0.9))
    assert m.stage_durations == (60.0, 30.0, 30.0)
    # 500 000 x 0.36 = 250 000 x 0.72 = 200 000 x 0.9 = 180 000
    for stage, amount in zip(STAGES, [500_000, 250_000, 200_000], strict=True):
        assert amount * m.probability(stage) == pytest.approx(180_000)


def test_step_odds_typed_as_cumulative_are_rejected() -> None:
    # Odds that fall along the funnel (90/80/50) cannot be cumulative odds of winning: the error
    # points the user at from_conversion_rates, which is what step odds need.
    StageModel(stages=STAGES, win_probabilities=[0.5, 0.8, 0.9], days_to_close=[120, 60, 30])
    with pytest.raises(
        ConfigError, match=r"falls from 0\.9 at stage 'prospect' to 0\.8.*from_conversion_rates"
    ):
        StageModel(stages=STAGES, win_probabilities=[0.9, 0.8, 0.5], days_to_close=[120, 60, 30])


def test_terminal_stages_and_frame() -> None:
    m = brief_model()
    assert m.probability("won") == 1.0
    assert m.probability("lost") == 0.0
    frame = m.to_frame(include_terminal=True)
    assert list(frame.index) == [*STAGES, "won", "lost"]
    assert frame.loc["won", "win_probability"] == 1.0
    assert math.isnan(frame.loc["lost", "conversion_rate"])
    with pytest.raises(ConfigError, match="unknown stage 'closing'; the model knows 'prospect'"):
        m.probability("closing")


def test_zero_probability_next_stage_gives_zero_rate() -> None:
    m = StageModel(stages=["a", "b"], win_probabilities=[0, 0], days_to_close=[5, 1])
    assert m.conversion_rates == (0.0, 0.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stages": [], "win_probabilities": [], "days_to_close": []}, "stages is empty"),
        ({"stages": ["a"], "win_probabilities": [0.5, 0.6], "days_to_close": [1]}, "equal lengths"),
        ({"stages": ["a", "a"], "win_probabilities": [0.5, 0.6], "days_to_close": [2, 1]}, "twice"),
        (
            {"stages": ["a"], "win_probabilities": [1.5], "days_to_close": [1]},
            r"must be in \[0, 1\]",
        ),
        ({"stages": ["a"], "win_probabilities": [0.5], "days_to_close": [-1]}, "finite and >= 0"),
        ({"stages": ["a", "b"], "win_probabilities": [0.1, 0.5], "days_to_close": [1, 5]}, "rise"),
        ({"stages": ["won"], "win_probabilities": [0.5], "days_to_close": [1]}, "also listed"),
        (
            {
                "stages": ["a"],
                "win_probabilities": [0.5],
                "days_to_close": [1],
                "won": "x",
                "lost": "x",
            },
            "must differ",
        ),
        ({"stages": "ab", "win_probabilities": [0.5], "days_to_close": [1]}, "not a single string"),
        (
            {"stages": ["a"], "win_probabilities": ["p"], "days_to_close": [1]},
            "sequence of numbers",
        ),
        ({"stages": [""], "win_probabilities": [0.5], "days_to_close": [1]}, "non-empty text"),
    ],
)
def test_invalid_models(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        StageModel(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rates", "durations", "match"),
    [
        ([0.5, 1.2], [1, 1], r"conversion rate of stage 'b' == 1.2"),
        ([0.5, 0.5], [1, float("nan")], "duration of stage 'b'"),
        ([0.5], [1, 1], "equal lengths"),
    ],
)
def test_invalid_conversion_rates(rates: list[float], durations: list[float], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        StageModel.from_conversion_rates(["a", "b"], rates, durations)


def test_from_dict_rejects_unknown_keys() -> None:
    data = brief_model().to_dict() | {"colour": "red"}
    with pytest.raises(ConfigError, match=r"unknown StageModel field\(s\) \['colour'\]"):
        StageModel.from_dict(data)


model_inputs = st.integers(1, 6).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(0, 1), min_size=n, max_size=n),
        st.lists(st.floats(0, 1000), min_size=n, max_size=n),
    )
)


@given(model_inputs)
def test_rates_round_trip_and_serialisation(inputs: tuple[list[float], list[float]]) -> None:
    rates, durations = inputs
    names = [f"s{i}" for i in range(len(rates))]
    m = StageModel.from_conversion_rates(names, rates, durations)
    # Win probabilities are non-decreasing and the product identity holds.
    p = m.win_probabilities
    assert all(0 <= x <= 1 for x in p)
    assert all(p[i] <= p[i + 1] + 1e-12 for i in range(len(p) - 1))
    assert p[0] == pytest.approx(math.prod(rates), abs=1e-12)
    assert sum(m.stage_durations) == pytest.approx(m.days_to_close[0])
    # The step rates are kept exactly, even where a later rate of 0 hides them in the odds.
    assert m.conversion_rates == tuple(rates)
    derived = StageModel(stages=names, win_probabilities=p, days_to_close=m.days_to_close)
    for i, r in enumerate(derived.conversion_rates):
        if p[i + 1 if i < len(p) - 1 else i] > 1e-3:
            assert r == pytest.approx(rates[i], abs=1e-9)
    assert StageModel.from_dict(m.to_dict()) == m


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"stages": ["a"], "win_probabilities": [0.5]}, r"\['days_to_close'\] missing"),
        ([("stages", ["a"])], "needs a mapping, got list"),
    ],
)
def test_from_dict_rejects_incomplete_or_non_mapping(data: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        StageModel.from_dict(data)  # type: ignore[arg-type]


def test_rates_must_agree_with_probabilities() -> None:
    with pytest.raises(
        ConfigError, match=r"rates multiply out to win probability 0\.25 at stage 'a'"
    ):
        StageModel(
            stages=["a", "b"], win_probabilities=[0.3, 0.5], days_to_close=[2, 1], rates=[0.5, 0.5]
        )
    with pytest.raises(ConfigError, match="one entry per stage"):
        StageModel(stages=["a"], win_probabilities=[0.5], days_to_close=[1], rates=[0.5, 1])
    # A zero rate late in the funnel no longer hides the earlier step rates.
    m = StageModel.from_conversion_rates(["a", "b"], [0.7, 0.0], [1, 1])
    assert m.conversion_rates == (0.7, 0.0)
    assert m.win_probabilities == (0.0, 0.0)


def test_conversion_rates_and_durations_refuse_booleans() -> None:
    # issue 14 catalogue: True was read as a conversion rate of 1.0
    with pytest.raises(ConfigError, match="boolean True"):
        StageModel.from_conversion_rates(["a", "b"], [True, 0.5], [10.0, 5.0])
    with pytest.raises(ConfigError, match="boolean True"):
        StageModel.from_conversion_rates(["a", "b"], [0.5, 0.5], [True, 5.0])
