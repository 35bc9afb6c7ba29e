"""Quota relief: move accounts between people and their share of quota with them."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

import crmcore._frames as fr
from crmcore._compat import renamed_parameters
from crmcore.errors import ConfigError, DataError
from crmcore.money import split_minor_units, sum_minor_units

__all__ = ["reassign_accounts"]


def _quota_cents(quotas: pd.DataFrame, quota: str) -> npt.NDArray[np.int64]:
    """Return the quota column as int64 minor units (one row per person, total in int64)."""
    quotas = fr.require_columns(quotas, [quota], arg="quotas")
    if quotas.index.has_duplicates:
        dup = quotas.index[quotas.index.duplicated()][0]
        raise DataError(f"quotas has person {dup!r} twice; one row per person", value=dup)
    q = quotas[quota]
    if not pd.api.types.is_integer_dtype(q.dtype) or bool(q.isna().any()):
        values = q.tolist()  # the error path only: one row per person

        def whole(v: object) -> bool:
            if isinstance(v, bool | np.bool_):
                return False
            if isinstance(v, int | np.integer):
                return True
            if not isinstance(v, float | np.floating):
                return False
            f = float(v)  # NaN and infinities fail the comparison
            return abs(f) < 2.0**63 and f % 1 == 0

        # the first gap, fraction, infinity, number beyond int64 or non-number; when every value
        # is a whole int64 stored as a float, the first row (the dtype is what is wrong)
        pos = next((i for i, v in enumerate(values) if pd.isna(v) or not whole(v)), 0)
        raise DataError(
            f"column {quota!r} of quotas must hold integers (minor units), without gaps; "
            f"it has {values[pos]!r} for person {q.index[pos]!r} (dtype {q.dtype})",
            column=quota,
            row=q.index[pos],
            value=values[pos],
        )
    cents = q.to_numpy(dtype=np.int64)
    sum_minor_units(cents, name=f"column {quota!r} of quotas")  # every partial sum fits too
    return cents


def _checked_moves(
    moves: Mapping[Hashable, Hashable] | pd.Series, accounts: pd.DataFrame, account: str
) -> pd.Series:
    """Return the moves as a Series account -> new person, each account known and once."""
    move = moves if isinstance(moves, pd.Series) else pd.Series(moves, dtype=object)
    if move.index.has_duplicates:
        dup = move.index[move.index.duplicated()][0]
        raise DataError(f"moves names account {fr.show(dup)} twice", column=account, value=dup)
    upos = fr.first_true(~move.index.isin(accounts[account]))
    if upos is not None:
        raise DataError(
            f"moves names account {fr.show(move.index[upos])}, which is not in accounts",
            column=account,
            value=move.index[upos],
        )
    gone = fr.first_true(move.isna().to_numpy())
    if gone is not None:
        raise DataError(
            f"moves gives account {fr.show(move.index[gone])} no new person "
            f"({fr.show(move.iloc[gone])}); a moved account takes its quota to someone. To take "
            "quota away, lower the person's row in quotas instead",
            column=account,
            row=move.index[gone],
            value=move.iloc[gone],
        )
    return move


@renamed_parameters(owner="person")
def reassign_accounts(
    quotas: pd.DataFrame,
    accounts: pd.DataFrame,
    moves: Mapping[Hashable, Hashable] | pd.Series,
    *,
    account: str = "account_id",
    person: str = "person",
    weight: str = "weight",
    quota: str = "quota_cents",
) -> pd.DataFrame:
    """Move accounts between people and their share of quota with them (quota relief).

    Each person's quota is first split over their accounts in proportion to account weight
    (largest remainder, exact); a moved account's share then leaves its old person (relief)
    and joins the new one. People with no accounts keep their quota. The total never changes:
    a move must name a new person (``None`` or NaN is an error, not a way to drop quota).

    Parameters
    ----------
    quotas
        Quota per person, indexed by person (e.g. :func:`allocate`'s result), with ``quota``.
    accounts
        One row per account: ``account``, current ``person`` and ``weight`` (>= 0).
    moves
        New person per moved account id (a mapping or a Series indexed by account id).
    account, person, weight, quota
        Column names (``owner=`` is the deprecated name of ``person=``).

    Returns
    -------
    pandas.DataFrame
        Indexed by person (sorted; new people added), columns ``previous_cents``,
        ``moved_out_cents``, ``moved_in_cents`` and ``quota_cents`` (all int64).
        ``quota_cents`` sums to the same total as before.

    Raises
    ------
    SchemaError, DataError
        Missing columns, duplicated accounts or people, people without a quota, negative or
        NaN weights, moves of unknown accounts or to no one, quotas whose total passes int64.
    ConfigError
        A person with quota whose accounts all have zero weight but some are moved.

    Examples
    --------
    >>> quotas = pd.DataFrame({"quota_cents": [900, 100]}, index=pd.Index(["ann", "bob"],
    ...                       name="person"))
    >>> accounts = pd.DataFrame({"account_id": [1, 2, 3], "person": ["ann", "ann", "bob"],
    ...                          "weight": [2.0, 1.0, 1.0]})
    >>> reassign_accounts(quotas, accounts, {2: "bob"})
            previous_cents  moved_out_cents  moved_in_cents  quota_cents
    person
    ann                900              300               0          600
    bob                100                0             300          400
    """
    p_total = _quota_cents(quotas, quota)
    accounts = fr.require_columns(accounts, [account, person, weight], arg="accounts")
    fr.require_not_null(accounts, account, arg="accounts", key=account)
    fr.require_one_id_type(accounts, account, arg="accounts")
    fr.require_not_null(accounts, person, arg="accounts", key=account)
    fr.require_unique(accounts, account, arg="accounts")
    aw = fr.numeric_column(accounts, weight, arg="accounts", key=account, allow_negative=False)
    holders = accounts[person]
    code = quotas.index.get_indexer(pd.Index(holders))
    pos = fr.first_true(code < 0)
    if pos is not None:
        raise DataError(
            f"column {person!r} of accounts has person {fr.show(holders.iloc[pos])} at "
            f"{fr.describe_row(accounts, pos, account)} with no row in quotas",
            column=person,
            row=accounts.index[pos],
            value=holders.iloc[pos],
        )
    move = _checked_moves(moves, accounts, account)
    moved = accounts[account].isin(move.index).to_numpy()
    has_weight = np.bincount(code, weights=aw, minlength=len(quotas)) > 0
    bad = fr.first_true(moved & ~has_weight[code] & (p_total[code] != 0))
    if bad is not None:
        raise ConfigError(
            f"person {fr.show(holders.iloc[bad])} has quota but only zero-weight accounts; cannot "
            "tell what share the moved accounts carry",
            column=weight,
            value=holders.iloc[bad],
        )
    big = has_weight & ((p_total > 2**62) | (p_total < -(2**62)))  # the exact split's range
    fr.refuse_first(
        quotas,
        big,
        quota,
        arg="quotas",
        problem="quota",
        then=": beyond +-2**62 minor units, the most an exact split over the person's accounts "
        "takes; express the quotas in a larger unit",
        values=p_total,
    )
    share = split_minor_units(np.where(has_weight, p_total, 0), aw, code)
    moved_share = np.where(moved, share, 0)
    new_person = accounts[account].map(move).to_numpy()[moved]
    try:
        everyone = quotas.index.union(pd.Index(pd.unique(new_person))).sort_values()
    except TypeError:
        raise DataError(
            "moves names new people whose labels cannot be sorted with the people of quotas",
            column=person,
        ) from None
    n = len(everyone)
    out_cents = sum_minor_units(moved_share, everyone.get_indexer(pd.Index(holders)), n)
    in_cents = sum_minor_units(moved_share[moved], everyone.get_indexer(pd.Index(new_person)), n)
    prev = np.zeros(n, dtype=np.int64)
    prev[everyone.get_indexer(quotas.index)] = p_total
    return pd.DataFrame(
        {
            "previous_cents": prev,
            "moved_out_cents": out_cents,
            "moved_in_cents": in_cents,
            "quota_cents": prev - out_cents + in_cents,
        },
        index=pd.Index(everyone, name=quotas.index.name or person),
    )
