"""The `deid` stage: de-identifies record and conversation rows before anything leaves the work folder.

Records: every clinical text field is de-identified, every identity field set to None, ages over 89 capped
at 90. Conversations: every message's content. Other kinds pass through. An audit JSONL
(<build>/audit/deid.jsonl) lists row, field, offsets, entity type and score, never the original value.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from itertools import islice
from typing import Any

from pydantic import ValidationError

from cmedins.deid.config import DeidConfig
from cmedins.errors import CmedinsError
from cmedins.schema import CLINICAL_FIELDS, IDENTITY_FIELDS
from cmedins.stage import BuildContext, Stage, register_stage

MAX_AGE = 90  # HIPAA safe harbour: ages over 89 are aggregated into one category


def config_from_params(params: dict[str, Any], where: str) -> DeidConfig:
    try:
        return DeidConfig(**(params or {}))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'params'}: {e['msg']}" for e in error.errors())
        raise CmedinsError(f"{where}: {problems}") from None


def text_fields(row: dict) -> list[tuple[str, str]] | None:
    """(field path, text) pairs to de-identify in a row; None for kinds this stage does not touch.
    Raises ValueError for a field that holds something other than text."""
    kind = row.get("kind")
    if kind == "record":
        pairs = [(name, row.get(name)) for name in CLINICAL_FIELDS if row.get(name) is not None]
    elif kind == "conversation":
        messages = row.get("messages")
        if not isinstance(messages, list):
            raise ValueError("messages is not a list")
        pairs = [(f"messages[{i}].content", m.get("content") if isinstance(m, dict) else None)
                 for i, m in enumerate(messages)]
    else:
        return None
    for path, value in pairs:
        if not isinstance(value, str):
            raise ValueError(f"field '{path}' is {type(value).__name__}, not text")
    return pairs


def apply_texts(row: dict, pairs: list[tuple[str, str]], new_texts: list[str]) -> dict:
    out = dict(row)
    if row.get("kind") == "conversation":
        messages = [dict(m) for m in row["messages"]]
        for (path, _), text in zip(pairs, new_texts, strict=True):
            messages[int(path[len("messages["):path.index("]")])]["content"] = text
        out["messages"] = messages
    else:
        out.update({path: text for (path, _), text in zip(pairs, new_texts, strict=True)})
    return out


def row_id(row: dict) -> str | None:
    return row.get("record_id") or row.get("id")


@register_stage
class DeidStage(Stage):
    name = "deid"
    Params = DeidConfig
    takes = frozenset({"record", "conversation"})

    def __init__(self, params: dict[str, Any], ctx: BuildContext):
        super().__init__(params, ctx)
        self.config = config_from_params(params, "recipe stage 'deid'")
        self.counts: Counter = Counter()
        self.identity_cleared: Counter = Counter()
        self.rows: Counter = Counter()
        self.residual: Counter = Counter()
        self.ages_capped = 0
        self.chars = 0

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        from cmedins.deid.engine import ParallelDeidentifier

        audit_path = self.ctx.build_dir / "audit" / "deid.jsonl"
        audit_path.parent.mkdir(parents=True, exist_ok=True)
        engine = ParallelDeidentifier(self.config)
        rows = iter(rows)
        chunks = iter(lambda: list(islice(rows, self.config.batch_size)), [])
        try:
            with audit_path.open("w", encoding="utf-8") as audit:
                for chunk, results in self._process(engine, chunks):
                    yield from self._finish(chunk, results, audit)
        finally:
            engine.close()
            self._record()

    def _process(self, engine, chunks):
        """Pair each chunk of rows with its engine results ([(pairs, [TextResult]) or error string or None])."""
        prepared: list = []

        def units_of(chunk):
            plan, units = [], []
            for row in chunk:
                try:
                    pairs = text_fields(row)
                except ValueError as error:
                    plan.append(str(error))
                    continue
                if pairs is None:
                    plan.append(None)
                    continue
                plan.append(pairs)
                units.append((f"{row.get('_file')}:{row.get('_row')}:{row_id(row)}", [t for _, t in pairs]))
            prepared.append((chunk, plan))
            return units

        for results in engine.map_chunks(units_of(chunk) for chunk in chunks):
            chunk, plan = prepared.pop(0)
            it = iter(results)
            yield chunk, [(p, next(it)) if isinstance(p, list) else p for p in plan]

    def _finish(self, chunk: list[dict], results: list, audit) -> Iterator[dict]:
        for row, result in zip(chunk, results, strict=True):
            if result is None:
                self.rows["passed_through"] += 1
                yield row
                continue
            if isinstance(result, str):
                self.ctx.quarantine(self.name, "unprocessable_text", row, result, private=True)
                continue
            pairs, texts = result
            hits = [(path, kind) for (path, _), t in zip(pairs, texts, strict=True) for kind, _, _ in t.residual]
            if hits:
                self.residual.update(kind for _, kind in hits)
                where = f"{row.get('_file')}, row {row.get('_row')}, field '{hits[0][0]}'"
                if self.config.fail_on_residual:
                    raise CmedinsError(f"deid residual scan: a {hits[0][1]} pattern survived de-identification "
                                       f"({where}); set fail_on_residual: false to quarantine such rows instead")
                self.ctx.quarantine(self.name, "residual_identifier", row, f"{hits[0][1]} survived",
                                    field=hits[0][0], private=True)
                continue
            for (path, text), text_result in zip(pairs, texts, strict=True):
                self.chars += len(text)
                for f in text_result.findings:
                    self.counts[f.entity_type] += 1
                    audit.write(json.dumps({"row_id": row_id(row), "file": row.get("_file"), "row": row.get("_row"),
                                            "field": path, "start": f.start, "end": f.end,
                                            "entity_type": f.entity_type, "score": f.score},
                                           ensure_ascii=False) + "\n")
            out = apply_texts(row, pairs, [t.text for t in texts])
            if row.get("kind") == "record":
                out = self._clear_identity(out)
            self.rows[row["kind"]] += 1
            yield out

    def _clear_identity(self, row: dict) -> dict:
        for name in IDENTITY_FIELDS:
            if row.get(name) not in (None, ""):
                self.identity_cleared[name] += 1
            row[name] = None
        age = row.get("age")
        if isinstance(age, int) and age > MAX_AGE - 1:
            row["age"] = MAX_AGE
            self.ages_capped += 1
        return row

    def _record(self) -> None:
        config = self.config.model_dump()
        counts = dict(sorted(self.counts.items()))
        self.ctx.stats[self.name] = {
            "config": config,
            "rows": dict(sorted(self.rows.items())),
            "chars": self.chars,
            "counts": counts,
            "identity_fields_cleared": dict(sorted(self.identity_cleared.items())),
            "ages_capped": self.ages_capped,
            "residual": {"hits": dict(sorted(self.residual.items())), "fail_on_residual": self.config.fail_on_residual},
        }
        self.ctx.manifest[self.name] = {"ran": True, "config": config, "counts": counts}
