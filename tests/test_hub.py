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

from cmedins.runner.stage import Stage, register_stage
from cmedins.sft.build import run_recipe
from tests.conftest import copy_build
from tests.support.hub_server import HubServer
from tests.support.privacy_corpus import sft_corpus

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
def sft_build(tiny_sft, tmp_path):
    """A copy of the tiny SFT build the runner made (planted identities, de-identified)."""
    return copy_build(tiny_sft[0], tmp_path / "sft")


def _stored_leaks(hub, repo, planted):
    """Planted values found in any file the Hub stored for `repo`, in any commit (Parquet decoded)."""
    import io

    import pyarrow.parquet as pq

    found = []
    for tree in hub.state.repos[("dataset", repo)].commits.values():
        for path, stored in tree.items():
            data = stored.data
            if path.endswith(".parquet"):
                data += json.dumps(pq.read_table(io.BytesIO(stored.data)).to_pylist(), ensure_ascii=False).encode()
            found += [f"{path}: {value}" for value in planted
                      if value.encode() in data or json.dumps(value).strip('"').encode() in data]
    return sorted(set(found))


def test_push_then_load_round_trip_and_second_push_is_a_no_op(hub, sft_build, tiny_sft, tmp_path):
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
    assert _stored_leaks(hub, repo, tiny_sft[1]) == []  # nothing planted in the input reached the Hub

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
    removed = sorted((sft_build / "plots").glob("*.png"))[-1]
    removed.unlink()
    result = _cli(hub, "push", str(sft_build), "--repo-id", repo, token=hub.token, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    stored = hub.state.repos[("dataset", repo)]
    assert f"plots/{removed.name}" not in stored.commits[stored.branches["main"]]
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


def test_spf_build_pushes_without_any_planted_identity(hub, tiny_spf, tmp_path):
    build = copy_build(tiny_spf[0], tmp_path / "spf")
    repo = f"{hub.user}/spf"
    result = _cli(hub, "push", str(build), "--repo-id", repo, token=hub.token, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    tree = hub.state.repos[("dataset", repo)].commits[hub.state.repos[("dataset", repo)].branches["main"]]
    assert "arbitration_queue.jsonl" not in tree and not [p for p in tree if p.startswith(("audit/", "quarantine/"))]
    assert _stored_leaks(hub, repo, tiny_spf[1]) == []


# --- refusals: each on a state the runner really writes (or a user edits afterwards) ---------------------------

@register_stage
class BlankOneAnswer(Stage):
    """A faulty plugin stage: blanks the first SFT row's answer, so the validate stage must reject it."""

    name = "test_blank_one_answer"
    takes = frozenset({"sft"})

    def run(self, rows):
        for index, row in enumerate(rows):
            if index == 0 and row.get("kind") == "sft":
                row = {**row, "messages": [*row["messages"][:-1], {"role": "assistant", "content": " "}]}
            yield row


def _refused(hub, build, tmp_path, *fragments):
    result = _cli(hub, "push", str(build), "--repo-id", f"{hub.user}/refused", token=hub.token, tmp_path=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "refusing to publish" in lines[0], lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert hub.state.repos == {}  # nothing was created, nothing uploaded
    return lines[0]


def _edit_json(path, change):
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def test_push_refuses_a_no_deid_build_whose_manifest_was_edited(hub, tiny_sft, tmp_path):
    corpus = sft_corpus(tmp_path / "src", with_deid=False)
    build = run_recipe(corpus.recipe, show_progress=False).out_dir
    _refused(hub, build, tmp_path, "de-identification did not run (deid.ran is not true) (the recipe only declared "
             "its sources already de-identified)")
    real = json.loads((tiny_sft[0] / "manifest.json").read_text(encoding="utf-8"))["deid"]

    _edit_json(build / "manifest.json", lambda m: m.update(deid=real))  # claims deid ran, with real-looking facts
    _refused(hub, build, tmp_path, "do not show a de-identification stage that ran first")

    # A thorough forger also edits the stage list and the ledger: the re-scan of the files still finds the
    # identifiers, and says where without quoting them.
    _edit_json(build / "manifest.json", lambda m: m.update(stages=["deid", *m["stages"]]))
    real_stats = json.loads((tiny_sft[0] / "stats.json").read_text(encoding="utf-8"))["deid"]
    _edit_json(build / "stats.json", lambda s: s["stages"].update(deid=dict(s["stages"]["tasks"], created=0)))
    _refused(hub, build, tmp_path, "stats.json: field 'deid' is missing")  # the stage's report is not there
    _edit_json(build / "stats.json", lambda s: s.update(deid=real_stats))  # ... so the forger copies one too
    line = _refused(hub, build, tmp_path, "pattern")
    assert "row " in line or "line " in line
    assert not [value for value in corpus.planted if value in line]


def test_push_refuses_a_build_where_validation_rejected_rows(hub, tmp_path):
    corpus = sft_corpus(tmp_path / "src", extra_stages=[{"test_blank_one_answer": {}}])
    build = run_recipe(corpus.recipe, show_progress=False).out_dir
    validation = json.loads((build / "manifest.json").read_text(encoding="utf-8"))["validation"]
    assert validation["failed"] == 1 and validation["passed"] is False  # the push gate can fail
    _refused(hub, build, tmp_path, "validation did not pass (1 rows failed")
    _edit_json(build / "manifest.json", lambda m: m["validation"].update(passed=True, failed=0, errors=0))
    _refused(hub, build, tmp_path, "validation did not pass (1 rows failed the validate stage per stats.json)")


@pytest.mark.parametrize(("file", "change", "named"), [
    ("manifest.json", lambda m: m["deid"]["residual"].pop("hits"), "manifest.json: field 'deid.residual.hits'"),
    ("manifest.json", lambda m: m["deid"].update(allow_unsafe="no"), "manifest.json: field 'deid.allow_unsafe'"),
    ("manifest.json", lambda m: m.pop("validation"), "manifest.json: field 'validation'"),
    ("stats.json", lambda s: s["stages"]["validate"].update({"in": "12"}), "stats.json: field 'stages.validate.in'"),
    ("stats.json", lambda s: s["templating"].update(colour="red"), "stats.json: field 'templating.colour'"),
    ("stats.json", lambda s: s["deid"]["counts"].update(PERSON=0), "stats.json: field 'deid.counts.PERSON' disagrees"),
    ("stats.json", lambda s: s.pop("trimmed_turns"), "stats.json: field 'trimmed_turns' is missing"),
])
def test_push_refuses_a_tampered_report_naming_file_and_field(hub, sft_build, tmp_path, file, change, named):
    """The gate reads manifest.json and stats.json by the models the runner wrote them from."""
    _edit_json(sft_build / file, change)
    line = _refused(hub, sft_build, tmp_path, named)
    assert line.startswith(f"error: {sft_build / file}: field ")


def test_push_refuses_a_data_file_replaced_after_the_build(hub, sft_build, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    shard = sorted((sft_build / "data").glob("train-*.parquet"))[0]
    rows = pq.read_table(shard).to_pylist()
    pq.write_table(pa.Table.from_pylist(rows[1:], schema=pq.read_schema(shard)), shard)
    _refused(hub, sft_build, tmp_path, f"{shard.name}: changed since the build")


def test_push_refuses_an_allow_unsafe_build(hub, tmp_path):
    corpus = sft_corpus(tmp_path / "src", deid={"entities": [], "allow_unsafe": True, "fail_on_residual": False})
    build = run_recipe(corpus.recipe, show_progress=False).out_dir
    _refused(hub, build, tmp_path, "allow_unsafe")


def test_push_refuses_a_build_without_card(hub, sft_build, tmp_path):
    (sft_build / "README.md").unlink()
    result = _cli(hub, "push", str(sft_build), "--repo-id", f"{hub.user}/x", token=hub.token, tmp_path=tmp_path)
    assert result.returncode == 2 and "no dataset card; run `cmedins card" in result.stderr


def test_push_rescans_plot_text_chunks(hub, sft_build, tmp_path):
    """Text a PNG carries besides its pixels (tEXt chunks: titles, descriptions) is published too."""
    import struct
    import zlib

    plot = sorted((sft_build / "plots").glob("*.png"))[0]
    data = plot.read_bytes()
    body = b"Description\x00patient phone 13911112222"
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    plot.write_bytes(data[:33] + chunk + data[33:])  # after the 8-byte signature and the 25-byte IHDR chunk
    line = _refused(hub, sft_build, tmp_path, f"plots/{plot.name}, text chunk 'Description': a phone pattern")
    assert "13911112222" not in line
