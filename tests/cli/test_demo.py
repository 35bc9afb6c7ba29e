"""The ``demo`` command (crmcore.cli.demo)."""

from __future__ import annotations

import re

from helpers_cli import run


def test_demo_prints_every_section() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    for title in ("Customer segmentation", "Sales pipeline", "Quotas", "Team performance"):
        assert title in result.stdout
    assert result.stderr == ""


def test_demo_is_reproducible_by_seed() -> None:
    assert run("demo", "--seed", "2").stdout == run("demo", "--seed", "2").stdout


def _amount(text: str, label: str) -> float:
    found = re.findall(rf"{re.escape(label)}\s+([\d,]+\.\d\d)", text)
    assert found, label
    return float(found[-1].replace(",", ""))


def test_demo_labels_both_open_pipeline_figures() -> None:
    text = run("demo").stdout
    # the first figure is every open deal; the roll-up's open pipeline leaves out the open
    # deals in the "Omitted" forecast category, and the demo says so and shows the difference
    all_open = _amount(text, "All open deals")
    rollup = _amount(text, "Open pipeline")
    omitted = _amount(text, "Omitted (open)")
    assert round(rollup + omitted, 2) == all_open
    assert omitted > 0
    assert f"All open deals {all_open:,.2f}" in text  # the stage table's total, same label
    assert "Open pipeline 4," not in text  # no second, unlabelled "open pipeline" figure


def test_demo_and_commands_share_one_table_style() -> None:
    text = run("demo").stdout
    schedule = text.split("Landing schedule by month")[1].split("\n\n")[0]
    assert re.search(r"^2025-01 +\d+ +[\d,]+\.\d\d ", schedule, flags=re.MULTILINE), schedule
