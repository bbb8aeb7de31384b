"""LLaMA-Factory reads cmedins builds through dataset_info.json: the file's content, the mapped preference copy,
and (slow) LLaMA-Factory's own data loader on both sets, from the build folder and from a Hub repo on loopback.

The loader runs in LLaMA-Factory's own venv (it pins datasets <= 4.0 and trl <= 0.24, which the toolkit's venv
cannot hold): `make tool-venvs` creates it under .venvs/llamafactory. Its module-level `import torchaudio` is
met by tests/support/llamafactory_stubs/torchaudio (no torchaudio wheel loads against the CPU torch build; the text
loader never calls it, and the stub raises if anything does). Without the venv the loader tests skip, except
under CI (CMEDINS_REQUIRE_TOOLS=1), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cmedins.cli import app
from cmedins.errors import CmedinsError
from cmedins.publish.build import load_build
from cmedins.publish.llamafactory import write_dataset_info
from tests.conftest import ROOT, copy_build
from tests.support.hub_server import HubServer

TOOLS = Path(os.environ.get("CMEDINS_TOOL_VENVS", ROOT / ".venvs"))
LF_PYTHON = TOOLS / "llamafactory" / "bin" / "python"
LOADER = ROOT / "tests" / "support" / "llamafactory_load.py"
STUBS = ROOT / "tests" / "support" / "llamafactory_stubs"
TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
        "system_tag": "system"}


def test_sft_entries_read_the_parquet_shards_in_sharegpt_form(sample_build, tmp_path):
    root = copy_build(sample_build, tmp_path / "sft")  # a real build by the runner
    info = json.loads(write_dataset_info(root).read_text(encoding="utf-8"))
    name = load_build(root).manifest["name"]
    assert info == {
        name: {"file_name": "data/train-00000-of-00001.parquet", "formatting": "sharegpt",
               "columns": {"messages": "messages"}, "tags": TAGS},
        f"{name}_validation": {"file_name": "data/validation-00000-of-00001.parquet", "formatting": "sharegpt",
                               "columns": {"messages": "messages"}, "tags": TAGS},
    }
    assert not (root / "llamafactory").exists()


def test_preference_entries_read_a_copy_with_one_message_objects(spf_sample_build, tmp_path):
    root = copy_build(spf_sample_build, tmp_path / "dpo")
    info = json.loads(write_dataset_info(root, repo_id="org/spf").read_text(encoding="utf-8"))
    name = load_build(root).manifest["name"]
    assert info[name]["file_name"] == "llamafactory/train.parquet" and info[name]["ranking"] is True
    assert info[name]["columns"] == {"messages": "prompt", "chosen": "chosen", "rejected": "rejected"}
    assert info[f"{name}_hub_validation"] == {**{k: v for k, v in info[name].items() if k != "file_name"},
                                              "hf_hub_url": "org/spf", "split": "validation", "folder": "llamafactory"}
    for split in ("train", "validation"):
        original = pq.read_table(root / "data" / f"{split}-00000-of-00001.parquet").to_pylist()
        mapped = pq.read_table(root / "llamafactory" / f"{split}.parquet").to_pylist()
        assert mapped == [{**row, "chosen": row["chosen"][0], "rejected": row["rejected"][0]} for row in original]
        assert all(row["chosen"]["role"] == "assistant" for row in mapped)


def test_export_command_and_bad_repo_id(sample_build, tmp_path):
    root = copy_build(sample_build, tmp_path / "sft")
    result = CliRunner().invoke(app, ["export", "llamafactory", str(root), "--repo-id", "org/cmedins"])
    assert result.exit_code == 0, result.output
    assert "_hub" in result.output and (root / "dataset_info.json").is_file()
    result = CliRunner().invoke(app, ["export", "llamafactory", str(root), "--repo-id", "no-slash"])
    assert isinstance(result.exception, CmedinsError) and "ORG/NAME" in str(result.exception)


def test_builds_write_dataset_info(sample_build, spf_sample_build):
    sft = json.loads((sample_build / "dataset_info.json").read_text(encoding="utf-8"))
    spf = json.loads((spf_sample_build / "dataset_info.json").read_text(encoding="utf-8"))
    assert set(sft) == {"cmedins-sample", "cmedins-sample_validation"}
    assert set(spf) == {"spf", "spf_validation"} and (spf_sample_build / "llamafactory" / "train.parquet").is_file()


# --- LLaMA-Factory's own loader (slow: a separate venv, about 8 s per load) ---

def _need_llamafactory() -> None:
    if not LF_PYTHON.exists():
        if os.environ.get("CMEDINS_REQUIRE_TOOLS"):
            pytest.fail(f"{LF_PYTHON} missing: CI must create it (make tool-venvs)")
        pytest.skip(f"LLaMA-Factory venv absent ({LF_PYTHON}); create it with `make tool-venvs`")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, sample_build, spf_sample_build) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "tiny-qwen2"
    subprocess.run([sys.executable, str(ROOT / "train" / "make_tiny_model.py"), "--output_dir", str(out),
                    "--corpus", str(sample_build), str(spf_sample_build)], check=True, capture_output=True,
                   timeout=300)
    return out


def _load(dataset_dir: str, dataset: str, stage: str, model: Path, work: Path, env: dict | None = None) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "PYTHON"))}
    base.update(env or {"HF_HUB_OFFLINE": "1"})
    base.update(PYTHONPATH=str(STUBS), HF_HOME=str(work / "hf_home"), HF_DATASETS_CACHE=str(work / "cache"))
    result = subprocess.run([str(LF_PYTHON), str(LOADER), dataset_dir, dataset, stage, str(model), str(work)],
                            capture_output=True, text=True, timeout=300, env=base, cwd=work)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def _first(build: Path, column: str):
    return load_build(build).rows("train")[0][column]


@pytest.mark.slow
def test_llamafactory_loader_reads_both_sets_from_the_build_folder(sample_build, spf_sample_build, tiny_model,
                                                                   tmp_path):
    _need_llamafactory()
    sft = _load(str(sample_build), "cmedins-sample", "sft", tiny_model, tmp_path)
    assert sft["rows"] == load_build(sample_build).row_count("train")
    messages = _first(sample_build, "messages")
    assert messages[-1]["content"] in sft["labels"] and messages[-2]["content"] in sft["text"]
    rm = _load(str(spf_sample_build), "spf", "rm", tiny_model, tmp_path)
    assert rm["rows"] == load_build(spf_sample_build).row_count("train")
    assert _first(spf_sample_build, "chosen")[0]["content"] in rm["chosen"]
    assert _first(spf_sample_build, "rejected")[0]["content"] in rm["rejected"]


@pytest.mark.slow
def test_llamafactory_refuses_trl_shaped_preference_rows(spf_sample_build, tiny_model, tmp_path):
    """Why the mapped copy exists: the same rows in trl's one-message-list shape give no valid sample."""
    _need_llamafactory()
    folder = tmp_path / "trl-shaped"
    folder.mkdir()
    info = json.loads((spf_sample_build / "dataset_info.json").read_text(encoding="utf-8"))
    entry = {**info["spf"], "file_name": str(spf_sample_build / "data" / "train-00000-of-00001.parquet")}
    (folder / "dataset_info.json").write_text(json.dumps({"spf": entry}), encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "PYTHON"))}
    base.update(HF_HUB_OFFLINE="1", PYTHONPATH=str(STUBS), HF_HOME=str(tmp_path / "hf_home"))
    result = subprocess.run([str(LF_PYTHON), str(LOADER), str(folder), "spf", "rm", str(tiny_model), str(tmp_path)],
                            capture_output=True, text=True, timeout=300, env=base, cwd=tmp_path)
    assert result.returncode != 0 and "Cannot find valid samples" in result.stderr


@pytest.mark.slow
def test_llamafactory_loader_reads_both_sets_from_a_hub_repo(sample_build, spf_sample_build, tiny_model, tmp_path):
    _need_llamafactory()
    copies = tmp_path / "builds"  # push writes the `_hub` entries into the build: keep the session's builds as they are
    sample_build = Path(shutil.copytree(sample_build, copies / "sample"))
    spf_sample_build = Path(shutil.copytree(spf_sample_build, copies / "spf"))
    with HubServer() as hub:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        env.update(HF_ENDPOINT=hub.url, HF_HUB_DISABLE_XET="1", HF_UPDATE_DOWNLOAD_COUNTS="0", HF_TOKEN=hub.token,
                   HF_HUB_DISABLE_TELEMETRY="1", HF_HOME=str(tmp_path / "push_home"))
        for build, repo in ((sample_build, "cmedins-sample"), (spf_sample_build, "spf")):
            pushed = subprocess.run([sys.executable, "-m", "cmedins.cli", "push", str(build), "--repo-id",
                                     f"{hub.user}/{repo}"], capture_output=True, text=True, env=env, timeout=180)
            assert pushed.returncode == 0, pushed.stderr
        stored = hub.state.repos[("dataset", f"{hub.user}/spf")]
        assert {"dataset_info.json", "llamafactory/train.parquet"} <= set(stored.commits[stored.branches["main"]])
        remote = {"HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_TOKEN": hub.token,
                  "HF_UPDATE_DOWNLOAD_COUNTS": "0", "HF_HUB_DISABLE_TELEMETRY": "1"}
        sft = _load(f"REMOTE:{hub.user}/cmedins-sample", "cmedins-sample_hub", "sft", tiny_model, tmp_path, remote)
        rm = _load(f"REMOTE:{hub.user}/spf", "spf_hub", "rm", tiny_model, tmp_path, remote)
    assert sft["rows"] == load_build(sample_build).row_count("train")
    assert rm["rows"] == load_build(spf_sample_build).row_count("train")
    assert _first(spf_sample_build, "chosen")[0]["content"] in rm["chosen"]
