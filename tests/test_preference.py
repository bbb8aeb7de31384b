"""SPF core: agreement against hand-computed values, priority resolution, cross-annotation and arbitration,
reward-model vote, ranked lists, DPO rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmedins.contracts.schema import DIMENSIONS, DPORow
from cmedins.errors import RowError
from cmedins.preference.agreement import (
    agreement_report,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)
from cmedins.preference.crossannotation import decide_pair, load_decisions, majority, queue_entry
from cmedins.preference.dpo import dpo_row
from cmedins.preference.judgments import group_by_pair, parse_annotation
from cmedins.preference.priority import resolve
from cmedins.preference.ranked import adjacent_pairs
from cmedins.preference.rm_vote import VoteConfig, select
from cmedins.rowio.readers import iter_rows

DATA = Path(__file__).parent / "data" / "preference"


def load_annotations() -> dict[str, list[dict]]:
    rows = [parse_annotation(row) for _, row in iter_rows(DATA / "annotations.jsonl")]
    pairs, repeats, conflicts = group_by_pair(rows)
    assert (repeats, conflicts) == ([], [])
    return pairs


# --- agreement -------------------------------------------------------------------------------------------

def test_cohen_kappa_textbook_example():
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> p_o = 0.7, p_e = 0.5*0.6 + 0.5*0.4 = 0.5, kappa 0.4
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(first, second) == pytest.approx(0.4)


def test_cohen_kappa_on_spf_labels_by_hand():
    # p_o = 5/6; first A2 tie3 B1, second A1 tie4 B1 -> p_e = (2*1 + 3*4 + 1*1)/36 = 15/36; kappa = 15/21
    first = ["A", "tie", "tie", "tie", "A", "B"]
    second = ["A", "tie", "tie", "tie", "tie", "B"]
    assert cohen_kappa(first, second) == pytest.approx(15 / 21)
    assert percent_agreement(list(zip(first, second, strict=True))) == pytest.approx(5 / 6)


def test_kappa_undefined_when_everything_is_tie():
    assert cohen_kappa(["tie"] * 3, ["tie"] * 3) is None
    assert fleiss_kappa([["tie", "tie"], ["tie", "tie"]]) is None


def test_fleiss_kappa_wikipedia_example():
    # Fleiss (1971) worked example: 10 subjects, 14 raters, 5 categories -> P_bar 0.378, P_e 0.213, kappa 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    items = [[str(category) for category, n in enumerate(counts) for _ in range(n)] for counts in table]
    assert percent_agreement(items) == pytest.approx(0.378, abs=5e-4)
    assert fleiss_kappa(items) == pytest.approx(0.2099, abs=1e-4)


def test_fleiss_kappa_with_varying_rater_counts_by_hand():
    # safety labels of the fixture: six pairs with two annotators, one with three (A, A, B).
    # P_bar = (5 * 1 + 1/3) / 7 = 16/21; label shares A 5/15, tie 7/15, B 3/15 -> P_e = 83/225
    items = [["A", "A"], ["tie", "tie"], ["tie", "tie"], ["tie", "tie"], ["A", "tie"], ["A", "A", "B"], ["B", "B"]]
    expected = (16 / 21 - 83 / 225) / (1 - 83 / 225)
    assert fleiss_kappa(items) == pytest.approx(expected)
    assert round(expected, 4) == 0.6227


def test_krippendorff_alpha_textbook_example_with_missing_values():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 coders, 12 units, missing values;
    # nominal alpha = 0.743.
    coders = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
              [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None], [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]]
    items = [{f"c{c}": str(coders[c][u]) for c in range(4) if coders[c][u] is not None} for u in range(12)]
    assert krippendorff_alpha(items) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_alpha_with_rotating_annotators_by_hand():
    # Four annotators, each pair judged by a different two: Cohen's kappa would pool different people.
    # Pairable values: A,A | tie,tie | A,tie | B,B -> n = 8; n_A = 3, n_tie = 3, n_B = 2.
    # D_o = 2 (one disagreeing pair, counted both ways) / 8; D_e = (64 - 9 - 9 - 4) / (8 * 7) = 42/56.
    items = [{"ann_01": "A", "ann_02": "A"}, {"ann_03": "tie", "ann_04": "tie"}, {"ann_01": "A", "ann_03": "tie"},
             {"ann_02": "B", "ann_04": "B"}, {"ann_02": "A"}]  # the last has one judgment: not pairable
    assert krippendorff_alpha(items) == pytest.approx(1 - (2 / 8) / (42 / 56))
    assert krippendorff_alpha([{"a": "tie", "b": "tie"}]) is None  # one label only: undefined


def test_agreement_report_on_fixture():
    report = agreement_report(list(load_annotations().values()), DIMENSIONS)
    assert report["pairs"] == 7 and report["cross_annotated"] == 7
    assert report["annotators_per_pair"] == {"2": 6, "3": 1}
    safety = report["dimensions"]["safety"]
    assert safety == {"percent_agreement": round(16 / 21, 4), "cohen_kappa": round(15 / 21, 4), "cohen_pairs": 6,
                      "fleiss_kappa": 0.6227, "krippendorff_alpha": safety["krippendorff_alpha"]}
    assert safety["krippendorff_alpha"] == round(krippendorff_alpha(
        [{a["annotator"]: a["safety"] for a in group} for group in load_annotations().values()]), 4)
    assert report["dimensions"]["professionalism"]["cohen_pairs"] == 6


# --- priority ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("judgments", "expected"), [
    ({"safety": "A", "professionalism": "B", "fluency": "B"}, ("A", "safety")),
    ({"safety": "tie", "professionalism": "B", "fluency": "A"}, ("B", "professionalism")),
    ({"safety": "tie", "professionalism": "tie", "fluency": "A"}, ("A", "fluency")),
    ({"safety": "tie", "professionalism": "tie", "fluency": "tie"}, (None, None)),
])
def test_priority_safety_then_professionalism_then_fluency(judgments, expected):
    assert resolve(judgments) == expected


# --- cross-annotation and arbitration -----------------------------------------------------------------------

def test_majority_needs_more_than_half():
    assert majority(["A", "A", "B"]) == "A"
    assert majority(["A", "B"]) is None
    assert majority(["A", "B", "tie"]) is None


def test_fixture_pairs_resolve_as_annotated():
    pairs = load_annotations()
    decisions = load_decisions(DATA / "decisions.jsonl")
    results = {pid: decide_pair(group, decision=decisions.get(pid)) for pid, group in pairs.items()}
    summary = {pid: (r.status, r.winner, r.deciding_dimension, r.arbitrated) for pid, r in results.items()}
    assert summary == {
        "p1": ("decided", "A", "safety", False),
        "p2": ("decided", "B", "professionalism", True),   # professionalism A vs B, the expert said B
        "p3": ("all_tie", None, None, False),
        "p4": ("decided", "B", "fluency", False),
        "p5": ("awaiting_arbitration", None, None, False),  # safety A vs tie, no decision yet
        "p6": ("decided", "A", "safety", False),          # 2 of 3 annotators: A
        "p7": ("decided", "B", "safety", True),           # fluency A vs tie, settled though safety decides
    }
    assert results["p1"].agreement == 1.0
    assert results["p5"].agreement == pytest.approx(round(2 / 3, 6))
    assert results["p6"].agreement == pytest.approx(round((1 / 3 + 1 + 1 / 3) / 3, 6))


def test_deciding_mode_only_queues_outcome_changing_disputes():
    pairs = load_annotations()
    p7 = decide_pair(pairs["p7"], arbitrate_on="deciding")
    assert (p7.disputed, p7.status, p7.winner, p7.arbitrated) == ([], "decided", "B", False)
    p5 = decide_pair(pairs["p5"], arbitrate_on="deciding")
    assert p5.disputed == ["safety"] and p5.status == "awaiting_arbitration"


def test_queue_entry_round_trips_as_a_decision(tmp_path):
    pairs = load_annotations()
    entry = queue_entry(decide_pair(pairs["p5"]))
    assert entry["disputed"] == ["safety"] and entry["decision"] == {"safety": None}
    assert [j["safety"] for j in entry["judgments"]] == ["A", "tie"]
    entry["decision"]["safety"] = "A"
    entry["arbitrator"] = "expert01"
    path = tmp_path / "filled.jsonl"
    path.write_text(json.dumps(entry, ensure_ascii=False) + "\n", encoding="utf-8")
    settled = decide_pair(pairs["p5"], decision=load_decisions(path)["p5"])
    assert (settled.status, settled.winner, settled.deciding_dimension, settled.arbitrated) == \
        ("decided", "A", "safety", True)


def test_decision_missing_a_disputed_dimension_names_file_row_field(tmp_path):
    path = tmp_path / "decisions.jsonl"
    path.write_text('{"pair_id": "p5", "fluency": "A"}\n', encoding="utf-8")
    with pytest.raises(RowError) as error:
        decide_pair(load_annotations()["p5"], decision=load_decisions(path)["p5"])
    assert (error.value.field, error.value.row) == ("safety", 1)
    assert str(path) in str(error.value)


def test_bad_decision_value_is_rejected(tmp_path):
    path = tmp_path / "decisions.jsonl"
    path.write_text('{"pair_id": "p5"}\n{"pair_id": "p2", "professionalism": "C"}\n', encoding="utf-8")
    with pytest.raises(RowError, match="row 2, field 'professionalism'"):
        load_decisions(path)


def test_annotation_errors_name_the_field():
    row = {"pair_id": "x", "annotator": "ann01", "prompt": "头痛怎么办", "response_a": "休息", "response_b": "就医",
           "safety": "A", "professionalism": "better", "fluency": "tie"}
    with pytest.raises(RowError) as error:
        parse_annotation(row)
    assert error.value.field == "professionalism"
    assert parse_annotation({**row, "professionalism": "b"})["prompt"] == [{"role": "user", "content": "头痛怎么办"}]


def test_conflicting_pair_content_and_repeats_are_separated():
    pairs = load_annotations()
    first, second = pairs["p1"]
    changed = {**second, "response_b": "另一个回答"}
    repeat = {**first, "fluency": "A"}
    grouped, repeats, conflicts = group_by_pair([first, second, changed, repeat])
    assert conflicts == [changed] and repeats == [first]
    assert [a["fluency"] for a in grouped["p1"]] == ["A", "B"]


# --- reward-model vote, ranked lists, DPO rows ------------------------------------------------------------

def _scored(n: int) -> list[dict]:
    # margins 0..n-1 for rm1; rm2 the same shifted by one: mean margin i + 0.5
    return [{"prompt": [{"role": "user", "content": f"问题{i}"}], "chosen": f"好{i}", "rejected": f"差{i}",
             "scores": {"rm1_chosen": float(i), "rm1_rejected": 0.0, "rm2": i + 1.0}} for i in range(n)]


def test_rm_vote_drops_strongest_tenth_and_flips_nothing_by_default():
    rows = list(reversed(_scored(20)))
    kept, dropped, flips = select(rows, VoteConfig(("rm1", "rm2")))
    assert flips == {"flipped": 0, "flip_protected": 0} and [r["chosen"] for r in dropped] == ["好19", "好18"]
    assert len(kept) == 18 and all(r["chosen"].startswith("好") and not r.get("flipped") for r in kept)


def test_rm_vote_flips_weakest_tenth_when_asked():
    rows = list(reversed(_scored(20)))
    kept, _, flips = select(rows, VoteConfig(("rm1", "rm2"), flip_fraction=0.1))
    by_prompt = {r["prompt"][0]["content"]: r for r in kept}
    assert flips == {"flipped": 2, "flip_protected": 0}
    assert (by_prompt["问题0"]["chosen"], by_prompt["问题0"]["rejected"]) == ("差0", "好0")
    assert by_prompt["问题1"]["flipped"] and not by_prompt["问题2"].get("flipped")
    assert by_prompt["问题0"]["rm_margin"] == -0.5 and by_prompt["问题2"]["rm_margin"] == 2.5


def test_rm_vote_never_flips_a_clear_score_margin_or_an_annotated_pair():
    rows = _scored(10)
    rows[0] = {**rows[0], "score_margin": 2.0, "chosen_model": "doctor", "rejected_model": "gpt-3.5"}
    rows[1] = {**rows[1], "decided_by": "annotation"}
    rows[2] = {**rows[2], "score_margin": 0.5, "chosen_score": 7.5, "rejected_score": 7.0,
               "chosen_model": "gpt-4", "rejected_model": "bentsao"}
    kept, _, flips = select(rows, VoteConfig(("rm2",), flip_fraction=0.3, drop_fraction=0.0, clear_margin=1.0))
    assert flips == {"flipped": 1, "flip_protected": 2}
    assert [r["chosen"] for r in kept[:3]] == ["好0", "好1", "差2"]
    swapped = kept[2]
    assert (swapped["chosen_model"], swapped["chosen_score"], swapped["score_margin"]) == ("bentsao", 7.0, -0.5)


def test_rm_vote_fractions_are_configurable_and_missing_scores_named():
    kept, dropped, flips = select(_scored(10), VoteConfig(("rm2",), flip_fraction=0.3, drop_fraction=0.0))
    assert (len(kept), len(dropped), flips["flipped"]) == (10, 0, 3)
    with pytest.raises(RowError) as error:
        select(_scored(3), VoteConfig(("rm3",)))
    assert error.value.field == "rm3"


def test_ranked_list_to_adjacent_pairs():
    ranking = {"kind": "ranking", "prompt": [{"role": "user", "content": "孕妇腹泻怎么办"}],
               "responses": ["医生的回答", "GPT-4 的回答", "GPT-3.5 的回答", "BenTsao 的回答"], "source": "chimed"}
    pairs, dropped = adjacent_pairs(ranking)
    assert not dropped and all(p["decided_by"] == "rank" and p["score_margin"] is None for p in pairs)
    assert [(p["chosen"], p["rejected"], p["rank"]) for p in pairs] == [
        ("医生的回答", "GPT-4 的回答", 1), ("GPT-4 的回答", "GPT-3.5 的回答", 2), ("GPT-3.5 的回答", "BenTsao 的回答", 3)]
    assert all(p["kind"] == "preference" and p["source"] == "chimed" for p in pairs)


def test_dpo_row_follows_the_contract():
    pair = {"prompt": [{"role": "user", "content": "胸痛出冷汗怎么办"}], "chosen": "立即拨打120", "rejected": "多喝热水",
            "source": "cmedins", "deciding_dimension": "safety", "annotator_count": 2, "agreement": 1.0,
            "arbitrated": False}
    row = dpo_row(pair, "in")
    DPORow.model_validate(row)
    assert row["chosen"] == [{"role": "assistant", "content": "立即拨打120"}]
    assert len(row["id"]) == 32 and row["id"] == dpo_row(dict(pair), "in")["id"]
    assert dpo_row({**pair, "chosen": pair["rejected"], "rejected": pair["chosen"]}, "in")["id"] != row["id"]
    with pytest.raises(RowError) as error:
        dpo_row({**pair, "agreement": 1.5}, "in")
    assert error.value.field == "agreement"
