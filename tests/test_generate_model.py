"""Generation and judging with the tiny local model (slow): deterministic under a seed, resumable after a kill,
LoRA adapters applied, and the whole loop through the loopback server (`cmedins serve`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from tests.support.cli import run_cli  # noqa: E402
from tests.support.sockets import listening_addresses  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "pipelines" / "eval_sample.yaml"
sys.path.insert(0, str(ROOT / "train"))
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from make_tiny_model import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("model") / "tiny", [ROOT / "cmedins" / "sample" / "data"],
                           vocab_size=1024)


def generate(monkeypatch, capsys, model: Path, out: Path, *extra) -> dict:
    code, stdout, err = run_cli(monkeypatch, capsys, "generate", RECIPE, "--model", model, "--out", out, *extra)
    assert code == 0, err
    return json.loads(stdout)


def rows(path: Path) -> list[dict]:
    return sorted((json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()),
                  key=lambda r: (r["id"], r["sample"]))


def test_generation_is_deterministic_under_a_seed(tiny_model, tmp_path, monkeypatch, capsys):
    args = ("--limit", "4", "--samples", "2", "--batch-size", "3", "--max-new-tokens", "12")
    generate(monkeypatch, capsys, tiny_model, tmp_path / "a.jsonl", *args, "--seed", "1")
    generate(monkeypatch, capsys, tiny_model, tmp_path / "b.jsonl", *args, "--seed", "1")
    generate(monkeypatch, capsys, tiny_model, tmp_path / "c.jsonl", *args, "--seed", "2")
    first = rows(tmp_path / "a.jsonl")
    assert len(first) == 8 and (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert [r["response"] for r in first] != [r["response"] for r in rows(tmp_path / "c.jsonl")]
    assert any(a["response"] != b["response"] for a, b in zip(first[::2], first[1::2], strict=True))  # samples differ
    greedy = generate(monkeypatch, capsys, tiny_model, tmp_path / "g.jsonl", *args, "--temperature", "0")
    assert greedy["written"] == 8
    g = rows(tmp_path / "g.jsonl")
    assert all(a["response"] == b["response"] for a, b in zip(g[::2], g[1::2], strict=True))


def test_generation_resumes_after_a_kill_with_the_same_answers(tiny_model, tmp_path, monkeypatch, capsys):
    args = ["--limit", "8", "--batch-size", "2", "--max-new-tokens", "16", "--seed", "3"]  # 8 items in 4 batches
    whole = tmp_path / "whole.jsonl"
    generate(monkeypatch, capsys, tiny_model, whole, *args)
    cut = tmp_path / "cut.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "cmedins.cli", "generate", str(RECIPE), "--model", str(tiny_model),
                                "--out", str(cut), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if cut.exists() and cut.read_bytes().count(b"\n") >= 2:
                break
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    written = cut.read_bytes().count(b"\n")
    assert 2 <= written < 8, written  # stopped part-way
    with cut.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "eval_sample:9", "sa')  # as if it died mid-line
    summary = generate(monkeypatch, capsys, tiny_model, cut, *args)
    assert summary["already_done"] == written and summary["written"] == 8 - written
    assert rows(cut) == rows(whole)


def test_lora_adapter_from_peft_changes_the_answers(tiny_model, tmp_path, monkeypatch, capsys):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    adapter = tmp_path / "adapter"
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model),
                           LoraConfig(r=4, lora_alpha=32, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    model.save_pretrained(adapter)
    args = ("--limit", "3", "--temperature", "0", "--max-new-tokens", "10")
    generate(monkeypatch, capsys, tiny_model, tmp_path / "base.jsonl", *args)
    generate(monkeypatch, capsys, tiny_model, tmp_path / "lora.jsonl", *args, "--adapter", adapter)
    generate(monkeypatch, capsys, tiny_model, tmp_path / "lora2.jsonl", *args, "--adapter", adapter)
    base, lora = rows(tmp_path / "base.jsonl"), rows(tmp_path / "lora.jsonl")
    assert [r["response"] for r in base] != [r["response"] for r in lora]
    assert lora == rows(tmp_path / "lora2.jsonl")
    meta = json.loads((tmp_path / "lora.jsonl.meta.json").read_text(encoding="utf-8"))
    assert meta["adapter"] == str(adapter) and meta["model"] == str(tiny_model)


def test_loopback_server_end_to_end(tiny_model, sample_build, tmp_path, monkeypatch, capsys):
    port_file = tmp_path / "port"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "cmedins.cli", "serve", str(tiny_model), "--name", "tiny-judge",
                               "--port-file", str(port_file)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    try:
        deadline = time.monotonic() + 120
        while not port_file.exists() and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.05)
        port = int(port_file.read_text())
        assert listening_addresses(server.pid) == {("127.0.0.1", port)}
        url = f"http://127.0.0.1:{port}/v1"
        with urllib.request.urlopen(f"{url}/models", timeout=30) as response:
            assert [m["id"] for m in json.load(response)["data"]] == ["tiny-judge"]
        x, y = tmp_path / "x.jsonl", tmp_path / "y.jsonl"
        common = ("--limit", "2", "--max-new-tokens", "16")
        generate(monkeypatch, capsys, tiny_model, x, *common, "--system", "local", "--seed", "1")
        generate(monkeypatch, capsys, "tiny-judge", y, *common, "--endpoint", url, "--system", "served", "--seed", "2")
        generate(monkeypatch, capsys, "tiny-judge", tmp_path / "y2.jsonl", *common, "--endpoint", url, "--system",
                 "served", "--seed", "2")
        assert [r["response"] for r in rows(y)] == [r["response"] for r in rows(tmp_path / "y2.jsonl")]
        out = tmp_path / "eval"
        code, stdout, err = run_cli(monkeypatch, capsys, "eval", RECIPE, "--x", x, "--y", y, "--out", out,
                                    "--judge-endpoint", url, "--judge-model", "tiny-judge", "--train-build",
                                    sample_build, "--bootstrap", "100")
        assert code == 0, err
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode is not None
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    replies = report["judge_replies"]
    assert replies["expected"] == 4 and replies["not_asked"] == 0 and replies["request_failed"] == 0
    assert replies["complete"] + replies["malformed"] == 4
    for dimension, problems in replies["problems"].items():  # every unread verdict has a named reason
        unread = report["results"][dimension]["unjudged"]
        assert sum(problems.values()) >= unread
    if replies["complete"] < 2:  # a random model writes no verdicts: the report must say so
        assert report["warnings"] and "judge replies" in report["warnings"][0]
        assert "**Warning.**" in (out / "report.md").read_text(encoding="utf-8")
    assert report["comparison"]["x"] == "local" and report["comparison"]["y"] == "served"
    assert (out / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
