"""Griffe extension for crmcore's API pages: attrs constructors and Sphinx roles.

1. Give ``attrs`` classes the ``__init__`` that attrs generates at run time.

crmcore's configs are ``@attrs.frozen(kw_only=True)`` classes whose docstrings document the
fields under *Parameters*. Griffe reads source statically and only knows how dataclasses build
``__init__``, so without this extension the API pages show no constructor signature and the
numpydoc parser warns that every documented parameter "does not appear in the function
signature" (fatal under ``mkdocs build --strict``). This mirrors griffe's built-in dataclasses
extension for the attrs rules crmcore uses: annotated class attributes become parameters in
order (parents first), ``kw_only`` on the decorator or the field, ``attrs.field(default=...,
factory=..., init=False, alias=...)``, and leading underscores stripped from parameter names.

2. Turn the Sphinx roles the docstrings use (``:func:`rfm_summary```,
   ``:class:`~crmcore.errors.DataError```) into cross-reference links when the name resolves to
   a rendered object, else into inline code, so the pages never show raw ``:func:`` markup;
   ``.. math::`` blocks and ``:math:`` roles become arithmatex ``$$ ... $$`` / ``$...$`` (MathJax).

3. Read a Sphinx ``#:`` comment right above an undocumented module constant as its docstring
   (``DEFAULT_RAMP``, ``METHODS``), so documented constants appear on the API pages.

4. Take each documented parameter's type and default from the signature. numpydoc lets one
   entry name several parameters (``customer, date, amount``); griffe's numpy parser splits
   the entry into one row per name but gives every row the type and default of the *first*
   name it finds in the signature, so ``rfm_summary``'s ``date`` and ``amount`` showed
   ``'customer_id'`` and a required parameter grouped after a frame showed type ``DataFrame``
   and *required*. The signature is the truth: rows get the type and default of their own
   parameter (``tests/test_docs_site.py`` checks every table against ``inspect.signature``).

Loaded from mkdocs.yml; not part of the crmcore package.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_ATTRS_DECORATORS = {
    "attrs.define",
    "attrs.frozen",
    "attrs.mutable",
    "attr.s",
    "attr.attrs",
    "attr.define",
    "attr.frozen",
    "attr.mutable",
}
_FIELD_CALLS = {"attrs.field", "attr.ib", "attr.attrib", "attr.field"}


def _call_arguments(expr: object) -> dict[str, Any]:
    if not isinstance(expr, griffe.ExprCall):
        return {}
    return {arg.name: arg.value for arg in expr.arguments if isinstance(arg, griffe.ExprKeyword)}


def _attrs_decorator(cls: griffe.Class) -> griffe.Expr | None:
    for decorator in cls.decorators:
        value = decorator.value
        if isinstance(value, griffe.Expr) and value.canonical_path in _ATTRS_DECORATORS:
            return value
    return None


def _own_parameters(cls: griffe.Class, decorator: griffe.Expr) -> list[griffe.Parameter]:
    options = _call_arguments(decorator)
    if str(options.get("init", "True")) == "False":
        return []
    kw_only = str(options.get("kw_only", "False")) == "True"
    parameters = []
    for member in cls.members.values():
        if member.is_alias or not member.is_attribute or member.annotation is None:
            continue
        if "property" in member.labels or (
            "class-attribute" in member.labels and "instance-attribute" not in member.labels
        ):
            continue
        value = member.value
        field: dict[str, Any] = {}
        is_field = isinstance(value, griffe.ExprCall) and value.canonical_path in _FIELD_CALLS
        if is_field:
            field = _call_arguments(value)
        if str(field.get("init", "True")) == "False":
            continue
        if is_field:  # attrs.field() without a default is a required parameter
            if "factory" in field:
                default: str | griffe.Expr | None = griffe.ExprCall(field["factory"], [])
            else:
                default = field.get("default")
        else:
            default = value
        name = str(field.get("alias", "")).strip("'\"") or member.name.lstrip("_")
        keyword = kw_only or str(field.get("kw_only", "False")) == "True"
        parameters.append(
            griffe.Parameter(
                name,
                annotation=_converter_input(cls, field.get("converter")) or member.annotation,
                kind=griffe.ParameterKind.keyword_only
                if keyword
                else griffe.ParameterKind.positional_or_keyword,
                default=default,
                docstring=member.docstring,
            )
        )
    return parameters


def _converter_input(cls: griffe.Class, converter: object) -> str | griffe.Expr | None:
    """The annotation of a converter's argument: what ``__init__`` accepts for the field.

    attrs gives the generated ``__init__`` that annotation (``Sequence[str] | str`` for a field
    stored as ``tuple[str, ...]``); an unannotated or ``Any``/``object`` one says nothing, so
    the field's own annotation is shown instead (None here).
    """
    if converter is None:
        return None
    target: Any = cls.module.members.get(str(converter))
    try:
        while target is not None and target.is_alias:
            target = target.target
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    if not isinstance(target, griffe.Function):
        return None
    arguments = [p for p in target.parameters if p.name not in ("self", "cls")]
    if not arguments or arguments[0].annotation is None:
        return None
    annotation = arguments[0].annotation
    return None if str(annotation) in ("Any", "object") else annotation


def _set_init(cls: griffe.Class) -> None:
    decorator = _attrs_decorator(cls)
    if decorator is None or "__init__" in cls.members:
        return
    try:
        mro = cls.mro()
    except ValueError:
        mro = []
    merged: dict[str, griffe.Parameter] = {}
    for klass in [*reversed(mro), cls]:
        parent_decorator = _attrs_decorator(klass)
        if parent_decorator is not None:
            for parameter in _own_parameters(klass, parent_decorator):
                merged[parameter.name] = parameter
    positional = [p for p in merged.values() if p.kind is not griffe.ParameterKind.keyword_only]
    keyword = [p for p in merged.values() if p.kind is griffe.ParameterKind.keyword_only]
    init = griffe.Function(
        "__init__",
        lineno=0,
        endlineno=0,
        parent=cls,
        parameters=griffe.Parameters(
            griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword),
            *positional,
            *keyword,
        ),
        returns="None",
    )
    cls.set_member("__init__", init)
    cls.labels.add("attrs")


_ROLE = re.compile(r":(?:py:)?(func|class|meth|attr|mod|data|exc|obj|math):`(~?)([^`]+)`")


_MATH_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)\.\. math::[ \t]*\n(?P<body>(?:(?P=indent)[ \t]+\S.*\n|[ \t]*\n)+)",
    re.MULTILINE,
)


def _math_block(match: re.Match[str]) -> str:
    indent = match["indent"]
    body = textwrap.dedent(match["body"]).strip("\n")
    return f"{indent}$$\n{body}\n$$\n\n"


def _link(obj: griffe.Object, match: re.Match[str]) -> str:
    role, tilde, target = match.groups()
    if role == "math":
        return f"${target}$"
    shown = target.rsplit(".", 1)[-1] if tilde else target
    try:
        path = target if target.startswith("crmcore.") else obj.resolve(target)
    except (griffe.NameResolutionError, AttributeError, KeyError):
        return f"`{shown}`"
    if not path.startswith("crmcore."):
        return f"`{shown}`"
    # An optional autoref links when the target is rendered and shows plain code otherwise
    # (undocumented constants, private modules), without a strict-mode warning.
    return f'<autoref identifier="{path}" optional><code>{shown}</code></autoref>'


def _rewrite_roles(obj: griffe.Object) -> None:
    if obj.docstring is not None and ":" in obj.docstring.value:
        value = _MATH_BLOCK.sub(_math_block, obj.docstring.value + "\n").rstrip("\n")
        obj.docstring.value = _ROLE.sub(lambda m: _link(obj, m), value)


def _comment_docstring(obj: griffe.Object) -> None:
    """Use a Sphinx ``#:`` comment block right above an undocumented attribute as its docstring."""
    if not isinstance(obj, griffe.Attribute) or obj.docstring is not None or not obj.lineno:
        return
    lines = obj.module.lines
    start = obj.lineno - 1
    while start > 0 and lines[start - 1].strip().startswith("#:"):
        start -= 1
    if start == obj.lineno - 1:
        return
    text = "\n".join(line.strip()[2:].strip() for line in lines[start : obj.lineno - 1])
    obj.docstring = griffe.Docstring(text, lineno=start + 1, endlineno=obj.lineno - 1, parent=obj)


_PARAMETER_SECTIONS = (
    griffe.DocstringSectionKind.parameters,
    griffe.DocstringSectionKind.other_parameters,
)


def _signature_types_and_defaults(obj: griffe.Object) -> None:
    """Give every documented parameter the type and default of its own signature parameter."""
    if obj.docstring is None or not isinstance(obj, griffe.Function | griffe.Class):
        return
    try:
        parameters = obj.parameters
    except (AttributeError, KeyError, ValueError):
        return
    for section in obj.docstring.parsed:
        if section.kind not in _PARAMETER_SECTIONS:
            continue
        for item in section.value:
            if item.name not in parameters:
                continue
            own = parameters[item.name]
            if own.annotation is not None:
                item.annotation = own.annotation
            item.value = own.default


def _walk(obj: griffe.Object, seen: set[str]) -> None:
    if obj.path in seen:
        return
    seen.add(obj.path)
    if isinstance(obj, griffe.Class):
        _set_init(obj)
    _comment_docstring(obj)
    _rewrite_roles(obj)
    _signature_types_and_defaults(obj)
    for member in obj.members.values():
        if not member.is_alias:
            _walk(member, seen)  # type: ignore[arg-type]


class AttrsInit(griffe.Extension):
    """Create ``__init__`` for attrs classes once a package is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Walk the loaded package and add the generated constructors."""
        _walk(pkg, set())
