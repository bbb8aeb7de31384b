"""Tables over every Unicode code point, built a cheaper way at start-up, are the tables the plain definitions give:
the folded view's other-script digits (cmedins.deid.normalise) and dedup's deletion table (cmedins.dedup.normalise),
filled in as characters are first looked up."""

from __future__ import annotations

import sys
import unicodedata

from cmedins.dedup import normalise as dedup_normalise
from cmedins.deid import charclass
from cmedins.deid import normalise as deid_normalise


def test_the_other_digits_class_is_every_code_point_with_a_digit_value():
    every = deid_normalise._other_digit_codes(range(0x80, 0x110000))  # the test on each code point, as before
    assert charclass.ranges(every) == deid_normalise._OTHER_DIGIT_CLASS
    assert {"\u0663", "\u096a", "\U0001d7cf", "\u00b9", "\u2474"} <= {chr(code) for code in every}  # ٣ ४ 𝟏 ¹ ⑵


def test_the_deletion_table_deletes_exactly_punctuation_separators_and_control_characters():
    full = {code: None for code in range(sys.maxunicode + 1)
            if unicodedata.category(chr(code)).startswith(dedup_normalise._DROPPED_CATEGORIES)}
    every = "".join(chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF)
    table = dedup_normalise._deletion_table()
    assert every.translate(table) == every.translate(full)
    assert every.translate(table) == every.translate(full)  # filled in: the same on the second pass
    assert {code for code, kept in table.items() if kept is None} == set(full) - set(range(0xD800, 0xE000))
    assert dedup_normalise.normalise("Ｈｂ１：１２０ｇ/Ｌ，\u200b患者。") == "hb1120gl患者"
