"""Deprecation aliases for renamed public parameters.

A public keyword that is renamed keeps working under its old name for one minor release:
the call goes through with the new name and a :class:`DeprecationWarning` says what to write
instead. Every rename is listed in ``CHANGELOG.md``.

Examples
--------
>>> import warnings
>>> @renamed_parameters(freq="period")
... def f(*, period: str = "M") -> str:
...     return period
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     f(freq="Q")
'Q'
>>> str(caught[0].message)
'f(freq=...) was renamed f(period=...) in crmcore 0.2; the old name goes in 0.3'
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar

from crmcore.errors import ConfigError

__all__ = [
    "REMOVED_IN",
    "RENAMED_IN",
    "apply_renames",
    "check_rename_targets",
    "renamed_parameters",
]

P = ParamSpec("P")
R = TypeVar("R")

RENAMED_IN = "0.2"
REMOVED_IN = "0.3"


def renamed_parameters(**old_to_new: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Accept each old keyword name for one minor release, mapped onto its new name.

    Passing both the old and the new name is a :class:`~crmcore.errors.ConfigError`. The
    wrapped function keeps its signature (``inspect.signature`` shows only the new names).
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        check_rename_targets(func, old_to_new.values())

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            apply_renames(func.__name__, old_to_new, kwargs)
            return func(*args, **kwargs)

        return wrapper

    return decorate


def check_rename_targets(func: Callable[..., Any], names: Iterable[str]) -> None:
    """Raise TypeError at import time when ``func`` has no parameter called one of ``names``."""
    params = inspect.signature(func).parameters
    for new in names:
        if new not in params:  # pragma: no cover - a programming error caught at import
            msg = f"{func.__qualname__} has no parameter {new!r} to rename onto"
            raise TypeError(msg)


def apply_renames(name: str, old_to_new: Mapping[str, str], kwargs: dict[str, Any]) -> None:
    """Move each old keyword in ``kwargs`` onto its new name, with a DeprecationWarning.

    Called from inside a decorator's wrapper: the warning points two frames up, at the line
    that called the wrapped function. Passing both names is a
    :class:`~crmcore.errors.ConfigError`.
    """
    for old, new in old_to_new.items():
        if old not in kwargs:
            continue
        if new in kwargs:
            raise ConfigError(
                f"{name}() got both {old!r} and its new name {new!r}; pass only {new!r}",
                column=old,
            )
        warnings.warn(
            f"{name}({old}=...) was renamed {name}({new}=...) in crmcore {RENAMED_IN}; "
            f"the old name goes in {REMOVED_IN}",
            DeprecationWarning,
            stacklevel=3,
        )
        kwargs[new] = kwargs.pop(old)
