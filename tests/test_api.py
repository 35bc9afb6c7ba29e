"""The public surface: every public name is documented with a runnable example."""

from __future__ import annotations

import importlib
import inspect

import pytest

import crmcore

MODULES = [
    "crmcore",
    "crmcore.errors",
    "crmcore.money",
    "crmcore.privacy",
    "crmcore.datasets",
    "crmcore.segmentation",
    "crmcore.clv",
    "crmcore.pipeline",
    "crmcore.forecast",
    "crmcore.quota",
    "crmcore.kpi",
]


def _public(module_name: str) -> list[tuple[str, object]]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    assert names is not None, f"{module_name} has no __all__"
    return [(f"{module_name}.{n}", getattr(module, n)) for n in names if n != "__version__"]


PUBLIC = [item for m in MODULES for item in _public(m)]


@pytest.mark.parametrize("module_name", MODULES)
def test_all_is_sorted_and_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names = [n for n in module.__all__ if n != "__version__"]
    assert names == sorted(names), f"{module_name}.__all__ is not sorted"
    for name in names:
        assert hasattr(module, name), f"{module_name}.__all__ names missing {name!r}"


@pytest.mark.parametrize(("qualname", "obj"), PUBLIC, ids=[q for q, _ in PUBLIC])
def test_public_name_has_numpydoc_example(qualname: str, obj: object) -> None:
    if inspect.ismodule(obj):
        doc = obj.__doc__ or ""
        assert doc.strip(), f"{qualname} has no docstring"
        return
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{qualname} has no docstring"
    assert "Examples\n--------" in doc, f"{qualname} has no numpydoc Examples section"
    assert ">>>" in doc, f"{qualname}'s Examples section has no runnable example"


def test_subpackages_are_reexported() -> None:
    for name in (
        "segmentation",
        "pipeline",
        "forecast",
        "quota",
        "kpi",
        "datasets",
        "errors",
        "money",
        "privacy",
    ):
        assert getattr(crmcore, name).__name__ == f"crmcore.{name}"
