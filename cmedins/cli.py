"""`cmedins` command line (typer). Heavy imports stay inside commands so `--help` is instant.

Each area of the toolkit adds its commands from `cmedins/<area>/commands.py` through `register(app)`.
User errors (CmedinsError) print one line and exit 2; no traceback.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

import cmedins

app = typer.Typer(
    name="cmedins",
    help="Build, validate and publish Chinese medical LLM training data (CMedINS, SPF).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_area_commands() -> None:
    """Import every `cmedins.<area>.commands` module and let it add its commands (sorted: stable help)."""
    for info in sorted(pkgutil.iter_modules(cmedins.__path__), key=lambda m: m.name):
        if not info.ispkg:
            continue
        name = f"cmedins.{info.name}.commands"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(app)


_register_area_commands()


def main() -> None:
    from cmedins.errors import CmedinsError

    try:
        app()
    except CmedinsError as error:
        typer.secho(f"error: {error}", err=True, fg="red")
        sys.exit(2)


if __name__ == "__main__":
    main()
