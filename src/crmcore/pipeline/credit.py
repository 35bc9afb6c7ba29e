"""Split credit: share each deal's amount among the people who worked it, to the cent.

Two kinds of split, as in most CRMs:

* **revenue** splits divide the deal: the revenue shares of a deal must total exactly 100 %, and
  the credited amounts add up to the deal amount to the cent;
* **overlay** splits are extra credit (a specialist, a manager) on top of the deal: their
  shares may total anything (less or more than 100 %) and do not count towards the 100 %.

Amounts are converted to integer minor units (cents) and split by the largest-remainder method
(:func:`crmcore.money.split_minor_units`), so nothing is lost or invented by rounding.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from crmcore._frames import (
    check_choice,
    check_scalar,
    describe_row,
    first_true,
    lookup_ids,
    numeric_column,
    require_columns,
    require_not_null,
    require_unique,
    show,
)
from crmcore.errors import DataError, SchemaError
from crmcore.money import split_minor_units, to_minor_units

__all__ = ["credit_totals", "split_credit"]

REVENUE = "revenue"
OVERLAY = "overlay"
_SPLIT_TYPES = (REVENUE, OVERLAY)


def _percent(total: float) -> str:
    return f"{total * 100:.10g} %"


def split_credit(
    opportunities: pd.DataFrame,
    splits: pd.DataFrame,
    *,
    opportunity: str = "opportunity_id",
    amount: str = "amount",
    person: str = "person",
    share: str = "share",
    split_type: str | None = None,
    owner: str | None = None,
    scale: Literal["fraction", "percent"] = "fraction",
    decimals: int = 2,
    tolerance: float = 1e-9,
) -> pd.DataFrame:
    """Credit each deal's amount to people by split shares, reconciling to the cent.

    Every deal's revenue splits must total 100 % (within ``tolerance``); the credited revenue
    amounts of a deal then add up to the deal amount exactly, in minor units. Overlay splits
    (``split_type`` value ``"overlay"``) are credited on top and may total anything; their
    credited amounts add up to the deal amount times their total share, rounded half away from
    zero to the minor unit.

    Rounding: each person gets ``floor(amount_cents * share / total_share)`` cents and the cents
    left over go one each to the largest fractional remainders. **Tie rule**: equal remainders
    go to the person who sorts first (rows are ordered by deal, person, split type first), so
    the result never depends on row order. Negative amounts (refunds) are split with the same
    sign.

    Parameters
    ----------
    opportunities
        One row per deal: ``opportunity`` (unique id), ``amount`` (any sign), and ``owner`` when
        given.
    splits
        One row per (deal, person, split type): ``opportunity``, ``person``, ``share`` and, when
        ``split_type`` is given, that column with values ``"revenue"`` or ``"overlay"``. May be
        empty when every deal falls back to its owner.
    opportunity, amount, person, share
        Column names.
    split_type
        Column of ``splits`` holding ``"revenue"`` / ``"overlay"``; ``None`` (default): every
        split is a revenue split.
    owner
        Column of ``opportunities`` naming the deal owner. A deal without revenue splits is
        then credited 100 % to its owner; without ``owner`` such a deal is an error.
    scale
        How shares are written: ``"fraction"`` (default, 1.0 = 100 %) or ``"percent"``
        (100 = 100 %). Output shares keep the input scale.
    decimals
        Minor-unit digits of the currency (2: cents).
    tolerance
        How far (as a fraction, whatever ``scale``) a deal's revenue shares may be from 100 %.

    Returns
    -------
    pandas.DataFrame
        One row per (deal, person, split type), indexed by ``(opportunity, person,
        split_type)`` — the last level is named ``split_type`` when that argument is ``None``
        — and sorted by it, with columns:

        ``share``
            the share as given (in ``scale``); 1 (or 100) for an owner fallback row;
        ``credited_cents``
            credited amount in minor units, int64;
        ``credited``
            the same as a decimal amount (``credited_cents / 10**decimals``);
        ``owner_default``
            True for a row created by the owner fallback.

    Raises
    ------
    SchemaError
        A column is missing or ``opportunities`` is empty.
    ColumnTypeError
        Amounts or shares are not numbers.
    DataError
        Duplicate deal ids; missing ids, persons or owners; NaN/infinite amounts; negative
        shares; an unknown split type; a split naming a deal not in ``opportunities``; the same
        (deal, person, split type) twice; revenue shares of a deal not totalling 100 % (the
        message names the deal and its total); a deal without revenue splits and no ``owner``.
    ConfigError
        Bad ``scale``, ``decimals`` or ``tolerance``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import split_credit
    >>> deals = pd.DataFrame({"opportunity_id": [1], "amount": [1000.01]})
    >>> splits = pd.DataFrame({"opportunity_id": [1, 1, 1], "person": ["ann", "bob", "cy"],
    ...                        "share": [0.5, 0.3, 0.2]})
    >>> split_credit(deals, splits)[["share", "credited_cents", "credited"]]
                                      share  credited_cents  credited
    opportunity_id person split_type
    1              ann    revenue       0.5           50001    500.01
                   bob    revenue       0.3           30000    300.00
                   cy     revenue       0.2           20000    200.00
    """
    check_choice(scale, "scale", ("fraction", "percent"))
    check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    check_scalar(tolerance, "tolerance", kind=float, min_value=0.0, max_value=0.01)
    opp_cols = [opportunity, amount] + ([owner] if owner is not None else [])
    require_columns(opportunities, opp_cols, arg="opportunities")
    split_cols = [opportunity, person, share] + ([split_type] if split_type is not None else [])
    require_columns(splits, split_cols, arg="splits", allow_empty=True)
    type_name = split_type if split_type is not None else "split_type"

    require_not_null(opportunities, opportunity, arg="opportunities")
    require_unique(opportunities, opportunity, arg="opportunities")
    amounts = numeric_column(
        opportunities, amount, arg="opportunities", key=opportunity, what="finite amounts"
    )
    deal_cents = np.asarray(to_minor_units(amounts, decimals, name=f"column {amount!r}"))
    n_deals = len(opportunities)

    require_not_null(splits, opportunity, arg="splits")
    require_not_null(splits, person, arg="splits", key=opportunity)
    shares = numeric_column(splits, share, arg="splits", key=opportunity, what="finite shares")
    pos = first_true(shares < 0)
    if pos is not None:
        raise DataError(
            f"column {share!r} of splits has negative share {show(shares[pos])} at "
            f"{describe_row(splits, pos, opportunity)}; shares must be >= 0",
            column=share,
            row=splits.index[pos],
            value=shares[pos],
        )
    if split_type is not None:
        require_not_null(splits, split_type, arg="splits", key=opportunity)
        types = splits[split_type].to_numpy(dtype=object)
        pos = first_true(~np.isin(types, np.array(_SPLIT_TYPES, dtype=object)))
        if pos is not None:
            raise DataError(
                f"column {split_type!r} of splits has value {show(types[pos])} at "
                f"{describe_row(splits, pos, opportunity)}; expected 'revenue' or 'overlay'",
                column=split_type,
                row=splits.index[pos],
                value=types[pos],
            )
    else:
        types = np.full(len(splits), REVENUE, dtype=object)
    deal_pos = lookup_ids(
        splits,
        opportunity,
        pd.Index(opportunities[opportunity]),
        arg="splits",
        what="deal",
        parent="opportunities",
    )
    keyed = pd.DataFrame({"deal": deal_pos, "person": splits[person].to_numpy(), "type": types})
    pos = first_true(keyed.duplicated().to_numpy())
    if pos is not None:
        raise DataError(
            f"splits {describe_row(splits, pos, opportunity)} repeats person "
            f"{show(splits[person].iloc[pos])} with split type {show(types[pos])} for this deal; "
            "each (deal, person, split type) must appear once",
            column=person,
            row=splits.index[pos],
            value=splits[person].iloc[pos],
        )

    factor = 100.0 if scale == "percent" else 1.0
    fractions = shares / factor
    revenue = types == REVENUE
    rev_count = np.bincount(deal_pos[revenue], minlength=n_deals)
    rev_total = np.bincount(deal_pos[revenue], weights=fractions[revenue], minlength=n_deals)
    off = (rev_count > 0) & (np.abs(rev_total - 1.0) > tolerance)
    pos = first_true(off)
    if pos is not None:
        deal = opportunities[opportunity].iloc[pos]
        raise DataError(
            f"revenue splits of deal {show(deal)} ({opportunity}) total "
            f"{_percent(float(rev_total[pos]))}; they must total 100 % (overlay splits may "
            "total anything: mark them in a split_type column)",
            column=share,
            row=opportunities.index[pos],
            value=float(rev_total[pos]) * factor,
        )
    bare = rev_count == 0
    owner_rows = np.flatnonzero(bare)
    if owner_rows.size:
        if owner is None:
            pos = int(owner_rows[0])
            deal = opportunities[opportunity].iloc[pos]
            raise DataError(
                f"deal {show(deal)} ({opportunity}) has no revenue splits (revenue shares total "
                "0 %); give it splits totalling 100 % or pass owner=<column> to credit its owner",
                column=opportunity,
                row=opportunities.index[pos],
                value=deal,
            )
        owners = opportunities[owner].to_numpy(dtype=object)[owner_rows]
        missing = pd.isna(owners)
        if missing.any():
            pos = int(owner_rows[int(missing.argmax())])
            raise DataError(
                f"column {owner!r} of opportunities has a missing owner at "
                f"{describe_row(opportunities, pos, opportunity)}, a deal without revenue "
                "splits; it needs splits or an owner",
                column=owner,
                row=opportunities.index[pos],
                value=None,
            )
        extra = pd.DataFrame({"deal": owner_rows, "person": owners, "type": REVENUE})
        keyed = pd.concat([keyed, extra], ignore_index=True)
        fractions = np.concatenate([fractions, np.ones(owner_rows.size)])
        shares = np.concatenate([shares, np.full(owner_rows.size, factor)])
    default = np.zeros(len(keyed), dtype=bool)
    default[len(splits) :] = True

    ids = opportunities[opportunity].to_numpy()
    keyed["id"] = ids[keyed["deal"].to_numpy()]
    order = keyed.sort_values(["id", "person", "type"], kind="stable").index.to_numpy()
    deal_s = keyed["deal"].to_numpy()[order]
    type_s = keyed["type"].to_numpy()[order]
    frac_s = fractions[order]
    credited = np.zeros(order.size, dtype=np.int64)

    rev_s = type_s == REVENUE
    credited[rev_s] = split_minor_units(deal_cents, frac_s[rev_s], deal_s[rev_s])
    over_s = ~rev_s
    if over_s.any():
        codes, uniq = pd.factorize(deal_s[over_s])
        over_share = np.bincount(codes, weights=frac_s[over_s], minlength=uniq.size)
        over_total = np.asarray(
            to_minor_units(deal_cents[uniq] * over_share, 0, name="overlay credit")
        )
        credited[over_s] = split_minor_units(over_total, frac_s[over_s], codes)

    index = pd.MultiIndex.from_arrays(
        [keyed["id"].to_numpy()[order], keyed["person"].to_numpy()[order], type_s],
        names=[opportunity, person, type_name],
    )
    return pd.DataFrame(
        {
            "share": shares[order],
            "credited_cents": credited,
            "credited": credited.astype(np.float64) / 10.0**decimals,
            "owner_default": default[order],
        },
        index=index,
    )


def credit_totals(credit: pd.DataFrame, *, decimals: int = 2) -> pd.DataFrame:
    """Total the credit of :func:`split_credit` per person and split type.

    Parameters
    ----------
    credit
        The frame returned by :func:`split_credit` (index levels deal, person, split type).
        May be empty (the result is then empty).
    decimals
        Minor-unit digits used for ``credited`` (the same as given to :func:`split_credit`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(person, split_type)`` and sorted, with columns ``deals`` (number of
        deals credited), ``credited_cents`` (int64, exact sum) and ``credited``.

    Raises
    ------
    SchemaError
        ``credit`` lacks the columns or index levels of :func:`split_credit` output.
    ColumnTypeError
        ``credited_cents`` holds text.
    DataError
        A missing or fractional ``credited_cents`` value.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import credit_totals, split_credit
    >>> deals = pd.DataFrame({"opportunity_id": [1, 2], "amount": [100.0, 50.0]})
    >>> splits = pd.DataFrame({"opportunity_id": [1, 1, 2], "person": ["ann", "bob", "ann"],
    ...                        "share": [0.5, 0.5, 1.0]})
    >>> credit_totals(split_credit(deals, splits))
                       deals  credited_cents  credited
    person split_type
    ann    revenue         2           10000     100.0
    bob    revenue         1            5000      50.0
    """
    check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    require_columns(credit, ["credited_cents"], arg="credit", allow_empty=True)
    require_not_null(credit, "credited_cents", arg="credit")
    if not pd.api.types.is_integer_dtype(credit["credited_cents"].dtype):
        values = numeric_column(credit, "credited_cents", arg="credit")  # text, inf: an error
        pos = first_true(values != np.round(values))
        if pos is not None:
            raise DataError(
                f"credited_cents of credit is {show(values[pos])} at "
                f"{describe_row(credit, pos, None)}; expected whole minor units",
                column="credited_cents",
                row=credit.index[pos],
                value=values[pos],
            )
    if credit.index.nlevels != 3:
        raise SchemaError(
            "credit must be split_credit output, indexed by (deal, person, split type); "
            f"got {credit.index.nlevels} index level(s)"
        )
    names = list(credit.index.names)
    cents = pd.Series(
        credit["credited_cents"].to_numpy(dtype=np.int64), index=credit.index, name="cents"
    )
    grouped = cents.groupby(level=[1, 2], sort=True)
    out = pd.DataFrame(
        {
            "deals": grouped.size().astype(np.int64),
            "credited_cents": grouped.sum().astype(np.int64),
        }
    )
    out["credited"] = out["credited_cents"].to_numpy(dtype=np.float64) / 10.0**decimals
    out.index.names = names[1:]
    return out
