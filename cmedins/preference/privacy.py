"""De-identification of preference rows through the privacy gate (cmedins.deid.gate).

Prompts sampled from a de-identified SFT build are already clean; out-of-distribution prompts, model
responses, annotators' comments and free `source` values are not, so every text a preference row carries
passes through the gate before it leaves the work folder (the arbitration queue, judgments, the build's data
files). Annotator names and e-mails become stable pseudonymous ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from cmedins.contracts.ids import content_id
from cmedins.deid.gate import GateResult, GateUnit, PrivacyGate

RESPONSE_KEYS = ("response_a", "response_b", "chosen", "rejected")
FREE_TEXT_KEYS = ("comment", "source")


def annotator_id(name: str) -> str:
    """A stable pseudonym for an annotator (the same person gets the same id in every build)."""
    return "annotator-" + content_id("annotator", name.strip().casefold(), length=12)


def known_annotators(row: dict) -> dict[str, str]:
    """Annotators' own names (and e-mails) are known identities: masked in their comments whatever the detector
    finds. An arbitration queue entry lists several."""
    names = [row.get("annotator")] + [j.get("annotator") for j in row.get("judgments") or [] if isinstance(j, dict)]
    return {name.strip(): "EMAIL" if "@" in name else "PERSON" for name in names
            if isinstance(name, str) and len(name.strip()) >= 2 and not name.startswith("annotator-")}


def text_paths(row: dict) -> list[tuple[str, str]]:
    """(field path, text) of every text in a preference row that will be published or queued."""
    paths = [(f"prompt[{i}].content", m["content"]) for i, m in enumerate(row.get("prompt") or [])
             if isinstance(m, dict) and isinstance(m.get("content"), str)]
    paths += [(key, row[key]) for key in RESPONSE_KEYS if isinstance(row.get(key), str)]
    if isinstance(row.get("responses"), list):
        paths += [(f"responses[{i}]", text) for i, text in enumerate(row["responses"]) if isinstance(text, str)]
    paths += [(key, row[key]) for key in FREE_TEXT_KEYS if isinstance(row.get(key), str) and row[key]]
    if isinstance(row.get("judgments"), list):  # an arbitration queue entry: each annotator's comment
        paths += [(f"judgments[{i}].comment", j["comment"]) for i, j in enumerate(row["judgments"])
                  if isinstance(j, dict) and isinstance(j.get("comment"), str) and j["comment"]]
    return paths


def apply_paths(row: dict, paths: list[tuple[str, str]], texts: list[str]) -> dict:
    out = dict(row)
    if isinstance(row.get("prompt"), list):
        out["prompt"] = [dict(m) if isinstance(m, dict) else m for m in row["prompt"]]
    if isinstance(row.get("responses"), list):
        out["responses"] = list(row["responses"])
    if isinstance(row.get("judgments"), list):
        out["judgments"] = [pseudonymous(dict(j)) if isinstance(j, dict) else j for j in row["judgments"]]
    for (path, _), text in zip(paths, texts, strict=True):
        if path.startswith("judgments["):
            out["judgments"][int(path[len("judgments["):path.index("]")])]["comment"] = text
        elif path.startswith("prompt["):
            out["prompt"][int(path[len("prompt["):path.index("]")])]["content"] = text
        elif path.startswith("responses["):
            out["responses"][int(path[len("responses["):path.index("]")])] = text
        else:
            out[path] = text
    return pseudonymous(out)


def pseudonymous(row: dict) -> dict:
    """`annotator` as a stable pseudonym (idempotent: a pseudonym stays as it is)."""
    name = row.get("annotator")
    if isinstance(name, str) and not name.startswith("annotator-"):
        row["annotator"] = annotator_id(name)
    return row


class PreferenceRedactor:
    """Preference rows through one PrivacyGate; the texts of one row share pseudonyms (one scope)."""

    def __init__(self, params: dict[str, Any], *, label: str = "spf_deid", audit_path: Path | None = None):
        from cmedins.deid.stage import config_from_params

        self.config = config_from_params(params, f"recipe stage '{label}'" if label == "spf_deid" else label)
        self.gate = PrivacyGate(self.config, audit_path=audit_path, label=label)

    def rows(self, rows: Iterable[dict]) -> Iterator[tuple[dict, GateResult]]:
        """(de-identified row, gate result) per row, in order; a row with residual hits comes back as given
        (the caller quarantines it privately)."""
        rows = iter(rows)
        chunks = iter(lambda: list(islice(rows, self.config.batch_size)), [])
        pending: list[list[tuple[dict, list]]] = []

        def units():
            for chunk in chunks:
                planned = [(row, text_paths(row)) for row in chunk]
                pending.append(planned)
                yield [GateUnit(where=f"{row.get('_file')}, row {row.get('_row')}",
                                scope=content_id(row.get("prompt")), fields=[p for p, _ in paths],
                                texts=[t for _, t in paths], source=row.get("_source") or row.get("source"),
                                row=row.get("_row"), known=known_annotators(row)) for row, paths in planned]

        for results in self.gate.process(units()):
            for (row, paths), result in zip(pending.pop(0), results, strict=True):
                yield (row if result.hits else apply_paths(row, paths, result.texts)), result

    def row(self, row: dict) -> dict:
        """One row de-identified; a residual hit raises."""
        (out, result), = self.rows([row])
        if result.hits:
            from cmedins.errors import CmedinsError

            raise CmedinsError(f"{self.gate.label}: a {result.hits[0][1]} pattern survived de-identification "
                               f"({row.get('_file')}, row {row.get('_row')}, field '{result.hits[0][0]}')")
        return out

    def close(self) -> None:
        self.gate.close()
