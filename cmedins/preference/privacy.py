"""De-identification of preference text (prompts, responses) through the deid area's Deidentifier.

Prompts sampled from a de-identified SFT build are already clean; out-of-distribution prompts and model
responses are not, so every text a preference row carries passes through here before it leaves the work
folder (the arbitration queue, the build's data files).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from cmedins.ids import content_id

RESPONSE_KEYS = ("response_a", "response_b", "chosen", "rejected")


class PreferenceRedactor:
    """De-identifies all texts of a row in one batch; texts of one prompt share pseudonyms (one scope)."""

    def __init__(self, params: dict[str, Any]):
        from cmedins.deid.engine import Deidentifier
        from cmedins.deid.stage import config_from_params

        config = config_from_params(params, "recipe stage 'spf_deid'")
        self.config = config
        self.deidentifier = Deidentifier(config)
        self.counts: Counter = Counter()

    def texts(self, texts: list[str], scope: str) -> list[str]:
        results = self.deidentifier.deidentify_many(texts, [scope] * len(texts))
        for _, findings in results:
            self.counts.update(finding.entity_type for finding in findings)
        return [text for text, _ in results]

    def row(self, row: dict) -> dict:
        """The row with every prompt message and response text de-identified."""
        keys = [key for key in RESPONSE_KEYS if isinstance(row.get(key), str)]
        responses = row.get("responses") if isinstance(row.get("responses"), list) else []
        texts = [m["content"] for m in row["prompt"]] + [row[key] for key in keys] + list(responses)
        clean = iter(self.texts(texts, scope=content_id(row["prompt"])))
        out = dict(row)
        out["prompt"] = [{**m, "content": next(clean)} for m in row["prompt"]]
        out.update({key: next(clean) for key in keys})
        if responses:
            out["responses"] = [next(clean) for _ in responses]
        return out
