"""Ask an LLM judge about every question in both orders; raw replies go to a resumable judgments.jsonl.

Order "xy" shows system X's answer as 回答1, "yx" shows Y's first. Replies are stored raw and parsed when the
report is made, so a better parser never needs a second round of judging. A request that fails after the
client's retries is stored with its error (counted as `request_failed`) and asked again on the next run.
"""

from __future__ import annotations

from pathlib import Path

from cmedins.evaluate.judge_prompt import JudgePrompt
from cmedins.evaluate.outcomes import ORDERS
from cmedins.generate.backends import RequestFailed
from cmedins.generate.resume import ResumableJsonl
from cmedins.generate.sampling import Sampling, unit_seed

KEY = ("question_id", "order")


def judge_messages(prompt: JudgePrompt, question: list[dict], x: str, y: str, order: str) -> list[dict]:
    first, second = (x, y) if order == "xy" else (y, x)
    return [{"role": "user", "content": prompt.render(question, first, second)}]


def run_judge(pairs: list[tuple[str, dict, dict]], backend, prompt: JudgePrompt, sampling: Sampling, out: Path, *,
              meta: dict, batch_size: int = 8) -> tuple[ResumableJsonl, dict[str, int]]:
    """Judge every (question id, X answer, Y answer) in both orders; returns the store and what was asked."""
    store = ResumableJsonl(out, KEY, {"prompt": prompt.name, "prompt_sha256": prompt.sha256,
                                      "sampling": sampling.as_dict(), **meta})
    units = [(qid, x, y, order) for qid, x, y in pairs for order in ORDERS if not store.done((qid, order))]
    asked = failed = 0
    for start in range(0, len(units), batch_size):
        batch = units[start:start + batch_size]
        messages = [judge_messages(prompt, x["prompt"], x["response"], y["response"], order)
                    for _, x, y, order in batch]
        seeds = [unit_seed(sampling.seed, qid, ORDERS.index(order)) for qid, _, _, order in batch]
        for (qid, _, _, order), result in zip(batch, backend.generate_each(messages, sampling, seeds), strict=True):
            asked += 1
            if isinstance(result, RequestFailed):
                failed += 1
                store.append({"question_id": qid, "order": order, "reply": None, "error": str(result)})
            else:
                store.append({"question_id": qid, "order": order, "reply": result[0], "finish_reason": result[1],
                              "error": None})
    return store, {"requests": asked, "failed": failed, "pairs": len(pairs)}
