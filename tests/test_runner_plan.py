"""The whole plan (sources' formats -> stages in order with typed parameters -> output) is checked before any
row is read: every mistake is one line naming the recipe key, exit 2, and no source file is opened."""

from __future__ import annotations

import pytest

from cmedins.rowio.formats import Format
from cmedins.runner.stage import STAGES, NoParams, StageParams
from tests.support.runner_corpus import write_recipe
from tests.test_runner_outdir import assert_refused, run_cli

SFT_MISTAKES = {
    "unknown key of a stage without parameters": (
        {"stages": [{"dialogues": {"colour": "red"}}]}, "stages.0.dialogues.colour", "unknown parameter"),
    "validate takes no parameters": (
        {"stages": [{"dialogues": {}}, {"validate": {"strict": False}}]}, "stages.1.validate.strict",
        "unknown parameter"),
    "a word where a number belongs": (
        {"stages": [{"dialogues": {}}, {"dedup": {"n": "five"}}]}, "stages.1.dedup.n", "valid integer"),
    "a number given as text is not coerced": (
        {"stages": [{"dialogues": {}}, {"dedup": {"num_perm": "128"}}]}, "stages.1.dedup.num_perm", "valid integer"),
    "a share above 1": (
        {"stages": [{"dialogues": {}}, {"decontaminate": {"threshold": 7, "eval_sets": [
            {"name": "held_out", "path": "src/cmtmedqa.json", "format": "cmtmedqa"}]}}]},
        "stages.1.decontaminate.threshold", "less than or equal to 1"),
    "decontaminate without eval sets": (
        {"stages": [{"dialogues": {}}, {"decontaminate": {}}]}, "stages.1.decontaminate.eval_sets", "required"),
    "an unknown dedup scope": (
        {"stages": [{"dialogues": {}}, {"dedup": {"scope": "everything"}}]}, "stages.1.dedup.scope", "Input should"),
    "a bad text selection": (
        {"stages": [{"dialogues": {}}, {"dedup": {"text": {"record": "answers"}}}]}, "stages.1.dedup.text",
        "Input should"),
    "a deid option the model lacks": (
        {"stages": [{"deid": {"operator": "hash"}}, {"dialogues": {}}]}, "stages.0.deid.operator", "Input should"),
    "validate before dialogues": (
        {"stages": [{"validate": {}}, {"dialogues": {}}]}, "stages.0.validate",
        "conversation rows reach it"),
    "dedup before dialogues would compare nothing": (
        {"stages": [{"dedup": {}}, {"dialogues": {}}]}, "stages.0.dedup", "only conversation rows reach it"),
    "no stage makes SFT rows": (
        {"stages": []}, "validate (added by the runner)", "conversation rows reach it"),
    "a typo in a stage name": (
        {"stages": [{"dialogues": {}}, {"dedupe": {}}]}, "stages.1", "unknown stage 'dedupe'"),
    "no deid stage, and no word that the sources are de-identified": (  # raw text would reach the build folder
        {"sources_already_deidentified": None}, "recipe: no deid stage",
        "set 'sources_already_deidentified: true' if the sources were de-identified before cmedins"),
    "the de-identified declaration given as text": (  # a privacy opt-out is a YAML boolean, not a string
        {"sources_already_deidentified": "true"}, "field 'sources_already_deidentified'", "valid boolean"),
    "deid not first": (
        {"stages": [{"dialogues": {}}, {"deid": {}}]}, "deid stage must come first", ""),
    "a preference format in an SFT build": (
        {"sources": [{"name": "pairs", "path": "src/chatmed.jsonl", "format": "medicalgpt_reward"}]},
        "sources.0.format", "gives preference rows; an SFT build reads record/conversation"),
    "an unknown format": (
        {"sources": [{"name": "x", "path": "src/chatmed.jsonl", "format": "chatmedd"}]}, "sources.0.format",
        "unknown format 'chatmedd'"),
}


@pytest.fixture
def no_reading(monkeypatch):
    """Any attempt to read a source fails the test: the plan must be refused first."""
    def refuse(self, path):
        raise AssertionError(f"a source was read before the plan was checked: {path}")
    monkeypatch.setattr(Format, "read", refuse)


@pytest.mark.parametrize("mistake", sorted(SFT_MISTAKES))
def test_plan_mistakes_are_refused_before_reading(tmp_path, monkeypatch, capsys, no_reading, mistake):
    overrides, key, words = SFT_MISTAKES[mistake]
    recipe = write_recipe(tmp_path, **overrides)
    code, _, err = run_cli(monkeypatch, capsys, "build", str(recipe), "--out", str(tmp_path / "out"), "-q")
    assert_refused(code, err, key, words)
    assert not (tmp_path / "out").exists()


def test_a_conversation_format_in_an_spf_build_is_refused(tmp_path, monkeypatch, capsys, no_reading):
    recipe = write_recipe(tmp_path, stages=[{"spf_deid": {}}, {"dpo_rows": {}}])
    code, _, err = run_cli(monkeypatch, capsys, "prefs", "build", str(recipe), "--out", str(tmp_path / "out"))
    assert_refused(code, err, "sources.0.format", "an SPF build reads annotation/preference/ranking")


def test_a_recipe_that_is_not_utf8_is_refused(tmp_path, monkeypatch, capsys):
    recipe = write_recipe(tmp_path, description="中文说明")
    recipe.write_bytes(recipe.read_text(encoding="utf-8").encode("gbk"))
    code, _, err = run_cli(monkeypatch, capsys, "build", str(recipe), "--out", str(tmp_path / "out"), "-q")
    assert_refused(code, err, "recipe.yaml", "UTF-8")


def test_a_good_plan_still_builds(tmp_path):
    from cmedins.sft.build import run_recipe

    recipe = write_recipe(tmp_path, stages=[{"dialogues": {}}, {"dedup": {"n": 4, "threshold": 0.8}}])
    result = run_recipe(recipe, tmp_path / "out", show_progress=False)
    assert result.stats["rows"]["kept"] == 10  # 3 + 3 dialogues (mixed 1:1) + 4 general
    assert (result.stats["dedup"]["params"]["n"], result.stats["dedup"]["params"]["threshold"]) == (4, 0.8)


def test_every_registered_stage_declares_a_strict_parameter_model():
    from cmedins.deid.config import DeidConfig
    from cmedins.runner.registry import load_plugins

    load_plugins()
    assert {"deid", "tasks", "dialogues", "dedup", "decontaminate", "validate", "spf_deid", "spf_resolve",
            "adjacent_pairs", "rm_vote", "dpo_rows"} <= set(STAGES)
    for name, cls in STAGES.items():
        assert issubclass(cls.Params, StageParams) or cls.Params is DeidConfig, name
        assert cls.Params.model_config.get("extra") == "forbid", name
        assert cls.takes, f"{name} declares no row kinds"
        assert not hasattr(cls, "allowed_params"), name
    assert STAGES["dialogues"].Params is NoParams and STAGES["validate"].Params is NoParams


def test_a_stage_name_cannot_be_registered_twice():
    from cmedins.runner.stage import Stage, register_stage

    class Impostor(Stage):
        name = "dedup"

    with pytest.raises(ValueError, match="registered twice"):
        register_stage(Impostor)


@pytest.mark.parametrize("text, where", [("name: [\n", "line 2 column 1"), ("name: t\n  bad: : x\n", "line 2 column 6")])
def test_invalid_yaml_is_one_line_naming_line_and_column(tmp_path, text, where):
    """PyYAML's message spans several lines and quotes the recipe's text; the error is one line instead."""
    from cmedins.errors import CmedinsError
    from cmedins.runner.recipe import load_recipe
    recipe = tmp_path / "broken.yaml"
    recipe.write_text(text, encoding="utf-8")
    with pytest.raises(CmedinsError) as caught:
        load_recipe(recipe)
    message = str(caught.value)
    assert "\n" not in message and f"invalid YAML at {where}: " in message and message.startswith(str(recipe))
