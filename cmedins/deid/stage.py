"""The `deid` stage: de-identifies record and conversation rows before anything leaves the work folder.

Records: every clinical text field is de-identified, every identity field set to None, ages over 89 capped
at 90, and `record_id` replaced by an id derived from the de-identified content. Conversations: every
message's content. Other kinds pass through. All of it goes through the privacy gate (cmedins.deid.gate),
which writes the audit (<build>/audit/deid.jsonl: unit id, source, row, field, offsets, entity type and
score, never the original value) and runs the residual scan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from itertools import islice
from typing import Any

from pydantic import ValidationError

from cmedins.contracts.reports import Count, DeidFacts, Tally
from cmedins.contracts.schema import CLINICAL_FIELDS, IDENTITY_FIELDS
from cmedins.deid.config import DeidConfig
from cmedins.deid.gate import GateUnit, PrivacyGate
from cmedins.errors import CmedinsError
from cmedins.runner.report import StageReport
from cmedins.runner.stage import BuildContext, Stage, register_stage

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
        if isinstance(row.get("department"), str) and row["department"].strip():
            pairs.append(("department", row["department"]))  # free text: an unmapped one reaches the stats
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


# A record's own identity fields name what its texts must not keep, whether the detector finds it or not.
KNOWN_TYPES = {"patient_name": "PERSON", "id_number": "CN_ID_CARD", "phone": "CN_PHONE", "address": "CN_ADDRESS",
               "birth_date": "DATE_OF_BIRTH", "record_number": "MEDICAL_RECORD_NUMBER", "hospital": "INSTITUTION",
               "record_id": "MEDICAL_RECORD_NUMBER"}


def known_identities(row: dict, active: set[str]) -> dict[str, str]:
    if row.get("kind") != "record":
        return {}
    return {value.strip(): entity for name, entity in KNOWN_TYPES.items()
            if entity in active and isinstance(value := row.get(name), str) and len(value.strip()) >= 2}


def unit_of(row: dict, pairs: list[tuple[str, str]], active: set[str]) -> GateUnit:
    where = f"{row.get('_file')}, row {row.get('_row')}"
    return GateUnit(where=where, scope=f"{row.get('_file')}:{row.get('_row')}:{row_id(row)}",
                    fields=[path for path, _ in pairs], texts=[text for _, text in pairs],
                    source=row.get("source"), row=row.get("_row"), known=known_identities(row, active))


class DeidReport(StageReport):
    """stats.json `deid`; its `facts` (what the privacy gate ran and counted) are manifest.json `deid`."""

    manifest_section = "deid"
    mirrored = ("config", "chars", "counts", "residual")

    rows: Tally  # rows passed on, by kind
    identity_fields_cleared: Tally
    ages_capped: Count
    facts: DeidFacts


@register_stage
class DeidStage(Stage):
    name = "deid"
    Params = DeidConfig
    Report = DeidReport
    takes = frozenset({"record", "conversation"})

    def __init__(self, params: dict[str, Any], ctx: BuildContext):
        super().__init__(params, ctx)
        self.config = config_from_params(params, "recipe stage 'deid'")
        self.identity_cleared: Counter = Counter()
        self.rows: Counter = Counter()
        self.ages_capped = 0

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        gate = PrivacyGate(self.config, audit_path=self.ctx.build_dir / "audit" / "deid.jsonl", label=self.name)
        rows = iter(rows)
        chunks = iter(lambda: list(islice(rows, self.config.batch_size)), [])
        try:
            for chunk, results in self._process(gate, chunks):
                yield from self._finish(chunk, results)
        finally:
            gate.close()
            self._record(gate)

    def _process(self, gate: PrivacyGate, chunks):
        """Pair each chunk of rows with its gate results ([(pairs, GateResult)] or error string or None)."""
        prepared: list = []
        active = set(self.config.active_entities())

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
                units.append(unit_of(row, pairs, active))
            prepared.append((chunk, plan))
            return units

        for results in gate.process(units_of(chunk) for chunk in chunks):
            chunk, plan = prepared.pop(0)
            it = iter(results)
            yield chunk, [(p, next(it)) if isinstance(p, list) else p for p in plan]

    def _finish(self, chunk: list[dict], results: list) -> Iterator[dict]:
        for row, result in zip(chunk, results, strict=True):
            if result is None:
                self.rows["passed_through"] += 1
                yield row
                continue
            if isinstance(result, str):
                self.ctx.quarantine(self.name, "unprocessable_text", row, result, private=True)
                continue
            pairs, outcome = result
            if outcome.hits:
                field, kind = outcome.hits[0]
                self.ctx.quarantine(self.name, "residual_identifier", row, f"{kind} survived", field=field,
                                    private=True)
                continue
            out = apply_texts(row, pairs, outcome.texts)
            if row.get("kind") == "record":
                # A source's own record id can be an ID or record number: the published id is derived from
                # the de-identified content instead (the audit's `unit` names the same id).
                out["record_id"] = f"rec-{outcome.unit_id}"
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

    def _record(self, gate: PrivacyGate) -> None:
        self.report(DeidReport(rows=dict(sorted(self.rows.items())),
                               identity_fields_cleared=dict(sorted(self.identity_cleared.items())),
                               ages_capped=self.ages_capped,
                               facts=DeidFacts.model_validate({**gate.facts(), "rows": sum(self.rows.values())})))
