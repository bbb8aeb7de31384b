"""DPO rows (the DPORow contract: trl preference format with an explicit prompt) from decided pairs."""

from __future__ import annotations

from pydantic import ValidationError

from cmedins.contracts.ids import content_id
from cmedins.contracts.schema import DPORow
from cmedins.errors import RowError

PROVENANCE = ("chosen_model", "rejected_model", "chosen_score", "rejected_score", "score_margin", "rm_margin")


def dpo_row(pair: dict, distribution: str) -> dict:
    """A validated DPO row dict from a preference row {prompt, chosen, rejected, source, ...}.

    The id hashes prompt + chosen + rejected, so the same decided pair gets the same id in every build,
    and the flipped pair (rejected over chosen) gets a different one.
    """
    row = {
        "id": content_id(pair["prompt"], pair["chosen"], pair["rejected"]),
        "prompt": pair["prompt"],
        "chosen": [{"role": "assistant", "content": pair["chosen"]}],
        "rejected": [{"role": "assistant", "content": pair["rejected"]}],
        "deciding_dimension": pair.get("deciding_dimension"),
        "distribution": distribution,
        "source": pair["source"],
        "annotator_count": pair.get("annotator_count", 0),
        "agreement": pair.get("agreement"),
        "arbitrated": pair.get("arbitrated", False),
        "decided_by": pair.get("decided_by") or "source",
        **{key: pair.get(key) for key in PROVENANCE},
        "flipped": bool(pair.get("flipped")),
    }
    try:
        return DPORow.model_validate(row).model_dump()
    except ValidationError as error:
        raise RowError.from_validation(error) from None
