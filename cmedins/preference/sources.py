"""Preference and prompt sources in real formats.

- `medicalgpt_reward`: MedicalGPT's reward pairs {question, response_chosen, response_rejected}: pairs
  already decided (doctor answer over a weaker model's); numeric columns are kept as reward-model scores.
- `ranked_responses`: {question | prompt, responses: [best, ..., worst]} (ChiMed-GPT: doctor > GPT-4 >
  GPT-3.5 > weak model), turned into adjacent pairs by the `adjacent_pairs` step.
- `scored_responses`: {question | prompt, responses: [{model, response, score, <reward-model scores>}]}:
  several models' answers to one prompt with a judge's score each (e.g. GPT-4, 1-10), paired by score
  with an explicit tie rule and margin threshold (`adjacent_pairs` params `ties`, `min_margin`).
- `flames`, `cvalues`, `safetybench` and the `zh_safety` folder reader: Chinese safety prompts without
  responses, the out-of-distribution prompt pool for annotation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from cmedins.errors import CmedinsError, RowError
from cmedins.rowio.formats import register_format
from cmedins.rowio.readers import iter_rows


def text(row: dict, field: str) -> str:
    value = row.get(field)
    if not isinstance(value, str) or not value.strip():
        raise RowError("is missing or empty", field=field)
    return value.strip()


def prompt_messages(row: dict) -> list[dict]:
    """`prompt` as a message list, or a bare `question` / `prompt` string as one user message."""
    prompt = row.get("prompt")
    if isinstance(prompt, list):
        return prompt
    field = "question" if "question" in row else "prompt"
    return [{"role": "user", "content": text(row, field)}]


def scores(row: dict) -> dict[str, float]:
    """Numeric columns (reward-model scores or margins) carried along for `rm_vote`."""
    return {k: float(v) for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


@register_format("medicalgpt_reward", "preference")
def medicalgpt_reward(row: dict) -> dict:
    """MedicalGPT reward pairs: question, response_chosen, response_rejected (+ optional score columns)."""
    return {
        "kind": "preference",
        "prompt": prompt_messages(row),
        "chosen": text(row, "response_chosen"),
        "rejected": text(row, "response_rejected"),
        "scores": scores(row),
    }


@register_format("scored_pairs", "preference")
def scored_pairs(row: dict) -> dict:
    """Decided pairs with reward-model score columns: prompt | question, chosen, rejected, <scores...>."""
    return {"kind": "preference", "prompt": prompt_messages(row), "chosen": text(row, "chosen"),
            "rejected": text(row, "rejected"), "scores": scores(row)}


@register_format("ranked_responses", "ranking")
def ranked_responses(row: dict) -> dict:
    """A prompt with responses ranked best first: question | prompt, responses: [str, ...]."""
    responses = row.get("responses")
    if isinstance(responses, str):  # CSV cells hold the list as JSON text
        try:
            responses = json.loads(responses)
        except json.JSONDecodeError:
            raise RowError("is not a JSON list", field="responses") from None
    if not isinstance(responses, list) or not all(isinstance(r, str) and r.strip() for r in responses):
        raise RowError("must be a list of non-empty response texts, best first", field="responses")
    return {"kind": "ranking", "prompt": prompt_messages(row), "responses": [r.strip() for r in responses]}


RESPONSE_TEXT_FIELDS = ("response", "answer", "text", "content", "output")
SCORE_FIELDS = ("score", "gpt4_score", "rating")


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _scored_response(item: object, index: int) -> dict:
    field = f"responses[{index}]"
    if not isinstance(item, dict):
        raise RowError("must be an object {model, response, score}", field=field)
    text_field = next((f for f in RESPONSE_TEXT_FIELDS if f in item), None)
    value = item.get(text_field) if text_field else None
    if not isinstance(value, str) or not value.strip():
        raise RowError(f"has no response text (one of {', '.join(RESPONSE_TEXT_FIELDS)})", field=field)
    score_field = next((f for f in SCORE_FIELDS if f in item), None)
    if score_field is None or not _number(item[score_field]):
        raise RowError(f"has no numeric score (one of {', '.join(SCORE_FIELDS)})", field=f"{field}.score")
    model = item.get("model")
    if model is not None and not isinstance(model, str):
        raise RowError("must be a text", field=f"{field}.model")
    rm = {k: float(v) for k, v in item.items() if _number(v) and k != score_field}
    return {"text": value.strip(), "model": model, "score": float(item[score_field]), "rm": rm}


def _split_texts(items: list[dict]) -> dict:
    # Texts stay a plain list under `responses` (what spf_deid de-identifies); the rest rides beside them.
    return {"responses": [item["text"] for item in items],
            "response_meta": [{k: v for k, v in item.items() if k != "text"} for item in items]}


@register_format("scored_responses", "ranking")
def scored_responses(row: dict) -> dict:
    """Several models' answers to one prompt, each scored by a judge: question | prompt,
    responses: [{model, response | answer | text, score, <reward-model score columns>...}, ...]."""
    responses = row.get("responses")
    if not isinstance(responses, list) or len(responses) < 2:
        raise RowError("must be a list of at least two scored responses", field="responses")
    return {"kind": "ranking", "prompt": prompt_messages(row),
            **_split_texts([_scored_response(item, i) for i, item in enumerate(responses)])}


def _prompt(content: str, source: str) -> dict:
    return {"kind": "prompt", "prompt": [{"role": "user", "content": content}], "source": source}


@register_format("flames", "prompt")
def flames(row: dict) -> dict:
    """Flames adversarial value-alignment prompts: {dimension, subcomponent, prompt}."""
    return _prompt(text(row, "prompt"), "flames")


@register_format("cvalues", "prompt")
def cvalues(row: dict) -> dict:
    """CValues responsibility prompts: {id_, prompt, domain_en, domain_zh}."""
    return _prompt(text(row, "prompt"), "cvalues")


@register_format("safetybench", "prompt")
def safetybench(row: dict) -> dict:
    """SafetyBench multiple-choice questions {id, question, options, category}, asked with the options."""
    options = row.get("options")
    if not isinstance(options, list) or not options:
        raise RowError("must be a non-empty list", field="options")
    letters = "ABCDEFGH"
    listed = "\n".join(f"{letters[i]}. {option}" for i, option in enumerate(options))
    return _prompt(f"{text(row, 'question')}\n{listed}", "safetybench")


# Files of the zh_safety folder that hold prompts, and their formats (augmentation templates and answer
# keys are not prompts).
ZH_SAFETY_FILES = {
    "flames/Flames_1k_Chinese.jsonl": "flames",
    "cvalues/cvalues_responsibility_prompts.jsonl": "cvalues",
    "safetybench/test_zh_subset.json": "safetybench",
}


def read_zh_safety(path: Path) -> Iterator[tuple[str, int, dict]]:
    """Reader for the zh_safety folder: rows of each known prompt file, tagged with their format."""
    path = Path(path)
    found = [(path / rel, fmt) for rel, fmt in ZH_SAFETY_FILES.items() if (path / rel).is_file()]
    if not found:
        raise CmedinsError(f"{path}: no zh_safety prompt files (expected one of {', '.join(ZH_SAFETY_FILES)})")
    for file, fmt in found:
        for number, row in iter_rows(file):
            yield str(file), number, {**row, "_format": fmt}


@register_format("zh_safety", "prompt", reader=read_zh_safety)
def zh_safety(row: dict) -> dict:
    """The zh_safety folder (Flames, CValues, SafetyBench zh): each row through its own format."""
    adapters = {"flames": flames, "cvalues": cvalues, "safetybench": safetybench}
    return adapters[row["_format"]](row)
