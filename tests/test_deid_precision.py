"""De-identification, second round: recall on the sample generator's records (ground truth from their structured
identities), names after kinship words and with ambiguous surnames, and precision on real public consultation
text, where drug, herb and book names, generic places and everyday words used to be masked as identities."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.deid_evaluation import leaks_by_type, public_texts, sample_cases


def masked(deid_engine, text: str) -> str:
    return deid_engine.deidentify(text)[0]


# --- recall on 2,000 generated records ------------------------------------------------------------------------
def test_every_planted_identity_of_generated_records_is_removed(deid_engine):
    cases = sample_cases(2000, seed=7)
    units = deid_engine.deidentify_units([(case.scope, case.texts) for case in cases])
    counts, leaks = leaks_by_type(cases, [[result.text for result in unit] for unit in units])
    assert set(counts) == {"PERSON", "CN_ID_CARD", "CN_PHONE", "CN_ADDRESS", "INSTITUTION", "MEDICAL_RECORD_NUMBER",
                           "DATE_OF_BIRTH", "DATE_TIME"}
    assert all(planted > 500 for _, planted in counts.values()), counts
    person_removed, person_planted = counts.pop("PERSON")
    assert person_removed / person_planted >= 0.998, leaks[:10]
    assert [leak for leak in leaks if leak[1] != "PERSON"] == [], counts


# --- names that used to survive -------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("病史由患者之父雷保国代诉，可靠。", "病史由患者之父<姓名>代诉，可靠。"),
    ("病史由患者之孙韩文博代诉。", "病史由患者之孙<姓名>代诉。"),
    ("病史由患者之子程志明代诉。", "病史由患者之子<姓名>代诉。"),  # 明代 is a word, 代诉 ends the name
    ("患者之女王鑫代诉病史。", "患者之女<姓名>代诉病史。"),  # 女王 is a word too
    ("患者于强，男，45岁。", "患者<姓名>，男，45岁。"),
    ("姓名：向宇航　性别：男", "姓名：<姓名>　性别：男"),
    ("患者向浩然3天前出现发热。", "患者<姓名>3天前出现发热。"),
    ("患者向秋菊平素月经规律。", "患者<姓名>平素月经规律。"),
    ("5.家属于明电话13341122334。", "5.家属<姓名>电话<电话>。"),
    ("患者于某某半年前出现皮疹。", "患者<姓名>半年前出现皮疹。"),
    ("由其子高欢陪同。", "由其子<姓名>陪同。"),
    ("请示王金兰主任后准予出院。", "请示<姓名>主任后准予出院。"),  # the title is not part of the name
    ("潘之清研究认为，婴幼儿更易感染。", "<姓名>研究认为，婴幼儿更易感染。"),
    ("来广西壮族自治区人民医院就诊。", "来<机构>就诊。"),
    # a given name that is also a word (明月, 明天, 宇宙) kept its last character after a role word
    ("患者：张明月，女，45岁。", "患者：<姓名>，女，45岁。"),
    ("家属：欧阳明月（女儿）陪同。", "家属：<姓名>（女儿）陪同。"),
    ("患者：吴宇宙，男", "患者：<姓名>，男"),
    ("姓名：李春天", "姓名：<姓名>"),
    ("家属：王明月电话13812345678", "家属：<姓名>电话<电话>"),
    ("患者王强月经不调1年。", "患者<姓名>月经不调1年。"),  # the word goes on: the name is two characters
    # a name field's value is a name even when it is also a word (黎明 dawn, 夏天 summer, 马上 at once)
    ("姓名：黎明，性别：男", "姓名：<姓名>，性别：男"),
    ("姓名：夏天", "姓名：<姓名>"),
    ("患者姓名：马上 性别：男", "患者姓名：<姓名> 性别：男"),
    ("姓名：不详，性别：女", "姓名：不详，性别：女"),
    # after a role word, a header's sex makes a name of a word, a clinical one included (黎明现象)
    ("患者黎明，男，45岁，因胸痛入院。", "患者<姓名>，男，45岁，因胸痛入院。"),
    ("患者黎明，男性，45岁", "患者<姓名>，男性，45岁"),
    ("患者夏天，女，30岁。", "患者<姓名>，女，30岁。"),
    ("患者黄连，女，3岁", "患者<姓名>，女，3岁"),
    ("患者黎明时分胸痛加重。", "患者黎明时分胸痛加重。"),
    ("患者成年，男性", "患者成年，男性"),
    ("患者青年，男性，无", "患者青年，男性，无"),
    # a name field's value is masked to the field's end, however long the given name
    ("姓名：王芳芳芳，性别：女", "姓名：<姓名>，性别：女"),
    ("姓名：王芳性别：女", "姓名：<姓名>性别：女"),
    ("姓名：王芳今年45岁", "姓名：<姓名>今年45岁"),
    ("护士长王丽查房后指出", "护士长<姓名>查房后指出"),
    ("护士长马上到病房。", "护士长马上到病房。"),
])
def test_names_and_institutions_found(deid_engine, text, expected):
    assert masked(deid_engine, text) == expected


# --- only the value is masked: labels, titles and the digits of other text stay ----------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("住址北京市朝阳区建国路88号，电话13812345678。", "住址<地址>，电话<电话>。"),  # 址 was masked with the value
    ("家庭住址北京市朝阳区建国路88号。", "家庭住址<地址>。"),
    ("户籍地址河北省石家庄市长安区。", "户籍地址<地址>。"),
    ("地址北京市朝阳区建国路88号", "地址<地址>"),  # 地址 was masked whole
    ("现住址：上海市浦东新区张江路1号。", "现住址：<地址>。"),
    # Arabic-Indic digits after a phone are another number: the labelled phone swallowed them, a bare one leaked
    ("电话13812345678٣天后复查。", "电话<电话>٣天后复查。"),
    ("联系电话：13812345678٠١٢", "联系电话：<电话>٠١٢"),
    ("患者13812345678٣天后复查。", "患者<电话>٣天后复查。"),
    ("电话021-62345678٣", "电话<电话>٣"),
    ("电话١٣٨١٢٣٤٥٦٧٨", "电话<电话>"),  # a phone in Arabic-Indic digits, or mixing scripts, is still one
    ("患者138١٢٣٤٥٦٧٨", "患者<电话>"),
    # a surname with an honorific: the honorific stays, as a full name's title does (<姓名>主任医师)
    ("请转 王医生处理。", "请转 <姓名>医生处理。"),
    ("转王医生会诊。", "转<姓名>医生会诊。"),
    ("转李主任，", "转<姓名>主任，"),
    ("患者王某某，女，45岁。", "患者<姓名>，女，45岁。"),  # a masking mark stands for the given name: masked
])
def test_only_the_value_is_masked(deid_engine, text, expected):
    assert masked(deid_engine, text) == expected


def test_a_name_found_once_is_masked_everywhere_in_the_record(deid_engine):
    (header, story), = deid_engine.deidentify_units([("r1", ["患者王建国，男，65岁。", "王建国诉头痛3天，王建国之妻陪同。"])])
    assert story.text == "<姓名>诉头痛3天，<姓名>之妻陪同。"
    other = deid_engine.deidentify_units([("r2", ["复查王建国的血常规。"])])[0][0]
    assert other.text == "复查王建国的血常规。"  # no context in this record: a bare name is not enough evidence


# --- precision: medical content and everyday words survive ---------------------------------------------------
@pytest.mark.parametrize("text", [
    "口服些妇科千金片或者花红颗粒，具体用药请遵医嘱。",
    "炮制方法1.《雷公炮炙论》：宜炮皴。",
    "出自《张仲景医案》与《黄帝内经》。",
    "盐酸氢吗啡酮注射液镇痛。",
    "查腹部彩超示：腹部脐周大血管旁及肠系膜多发淋巴结。",
    "建议去社区医院就诊，各地区医院收费不同，不同城市医院也不同。",
    "患者居住在牧场，您好我家住农村，我们家亲戚的小孩。",
    "请及时就医并向医生详细描述症状，由医生进行评估，谢谢医生！",
    "祝宝宝健康成长，祝老人健康！",
    "吃点元胡止疼片，确诊后服用奥美拉唑、吗丁啉和胃炎颗粒治疗。",
    "一般来说，成年男性每隔2-3小时排尿一次，白领女性因为工作压力。",
    "医生关照：在排卵期，会有白带增多。",
    "孕妇都会出现脚肿，让病人平让他呼吸顺畅。",
    "可以服用龙母壮骨颗粒、孟鲁司特咀嚼片和金匮肾气丸。",
    "其他辅助手段帮助实现孕育愿望。",
    "您好医生干细胞嫁接治疗糖尿病多少钱？",
    "患者于今日上午、于晨起时、于外院就诊，患者于我院诉头痛。",
    "母亲高兴地说，女儿白天上学，患者钱包丢失。",
])
def test_medical_and_everyday_text_survives(deid_engine, text):
    assert masked(deid_engine, text) == text


# --- precision on real public consultation text -------------------------------------------------------------
# Every name, address and institution the deid_engine still finds in the public sources (1,000 rows each), read by
# eye: real people (authors 张立 and 潘之清, 钱先生 and 姚主任 as addressed: their honorifics stay, so the finding is
# the surname), real hospitals and their addresses,
# and place names. 严令 (高血压患者严令禁止饮酒) is the one known false positive left.
KNOWN_FALSE_POSITIVES = {("PERSON", "严令")}
REVIEWED = {
    ("PERSON", "张立"), ("PERSON", "潘之清"), ("PERSON", "钱"), ("PERSON", "姚"), ("PERSON", "严令"),
    ("INSTITUTION", "张立博士北京大学第三医院"), ("INSTITUTION", "上海交通大学医学院"), ("INSTITUTION", "南京市第一人民医院"),
    ("INSTITUTION", "台湾桃园市龟山区迴龍诊所"), ("INSTITUTION", "西安交通大学医学院"), ("INSTITUTION", "庆阳市中心医院"),
    ("INSTITUTION", "神奈川县医院"), ("CN_ADDRESS", "江西省鄱阳湖区"), ("CN_ADDRESS", "贵州省剑河县"),
    ("CN_ADDRESS", "上海市浦东新区世纪大道99号"), ("CN_ADDRESS", "北京市朝阳区东大桥路1号"),
    ("CN_ADDRESS", "南京市秦淮区中山北路168号"),
    # well-known hospitals named without a city-level suffix (real institutions, recommended in answers)
    ("INSTITUTION", "北京协和医院"), ("INSTITUTION", "北京天坛医院"), ("INSTITUTION", "上海瑞金眼耳鼻喉医院"),
    ("INSTITUTION", "上海交通大学医学院附属瑞金医院"), ("CN_ADDRESS", "台湾桃园市龟山区"), ("CN_ADDRESS", "陕西省咸阳市长乐西路2号院"),
}


def test_findings_on_public_consultations_are_the_reviewed_ones(deid_engine, shared_data):
    texts = public_texts(shared_data, limit=1000)
    assert {name: len(rows) for name, rows in texts.items()} == {
        "medicalgpt_reward": 100, "chatmed_consult": 450, "huatuo26m_answers": 1000, "toyhom_cmdd": 1000}
    found = Counter()
    for rows in texts.values():
        for text, findings in zip(rows, deid_engine.analyze_many(rows), strict=True):
            found.update((f.entity_type, text[f.start:f.end]) for f in findings
                         if f.entity_type in ("PERSON", "CN_ADDRESS", "INSTITUTION"))
    assert set(found) <= REVIEWED, sorted(set(found) - REVIEWED)  # precision: nothing new is masked
    # ... and recall: every real identity read by eye is still found (an engine finding nothing must fail)
    assert set(found) >= REVIEWED - KNOWN_FALSE_POSITIVES, sorted(REVIEWED - KNOWN_FALSE_POSITIVES - set(found))
    assert sum(n for (entity, _), n in found.items() if entity == "PERSON") <= 10
