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

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmcore._dask import is_dask
from crmcore._frames import (
    check_scalar,
    describe_row,
    first_true,
    numeric_column,
    require_columns,
    require_not_null,
    require_unique,
    show,
)
from crmcore.errors import ConfigError, CurrencyError, DataError
from crmcore.money import to_minor_units
from crmcore.pipeline.stages import StageModel

__all__ = ["pipeline_by_stage", "weighted_pipeline"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@attrs.frozen
class _Money:
    """Amounts of a table as exact minor units in one currency (when they can be summed)."""

    cents: IntArray
    currency: npt.NDArray[Any] | None
    fx: FloatArray | None
    reporting: Any
    summable: bool


def _check_rates(rates: Mapping[Any, float], reporting_currency: Any) -> dict[Any, float]:
    if not isinstance(rates, Mapping):
        raise ConfigError(
            f"rates must be a mapping currency -> rate into the reporting currency, got "
            f"{type(rates).__name__}",
            column="rates",
        )
    out: dict[Any, float] = {}
    for cur, rate in rates.items():
        check_scalar(rate, f"rates[{cur!r}]", kind=float, min_value=0.0, include="neither")
        if not np.isfinite(float(rate)):
            raise ConfigError(f"rates[{cur!r}] == {rate!r}, must be finite", column="rates")
        out[cur] = float(rate)
    if reporting_currency is not None:
        if reporting_currency in out and out[reporting_currency] != 1.0:
            raise ConfigError(
                f"rates[{reporting_currency!r}] == {out[reporting_currency]!r}, but "
                f"{reporting_currency!r} is the reporting currency; its rate must be 1",
                column="rates",
                value=out[reporting_currency],
            )
        out[reporting_currency] = 1.0
    return out


def _money(
    frame: pd.DataFrame,
    amount: str,
    *,
    arg: str,
    key: str | None,
    currency: str | None,
    rates: Mapping[Any, float] | None,
    reporting_currency: Any,
    decimals: int,
    must_sum: bool,
) -> _Money:
    """Validate amounts (finite, >= 0) and return them as minor units of one currency.

    With ``must_sum`` several currencies without ``rates`` are a :class:`CurrencyError`;
    without it they are allowed (each deal then stays in its own currency).
    """
    check_scalar(decimals, "decimals", kind=int, min_value=0, max_value=8)
    values = numeric_column(
        frame, amount, arg=arg, key=key, allow_negative=False, what="finite amounts >= 0"
    )
    if currency is None:
        if rates is not None:
            raise ConfigError(
                "rates were given but no currency column; pass currency=<column name> so each "
                "amount can be converted",
                column="rates",
            )
        cents = np.asarray(to_minor_units(values, decimals, name=f"column {amount!r}"))
        return _Money(cents, None, None, reporting_currency, True)
    require_not_null(frame, currency, arg=arg, key=key)
    codes, uniques = pd.factorize(frame[currency], sort=False)
    cur_values = frame[currency].to_numpy(dtype=object)
    if rates is None:
        if len(uniques) > 1:
            if must_sum:
                a = int(np.argmax(codes == 0))
                b = int(np.argmax(codes == 1))
                raise CurrencyError(
                    f"{arg} mix currencies {show(uniques[0])} at {describe_row(frame, a, key)} "
                    f"and {show(uniques[1])} at {describe_row(frame, b, key)}, and no rates "
                    "were given; pass rates={currency: rate into the reporting currency} to "
                    "sum them",
                    column=currency,
                    row=frame.index[b],
                    value=uniques[1],
                )
            cents = np.asarray(to_minor_units(values, decimals, name=f"column {amount!r}"))
            return _Money(cents, cur_values, None, reporting_currency, False)
        only = uniques[0] if len(uniques) else reporting_currency
        if reporting_currency is not None and len(uniques) and only != reporting_currency:
            raise CurrencyError(
                f"{arg} are in currency {show(only)} but reporting_currency is "
                f"{reporting_currency!r}; pass rates to convert",
                column=currency,
                value=only,
            )
        cents = np.asarray(to_minor_units(values, decimals, name=f"column {amount!r}"))
        return _Money(cents, cur_values, np.ones(len(values)), only, True)
    table = _check_rates(rates, reporting_currency)
    per_code = np.empty(len(uniques), dtype=np.float64)
    for i, cur in enumerate(uniques):
        if cur not in table:
            pos = int(np.argmax(codes == i))
            known = ", ".join(repr(c) for c in table) or "none"
            raise CurrencyError(
                f"currency {show(cur)} at {describe_row(frame, pos, key)} has no exchange rate; "
                f"rates has {known}",
                column=currency,
                row=frame.index[pos],
                value=cur,
            )
        per_code[i] = table[cur]
    fx = per_code[codes]
    cents = np.asarray(to_minor_units(values * fx, decimals, name=f"column {amount!r}"))
    return _Money(cents, cur_values, fx, reporting_currency, True)


def _stage_codes(
    frame: pd.DataFrame, stage: str, model: StageModel, *, arg: str, key: str | None
) -> IntArray:
    """Code each row's stage: 0..n-1 open stages in model order, n won, n+1 lost."""
    require_not_null(frame, stage, arg=arg, key=key)
    known = [*model.stages, model.won, model.lost]
    # Factorise first, then look up the few distinct labels: hashing a million strings
    # against the model's table is several times slower than one factorize.
    row_codes, uniques = pd.factorize(frame[stage])
    table = np.asarray(
        pd.Index(known, dtype=object).get_indexer_for(pd.Index(uniques, dtype=object)),
        dtype=np.int64,
    )
    codes = np.where(row_codes < 0, -1, table[row_codes])
    pos = first_true(codes < 0)
    if pos is not None:
        value = frame[stage].iloc[pos]
        listed = ", ".join(repr(s) for s in known)
        raise DataError(
            f"column {stage!r} of {arg} has unknown stage {show(value)} at "
            f"{describe_row(frame, pos, key)}; the model knows {listed}",
            column=stage,
            row=frame.index[pos],
            value=value,
        )
    return codes.astype(np.int64)


def _check_model(model: object) -> StageModel:
    if not isinstance(model, StageModel):
        raise ConfigError(f"model must be a StageModel, got {type(model).__name__}", column="model")
    return model


@attrs.frozen
class _Deals:
    """Validated deals: stage codes, probabilities and exact money, in input row order."""

    ids: pd.Series
    codes: IntArray
    probability: FloatArray
    money: _Money
    expected: IntArray


def _deals(
    opportunities: pd.DataFrame,
    model: StageModel,
    *,
    opportunity: str,
    stage: str,
    amount: str,
    currency: str | None,
    rates: Mapping[Any, float] | None,
    reporting_currency: Any,
    decimals: int,
    must_sum: bool,
    extra: tuple[str, ...] = (),
    allow_empty: bool = False,
) -> _Deals:
    arg = "opportunities"
    model = _check_model(model)
    cols = [opportunity, stage, amount, *extra]
    if currency is not None:
        cols.append(currency)
    require_columns(opportunities, cols, arg=arg, allow_empty=allow_empty)
    require_not_null(opportunities, opportunity, arg=arg)
    require_unique(opportunities, opportunity, arg=arg)
    codes = _stage_codes(opportunities, stage, model, arg=arg, key=opportunity)
    probs = np.asarray([*model.win_probabilities, 1.0, 0.0], dtype=np.float64)[codes]
    money = _money(
        opportunities,
        amount,
        arg=arg,
        key=opportunity,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        must_sum=must_sum,
    )
    # Expected value in whole minor units, rounded half up per deal: never above the amount.
    expected = np.asarray(
        to_minor_units(money.cents.astype(np.float64) * probs, 0, name="expected amounts")
    )
    return _Deals(opportunities[opportunity], codes, probs, money, expected)


def _group_sum(codes: IntArray, values: IntArray, n: int) -> IntArray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, codes, values)
    return out


def _to_amount(cents: IntArray, decimals: int) -> FloatArray:
    return cents.astype(np.float64) / (10.0**decimals)


def weighted_pipeline(
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
        The :class:`~crmcore.pipeline.StageModel` giving each stage's win probability.
    opportunity, stage, amount
        Columns: unique deal id, stage name (an open stage of the model, or its won or lost
        stage), amount (finite, >= 0).
    currency
        Optional column with each deal's currency. With ``rates``, amounts are converted into
        the reporting currency; without, each deal stays in its own currency (fine per deal;
        :func:`pipeline_by_stage` then refuses to add several currencies).
    rates
        Mapping currency -> rate into the reporting currency (``amount * rate``). Every
        currency present needs a rate.
    reporting_currency
        Label of the reporting currency (its rate is 1; stored in ``attrs``).
    decimals
        Digits of the currency's minor unit (2 for cents).

    Returns
    -------
    pandas.DataFrame
        Indexed by the opportunity id (sorted), columns ``stage``, ``currency`` (only with
        ``currency``), ``fx_rate`` (only with ``rates``), ``amount`` (in the reporting currency
        when converted), ``win_probability`` and ``expected_amount``.
        ``attrs["reporting_currency"]`` holds the reporting currency when known.

    Raises
    ------
    SchemaError
        A column is missing or the table is empty.
    DataError
        Missing or repeated ids, an unknown stage (the message names the deal, the stage and
        the stages the model knows), NaN or negative amounts.
    CurrencyError
        A currency without a rate.
    ConfigError
        ``model`` is not a StageModel, bad rates, or rates without a currency column.

    Notes
    -----
    Dask: ``opportunities`` may also be a ``dask.dataframe.DataFrame``; deals are shuffled by
    id and weighed lazily per partition (``attrs`` are not kept). See ``docs/scaling.md``.

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
    """
    if is_dask(opportunities):
        from crmcore.pipeline import _dask

        return _dask.weighted_pipeline(
            opportunities,
            model,
            opportunity=opportunity,
            stage=stage,
            amount=amount,
            currency=currency,
            rates=rates,
            reporting_currency=reporting_currency,
            decimals=decimals,
        )
    deals = _deals(
        opportunities,
        model,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        must_sum=False,
    )
    order = deals.ids.argsort(kind="stable").to_numpy()
    labels = opportunities[stage]
    if isinstance(labels.dtype, pd.StringDtype):
        # Take the string array as is: to_numpy() would build a million Python strings that
        # the frame constructor then converts back to the same string dtype.
        stage_col: Any = labels.array.take(order)
    else:
        stage_col = labels.to_numpy()[order]
    columns: dict[str, Any] = {"stage": stage_col}
    if deals.money.currency is not None:
        columns["currency"] = deals.money.currency[order]
        if rates is not None and deals.money.fx is not None:
            columns["fx_rate"] = deals.money.fx[order]
    columns["amount"] = _to_amount(deals.money.cents[order], decimals)
    columns["win_probability"] = deals.probability[order]
    columns["expected_amount"] = _to_amount(deals.expected[order], decimals)
    out = pd.DataFrame(columns, index=pd.Index(deals.ids.to_numpy()[order], name=opportunity))
    out.attrs["reporting_currency"] = deals.money.reporting if deals.money.summable else None
    return out


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
        ``count`` (int64), ``amount``, ``win_probability`` and ``expected_amount``.

    Raises
    ------
    CurrencyError
        Several currencies without rates (the message names a deal of each), or a currency
        missing from ``rates``.
    SchemaError, DataError, ConfigError
        As in :func:`weighted_pipeline`.

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
    deals = _deals(
        opportunities,
        model,
        opportunity=opportunity,
        stage=stage,
        amount=amount,
        currency=currency,
        rates=rates,
        reporting_currency=reporting_currency,
        decimals=decimals,
        must_sum=True,
    )
    n = len(model.stages) + 2
    out = pd.DataFrame(
        {
            "count": np.bincount(deals.codes, minlength=n).astype(np.int64),
            "amount": _to_amount(_group_sum(deals.codes, deals.money.cents, n), decimals),
            "win_probability": np.asarray([*model.win_probabilities, 1.0, 0.0]),
            "expected_amount": _to_amount(_group_sum(deals.codes, deals.expected, n), decimals),
        },
        index=pd.Index([*model.stages, model.won, model.lost], name="stage", dtype=object),
    )
    out.attrs["reporting_currency"] = deals.money.reporting
    return out
