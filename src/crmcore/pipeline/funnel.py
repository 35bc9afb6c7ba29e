"""Stage-weighted pipeline: expected value per deal and totals per stage.

A deal in open stage ``s`` is expected to bring ``amount * P(win from s)``; a won deal counts at
its full amount, a lost one at zero. Money is rounded to the currency's minor unit (cents) per
deal and summed as exact ``int64`` counts of cents, so totals do not depend on row order and
reconcile exactly with :func:`~crmcore.pipeline.close_schedule`.

Amounts in several currencies are converted with an explicit ``rates`` mapping (currency ->
rate into the reporting currency). Totals over several currencies without rates are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmcore._dask import is_dask
from crmcore._memory import normal_pages
from crmcore.money import from_minor_units
from crmcore.pipeline._deals import ModelArg, check_model, parse_deals, sum_cents
from crmcore.pipeline._output import weighted_frame
from crmcore.pipeline.stages import StageModel

__all__ = ["pipeline_by_stage", "weighted_pipeline"]


@normal_pages
def weighted_pipeline(
    opportunities: pd.DataFrame,
    model: ModelArg,
    *,
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    amount: str = "amount",
    process: str = "process",
    currency: str | None = None,
    rates: Mapping[Any, float] | None = None,
    reporting_currency: Any = None,
    decimals: int = 2,
) -> pd.DataFrame:
    """Weigh each deal: its amount times the probability of winning from its stage.

    ``expected_amount = amount * win_probability``, where the win probability of an open stage
    comes from ``model`` (the *cumulative* odds of eventually winning from that stage), a won
    deal has probability 1 and a lost deal 0. Amounts and expected amounts are rounded to
    ``decimals`` places (half up) per deal; sums of them are exact.

    Parameters
    ----------
    opportunities
        One row per deal.
    model
        The :class:`~crmcore.pipeline.StageModel` giving each stage's win probability; or,
        for several sales processes at once (short transactional deals, long enterprise
        deals, projects), a mapping from each process to its stage model (a StageModel or
        its ``to_dict`` mapping).
    opportunity, stage, amount
        Columns: unique deal id, stage name (an open stage of the model, or its won or lost
        stage), amount (finite, >= 0).
    process
        With a mapping of models: the column holding each deal's sales process (a key of
        the mapping; anything else is an error naming the row label and value). Not read
        with a single model.
    currency
        Optional column with each deal's currency. With ``rates``, amounts are converted into
        the reporting currency; without, each deal stays in its own currency (fine per deal;
        :func:`pipeline_by_stage` then refuses to add several currencies).
    rates
        Mapping currency -> rate into the reporting currency (``amount * rate``). Every
        currency present needs a rate.
    reporting_currency
        Label of the reporting currency (its rate is 1), shown in the ``reporting_currency``
        column.
    decimals
        Digits of the currency's minor unit (2 for cents).

    Returns
    -------
    pandas.DataFrame
        Indexed by the opportunity id (sorted), columns ``stage``, ``process`` (only with a
        mapping of models), ``currency`` (only with
        ``currency``: the deal's own currency), ``fx_rate`` (only with ``rates``),
        ``reporting_currency`` (the named ``reporting_currency`` the amounts are in: only
        when it is named and the amounts are converted with ``rates`` or there is no
        ``currency`` column), ``amount`` (in the reporting currency when converted),
        ``win_probability`` and ``expected_amount``. Without ``rates`` each deal stays in its
        own currency, shown in ``currency``.

    Raises
    ------
    SchemaError
        A column is missing or the table is empty.
    DataError
        Missing or repeated ids, an unknown stage (the message names the deal, the stage and
        the stages the model knows), NaN or negative amounts, an amount too large for exact
        minor units (each message names the row label and the deal).
    CurrencyError
        A currency without a rate.
    ConfigError
        ``model`` is not a StageModel, bad rates, or rates without a currency column.

    Notes
    -----
    Dask: ``opportunities`` may also be a ``dask.dataframe.DataFrame``; deals are shuffled by
    id and weighed lazily per partition. See ``docs/scaling.md``.

    Examples
    --------
    The worked example: rates 0.5, 0.8, 0.9 give win probabilities 0.36, 0.72 and 0.9.

    >>> import pandas as pd
    >>> from crmcore.pipeline import StageModel, weighted_pipeline
    >>> model = StageModel.from_conversion_rates(
    ...     ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [60, 30, 30])
    >>> deals = pd.DataFrame({"opportunity_id": [3, 1, 2, 4],
    ...                       "stage": ["negotiation", "prospect", "bid", "lost"],
    ...                       "amount": [200_000, 500_000, 250_000, 90_000]})
    >>> weighted_pipeline(deals, model)
                          stage    amount  win_probability  expected_amount
    opportunity_id
    1                  prospect  500000.0             0.36         180000.0
    2                       bid  250000.0             0.72         180000.0
    3               negotiation  200000.0             0.90         180000.0
    4                      lost   90000.0             0.00              0.0

    Two sales processes, each with its own funnel: the result is the two calls on each
    process's deals, together.

    >>> quick = StageModel.from_conversion_rates(["quote"], [0.3], [7])
    >>> deals["process"] = ["enterprise", "enterprise", "enterprise", "quick"]
    >>> deals.loc[3, "stage"] = "quote"
    >>> weighted_pipeline(deals, {"enterprise": model, "quick": quick})[
    ...     ["stage", "process", "win_probability", "expected_amount"]]
                          stage     process  win_probability  expected_amount
    opportunity_id
    1                  prospect  enterprise             0.36         180000.0
    2                       bid  enterprise             0.72         180000.0
    3               negotiation  enterprise             0.90         180000.0
    4                     quote       quick             0.30          27000.0
    """
    if is_dask(opportunities):
        import crmcore.pipeline._dask as dask_adapter

        return dask_adapter.weighted_pipeline(
            opportunities,
            model,
            opportunity=opportunity,
            stage=stage,
            amount=amount,
            process=process,
            currency=currency,
            rates=rates,
            reporting_currency=reporting_currency,
            decimals=decimals,
        )
    deals = parse_deals(
        opportunities,
        model=model,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        process=process,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        must_sum=False,
    )
    weights = deals.weighted()
    order = deals.rows_by_id()
    labels = deals.frame[stage]
    if isinstance(labels.dtype, pd.StringDtype):
        # Take the string array as is: to_numpy() would build a million Python strings that
        # the frame constructor then converts back to the same string dtype.
        stage_col: Any = labels.array if isinstance(order, slice) else labels.array.take(order)
    else:
        stage_col = labels.to_numpy()[order]
    columns: dict[str, Any] = {"stage": stage_col}
    if len(deals.models) > 1 or not isinstance(model, StageModel):
        columns["process"] = opportunities[process].to_numpy()[order]
    money = deals.money
    if money.currency is not None:
        columns["currency"] = money.currency[order]
        if rates is not None and money.fx is not None:
            columns["fx_rate"] = money.fx[order]
    # Present by the arguments alone (Dask partitions must agree): amounts converted with
    # rates, or declared in the named currency; otherwise `currency` tells each deal's.
    if reporting_currency is not None and (rates is not None or currency is None):
        columns["reporting_currency"] = np.full(len(deals.ids), reporting_currency, dtype=object)
    return weighted_frame(
        columns,
        deals.ids[order].rename(opportunity),
        cents=money.cents[order],
        probability=weights.probability[order],
        expected=weights.expected[order],
        decimals=decimals,
    )


def pipeline_by_stage(
    opportunities: pd.DataFrame,
    model: StageModel,
    *,
    opportunity: str = "opportunity_id",
    stage: str = "stage",
    amount: str = "amount",
    currency: str | None = None,
    rates: Mapping[Any, float] | None = None,
    reporting_currency: Any = None,
    decimals: int = 2,
) -> pd.DataFrame:
    """Total the weighted pipeline per stage, in model order, won and lost included.

    Each stage's ``amount`` and ``expected_amount`` are exact sums of the per-deal values of
    :func:`weighted_pipeline` (rounded to the minor unit per deal, then added as integers).
    Stages without deals appear with zeros.

    Parameters
    ----------
    opportunities, model, opportunity, stage, amount, decimals
        As in :func:`weighted_pipeline`.
    currency, rates, reporting_currency
        As in :func:`weighted_pipeline`, except that deals in several currencies need
        ``rates``: adding them up without is a :class:`~crmcore.errors.CurrencyError`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``stage`` (the open stages in funnel order, then won, then lost), columns
        ``count`` (int64), ``amount``, ``win_probability``, ``expected_amount`` and, when the
        currency of the amounts is known (the ``reporting_currency`` argument, or the one
        currency of the ``currency`` column), ``reporting_currency``.

    Raises
    ------
    CurrencyError
        Several currencies without rates (the message names a deal of each), or a currency
        missing from ``rates``.
    SchemaError, DataError, ConfigError
        As in :func:`weighted_pipeline`; a total beyond 2**63 minor units is a DataError.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmcore.pipeline import StageModel, pipeline_by_stage
    >>> model = StageModel.from_conversion_rates(
    ...     ["prospect", "bid", "negotiation"], [0.5, 0.8, 0.9], [60, 30, 30])
    >>> deals = pd.DataFrame({"opportunity_id": [1, 2, 3, 4],
    ...                       "stage": ["prospect", "bid", "negotiation", "won"],
    ...                       "amount": [500_000, 250_000, 200_000, 10_000]})
    >>> pipeline_by_stage(deals, model)
                 count    amount  win_probability  expected_amount
    stage
    prospect         1  500000.0             0.36         180000.0
    bid              1  250000.0             0.72         180000.0
    negotiation      1  200000.0             0.90         180000.0
    won              1   10000.0             1.00          10000.0
    lost             0       0.0             0.00              0.0
    """
    model = check_model(model)
    deals = parse_deals(
        opportunities,
        model=model,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        must_sum=True,
    )
    codes, exp_cents = deals.weighted().codes, deals.weighted().expected
    names = [*model.stages, model.won, model.lost]
    n = len(names)
    cents = sum_cents(deals.money.cents, codes, n, name="amounts", labels=names)
    expected = sum_cents(exp_cents, codes, n, name="expected amounts", labels=names)
    columns: dict[str, Any] = {
        "count": np.bincount(codes, minlength=n).astype(np.int64),
        "amount": from_minor_units(cents, decimals),
        "win_probability": np.asarray([*model.win_probabilities, 1.0, 0.0]),
        "expected_amount": from_minor_units(expected, decimals),
    }
    if deals.money.reporting is not None:
        columns["reporting_currency"] = np.full(n, deals.money.reporting, dtype=object)
    out = pd.DataFrame(
        columns,
        index=pd.Index(names, name="stage", dtype=object),
    )
    return out
