"""The catalogue's vocabulary: column kinds, call specs, cases, expectations, outcome classes."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Args = tuple[tuple[Any, ...], dict[str, Any]]
#: where an input lives in a call: a position in ``args`` or a keyword
Key = int | str


class Kind(enum.Enum):
    """What a column (or a scalar argument) holds, which decides the bad inputs it gets."""

    #: an id the function groups or joins by (customer, person, deal in a history)
    ID = "id"
    #: an id that must be unique per row (a deal in a snapshot, a customer in a summary)
    KEY = "key"
    #: money as a decimal amount (float)
    AMOUNT = "amount"
    #: money in int64 minor units
    MINOR = "minor"
    #: any other number (weight, score, frequency, share)
    MEASURE = "measure"
    #: a date
    DATE = "date"
    #: a text category (stage, status, kind, grade, segment)
    LABEL = "label"
    # scalar arguments only ----------------------------------------------------------------
    #: a whole number: a size, a draw count, a number of periods or bins
    COUNT = "count"
    #: a money total in minor units (quota.apportion's total)
    TOTAL = "total"
    #: a real number: a rate, a penalty, a horizon in periods
    REAL = "real"
    #: a date argument (as_of, period bounds)
    WHEN = "when"
    #: a list of real numbers (a config's probabilities, durations, weights)
    REALS = "reals"


NUMERIC = frozenset({Kind.AMOUNT, Kind.MINOR, Kind.MEASURE})
IDS = frozenset({Kind.ID, Kind.KEY})


class Expect(enum.Enum):
    """What a case promises about its outcome."""

    #: a ``crmcore.errors`` error (a result is silently wrong)
    REJECT = "reject"
    #: the same result as the valid call (an error is a wrongly refused valid input)
    SAME = "same"
    #: the same result as the valid call, or a ``crmcore.errors`` error
    SAME_OR_ERROR = "same_or_error"
    #: the same numbers as the valid call (labels and dates may move), or an error
    SAME_NUMBERS = "same_numbers"
    #: a result that satisfies the function's invariants, or an error
    ANY = "any"
    #: a result that satisfies the function's invariants (an error is a wrongly refused valid
    #: input): the input is valid as the function reads it, though not the same as the valid call
    VALID = "valid"


class Outcome(enum.Enum):
    """The class of one case's outcome. The last five fail the catalogue test."""

    EXACT = "exact error"
    VAGUE = "vague error"
    OK = "valid result"
    FOREIGN = "foreign exception"
    WRONG = "silently wrong"
    REFUSED = "valid input refused"
    HANG = "hang"
    MUTATION = "mutation"


FAILING = frozenset(
    {Outcome.FOREIGN, Outcome.WRONG, Outcome.REFUSED, Outcome.HANG, Outcome.MUTATION}
)


@dataclass(frozen=True)
class Spec:
    """How to call one public callable validly and what its results promise.

    ``build`` returns a small valid call ``(args, kwargs)``; ``frames`` gives, for each frame
    or Series argument, the kind of each of its columns (a Series argument has one "column",
    named ``None``); ``scalars`` the kind of each scalar keyword worth perturbing;
    ``check(args, kwargs, result)`` asserts the invariants of a result.
    """

    name: str
    func: Callable[..., Any]
    build: Callable[[], Args]
    frames: dict[Key, dict[str | None, Kind]] = field(default_factory=dict)
    scalars: dict[Key, Kind] = field(default_factory=dict)
    check: Callable[[tuple[Any, ...], dict[str, Any], Any], None] | None = None
    #: (key, column) pairs where a missing value is documented as allowed
    nulls_ok: frozenset[tuple[Key, str | None]] = frozenset()
    #: the result does not depend on row order
    order_independent: bool = True
    #: the result is indexed like the first input (row-labelling functions)
    keeps_index: bool = False
    #: the result's rows carry the input's row labels (a report, a subset of the rows)
    labels_rows: bool = False
    #: arguments whose value an error must not repeat (a secret key)
    no_echo: frozenset[Key] = frozenset()
    #: argument names as the user sees them, for error messages (default: parameter names)
    arg_names: dict[Key, str] = field(default_factory=dict)
    #: per-case expectations that differ from the catalogue's rule, with the reason:
    #: ``{"family:key:column": (Expect, "why")}`` (``*`` matches any key or column)
    overrides: dict[str, tuple[Expect, str]] = field(default_factory=dict)
    #: cheap enough to run every case in the default run (else only a sample runs there)
    fast: bool = True
    #: dates in this call may move by whole 400-year cycles (all its date inputs are listed)
    shift_dates: bool = True
    #: the public callable the spec exercises when ``func`` is an adapter (the command line)
    covers: Callable[..., Any] | None = None
    #: rows are named by position (a file's rows), not by the index label
    positional_labels: bool = False
    #: relative tolerance of "same result" comparisons (fits converge to ~1e-7)
    rtol: float = 1e-9
    #: result columns documented to hold inf for some valid inputs (coverage with nothing left)
    inf_ok: frozenset[str] = frozenset()
    #: compare frames with columns sorted (the column order documented to follow row order)
    sort_columns: bool = False


@dataclass(frozen=True)
class Case:
    """One bad or extreme input for one spec."""

    spec: str
    family: str
    key: Key | None
    column: str | None
    expect: Expect
    #: part of the default run (the rest runs with ``-m slow``)
    default: bool = True

    @property
    def id(self) -> str:
        """A stable, readable identifier: ``spec/family/key/column``."""
        return f"{self.spec}/{self.family}/{self.key}/{self.column}"


@dataclass(frozen=True)
class Result:
    """The outcome of one case, with the detail a reader needs to reproduce it."""

    case: str
    outcome: Outcome
    detail: str = ""
    seconds: float = 0.0
