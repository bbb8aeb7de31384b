"""`cmedins` command line (typer). Heavy imports stay inside commands so `--help` is instant.

Each area of the toolkit adds its commands from `cmedins/<area>/commands.py` through `register(app)`.
User errors (CmedinsError) print one line and exit 2; no traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import sys
from pathlib import Path

import typer

import cmedins

app = typer.Typer(
    name="cmedins",
    help="Build, validate and publish Chinese medical LLM training data (CMedINS, SPF).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"cmedins {cmedins.__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")) -> None:
    """Build, validate and publish Chinese medical LLM training data (CMedINS, SPF)."""


def _register_area_commands() -> None:
    """Import every `cmedins.<area>.commands` module and let it add its commands (sorted: stable help)."""
    for info in sorted(pkgutil.iter_modules(cmedins.__path__), key=lambda m: m.name):
        if not info.ispkg:
            continue
        name = f"cmedins.{info.name}.commands"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(app)


DEFAULT_RECIPE = "pipelines/sample.yaml"


@app.command()
def build(
    recipe: Path = typer.Argument(Path(DEFAULT_RECIPE), help="Recipe YAML (default: the embedded sample)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Build folder (default: the recipe's `output`)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    resume: bool = typer.Option(True, "--resume/--fresh", help="Reuse the finished stages an interrupted or "
                                "earlier run of the same recipe, inputs and code left beside the build "
                                "(default), or discard them and run every stage."),
    executor: str = typer.Option("local", "--executor", help="Where stages run: local (this process) or ray "
                                 "(a Ray cluster; needs the [ray] extra)."),
    address: str | None = typer.Option(None, "--address", help="Ray cluster to join (e.g. 10.0.0.5:6379; default: "
                                       "RAY_ADDRESS, else a local Ray started for this build)."),
    workers: int | None = typer.Option(None, "--workers", help="Ray actors for the row-local stages (default: the "
                                       "cluster's CPUs)."),
    shuffle: str | None = typer.Option(None, "--shuffle", help="Ray: auto (default: shared storage if every node "
                                       "sees the sources and build folder, else the object store), files (refuse "
                                       "without shared storage) or objects (nothing read off the driver's node)."),
) -> None:
    """Run a recipe: read, de-identify, template, dedupe, decontaminate, mix, validate, split, write."""
    _offline_hub()
    from cmedins.runner.executors import make_executor
    from cmedins.runner.resources import is_packaged
    from cmedins.sft.build import NOT_DEIDENTIFIED_WARNING, run_recipe

    recipe = _default_recipe(recipe)
    if out is None and is_packaged(recipe):  # never build into the installed package's own folders
        out = Path("build") / recipe.stem
    result = run_recipe(recipe, out, show_progress=not quiet, resume=resume,
                        executor=make_executor(executor, address=address, workers=workers, shuffle=shuffle))
    rows, splits = result.stats["rows"], result.stats["splits"]
    if result.manifest["deid"].get("sources_already_deidentified"):
        typer.echo(f"warning: {NOT_DEIDENTIFIED_WARNING}", err=True)
    typer.echo(f"built {result.out_dir}: {rows['kept']} rows ({', '.join(f'{k} {v}' for k, v in splits.items())}); "
               f"input {rows['input']}, created {rows['created']}, dropped {rows['dropped']}, "
               f"quarantined {rows['quarantined']}")


def _default_recipe(recipe: Path) -> Path:
    """The default recipe is the repository's pipelines/sample.yaml; installed from a wheel, the copy the
    package carries (cmedins.runner.resources)."""
    if recipe.exists() or str(recipe) != DEFAULT_RECIPE:
        return recipe
    from cmedins.runner.resources import folder

    return folder("pipelines") / Path(DEFAULT_RECIPE).name


@app.command()
def validate(
    path: Path = typer.Argument(..., help="A row file (JSONL/JSON/CSV/Parquet) or a build folder."),
    kind: str = typer.Option(..., "--kind", "-k", help="Row contract: sft, dpo, record, conversation, annotation."),
    show: int = typer.Option(10, help="How many errors to print."),
) -> None:
    """Check every row of a file or build against a contract; exit 1 when any row fails or there are none."""
    from cmedins.rowio.validation import validate_path

    report = validate_path(path, kind)
    for error in report.errors[:show]:
        typer.echo(error.describe())
    typer.echo(f"{report.rows} rows checked, {len(report.errors)} invalid ({kind})")
    if report.errors or report.rows == 0:  # an empty file or build is not a valid data set
        if report.rows == 0:
            typer.echo(f"{path}: no rows to check", err=True)
        raise typer.Exit(1)


@app.command("schemas")
def export_schemas(out: Path = typer.Option(Path("schemas"), "--out", help="Folder for the JSON Schema files.")) -> None:
    """Export the row contracts as JSON Schema (schemas/ in the repo; a test keeps them in sync)."""
    from cmedins.rowio.validation import write_json_schemas

    for path in write_json_schemas(out):
        typer.echo(str(path))


def _offline_hub() -> None:
    # datasets/huggingface_hub phone home for local files unless told not to; builds are local.
    os.environ.setdefault("HF_UPDATE_DOWNLOAD_COUNTS", "0")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


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
