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

from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._compat import renamed_parameters
from crmcore._frames import (
    check_choice,
    check_scalar,
    describe_row,
    first_true,
    lookup_ids,
    numeric_column,
    refuse_first,
    require_columns,
    require_not_null,
    require_unique,
    show,
)
from crmcore.errors import DataError, SchemaError
from crmcore.money import split_minor_units, to_minor_units
from crmcore.pipeline._deals import minor_units, sum_cents

__all__ = ["credit_totals", "split_credit"]

REVENUE = "revenue"
OVERLAY = "overlay"
_SPLIT_TYPES = (REVENUE, OVERLAY)
_EXACT_UNITS = float(2**53)


def _percent(total: float) -> str:
    return f"{total * 100:.10g} %"


@attrs.frozen(kw_only=True, eq=False)
class _Lines:
    """Credit lines before the split, in input order.

    Per line: deal position, person, split type, share (in the input scale and as a fraction
    of 100 %) and whether it is a default-person fallback.
    """

    deal: npt.NDArray[np.int64]
    person: npt.NDArray[Any]
    kind: npt.NDArray[Any]
    share: npt.NDArray[np.float64]
    fraction: npt.NDArray[np.float64]
    default: npt.NDArray[np.bool_]


def _split_lines(
    opportunities: pd.DataFrame,
    splits: pd.DataFrame,
    *,
    opportunity: str,
    person: str,
    share: str,
    split_type: str | None,
    factor: float,
) -> _Lines:
    """Check the split rows (shares >= 0, known types and deals, no repeats) as lines."""
    require_not_null(splits, opportunity, arg="splits")
    require_not_null(splits, person, arg="splits", key=opportunity)
    shares = numeric_column(splits, share, arg="splits", key=opportunity, what="finite shares")
    refuse_first(splits, shares < 0, share, arg="splits", problem="negative share",
                 then="; shares must be >= 0", key=opportunity, values=shares)  # fmt: skip
    if split_type is not None:
        require_not_null(splits, split_type, arg="splits", key=opportunity)
        types = splits[split_type].to_numpy(dtype=object)
        known = np.isin(types, np.array(_SPLIT_TYPES, dtype=object))
        refuse_first(splits, ~known, split_type, arg="splits", problem="value",
                     then="; expected 'revenue' or 'overlay'", key=opportunity,
                     values=types)  # fmt: skip
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
    people = splits[person].to_numpy()
    keyed = pd.DataFrame({"deal": deal_pos, "person": people, "type": types})
    pos = first_true(keyed.duplicated().to_numpy())
    if pos is not None:
        raise DataError(
            f"splits {describe_row(splits, pos, opportunity)} repeats person "
            f"{show(people[pos])} with split type {show(types[pos])} for this deal; "
            "each (deal, person, split type) must appear once",
            column=person,
            row=splits.index[pos],
            value=people[pos],
        )
    return _Lines(
        deal=deal_pos,
        person=people,
        kind=types,
        share=shares,
        fraction=shares / factor,
        default=np.zeros(len(splits), dtype=bool),
    )


def _check_revenue_totals(
    opportunities: pd.DataFrame,
    splits: pd.DataFrame,
    lines: _Lines,
    *,
    opportunity: str,
    share: str,
    factor: float,
    tolerance: float,
) -> npt.NDArray[np.bool_]:
    """Every deal's revenue shares total 100 %; returns which deals have none at all."""
    n_deals = len(opportunities)
    revenue = lines.kind == REVENUE
    rev_count = np.bincount(lines.deal[revenue], minlength=n_deals)
    rev_total = np.bincount(lines.deal[revenue], weights=lines.fraction[revenue], minlength=n_deals)
    pos = first_true((rev_count > 0) & (np.abs(rev_total - 1.0) > tolerance))
    if pos is not None:
        deal = opportunities[opportunity].iloc[pos]
        # Name the deal's split that most likely makes the total wrong: its largest share when
        # they total too much, its smallest when too little (lines start with the splits rows).
        mine = np.flatnonzero(revenue[: len(splits)] & (lines.deal[: len(splits)] == pos))
        over = not rev_total[pos] < 1.0
        pick = mine[np.argmax(lines.fraction[mine]) if over else np.argmin(lines.fraction[mine])]
        value = splits[share].iloc[pick]
        raise DataError(
            f"revenue splits of deal {show(deal)} ({opportunity}) total "
            f"{_percent(float(rev_total[pos]))}; they must total 100 % (overlay splits may "
            f"total anything: mark them in a split_type column); its "
            f"{'largest' if over else 'smallest'} share in column {share!r} of splits is "
            f"{show(value)} at {describe_row(splits, int(pick), opportunity)}",
            column=share,
            row=splits.index[pick],
            value=value,
        )
    return np.asarray(rev_count == 0)


def _with_defaults(
    opportunities: pd.DataFrame,
    lines: _Lines,
    bare: npt.NDArray[np.bool_],
    *,
    opportunity: str,
    default_person: str | None,
    factor: float,
) -> _Lines:
    """Credit deals without revenue splits 100 % to their default person (or refuse)."""
    rows = np.flatnonzero(bare)
    if not rows.size:
        return lines
    if default_person is None:
        pos = int(rows[0])
        deal = opportunities[opportunity].iloc[pos]
        raise DataError(
            f"deal {show(deal)} ({opportunity}) has no revenue splits (revenue shares total "
            "0 %); give it splits totalling 100 % or pass default_person=<column> to credit "
            "the person it belongs to",
            column=opportunity,
            row=opportunities.index[pos],
            value=deal,
        )
    people = opportunities[default_person].to_numpy(dtype=object)[rows]
    missing = pd.isna(people)
    if missing.any():
        pos = int(rows[int(missing.argmax())])
        raise DataError(
            f"column {default_person!r} of opportunities has a missing person at "
            f"{describe_row(opportunities, pos, opportunity)}, a deal without revenue "
            "splits; it needs splits or a default person",
            column=default_person,
            row=opportunities.index[pos],
            value=None,
        )
    n = rows.size
    return _Lines(
        deal=np.concatenate([lines.deal, rows]),
        person=np.concatenate([lines.person.astype(object), people]),
        kind=np.concatenate([lines.kind, np.full(n, REVENUE, dtype=object)]),
        share=np.concatenate([lines.share, np.full(n, factor)]),
        fraction=np.concatenate([lines.fraction, np.ones(n)]),
        default=np.concatenate([lines.default, np.ones(n, dtype=bool)]),
    )


def _overlay_totals(
    opportunities: pd.DataFrame,
    deal_cents: npt.NDArray[np.int64],
    deals: npt.NDArray[np.int64],
    share: npt.NDArray[np.float64],
    *,
    opportunity: str,
) -> npt.NDArray[np.int64]:
    """Overlay credit of each deal: its amount times its total overlay share, in minor units."""
    raw = deal_cents[deals] * share
    pos = first_true(np.abs(raw) >= _EXACT_UNITS)
    if pos is not None:
        at = int(deals[pos])
        raise DataError(
            f"overlay splits of deal {show(opportunities[opportunity].iloc[at])} "
            f"({describe_row(opportunities, at, opportunity)}) total {_percent(float(share[pos]))}"
            " of its amount, too much credit to hold exactly in minor units (2**53)",
            column=opportunity,
            row=opportunities.index[at],
            value=float(raw[pos]),
        )
    return np.asarray(to_minor_units(raw, 0, name="overlay credit"), dtype=np.int64)


def _credit(
    opportunities: pd.DataFrame,
    lines: _Lines,
    deal_cents: npt.NDArray[np.int64],
    *,
    opportunity: str,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Sorted line order (deal id, person, type) and the credited minor units per line."""
    ids = opportunities[opportunity].to_numpy()
    keyed = pd.DataFrame({"id": ids[lines.deal], "person": lines.person, "type": lines.kind})
    order = keyed.sort_values(["id", "person", "type"], kind="stable").index.to_numpy()
    deal_s = lines.deal[order]
    frac_s = lines.fraction[order]
    rev_s = lines.kind[order] == REVENUE
    credited = np.zeros(order.size, dtype=np.int64)
    credited[rev_s] = split_minor_units(deal_cents, frac_s[rev_s], deal_s[rev_s])
    over_s = ~rev_s
    if over_s.any():
        codes, uniq = pd.factorize(deal_s[over_s])
        over_share = np.bincount(codes, weights=frac_s[over_s], minlength=uniq.size).astype(
            np.float64
        )
        totals = _overlay_totals(
            opportunities, deal_cents, uniq, over_share, opportunity=opportunity
        )
        credited[over_s] = split_minor_units(totals, frac_s[over_s], codes)
    return order, credited


@renamed_parameters(owner="default_person")
def split_credit(
    opportunities: pd.DataFrame,
    splits: pd.DataFrame,
    *,
    opportunity: str = "opportunity_id",
    amount: str = "amount",
    person: str = "person",
    share: str = "share",
    split_type: str | None = None,
    default_person: str | None = None,
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
        One row per deal: ``opportunity`` (unique id), ``amount`` (any sign), and
        ``default_person`` when given.
    splits
        One row per (deal, person, split type): ``opportunity``, ``person``, ``share`` and, when
        ``split_type`` is given, that column with values ``"revenue"`` or ``"overlay"``. May be
        empty when every deal falls back to its default person.
    opportunity, amount, person, share
        Column names.
    split_type
        Column of ``splits`` holding ``"revenue"`` / ``"overlay"``; ``None`` (default): every
        split is a revenue split.
    default_person
        Column of ``opportunities`` naming the person a deal belongs to (its owner in most
        CRMs). A deal without revenue splits is then credited 100 % to that person; without
        ``default_person`` such a deal is an error. (Formerly ``owner``; the old keyword still
        works for one release, with a ``DeprecationWarning``.)
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
            the share as given (in ``scale``); 1 (or 100) for a default-person row;
        ``credited_cents``
            credited amount in minor units, int64;
        ``credited``
            the same as a decimal amount (``credited_cents / 10**decimals``);
        ``owner_default``
            True for a row created by the ``default_person`` fallback.

    Raises
    ------
    SchemaError
        A column is missing or ``opportunities`` is empty.
    ColumnTypeError
        Amounts or shares are not numbers.
    DataError
        Duplicate deal ids; missing ids or persons; NaN/infinite amounts or amounts too large
        for exact minor units (naming the row label); negative
        shares; an unknown split type; a split naming a deal not in ``opportunities``; the same
        (deal, person, split type) twice; revenue shares of a deal not totalling 100 % (the
        message names the deal and its total); a deal without revenue splits and no
        ``default_person``.
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
    opp_cols = [opportunity, amount] + ([default_person] if default_person is not None else [])
    opportunities = require_columns(opportunities, opp_cols, arg="opportunities")
    split_cols = [opportunity, person, share] + ([split_type] if split_type is not None else [])
    splits = require_columns(splits, split_cols, arg="splits", allow_empty=True)
    require_not_null(opportunities, opportunity, arg="opportunities")
    require_unique(opportunities, opportunity, arg="opportunities")
    amounts = numeric_column(
        opportunities, amount, arg="opportunities", key=opportunity, what="finite amounts"
    )
    deal_cents = minor_units(
        opportunities,
        amounts,
        amount=amount,
        arg="opportunities",
        key=opportunity,
        decimals=decimals,
    )
    factor = 100.0 if scale == "percent" else 1.0
    lines = _split_lines(
        opportunities,
        splits,
        opportunity=opportunity,
        person=person,
        share=share,
        split_type=split_type,
        factor=factor,
    )
    bare = _check_revenue_totals(
        opportunities,
        splits,
        lines,
        opportunity=opportunity,
        share=share,
        factor=factor,
        tolerance=tolerance,
    )
    lines = _with_defaults(
        opportunities,
        lines,
        bare,
        opportunity=opportunity,
        default_person=default_person,
        factor=factor,
    )
    order, credited = _credit(opportunities, lines, deal_cents, opportunity=opportunity)
    ids = opportunities[opportunity].to_numpy()
    index = pd.MultiIndex.from_arrays(
        [ids[lines.deal[order]], lines.person[order], lines.kind[order]],
        names=[opportunity, person, split_type if split_type is not None else "split_type"],
    )
    return pd.DataFrame(
        {
            "share": lines.share[order],
            "credited_cents": credited,
            "credited": credited.astype(np.float64) / 10.0**decimals,
            "owner_default": lines.default[order],
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
        A missing or fractional ``credited_cents`` value, or a person's total beyond 2**63
        minor units (the message names the person and split type).

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
    credit = require_columns(credit, ["credited_cents"], arg="credit", allow_empty=True)
    require_not_null(credit, "credited_cents", arg="credit")
    if not pd.api.types.is_integer_dtype(credit["credited_cents"].dtype):
        values = numeric_column(credit, "credited_cents", arg="credit")  # text, inf: an error
        pos = first_true((values != np.round(values)) | (np.abs(values) >= 2.0**63))
        if pos is not None:
            raise DataError(
                f"credited_cents of credit is {show(values[pos])} at "
                f"{describe_row(credit, pos, None)}; expected whole minor units (int64)",
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
    sizes = grouped.size()
    total = sum_cents(
        cents.to_numpy(),
        grouped.ngroup().to_numpy(),
        len(sizes),
        name="credited_cents",
        labels=sizes.index,
    )
    out = pd.DataFrame(
        {"deals": sizes.astype(np.int64), "credited_cents": total}, index=sizes.index
    )
    out["credited"] = out["credited_cents"].to_numpy(dtype=np.float64) / 10.0**decimals
    out.index.names = names[1:]
    return out
