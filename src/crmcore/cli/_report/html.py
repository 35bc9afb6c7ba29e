"""A small, library-free writer of one self-contained HTML page (the shareable report).

Everything the page shows is inside the file: the style sheet in a ``<style>`` element, every
chart as a PNG ``data:`` URI, and no script at all. A strict Content-Security-Policy meta tag
(``default-src 'none'``, images only from ``data:``, inline styles only) tells the browser to
refuse any request that would leave the file, so a report stays readable offline and cannot
leak what it shows. Text is always HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CSP", "MISSING", "Page", "Section", "figure_uri", "table_html"]

#: Shown for a missing or undefined value (an en dash).
MISSING = "\u2013"

#: Nothing may be fetched: no scripts, fonts, frames or connections; images only from data:.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)

_STYLE = """
:root { color-scheme: light; --ink: #1f2430; --muted: #5b6475; --line: #d9dde5;
        --accent: #3949ab; --band: #f4f6fb; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; }
header { background: var(--accent); color: #fff; padding: 28px 40px 22px; }
header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 600; }
header p { margin: 0; opacity: .9; }
nav { padding: 10px 40px; border-bottom: 1px solid var(--line); background: var(--band); }
nav a { color: var(--accent); margin-right: 18px; text-decoration: none; font-weight: 500; }
main { max-width: 1180px; padding: 8px 40px 48px; }
section { padding-top: 18px; border-bottom: 1px solid var(--line); padding-bottom: 18px; }
h2 { font-size: 21px; margin: 12px 0 6px; color: var(--accent); }
h3 { font-size: 16px; margin: 18px 0 6px; }
p.note { color: var(--muted); margin: 4px 0 10px; max-width: 80ch; }
.figures { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
figure { margin: 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 13px; }
.facts { display: flex; flex-wrap: wrap; gap: 12px; margin: 10px 0; }
.fact { background: var(--band); border: 1px solid var(--line); border-radius: 6px;
        padding: 8px 14px; min-width: 150px; }
.fact b { display: block; font-size: 20px; }
.fact span { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13.5px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
footer { color: var(--muted); font-size: 12.5px; padding: 16px 40px 32px; }
"""


def figure_uri(fig: Figure, *, dpi: int = 96) -> str:
    """Render a matplotlib figure as a ``data:image/png;base64,...`` URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _text(value: Any) -> str:
    """Display text of one value (not yet escaped): thousands separators, dates, dashes."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):,.2f}" if np.isfinite(value) else MISSING
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    return str(value)


def _column(values: pd.Series, fmt: Callable[[Any], str] | None) -> tuple[list[str], bool]:
    """Escaped cell texts of one column (in its own dtype) and whether to right-align it."""
    numeric = fmt is not None or (
        pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    )
    show = fmt if fmt is not None else _text
    return [html.escape(MISSING if _missing(v) else show(v)) for v in values.tolist()], numeric


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT


def table_html(
    frame: pd.DataFrame,
    *,
    formats: Mapping[str, Callable[[Any], str]] | None = None,
    index: bool = True,
    max_rows: int = 50,
) -> str:
    """Render a frame as an HTML table: escaped text, numbers right-aligned with separators.

    Each column is formatted in its own dtype (counts stay whole numbers); ``formats`` maps a
    column name to a function giving its text. At most ``max_rows`` rows are shown; a last
    line says how many more the frame holds.
    """
    formats = dict(formats or {})
    shown = frame.head(max_rows)
    columns: list[tuple[str, list[str], bool]] = []
    if index:
        for level in range(shown.index.nlevels):
            name = shown.index.names[level]
            texts, _ = _column(pd.Series(shown.index.get_level_values(level)), None)
            columns.append(("" if name is None else str(name), texts, False))
    for column in shown.columns:
        texts, numeric = _column(shown[column], formats.get(str(column)))
        columns.append((str(column), texts, numeric))
    head = "".join(
        f'<th class="num">{html.escape(n)}</th>' if num else f"<th>{html.escape(n)}</th>"
        for n, _, num in columns
    )
    rows = [
        "<tr>"
        + "".join(
            f'<td class="num">{texts[i]}</td>' if num else f"<td>{texts[i]}</td>"
            for _, texts, num in columns
        )
        + "</tr>"
        for i in range(len(shown))
    ]
    more = len(frame) - len(shown)
    tail = f'<p class="note">\u2026 and {more:,} more rows.</p>' if more > 0 else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{tail}"


@attrs.define
class Section:
    """One titled part of the page: notes, facts, figures and tables, in the order added."""

    title: str
    anchor: str
    parts: list[str] = attrs.field(factory=list)

    def note(self, text: str) -> None:
        """Add a paragraph of explanatory text."""
        self.parts.append(f'<p class="note">{html.escape(text)}</p>')

    def heading(self, text: str) -> None:
        """Add a sub-heading."""
        self.parts.append(f"<h3>{html.escape(text)}</h3>")

    def facts(self, items: Mapping[str, str]) -> None:
        """Add a row of headline figures, ``{label: value}``."""
        boxes = "".join(
            f'<div class="fact"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>'
            for k, v in items.items()
        )
        self.parts.append(f'<div class="facts">{boxes}</div>')

    def figures(self, *figures: tuple[Figure, str]) -> None:
        """Add charts side by side, each ``(figure, caption)``, as inline PNG images."""
        blocks = "".join(
            f'<figure><img src="{figure_uri(fig)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            for fig, caption in figures
        )
        self.parts.append(f'<div class="figures">{blocks}</div>')

    def table(self, frame: pd.DataFrame, **options: Any) -> None:
        """Add a table (see :func:`table_html` for the options)."""
        self.parts.append(table_html(frame, **options))


@attrs.define
class Page:
    """The report page: a header, a table of contents and the sections, as one HTML string."""

    title: str
    subtitle: str
    sections: list[Section] = attrs.field(factory=list)
    footer: str = ""

    def section(self, title: str, anchor: str) -> Section:
        """Start a new section and return it."""
        part = Section(title=title, anchor=anchor)
        self.sections.append(part)
        return part

    def render(self) -> str:
        """Return the whole page: doctype, CSP, inline style, content; nothing to fetch."""
        nav = "".join(
            f'<a href="#{html.escape(s.anchor)}">{html.escape(s.title)}</a>' for s in self.sections
        )
        body = "".join(
            f'<section id="{html.escape(s.anchor)}"><h2>{html.escape(s.title)}</h2>'
            + "".join(s.parts)
            + "</section>"
            for s in self.sections
        )
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="referrer" content="no-referrer">'
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head>"
            f"<body><header><h1>{html.escape(self.title)}</h1>"
            f"<p>{html.escape(self.subtitle)}</p></header><nav>{nav}</nav>"
            f"<main>{body}</main><footer>{html.escape(self.footer)}</footer></body></html>\n"
        )
