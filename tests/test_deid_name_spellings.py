"""Names written the way real records write them, which read as no name before (the 2026-12-02 attack set,
tests/support/plant_identities.attack_menu): a space or an invisible character inside a labelled name,
traditional characters, transliterated (Uyghur, Kazakh, Mongolian, foreign) names joined by a middle dot; and
the text that must stay as it is beside them. The real-text check skips without ../shared/data."""

from __future__ import annotations

import pytest

from cmedins.deid.normalise import fold
from cmedins.deid.simplified import holds_traditional, simplify
from tests.support.plant_identities import planted_corpus
from tests.test_deid_real import uncovered


@pytest.mark.parametrize(("text", "expected"), [
    # a space, an ideographic space, a zero-width space or a NUL between surname and given name
    ("姓名：翟 博涛。为进一步治疗收入院。", "姓名：<姓名>。为进一步治疗收入院。"),
    ("患者申\u3000千春，男，52岁，因咳嗽3天入院。", "患者<姓名>，男，52岁，因咳嗽3天入院。"),
    ("既往体健。姓名：汤\u200b琳雨。", "既往体健。姓名：<姓名>。"),
    ("姓名：张\x00三，男，45岁。", "姓名：<姓名>，男，45岁。"),
    ("姓名：欧阳  英梓。", "姓名：<姓名>。"),
    ("姓名：祝 文颖。", "姓名：<姓名>。"),  # a surname that is mostly a function word, after a label
    # the real-text benchmark's leaks of 2026-12-04: a spaced name with the sex after it, a word as the given name
    ("支气管炎收入院。患者祝 文颖，男，52岁", "支气管炎收入院。患者<姓名>，男，52岁"),
    ("睡眠及二便正常。患者徐 海，男，52岁", "睡眠及二便正常。患者<姓名>，男，52岁"),  # 徐海 is a place
    ("余未见明显异常。患者尚  生，男，52岁", "余未见明显异常。患者<姓名>，男，52岁"),
    ("隐痛10天。\n姓名：葉 強強。\n体格检查", "隐痛10天。\n姓名：<姓名>。\n体格检查"),
    # a function-word surname, then a frequent character, before a title
    ("患者为中老年男性。常玉雪同志。2.主", "患者为中老年男性。<姓名>同志。2.主"),
    ("4。13：20入院。祝道华同志。", "4。13：20入院。<姓名>同志。"),  # not 祝道<姓名>同志
    ("，饮食睡眠二便正常。向国兴医生建议复查", "，饮食睡眠二便正常。<姓名>医生建议复查"),
    ("今天还可以吃吗？经于远瑶主任医师查房", "今天还可以吃吗？经<姓名>主任医师查房"),
    ("有事情吗。罗光宏和向光旺医师共同查看", "有事情吗。<姓名>和<姓名>医师共同查看"),
    ("同意出院。已电话联系尚红永。", "同意出院。已电话联系<姓名>。"),  # or after a contact verb, to a clause end
    # the fourth blind set's leaks (tests/support/plant_identities.blind4_menu)
    ("肾功能无异常。王芳之母代诉病史。", "肾功能无异常。<姓名>之母代诉病史。"),
    ("本人王芳同意手术。", "本人<姓名>同意手术。"),
    ("住院医师刘刚冬、主治医师常怡生查房。", "住院医师<姓名>、主治医师<姓名>查房。"),
    ("上级医师向鑫庆查看患者后指示。", "上级医师<姓名>查看患者后指示。"),
    ("监护人：高敏蕾（父亲）。给予静点", "监护人：<姓名>（父亲）。给予静点"),  # a word (高敏) in a field
    ("审核医师：白薇春。咳嗽症状未治疗", "审核医师：<姓名>。咳嗽症状未治疗"),  # a herb (白薇) in a field
    ("麻醉医师：包涵 手术医师：郑凤云。", "麻醉医师：<姓名> 手术医师：<姓名>。"),
    ("记录者：王芳芳芳。", "记录者：<姓名>。"),
    # the held-out blind4 frames (measured once at 46% of names leaked, then these rules)
    ("其姑姑王芳陪同来院。", "其姑姑<姓名>陪同来院。"),
    ("出院小结由王芳书写。", "出院小结由<姓名>书写。"),
    ("手术由李建国完成。", "手术由<姓名>完成。"),
    ("联系电话略（王芳）。", "联系电话略（<姓名>）。"),
    ("张建国（与患者关系：夫妻）", "<姓名>（与患者关系：夫妻）"),
    ("查体配合。王芳说：头痛好些了。", "查体配合。<姓名>说：头痛好些了。"),
    # blind5's frames (measured once at 47.9% of names leaked, then these rules)
    ("入院。张建国的孩子。", "入院。<姓名>的孩子。"),
    ("入院。张建国为患者长子。", "入院。<姓名>为患者长子。"),
    ("入院。王芳（医务科）。", "入院。<姓名>（医务科）。"),
    ("入院。王芳，66岁，农民。", "入院。<姓名>，66岁，农民。"),
    ("病情平稳。向王芳交代病情。与李建国沟通后。", "病情平稳。向<姓名>交代病情。与<姓名>沟通后。"),
    ("感谢王芳医生。", "感谢<姓名>医生。"),
    ("通知王芳及时复诊。", "通知<姓名>及时复诊。"),
    ("无亢进。王建国、李文静两位医生参与抢救", "无亢进。<姓名>、<姓名>两位医生参与抢救"),
    ("由王芳、李娜陪同来院", "由<姓名>、<姓名>陪同来院"),
    # blind6's frames (measured once at 52.5% of names leaked, then these rules)
    ("病情平稳。王芳电话13812345678", "病情平稳。<姓名>电话<电话>"),
    ("病情平稳。王芳 138 1234 5678", "病情平稳。<姓名> <电话>"),
    ("病情平稳。\n王芳 2023年5月6日", "病情平稳。\n<姓名> <日期>"),
    ("手术组：王芳、李建国。", "手术组：<姓名>、<姓名>。"),
    ("3床王芳，今日出院。", "3床<姓名>，今日出院。"),
    ("今日王芳来院探视。入院时李建国神志清楚。应张伟要求转院。",
     "今日<姓名>来院探视。入院时<姓名>神志清楚。应<姓名>要求转院。"),
    # blind7's frames (measured once at 54.3% of names leaked, then these rules)
    ("病情平稳。王芳系患者邻居，发现患者倒地后送来", "病情平稳。<姓名>系患者邻居，发现患者倒地后送来"),
    ("病情平稳。王芳为我院职工家属。", "病情平稳。<姓名>为我院职工家属。"),
    ("病情平稳。王芳、李建国夫妇陪同就诊。", "病情平稳。<姓名>、<姓名>夫妇陪同就诊。"),
    ("电话随访，接听者王芳。据邻居李建国反映。", "电话随访，接听者<姓名>。据邻居<姓名>反映。"),
    ("目前与王芳同住。自述与李建国发生争执后出现胸闷。", "目前与<姓名>同住。自述与<姓名>发生争执后出现胸闷。"),
    ("王芳，我是你的主治医生。", "<姓名>，我是你的主治医生。"),
    ("您好王芳先生。尊敬的李建国：", "您好<姓名>先生。尊敬的<姓名>："),
    ("下午王芳护士发现患者呼吸急促。", "下午<姓名>护士发现患者呼吸急促。"),
    ("病情平稳。王芳问能否明天出院。", "病情平稳。<姓名>问能否明天出院。"),
    # blind8's frames (measured once at 71.1% of names leaked, then these rules)
    ("病情平稳。患者由王芳背来急诊。住院费用由李建国支付。", "病情平稳。患者由<姓名>背来急诊。住院费用由<姓名>支付。"),
    ("病情平稳。同病房王芳诉患者夜间呓语。", "病情平稳。同病房<姓名>诉患者夜间呓语。"),
    ("病情平稳。王芳与其子李建国同来。", "病情平稳。<姓名>与其子<姓名>同来。"),
    ("病情平稳。夜班王芳巡视病房时发现。已与李建国商议后决定保守治疗。",
     "病情平稳。夜班<姓名>巡视病房时发现。已与<姓名>商议后决定保守治疗。"),
    ("病情平稳。移交给王芳继续治疗。已加李建国微信随访。", "病情平稳。移交给<姓名>继续治疗。已加<姓名>微信随访。"),
    ("医生：今天感觉怎么样？\n王芳：好的，谢谢大夫。", "医生：今天感觉怎么样？\n<姓名>：好的，谢谢大夫。"),
    ("建议门诊随诊。\n王芳\n", "建议门诊随诊。\n<姓名>\n"),
    # the same in a CRLF record, and a space between a clause-initial name and its cue
    ("建议门诊随诊。\r\n王芳\r\n", "建议门诊随诊。\r\n<姓名>\r\n"),
    ("病情平稳。王芳 系患者邻居。李建国\u3000诉头痛。", "病情平稳。<姓名> 系患者邻居。<姓名>\u3000诉头痛。"),
    # a person noun known by its last character before a name (记者, 检察官, 获得者), then a clause end or a verb
    ("新华社北京电（记者胡喆）。金牌获得者蒋昕桦，曾因成绩不理想。",
     "新华社北京电（记者<姓名>）。金牌获得者<姓名>，曾因成绩不理想。"),
    # blind9's frames (measured once at 84.5% of names leaked, then these rules)
    ("病情平稳。药师王芳核对处方后发药。民警李建国将患者送至我院。", "病情平稳。药师<姓名>核对处方后发药。民警<姓名>将患者送至我院。"),
    ("病情平稳。班主任王芳反映患儿上课注意力不集中。供血者李建国，血型A型。",
     "病情平稳。班主任<姓名>反映患儿上课注意力不集中。供血者<姓名>，血型A型。"),
    ("病情平稳。麻醉由王芳实施。图片由李建国拍摄。", "病情平稳。麻醉由<姓名>实施。图片由<姓名>拍摄。"),
    ("病情平稳。特别感谢王芳的悉心照料。", "病情平稳。特别感谢<姓名>的悉心照料。"),
    ("修补术。上官兰萍（与患者关系：夫妻）。", "修补术。<姓名>（与患者关系：夫妻）。"),  # 上官 is no person noun
    ("病情平稳。检查医师/王芳。患者自称“李建国”。", "病情平稳。检查医师/<姓名>。患者自称“<姓名>”。"),
    ("病情平稳。参与抢救的有王芳，李建国，张伟。", "病情平稳。参与抢救的有<姓名>，<姓名>，<姓名>。"),
    ("病情平稳。王芳爸爸说孩子昨晚发烧。", "病情平稳。<姓名>爸爸说孩子昨晚发烧。"),
    # traditional characters (Hong Kong, Taiwan, older records)
    ("患者張偉，男，45歲，因胸痛2小時入院。", "患者<姓名>，男，45歲，因胸痛2小時入院。"),
    ("主治醫師：羅蘭興。", "主治醫師：<姓名>。"),
    ("家屬萬志玲陪同就診。", "家屬<姓名>陪同就診。"),
    ("姓名：鄧靜華　性別：女　年齡：63歲", "姓名：<姓名>　性別：女　年齡：63歲"),
    # transliterated names joined by a middle dot or its look-alikes
    ("患者买买提·吐尔逊，男，38岁，主因发热入院。", "患者<姓名>，男，38岁，主因发热入院。"),
    ("家属努尔•古丽米热陪同。心界不大。", "家属<姓名>陪同。心界不大。"),
    ("家属吾守尔‧其木格陪同。", "家属<姓名>陪同。"),
    ("阿依古丽・买买提（患者之女）签字。", "<姓名>（患者之女）签字。"),
    ("姓名：热依拉．阿不都", "姓名：<姓名>"),
    ("患者努尔．吾守尔，男，38岁。", "患者<姓名>，男，38岁。"),
    ("托合提．艾力（患者之子）签字。", "<姓名>（患者之子）签字。"),
    # names in Latin letters: pinyin in either order and case, Cantonese spellings, a title
    ("患者Zhang Wei，男，45岁，因胸痛入院。", "患者<姓名>，男，45岁，因胸痛入院。"),
    ("姓名：LIU Xiaoming　性别：男", "姓名：<姓名>　性别：男"),
    ("Patient: Wei Zhang, female, 52y, chest pain for 2 days.", "Patient: <姓名>, female, 52y, chest pain for 2 days."),
    ("Name: Chan Tai Man", "Name: <姓名>"),
    ("主治医师：Dr. Sun。", "主治医师：Dr. <姓名>。"),
    ("患者Zhang Wei，男，45岁。Zhang Wei诉胸痛。", "患者<姓名>，男，45岁。<姓名>诉胸痛。"),
    # quotes and brackets after a label, a slash-separated header, surgery-record labels, a split name
    ("姓名【王芳】，性别【女】", "姓名【<姓名>】，性别【女】"),
    ("姓名：『王芳』", "姓名：『<姓名>』"),
    ("王芳/女/45岁/农民", "<姓名>/女/45岁/农民"),
    ("主刀：李明 助手：王芳 麻醉：张伟", "主刀：<姓名> 助手：<姓名> 麻醉：<姓名>"),
    ("患者姓王，名建国，男，60岁。", "患者姓<姓名>，名<姓名>，男，60岁。"),
    ("患者王-芳，女，45岁", "患者<姓名>，女，45岁"),
    # a surname with a title: the title stays, as after a full name (<姓名>主任医师)
    ("李教授认为应手术治疗。", "<姓名>教授认为应手术治疗。"),
    ("张主任查房后指出切口愈合好。", "<姓名>主任查房后指出切口愈合好。"),  # 张 at the text's start
    ("经李院长同意后手术。", "经<姓名>院长同意后手术。"),
    ("张教授和李主任会诊。", "<姓名>教授和<姓名>主任会诊。"),
    # the second blind set's leaks (tests/support/plant_identities.blind2_menu)
    ("陪诊人邵琳。查体：BP 120/80mmHg", "陪诊人<姓名>。查体：BP 120/80mmHg"),
    ("患者（Meng Zhiqiang）。现主症：发热", "患者（<姓名>）。现主症：发热"),
    ("Name: Le-I Zeng", "Name: <姓名>"),
    # a name found once is masked where the record writes it again, in any spelling the rules read
    ("患者努尔．吾守尔，男，38岁。吾守尔诉头痛3天。", "患者<姓名>，男，38岁。<姓名>诉头痛3天。"),
    ("患者張偉，男，45岁。张伟诉胸痛。", "患者<姓名>，男，45岁。<姓名>诉胸痛。"),
    ("患者Zhang Wei，男，45岁。ZHANG WEI诉胸痛。", "患者<姓名>，男，45岁。<姓名>诉胸痛。"),
    ("主治医师：Dr. Sun。Sunday复查。", "主治医师：Dr. <姓名>。Sunday复查。"),  # one Latin word is not spread
    # a new user's spellings after the session's fixes
    ("姓名：zhang wei，男", "姓名：<姓名>，男"),
    ("患者 Zhang  Wei，男，45岁", "患者 <姓名>，男，45岁"),
    ("患者：买买提 · 吐尔逊，男，38岁", "患者：<姓名>，男，38岁"),
    # names after 叫 in patients' own words
    ("我老公叫刘强，今年45岁，最近总是头晕。", "我老公叫<姓名>，今年45岁，最近总是头晕。"),
    ("病人名字叫李小龙，今年45岁", "病人名字叫<姓名>，今年45岁"),
    # a part of a found dotted name is the same person later in the record
    ("患者买买提·吐尔逊，男，38岁。买买提诉头痛3天。", "患者<姓名>，男，38岁。<姓名>诉头痛3天。"),
    # a given name that is a rare distinguishing word in the dictionary (二小, 嫣然, 永生: tagged b) is whole
    ("患者王二小，男，5岁，因发热2天入院。", "患者<姓名>，男，5岁，因发热2天入院。"),
    ("家属王二小陪同就诊，诉患儿咳嗽3天。", "家属<姓名>陪同就诊，诉患儿咳嗽3天。"),
    ("患者王嫣然，女，25岁，主诉腹痛1天。", "患者<姓名>，女，25岁，主诉腹痛1天。"),
    ("患者李永生，男，60岁，因胸闷1周入院。", "患者<姓名>，男，60岁，因胸闷1周入院。"),
    ("患者王二小，男，5岁。王二小诉头痛。", "患者<姓名>，男，5岁。<姓名>诉头痛。"),
    ("患者王二小时前出现腹痛。", "患者<姓名>小时前出现腹痛。"),  # 小时 is a word: the given name stops before it
])
def test_names_in_real_spellings_are_masked(deid_engine, text, expected):
    assert deid_engine.deidentify(text)[0] == expected


@pytest.mark.parametrize("text", [
    "患者高 热，体温39℃。",  # spaced clinical words after a role word
    "患者高 热，男，52岁",  # ... with the sex after them
    "。由管床医生查房，由值班医生处理。",  # a verb after a function-word surname before a title
    "。向主治医生咨询，和主管医生沟通。",  # a word after it
    "已电话联系尚未成功。电话联系尚可。告知常规复查。已电话联系常年在外的儿子。",
    "本人女，30岁。本人高血压5年，本人白天上班，本人于2020年手术，本人平时身体好。",  # 本人 before no name
    "总之母乳喂养好。",
    "患者：高烧三天。患者：白天咳嗽。家属：高兴。\n医生：常规检查\n",  # a dialogue's speakers, then speech
    "儿子：谢谢爸爸！",
    "神经和韧带的损伤，痛经甘露丸治疗，主要是由于微波治疗后创面大。",  # 经 and 由 inside words
    "如果您的祖父母最近有高血压。我的侄女和侄子。",
    "目前国内患病总人数已达172万人，55岁以上人群患病率近1％。怀孕13周时,6岁的女儿得了水痘。",
    "但幼小的孩子食用时注意鱼刺。纪念我的父亲。",
    "肺炎（呼吸科）。高血压（心内科）。向患者交代病情。感谢常规治疗。",
    "谢谢您了大夫。谢谢您大夫。",
    "左肾盂\t189\t191\t身体部位",  # an annotation line's offsets are no phone
    "。高血压 2023年确诊。3床高热，血压130/80。。白细胞 12000",
    "今日高热不退，入院时神志清楚，按时复查，应高度重视，遵医嘱复查，今日常规复查，今日白细胞出现下降。",
    "主治医师于是查房。医师常规查房。主治医师向患者家属交代病情。",
    "患者周 身乏力，纳差。",
    "患者于 今日入院。",
    "姓名：张 性别：男",  # the header word after the space is no given name
    "患者头晕.恶心，伴呕吐。",  # a full stop ending a sentence between Han characters
    "医院都正常．主治医生告诉我没事",
    "如今脚麻·疼，怎么办",
    "酒吧·鸡尾酒",
    "抗菌消炎·调理脾胃吸收功能",
    "是埃隆·马斯克的公司",  # a public figure with no person context
    "艾伦·瓦茨（Alan Watts）是一位哲学家",  # a bracket with the original spelling is no kinship bracket
    "乾燥綜合征患者應注意口腔衛生。",  # traditional clinical text: nothing to mask
    "建议行MRCP检查，MSTN基因突变，iptables -j DROP",  # capitals glued to a title are no title
    "Patient: Female, 45 years old",  # no name after the label
    "患者CT示右肺结节，MRI未见异常。",
    "叫醒患者后测血压。",
    "姓名：not available",  # lower case after a label needs a romanised surname
    "在局部麻醉下行清创术，麻醉满意，手术顺利。",
    "患者姓名不详。",
    "血压120/80mmHg，男/女比例1:1",
    "患者现住院治疗，病情平稳。",  # 现 + 住院: not the address label 现住
    "医院提供陪诊服务，护工费用另计。",
    "北京大学医学部教授指出，医学院院长致辞。",  # a title after an institution, not after a surname
    "清华教授认为",  # 清华: the surname character ends a word
    "患者（COPD）急性加重期",  # capitals in brackets after a role word: no romanised surname
    # numbers and distinguishing words after a role word, where a function-word surname could start a name
    "患者二小时前出现腹痛，伴呕吐。",
    "患者于二小时前出现腹痛，于二期行手术。",
    "患者为重型颅脑损伤，予甲型流感疫苗。",
    "患者于临产前破膜，单个结节。",
    # beside blind7's rules, from the precision diff over ../shared/data: foods and drugs joined by 和/与, particles
    # after a greeting or before an addressed clause, a word before a comma, 被 before a verb
    "可以用健脑补肾丸和谷维素治疗。我妈妈把天麻和羊脑一起炖可以吗。每天冷敷和冷喷治疗。",
    "大家对于微波治疗宫颈炎有了一定的了解。",
    "您好严重吗？明白了，你说得对。相反地，你可以。一个元组，您可以使用。",
    "被关进精神病院。直到Promise被解析或拒绝。",
    "朋友来接。和朋友谈谈心。我们所有的邻居都醒了。",
    "今日高热，下午常规复查，上午白细胞下降。",
    # beside blind8's rules: a short text that is one term, a list of terms one per line, a heading then a list or a
    # formula, a letter's closing, a kinship word after 与其
    "鹿角霜", "温针灸",
    "辅助检查\n平扫期\n动脉期\n门脉期",
    "甘特图：\n任务 开始日\n解得：x = 24",
    "此致\n敬礼\n",
    "会具有与其父母相同的特征。",
    # beside that rule: a conjunction, a verb or a word ending in a person character, a function-word surname after it
    "平底鞋或者高帮鞋。出现任何不适。建立信任和尊重。笔者曾见1例。研究者利用基因改造。提高驾驶员安全性。",
    "这是由谷歌提供的合法电子邮件。",  # a company that provides something
])
def test_text_beside_those_spellings_stays(deid_engine, text):
    assert deid_engine.deidentify(text)[0] == text


def test_traditional_view_keeps_length_and_offsets():
    text = "患者張偉，男，45歲。主治醫師：羅蘭興。\u200b"
    view = fold(text)
    assert len(view) == len(text)
    assert view.startswith("患者张伟，男，45岁。主治医师：罗兰兴。")
    assert holds_traditional(text) and not holds_traditional(view)
    assert simplify("高血压3年") == "高血压3年"  # simplified text is its own view


def test_prefilter_folds_traditional_text(deid_engine):
    # A text holding no other fold trigger must still be read in its simplified view (the Hyperscan pass cannot
    # hold the traditional class, so the prefilter asks simplified.holds_traditional).
    from cmedins.deid.prefilter import Prefilter

    folded, _ = Prefilter([]).folded("家屬萬志玲陪同就診")
    assert folded == "家属万志玲陪同就诊"


def test_attack_names_rarely_leak_on_planted_real_text(deid_engine, shared_data):
    corpus = planted_corpus(shared_data, seed=23, limit=700, menu="attack")
    findings = deid_engine.analyze_many([item.text for item in corpus])
    leaked = total = 0
    for item, found in zip(corpus, findings, strict=True):
        for span in item.planted:
            if span.entity_type == "PERSON":
                total += 1
                leaked += bool(uncovered(item.text, span.start, span.end, found))
    assert total > 300 and leaked / total <= 0.02, (leaked, total)  # 99% leaked before (cf43626)
