"""Chinese person names: a presidio recognizer that accepts a name only where the text says a person is meant.

jieba's `nr` tag alone is far too loose for medical text: on public consultations it called drug fragments
(丁啉, 莫沙必), herbs (元胡, 金精粉), words (尤其, 容易) and blessings (祝宝宝) names, while real names there are
rare. So every rule needs context, strongest first:
1. partial names: a surname plus a masking mark (张某某, 杨XX) or an honorific (王先生, 李主任; the honorific is
   not masked: 转<姓名>医生);
2. a header line: the name right before the sex (马淑英，女，84岁 / 姓名 王芳 性别 女);
3. role context: 患者/家属/医师/姓名/之父/其子 ... then surname + given name, by character rules (no
   segmentation); surnames that are mostly function words (于, 向, 由, 和 ...) must also end at a clear
   boundary (患者于强，男 is a name, 患者于今日 is not);
4. a cue after the name (教授, 博士, 研究认为, 医生 ...), confirmed by jieba's POS tagger on that clause only.
5-10. structure (lists, brackets, verbs of saying or contacting, titles, names joined to a name);
11. a transliterated name whose parts a middle dot joins (买买提·吐尔逊, 阿依古丽•艾力: Uyghur, Kazakh and
   foreign names), where a role word precedes it or a sex, age, kinship, verb of saying or title follows.
A space inside a name after a role word (姓名：汤 琳雨, 患者申　千春; an invisible character reads as one in the
folded view) is part of the name. Traditional characters (患者張偉) are read in the folded view, where they
are simplified (cmedins.deid.normalise).
The engine then masks every other occurrence of a name found this way in the same record (names.propagate).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property, lru_cache

from presidio_analyzer import EntityRecognizer, RecognizerResult

from cmedins.deid import lexicon
from cmedins.deid.engine import SEPARATOR
from cmedins.deid.label_shapes import ENCLOSING_CHARS, words_pattern
from cmedins.deid.normalise import fold
from cmedins.deid.recognizers import LANGUAGE, anchored_spans
from cmedins.deid.romanized import FULL_NAME

NAME_TAGS = {"nr", "nrfg", "nrt"}
COMMON_FREQ = 20  # jieba dictionary frequency above which a word is a real word, not a rare proper noun
CLAUSE_BREAK = re.compile(r"[，。；;,.!！?？:：、（）()\[\]【】\s\"“”'‘’<>《》/]")

_surnames = "|".join(lexicon.COMPOUND_SURNAMES) + f"|[{lexicon.SURNAMES}]"
# What `(?=_surnames)` asks, cheaper to ask: a surname character, or a compound surname that does not start with
# one (欧阳 starts with the surname 欧, 上官 with no surname).
_surname_ahead = f"[{lexicon.SURNAMES}]|" + "|".join(name for name in lexicon.COMPOUND_SURNAMES
                                                     if name[0] not in lexicon.SURNAMES)


def word_trie(words: Iterable[str]) -> str:
    """An alternation of the literal `words` written as a trie (患者|患儿 -> 患(?:者|儿)): `re` tries a plain
    alternation's words one by one at every position, a trie only along the text. It matches what the
    alternation of the words longest first matches: the words that fit the text at one position are prefixes of
    each other, and the trie tries them longest first (a word's end is optional after its longer words), backing
    off to the shorter ones in that order, as the alternation does when what follows fails."""
    root: dict = {}
    for word in sorted(set(words)):
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def branch(node: dict) -> str:
        alternatives = [re.escape(ch) + branch(child) for ch, child in node.items() if ch]
        if not alternatives:
            return ""
        if "" not in node and len(alternatives) == 1:
            return alternatives[0]
        return f"(?:{'|'.join(alternatives)})" + ("?" if "" in node else "")

    return branch(root)


_marks = "|".join(re.escape(m) for m in lexicon.PARTIAL_NAME_MARKS)
# Not after a digit or 第 (第7程XELOX方案), and an X-like mark is not followed by letters or by 线/光/片
# (胸部正位X线, XELOX): those are imaging words and regimen names, not a masked given name.
PARTIAL_MARK = re.compile(_marks)  # any masking mark in a name: 张某某 is not propagated
PARTIAL = re.compile(
    rf"(?<![0-9第])(?:{_surnames})(?:(?:{_marks})(?![A-Za-z0-9线光片射])(?!日|天|时|年|月|处|种|些|地|医院|院|科|部|项|次|型|类|人|市|县|区)"
    rf"|(?:{'|'.join(lexicon.NAME_SUFFIX_CONTEXT)}))"
)
# The word after the surname (a mark or an honorific), found by a fast scan: PARTIAL is tried only at the one
# or two characters before one (anchored_spans), not at every position.
PARTIAL_ANCHOR = (re.compile(rf"{_marks}|{'|'.join(lexicon.NAME_SUFFIX_CONTEXT)}"), 2)
# (a slash too, as forms join a label and its value: 检查医师/王芳)
# (the role words as a trie: the same matches as their alternation longest first, in two thirds of the time)
ROLE = re.compile(rf"(?:{word_trie(lexicon.NAME_PREFIX_CONTEXT)})[：:\s/]?\s*(?={_surnames})")
# A patient's label, then the name in quotes or brackets (姓名【王芳】, 姓名：『王芳』, 患者"王芳"); not after any role
# word: 叫做“金鱼草” names a plant.
# The role words that are a name field's label: after them the value is a name whatever word it also is.
# A separator after 姓名 (姓名和年龄, 姓名及电话 are the words, not a field).
NAME_FIELD = re.compile(r"(?:姓名|患者名|病人名)[：:\s]\s*$|(?:姓名为|姓名是|姓名叫)\s*$")
# A role word with a colon is a record's field too (监护人：高敏蕾（父亲）, 审核医师：白薇春), but not a dialogue's
# speaker label (医生：张嘴看看, 患者：高烧三天), where speech follows: a speaker word counts only as the tail of a
# longer role (审核医师：, 麻醉医师：).
SPEAKER_ROLES = frozenset({"患者", "病人", "患儿", "医生", "医师", "大夫", "护士", "家属", "家长", "儿子", "女儿", "父亲",
                           "母亲", "丈夫", "妻子", "爱人", "哥哥", "姐姐", "弟弟", "妹妹"})  # 儿子：谢谢爸爸！
ROLE_FIELD = re.compile(r"[：:]\s*$")
ROLE_QUOTED = re.compile(rf"(?:姓名|患者|病人|患儿|家属|签名|联系人|自称|化名)[：:\s]?\s*[【『「“\"<]\s*(?={_surnames})")
SURNAME = re.compile(rf"(?:{_surnames})(?=\w)")
SURNAME_BARE = re.compile(rf"(?:{_surnames})")  # one that nothing need follow (Mr 王)
KIN_CHARS = set("父母子女夫妻兄弟姐妹孙")  # what a kinship role word's second character may be followed by in a word
# Surname characters that are mostly function words (于今日, 向医生, 由家属, 祝宝宝): a name starting with one
# needs a clear boundary after it.
FUNCTION_SURNAMES = set("于由和向时常平成全以从与及在将对为同共应左查但那都来尚可能祝")
# Characters that end a name: verbs and particles that follow one (王芳代诉, 陈明陪同, 李强等).
STOP_AFTER_NAME = set("代陪等于在因是的和及与诉说称同男女之先医护家住入出就来去到已曾未无有系为被由自经他她它们让把给叫我你您"
                      "了吗呢吧啊呀嘛地")  # particles end a clause: 您好严重吗, 明白了，你
# Pronouns and place words that start a phrase, not a given name, after 于/向/由 (于我院, 向其, 由外院).
NOT_GIVEN_FIRST = set("我本外该其此这那各每某当上下前后左右内中会能要可也还就均都已才又再仍没不很较更最太")
# What may directly follow a name when its first character is ambiguous (患者于强，男; 家属于明电话).
NAME_END_WORD = re.compile(r"代诉|陪同|陪护|电话|手机|联系|签字|签名|同意|之[父母子女夫妻孙兄弟姐妹]")
NAME_END = re.compile(rf"[^\u4e00-\u9fff]|$|{NAME_END_WORD.pattern}|男|女|平素|"
                      r"既往|主因|因|于|自|近|今|昨|半|[一二两三四五六七八九十几数多]+[年月周天日]|反复|突发|突然|出现|诉|"
                      r"查房|查看|会诊")  # 主治医师常怡生查房, 上级医师向鑫庆查看患者
# Common words that may still be a given name after an ambiguous surname (向浩然, 于宇航, 时建国); nouns only
# when rare enough (于树林 yes, 向医生 no).
GIVEN_TAGS = {"nr", "nrt", "nrfg", "ns", "nz", "a", "i", "n"}
COMMON_NOUN_FREQ = 1000
# A two-character given name may also be a distinguishing word (jieba's b: 二小, 嫣然, 永生, 天一; 慢性 and 重型
# too): those, like nouns, only when rare.
GIVEN_WORD_TAGS = GIVEN_TAGS | {"b"}
RARE_GIVEN_TAGS = {"n", "b"}
# Words after a full name that say a person is meant; jieba's tagger must still read the name as nr.
CUE_AFTER = ("教授", "博士", "院士", "研究员", "主任", "主治医师", "医师", "医生", "大夫", "护士",
             "护士长", "老师", "同学", "先生", "女士", "等人", "研究认为", "认为", "指出", "报道")
CUE = re.compile(rf"(?:{_surnames})[\u4e00-\u9fff]{{1,2}}?(?={'|'.join(CUE_AFTER)})")
CUE_ANCHOR = (re.compile("|".join(CUE_AFTER)), 4)  # the cue word: 2-4 characters after the name's start
# Dosage forms after a word make it a drug (龙母壮骨颗粒, 李乐钙片 ...), never a name.
DOSAGE_FORM = re.compile(r"颗粒|胶囊|口服液|注射液|注射剂|冲剂|滴丸|软膏|乳膏|片剂|糖浆|合剂|气雾剂|钙片")
SURNAME_SET = set(lexicon.SURNAMES) | set(lexicon.COMPOUND_SURNAMES)
# A header line names the patient right before the sex: "马淑英，女，84岁", "姓名 王芳 性别 女".
SEX_AFTER = re.compile(rf"(?<![\u4e00-\u9fff])(?:{_surnames})[\u4e00-\u9fff]{{1,2}}"
                       rf"(?=[，,、|｜\s]*(?:男|女)(?:[，,、|｜\s\d]|性)|/(?:男|女)/\d|\s*性别)")  # 王芳/女/45岁, 王芳|女|45岁
HAN = re.compile(r"[\u4e00-\u9fff]")
# The sex of a header line right after a name (男 alone, or 男性 with the age): after a role word it makes a name of
# a word (患者黎明，男，45岁; 患者夏天，女性，30岁), where 患者成年，男性 or 患者青年男性 stay words.
SEX_HEADER = re.compile(r"[，,、|｜\s]*(?:男|女)(?:(?=[，,、|｜\s\d]|$)|性[，,、|｜\s]*\d{1,3}\s*(?:岁|周岁))")
FIELD_VALUE_MORE = 4  # given-name characters a name field's value may run on past a name's usual end
# The same header line in English ("王芳 female 45y", "王芳, F, 45"): found from the sex word back to the name (a
# scan for the name first would try ~400 surnames at every position of every text).
SEX_AFTER_EN = re.compile(r"[，,、 ]*(?i:male|female)(?=[，,、;；\s\d/)）.]|$)|[ ]*[，,/][ ]*[MF][ ]*[，,/][ ]*\d")
SEX_WORD = re.compile(r"[，,、/\s]*(?:男|女)性?")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")  # same length
LATIN_LOWER = re.compile("[a-z]")
SPACED_GAP = re.compile(r"[ _-]{1,2}(?=[\u4e00-\u9fff])")  # inside a name (invisible characters read as spaces)
HEADER_WORD = re.compile(r"性别|年龄|民族|籍贯|职业|婚姻|婚否|住址|地址|出生|科室|床号|病区|电话|手机|身份")
SPACED_SURNAME = re.compile(rf"(?P<surname>{_surnames}){SPACED_GAP.pattern}")
# An English label or role word, then a space, colon or full stop, then the name: "Name: 王芳", "Patient 王芳 was",
# "Signed by 李建国"; a title in title case only ("Dr. 李建国", "Mr 王"). Never glued to the name ("name元素" in code).
_english_roles = words_pattern(lexicon.ENGLISH_NAME_PREFIX_CONTEXT, r"\s+")
# (the lookahead for a letter first: without it `re` tries the caseless alternation at every position, 15x slower)
ENGLISH_ROLE = re.compile(rf"(?<![A-Za-z])(?=[A-Za-z])(?:(?i:{_english_roles})(?:\s*[:：]\s*|\s+[-–—]\s+|\s+)"
                          rf"|(?:{'|'.join(lexicon.ENGLISH_HEADERS)})\s*[:：]\s*)(?={_surnames})")
# A name alone inside English prose ("records of 赵六 and", "from 张伟's ward"): a word and a space before it, a
# space, punctuation or 's after it, and no Chinese on either side; found from the English word (a scan for the
# name first would try ~400 surnames at every position of every text), then held to the plausibility rule.
ENGLISH_BEFORE = re.compile(rf"[A-Za-z][,.;:!?]? (?={_surnames})")
ENGLISH_AFTER = re.compile(r"(?:['’]s)?(?:[ ,.;:!?)](?![\u4e00-\u9fff])|$)")
ENGLISH_TITLE = re.compile(rf"(?<![A-Za-z])(?:{'|'.join(sorted(lexicon.ENGLISH_TITLES, key=len, reverse=True))})"
                           rf"(?:\.\s*|\s+)(?={_surnames})")
# The same words as field names in exports, JSON, XML, tables and forms: "姓名": "王芳", 'name': '王芳', 姓名=王芳,
# | 姓名 | 王芳 |, [姓名]王芳, 【患者】王芳, 姓名,王芳, <name>王芳</name>, \"姓名\":\"王芳\". Between label and name a
# run of quotes, brackets, =, |, commas, backslashes, colons and spaces holding at least one that is not a colon or
# space (those the role rules read). An XML tag (<name>) counts only when its closing tag follows the name, since
# <姓名> is also this package's own placeholder.
_FRAME_CHARS = ENCLOSING_CHARS
# (not the words that introduce a quoted word: 叫做“金鱼草” names a plant, 名叫“安迪” a game character, 作者“…” a book's)
_field_labels = "|".join(sorted((word for word in lexicon.NAME_PREFIX_CONTEXT
                                 if not word.endswith(("叫", "叫做", "是")) and word != "作者"), key=len, reverse=True))
_field_keys = words_pattern({*lexicon.ENGLISH_NAME_PREFIX_CONTEXT, *lexicon.FIELD_NAME_KEYS}, r"[\s_]*")
# A comma only after a name field itself (姓名,王芳,性别,女 in a CSV row): after a role word it is running text
# (想问一下医生，冷空气…; 孕妇,于早孕28周).
_name_fields = "姓名|患者名|病人名|(?<![A-Za-z])(?=[A-Za-z])(?i:name|patient[\\s_]*name|full[\\s_]*name|xm|hzxm|brxm)(?![A-Za-z])"
FRAMED_FIELD = re.compile(rf"(?:(?:{_field_labels}|(?<![A-Za-z])(?=[A-Za-z])(?i:{_field_keys})(?![A-Za-z]))"
                          rf"(?=[\s:：]*[{_FRAME_CHARS}])[\s:：{_FRAME_CHARS}]{{1,8}}"
                          rf"|(?:{_name_fields})[\s\"']*[,，][\s\"']*)(?={_surnames})")
ROLE_BEFORE = re.compile(rf"(?:{'|'.join(sorted(lexicon.NAME_PREFIX_CONTEXT, key=len, reverse=True))})[：:\s]?\s*$")


# --- structure: names with no role word right before them ---------------------------------------------------
# 5. a list after a label of people (参加讨论人员：A、B、C; 会诊医师：A，B);
# 6. in brackets after a role or kinship word (家属（王梅）), or before a bracketed kinship (王梅（患者之女）);
# 7. at the start of a sentence before a verb of saying (刘帆自述…, 王梅诉…);
# 8. after a verb of contacting or informing (电话联系王梅, 已告知王梅病情);
# 9. before a professional title, at a boundary (经王梅主任医师查房, 由王梅副主任医师主刀, 、王梅医师);
# 10. next to a name found by any rule, across 、/和/及/与 (王梅和李强医师共同查看): a list of names.
# Every candidate is surname + 1-2 characters that are neither an ordinary word nor a protected clinical term.
# A label of people: a word ending in a person word (人员, 者, 人, 医师, 医生, 护士 ...) or a signing/addressing
# word, then a colon (参加讨论人员：, 主刀医生：, 联系人：, 抄送：).
LIST_LABEL = re.compile(r"(?:[\u4e00-\u9fff]{0,5}(?:人员|成员|者|人|医师|医生|大夫|护士|护师|技师|药师|助手|一助|二助)"
                        r"|签名|签字|抄送|收件|经办|审核|审批|小组|主刀|麻醉|巡回|器械|洗手|记录|[\u4e00-\u9fff]{1,3}组)\s*[：:]\s*"
                        # or who took part, without a colon: 参与抢救的有王芳，李娜，张伟
                        r"|(?:参与|参加|在场|出席|到场)[\u4e00-\u9fff]{0,3}的(?:人员|人)?有\s*[：:]?\s*")
# The label's last word and its colon: a label starts at most 5 characters before that word.
LIST_LABEL_ANCHOR = (re.compile(r"(?:人员|成员|者|人|医师|医生|大夫|护士|护师|技师|药师|助手|一助|二助|签名|签字|抄送|收件|经办|审核|"
                                r"审批|小组|主刀|麻醉|巡回|器械|洗手|记录|组)\s*[：:]|的(?:人员|人)?有"), 5)  # 手术组：王芳、李娜
LIST_ITEM_SEP = re.compile(r"\s*(?:[、，,/]|和|及|与)\s*|[ \u3000]+")  # or spaces alone: 参加人员：王芳 李娜 张伟
ITEM_END = re.compile(r"\s*(?:[、，,;；。！？!?\s/）)]|和|及|与|等|$|(?:副)?主任|医师|护士|教授|老师)")
ROLE_PAREN = re.compile(rf"(?:{'|'.join(sorted(lexicon.NAME_PREFIX_CONTEXT, key=len, reverse=True))})\s*[（(]\s*")
PAREN_END = re.compile(r"\s*[）)]")
KIN_PAREN = re.compile(r"\s*[（(](?:(?:与患者|与病人|与患儿)(?:的)?关系|(?:患者|病人|患儿)?(?:之|的)?(?:儿子|女儿|父亲|母亲|丈夫|妻子|孙子|孙女|哥哥|姐姐|"
                       r"弟弟|妹妹|子|女|父|母|妻|夫|兄|弟|姐|妹|家属|朋友|同事|配偶|爱人|监护人|代理人)[）)]"
                       r"|(?:男|女)性?\s*[，,、\s)）]|\d{1,3}\s*岁"  # or the person's sex / age: 王梅（女，45岁）
                       # the same in English: 王梅 (patient), 王梅 (wife), 王梅 (F, 45)
                       r"|(?i:patient|pt|self|wife|husband|son|daughter|father|mother|spouse|guardian|relative|friend"
                       r"|brother|sister|parent|caregiver)[）)]|(?i:male|female|[MF])\s*[,，)）]"
                       # or an identity document: 王梅（身份证号略）
                       r"|身份证|证件|住院号|病案号|门诊号|联系电话|电话|手机|联系方式"
                       # or the person's department: 王梅（医务科）
                       r"|[\u4e00-\u9fff]{1,6}(?:科|病区|办公室|中心)[）)])")
# A signature: a dash, then the name, then the line's end, a space, a date (——王芳\n2023年1月2日).
SIGNATURE = re.compile(rf"(?:^|(?<=[。！？!?；;])) *(?:——|—|--) *(?={_surnames})", re.MULTILINE)  # a line's or sentence's start
# A greeting after a clause-initial name (王芳你好，…), as doctors answer online consultations.
GREETING = re.compile(r"[你您]好(?!运)")  # not 祝你好运
# An informant between 据 and a verb of telling (据王芳介绍, 据李强反映).
INFORMANT_END = re.compile(r"介绍|反映|所述|描述|回忆|讲述|说|称|诉")
INFORMANT = re.compile(rf"据(?=[\u4e00-\u9fff]{{2,4}}?(?:{INFORMANT_END.pattern}))")
# What a clause-initial name is to the patient or has: 王芳之母代诉病史, 王芳的孩子, 王芳为患者长子, 王芳系患者之女
# or who the person is to the patient or the hospital (王芳系患者邻居, 王芳为我院职工家属), or a couple or a parent and
# child with the person before (王芳、李强夫妇陪同)
KIN_AFTER = re.compile(r"之(?:祖父|祖母|孙女|父|母|子|女|夫|妻|孙|兄|弟|姐|妹)"
                       r"|的(?:孩子|儿子|女儿|丈夫|妻子|母亲|父亲|家属|爱人|老公|老婆)"
                       r"|(?:为|是|系)(?:患者|病人|患儿|我院|本院|我科|本科|该院)(?:之|的)?(?:长|次|幼)?"
                       r"(?:子|女|父|母|夫|妻|孙|兄|弟|姐|妹|家属|爱人|邻居|朋友|同事|同学|室友|领导|老乡|战友|亲属|亲戚|家人|"
                       r"监护人|联系人|护工|保姆|职工|员工|医生|护士)"
                       r"|夫妇|夫妻(?:二人|俩|两人)|母女|母子|父女|父子"
                       r"|(?:与|和|及|同|携)其(?:子|女|夫|妻|父|母|兄|弟|姐|妹|孙|孙女|家属|爱人)"  # 王芳与其子李强同来
                       # a child's parent speaking (王芳爸爸说孩子昨晚发烧)
                       r"|(?:爸爸|妈妈|爷爷|奶奶|外公|外婆|姥姥|姥爷|家长)(?=说|称|诉|讲|代诉|反映|表示|来电|陪同|签字)")
# A name then a header's age without the sex: 王芳，66岁，农民
AGE_AFTER = re.compile(rf"(?<![\u4e00-\u9fff])(?:{_surnames})[\u4e00-\u9fff]{{1,2}}(?=[，,、\s]*\d{{1,3}}\s*(?:岁|周岁))")
# Right after a clause-initial name: its phone (王芳电话13812345678, 王芳 138 1234 5678), or a date after a
# space, as a signature is dated (王芳 2023年5月6日)
_PHONE_AFTER = r"(?:电话|手机|联系电话|联系方式)?[：:]?[ ]?[(（]?\+?\d(?:[ -]?\d){6,}(?![\d年月日.:/-])"
_DATE_AFTER = r"[ ]+\d{4}[年/.-]\d{1,2}"  # (not an annotation's "\t189\t191")
PHONE_OR_DATE_AFTER = re.compile(f"{_PHONE_AFTER}|{_DATE_AFTER}")
# Its two alternatives apart (`re` tries the phone's optional label at every position, 3x slower than this): the
# phone tried only at the starts within PHONE_REACH characters before seven of its digits, the date found by its
# leading space; PHONE_OR_DATE_AFTER's match is the leftmost of the two, the phone where both start
# (_phone_or_date_after).
PHONE_AFTER, DATE_AFTER = re.compile(_PHONE_AFTER), re.compile(_DATE_AFTER)
SEVEN_DIGITS = re.compile(r"\d(?:[ -]?\d){6}")
PHONE_REACH = 8  # 联系电话：(+, then the digits
BED_BEFORE = re.compile(rf"\d{{1,3}}\s*(?:床|号床)\s*(?={_surnames})")  # 3床王芳，
# A name in the record's prose between a time word and what the person did or how they were: 今日王芳来院探视,
# 入院时王芳神志清楚; at someone's request: 应王芳要求转院
WHEN_BEFORE = re.compile(rf"(?:今日|今天|昨日|昨天|次日|当日|当天|入院时|出院时|查房时|就诊时|当时|随后|其后|"
                         rf"上午|下午|中午|晚上|早上|傍晚|凌晨|夜间|今晨|昨晚|昨夜|当晚|夜班|白班|早班|中班|值班|"
                         rf"应|按|遵)(?={_surnames})")
WHEN_AFTER = re.compile(r"来院|来诊|到院|就诊|探视|神志|精神|自觉|自诉|出现|感到|要求|意见|意愿|同意|拒绝|离院|出院|入院|"
                        r"复诊|复查")
THANKED = re.compile(rf"(?:感谢|谢谢)(?={_surnames})")  # 感谢王芳医生: thanked, then a title
# or a list of people (the last one found, the others its list neighbours), then what they were thanked for:
# 感谢王芳和李娜的悉心照料
THANKED_FOR = re.compile(r"(?:[、和及与]|以及)|的(?:悉心|精心|耐心|细心|热心|照料|照顾|帮助|付出|救治|治疗|关心|关怀|护理)")
# Told, asked or talked with, after a preposition: 向王芳交代病情, 与王芳沟通后
TALKED_BEFORE = re.compile(rf"(?:向|与|和|跟|同|对|给)(?={_surnames})")
TALKED_ACTION = re.compile(r"交代|沟通|说明|解释|告知|谈话|介绍|讲解|反馈|汇报|确认|联系|商量|协商|商议|讨论|签署")
NAME_CUE_GAP = set(" \x09\u3000")  # spaces a clause-initial name may stand before its cue
CLAUSE_START = set("。；;！？!?\n，,：: \t、") | {""}  # what may precede a clause-initial name (、: 王芳、李娜陪同)
SPEECH_AFTER = re.compile(r"自述|自诉|代诉|主诉|诉|述|称|表示|反映|自觉|自感|要求|拒绝|同意|签字|陪同")
# Whose phone it is, in brackets after the phone: 联系电话略（王芳）, 手机13812345678（王芳）
PHONE_OWNER = re.compile(rf"(?:电话|手机|联系方式|微信)[^（()）\n]{{0,24}}[（(]\s*(?={_surnames})")
SAID = re.compile(r"[说问答](?=[：:])")  # 王芳说：头痛好些了 (a clause-initial name; not a cue of dotted names)
# An agent after a preposition, then what the person did: 出院小结由王芳书写, 手术由王芳完成, 被王芳发现
AGENT_BEFORE = re.compile(rf"(?:由(?!于)|被|经|请|让|交给|交由)(?={_surnames})")  # not 由于微波治疗
AGENT_ACTION = re.compile(r"书写|完成|负责|主刀|执行|操作|记录|审核|签字|签名|护送|陪同|发现|送医|送院|同意|查看|处理|接诊|"
                          r"诊治|治疗|会诊|评估|复核|核对|填写|开具|开立|转运|照顾|照料|看护|抢救|"
                          r"继续|接手|接管|办理|支付|缴纳|垫付|背来|背入|抱来|抱入|送来|送入|送至|扶入|搀扶|"
                          r"实施|施行|拍摄|整理|翻译|录入|采集|采血|送检|转诊")  # (not 提供: 由谷歌提供)
# Living with, meeting or quarrelling with someone, after 与/和/跟/同: 目前与王芳同住, 与王芳发生争执后 (not 一起 or
# 治疗: 和/与 join foods and drugs too, 天麻和羊脑一起炖, 和谷维素治疗)
TOGETHER_ACTION = re.compile(r"同住|同居|住在一起|发生(?:争执|争吵|冲突|口角|矛盾)|争执|争吵|吵架|打架|见面|相处|来往")
# What a person did or how they was after a time word (下午王芳发现, 今日王芳来院探视): the time word's own verbs and
# an agent's (a time word joins no nouns, so the wider set holds there; after 由/被 it did not: 被关进精神病院)
PERSON_ACTION = re.compile("|".join(sorted({*WHEN_AFTER.pattern.split("|"), *AGENT_ACTION.pattern.split("|"),
                                             *TALKED_ACTION.pattern.split("|"), "询问", "咨询", "巡视", "查房",
                                             "发现"}, key=len, reverse=True)))
# A person's title after a time word (下午王芳护士发现): the title rule needs a boundary before the name.
WHEN_TITLE = re.compile(r"(?:副主任|主任|主治|住院)?(?:医师|医生)|护士长|护士|大夫|主任|老师|先生|女士")
# A clause-initial name addressed, then the speaker (王芳，我是你的主治医生; 王芳，你明天复查): a vocative
VOCATIVE = re.compile(r"[，,]\s*(?:我是|我们是|你|您)(?!们)")
# where an addressed name starts: a line's, a sentence's or a speaker's turn (约翰：安迪，你), not after a comma or a
# space, where the words before the comma are prose (…一个元组，您可以)
VOCATIVE_START = set("。！？!?；;\n：:") | {""}
# Greeted or addressed before the name, then a title or a clause end (您好王芳先生, 尊敬的王芳：)
GREETED_BEFORE = re.compile(rf"(?:您好|你好|尊敬的|亲爱的)[，,]?\s*(?={_surnames})")
GREETED_END = re.compile(rf"{WHEN_TITLE.pattern}|[，,：:！!。\s]|$")
# A line that holds a name and nothing else (a signature under a note, a cell of a table exported line by line);
# and, at a line's or sentence's start, a name as a dialogue speaker's label (王芳：好的 — 医生：, 患者： are roles)
LINE_NAME = re.compile(rf"(?:^|(?<=[。！？!?]))[ \x09\u3000]*(?={_surnames})", re.MULTILINE)
# LINE_NAME's matches, found from the character before them (`re` tries LINE_NAME's lookbehind at every position,
# 4x slower: a quarter of the names' scans on record text): the line break or sentence end, then the match (each
# match is one character after one, _Scans.line_names); or the text's own start.
AFTER_LINE_BREAK = re.compile(rf"[\n。！？!?][ \x09\u3000]*(?={_surname_ahead})")
AT_TEXT_START = re.compile(rf"[ \x09\u3000]*(?={_surname_ahead})")
LINE_END = re.compile(r"[ \x09\u3000\r]*(?:\n|$)")  # (\r: CRLF records, as CCKS 2017 writes them)
SEPARATOR_MARK = SEPARATOR.strip()  # what stands between the texts of a joined batch (\x00), newlines aside
# A dialogue's speaker label that is a name, at a line's start: 王芳：好的，谢谢大夫
SPEAKER_END = re.compile(r"[ \x09\u3000]*[：:][ \x09\u3000]*(?=[\u4e00-\u9fff“\"「])")  # then speech, not a
# heading's list or formula (甘特图：⏎, 解得：x = 24)
LABEL_WORD_FREQ = 100  # a dictionary "name" this frequent heads no signature or turn (敬礼 175, tagged nr)
# Characters that end terms, headings and field names, and hardly ever a given name: a line or a label ending in one
# is a term (门脉期, 粟丘疹, 文本集, 原句), not a signature or a speaker
TERM_END_CHARS = set("期科病症疹炎药片剂术痛性型区部管腺率量值法图表集题句本言")
# Added on a messaging app: 已加王芳微信随访, 添加王芳为好友
ADDED_BEFORE = re.compile(rf"(?:加|添加)(?={_surnames})")
ADDED_END = re.compile(r"(?:的)?(?:微信|QQ|qq|好友|为好友|钉钉)")
# A person noun that no role list holds, known by its last character (药师, 民警, 记者, 律师, 检察官), right before a
# name: the noun must be a dictionary word, and what follows the name must end it (a verb, a clause end)
ROLE_SUFFIX = re.compile(rf"[\u4e00-\u9fff]{{1,2}}(?:师|员|者|警|官)(?={_surnames})")
# Its last character, tried first (anchored_spans): ROLE_SUFFIX alone is tried at every Han character (4x slower).
ROLE_SUFFIX_ANCHOR = (re.compile(rf"[师员者警官](?={_surname_ahead})"), 2)
PERSON_NOUN_TAGS = {"n", "nr", "nz"}  # (或者 and 所有者 are conjunctions to jieba, 信任 a verb)
# a name after a noun of that kind is one without a function-word surname, and not a term (笔者曾见, 教师和校友)
NOT_AFTER_PERSON_NOUN = FUNCTION_SURNAMES | set("何曾利安")
COMPOUND_SURNAME_SET = frozenset(lexicon.COMPOUND_SURNAMES)  # 上官 ends in 官, yet starts a name (上官兰萍)
# A clause-initial name before a question about the patient's care (王芳问能否明天出院)
ASKED = re.compile(r"问(?=能否|可否|是否|能不能|可不可以|要不要|需不需要|什么|怎么|为什么|为何|多久|何时|医生|大夫|护士)")

CONTACT = re.compile(r"(?:电话联系|电话通知|电话告知|联系|通知|告知|告诉|转告|致电|询问|嘱咐)\s*(?=[\u4e00-\u9fff])")
CONTACT_END = re.compile(r"\s*(?:[，。；、,;\s）)]|$|病情|家属|本人|并|后|签|沟通|谈话|同意|到|来|说明|解释|其|情况|相关|手术|"
                         r"及时|尽快|按时|定期|复诊|返院|前来)")  # 通知王芳及时复诊
TITLE_AFTER = re.compile(r"(?:两|二|三|几|各)位(?:医生|医师|护士|专家|主任|老师)|副主任医师|主任医师|主治医师|住院医师|副主任|主任|医师|副教授|教授|护士长|护士|大夫|医生|院长|药师|技师|"
                         r"同志|先生|女士|小姐|老师|师傅")
TITLE_BOUNDARY = set("经由请示与和及、，,。；;：:！？!? \t（(\n") | {""}
VERB_TAGS = {"v", "vn", "d", "p", "c", "u", "r", "ad", "vd"}
NR_WORD_FREQ = 500  # a dictionary "name" this frequent is a word (谢谢 1089); 杨柳 411 and 马超 170 stay names
NAME_LIST_JOIN = re.compile(r"\s*(?:[、/]|和|及|与)\s*|, *| +and +")  # Attendees: 王芳, 李娜 and 张伟 (王芳,李娜)


# --- 12. a surname and a given name told apart: 患者姓王，名建国 / 我姓李，名字叫小龙
SURNAME_GIVEN = re.compile(rf"姓(?P<surname>{_surnames})[，,、\s]*(?:名字|名)(?:叫|是|为)?[：:]?\s*"
                           rf"(?P<given>[\u4e00-\u9fff]{{1,2}}?)(?=[^\u4e00-\u9fff]|$|{NAME_END_WORD.pattern}|男|女)")

# --- 11. names joined by a middle dot -------------------------------------------------------------------------
# The dots transliterated names are written with (· U+00B7 and its look-alikes); the full stop (a full-width ．
# folds to it) only right after a role word: sloppy text ends sentences with it (头晕.恶心).
NAME_DOTS = "·•・‧･∙⋅\u0387\u2219"
DOTTED = re.compile(rf"[\u4e00-\u9fff] ?(?P<dot>[{NAME_DOTS}.]) ?(?=[\u4e00-\u9fff])")  # 买买提 · 吐尔逊 too
DOTTED_PART = 7  # characters in one part at most (努尔艾合买提, 阿卜杜热合曼)
ROLE_WORDS = frozenset(lexicon.NAME_PREFIX_CONTEXT)
PREFIX_WORDS = re.compile("|".join(sorted(lexicon.NAME_PREFIX_CONTEXT, key=len, reverse=True)))
# What follows a dotted name and says a person is meant (陪同, 诉, 医师, a sex/age/kinship bracket, a sex); not any
# bracket: 艾伦·瓦茨（Alan Watts） in general text is a public figure with the original spelling.
DOTTED_CUE_AFTER = re.compile(rf"{NAME_END_WORD.pattern}|{SPEECH_AFTER.pattern}|{TITLE_AFTER.pattern}|"
                              rf"[，,、\s]*(?:男|女)(?:[，,、\s\d]|性|$)|{KIN_PAREN.pattern}")
# Where a dotted name's last part ends: a word that commonly follows a name.
DOTTED_END = re.compile(rf"{DOTTED_CUE_AFTER.pattern}|今日|今天|昨日|近日|于|因|在|已|等|的|是|说|称|入院|来院|就诊|病情")


# The scans the rules run over a whole batch (an anchored rule: its anchor), in the order of the `regions` that
# cmedins.deid.prefilter gives for them.
SCANS = (PARTIAL_ANCHOR[0], SEX_AFTER, ROLE, CUE_ANCHOR[0], LIST_LABEL_ANCHOR[0], ROLE_PAREN, KIN_PAREN, SPEECH_AFTER,
         CONTACT, TITLE_AFTER, DOTTED, SURNAME_GIVEN, ROLE_QUOTED, SEX_AFTER_EN, ENGLISH_ROLE, ENGLISH_TITLE,
         FRAMED_FIELD, SIGNATURE, GREETING, INFORMANT, ENGLISH_BEFORE, KIN_AFTER, AGENT_BEFORE, SAID, PHONE_OWNER, AGE_AFTER, TALKED_BEFORE, THANKED, PHONE_OR_DATE_AFTER, BED_BEFORE, WHEN_BEFORE,
         VOCATIVE, GREETED_BEFORE, ASKED, LINE_NAME, ADDED_BEFORE, ROLE_SUFFIX_ANCHOR[0])
_SCAN_INDEX = {pattern: index for index, pattern in enumerate(SCANS)}


def _phone_search(text: str, pos: int, hi: int) -> re.Match | None:
    """PHONE_AFTER.search(text, pos, hi), tried only where it can start: a match's digits start with seven digits
    (SEVEN_DIGITS) at most PHONE_REACH characters after it, so none starts before the first seven-digit run's
    start less PHONE_REACH; the starts up to that run's start are tried, then the next run's."""
    start = pos  # no match starts in [pos, start)
    while (digits := SEVEN_DIGITS.search(text, start, hi)) is not None:
        for candidate in range(max(start, digits.start() - PHONE_REACH), digits.start() + 1):
            if match := PHONE_AFTER.match(text, candidate, hi):
                return match
        start = digits.start() + 1
    return None


def _phone_or_date_after(text: str, lo: int, hi: int) -> Iterator[re.Match]:
    """PHONE_OR_DATE_AFTER.finditer(text, lo, hi): at each step the leftmost match of either alternative, the
    phone's where both start (as the alternation tries it first). A match found before and not overtaken is still
    its alternative's leftmost one from the new position."""
    phone, date = _phone_search(text, lo, hi), DATE_AFTER.search(text, lo, hi)
    while phone or date:
        match = phone if phone and (date is None or phone.start() <= date.start()) else date
        yield match
        if phone and phone.start() < match.end():
            phone = _phone_search(text, match.end(), hi)
        if date and date.start() < match.end():
            date = DATE_AFTER.search(text, match.end(), hi)


# Scans with a faster equivalent (the same matches): _Scans.finditer runs that instead.
FASTER_SCANS = {PHONE_OR_DATE_AFTER: _phone_or_date_after}


def _last_visible(text: str, end: int) -> str:
    """The last character before `end` that is not whitespace ("" if none): found by stepping back over the
    whitespace run only, since a joined batch is long and this is asked at every line start."""
    index = end - 1
    while index >= 0 and text[index].isspace():
        index -= 1
    return text[index] if index >= 0 else ""


def _signature_end(text: str, end: int) -> bool:
    return end == len(text) or text[end] in "\n \u3000,，(（" or text[end].isdigit()


def _unclosed_tag(text: str, label: re.Match, end: int) -> bool:
    """A label written as an opening tag (<姓名>, <name>) whose closing tag does not follow the name at `end`."""
    opened = label.start() > 0 and text[label.start() - 1] == "<" and label.group().rstrip().endswith(">")
    return opened and not text.startswith("</", end)


class _Scans:
    """The rules' scans of `text`, each over the regions that may hold its matches (the whole text without
    `regions`): no match crosses the batch separator, so they find what a scan of the whole text finds."""

    def __init__(self, text: str, regions=None):
        self.text = text
        self.regions = regions

    def _regions(self, pattern: re.Pattern):
        return [(0, len(self.text))] if self.regions is None else self.regions[_SCAN_INDEX[pattern]]

    def finditer(self, pattern: re.Pattern):
        faster = FASTER_SCANS.get(pattern)
        for lo, hi in self._regions(pattern):
            yield from pattern.finditer(self.text, lo, hi) if faster is None else faster(self.text, lo, hi)

    def spans(self, pattern: re.Pattern, anchor: tuple[re.Pattern, int]) -> list[tuple[int, int]]:
        return [span for lo, hi in self._regions(anchor[0])
                for span in anchored_spans(pattern, *anchor, False, self.text, lo, hi)]

    def line_names(self) -> Iterator[tuple[int, int]]:
        """LINE_NAME's spans, in order: a match of AFTER_LINE_BREAK less its first character (the break or the
        sentence end LINE_NAME looks behind at: no match holds another one, so each is found), searched from the
        character before each region (LINE_NAME, searched from a region's start, sees it); and a match at the
        text's start."""
        for lo, hi in self._regions(LINE_NAME):
            if lo == 0 and (first := AT_TEXT_START.match(self.text, 0, hi)):
                yield first.span()
            for match in AFTER_LINE_BREAK.finditer(self.text, max(lo - 1, 0), hi):
                yield match.start() + 1, match.end()


@lru_cache(maxsize=1)
def _tagger():
    """A private jieba instance (the global one stays untouched for other users) that knows medical terms.
    It starts from the process's one load of jieba's dictionary and tag table (cmedins.wordseg)."""
    from cmedins.wordseg import pos_tagger, private_tokenizer

    tokenizer = private_tokenizer()
    for term in lexicon.protected_terms():
        tokenizer.add_word(term, freq=max(tokenizer.FREQ.get(term, 0), 2000), tag="n")
    tagger = pos_tagger(tokenizer)
    tagger.makesure_userdict_loaded()
    return tagger


class ChineseNameRecognizer(EntityRecognizer):
    """PERSON entities in Chinese clinical text (see the module docstring for the rules)."""

    scans = SCANS  # what cmedins.deid.prefilter flags texts for
    # ... but for these, scanned over every text: LINE_NAME's lookarounds dropped, what the prefilter can check
    # matches the empty string, in every text (a callback per text for nothing)
    unfiltered = frozenset({LINE_NAME})

    def __init__(self, *, cue_score: float = 0.8, context_score: float = 0.95, partial_score: float = 0.9):
        super().__init__(supported_entities=["PERSON"], name="ChineseNameRecognizer", supported_language=LANGUAGE)
        self.cue_score = cue_score
        self.context_score = context_score
        self.partial_score = partial_score

    def load(self) -> None:
        self.protected_by_char: dict[str, list[str]] = {}
        for term in lexicon.protected_terms():
            self.protected_by_char.setdefault(term[0], []).append(term)

    # The tagger is built on first use, not in load(): an engine that only cleans a recipe's free texts (the
    # build's main process, cmedins.deid.gate.default_gate) mostly never reaches a rule that reads it (1.3 CPU-s).
    @cached_property
    def tagger(self):
        return _tagger()

    @cached_property
    def freq(self) -> dict[str, int]:
        return _tagger().tokenizer.FREQ

    @cached_property
    def tags(self) -> dict[str, str]:
        return _tagger().word_tag_tab

    def analyze(self, text, entities, nlp_artifacts=None, regions=None):
        """presidio's entry point; `regions` (per pattern of SCANS, from cmedins.deid.prefilter) limits each scan
        of a joined batch to the texts it may match in."""
        where = _Scans(text, regions)
        results = [self._result(start, _without_honorific(text, start, end), self.partial_score, "partial")
                   for start, end in where.spans(PARTIAL, PARTIAL_ANCHOR) if self._partial_ok(text, start, end)]
        results += [self._result(m.start(), m.end(), self.context_score, "sex_after")
                    for m in where.finditer(SEX_AFTER) if self._sex_after_ok(text, m.start(), m.end())]
        results += [self._result(start, m.start(), self.context_score, "sex_after_en")
                    for m in where.finditer(SEX_AFTER_EN) if (start := self._name_before_sex(text, m)) is not None]
        taken = {i for r in results for i in range(r.start, r.end)}
        for match in where.finditer(ENGLISH_TITLE):  # Dr. 李建国, and a surname alone (Mr 王), as 王先生 is masked
            if match.end() not in taken:
                end = self._name_after_role(text, match.end()) or self._surname_alone(text, match.end())
                if end:
                    results.append(self._result(match.end(), end, self.context_score, "english_title"))
                    taken.update(range(match.end(), end))
        for match in [*where.finditer(ROLE), *where.finditer(ROLE_QUOTED), *where.finditer(ENGLISH_ROLE),
                      *where.finditer(FRAMED_FIELD)]:
            role_end = match.start() + len(match.group().rstrip("：: \t\n"))
            if match.end() not in taken and not self._inside_word(text, match.start(), role_end):
                end = self._name_after_role(text, match.end())
                if NAME_FIELD.search(match.group()) or self._role_field(text, match.start(), role_end, match.group()):
                    end = self._field_value_name(text, match.end()) if end is None else _field_value_end(text, end)
                if end and _unclosed_tag(text, match, end):
                    end = None
                if end:
                    results.append(self._result(match.end(), end, self.context_score, "role_context"))
                    taken.update(range(match.end(), end))
        results += [self._result(start, end, self.context_score, "dotted") for start, end in self._dotted(text, where)]
        results += [self._result(match.start(group), match.end(group), self.context_score, "surname_given")
                    for match in where.finditer(SURNAME_GIVEN) for group in ("surname", "given")
                    if not any(ch in STOP_AFTER_NAME for ch in match.group("given"))]
        # The structural rules run before the cue rule: the POS tagger (the costly step) is then only asked about
        # cue matches no cheaper rule has decided.
        structural = self._structural(text, taken, where)
        results += structural
        for start, stop in where.spans(CUE, CUE_ANCHOR):
            if (start not in taken and stop - 1 not in taken and text[start] not in FUNCTION_SURNAMES
                    and text[start] != text[start + 1]):  # 谢谢
                end = self._tagged_name_at(text, start)
                if end == stop:
                    # 李教授认为: jieba reads surname + title as one name; the title stays (<姓名>教授认为)
                    title = TITLE_AFTER.fullmatch(text, start + 1, end)
                    results.append(self._result(start, start + 1 if title else end, self.cue_score, "cue"))
        results += self._list_neighbours(text, results)
        return [r for r in results if not DOSAGE_FORM.match(text, r.end)]

    def hits(self, text: str, regions=None) -> list[tuple[str, int, int, float]]:
        """(entity type, start, end, score) tuples, as the engine collects them."""
        return [(r.entity_type, r.start, r.end, r.score) for r in self.analyze(text, None, regions=regions)]

    # --- structural rules (5-10 in the module notes) ---------------------------------------------------------
    def _plausible(self, text: str, start: int, end: int, strong: bool = False, framed: bool = False) -> bool:
        """Is text[start:end] surname + 1-2 given characters, and not a word or a clinical term? With `strong`
        context (a list of people, brackets after a role word) a given name may be an ordinary word (远志, 银子).
        `framed`: a title follows (医生, 同志), or a contact verb precedes and a clause end follows (已电话联系
        尚红永。): after a function-word surname, a two-character given name may
        start with a frequent character (常玉雪同志, 向国兴医生), if it is no word (向主治医生) and starts with no verb
        (由管床医生, 由值班医生)."""
        match = SURNAME.match(text, start)
        if match is None:
            return False
        first = start + len(match.group())
        given = text[first:end]
        if not 1 <= len(given) <= 2 or not all(HAN.match(ch) and ch not in STOP_AFTER_NAME for ch in given):
            return False
        if any(text.startswith(term, start) and len(term) > 1 for term in self.protected_by_char.get(text[start], ())):
            return False
        name = text[start:end]
        if self._common_word(name) or self._common_word(text[start:first + 1]) and len(given) == 1:
            return False
        if not strong and self.freq.get(name, 0) >= NR_WORD_FREQ:
            return False  # 谢谢 is in the dictionary as nr, and frequent: a word, not a name
        if not strong and match.group() in FUNCTION_SURNAMES and (
                self.freq.get(given[0], 0) >= 5000 and not (framed and len(given) == 2 and not self._common_word(given))
                or self.tags.get(given[0]) in VERB_TAGS):
            return False  # 来问问医生, 应请医生: after a function-word surname, a frequent word or a verb
        if len(given) == 2 and not strong and self._common_word(given) and not self._may_be_given(given):
            return False
        ambiguous = match.group() in FUNCTION_SURNAMES
        return not (ambiguous and (self._common_word(text[start:first + 1]) or text[first] in NOT_GIVEN_FIRST))

    @staticmethod
    def _ends_person_clause(text: str, end: int) -> bool:
        """Does what follows `end` end a name in prose: a clause end, or a verb a person's name is followed by?"""
        return bool(NAME_END.match(text, end) or PERSON_ACTION.match(text, end) or SPEECH_AFTER.match(text, end)
                    or INFORMANT_END.match(text, end))  # (PERSON_ACTION holds TALKED_ACTION)

    def _name_ending(self, text: str, start: int, end_ok, strong: bool = False, framed: bool = False) -> int | None:
        """End of a plausible name at `start` (two given characters preferred) after which `end_ok` matches."""
        match = SURNAME.match(text, start)
        if match is None:
            return None
        first = start + len(match.group())
        for end in (first + 2, first + 1):
            if end <= len(text) and end_ok(text, end) and self._plausible(text, start, end, strong, framed):
                return end
        return None

    def _structural(self, text: str, taken: set[int], where: _Scans) -> list[RecognizerResult]:
        found: list[tuple[int, int, str]] = []

        def add(start: int, end: int | None, rule: str) -> int | None:
            if end and start not in taken:
                found.append((start, end, rule))
                taken.update(range(start, end))
            return end

        def item_end(t: str, e: int) -> bool:
            return bool(ITEM_END.match(t, e))

        for _, position in where.spans(LIST_LABEL, LIST_LABEL_ANCHOR):
            while (end := add(position, self._name_ending(text, position, item_end, True), "list")) is not None:
                sep = LIST_ITEM_SEP.match(text, end)
                if sep is None:
                    break
                position = sep.end()
        for role in where.finditer(ROLE_PAREN):
            add(role.end(), self._name_ending(text, role.end(), lambda t, e: bool(PAREN_END.match(t, e)), True),
                "paren")
        for header in where.finditer(AGE_AFTER):  # at a clause's start only (not 172万人，55岁以上)
            before = text[header.start() - 1] if header.start() else ""
            if before in CLAUSE_START and self._plausible(text, header.start(), header.end()):
                add(header.start(), header.end(), "age_after")
        for when in where.finditer(WHEN_BEFORE):
            if when.start() > 0 and self._common_word(text[when.start() - 1:when.start() + 1]):
                continue  # 相应, 反应: the cue is the tail of a word
            add(when.end(), self._name_ending(text, when.end(), lambda t, e: bool(PERSON_ACTION.match(t, e))
                                              or bool(WHEN_TITLE.match(t, e))), "when")
        for line_start, line_end in where.line_names():  # (a line's start: both rules; a sentence's: the speaker's)
            # a line under another line of the same text (a signature under a note): a text that is one short line
            # is a term or a query (鹿角霜, 温针灸), not a name; the batch separator (\x00) ends a text
            under_a_line = (line_start > 0 and text[line_start - 1] == "\n"
                            and _last_visible(text, line_start) not in ("", SEPARATOR_MARK))
            end = self._name_ending(text, line_end, lambda t, e: bool(LINE_END.match(t, e))) if under_a_line else None
            rule = "line"
            if end is None:
                end, rule = self._name_ending(text, line_end, lambda t, e: bool(SPEAKER_END.match(t, e))), "speaker"
            if (end is not None and self.freq.get(text[line_end:end], 0) < LABEL_WORD_FREQ
                    and text[end - 1] not in TERM_END_CHARS):
                add(line_end, end, rule)
        for noun_start, end in where.spans(ROLE_SUFFIX, ROLE_SUFFIX_ANCHOR):
            if text[end] in NOT_AFTER_PERSON_NOUN or text[end - 2:end] in COMPOUND_SURNAME_SET or not any(
                    self._common_word(word := text[start:end]) and self.tags.get(word) in PERSON_NOUN_TAGS
                    for start in (end - 3, end - 2) if start >= noun_start):
                continue
            stop = self._name_ending(text, end, self._ends_person_clause)
            if stop is not None and text[stop - 1] not in TERM_END_CHARS:
                add(end, stop, "role_suffix")
        for added in where.finditer(ADDED_BEFORE):
            add(added.end(), self._name_ending(text, added.end(), lambda t, e: bool(ADDED_END.match(t, e))), "added")
        for greeting in where.finditer(GREETED_BEFORE):
            add(greeting.end(), self._name_ending(text, greeting.end(), lambda t, e: bool(GREETED_END.match(t, e))),
                "greeted")
        for bed in where.finditer(BED_BEFORE):
            add(bed.end(), self._name_ending(text, bed.end(), lambda t, e: bool(NAME_END.match(t, e))), "bed")
        for thanks in where.finditer(THANKED):
            add(thanks.end(), self._name_ending(text, thanks.end(), lambda t, e: bool(TITLE_AFTER.match(t, e)
                                                                                       or THANKED_FOR.match(t, e)),
                                                framed=True), "thanked")
        for told in where.finditer(TALKED_BEFORE):
            if told.start() > 0 and self._common_word(text[told.start() - 1:told.end()]):
                continue  # 方向, 参与, 面对: the preposition ends a word
            add(told.end(), self._name_ending(text, told.end(), lambda t, e: bool(TALKED_ACTION.match(t, e))
                                              or bool(TOGETHER_ACTION.match(t, e))), "told")
        for owner in where.finditer(PHONE_OWNER):
            add(owner.end(), self._name_ending(text, owner.end(), lambda t, e: bool(PAREN_END.match(t, e))), "owner")
        for agent in where.finditer(AGENT_BEFORE):
            if agent.start() > 0 and self._common_word(text[agent.start() - 1:agent.end()]):
                continue  # 神经和韧带, 痛经甘露丸, 理由: the preposition ends a word
            add(agent.end(), self._name_ending(text, agent.end(), lambda t, e: bool(AGENT_ACTION.match(t, e))),
                "agent")
        # Clause-initial names are found backwards from what follows them (a bracketed kinship, sex or age; a verb
        # of saying): those are rarer than clause starts.
        # A bracket right after the name saying who the person is (kinship, sex, age) is strong evidence: the
        # given name may then be an ordinary word (石安静（女，45岁）).
        for cue, rule, strong in ((KIN_PAREN, "kin_paren", True), (SPEECH_AFTER, "sentence", False),
                                  (GREETING, "greeting", False), (KIN_AFTER, "kin_after", False),
                                  (SAID, "said", False), (PHONE_OR_DATE_AFTER, "phone_or_date_after", False),
                                  (VOCATIVE, "vocative", False), (ASKED, "asked", False)):
            for match in where.finditer(cue):
                if match.end() - match.start() == 1 and self._common_word(text[match.start() - 1:match.end()]):
                    continue  # 名称, 描述, 概述: the verb ends a word, it does not follow a name
                # the name may stand a space before its cue (王芳 系患者邻居, 王芳　诉头痛): the name ends before the space
                end = match.start()
                while end > 0 and text[end - 1] in NAME_CUE_GAP:
                    end -= 1
                start = self._name_before(text, end, VOCATIVE_START if cue is VOCATIVE else CLAUSE_START, strong)
                if (start is not None and rule == "kin_after" and text[match.start()] == "的"
                        and text[start] in FUNCTION_SURNAMES):
                    continue  # 但幼小的孩子: 的 is weaker evidence than 之; a function-word surname needs more
                if start is not None and not any(i in taken for i in range(start, end)):
                    add(start, end, rule)
        for word in where.finditer(ENGLISH_BEFORE):
            add(word.end(), self._name_in_english(text, word.end()), "english_prose")
        for dash in where.finditer(SIGNATURE):
            add(dash.end(), self._name_ending(text, dash.end(), _signature_end), "signature")
        for word in where.finditer(INFORMANT):
            add(word.end(), self._name_ending(text, word.end(), lambda t, e: bool(INFORMANT_END.match(t, e))), "informant")
        for verb in where.finditer(CONTACT):
            add(verb.end(), self._name_ending(text, verb.end(), lambda t, e: bool(CONTACT_END.match(t, e)), framed=True),
                "contact")
        for title in where.finditer(TITLE_AFTER):
            start = self._name_before(text, title.start(), framed=True)
            # only its last character may be taken already: a surname alone masked with the title (祝道华同志: 华同志)
            if start is not None and not any(i in taken for i in range(start, title.start() - 1)):
                add(start, title.start(), "title")
        return [self._result(start, end, self.context_score, rule) for start, end, rule in found]

    def _list_neighbours(self, text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
        """Names joined to a found name by 、/和/及/与 are names too (rule 10), in both directions."""
        spans = {(r.start, r.end) for r in results if r.entity_type == "PERSON"}
        taken = {i for start, end in spans for i in range(start, end)}
        todo, out = list(spans), []
        while todo:
            start, end = todo.pop()
            join = NAME_LIST_JOIN.match(text, end)
            if join and HAN.match(text, join.end() - 1) and self._common_word(text[join.end() - 1:join.end() + 1]):
                join = None  # 王芳及时复诊, 王芳和平时一样: the joining word starts a word
            if join and join.end() not in taken:
                stop = self._name_ending(text, join.end(), lambda t, e: bool(ITEM_END.match(t, e)), True)
                if stop:
                    out.append((join.end(), stop))
            if start > 0 and text[start - 1] in "、和及与/":
                lo = self._name_before(text, start - 1)
                if lo is not None and lo not in taken:
                    out.append((lo, start - 1))
            for lo, hi in out[len(out) - 2:]:
                if lo not in taken:
                    taken.update(range(lo, hi))
                    todo.append((lo, hi))
        return [self._result(lo, hi, self.context_score, "list_neighbour") for lo, hi in dict.fromkeys(out)]

    def _partial_ok(self, text: str, start: int, end: int) -> bool:
        """王先生 and 张某某 are names; 向医生, 谢谢医生, 检查医生 and 但爷爷 are not. After an ambiguous surname a
        doubled mark is a name (患者于某某半年前), a single one needs a role word before or a boundary after."""
        before = text[start - 1] if start else ""
        if before and (before == text[start] or self._common_word(before + text[start])):
            return False  # 谢谢医生, 检查医生; at the text's start the surname alone (张, a measure word) is no word
        if self._common_word(text[start:end]):
            return False  # 班主任 is a class teacher, not 班 the 主任
        if start >= 2 and self._common_word(text[start - 2:start + 1]):
            return False  # 人类史教授: the surname character ends a word
        if text[start + 1:end] not in lexicon.PARTIAL_NAME_MARKS and self._full_name_ends_here(text, start):
            return False  # 翟玉海主任: 海 ends a full name, not a surname before an honorific
        if text[start] not in FUNCTION_SURNAMES:
            return True
        mark = text[start + 1:end]
        if mark not in lexicon.PARTIAL_NAME_MARKS:
            return False  # an honorific: 向医生, 由护士, 和医生
        return len(mark) > 1 or bool(ROLE_BEFORE.search(text, max(0, start - 6), start)) or bool(NAME_END.match(text, end))

    def _full_name_ends_here(self, text: str, index: int) -> bool:
        """Does a plausible full name, starting at a boundary, end with the character at `index`?"""
        return self._name_before(text, index + 1) is not None

    def _name_before(self, text: str, end: int, boundary: set[str] = TITLE_BOUNDARY,
                     strong: bool = False, framed: bool = False) -> int | None:
        """Start of a plausible name that ends at `end` and starts at a boundary (3 characters preferred, then
        2, then 4 for double surnames). A function-word surname that is itself the boundary (由丁雪 -> 丁雪,
        和李强 -> 李强) yields to the shorter name."""
        candidates = [end - 3, end - 2, end - 4]
        for index, start in enumerate(candidates):
            if start < 0:
                continue
            before = text[start - 1] if start else ""
            if before not in boundary or not self._plausible(text, start, end, strong, framed):
                continue
            shorter = start + 1
            if text[start] in TITLE_BOUNDARY and index == 0 and self._plausible(text, shorter, end, strong, framed):
                return shorter
            return start
        return None

    def _sex_after_ok(self, text: str, start: int, end: int) -> bool:
        """成年男性, 白领女性: a dictionary word right before 男性/女性 is not a name (吉林，男，44岁 is)."""
        sex = SEX_WORD.match(text, end)
        if sex is None or not sex.group().endswith("性"):
            return True
        return not any(self.freq.get(text[start:start + n], 0) >= COMMON_FREQ for n in range(2, end - start + 1))

    @staticmethod
    def _role_field(text: str, start: int, role_end: int, label: str) -> bool:
        """Is this role word, with its colon, a record's field label (see SPEAKER_ROLES)?"""
        if not ROLE_FIELD.search(label):
            return False
        return text[start:role_end] not in SPEAKER_ROLES or (start > 0 and bool(HAN.match(text[start - 1])))

    def _inside_word(self, text: str, start: int, end: int) -> bool:
        """Is this role word the tail of a longer word (辅助手段 holds 助手)? Only the left side is checked: on
        the right, role and name often make a word by chance (之女王鑫, 家属于明, 其子孙冬梅)."""
        if end - start >= 3:
            return False  # 病人名字叫李小龙: 人名 is a word, but a role of three characters is no word's tail
        if text[start] == "其" and end < len(text) and text[end] not in KIN_CHARS:
            return False  # 与其子王芳同来: 与其 is a word, yet 其子 is the role (but 与其父母相同: 父母 is the word)
        return start > 0 and self.freq.get(text[start - 1:start + 1], 0) >= COMMON_FREQ

    def _name_before_sex(self, text: str, sex: re.Match) -> int | None:
        """Start of the name that a clause opens with right before an English sex word or letter: the Han run of
        2-4 characters there, surname first. The letter (王国, M, 56) is as strong as 王国，男，56岁 and takes any
        such run; before the word (male, female) the name must be plausible."""
        end = start = sex.start()
        while start > 0 and end - start < 5 and HAN.match(text[start - 1]):
            start -= 1
        if not 2 <= end - start <= 4 or (start and text[start - 1] not in CLAUSE_START) or not SURNAME.match(text, start):
            return None
        if sex.group().strip(" ，,、/").lower() in ("male", "female"):
            return start if self._plausible(text, start, end, strong=True) else None
        return start

    def _name_in_english(self, text: str, start: int) -> int | None:
        """End of a 2-4 character Han run at `start` that English prose surrounds and that is a plausible name."""
        end = start
        while end < len(text) and end - start < 5 and HAN.match(text[end]):
            end += 1
        if not 2 <= end - start <= 4 or not ENGLISH_AFTER.match(text, end):
            return None
        return end if self._plausible(text, start, end) else None

    @staticmethod
    def _surname_alone(text: str, start: int) -> int | None:
        """End of a bare surname (one or compound) that no Chinese character follows: Mr 王, Dr. 欧阳."""
        match = SURNAME_BARE.match(text, start)
        if match is None:
            return None
        end = match.end()
        return end if end == len(text) or not HAN.match(text[end]) else None

    def _name_after_role(self, text: str, start: int) -> int | None:
        """End of the name right after a role word, or None. Character rules, no segmentation: the given name
        is two characters unless the second one starts the next word (王芳代诉, 陈明陪同)."""
        spaced = SPACED_SURNAME.match(text, start)  # 姓名：汤 琳雨, 姓名：欧阳  英梓
        if spaced and (end := self._spaced_name(text, start, spaced.end("surname"))):
            return end
        match = SURNAME.match(text, start)
        if match is None:
            return None  # the role word ends the text
        surname = match.group()
        if any(text.startswith(term, start) and not SEX_HEADER.match(text, start + len(term))
               for term in self.protected_by_char.get(text[start], ())):
            return None  # 患者高热, 患者周身, 患者陈述; but 患者黎明，男 (黎明现象 is a clinical term) is a name
        first = start + len(surname)
        if first >= len(text) or not HAN.match(text[first]) or text[first] in STOP_AFTER_NAME:
            return None
        if surname in FUNCTION_SURNAMES:
            return self._bounded_name(text, start, first)
        second = first + 1
        end = second
        if (second < len(text) and HAN.match(text[second]) and text[second] not in STOP_AFTER_NAME
                # at the text's end no word can start there (医师签名：陈建国 ends many a record)
                and (second + 1 == len(text) or not self._common_word(text[second:second + 2])
                     or NAME_END_WORD.match(text, second + 1))
                and self._may_be_given(text[first:second + 1])):  # 程志明代诉: 明代 is a word, 代诉 wins
            end = second + 1
        elif (second < len(text) and HAN.match(text[second]) and text[second] not in STOP_AFTER_NAME
              and NAME_END.match(text, second + 1) and not NAME_END.match(text, second)):
            end = second + 1  # 患者：张明月，女: a word (明月) as the given name, yet the name ends only after it
        head = text[start:first + 1]
        if (end == first + 1 and text[start] == text[first] and self.freq.get(head, 0) >= NR_WORD_FREQ
                and not SEX_HEADER.match(text, end)):
            return None  # 儿子：谢谢爸爸: a doubled "name" of the dictionary this frequent is a word (not 李鹏)
        if self._common_word(head) and not (  # 医生关照：, 母亲高兴地说, 患者钱包丢失 are not names, but
                any(NAME_END.match(text, e) for e in {first + 1, end})  # 黎明，男 (a noun), 家属初春梅（
                and (self.tags.get(head) in GIVEN_TAGS or end > first + 1 or NAME_END_WORD.match(text, end)
                     or SEX_HEADER.match(text, end))):  # 患者黎明，男，45岁: a role word, then a header's sex
            return None  # ... and 其子高欢陪同 (a verb in the dictionary) are
        return end

    def _spaced_name(self, text: str, start: int, first: int) -> int | None:
        """End of a name with one or two spaces between surname and given name, after a role word (姓名：汤 琳雨,
        患者申　千春，男): the name must end at a clear boundary, and surname + given name, read without the
        space, must be a plausible name (患者高 热，体温39℃ is not one: 高热 is a clinical term)."""
        gap = SPACED_GAP.match(text, first)
        if gap is None:
            return None
        for end in (gap.end() + 2, gap.end() + 1):
            given = text[gap.end():end]
            if len(given) != end - gap.end() or not NAME_END.match(text, end):
                continue
            compact = text[start:first] + given
            if HEADER_WORD.match(given):
                return None  # 姓名：张 性别：男
            # 姓名：祝 文颖, 姓名：叶 强强, 患者徐 海，男: after a label, or with a header's sex after it, a spaced
            # name may be an ordinary word or a place (徐海) as well; never a clinical term (患者高 热，男)
            if start > 0 and text[start - 1] in "：: " or SEX_HEADER.match(text, end):
                if all(HAN.match(ch) and ch not in STOP_AFTER_NAME for ch in given) and not any(
                        compact.startswith(term) and len(term) > 1 for term in self.protected_by_char.get(compact[0], ())):
                    return end
            elif self._plausible(compact, 0, len(compact)) and (len(given) == 1 or self._may_be_given(given)):
                return end
        return None

    def _dotted(self, text: str, where: _Scans) -> list[tuple[int, int]]:
        """Names whose parts a middle dot joins (rule 11): each part 1-7 Han characters, none an ordinary word
        or a clinical term; a role word right before the name, or a cue right after it (DOTTED_CUE_AFTER)."""
        spans: list[tuple[int, int]] = []
        for match in where.finditer(DOTTED):
            first_end, dot = match.start() + 1, match.start("dot")
            if spans and spans[-1][1] > first_end:
                continue  # a later dot of a name already found
            start, role, at_boundary = self._dotted_start(text, first_end)
            end, parts = match.end(), [text[start:first_end]]
            while True:
                stop = self._dotted_part_end(text, end)
                parts.append(text[end:stop])
                follow = DOTTED.match(text, stop - 1)
                if follow is None or (follow.group("dot") == ".") != (text[dot] == "."):
                    break  # one kind of join throughout
                end = follow.end()
            if any(not self._dotted_part_ok(part) for part in parts):
                continue
            if self._dotted_context(text, start, stop, role, at_boundary, text[dot] == "."):
                spans.append((start, stop))
        return spans

    @staticmethod
    def _dotted_context(text: str, start: int, stop: int, role: bool, at_boundary: bool, full_stop: bool) -> bool:
        """A middle dot needs a role word before the name or a cue after it. A full stop (．, .) also ends
        sentences (医院都正常．主治医生告诉我, 患者头晕.恶心), so it needs more: a label right before the name
        (姓名：热依拉．阿不都), a role word and a cue (患者努尔．吾守尔，男), or a kinship, sex or age bracket after
        a name that starts its clause (托合提．艾力（患者之子）)."""
        cue = DOTTED_CUE_AFTER.match(text, stop) is not None
        if not full_stop:
            return role or cue
        label = role and start > 0 and not HAN.match(text[start - 1])
        return label or (role and cue) or (at_boundary and not role and KIN_PAREN.match(text, stop) is not None)

    def _dotted_start(self, text: str, dot: int) -> tuple[int, bool, bool]:
        """Where the first part of a dotted name starts, whether a role word precedes it, and whether it starts
        its run of Han characters: after the last role word in the run before the dot (家属热依拉·吐尔逊), else at
        the run's start (at most 7 characters)."""
        lo = dot
        while lo > 0 and HAN.match(text[lo - 1]) and dot - lo < 12:
            lo -= 1
        role_end = max((m.end() for m in PREFIX_WORDS.finditer(text, lo, dot) if m.end() < dot), default=None)
        if role_end is not None:
            return role_end, True, False
        start = max(lo, dot - DOTTED_PART)
        return start, bool(ROLE_BEFORE.search(text, max(0, start - 8), start)), start == lo and not (
            start > 0 and HAN.match(text[start - 1]))

    def _dotted_part_end(self, text: str, start: int) -> int:
        """End of a dotted name's part starting at `start`: before the first word that follows a name, at the first
        non-Han character, or after 7 characters."""
        end = start + 1
        while end < len(text) and end - start < DOTTED_PART and HAN.match(text[end]) and not DOTTED_END.match(text, end):
            end += 1
        return end

    def _dotted_part_ok(self, part: str) -> bool:
        """A part may be a rare dictionary noun (买买提 is one), not a frequent word, a clinical term or a word
        that ends a name."""
        frequent = self.freq.get(part, 0) >= COMMON_NOUN_FREQ and self.tags.get(part, "n") not in NAME_TAGS
        return (bool(part) and not frequent and part not in STOP_AFTER_NAME
                and not any(part.startswith(term) for term in self.protected_by_char.get(part[0], ())))

    @staticmethod
    def _field_value_name(text: str, start: int) -> int | None:
        """End of the name that is a name field's whole value (姓名：黎明，性别：男; 姓名：夏天): a surname and one or
        two characters, then the value's end. A word is no objection here (黎明 and 夏天 are names after 姓名),
        only the field's end must be clear: a text that goes on (姓名：王芳芳芳) is left to the other rules."""
        match = SURNAME.match(text, start)
        if match is None or match.group() in FUNCTION_SURNAMES:
            return None  # 于, 和, 向 ...: the bounded rule decides (cmedins.deid.names._bounded_name)
        first = start + len(match.group())
        for end in (first + 2, first + 1):
            given = text[first:end]
            if (len(given) == end - first and all(HAN.match(ch) and ch not in STOP_AFTER_NAME for ch in given)
                    and (NAME_END.match(text, end) or HEADER_WORD.match(text, end))):
                return end
        return None

    def _may_be_given(self, given: str) -> bool:
        """Can this two-character word be a given name (建国, 海燕, 浩然: yes; 帮助, 细胞, 医生: no)?"""
        if not self._common_word(given):
            return True
        tag = self.tags.get(given)
        return tag in GIVEN_WORD_TAGS and not (tag in RARE_GIVEN_TAGS and self.freq[given] >= COMMON_NOUN_FREQ)

    def _bounded_name(self, text: str, start: int, first: int) -> int | None:
        """A name whose surname is mostly a function word (于, 向, 由 ...): neither the surname with the next
        character nor the given name may be an ordinary word (于是, 成功, 于今日, 于外地, 向医生), and the name
        must end at a clear boundary (患者于强，男; 姓名：向宇航　性别; 患者向秋菊平素体健)."""
        if (text[first] in NOT_GIVEN_FIRST or self._common_word(text[start:first + 1])
                or self._common_word(text[start:first + 2])):
            return None
        if not self._may_be_given(text[first:first + 2]) or text[first:first + 2] in ROLE_WORDS:
            return None  # ... 侄女和侄子: a role word is no given name
        for end in (first + 2, first + 1):
            if (all(HAN.match(ch) and ch not in STOP_AFTER_NAME for ch in text[first:end])
                    and len(text[first:end]) == end - first and NAME_END.match(text, end)):
                return end
        return None

    def _tagged_name_at(self, text: str, start: int) -> int | None:
        """End of the name jieba's POS tagger reads at `start` in its clause (nr*, 2-4 chars), or None."""
        lo = hi = start
        while lo > 0 and not CLAUSE_BREAK.match(text[lo - 1]):
            lo -= 1
        while hi < len(text) and not CLAUSE_BREAK.match(text[hi]):
            hi += 1
        position, words = lo, self.tagger.lcut(text[lo:hi])
        for i, (word, tag) in enumerate(words):
            if position == start:
                if tag in NAME_TAGS and 2 <= len(word) <= 4:
                    return start + len(word)
                following = words[i + 1] if i + 1 < len(words) else None
                if word in SURNAME_SET and following and following.flag in NAME_TAGS and len(following.word) <= 2:
                    return start + len(word) + len(following.word)  # 王/nr + 金兰/nr
                return None
            if position > start:
                return None
            position += len(word)
        return None

    def _common_word(self, word: str) -> bool:
        """A frequent dictionary word that is not a name (周身, 陈述, 高血压 from the protected list)."""
        return self.freq.get(word, 0) >= COMMON_FREQ and self.tags.get(word, "n") not in NAME_TAGS

    def _result(self, start: int, end: int, score: float, rule: str) -> RecognizerResult:
        return RecognizerResult("PERSON", start, end, score, recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            "rule": rule})


def _field_value_end(text: str, end: int) -> int:
    """A name field's value runs to the field's end (姓名：王芳芳芳，性别 masks all four characters, not 王芳芳):
    past `end` by at most FIELD_VALUE_MORE characters of a name, to the first clear end; `end` if there is none."""
    for stop in range(end, min(end + FIELD_VALUE_MORE, len(text)) + 1):
        if NAME_END.match(text, stop) or HEADER_WORD.match(text, stop):
            return stop
        if stop < len(text) and text[stop] in STOP_AFTER_NAME:
            break
    return end


def _spans(pattern: re.Pattern, anchor: tuple[re.Pattern, int], text: str) -> list[tuple[int, int]]:
    """`pattern.finditer(text)`'s spans, tried only within reach of the anchor (recognizers.anchored_spans)."""
    return anchored_spans(pattern, *anchor, False, text)


def _without_honorific(text: str, start: int, end: int) -> int:
    """The end of a partial name without its honorific: 王医生 -> <姓名>医生, as a full name's title stays
    (<姓名>主任医师); a masking mark (张某某, 杨XX) stands for the given name and is masked with the surname."""
    for honorific in lexicon.NAME_SUFFIX_CONTEXT:
        if text.startswith(honorific, end - len(honorific), end) and end - len(honorific) > start:
            return end - len(honorific)
    return end


def propagate(texts: list[str], findings: list[list], folded: Sequence[str] | None = None,
              ) -> list[list[tuple[int, int]]]:
    """Spans of further occurrences, in any of `texts` (one record), of the full names found in them: a name
    found once with context (患者王建国) is masked where it stands alone too (王建国诉头痛). Names are compared in
    the view the rules read them in (cmedins.deid.normalise.fold, same offsets; `folded`: those views when the
    caller has them), with ASCII letters in lower case: 患者張偉 is 张伟 later, 努尔．吾守尔 is 吾守尔, Zhang Wei is
    ZHANG WEI."""
    views = list(map(fold, texts)) if folded is None else list(folded)
    found_names = {view[f.start:f.end].translate(_ASCII_LOWER) for view, found in zip(views, findings, strict=True)
                   for f in found if f.entity_type == "PERSON"}
    # Han names of 2-4 characters; a name in Latin letters only whole (Zhang Wei), never one word (Dr. Sun's Sun
    # is in Sunday)
    names = {name for name in found_names if 2 <= len(name) <= 4 and not name.isascii()
             and not PARTIAL_MARK.search(name)}
    names |= {name for name in found_names if FULL_NAME.fullmatch(name.title())}
    # A dotted name, and each part of it: 买买提·吐尔逊 is 买买提 later in the record.
    for name in found_names:
        if any(dot in name for dot in f"{NAME_DOTS}."):
            names.add(name)
            names.update(part for part in re.split(f"[{NAME_DOTS}.\\s]+", name) if len(part) >= 2)
    if not names:
        return [[] for _ in texts]
    if any(LATIN_LOWER.search(name) for name in names):
        # (a name without Latin letters is found at the same places with the letters as written: the texts are
        # lowered, which costs more than the search, only for a name that holds one)
        views = [view.translate(_ASCII_LOWER) for view in views]
    extra: list[list[tuple[int, int]]] = []
    for view, found in zip(views, findings, strict=True):
        spans = []
        for name in names:
            position = view.find(name)
            while position >= 0:
                if not any(f.start <= position < f.end for f in found):  # not covered by a finding
                    spans.append((position, position + len(name)))
                position = view.find(name, position + len(name))
        extra.append(spans)
    return extra
