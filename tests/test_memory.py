"""crmcore._memory: numpy's huge-page request is off inside hot paths, restored after."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore._memory as memory
from crmcore.segmentation import btyd_summary, rfm_summary


def _switch() -> Callable[[bool], bool]:
    switch = memory._ADVICE.switch
    assert switch is not None
    return switch


needs_switch = pytest.mark.skipif(
    memory._ADVICE.switch is None, reason="numpy offers no switch here or the env var is set"
)


def _current() -> bool:
    switch = _switch()
    before = bool(switch(True))
    switch(before)
    return before


@needs_switch
@pytest.mark.parametrize("start", [True, False])
def test_off_inside_and_restored_after(start: bool) -> None:
    switch = _switch()
    previous = switch(start)
    try:
        seen = memory.normal_pages(_current)()
        assert seen is False
        assert _current() is start
    finally:
        switch(previous)


@needs_switch
def test_restored_after_an_error() -> None:
    before = _current()

    @memory.normal_pages
    def boom() -> None:
        raise ValueError("x")

    with pytest.raises(ValueError, match="x"):
        boom()
    assert _current() is before


@needs_switch
def test_nested_calls_keep_it_off_until_the_outer_one_leaves() -> None:
    before = _current()

    @memory.normal_pages
    def outer() -> tuple[bool, bool]:
        inner = memory.normal_pages(_current)()
        return inner, _current()

    assert outer() == (False, False)
    assert _current() is before


@needs_switch
def test_threads_inside_at_once_restore_the_first_setting() -> None:
    before = _current()
    inside = threading.Barrier(4)
    done: list[int] = []

    @memory.normal_pages
    def work(k: int) -> None:
        inside.wait(timeout=10)  # every thread is inside at once, then they leave in any order
        done.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(done) == [0, 1, 2, 3]
    assert memory._ADVICE.inside == 0
    assert _current() is before


def test_the_wrapper_keeps_name_doc_and_signature() -> None:
    import inspect

    assert btyd_summary.__name__ == "btyd_summary"
    assert "Examples" in (btyd_summary.__doc__ or "")
    assert "customer" in inspect.signature(rfm_summary).parameters


def test_explicit_env_choice_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
    assert memory._numpy_switch() is None
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE")
    assert memory._numpy_switch() is not None


@given(st.lists(st.integers(0, 50), min_size=1, max_size=30))
def test_same_results_with_or_without_the_advice(days: list[int]) -> None:
    tx = pd.DataFrame(
        {
            "customer": np.arange(len(days)) % 4,
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(sorted(days), unit="D"),
            "amount": np.linspace(1.0, 9.0, len(days)),
        }
    )
    got = btyd_summary(tx, customer="customer", date="date", amount="amount")
    plain = btyd_summary.__wrapped__(tx, customer="customer", date="date", amount="amount")  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(got, plain)
