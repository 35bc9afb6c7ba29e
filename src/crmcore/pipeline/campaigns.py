"""Campaign return on investment with first-touch, last-touch or even attribution.

A *touch* links a campaign to a lead and, when the lead became a deal, to an opportunity. The
won revenue of every touched deal is attributed to campaigns by one of three models and then
compared with each campaign's cost. Attributed revenue is held in integer minor units, so the
attributed revenue of all campaigns adds up exactly to the won revenue of the touched deals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._frames import (
    check_choice,
    check_scalar,
    lookup_ids,
    numeric_column,
    require_columns,
    require_not_null,
    require_unique,
)
from crmcore.money import split_minor_units
from crmcore.pipeline._dates import date_column
from crmcore.pipeline._deals import Deals, parse_deals, sum_cents

__all__ = ["campaign_roi"]

MODELS = ("first_touch", "last_touch", "even")

_COLUMNS = (
    "campaigns",
    "cost",
    "touches",
    "leads",
    "deals_influenced",
    "deals_closed",
    "deals_won",
    "attributed_deals",
    "attributed_revenue_cents",
    "attributed_revenue",
    "roi",
    "deal_rate",
    "win_rate",
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _distinct_pairs(first: IntArray, second: IntArray, n_second: int) -> tuple[IntArray, IntArray]:
    """Distinct (first, second) pairs, sorted by first then second."""
    key = np.unique(first.astype(np.int64) * max(n_second, 1) + second.astype(np.int64))
    return key // max(n_second, 1), key % max(n_second, 1)


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


@attrs.frozen(kw_only=True, eq=False)
class _Campaigns:
    """Checked campaigns: cost, output group and id rank of each, and the group labels."""

    costs: FloatArray
    group: IntArray
    keys: pd.Index
    ids: pd.Index
    rank: IntArray


def _campaigns(
    campaigns: pd.DataFrame, by_cols: list[str], *, campaign: str, cost: str
) -> _Campaigns:
    require_not_null(campaigns, campaign, arg="campaigns")
    require_unique(campaigns, campaign, arg="campaigns")
    costs = numeric_column(
        campaigns, cost, arg="campaigns", key=campaign, allow_negative=False, what="costs >= 0"
    )
    for col in by_cols:
        require_not_null(campaigns, col, arg="campaigns", key=campaign)
    grouped = campaigns.groupby(by_cols or [campaign], sort=True)
    return _Campaigns(
        costs=costs,
        group=np.asarray(grouped.ngroup().to_numpy(), dtype=np.int64),
        keys=grouped.size().index,
        ids=pd.Index(campaigns[campaign]),
        rank=pd.factorize(campaigns[campaign], sort=True)[0].astype(np.int64),
    )


@attrs.frozen(kw_only=True, eq=False)
class _Touches:
    """Checked touches: campaign and deal position (-1: none), time rank and output group."""

    camp: IntArray
    deal: IntArray
    time: IntArray
    group: IntArray
    n_touches: IntArray
    n_leads: IntArray


def _touches(
    touches: pd.DataFrame,
    camps: _Campaigns,
    deals: Deals,
    *,
    campaign: str,
    opportunity: str,
    touched_at: str,
    lead: str | None,
) -> _Touches:
    require_not_null(touches, campaign, arg="touches")
    t_camp = lookup_ids(
        touches, campaign, camps.ids, arg="touches", what="campaign", parent="campaigns"
    )
    t_deal = lookup_ids(
        touches,
        opportunity,
        deals.ids,
        arg="touches",
        what="deal",
        parent="opportunities",
        key=campaign,
        allow_missing=True,
    )
    if len(touches):
        times = date_column(touches, touched_at, arg="touches", key=campaign)
        t_time = pd.factorize(times, sort=True)[0].astype(np.int64)
    else:
        t_time = np.zeros(0, dtype=np.int64)
    n_groups = len(camps.keys)
    t_group = np.asarray(camps.group[t_camp], dtype=np.int64)
    n_touches = np.bincount(t_group, minlength=n_groups).astype(np.int64)
    n_leads = n_touches
    if lead is not None:
        require_not_null(touches, lead, arg="touches", key=campaign)
        lead_codes, lead_ids = pd.factorize(touches[lead])
        lg, _ = _distinct_pairs(t_group, lead_codes.astype(np.int64), len(lead_ids))
        n_leads = np.bincount(lg, minlength=n_groups).astype(np.int64)
    return _Touches(
        camp=t_camp, deal=t_deal, time=t_time, group=t_group, n_touches=n_touches, n_leads=n_leads
    )


def _influence(tch: _Touches, deals: Deals, n_groups: int) -> tuple[IntArray, IntArray, IntArray]:
    """Distinct deals each group touched: all of them, the closed ones and the won ones."""
    linked = tch.deal >= 0
    pg, pdeal = _distinct_pairs(tch.group[linked], tch.deal[linked], len(deals.ids))
    influenced = np.bincount(pg, minlength=n_groups).astype(np.int64)
    closed = np.bincount(pg[~deals.is_open[pdeal]], minlength=n_groups).astype(np.int64)
    won_count = np.bincount(pg[deals.is_won[pdeal]], minlength=n_groups).astype(np.int64)
    return influenced, closed, won_count


def _credited_touches(
    model: str, camps: _Campaigns, tch: _Touches, deals: Deals
) -> tuple[IntArray, IntArray, FloatArray]:
    """Campaign rank, credited minor units and deal fraction of each (won deal, campaign) pair.

    First/last touch: the earliest/latest touch of each won deal, ties to the campaign id that
    sorts first; even: every distinct campaign of the deal, cents split by largest remainder.
    """
    linked = tch.deal >= 0
    credit_rows = np.zeros(len(tch.deal), dtype=bool)
    credit_rows[linked] = deals.is_won[tch.deal[linked]]
    a_deal = tch.deal[credit_rows]
    a_rank = camps.rank[tch.camp[credit_rows]]
    deal_cents = deals.money.cents
    if model == "even":
        r_deal, r_rank = _distinct_pairs(a_deal, a_rank, len(camps.rank))
        codes, uniq = pd.factorize(r_deal)
        cents = split_minor_units(deal_cents[uniq], np.ones(r_deal.size), codes)
        parts = np.bincount(codes, minlength=uniq.size)
        fraction = 1.0 / parts[codes] if r_deal.size else np.zeros(0)
        return r_rank, cents, fraction
    a_time = tch.time[credit_rows]
    timing = a_time if model == "first_touch" else -a_time
    order = np.lexsort((a_rank, timing, a_deal))
    d_sorted = a_deal[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = d_sorted[1:] != d_sorted[:-1]
    return a_rank[order][first], deal_cents[d_sorted[first]], np.ones(int(first.sum()))


def campaign_roi(
    campaigns: pd.DataFrame,
    touches: pd.DataFrame,
    opportunities: pd.DataFrame,
    *,
    model: Literal["first_touch", "last_touch", "even"] = "first_touch",
    by: str | Sequence[str] | None = None,
    campaign: str = "campaign_id",
    cost: str = "cost",
    opportunity: str = "opportunity_id",
    touched_at: str = "touched_at",
    lead: str | None = None,
    stage: str = "stage",
    won: str = "won",
    lost: str = "lost",
    amount: str = "amount",
    decimals: int = 2,
) -> pd.DataFrame:
    """Cost, influenced and won deals, attributed revenue and ROI per campaign (or group).

    Every touch of a deal counts, whatever its time (filter ``touches`` first to impose an
    attribution window, e.g. only touches before the deal's creation). A deal is *influenced*
    by every campaign that touched it, *closed* when its stage is ``won`` or ``lost``, and its
    won revenue is attributed by ``model``:

    ``"first_touch"``
        all of it to the campaign of the deal's earliest touch;
    ``"last_touch"``
        all of it to the campaign of the deal's latest touch;
    ``"even"``
        equal parts to each *distinct* campaign that touched the deal (a campaign touching a
        deal three times still gets one part), split in minor units by largest remainder.

    **Ties**: touches of one deal at the same time are ordered by campaign id, and the campaign
    whose id sorts first wins the tie, in both first- and last-touch models; in the even model,
    left-over cents go to the campaigns whose ids sort first. Row order never matters.

    Per campaign (or per group of campaigns with equal ``by`` values, counting each deal or
    lead once per group):

    * ``roi = (attributed_revenue - cost) / cost``; NaN when the cost is 0 (no spend, no
      return on it);
    * ``deal_rate = deals_influenced / leads``, where ``leads`` counts the distinct ``lead`` ids
      touched, or the touch rows when ``lead`` is not given; NaN without touches;
    * ``win_rate = deals_won / deals_closed`` over influenced deals; NaN when none closed.

    Parameters
    ----------
    campaigns
        One row per campaign: ``campaign`` (unique id), ``cost`` (>= 0) and any ``by`` columns.
    touches
        One row per touch: ``campaign``, ``opportunity`` (missing when the touch led to no
        deal), ``touched_at`` and, when given, ``lead``. May be empty.
    opportunities
        One row per deal: ``opportunity`` (unique), ``stage`` and ``amount`` (>= 0). Deals
        nobody touched are allowed and ignored. May be empty.
    model
        ``"first_touch"`` (default), ``"last_touch"`` or ``"even"``.
    by
        Column(s) of ``campaigns`` to group by (e.g. ``"channel"`` or ``["region",
        "channel"]``); ``None`` (default): one row per campaign.
    campaign, cost, opportunity, touched_at, lead, stage, amount
        Column names.
    won, lost
        Stage values of won and lost deals; any other stage is open.
    decimals
        Minor-unit digits of the currency (2: cents).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``campaign`` (or the ``by`` columns) and sorted, with columns
        ``campaigns`` (number of campaigns in the row), ``cost``, ``touches``, ``leads``,
        ``deals_influenced``, ``deals_closed``, ``deals_won`` (int64 counts of distinct deals),
        ``attributed_deals`` (won deals credited: 1 per deal, or ``1/k`` when ``k`` campaigns
        share it), ``attributed_revenue_cents`` (int64), ``attributed_revenue``, ``roi``,
        ``deal_rate`` and ``win_rate``.

    Raises
    ------
    SchemaError
        A column is missing or ``campaigns`` is empty.
    ColumnTypeError
        Costs or amounts are not numbers, touch times are not dates.
    DataError
        Missing or duplicate ids; negative or NaN costs or amounts; a touch naming an unknown
        campaign or deal; missing stages, leads or ``by`` values.
    ConfigError
        Unknown ``model``; bad ``decimals``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import campaign_roi
    >>> campaigns = pd.DataFrame({"campaign_id": ["ads", "fair"], "cost": [100.0, 400.0]})
    >>> touches = pd.DataFrame({
    ...     "campaign_id": ["ads", "fair", "fair"],
    ...     "opportunity_id": [1, 1, 2],
    ...     "touched_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-02-01"])})
    >>> deals = pd.DataFrame({"opportunity_id": [1, 2], "stage": ["won", "lost"],
    ...                       "amount": [1000.0, 500.0]})
    >>> campaign_roi(campaigns, touches, deals)[["deals_influenced", "attributed_revenue", "roi"]]
                 deals_influenced  attributed_revenue  roi
    campaign_id
    ads                         1              1000.0  9.0
    fair                        2                 0.0 -1.0
    """
    check_choice(model, "model", MODELS)
    check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    by_cols: list[str] = [] if by is None else ([by] if isinstance(by, str) else list(by))
    campaigns = require_columns(campaigns, [campaign, cost, *by_cols], arg="campaigns")
    touch_cols = [campaign, opportunity, touched_at] + ([lead] if lead is not None else [])
    touches = require_columns(touches, touch_cols, arg="touches", allow_empty=True)
    require_columns(
        opportunities, [opportunity, stage, amount], arg="opportunities", allow_empty=True
    )
    camps = _campaigns(campaigns, by_cols, campaign=campaign, cost=cost)
    deals = parse_deals(
        opportunities,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        won=won,
        lost=lost,
        decimals=decimals,
        allow_empty=True,
    )
    tch = _touches(
        touches,
        camps,
        deals,
        campaign=campaign,
        opportunity=opportunity,
        touched_at=touched_at,
        lead=lead,
    )
    n_groups = len(camps.keys)
    influenced, closed, won_count = _influence(tch, deals, n_groups)
    # Attribution of won revenue to the groups of the credited campaigns.
    rank_to_camp = np.empty(len(camps.rank), dtype=np.int64)
    rank_to_camp[camps.rank] = np.arange(len(camps.rank), dtype=np.int64)
    r_rank, cents, fraction = _credited_touches(model, camps, tch, deals)
    r_group = camps.group[rank_to_camp[r_rank]].astype(np.int64)
    attributed = sum_cents(cents, r_group, n_groups, name="attributed revenue", labels=camps.keys)
    cost_sum = np.bincount(camps.group, weights=camps.costs, minlength=n_groups).astype(np.float64)
    revenue = attributed.astype(np.float64) / 10.0**decimals
    result = pd.DataFrame(
        {
            "campaigns": np.bincount(camps.group, minlength=n_groups).astype(np.int64),
            "cost": cost_sum.astype(np.float64),
            "touches": tch.n_touches,
            "leads": tch.n_leads,
            "deals_influenced": influenced,
            "deals_closed": closed,
            "deals_won": won_count,
            "attributed_deals": np.bincount(r_group, weights=fraction, minlength=n_groups),
            "attributed_revenue_cents": attributed,
            "attributed_revenue": revenue,
            "roi": _ratio(revenue - cost_sum, cost_sum),
            "deal_rate": _ratio(influenced.astype(np.float64), tch.n_leads.astype(np.float64)),
            "win_rate": _ratio(won_count.astype(np.float64), closed.astype(np.float64)),
        },
        index=camps.keys,
    )
    return result[list(_COLUMNS)]
