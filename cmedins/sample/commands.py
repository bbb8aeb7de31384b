"""`cmedins sample`: write a synthetic corpus of any size (benchmarks), or regenerate the embedded sample."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("sample")(sample)


def sample(
    out: Path = typer.Option(None, "--out", "-o", help="Folder to write into (default with --embedded: the package's data/)."),
    records: int = typer.Option(2000, "--records", "-n", help="Medical records to write (both layouts together)."),
    dialogues: int = typer.Option(0, "--dialogues", help="Single-turn dialogues, and as many multi-turn ones."),
    general: int = typer.Option(0, "--general", help="General (non-medical) instructions."),
    text_share: float = typer.Option(0.5, "--text-share", help="Share of records in the free-text layout (0-1)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed, same bytes."),
    embedded: bool = typer.Option(False, "--embedded", help="Regenerate the embedded sample corpus instead."),
) -> None:
    """Generate synthetic Chinese clinical records, dialogues and instructions (fake identities only)."""
    import time

    from cmedins.errors import CmedinsError
    from cmedins.sample.corpus import CorpusSize, write_corpus
    from cmedins.sample.embedded import DATA_DIR, write_embedded

    started = time.perf_counter()
    if embedded:
        written = write_embedded(out or DATA_DIR)
        folder = out or DATA_DIR
    else:
        if out is None:
            raise CmedinsError("--out is required (the folder to write the corpus into)")
        if min(records, dialogues, general) < 0:
            raise CmedinsError("--records, --dialogues and --general must not be negative")
        if not 0.0 <= text_share <= 1.0:
            raise CmedinsError(f"--text-share must be between 0 and 1 (got {text_share})")
        written = write_corpus(out, CorpusSize(records, dialogues, general, text_share), seed)
        folder = out
    seconds = time.perf_counter() - started
    for name, rows in written.items():
        typer.echo(f"{folder / name}: {rows} rows")
    total = sum(written.values())
    typer.echo(f"{total} rows in {seconds:.1f}s ({total / max(seconds, 1e-9):,.0f} rows/s)")
