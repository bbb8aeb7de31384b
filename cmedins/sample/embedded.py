"""The embedded sample corpus (cmedins/sample/data/): the corpus generator at a fixed seed, plus planted rows
that give every stage of a build something to do: records missing sections, bad rows to quarantine, exact
and near duplicates, and two training dialogues that near-copy items of the evaluation sample.

`write_embedded(folder)` regenerates the committed files byte for byte (a test checks it), so the data is
never edited by hand: change the pools or this plan, then run `cmedins sample --embedded`.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from cmedins.rowio.writers import write_rows
from cmedins.sample.corpus import chatmed_rows, cmtmedqa_rows, record_rows, stream
from cmedins.sample.dialogues import chatmed_row, repost
from cmedins.sample.general import REASONING
from cmedins.sample.pools import load_pool
from cmedins.sample.preference import annotations
from cmedins.sample.records import make_record, render_text

EMBEDDED_SEED = 2024
DATA_DIR = Path(__file__).parent / "data"
RECORDS = 40
TEXT_RECORDS = 40
SINGLE_TURN = 34  # + 2 exact re-posts, 2 near re-posts, 2 near-copies of eval items = 40
MULTI_TURN = 28  # + 1 exact, 1 near duplicate = 30
GENERAL_ITEMS = 13  # + 6 reasoning + 1 exact duplicate = 20
# Sections removed from given records (index -> fields): the tasks stage must skip them with a reason.
MISSING = {4: ("diagnosis",), 11: ("treatment", "discharge_status", "discharge_advice"), 23: ("auxiliary_exam",),
           30: ("present_illness", "physical_exam")}
FILES = ("records.jsonl", "records_text.jsonl", "chatmed.jsonl", "cmtmedqa.json", "general_alpaca.json",
         "eval_sample.json", "annotations.jsonl", "arbitration.jsonl")


def write_embedded(folder: Path = DATA_DIR, seed: int = EMBEDDED_SEED) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    notes, decisions = annotations(stream(seed, "annotations"))
    return {
        "records.jsonl": write_rows(folder / "records.jsonl", _records(seed)),
        "records_text.jsonl": write_rows(folder / "records_text.jsonl", _text_records(seed)),
        "chatmed.jsonl": write_rows(folder / "chatmed.jsonl", _chatmed(seed)),
        "cmtmedqa.json": write_rows(folder / "cmtmedqa.json", _cmtmedqa(seed)),
        "general_alpaca.json": write_rows(folder / "general_alpaca.json", _general(seed)),
        "eval_sample.json": write_rows(folder / "eval_sample.json", _eval_items()),
        "annotations.jsonl": write_rows(folder / "annotations.jsonl", notes),
        "arbitration.jsonl": write_rows(folder / "arbitration.jsonl", decisions),
    }


def _records(seed: int) -> list[Any]:
    rows: list[Any] = list(record_rows(stream(seed, "records"), RECORDS, prefix="sample-rec"))
    for index, fields in MISSING.items():
        rows[index].update(dict.fromkeys(fields))
    bad_age = make_record(stream(seed, "bad-record"), "sample-rec-bad-age")
    bad_age["age"] = "abc"  # a clerk's typo: quarantined with field `age`
    rows.insert(17, bad_age)
    return rows


def _text_records(seed: int) -> list[Any]:
    rng = stream(seed, "records_text")
    rows: list[Any] = []
    for number in range(TEXT_RECORDS):
        record = make_record(rng, f"sample-text-{number + 1:03d}")
        if number == 7:
            record["chief_complaint"] = record["diagnosis"] = None  # a progress note, not an admission record
        rows.append(render_text(rng, record))
    rows.insert(12, {"text": "", "department": "内科"})  # an empty export: quarantined
    rows.insert(26, ["姓名：王某", "主诉：头痛3天"])  # a line that is not a JSON object: quarantined
    return rows


def _chatmed(seed: int) -> list[Any]:
    rng = stream(seed, "chatmed-plants")
    rows: list[Any] = list(chatmed_rows(random.Random(f"{seed}:chatmed:unique"), SINGLE_TURN, duplicates=False))
    questions = [_question(row) for row in rows]
    rows.insert(20, dict(rows[3]))  # exact re-post
    rows.insert(31, dict(rows[9]))
    rows.insert(15, chatmed_row(repost(rng, questions[1]), rows[1]["response"]))  # near re-posts
    rows.insert(28, chatmed_row(repost(rng, questions[12]), rows[12]["response"]))
    items = load_pool("eval")["items"]
    for position, index in zip((6, 24), load_pool("eval")["contaminated"], strict=True):
        item = items[index]  # a scraped copy of an evaluation item: decontamination must drop it
        rows.insert(position, chatmed_row("请问" + item["q"].replace("？", "?"), item["a"]))
    rows.append({"query": "<s>问：\n\n答：\n", "response": ""})  # an empty consultation: quarantined
    return rows


def _question(row: dict[str, str]) -> str:
    return row["query"].removeprefix("<s>问：\n").removesuffix("\n答：\n")


def _cmtmedqa(seed: int) -> list[Any]:
    rows = list(cmtmedqa_rows(random.Random(f"{seed}:cmtmedqa:unique"), MULTI_TURN, prefix="sample-mt",
                              duplicates=False))
    rows.insert(19, {**rows[5], "id": "sample-mt-repost-1"})
    near = {**rows[11], "id": "sample-mt-repost-2", "instruction": repost(stream(seed, "mt-plants"),
                                                                          rows[11]["instruction"])}
    rows.insert(25, near)
    return rows


def _general(seed: int) -> list[Any]:
    rng = stream(seed, "general")
    items = load_pool("general")["items"]
    rows: list[Any] = [{key: item[key] for key in ("instruction", "input", "output")}
                       for item in rng.sample(items, GENERAL_ITEMS)]
    for index in range(6):
        rows.insert(2 + 3 * index, REASONING[index % len(REASONING)](rng))
    rows.append(dict(rows[4]))  # the same instruction contributed twice
    return rows


def _eval_items() -> list[dict[str, Any]]:
    return [{"instruction": [item["q"]], "input": "", "output": [item["a"]]} for item in load_pool("eval")["items"]]
