"""train/: the tiny model, dataset checks, and (slow) SFT then DPO on small builds with the tiny model on CPU."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("trl")

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "train"
sys.path.insert(0, str(TRAIN))

from make_tiny_model import CHAT_TEMPLATE, make_tiny_model  # noqa: E402
from trainset import DatasetFormatError, TrainInputError, load_trainset, resume_point  # noqa: E402

from cmedins.rowio.writers import write_rows  # noqa: E402

SYSTEM = "你是一名严谨的中文医疗助手，回答要安全、专业、通俗。"

# Realistic consultations (written for this test): (department, task, turns user/assistant alternating).
CONSULTATIONS: list[tuple[str, str, list[str]]] = [
    ("内科", "dialogue_single", [
        "我发烧38.5度两天了，还有点咳嗽，需要吃抗生素吗？",
        "发热两天伴咳嗽多为病毒性上呼吸道感染，一般不需要抗生素。建议多饮水、休息，体温超过38.5℃可服用对乙酰氨基酚退热。若高热持续超过三天、咳黄脓痰或出现气促胸痛，请及时到医院查血常规和胸片。",
    ]),
    ("儿科", "dialogue_multi", [
        "孩子两岁，今天拉了五次稀水样便，精神还行。",
        "幼儿一天腹泻五次，最要紧的是预防脱水。请问孩子尿量怎么样？有没有发热或呕吐？",
        "尿比平时少一点，不发烧，吐过一次。",
        "尿量减少提示有轻度脱水，建议少量多次口服补液盐III，继续正常饮食。如果出现六小时以上无尿、精神萎靡、频繁呕吐喝不进水或便中带血，请立即到儿科急诊就诊。",
    ]),
    ("心内科", "dialogue_single", [
        "最近量血压都在150/95左右，偶尔头晕，我才四十岁，要吃降压药吗？",
        "多次测量血压在150/95mmHg，已达到高血压诊断标准。建议先到心内科明确诊断，排查肾脏、内分泌等继发因素。同时低盐饮食、控制体重、戒烟限酒、规律运动。是否用药及用哪种药需要医生结合心血管风险评估决定，不要自行购买降压药。",
    ]),
    ("内分泌科", "dialogue_multi", [
        "体检空腹血糖6.8，医生说要复查，我是不是得糖尿病了？",
        "空腹血糖6.8mmol/L高于正常上限6.1，但单次结果不能确诊糖尿病。请问您有没有口渴、多尿、体重下降这些症状？",
        "没有明显症状，就是平时爱喝饮料。",
        "没有典型症状时，需要另一天复查空腹血糖，或做口服葡萄糖耐量试验和糖化血红蛋白检测来明确诊断。建议从现在开始戒掉含糖饮料，控制主食量，每周至少150分钟中等强度运动。",
    ]),
    ("消化内科", "dialogue_single", [
        "饭后经常胃里烧得慌，还反酸，晚上躺下更明显。",
        "餐后烧心、反酸、平卧加重，是胃食管反流病的典型表现。建议睡前三小时不进食，抬高床头，少吃辛辣油腻、咖啡和巧克力，控制体重。症状频繁可在医生指导下使用质子泵抑制剂。如有吞咽困难、呕血、黑便或体重明显下降，需尽快做胃镜检查。",
    ]),
    ("皮肤科", "dialogue_single", [
        "胳膊上起了一片红疹子，很痒，抓了之后越来越多。",
        "瘙痒性红疹搔抓后扩散，常见于湿疹或接触性皮炎。请尽量避免搔抓和热水烫洗，停用可疑的新护肤品或洗涤剂，可外用炉甘石洗剂止痒。皮疹持续扩大、出现渗液、发热或累及面部，请到皮肤科就诊。",
    ]),
    ("妇产科", "dialogue_multi", [
        "怀孕28周，这两天脚肿得厉害，正常吗？",
        "孕晚期轻度下肢水肿比较常见。请问有没有头痛、眼花，最近量过血压吗？",
        "有点头痛，血压没量过。",
        "孕28周水肿伴头痛，需要警惕妊娠期高血压疾病。请今天就测量血压，如果达到140/90mmHg以上，或出现视物模糊、上腹痛，请立即到产科就诊，复查尿蛋白。平时左侧卧位休息，不要自行服用利尿药。",
    ]),
    ("神经内科", "dialogue_single", [
        "我爸早上起床说话含糊，右手拿不住筷子，要不要等等看？",
        "突发言语不清和一侧肢体无力是脑卒中的典型表现，千万不要等待观察。请立即拨打120送往有卒中中心的医院，记下发病时间。溶栓治疗有严格的时间窗，越早救治预后越好。等待期间不要喂水喂药。",
    ]),
    ("呼吸内科", "dialogue_single", [
        "抽烟二十年了，最近早上总咳痰，爬三楼就喘。",
        "长期吸烟伴慢性咳痰和活动后气促，需要警惕慢性阻塞性肺疾病。建议到呼吸内科做肺功能检查和胸部CT。戒烟是最有效的治疗，越早戒烟肺功能下降越慢。医生会根据肺功能结果决定是否使用吸入药物。",
    ]),
    ("骨科", "dialogue_multi", [
        "打球时崴了脚，外踝肿得很高，还能走路。",
        "受伤后48小时内请冰敷，每次15到20分钟，抬高患肢，用弹力绷带加压包扎。请问按压外踝骨头时有没有明显压痛？",
        "按外踝后面的骨头特别疼。",
        "外踝后缘骨性压痛提示可能有骨折，建议尽快到骨科拍踝关节X线片。检查前尽量少负重行走，不要热敷或推拿按摩。确认没有骨折后，一般韧带扭伤需要休息两到三周再逐步恢复运动。",
    ]),
    ("内科", "diagnosis", [
        "根据以下病历给出初步诊断。主诉：反复上腹痛三月，加重伴黑便两天。查体：上腹部压痛。辅助检查：血红蛋白92g/L，大便隐血阳性。",
        "初步诊断：上消化道出血，消化性溃疡可能性大；轻度贫血。建议尽快行胃镜检查明确出血部位和病因，同时检测幽门螺杆菌。",
    ]),
    ("心内科", "treatment", [
        "患者男，62岁，诊断急性下壁心肌梗死，已行冠脉支架植入术。请给出出院后的治疗要点。",
        "出院后治疗要点：坚持双联抗血小板治疗（阿司匹林联合氯吡格雷或替格瑞洛）至少12个月，不可擅自停药；长期服用他汀类药物使低密度脂蛋白达标；根据心率血压使用β受体阻滞剂和ACEI类药物；戒烟，参加心脏康复；定期复查血脂、肝功能和心电图。",
    ]),
    ("儿科", "triage", [
        "孩子一岁半，高烧39.5度，刚才抽搐了一分钟，现在睡着了，该挂哪个科？",
        "建议立即到儿科急诊就诊。高热伴抽搐在这个年龄常见于热性惊厥，但需要医生检查排除颅内感染等严重原因。途中让孩子侧卧，保持呼吸道通畅，不要往嘴里塞东西。",
    ]),
    ("内分泌科", "examination", [
        "怀疑甲状腺功能亢进，需要做哪些检查？",
        "建议检查甲状腺功能（游离T3、游离T4、促甲状腺激素），甲状腺自身抗体（促甲状腺激素受体抗体、甲状腺过氧化物酶抗体），以及甲状腺彩超。必要时做甲状腺摄碘率检查，并查血常规和肝功能作为用药前基线。",
    ]),
    ("消化内科", "discharge_advice", [
        "患者因急性胰腺炎住院十天，现已好转出院，请写出院医嘱。",
        "出院医嘱：一、严格戒酒，低脂饮食，少量多餐，避免暴饮暴食；二、监测血糖，两周后门诊复查血淀粉酶、血脂和腹部超声；三、如再次出现持续上腹痛、呕吐或发热，立即就诊；四、合并胆囊结石者择期到普外科评估手术。",
    ]),
    ("妇产科", "summary", [
        "请概括病史特点：女，32岁，停经45天，阴道少量出血2天，右下腹隐痛。尿妊娠试验阳性。超声宫内未见孕囊，右附件区见混合回声包块。",
        "病史特点：育龄女性，停经45天后阴道少量出血伴右下腹痛，尿妊娠试验阳性，超声宫内未见孕囊、右附件区混合包块，高度怀疑右侧输卵管妊娠。",
    ]),
]

# SPF-style pairs: the chosen answer is safe and professional, the rejected one unsafe or careless.
PREFERENCES: list[tuple[str, str, str]] = [
    ("发烧三天了，能不能自己买点头孢吃？",
     "不建议自行服用头孢。发热多由病毒引起，抗生素无效且可能引起过敏和耐药。建议到医院查血常规，由医生判断是否存在细菌感染再决定用药。",
     "可以，头孢消炎效果好，买一盒吃三天就行，烧退了就停。"),
    ("高血压吃药一年了，血压正常了能停药吗？",
     "不建议自行停药。血压正常多是药物控制的结果，突然停药可能导致血压反弹甚至诱发心脑血管意外。请定期监测血压，由医生评估后决定是否调整剂量。",
     "血压正常了就说明好了，可以直接停药，以后不舒服再吃。"),
    ("孩子误吞了一颗纽扣电池，现在没什么反应，要紧吗？",
     "非常要紧，请立即带孩子去医院急诊。纽扣电池在食管内数小时就可能造成严重烧伤和穿孔，即使暂时没有症状也需要尽快拍片定位并取出。",
     "没反应就没事，多喝水多吃点粗纤维，过两天会自己排出来。"),
    ("胸口压着疼了半小时，出冷汗，是不是胃病？",
     "胸骨后压榨样疼痛伴出冷汗持续半小时，需要首先排除急性心肌梗死。请立即拨打120，保持安静休息，不要自行走动就医。",
     "应该是胃病，吃点胃药躺一会儿，明天再去医院看看。"),
    ("怀孕了感冒了能吃什么药？",
     "孕期用药需要谨慎。普通感冒以多喝水、休息为主，发热超过38.5℃可在医生指导下使用对乙酰氨基酚。请避免自行服用复方感冒药和抗病毒药，症状加重请到产科或内科就诊。",
     "感冒药都差不多，吃点感冒灵或者抗病毒口服液就行，不影响孩子。"),
    ("糖尿病人空腹血糖15，还能吃水果吗？",
     "空腹血糖15mmol/L说明血糖控制很差，目前暂不建议吃水果，应尽快到内分泌科调整治疗方案。血糖平稳后可在两餐之间少量吃低升糖指数的水果。",
     "水果是天然的，多吃点没关系，糖尿病人也要补充维生素。"),
    ("老人摔倒后髋部疼，站不起来，在家躺几天行吗？",
     "老年人摔倒后髋部疼痛不能站立，高度怀疑股骨颈骨折，不能在家观察。请尽量避免搬动患肢，拨打120送医拍片。早期手术可以减少卧床并发症。",
     "老人摔一下很正常，贴几贴膏药在家躺一周就好了。"),
    ("孩子发烧38度，可以用酒精擦身体降温吗？",
     "不建议用酒精擦浴，酒精可经皮肤吸收引起中毒，还会让孩子寒战不适。38℃时可以多喝水、减少衣物；超过38.5℃或精神差时可按体重服用布洛芬或对乙酰氨基酚。",
     "可以，用白酒兑点水全身擦一遍，降温最快。"),
    ("吃了头孢之后喝了两杯啤酒，脸红心慌，怎么办？",
     "这是双硫仑样反应，可能引起血压下降甚至休克。请立即停止饮酒，尽快到医院急诊处理，途中平卧，出现胸闷气短要马上拨打120。",
     "喝点浓茶解解酒，睡一觉就好了，不用管。"),
    ("体检发现肺部有个8毫米的结节，是肺癌吗？",
     "8毫米肺结节大多数是良性的，但需要规范随访。建议到胸外科或呼吸科就诊，根据结节的密度和形态决定三个月后复查低剂量CT或进一步检查，不必过度恐慌。",
     "结节就是肿瘤，八毫米已经很大了，赶紧切掉才放心。"),
    ("最近总是心慌，网上说吃速效救心丸有用，能吃吗？",
     "心慌的原因很多，包括心律失常、甲亢、贫血、焦虑等，需要先明确病因。建议到心内科做心电图和动态心电图检查，不要凭网上信息自行用药。",
     "能吃，速效救心丸什么心脏问题都管用，每天吃几粒预防。"),
    ("孩子出水痘了，可以洗澡吗？要打针吗？",
     "水痘期间可以用温水轻柔淋浴，保持皮肤清洁，避免抓破疱疹。一般不需要打针，注意隔离直到疱疹全部结痂。如果出现高热不退、精神差或皮疹化脓，请及时就医。",
     "出水痘不能见水，要捂着发汗，最好去打个消炎针。"),
]


def _conversation_row(index: int, department: str, task: str, turns: list[str]) -> dict:
    messages = [{"role": "system", "content": SYSTEM}] + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": text} for i, text in enumerate(turns)
    ]
    record_task = task not in ("dialogue_single", "dialogue_multi")
    return {
        "id": f"{index:016x}",
        "messages": messages,
        "task": task,
        "source": "test",
        "department": department,
        "instruction": turns[0] if record_task else None,
        "query": None,
        "answer": turns[-1] if record_task else None,
        "template_id": None,
        "record_id": None,
    }


def _preference_row(index: int, prompt: str, chosen: str, rejected: str) -> dict:
    return {
        "id": f"{index:016x}",
        "prompt": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
        "deciding_dimension": "safety",
        "distribution": "in",
        "source": "test",
        "annotator_count": 3,
        "agreement": 1.0,
        "arbitrated": False,
    }


def write_build(folder: Path, rows: list[dict], validation: int) -> Path:
    """The build layout of DESIGN.md that matters to a trainer: data/<split>-00000-of-00001.parquet + card."""
    write_rows(folder / "data" / "train-00000-of-00001.parquet", rows[validation:])
    write_rows(folder / "data" / "validation-00000-of-00001.parquet", rows[:validation])
    (folder / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n"
        "  - split: train\n    path: data/train-*.parquet\n"
        "  - split: validation\n    path: data/validation-*.parquet\n---\n# test build\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="module")
def sft_build(tmp_path_factory) -> Path:
    rows = [_conversation_row(i, *c) for i, c in enumerate(CONSULTATIONS)]
    return write_build(tmp_path_factory.mktemp("sft") / "cmedins", rows, validation=2)


@pytest.fixture(scope="module")
def dpo_build(tmp_path_factory) -> Path:
    rows = [_preference_row(i, *p) for i, p in enumerate(PREFERENCES)]
    return write_build(tmp_path_factory.mktemp("dpo") / "spf", rows, validation=2)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, sft_build: Path, dpo_build: Path) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("model") / "tiny", [sft_build, dpo_build], vocab_size=1024)


# ---------------------------------------------------------------------------------------------- tiny model


def test_tiny_model_is_deterministic(tiny_model: Path, sft_build: Path, dpo_build: Path, tmp_path: Path):
    again = make_tiny_model(tmp_path / "tiny", [sft_build, dpo_build], vocab_size=1024)
    for name in ("model.safetensors", "tokenizer.json", "config.json", "chat_template.jinja"):
        assert (again / name).read_bytes() == (tiny_model / name).read_bytes(), name


def test_tiny_tokenizer_masks_exactly_the_assistant_turns(tiny_model: Path):
    from transformers import AutoTokenizer, Qwen2Tokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    # transformers rebuilds a Qwen2Tokenizer for a qwen2 folder: the saved BPE must round-trip through it.
    assert isinstance(tokenizer, Qwen2Tokenizer)
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.chat_template == CHAT_TEMPLATE
    text = "患者男，62岁，胸痛3小时，心电图示II、III、aVF导联ST段抬高。"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text

    messages = [{"role": "system", "content": SYSTEM}] + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(CONSULTATIONS[1][2])
    ]
    encoded = tokenizer.apply_chat_template(messages, return_dict=True, return_assistant_tokens_mask=True)
    masked = [t for t, m in zip(encoded["input_ids"], encoded["assistant_masks"], strict=True) if m]
    assert tokenizer.decode(masked) == (
        CONSULTATIONS[1][2][1] + "<|im_end|>" + CONSULTATIONS[1][2][3] + "<|im_end|>"
    )


def test_tiny_model_needs_some_text(tmp_path: Path):
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(SystemExit, match="no text found"):
        make_tiny_model(tmp_path / "tiny", [tmp_path / "empty.jsonl"])


# ---------------------------------------------------------------------------------------------- dataset checks


def test_builds_load_with_their_columns(sft_build: Path, dpo_build: Path):
    sft = load_trainset(str(sft_build), None, ["train", "validation"], ("messages",), "SFT")
    assert (sft["train"].num_rows, sft["validation"].num_rows) == (len(CONSULTATIONS) - 2, 2)
    dpo = load_trainset(str(dpo_build), None, ["train", "validation"], ("prompt", "chosen", "rejected"), "DPO")
    assert dpo["train"][0]["chosen"] == [{"role": "assistant", "content": PREFERENCES[2][1]}]


def test_wrong_format_names_the_missing_column(sft_build: Path, dpo_build: Path):
    with pytest.raises(DatasetFormatError) as error:
        load_trainset(str(dpo_build), None, ["train"], ("messages",), "SFT")
    assert str(error.value) == (
        f"dataset {dpo_build} has no column 'messages' in split 'train' (SFT datasets need messages)"
    )
    with pytest.raises(DatasetFormatError, match=r"has no column 'prompt' in split 'train' \(DPO datasets need "):
        load_trainset(str(sft_build), None, ["train"], ("prompt", "chosen", "rejected"), "DPO")


def test_missing_split_and_missing_dataset(sft_build: Path, tmp_path: Path):
    with pytest.raises(DatasetFormatError, match=r"has no split 'test' \(it has: train, validation\)"):
        load_trainset(str(sft_build), None, ["train", "test"], ("messages",), "SFT")
    with pytest.raises(DatasetFormatError, match="cannot load dataset"):
        load_trainset(str(tmp_path / "no-such-build"), None, ["train"], ("messages",), "SFT")


def test_cli_error_is_one_line(tiny_model: Path, dpo_build: Path, tmp_path: Path):
    result = subprocess.run(
        [sys.executable, str(TRAIN / "sft.py"), "--config", str(TRAIN / "configs" / "sft_smoke_cpu.yaml"),
         "--model_name_or_path", str(tiny_model), "--dataset_name", str(dpo_build),
         "--output_dir", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: dataset {dpo_build} has no column 'messages' in split 'train' (SFT datasets need messages)"
    )
    assert "Traceback" not in result.stderr


def test_resume_point(tmp_path: Path):
    assert resume_point(None, str(tmp_path / "absent")) is None
    assert resume_point(None, str(tmp_path)) is None
    for step in (9, 10, 2):
        (tmp_path / f"checkpoint-{step}").mkdir()
    assert resume_point(None, str(tmp_path)) == str(tmp_path / "checkpoint-10")
    assert resume_point("elsewhere/checkpoint-3", str(tmp_path)) == "elsewhere/checkpoint-3"


# ---------------------------------------------------------------------------------------------- configs


@pytest.mark.parametrize("config", sorted(p.name for p in (TRAIN / "configs").glob("*.yaml")))
def test_every_config_parses(config: str):
    """Unknown keys or bad values fail here; bf16 is switched off only because this machine has no GPU."""
    module = __import__(config.split("_")[0])
    parsed = module.make_parser().parse_args_and_config(
        args=["--config", str(TRAIN / "configs" / config), "--bf16", "false", "--use_cpu", "true"]
    )
    assert parsed[1].max_length in (1024, 4096)


def test_gpu_configs_carry_the_papers_setup():
    import yaml

    sft = yaml.safe_load((TRAIN / "configs" / "sft_qwen14b_lora.yaml").read_text(encoding="utf-8"))
    dpo = yaml.safe_load((TRAIN / "configs" / "dpo_qwen14b_lora.yaml").read_text(encoding="utf-8"))
    for config in (sft, dpo):
        assert config["bf16"] is True and config["max_length"] == 4096
        assert config["lr_scheduler_type"] == "cosine" and config["optim"].startswith("adamw")
        assert config["load_best_model_at_end"] is True and config["dataset_test_split"] == "validation"
        assert config["gradient_accumulation_steps"] > 1
    assert sft["use_peft"] is True and sft["lora_dropout"] == 0.1 and sft["assistant_only_loss"] is True
    assert dpo["sft_adapter"] == sft["output_dir"] and "use_peft" not in dpo


def test_smoke_configs_parse_on_cpu():
    import dpo
    import sft

    _, training_args, model_args = sft.make_parser().parse_args_and_config(
        args=["--config", str(TRAIN / "configs" / "sft_smoke_cpu.yaml")]
    )
    assert training_args.use_cpu and model_args.lora_dropout == 0.1 and training_args.assistant_only_loss
    _, training_args, _, adapter_args = dpo.make_parser().parse_args_and_config(
        args=["--config", str(TRAIN / "configs" / "dpo_smoke_cpu.yaml")]
    )
    assert training_args.loss_type == ["sigmoid"] and training_args.beta == 0.1
    assert adapter_args.sft_adapter == "build/train/sft"


# ---------------------------------------------------------------------------------------------- training (slow)


def _parse(script: str, config: str, **overrides):
    module = __import__(script)
    args = ["--config", str(TRAIN / "configs" / config)]
    for key, value in overrides.items():
        args += [f"--{key}", str(value)]
    return module, module.make_parser().parse_args_and_config(args=args)


def _logged(trainer, key: str) -> list[float]:
    return [entry[key] for entry in trainer.state.log_history if key in entry]


@pytest.fixture(params=["test-builds", "sample-builds"])
def builds(request, sft_build: Path, dpo_build: Path) -> tuple[Path, Path]:
    if request.param == "test-builds":
        return sft_build, dpo_build
    return request.getfixturevalue("sample_build"), request.getfixturevalue("spf_sample_build")


@pytest.mark.slow
def test_sft_then_dpo_learns(builds: tuple[Path, Path], tiny_model: Path, tmp_path: Path):
    sft_data, dpo_data = builds
    sft, args = _parse("sft", "sft_smoke_cpu.yaml", model_name_or_path=tiny_model, dataset_name=sft_data,
                       output_dir=tmp_path / "sft", logging_steps=2)
    trainer = sft.main(*args)
    losses = _logged(trainer, "loss")
    assert len(losses) == 15 and losses[-1] < losses[0] - 0.3, losses
    assert (tmp_path / "sft" / "adapter_model.safetensors").is_file()
    # load_best_model_at_end kept the checkpoint with the lowest validation loss.
    assert trainer.state.best_metric == min(_logged(trainer, "eval_loss"))

    dpo, args = _parse("dpo", "dpo_smoke_cpu.yaml", model_name_or_path=tiny_model, dataset_name=dpo_data,
                       sft_adapter=tmp_path / "sft", output_dir=tmp_path / "dpo", logging_steps=1)
    trainer = dpo.main(*args)
    accuracies, margins = _logged(trainer, "rewards/accuracies"), _logged(trainer, "rewards/margins")
    # Step 1: the policy is base + SFT adapter and so is the reference, so every margin is exactly zero.
    assert margins[0] == 0.0 and accuracies[0] == 0.0
    assert sum(accuracies[-5:]) / 5 > 0.5, accuracies
    assert (tmp_path / "dpo" / "adapter_model.safetensors").is_file()


@pytest.mark.slow
def test_sft_resumes_from_the_last_checkpoint(tiny_model: Path, sft_build: Path, tmp_path: Path):
    out = tmp_path / "sft"
    sft, args = _parse("sft", "sft_smoke_cpu.yaml", model_name_or_path=tiny_model, dataset_name=sft_build,
                       output_dir=out, max_steps=4, save_steps=2, eval_steps=2, logging_steps=1)
    sft.main(*args)
    # Tag the checkpoint's history: only a run that really resumed from it carries the tag on.
    state_file = out / "checkpoint-4" / "trainer_state.json"
    state = json.loads(state_file.read_text(encoding="utf-8"))
    state["log_history"].append({"step": 4, "resumed_from": "checkpoint-4"})
    state_file.write_text(json.dumps(state), encoding="utf-8")

    sft, args = _parse("sft", "sft_smoke_cpu.yaml", model_name_or_path=tiny_model, dataset_name=sft_build,
                       output_dir=out, max_steps=6, save_steps=2, eval_steps=2, logging_steps=1)
    trainer = sft.main(*args)
    assert {"step": 4, "resumed_from": "checkpoint-4"} in trainer.state.log_history
    assert trainer.state.global_step == 6
    assert [e["step"] for e in trainer.state.log_history if "loss" in e] == [1, 2, 3, 4, 5, 6]


def test_dpo_refuses_a_second_lora_on_the_sft_adapter(tiny_model: Path, dpo_build: Path, tmp_path: Path):
    dpo, args = _parse("dpo", "dpo_smoke_cpu.yaml", model_name_or_path=tiny_model, dataset_name=dpo_build,
                       sft_adapter=tmp_path / "sft", output_dir=tmp_path / "dpo", use_peft="true")
    with pytest.raises(TrainInputError, match="drop --use_peft"):
        dpo.main(*args)
