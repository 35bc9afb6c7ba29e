"""Configs and results display briefly: a one-line ``repr`` and an HTML table for Jupyter.

Every public attrs class (configs and results of every area) uses the shared helpers of
``crmcore._repr``. Floats show at most 6 significant digits, so a config built from
``0.1 + 0.26`` prints ``0.36``, not ``0.36000000000000004`` (issue #16); tables show as their
shape; the HTML display is a table with one row per field.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import datasets
from crmcore._repr import attrs_repr, attrs_repr_html, short

AREAS = ("segmentation", "pipeline", "forecast", "quota", "kpi", "clv")
# results that keep their own multi-line repr (it shows the table, doctested in their pages)
OWN_REPR = {"CloseSchedule", "LeadScoring", "PipelineSimulation"}


def public_attrs_classes() -> list[type]:
    found = []
    for area in AREAS:
        module = importlib.import_module(f"crmcore.{area}")
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and attrs.has(obj):
                found.append(obj)
    return found


@pytest.mark.parametrize("cls", public_attrs_classes(), ids=lambda c: c.__name__)
def test_every_public_config_and_result_uses_the_shared_display(cls: type) -> None:
    assert cls._repr_html_ is attrs_repr_html  # type: ignore[attr-defined]
    if cls.__name__ not in OWN_REPR:
        assert cls.__repr__ is attrs_repr


def instances() -> dict[str, Any]:
    from crmcore.clv import fit_bg_nbd, fit_gamma_gamma
    from crmcore.forecast import sales_forecast
    from crmcore.kpi import CommissionPlan, Metric, Scorecard
    from crmcore.pipeline import Lifecycle, StageModel, close_schedule, simulate_pipeline
    from crmcore.quota import build_plan
    from crmcore.segmentation import (
        SEGMENTS_11,
        GradeRules,
        btyd_summary,
        fit_rfm_bins,
        rfm_summary,
    )

    tx = datasets.transactions(300, seed=4)
    weekly = btyd_summary(tx, amount="amount", period="W")
    model = StageModel.from_conversion_rates(["bid", "deal"], [0.6, 0.6], [10, 20])
    book = pd.DataFrame(
        {"opportunity_id": [1, 2], "stage": ["bid", "deal"], "amount": [100.0, 50.0]}
    )
    people = pd.DataFrame({"region": ["N", "S"], "person": ["a", "b"], "weight": [1, 2]})
    return {
        "GradeRules": GradeRules(value_cutoff=0.1 + 0.26),
        "RFMBins": fit_rfm_bins(rfm_summary(tx)),
        "SegmentMap": SEGMENTS_11,
        "StageModel": model,
        "Lifecycle": Lifecycle(),
        "CloseSchedule": close_schedule(book, model, as_of="2025-01-01"),
        "PipelineSimulation": simulate_pipeline(
            book, model, as_of="2025-01-01", n_draws=200, seed=1
        ),
        "QuotaPlan": build_plan(people, 1000_00, distribution=[50, 50]),
        "Metric": Metric(column="win_rate", weight=0.1 * 3),
        "Scorecard": Scorecard(
            metrics=[Metric(column="a", weight=0.7), Metric(column="b", weight=0.3)]
        ),
        "CommissionPlan": CommissionPlan(tiers=[(0.0, 0.03), (1.0, 0.05)]),
        "BGNBD": fit_bg_nbd(weekly),
        "GammaGamma": fit_gamma_gamma(weekly[weekly["frequency"] > 0]),
        "SalesForecast": sales_forecast(tx, horizon=3),
    }


def long_floats(text: str) -> list[str]:
    """Decimal numbers in ``text`` with more than 6 significant digits."""
    found = re.findall(r"(?<![\w.])\d+\.\d+(?:e[-+]\d+)?", text)
    return [f for f in found if len(re.sub(r"\D", "", f.split("e")[0]).lstrip("0").rstrip("0")) > 6]


@pytest.mark.parametrize("name", sorted(instances()))
def test_displays_are_short_and_html_is_a_table(name: str) -> None:
    obj = instances()[name]
    text = repr(obj)
    first = text.splitlines()[0]
    if name not in OWN_REPR:
        assert "\n" not in text
        assert len(text) <= 400, text
    assert first.startswith(f"{name}(")
    assert long_floats(text if name not in OWN_REPR else first) == [], text
    page = obj._repr_html_()
    assert page.startswith('<table class="crmcore-repr"><caption><b>')
    assert f"<b>{name}</b>" in page
    fields = [f.name for f in attrs.fields(type(obj)) if f.repr]
    assert page.count("<tr><th") >= len(fields)


def test_configs_print_what_was_typed() -> None:
    shown = instances()
    assert "value_cutoff=0.36," in repr(shown["GradeRules"])
    assert "0.36000000000000004" not in repr(shown["GradeRules"])
    assert "weight=0.3," in repr(shown["Metric"])  # 0.1 * 3 == 0.30000000000000004
    assert repr(shown["QuotaPlan"]).startswith(
        "QuotaPlan(table=<DataFrame 4 rows x 4 columns>, total=100000"
    )
    assert "diagnostics=FitDiagnostics(...)" in repr(shown["BGNBD"])
    assert "... (16 items)" in repr(shown["SegmentMap"])


def test_tables_in_html_show_their_first_rows() -> None:
    from crmcore.quota import QuotaPlan

    table = pd.DataFrame(
        {
            "region": ["N"] * 25,
            "person": [f"p{i:02d}" for i in range(25)],
            "month": [1] * 25,
            "quota_cents": [4] * 25,
        }
    )
    plan = QuotaPlan(table=table, total=100, requested=100)
    page = plan._repr_html_()
    assert page.count('class="dataframe"') == 1
    assert "p09" in page
    assert "p10" not in page
    assert "15 more rows" in page


def test_text_is_escaped_in_html() -> None:
    from crmcore.pipeline import StageModel

    model = StageModel.from_conversion_rates(["<b>bid</b>"], [0.5], [10])
    page = model._repr_html_()
    assert "<b>bid</b>" not in page
    assert "&lt;b&gt;bid&lt;/b&gt;" in page


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_short_floats_are_within_six_digits(value: float) -> None:
    text = short(value)
    assert float(text) == pytest.approx(value, rel=5e-6, abs=1e-300)
    digits = re.sub(r"[^0-9]", "", text.split("e")[0]).lstrip("0")
    assert len(digits) <= 7  # six significant digits (plus the ".0" of whole numbers)


def test_short_of_containers_and_odd_values() -> None:
    assert short(np.float64(0.1) + np.float64(0.2)) == "0.3"
    assert short(3) == "3"
    assert short(2.0) == "2.0"
    assert short(float("nan")) == "nan"
    assert short(None) == "None"
    assert short(True) == "True"
    assert short((1.0,)) == "(1.0,)"
    assert short(list(range(10))) == "[0, 1, 2, 3, 4, 5, ... (10 items)]"
    assert short({"a": 0.1 + 0.2}) == "{'a': 0.3}"
    assert short(pd.Series([1, 2], name="x")) == "<Series 'x', 2 rows>"
    assert short(np.arange(3)) == "[0, 1, 2]"
    assert short(np.zeros((4, 5))) == "<array shape (4, 5)>"
