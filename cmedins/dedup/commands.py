"""`cmedins dedup INPUT --out OUTPUT`: exact + near-duplicate removal for one JSONL/JSON/CSV/Parquet file."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("dedup")
    def dedup(
        input: Path = typer.Argument(..., help="Rows to deduplicate (.jsonl, .json, .csv or .parquet)."),
        out: Path = typer.Option(..., "--out", help="Where the kept rows go (format from the suffix)."),
        field: list[str] = typer.Option(
            None, "--field", help="Column(s) holding the text to compare; repeat to join several. Default: the "
            "user turns of a `messages` column (record tasks: query + answer)."),
        threshold: float = typer.Option(0.7, help="Estimated Jaccard of character n-gram sets at which two rows "
                                        "are near-duplicates."),
        ngram: int = typer.Option(5, help="Characters per shingle."),
        num_perm: int = typer.Option(128, help="MinHash permutations."),
        clusters: Path | None = typer.Option(None, "--clusters", help="Write one JSON line per removed row: its "
                                             "row number in INPUT, the row it duplicated and the estimated "
                                             "similarity (row numbers, never the rows' own ids or text)."),
    ) -> None:
        """Remove exact and near-duplicate rows (MinHash-LSH). Keeps, in each cluster, the row with the longest
        answer (rows with `messages`), else the first one."""
        import json
        import tempfile

        from cmedins.dedup.engine import KEPT, REASONS, DedupIndex, DedupParams
        from cmedins.dedup.select import answer_chars, parse_selection, select_text
        from cmedins.errors import CmedinsError
        from cmedins.rowio.readers import iter_rows, require_readable
        from cmedins.rowio.writers import write_rows
        from cmedins.runner.build_folder import check_not_input

        check_not_input(out, input)  # writing onto the input would empty it before it is read
        if clusters:
            check_not_input(clusters, input)
        selection = parse_selection(None, stage="dedup")

        def text_of(number: int, row: dict) -> str:
            require_readable(row, input, number)
            if field:
                missing = [name for name in field if name not in row]
                if missing:
                    raise CmedinsError(f"{input}, row {number}: no field '{missing[0]}' (columns: {', '.join(row)})")
                return "\n".join(str(row[name]) for name in field if row[name] is not None)
            if not isinstance(row.get("messages"), list):
                raise CmedinsError(f"{input}, row {number}: no 'messages' list; name the text column(s) with "
                                   f"--field (columns: {', '.join(row)})")
            return select_text(row, selection.get(row.get("task"), selection["default"]))

        with tempfile.TemporaryDirectory(prefix="cmedins-dedup-") as work:
            index = DedupIndex(DedupParams(n=ngram, num_perm=num_perm, threshold=threshold, scopes=("global",)),
                               Path(work))
            for number, row in iter_rows(input):
                index.add(text_of(number, row), group="", row_id=str(row.get("id") or ""), label=str(number),
                          answer_chars=0 if field else answer_chars(row))
            result = index.resolve()
            kept_ids = result.kept_ids(index.ids_path) if clusters else {}
        report = clusters.open("w", encoding="utf-8") if clusters else None

        def kept_rows():
            for position, (number, row) in enumerate(iter_rows(input)):
                status = int(result.status[position])
                if status == KEPT:
                    yield row
                elif report:
                    report.write(json.dumps({
                        # Row numbers, not the rows' ids: a raw id can be an identity (a record number).
                        "removed_row": number, "kept_row": int(kept_ids[int(result.kept[position])]),
                        "reason": REASONS[status],
                        "similarity": round(float(result.similarity[position]), 4)}, ensure_ascii=False) + "\n")

        try:
            written = write_rows(out, kept_rows())
        finally:
            if report:
                report.close()
        stats = result.stats
        typer.echo(f"{stats['rows_in']} rows in, {stats['exact']} exact and {stats['near']} near duplicates removed "
                   f"({stats['clusters']} clusters), {written} rows written to {out}")
