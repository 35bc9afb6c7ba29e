"""Packaging metadata: the declared lower bounds are the versions the minimum-versions step tests.

`.ci/run` installs `.ci/constraints-min.txt` (one `name==version` pin per core and `test`
dependency) and runs the default tests. These tests keep that file and pyproject.toml saying the
same thing, so a bound raised or lowered in one place cannot go untested.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

# packaging comes with pytest (one of its own dependencies), so the test extra has it.
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
CONSTRAINTS = ROOT / ".ci" / "constraints-min.txt"


def lower_bound(requirement: str) -> tuple[str, Version]:
    """Name and ``>=`` bound of one requirement; any other kind of specifier is refused."""
    req = Requirement(requirement)
    bounds = [Version(s.version) for s in req.specifier if s.operator == ">="]
    others = [str(s) for s in req.specifier if s.operator not in (">=", "<")]
    if len(bounds) != 1 or others:
        raise ValueError(f"{requirement!r}: expected exactly one '>=' lower bound")
    return canonicalize_name(req.name), bounds[0]


def read_pins(text: str) -> dict[str, Version]:
    """``name==version`` lines (comments and blank lines skipped), each name once."""
    pins: dict[str, Version] = {}
    for raw in text.splitlines():
        line = raw.partition("#")[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not version.strip():
            raise ValueError(f"{line!r}: expected name==version")
        key = canonicalize_name(name.strip())
        if key in pins:
            raise ValueError(f"{name.strip()!r} is pinned twice")
        pins[key] = Version(version.strip())
    return pins


def core_and_test_bounds() -> dict[str, Version]:
    requirements = [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["test"]]
    return dict(lower_bound(r) for r in requirements)


# ---------------------------------------------------------------- the helpers, hand-worked


def test_lower_bound_reads_extras_and_short_versions() -> None:
    assert lower_bound("dask[dataframe]>=2024.8") == ("dask", Version("2024.8.0"))
    assert lower_bound("Pandas_Stubs>=2.2") == ("pandas-stubs", Version("2.2"))
    assert lower_bound("mkdocs>=1.6,<2") == ("mkdocs", Version("1.6"))


@pytest.mark.parametrize("requirement", ["numpy", "numpy==1.26", "numpy>=1.26,>=2", "numpy~=1.26"])
def test_lower_bound_refuses_anything_but_one_lower_bound(requirement: str) -> None:
    with pytest.raises(ValueError, match="exactly one '>=' lower bound"):
        lower_bound(requirement)


def test_read_pins_skips_comments_and_refuses_bad_lines() -> None:
    assert read_pins("# core\nnumpy==1.26.0  # why\n\nPyArrow==19.0.0\n") == {
        "numpy": Version("1.26.0"),
        "pyarrow": Version("19.0.0"),
    }
    with pytest.raises(ValueError, match="expected name==version"):
        read_pins("numpy>=1.26\n")
    with pytest.raises(ValueError, match="pinned twice"):
        read_pins("numpy==1.26.0\nnumpy==2.0.0\n")


# ---------------------------------------------------------------- the real files


def test_constraints_pin_exactly_the_core_and_test_lower_bounds() -> None:
    pins = read_pins(CONSTRAINTS.read_text(encoding="utf-8"))
    bounds = core_and_test_bounds()
    assert sorted(pins) == sorted(bounds), "constraints-min.txt and pyproject name other packages"
    differ = {name: (str(pins[name]), str(bounds[name])) for name in bounds}
    differ = {name: pair for name, pair in differ.items() if pins[name] != bounds[name]}
    assert differ == {}, f"pins (constraints, pyproject) that differ: {differ}"


def test_every_extra_declares_the_tested_lower_bound() -> None:
    # An extra that asked for less than the tested minimum (parquet = pyarrow>=14 while the
    # tests run on 19) would install a version no CI run has seen.
    tested = core_and_test_bounds()
    differ = []
    for extra, requirements in PROJECT["optional-dependencies"].items():
        for requirement in requirements:
            if canonicalize_name(Requirement(requirement).name) not in tested:
                continue  # a package the minimum-versions step does not install (or crmcore[...])
            name, bound = lower_bound(requirement)
            if bound != tested[name]:
                differ.append(f"{extra}: {requirement} (tested: {tested[name]})")
    assert differ == []
