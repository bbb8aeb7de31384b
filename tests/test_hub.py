"""Push to a Hub-compatible server on loopback, then load it back with `datasets`, all offline.

The CLI and the loader run in subprocesses: HF_ENDPOINT must be set before huggingface_hub is imported,
and this pytest process may already have imported it with the default endpoint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cmedins.errors import PublishRefused
from cmedins.publish.card import write_card
from cmedins.publish.hub import check_publishable
from tests.hub_server import HubServer
from tests.test_card_fixtures import make_build

LOAD = """
import json, sys
import datasets
datasets.config.USE_PARQUET_EXPORT = False
ds = datasets.load_dataset(sys.argv[1])
print(json.dumps({split: ds[split].to_list() for split in ds}, ensure_ascii=False))
"""


@pytest.fixture
def hub():
    with HubServer() as server:
        yield server


def _env(hub, token, tmp_path):
    """The loopback Hub, no xet (it speaks LFS only), an empty HF_HOME: no saved login, a cold cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.url, HF_HUB_DISABLE_XET="1", HF_UPDATE_DOWNLOAD_COUNTS="0",
               HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_DISABLE_TELEMETRY="1", HF_HOME=str(tmp_path / "hf_home"))
    if token:
        env["HF_TOKEN"] = token
    return env


def _cli(hub, *args, token=None, tmp_path=None):
    env = _env(hub, token, tmp_path)
    return subprocess.run([sys.executable, "-m", "cmedins.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.fixture
def sft_build(tmp_path):
    root = make_build(tmp_path / "sft")
    write_card(root, font=None)
    return root


def test_push_then_load_round_trip_and_second_push_is_a_no_op(hub, sft_build, tmp_path):
    repo = f"{hub.user}/cmedins-sample"
    first = _cli(hub, "push", str(sft_build), "--repo-id", repo, token=hub.token, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"{repo}@main: committed" in first.stdout
    stored = hub.state.repos[("dataset", repo)]
    assert stored.private is True  # private by default
    tree = stored.commits[stored.branches["main"]]
    assert sorted(tree) == [".gitattributes", "README.md", "data/train-00000-of-00001.parquet",
                            "data/validation-00000-of-00001.parquet", "dataset_info.json", "manifest.json",
                            *sorted(f"plots/{p.name}" for p in (sft_build / "plots").glob("*.png")), "stats.json"]
    assert tree["data/train-00000-of-00001.parquet"].lfs  # Parquet goes through LFS

    second = _cli(hub, "push", str(sft_build), "--repo-id", repo, token=hub.token, tmp_path=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "unchanged, no commit" in second.stdout
    assert hub.state.commit_count == 1

    loaded = subprocess.run([sys.executable, "-c", LOAD, repo], capture_output=True, text=True, timeout=180,
                            env=_env(hub, hub.token, tmp_path))
    assert loaded.returncode == 0, loaded.stderr
    from cmedins.publish.build import load_build

    local = load_build(sft_build)
    assert json.loads(loaded.stdout) == {split: local.rows(split) for split in local.splits}


def test_changed_build_commits_only_and_mirrors_removed_files(hub, sft_build, tmp_path):
    repo = f"{hub.user}/mirror"
    assert _cli(hub, "push", str(sft_build), "--repo-id", repo, token=hub.token, tmp_path=tmp_path).returncode == 0
    (sft_build / "plots" / "turns.png").unlink()
    result = _cli(hub, "push", str(sft_build), "--repo-id", repo, token=hub.token, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    stored = hub.state.repos[("dataset", repo)]
    assert "plots/turns.png" not in stored.commits[stored.branches["main"]]
    assert hub.state.commit_count == 2


def test_bad_token_gives_one_line_401_and_never_echoes_it(hub, sft_build, tmp_path):
    secret = "hf_wrong_secret_0123456789"
    result = _cli(hub, "push", str(sft_build), "--repo-id", f"{hub.user}/x", "--token", secret, tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: the Hub rejected the token (401 Unauthorized): pass a valid write token with --token, set "
        "HF_TOKEN, or run `hf auth login`"]
    assert secret not in result.stdout + result.stderr
    assert hub.state.repos == {}


def test_namespace_without_rights_is_a_clear_error(hub, sft_build, tmp_path):
    result = _cli(hub, "push", str(sft_build), "--repo-id", "someone-else/data", token=hub.token, tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: someone-else/data: the token may not write here (403 Forbidden); use a "
                                     "write token for this namespace")


def test_public_repo_is_not_pushed_to_without_public(hub, sft_build, tmp_path):
    repo = f"{hub.user}/open"
    assert _cli(hub, "push", str(sft_build), "--repo-id", repo, "--public", token=hub.token,
                tmp_path=tmp_path).returncode == 0
    assert hub.state.repos[("dataset", repo)].private is False
    result = _cli(hub, "push", str(sft_build), "--repo-id", repo, token=hub.token, tmp_path=tmp_path)
    assert result.returncode == 2 and "exists and is public; push never changes visibility" in result.stderr


def test_push_to_a_branch(hub, sft_build, tmp_path):
    repo = f"{hub.user}/branched"
    result = _cli(hub, "push", str(sft_build), "--repo-id", repo, "--revision", "v1", token=hub.token,
                  tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    stored = hub.state.repos[("dataset", repo)]
    assert "README.md" in stored.commits[stored.branches["v1"]]
    assert sorted(stored.commits[stored.branches["main"]]) == [".gitattributes"]


@pytest.mark.parametrize(("deid_ran", "validation_passed", "message"), [
    (False, True, "de-identification did not run"),
    (True, False, "validation did not pass"),
])
def test_push_refuses_unsafe_builds(tmp_path, deid_ran, validation_passed, message):
    root = make_build(tmp_path / "b", deid_ran=deid_ran, validation_passed=validation_passed)
    write_card(root, font=None)
    with pytest.raises(PublishRefused, match=message):
        check_publishable(root)


def test_push_refuses_a_build_without_card(tmp_path):
    with pytest.raises(PublishRefused, match="no dataset card; run `cmedins card"):
        check_publishable(make_build(tmp_path / "b"))
