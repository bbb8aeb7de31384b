"""The scalable synthetic corpus behind `cmedins sample`: records and dialogues streamed to disk.

Every file has its own random stream derived from the seed (`random.Random(f"{seed}:{name}")`), so the
records do not change when the dialogue count does, and nothing touches the global RNG. Memory stays
constant: rows are generated and written one at a time; near-duplicates repost a row from a small window of
recent ones.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmedins.rowio.writers import write_rows
from cmedins.sample.dialogues import chatmed_row, multi_turn, repost, single_turn
from cmedins.sample.general import general_item
from cmedins.sample.records import make_record, render_text

DUPLICATE_RATE = 0.02  # exact re-posts
NEAR_DUPLICATE_RATE = 0.03  # re-posts with a small edit
RECENT_WINDOW = 200


@dataclass(frozen=True)
class CorpusSize:
    records: int
    dialogues: int = 0  # single-turn rows, and as many multi-turn rows (the paper's 1:1)
    general: int = 0
    text_share: float = 0.5  # share of records written in the free-text layout


def stream(seed: int, name: str) -> random.Random:
    return random.Random(f"{seed}:{name}")


def write_corpus(out_dir: Path, size: CorpusSize, seed: int) -> dict[str, int]:
    """Write the corpus files into out_dir; returns rows written per file name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text_records = round(size.records * size.text_share)
    written = {
        "records.jsonl": write_rows(out_dir / "records.jsonl",
                                     record_rows(stream(seed, "records"), size.records - text_records)),
        "records_text.jsonl": write_rows(out_dir / "records_text.jsonl",
                                          text_record_rows(stream(seed, "records_text"), text_records)),
    }
    if size.dialogues:
        written["chatmed.jsonl"] = write_rows(out_dir / "chatmed.jsonl",
                                               chatmed_rows(stream(seed, "chatmed"), size.dialogues))
        written["cmtmedqa.json"] = write_rows(out_dir / "cmtmedqa.json",
                                                    cmtmedqa_rows(stream(seed, "cmtmedqa"), size.dialogues))
    if size.general:
        written["general_alpaca.json"] = write_rows(out_dir / "general_alpaca.json",
                                                          general_rows(stream(seed, "general"), size.general))
    return written


def record_rows(rng: random.Random, count: int, prefix: str = "rec") -> Iterator[dict[str, Any]]:
    width = max(6, len(str(count)))
    for number in range(1, count + 1):
        yield make_record(rng, f"{prefix}-{number:0{width}d}")


def text_record_rows(rng: random.Random, count: int) -> Iterator[dict[str, str]]:
    for number in range(1, count + 1):
        yield render_text(rng, make_record(rng, f"text-{number}"))


def chatmed_rows(rng: random.Random, count: int, *, duplicates: bool = True) -> Iterator[dict[str, str]]:
    recent: deque[tuple[str, str]] = deque(maxlen=RECENT_WINDOW)
    for _ in range(count):
        roll = rng.random() if duplicates else 1.0
        if recent and roll < DUPLICATE_RATE:
            question, answer = rng.choice(recent)
        elif recent and roll < DUPLICATE_RATE + NEAR_DUPLICATE_RATE:
            question, answer = rng.choice(recent)
            question = repost(rng, question)
        else:
            question, answer = single_turn(rng)
            recent.append((question, answer))
        yield chatmed_row(question, answer)


def cmtmedqa_rows(rng: random.Random, count: int, prefix: str = "mt", *,
                  duplicates: bool = True) -> Iterator[dict[str, Any]]:
    recent: deque[dict[str, Any]] = deque(maxlen=RECENT_WINDOW)
    for number in range(1, count + 1):
        dialogue_id = f"{prefix}-{number}"
        if duplicates and recent and rng.random() < DUPLICATE_RATE:
            row = {**rng.choice(recent), "id": dialogue_id}
        else:
            row = multi_turn(rng, dialogue_id)
            recent.append(row)
        yield row


def general_rows(rng: random.Random, count: int) -> Iterator[dict[str, str]]:
    for _ in range(count):
        yield general_item(rng)
