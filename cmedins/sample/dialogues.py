"""Synthetic consultation dialogues: single-turn rows in ChatMed format, multi-turn in CMtMedQA format.

`repost` makes the near-duplicates real corpora are full of: the same question posted again with a small
edit (a greeting dropped or added, punctuation changed, a thank-you appended).
"""

from __future__ import annotations

import random
import re
from typing import Any

from cmedins.sample.pools import load_pool
from cmedins.sample.slots import Slots

GREETINGS = ("医生你好，", "您好，", "大夫，", "请问一下，", "请问")


def chatmed_row(question: str, answer: str) -> dict[str, str]:
    """ChatMed-Consult's layout: the question wrapped in `<s>问：…答：`."""
    return {"query": f"<s>问：\n{question}\n答：\n", "response": answer}


def single_turn(rng: random.Random) -> tuple[str, str]:
    pool = load_pool("dialogues")
    topic = rng.choice(pool["single_turn"])
    slots = Slots(rng, topic.get("slots") or {}, pool["common_slots"])
    return slots.fill(rng.choice(topic["queries"])), slots.fill(rng.choice(topic["responses"]))


def multi_turn(rng: random.Random, dialogue_id: str) -> dict[str, Any]:
    """A CMtMedQA row: the last turn in instruction/output, the earlier ones in `history`; 2-5 turns."""
    pool = load_pool("dialogues")
    script = rng.choice(pool["multi_turn"])
    slots = Slots(rng, script.get("slots") or {}, pool["common_slots"])
    turns = [[slots.fill(question), slots.fill(answer)] for question, answer in script["turns"]]
    turns = turns[: rng.randint(2, len(turns))]
    (question, answer), history = turns[-1], turns[:-1]
    return {"id": dialogue_id, "cate1": script["cate1"], "cate2": script["cate2"], "instruction": question,
            "input": "", "output": answer, "history": history}


def repost(rng: random.Random, question: str) -> str:
    """The same question posted again with a small edit (a near-duplicate, not an exact one)."""
    stripped = question
    for greeting in GREETINGS:
        if stripped.startswith(greeting):
            stripped = stripped[len(greeting):]
            break
    edits = [
        lambda q: ("医生，" + stripped) if stripped == q else stripped,
        lambda q: q.replace("？", "?").replace("，", ","),
        lambda q: q.rstrip("？?。") + "，谢谢！",
        lambda q: re.sub(r"(吗|呢)([？?])", r"\2", q, count=1) if re.search(r"(吗|呢)[？?]", q) else q + "急！",
    ]
    edited = rng.choice(edits)(question)
    return edited if edited != question else question + "在线等。"
