"""The fast detection and replacement paths give exactly what presidio's own engines give.

The engine runs the recognizers through one loop over plain tuples (engine.detect) and splices replacements
directly when findings do not overlap; presidio's AnalyzerEngine and AnonymizerEngine over the same recognizers
are the reference. Checked on synthetic notes (always) and on planted real paragraphs (with ../shared).
"""

from __future__ import annotations

import platform

import pytest

from cmedins.deid.config import DeidConfig
from cmedins.deid.engine import SEPARATOR, Deidentifier, build_analyzer, detect, joined_batch
from cmedins.deid.normalise import fold
from cmedins.deid.operators import Replacer


@pytest.fixture(scope="module")
def presidio_analyzer():
    return build_analyzer()


def synthetic_texts(count: int) -> list[str]:
    from tests.support.synthetic_notes import NoteFactory

    factory = NoteFactory(seed=77)
    return [factory.make().text for _ in range(count)]


def planted_texts(shared_data, count: int) -> list[str]:
    from tests.support.plant_identities import planted_corpus

    return [item.text for item in planted_corpus(shared_data, seed=21, limit=count)]


def assert_same_detections(engine: Deidentifier, analyzer, texts: list[str]) -> int:
    """Joined batches as the engine sees them: presidio's results (every pattern scanned over the whole batch) and
    the fast loop's, with and without the prefilter's regions, as (type, span, score)."""
    seen = 0
    for i in range(0, len(texts), 32):
        folded, joined, starts = joined_batch(texts[i:i + 32])
        reference = analyzer.analyze(joined, language="zh", entities=engine.entities, score_threshold=0.5)
        expected = [(r.entity_type, r.start, r.end, r.score) for r in reference]
        assert detect(engine.recognizers, joined, 0.5) == expected  # same hits, same order (score first)
        regions = engine.gate.regions(folded, starts, len(joined))
        assert regions is not None or platform.machine() != "x86_64"  # hyperscan (x86-64 wheels) is a dependency
        got = detect(engine.recognizers, joined, 0.5, regions)
        assert got == expected
        seen += len(got)
    return seen


def test_fast_detection_equals_presidio_on_synthetic_notes(deid_engine, presidio_analyzer):
    assert assert_same_detections(deid_engine, presidio_analyzer, synthetic_texts(300)) > 300


def test_fast_detection_equals_presidio_on_planted_real_text(deid_engine, presidio_analyzer, shared_data):
    assert assert_same_detections(deid_engine, presidio_analyzer, planted_texts(shared_data, 400)) > 400


@pytest.mark.parametrize("operator", ["placeholder", "pseudonym"])
def test_splice_equals_presidio_anonymizer(operator):
    engine = Deidentifier(DeidConfig(operator=operator))
    texts = synthetic_texts(200)
    spliced = 0
    for index, (text, findings) in enumerate(zip(texts, engine.analyze_many(texts), strict=True)):
        fast, reference = Replacer(engine.config, str(index)), Replacer(engine.config, str(index))
        assert engine.anonymize(text, findings, fast) == engine.anonymize_with_presidio(text, findings, reference)
        assert fast.assigned == reference.assigned  # same surrogates, handed out in the same order
        spliced += bool(findings)
    assert spliced > 100


def test_overlapping_findings_still_follow_presidio_conflict_rules(deid_engine):
    from cmedins.deid.engine import Finding

    text = "联系电话13812345678转123"
    findings = [Finding(4, 15, "CN_PHONE", 0.9), Finding(4, 19, "CN_PHONE", 0.75), Finding(10, 19, "PERSON", 0.5)]
    replacer = Replacer(deid_engine.config, "x")
    out = deid_engine.anonymize(text, findings, replacer)
    assert out == deid_engine.anonymize_with_presidio(text, findings, Replacer(deid_engine.config, "x"))
    assert "1381234" not in out


def assert_anchored_equals_scan(texts: list[str]) -> int:
    """Anchored patterns (tried only near their anchor words) find exactly what a scan at every position finds."""
    from cmedins.deid.recognizers import AnchoredPattern, pattern_recognizers

    recognizers = [r for r in pattern_recognizers() if any(isinstance(p, AnchoredPattern) for p in r.patterns)]
    assert {r.name for r in recognizers} == {"ChineseAddressRecognizer", "InstitutionRecognizer"}
    found = 0
    for i in range(0, len(texts), 32):
        joined = SEPARATOR.join(fold(text) for text in texts[i:i + 32])
        for recognizer in recognizers:
            anchored = recognizer.matches(joined)
            assert anchored == recognizer.matches(joined, anchored=False)
            found += len(anchored)
    return found


def test_anchored_patterns_equal_a_full_scan_on_tricky_text():
    texts = ["现住北京市朝阳区建国路88号院3号楼。", "家住河北省承德市双滦区偏桥子镇大贵口村人。", "地区医院", "于北京协和医院就诊",
             "经承德市中心医院转入。广西壮族自治区人民医院", "患者来自大王庄村人，在社区卫生服务中心就诊", "市区", "区" * 40,
             "山东省济南市历下区经十路与山大路交叉口东南角小区", "在北京大学第三医院、上海交通大学医学院附属瑞金医院"]
    assert assert_anchored_equals_scan(texts) >= 8


def test_anchored_patterns_equal_a_full_scan_on_planted_real_text(shared_data):
    assert assert_anchored_equals_scan(planted_texts(shared_data, 1500)) > 500


@pytest.mark.parametrize("text", ["微信号：wxid_ab12cd", "WeChat: zhang_2024", "QQ 123456789", "ſkype: li.si_88",
                                  "lİne id: abc_123", "lıne ID: abc_123", "sKype: abc_123", "Telegram为 user_42",
                                  "联系邮箱 li(at)163.com", "病案号：A123456", "住院号 20230011", "ID号: 12345678",
                                  "邮箱：zhang@163.com"])
def test_residual_prefilters_never_hide_a_hit(text):
    """Each cheap test before a residual pattern is implied by the pattern: every case still hits."""
    from cmedins.deid.residual import residual_hits

    assert residual_hits(text)


def test_anchored_name_patterns_equal_a_full_scan(shared_data):
    from cmedins.deid import names

    texts = planted_texts(shared_data, 1500) + ["参加讨论人员：王梅、李强。记录者 ：赵某某", "张先生和欧阳XX，李教授认为",
                                                  "签名:刘洋 主治医师: 陈静 王主任医师指出"]
    found = 0
    for i in range(0, len(texts), 32):
        joined = SEPARATOR.join(fold(text) for text in texts[i:i + 32])
        for pattern, anchor in ((names.PARTIAL, names.PARTIAL_ANCHOR), (names.CUE, names.CUE_ANCHOR),
                                (names.LIST_LABEL, names.LIST_LABEL_ANCHOR)):
            spans = names._spans(pattern, anchor, joined)
            assert spans == [m.span() for m in pattern.finditer(joined) if m.end() > m.start()]
            found += len(spans)
    assert found > 300


def test_name_scans_rewritten_for_speed_equal_their_plain_patterns(shared_data):
    """The names' scans written for speed find what the plain patterns find: the role words as a trie (ROLE), the
    line and sentence starts found from the character before them (LINE_NAME), a person noun from its last
    character (ROLE_SUFFIX), a phone from its digits (PHONE_OR_DATE_AFTER); over whole batches and over regions
    that start inside a text."""
    import re

    from cmedins.deid import lexicon, names

    plain_role = re.compile(rf"(?:{'|'.join(sorted(lexicon.NAME_PREFIX_CONTEXT, key=len, reverse=True))})[：:\s/]?\s*"
                            rf"(?={names._surnames})")
    texts = planted_texts(shared_data, 1500) + [
        "王芳", " 王芳：好", "　\t王芳", "头痛。王芳诉", "好！ 　李娜：", "完。\n\n 欧阳娜\n", "。上官兰萍", "？东方", "\n\n",
        "患者家属王芳", "主治医师：李强", "主任医师 张伟", "副主任医师王", "审核医师/陈静", "之孙女李", "药师王芳审方",
        "民警李强将患者", "检察官王五", "所有者王", "医师王", "员王", "者",
        "王芳电话13812345678", "王芳 138 1234 5678年", "联系电话：(+8613812345678", "手机（0101234567", "王芳  2023年5月6日",
        "1234567 2023-5", "2016-10-29 12:30", "12345678901234567890年", " 2023.1 1234567", "电话 1 2 3 4 5 6 7 8"]
    found = 0
    for i in range(0, len(texts), 32):
        joined = SEPARATOR.join(fold(text) for text in texts[i:i + 32])
        middle = len(joined) // 3
        for regions in (None, [(middle, len(joined) - 5)], [(0, 40), (41, middle)]):
            where = names._Scans(joined, None if regions is None else [regions] * len(names.SCANS))
            bounds = regions or [(0, len(joined))]
            role = [m.span() for lo, hi in bounds for m in plain_role.finditer(joined, lo, hi)]
            assert [m.span() for m in where.finditer(names.ROLE)] == role
            lines = [m.span() for lo, hi in bounds for m in names.LINE_NAME.finditer(joined, lo, hi)]
            assert list(where.line_names()) == lines
            nouns = [m.span() for lo, hi in bounds for m in names.ROLE_SUFFIX.finditer(joined, lo, hi)]
            assert where.spans(names.ROLE_SUFFIX, names.ROLE_SUFFIX_ANCHOR) == nouns
            phones = [m.span() for lo, hi in bounds for m in names.PHONE_OR_DATE_AFTER.finditer(joined, lo, hi)]
            assert [m.span() for m in where.finditer(names.PHONE_OR_DATE_AFTER)] == phones
            found += len(role) + len(lines) + len(nouns) + len(phones)
    assert found > 1000


@pytest.mark.parametrize("operator", ["placeholder", "pseudonym"])
def test_splice_equals_presidio_anonymizer_on_planted_real_text(shared_data, operator):
    """Planted real paragraphs hold overlapping findings (an ID holding a phone-like run, names in addresses) and
    findings of one type with spaces between: presidio's conflict and merge rules decide those."""
    engine = Deidentifier(DeidConfig(operator=operator))
    texts = planted_texts(shared_data, 1200)
    overlapping = 0
    for index, (text, findings) in enumerate(zip(texts, engine.analyze_many(texts), strict=True)):
        fast, reference = Replacer(engine.config, str(index)), Replacer(engine.config, str(index))
        assert engine.anonymize(text, findings, fast) == engine.anonymize_with_presidio(text, findings, reference)
        assert list(fast.assigned.items()) == list(reference.assigned.items())
        ordered = sorted(findings, key=lambda f: f.start)
        overlapping += any(a.end > b.start for a, b in zip(ordered, ordered[1:], strict=False))
    assert overlapping > 50


def test_splice_follows_presidio_on_constructed_conflicts(deid_engine):
    from cmedins.deid.engine import Finding

    cases = [
        ("联系电话13812345678转123", [Finding(4, 15, "CN_PHONE", 0.9), Finding(4, 19, "CN_PHONE", 0.75),
                                   Finding(10, 19, "PERSON", 0.5)]),
        ("王梅 李强  赵四\n", [Finding(0, 2, "PERSON", 0.9), Finding(3, 5, "PERSON", 0.9), Finding(7, 9, "PERSON", 0.8)]),
        ("A123 B456", [Finding(0, 4, "MEDICAL_RECORD_NUMBER", 0.95), Finding(5, 9, "MEDICAL_RECORD_NUMBER", 0.95)]),
        ("住北京市朝阳区建国路", [Finding(1, 10, "CN_ADDRESS", 0.8), Finding(1, 4, "CN_ADDRESS", 0.95),
                         Finding(4, 7, "INSTITUTION", 0.95), Finding(6, 10, "DATE_TIME", 0.99)]),
        ("abcdef", [Finding(0, 3, "EMAIL", 0.5), Finding(0, 3, "EMAIL", 0.9), Finding(0, 3, "PERSON", 0.9),
                    Finding(2, 6, "EMAIL", 0.6), Finding(3, 6, "PERSON", 0.4)]),
    ]
    for operator in ("placeholder", "pseudonym"):
        config = DeidConfig(operator=operator)
        for text, findings in cases:
            fast, reference = Replacer(config, "x"), Replacer(config, "x")
            assert deid_engine.anonymize(text, findings, fast) == \
                deid_engine.anonymize_with_presidio(text, findings, reference), (operator, text)
            assert list(fast.assigned.items()) == list(reference.assigned.items())
