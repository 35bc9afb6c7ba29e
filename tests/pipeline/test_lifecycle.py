"""Tests for crmcore.pipeline.lifecycle: the lifecycle table, transitions and history checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import (
    ColumnTypeError,
    ConfigError,
    DataError,
    IllegalTransitionError,
    SchemaError,
)
from crmcore.pipeline import Lifecycle, apply_transition, check_history, current_states
from helpers import call_unmutated, shuffled

STATES = ["open", "suspended", "terminated", "won", "lost"]
# The default table of the issue: suspended deals can be reactivated; terminated, won and lost
# are final; nothing moves to itself.
LEGAL = {
    ("open", "suspended"),
    ("open", "terminated"),
    ("open", "won"),
    ("open", "lost"),
    ("suspended", "open"),
    ("suspended", "terminated"),
}
ALL_PAIRS = [(a, b) for a in STATES for b in STATES]


@pytest.mark.parametrize(("src", "dst"), sorted(LEGAL))
def test_legal_moves(src: str, dst: str) -> None:
    assert apply_transition(src, dst) == dst


@pytest.mark.parametrize(("src", "dst"), [p for p in ALL_PAIRS if p not in LEGAL])
def test_illegal_moves_name_from_to_and_allowed(src: str, dst: str) -> None:
    with pytest.raises(
        IllegalTransitionError, match=f"illegal transition '{src}' -> '{dst}'"
    ) as info:
        apply_transition(src, dst)
    allowed = Lifecycle().allowed(src)
    if allowed:
        assert "may only move to " + ", ".join(map(repr, allowed)) in str(info.value)
    else:
        assert f"'{src}' is final" in str(info.value)
    assert info.value.value == (src, dst)


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    [
        ("open", "suspend", "suspended"),
        ("suspended", "reactivate", "open"),
        ("suspended", "terminate", "terminated"),
        ("open", "win", "won"),
        ("open", "lose", "lost"),
    ],
)
def test_events(state: str, event: str, expected: str) -> None:
    assert apply_transition(state, event) == expected


def test_event_rejected_names_the_event() -> None:
    with pytest.raises(IllegalTransitionError, match=r"'suspended' -> 'won' \(event 'win'\)"):
        apply_transition("suspended", "win")


@pytest.mark.parametrize(
    ("state", "target", "match"),
    [
        ("closed", "open", r"unknown state 'closed'; the lifecycle knows 'open', 'suspended'"),
        ("open", "closed", r"unknown target 'closed'; expected a state .* or an event"),
        (None, "open", r"unknown state None"),
        ("open", 3, r"unknown target 3"),
    ],
)
def test_apply_transition_unknown_names(state: object, target: object, match: str) -> None:
    with pytest.raises(DataError, match=match) as info:
        apply_transition(state, target)  # type: ignore[arg-type]
    assert not isinstance(info.value, IllegalTransitionError)


def test_apply_transition_rejects_non_lifecycle() -> None:
    with pytest.raises(ConfigError, match="lifecycle must be a Lifecycle, got dict"):
        apply_transition("open", "won", {"open": ["won"]})  # type: ignore[arg-type]


class TestLifecycleConfig:
    def test_default_table(self) -> None:
        lc = Lifecycle()
        assert lc.final_states == ("terminated", "won", "lost")
        m = lc.matrix()
        assert m.dtype == bool
        got = {(STATES[i], STATES[j]) for i, j in zip(*np.nonzero(m), strict=True)}
        assert got == LEGAL

    def test_custom_lifecycle_allows_reopening_lost(self) -> None:
        lc = Lifecycle(transitions=[*sorted(LEGAL), ("lost", "open")], events={"reopen": "open"})
        assert apply_transition("lost", "reopen", lc) == "open"
        assert lc.final_states == ("terminated", "won")

    def test_transitions_mapping_and_pairs_are_equal(self) -> None:
        a = Lifecycle(transitions={"open": ["won", "lost"]})
        b = Lifecycle(transitions=[("open", "lost"), ("open", "won")])
        assert a == b

    @given(
        st.sets(st.tuples(st.sampled_from(STATES), st.sampled_from(STATES))),
        st.lists(st.sampled_from(STATES), min_size=1, max_size=3, unique=True),
    )
    def test_dict_round_trip(self, pairs: set[tuple[str, str]], initial: list[str]) -> None:
        lc = Lifecycle(transitions=pairs, initial=initial)
        assert Lifecycle.from_dict(lc.to_dict()) == lc
        assert int(lc.matrix().sum()) == len(pairs)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"states": []}, r"states is empty"),
            ({"states": "open"}, r"got the string 'open'"),
            ({"states": ["open", "open"]}, r"state 'open' appears twice"),
            ({"states": ["open", ""]}, r"non-empty text"),
            (
                {"transitions": {"open": ["closed"]}},
                r"transition 'open' -> 'closed' names unknown state 'closed'",
            ),
            ({"transitions": {"open": "won"}}, r"targets of state 'open' must be a sequence"),
            ({"transitions": [("open", "won", "x")]}, r"must be a \(from, to\) pair"),
            ({"initial": []}, r"initial is empty"),
            ({"initial": ["closed"]}, r"initial state 'closed' is not one of"),
            ({"events": {"open": "open"}}, r"event 'open' has the name of a state"),
            ({"events": {"reopen": "closed"}}, r"event 'reopen' targets unknown state 'closed'"),
            ({"events": {"": "open"}}, r"event names must be non-empty"),
        ],
    )
    def test_bad_config(self, kwargs: dict[str, object], match: str) -> None:
        with pytest.raises(ConfigError, match=match):
            Lifecycle(**kwargs)  # type: ignore[arg-type]

    def test_from_dict_rejects_unknown_keys(self) -> None:
        with pytest.raises(ConfigError, match=r"unknown Lifecycle field\(s\) \['final'\]"):
            Lifecycle.from_dict({"final": ["won"]})


def _history(rows: list[tuple[object, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": [r[0] for r in rows],
            "state": [r[1] for r in rows],
            "entered_at": pd.to_datetime([r[2] for r in rows]),
        }
    )


class TestCheckHistoryExamples:
    def test_reports_every_illegal_row(self) -> None:
        history = _history(
            [
                ("b", "won", "2024-01-01"),  # row 0: b starts in won -> must start open
                ("a", "open", "2024-01-01"),  # row 1: fine
                ("a", "suspended", "2024-01-02"),  # row 2: fine
                ("a", "won", "2024-01-03"),  # row 3: after row 5 (see below), open -> won
                ("b", "open", "2024-01-05"),  # row 4: won -> open illegal (won is final)
                ("a", "open", "2024-01-02"),  # row 5: same time as row 2, later in the table,
                # so a's order is open(1), suspended(2), open(5), won(3): row 5 suspended -> open
                # is legal and so is row 3, open -> won.
                ("c", "open", "2024-01-01"),  # row 6: fine
                ("c", "open", "2024-01-02"),  # row 7: open -> open is not a move
            ]
        )
        out = call_unmutated(check_history, history)
        assert out.index.tolist() == [0, 4, 7]
        assert out["opportunity_id"].tolist() == ["b", "b", "c"]
        assert out["from_state"].isna().tolist() == [True, False, False]
        assert out["from_state"].tolist()[1:] == ["won", "open"]
        assert out["to_state"].tolist() == ["won", "open", "open"]
        assert out["reason"].tolist() == [
            "a deal must start in 'open'",
            "'won' is final; no move leaves it",
            "from 'open' a deal may only move to 'suspended', 'terminated', 'won', 'lost'",
        ]
        assert list(out.columns) == [
            "opportunity_id",
            "entered_at",
            "from_state",
            "to_state",
            "reason",
        ]
        assert out["entered_at"].tolist() == list(
            pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-02"])
        )

    def test_legal_history_gives_empty_frame_with_columns(self) -> None:
        history = _history(
            [
                (1, "open", "2024-01-01"),
                (1, "suspended", "2024-01-02"),
                (1, "open", "2024-01-03"),
                (1, "won", "2024-01-04"),
            ]
        )
        out = check_history(history)
        assert out.empty
        assert list(out.columns) == [
            "opportunity_id",
            "entered_at",
            "from_state",
            "to_state",
            "reason",
        ]

    def test_empty_history(self) -> None:
        history = pd.DataFrame(
            {"opportunity_id": [], "state": [], "entered_at": pd.to_datetime([])}
        )
        assert check_history(history).empty
        assert current_states(history).empty

    def test_raise_on_first(self) -> None:
        history = _history(
            [
                (2, "open", "2024-01-01"),
                (2, "won", "2024-01-02"),
                (2, "lost", "2024-01-03"),
                (1, "lost", "2024-01-01"),
            ]
        )
        history.index = [10, 11, 12, 13]
        with pytest.raises(
            IllegalTransitionError,
            match=r"history row 13 \(opportunity_id=1\) at 2024-01-01 00:00:00: illegal start "
            r"in 'lost': a deal must start in 'open'",
        ) as info:
            check_history(history, errors="raise")
        assert info.value.row == 13
        with pytest.raises(
            IllegalTransitionError, match=r"row 12 .* illegal 'won' -> 'lost': 'won' is final"
        ):
            check_history(history.iloc[:3], errors="raise")

    def test_custom_column_names_and_lifecycle(self) -> None:
        lc = Lifecycle(
            states=["new", "done"], transitions={"new": ["done"]}, initial=["new"], events={}
        )
        history = pd.DataFrame(
            {"deal": [1, 1], "s": ["new", "done"], "t": ["2024-01-01", "2024-01-02"]}
        )
        assert check_history(history, lc, opportunity="deal", state="s", at="t").empty
        with pytest.raises(SchemaError, match=r"history is missing column\(s\) 'opportunity_id'"):
            check_history(history)


def _reference(history: pd.DataFrame, lc: Lifecycle) -> list[object]:
    """Row-by-row reference: walk each deal's rows in (time, table position) order."""
    bad: list[object] = []
    positions = sorted(
        range(len(history)),
        key=lambda i: (history["opportunity_id"].iloc[i], history["entered_at"].iloc[i], i),
    )
    prev_deal: object = None
    prev_state: str | None = None
    for i in positions:
        deal, state = history["opportunity_id"].iloc[i], history["state"].iloc[i]
        ok = state in lc.initial if deal != prev_deal else (prev_state, state) in lc.transitions
        if not ok:
            bad.append(history.index[i])
        prev_deal, prev_state = deal, state
    return bad


@st.composite
def histories(draw: st.DrawFn, *, distinct_times: bool = False) -> pd.DataFrame:
    n = draw(st.integers(1, 30))
    deals = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    # Mostly legal-looking states, so both legal and illegal rows occur.
    states = draw(
        st.lists(st.sampled_from([*STATES, "open", "open", "suspended"]), min_size=n, max_size=n)
    )
    if distinct_times:
        days = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True))
    else:
        days = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    labels = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n, unique=True))
    return pd.DataFrame(
        {
            "opportunity_id": deals,
            "state": states,
            "entered_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"),
        },
        index=labels,
    )


LIFECYCLES = st.sampled_from(
    [
        Lifecycle(),
        Lifecycle(
            transitions=[*sorted(LEGAL), ("lost", "open"), ("open", "open")],
            initial=["open", "suspended"],
        ),
    ]
)


class TestCheckHistoryProperties:
    @given(histories(), LIFECYCLES)
    def test_flags_exactly_the_reference_rows(self, history: pd.DataFrame, lc: Lifecycle) -> None:
        out = check_history(history, lc)
        assert out.index.tolist() == _reference(history, lc)

    @given(histories(distinct_times=True), st.integers(0, 10**6))
    def test_row_order_changes_nothing(self, history: pd.DataFrame, seed: int) -> None:
        a = check_history(history)
        b = check_history(shuffled(history, seed))
        pd.testing.assert_frame_equal(a, b)
        pd.testing.assert_frame_equal(
            current_states(history), current_states(shuffled(history, seed))
        )

    @given(histories())
    def test_current_state_is_last_row(self, history: pd.DataFrame) -> None:
        out = current_states(history)
        ordered = history.assign(pos=np.arange(len(history))).sort_values(
            ["opportunity_id", "entered_at", "pos"]
        )
        last = ordered.groupby("opportunity_id").tail(1).set_index("opportunity_id")
        assert out.index.tolist() == sorted(set(history["opportunity_id"]))
        assert out["state"].tolist() == last["state"].tolist()
        assert out["final"].tolist() == [s in ("terminated", "won", "lost") for s in last["state"]]


def test_current_states_example() -> None:
    history = _history(
        [(2, "open", "2024-01-05"), (1, "open", "2024-01-01"), (1, "suspended", "2024-02-01")]
    )
    out = call_unmutated(current_states, history)
    expected = pd.DataFrame(
        {
            "state": pd.array(["suspended", "open"], dtype="str"),
            "since": pd.to_datetime(["2024-02-01", "2024-01-05"]),
            "final": [False, False],
        },
        index=pd.Index([1, 2], name="opportunity_id"),
    )
    pd.testing.assert_frame_equal(out, expected)


GOOD = _history([(1, "open", "2024-01-01"), (1, "won", "2024-01-02")])


@pytest.mark.parametrize(
    ("history", "kwargs", "exc", "match"),
    [
        (
            GOOD.assign(state=["open", "closed"]),
            {},
            DataError,
            (
                r"column 'state' of history has unknown state 'closed' at row 1 "
                r"\(opportunity_id=1\); the lifecycle knows"
            ),
        ),
        (
            GOOD.assign(state=["open", None]),
            {},
            DataError,
            r"column 'state' of history has a missing value at row 1",
        ),
        (
            GOOD.assign(opportunity_id=[1, None]),
            {},
            DataError,
            r"'opportunity_id' of history has a missing value",
        ),
        (
            GOOD.assign(entered_at=["2024-01-01", "later"]),
            {},
            ColumnTypeError,
            r"'entered_at' of history has value 'later'",
        ),
        (
            GOOD.assign(entered_at=[pd.NaT, pd.Timestamp("2024-01-01")]),
            {},
            DataError,
            r"missing date \(NaT\) at row 0",
        ),
        (GOOD.drop(columns="state"), {}, SchemaError, r"history is missing column\(s\) 'state'"),
        (GOOD, {"errors": "ignore"}, ConfigError, r"errors='ignore' is not one of"),
        (GOOD, {"lifecycle": "default"}, ConfigError, r"lifecycle must be a Lifecycle"),
        ([1, 2], {}, TypeError, r"history must be a pandas DataFrame"),
    ],
)
def test_check_history_bad_input(
    history: pd.DataFrame, kwargs: dict[str, object], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        check_history(history, **kwargs)  # type: ignore[arg-type]
    if not kwargs:
        with pytest.raises(exc, match=match):
            current_states(history)
