"""Generation without a model: what gets answered (eval sets, prompt files), the resumable output, the endpoint
client (retries, per-item seeds) against a scripted loopback server, and `prefs pairs`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cmedins.errors import CmedinsError
from cmedins.generate.items import eval_set_items, prompt_file_items
from cmedins.generate.pairs import make_pairs
from cmedins.generate.resume import ResumableJsonl
from cmedins.generate.sampling import unit_seed
from tests.support.cli import run_cli
from tests.support.openai_stub import StubServer

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "cmedins" / "sample" / "data"


def test_single_turn_eval_set_items_carry_the_reference():
    found = eval_set_items("eval_sample", SAMPLE / "eval_sample.json", "huatuo26m")
    raw = json.loads((SAMPLE / "eval_sample.json").read_text(encoding="utf-8"))
    assert found.report()["items"] == len(raw) == found.rows and not found.unreadable
    first = found.items[0]
    assert first.id == "eval_sample:1"
    assert first.prompt == [{"role": "user", "content": raw[0]["instruction"][0]}]
    assert first.reference == raw[0]["output"][0]


def test_multi_turn_history_is_the_prompt():
    raw = json.loads((SAMPLE / "cmtmedqa.json").read_text(encoding="utf-8"))
    number, row = next((n, r) for n, r in enumerate(raw, start=1) if len(r.get("history") or []) >= 2)
    found = eval_set_items("mt", SAMPLE / "cmtmedqa.json", "cmtmedqa")
    item = next(i for i in found.items if i.id == f"mt:{number}")
    turns = len(row["history"])
    assert len(item.prompt) == 2 * turns + 1
    assert item.prompt[0] == {"role": "user", "content": row["history"][0][0].strip()}
    assert item.prompt[1] == {"role": "assistant", "content": row["history"][0][1].strip()}
    assert item.prompt[-1]["role"] == "user" and row["instruction"].strip() in item.prompt[-1]["content"]
    assert item.reference == row["output"].strip()


def test_real_cmtmedqa_test_set_every_row_accounted(shared_data: Path):
    found = eval_set_items("cmtmedqa_test", shared_data / "cmtmedqa" / "CMtMedQA_test.json", "cmtmedqa")
    assert found.rows == 1144  # 1,000 dialogues + 144 safety rows of another schema
    assert len(found.items) + len(found.unreadable) == found.rows
    multi = [i for i in found.items if len(i.prompt) > 1]
    assert len(multi) > 500 and all(i.prompt[-1]["role"] == "user" and i.reference for i in found.items)
    assert len(eval_set_items("h", shared_data / "huatuo26m_test_zhongjing" / "huatuo26M_test.json", "huatuo26m",
                              limit=50).items) == 50


def test_prompt_file_bad_row_is_one_line_naming_file_row_and_field(tmp_path, monkeypatch, capsys):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"question": "头痛怎么办？"}\n{"prompt": [{"role": "assistant", "content": "张三 13912345678"}]}\n',
                       encoding="utf-8")
    assert [i.id for i in prompt_file_items(prompts, limit=1).items] == ["prompts:1"]
    code, _, err = run_cli(monkeypatch, capsys, "generate", prompts, "--out", tmp_path / "a.jsonl",
                           "--endpoint", "http://127.0.0.1:9/v1", "--model", "m")
    assert code == 2
    assert err.strip().splitlines() == [f"error: {prompts}, row 2, field 'prompt': must end with a user message"]
    assert "13912345678" not in err


def test_resumable_file_cuts_a_torn_line_retries_errors_and_refuses_other_settings(tmp_path):
    out = tmp_path / "answers.jsonl"
    store = ResumableJsonl(out, ("id", "sample"), {"seed": 1})
    store.append({"id": "a", "sample": 0, "response": "好"})
    store.append({"id": "b", "sample": 0, "response": None, "error": "request failed"})
    with out.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "c", "sample": 0, "resp')  # the run was killed mid-write
    again = ResumableJsonl(out, ("id", "sample"), {"seed": 1})
    assert again.done(("a", 0)) and not again.done(("b", 0)) and not again.done(("c", 0))
    assert out.read_text(encoding="utf-8").count("\n") == 2 and out.read_text(encoding="utf-8").endswith("\n")
    with pytest.raises(CmedinsError, match="other settings \\(seed\\)"):
        ResumableJsonl(out, ("id", "sample"), {"seed": 2})


def _echo(messages, body):
    return f"答：{messages[-1]['content'][:6]}（seed {body.get('seed')}）"


def test_endpoint_generation_retries_sends_unit_seeds_and_resumes(tmp_path, monkeypatch, capsys):
    out = tmp_path / "answers.jsonl"
    args = ["generate", ROOT / "pipelines" / "eval_sample.yaml", "--out", out, "--model", "served", "--system", "sys",
            "--limit", "4", "--samples", "2", "--batch-size", "3", "--seed", "5", "--max-new-tokens", "64"]
    with StubServer(_echo, fail_first=2) as server:
        code, stdout, err = run_cli(monkeypatch, capsys, *args, "--endpoint", server.url)
        assert code == 0, err
        assert json.loads(stdout)["written"] == 8
        assert len(server.requests) == 8 + 2  # two 503s retried by the client
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        seeds = {(r["id"], r["sample"]): r["seed"] for r in rows}
        assert seeds[("eval_sample:1", 1)] == unit_seed(5, "eval_sample:1", 1)
        assert len(set(seeds.values())) == 8
        assert {r["seed"] for r in server.requests[2:]} == set(seeds.values())
        assert all(r["max_tokens"] == 64 and r["temperature"] == 0.7 for r in server.requests)
        assert all(r["response"].endswith(f"（seed {r['seed']}）") for r in rows)
        code, stdout, _ = run_cli(monkeypatch, capsys, *args, "--endpoint", server.url)
        assert code == 0 and json.loads(stdout)["written"] == 0 and len(server.requests) == 10
        code, _, err = run_cli(monkeypatch, capsys, *args[:-1], "6", "--endpoint", server.url)
        assert code == 2 and "other settings (sampling)" in err


def test_answers_that_came_back_are_kept_when_one_request_fails(tmp_path, monkeypatch, capsys):
    def flaky(messages, body):
        if "出汗" in messages[-1]["content"]:  # the first item of the sample eval set
            raise RuntimeError("scripted crash")
        return "答"

    out = tmp_path / "a.jsonl"
    with StubServer(flaky) as server:
        code, _, err = run_cli(monkeypatch, capsys, "generate", ROOT / "pipelines" / "eval_sample.yaml", "--out", out,
                               "--endpoint", server.url, "--model", "m", "--retries", "0", "--limit", "4")
    assert code == 2 and "request failed after retries" in err
    assert sorted(json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()) == [
        "eval_sample:2", "eval_sample:3", "eval_sample:4"]


def test_endpoint_that_keeps_failing_is_one_line_and_keeps_what_was_written(tmp_path, monkeypatch, capsys):
    with StubServer(_echo, always_fail=True) as server:
        code, _, err = run_cli(monkeypatch, capsys, "generate", ROOT / "pipelines" / "eval_sample.yaml", "--out",
                               tmp_path / "a.jsonl", "--endpoint", server.url, "--model", "m", "--retries", "1")
    assert code == 2
    assert err.strip() == f"error: {server.url}: request failed after retries (InternalServerError 500)"
    assert len(server.requests) == 2 * 8  # each of the first batch's 8 requests tried twice


def _answers(path: Path, system: str, texts: dict[str, str], sample: int = 0) -> Path:
    with path.open("a", encoding="utf-8") as handle:
        for item_id, text in texts.items():
            handle.write(json.dumps({"id": item_id, "sample": sample, "system": system, "response": text,
                                     "prompt": [{"role": "user", "content": f"问题 {item_id}"}]},
                                    ensure_ascii=False) + "\n")
    return path


def test_prefs_pairs_randomise_and_record_positions(tmp_path, monkeypatch, capsys):
    ids = [f"e:{i}" for i in range(40)]
    first = _answers(tmp_path / "sft.jsonl", "sft", {i: f"SFT 的回答 {i}" for i in ids})
    second = _answers(tmp_path / "dpo.jsonl", "dpo", {**{i: f"DPO 的回答 {i}" for i in ids[1:]}, "e:5": "SFT 的回答 e:5",
                                                      "e:7": ""})
    rows, report = make_pairs(first, second, seed=3)
    assert report["left_out"] == {"empty_answer": 1, "identical_answers": 1, "missing_answer": 1}
    assert report["pairs"] == len(rows) == 37
    assert 0 < report["a_is_first_input"] < 37  # both positions occur
    for row in rows:
        a_system = "dpo" if row["swapped"] else "sft"
        assert (row["system_a"], row["system_b"]) == (a_system, {"sft": "dpo", "dpo": "sft"}[a_system])
        assert row["response_a"].startswith(a_system.upper())
    assert make_pairs(first, second, seed=3)[0] == rows
    assert [r["swapped"] for r in make_pairs(first, second, seed=4)[0]] != [r["swapped"] for r in rows]
    out = tmp_path / "pairs.jsonl"
    code, stdout, err = run_cli(monkeypatch, capsys, "prefs", "pairs", first, second, "--out", out, "--seed", "3")
    assert code == 0, err
    assert json.loads(stdout)["pairs"] == 37
    code, stdout, err = run_cli(monkeypatch, capsys, "prefs", "export-tasks", out, "--out", tmp_path / "ls")
    assert code == 0, err
    tasks = json.loads((tmp_path / "ls" / "tasks.json").read_text(encoding="utf-8"))
    assert [t["data"]["pair_id"] for t in tasks] == [r["pair_id"] for r in rows]


def test_prefs_pairs_from_two_samples_of_one_model(tmp_path):
    answers = _answers(tmp_path / "m.jsonl", "m", {"e:1": "甲", "e:2": "乙"})
    _answers(answers, "m", {"e:1": "丙", "e:2": "乙"}, sample=1)
    rows, report = make_pairs(answers, seed=0)
    assert report["left_out"] == {"identical_answers": 1}
    assert {rows[0]["system_a"], rows[0]["system_b"]} == {"m#0", "m#1"}
    assert {rows[0]["response_a"], rows[0]["response_b"]} == {"甲", "丙"}
    with pytest.raises(CmedinsError, match="different sample numbers"):
        make_pairs(answers, sample_first=1, sample_second=1)


def test_serve_refuses_a_non_loopback_address(tmp_path, monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "serve", tmp_path / "no-model", "--host", "0.0.0.0")
    assert code == 2 and err.strip() == "error: serve binds loopback addresses only (127.0.0.1, ::1), not '0.0.0.0'"


def test_paper_eval_recipes_name_the_sets_the_training_recipe_decontaminates(shared_data):
    import yaml

    from cmedins.generate.recipe import load_eval_recipe

    training = yaml.safe_load((ROOT / "pipelines" / "cmedins.yaml").read_text(encoding="utf-8"))
    decontaminate = next(stage["decontaminate"] for stage in training["stages"] if "decontaminate" in stage)
    indexed = {(spec["name"], Path(spec["path"]).name, spec["format"]) for spec in decontaminate["eval_sets"]}
    for name, rows in (("eval_huatuo26m.yaml", 6000), ("eval_cmtmedqa.yaml", 1144)):
        recipe = load_eval_recipe(ROOT / "pipelines" / name)
        path = recipe.eval_path()
        assert (recipe.eval_set.name, path.name, recipe.eval_set.format) in indexed
        assert path.is_file() and eval_set_items(recipe.eval_set.name, path, recipe.eval_set.format).rows == rows
    sample = load_eval_recipe(ROOT / "pipelines" / "eval_sample.yaml")
    assert sample.eval_path().is_file() and sample.judge.order_rule == "tie"


def test_eval_recipe_errors_name_the_field(tmp_path):
    from cmedins.generate.recipe import load_eval_recipe

    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: x\neval_set: {name: x, path: a.json, format: huatuo26m}\njudge: {order_rule: maybe}\n",
                      encoding="utf-8")
    with pytest.raises(CmedinsError, match=r"r.yaml: field 'judge.order_rule'"):
        load_eval_recipe(recipe)


@pytest.mark.parametrize("module", ["openai", "rouge_score"])
def test_a_missing_eval_extra_is_named_in_one_line(monkeypatch, module):
    """openai and rouge-score are the `[eval]` extra, not core dependencies: without them the command that needs
    one says which extra to install instead of an ImportError traceback."""
    from cmedins.evaluate.reference import rouge_l
    from cmedins.generate.backends import OpenAIBackend

    monkeypatch.setitem(sys.modules, module, None)  # a None entry makes `import` raise ImportError
    with pytest.raises(CmedinsError, match=r"pip install 'cmedins\[eval\]'"):
        if module == "openai":
            OpenAIBackend("http://127.0.0.1:9/v1", "m")
        else:
            rouge_l([("答案", "参考答案")])
