"""Adapters from real dialogue/instruction corpus formats to conversation dicts.

Each returns {"kind": "conversation", "messages": [...], "department": str | None} and raises
RowError(field=...) when the row cannot become a valid conversation. The runner adds id, source and
category (dialogue or general, from the recipe's source entry).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from cmedins.errors import RowError
from cmedins.rowio.formats import register_format

USER_SPEAKERS = {"患者", "病人", "用户", "家属", "病患", "患方", "user", "human", "patient", "问"}
ASSISTANT_SPEAKERS = {"医生", "大夫", "医师", "doctor", "assistant", "gpt", "答"}
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "chatgpt": "assistant", "bing": "assistant", "bard": "assistant", "system": "system"}
# ChatMed wraps queries as "<s>问：\n…\n答：\n"; strip the wrapper, keep the question.
_CHATMED_WRAPPER = re.compile(r"^\s*(?:<s>)?\s*问[:：]\s*(?P<q>.*?)\s*(?:答[:：]\s*)?(?:</s>)?\s*$", re.S)


def _text(row: dict, field: str, *, required: bool = True) -> str:
    value = row.get(field)
    if isinstance(value, list) and all(isinstance(item, str) or item is None for item in value):
        value = "\n".join(item for item in value if item is not None)  # Huatuo-26M wraps strings in lists
    if value is None or (isinstance(value, float) and value != value):  # None or NaN from CSV/Parquet
        value = ""
    if not isinstance(value, str):  # a number, bool, dict or list is quarantined, never turned into text
        raise RowError(f"is a {type(value).__name__}, not text", field=field)
    value = value.strip()
    if required and not value:
        raise RowError("is missing or empty", field=field)
    return value


def conversation(messages: list[dict], trimmed: list[dict] | None = None, department: str | None = None) -> dict:
    """A conversation row; `trimmed` lists the utterances that did not become turns (counted in stats.json)."""
    row = {"kind": "conversation", "messages": messages, "department": department or None}
    if trimmed:
        row["trimmed"] = trimmed
    return row


def _pair(question: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def _join(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


@register_format("chatmed", "conversation")
def chatmed(row: dict) -> dict:
    """ChatMed-Consult: `query` (in a `<s>问：…答：` wrapper) and `response`."""
    query = _text(row, "query")
    match = _CHATMED_WRAPPER.match(query)
    question = match.group("q").strip() if match else query
    if not question:
        raise RowError("holds only the <s>问：…答： wrapper, no question", field="query")
    return conversation(_pair(question, _text(row, "response")))


@register_format("cmtmedqa", "conversation")
def cmtmedqa(row: dict) -> dict:
    """CMtMedQA: alpaca with `history` [[q, a], ...] and `cate1` department; also its safety rows with
    `instruct`/`output`."""
    if "instruct" in row and "instruction" not in row:
        return conversation(_pair(_text(row, "instruct"), _text(row, "output")))
    messages: list[dict] = []
    history = row.get("history") or []
    if not isinstance(history, list):
        raise RowError("must be a list of [question, answer] pairs", field="history")
    for turn_number, turn in enumerate(history, start=1):
        if not (isinstance(turn, list) and len(turn) == 2 and all(isinstance(x, str) and x.strip() for x in turn)):
            raise RowError(f"turn {turn_number} is not a [question, answer] pair of texts", field="history")
        messages += _pair(turn[0].strip(), turn[1].strip())
    messages += _pair(_join(_text(row, "instruction"), _text(row, "input", required=False)), _text(row, "output"))
    return conversation(messages, department=_text(row, "cate1", required=False))


@register_format("alpaca", "conversation")
def alpaca(row: dict) -> dict:
    """Alpaca: `instruction`, optional `input`, `output`, optional `history` like CMtMedQA."""
    if row.get("history"):
        return cmtmedqa(row)
    question = _join(_text(row, "instruction"), _text(row, "input", required=False))
    return conversation(_pair(question, _text(row, "output")))


@register_format("huatuo26m", "conversation")
def huatuo26m(row: dict) -> dict:
    """Huatuo-26M test: `instruction: [q]`, `output: [a]`."""
    return conversation(_pair(_text(row, "instruction"), _text(row, "output")))


@register_format("sharegpt", "conversation")
def sharegpt(row: dict) -> dict:
    """ShareGPT: `conversations` [{from, value}] (human/gpt/system); consecutive same-role turns merge."""
    turns = row.get("conversations")
    if not isinstance(turns, list) or not turns:
        raise RowError("must be a non-empty list of {from, value}", field="conversations")
    pairs = []
    for number, turn in enumerate(turns, start=1):
        if not isinstance(turn, dict):
            raise RowError(f"turn {number} is not an object", field="conversations")
        role = SHAREGPT_ROLES.get(str(turn.get("from", "")).lower())
        if role is None:
            raise RowError(f"turn {number} has an unknown speaker (expected human/gpt, user/assistant)",
                           field="conversations")  # the speaker value itself may be a name: never quoted
        pairs.append((role, str(turn.get("value") or "").strip()))
    return conversation(*_shape_turns(pairs, "conversations"))


def _trim(reason: str, text: str) -> dict:
    return {"reason": reason, "chars": len(text)}


def _is_question(text: str) -> bool:
    return "?" in text or "？" in text or text.rstrip().endswith(("吗", "呢"))


def _shape_turns(turns: list[tuple[str, str]], field: str) -> tuple[list[dict], list[dict]]:
    """Merge consecutive utterances of one speaker, drop empty ones, and shape the dialogue so it starts with
    the user (after an optional system message) and ends with the assistant. Returns (messages, trimmed):
    one {reason, chars} per utterance that did not become its own turn, so stats.json can count them.

    A doctor who speaks first is either greeting (dropped: `leading_doctor_greeting`) or already asking
    (kept: the questions lead the patient's first turn as "医生：…" context, `leading_doctor_question_as_context`),
    because the patient's first turn answers them and makes no sense without them."""
    system = [text for role, text in turns if role == "system" and text]
    trimmed: list[dict] = []
    merged: list[list[str]] = []
    for role, text in turns:
        if role == "system":
            continue
        if not text:
            trimmed.append(_trim("empty_utterance", text))
        elif merged and merged[-1][0] == role:
            merged[-1][1] += "\n" + text
            trimmed.append(_trim("merged_into_previous_same_speaker", text))
        else:
            merged.append([role, text])
    leading = []
    while merged and merged[0][0] != "user":
        leading.append(merged.pop(0)[1])
    if leading and merged and any(_is_question(text) for text in leading):
        context = "\n".join(leading)
        merged[0][1] = f"医生：{context}\n患者：{merged[0][1]}"
        trimmed.append(_trim("leading_doctor_question_as_context", context))
    else:
        trimmed += [_trim("leading_doctor_greeting", text) for text in leading]
    while merged and merged[-1][0] != "assistant":
        trimmed.append(_trim("trailing_unanswered_user_turn", merged.pop()[1]))  # nothing to learn from
    if not merged:
        raise RowError("has no user turn followed by an assistant turn", field=field)
    messages = [{"role": "system", "content": "\n".join(system)}] if system else []
    return messages + [{"role": role, "content": text} for role, text in merged], trimmed


_SPEAKER_LINE = re.compile(r"^\s*(?P<speaker>[^:：\s]{1,8})\s*[:：]\s*(?P<text>.*)$")


TURN_SPEAKER_KEYS = ("speaker", "role", "from")
TURN_TEXT_KEYS = ("text", "sentence", "utterance", "value", "content")


def _turn_fields(turn: dict) -> tuple[str, str]:
    speaker = next((turn[k] for k in TURN_SPEAKER_KEYS if k in turn), "")
    text = next((turn[k] for k in TURN_TEXT_KEYS if k in turn), "")
    return str(speaker or "").strip(), str(text or "").strip()


def read_speaker_turns(path: Path) -> Iterator[tuple[str, int, dict]]:
    """A file of dialogues (JSONL/JSON/CSV rows), or a folder holding one JSON file per dialogue (a common
    public layout): each file is an object with `turns` / `dialogue`, or the list of turns itself."""
    import json

    from cmedins.errors import CmedinsError
    from cmedins.rowio.readers import iter_rows

    path = Path(path)
    if not path.is_dir():
        for number, row in iter_rows(path):
            yield str(path), number, row
        return
    files = sorted(p for p in path.rglob("*.json") if p.is_file())
    if not files:
        raise CmedinsError(f"{path}: a speaker_turns folder holds one .json file per dialogue; none found")
    for file in files:
        try:
            data = json.loads(file.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            yield str(file), 1, {"_error": f"not valid UTF-8 JSON ({type(error).__name__})"}
            continue
        row = {"turns": data} if isinstance(data, list) else data
        yield str(file), 1, row if isinstance(row, dict) else {"_error": "is neither a dialogue object nor a list of turns"}


@register_format("speaker_turns", "conversation", reader=read_speaker_turns)
def speaker_turns(row: dict) -> dict:
    """Raw doctor-patient dialogues: `turns` [{speaker, text}] (also role/from and sentence/utterance/value keys),
    or a `dialogue` text of "患者：…" lines; a folder of one JSON file per dialogue is read file by file.
    Consecutive utterances of one speaker are merged into one turn."""
    if row.get("_error"):
        raise RowError(row["_error"], field="file")
    raw_turns: list[tuple[str, str]] = []
    if isinstance(row.get("turns"), list):
        for number, turn in enumerate(row["turns"], start=1):
            if not isinstance(turn, dict):
                raise RowError(f"turn {number} is not an object", field="turns")
            raw_turns.append(_turn_fields(turn))
        field = "turns"
    else:
        field = "dialogue"
        for line in _text(row, "dialogue").split("\n"):
            match = _SPEAKER_LINE.match(line)
            if match:
                raw_turns.append((match["speaker"], match["text"].strip()))
            elif raw_turns and line.strip():  # a wrapped line continues the previous utterance
                raw_turns[-1] = (raw_turns[-1][0], raw_turns[-1][1] + "\n" + line.strip())
    pairs = []
    for speaker, text in raw_turns:
        role = _speaker_role(speaker)
        if role is None:
            raise RowError("unknown speaker (expected 患者/医生 or user/doctor)", field=field)  # names stay out
        pairs.append((role, text))
    messages, trimmed = _shape_turns(pairs, field)
    return conversation(messages, trimmed, _text(row, "department", required=False))


def _speaker_role(speaker: str) -> str | None:
    name = speaker.lower()
    if name in USER_SPEAKERS:
        return "user"
    if name in ASSISTANT_SPEAKERS:
        return "assistant"
    return None


@register_format("toyhom_csv", "conversation")
def toyhom_csv(row: dict) -> dict:
    """Toyhom Chinese-medical-dialogue-data CSV: department, title, ask, answer (GBK). The ask repeats the
    title's question in longer words, so the user turn is the ask (the title when the ask is empty)."""
    ask = _text(row, "ask", required=False).replace("\\n", "\n")
    title = _text(row, "title", required=False)
    question = ask if ask and ask != "无" else title
    if not question:
        raise RowError("and title are both empty", field="ask")
    answer = _text(row, "answer").replace("\\n", "\n")
    return conversation(_pair(question, answer), department=_text(row, "department", required=False))


def read_toyhom_txt(path: Path) -> Iterator[tuple[str, int, dict]]:
    """Toyhom's .txt layout: blocks of "title,ask" then "answer", separated by blank lines."""
    from cmedins.rowio.readers import error_row, text_lines

    number, block, bad = 0, [], False
    for line, failure in [*text_lines(path), ("", None)]:  # a final blank line closes the last block
        if line.strip():
            block.append(line.rstrip("\r\n"))
            bad = bad or failure is not None  # a bad byte spoils its block only
            continue
        if not block:
            continue
        number += 1
        if bad:
            yield str(path), number, error_row("not valid text in the detected encoding")
        else:
            head, answer = block[0], "\n".join(block[1:])
            title, _, ask = head.partition(",")
            yield str(path), number, {"title": title.strip(), "ask": ask.strip(), "answer": answer.strip()}
        block, bad = [], False


register_format("toyhom_txt", "conversation", reader=read_toyhom_txt)(toyhom_csv)
