"""Generate answers for items into a resumable JSONL file.

Work units are (item, sample) pairs in item order, cut into batches of fixed boundaries. A rerun skips the
batches whose units are all written, and regenerates a partly written batch whole (writing only its missing
units): with the same batch and seed a local model gives the same tokens, so a resumed file equals an
uninterrupted one. Endpoint requests carry each unit's own seed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cmedins.generate.items import Item
from cmedins.generate.resume import ResumableJsonl
from cmedins.generate.sampling import Sampling, unit_seed

KEY = ("id", "sample")


def generate_answers(items: list[Item], backend, sampling: Sampling, out: Path, *, system: str, samples: int = 1,
                     batch_size: int = 8, meta: dict[str, Any] | None = None,
                     progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    store = ResumableJsonl(out, KEY, {"system": system, "samples": samples, "batch_size": batch_size,
                                      "sampling": sampling.as_dict(), **(meta or {})})
    units = [(item, sample) for item in items for sample in range(samples)]
    written = skipped = 0
    for start in range(0, len(units), batch_size):
        batch = units[start:start + batch_size]
        todo = [not store.done((item.id, sample)) for item, sample in batch]
        skipped += todo.count(False)
        if not any(todo):
            continue
        seeds = [unit_seed(sampling.seed, item.id, sample) for item, sample in batch]
        prompts = [item.prompt for item, _ in batch]
        # An endpoint answers each request on its own: keep the answers that came back before stopping on a
        # request that failed after its retries (the rerun asks only for what is missing).
        each = getattr(backend, "generate_each", None)
        answers = each(prompts, sampling, seeds) if each else backend.generate(prompts, sampling, seeds)
        failure = None
        for (item, sample), seed, answer, needed in zip(batch, seeds, answers, todo, strict=True):
            if isinstance(answer, Exception):
                failure = failure or answer
                continue
            if needed:
                text, finish = answer
                store.append({"id": item.id, "sample": sample, "system": system, "prompt": item.prompt,
                              "response": text, "finish_reason": finish, "reference": item.reference,
                              "seed": seed})
                written += 1
        if failure is not None:
            raise failure
        if progress:
            progress(min(start + batch_size, len(units)), len(units))
    return {"units": len(units), "written": written, "already_done": skipped}
