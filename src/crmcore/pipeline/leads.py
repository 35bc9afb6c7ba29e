"""Predictive lead scoring: the chance a lead is won, from the attributes of past closed deals.

Naive Bayes per sales team, with the semantics of Odoo's predictive lead scoring (``crm``
module, ``crm.lead._pls_get_naive_bayes_probabilities`` and the frequency table
``crm.lead.scoring.frequency``; read at odoo/odoo commit ``694f48a``, the code introduced in
Odoo 13.0 by odoo/odoo#33589). For a lead of team ``t`` with value ``v_f`` of each feature
``f``, with ``W``/``L`` the team's won/lost deals and ``w_fv``/``l_fv`` those with value ``v``
of feature ``f``, and ``s`` the smoothing added to every count:

    S(won)  = (W + s) / (W + L + 2s) x  prod_f (w_fv + s) / sum_u (w_fu + s)
    S(lost) = (L + s) / (W + L + 2s) x  prod_f (l_fv + s) / sum_u (l_fu + s)
    P(win)  = S(won) / (S(won) + S(lost))

The sums run over the values ``u`` of ``f`` seen in the team's history (deals without a value
of ``f`` are not counted for ``f``). A value the team never saw, or a missing value, adds
nothing; so does a feature whose won or lost total is 0 (Odoo: "we cannot compute"). In
log-odds the score is the team's prior plus one contribution per feature, which
:func:`explain_leads` reports.

Where crmcore differs from Odoo, and why:

* no stage: Odoo always adds the lead's stage (counted cumulatively along the stage sequence),
  scores a lead in a won stage 100 % and one without stage 0 %. Here only the given attributes
  count; stage odds are the :class:`~crmcore.pipeline.StageModel`'s business.
* no clamp, no rounding: Odoo rounds to 0.01 % and clamps to [0.01 %, 99.99 %] (since
  odoo/odoo#127470, 2023), because 0 and 100 mean lost and won there. Scores here are
  unrounded probabilities in [0, 1].
* a lead of a team absent from the history (or without a team) is scored on all the history,
  as in Odoo; but Odoo sums the teams' smoothed counts (``s`` once per team), crmcore adds
  ``s`` once to the pooled counts, so such a lead scores as under a model fitted without
  ``team``.
* single-valued features only; Odoo's many-valued tags (ignored below 50 observations) are not
  modelled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import expit

from crmcore._config import check_config_keys
from crmcore._frames import (
    check_choice,
    check_scalar,
    describe_row,
    first_true,
    refuse_first,
    require_columns,
    require_frame,
    require_not_null,
    show,
)
from crmcore._repr import attrs_repr_html
from crmcore.errors import ConfigError, DataError

__all__ = [
    "LeadScoring",
    "explain_leads",
    "fit_lead_scoring",
    "lead_score_calibration",
    "score_leads",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Column names :func:`explain_leads` uses itself; features may not take them.
RESERVED: Final = ("prior", "log_odds", "win_probability")


def _plain(value: Any) -> Any:
    """Return a numpy scalar as the Python value it holds (``to_dict`` holds plain data)."""
    return value.item() if isinstance(value, np.generic) else value


def _sort_key(value: Any) -> tuple[bool, str, Any]:
    return (value is None, type(value).__name__, value)


def _sorted_codes(values: pd.Series) -> tuple[IntArray, list[Any]]:
    """Codes of the present values and the distinct values, sorted (missing: code -1).

    Values of mixed types sort by type name, then value, so the order never depends on rows.
    """
    codes, uniques = pd.factorize(values, sort=False)
    labels = [_plain(u) for u in uniques]
    try:
        order = sorted(range(len(labels)), key=lambda i: _sort_key(labels[i]))
    except TypeError:
        order = sorted(
            range(len(labels)), key=lambda i: (type(labels[i]).__name__, repr(labels[i]))
        )
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels), dtype=np.int64)
    out = np.where(codes < 0, -1, rank[np.maximum(codes, 0)] if labels else -1)
    return np.asarray(out, dtype=np.int64), [labels[i] for i in order]


def _as_str_tuple(value: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    try:
        return tuple(value)
    except TypeError:
        raise ConfigError(
            f"features must be a sequence of column names, got {type(value).__name__}",
            column="features",
            value=value,
        ) from None


def _as_teams(value: Sequence[Sequence[Any]]) -> tuple[tuple[Any, int, int], ...]:
    return tuple((_plain(t), int(w), int(lost)) for t, w, lost in value)


def _as_rows(value: Sequence[Sequence[Any]]) -> tuple[tuple[Any, str, Any, int, int], ...]:
    return tuple((_plain(t), str(f), _plain(v), int(w), int(lost)) for t, f, v, w, lost in value)


@attrs.frozen(kw_only=True, repr=False)
class LeadScoring:
    """A fitted predictive lead scoring model: won/lost frequency tables per team.

    Made by :func:`fit_lead_scoring`; used by :func:`score_leads`, :func:`explain_leads` and
    :func:`lead_score_calibration`. The counts are the raw numbers of deals (``smoothing`` is
    added when scoring), so a model fitted once can be stored (:meth:`to_dict`) and score any
    later table or partition.

    Attributes
    ----------
    features
        The feature columns, in order.
    team
        The team column, or ``None`` (one table for all deals).
    smoothing
        Pseudo-count added to every won and lost count (Odoo: 0.1).
    teams
        ``(team, won, lost)`` per team, sorted by team; ``None`` stands for deals without a
        team (they count in the pooled table only), and is the one entry without ``team``.
    frequencies
        ``(team, feature, value, won, lost)`` rows: deals of the team with that value of the
        feature, won and lost (Odoo's ``crm.lead.scoring.frequency``). Without ``team`` every
        row's team is ``None``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import LeadScoring, fit_lead_scoring
    >>> history = pd.DataFrame({"source": ["web", "web", "fair", "fair"],
    ...                         "status": ["won", "lost", "won", "won"]})
    >>> model = fit_lead_scoring(history, features=["source"])
    >>> model
    LeadScoring(features=('source',), team=None, smoothing=0.1, teams=1, frequencies=2)
    >>> model.frequencies
    ((None, 'source', 'fair', 2, 0), (None, 'source', 'web', 1, 1))
    >>> LeadScoring.from_dict(model.to_dict()) == model
    True
    """

    features: tuple[str, ...] = attrs.field(converter=_as_str_tuple)
    team: str | None = None
    smoothing: float = 0.1
    teams: tuple[tuple[Any, int, int], ...] = attrs.field(default=(), converter=_as_teams)
    frequencies: tuple[tuple[Any, str, Any, int, int], ...] = attrs.field(
        default=(), converter=_as_rows
    )

    def __attrs_post_init__(self) -> None:
        if not self.features:
            raise ConfigError("features is empty; name at least one column", column="features")
        for name in self.features:
            if not isinstance(name, str) or not name:
                raise ConfigError(
                    f"feature names must be non-empty text, got {name!r}",
                    column="features",
                    value=name,
                )
            if name in RESERVED:
                raise ConfigError(
                    f"feature {name!r} takes a name explain_leads uses for its own column "
                    f"({', '.join(RESERVED)}); rename the column",
                    column="features",
                    value=name,
                )
        if len(set(self.features)) != len(self.features):
            raise ConfigError(f"features repeat a column: {list(self.features)}", column="features")
        if self.team is not None and self.team in self.features:
            raise ConfigError(
                f"team column {self.team!r} is also a feature; the team chooses the table",
                column="team",
                value=self.team,
            )
        check_scalar(self.smoothing, "smoothing", kind=float, min_value=0.0)
        if not math.isfinite(float(self.smoothing)):
            raise ConfigError(
                f"smoothing == {self.smoothing!r}, must be finite", column="smoothing"
            )
        known = set(self.features)
        for row in self.frequencies:
            if row[1] not in known:
                raise ConfigError(
                    f"frequency row {row!r} names feature {row[1]!r}, not one of "
                    f"{list(self.features)}",
                    column="frequencies",
                    value=row[1],
                )
        counts: list[tuple[int, int, tuple[Any, ...]]] = [(t[1], t[2], t) for t in self.teams]
        counts += [(r[3], r[4], r) for r in self.frequencies]
        for n_won, n_lost, where in counts:
            if min(n_won, n_lost) < 0:
                raise ConfigError(
                    f"counts must be >= 0, got {where!r}", column="frequencies", value=where
                )

    _repr_html_ = attrs_repr_html

    def __repr__(self) -> str:
        return (
            f"LeadScoring(features={self.features!r}, team={self.team!r}, "
            f"smoothing={self.smoothing!r}, teams={len(self.teams)}, "
            f"frequencies={len(self.frequencies)})"
        )

    def frequency_table(self) -> pd.DataFrame:
        """Return the frequencies as a frame: ``team``, ``feature``, ``value``, ``won``, ``lost``.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmcore.pipeline import fit_lead_scoring
        >>> history = pd.DataFrame({"source": ["web", "fair"], "status": ["won", "lost"]})
        >>> fit_lead_scoring(history, features=["source"]).frequency_table()
           team feature value  won  lost
        0  None  source  fair    0     1
        1  None  source   web    1     0
        """
        rows = self.frequencies
        return pd.DataFrame(
            {
                "team": pd.Series([r[0] for r in rows], dtype=object),
                "feature": pd.Series([r[1] for r in rows], dtype=object),
                "value": pd.Series([r[2] for r in rows], dtype=object),
                "won": np.asarray([r[3] for r in rows], dtype=np.int64),
                "lost": np.asarray([r[4] for r in rows], dtype=np.int64),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (lists, numbers, text) that :meth:`from_dict` reads back.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmcore.pipeline import fit_lead_scoring
        >>> history = pd.DataFrame({"source": ["web"], "status": ["won"]})
        >>> fit_lead_scoring(history, features=["source"]).to_dict()
        {'features': ['source'], 'team': None, 'smoothing': 0.1, 'teams': [[None, 1, 0]], \
'frequencies': [[None, 'source', 'web', 1, 0]]}
        """
        return {
            "features": list(self.features),
            "team": self.team,
            "smoothing": float(self.smoothing),
            "teams": [list(t) for t in self.teams],
            "frequencies": [list(r) for r in self.frequencies],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LeadScoring:
        """Rebuild a model from :meth:`to_dict` output; unknown keys are an error.

        Examples
        --------
        >>> from crmcore.pipeline import LeadScoring
        >>> LeadScoring.from_dict({"features": ["source"]}).smoothing
        0.1
        """
        return cls(**check_config_keys(cls, data, ["features"]))


# ---------------------------------------------------------------------------------------------
# fitting


def _closed(
    history: pd.DataFrame, status: str, won: Any, lost: Any, *, arg: str
) -> npt.NDArray[np.bool_]:
    """Return True for won rows; a status neither won nor lost is an error naming its row."""
    require_not_null(history, status, arg=arg)
    values = history[status]
    is_won = np.asarray(values == won, dtype=bool)
    is_lost = np.asarray(values == lost, dtype=bool)
    closed_only = f"frame[frame[{status!r}].isin([{won!r}, {lost!r}])]"
    refuse_first(history, ~(is_won | is_lost), status, arg=arg, problem="", values=values,
                 then=f"; expected {won!r} or {lost!r}: only closed deals teach the model "
                 f"(select them first, e.g. {closed_only})")  # fmt: skip
    return is_won


def _check_names(features: Sequence[str], team: str | None, status: str) -> tuple[str, ...]:
    names = _as_str_tuple(features)
    if status in names or status == team:
        raise ConfigError(
            f"status column {status!r} is also a feature or the team column", column="status"
        )
    return names


def fit_lead_scoring(
    history: pd.DataFrame,
    *,
    features: Sequence[str],
    status: str = "status",
    won: Any = "won",
    lost: Any = "lost",
    team: str | None = None,
    smoothing: float = 0.1,
) -> LeadScoring:
    """Count won and lost deals per team and feature value: a predictive lead scoring model.

    Odoo's predictive lead scoring (see the module notes for the formula, the version read and
    where crmcore differs): per sales team, the number of won and lost deals, and for every
    feature value the number of won and lost deals that had it. Missing feature values are not
    counted.

    Parameters
    ----------
    history
        Closed deals, one per row: the ``status`` (``won`` or ``lost``), the features and
        optionally the team.
    features
        Columns to learn from (source, country, industry, size band, ...); any hashable
        values, missing allowed.
    status, won, lost
        The status column and its won and lost values. Any other status is an error: select
        the closed deals first.
    team
        Optional sales team column: each team gets its own tables (a team's scores depend on
        its history only). Deals without a team count in the pooled table only.
    smoothing
        Pseudo-count (>= 0) added to every count when scoring, so that a value never seen
        with one outcome does not decide the score alone. Odoo adds 0.1 ("should be +1 but it
        weights too much on small recordset").

    Returns
    -------
    LeadScoring
        The counts: ``teams`` (team, won, lost) and ``frequencies`` (team, feature, value,
        won, lost), sorted.

    Raises
    ------
    SchemaError
        A column is missing or ``history`` is empty.
    DataError
        A missing or unknown status (naming the row label and value).
    ConfigError
        No features, repeated or reserved feature names, a feature that is the team or status
        column, a negative or infinite smoothing.

    Examples
    --------
    The worked case: a team of 60 won and 40 lost deals, where 30 won and 10 lost deals came
    from the fair, scores a fair lead 0.6 x (30/60) / (0.6 x 30/60 + 0.4 x 10/40) = 0.75.

    >>> import pandas as pd
    >>> from crmcore.pipeline import fit_lead_scoring, score_leads
    >>> history = pd.DataFrame({
    ...     "source": ["fair"] * 40 + ["web"] * 60,
    ...     "status": ["won"] * 30 + ["lost"] * 10 + ["won"] * 30 + ["lost"] * 30})
    >>> model = fit_lead_scoring(history, features=["source"], smoothing=0)
    >>> model.frequencies
    ((None, 'source', 'fair', 30, 10), (None, 'source', 'web', 30, 30))
    >>> score_leads(model, pd.DataFrame({"source": ["fair", "web", "phone"]})).round(4)
    0    0.75
    1    0.50
    2    0.60
    Name: win_probability, dtype: float64
    """
    arg = "history"
    names = _check_names(features, team, status)
    model = LeadScoring(features=names, team=team, smoothing=smoothing)
    columns = [status, *names, *([team] if team is not None else [])]
    history = require_columns(history, columns, arg=arg)
    is_won = _closed(history, status, won, lost, arg=arg)
    if team is None:
        team_codes = np.zeros(len(history), dtype=np.int64)
        team_labels: list[Any] = [None]
    else:
        team_codes, team_labels = _sorted_codes(history[team])
        if (team_codes < 0).any():  # deals without a team: their own group, labelled None
            team_codes = np.where(team_codes < 0, len(team_labels), team_codes)
            team_labels = [*team_labels, None]
    n_teams = len(team_labels)
    won_per_team = np.bincount(team_codes, weights=is_won, minlength=n_teams).astype(np.int64)
    all_per_team = np.bincount(team_codes, minlength=n_teams).astype(np.int64)
    teams = tuple(
        (label, int(w), int(a - w))
        for label, w, a in zip(team_labels, won_per_team, all_per_team, strict=True)
    )
    rows: list[tuple[Any, str, Any, int, int]] = []
    for feature in names:
        value_codes, values = _sorted_codes(history[feature])
        present = value_codes >= 0
        keys = team_codes[present] * len(values) + value_codes[present]
        size = n_teams * len(values)
        won_counts = np.bincount(keys, weights=is_won[present], minlength=size).astype(np.int64)
        all_counts = np.bincount(keys, minlength=size).astype(np.int64)
        for key in np.flatnonzero(all_counts):
            t, v = divmod(int(key), len(values))
            w, a = int(won_counts[key]), int(all_counts[key])
            rows.append((team_labels[t], feature, values[v], w, a - w))
    order = {f: i for i, f in enumerate(names)}
    rows.sort(key=lambda r: (_sort_key(r[0]), order[r[1]]))
    return attrs.evolve(model, teams=teams, frequencies=rows)


# ---------------------------------------------------------------------------------------------
# scoring


@attrs.frozen(kw_only=True, eq=False)
class _Tables:
    """The model as arrays: table ``t`` per known team, the pooled table last.

    ``prior`` is each table's log-odds of winning; per feature, ``keys`` (sorted
    ``table * n_values + value code``) and ``contribution`` (log-odds added by that value).
    """

    labels: list[Any]
    prior: FloatArray
    values: dict[str, pd.Index]
    keys: dict[str, IntArray]
    contribution: dict[str, FloatArray]


def _log_ratio(won: FloatArray, lost: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.log(won) - np.log(lost)
    return out


def _tables(model: LeadScoring) -> _Tables:
    s = float(model.smoothing)
    labels = [t[0] for t in model.teams if t[0] is not None]
    table_of = {label: i for i, label in enumerate(labels)}
    pooled = len(labels)
    n_tables = pooled + 1
    team_won = np.zeros(n_tables)
    team_lost = np.zeros(n_tables)
    for label, n_won, n_lost in model.teams:
        if label is not None:
            team_won[table_of[label]] = n_won
            team_lost[table_of[label]] = n_lost
    team_won[pooled] = sum(t[1] for t in model.teams)
    team_lost[pooled] = sum(t[2] for t in model.teams)
    prior = _log_ratio(team_won + s, team_lost + s)
    frame = model.frequency_table()
    values: dict[str, pd.Index] = {}
    keys: dict[str, IntArray] = {}
    contribution: dict[str, FloatArray] = {}
    for feature in model.features:
        part = frame[frame["feature"] == feature]
        index = pd.Index(pd.unique(part["value"].to_numpy(dtype=object)), dtype=object)
        code = index.get_indexer(part["value"].to_numpy(dtype=object)).astype(np.int64)
        team_codes = np.asarray(
            [table_of[t] if t is not None else -1 for t in part["team"]], dtype=np.int64
        )
        w = part["won"].to_numpy(dtype=np.float64)
        lost = part["lost"].to_numpy(dtype=np.float64)
        # The pooled table: every group's counts summed per value (no-team deals included).
        pooled_w = np.bincount(code, weights=w, minlength=len(index))
        pooled_l = np.bincount(code, weights=lost, minlength=len(index))
        named = team_codes >= 0
        t_all = np.concatenate([team_codes[named], np.full(len(index), pooled)])
        v_all = np.concatenate([code[named], np.arange(len(index))])
        w_all = np.concatenate([w[named], pooled_w]) + s
        l_all = np.concatenate([lost[named], pooled_l]) + s
        total_w = np.bincount(t_all, weights=w_all, minlength=n_tables)[t_all]
        total_l = np.bincount(t_all, weights=l_all, minlength=n_tables)[t_all]
        with np.errstate(invalid="ignore"):  # inf - inf in skipped features, dropped below
            c = _log_ratio(w_all, l_all) - _log_ratio(total_w, total_l)
        # Odoo: a feature whose won or lost total is 0 cannot be used; it adds nothing.
        c = np.where((total_w > 0) & (total_l > 0), c, 0.0)
        k = t_all * max(len(index), 1) + v_all
        order = np.argsort(k, kind="stable")
        values[feature], keys[feature], contribution[feature] = index, k[order], c[order]
    return _Tables(labels=labels, prior=prior, values=values, keys=keys, contribution=contribution)


def _value_codes(column: pd.Series, index: pd.Index) -> IntArray:
    """Position of each lead's value among the model's values; unseen or missing: -1."""
    row_codes, uniques = pd.factorize(column)
    if len(uniques) == 0:
        return np.full(len(column), -1, dtype=np.int64)
    table = index.get_indexer(pd.Index(np.asarray(uniques, dtype=object), dtype=object))
    table = np.asarray(table, dtype=np.int64)
    return np.where(row_codes < 0, -1, table[np.maximum(row_codes, 0)])


def _evidence(model: LeadScoring, leads: pd.DataFrame) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Return the prior log-odds of each lead's table and each feature's contribution."""
    arg = "leads"
    columns = [*model.features, *([model.team] if model.team is not None else [])]
    require_columns(leads, columns, arg=arg, allow_empty=True)
    tables = _tables(model)
    pooled = len(tables.labels)
    if model.team is None or not tables.labels:
        table = np.full(len(leads), pooled, dtype=np.int64)
    else:
        table = _value_codes(leads[model.team], pd.Index(tables.labels, dtype=object))
        table = np.where(table < 0, pooled, table)
    parts: dict[str, FloatArray] = {}
    for feature in model.features:
        index = tables.values[feature]
        code = _value_codes(leads[feature], index)
        key = table * max(len(index), 1) + code
        keys = tables.keys[feature]
        if len(keys) == 0:  # no deal of the history had a value of this feature
            parts[feature] = np.zeros(len(leads))
            continue
        pos = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
        found = (code >= 0) & (keys[pos] == key)
        parts[feature] = np.where(found, tables.contribution[feature][pos], 0.0)
    return tables.prior[table], parts


def _log_odds(
    model: LeadScoring, leads: pd.DataFrame, prior: FloatArray, parts: dict[str, FloatArray]
) -> FloatArray:
    """Prior plus contributions; evidence pulling to both certainties is an error."""
    total = prior.copy()
    for c in parts.values():
        with np.errstate(invalid="ignore"):
            total += c
    pos = first_true(np.isnan(total))
    if pos is not None:
        pulls = ", ".join(
            f"{f}={show(leads[f].iloc[pos])} ({'+' if parts[f][pos] > 0 else '-'}inf)"
            for f in model.features
            if np.isinf(parts[f][pos])
        )
        raise DataError(
            f"lead at {describe_row(leads, pos)} has evidence of certain win and certain loss "
            f"({pulls}; team prior {prior[pos]!r}): with smoothing == {model.smoothing!r} a "
            "value seen only among won deals and another seen only among lost deals cancel "
            "out to 0/0; fit with smoothing > 0",
            column=next((f for f in model.features if np.isinf(parts[f][pos])), None),
            row=leads.index[pos],
        )
    return total


def score_leads(model: LeadScoring, leads: pd.DataFrame) -> pd.Series:
    """Score each lead: the probability it is won, by naive Bayes on its team's history.

    Parameters
    ----------
    model
        A :class:`LeadScoring` from :func:`fit_lead_scoring` (or :meth:`LeadScoring.from_dict`).
    leads
        One row per lead with the model's feature columns (and team column when the model has
        one). Values the team never saw, and missing values, are ignored; a team not in the
        history (or missing) is scored on the whole history.

    Returns
    -------
    pandas.Series
        ``win_probability`` in [0, 1] per lead, float64, with the index and order of
        ``leads``.

    Raises
    ------
    SchemaError
        A feature or the team column is missing.
    DataError
        With ``smoothing=0``, a lead whose values were seen only among won deals for one
        feature and only among lost deals for another (0/0).
    ConfigError
        ``model`` is not a LeadScoring.

    Notes
    -----
    Vectorised: one factorisation and one sorted look-up per feature, whatever the number
    of leads or teams.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import fit_lead_scoring, score_leads
    >>> history = pd.DataFrame({
    ...     "team": ["a"] * 4 + ["b"] * 2,
    ...     "source": ["web", "web", "fair", "fair", "web", "fair"],
    ...     "status": ["won", "lost", "won", "won", "lost", "won"]})
    >>> model = fit_lead_scoring(history, features=["source"], team="team", smoothing=0.1)
    >>> leads = pd.DataFrame({"team": ["a", "b", "zz"], "source": ["fair", "fair", "web"]},
    ...                      index=["L1", "L2", "L3"])
    >>> score_leads(model, leads).round(3)
    L1    0.957
    L2    0.917
    L3    0.349
    Name: win_probability, dtype: float64
    """
    model = _check_model(model)
    leads = require_frame(leads, arg="leads")
    prior, parts = _evidence(model, leads)
    total = _log_odds(model, leads, prior, parts)
    return pd.Series(expit(total), index=leads.index, name="win_probability", dtype=np.float64)


def explain_leads(model: LeadScoring, leads: pd.DataFrame) -> pd.DataFrame:
    """Each feature's contribution to each lead's score, in log-odds.

    ``log_odds = prior + sum of the feature columns`` and ``win_probability = 1 / (1 +
    exp(-log_odds))``, the score of :func:`score_leads`. A contribution is
    ``log(P(value | won) / P(value | lost))`` from the lead's team tables: positive values
    argue for a win, 0 means ignored (missing, unseen, or a feature the team cannot use).

    Parameters
    ----------
    model, leads
        As in :func:`score_leads`.

    Returns
    -------
    pandas.DataFrame
        With the index and order of ``leads``: ``prior`` (the team's log-odds of winning,
        ``log((won + s) / (lost + s))``), one column per feature (named after it), ``log_odds``
        and ``win_probability`` (float64). Contributions are ``+inf``/``-inf`` only with
        ``smoothing=0``.

    Raises
    ------
    SchemaError, DataError, ConfigError
        As in :func:`score_leads`.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import explain_leads, fit_lead_scoring
    >>> history = pd.DataFrame({
    ...     "source": ["fair"] * 40 + ["web"] * 60,
    ...     "status": ["won"] * 30 + ["lost"] * 10 + ["won"] * 30 + ["lost"] * 30})
    >>> model = fit_lead_scoring(history, features=["source"], smoothing=0)
    >>> explain_leads(model, pd.DataFrame({"source": ["fair", "web"]})).round(4)
        prior  source  log_odds  win_probability
    0  0.4055  0.6931    1.0986             0.75
    1  0.4055 -0.4055    0.0000             0.50
    """
    model = _check_model(model)
    leads = require_frame(leads, arg="leads")
    prior, parts = _evidence(model, leads)
    total = _log_odds(model, leads, prior, parts)
    columns: dict[str, Any] = {"prior": prior, **parts}
    columns["log_odds"] = total
    columns["win_probability"] = expit(total)
    return pd.DataFrame(columns, index=leads.index)


def _snap(edges: FloatArray, scores: FloatArray) -> FloatArray:
    """Return the bin edges, each within rounding of a score set to that score.

    A score on an edge belongs to the upper bin, but whether a score or a quantile lands a
    few ulps below the edge depends on the numpy/scipy version (numpy < 2 interpolates
    between two equal scores to 0.7499999999999999, older scipy's expit(log 3) is one ulp
    under 0.75): within rounding, the edge is the score.
    """
    ordered = np.sort(scores)
    right = np.clip(np.searchsorted(ordered, edges), 0, len(ordered) - 1)
    left = np.clip(right - 1, 0, len(ordered) - 1)
    near = np.where(
        np.abs(ordered[left] - edges) < np.abs(ordered[right] - edges),
        ordered[left],
        ordered[right],
    )
    tol = 8 * np.finfo(np.float64).eps * np.maximum(np.abs(edges), 1.0)
    return np.where(np.abs(near - edges) <= tol, near, edges)


def _check_model(model: object) -> LeadScoring:
    if not isinstance(model, LeadScoring):
        raise ConfigError(
            f"model must be a LeadScoring (from fit_lead_scoring), got {type(model).__name__}",
            column="model",
        )
    return model


# ---------------------------------------------------------------------------------------------
# calibration


def lead_score_calibration(
    model: LeadScoring,
    closed_deals: pd.DataFrame,
    *,
    status: str = "status",
    won: Any = "won",
    lost: Any = "lost",
    n_bins: int = 10,
    strategy: Literal["quantile", "uniform"] = "quantile",
) -> pd.DataFrame:
    """Observed win rate against predicted score, by bin of the score (deciles by default).

    Score closed deals (best: deals closed *after* the model's history) and compare, per bin,
    the mean predicted probability with the share actually won. A trustworthy model has the
    two close in every bin; bins should also separate: a model whose bins all win at the
    same rate ranks nothing.

    Bins follow scikit-learn's ``calibration_curve``: ``strategy="quantile"`` puts the edges
    at the 10 %, 20 %, ... quantiles of the scores (deciles), ``"uniform"`` at 0.1, 0.2, ...;
    a deal is in bin ``1 + (number of inner edges <= its score)``, so equal scores always
    share a bin (quantile bins may then hold unequal counts, or none).

    Parameters
    ----------
    model
        A fitted :class:`LeadScoring`.
    closed_deals
        Won and lost deals with the model's features (and team column).
    status, won, lost
        The status column and its won and lost values; any other status is an error.
    n_bins
        Number of bins, 1 to 100 (10: deciles).
    strategy
        ``"quantile"`` (default) or ``"uniform"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``bin`` (1 .. ``n_bins``, every bin listed), columns ``lower`` and
        ``upper`` (the bin's edges), ``count`` and ``won`` (deals, int64), ``predicted``
        (mean score) and ``observed`` (``won / count``); NaN rates for an empty bin.

    Raises
    ------
    SchemaError, DataError, ConfigError
        As in :func:`score_leads`; a status other than won or lost; a bad ``n_bins`` or
        ``strategy``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import fit_lead_scoring, lead_score_calibration
    >>> history = pd.DataFrame({"source": ["fair"] * 4 + ["web"] * 4,
    ...                         "status": ["won", "won", "won", "lost"] + ["won"] + ["lost"] * 3})
    >>> model = fit_lead_scoring(history, features=["source"], smoothing=0)
    >>> lead_score_calibration(model, history, n_bins=2)
         lower  upper  count  won  predicted  observed
    bin
    1     0.25   0.50      4    1       0.25      0.25
    2     0.50   0.75      4    3       0.75      0.75
    """
    model = _check_model(model)
    check_scalar(n_bins, "n_bins", kind=int, min_value=1, max_value=100)
    check_choice(strategy, "strategy", ("quantile", "uniform"))
    closed_deals = require_columns(closed_deals, [status], arg="closed_deals")
    is_won = _closed(closed_deals, status, won, lost, arg="closed_deals")
    scores = score_leads(model, closed_deals).to_numpy()
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile" and len(scores):
        edges = np.quantile(scores, edges)
    if len(scores):
        edges = _snap(edges, scores)
    bins = np.searchsorted(edges[1:-1], scores, side="right").astype(np.int64)
    count = np.bincount(bins, minlength=n_bins).astype(np.int64)
    n_won = np.bincount(bins, weights=is_won, minlength=n_bins).astype(np.int64)
    total = np.bincount(bins, weights=scores, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted = np.where(count > 0, total / count, np.nan)
        observed = np.where(count > 0, n_won / count, np.nan)
    return pd.DataFrame(
        {
            "lower": edges[:-1],
            "upper": edges[1:],
            "count": count,
            "won": n_won,
            "predicted": predicted,
            "observed": observed,
        },
        index=pd.RangeIndex(1, n_bins + 1, name="bin"),
    )
