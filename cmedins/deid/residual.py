"""Residual scan: after de-identification, look again for the identifiers that must never survive, by a method
independent of the detectors.

The detectors are presidio regex recognizers over the text. This scan instead reads the text's *digit groups*
(maximal digit runs of one script on a folded view, cmedins.deid.normalise.fold: full-width, Chinese digits and
the letters O / o / I / l typed for digits in a number's shape read as ASCII digits there, a 一 typed for a phone's dash
as a dash) and joins neighbouring groups across short separators (1-2 of
space, dash, dot, slash, brackets, or spaces around one dash) into candidate numbers, then judges each by its
shape and arithmetic: an 18-digit resident ID by its birth date (a wrong check digit still identifies), a
15-digit legacy ID by its birth date, a mobile by its 1[3-9] prefix (+86 / 0086 allowed), a landline by its
0-area code and length, a bare 7-8 digit local number only after a phone label. Groups of one or two digits
(decimals `12.5`, dates `2016-10-29`, ranges `3-5`) may only end a candidate, so lab values and dates are
never joined into a number. E-mail (half- or full-width `@`, spaces around it) and record numbers (a value,
or a list of values, after a record-number label) are read on the folded text.

Messaging accounts (a value after 微信号 / QQ / ...) and e-mail spelled `(at)` / `[dot]` are read there too.

Hits are (kind, start, end) in the ORIGINAL text. Kinds: id_number, phone, email, record_number, contact_id. Values in
`allowed` (the surrogates a pseudonym operator wrote) are skipped, compared as written and as digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container
from functools import lru_cache

from cmedins.deid import email_words, ip_shapes, label_shapes
from cmedins.deid.normalise import fold
from cmedins.deid.number_shapes import LANDLINE, MOBILE, id_shape

KINDS = ("id_number", "phone", "email", "record_number", "contact_id", "ip_address")
GROUP = re.compile(r"\d+(?:[Xx](?![A-Za-z0-9]))?")  # greedy digits, never backed off (hex ids stay whole)
SEPARATORS = " -./()+（）—–"  # between digit groups, on the folded view (other full-width forms fold to these)
_SEP_CLASS = "[" + SEPARATORS.replace("-", "\\-") + "]"
# Between two groups: 1-2 separator characters, or one dash, dot or slash with a space either side
# (138 - 1234 - 5678: the phone pattern's separator too), or after a closing bracket ((010)- 6234 5678: the
# folded view of （010）一 6234 5678).
GAP = rf"(?:{_SEP_CLASS}{{1,2}}| [-./—–] |[)）] ?[-./—–] ?)"
# A run of groups: maximal digit runs (\d+ is never backed off: what may follow is optional), a gap between
# them, an X only at the run's end (after one, no group joins).
RUN = re.compile(rf"\d+(?:{GAP}\d+)*(?:[Xx](?![A-Za-z0-9]))?")
# the detectors' phone labels (cmedins.deid.label_shapes), an export's frame after them too ({"电话": "62345678"})
PHONE_LABEL = re.compile(rf"(?:{label_shapes.PHONE_LABEL})(?:号码|号)?{label_shapes.FRAMED_SEP}$")
# A domain must end in a real top-level domain (generic ones, or any two-letter country code): `@app.route` and
# `x @ w.weight` in code answers are not addresses, `web3@1.3.0` has no letters there at all.
TLD = (r"(?:com|net|org|edu|gov|mil|int|info|biz|name|pro|mobi|asia|tech|site|online|club|vip|shop|top|xyz|app|"
       r"dev|cloud|email|[a-z]{2})")
EMAIL = re.compile(rf"(?<![\w.%+-])[\w.%+-]+ ?@ ?[\w-]+(?:\.[\w-]+)*\.{TLD}(?![A-Za-z-])", re.ASCII | re.IGNORECASE)
# The record-number labels and what may stand between label and value (the quotes, brackets, =, | and tags of
# exports too) are the detectors' own (cmedins.deid.label_shapes); the bare 病案 and 住院号 besides.
RECORD_LABEL = rf"{label_shapes.RECORD_LABEL}|病案|住院号"
RECORD_VALUE = r"[A-Za-z]{0,4}-?\d[A-Za-z0-9-]{3,24}(?![A-Za-z0-9])"
RECORD = re.compile(rf"(?:{RECORD_LABEL}){label_shapes.FRAMED_SEP}(?P<items>{RECORD_VALUE}"
                    rf"(?:\s*(?:[、,，/]|和|及|与)\s*{RECORD_VALUE})*)")
# After an English label (MRN, Hospital No., Patient ID) or a pinyin column name (zyh, mzh): 4 digits at least.
RECORD_EN = re.compile(rf"(?:{label_shapes.EN_RECORD_LABEL}{label_shapes.FRAMED_SEP}|{label_shapes.RECORD_KEY}"
                       rf"{label_shapes.KEY_SEP})(?P<en_items>{label_shapes.EN_RECORD_VALUE})")
RECORD_ITEM = re.compile(RECORD_VALUE)
# E-mail spelled to dodge scrapers (zhang(at)163.com, li[at]qq[dot]com) and messaging accounts after their label.
BRACKETED = r"[(\[（【]\s?{}\s?[)\]）】]"
EMAIL_OBFUSCATED = re.compile(rf"[\w.%+-]+\s?{BRACKETED.format('(?:at|艾特)')}\s?[\w-]+"
                              rf"(?:(?:\.|\s?{BRACKETED.format('(?:dot|点)')}\s?)[\w-]+)+", re.IGNORECASE)
# E-mail spelled with words (zhangsan at 163 dot com, lisi 艾特 126 点 com, wangwu#163.com): the detector's own
# shape (cmedins.deid.email_words), which holds a mail provider or a dot spelled as a word after a bare `at`.
EMAIL_WORDS = re.compile(email_words.EMAIL_WORDS)
EMAIL_WORDS_HINT = re.compile(email_words.HINT)
# IPv4 / IPv6 addresses, judged by cmedins.deid.ip_shapes (versions, section numbers, loopback and masks are not).
IP = re.compile(ip_shapes.IP)
# Its bracketed `at`: searched first (a fast scan), since the full pattern starts with a word run tried at every
# position of Chinese text (\w matches Han) and costs more than all other checks together.
BRACKETED_AT = re.compile(BRACKETED.format("(?:at|艾特)"), re.IGNORECASE)
# An account holds a digit or an underscore, or follows an explicit colon / 为 / 是 (`QQ music` is a word).
CONTACT = re.compile(rf"(?:{label_shapes.CONTACT_LABEL}|{label_shapes.CONTACT_KEY}(?={label_shapes.KEY_SEP}))"
                     rf"(?:{label_shapes.EXPLICIT_SEP}(?P<any>[A-Za-z0-9][A-Za-z0-9_.-]{{4,39}})"
                     rf"|{label_shapes.FRAMED_SEP}(?P<value>(?=[A-Za-z.-]*[\d_])[A-Za-z0-9][A-Za-z0-9_.-]{{4,39}}))"
                     r"(?![A-Za-z0-9_])", re.IGNORECASE)


# Cheap substring tests run first (most texts hold none of these words); each is implied by its pattern, so a text
# that fails one cannot match it. CONTACT ignores case: its labels are looked for in the lower-cased text, and a
# text holding a character that case-insensitive matching equates to an ASCII letter without lower() mapping it
# there (İ, ı, ſ: the only such characters besides the Kelvin sign, which lower() maps to k) is always scanned.
CONTACT_WORDS = (*label_shapes.CONTACT_WORDS, *label_shapes.CONTACT_KEYS)
RECORD_WORDS = ("号", "ID", "id", "病案")


# One Hyperscan pass per text (cmedins.deid.prefilter) tells which of the costly steps can find anything: each
# expression is a superset of its step's matches. A number shape needs 7 characters of digit groups (6 digits and
# a digit or X at least, 0-3 separators between); a messaging label is matched without case, and a text holding a
# character that lower() or case-insensitive matching maps to an ASCII letter (İ, ı, ſ, the Kelvin sign) always
# passes, as in _may_hold_contact.
NUMBER_SHAPE = rf"\d(?:{_SEP_CLASS}{{0,3}}\d){{5}}{_SEP_CLASS}{{0,3}}[\dXx]"
CONTACT_LABEL = "|".join("".join(f"[{ch.lower()}{ch.upper()}]" if ch.isalpha() and ch.isascii() else ch
                                 for ch in word) for word in CONTACT_WORDS) + "|[İıſ\u212a]"
BRACKETED_AT_SHAPE = BRACKETED.format("(?:[aA][tT]|艾特)")
# (one expression for both record patterns: their group names differ)
PRECHECKS = (NUMBER_SHAPE, CONTACT_LABEL, BRACKETED_AT_SHAPE, f"{RECORD.pattern}|{RECORD_EN.pattern}",
             EMAIL_WORDS.pattern, IP.pattern)
NUMBERS, CONTACTS, OBFUSCATED, RECORDS, WORDED, IPS = range(len(PRECHECKS))


@lru_cache(maxsize=1)
def prechecks():
    from cmedins.deid.prefilter import Prefilter

    return Prefilter([(pattern, "re") for pattern in PRECHECKS])


def _may_hold_contact(folded: str) -> bool:
    lower = folded.lower()
    return any(word in lower for word in CONTACT_WORDS) or any(ch in folded for ch in "İıſ")


def _phone_shape(digits: str, folded: str, start: int) -> bool:
    """A mobile (86/0086 allowed), a landline with its 0-area code (or +86 before it), or a bare 7-8 digit local
    number right after a phone label."""
    if MOBILE.fullmatch(digits):
        return True
    if LANDLINE.fullmatch(digits) and (digits.startswith("0") or "+" in folded[max(0, start - 2):start]):
        return True
    return 7 <= len(digits) <= 8 and PHONE_LABEL.search(folded, max(0, start - 24), start) is not None


def _script_groups(group: str, start: int):
    """A digit group (GROUP) cut where its digits change script, each part in ASCII digits (an X stays with the
    last): 13812345678٣ (the fold leaves another script's digit that touches an ASCII one as it is) is the mobile
    and a one-digit group after it, joined as groups across a separator are, not one 12-digit number."""
    if group.isascii():
        yield group, start, start + len(group)
        return
    i = 0
    while i < len(group):
        j = i + 1
        zero = ord(group[i]) - unicodedata.digit(group[i], 0)  # a script's digits are 0-9 in a row from its zero
        while j < len(group) and group[j] not in "Xx" and ord(group[j]) - unicodedata.digit(group[j], 0) == zero:
            j += 1
        if j < len(group) and group[j] in "Xx":
            j += 1
        yield "".join(ch if ch in "Xx" else str(unicodedata.digit(ch)) for ch in group[i:j]), start + i, start + j
        i = j


def _runs(folded: str):
    """Runs of digit groups (GROUP, one script each) joined by a gap (GAP), a group ending in X ending its run."""
    for run in RUN.finditer(folded):
        if run.end() - run.start() < 7:
            continue  # too few digits for any identifier shape (most runs: a dose, a time, a date)
        groups = [part for m in GROUP.finditer(folded, run.start(), run.end())
                  for part in _script_groups(m.group(), m.start())]
        if sum(len(group[0]) for group in groups) >= 7:
            yield groups


def _numbers(folded: str):
    """Candidate numbers: (digits, start, end) for every window of neighbouring digit groups in which every
    group but the last has 3+ digits (or is the country code 86 / 0086), separated by a gap (GAP) or, between
    two scripts' digits, by nothing. The digits are ASCII."""
    for run in _runs(folded):
        for i in range(len(run)):
            digits = ""
            for j in range(i, len(run)):
                part = run[j][0]
                digits += part
                yield digits, run[i][1], run[j][2]
                country = j == i and part in ("86", "0086")
                area = j == i + 1 and run[i][0] in ("86", "0086") and part in ("10", *map(str, range(20, 30)))
                if len(digits) > 20 or (len(part) < 3 and not (country or area)):
                    break


def residual_hits(text: str, allowed: set[str] = frozenset(), prechecked: bool = True, folded: str | None = None,
                  possible: Container[int] | None = None) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every identifier-shaped string left in `text`, except `allowed` values. Without
    `prechecked` every step runs (the reference the pre-checks are tested against). `folded`: fold(text), and
    `possible`: the pre-checks (indices in PRECHECKS) a prefilter pass over it flagged, when the caller has them
    (the engine, for a text it left as it was: its own pass holds the pre-checks)."""
    if not prechecked:
        folded, may = fold(text), range(len(PRECHECKS))
    elif folded is not None:
        # what prechecks().folded(text) would scan: the folded view
        may = prechecks().possible(folded) if possible is None else possible
    else:
        folded, may = prechecks().folded(text)
    allowed_digits = {"".join(str(unicodedata.digit(ch)) for ch in re.findall(r"\d", value)) for value in allowed} - {""}
    hits: list[tuple[str, int, int]] = []
    for digits, start, end in _numbers(folded) if NUMBERS in may else ():
        if digits in allowed_digits or text[start:end] in allowed:
            continue
        before = folded[start - 1] if start else ""
        after = folded[end] if end < len(folded) else ""
        if (before.isalpha() and before.isascii()) or (after.isalpha() and after.isascii() and after not in "Xx"):
            continue  # part of a code (E12345678, ICD G20.x00, a hex id 0222235115 6cc1...), not a number
        if id_shape(digits):
            hits.append(("id_number", start, end))
        elif _phone_shape(digits, folded, start):
            hits.append(("phone", start, end))
    for match in EMAIL.finditer(folded) if "@" in folded else ():
        if match.group() not in allowed and text[match.start():match.end()] not in allowed:
            hits.append(("email", match.start(), match.end()))
    for match in EMAIL_OBFUSCATED.finditer(folded) if OBFUSCATED in may and BRACKETED_AT.search(folded) else ():
        if text[match.start():match.end()] not in allowed:
            hits.append(("email", match.start(), match.end()))
    for match in EMAIL_WORDS.finditer(folded) if WORDED in may and EMAIL_WORDS_HINT.search(folded) else ():
        if text[match.start():match.end()] not in allowed:
            hits.append(("email", match.start(), match.end()))
    for match in IP.finditer(folded) if IPS in may else ():
        if ip_shapes.ip_ok(folded, match.start(), match.end()) and text[match.start():match.end()] not in allowed:
            hits.append(("ip_address", match.start(), match.end()))
    for match in CONTACT.finditer(folded) if CONTACTS in may and _may_hold_contact(folded) else ():
        group = "any" if match.group("any") else "value"
        if match.group(group) not in allowed:
            hits.append(("contact_id", match.start(group), match.end(group)))
    for match in RECORD.finditer(folded) if RECORDS in may and any(word in folded for word in RECORD_WORDS) else ():
        base = match.start("items")
        for item in RECORD_ITEM.finditer(match.group("items")):
            if item.group() not in allowed:
                hits.append(("record_number", base + item.start(), base + item.end()))
    for match in RECORD_EN.finditer(folded) if RECORDS in may else ():
        if match.group("en_items") not in allowed:
            hits.append(("record_number", match.start("en_items"), match.end("en_items")))
    return _dedupe(hits)


def _dedupe(hits: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """One hit per span: the longest hit wins where candidates overlap (a 3-group mobile, not its first two)."""
    if len(hits) < 2:
        return hits  # (most texts: nothing to sort)
    out: list[tuple[str, int, int]] = []
    for hit in sorted(hits, key=lambda h: (h[1], -(h[2] - h[1]))):
        if out and hit[1] < out[-1][2]:
            continue
        out.append(hit)
    return out
