"""Customer futures: who is still active, what they will buy, what they are worth.

The classic customer-base models, fitted by maximum likelihood on the per-customer summary of
:func:`crmcore.segmentation.btyd_summary`:

- purchase models: :func:`fit_bg_nbd` (BG/NBD), :func:`fit_mbg_nbd` (MBG/NBD),
  :func:`fit_pareto_nbd` (Pareto/NBD), :func:`fit_bg_bb` (discrete-time BG/BB);
- spend: :func:`fit_gamma_gamma`; contractual churn: :func:`fit_shifted_beta_geometric`;
- predictions, functions of (model, summary): :func:`probability_alive`,
  :func:`expected_purchases`, :func:`expected_purchases_new`,
  :func:`probability_of_purchases`, :func:`expected_spend`,
  :func:`customer_lifetime_value`, :func:`survival_curve`, :func:`retention_curve`;
- checking a model: :func:`calibration_holdout`, :func:`holdout_report`; cohorts:
  :func:`cohort_retention`.

Examples
--------
>>> import pandas as pd
>>> from crmcore.clv import BGNBD, probability_alive
>>> model = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
>>> summary = pd.DataFrame({"frequency": [2.0], "recency": [30.4], "T": [38.9]})
>>> probability_alive(model, summary).round(3).tolist()
[0.726]
"""

from crmcore.clv.cohorts import cohort_retention
from crmcore.clv.fit import (
    fit_bg_bb,
    fit_bg_nbd,
    fit_gamma_gamma,
    fit_mbg_nbd,
    fit_pareto_nbd,
    fit_shifted_beta_geometric,
)
from crmcore.clv.holdout import HoldoutReport, calibration_holdout, holdout_report
from crmcore.clv.models import (
    BGBB,
    BGNBD,
    MBGNBD,
    FitDiagnostics,
    GammaGamma,
    ParetoNBD,
    ShiftedBetaGeometric,
)
from crmcore.clv.predict import (
    expected_purchases,
    expected_purchases_new,
    probability_alive,
    probability_of_purchases,
    retention_curve,
    survival_curve,
)
from crmcore.clv.value import customer_lifetime_value, expected_spend

__all__: list[str] = [  # noqa: RUF022  # tests/test_api.py wants plain sorted() order
    "BGBB",
    "BGNBD",
    "FitDiagnostics",
    "GammaGamma",
    "HoldoutReport",
    "MBGNBD",
    "ParetoNBD",
    "ShiftedBetaGeometric",
    "calibration_holdout",
    "cohort_retention",
    "customer_lifetime_value",
    "expected_purchases",
    "expected_purchases_new",
    "expected_spend",
    "fit_bg_bb",
    "fit_bg_nbd",
    "fit_gamma_gamma",
    "fit_mbg_nbd",
    "fit_pareto_nbd",
    "fit_shifted_beta_geometric",
    "holdout_report",
    "probability_alive",
    "probability_of_purchases",
    "retention_curve",
    "survival_curve",
]
