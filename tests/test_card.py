"""Dataset card: front matter checked through huggingface_hub, body filled from the build's figures, plots."""

from __future__ import annotations

import json
import struct

import pytest
from huggingface_hub import DatasetCard

from cmedins.errors import CmedinsError
from cmedins.publish.build import load_build
from cmedins.publish.card import write_card
from cmedins.publish.metadata import build_card_data, check_card_data, size_category
from cmedins.publish.plots import department_labels
from tests.test_card_fixtures import make_build

PLACEHOLDERS = ("[More Information Needed]", "{{", "{%", "TODO", "None", "nan")


@pytest.fixture
def sft_card(tmp_path):
    root = make_build(tmp_path / "sft")
    return root, write_card(root, font=None)


def test_size_category_uses_hub_buckets():
    assert [size_category(n) for n in (0, 999, 1000, 9_999, 220_000, 1_500_000)] == [
        "n<1K", "n<1K", "1K<n<10K", "1K<n<10K", "100K<n<1M", "1M<n<10M"]


def test_front_matter_round_trips_with_computed_values(sft_card):
    root, path = sft_card
    meta = DatasetCard.load(path).data.to_dict()
    assert meta["language"] == ["zh"]
    assert meta["size_categories"] == ["n<1K"]  # 66 rows
    assert meta["task_categories"] == ["text-generation", "question-answering"]
    assert meta["pretty_name"] == "CMedINS"
    assert meta["source_datasets"] == ["original"]
    # research-only hospital rows next to Apache and CC BY-NC sources: no single licence applies
    assert meta["license"] == "other" and meta["license_name"] == "mixed-source-licenses"
    assert meta["configs"] == [{"config_name": "default", "data_files": [
        {"split": "train", "path": "data/train-*.parquet"},
        {"split": "validation", "path": "data/validation-*.parquet"}]}]
    assert "extra_gated_prompt" not in meta


def test_body_has_real_figures_and_no_placeholders(sft_card):
    _, path = sft_card
    text = DatasetCard.load(path).text
    for marker in PLACEHOLDERS:
        assert marker not in text, marker
    assert "This build holds **66 rows**" in text
    assert "| train | 59 | 89.4% |" in text
    assert "| `triage` | 10 | 15.2% |" in text
    assert "| PERSON | 12 |" in text and "(25 in all)" in text  # de-identification counts from the manifest
    assert "| hospital_emr | jsonl | 63 | 1 | 60 | research only | none |" in text
    assert "| dedup | 68 | 0 | 66 | near_duplicate 2 | – |" in text
    assert "**Medical disclaimer.**" in text and "arXiv:2501.02869" in text
    assert text.count("![") == 6 and "](plots/departments.png)" in text


def test_gated_fields_when_the_recipe_asks(tmp_path):
    root = make_build(tmp_path / "gated", recipe_card={"gated": True, "license": "cc-by-nc-4.0"})
    meta = DatasetCard.load(write_card(root, font=None)).data.to_dict()
    assert meta["license"] == "cc-by-nc-4.0"
    assert "re-identify" in meta["extra_gated_prompt"]
    assert meta["extra_gated_fields"]["Intended use"]["type"] == "select"


def test_invalid_recipe_license_is_refused(tmp_path):
    build = load_build(make_build(tmp_path / "bad", recipe_card={"license": "Apache 2"}))
    with pytest.raises(CmedinsError, match="license 'Apache 2' is not a Hub licence id"):
        check_card_data(build_card_data(build), build)


def test_card_without_deid_says_so(tmp_path):
    root = make_build(tmp_path / "nodeid", deid_ran=False)
    assert "**De-identification did not run for this build.**" in write_card(root, font=None).read_text()


def test_spf_card_reports_preference_figures(tmp_path):
    root = make_build(tmp_path / "dpo", kind="dpo")
    card = DatasetCard.load(write_card(root, font=None))
    assert card.data.to_dict()["task_categories"] == ["text-generation"]
    assert "holds\n**4 pairs**" in card.text
    assert "Pairs decided by an expert arbiter: 2 of 4. Mean per-pair annotator agreement: 0.750." in card.text
    assert "| safety | 0.750 | 0.500 | n/a |" in card.text
    assert "| fluency | 1.000 | n/a | n/a |" in card.text  # kappa is undefined when everyone agrees on one label
    assert "2 disputed pairs, 2 settled by the expert, 0 still pending" in card.text
    assert "No row in this build carries a department label." not in card.text  # SPF has no department table
    assert sorted(p.name for p in (root / "plots").glob("*.png")) == [
        "dimensions.png", "distribution.png", "lengths_chars.png", "lengths_tokens.png", "sources.png", "turns.png"]


def _png_size(path):
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_plots_are_pngs_and_deterministic(sft_card):
    root, path = sft_card
    first = {p.name: p.read_bytes() for p in (root / "plots").glob("*.png")}
    card = path.read_bytes()
    write_card(root, font=None)
    assert {p.name: p.read_bytes() for p in (root / "plots").glob("*.png")} == first
    assert path.read_bytes() == card
    width, height = _png_size(root / "plots" / "departments.png")
    assert width > 600 and height > 300


def test_department_labels_fall_back_to_english_without_a_cjk_font():
    assert department_labels(["心血管内科", "某新科室"], has_cjk=False) == ["Cardiology", "unmapped department"]
    assert department_labels(["心血管内科"], has_cjk=True) == ["心血管内科 (Cardiology)"]


def test_missing_stats_is_a_clear_error(tmp_path):
    root = make_build(tmp_path / "b")
    (root / "stats.json").unlink()
    with pytest.raises(CmedinsError, match=r"stats.json: missing"):
        write_card(root)


def test_stats_figures_reach_card_unchanged(sft_card):
    root, path = sft_card
    stats = json.loads((root / "stats.json").read_text())
    text = path.read_text()
    for department, n in stats["departments"].items():
        assert f"| {department} | {n} |" in text


def test_every_taxonomy_department_has_an_english_label():
    departments = pytest.importorskip("cmedins.records.departments")
    assert [name for name in departments.DEPARTMENTS if department_labels([name], has_cjk=False) ==
            ["unmapped department"]] == []


def test_large_build_card_reads_a_sample_but_counts_exactly(tmp_path):
    """A million-row build must not be loaded whole for its card: figures come from every k-th row, counts
    from whole columns, and every task still gets its example."""
    root = make_build(tmp_path / "big", kind="sft")
    build = load_build(root)
    rows, step = build.card_rows(limit=3)
    assert step == -(-build.total_rows // 3) > 1
    tasks = build.value_counts("task")
    assert {row["task"] for row in rows} == set(tasks)  # the first row of each task is always in the sample
    assert len(rows) < build.total_rows
    assert sum(build.value_counts("source").values()) == build.total_rows
