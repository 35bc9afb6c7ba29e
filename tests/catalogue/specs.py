"""Every spec, and the public callables that are deliberately not called with user data."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import crmcore
from catalogue.model import Spec
from catalogue.specs_clv import CLV
from catalogue.specs_core import DATASETS, MONEY, PRIVACY, SEGMENTATION
from catalogue.specs_forecast import FORECAST
from catalogue.specs_pipeline import PIPELINE
from catalogue.specs_quota_kpi import KPI, QUOTA
from catalogue.specs_shell import SHELL

SPECS: list[Spec] = [
    *MONEY,
    *PRIVACY,
    *SEGMENTATION,
    *CLV,
    *PIPELINE,
    *FORECAST,
    *QUOTA,
    *KPI,
    *DATASETS,
    *SHELL,
]

#: public callables no spec calls, and why
EXEMPT: dict[str, str] = {
    "crmcore.cli.build_parser": "takes no input; its parsing runs in every cli.main case",
    "crmcore.segmentation.AsOfCut": "a result type, built by cut_at_as_of (checked there)",
    "crmcore.pipeline.CloseSchedule": "a result type, built by close_schedule (checked there)",
    "crmcore.pipeline.PipelineSimulation": "a result type, built by simulate_pipeline",
    "crmcore.pipeline.Percentiles": "a result type, built by simulate_pipeline",
    "crmcore.clv.HoldoutReport": "a result type, built by holdout_report",
    "crmcore.clv.FitDiagnostics": "a result type, built by the fit_* functions",
    "crmcore.quota.QuotaPlan": "a result type, built by build_plan (checked there)",
    "crmcore.forecast.SalesForecast": "a result type, built by sales_forecast",
    "crmcore.forecast.Backtest": "a result type, built by backtest",
    "crmcore.spark.per_customer": (
        "runs another public function per bucket of a Spark frame (needs Java and a Spark "
        "session); the functions it runs are in the catalogue, its own checks in test_spark"
    ),
}

#: public modules without ``__all__``: the command modules, reached through cli.main
NO_ALL = frozenset(
    {
        "crmcore.cli.clv",
        "crmcore.cli.demo",
        "crmcore.cli.kpi",
        "crmcore.cli.pipeline",
        "crmcore.cli.privacy",
        "crmcore.cli.quota",
        "crmcore.cli.report",
        "crmcore.cli.segmentation",
    }
)


def public_modules() -> list[str]:
    """crmcore and every module under it whose dotted path has no private part."""
    found = pkgutil.walk_packages(crmcore.__path__, "crmcore.")
    public = [m.name for m in found if not any(p.startswith("_") for p in m.name.split(".")[1:])]
    return ["crmcore", *public]


def public_callables() -> dict[str, Any]:
    """Every function and class named in a public ``__all__`` (exceptions excluded), by one
    qualified name each (re-exports share the first name found)."""
    out: dict[str, Any] = {}
    seen: set[int] = set()
    for name in public_modules():
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue  # the errors themselves are what the catalogue expects
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            out[f"{name}.{attr}"] = obj
    return out
