"""What a finding becomes: a typed placeholder, or a consistent surrogate within one record (pseudonym).

Surrogates are derived from a hash of (scope, entity type, original value), so the same person gets the same
surrogate everywhere in a record, in every run, whatever the processing order; two different originals in
one scope never share a surrogate.
"""

from __future__ import annotations

import hashlib
import random
import re

from cmedins.contracts.prc_id import id_check_digit
from cmedins.deid.config import PLACEHOLDERS, DeidConfig
from cmedins.deid.lexicon import SURNAMES
from cmedins.deid.recognizers import luhn_ok

GIVEN_NAME_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉红玲建国志文斌宇浩凯健俊帆琳晨欣怡婷雪梅"
YEAR_IN_DATE = re.compile(r"(?:19|20)\d{2}|[〇零一二三四五六七八九]{4}")
OVER_89 = "≥90"


def _rng(*parts: str) -> random.Random:
    return random.Random(hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest())


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _surrogate_person(rng: random.Random, value: str) -> str:
    return rng.choice(SURNAMES[:100]) + "".join(rng.choice(GIVEN_NAME_CHARS) for _ in range(max(1, len(value) - 1)))


def _surrogate_id(rng: random.Random, value: str) -> str:
    first17 = f"110101{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{_digits(rng, 3)}"
    return first17 + id_check_digit(first17)


def _surrogate_card(rng: random.Random, value: str) -> str:
    body = "6222" + _digits(rng, 11)
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def _surrogate_ip(rng: random.Random, value: str) -> str:
    """An address of the documentation ranges (RFC 5737 TEST-NETs, RFC 3849 2001:db8::/32), which belong to no
    one; a port or prefix length stays."""
    if value.count(":") >= 2:
        return f"2001:db8::{rng.randint(1, 0xFFFF):x}:{rng.randint(1, 0xFFFF):x}"
    suffix = re.search("[:/].*", value)
    return f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randint(1, 254)}{suffix.group() if suffix else ''}"


SURROGATES = {
    "PERSON": _surrogate_person,
    "CN_ID_CARD": _surrogate_id,
    "CN_PHONE": lambda rng, value: "1" + rng.choice("3578") + _digits(rng, 9),
    "EMAIL": lambda rng, value: f"user{_digits(rng, 6)}@example.com",
    "IP_ADDRESS": _surrogate_ip,
    "MEDICAL_RECORD_NUMBER": lambda rng, value: "".join(
        rng.choice("0123456789") if ch.isdigit() else ch for ch in value),
    "BANK_CARD": _surrogate_card,
    "PASSPORT": lambda rng, value: "E" + _digits(rng, 8),
    "LICENSE_PLATE": lambda rng, value: "京A" + _digits(rng, 5),
    "CN_ADDRESS": lambda rng, value: f"示例市和平区建设路{rng.randint(1, 999)}号",
    "INSTITUTION": lambda rng, value: f"示例市第{rng.randint(1, 9)}人民医院",
}


class Replacer:
    """Maps (entity type, original value) to its replacement text, for one scope (a record or dialogue)."""

    def __init__(self, config: DeidConfig, scope: str):
        self.config = config
        self.scope = scope
        self.assigned: dict[tuple[str, str], str] = {}
        self.used: set[str] = set()  # surrogates handed out (the residual scan allows exactly these)

    def __call__(self, entity_type: str, value: str) -> str:
        if entity_type == "AGE_OVER_89":
            return OVER_89
        if entity_type == "DATE_TIME" and self.config.dates == "year":
            year = YEAR_IN_DATE.search(value)
            return f"{year.group()}年" if year else PLACEHOLDERS[entity_type]
        make = SURROGATES.get(entity_type)
        if self.config.operator == "placeholder" or make is None:
            return PLACEHOLDERS[entity_type]
        key = (entity_type, value)
        if key not in self.assigned:
            attempt = 0
            while True:
                surrogate = make(_rng(self.scope, entity_type, value, str(attempt)), value)
                if surrogate != value and surrogate not in self.used:
                    break
                attempt += 1
            self.assigned[key] = surrogate
            self.used.add(surrogate)
        return self.assigned[key]
