"""Dask adapter of the pipeline area, built on the generic core :mod:`crmcore._dask`.

``weighted_pipeline`` imports this module when it is handed a ``dask.dataframe.DataFrame``:
deals are shuffled by opportunity id (:func:`crmcore._dask.map_by_key`) and the pandas
function weighs each partition, so a deal id repeated across partitions meets itself and is
reported like on the pandas path.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import pandas as pd

import crmcore._dask as core
from crmcore._frames import require_columns
from crmcore.pipeline._deals import ModelArg, Processes, check_models
from crmcore.pipeline.funnel import weighted_pipeline as pandas_pipeline
from crmcore.pipeline.stages import StageModel

__all__ = ["weighted_pipeline"]


def weighted_pipeline(
    opportunities: Any,
    model: ModelArg,
    *,
    opportunity: str,
    stage: str,
    amount: str,
    process: str = "process",
    currency: str | None,
    rates: Mapping[Any, float] | None,
    reporting_currency: Any,
    decimals: int,
) -> pd.DataFrame:
    """Weigh the deals of a Dask frame: shuffle by deal id, then the pandas path per partition.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from crmcore.pipeline import StageModel
    >>> model = StageModel.from_conversion_rates(["a", "b"], [0.5, 0.8], [10, 10])
    >>> deals = pd.DataFrame({"opportunity_id": [2, 1], "stage": ["b", "a"],
    ...                       "amount": [100.0, 100.0]})
    >>> weighted_pipeline(dd.from_pandas(deals, npartitions=2), model,
    ...                   opportunity="opportunity_id", stage="stage", amount="amount",
    ...                   currency=None, rates=None, reporting_currency=None,
    ...                   decimals=2).compute()["expected_amount"].tolist()
    [40.0, 80.0]
    """
    core.dataframe_module()
    arg = "opportunities"
    kwargs: dict[str, Any] = {
        "opportunity": opportunity,
        "stage": stage,
        "amount": amount,
        "process": process,
        "currency": currency,
        "rates": rates,
        "reporting_currency": reporting_currency,
        "decimals": decimals,
    }
    checked = check_models(model)
    columns = [opportunity, stage, amount] + ([] if currency is None else [currency])
    columns += [process] if isinstance(checked, Processes) else []
    require_columns(opportunities._meta, columns, arg=arg, allow_empty=True)
    # A one-row call on values the model accepts checks dtypes and options eagerly.
    fill: dict[str, Any] = {}
    if isinstance(checked, StageModel):
        fill[stage] = checked.stages[0]
    else:
        fill[process] = checked.names[0]
        fill[stage] = checked.models[0].stages[0]
    if currency is not None and rates:
        fill[currency] = next(iter(rates))
    sample = core.meta_sample(opportunities, columns, **fill)
    meta = pandas_pipeline(sample, model, **kwargs).iloc[:0]
    step = partial(pandas_pipeline, model=model, **kwargs)
    result: pd.DataFrame = core.map_by_key(  # a lazy Dask DataFrame at run time
        opportunities, step, key=opportunity, columns=columns, meta=meta, arg=arg
    )
    return result
