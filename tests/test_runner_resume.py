"""Atomic output and resume: a killed build leaves the previous one intact; a rerun restarts after the last
finished stage and writes exactly what a fresh build writes; any change of inputs or parameters is seen."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from cmedins.runner.build_folder import state_dir
from cmedins.sft.build import run_recipe
from tests.conftest import ROOT
from tests.support.runner_corpus import folder_bytes, write_recipe


def _sample_recipe(folder: Path, seed: int) -> Path:
    """The default recipe (embedded sample, deid first) with another seed, at `folder`/sample.yaml."""
    raw = yaml.safe_load((ROOT / "pipelines" / "sample.yaml").read_text(encoding="utf-8"))
    raw["seed"] = seed
    path = folder / f"sample-{seed}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _finished_checkpoints(out: Path) -> list[str]:
    root = state_dir(out) / "checkpoints"
    return sorted(p.name for p in root.iterdir() if not p.name.endswith(".partial")) if root.is_dir() else []


def _build_cli(recipe: Path, out: Path, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cmedins.cli", "build", str(recipe), "--out", str(out), "-q",
                             *flags], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_killed_build_leaves_the_previous_one_and_a_rerun_resumes(tmp_path):
    out = tmp_path / "build"
    previous_recipe, recipe = _sample_recipe(tmp_path, 7), _sample_recipe(tmp_path, 42)
    run_recipe(previous_recipe, out, show_progress=False)
    previous = folder_bytes(out)

    before = set(_finished_checkpoints(out))  # the previous build's
    killed = _build_cli(recipe, out)
    deadline = time.monotonic() + 240
    while not set(_finished_checkpoints(out)) - before:  # until this build's first stage (deid) has finished
        assert killed.poll() is None, killed.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=30) == -signal.SIGKILL, "the build finished before it could be killed"
    assert folder_bytes(out) == previous  # the interrupted build touched nothing of the previous one
    assert (state_dir(out) / "partial").is_dir()  # its half-written folder stayed aside

    started = time.monotonic()
    resumed = _build_cli(recipe, out)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    resume_seconds = time.monotonic() - started

    fresh_out = tmp_path / "fresh"
    started = time.monotonic()
    fresh = _build_cli(recipe, fresh_out, "--fresh")
    assert fresh.wait(timeout=300) == 0, fresh.stderr.read()
    fresh_seconds = time.monotonic() - started

    assert folder_bytes(out) == folder_bytes(fresh_out)  # byte-identical: data, stats, manifest, card, plots
    assert folder_bytes(out) != previous
    assert resume_seconds < fresh_seconds, (resume_seconds, fresh_seconds)
    assert not (state_dir(out) / "partial").exists()


def test_only_the_latest_checkpoint_is_kept_and_a_changed_stage_after_it_reruns(tmp_path):
    recipe = write_recipe(tmp_path)  # dialogues, dedup (+ validate added by the runner)
    out = tmp_path / "out"
    first_build = run_recipe(recipe, out, show_progress=False)
    first = _finished_checkpoints(out)
    assert len(first) == 1  # dedup's: the dialogues one went once dedup's was complete; validate streams on
    checkpoint = state_dir(out) / "checkpoints" / first[0]
    # dedup's own row spool, adopted with its keep flags (not its output written again)
    assert sorted(path.name for path in checkpoint.iterdir()) == ["files", "keep.bool", "rows.pickle.zst",
                                                                 "state.pickle"]

    write_recipe(tmp_path, stages=[{"dialogues": {}}, {"dedup": {"threshold": 0.9}}])
    result = run_recipe(recipe, out, show_progress=False)
    second = _finished_checkpoints(out)
    assert len(second) == 1 and second != first  # the dedup stage reran with its new parameters
    assert result.stats["dedup"]["params"]["threshold"] == 0.9
    assert first_build.stats["dedup"]["params"]["threshold"] == 0.7

    write_recipe(tmp_path, stages=[{"dialogues": {}}, {"dedup": {"threshold": 0.9}}, {"validate": {}}])
    again = run_recipe(recipe, out, show_progress=False)  # the same plan (validate is added when absent)
    assert _finished_checkpoints(out) == second
    assert "resuming after stage dedup" in (out / "build.log").read_text(encoding="utf-8")
    assert again.stats["rows"] == result.stats["rows"]


def test_a_changed_input_is_never_served_from_a_checkpoint(tmp_path):
    recipe = write_recipe(tmp_path)
    out = tmp_path / "out"
    before = run_recipe(recipe, out, show_progress=False).stats
    with (tmp_path / "src" / "general.json").open("r+", encoding="utf-8") as handle:
        rows = json.load(handle)
        rows.append({"instruction": "把下面的数字相加：40 和 41", "input": "", "output": "结果是81。"})
        handle.seek(0)
        json.dump(rows, handle, ensure_ascii=False)
    after = run_recipe(recipe, out, show_progress=False).stats
    assert after["rows"]["input"] == before["rows"]["input"] + 1
    assert after["tasks"]["general"] == before["tasks"]["general"] + 1


def test_fresh_discards_checkpoints_and_gives_the_same_build(tmp_path):
    recipe = write_recipe(tmp_path)
    out = tmp_path / "out"
    run_recipe(recipe, out, show_progress=False)
    resumed_first = folder_bytes(out)
    (state_dir(out) / "checkpoints" / "stale-from-another-plan").mkdir()
    run_recipe(recipe, out, show_progress=False, resume=False)
    assert folder_bytes(out) == resumed_first
    assert "stale-from-another-plan" not in _finished_checkpoints(out)


def test_a_stage_that_is_not_checkpointed_shares_the_checkpoint_of_the_stage_before_it(tmp_path, monkeypatch):
    from cmedins.dedup.stage import DedupStage
    from cmedins.runner.checkpoints import Checkpoints

    recipe = write_recipe(tmp_path, stages=[{"tasks": {}}, {"dialogues": {}}, {"dedup": {}}])
    fresh = tmp_path / "fresh"
    saved: list[str] = []
    real_save = Checkpoints.save
    monkeypatch.setattr(Checkpoints, "save", lambda self, key, *rest: (saved.append(key), real_save(self, key, *rest)))
    run_recipe(recipe, fresh, show_progress=False)
    # two checkpoints: after dialogues (the tasks rows streamed through it) and dedup's; none after tasks alone
    assert len(saved) == 2

    real_run = DedupStage.run_to_spool  # what the local runner calls for dedup (the checkpoint it read, adopted)
    read_from: list = []

    def crash(self, rows, spooled=None):
        read_from.append(spooled)
        for _ in rows:  # dedup takes every dialogues row, then the process dies
            pass
        raise RuntimeError("killed in dedup")

    out = tmp_path / "out"
    monkeypatch.setattr(DedupStage, "run_to_spool", crash)
    try:
        run_recipe(recipe, out, show_progress=False, resume=True)
    except RuntimeError as error:
        assert str(error) == "killed in dedup"
    else:
        raise AssertionError("the crashing dedup stage did not stop the build")
    assert read_from[0] is not None  # dedup read the checkpoint, not a stream
    assert len(_finished_checkpoints(out)) == 1  # the one after dialogues

    monkeypatch.setattr(DedupStage, "run_to_spool", real_run)
    result = run_recipe(recipe, out, show_progress=False)
    log = (out / "build.log").read_text(encoding="utf-8")
    assert "resuming after stage dialogues" in log and "stage dialogues:" not in log  # tasks, dialogues reused
    assert result.stats["rows"] and folder_bytes(out) == folder_bytes(fresh)  # stats, card, data: identical
