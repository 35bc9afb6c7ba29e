"""The built documentation site: API tables agree with the code, and it works with no network.

Slow (``mkdocs build`` takes a while and needs the ``docs`` extra; the slow CI step installs
it): the site is built once into a temporary folder, then

- every parameter table of the API reference is checked row by row against
  ``inspect.signature`` of the object it documents: the default cell (``required`` or the
  default's source, evaluated in the object's module) and the type cell (the annotation's
  names), and every signature shown on the page likewise. numpydoc entries naming several
  parameters (``customer, date, amount``) used to render the first name's type and default in
  every row (issue #16: 165 wrong rows);
- the pages load nothing from the network (no CDN, no web fonts), and in headless Chromium
  with host names unresolvable the formulas of the API pages are typeset by the bundled
  MathJax instead of showing raw ``\\[ ... \\]``.
"""

from __future__ import annotations

import ast
import functools
import html
import http.server
import importlib
import inspect
import math
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers_browser import dump_dom

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not os.environ.get("CI"):
        pytest.importorskip("mkdocs")
        pytest.importorskip("mathjax")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return out


# ------------------------------------------------------------------------------------------
# parameter tables against inspect.signature
# ------------------------------------------------------------------------------------------

HEADING = re.compile(r'<h\d id="(crmcore\.[\w.]+)" class="doc doc-heading"')
TABLE = re.compile(
    r'<span class="doc-section-title">(?:Other )?Parameters:</span></p>\s*<table>(.*?)</table>',
    re.DOTALL,
)
ROW = re.compile(r'<tr class="doc-section-item">(.*?)</tr>', re.DOTALL)
CELL = re.compile(r"<td>(.*?)</td>", re.DOTALL)
SIGNATURE = re.compile(r'<div class="doc-signature highlight"><pre>(.*?)</pre></div>', re.DOTALL)


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def resolve(path: str) -> Any:
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise LookupError(path)


def signature_of(obj: Any) -> inspect.Signature | None:
    if not callable(obj):
        return None
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def same_default(shown: str, default: Any, module: Any) -> bool:
    """Whether the default's source text as shown evaluates to the runtime default."""
    try:
        value = ast.literal_eval(shown)
    except (ValueError, SyntaxError):
        try:
            value = eval(shown, vars(module))  # the module's own names (DEFAULT_RAMP, ...)
        except Exception:  # unparseable text is simply a mismatch
            return False
    if isinstance(default, float) and isinstance(value, float | int) and math.isnan(default):
        return math.isnan(value)
    try:
        return bool(value == default) or value is default
    except (TypeError, ValueError):
        return value is default


def is_factory(default: Any) -> bool:
    """attrs shows a default made by a factory (``factory=dict``, ``Factory(...)``) as NOTHING."""
    import attrs

    return default is attrs.NOTHING


def same_factory(shown: str | None, obj: Any, name: str, module: Any) -> bool:
    """Whether the page shows the attrs field's factory: ``dict()`` or ``Factory(...)``."""
    import attrs

    if shown is None:
        return False
    fields = {f.alias or f.name: f for f in attrs.fields(obj)} if attrs.has(obj) else {}
    made = getattr(fields.get(name), "default", None)
    if not isinstance(made, attrs.Factory):  # type: ignore[arg-type]  # the class is the type
        return False
    if made.takes_self:
        return "Factory(" in shown
    return "Factory(" in shown or same_default(shown, made.factory(), module)


def type_names(annotation: Any) -> list[str]:
    """The bare names in an annotation (``pd.DataFrame | None`` -> DataFrame, None)."""
    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    return sorted(set(re.findall(r"[A-Za-z_]\w*", re.sub(r"\b[\w]+\.", "", text))))


@functools.cache
def api_pages(site: Path) -> list[Path]:
    return sorted((site / "api").rglob("index.html"))


def documented_objects(site: Path) -> Iterator[tuple[str, str]]:
    """(object path, the page section up to the next object's heading) for every object."""
    for page in api_pages(site):
        text = page.read_text(encoding="utf-8")
        heads = list(HEADING.finditer(text))
        for here, after in zip(heads, [*heads[1:], None], strict=True):
            end = after.start() if after is not None else len(text)
            yield here.group(1), text[here.end() : end]


def table_problems(path: str, section: str) -> tuple[int, list[str]]:
    obj = resolve(path)
    sig = signature_of(obj)
    module = sys.modules[getattr(obj, "__module__", "crmcore")]
    rows = 0
    problems = []
    for table in TABLE.findall(section):
        for row in ROW.findall(table):
            cells = [text_of(c) for c in CELL.findall(row)]
            if len(cells) != 4 or sig is None or cells[0] not in sig.parameters:
                continue
            rows += 1
            name, shown_type, _, shown_default = cells
            param = sig.parameters[name]
            if is_factory(param.default):
                if not same_factory(shown_default, obj, name, module):
                    problems.append(f"{path}({name}): default {shown_default!r}, is a factory")
            elif param.default is inspect.Parameter.empty:
                if shown_default != "required":
                    problems.append(f"{path}({name}): default {shown_default!r}, is required")
            elif shown_default == "required" or not same_default(
                shown_default, param.default, module
            ):
                problems.append(f"{path}({name}): default {shown_default!r}, is {param.default!r}")
            # attrs converters without an informative annotation give ``Any``/``object``:
            # then the field's annotation is the best the page can show
            vague = type_names(param.annotation) in (["Any"], ["object"])
            typed = param.annotation is not inspect.Parameter.empty and shown_type and not vague
            if typed and type_names(shown_type) != type_names(param.annotation):
                problems.append(
                    f"{path}({name}): type {shown_type!r}, annotation {param.annotation!r}"
                )
    return rows, problems


def test_every_parameter_table_matches_the_signature(site: Path) -> None:
    checked = 0
    objects = 0
    problems: list[str] = []
    for path, section in documented_objects(site):
        rows, found = table_problems(path, section)
        checked += rows
        objects += rows > 0
        problems += found
    assert problems == [], f"{len(problems)} wrong rows:\n" + "\n".join(problems)
    assert objects >= 90, objects  # every public function and config with parameters
    assert checked >= 600, checked


def test_the_rows_issue_16_named(site: Path) -> None:
    page = (site / "api" / "segmentation" / "index.html").read_text(encoding="utf-8")
    section = dict(documented_objects(site))["crmcore.segmentation.rfm_summary"]
    rows = {
        cells[0]: cells
        for table in TABLE.findall(section)
        for cells in ([text_of(c) for c in CELL.findall(r)] for r in ROW.findall(table))
    }
    assert rows["date"][3] == "'date'"
    assert rows["amount"][3] == "'amount'"
    assert "crmcore.segmentation.rfm_summary" in page
    schedule = dict(documented_objects(site))["crmcore.pipeline.close_schedule"]
    freq_rows = [
        [text_of(c) for c in CELL.findall(r)]
        for table in TABLE.findall(schedule)
        for r in ROW.findall(table)
        if text_of(CELL.findall(r)[0]) in ("freq", "period")
    ]
    assert freq_rows
    for cells in freq_rows:
        assert cells[3] != "required"
        assert "DataFrame" not in cells[1]


def shown_parameters(signature_text: str) -> dict[str, str | None]:
    """``{name: default source or None}`` from a rendered signature ``f(a, *, b: int = 2)``."""
    inner = signature_text[signature_text.index("(") + 1 : signature_text.rindex(")")]
    pieces, depth, current = [], 0, ""
    for char in inner:
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            pieces.append(current)
            current = ""
        else:
            current += char
    pieces.append(current)
    out: dict[str, str | None] = {}
    for piece in (p.strip() for p in pieces):
        name = re.match(r"\**(\w+)", piece)
        if name is None:
            continue
        _, _, default = piece.partition(" = ") if " = " in piece else piece.partition("=")
        out[name.group(1)] = default.strip() or None
    return out


def test_every_signature_shown_has_the_real_defaults(site: Path) -> None:
    problems = []
    for path, section in documented_objects(site):
        shown = SIGNATURE.search(section)
        obj = resolve(path)
        sig = signature_of(obj)
        if shown is None or sig is None:
            continue
        module = sys.modules[getattr(obj, "__module__", "crmcore")]
        for name, default in shown_parameters(text_of(shown.group(1))).items():
            param = sig.parameters.get(name)
            if param is None:
                continue
            if is_factory(param.default):
                if not same_factory(default, obj, name, module):
                    problems.append(f"{path}({name}) shows {default!r}, is a factory")
            elif param.default is inspect.Parameter.empty:
                if default is not None:
                    problems.append(f"{path}({name}) shows '= {default}', is required")
            elif default is None or not same_default(default, param.default, module):
                problems.append(f"{path}({name}) shows {default!r}, is {param.default!r}")
    assert problems == [], f"{len(problems)} wrong:\n" + "\n".join(problems)


# ------------------------------------------------------------------------------------------
# offline: no CDN, formulas typeset by the bundled MathJax in headless Chromium
# ------------------------------------------------------------------------------------------


def test_no_page_loads_anything_from_the_network(site: Path) -> None:
    remote = re.compile(r'<(?:script|link|img)\b[^>]*(?:src|href)="(https?:)?//[^"]*"', re.I)
    for page in sorted(site.rglob("*.html")):
        found = [m.group(0) for m in remote.finditer(page.read_text(encoding="utf-8"))]
        found = [f for f in found if 'rel="canonical"' not in f]
        assert found == [], f"{page.relative_to(site)} loads {found[:3]}"
    assert (site / "javascripts" / "mathjax" / "tex-mml-chtml.js").is_file()
    fonts = site / "javascripts" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert len(list(fonts.glob("*.woff"))) > 10


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # stdlib's signature
        pass


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_formulas_are_typeset_offline_in_chromium(served: str) -> None:
    dom, requests = dump_dom(f"{served}/api/kpi/", budget_ms=20_000)
    assert "<mjx-container" in dom, "MathJax did not typeset the formulas"
    blocks = re.findall(r'<div class="arithmatex">(.*?)</div>', dom, re.DOTALL)
    assert blocks
    raw = [b for b in blocks if "<mjx-container" not in b]  # TeX left as text
    assert raw == []
    leaving = [r["url"] for r in requests if not r["url"].startswith(served)]
    assert leaving == []
    assert any(r["url"].endswith("tex-mml-chtml.js") for r in requests)
