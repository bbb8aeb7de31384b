"""PRC resident identity numbers (GB 11643): the ISO 7064 MOD 11-2 check character.

Shared by the de-identifier (a valid check digit raises the score) and the sample generator (it writes valid
fake IDs), without either importing the other: the de-identifier pulls in presidio.
"""

from __future__ import annotations

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """Check character of an 18-digit resident ID from its first 17 digits."""
    return _CHECK[sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True)) % 11]


def is_valid_id_number(number: str) -> bool:
    """An 18-character resident ID whose check character matches (upper-case X only)."""
    return len(number) == 18 and number[:17].isdigit() and id_check_digit(number[:17]) == number[17]
