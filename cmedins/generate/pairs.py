"""Two answers per prompt -> response pairs for annotation (the pairs.jsonl that `prefs export-tasks` reads).

From two answer files (two models or two checkpoints, matched by item id) or from one file with two samples
per item. Which answer is shown as A is drawn per pair from the seed and the pair's id (so it does not depend
on the order of the files) and recorded: `system_a`, `system_b`, `swapped` (A is the second input).
Items without both answers, pairs with an empty answer and pairs of identical answers (nothing to judge) are
counted and left out. (`cmedins eval` judges empty answers: an empty answer is a model's answer.)
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from cmedins.contracts.ids import content_id
from cmedins.errors import CmedinsError, RowError
from cmedins.rowio.readers import iter_rows


def read_answers(path: Path) -> dict[tuple[str, int], dict]:
    """Answer rows of `cmedins generate` by (id, sample); the newest row of a key wins (as on resume)."""
    answers: dict[tuple[str, int], dict] = {}
    for number, row in iter_rows(Path(path)):
        if row.get("error"):
            continue
        for field in ("id", "prompt"):
            if row.get(field) in (None, "", []):
                raise RowError("is missing", field=field).at(str(path), number)
        if not isinstance(row.get("response"), str):  # an empty answer is an answer (a model that stopped at once)
            raise RowError("must be a text", field="response").at(str(path), number)
        if not isinstance(row["prompt"], list):
            raise RowError("must be a list of messages", field="prompt").at(str(path), number)
        answers[(str(row["id"]), int(row.get("sample") or 0))] = row
    return answers


def system_name(row: dict, path: Path, sample: int | None = None) -> str:
    name = str(row.get("system") or Path(path).stem)
    return f"{name}#{sample}" if sample is not None else name


def answer_pairs(first: Path, second: Path | None = None, *, sample_first: int = 0, sample_second: int | None = None
                 ) -> tuple[list[tuple[str, dict, dict]], Counter]:
    """(item id, answer of X, answer of Y) for every item both sides answered; and the counts of what was left."""
    answers_x = read_answers(first)
    answers_y = read_answers(second) if second is not None else answers_x
    if sample_second is None:
        sample_second = sample_first if second is not None else sample_first + 1
    if second is None and sample_second == sample_first:
        raise CmedinsError("two samples of one file need different sample numbers")
    ids = sorted({key[0] for key in answers_x} | {key[0] for key in answers_y})
    pairs, left_out = [], Counter()
    for item_id in ids:
        x, y = answers_x.get((item_id, sample_first)), answers_y.get((item_id, sample_second))
        if x is None or y is None:
            left_out["missing_answer"] += 1
            continue
        if x["prompt"] != y["prompt"]:
            raise CmedinsError(f"item '{item_id}': the two answer files hold different prompts (not the same eval set?)")
        pairs.append((item_id, x, y))
    return pairs, left_out


def make_pairs(first: Path, second: Path | None = None, *, seed: int = 42, sample_first: int = 0,
               sample_second: int | None = None, distribution: str = "in") -> tuple[list[dict], dict]:
    if distribution not in ("in", "out"):
        raise CmedinsError("--distribution must be 'in' or 'out'")
    pairs, left_out = answer_pairs(first, second, sample_first=sample_first, sample_second=sample_second)
    single = second is None
    rows = []
    for item_id, x, y in pairs:
        if not x["response"].strip() or not y["response"].strip():
            left_out["empty_answer"] += 1  # nothing for an annotator to read on one side
            continue
        if x["response"].strip() == y["response"].strip():
            left_out["identical_answers"] += 1
            continue
        name_x = system_name(x, first, sample_first if single else None)
        name_y = system_name(y, second or first, (sample_second if sample_second is not None else sample_first + 1)
                             if single else None)
        swapped = random.Random(f"{seed}\0{item_id}").random() < 0.5
        a, b = (y, x) if swapped else (x, y)
        rows.append({
            "pair_id": content_id(item_id, x["response"], y["response"], length=16),
            "item_id": item_id, "prompt": x["prompt"], "response_a": a["response"], "response_b": b["response"],
            "system_a": name_y if swapped else name_x, "system_b": name_x if swapped else name_y,
            "swapped": swapped, "seed": seed, "distribution": distribution, "source": item_id.split(":")[0],
        })
    report = {"pairs": len(rows), "left_out": dict(sorted(left_out.items())),
              "a_is_first_input": sum(not r["swapped"] for r in rows)}
    return rows, report
