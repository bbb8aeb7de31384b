"""Row ids are stable over whitespace variants and differ for different content."""

from __future__ import annotations

from cmedins.contracts.ids import content_id, normalise_for_id


def test_whitespace_variants_share_an_id():
    wrapped = [{"role": "user", "content": "  血压150/90mmHg，\n\n头晕 三天。\n"}]
    flat = [{"role": "user", "content": "血压150/90mmHg， 头晕 三天。"}]
    assert normalise_for_id("  头晕\u3000\n三天 ") == "头晕 三天"
    assert content_id(wrapped) == content_id(flat)
    assert len(content_id(flat)) == 32


def test_different_content_or_task_changes_the_id():
    messages = [{"role": "user", "content": "头痛"}, {"role": "assistant", "content": "休息"}]
    assert content_id(messages, "diagnosis") != content_id(messages, "treatment")
    assert content_id(messages) != content_id([{**messages[0], "content": "头晕"}, messages[1]])


# The fast paths must write json.dumps' bytes: ids are row ids in published datasets, the dedup keep rule and
# checkpoints. Hostile strings: every kind of whitespace str.split() knows (and ones it does not), escapes,
# width and NFKC variants (left alone: ids normalise whitespace only), non-BMP characters.
HOSTILE_TEXTS = [
    "", " ", "\u3000", "  血压150/90mmHg，\n\n头晕 三天。\n", "\t\v\f\r\n", "a\u3000\u3000b", "a\xa0b", "a\u2028b\u2029c",
    "a\x1cb\x1dc\x1ed\x1fe", "a\x85b", "a\u200bb", "\ufeffBOM", "a\u1680b\u2000c\u200ad\u202fe\u205ff",
    '引号"与\\反斜杠', "\x00\x01\x07\x08\x1b\x7f", "制表\t符", "ＡＢＣ１２３（全角）", "ﬁ①ｶﾞ㎎µÅ", "e\u0301 é",
    "😀 𠀀 emoji", "﹖？?", "   leading and trailing   ", "/", "null", "true", "1.0",
]
HOSTILE_PARTS = [
    ([{"role": "user", "content": text}, {"role": "assistant", "content": text[::-1]}], "diagnosis")
    for text in HOSTILE_TEXTS
] + [
    (),
    ("",),
    ([],),
    ({},),
    ([[]], [{}], [[[["深"]]]]),
    ({"z": 1, "a": 2, "m": {"y": [1, 2.5, None], "b": True, "": False}},),
    ({"content": " x ", "role": " user "}, {"role": " user ", "content": " x "}),  # key order, key whitespace kept
    ({" 键 ": "\u3000值\u3000", "键": "值"},),
    ([0.1, -0.0, 1e16, 1e-7, 2.0**60, 3, -7, 10**30, True, False, None],),
    (float("nan"), float("inf"), -float("inf")),  # json writes NaN / Infinity itself
    ({1: "a", 2: "b", 10: "c"},),  # non-str keys: json's own text (sorted as numbers)
    ({True: 1, False: 2}, {1.5: "x", 2: "y"}),
    ("unit", "cmb_clin", 17, ["头痛 三天", "无"]),
    ((("tuple", " in "), "tuple"),),
    ([{"role": "user", "content": "a", "extra": [1, {"n": None}]}],),
]


class _Text(str):
    pass


class _Dict(dict):
    pass


def test_fast_content_id_equals_the_former_code():
    from collections import OrderedDict
    from datetime import date
    from enum import IntEnum
    from pathlib import PurePosixPath

    from tests.support.tasks_reference import reference_content_id

    class Level(IntEnum):
        HIGH = 3

    unusual = [(_Text(" 子类 "), ), (_Dict(b=" 1 ", a="2"),), (OrderedDict([("b", 1), ("a", " 2 ")]),),
               (PurePosixPath("a  b/c"),), (date(2024, 1, 2),), (Level.HIGH,), ({"k": {1, 2}},), ({"k": object()},), (b"bytes",)]
    for parts in HOSTILE_PARTS + unusual:
        for length in (32, 16, 12):
            assert content_id(*parts, length=length) == reference_content_id(*parts, length=length), parts


def test_both_codes_refuse_the_same_inputs():
    import pytest

    from tests.support.tasks_reference import reference_content_id

    for parts in (({1: "a", "b": 2},), ({True: 1, None: 2},), ("\ud800 lone surrogate",)):
        with pytest.raises(Exception) as former:
            reference_content_id(*parts)
        with pytest.raises(type(former.value)):
            content_id(*parts)


def test_random_nested_values_give_the_former_ids():
    import random

    from tests.support.tasks_reference import reference_content_id

    rng = random.Random(15)
    alphabet = list("头痛a Z1。，,\"\\\n\t\r") + ["\u3000", "\xa0", "\x1f", "\u2028", "Ａ", "😀", "ﬁ", "  "]

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(8)))

    def value(depth: int):
        kind = rng.randrange(9 if depth < 4 else 5)
        if kind == 0:
            return text()
        if kind == 1:
            return rng.choice([None, True, False])
        if kind == 2:
            return rng.randrange(-10**6, 10**6)
        if kind == 3:
            return rng.uniform(-1e6, 1e6) * rng.choice([1, 1e-12, 1e12])
        if kind == 4:
            return ""
        if kind in (5, 6):
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        if kind == 7:
            return tuple(value(depth + 1) for _ in range(rng.randrange(3)))
        return {text(): value(depth + 1) for _ in range(rng.randrange(4))}

    for _ in range(3000):
        parts = tuple(value(0) for _ in range(rng.randrange(1, 4)))
        assert content_id(*parts) == reference_content_id(*parts), parts


def test_normal_chat_id_is_the_content_id_of_the_messages():
    from cmedins.contracts.ids import normal_chat_id
    from tests.support.tasks_reference import reference_content_id

    for text in HOSTILE_TEXTS:
        raw = [("system", text + " 系统 "), ("user", f"请诊断。\n\n{text}"), ("assistant", text * 2)]
        messages = [{"role": role, "content": content} for role, content in raw]
        turns = [(role, normalise_for_id(content)) for role, content in raw]
        for tags in ((), ("diagnosis",), ("triage", "extra tag")):
            assert normal_chat_id(turns, *tags) == reference_content_id(messages, *tags)
            assert normal_chat_id(turns[1:], *tags, length=16) == reference_content_id(messages[1:], *tags, length=16)
    assert normal_chat_id([], "x") == reference_content_id([], "x")


def test_plain_rows_take_the_fast_path(monkeypatch):
    import cmedins.contracts.ids as ids

    expected = content_id([{"role": "user", "content": "头痛"}], "dialogue_single", {"n": [1, 2.5, None, True]})
    monkeypatch.setattr(ids.json, "dumps", None)  # the fallback would now fail
    assert content_id([{"role": "user", "content": "头痛"}], "dialogue_single", {"n": [1, 2.5, None, True]}) == expected
