"""Customer-futures steps: BG/NBD and Pareto/NBD fits against lifetimes 0.11.3.

The input is a per-customer summary (frequency, recency, T in weeks) drawn from each model with
published CDNOW parameters (``_data.bg_nbd_columns``, ``_data.pareto_columns``): every customer
has a distinct row, so compressing identical rows gains nothing. Both engines fit the same
columns from a pandas frame; the result is the four fitted parameters. lifetimes is the peer
crmcore's fits are checked against (``docs/clv.md``), never a crmcore dependency: it runs from
the ``bench`` extra.
"""

from __future__ import annotations

import warnings
from typing import Any

from _data import BG_NBD_ROWS_PER_CUSTOMER, PARETO_ROWS_PER_CUSTOMER
from _harness import Engine, Goal, Step

from steps._engines import crmcore, pandas_load

CLV = "crmcore.clv"
#: Issue 12's goal for the fits: faster than lifetimes on the same customers.
FIT_GOAL = Goal(time=1.0, against=("lifetimes",))
#: The two fits agree to this relative difference in every parameter (lifetimes stops its
#: optimiser earlier than crmcore's Newton polish; docs/clv.md reports 2e-4).
PARAMETER_RTOL = 1e-3


def _params(model: Any, names: tuple[str, ...]) -> Any:
    import pandas as pd

    return pd.Series([float(getattr(model, k)) for k in names], index=list(names))


def _crm_bg_nbd(frame: Any) -> Any:
    from crmcore.clv import fit_bg_nbd

    model = fit_bg_nbd(frame)
    return _params(model, model.PARAMETERS)


def _crm_pareto(frame: Any) -> Any:
    from crmcore.clv import fit_pareto_nbd

    model = fit_pareto_nbd(frame)
    return _params(model, model.PARAMETERS)


def _lifetimes_load(path: str, threads: int | None) -> Any:
    with warnings.catch_warnings():  # lifetimes sets a pandas option pandas 3 deprecates
        warnings.simplefilter("ignore")
        import lifetimes  # noqa: F401  (imported before the clock, as crmcore is)
    return pandas_load("pandas")(path, threads)


def _lifetimes(fitter: str) -> Engine:
    def run(frame: Any) -> Any:
        import lifetimes

        with warnings.catch_warnings():  # lifetimes' own deprecation noise under pandas 3
            warnings.simplefilter("ignore")
            fitted = getattr(lifetimes, fitter)().fit(
                frame["frequency"], frame["recency"], frame["T"]
            )
        return fitted.params_.astype(float)

    return Engine(
        "lifetimes",
        _lifetimes_load,
        run,
        label=f"lifetimes 0.11.3 {fitter}",
        requires=("lifetimes",),
    )


def _check_params(ours: Any, theirs: Any, name: str) -> None:
    for key, value in ours.items():
        other = float(theirs[key])
        assert abs(value / other - 1) <= PARAMETER_RTOL, f"{key}: {value} vs {name}'s {other}"


STEPS = [
    Step(
        "fit_bg_nbd",
        "bg_nbd_customers",
        f"rows/{BG_NBD_ROWS_PER_CUSTOMER} customers (frequency, recency, T; all distinct)",
        (crmcore(_crm_bg_nbd, CLV), _lifetimes("BetaGeoFitter")),
        "lifetimes' BetaGeoFitter on the same three columns (its default start and optimiser)",
        _check_params,
        FIT_GOAL,
        "clv",
    ),
    Step(
        "fit_pareto_nbd",
        "pareto_customers",
        f"rows/{PARETO_ROWS_PER_CUSTOMER} customers (frequency, recency, T; all distinct)",
        (crmcore(_crm_pareto, CLV), _lifetimes("ParetoNBDFitter")),
        "lifetimes' ParetoNBDFitter on the same three columns (its default start and optimiser)",
        _check_params,
        FIT_GOAL,
        "clv",
    ),
]
