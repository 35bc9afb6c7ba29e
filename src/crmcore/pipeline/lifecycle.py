"""Opportunity lifecycle: legal moves between open, suspended, terminated, won and lost.

The default lifecycle:

============  ===========================================  =====
from          allowed targets                              final
============  ===========================================  =====
open          suspended, terminated, won, lost             no
suspended     open (reactivate), terminated                no
terminated    —                                            yes
won           —                                            yes
lost          —                                            yes
============  ===========================================  =====

A deal starts ``open``. Staying in a state (``open -> open``) is not a transition and is
illegal unless the lifecycle lists it. :class:`Lifecycle` holds a different table when a
business needs one (e.g. allowing lost deals to be reopened).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._config import check_config_keys
from crmcore._frames import (
    check_choice,
    describe_row,
    refuse_first,
    require_columns,
    require_not_null,
    show,
)
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.errors import ConfigError, DataError, IllegalTransitionError
from crmcore.pipeline._dates import date_column
from crmcore.pipeline._deals import check_id_types

__all__ = ["Lifecycle", "apply_transition", "check_history", "current_states"]

_STATES = ("open", "suspended", "terminated", "won", "lost")
_TRANSITIONS = {
    "open": ("suspended", "terminated", "won", "lost"),
    "suspended": ("open", "terminated"),
}
_EVENTS = {
    "lose": "lost",
    "reactivate": "open",
    "suspend": "suspended",
    "terminate": "terminated",
    "win": "won",
}


def _names(value: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ConfigError(f"expected a sequence of state names, got the string {value!r}")
    if not isinstance(value, Iterable):
        raise ConfigError(f"expected a sequence of state names, got {value!r}", value=value)
    return _text(tuple(value))


def _text(names: tuple[Any, ...]) -> tuple[Any, ...]:
    """Return ``names`` after checking that each is text (lists would fail later unhashable)."""
    for name in names:
        if not isinstance(name, str):
            raise ConfigError(f"state and event names must be text, got {name!r}", value=name)
    return names


def _pairs(
    value: Mapping[str, Iterable[str]] | Iterable[tuple[str, str]],
) -> tuple[tuple[Any, Any], ...]:
    """Transitions as a set of (from, to) pairs, from a mapping or an iterable of pairs."""
    if not isinstance(value, Iterable):
        raise ConfigError(
            f"transitions must be a mapping or (from, to) pairs, got {value!r}", value=value
        )
    if isinstance(value, Mapping):
        out: list[tuple[Any, Any]] = []
        for src, targets in value.items():
            if isinstance(targets, str) or not isinstance(targets, Iterable):
                raise ConfigError(
                    f"targets of state {src!r} must be a sequence of names, got {targets!r}"
                )
            out.extend((src, dst) for dst in targets)
        return tuple(dict.fromkeys(_text(p) for p in out))
    pairs: list[tuple[Any, Any]] = []
    for item in value:
        if isinstance(item, str) or not isinstance(item, Iterable) or len(tuple(item)) != 2:
            raise ConfigError(f"a transition must be a (from, to) pair, got {item!r}")
        pair = _text(tuple(item))
        pairs.append((pair[0], pair[1]))
    return tuple(dict.fromkeys(pairs))


def _events(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Iterable):
        raise ConfigError(f"events must be a mapping or (event, state) pairs, got {value!r}")
    raw = list(value.items()) if isinstance(value, Mapping) else list(value)
    if any(isinstance(p, str) or not isinstance(p, Iterable) for p in raw):
        raise ConfigError(f"events must be a mapping or (event, state) pairs, got {value!r}")
    items = [tuple(p) for p in raw]
    for item in items:
        if len(item) != 2:
            raise ConfigError(f"an event must be an (event, target state) pair, got {item!r}")
        _text(item)
    return tuple(sorted((str(k), v) for k, v in items))


@attrs.frozen(kw_only=True)
class Lifecycle:
    """The states a deal can be in and the legal moves between them.

    Parameters
    ----------
    states
        State names, unique non-empty text. Default ``open, suspended, terminated, won, lost``.
    transitions
        Legal moves: a mapping ``{from: [to, ...]}`` or an iterable of ``(from, to)`` pairs,
        stored as ``(from, to)`` pairs in state order; states without outgoing moves are
        *final*. Default: open → suspended / terminated / won
        / lost, suspended → open / terminated.
    initial
        States a deal may start in (default ``("open",)``).
    events
        Optional names for moves, ``{event: target state}``, accepted by
        :func:`apply_transition` in place of the target. Default ``suspend``, ``reactivate``,
        ``terminate``, ``win``, ``lose``. Event names may not be state names.

    Raises
    ------
    ConfigError
        Repeated or empty names, a transition, initial state or event naming an unknown state,
        or an event named like a state.

    Examples
    --------
    >>> from crmcore.pipeline import Lifecycle
    >>> lc = Lifecycle()
    >>> lc.allowed("suspended"), lc.final_states
    (('open', 'terminated'), ('terminated', 'won', 'lost'))
    >>> reopen = Lifecycle(transitions={**lc.to_dict()["transitions"], "lost": ["open"]})
    >>> reopen.allowed("lost")
    ('open',)
    >>> Lifecycle(transitions=[("open", "won"), ("open", "lost"), ("open", "won")]).transitions
    (('open', 'won'), ('open', 'lost'))
    >>> Lifecycle.from_dict(reopen.to_dict()) == reopen
    True
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    states: tuple[str, ...] = attrs.field(default=_STATES, converter=_names)
    transitions: tuple[tuple[str, str], ...] = attrs.field(default=_TRANSITIONS, converter=_pairs)
    initial: tuple[str, ...] = attrs.field(default=("open",), converter=_names)
    events: tuple[tuple[str, str], ...] = attrs.field(default=_EVENTS, converter=_events)

    def __attrs_post_init__(self) -> None:
        if not self.states:
            raise ConfigError("states is empty; a lifecycle needs at least one state")
        seen: set[str] = set()
        for name in self.states:
            if not isinstance(name, str) or not name:
                raise ConfigError(f"state names must be non-empty text, got {name!r}", value=name)
            if name in seen:
                raise ConfigError(f"state {name!r} appears twice; names must be unique", value=name)
            seen.add(name)
        for src, dst in self.transitions:
            for name in (src, dst):
                if name not in seen:
                    raise ConfigError(
                        f"transition {src!r} -> {dst!r} names unknown state {name!r}; states "
                        f"are {', '.join(map(repr, self.states))}",
                        column="transitions",
                        value=name,
                    )
        # Canonical order (by state position), so equal tables compare and print equal.
        rank = {name: i for i, name in enumerate(self.states)}
        canonical = tuple(sorted(self.transitions, key=lambda p: (rank[p[0]], rank[p[1]])))
        object.__setattr__(self, "transitions", canonical)
        if not self.initial:
            raise ConfigError("initial is empty; name at least one state a deal may start in")
        for name in self.initial:
            if name not in seen:
                raise ConfigError(
                    f"initial state {name!r} is not one of {', '.join(map(repr, self.states))}",
                    column="initial",
                    value=name,
                )
        names = [e for e, _ in self.events]
        for event, target in self.events:
            if not event:
                raise ConfigError("event names must be non-empty text", column="events")
            if names.count(event) > 1:
                raise ConfigError(f"event {event!r} appears twice", column="events", value=event)
            if event in seen:
                raise ConfigError(
                    f"event {event!r} has the name of a state; event names must differ from "
                    "state names",
                    column="events",
                    value=event,
                )
            if target not in seen:
                raise ConfigError(
                    f"event {event!r} targets unknown state {target!r}",
                    column="events",
                    value=target,
                )

    def allowed(self, state: str) -> tuple[str, ...]:
        """States reachable from ``state`` in one move, in ``states`` order.

        Raises
        ------
        DataError
            ``state`` is not a state of this lifecycle.

        Examples
        --------
        >>> from crmcore.pipeline import Lifecycle
        >>> Lifecycle().allowed("open")
        ('suspended', 'terminated', 'won', 'lost')
        """
        self._check(state)
        return tuple(s for s in self.states if (state, s) in self.transitions)

    @property
    def final_states(self) -> tuple[str, ...]:
        """States no move leaves, in ``states`` order.

        Examples
        --------
        >>> from crmcore.pipeline import Lifecycle
        >>> Lifecycle().final_states
        ('terminated', 'won', 'lost')
        """
        sources = {src for src, _ in self.transitions}
        return tuple(s for s in self.states if s not in sources)

    def matrix(self) -> npt.NDArray[np.bool_]:
        """Boolean legality matrix: ``m[i, j]`` is True when ``states[i] -> states[j]`` is legal.

        Examples
        --------
        >>> from crmcore.pipeline import Lifecycle
        >>> Lifecycle(states=["a", "b"], transitions={"a": ["b"]}, initial=["a"],
        ...           events={}).matrix()
        array([[False,  True],
               [False, False]])
        """
        pos = {s: i for i, s in enumerate(self.states)}
        out = np.zeros((len(self.states), len(self.states)), dtype=bool)
        for src, dst in self.transitions:
            out[pos[src], pos[dst]] = True
        return out

    def _check(self, state: object) -> str:
        if not isinstance(state, str) or state not in self.states:
            raise DataError(
                f"unknown state {show(state)}; the lifecycle knows "
                f"{', '.join(map(repr, self.states))}",
                value=state,
            )
        return state

    def _reason(self, src: str) -> str:
        allowed = self.allowed(src)
        if not allowed:
            return f"{src!r} is final; no move leaves it"
        return f"from {src!r} a deal may only move to " + ", ".join(map(repr, allowed))

    def _start_reason(self) -> str:
        return "a deal must start in " + " or ".join(map(repr, self.initial))

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (lists, dicts, text) that :meth:`from_dict` reads back.

        Examples
        --------
        >>> from crmcore.pipeline import Lifecycle
        >>> Lifecycle().to_dict()["transitions"]
        {'open': ['suspended', 'terminated', 'won', 'lost'], 'suspended': ['open', 'terminated']}
        """
        return {
            "states": list(self.states),
            "transitions": {
                s: list(self.allowed(s)) for s in self.states if s not in self.final_states
            },
            "initial": list(self.initial),
            "events": dict(self.events),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lifecycle:
        """Rebuild a lifecycle from :meth:`to_dict` output; unknown keys are an error.

        Examples
        --------
        >>> from crmcore.pipeline import Lifecycle
        >>> Lifecycle.from_dict({"states": ["a", "b"], "transitions": {"a": ["b"]},
        ...                      "initial": ["a"], "events": {}}).final_states
        ('b',)
        """
        return cls(**check_config_keys(cls, data, required=()))


_DEFAULT = Lifecycle()


def apply_transition(state: str, target: str, lifecycle: Lifecycle | None = None) -> str:
    """Move a deal from ``state`` to ``target`` (a state or an event name); return the new state.

    Parameters
    ----------
    state
        The current state.
    target
        The state to move to, or an event of the lifecycle (``"suspend"``, ``"reactivate"``,
        ``"terminate"``, ``"win"``, ``"lose"`` by default).
    lifecycle
        The legal moves; default :class:`Lifecycle` ().

    Returns
    -------
    str
        The new state.

    Raises
    ------
    IllegalTransitionError
        The move is not allowed; the message names both states and the allowed targets.
    DataError
        ``state`` or ``target`` is not a known state (or event).

    Examples
    --------
    >>> from crmcore.pipeline import apply_transition
    >>> apply_transition("open", "suspend")
    'suspended'
    >>> apply_transition("suspended", "open")
    'open'
    >>> apply_transition("won", "open")
    Traceback (most recent call last):
    ...
    crmcore.errors.IllegalTransitionError: illegal transition 'won' -> 'open': 'won' is final; ...
    """
    lc = _DEFAULT if lifecycle is None else lifecycle
    if not isinstance(lc, Lifecycle):
        raise ConfigError(f"lifecycle must be a Lifecycle, got {type(lc).__name__}")
    lc._check(state)
    events = dict(lc.events)
    if isinstance(target, str) and target in lc.states:
        dst, via = target, ""
    elif isinstance(target, str) and target in events:
        dst, via = events[target], f" (event {target!r})"
    else:
        raise DataError(
            f"unknown target {show(target)}; expected a state "
            f"({', '.join(map(repr, lc.states))}) or an event "
            f"({', '.join(map(repr, events)) or 'none defined'})",
            value=target,
        )
    if (state, dst) not in lc.transitions:
        raise IllegalTransitionError(
            f"illegal transition {state!r} -> {dst!r}{via}: {lc._reason(state)}",
            value=(state, dst),
        )
    return dst


def _coded(
    history: pd.DataFrame,
    lc: Lifecycle,
    *,
    opportunity: str,
    state: str,
    at: str,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], pd.Series]:
    """Validate a history and return (order, state codes, times); order sorts by deal, time, row."""
    history = require_columns(history, [opportunity, state, at], arg="history", allow_empty=True)
    require_not_null(history, opportunity, arg="history")
    check_id_types(history, opportunity)
    require_not_null(history, state, arg="history", key=opportunity)
    codes = pd.Index(lc.states).get_indexer(pd.Index(history[state])).astype(np.int64)
    refuse_first(history, codes < 0, state, arg="history", problem="unknown state",
                 then=f"; the lifecycle knows {', '.join(map(repr, lc.states))}",
                 key=opportunity)  # fmt: skip
    if len(history):
        times = date_column(history, at, arg="history", key=opportunity)
        t_code = pd.factorize(times, sort=True)[0]
        d_code = pd.factorize(history[opportunity], sort=True)[0]
    else:
        times = pd.Series(pd.to_datetime([]), index=history.index)
        t_code = d_code = np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(len(history)), t_code, d_code)).astype(np.int64)
    return order, codes, times


def check_history(
    history: pd.DataFrame,
    lifecycle: Lifecycle | None = None,
    *,
    opportunity: str = "opportunity_id",
    state: str = "state",
    at: str = "entered_at",
    errors: Literal["report", "raise"] = "report",
) -> pd.DataFrame:
    """Find every illegal row of a lifecycle history, without a loop over rows.

    Each row records that a deal entered ``state`` at time ``at``. Rows are ordered by deal,
    then time; rows of one deal with equal times keep their order in the table. A deal's first
    row is illegal unless its state is an initial state; every later row is illegal unless the
    move from the previous row's state is a legal transition. Each row is judged against the
    row just before it, so one bad row does not make the rest of the deal's rows illegal.

    Parameters
    ----------
    history
        One row per state change: ``opportunity``, ``state``, ``at``. May be empty.
    lifecycle
        The legal moves; default :class:`Lifecycle` ().
    opportunity, state, at
        Column names.
    errors
        ``"report"`` (default) returns the illegal rows; ``"raise"`` raises
        :class:`~crmcore.errors.IllegalTransitionError` for the first one (by deal, then time).

    Returns
    -------
    pandas.DataFrame
        The illegal rows, indexed by their ``history`` labels and ordered by deal then time,
        with columns ``opportunity``, ``at`` (named as in ``history``), ``from_state`` (the
        previous state; missing for a deal's first row), ``to_state`` and ``reason``. Empty
        (same columns) when the history is legal.

    Raises
    ------
    SchemaError
        A column is missing.
    DataError
        Missing ids or states, a state the lifecycle does not know (naming the row), bad dates.
    IllegalTransitionError
        With ``errors="raise"``, the first illegal row.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import check_history
    >>> history = pd.DataFrame({
    ...     "opportunity_id": [1, 1, 1, 2, 2],
    ...     "state": ["open", "won", "open", "open", "suspended"],
    ...     "entered_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01",
    ...                                   "2024-01-05", "2024-01-09"])})
    >>> check_history(history)[["opportunity_id", "from_state", "to_state"]]
       opportunity_id from_state to_state
    2               1        won     open
    """
    lc = _DEFAULT if lifecycle is None else lifecycle
    if not isinstance(lc, Lifecycle):
        raise ConfigError(f"lifecycle must be a Lifecycle, got {type(lc).__name__}")
    check_choice(errors, "errors", ("report", "raise"))
    order, codes, times = _coded(history, lc, opportunity=opportunity, state=state, at=at)
    deals = history[opportunity].to_numpy()
    d_sorted = pd.factorize(deals[order])[0] if len(order) else np.zeros(0, dtype=np.int64)
    s_sorted = codes[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = d_sorted[1:] != d_sorted[:-1]
    prev = np.empty(order.size, dtype=np.int64)
    prev[0:1] = -1
    prev[1:] = s_sorted[:-1]
    prev[first] = -1
    k = len(lc.states)
    # Legality and reason lookup tables, row 0 = "no previous state" (a deal's first row).
    legal_table = np.zeros((k + 1, k), dtype=bool)
    legal_table[1:, :] = lc.matrix()
    legal_table[0, :] = np.isin(np.array(lc.states, dtype=object), list(lc.initial))
    reasons = np.empty((k + 1, k), dtype=object)
    reasons[0, :] = lc._start_reason()
    for i, src in enumerate(lc.states):
        reasons[i + 1, :] = lc._reason(src)
    legal = legal_table[prev + 1, s_sorted]
    bad = np.flatnonzero(~legal)
    rows = order[bad]
    names = np.array(lc.states, dtype=object)
    from_codes = prev[bad]
    from_state = names[np.maximum(from_codes, 0)]
    from_state[from_codes < 0] = None
    to_state = names[s_sorted[bad]]
    reason = reasons[from_codes + 1, s_sorted[bad]]
    if errors == "raise" and rows.size:
        r = int(rows[0])
        src = from_state[0]
        move = f"{src!r} -> {to_state[0]!r}" if src is not None else f"start in {to_state[0]!r}"
        raise IllegalTransitionError(
            f"history {describe_row(history, r, opportunity)} at {times.iloc[r]}: illegal "
            f"{move}: {reason[0]}",
            column=state,
            row=history.index[r],
            value=(src, to_state[0]),
        )
    return pd.DataFrame(
        {
            opportunity: history[opportunity].to_numpy()[rows],
            at: times.iloc[rows].array,
            "from_state": pd.array(from_state, dtype="str"),
            "to_state": pd.array(to_state, dtype="str"),
            "reason": pd.array(reason, dtype="str"),
        },
        index=history.index[rows],
    )


def current_states(
    history: pd.DataFrame,
    lifecycle: Lifecycle | None = None,
    *,
    opportunity: str = "opportunity_id",
    state: str = "state",
    at: str = "entered_at",
) -> pd.DataFrame:
    """Latest state of each deal in a lifecycle history (legality is not checked here).

    Rows are ordered by deal and time as in :func:`check_history`; the last row of each deal
    (the last in table order among equal times) gives its state.

    Parameters
    ----------
    history
        One row per state change: ``opportunity``, ``state``, ``at``. May be empty (the
        result is then empty).
    lifecycle
        Supplies the known states and the final ones; default :class:`Lifecycle` ().
    opportunity, state, at
        Column names.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``opportunity`` and sorted, with columns ``state``, ``since`` (when it was
        entered) and ``final`` (True when no move leaves that state).

    Raises
    ------
    SchemaError
        A column is missing.
    DataError
        Missing ids or states, unknown states (naming the row), bad dates.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import current_states
    >>> history = pd.DataFrame({
    ...     "opportunity_id": [2, 1, 1],
    ...     "state": ["open", "open", "won"],
    ...     "entered_at": pd.to_datetime(["2024-01-05", "2024-01-01", "2024-02-01"])})
    >>> current_states(history)
                   state      since  final
    opportunity_id
    1                won 2024-02-01   True
    2               open 2024-01-05  False
    """
    lc = _DEFAULT if lifecycle is None else lifecycle
    if not isinstance(lc, Lifecycle):
        raise ConfigError(f"lifecycle must be a Lifecycle, got {type(lc).__name__}")
    order, codes, times = _coded(history, lc, opportunity=opportunity, state=state, at=at)
    deals = history[opportunity].to_numpy()[order]
    last = np.ones(order.size, dtype=bool)
    if order.size:
        d_sorted = pd.factorize(deals)[0]
        last[:-1] = d_sorted[1:] != d_sorted[:-1]
    rows = order[last]
    names = np.array(lc.states, dtype=object)
    final = np.isin(names, np.array(lc.final_states, dtype=object))
    picked = codes[rows]
    return pd.DataFrame(
        {
            "state": pd.array(names[picked], dtype="str"),
            "since": times.iloc[rows].array,
            "final": final[picked],
        },
        index=pd.Index(history[opportunity].to_numpy()[rows], name=opportunity),
    )
