"""Dedup and decontamination on the real samples in ../shared/data (skipped without them)."""

from __future__ import annotations

import json

import numpy as np

from cmedins.contracts.ids import content_id
from cmedins.dedup.engine import EXACT, KEPT, NEAR, DedupIndex, DedupParams
from cmedins.dedup.normalise import normalise
from cmedins.dedup.signatures import Signer
from cmedins.dedup.stage import DecontaminateStage
from cmedins.rowio.readers import iter_rows
from cmedins.runner.ledger import Ledger
from cmedins.runner.stage import BuildContext


def test_toyhom_txt_layout_is_all_duplicates_of_the_csv(shared_data, tmp_path):
    from cmedins.dialogue.adapters import read_toyhom_txt, toyhom_csv

    folder = shared_data / "toyhom_cmdd"
    rows = [("csv", toyhom_csv(row)) for _, row in iter_rows(folder / "样例_内科5000-6000.csv")]
    rows += [("txt", toyhom_csv(row)) for _, _, row in read_toyhom_txt(folder / "内科.txt")]
    index = DedupIndex(DedupParams(), tmp_path)
    for number, (layout, conversation) in enumerate(rows):
        question, answer = (m["content"] for m in conversation["messages"])
        index.add(question, group=layout, answer_chars=len(answer), row_id=f"{number:08d}")
    result = index.resolve()
    layout = np.array([name for name, _ in rows])
    found = {(name, scope, status): int(((layout == name) & (result.scope == scope) & (result.status == status)).sum())
             for name in ("csv", "txt") for scope in (0, 1) for status in (EXACT, NEAR)}
    # Within the CSV: 406 reposted questions + 24 near copies; within the txt: 221 + 9.
    assert (found[("csv", 0, EXACT)], found[("csv", 0, NEAR)]) == (406, 24)
    assert (found[("txt", 0, EXACT)], found[("txt", 0, NEAR)]) == (221, 9)
    # Globally every remaining txt pair is the same question as a CSV row (3 txt copies carry a longer answer,
    # so those are kept and the CSV row goes): nothing of the txt layout survives on its own.
    assert (found[("txt", 1, EXACT)], found[("csv", 1, EXACT)], found[("txt", 1, NEAR)]) == (3815, 3, 0)
    kept_txt = (layout == "txt") & (result.status == KEPT)
    assert int(kept_txt.sum()) == 3


def test_kuake_qqr_dev_precision_recall_at_the_defaults(shared_data):
    """Label 2 = equivalent. Pairwise decision at the defaults (5-grams, 128 perms, estimated Jaccard >= 0.7).
    Character n-grams cannot see paraphrase, so recall is low by design; precision is what dedup must keep."""
    pairs = [p for p in json.loads((shared_data / "cblue_kuake_qqr" / "KUAKE-QQR_dev.json").read_text())
             if p["label"] in ("0", "1", "2")]
    truth = np.array([p["label"] == "2" for p in pairs])
    left = [normalise(p["query1"]) for p in pairs]
    right = [normalise(p["query2"]) for p in pairs]
    signer = Signer(5, 128)
    estimated = (signer.sign(left) == signer.sign(right)).mean(axis=1)
    predicted = np.array([a == b for a, b in zip(left, right, strict=True)]) | (estimated >= 0.7)
    tp, fp, fn = int((predicted & truth).sum()), int((predicted & ~truth).sum()), int((~predicted & truth).sum())
    assert (tp, fp, fn) == (58, 7, 276)
    assert tp / (tp + fp) > 0.89


def test_decontamination_against_the_real_eval_sets(shared_data, tmp_path):
    """Eval questions planted in training rows are caught; real ChatMed consultations are not flagged."""
    from cmedins.dialogue.adapters import chatmed, huatuo26m

    eval_rows = json.loads((shared_data / "huatuo26m_test_zhongjing" / "huatuo26M_test.json").read_text())
    def sft(conversation: dict, source: str) -> dict:
        messages = conversation["messages"]
        return {"kind": "sft", "id": content_id(messages), "messages": messages, "task": "dialogue_single",
                "source": source}

    planted = [sft(huatuo26m(row), "planted") for row in eval_rows[:100] if len(normalise(row["instruction"][0])) >= 12]
    real = [sft(chatmed(row), "chatmed") for _, row in iter_rows(shared_data / "chatmed_consult" / "ChatMed-Consult_test.json")]
    ctx = BuildContext(seed=1, work_dir=tmp_path / "build" / ".work", ledger=Ledger(tmp_path / "q", tmp_path / "p"),
                       recipe_dir=shared_data)
    stage = DecontaminateStage({"eval_sets": [
        {"name": "huatuo26m_test", "path": "huatuo26m_test_zhongjing/huatuo26M_test.json", "format": "huatuo26m"},
        {"name": "cmtmedqa_test", "path": "cmtmedqa/CMtMedQA_test.json", "format": "cmtmedqa"}]}, ctx)
    kept = list(stage.run(iter(real + planted)))
    assert {row["source"] for row in kept} == {"chatmed"} and len(kept) == len(real)
    assert ctx.ledger.stage("decontaminate").dropped == {"contaminated:huatuo26m_test": len(planted)}
    assert ctx.reports["decontaminate"].eval_sets["cmtmedqa_test"].rows == 1144
