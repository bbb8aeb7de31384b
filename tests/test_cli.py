"""The command line: help on every command, one-line errors without tracebacks, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def cmedins(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cmedins.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, check=False)


def test_top_level_help_lists_the_commands():
    result = cmedins("--help")
    assert result.returncode == 0
    for command in ("build", "validate", "schemas"):
        assert command in result.stdout


@pytest.mark.parametrize("command", ["build", "validate", "schemas"])
def test_every_command_has_help(command):
    result = cmedins(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_bad_recipe_is_one_line_without_traceback(tmp_path):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("name: x\nsources: []\n", encoding="utf-8")
    result = cmedins("build", str(recipe))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"error: {recipe}: field 'sources': List should have at least 1 item after validation, not 0"]


def test_validate_exits_1_and_names_the_row(tmp_path):
    path = tmp_path / "rows.jsonl"
    good = {"id": "0123456789abcdef", "task": "general", "source": "s",
            "messages": [{"role": "user", "content": "1+1=?"}, {"role": "assistant", "content": "2"}]}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "messages": []}) + "\n", encoding="utf-8")
    result = cmedins("validate", str(path), "--kind", "sft")
    assert result.returncode == 1
    assert f"{path}, row 2, field 'messages'" in result.stdout
    assert "2 rows checked, 1 invalid (sft)" in result.stdout
