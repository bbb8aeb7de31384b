"""The card's YAML front matter: built as a huggingface_hub DatasetCardData and checked offline.

`DatasetCard.validate()` asks the Hub over the network; `check_card_data` instead checks every key against
the vocabularies that ship with `datasets` (size buckets, creators) and the Hub's licence and task ids,
and checks that the `configs` data_files match shards in the build.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

from cmedins.errors import CmedinsError
from cmedins.publish.build import Build

# Licence ids the Hub accepts (subset of huggingface.co/docs/hub/repositories-licenses that data uses).
HUB_LICENSES = frozenset({
    "apache-2.0", "mit", "bsd-2-clause", "bsd-3-clause", "cc0-1.0", "cc-by-4.0", "cc-by-sa-4.0",
    "cc-by-nc-4.0", "cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0", "cc-by-nd-4.0", "cc-by-3.0", "cc-by-sa-3.0",
    "cc-by-nc-3.0", "cc-by-nc-sa-3.0", "gpl-3.0", "lgpl-3.0", "agpl-3.0", "odc-by", "odbl", "pddl",
    "openrail", "unknown", "other",
})
# Hub task_categories ids (pipeline tags) a text dataset of this kind can carry.
HUB_TASK_CATEGORIES = frozenset({
    "text-generation", "question-answering", "summarization", "text-classification", "token-classification",
    "table-question-answering", "translation", "sentence-similarity", "text-ranking", "fill-mask",
})
GATED_FIELD_TYPES = frozenset({"text", "checkbox", "date_picker", "country"})

# How stated source licences (free text in recipes/SOURCE.md) map to Hub ids.
_LICENSE_ALIASES = {
    "apache-2.0": "apache-2.0", "apache 2.0": "apache-2.0", "apache2": "apache-2.0", "mit": "mit",
    "cc-by-4.0": "cc-by-4.0", "cc by 4.0": "cc-by-4.0", "cc-by-nc-4.0": "cc-by-nc-4.0",
    "cc by-nc 4.0": "cc-by-nc-4.0", "cc by-nc": "cc-by-nc-4.0", "cc-by-nc-sa-4.0": "cc-by-nc-sa-4.0",
    "cc0-1.0": "cc0-1.0", "cc0": "cc0-1.0",
}

DEFAULT_GATED_PROMPT = (
    "This dataset is derived from de-identified Chinese clinical records and medical dialogues. It is for "
    "research on medical language models only. You agree not to attempt to re-identify any person and not "
    "to use the data, or models trained on it, to diagnose or treat anyone without clinical validation."
)
DEFAULT_GATED_FIELDS: dict[str, Any] = {
    "Name": "text",
    "Affiliation": "text",
    "Country": "country",
    "Intended use": {"type": "select", "options": ["Research", "Education", "Other"]},
    "I will not attempt to re-identify any patient": "checkbox",
    "I will not use this data for clinical decisions without validation": "checkbox",
}

_KIND = {
    "sft": {
        "pretty_name": "CMedINS",
        "task_categories": ["text-generation", "question-answering"],
        "tags": ["medical", "chinese", "instruction-tuning", "sft", "trl"],
        "annotations_creators": ["found", "machine-generated"],
        "language_creators": ["found", "expert-generated"],
    },
    "dpo": {
        "pretty_name": "SPF",
        "task_categories": ["text-generation"],
        "tags": ["medical", "chinese", "preference", "dpo", "trl"],
        "annotations_creators": ["expert-generated"],
        "language_creators": ["found", "machine-generated"],
    },
}


def _vocabulary(name: str) -> Any:
    return json.loads(resources.files("datasets.utils.resources").joinpath(name).read_text(encoding="utf-8"))


def size_category(rows: int) -> str:
    """The Hub's size bucket for a row count (n<1K, 1K<n<10K, ...)."""
    buckets = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
               (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]
    for bound, label in buckets:
        if rows < bound:
            return label
    return "1B<n<10B"


def hub_license(stated: str | None) -> str | None:
    """A source's stated licence as a Hub id, or None when it does not name one (e.g. 'research only')."""
    if not stated:
        return None
    return _LICENSE_ALIASES.get(stated.strip().lower())


def dataset_license(build: Build) -> str:
    """The recipe's `card.license`, else the sources' common licence, else 'other' (mixed or unstated)."""
    chosen = build.recipe_section("card").get("license")
    if chosen:
        return str(chosen)
    licenses = {hub_license(info.get("license")) for info in build.stats.get("sources", {}).values()}
    return licenses.pop() if len(licenses) == 1 and None not in licenses else "other"


def source_datasets(build: Build) -> list[str]:
    """'original' for local sources; 'extended|<hub id>' for recipe sources that name a `hub_id`."""
    sources = (build.manifest.get("recipe") or {}).get("sources") or []
    extended = sorted({f"extended|{spec['hub_id']}" for spec in sources
                       if isinstance(spec, dict) and spec.get("hub_id")})
    return ["original", *extended]


def build_card_data(build: Build) -> DatasetCardData:
    kind = _KIND.get(build.kind)
    if kind is None:
        raise CmedinsError(f"{build.root / 'stats.json'}: unknown build kind {build.kind!r} (expected sft or dpo)")
    card = build.recipe_section("card")
    license_id = dataset_license(build)
    extra: dict[str, Any] = {}
    if license_id == "other":
        extra["license_name"] = "mixed-source-licenses"
    if card.get("gated"):
        extra["extra_gated_prompt"] = card.get("gated_prompt") or DEFAULT_GATED_PROMPT
        extra["extra_gated_fields"] = card.get("gated_fields") or DEFAULT_GATED_FIELDS
    return DatasetCardData(
        pretty_name=card.get("pretty_name") or kind["pretty_name"],
        language=["zh"],
        license=license_id,
        multilinguality="monolingual",
        size_categories=[size_category(build.total_rows)],
        task_categories=kind["task_categories"],
        annotations_creators=kind["annotations_creators"],
        language_creators=kind["language_creators"],
        source_datasets=source_datasets(build),
        tags=kind["tags"],
        configs=[{
            "config_name": "default",
            "data_files": [{"split": split, "path": f"data/{split}-*.parquet"} for split in build.splits],
        }],
        **extra,
    )


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise CmedinsError(f"card metadata: {message}")


def check_card_data(data: DatasetCardData, build: Build) -> None:
    """Offline checks of the front matter; raises CmedinsError naming the bad key."""
    meta = data.to_dict()
    # Round trip through the card parser the Hub and `datasets` use.
    reparsed = DatasetCard(f"---\n{data.to_yaml()}\n---\n").data.to_dict()
    _require(reparsed == meta, "does not survive a YAML round trip")
    _require(meta.get("language") == ["zh"], f"language must be ['zh'], got {meta.get('language')!r}")
    _require(meta.get("license") in HUB_LICENSES, f"license {meta.get('license')!r} is not a Hub licence id")
    _require(bool(meta.get("pretty_name")), "pretty_name is empty")
    tasks = meta.get("task_categories") or []
    _require(bool(tasks) and set(tasks) <= HUB_TASK_CATEGORIES, f"task_categories {tasks!r} not Hub ids")
    sizes = meta.get("size_categories")
    _require(sizes == [size_category(build.total_rows)] and sizes[0] in _vocabulary("size_categories.json"),
             f"size_categories {sizes!r} does not match {build.total_rows} rows")
    creators = _vocabulary("creators.json")
    _require(set(meta.get("annotations_creators") or ["?"]) <= set(creators["annotations"]),
             f"annotations_creators {meta.get('annotations_creators')!r}")
    _require(set(meta.get("language_creators") or ["?"]) <= set(creators["language"]),
             f"language_creators {meta.get('language_creators')!r}")
    _require(meta.get("multilinguality") in _vocabulary("multilingualities.json"), "multilinguality")
    for source in meta.get("source_datasets") or ["?"]:
        _require(source == "original" or re.fullmatch(r"extended\|[\w.-]+/[\w.-]+", source) is not None,
                 f"source_datasets entry {source!r}")
    _check_configs(data, build)
    _check_gated(meta)


def _check_configs(data: DatasetCardData, build: Build) -> None:
    from datasets.utils.metadata import MetadataConfigs

    try:
        configs = MetadataConfigs.from_dataset_card_data(data)
    except ValueError as error:
        raise CmedinsError(f"card metadata: configs: {error}") from None
    _require(list(configs) == ["default"], f"expected one 'default' config, got {list(configs)}")
    for entry in configs["default"]["data_files"]:
        matched = sorted(Path(path).name for path in build.root.glob(entry["path"]))
        expected = sorted(path.name for path in build.shards.get(entry["split"], []))
        _require(bool(matched) and matched == expected,
                 f"configs path {entry['path']!r} matches {matched}, expected the {entry['split']} shards")


def _check_gated(meta: dict[str, Any]) -> None:
    fields = meta.get("extra_gated_fields")
    if fields is None:
        return
    _require(bool(meta.get("extra_gated_prompt")), "extra_gated_fields without extra_gated_prompt")
    for name, spec in fields.items():
        kind = spec.get("type") if isinstance(spec, dict) else spec
        _require(kind in GATED_FIELD_TYPES | {"select"}, f"extra_gated_fields[{name!r}] has type {kind!r}")
        if kind == "select":
            _require(bool(spec.get("options")), f"extra_gated_fields[{name!r}] select without options")
