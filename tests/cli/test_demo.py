"""The ``demo`` command (crmcore.cli.demo)."""

from __future__ import annotations

from helpers_cli import run


def test_demo_prints_every_section() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    for title in ("Customer segmentation", "Sales pipeline", "Quotas", "Team performance"):
        assert title in result.stdout
    assert result.stderr == ""


def test_demo_is_reproducible_by_seed() -> None:
    assert run("demo", "--seed", "2").stdout == run("demo", "--seed", "2").stdout
