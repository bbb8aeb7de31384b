"""LLaMA-Factory's `dataset_info.json` for a build folder, so `llamafactory-cli train` reads the build as is.

LLaMA-Factory finds datasets by name in `<dataset_dir>/dataset_info.json`; `dataset_dir` is a local folder or
`REMOTE:org/name` (the file is then fetched from that Hub dataset repo). What each set needs:
- SFT rows (trl's `messages`): `formatting: sharegpt`, `columns: {messages: messages}` and role/content tags;
  the Parquet shards are read where they are.
- Preference rows: `ranking: true` and `chosen`/`rejected` columns, which LLaMA-Factory 0.9.5 accepts only as
  ONE message object; trl's rows hold a one-message list ("Cannot find valid samples" otherwise). The dataset
  keeps trl's shape (trl trains on it), and the export writes a mapped copy per split under `llamafactory/`
  (chosen/rejected as the message itself, every other column unchanged).

Entries: `<name>` and `<name>_validation` read local files relative to the build folder (`dataset_dir: BUILD`);
with a repo id (`cmedins push`, or `cmedins export llamafactory --repo-id`) also `<name>_hub` and
`<name>_hub_validation`, which load the same files from the Hub repo (`dataset_dir: REMOTE:org/name`; local
`file_name` entries cannot be resolved there). A split of several shards gets one entry per shard
(`<name>_00000`, ...): LLaMA-Factory's `file_name` names one file or a whole folder, and data/ holds every split.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from cmedins.errors import CmedinsError
from cmedins.publish.build import Build, load_build

INFO_FILE = "dataset_info.json"
MAPPED_DIR = "llamafactory"  # preference splits with chosen/rejected as one message object
TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
        "system_tag": "system"}


def _entry_base(kind: str) -> dict[str, Any]:
    if kind == "dpo":
        return {"formatting": "sharegpt", "ranking": True,
                "columns": {"messages": "prompt", "chosen": "chosen", "rejected": "rejected"}, "tags": TAGS}
    return {"formatting": "sharegpt", "columns": {"messages": "messages"}, "tags": TAGS}


def _entry_name(build: Build) -> str:
    name = str(build.manifest.get("name") or build.root.name)
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def write_mapped_preferences(build: Build) -> dict[str, str]:
    """llamafactory/<split>.parquet with chosen/rejected as one message struct; returns split -> relative path."""
    out_dir = build.root / MAPPED_DIR
    out_dir.mkdir(exist_ok=True)
    written = {}
    for split in build.splits:
        target = out_dir / f"{split}.parquet"
        writer = None
        for shard in build.shards[split]:
            table = pq.read_table(shard)
            for column in ("chosen", "rejected"):
                index = table.schema.get_field_index(column)
                table = table.set_column(index, column, pc.list_element(table.column(column), 0))
            if writer is None:
                writer = pq.ParquetWriter(target, table.schema)
            writer.write_table(table)
        if writer is not None:
            writer.close()
        written[split] = f"{MAPPED_DIR}/{target.name}"
    return written


def dataset_info(build: Build, *, repo_id: str | None = None, mapped: dict[str, str] | None = None) -> dict:
    """The dataset_info.json content for a build (see the module docstring for the entry names)."""
    name, base = _entry_name(build), _entry_base(build.kind)
    info: dict[str, Any] = {}
    for split in build.splits:
        suffix = "" if split == "train" else f"_{split}"
        if build.kind == "dpo":
            if mapped is None:
                raise CmedinsError(f"{build.root}: preference splits need the mapped copy under {MAPPED_DIR}/")
            files = [mapped[split]]
        else:
            files = [shard.relative_to(build.root).as_posix() for shard in build.shards[split]]
        if len(files) == 1:
            info[f"{name}{suffix}"] = {"file_name": files[0], **base}
        else:
            for index, file in enumerate(files):
                info[f"{name}{suffix}_{index:05d}"] = {"file_name": file, **base}
        if repo_id:
            hub = {"hf_hub_url": repo_id, "split": split, **base}
            if build.kind == "dpo":
                hub["folder"] = MAPPED_DIR  # the mapped copy, not the trl-shaped data/ shards
            info[f"{name}_hub{suffix}"] = hub
    return info


def write_dataset_info(build_dir: Path, *, repo_id: str | None = None) -> Path:
    """Write BUILD/dataset_info.json (and the mapped preference copy); returns the file's path."""
    if repo_id is not None and (repo_id.count("/") != 1 or not all(repo_id.split("/"))):
        raise CmedinsError(f"--repo-id must be ORG/NAME, got {repo_id!r}")
    build = load_build(build_dir)
    mapped = write_mapped_preferences(build) if build.kind == "dpo" else None
    path = build.root / INFO_FILE
    text = json.dumps(dataset_info(build, repo_id=repo_id, mapped=mapped), ensure_ascii=False, indent=2)
    path.write_text(text + "\n", encoding="utf-8")
    return path

