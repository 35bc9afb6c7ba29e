"""Catalogue failures known and not yet fixed: a ratchet that may only shrink.

Each entry is a case id (``spec/family/key/column``) with the reason it is still open. The
catalogue test fails on any failing case not listed here, and on a listed case that no longer
fails (delete its line when you fix it). Issue #14 wants this list empty.
"""

from __future__ import annotations

KNOWN: dict[str, str] = {}
