"""`cmedins card BUILD_DIR` and `cmedins push BUILD_DIR --repo-id ORG/NAME`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("card")
    def card(build_dir: Path = typer.Argument(..., help="A build folder (data/, stats.json, manifest.json).")) -> None:
        """Regenerate the dataset card (README.md) and its plots (plots/*.png) of a build."""
        from cmedins.publish.card import write_card

        path = write_card(build_dir)
        typer.echo(f"wrote {path} and {len(list((build_dir / 'plots').glob('*.png')))} plots")

    @app.command("push")
    def push(
        build_dir: Path = typer.Argument(..., help="A build folder with its card (see `cmedins card`)."),
        repo_id: str = typer.Option(..., "--repo-id", help="Dataset repository, ORG/NAME."),
        private: bool = typer.Option(True, "--private/--public", help="Visibility of a new repository."),
        revision: str | None = typer.Option(None, "--revision", help="Branch to push to (created if missing)."),
        token: str | None = typer.Option(None, "--token", help="Hub write token; default: HF_TOKEN or the "
                                         "saved login (prefer those: a token on the command line lands in "
                                         "your shell history).", show_default=False),
    ) -> None:
        """Publish a de-identified, validated build to the Hugging Face Hub (private by default)."""
        from cmedins.publish.hub import push_build

        result = push_build(build_dir, repo_id, private=private, revision=revision, token=token)
        state = f"committed {result.commit[:12]}" if result.changed else f"unchanged, no commit (head {result.commit[:12]})"
        typer.echo(f"{result.repo_id}@{result.revision}: {state} — {result.url}")

    export = typer.Typer(help="Write a build's configuration for other training tools.", no_args_is_help=True)
    app.add_typer(export, name="export")

    @export.command("llamafactory")
    def export_llamafactory(
        build_dir: Path = typer.Argument(..., help="A build folder (SFT or SPF)."),
        repo_id: str | None = typer.Option(None, "--repo-id", help="Also write `<name>_hub` entries that load "
                                           "from this Hub dataset repo (`dataset_dir: REMOTE:ORG/NAME`)."),
    ) -> None:
        """Write BUILD/dataset_info.json for LLaMA-Factory (`dataset_dir: BUILD`); `cmedins push` adds the Hub
        entries itself. Preference builds also get llamafactory/<split>.parquet (chosen/rejected as one message)."""
        import json

        from cmedins.publish.llamafactory import write_dataset_info

        path = write_dataset_info(build_dir, repo_id=repo_id)
        names = ", ".join(json.loads(path.read_text(encoding="utf-8")))
        typer.echo(f"wrote {path}: datasets {names}")
