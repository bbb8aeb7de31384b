"""The SPF section of the dataset card: how pairs were decided, per dimension and distribution, agreement."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from cmedins.schema import DIMENSIONS

DIMENSION_NAMES = {"safety": "Safety 安全性", "professionalism": "Professionalism 专业性",
                   "fluency": "Fluency 流畅性", "none": "not SPF-annotated (decided or ranked pairs)"}


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def spf_card_section(stats: dict[str, Any]) -> str:
    pref = stats["preference"]
    lines = [
        "## SPF preference pairs",
        "",
        "Medical annotators compared two responses per prompt on Safety > Professionalism > Fluency; the first",
        "dimension that is not a tie decides which response is `chosen` (column `deciding_dimension`); pairs",
        "tied on all three are dropped. Disagreements between annotators went to a medical expert",
        "(`arbitrated`). `distribution` says whether the prompt came from the training set (`in`) or not (`out`).",
        "",
        "| deciding dimension | in | out | total |",
        "|---|---:|---:|---:|",
    ]
    for dimension, counts in pref["deciding_dimension"].items():
        if counts["total"]:
            lines.append(f"| {DIMENSION_NAMES[dimension]} | {counts['in']} | {counts['out']} | {counts['total']} |")
    lines += ["", f"Pairs: {pref['pairs']}; arbitrated: {pref['arbitrated']}; splits: "
              + ", ".join(f"{k} {v}" for k, v in stats["splits"].items()) + "."]
    agreement = pref.get("agreement")
    if agreement and agreement["cross_annotated"]:
        lines += ["", f"Inter-annotator agreement over {agreement['cross_annotated']} cross-annotated pairs:", "",
                  "| dimension | percent agreement | Cohen's kappa | Fleiss' kappa |", "|---|---:|---:|---:|"]
        for dimension in DIMENSIONS:
            entry = agreement["dimensions"][dimension]
            lines.append(f"| {DIMENSION_NAMES[dimension]} | {_number(entry['percent_agreement'])} | "
                         f"{_number(entry['cohen_kappa'])} | {_number(entry.get('fleiss_kappa'))} |")
    arbitration = pref.get("arbitration")
    if arbitration:
        lines += ["", f"Arbitration ({arbitration['arbitrate_on']} disagreement): {arbitration['disputed']} disputed, "
                  f"{arbitration['applied']} settled by the expert, {arbitration['pending']} still pending "
                  "(left out, listed in arbitration_queue.jsonl)."]
    if pref.get("rm_vote"):
        vote = pref["rm_vote"]
        lines += ["", f"Reward-model vote ({', '.join(vote['models'])}): {vote['flipped']} weakest pairs flipped, "
                  f"{vote['dropped']} strongest dropped, of {vote['pairs']}."]
    return "\n".join(lines) + "\n"


def write_card(out_dir: Path, stats: dict[str, Any], manifest: dict[str, Any]) -> None:
    """The publish area's card when installed (it embeds spf_card_section); otherwise a plain README."""
    if importlib.util.find_spec("cmedins.publish.card") is not None:
        from cmedins.publish.card import write_card as publish_card

        publish_card(out_dir)
        return
    body = f"# {manifest['name']}\n\nSPF preference dataset built by cmedins {manifest['cmedins_version']}.\n\n"
    (out_dir / "README.md").write_text(body + spf_card_section(stats), encoding="utf-8")
