"""Source files with every kind of line a reader must count and number right (tests of cut reading)."""

from __future__ import annotations

import codecs
import json
from pathlib import Path


def messy_jsonl(path: Path, encoding: str = "utf-8", bom: bool = False) -> Path:
    """Blank lines, CRLF endings, an unparsable line, several objects on one line, a non-object, a long line."""
    lines = []
    for number in range(1, 301):
        if number % 37 == 0:
            lines.append("\r\n")
        elif number % 53 == 0:
            lines.append('{"query": "broken\n')
        elif number % 71 == 0:
            lines.append('[{"query": "一"}, {"query": "二"}]\n')
        elif number % 97 == 0:
            lines.append("42\n")
        else:
            text = "头痛发热三天，伴有咳嗽。" * (1 + number % 9)
            lines.append(json.dumps({"query": f"{number} {text}", "response": "多喝水"}, ensure_ascii=False) + "\r\n")
    data = "".join(lines).encode(encoding)
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return path
