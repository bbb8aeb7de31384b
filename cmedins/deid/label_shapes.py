"""The labels that make an identifier of the value after them, and what may stand between label and value, as
records, bilingual records and exports write them: one definition for the detectors (cmedins.deid.recognizers)
and the residual scan (cmedins.deid.residual), so the two cannot drift apart.

- Chinese record labels: a kind of record, then a number word (住院号, 病案编号, 医保卡号, 患者ID).
- English record labels: a kind of record, then No. / Number / ID (MRN, Hospital No., Inpatient No., Patient ID,
  Medical Record Number, Insurance No., inpatient_no, PatientId), and the pinyin initials Chinese HIS tables name
  their columns with (zyh 住院号, mzh 门诊号, blh 病历号, bah 病案号, jzkh 就诊卡号, ybkh 医保卡号), the latter only
  with a frame character after them.
- Messaging labels (微信号, QQ, WeChat ID) and the pinyin keys of dates of birth (csrq) and passports (hzh).
- FRAMED_SEP: between label and value, besides the colon, 为 / 是 and No. of prose, the quotes, brackets, =, |,
  backslashes (escaped JSON), commas (CSV), # and HTML/XML tags of exports: {"住院号": "ZY2023001234"},
  \\"住院号\\":\\"1234567\\", 住院号=1234567&, | 住院号 | 1234567 |, [住院号]1234567, <MRN>00123456</MRN>,
  住院号,1234567, <td>住院号</td><td>1234567</td>.

Every pattern here compiles under both `re` and `regex`, and holds no `\\t` escape and no `\\K` (Hyperscan's
prefilter reads them as supersets: cmedins.deid.prefilter); English words match in any case through `(?i:...)`.
"""

from __future__ import annotations

# A record-number label is a kind of record plus a number word: 住院号, 住院号码, 病案编号, 医保卡号, 患者ID.
RECORD_KINDS = ("病案", "病历", "住院", "门诊", "急诊", "医保", "社保", "就诊", "诊疗", "医疗", "健康", "登记", "档案", "影像",
                "检查", "检验", "化验", "放射", "病理", "标本", "流水", "床位", "发票", "患者", "病人", "申请", "报告", "条码")
RECORD_LABEL = rf"(?:{'|'.join(RECORD_KINDS)})卡?(?:号码|编号|号|ID|id|No\.?)|ID号|患者ID|病人ID"

# English: a kind of record, then a number word (a space, _, - or . may join them: Hosp. No, inpatient_no,
# PatientId). A bare "ID", "No." or "case" is no label: general instructions write `ID: 3`, `No. 1`, `case 2`;
# nor is a bare "record" (record_id, record_number are keys of this package's own files and of any database).
EN_RECORD_KINDS = ("medical record", "med record", "mr", "emr", "hospital", "hosp", "inpatient", "in patient", "ip",
                   "outpatient", "out patient", "op", "admission", "adm", "case", "patient", "pt", "chart",
                   "registration", "reg", "visit", "encounter", "medical insurance", "health insurance", "insurance",
                   "social security", "social insurance", "health card", "medicare")
EN_NUMBER_WORDS = ("number", "num", "nbr", "no", "id")
# Labels that are a record number by themselves.
EN_RECORD_WORDS = ("mrn", "mrno", "uhid")
# Column names of Chinese HIS tables (pinyin initials): 住院号 zyh, 住院号码 zyhm, 门诊号 mzh, 就诊号 jzh, 病历号 blh,
# 病案号 bah, 就诊卡号 jzkh, 医保卡号 ybkh, 社保卡号 sbkh, 患者 ID hzid, 病人 ID brid.
RECORD_KEYS = ("zyh", "zyhm", "mzh", "mzhm", "jzh", "blh", "bah", "jzkh", "ybkh", "sbkh", "hzid", "brid")


def words_pattern(words, joiner: str = r"[\s_.-]*") -> str:
    """An alternation of `words`, longest first, a space in a word matching `joiner` and an apostrophe either
    apostrophe (patient's, patient’s). Ties in alphabetical order: the same string in every process whatever the
    iterable (a set's order changes with the hash seed, and the prefilter's compiled-database cache is keyed by
    the patterns' text)."""
    return "|".join(word.replace(" ", joiner).replace("'", "['’]")
                    for word in sorted(set(words), key=lambda word: (-len(word), word)))


# (the lookahead for a letter first: without it `re` tries the caseless alternation at every position)
EN_RECORD_LABEL = (rf"(?<![A-Za-z])(?=[A-Za-z])(?i:(?:{words_pattern(EN_RECORD_KINDS)})[\s_.-]*(?:(?:{words_pattern(EN_NUMBER_WORDS)})"
                   rf"(?![A-Za-z])\.?|#)|(?:{words_pattern(EN_RECORD_WORDS)})(?![A-Za-z]))")

# Between a label and its value in an export (with the colon, 为 / 是 and No. of prose): quotes, brackets, =, |,
# backslashes, commas, # and tags, at most 8 of them (as few as the value needs: 电话：(123)456-7890 keeps its bracket).
# Quotes, brackets, =, | and backslashes enclose or join a field in every export; the name detector takes these
# alone (after a role word a comma is prose), identifiers take commas and # too.
ENCLOSING_CHARS = "\"'“”‘’「」『』【】〔〕\\[\\]()（）<>=|｜\\\\"
FRAME_CHARS = ENCLOSING_CHARS + ",，#＃"
_FRAME_RUN = rf"(?:[\s:：{FRAME_CHARS}]|</?[A-Za-z][A-Za-z0-9]{{0,5}}>){{0,8}}?"
FRAMED_SEP = rf"\s*(?:为|是|系)?{_FRAME_RUN}(?:(?:No|NO|no)\.?\s*)?[\s:：#＃]*"
# A key of a table or JSON (a pinyin column name) needs a frame character after it: zyh alone is no label.
KEY_SEP = rf"(?=[\s:：]*[:：{FRAME_CHARS}]){FRAMED_SEP}"
RECORD_KEY = rf"(?<![A-Za-z])(?=[A-Za-z])(?i:{words_pattern(RECORD_KEYS)})(?![A-Za-z])"

# Messaging accounts: 微信号：wxid_ab12cd, QQ: 123456789, WeChat ID: ..., {"微信": "..."}; the English words in any
# case, never inside a word (qqmail, wechatpay are not labels).
# (a substring of every label, lower case: the residual scan's cheap test before its pattern)
CONTACT_WORDS = ("微信", "钉钉", "wechat", "weixin", "qq", "skype", "whatsapp", "telegram", "line")
CONTACT_KEYS = ("wxh", "qqh")  # pinyin column names: 微信号, QQ号
CONTACT_LABEL = (r"(?:微信|钉钉|(?<![A-Za-z])(?=[A-Za-z])(?i:wechat|weixin|qq|skype|whatsapp|telegram|line[\s_]*id))"
                 r"(?:号码|号|账号|帐号|(?i:[\s_-]*(?:id|no\.?|number|account|acct)))?(?![A-Za-z])")
CONTACT_KEY = rf"(?<![A-Za-z])(?=[A-Za-z])(?i:{words_pattern(CONTACT_KEYS)})(?![A-Za-z])"
# Before a value of letters only: an explicit colon, = or 为 / 是 (`WeChat users` and `QQ Music` stay words).
EXPLICIT_SEP = rf"\s*(?:(?:为|是)[\s{FRAME_CHARS}]*|[\s{FRAME_CHARS}]*[：:=][\s{FRAME_CHARS}]*)"

# Dates of birth and passports: English labels and pinyin keys (the Chinese labels are the detectors' own).
EN_DOB_LABEL = (r"(?<![A-Za-z])(?=[A-Za-z])(?i:d\.?o\.?b\.?|date[\s_-]*of[\s_-]*birth|birth[\s_-]*date|birthdate|"
                r"birthday|csrq)(?![A-Za-z])")
EN_PASSPORT_LABEL = (r"(?<![A-Za-z])(?=[A-Za-z])(?i:passport(?:[\s_.-]*(?:number|num|no|id)(?![A-Za-z])\.?)?|hzh|hzhm)(?![A-Za-z])")
# A record number after an English label or a pinyin key: 5 characters and 4 digits at least (`Case No. 12`,
# `Patient ID: P001` in general instructions stay), with no script's digits but ASCII.
EN_RECORD_VALUE = r"(?=(?:[A-Za-z-]*[0-9]){4})[A-Za-z0-9][A-Za-z0-9-]{4,24}(?![A-Za-z0-9])"

# Phones: a mobile or a landline with its area code is one by its shape; a bare 7-8 digit local number only after
# one of these labels (电话：62345678, {"电话": "62345678"}, Phone: 6234 5678; Tel, Telephone, Phone and Mobile in
# any case, never inside a word: hotel 62345678 is no phone).
PHONE_LABEL = (r"联系电话|电话号码|电话|手机号码|手机号|手机|座机|联系方式|拨打|致电"
               r"|(?<![A-Za-z])(?=[A-Za-z])(?i:tel|telephone|phone|mobile)(?:\.|(?![A-Za-z]))")
