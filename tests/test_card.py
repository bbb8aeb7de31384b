"""Dataset card: front matter checked through huggingface_hub, body filled from the build's figures, plots.

Every card here is the card of a real build made by the runner (the embedded sample, the SPF sample, or a tiny
recipe over tests/support/privacy_corpus.py); expected figures are recomputed from the build's Parquet files and
stats, not copied from a fixture.
"""

from __future__ import annotations

import json
import struct
from collections import Counter

import pytest
from huggingface_hub import DatasetCard

from cmedins.contracts.schema import NO_DEPARTMENT
from cmedins.errors import CmedinsError
from cmedins.publish.build import load_build
from cmedins.publish.card import measured_section, write_card
from cmedins.publish.metadata import size_category
from cmedins.publish.plots import department_labels
from cmedins.sft.build import run_recipe
from tests.conftest import copy_build
from tests.support.privacy_corpus import sft_corpus

PLACEHOLDERS = ("[More Information Needed]", "{{", "{%", "TODO", "None", "nan")


@pytest.fixture
def sft_card(sample_build, tmp_path):
    root = copy_build(sample_build, tmp_path / "sft")
    return root, write_card(root, font=None)


def _rows(root):
    build = load_build(root)
    return build, [row for split in build.splits for row in build.rows(split)]


def test_size_category_uses_hub_buckets():
    assert [size_category(n) for n in (0, 999, 1000, 9_999, 220_000, 1_500_000)] == [
        "n<1K", "n<1K", "1K<n<10K", "1K<n<10K", "100K<n<1M", "1M<n<10M"]


def test_front_matter_round_trips_with_computed_values(sft_card):
    root, path = sft_card
    build, rows = _rows(root)
    meta = DatasetCard.load(path).data.to_dict()
    assert meta["language"] == ["zh"]
    assert meta["size_categories"] == [size_category(len(rows))]
    assert meta["task_categories"] == ["text-generation", "question-answering"]
    assert meta["pretty_name"] == "CMedINS sample (synthetic)"  # the recipe's card section
    assert meta["license"] == "cc-by-4.0"
    assert meta["configs"] == [{"config_name": "default", "data_files": [
        {"split": "train", "path": "data/train-*.parquet"},
        {"split": "validation", "path": "data/validation-*.parquet"}]}]
    assert "extra_gated_prompt" not in meta


def test_body_has_real_figures_and_no_placeholders(sft_card):
    root, path = sft_card
    build, rows = _rows(root)
    text = DatasetCard.load(path).text
    for marker in PLACEHOLDERS:
        assert marker not in text, marker
    total = len(rows)
    assert f"This build holds **{total:,} rows**" in text
    train = build.row_count("train")
    assert f"| train | {train:,} | {train / total:.1%} |" in text
    triage = Counter(row["task"] for row in rows)["triage"]
    assert triage and f"| `triage` | {triage:,} | {triage / total:.1%} |" in text
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    person = manifest["deid"]["counts"]["PERSON"]
    assert f"| PERSON | {person:,} |" in text and f"({sum(manifest['deid']['counts'].values()):,} in all)" in text
    dedup = json.loads((root / "stats.json").read_text(encoding="utf-8"))["stages"]["dedup"]
    reasons = ", ".join(f"{reason} {n:,}" for reason, n in sorted(dedup["dropped"].items()))
    assert set(dedup["dropped"]) == {"duplicate_exact", "duplicate_near"}  # the reasons the dedup stage emits
    assert f"| dedup | {dedup['in']:,} | 0 | {dedup['out']:,} | {reasons} | – |" in text
    assert "**Medical disclaimer.**" in text and "arXiv:2501.02869" in text
    plots = sorted((root / "plots").glob("*.png"))
    assert text.count("![") == len(plots) > 0 and "](plots/departments.png)" in text


def test_gated_fields_when_the_recipe_asks(tmp_path):
    corpus = sft_corpus(tmp_path, card={"gated": True, "license": "cc-by-nc-4.0"})
    build = run_recipe(corpus.recipe, show_progress=False).out_dir
    meta = DatasetCard.load(build / "README.md").data.to_dict()
    assert meta["license"] == "cc-by-nc-4.0"
    assert "re-identify" in meta["extra_gated_prompt"]
    assert meta["extra_gated_fields"]["Intended use"]["type"] == "select"


def test_invalid_recipe_license_is_refused(tmp_path):
    corpus = sft_corpus(tmp_path, card={"license": "Apache 2"})
    with pytest.raises(CmedinsError, match="license 'Apache 2' is not a Hub licence id"):
        run_recipe(corpus.recipe, show_progress=False)


def test_card_without_deid_says_so(tmp_path):
    build = run_recipe(sft_corpus(tmp_path, with_deid=False).recipe, show_progress=False).out_dir
    text = (build / "README.md").read_text(encoding="utf-8")
    assert ("**The toolkit did not de-identify this build.** Its recipe declares `sources_already_deidentified: "
            "true`") in text and "cmedins neither de-identified nor checked them" in text
    assert "`cmedins push` refuses it" in text and "De-identification ran" not in text
    # nothing else in the card claims otherwise
    assert "read and normalised, not de-identified by cmedins (see Personal and Sensitive Information)," in text
    assert "cmedins did not de-identify this build: any identifier its sources held is in it." in text
    assert "de-identified, templated" not in text and "De-identification is automatic" not in text


def test_privacy_section_states_what_ran_and_what_was_measured(sft_card):
    root, path = sft_card
    text = path.read_text(encoding="utf-8")
    deid = json.loads((root / "manifest.json").read_text(encoding="utf-8"))["deid"]
    assert f"{deid['residual']['scanned_texts']:,} texts scanned, 0 hits" in text
    assert "UNSAFE BUILD" not in text
    # Without cmedins/deid/measured.json the card says that nothing was measured, instead of claiming recall.
    from cmedins.deid.measured import load_measured

    assert (measured_section(load_measured()) in text)
    assert "carries no de-identification benchmark" in measured_section(None)
    measured = {"benchmark": "python bench/bench_deid.py --real", "data": ["ccks2017_emr/data_origin", "cmb/x.json"],
                "measured_on": "2026-12-01", "planted": 1200, "leak_rate": {"CN_PHONE": 0.0, "PERSON": 0.031},
                "leak_rate_held_out": {"CN_PHONE": 0.0, "PERSON": 0.05}, "planted_held_out": 300,
                "leak_rate_by_spelling": {"mobile_plain": 0.0, "name_kin_paren": 0.25},
                "clinical_words_kept": 0.994, "mb_per_s_per_core": 1.9, "residual_scan_recall": 1.0,
                "planted_attack": 700, "leak_rate_attack": {"CN_PHONE": 0.0, "PERSON": 0.012},
                "residual_scan_recall_attack": 0.98,
                "unseen": {"set": "frames written later", "measured_on": "2026-12-04", "code": "abc1234",
                           "planted": 400, "leak_rate": {"CN_PHONE": 0.0, "PERSON": 0.479}}}
    section = measured_section(measured)
    assert ("**On frames never tuned on** (the first measurement of the newest blind set, 2026-12-04, code abc1234, "
            "400 planted; frames written later): CN_PHONE 0.00%, PERSON 47.90%. Names are found by their context"
            ) in section
    assert "review a sample of a build of real records before publishing it" in section
    assert "never tuned on" not in measured_section({k: v for k, v in measured.items() if "unseen" not in k})
    assert "`python bench/bench_deid.py --real`" in section and "`ccks2017_emr/data_origin`, `cmb/x.json`" in section
    assert "| PERSON | 3.10% | 5.00% |" in section and "| clinical_words_kept | 0.994 |" in section
    assert "Spellings measured: 2; 1 leaked nothing; these leaked:" in section and "| name_kin_paren | 25.00% |" in section
    assert "| written from a new user's attack, before its fixes | 700 | CN_PHONE 0.00%, PERSON 1.20% |" in section
    assert "written after the first fixes" not in section  # no blind figures given: no row for them
    assert "| residual_scan_recall_attack | 0.98 |" in section


def test_spf_card_reports_preference_figures(spf_sample_build, tmp_path):
    root = copy_build(spf_sample_build, tmp_path / "dpo")
    card = DatasetCard.load(write_card(root, font=None))
    _, rows = _rows(root)
    assert card.data.to_dict()["task_categories"] == ["text-generation"]
    assert f"holds\n**{len(rows):,} pairs**" in card.text
    arbitrated = sum(1 for row in rows if row["arbitrated"])
    agreements = [row["agreement"] for row in rows if row["agreement"] is not None]
    assert (f"Pairs decided by an expert arbiter: {arbitrated:,} of {len(rows):,}. Mean per-pair annotator "
            f"agreement: {sum(agreements) / len(agreements):.3f}.") in card.text
    stats = json.loads((root / "stats.json").read_text(encoding="utf-8"))["preference"]
    arbitration = stats["arbitration"]
    assert (f"{arbitration['disputed']:,} disputed pairs, {arbitration['applied']:,} settled by the expert, "
            f"{arbitration['pending']:,} still pending") in card.text
    safety = stats["agreement"]["dimensions"]["safety"]
    assert "| Krippendorff's alpha |" in card.text and safety["krippendorff_alpha"] is not None
    assert "fleiss_kappa" not in safety  # two annotators per pair in the sample: Cohen's kappa, no Fleiss
    assert (f"| safety | {safety['percent_agreement']:.3f} | {safety['cohen_kappa']:.3f} | n/a | "
            f"{safety['krippendorff_alpha']:.3f} |") in card.text
    assert "the `spf_deid` stage" in card.text  # the same privacy gate as the SFT build
    assert "No row in this build carries a department label." not in card.text  # SPF has no department table
    assert {"dimensions.png", "distribution.png"} <= {p.name for p in (root / "plots").glob("*.png")}


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


def test_missing_stats_is_a_clear_error(sample_build, tmp_path):
    root = copy_build(sample_build, tmp_path / "b")
    (root / "stats.json").unlink()
    with pytest.raises(CmedinsError, match=r"stats.json: missing"):
        write_card(root)


def test_stats_figures_reach_card_unchanged(sft_card):
    root, path = sft_card
    stats = json.loads((root / "stats.json").read_text())
    text = path.read_text()
    assert stats["departments"]
    for department, n in stats["departments"].items():
        if department != NO_DEPARTMENT:
            assert f"| {department} | {n} |" in text


def test_every_taxonomy_department_has_an_english_label():
    departments = pytest.importorskip("cmedins.records.departments")
    assert [name for name in departments.DEPARTMENTS if department_labels([name], has_cjk=False) ==
            ["unmapped department"]] == []


def test_large_build_card_reads_a_sample_but_counts_exactly(sample_build):
    """A million-row build must not be loaded whole for its card: figures come from every k-th row, counts
    from whole columns, and every task still gets its example."""
    build = load_build(sample_build)
    rows, step = build.card_rows(limit=3)
    assert step == -(-build.total_rows // 3) > 1
    tasks = build.value_counts("task")
    assert {row["task"] for row in rows} == set(tasks)  # the first row of each task is always in the sample
    assert len(rows) < build.total_rows
    assert sum(build.value_counts("source").values()) == build.total_rows
