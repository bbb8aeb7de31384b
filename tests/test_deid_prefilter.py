"""The native prefilter (cmedins/deid/prefilter.py) never hides a match: every expression it gives Hyperscan is a
superset of its pattern, and on real text every pattern that matches in a text is flagged for that text."""

from __future__ import annotations

import pytest
import regex

from cmedins.deid.prefilter import Prefilter, superset_expression
from cmedins.deid.recognizers import FLAGS, pattern_recognizers

hyperscan = pytest.importorskip("hyperscan")


def all_patterns() -> list:
    """Every regex recognizer's patterns (regex module) and the name rules' scans (re module), compiled."""
    from cmedins.deid.names import SCANS

    return [regex.compile(p.regex, flags=FLAGS) for r in pattern_recognizers() for p in r.patterns] + list(SCANS)


def flagged_where_matched(texts: list[str]) -> tuple[int, int]:
    """(texts x patterns with a match, of them not flagged): the second must be 0."""
    compiled = all_patterns()
    prefilter = Prefilter([p.pattern if isinstance(p, regex.Pattern) else (p.pattern, "re") for p in compiled])
    matched = missed = 0
    for text in texts:
        possible = prefilter.possible(text)
        for index, pattern in enumerate(compiled):
            if any(m.end() > m.start() for m in pattern.finditer(text)):
                matched += 1
                missed += index not in possible
    return matched, missed


def test_superset_expression_drops_what_hyperscan_cannot_check_exactly():
    assert superset_expression(r"(?<!\d)1[3-9]\d{9}(?!\d)") == "1[3-9][0-9]{9}"
    assert superset_expression(r"住院号\s*\K[A-Z]\d{2,24}") .startswith("住院号[\\x{9}-")
    assert superset_expression(r"(?P<sep>[-/.])1(?P=sep)") == "(?:[-/.])1(?:[-/.])"
    assert superset_expression(r"[\p{Han}--[的是]]{1,8}?市").endswith("]{1,}市")
    # a lookahead that ends the pattern is read as part of the match; one inside a group is dropped
    assert superset_expression(r"9\d(?=\s*岁)|(?:a(?=b))c") == "9[0-9](?:[\\x{9}-\\x{d}\\x{20}\\x{85}\\x{a0}" \
        "\\x{1680}\\x{2000}-\\x{200a}\\x{2028}-\\x{2029}\\x{202f}\\x{205f}\\x{3000}]*岁)|(?:a)c"
    with pytest.raises(ValueError):
        superset_expression(r"\w+@")  # no exact superset known: refused, never guessed


def test_every_pattern_compiles_and_flags_its_own_tricky_matches():
    texts = ["电话13812345678", "身份证号：11010519491231002X", "出生于1990年3月5日", "现住北京市朝阳区建国路88号院3号楼",
             "于北京协和医院就诊", "邮箱 li @ 163.com", "li(at)163[dot]com", "1990-3-5", "九十二岁", "车牌京A12345",
             "1990年生\n", "护照E12345678", "卡号6222 0212 3456 7890 128", "住院号：ZY-2023-0001、ZY-2023-0002",
             "患者王芳，女，45岁", "参加讨论人员：王梅、李强", "家属（王梅）", "王梅（患者之女）", "电话联系王梅", "经王梅主任医师查房",
             "张某某", "李教授认为", "\n（女，45岁）"]
    matched, missed = flagged_where_matched(texts)
    assert matched >= len(texts) and missed == 0


def test_texts_the_tables_may_not_cover_are_flagged_for_every_pattern():
    prefilter = Prefilter(["[0-9]{11}", "医院"])
    assert {0, 1} <= set(prefilter.possible("电话١٣٨١٢٣٤٥٦٧٨"))  # Arabic-Indic digits: `regex` reads them as \d
    assert {0, 1} <= set(prefilter.possible("a\ud800b"))  # a lone surrogate is not UTF-8
    assert prefilter.possible("协和医院") == {1}
    assert prefilter.possible("无") == set()


def test_one_pass_tells_whether_a_text_needs_folding():
    prefilter = Prefilter(["[0-9]{11}"])
    assert prefilter.folded("电话13812345678") == ("电话13812345678", {0})
    assert prefilter.folded("电话１３８１２３４５６７８") == ("电话13812345678", {0})  # folded, then scanned again
    assert prefilter.folded("手机一三八一二三四五六七八") == ("手机13812345678", {0})
    assert prefilter.folded("138—1234—5678")[0] == "138-1234-5678"


def test_windows_merge_neighbouring_texts():
    prefilter = Prefilter(["医院"])
    texts = ["在医院", "去医院", "无", "医院"]
    starts = [0, 6, 12, 16]
    assert prefilter.windows(texts, starts, 18) == [[(0, 11), (15, 18)]]  # from the newline before a text
    assert prefilter.windows([], [], 0) == [[]]


def test_an_empty_batch_has_no_findings(deid_engine):
    assert deid_engine.analyze_many([]) == []


def test_prefilter_flags_every_match_on_planted_real_text(shared_data):
    from tests.support.plant_identities import planted_corpus

    texts = [item.text for item in planted_corpus(shared_data, seed=5, limit=1500)]
    texts += [item.text for item in planted_corpus(shared_data, seed=6, limit=600, menu="blind")]
    matched, missed = flagged_where_matched(texts)
    assert matched > 3000 and missed == 0


def test_without_hyperscan_every_text_is_scanned(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_hyperscan(name, *args, **kwargs):
        if name == "hyperscan":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_hyperscan)
    prefilter = Prefilter(["医院"])
    assert prefilter.database is None and 0 in prefilter.possible("无")
    assert prefilter.folded("１３８") == ("138", prefilter.possible("138"))  # still folded


def numbers_by_groups(folded: str) -> list[tuple[str, int, int]]:
    """The residual scan's candidate numbers as it built them before runs were matched whole: every digit group
    (GROUP), joined to the previous one across 1-2 separators unless that one ends in X."""
    from cmedins.deid.residual import GROUP, SEPARATORS

    runs: list[list[tuple[str, int, int]]] = []
    for m in GROUP.finditer(folded):
        group = (m.group(), m.start(), m.end())
        if runs:
            last = runs[-1][-1]
            gap = folded[last[2]:group[1]]
            if 0 < len(gap) <= 2 and all(ch in SEPARATORS for ch in gap) and last[0][-1] not in "Xx":
                runs[-1].append(group)
                continue
        runs.append([group])
    out = []
    for run in runs:
        if sum(len(group[0]) for group in run) < 7:
            continue
        for i in range(len(run)):
            digits = ""
            for j in range(i, len(run)):
                part = run[j][0]
                digits += part
                out.append((digits, run[i][1], run[j][2]))
                country = j == i and part in ("86", "0086")
                area = j == i + 1 and run[i][0] in ("86", "0086") and part in ("10", *map(str, range(20, 30)))
                if len(digits) > 20 or (len(part) < 3 and not (country or area)):
                    break
    return out


TRICKY_NUMBERS = ["123X 4567890", "123-456X789 0123", "0086 21 1", "电话：123456X", "12345X6789012345678",
                  "138 1234 5678", "86-10-12345678", "2016-10-29 12:30", "1234567x", "110101 19800101 123x",
                  "(+86)138.1234.5678", "123 -- 4567", "1２3４5６7"]


def test_runs_of_digit_groups_are_the_groups_joined_one_by_one(shared_data):
    from cmedins.deid.normalise import fold
    from cmedins.deid.residual import _numbers
    from tests.support.plant_identities import planted_corpus

    texts = TRICKY_NUMBERS + [item.text for item in planted_corpus(shared_data, seed=5, limit=1500)]
    seen = 0
    for text in map(fold, texts):
        expected = numbers_by_groups(text)
        assert list(_numbers(text)) == expected, text
        seen += len(expected)
    assert seen > 5000


def test_residual_prechecks_change_no_hit_on_real_text(shared_data):
    from cmedins.deid.residual import residual_hits
    from tests.support.deid_evaluation import public_texts
    from tests.support.plant_identities import planted_corpus

    texts = [item.text for item in planted_corpus(shared_data, seed=5, limit=1500)]
    texts += [item.text for item in planted_corpus(shared_data, seed=6, limit=600, menu="blind")]
    texts += [text for rows in public_texts(shared_data, 300).values() for text in rows]
    texts += TRICKY_NUMBERS + ["ſkype: li.si_88", "lİne id: abc_123", "QQ 123456789", "\u212aakao 12345"]
    hits = 0
    for text in texts:
        found = residual_hits(text)
        assert found == residual_hits(text, prechecked=False), text
        hits += len(found)
    assert hits > 2000


def test_threads_sharing_a_prefilter_still_get_a_superset():
    from concurrent.futures import ThreadPoolExecutor

    prefilter = Prefilter(["[0-9]{11}", "医院"])
    texts = ["电话13812345678", "北京协和医院", "无"] * 400
    alone = [prefilter.possible(text) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        shared = list(pool.map(prefilter.possible, texts))
    assert all(set(one) <= set(other) for one, other in zip(alone, shared, strict=True))


def test_the_engines_pass_serves_the_residual_prechecks(deid_engine, shared_data):
    """A text the engine leaves as it was is residual-scanned with the pre-checks the engine's own pass flagged its
    folded view for (cmedins.deid.engine.PatternGate.residual_possible): the same hits as a pass of its own."""
    from cmedins.deid.residual import residual_hits
    from tests.support.plant_identities import planted_corpus

    texts = [item.text for item in planted_corpus(shared_data, seed=5, limit=600)]
    texts += [item.text for item in planted_corpus(shared_data, seed=6, limit=300, menu="blind")]
    texts += TRICKY_NUMBERS + ["ſkype: li.si_88", "QQ 123456789", "邮箱 li(at)163.com", "住院号：A12345", "١٣٨١٢٣٤٥٦٧٨"]
    hits = 0
    for i in range(0, len(texts), 64):
        folded, _, _, _, possible = deid_engine.gate.batch(texts[i:i + 64])
        for text, view, found in zip(texts[i:i + 64], folded, possible, strict=True):
            shared = residual_hits(text, folded=view, possible=deid_engine.gate.residual_possible(found))
            assert shared == residual_hits(text), text
            hits += len(shared)
    assert hits > 500
