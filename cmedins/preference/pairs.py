"""Response pairs to annotate: {prompt, response_a, response_b, pair_id?, distribution?, source?} per row.

The prompt is a message list or a bare question; a missing pair_id becomes a content id of the pair.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cmedins.contracts.ids import content_id
from cmedins.errors import RowError
from cmedins.preference.sources import prompt_messages, text
from cmedins.rowio.readers import iter_rows, row_error


def read_pairs(path: Path) -> Iterator[dict]:
    for number, row in iter_rows(path):
        try:
            error = row_error(row)
            if error is not None:
                raise error
            prompt = prompt_messages(row)
            a, b = text(row, "response_a"), text(row, "response_b")
            distribution = row.get("distribution") or "in"
            if distribution not in ("in", "out"):
                raise RowError("must be 'in' or 'out'", field="distribution")
        except RowError as error:
            raise error.at(str(path), number) from None
        yield {"pair_id": row.get("pair_id") or content_id(prompt, a, b, length=16), "prompt": prompt,
               "response_a": a, "response_b": b, "distribution": distribution, "source": row.get("source")}
