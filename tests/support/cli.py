"""Run the `cmedins` command line in-process (fast; no interpreter start-up per call)."""

from __future__ import annotations

import sys

import pytest


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """`cmedins ARGS`: (exit code, stdout, stderr). Any exception but SystemExit fails the test."""
    from cmedins.cli import main

    monkeypatch.setattr(sys, "argv", ["cmedins", *map(str, args)])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    return exited.value.code or 0, out, err
