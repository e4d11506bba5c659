"""Cells of the admin's CSV export, safe to open in a spreadsheet."""

from __future__ import annotations

# OWASP "CSV Injection": a cell starting with one of these is read as a formula by Excel,
# LibreOffice or Google Sheets (tab and CR too, which some of them skip before the sign).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula, led by an apostrophe; anything else as is.

    The apostrophe is the spreadsheet's own "this is text" mark and is not shown, so a phone
    number `+1 619 555 0100` still reads as written. Numbers we produce (ids, counts, amounts,
    negative ones included) are not text and stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
