"""The runner never destroys what it did not make: output folder checks, the build marker, the lock, and
the file commands refusing --out equal to their input. Each refusal is one line, exit 2, nothing touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from cmedins.errors import CmedinsError
from cmedins.runner.build_folder import MARKER, BuildLock, state_dir
from cmedins.sft.build import run_recipe
from tests.support.cli import run_cli
from tests.support.runner_corpus import folder_bytes, write_recipe


def assert_refused(code: int, err: str, *words: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_a_build_carries_the_marker_and_a_rebuild_replaces_it(tmp_path):
    recipe = write_recipe(tmp_path)
    out = tmp_path / "out"
    run_recipe(recipe, out, show_progress=False)
    assert (out / MARKER).is_file()
    (out / "data" / "stale-from-an-old-build.parquet").write_bytes(b"old")
    run_recipe(recipe, out, show_progress=False)
    assert not (out / "data" / "stale-from-an-old-build.parquet").exists()  # replaced whole, not merged
    assert not (state_dir(out) / "partial").exists() and not (state_dir(out) / "previous").exists()


def test_a_folder_with_a_manifest_but_no_marker_is_refused_and_untouched(tmp_path, monkeypatch, capsys):
    recipe = write_recipe(tmp_path)
    users = tmp_path / "my_results"
    users.mkdir()
    (users / "manifest.json").write_text('{"mine": true}', encoding="utf-8")
    (users / "notes.txt").write_text("irreplaceable", encoding="utf-8")
    before = folder_bytes(users)
    code, _, err = run_cli(monkeypatch, capsys, "build", str(recipe), "--out", str(users), "-q")
    assert_refused(code, err, "my_results", "not made by")
    assert folder_bytes(users) == before


def test_a_bad_stage_name_is_refused_before_the_previous_build_is_touched(tmp_path, monkeypatch, capsys):
    recipe = write_recipe(tmp_path)
    out = tmp_path / "out"
    run_recipe(recipe, out, show_progress=False)
    before = folder_bytes(out)
    write_recipe(tmp_path, stages=[{"dialogues": {}}, {"dedupe": {}}])  # typo
    code, _, err = run_cli(monkeypatch, capsys, "build", str(recipe), "--out", str(out), "-q")
    assert_refused(code, err, "dedupe")
    assert folder_bytes(out) == before


@pytest.mark.parametrize("where", ["is_source_file", "is_source_folder", "inside_source", "holds_source"])
def test_an_output_folder_related_to_an_input_is_refused(tmp_path, monkeypatch, capsys, where):
    recipe = write_recipe(tmp_path)
    src = tmp_path / "src"
    out = {"is_source_file": src / "chatmed.jsonl", "is_source_folder": src, "inside_source": src / "build",
           "holds_source": tmp_path}[where]
    if where in ("is_source_folder", "inside_source"):  # a folder source (CCKS-style): one source is all of src/
        raw = yaml.safe_load(recipe.read_text(encoding="utf-8"))
        raw["sources"][0]["path"] = "src"
        recipe.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    before = folder_bytes(tmp_path)
    code, _, err = run_cli(monkeypatch, capsys, "build", str(recipe), "--out", str(out), "-q")
    assert_refused(code, err, "input")
    assert folder_bytes(tmp_path) == before


def test_an_eval_set_counts_as_an_input(tmp_path, monkeypatch, capsys):
    recipe = write_recipe(tmp_path, stages=[{"dialogues": {}}, {"decontaminate": {"eval_sets": [
        {"name": "held_out", "path": "evals/test.json", "format": "cmtmedqa"}]}}])
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "test.json").write_text("[]", encoding="utf-8")
    code, _, err = run_cli(monkeypatch, capsys, "build", str(recipe), "--out", str(tmp_path / "evals"), "-q")
    assert_refused(code, err, "input")
    assert (tmp_path / "evals" / "test.json").read_text(encoding="utf-8") == "[]"


def test_out_pointing_at_a_file_is_refused(tmp_path, monkeypatch, capsys):
    recipe = write_recipe(tmp_path)
    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF-1.4 not ours")
    code, _, err = run_cli(monkeypatch, capsys, "build", str(recipe), "--out", str(target), "-q")
    assert_refused(code, err, "is a file")
    assert target.read_bytes() == b"%PDF-1.4 not ours"


def test_a_second_build_into_a_locked_folder_is_refused(tmp_path):
    recipe = write_recipe(tmp_path)
    out = tmp_path / "out"
    run_recipe(recipe, out, show_progress=False)
    before = folder_bytes(out)
    with BuildLock(out), pytest.raises(CmedinsError, match=f"another build \\(pid {os.getpid()}\\)"):
        run_recipe(recipe, out, show_progress=False)
    assert folder_bytes(out) == before
    run_recipe(recipe, out, show_progress=False)  # released: builds again


def test_a_lock_left_by_a_killed_build_does_not_block_the_next(tmp_path):
    recipe = write_recipe(tmp_path)
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from cmedins.runner.build_folder import BuildLock; BuildLock(Path(sys.argv[1])).acquire(); "
                               "print('locked', flush=True); time.sleep(60)", str(out)],
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(CmedinsError, match=f"pid {holder.pid}"):
            run_recipe(recipe, out, show_progress=False)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    assert (state_dir(out) / "lock").read_text(encoding="utf-8").strip() == str(holder.pid)  # stale file left
    deadline = time.monotonic() + 10
    run_recipe(recipe, out, show_progress=False)
    assert time.monotonic() < deadline and (out / MARKER).is_file()


@pytest.mark.parametrize("command", ["deid", "dedup"])
def test_file_commands_refuse_out_equal_to_input(tmp_path, monkeypatch, capsys, command):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"text": "患者头痛三天", "messages": [{"role": "user", "content": "头痛"}]}\n', encoding="utf-8")
    before = rows.read_bytes()
    code, _, err = run_cli(monkeypatch, capsys, command, str(rows), "--out", str(rows), "--field", "text")
    assert_refused(code, err, "input")
    assert rows.read_bytes() == before
