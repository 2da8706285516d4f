"""CSV cells that spreadsheets open safely (shared by the CLI's and the UI's CSV exports)."""

from __future__ import annotations

__all__ = ["spreadsheet_safe"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """`text`, with a leading `'` when a spreadsheet would run it as a formula
    (`=HYPERLINK(...)` in a run name, say); numbers are not text and need no guard."""
    return "'" + text if text[:1] in _FORMULA_STARTS else text
