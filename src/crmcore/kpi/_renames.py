"""Deprecation aliases for kpi functions whose ``period=`` changed meaning.

In crmcore 0.2, ``period=`` became the period *code* everywhere (``"D"``, ``"W"``, ``"M"``,
``"Q"``, ``"Y"``; it was ``freq=`` in the commission functions) and a *column* of periods became
``period_column=``. The plain renames go through :func:`crmcore._compat.renamed_parameters`;
for the functions that had both meanings, an old ``period="month"`` (a column name) cannot be
mapped by name, so it is recognised — a value that is no period code but a column of one of
the frames passed — and refused with a :class:`~crmcore.errors.ConfigError` that says what to
write, instead of guessing.

Examples
--------
>>> import pandas as pd
>>> @renamed_period_parameters(freq="period")
... def f(frame: pd.DataFrame, *, period: str = "M", period_column: str = "period") -> str:
...     return period
>>> f(pd.DataFrame({"month": [1]}), period="month")
Traceback (most recent call last):
...
crmcore.errors.ConfigError: f(period='month'): period= is now the period code ...
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import pandas as pd

from crmcore._compat import RENAMED_IN, apply_renames, check_rename_targets
from crmcore._periods import PERIODS, canonical_period
from crmcore.errors import ConfigError

__all__ = ["renamed_period_parameters"]

P = ParamSpec("P")
R = TypeVar("R")


def _is_code(value: object) -> bool:
    try:
        canonical_period(value)
    except ConfigError:
        return False
    return True


def _check_period(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse an old ``period=<column>``: no period code, but a column of a frame passed."""
    value = kwargs.get("period")
    if not isinstance(value, str) or _is_code(value):
        return
    frames = [v for v in (*args, *kwargs.values()) if isinstance(v, pd.DataFrame)]
    if not any(value in frame.columns for frame in frames):
        return  # not a column either: the function's own check names the bad period
    freq = kwargs.get("freq")
    also = f", period={freq!r}" if isinstance(freq, str) else ""
    raise ConfigError(
        f"{name}(period={value!r}): period= is now the period code ({', '.join(PERIODS)}; it "
        f"was freq=) and the column of periods is period_column= (it was period=) since crmcore "
        f"{RENAMED_IN}; write period_column={value!r}{also}",
        column="period",
        value=value,
    )


def renamed_period_parameters(**old_to_new: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Like :func:`crmcore._compat.renamed_parameters`, refusing an old ``period=<column>`` first.

    One wrapper does both, so the :class:`DeprecationWarning` points at the caller's line.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        check_rename_targets(func, (*old_to_new.values(), "period", "period_column"))

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            _check_period(func.__name__, args, kwargs)
            apply_renames(func.__name__, old_to_new, kwargs)
            return func(*args, **kwargs)

        return wrapper

    return decorate
