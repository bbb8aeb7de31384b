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


def _command_paths() -> list[tuple[str, ...]]:
    """Every command and sub-command the CLI registers (the areas add theirs on import)."""
    import click
    import typer.main

    from cmedins.cli import app

    paths = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return paths[1:]


def test_the_areas_register_their_commands():
    names = {" ".join(path) for path in _command_paths()}
    assert {"build", "validate", "schemas", "sample", "deid", "dedup", "card", "push", "prefs build",
            "prefs import", "prefs export-tasks"} <= names


@pytest.mark.parametrize("path", _command_paths(), ids=lambda path: " ".join(path))
def test_every_command_has_help(path):
    from typer.testing import CliRunner

    from cmedins.cli import app

    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


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
