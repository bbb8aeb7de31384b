"""`cmedins deid INPUT --out OUTPUT --field FIELD ...`: de-identify chosen text columns of a JSONL/JSON/CSV/Parquet
file. Same rows, same other fields; an audit JSONL (offsets and types, never values) beside the output."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("deid")
    def deid(
        input: Path = typer.Argument(..., help="Rows to de-identify (.jsonl, .json, .csv or .parquet)."),
        out: Path = typer.Option(..., "--out", help="Where the de-identified rows go (format from the suffix)."),
        field: list[str] = typer.Option(..., "--field", help="Text column to de-identify; repeat for several."),
        operator: str = typer.Option("placeholder", help="placeholder (<姓名>, <电话> ...) or pseudonym "
                                     "(consistent surrogates within a row)."),
        dates: str = typer.Option("mask", help="Absolute dates: keep, mask, or year (keep only the year)."),
        threshold: float = typer.Option(0.5, help="Minimum recognizer score for a finding."),
        workers: int = typer.Option(1, help="Processes (each loads its own engine, ~7 s)."),
        fail_on_residual: bool = typer.Option(True, help="Stop when an ID/phone/email pattern survives."),
    ) -> None:
        """De-identify Chinese clinical text in chosen columns (presidio + Chinese recognizers)."""
        import json
        from collections import Counter
        from itertools import islice

        from cmedins.deid.engine import ParallelDeidentifier
        from cmedins.deid.stage import config_from_params
        from cmedins.errors import CmedinsError
        from cmedins.io import iter_rows, write_rows

        config = config_from_params({"operator": operator, "dates": dates, "score_threshold": threshold,
                                     "workers": workers, "fail_on_residual": fail_on_residual}, "cmedins deid")
        audit_path = out.with_name(out.name.split(".")[0] + ".audit.jsonl")
        from cmedins.build_folder import check_not_input

        check_not_input(out, input)  # writing onto the input would empty it before it is read
        check_not_input(audit_path, input)
        counts: Counter = Counter()
        engine = ParallelDeidentifier(config)

        def units(chunk):
            batch = []
            for number, row in chunk:
                texts = []
                for name in field:
                    if name not in row:
                        raise CmedinsError(f"{input}, row {number}: no field '{name}' (columns: {', '.join(row)})")
                    value = row[name]
                    if value is not None and not isinstance(value, str):
                        raise CmedinsError(f"{input}, row {number}, field '{name}': {type(value).__name__}, not text")
                    texts.append(value or "")
                batch.append((f"row {number}", texts))
            return batch

        def rows_out(audit):
            source = iter(iter_rows(input))
            chunks = iter(lambda: list(islice(source, config.batch_size)), [])
            pending = []

            def planned():
                for chunk in chunks:
                    pending.append(chunk)
                    yield units(chunk)

            for results in engine.map_chunks(planned()):
                for (number, row), texts in zip(pending.pop(0), results, strict=True):
                    row = dict(row)
                    for name, result in zip(field, texts, strict=True):
                        if result.residual:
                            kind = result.residual[0][0]
                            message = f"{input}, row {number}, field '{name}': a {kind} pattern survived de-identification"
                            if config.fail_on_residual:
                                raise CmedinsError(message)
                            typer.secho(f"warning: {message}", err=True, fg="yellow")
                        for f in result.findings:
                            counts[f.entity_type] += 1
                            audit.write(json.dumps({"row": number, "field": name, "start": f.start, "end": f.end,
                                                    "entity_type": f.entity_type, "score": f.score}) + "\n")
                        if row[name] is not None:
                            row[name] = result.text
                    yield row

        audit_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with audit_path.open("w", encoding="utf-8") as audit:
                written = write_rows(out, rows_out(audit))
        finally:
            engine.close()
        summary = ", ".join(f"{entity} {n}" for entity, n in sorted(counts.items())) or "nothing found"
        typer.echo(f"{written} rows -> {out} ({summary}); audit: {audit_path}")
