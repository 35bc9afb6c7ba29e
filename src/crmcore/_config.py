"""Shared checks for the frozen ``attrs`` configs of every subpackage.

``from_dict`` of each config rebuilds it from plain data; :func:`check_config_keys` gives them
all the same answer to a non-mapping, an unknown key or a missing required field, and
:func:`opt_float` / :func:`as_float` are the number converters several configs use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np

from crmcore.errors import ConfigError

__all__ = ["as_float", "check_config_keys", "named_float", "named_opt_float", "opt_float"]


def check_config_keys(
    cls: type, data: Mapping[str, Any], required: Iterable[str] | None = None
) -> dict[str, Any]:
    """Check ``data`` for ``cls.from_dict`` and return it as a new ``dict``.

    ``data`` must be a mapping whose keys are ``__init__`` fields of the attrs class ``cls``
    and hold every name of ``required`` (default: the fields without a default).

    Examples
    --------
    >>> from crmcore.pipeline import StageModel
    >>> check_config_keys(StageModel, {"stages": ["a"]}, required=["stages"])
    {'stages': ['a']}
    >>> check_config_keys(StageModel, {"colour": 1})
    Traceback (most recent call last):
    ...
    crmcore.errors.ConfigError: unknown StageModel field(s) ['colour']; expected some of [...]
    """
    name = cls.__name__
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{name}.from_dict needs a mapping, got {type(data).__name__}", value=data
        )
    fields = [f for f in attrs.fields(cls) if f.init]
    allowed = {f.name for f in fields}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(
            f"unknown {name} field(s) {unknown}; expected some of {sorted(allowed)}",
            value=unknown[0],
        )
    if required is None:
        needed = [f.name for f in fields if f.default is attrs.NOTHING]
    else:
        needed = list(required)
    missing = [key for key in needed if key not in data]
    if missing:
        raise ConfigError(
            f"{name} field(s) {missing} missing; required: {needed}", column=missing[0]
        )
    return dict(data)


def opt_float(value: Any) -> float | None:
    """Convert a real number to ``float``, pass ``None`` through; anything else is an error.

    Examples
    --------
    >>> opt_float(3), opt_float(None)
    (3.0, None)
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ConfigError(f"expected a number or None, got {value!r}", value=value)
    return float(value)


def named_opt_float(value: Any, name: str) -> float | None:
    """Convert a real number to ``float``, pass ``None`` through; errors name the field ``name``.

    For attrs converters that say which field is wrong (a converter is not told its field).

    Examples
    --------
    >>> named_opt_float(2, "cap"), named_opt_float(None, "cap")
    (2.0, None)
    >>> named_opt_float(True, "cap")
    Traceback (most recent call last):
    ...
    crmcore.errors.ConfigError: cap: expected a number or None, got True
    """
    if value is None:
        return None
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise ConfigError(
            f"{name}: expected a number or None, got {value!r}", column=name, value=value
        )
    return float(value)


def named_float(value: Any, name: str) -> float:
    """Convert a real number to ``float``; ``None`` and anything else are errors naming ``name``.

    Examples
    --------
    >>> named_float(np.int64(2), "weight")
    2.0
    >>> named_float(None, "weight")
    Traceback (most recent call last):
    ...
    crmcore.errors.ConfigError: weight: expected a number, got None
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise ConfigError(f"{name}: expected a number, got {value!r}", column=name, value=value)
    return float(value)


def as_float(value: Any) -> float:
    """Convert a real number to ``float``; ``None`` and anything else are an error.

    Examples
    --------
    >>> as_float(np.int64(2))
    2.0
    """
    out = opt_float(value)
    if out is None:
        raise ConfigError("expected a number, got None", value=value)
    return out
