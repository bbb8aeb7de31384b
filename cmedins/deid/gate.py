"""The privacy gate: the one object that owns de-identification for every path that writes text outside the
private work folder (the SFT `deid` stage, the SPF `spf_deid` stage, `cmedins prefs sample`, `cmedins deid`,
and free texts such as system prompts, comments and ids).

It detects and replaces (the engine), writes the audit (offsets and types, never values), runs the
independent residual scan (cmedins.deid.residual) on every text it returns, and reports the facts the
manifest records. Those facts are counted from what ran (the engine's active entities, findings, scanned
texts, residual hits), never copied from the recipe.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from cmedins.contracts.ids import content_id
from cmedins.deid.config import PLACEHOLDERS, STRICT_ENTITIES, DeidConfig
from cmedins.deid.residual import residual_hits
from cmedins.errors import CmedinsError


@dataclass(frozen=True)
class GateUnit:
    """Texts that share pseudonyms (one record, dialogue or preference row), and where they came from.

    `where` is a location for messages ("file, row 3"), never a value; `scope` seeds the pseudonyms and
    stays in memory."""

    where: str
    scope: str
    fields: Sequence[str]
    texts: Sequence[str]
    source: str | None = None
    row: int | None = None
    known: dict[str, str] = field(default_factory=dict)  # identity value -> entity type (a record's own fields)


@dataclass(frozen=True)
class KnownMask:
    start: int
    end: int
    entity_type: str


def mask_known(text: str, known: dict[str, str]) -> tuple[str, list[KnownMask]]:
    """Replace every occurrence of a unit's known identities (its patient's name, ID and phone fields, an
    annotator's name) by the type's placeholder before detection: the detector need not find what the row
    already names. Longer values first, so a name inside an address is not split. Offsets are in the result."""
    if not known or not text:
        return text, []
    values = sorted((v for v in known if len(v) >= 2 and v in text), key=len, reverse=True)
    if not values:
        return text, []
    pattern = re.compile("|".join(re.escape(v) for v in values))
    out, masks, last = [], [], 0
    for match in pattern.finditer(text):
        placeholder = PLACEHOLDERS[known[match.group()]]
        out.append(text[last:match.start()])
        start = sum(len(part) for part in out)
        out.append(placeholder)
        masks.append(KnownMask(start, start + len(placeholder), known[match.group()]))
        last = match.end()
    out.append(text[last:])
    return "".join(out), masks


@dataclass(frozen=True)
class GateResult:
    texts: list[str]
    hits: list[tuple[str, str]] = field(default_factory=list)  # (field, kind) the residual scan still sees
    unit_id: str = ""  # derived from the de-identified texts and the location: safe to publish as a row id

    @property
    def clean(self) -> bool:
        return not self.hits


class PrivacyGate:
    """De-identify units in chunks; see the module doc. Use as a context manager (it owns worker processes)."""

    def __init__(self, config: DeidConfig, *, audit_path: Path | None = None, label: str = "deid"):
        self.config = config
        self.label = label
        self.audit_path = audit_path
        self._engine = None
        self._audit: IO[str] | None = None
        self.counts: Counter = Counter()
        self.residual: Counter = Counter()
        self.units = self.texts = self.chars = self.units_with_residual = self.known = 0

    # --- running ------------------------------------------------------------------------------------------
    def _start(self):
        if self._engine is None:
            from cmedins.deid.pool import ParallelDeidentifier

            self._engine = ParallelDeidentifier(self.config)
            if self.audit_path is not None:
                self.audit_path.parent.mkdir(parents=True, exist_ok=True)
                self._audit = self.audit_path.open("w", encoding="utf-8", newline="\n")
        return self._engine

    def process(self, chunks: Iterable[list[GateUnit]]) -> Iterator[list[GateResult]]:
        """One result list per chunk, in order. A residual hit raises (fail_on_residual, the default) or is
        returned in `GateResult.hits` for the caller to quarantine the unit."""
        engine = self._start()
        pending: list[tuple[list[GateUnit], list[list[list[KnownMask]]]]] = []

        def planned():
            for chunk in chunks:
                masked = [[mask_known(text, unit.known) for text in unit.texts] for unit in chunk]
                pending.append((chunk, [[masks for _, masks in texts] for texts in masked]))
                yield [(unit.scope, [text for text, _ in texts]) for unit, texts in zip(chunk, masked, strict=True)]

        for results in engine.map_chunks(planned()):
            chunk, masks = pending.pop(0)
            yield [self._finish(unit, texts, known) for unit, texts, known in zip(chunk, results, masks, strict=True)]

    def _finish(self, unit: GateUnit, results, known: list[list[KnownMask]]) -> GateResult:
        self.units += 1
        self.texts += len(results)
        hits = [(name, kind) for name, result in zip(unit.fields, results, strict=True) for kind, _, _ in result.residual]
        if hits:
            self.residual.update(kind for _, kind in hits)
            self.units_with_residual += 1
            if self.config.fail_on_residual:
                raise CmedinsError(f"{self.label} residual scan: a {hits[0][1]} pattern survived de-identification "
                                   f"({unit.where}, field '{hits[0][0]}'); set fail_on_residual: false to "
                                   "quarantine such rows instead")
        new_texts = [result.text for result in results]
        unit_id = content_id("unit", unit.source, unit.row, new_texts, length=16)
        # Audit offsets are in the text the detector saw (known identities already masked, marked "known").
        for name, original, result, masks in zip(unit.fields, unit.texts, results, known, strict=True):
            self.chars += len(original)
            found = [(m.start, m.end, m.entity_type, 1.0, True) for m in masks]
            found += [(f.start, f.end, f.entity_type, f.score, False) for f in result.findings]
            for start, end, entity_type, score, is_known in sorted(found):
                self.counts[entity_type] += 1
                self.known += is_known
                if self._audit is not None:
                    self._audit.write(json.dumps(
                        {"unit": unit_id, "source": unit.source, "row": unit.row, "field": name, "start": start,
                         "end": end, "entity_type": entity_type, "score": score, "known": is_known},
                        ensure_ascii=False) + "\n")
        return GateResult(new_texts, hits, unit_id)

    def clean_texts(self, texts: Sequence[str], *, where: str, scope: str = "") -> list[str]:
        """De-identify free texts (one scope); any residual hit raises, whatever fail_on_residual says."""
        if not texts:
            return []
        fields = [f"text[{i}]" for i in range(len(texts))]
        (result,) = next(self.process([[GateUnit(where, scope or where, fields, list(texts))]]))
        if result.hits:
            raise CmedinsError(f"{self.label}: a {result.hits[0][1]} pattern survived de-identification ({where})")
        return result.texts

    def close(self) -> None:
        if self._audit is not None:
            self._audit.close()
            self._audit = None
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def __enter__(self) -> PrivacyGate:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- facts for the manifest -----------------------------------------------------------------------------
    def facts(self) -> dict[str, Any]:
        """What ran, counted: the manifest's `deid` section (and what `cmedins push` checks)."""
        active = self.config.active_entities()
        return {
            "ran": True,
            "path": self.label,
            "entities": active,
            "strict_types": sorted(STRICT_ENTITIES & set(active)),
            "narrowed_strict": self.config.narrowed_strict(),
            "allow_unsafe": self.config.allow_unsafe,
            "config": self.config.model_dump(),
            "units": self.units,
            "texts": self.texts,
            "chars": self.chars,
            "counts": dict(sorted(self.counts.items())),
            "known_identities_masked": self.known,
            "residual": {"scanned_texts": self.texts, "hits": dict(sorted(self.residual.items())),
                         "units_with_hits": self.units_with_residual,
                         "fail_on_residual": self.config.fail_on_residual},
            "audit": self.audit_path.name if self.audit_path is not None else None,
        }


# Content ids and hashes (`rec-3f9a…`, sha256 digests) are hex: their digit runs are not numbers, and a 64-hex
# digest holds an 11-digit run starting 13-19 about once in a hundred. Masked (same length) before scanning.
HEX_TOKEN = re.compile(r"(?<![0-9A-Za-z])(?=[0-9a-f]*[a-f])[0-9a-f]{12,64}(?![0-9A-Za-z])")


def scan(text: str) -> list[tuple[str, int, int]]:
    """The residual scanner, for text the gate did not write (a file about to be published)."""
    return residual_hits(HEX_TOKEN.sub(lambda m: "x" * len(m.group()), text))


@lru_cache(maxsize=1)
def default_gate() -> PrivacyGate:
    """A gate with the safe defaults, shared in-process, for free texts (system prompts, comments, ids)."""
    return PrivacyGate(DeidConfig(), label="privacy gate")


def clean_free_texts(texts: Sequence[str], *, where: str) -> list[str]:
    return default_gate().clean_texts(texts, where=where)
