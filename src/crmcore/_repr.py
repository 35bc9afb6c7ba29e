"""Short, readable displays of crmcore's frozen configs and results (shared core; private).

Every public attrs class of crmcore (configs such as ``RFMBins`` and ``GradeRules``; results
such as ``CloseSchedule`` and fitted models) uses these two functions, assigned in its body::

    __repr__ = attrs_repr
    _repr_html_ = attrs_repr_html

- :func:`attrs_repr` gives one line, ``GradeRules(value_method='abc', value_cutoff=0.8, ...)``:
  floats with at most 6 significant digits (``0.36``, never ``0.36000000000000004``; the exact
  values are in ``to_dict()``), tables as ``<DataFrame 12 rows x 5 columns>``, nested configs
  as ``Name(...)``, long sequences and texts cut with ``...``.
- :func:`attrs_repr_html` gives the table Jupyter shows: one row per field, a table field as
  its first rows (``DataFrame.to_html``), nested configs as their own tables. Everything is
  HTML-escaped.

Examples
--------
>>> import attrs
>>> from crmcore._repr import attrs_repr, attrs_repr_html
>>> @attrs.frozen
... class Rules:
...     cutoff: float
...     names: tuple[str, ...] = ("A", "B")
...     __repr__ = attrs_repr
...     _repr_html_ = attrs_repr_html
>>> Rules(0.1 + 0.26)
Rules(cutoff=0.36, names=('A', 'B'))
>>> Rules(0.5)._repr_html_().startswith('<table class="crmcore-repr">')
True
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import pandas as pd

__all__ = ["attrs_repr", "attrs_repr_html", "short"]

#: Items of a sequence or mapping shown before ``...``.
MAX_ITEMS = 6
#: Characters of a text shown before ``...``.
MAX_TEXT = 60
#: Rows of a table field shown in the HTML display.
HTML_ROWS = 10


def _number(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return repr(float(value))
    text = f"{value:.6g}"
    return text if ("e" in text or "." in text) else f"{text}.0"


def _sequence(items: list[Any], open_: str, close: str) -> str:
    shown = [short(v) for v in items[:MAX_ITEMS]]
    if len(items) > MAX_ITEMS:
        shown.append(f"... ({len(items)} items)")
    if open_ == "(" and len(items) == 1:
        return f"({shown[0]},)"
    return open_ + ", ".join(shown) + close


def short(value: Any) -> str:
    """Return a short display of one value (see the module docstring for the rules).

    Examples
    --------
    >>> from crmcore._repr import short
    >>> short(158.20000000000005), short((1.0, 2.5)), short("x" * 70)[-5:]
    ('158.2', '(1.0, 2.5)', "x...'")
    """
    if isinstance(value, bool | np.bool_) or value is None:
        return repr(bool(value)) if value is not None else "None"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _number(float(value))
    if isinstance(value, str):
        return repr(value) if len(value) <= MAX_TEXT else repr(value[:MAX_TEXT])[:-1] + "...'"
    if isinstance(value, pd.DataFrame):
        return f"<DataFrame {len(value):,} rows x {value.shape[1]} columns>"
    if isinstance(value, pd.Series):
        return f"<Series {value.name!r}, {len(value):,} rows>"
    if isinstance(value, pd.Index):
        return f"<{type(value).__name__} {len(value):,} labels>"
    if isinstance(value, np.ndarray):
        return f"<array shape {value.shape}>" if value.size > MAX_ITEMS else short(value.tolist())
    if attrs.has(type(value)):
        return f"{type(value).__name__}(...)"
    if isinstance(value, Mapping):
        pairs = list(value.items())
        shown = [f"{short(k)}: {short(v)}" for k, v in pairs[:MAX_ITEMS]]
        if len(pairs) > MAX_ITEMS:
            shown.append(f"... ({len(pairs)} items)")
        return "{" + ", ".join(shown) + "}"
    if isinstance(value, tuple):
        return _sequence(list(value), "(", ")")
    if isinstance(value, list):
        return _sequence(value, "[", "]")
    if isinstance(value, pd.Timestamp):
        return f"Timestamp('{value}')"
    return repr(value)


def _fields(obj: Any) -> list[tuple[str, Any]]:
    return [(f.name, getattr(obj, f.name)) for f in attrs.fields(type(obj)) if f.repr]


def attrs_repr(self: Any) -> str:
    """Return ``Name(field=value, ...)`` with every value shown by :func:`short`."""
    inner = ", ".join(f"{name}={short(value)}" for name, value in _fields(self))
    return f"{type(self).__name__}({inner})"


def _html_value(value: Any) -> str:
    if isinstance(value, pd.DataFrame | pd.Series):
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        more = len(frame) - HTML_ROWS
        note = f"<div><small>{more:,} more rows</small></div>" if more > 0 else ""
        return frame.head(HTML_ROWS).to_html(max_cols=12) + note
    if attrs.has(type(value)) and hasattr(value, "_repr_html_"):
        return str(value._repr_html_())
    return f"<code>{html.escape(short(value))}</code>"


def attrs_repr_html(self: Any) -> str:
    """Return an HTML table of the fields: name and value, tables as their first rows."""
    rows = "".join(
        f'<tr><th style="text-align:left;vertical-align:top">{html.escape(name)}</th>'
        f'<td style="text-align:left">{_html_value(value)}</td></tr>'
        for name, value in _fields(self)
    )
    caption = f"<caption><b>{html.escape(type(self).__name__)}</b></caption>"
    return f'<table class="crmcore-repr">{caption}<tbody>{rows}</tbody></table>'
