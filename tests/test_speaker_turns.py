"""Speaker-turn corpora shipped as one JSON file per dialogue in a folder (a common public layout, e.g. the
IMCS-21 / MedDialog style {speaker, sentence} lists): read as a source, every utterance that does not become a
turn counted in stats.json with its reason, and the doctor's opening questions never dropped wholesale."""

from __future__ import annotations

import json
from pathlib import Path

from cmedins.dialogue import adapters  # noqa: F401  (registers speaker_turns)
from cmedins.rowio.formats import FORMATS
from cmedins.sft.build import run_recipe

DIALOGUES = {
    # the doctor opens with questions: the patient's first turn answers them, so they are kept as its context
    "d001.json": [{"speaker": "医生", "sentence": "你好，孩子多大了？发烧几天了？最高多少度？"},
                  {"speaker": "患者", "sentence": "两岁半，烧了两天，最高39.2度"},
                  {"speaker": "患者", "sentence": "吃了退烧药能退下来"},
                  {"speaker": "医生", "sentence": "精神状态怎么样？有没有抽搐、皮疹？"},
                  {"speaker": "患者", "sentence": "精神还可以，没有抽搐"},
                  {"speaker": "医生", "sentence": "可以继续按体重服用布洛芬，多喝水；超过三天不退或精神差请及时就诊。"},
                  {"speaker": "患者", "sentence": "好的谢谢医生"}],
    # a greeting only: dropped, counted
    "d002.json": {"department": "消化内科", "turns": [
        {"speaker": "医生", "text": "您好，我是消化内科的医生。"},
        {"speaker": "病人", "text": "我最近胃胀、反酸，吃完饭更明显，该怎么办？"},
        {"speaker": "医生", "text": ""},
        {"speaker": "医生", "text": "建议少食多餐，避免辛辣油腻，睡前三小时不进食；症状持续两周以上请做胃镜。"}]},
    "nested/d003.json": {"dialogue": "患者：血压150/95要吃药吗？\n医生：先连续测一周家庭血压，若平均仍高于135/85，需要就诊评估是否用药。"},
}


def write_folder(root: Path) -> Path:
    folder = root / "dialogues"
    for name, content in DIALOGUES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    return folder


def test_folder_reader_gives_one_row_per_file(tmp_path):
    folder = write_folder(tmp_path)
    rows = list(FORMATS["speaker_turns"].reader(folder))
    assert [Path(file).name for file, _, _ in rows] == ["broken.json", "d001.json", "d002.json", "d003.json"]
    first = FORMATS["speaker_turns"].adapter(rows[1][2])
    assert first["messages"][0]["content"] == ("医生：你好，孩子多大了？发烧几天了？最高多少度？\n"
                                               "患者：两岁半，烧了两天，最高39.2度\n吃了退烧药能退下来")
    assert first["messages"][-1]["role"] == "assistant" and len(first["messages"]) == 4


def test_folder_source_builds_and_counts_every_trimmed_turn(tmp_path):
    folder = write_folder(tmp_path)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"""
name: turns
seed: 1
sources:
  - {{name: turns, path: {folder}, format: speaker_turns, license: CC0}}
stages:
  - deid: {{}}
  - dialogues: {{}}
split: {{validation: 0.0}}
""", encoding="utf-8")
    result = run_recipe(recipe, tmp_path / "out", show_progress=False)
    stats = result.stats
    # 3 dialogues kept by the adapter, one file quarantined; the default 1:1 single:multi mix keeps 2 of them
    assert (stats["rows"]["input"], stats["rows"]["quarantined"]) == (4, 1)
    assert stats["stages"]["dialogues"]["out"] == 3 and stats["rows"]["kept"] == 2
    assert stats["trimmed_turns"] == {
        "empty_utterance": {"turns": 1, "chars": 0},
        "leading_doctor_greeting": {"turns": 1, "chars": 13},
        "leading_doctor_question_as_context": {"turns": 1, "chars": 21},
        "merged_into_previous_same_speaker": {"turns": 1, "chars": 9},
        "trailing_unanswered_user_turn": {"turns": 1, "chars": 6},
    }
    quarantine = (tmp_path / "out" / "quarantine").rglob("*.jsonl")
    text = "".join(p.read_text(encoding="utf-8") for p in quarantine)
    assert "broken.json" in text and "not valid UTF-8 JSON" in text and "not found" not in text
