"""Word lists the Chinese recognizers lean on: surnames, role words, and medical terms that must survive.

Why a protected-term list: many herbs, diseases and signs begin with a common surname character (黄芪, 白芍,
高血压, 张力性气胸, 钱癣 ...). jieba's general dictionary lacks most of them, so its HMM fallback happily tags
them as person names. Adding them to the name recognizer's private jieba dictionary as nouns fixes that.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

# The ~400 most common single-character surnames (covering >95% of the population), most frequent first.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向"
    "汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单"
    "季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄"
    "窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查"
    "麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴"
    "盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊乌母裘亓修邰赫杭况"
    "那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由萧赖洪"
)
COMPOUND_SURNAMES = (
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯",
    "令狐", "端木", "独孤", "南宫", "西门", "轩辕", "呼延", "百里", "万俟", "闻人", "澹台", "申屠", "钟离",
)

# Words right before a name ("患者王某", "主治医师：李建国"); a colon or space may sit between.
NAME_PREFIX_CONTEXT = (
    "患者", "病人", "患儿", "病员", "产妇", "孕妇", "家属", "家长", "医生", "医师", "大夫", "主任", "护士", "护师",
    "护士长",
    "姓名", "签名", "签字", "联系人", "监护人", "代诉人", "陪护", "陪同", "经治", "主治", "住院医师", "主治医师",
    "主任医师", "副主任医师", "责任护士", "记录者", "记录人", "审核人", "审核", "会诊", "操作者", "术者", "助手",
    "麻醉师", "其父", "其母", "其子", "其女", "其夫", "其妻", "丈夫", "妻子", "儿子", "女儿", "父亲", "母亲",
    "哥哥", "姐姐", "弟弟", "妹妹", "配偶", "爱人", "委托人", "报告人", "检查者", "审核者", "我叫", "名叫", "叫做",
    "本人",  # 本人王芳同意手术 (a consent's signer)
    # the wider family: 其姑姑王芳陪同来院
    "姑姑", "姑妈", "舅舅", "舅妈", "叔叔", "婶婶", "伯伯", "伯父", "伯母", "阿姨", "姨妈", "爷爷", "奶奶", "外公",
    "外婆", "姥姥", "姥爷", "侄子", "侄女", "外甥", "外甥女", "表哥", "表姐", "表弟", "表妹", "堂兄",
    "堂姐", "公公", "婆婆", "岳父", "岳母", "长子", "次子", "长女", "次女", "继父", "继母", "养父", "养母",
    # kinship: 病史由患者之父雷保国代诉, 其孙李明陪同
    "之子", "之女", "之妻", "之夫", "之父", "之母", "之孙", "之孙女", "之兄", "之弟", "之姐", "之妹", "其兄", "其弟",
    "其姐", "其妹", "其孙", "孙子", "孙女", "外孙", "女婿", "儿媳", "作者",
    # a patient's own words: 我老公叫刘强, 病人名字叫李小龙
    "名字叫", "名字是", "老公叫", "老婆叫", "丈夫叫", "妻子叫", "爱人叫", "儿子叫", "女儿叫", "孩子叫", "宝宝叫", "爸爸叫",
    "妈妈叫", "父亲叫", "母亲叫", "朋友叫", "同事叫",
    # who came with the patient (陪诊人邵琳)
    "陪诊人", "陪诊", "陪护人", "看护人", "护工",
    # who else a record names by their relation to the patient (据邻居王芳反映), or by their part in a call or in care
    # (电话随访，接听者王芳)
    # (not 朋友: consultations write 朋友来接, 女朋友初夜很…, 和朋友谈谈心)
    "邻居", "同事", "室友", "战友", "老乡", "亲属", "亲戚", "接听者", "接听人", "来电者", "来电人",
    "通话人", "照顾者", "照护者", "陪护者", "签字者", "知情人", "代理人", "授权人", "被授权人",
    "病友", "同病房", "同室病友", "邻床", "邻床病友", "同房病友",  # 同病房王芳诉患者夜间呓语
    # people of the hospital and around the patient whom records name (药师王芳审方, 民警王芳将患者送至我院)
    "药师", "技师", "民警", "警察", "班主任", "社工", "志愿者", "供血者", "献血者", "捐献者", "供者",
    "受者", "检查医师", "报告医师", "审核医师", "社区医生", "村医", "乡村医生", "家庭医生",
    # field labels of forms and exports (患者名：, 录入：, 操作员：, 谈话对象：)
    "姓名为", "姓名是", "姓名叫", "患者名", "病人名", "录入", "录入员", "录入人", "操作员", "操作人", "经手人", "开单人", "登记人", "谈话对象",
)
# English labels and role words before a Chinese name, as bilingual records and exports write them ("Name: 王芳",
# "Patient 王芳 presented with", "Signed by: 李建国"); matched in any case, then a space, colon or full stop.
ENGLISH_NAME_PREFIX_CONTEXT = (
    "name", "full name", "patient name", "patient's name", "patient", "client", "doctor", "physician", "surgeon",
    "nurse", "attending", "resident", "consultant", "professor", "contact", "contact person", "emergency contact",
    "next of kin", "guardian", "caregiver", "informant", "applicant", "author", "authors", "father", "mother",
    "husband", "wife", "son", "daughter", "spouse", "brother", "sister", "relative", "family member",
    "signed by", "signature", "recorded by", "reviewed by", "referred by", "reported by", "examined by",
    "approved by", "checked by", "written by", "prepared by", "accompanied by", "seen by", "treated by",
    "attendees", "attendee", "participants", "present", "members", "team members",
    "assistant", "family", "in charge", "attn", "attention", "care of", "c/o", "dear", "hi", "hello",
)
# E-mail and letter headers, only as written (capitalised, then a colon): "from" and "to" are ordinary words.
ENGLISH_HEADERS = ("From", "To", "Cc", "CC", "Bcc", "FROM", "TO")
# Field names of a name in exports: the pinyin initials Chinese HIS tables name their columns with (xm 姓名,
# hzxm 患者姓名, brxm 病人姓名, ysxm 医生姓名), beside the English words above.
FIELD_NAME_KEYS = (
    "patient_name", "patientname", "pat_name", "patname", "full_name", "fullname", "cn_name", "name_cn",
    "chinese_name", "xm", "hzxm", "brxm", "ysxm", "hsxm", "lxr", "lxrxm",
)
# English titles, only as written in title case: DR and MR are imaging (DR片, MR矢状位), PT a clotting test.
ENGLISH_TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Sir", "Madam")
# Words right after a name ("王建国之子", "刘先生").
NAME_SUFFIX_CONTEXT = (
    "之子", "之女", "之妻", "之夫", "之父", "之母", "先生", "女士", "小姐", "医生", "医师", "大夫", "主任", "护士",
    "老师", "同志", "阿姨", "大爷", "大妈", "奶奶", "爷爷", "老人", "师傅", "教授", "院长",
)
# Placeholder given names that mark a partially masked name: 张某某, 杨XX, 李**.
PARTIAL_NAME_MARKS = ("某某", "某", "XX", "xx", "××", "ⅩⅩ", "ＸＸ", "**", "＊＊", "○○", "〇〇", "X", "×", "*")


# Well-known hospitals by their short proper name (+ 医院): many are ordinary words (长征, 南方, 友谊, 朝阳) or
# split oddly by jieba, so neither the place-name pattern nor the proper-noun rule sees them.
WELL_KNOWN_HOSPITALS = (
    "协和", "华西", "湘雅", "湘雅二", "湘雅三", "瑞金", "仁济", "华山", "中山", "长海", "长征", "积水潭", "宣武", "安贞",
    "天坛", "同仁", "朝阳", "友谊", "中日友好", "301", "解放军总", "西京", "唐都", "齐鲁", "鼓楼", "同济", "南方", "珠江",
    "新桥", "西南", "大坪", "邵逸夫", "新华", "红房子", "龙华", "曙光", "岳阳", "地坛", "佑安", "安定", "回龙观",
    "北医三", "阜外", "广安门", "西苑", "望京", "东直门",
)


@lru_cache(maxsize=1)
def protected_terms() -> tuple[str, ...]:
    """Medical terms that jieba must never tag as names (one per line in medical_terms.txt)."""
    text = resources.files(__package__).joinpath("medical_terms.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
