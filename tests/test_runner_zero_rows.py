"""A build that keeps zero rows (or very few) still ends with a valid card whose plots say "no rows";
`cmedins validate` refuses a build with no rows."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from cmedins.runner.build_folder import MARKER
from cmedins.sft.build import run_recipe
from tests.support.runner_corpus import write_recipe
from tests.test_runner_outdir import run_cli


def _all_quarantined_recipe(tmp_path):
    recipe = write_recipe(tmp_path, sources=[{"name": "chatmed", "path": "src/empty.jsonl", "format": "chatmed"}])
    (tmp_path / "src" / "empty.jsonl").write_text('{"query": 3, "response": true}\nnot json\n', encoding="utf-8")
    return recipe


def test_a_zero_row_build_has_a_card_and_plots_that_say_so(tmp_path):
    out = tmp_path / "out"
    stats = run_recipe(_all_quarantined_recipe(tmp_path), out, show_progress=False).stats
    assert stats["rows"]["kept"] == 0 and stats["rows"]["quarantined"] == 2
    card = (out / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "plots/sources.png" in card
    for split in ("train", "validation"):
        assert pq.read_table(out / "data" / f"{split}-00000-of-00001.parquet").num_rows == 0
    assert (out / "plots" / "sources.png").stat().st_size > 1000 and (out / MARKER).is_file()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["validation"]["rows"] == 0


def test_validate_fails_on_a_zero_row_build(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    run_recipe(_all_quarantined_recipe(tmp_path), out, show_progress=False)
    code, stdout, err = run_cli(monkeypatch, capsys, "validate", str(out), "--kind", "sft")
    assert code == 1 and "0 rows checked" in stdout and "no rows" in err


@pytest.mark.parametrize("keep", [1, 2])
def test_a_tiny_build_has_a_card(tmp_path, keep):
    recipe = write_recipe(tmp_path, sources=[{"name": "general", "path": "src/general.json", "format": "alpaca"}],
                          split={"validation": 0.0})
    rows = json.loads((tmp_path / "src" / "general.json").read_text(encoding="utf-8"))[:keep]
    (tmp_path / "src" / "general.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert run_recipe(recipe, out, show_progress=False).stats["rows"]["kept"] == keep
    assert "plots/lengths_tokens.png" in (out / "README.md").read_text(encoding="utf-8")
