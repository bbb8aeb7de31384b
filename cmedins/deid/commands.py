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
        import os
        from itertools import islice

        from cmedins.deid.gate import GateUnit, PrivacyGate
        from cmedins.deid.stage import config_from_params
        from cmedins.errors import CmedinsError
        from cmedins.rowio.readers import detect_format, iter_rows, require_readable
        from cmedins.rowio.writers import write_rows
        from cmedins.runner.build_folder import check_not_input

        config = config_from_params({"operator": operator, "dates": dates, "score_threshold": threshold,
                                     "workers": workers, "fail_on_residual": fail_on_residual}, "cmedins deid")
        if out.is_dir():
            raise CmedinsError(f"{out}: --out is a folder; name the output file")
        fmt = detect_format(out)
        # The full output name: two outputs in one folder never share an audit.
        audit_path = out.with_name(out.name + ".audit.jsonl")
        check_not_input(out, input)  # writing onto the input would empty it before it is read
        check_not_input(audit_path, input)
        # Written beside the target and moved into place only on success: a failed run leaves no output.
        partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
        partial_audit = audit_path.with_name(f".{audit_path.name}.partial-{os.getpid()}")
        gate = PrivacyGate(config, audit_path=partial_audit, label="cmedins deid")
        warnings: list[str] = []

        def unit(number: int, row: dict) -> GateUnit:
            require_readable(row, input, number)  # a line the reader could not parse: say so, not "no field"
            texts = []
            for name in field:
                if name not in row:
                    raise CmedinsError(f"{input}, row {number}: no field '{name}' ({_columns(input, row)})")
                value = row[name]
                if value is not None and not isinstance(value, str):
                    raise CmedinsError(f"{input}, row {number}, field '{name}': {type(value).__name__}, not text")
                texts.append(value or "")
            return GateUnit(where=f"{input}, row {number}", scope=f"row {number}", fields=list(field), texts=texts,
                            row=number)

        def rows_out():
            source = iter(iter_rows(input))
            chunks = iter(lambda: list(islice(source, config.batch_size)), [])
            pending = []

            def planned():
                for chunk in chunks:
                    pending.append(chunk)
                    yield [unit(number, row) for number, row in chunk]

            for results in gate.process(planned()):
                for (number, row), result in zip(pending.pop(0), results, strict=True):
                    for name, kind in result.hits:  # only when --no-fail-on-residual; the value is never shown
                        warnings.append(f"{input}, row {number}, field '{name}': a {kind} pattern survived "
                                        "de-identification")
                    row = dict(row)
                    for name, text in zip(field, result.texts, strict=True):
                        if row[name] is not None:
                            row[name] = text
                    yield row

        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            written = write_rows(partial, rows_out(), fmt=fmt)
            gate.close()
            os.replace(partial_audit, audit_path)
            os.replace(partial, out)
        finally:
            gate.close()
            partial.unlink(missing_ok=True)
            partial_audit.unlink(missing_ok=True)
        for line in warnings:
            typer.secho(f"warning: {line}", err=True, fg="yellow")
        facts = gate.facts()
        summary = ", ".join(f"{entity} {n}" for entity, n in facts["counts"].items()) or "nothing found"
        residual = sum(facts["residual"]["hits"].values())
        typer.echo(f"{written} rows -> {out} ({summary}; residual hits {residual}); audit: {audit_path}")


def _columns(path: Path, row: dict) -> str:
    """The columns a row has, for a missing-field message. A CSV file's are its first line, which in a file
    without a header is a record (names, phones): counted, not quoted."""
    if path.suffix.lower() == ".csv":
        return f"the header has {len(row)} column(s), not shown: is the first line a header?"
    return f"columns: {', '.join(row)}"
