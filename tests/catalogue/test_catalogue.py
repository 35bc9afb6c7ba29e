"""The bad-input catalogue (issue #14): every public callable over every bad or extreme input.

Fails on a foreign exception, a silently wrong result, a wrongly refused valid input, a hang or
a mutated input, except the cases listed in ``known.py`` (a ratchet that may only shrink).
``python tests/catalogue/report.py`` prints the counts per class.
"""

from __future__ import annotations

import importlib
from collections import Counter

import pytest

from catalogue import runner
from catalogue.known import KNOWN
from catalogue.model import FAILING, Outcome, Result
from catalogue.specs import EXEMPT, NO_ALL, SPECS, public_callables, public_modules

NAMES = [s.name for s in SPECS]


def test_every_public_callable_is_in_the_catalogue() -> None:
    covered = {id(s.covers or s.func) for s in SPECS}
    public = public_callables()
    missing = sorted(q for q, obj in public.items() if id(obj) not in covered and q not in EXEMPT)
    assert not missing, f"add a spec to tests/catalogue/specs_*.py for: {missing}"
    stale = sorted(q for q in EXEMPT if q not in public)
    assert not stale, f"EXEMPT names what is no longer public: {stale}"


def test_every_public_module_declares_all() -> None:
    lacking = {m for m in public_modules() if not hasattr(importlib.import_module(m), "__all__")}
    assert lacking == NO_ALL, f"public modules without __all__: {sorted(lacking - NO_ALL)}"


def test_spec_names_are_unique() -> None:
    assert len(NAMES) == len(set(NAMES))


@pytest.mark.parametrize("name", NAMES)
def test_valid_call_satisfies_its_invariants(name: str) -> None:
    # the catalogue's reference: each spec's valid call works and passes its own checks
    runner.baseline(name)


def _run(slow: bool) -> dict[str, Result]:
    cases = [c for c in runner.all_cases() if slow or c.default]
    return runner.Pool(2).run(cases)


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Result]:
    return _run(slow=False)


def _failures(results: dict[str, Result], name: str) -> list[str]:
    prefix = f"{name}/"
    return [
        f"{r.outcome.value}: {r.case}: {r.detail}"
        for r in results.values()
        if r.case.startswith(prefix) and r.outcome in FAILING and r.case not in KNOWN
    ]


def _fixed(results: dict[str, Result], name: str) -> list[str]:
    prefix = f"{name}/"
    return [
        case
        for case in KNOWN
        if case.startswith(prefix) and case in results and results[case].outcome not in FAILING
    ]


@pytest.mark.parametrize("name", NAMES)
def test_catalogue(outcomes: dict[str, Result], name: str) -> None:
    failures = _failures(outcomes, name)
    assert not failures, "\n".join(failures)
    fixed = _fixed(outcomes, name)
    assert not fixed, f"fixed: delete from tests/catalogue/known.py: {fixed}"


def test_known_failures_name_real_cases() -> None:
    ids = {c.id for c in runner.all_cases()}
    assert not sorted(set(KNOWN) - ids), "known.py names cases the catalogue does not have"


def test_catalogue_counts(outcomes: dict[str, Result]) -> None:
    counts = Counter(r.outcome for r in outcomes.values())
    assert sum(counts.values()) == len(outcomes)
    open_ = Counter(r.outcome for r in outcomes.values() if r.case not in KNOWN)
    assert not any(open_[o] for o in FAILING), {o.value: open_[o] for o in Outcome}
