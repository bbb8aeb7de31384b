"""Precision of a detection change on every real public text of ../shared/data: what the detectors and the
residual scan find, dumped per text, then compared with a dump made by other code (the code before the change).

    PYTHONPATH=<old checkout> python bench/deid_diff.py dump /tmp/old.jsonl
    PYTHONPATH=<new checkout> python bench/deid_diff.py dump /tmp/new.jsonl
    python bench/deid_diff.py compare /tmp/old.jsonl /tmp/new.jsonl [--types EMAIL,IP_ADDRESS,CN_PHONE]

Every string of every file (JSON values, JSONL rows' values, CSV and text lines; GBK files decoded as such) is one
text. `compare` prints each finding or residual hit that only one side has, with 30 characters of context, so it
can be judged by eye; the dumps hold public text only and are written where they are asked to be (never commit
them: the texts are the data sets')."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SUFFIXES = (".json", ".jsonl", ".csv", ".txt")
CHUNK = 4000  # characters per text at most: a long file line is cut at a line break or this length


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def file_texts(path: Path) -> list[str]:
    text = _decode(path.read_bytes())
    values: list[str] = []
    if path.suffix in (".json", ".jsonl"):
        try:
            values = list(_strings(json.loads(text)))
        except json.JSONDecodeError:
            for line in text.splitlines():
                try:
                    values += list(_strings(json.loads(line)))
                except json.JSONDecodeError:
                    values.append(line)
    else:
        values = text.splitlines()
    out = []
    for value in values:
        while len(value) > CHUNK:
            cut = value.rfind("\n", 0, CHUNK)
            cut = CHUNK if cut <= 0 else cut + 1
            out.append(value[:cut])
            value = value[cut:]
        if value.strip():
            out.append(value)
    return out


def corpus(data: Path) -> Iterator[tuple[str, list[str]]]:
    for path in sorted(p for p in data.rglob("*") if p.is_file() and p.suffix in SUFFIXES):
        yield str(path.relative_to(data)), file_texts(path)


def dump(out: Path, data: Path) -> None:
    from cmedins.deid.config import DeidConfig
    from cmedins.deid.engine import Deidentifier
    from cmedins.deid.residual import residual_hits

    engine = Deidentifier(DeidConfig())
    start, chars = time.process_time(), 0
    with out.open("w", encoding="utf-8") as sink:
        for name, texts in corpus(data):
            for i in range(0, len(texts), 64):
                batch = texts[i:i + 64]
                for index, (text, found) in enumerate(zip(batch, engine.analyze_many(batch), strict=True), i):
                    chars += len(text)
                    findings = [[f.start, f.end, f.entity_type] for f in found]
                    residual = [[lo, hi, kind] for kind, lo, hi in residual_hits(text)]
                    if findings or residual:
                        sink.write(json.dumps({"file": name, "index": index, "text": text, "findings": findings,
                                               "residual": residual}, ensure_ascii=False) + "\n")
    print(f"dumped {out}: {chars:,} characters in {time.process_time() - start:.1f} CPU s", file=sys.stderr)


def _load(path: Path) -> dict:
    return {(row["file"], row["index"]): row for row in map(json.loads, path.open(encoding="utf-8"))}


def compare(old_path: Path, new_path: Path, types: set[str] | None) -> None:
    old, new = _load(old_path), _load(new_path)
    tally: Counter = Counter()
    for key in sorted(set(old) | set(new)):
        row = new.get(key) or old[key]
        text = row["text"]
        for field in ("findings", "residual"):
            before = {tuple(f) for f in (old.get(key) or {}).get(field, [])}
            after = {tuple(f) for f in (new.get(key) or {}).get(field, [])}
            for sign, spans in (("+", after - before), ("-", before - after)):
                for lo, hi, kind in sorted(spans):
                    if types and kind.upper() not in types:
                        continue
                    tally[(field, sign, kind)] += 1
                    context = text[max(0, lo - 30):lo] + "[[" + text[lo:hi] + "]]" + text[hi:hi + 30]
                    print(f"{sign}{field[0]} {kind:<14} {key[0]}#{key[1]} {context!r}")
    for (field, sign, kind), count in sorted(tally.items()):
        print(f"{field:<9} {sign} {kind:<22} {count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--data", type=Path, default=DATA)
    c = sub.add_parser("compare")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    c.add_argument("--types", default="", help="comma-separated entity types / residual kinds to show")
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.data)
    else:
        compare(args.old, args.new, {t.strip().upper() for t in args.types.split(",") if t.strip()} or None)


if __name__ == "__main__":
    main()
