"""Models are frozen values that round-trip through plain data."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.clv import (
    BGBB,
    BGNBD,
    MBGNBD,
    FitDiagnostics,
    GammaGamma,
    ParetoNBD,
    ShiftedBetaGeometric,
)
from crmcore.errors import ConfigError

CLASSES = [BGNBD, MBGNBD, ParetoNBD, BGBB, GammaGamma, ShiftedBetaGeometric]
positive = st.floats(1e-6, 1e6, allow_nan=False)
diagnostics = st.none() | st.builds(
    FitDiagnostics,
    log_likelihood=st.floats(-1e9, 0),
    n_customers=st.integers(1, 10**7),
    converged=st.booleans(),
    iterations=st.integers(0, 5000),
    message=st.text(max_size=20),
    standard_errors=st.dictionaries(st.sampled_from(["r", "alpha", "a"]), positive),
    penalizer=st.floats(0, 10),
)


@st.composite
def models(draw: st.DrawFn) -> Any:
    cls = draw(st.sampled_from(CLASSES))
    values: dict[str, Any] = {name: draw(positive) for name in cls.PARAMETERS}
    if "time_unit" in attrs.fields_dict(cls):
        values["time_unit"] = draw(st.sampled_from([None, "D", "W", "M", "H"]))
    values["diagnostics"] = draw(diagnostics)
    return cls(**values)


@given(models())
def test_to_dict_round_trip_through_json(model: Any) -> None:
    data = json.loads(json.dumps(model.to_dict()))
    back = type(model).from_dict(data)
    assert back == model
    assert back.params == model.params


@pytest.mark.parametrize("cls", CLASSES)
def test_frozen_and_validated(cls: Any) -> None:
    values = dict.fromkeys(cls.PARAMETERS, 1.0)
    model = cls(**values)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        model.__setattr__(cls.PARAMETERS[0], 2.0)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match=f"parameter {cls.PARAMETERS[0]} =="):
            cls(**{**values, cls.PARAMETERS[0]: bad})
    with pytest.raises(ConfigError, match="unknown"):
        cls.from_dict({**values, "colour": 1})
    with pytest.raises(ConfigError, match="missing"):
        cls.from_dict({})


def test_time_unit_checked() -> None:
    with pytest.raises(ConfigError, match="time_unit='weeks'"):
        BGNBD(r=1, alpha=1, a=1, b=1, time_unit="weeks")


def test_standard_errors_are_read_only() -> None:
    d = FitDiagnostics(log_likelihood=-1, n_customers=1, converged=True, iterations=1,
                       message="", standard_errors={"r": 0.5})  # fmt: skip
    with pytest.raises(TypeError):
        d.standard_errors["r"] = 1.0  # type: ignore[index]
