"""Chinese names in English frames, as bilingual records, exports and letters write them ("Name: 王芳",
"Patient 王芳 was admitted", "Dr. 李建国", "王芳, M, 56", "王芳 (wife)"), and a labelled name that ends its text
("医师签名：陈建国" ends many a record: its last character used to survive). Beside them, the English that is no
name frame must stay: DR and MR are imaging (DR片, MR矢状位), PT a clotting test, and code glues words to Han."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("text", "expected"), [
    ("Name: 王小明, Sex: M, Age: 45", "Name: <姓名>, Sex: M, Age: 45"),
    ("PATIENT NAME：陈建国\n主诉：头痛3天", "PATIENT NAME：<姓名>\n主诉：头痛3天"),
    ("Patient 王小明 presented with fever for 3 days.", "Patient <姓名> presented with fever for 3 days."),
    ("Signed by: 李华。", "Signed by: <姓名>。"),
    ("referred by Dr. 欧阳建国 on day 2", "referred by Dr. <姓名> on day 2"),
    ("Mr 王 was admitted.", "Mr <姓名> was admitted."),
    ("Next of kin: 刘洋 (wife), tel pending", "Next of kin: <姓名> (wife), tel pending"),
    ("Physician in charge: 周志强", "Physician in charge: <姓名>"),
    ("Dear 王芳, your report is ready.", "Dear <姓名>, your report is ready."),
    ("From: 张伟\nTo: 李娜", "From: <姓名>\nTo: <姓名>"),
    ("Surgeon: 何明; Assistant: 罗静", "Surgeon: <姓名>; Assistant: <姓名>"),
    ("入院记录\n王国, M, 56\n主诉：胸痛", "入院记录\n<姓名>, M, 56\n主诉：胸痛"),
    ("祝玉涵 female 45 yrs, chest pain", "<姓名> female 45 yrs, chest pain"),
    ("已签字。\n黎光荣 (patient)", "已签字。\n<姓名> (patient)"),
    # a labelled name at the very end of the text: all of it, not all but its last character
    ("医师签名：陈建国", "医师签名：<姓名>"),
    ("姓名：王小明", "姓名：<姓名>"),
    ("出院小结。主治医师：陈建国", "出院小结。主治医师：<姓名>"),
    # a name alone inside English prose, no role word: a source's description, a ward note
    ("records of 赵六 and his family", "records of <姓名> and his family"),
    ("moved from 张伟's ward to ICU", "moved from <姓名>'s ward to ICU"),
])
def test_names_in_english_frames_are_masked(deid_engine, text, expected):
    assert deid_engine.deidentify(text)[0] == expected


def test_name_at_the_end_of_the_last_text_of_a_batch(deid_engine):
    texts = ["患者王某某，男。", "主治医师：陈建国"]
    assert [out for out, _ in deid_engine.deidentify_many(texts, ["", ""])][1] == "主治医师：<姓名>"


@pytest.mark.parametrize("text", [
    "DR片示：颈椎退行性变。DR：未见明显异常。",  # digital radiography
    "MR矢状位和冠状位示椎间盘突出，MR提示前列腺增生。",  # magnetic resonance
    "PT延长，PT 14.2s，APTT正常。",  # prothrombin time
    "<name>元素和一个属性；PATIENT表中的字段",  # code glues the word to Han
    "The patient 高热 for three days; patient 头晕 and 恶心.",  # a symptom after the word
    "from 北京 to 上海 by train",
    "Hi 医生，我想问一下这个药怎么吃？",
    "Dear 医生, thank you.",
    "Contact 内科 for details.",
    "患者男，45岁，female partner, M, 56",
    "visit 华山 and 黄山; the herb 黄芪 is; in 北京 and 上海; take 高血压 drugs; Mount 华山, China",
    "CT 示 肺炎，BP 120/80 王芳说头痛",  # Chinese after the name: no English prose around it
])
def test_english_beside_han_that_is_no_name_stays(deid_engine, text):
    assert deid_engine.deidentify(text)[0] == text
