"""MkDocs hook: ship MathJax inside the built site, so formulas typeset with no network.

The API pages carry formulas (``.. math::`` in docstrings, turned into arithmatex blocks by
``docs/griffe_attrs.py``). Loading MathJax from a CDN left offline readers with raw
``\\[ \\text{retention} = \\frac{...}{...} \\]``. This hook copies MathJax 3 from the pinned
``django-static-mathjax`` wheel of the ``docs`` extra (MathJax's own ``es5`` build, Apache-2.0;
the package needs no Django to be read from) into ``site/javascripts/mathjax/`` after each
build. Nothing is committed: the files come from the installed package.

Copied: the ``tex-mml-chtml.js`` combined component and the pieces it loads on demand from its
own folder (TeX extensions, the CHTML fonts, the menu, accessibility and speech modules).
Loaded from mkdocs.yml (``hooks:``); not part of the crmcore package.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

#: What the site loads (mkdocs.yml ``extra_javascript``), relative to the site root.
TARGET = Path("javascripts") / "mathjax"
ENTRY = "tex-mml-chtml.js"
_PARTS = ("input", "output/chtml", "ui", "a11y", "sre", "adaptors")


def mathjax_source() -> Path:
    """Return MathJax's ``es5`` folder inside the installed package (the ``docs`` extra)."""
    try:
        root = resources.files("mathjax") / "static" / "mathjax" / "es5"
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            "MathJax is not installed; install the docs extra: pip install -e '.[docs]'"
        ) from exc
    path = Path(str(root))
    if not (path / ENTRY).is_file():
        raise RuntimeError(f"{path / ENTRY} is missing; reinstall django-static-mathjax")
    return path


def copy_mathjax(site_dir: Path) -> Path:
    """Copy the MathJax files the site needs into ``site_dir``; return the entry script."""
    source = mathjax_source()
    target = site_dir / TARGET
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / ENTRY, target / ENTRY)
    for part in _PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
    shutil.copy2(source.parent / "LICENSE", target / "LICENSE")
    return target / ENTRY


def on_post_build(config: Any, **kwargs: Any) -> None:
    """MkDocs event: after the pages are written, add MathJax to the site."""
    copy_mathjax(Path(config["site_dir"]))
