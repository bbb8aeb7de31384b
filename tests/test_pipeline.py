"""The recipe runner on small realistic corpora: conservation, determinism, mixing, quarantine, loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cmedins.errors import CmedinsError
from cmedins.sft.build import run_recipe
from tests.support.cli import run_cli
from tests.support.runner_corpus import SINGLE  # the same six consultations as the runner tests


def _write_sources(folder: Path) -> None:
    with (folder / "chatmed.jsonl").open("w", encoding="utf-8") as handle:
        for question, answer in SINGLE:
            handle.write(json.dumps({"query": f"<s>问：\n{question}\n答：\n", "response": answer}, ensure_ascii=False) + "\n")
        handle.write('{"query": "<s>问：\\n\\n答：\\n", "response": "无效"}\n')  # wrapper only: quarantined
        handle.write("not json at all\n")  # unparsable: quarantined
        # An exact copy of the first row: passes (no dedup stage here) and counts like any other row.
        handle.write(json.dumps({"query": f"<s>问：\n{SINGLE[0][0]}\n答：\n", "response": SINGLE[0][1]}, ensure_ascii=False) + "\n")
    multi = [{"id": f"m{i}", "cate1": "心血管科", "instruction": f"那我需要吃药吗？（第{i}例）", "input": "",
              "output": "血压持续超过140/90mmHg需要在医生指导下服用降压药。",
              "history": [[f"医生，我血压150/95mmHg，头晕{i}天了。", "有没有家族史？"], ["我父亲有高血压。", "建议先监测一周血压。"]]}
             for i in range(1, 4)]
    (folder / "cmtmedqa.json").write_text(json.dumps(multi, ensure_ascii=False), encoding="utf-8")
    general = [{"instruction": f"把下面的数字相加：{i} 和 {i + 1}", "input": "", "output": f"结果是{2 * i + 1}。"} for i in range(4)]
    (folder / "general.json").write_text(json.dumps(general, ensure_ascii=False), encoding="utf-8")


def _recipe(folder: Path, **overrides) -> Path:
    recipe = {
        "name": "unit", "seed": 11, "output": "out",
        "sources": [
            {"name": "chatmed", "path": "chatmed.jsonl", "format": "chatmed", "license": "research only"},
            {"name": "cmtmedqa", "path": "cmtmedqa.json", "format": "cmtmedqa"},
            {"name": "general", "path": "general.json", "format": "alpaca"},
        ],
        "stages": [{"dialogues": {}}],
        "split": {"validation": 0.25},
        "sources_already_deidentified": True,  # consultations without identities: the tests here are not about deid
        **overrides,
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path) -> Path:
    _write_sources(tmp_path)
    return tmp_path


def test_counts_add_up_and_mix_is_one_to_one(corpus):
    result = run_recipe(_recipe(corpus), show_progress=False)
    stats = result.stats
    assert stats["rows"] == {"input": 16, "created": 0, "kept": 10, "dropped": 4, "quarantined": 2, "balanced": True}
    assert stats["stages"]["read"]["quarantined"] == {"bad_row": 1, "bad_row:query": 1}
    # 7 single-turn rows available, 3 multi-turn: 1:1 keeps 3 of each; general rows are kept in full.
    assert stats["mix"]["available"] == {"cmedins": 0, "dialogue_single": 7, "dialogue_multi": 3, "general": 4}
    assert stats["mix"]["selected"] == {"cmedins": 0, "dialogue_single": 3, "dialogue_multi": 3, "general": 4}
    assert stats["stages"]["mix"]["dropped"] == {"mix_downsampled:dialogue_single": 4}
    assert stats["tasks"] == {"dialogue_multi": 3, "dialogue_single": 3, "general": 4}
    assert sum(stats["splits"].values()) == 10
    assert stats["sources"]["chatmed"]["quarantined"] == 2


def test_quarantine_keeps_raw_content_out_of_the_build_folder(corpus):
    out = run_recipe(_recipe(corpus), show_progress=False).out_dir
    public = [json.loads(line) for line in (out / "quarantine" / "read.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {(entry["row"], entry["field"]) for entry in public} == {(7, "query"), (8, None)}
    assert all("content" not in entry for entry in public)
    assert all(entry["file"].endswith("chatmed.jsonl") for entry in public)
    private = (out / ".work" / "quarantine" / "read.jsonl").read_text(encoding="utf-8")
    assert "not json at all" in private


def test_two_builds_are_byte_identical(corpus, tmp_path_factory):
    recipe = _recipe(corpus)
    first = run_recipe(recipe, tmp_path_factory.mktemp("a") / "b", show_progress=False).out_dir
    second = run_recipe(recipe, tmp_path_factory.mktemp("c") / "b", show_progress=False).out_dir
    for name in ("data/train-00000-of-00001.parquet", "data/validation-00000-of-00001.parquet", "stats.json",
                 "manifest.json", "preview.jsonl"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_output_loads_with_datasets_and_trl_sees_conversations(corpus):
    import datasets
    from trl.data_utils import is_conversational

    out = run_recipe(_recipe(corpus), show_progress=False).out_dir
    loaded = datasets.load_dataset(str(out))
    assert set(loaded) == {"train", "validation"}
    assert loaded["train"].num_rows + loaded["validation"].num_rows == 10
    parquet = datasets.load_dataset("parquet", data_files={"train": str(out / "data" / "train-*.parquet")})
    assert parquet["train"].num_rows == loaded["train"].num_rows
    assert all(is_conversational(row) for row in loaded["train"])
    row = next(r for r in loaded["train"] if r["task"] == "dialogue_multi")
    assert [m["role"] for m in row["messages"]] == ["user", "assistant"] * 3


def test_manifest_records_inputs_and_that_no_deid_ran(corpus):
    manifest = run_recipe(_recipe(corpus), show_progress=False).manifest
    assert [entry["source"] for entry in manifest["inputs"]] == ["chatmed", "cmtmedqa", "general"]
    assert all(len(entry["sha256"]) == 64 for entry in manifest["inputs"])
    assert manifest["deid"] == {"ran": False, "sources_already_deidentified": True}
    assert manifest["validation"] == {"ran": True, "stage": "validate", "passed": True, "rows": 14, "failed": 0,
                                      "errors": 0, "failed_by_reason": {}}
    assert manifest["seed"] == 11


def test_a_build_without_deid_warns_that_the_toolkit_did_not_de_identify(corpus, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "build", _recipe(corpus), "--out", corpus / "out", "-q")
    assert code == 0 and out.startswith(f"built {corpus / 'out'}: 10 rows")
    assert err == ("warning: the recipe declares sources_already_deidentified: true, so cmedins did not de-identify "
                   "this build; its card says so and `cmedins push` refuses it\n")
    with_deid = _recipe(corpus, stages=[{"deid": {}}, {"dialogues": {}}], sources_already_deidentified=False)
    code, _, err = run_cli(monkeypatch, capsys, "build", with_deid, "--out", corpus / "out", "-q")
    assert code == 0 and err == ""


def test_ratio_two_to_one_and_all_groups_named(corpus):
    stats = run_recipe(_recipe(corpus, mix={"ratios": {"dialogue_single": 2, "dialogue_multi": 1, "general": 1}}),
                       show_progress=False).stats
    assert stats["mix"]["selected"] == {"cmedins": 0, "dialogue_single": 6, "dialogue_multi": 3, "general": 3}


@pytest.mark.parametrize(("overrides", "message"), [
    ({"stages": [{"sharpen": {}}]}, "unknown stage 'sharpen'"),
    ({"stages": [{"dialogues": {}}, {"deid": {}}]}, "deid stage must come first"),
    ({"mix": {"ratios": {"dialog": 1}}}, "field 'mix.ratios'"),
])
def test_recipe_errors_are_one_line_and_name_the_problem(corpus, overrides, message):
    with pytest.raises(CmedinsError, match=message):
        run_recipe(_recipe(corpus, **overrides), show_progress=False)


def test_unknown_format_and_missing_file(corpus):
    recipe = _recipe(corpus, sources=[{"name": "x", "path": "chatmed.jsonl", "format": "chatgpt"}])
    with pytest.raises(CmedinsError, match="unknown format 'chatgpt'"):
        run_recipe(recipe, show_progress=False)
    recipe = _recipe(corpus, sources=[{"name": "x", "path": "nope.jsonl", "format": "chatmed"}])
    with pytest.raises(CmedinsError, match="nope.jsonl not found"):
        run_recipe(recipe, show_progress=False)


def test_refuses_to_wipe_a_folder_that_is_not_a_build(corpus):
    (corpus / "out").mkdir()
    (corpus / "out" / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(CmedinsError, match="not made by `cmedins build`"):
        run_recipe(_recipe(corpus), show_progress=False)
    assert (corpus / "out" / "thesis.docx").read_text(encoding="utf-8") == "precious"
