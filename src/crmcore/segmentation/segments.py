"""Named customer segments from RFM scores: validated segment maps and the built-in maps.

A :class:`SegmentMap` is an ordered list of :class:`SegmentRule` objects. Each rule names a
segment and the recency, frequency and monetary scores it accepts (a set of scores per metric,
or ``None`` for "any score"). Rules are applied with **explicit precedence: the first rule that
matches a score combination wins.** When a map is built it is checked over the full grid of
``bins ** 3`` combinations: a combination no rule matches (a gap), a segment that no
combination reaches after precedence, and a rule that never wins are all a
:class:`~crmcore.errors.ConfigError` naming the first few offending combinations or rules. With
``overlap="error"`` the rules must instead be disjoint, and any combination matched by two rules
is an error too.

Two built-in maps are provided as frozen module constants:

:data:`SEGMENTS_11`
    The common 11-segment R/F/M map, with the score ranges tabulated in the vignette of the R
    package ``rfm`` (A. Hebbali, "RFM Analysis", https://cran.r-project.org/package=rfm), which
    adapts Putler's RFM segment list (https://www.putler.com/rfm-analysis/). The published
    table overlaps (New Customers inside Potential Loyalist, Can't Lose Them inside At Risk,
    Hibernating identical to Lost) and leaves 36 of 125 combinations uncovered; crmcore orders
    the rules, narrows Lost to R1 and fills the gaps by R and F alone (see the comment on
    :data:`SEGMENTS_11` in the source and ``docs/segmentation-classes.md``).
:data:`RF_GRID_10`
    The common 10-region recency x frequency grid (the ``seg_map`` of regular expressions on the
    two-digit RF score found in many Python RFM tutorials); disjoint, monetary score ignored.

Examples
--------
>>> from crmcore.segmentation import SEGMENTS_11, RF_GRID_10
>>> SEGMENTS_11.segment_of(4, 1, 1), RF_GRID_10.segment_of(4, 1, 5)
('Promising', 'Promising')
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from numbers import Integral
from typing import Any, Literal, cast

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._config import check_config_keys
from crmcore._dask import is_dask
from crmcore._frames import (
    check_choice,
    check_scalar,
    checked_totals,
    numeric_column,
    refuse_first,
    require_columns,
    require_not_null,
    shares,
    show,
)
from crmcore._memory import normal_pages
from crmcore._repr import attrs_repr, attrs_repr_html
from crmcore.errors import ConfigError, SchemaError

__all__ = [
    "RF_GRID_10",
    "SEGMENTS_11",
    "SegmentMap",
    "SegmentRule",
    "rfm_segments",
    "segment_summary",
]

ScoreSpec = int | Iterable[int] | None
_MAX_BINS = 20
_SHOW = 5  # how many offending combinations an error message lists


def _as_scores(value: ScoreSpec) -> tuple[int, ...] | None:
    """Normalise one metric's allowed scores to a sorted tuple of ints (``None`` = any)."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        raise ConfigError(f"scores must be integers, got {value!r}", value=value)
    if not isinstance(value, Integral | Iterable):
        raise ConfigError(f"scores must be integers >= 1, got {show(value)}", value=value)
    items: list[Any] = (
        [value] if isinstance(value, Integral) else list(cast("Iterable[Any]", value))
    )
    if not items:
        raise ConfigError("a rule lists no scores for a metric; use None to accept any score")
    out: set[int] = set()
    for item in items:
        if isinstance(item, bool | np.bool_) or not isinstance(item, Integral):
            raise ConfigError(
                f"scores must be integers >= 1, got {show(item)} in {value!r}", value=item
            )
        if int(item) < 1:
            raise ConfigError(f"scores must be integers >= 1, got {show(item)}", value=item)
        out.add(int(item))
    return tuple(sorted(out))


def _span(low: int, high: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1))


def _describe_scores(scores: tuple[int, ...] | None) -> str:
    if scores is None:
        return "any"
    if len(scores) > 1 and scores == _span(scores[0], scores[-1]):
        return f"{scores[0]}-{scores[-1]}"
    return ",".join(str(s) for s in scores)


@attrs.frozen(kw_only=True)
class SegmentRule:
    """One rule of a segment map: a segment name and the scores it accepts.

    Parameters
    ----------
    segment
        Segment name (non-empty text). Several rules may name the same segment.
    r, f, m
        Accepted recency, frequency and monetary scores: an int, an iterable of ints (e.g.
        ``range(2, 6)`` for 2..5) or ``None`` for any score. Stored as sorted tuples.

    Raises
    ------
    ConfigError
        Empty name, an empty score list, or a score that is not an integer >= 1.

    Examples
    --------
    >>> from crmcore.segmentation import SegmentRule
    >>> rule = SegmentRule(segment="Champions", r=range(4, 6), f=[5, 4], m=None)
    >>> rule.r, rule.f, rule.m
    ((4, 5), (4, 5), None)
    >>> rule.matches(5, 4, 1), rule.matches(3, 5, 5)
    (True, False)
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    segment: str
    r: tuple[int, ...] | None = attrs.field(default=None, converter=_as_scores)
    f: tuple[int, ...] | None = attrs.field(default=None, converter=_as_scores)
    m: tuple[int, ...] | None = attrs.field(default=None, converter=_as_scores)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.segment, str) or not self.segment:
            raise ConfigError(
                f"segment must be non-empty text, got {self.segment!r}", value=self.segment
            )

    def matches(self, r: int, f: int, m: int) -> bool:
        """Whether this rule accepts the score combination ``(r, f, m)``.

        Examples
        --------
        >>> from crmcore.segmentation import SegmentRule
        >>> SegmentRule(segment="Lost", r=1).matches(1, 5, 5)
        True
        """
        return all(
            allowed is None or score in allowed
            for allowed, score in ((self.r, r), (self.f, f), (self.m, m))
        )

    def describe(self) -> str:
        """Short text form, e.g. ``"Champions: R 4-5, F 4-5, M any"``.

        Examples
        --------
        >>> from crmcore.segmentation import SegmentRule
        >>> SegmentRule(segment="Champions", r=[4, 5], f=[4, 5]).describe()
        'Champions: R 4-5, F 4-5, M any'
        """
        return (
            f"{self.segment}: R {_describe_scores(self.r)}, F {_describe_scores(self.f)}, "
            f"M {_describe_scores(self.m)}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (text, lists of ints or ``None``) that :meth:`from_dict` reads back.

        Examples
        --------
        >>> from crmcore.segmentation import SegmentRule
        >>> SegmentRule(segment="Lost", r=1, f=[1, 2]).to_dict()
        {'segment': 'Lost', 'r': [1], 'f': [1, 2], 'm': None}
        """
        return {
            "segment": self.segment,
            "r": None if self.r is None else list(self.r),
            "f": None if self.f is None else list(self.f),
            "m": None if self.m is None else list(self.m),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentRule:
        """Rebuild a rule from :meth:`to_dict` output; unknown keys are an error.

        Examples
        --------
        >>> from crmcore.segmentation import SegmentRule
        >>> SegmentRule.from_dict({"segment": "Lost", "r": [1]}).r
        (1,)
        """
        return cls(**check_config_keys(cls, data))


def _as_rules(value: Any) -> tuple[SegmentRule, ...]:
    if isinstance(value, str | Mapping) or not isinstance(value, Iterable):
        raise ConfigError("rules must be a sequence of SegmentRule objects or mappings")
    out = []
    for item in value:
        if isinstance(item, SegmentRule):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(SegmentRule.from_dict(item))
        else:
            raise ConfigError(
                f"each rule must be a SegmentRule or a mapping, got {type(item).__name__}",
                value=item,
            )
    return tuple(out)


def _as_segments(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise ConfigError("segments must be a sequence of segment names, not a single string")
    if not isinstance(value, Iterable):
        raise ConfigError(f"segments must be a sequence of segment names, got {value!r}")
    return tuple(value)


def _combo_text(codes: npt.NDArray[np.int64], bins: int) -> str:
    shown = [
        f"(r={c // (bins * bins) + 1}, f={c // bins % bins + 1}, m={c % bins + 1})"
        for c in codes[:_SHOW].tolist()
    ]
    more = f" and {len(codes) - _SHOW} more" if len(codes) > _SHOW else ""
    return ", ".join(shown) + more


@attrs.frozen(kw_only=True)
class SegmentMap:
    """An ordered list of segment rules covering every R/F/M score combination exactly once.

    Precedence is explicit: a combination belongs to the segment of the **first** rule that
    matches it (``overlap="first"``, the default). With ``overlap="error"`` the rules must be
    disjoint instead. Validation runs over all ``bins ** 3`` combinations when the map is built.

    Parameters
    ----------
    rules
        :class:`SegmentRule` objects (or mappings accepted by :meth:`SegmentRule.from_dict`),
        highest precedence first.
    bins
        Number of score levels per metric (scores run 1..bins), 2..20; default 5.
    segments
        Segment names in display order (the category order of ``rfm_segments`` output).
        Default: the order in which segments first appear in ``rules``. Must list exactly the
        segments the rules name.
    overlap
        ``"first"``: overlapping rules are resolved by precedence. ``"error"``: any combination
        matched by two rules is an error.

    Raises
    ------
    ConfigError
        No rules; a score above ``bins``; a combination matched by no rule (a gap); with
        ``overlap="error"``, a combination matched by several rules; a segment or a rule that
        no combination reaches after precedence; ``segments`` not matching the rules. Messages
        name the first few offending combinations.

    Examples
    --------
    >>> from crmcore.segmentation import SegmentMap, SegmentRule
    >>> small = SegmentMap(bins=2, rules=[
    ...     SegmentRule(segment="Best", r=2, f=2),
    ...     SegmentRule(segment="Rest"),
    ... ])
    >>> small.segment_of(2, 2, 1), small.segment_of(1, 2, 2)
    ('Best', 'Rest')
    >>> SegmentMap(bins=2, rules=[SegmentRule(segment="Best", r=2)])
    Traceback (most recent call last):
    ...
    crmcore.errors.ConfigError: segment map leaves 4 score combination(s) without a segment: \
(r=1, f=1, m=1), (r=1, f=1, m=2), (r=1, f=2, m=1), (r=1, f=2, m=2); add a rule covering them
    """

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

    rules: tuple[SegmentRule, ...] = attrs.field(converter=_as_rules)
    bins: int = 5
    segments: tuple[str, ...] = attrs.field(default=None, converter=_as_segments)
    overlap: Literal["first", "error"] = "first"
    _table: npt.NDArray[np.int64] = attrs.field(init=False, eq=False, repr=False, hash=False)
    _winner: npt.NDArray[np.int64] = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        check_scalar(self.bins, "bins", kind=int, min_value=2, max_value=_MAX_BINS)
        check_choice(self.overlap, "overlap", ("first", "error"))
        if not self.rules:
            raise ConfigError("rules is empty; a segment map needs at least one rule")
        names = list(dict.fromkeys(rule.segment for rule in self.rules))
        if cast("tuple[str, ...] | None", self.segments) is None:  # default: rule order
            object.__setattr__(self, "segments", tuple(names))
        else:
            dupes = [s for i, s in enumerate(self.segments) if s in self.segments[:i]]
            if dupes:
                raise ConfigError(f"segments lists {dupes[0]!r} twice", value=dupes[0])
            missing = [s for s in names if s not in self.segments]
            extra = [s for s in self.segments if s not in names]
            if missing or extra:
                raise ConfigError(
                    f"segments must list exactly the segments named by the rules; missing "
                    f"{missing}, not named by any rule {extra}",
                    value=(missing or extra)[0],
                )
        bins = self.bins
        for i, rule in enumerate(self.rules):
            for metric, allowed in (("r", rule.r), ("f", rule.f), ("m", rule.m)):
                if allowed is not None and allowed[-1] > bins:
                    raise ConfigError(
                        f"rule {i} ({rule.describe()}) uses {metric} score {allowed[-1]}, "
                        f"above bins={bins}",
                        column=metric,
                        value=allowed[-1],
                    )
        # Evaluate every rule on the whole grid: match[i, code] is True when rule i matches.
        code = np.arange(bins**3, dtype=np.int64)
        r, f, m = code // (bins * bins) + 1, code // bins % bins + 1, code % bins + 1
        match = np.ones((len(self.rules), bins**3), dtype=bool)
        for i, rule in enumerate(self.rules):
            for allowed, score in ((rule.r, r), (rule.f, f), (rule.m, m)):
                if allowed is not None:
                    match[i] &= np.isin(score, allowed)
        hits = match.sum(axis=0)
        gaps = np.flatnonzero(hits == 0)
        if len(gaps):
            raise ConfigError(
                f"segment map leaves {len(gaps)} score combination(s) without a segment: "
                f"{_combo_text(gaps, bins)}; add a rule covering them",
                value=_combo_text(gaps[:1], bins),
            )
        if self.overlap == "error":
            both = np.flatnonzero(hits > 1)
            if len(both):
                first = int(both[0])
                which = [self.rules[i].segment for i in np.flatnonzero(match[:, first])]
                raise ConfigError(
                    f"overlap='error' but {len(both)} score combination(s) match several "
                    f"rules: {_combo_text(both, bins)}; the first is matched by {which}",
                    value=_combo_text(both[:1], bins),
                )
        winner = match.argmax(axis=0).astype(np.int64)
        dead = [i for i in range(len(self.rules)) if not (winner == i).any()]
        seg_code = {name: k for k, name in enumerate(self.segments)}
        table = np.array([seg_code[self.rules[i].segment] for i in winner], dtype=np.int64)
        unreachable = [s for k, s in enumerate(self.segments) if not (table == k).any()]
        if unreachable:
            raise ConfigError(
                f"segment(s) {unreachable} are never reached: earlier rules take every score "
                "combination they match; reorder or narrow the rules",
                value=unreachable[0],
            )
        if dead:
            shown = "; ".join(f"rule {i} ({self.rules[i].describe()})" for i in dead[:_SHOW])
            raise ConfigError(
                f"{len(dead)} rule(s) never apply because earlier rules take every combination "
                f"they match: {shown}; remove or reorder them",
                value=dead[0],
            )
        table.flags.writeable = False
        winner.flags.writeable = False
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_winner", winner)

    @property
    def lookup(self) -> npt.NDArray[np.int64]:
        """Read-only array of segment codes (positions in :attr:`segments`) per combination.

        The combination ``(r, f, m)`` sits at position ``(r-1)*bins**2 + (f-1)*bins + (m-1)``.

        Examples
        --------
        >>> from crmcore.segmentation import SEGMENTS_11
        >>> SEGMENTS_11.segments[SEGMENTS_11.lookup[124]]
        'Champions'
        """
        view = self._table.view()
        view.flags.writeable = False  # also after unpickling, which drops the flag
        return view

    def segment_of(self, r: int, f: int, m: int) -> str:
        """Segment of one score combination.

        Raises
        ------
        ConfigError
            A score is not an integer in 1..bins.

        Examples
        --------
        >>> from crmcore.segmentation import SEGMENTS_11
        >>> SEGMENTS_11.segment_of(5, 5, 5), SEGMENTS_11.segment_of(1, 1, 1)
        ('Champions', 'Lost')
        """
        for name, score in (("r", r), ("f", f), ("m", m)):
            check_scalar(score, name, kind=int, min_value=1, max_value=self.bins)
        b = self.bins
        return self.segments[int(self._table[(int(r) - 1) * b * b + (int(f) - 1) * b + int(m) - 1])]

    def to_frame(self) -> pd.DataFrame:
        """List every score combination with its segment and the rule that decided it.

        Returns
        -------
        DataFrame
            ``bins ** 3`` rows ordered by r, f, m, with columns ``r_score``, ``f_score``,
            ``m_score`` (int64), ``rule`` (position of the winning rule, int64) and
            ``segment`` (categorical in :attr:`segments` order).

        Examples
        --------
        >>> from crmcore.segmentation import SEGMENTS_11
        >>> grid = SEGMENTS_11.to_frame()
        >>> len(grid)
        125
        >>> grid.tail(2)
             r_score  f_score  m_score  rule        segment
        123        5        5        4     0      Champions
        124        5        5        5     0      Champions
        """
        b = self.bins
        code = np.arange(b**3, dtype=np.int64)
        return pd.DataFrame(
            {
                "r_score": code // (b * b) + 1,
                "f_score": code // b % b + 1,
                "m_score": code % b + 1,
                "rule": self._winner.copy(),
                "segment": pd.Categorical.from_codes(
                    self._table.copy(), categories=pd.Index(list(self.segments), dtype=object)
                ),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form that :meth:`from_dict` reads back.

        Examples
        --------
        >>> from crmcore.segmentation import SegmentMap, SegmentRule
        >>> SegmentMap(bins=2, rules=[SegmentRule(segment="All")]).to_dict()
        {'rules': [{'segment': 'All', 'r': None, 'f': None, 'm': None}], 'bins': 2, \
'segments': ['All'], 'overlap': 'first'}
        """
        return {
            "rules": [rule.to_dict() for rule in self.rules],
            "bins": self.bins,
            "segments": list(self.segments),
            "overlap": self.overlap,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentMap:
        """Rebuild (and re-validate) a map from :meth:`to_dict` output.

        Examples
        --------
        >>> from crmcore.segmentation import SEGMENTS_11, SegmentMap
        >>> SegmentMap.from_dict(SEGMENTS_11.to_dict()) == SEGMENTS_11
        True
        """
        return cls(**check_config_keys(cls, data))


# --------------------------------------------------------------------------------------------
# Built-in maps
# --------------------------------------------------------------------------------------------

_CHAMPIONS = "Champions"
_LOYAL = "Loyal Customers"
_POTENTIAL = "Potential Loyalist"
_NEW = "New Customers"
_PROMISING = "Promising"
_ATTENTION = "Need Attention"
_SLEEP = "About To Sleep"
_AT_RISK = "At Risk"
_CANT_LOSE = "Can't Lose Them"
_HIBERNATING = "Hibernating"
_LOST = "Lost"
_ORDER_11 = (
    _CHAMPIONS,
    _LOYAL,
    _POTENTIAL,
    _NEW,
    _PROMISING,
    _ATTENTION,
    _SLEEP,
    _AT_RISK,
    _CANT_LOSE,
    _HIBERNATING,
    _LOST,
)


def _rule(name: str, r: ScoreSpec, f: ScoreSpec, m: ScoreSpec) -> SegmentRule:
    return SegmentRule(segment=name, r=r, f=f, m=m)


SEGMENTS_11: SegmentMap = SegmentMap(
    segments=_ORDER_11,
    rules=[
        # 1-11: the published ranges (two narrowed/ordered, see the docs table).
        _rule(_CHAMPIONS, _span(4, 5), _span(4, 5), _span(4, 5)),
        _rule(_CANT_LOSE, 1, _span(4, 5), _span(4, 5)),
        _rule(_LOST, 1, _span(1, 2), _span(1, 2)),
        _rule(_HIBERNATING, _span(1, 2), _span(1, 2), _span(1, 2)),
        _rule(_AT_RISK, _span(1, 2), _span(2, 5), _span(2, 5)),
        _rule(_SLEEP, _span(2, 3), _span(1, 2), _span(1, 2)),
        _rule(_ATTENTION, _span(2, 3), _span(2, 3), _span(2, 3)),
        _rule(_LOYAL, _span(2, 5), _span(3, 5), _span(3, 5)),
        _rule(_PROMISING, _span(3, 4), 1, 1),
        _rule(_NEW, _span(4, 5), 1, 1),
        _rule(_POTENTIAL, _span(3, 5), _span(1, 3), _span(1, 3)),
        # 12-16: gap fillers where F and M disagree; R and F decide, M is ignored.
        _rule(_LOST, 1, 1, None),
        _rule(_HIBERNATING, 2, 1, None),
        _rule(_AT_RISK, _span(1, 2), _span(3, 5), None),
        _rule(_LOYAL, _span(3, 5), _span(4, 5), None),
        _rule(_POTENTIAL, _span(3, 5), _span(1, 3), None),
    ],
)
"""The common 11-segment RFM map (5 score levels), made a partition of all 125 combinations.

Segment names and descriptions follow Putler, "RFM Analysis For Successful Customer
Segmentation" (https://www.putler.com/rfm-analysis/); the score ranges are those tabulated in the
vignette of the R package ``rfm`` (A. Hebbali, "RFM Analysis",
https://cran.r-project.org/package=rfm, segment table): Champions R4-5 F4-5 M4-5; Loyal
Customers R2-5 F3-5 M3-5; Potential Loyalist R3-5 F1-3 M1-3; New Customers R4-5 F1 M1; Promising
R3-4 F1 M1; Need Attention R2-3 F2-3 M2-3; About To Sleep R2-3 F1-2 M1-2; At Risk R1-2 F2-5 M2-5;
Can't Lose Them R1 F4-5 M4-5; Hibernating R1-2 F1-2 M1-2; Lost R1-2 F1-2 M1-2.

That table overlaps (e.g. New Customers lies inside Potential Loyalist, Can't Lose Them inside
At Risk, Hibernating and Lost are identical) and leaves 36 gaps (F and M far apart, e.g.
R5 F5 M1). Resolution, first matching rule wins:

1. Champions before Loyal Customers; Can't Lose Them before At Risk.
2. Lost narrowed to R1 and placed before Hibernating, so Lost = R1 F1-2 M1-2 and Hibernating =
   R2 F1-2 M1-2 (recency separates "gone" from "asleep").
3. At Risk before Loyal Customers and Need Attention: a recency score of 2 is "long ago", as in
   the R x F grid, so R2 with F/M >= 2 (above Hibernating) is At Risk.
4. About To Sleep before Need Attention before Loyal Customers (R3 F2 M2 sleeps, R3 F3 M3 needs
   attention), matching the grid's R3 row.
5. Promising before New Customers before Potential Loyalist: Promising = R3-4 F1 M1 minus About To
   Sleep = R4 F1 M1; New Customers = R5 F1 M1, as in the grid.
6. Gaps (F and M disagree by two or more levels) are decided by R and F with M ignored: R1 F1 ->
   Lost, R2 F1 -> Hibernating, R1-2 F3-5 -> At Risk, R3-5 F4-5 -> Loyal Customers,
   R3-5 F1-3 -> Potential Loyalist.
"""

RF_GRID_10: SegmentMap = SegmentMap(
    segments=_ORDER_11[:10],
    overlap="error",
    rules=[
        _rule(_HIBERNATING, _span(1, 2), _span(1, 2), None),
        _rule(_AT_RISK, _span(1, 2), _span(3, 4), None),
        _rule(_CANT_LOSE, _span(1, 2), 5, None),
        _rule(_SLEEP, 3, _span(1, 2), None),
        _rule(_ATTENTION, 3, 3, None),
        _rule(_LOYAL, _span(3, 4), _span(4, 5), None),
        _rule(_PROMISING, 4, 1, None),
        _rule(_NEW, 5, 1, None),
        _rule(_POTENTIAL, _span(4, 5), _span(2, 3), None),
        _rule(_CHAMPIONS, 5, _span(4, 5), None),
    ],
)
"""The common 10-region recency x frequency grid (5 x 5, the monetary score is ignored).

This is the widely copied R x F segment map of Python RFM tutorials (the ``seg_map`` of regular
expressions on the two-digit "RF" score, e.g. ``'[1-2][1-2]': 'Hibernating'``): Hibernating R1-2
F1-2, At Risk R1-2 F3-4, Can't Lose Them R1-2 F5, About To Sleep R3 F1-2, Need Attention R3 F3,
Loyal Customers R3-4 F4-5, Promising R4 F1, New Customers R5 F1, Potential Loyalist R4-5 F2-3,
Champions R5 F4-5. Its regions are disjoint and cover the grid, so the map is built with
``overlap="error"``.
"""


# --------------------------------------------------------------------------------------------
# Applying a map
# --------------------------------------------------------------------------------------------


#: Rows per block of the segment lookup: its integer temporaries stay in the CPU cache.
_BLOCK = 1 << 16


def _score_values(scores: pd.DataFrame, col: str, bins: int) -> npt.NDArray[Any]:
    """Validate one score column; return its integer scores (the stored array when it is one)."""
    then = f"; expected integer scores in 1..{bins} (the segment map has bins={bins})"
    dtype = scores[col].dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":  # plain integers: two reductions
        values: npt.NDArray[Any] = scores[col].to_numpy()
        if values.size and (int(values.min()) < 1 or int(values.max()) > bins):
            refuse_first(scores, (values < 1) | (values > bins), col, arg="scores",
                         problem="value", then=then)  # fmt: skip
        return values.astype(np.int64) if values.dtype == np.uint64 else values
    floats = numeric_column(scores, col, arg="scores", what=f"integer scores in 1..{bins}")
    bad = (floats != np.floor(floats)) | (floats < 1) | (floats > bins)
    refuse_first(scores, bad, col, arg="scores", problem="value", then=then)
    return floats.astype(np.int64)


def _segment_codes(
    scores: pd.DataFrame, columns: Sequence[str], bins: int, lookup: npt.NDArray[np.int64]
) -> npt.NDArray[Any]:
    """Validate the score columns; return each row's segment code (position in the map).

    The combination code ``(r-1) bins**2 + (f-1) bins + (m-1)`` indexes the map's small table,
    block by block, into the narrowest integer type the categorical takes.
    """
    arrays = [_score_values(scores, col, bins) for col in columns]
    table = lookup.astype(np.int8 if lookup.size == 0 or int(lookup.max()) < 127 else np.int16)
    out = np.empty(len(scores), dtype=table.dtype)
    for start in range(0, out.shape[0], _BLOCK):
        code = arrays[0][start : start + _BLOCK].astype(np.intp)
        for values in arrays[1:]:
            code *= bins
            code += values[start : start + _BLOCK]
        code -= (bins ** len(arrays) - 1) // (bins - 1)  # the ones of every column (bins >= 2)
        np.take(table, code, out=out[start : start + code.shape[0]])
    return out


@normal_pages
def rfm_segments(
    scores: pd.DataFrame,
    segment_map: SegmentMap | None = None,
    *,
    r: str = "r_score",
    f: str = "f_score",
    m: str = "m_score",
) -> pd.DataFrame:
    """Name each customer's segment from their R, F and M scores.

    Every row gets exactly one segment: the map is a validated partition of all score
    combinations (see :class:`SegmentMap`). The lookup is one vectorised table index.

    Parameters
    ----------
    scores
        One row per customer (typically the output of ``score_rfm``), with integer score
        columns ``r``, ``f`` and ``m`` in 1..``segment_map.bins``. Float columns holding whole
        numbers are accepted.
    segment_map
        The map to apply; default :data:`SEGMENTS_11`.
    r, f, m
        Names of the recency, frequency and monetary score columns.

    Returns
    -------
    DataFrame
        A copy of ``scores`` (same index, same row order, all columns) with one added column
        ``segment``: a categorical whose categories are ``segment_map.segments`` in map order
        (every segment is a category, even when no customer is in it).

    Raises
    ------
    SchemaError
        A score column is missing, ``scores`` is empty or already has a ``segment`` column.
    ColumnTypeError
        A score column is not numeric.
    DataError
        A score is NaN, not a whole number or outside 1..bins (names the row and value).

    Notes
    -----
    Dask: ``scores`` may also be a ``dask.dataframe.DataFrame``; it is segmented lazily, partition
    by partition, keeping its partitions and row order. See ``docs/scaling.md``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import rfm_segments, RF_GRID_10
    >>> scores = pd.DataFrame({"r_score": [5, 1, 3], "f_score": [5, 1, 3], "m_score": [4, 2, 3]},
    ...                       index=pd.Index([11, 12, 13], name="customer_id"))
    >>> rfm_segments(scores)
                 r_score  f_score  m_score         segment
    customer_id
    11                 5        5        4       Champions
    12                 1        1        2            Lost
    13                 3        3        3  Need Attention
    >>> rfm_segments(scores, RF_GRID_10)["segment"].tolist()
    ['Champions', 'Hibernating', 'Need Attention']
    """
    if is_dask(scores):
        import crmcore.segmentation._dask as dask_adapter

        return dask_adapter.rfm_segments(scores, segment_map, r=r, f=f, m=m)
    seg_map = SEGMENTS_11 if segment_map is None else segment_map
    if not isinstance(seg_map, SegmentMap):
        raise ConfigError(
            f"segment_map must be a SegmentMap, got {type(seg_map).__name__}",
            column="segment_map",
        )
    scores = require_columns(scores, [r, f, m], arg="scores")
    if "segment" in scores.columns:
        raise SchemaError(
            "scores already has a column 'segment'; drop or rename it before segmenting",
            column="segment",
        )
    codes = _segment_codes(scores, [r, f, m], seg_map.bins, seg_map.lookup)
    # Copy-on-write: a shallow copy is a copy (the caller's frame never changes), without
    # copying (and consolidating) every column of a ten-million-row frame.
    out = scores.copy(deep=False)
    out["segment"] = pd.Categorical.from_codes(
        codes, categories=pd.Index(list(seg_map.segments), dtype=object), validate=False
    )
    return out


def segment_summary(
    segments: pd.DataFrame,
    segment_map: SegmentMap | None = None,
    *,
    segment: str = "segment",
    value: str | None = None,
) -> pd.DataFrame:
    """Count customers (and optionally sum a value) per segment.

    Parameters
    ----------
    segments
        One row per customer with a segment column (typically :func:`rfm_segments` output).
    segment_map
        Gives the segment list and order; default :data:`SEGMENTS_11`. Every segment of the map
        appears in the result, with zeros where no customer falls.
    segment
        Name of the segment column.
    value
        Optional numeric column (e.g. ``"monetary"``) to total per segment; NaN and infinite
        values are errors, negative values are allowed.

    Returns
    -------
    DataFrame
        Indexed by ``segment`` in map order, columns ``customers`` (int64) and ``share``
        (fraction of customers); with ``value`` also ``value`` (the segment total) and
        ``value_share`` (fraction of the grand total; NaN when the grand total is 0).

    Raises
    ------
    SchemaError
        A column is missing or ``segments`` is empty.
    DataError
        A segment label is missing or is not a segment of the map.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.segmentation import segment_summary, RF_GRID_10
    >>> seg = pd.DataFrame({"segment": ["Champions", "Champions", "Hibernating"],
    ...                     "monetary": [300.0, 100.0, 100.0]})
    >>> segment_summary(seg, RF_GRID_10, value="monetary").head(3)
                        customers     share  value  value_share
    segment
    Champions                   2  0.666667  400.0          0.8
    Loyal Customers             0  0.000000    0.0          0.0
    Potential Loyalist          0  0.000000    0.0          0.0
    """
    seg_map = SEGMENTS_11 if segment_map is None else segment_map
    if not isinstance(seg_map, SegmentMap):
        raise ConfigError(
            f"segment_map must be a SegmentMap, got {type(seg_map).__name__}",
            column="segment_map",
        )
    cols: list[Hashable] = [segment] if value is None else [segment, value]
    segments = require_columns(segments, cols, arg="segments")
    require_not_null(segments, segment, arg="segments")
    labels = segments[segment]
    codes = pd.Index(list(seg_map.segments), dtype=object).get_indexer(
        pd.Index(labels.astype(object))
    )
    refuse_first(segments, codes < 0, segment, arg="segments", problem="value",
                 then=", which is not a segment of the map; expected one of "
                 f"{list(seg_map.segments)}")  # fmt: skip
    k = len(seg_map.segments)
    counts = np.bincount(codes, minlength=k).astype(np.int64)
    out = pd.DataFrame(
        {"customers": counts, "share": counts / counts.sum()},
        index=pd.Index(list(seg_map.segments), name="segment", dtype=object),
    )
    if value is not None:
        amounts = numeric_column(segments, value, arg="segments")
        with np.errstate(over="ignore", invalid="ignore"):  # past the largest float: below
            sums = np.bincount(codes, weights=amounts, minlength=k)
        totals = checked_totals(sums, amounts, codes, segments, value, arg="segments")
        out["value"] = totals
        out["value_share"] = shares(totals)
    return out
