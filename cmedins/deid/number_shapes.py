"""The shapes that make a digit string a phone number or a resident ID, judged once for the whole package: the
residual scan flags a candidate number by them, and the folded view (cmedins.deid.normalise) reads letters typed
for digits only where the groups make one of them, so every number the view reads is one the scan flags."""

from __future__ import annotations

import re
from datetime import date

MOBILE = re.compile(r"(?:0086|86)?1[3-9]\d{9}")
LANDLINE = re.compile(r"(?:0086|86)?0?(?:10|2\d|[3-9]\d{2})[2-9]\d{6,7}")


def _date_ok(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1880 <= year <= date.today().year


def id_shape(digits: str) -> bool:
    """An 18-character resident ID (region, valid birth date, 3 digits, check character) or a 15-digit legacy
    ID (region, YYMMDD). The check character is not required: a mistyped ID still identifies its holder."""
    if len(digits) == 18 and digits[:17].isdigit() and (digits[17].isdigit() or digits[17] in "Xx"):
        return digits[0] in "1234568" and _date_ok(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    if len(digits) == 15 and digits.isdigit():
        return digits[0] in "1234568" and _date_ok(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))
    return False


def phone_or_id(digits: str) -> bool:
    """A mobile (86/0086 allowed), a landline with its 0 area code, or a resident ID: a number without context."""
    return bool(MOBILE.fullmatch(digits) or (digits.startswith("0") and LANDLINE.fullmatch(digits))
                or id_shape(digits))
