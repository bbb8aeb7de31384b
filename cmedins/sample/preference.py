"""SPF preference annotations: each response pair judged by two annotators on safety, professionalism and
fluency, with the disagreements real annotation has, and an expert's rulings on some of the disputes.

A scenario's flaw fixes the true judgment (the sound response wins the flawed dimension, the others tie);
the first annotator gives it, the second sometimes slips on one dimension (tie instead of a preference, or a
preference instead of a tie). The expert settles about two thirds of the disputed pairs; the rest stay in
the arbitration queue. Output rows follow cmedins.contracts.schema.PreferenceAnnotation; decisions follow the shape
`cmedins.preference.crossannotation.load_decisions` reads: pair_id, arbitrator, disputed dimensions, comment.
"""

from __future__ import annotations

import random
from typing import Any

from cmedins.contracts.schema import DIMENSIONS
from cmedins.sample.pools import load_pool

ANNOTATORS = ("ann_01", "ann_02", "ann_03", "ann_04")
EXPERT = "expert_01"
SLIP_RATE = 0.45
ARBITRATED_SHARE = 0.67
COMMENT_RATE = 0.6
SOURCES = {"in": "sample_consult", "out": "sample_safety_prompts"}
FLAW_NOTES = {
    "safety": "{bad}给出了可能造成伤害的建议",
    "professionalism": "{bad}内容不够专业或不准确",
    "fluency": "{bad}表达重复、不通顺",
    "none": "两个回答都可以",
}


def annotations(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(annotation rows, expert decisions) for every scenario of the pool, in pool order."""
    rows: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    for number, scenario in enumerate(load_pool("preference")["scenarios"], start=1):
        pair_rows, decision = _pair(rng, f"spf-{number:03d}", scenario)
        rows += pair_rows
        if decision is not None:
            decisions.append(decision)
    return rows, decisions


def _pair(rng: random.Random, pair_id: str, scenario: dict) -> tuple[list[dict], dict | None]:
    good_first = rng.random() < 0.5
    good, bad = ("A", "B") if good_first else ("B", "A")
    response_a, response_b = (scenario["good"], scenario["bad"]) if good_first else (scenario["bad"], scenario["good"])
    truth = {dimension: (good if dimension == scenario["flaw"] else "tie") for dimension in DIMENSIONS}
    if scenario["flaw"] == "safety":
        truth["professionalism"] = good  # dangerous advice is also unprofessional advice
    second = dict(truth)
    if rng.random() < SLIP_RATE:
        slipped = rng.choice(DIMENSIONS)
        second[slipped] = "tie" if truth[slipped] != "tie" else rng.choice(("A", "B"))
    first_annotator, second_annotator = rng.sample(ANNOTATORS, 2)
    base = {"pair_id": pair_id, "prompt": [{"role": "user", "content": scenario["prompt"]}],
            "response_a": response_a, "response_b": response_b}
    note = FLAW_NOTES[scenario["flaw"]].format(bad=bad)
    rows = [
        {**base, "annotator": annotator, **judgment,
         "comment": note if rng.random() < COMMENT_RATE else None,
         "distribution": scenario["distribution"], "source": SOURCES[scenario["distribution"]]}
        for annotator, judgment in ((first_annotator, truth), (second_annotator, second))
    ]
    disputed = [dimension for dimension in DIMENSIONS if truth[dimension] != second[dimension]]
    decision = None
    if disputed and rng.random() < ARBITRATED_SHARE:
        decision = {"pair_id": pair_id, "arbitrator": EXPERT, **{d: truth[d] for d in disputed},
                    "comment": f"专家裁定：{note}"}
    return rows, decision
