"""A small realistic corpus and recipe for the runner tests (consultations in three public formats)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

SINGLE = [("头痛三天，伴有恶心，需要做什么检查？", "建议测量血压并做头颅CT，排除颅内病变。"),
          ("孩子发烧38.5度，可以吃布洛芬吗？", "可以按体重服用布洛芬混悬液，每次间隔至少6小时。"),
          ("空腹血糖7.8是糖尿病吗？", "需要复查空腹血糖并做糖耐量试验才能确诊。"),
          ("胃疼吃完饭更严重怎么回事？", "可能是胃溃疡或胃炎，建议做胃镜检查。"),
          ("长期失眠该怎么调理？", "保持规律作息，睡前避免咖啡和手机，必要时就诊睡眠专科。"),
          ("咳嗽两周不好需要拍胸片吗？", "咳嗽超过两周建议拍胸片，排除肺部感染或结核。")]


def write_corpus(folder: Path) -> Path:
    """chatmed.jsonl (6 rows), cmtmedqa.json (3 multi-turn), general.json (4 alpaca rows) under `folder/src`."""
    src = folder / "src"
    src.mkdir(parents=True, exist_ok=True)
    with (src / "chatmed.jsonl").open("w", encoding="utf-8") as handle:
        for question, answer in SINGLE:
            handle.write(json.dumps({"query": f"<s>问：\n{question}\n答：\n", "response": answer},
                                    ensure_ascii=False) + "\n")
    multi = [{"id": f"m{i}", "cate1": "心血管科", "instruction": f"那我需要吃药吗？（第{i}例）", "input": "",
              "output": "血压持续超过140/90mmHg需要在医生指导下服用降压药。",
              "history": [[f"医生，我血压150/95mmHg，头晕{i}天了。", "有没有家族史？"],
                          ["我父亲有高血压。", "建议先监测一周血压。"]]} for i in range(1, 4)]
    (src / "cmtmedqa.json").write_text(json.dumps(multi, ensure_ascii=False), encoding="utf-8")
    general = [{"instruction": f"把下面的数字相加：{i} 和 {i + 1}", "input": "", "output": f"结果是{2 * i + 1}。"}
               for i in range(4)]
    (src / "general.json").write_text(json.dumps(general, ensure_ascii=False), encoding="utf-8")
    return src


def write_recipe(folder: Path, **overrides) -> Path:
    """recipe.yaml in `folder` reading the corpus of write_corpus (created when missing)."""
    if not (folder / "src").is_dir():
        write_corpus(folder)
    recipe = {
        "name": "unit", "seed": 11, "output": "out",
        "sources": [
            {"name": "chatmed", "path": "src/chatmed.jsonl", "format": "chatmed"},
            {"name": "cmtmedqa", "path": "src/cmtmedqa.json", "format": "cmtmedqa"},
            {"name": "general", "path": "src/general.json", "format": "alpaca"},
        ],
        "stages": [{"dialogues": {}}, {"dedup": {}}],
        "split": {"validation": 0.25},
        **overrides,
    }
    if not any(name in ("deid", "spf_deid") for stage in recipe["stages"] for name in stage):
        # Consultations without identities, for the runner's mechanics: said so, as a recipe must be to skip deid.
        recipe.setdefault("sources_already_deidentified", True)
    if "sources_already_deidentified" in recipe and recipe["sources_already_deidentified"] is None:
        del recipe["sources_already_deidentified"]  # None: a recipe that does not say (the key left out)
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    return path


RUN_RECORDS = ("build.log", "timings.json")  # when and how fast a build ran: the only files that differ per run


def folder_bytes(folder: Path, skip: tuple[str, ...] = RUN_RECORDS) -> dict[str, bytes]:
    """Every file under `folder` by relative path (to compare builds byte for byte), less the run records."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.relative_to(folder).as_posix().startswith(skip)}
