"""The SPF build end to end (real de-identification), sources in real formats, and prompt sampling."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cmedins.cli import app
from cmedins.contracts.schema import DPORow
from cmedins.errors import CmedinsError
from cmedins.preference.build import build_spf
from cmedins.preference.privacy import annotator_id
from cmedins.preference.sampling import build_prompts, sample_prompts, source_prompts
from cmedins.preference.sources import medicalgpt_reward, read_zh_safety, zh_safety
from cmedins.rowio.readers import iter_rows

DATA = Path(__file__).parent / "data" / "preference"
RANKED = [
    {"question": "孕妇腹泻一天五次怎么办？", "responses": [
        "孕期频繁腹泻可致脱水和宫缩，请尽快到产科就诊，在医生指导下补液，不要自行用止泻药。",
        "建议多喝水，注意饮食卫生，如果持续腹泻请就医。", "多喝水就好。", "吃点黄连素。"]},
    {"question": "血压160/100需要吃药吗？", "responses": [
        "血压160/100属于2级高血压，需要在医生指导下开始降压药治疗，同时低盐饮食、规律运动。",
        "需要吃药，去医院开降压药。", "不用吃药，多运动就行。"]},
]


def write_inputs(folder: Path) -> Path:
    with (folder / "ranked.jsonl").open("w", encoding="utf-8") as handle:
        for row in RANKED:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    with (folder / "scored.jsonl").open("w", encoding="utf-8") as handle:
        for i in range(10):  # mean margin of rm_a/rm_b grows with i: pair 0 is flipped, pair 9 dropped
            handle.write(json.dumps({"question": f"第{i}个问题：头痛伴恶心怎么办？", "chosen": f"建议就医评估，排查颅内病变（{i}）",
                                     "rejected": f"忍一忍就好了（{i}）", "rm_a": i * 0.5, "rm_b": i * 0.3},
                                    ensure_ascii=False) + "\n")
    recipe = folder / "spf.yaml"
    recipe.write_text(f"""
name: spf-test
seed: 11
sources:
  - {{name: annotated, format: spf_jsonl, path: {DATA / 'annotations.jsonl'}, license: CC-BY-4.0}}
  - {{name: ranked, format: ranked_responses, path: ranked.jsonl}}
  - {{name: scored, format: scored_pairs, path: scored.jsonl}}
stages:
  - spf_deid: {{}}
  - spf_resolve: {{decisions: {DATA / 'decisions.jsonl'}, arbitrate_on: any}}
  - adjacent_pairs: {{}}
  - rm_vote: {{models: [rm_a, rm_b], flip_fraction: 0.1, sources: [scored]}}
  - dpo_rows: {{distribution: {{ranked: out}}}}
""", encoding="utf-8")
    return recipe


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("spf")
    out = folder / "out"
    result = CliRunner().invoke(app, ["prefs", "build", str(write_inputs(folder)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "19 pairs (in 13, out 6)" in result.output
    return out


def rows_of(build: Path) -> list[dict]:
    return [row for split in ("train", "validation") for _, row in iter_rows(build / "data" / f"{split}-00000-of-00001.parquet")]


def test_build_rows_follow_the_dpo_contract(build):
    rows = rows_of(build)
    assert len(rows) == 19 and len({row["id"] for row in rows}) == 19
    for row in rows:
        DPORow.model_validate(row)
    pregnant = next(r for r in rows if r["source"] == "cmedins" and "怀孕32周" in r["prompt"][0]["content"])
    assert pregnant["chosen"][0]["content"].startswith("孕晚期腹泻要重视")
    assert (pregnant["deciding_dimension"], pregnant["annotator_count"], pregnant["agreement"]) == ("safety", 2, 1.0)
    edema = next(r for r in rows if "氨氯地平" in r["prompt"][0]["content"])
    assert edema["arbitrated"] and edema["deciding_dimension"] == "professionalism"
    assert edema["chosen"][0]["content"].startswith("氨氯地平引起的踝部水肿")
    flipped = next(r for r in rows if r["prompt"][0]["content"].startswith("第0个问题"))
    assert flipped["chosen"][0]["content"] == "忍一忍就好了（0）"  # the weakest pair by RM vote is flipped
    assert (flipped["flipped"], flipped["decided_by"], flipped["rm_margin"]) == (True, "source", 0.0)
    assert {r["decided_by"] for r in rows if r["source"] == "cmedins"} == {"annotation"}
    assert {r["decided_by"] for r in rows if r["source"] == "ranked"} == {"rank"}
    assert not any(r["prompt"][0]["content"].startswith("第9个问题") for r in rows)  # the strongest dropped


def test_build_stats_and_accounting(build):
    stats = json.loads((build / "stats.json").read_text(encoding="utf-8"))
    assert stats["kind"] == "dpo" and stats["splits"] == {"train": 17, "validation": 2}
    assert stats["rows"] == {"input": 27, "created": 3, "kept": 19, "dropped": 11, "quarantined": 0, "balanced": True}
    assert stats["stages"]["spf_resolve"]["dropped"] == {"all_tie": 1, "awaiting_arbitration": 1,
                                                        "merged_cross_annotation": 8}
    pref = stats["preference"]
    assert pref["deciding_dimension"]["safety"] == {"in": 2, "out": 1, "total": 3}
    assert pref["deciding_dimension"]["none"] == {"in": 9, "out": 5, "total": 14}
    assert pref["arbitration"] == {"arbitrate_on": "any", "disputed": 3, "applied": 2, "pending": 1,
                                   "queue": "arbitration_queue.jsonl", "unused_decisions": []}
    assert pref["agreement"]["dimensions"]["safety"]["cohen_kappa"] == round(15 / 21, 4)
    assert pref["rm_vote"]["flipped"] == 1 and pref["rm_vote"]["dropped"] == 1
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["deid"]["ran"] is True and manifest["validation"]["rows"] == 19
    assert "SPF" in (build / "README.md").read_text(encoding="utf-8")


def test_pairs_below_min_annotators_are_counted_in_stats_and_card(tmp_path):
    recipe = write_inputs(tmp_path)
    text = recipe.read_text(encoding="utf-8")
    recipe.write_text(text.replace("arbitrate_on: any}", "arbitrate_on: any, min_annotators: 3}"), encoding="utf-8")
    judged = [json.loads(line) for line in (DATA / "annotations.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()]
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["prefs", "build", str(recipe), "--out", str(out)])
    assert result.exit_code == 0, result.output
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    held = stats["stages"]["spf_resolve"]["dropped"].get("below_min_annotators", 0)
    pref = stats["preference"]
    assert pref["min_annotators"] == 3 and pref["annotators"] == len({row["annotator"] for row in judged})
    # pairs of two annotators are held back with both judgments; the build keeps only pairs judged by three
    assert pref["held_back_below_min_annotators"] >= 5 and held == 2 * pref["held_back_below_min_annotators"]
    assert all(row["annotator_count"] >= 3 for row in rows_of(out) if row["source"] == "cmedins")
    card = (out / "README.md").read_text(encoding="utf-8")
    assert f"{pref['held_back_below_min_annotators']:,} pair(s) judged by fewer were held back" in card


def test_every_stage_report_reads_back_by_its_model(build):
    from cmedins.preference.stage import RmVoteReport
    from cmedins.runner.registry import load_plugins
    from cmedins.runner.stage import STAGES

    load_plugins()
    stats = json.loads((build / "stats.json").read_text(encoding="utf-8"))
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    reports = {key: STAGES[key].Report.from_build(key, stats, manifest) for key in stats["stages"] if key != "read"}
    assert set(reports) == {"spf_deid", "spf_resolve", "adjacent_pairs", "rm_vote", "dpo_rows"}
    vote = reports["rm_vote"]
    assert isinstance(vote, RmVoteReport) and vote.models == ["rm_a", "rm_b"]
    assert (vote.pairs, vote.flipped, vote.dropped) == (10, 1, stats["stages"]["rm_vote"]["dropped"]["rm_vote_strongest_margin"])
    pairs = reports["adjacent_pairs"]
    assert pairs.candidate_pairs == pairs.pairs + sum(pairs.dropped_pairs.values()) and pairs.pairs > 0
    assert reports["dpo_rows"].rows == stats["stages"]["dpo_rows"]["out"] == 19


def test_arbitration_queue_lists_the_pending_pair(build):
    [entry] = [row for _, row in iter_rows(build / "arbitration_queue.jsonl")]
    assert entry["pair_id"] == "p5" and entry["disputed"] == ["safety"]
    # annotators leave the work folder as stable pseudonyms, never their names
    assert sorted((j["annotator"], j["safety"]) for j in entry["judgments"]) == sorted(
        [(annotator_id("ann01"), "A"), (annotator_id("ann02"), "tie")])


def test_build_loads_with_datasets(build, tmp_path):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from datasets import load_dataset

    # A private cache: the shared one can hand back another build that lived at the same tmp path.
    dataset = load_dataset(str(build), cache_dir=str(tmp_path / "cache"))
    assert dataset["train"].num_rows == 17 and dataset["validation"].num_rows == 2
    assert dataset["train"][0]["chosen"][0]["role"] == "assistant"


def test_recipe_must_start_with_deid(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: x\nsources:\n  - {{name: a, format: spf_jsonl, path: {DATA / 'annotations.jsonl'}}}\n"
                      "stages:\n  - spf_resolve: {}\n  - dpo_rows: {}\n", encoding="utf-8")
    with pytest.raises(CmedinsError, match="must start with the spf_deid stage"):
        build_spf(recipe, tmp_path / "out")


def test_an_spf_recipe_cannot_declare_its_sources_de_identified(tmp_path):
    recipe = tmp_path / "r.yaml"  # the key is for SFT recipes without deid; SPF always runs spf_deid
    recipe.write_text(f"name: x\nsources_already_deidentified: true\nsources:\n  - {{name: a, format: spf_jsonl, "
                      f"path: {DATA / 'annotations.jsonl'}}}\nstages:\n  - spf_deid: {{}}\n  - dpo_rows: {{}}\n",
                      encoding="utf-8")
    with pytest.raises(CmedinsError, match="field 'sources_already_deidentified': an SPF recipe always runs spf_deid"):
        build_spf(recipe, tmp_path / "out")


# --- real sources -----------------------------------------------------------------------------------------

def test_medicalgpt_reward_pairs_load(shared_data):
    rows = [medicalgpt_reward(row) for _, row in iter_rows(shared_data / "medicalgpt_samples" / "reward_test.json")]
    assert len(rows) == 100
    assert rows[1]["prompt"][0]["content"].startswith("白带增多发黄怎么个情况")
    assert rows[1]["rejected"] == "可能是因为宫颈糜烂引起的炎症反应所致,建议到妇科检查一下"
    assert all(row["kind"] == "preference" and row["scores"] == {} for row in rows)


def test_zh_safety_folder_loads(shared_data):
    rows = [zh_safety(raw) for _, _, raw in read_zh_safety(shared_data / "zh_safety")]
    counts = {}
    for row in rows:
        counts[row["source"]] = counts.get(row["source"], 0) + 1
    # CValues has 664 prompts (ids 1-664; its SOURCE.md says 663: the last line has no newline)
    assert counts == {"flames": 1000, "cvalues": 664, "safetybench": 2100}
    safetybench = next(row for row in rows if row["source"] == "safetybench")
    assert safetybench["prompt"][0]["content"].endswith("\nA. 是。\nB. 否。")


# --- sampling ---------------------------------------------------------------------------------------------

def fake_sft_build(folder: Path, n: int, deid_ran: bool = True, deid: dict | None = None) -> Path:
    """n SFT rows in a build folder whose manifest's `deid` is the given section, by default one the runner
    wrote (the sample build's) or, with deid_ran=False, the section of a build without de-identification."""
    (folder / "data").mkdir(parents=True)
    rows = [{"id": f"{i:032x}", "source": "toyhom", "messages": [
        {"role": "user", "content": f"第{i}位患者：咳嗽{i}天了怎么办？"}, {"role": "assistant", "content": "建议就诊。"},
        *([{"role": "user", "content": "需要拍片吗？"}, {"role": "assistant", "content": "必要时拍胸片。"}] if i % 2 else [])]}
        for i in range(n)]
    pq.write_table(pa.Table.from_pylist(rows), folder / "data" / "train-00000-of-00001.parquet")
    if deid is None:
        deid = _RUNNER_DEID if deid_ran else {"ran": False}
    (folder / "manifest.json").write_text(json.dumps({"deid": deid}), encoding="utf-8")
    return folder


_RUNNER_DEID: dict = {}


@pytest.fixture(autouse=True)
def _runner_deid_section(sample_build):
    _RUNNER_DEID.update(json.loads((sample_build / "manifest.json").read_text(encoding="utf-8"))["deid"])


def test_sampling_reports_target_and_achieved(tmp_path):
    pool = build_prompts(fake_sft_build(tmp_path / "b", 30))
    assert pool[1]["prompt"][-1] == {"role": "user", "content": "需要拍片吗？"} and len(pool[1]["prompt"]) == 3
    ood = [{"prompt": [{"role": "user", "content": f"安全问题{i}"}], "source": "flames"} for i in range(8)]
    rows, report = sample_prompts(pool, ood + [pool[0]], n_in=10, n_out=5, seed=3)
    assert report["in"] == {"target": 10, "available": 30, "achieved": 10}
    assert report["out"]["target"] == 5 and report["out"]["achieved"] + report["out"]["dropped_in_training_set"] == 5
    again, _ = sample_prompts(list(reversed(pool)), ood + [pool[0]], n_in=10, n_out=5, seed=3)
    assert rows == again  # seeded, independent of input order
    _, small = sample_prompts(pool, ood, n_in=10_000, n_out=5_000, seed=3)
    assert (small["in"]["achieved"], small["out"]["achieved"]) == (30, 8)


def test_sampling_refuses_a_build_that_was_not_deidentified(tmp_path):
    with pytest.raises(CmedinsError, match="de-identification did not run"):
        build_prompts(fake_sft_build(tmp_path / "b", 3, deid_ran=False))


@pytest.mark.parametrize(("tamper", "field"), [
    (lambda deid: {"ran": True}, "deid.path"),  # a hand-written "it ran" without the gate's facts
    (lambda deid: {**deid, "ran": "yes"}, "deid"),
    (lambda deid: {**deid, "residual": {**deid["residual"], "scanned_texts": -1}}, "deid.residual.scanned_texts"),
])
def test_sampling_refuses_a_tampered_deid_section(tmp_path, tamper, field):
    """The manifest is read by the model the privacy gate wrote it from: an edited section is refused in one
    line naming the file and the field, not taken at its word."""
    build = fake_sft_build(tmp_path / "b", 3, deid=tamper(dict(_RUNNER_DEID)))
    with pytest.raises(CmedinsError) as refused:
        build_prompts(build)
    message = str(refused.value)
    assert "manifest.json" in message and f"'{field}'" in message and "\n" not in message


def test_sample_command_deidentifies_ood_prompts(tmp_path):
    ood = tmp_path / "cvalues.jsonl"
    ood.write_text("".join(json.dumps({"id_": i, "prompt": text}, ensure_ascii=False) + "\n" for i, text in enumerate(
        ["我叫王建国，电话13912345678，失眠能吃安眠药吗？", "抑郁症可以自己停药吗？", "减肥药能长期吃吗？"])), encoding="utf-8")
    out = tmp_path / "prompts.jsonl"
    result = CliRunner().invoke(app, ["prefs", "sample", "--sft-build", str(fake_sft_build(tmp_path / "b", 6)),
                                      "--ood", str(ood), "--ood-format", "cvalues", "--n-in", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["in"] == {"target": 4, "available": 6, "achieved": 4}
    rows = [row for _, row in iter_rows(out)]
    assert [row["distribution"] for row in rows].count("out") == 3
    texts = " ".join(row["prompt"][0]["content"] for row in rows)
    assert "王建国" not in texts and "13912345678" not in texts and "<电话>" in texts
    assert list(source_prompts(ood, "cvalues"))[1]["prompt"][0]["content"] == "抑郁症可以自己停药吗？"
