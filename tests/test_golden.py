"""Golden end-to-end test: the default recipe on the embedded sample gives known counts and ids.

The expected figures live in tests/golden/sample_build.json and the first train rows, whole and readable, in
tests/golden/sample_rows.json; a mismatch fails with a unified diff of either. After an intended change (templates, dedup
defaults, the sample generator...), regenerate them with
    CMEDINS_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py
and review the diff of that file like any other change.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os

import pyarrow.parquet as pq
import pytest

from cmedins.sft.build import run_recipe
from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "golden" / "sample_build.json"
GOLDEN_ROWS = ROOT / "tests" / "golden" / "sample_rows.json"  # readable: whole rows, one field per line
GOLDEN_ROW_COUNT = 8
DATA_FILES = ("data/train-00000-of-00001.parquet", "data/validation-00000-of-00001.parquet")


def _summary(build) -> dict:
    stats = json.loads((build / "stats.json").read_text(encoding="utf-8"))
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    ids = {split: sorted(pq.read_table(build / name, columns=["id"]).column("id").to_pylist())
           for split, name in zip(("train", "validation"), DATA_FILES, strict=True)}
    return {
        "rows": stats["rows"],
        "splits": stats["splits"],
        "tasks": stats["tasks"],
        "stages": stats["stages"],
        "mix_selected": stats["mix"]["selected"],
        "deid_counts": stats["deid"]["counts"],
        "identity_fields_cleared": stats["deid"]["identity_fields_cleared"],
        "manifest_deid_ran": manifest["deid"]["ran"],
        "manifest_validation": manifest["validation"],
        "first_train_ids": ids["train"][:5],
        "ids_sha256": {split: hashlib.sha256("\n".join(v).encode()).hexdigest() for split, v in ids.items()},
    }


def _first_rows(build) -> list[dict]:
    """The first rows of the train split in id order, whole: what a reviewer reads in the golden diff."""
    rows = pq.read_table(build / DATA_FILES[0]).to_pylist()
    return sorted(rows, key=lambda row: row["id"])[:GOLDEN_ROW_COUNT]


def _readable(value) -> list[str]:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).splitlines()


def _check(name: str, actual, expected_path) -> None:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    if actual != expected:
        diff = "\n".join(difflib.unified_diff(_readable(expected), _readable(actual), f"golden {name}",
                                               f"this build's {name}", lineterm="", n=2))
        pytest.fail(f"{name} differs from {expected_path.name} (regenerate with CMEDINS_UPDATE_GOLDEN=1 after an "
                    f"intended change):\n{diff}")


def test_sample_build_matches_golden(sample_build):
    summary, rows = _summary(sample_build), _first_rows(sample_build)
    if os.environ.get("CMEDINS_UPDATE_GOLDEN"):
        GOLDEN.write_text("\n".join(_readable(summary)) + "\n", encoding="utf-8")
        GOLDEN_ROWS.write_text("\n".join(_readable(rows)) + "\n", encoding="utf-8")
        pytest.skip("golden files rewritten from this build: review their diff")  # never compared with themselves
    _check("summary", summary, GOLDEN)
    _check("first rows", rows, GOLDEN_ROWS)


def test_sample_build_conserves_rows_and_is_reproducible(sample_build, tmp_path):
    rows = json.loads((sample_build / "stats.json").read_text(encoding="utf-8"))["rows"]
    assert rows["input"] + rows["created"] == rows["kept"] + rows["dropped"] + rows["quarantined"]
    again = run_recipe(ROOT / "pipelines" / "sample.yaml", tmp_path / "again", show_progress=False).out_dir
    for name in (*DATA_FILES, "stats.json", "preview.jsonl"):
        assert (again / name).read_bytes() == (sample_build / name).read_bytes(), name


def test_sample_build_has_no_identity_left(sample_build):
    """The identities planted in the sample's records must not appear in any published file."""
    records = [json.loads(line) for line in (ROOT / "cmedins/sample/data/records.jsonl").read_text(encoding="utf-8").splitlines()
               if line.startswith("{")]
    planted = {r[field] for r in records if isinstance(r, dict)
               for field in ("patient_name", "id_number", "phone") if isinstance(r.get(field), str) and len(r[field]) >= 2}
    assert len(planted) > 100
    published = "".join((sample_build / name).read_text(encoding="utf-8") for name in ("preview.jsonl", "README.md"))
    published += json.dumps(pq.read_table(sample_build / DATA_FILES[0]).to_pylist(), ensure_ascii=False)
    published += json.dumps(pq.read_table(sample_build / DATA_FILES[1]).to_pylist(), ensure_ascii=False)
    assert sorted(value for value in planted if value in published) == []
