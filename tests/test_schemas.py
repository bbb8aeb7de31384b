"""schemas/ holds the JSON Schema of every row contract; it must match the pydantic models."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from cmedins.contracts.schema import DPORow, SFTRow
from cmedins.rowio.validation import json_schemas, validate_path
from tests.conftest import ROOT


def test_exported_schemas_match_the_models():
    for kind, schema in json_schemas().items():
        path = ROOT / "schemas" / f"{kind}.schema.json"
        assert path.exists(), f"{path} missing: run `cmedins schemas`"
        assert json.loads(path.read_text(encoding="utf-8")) == schema, f"{path} is stale: run `cmedins schemas`"


def _sft(**changes):
    row = {"id": "0123456789abcdef0123", "task": "dialogue_single", "source": "chatmed",
           "messages": [{"role": "user", "content": "头痛怎么办？"}, {"role": "assistant", "content": "建议就医。"}]}
    return {**row, **changes}


def test_sft_contract_rejects_broken_turn_order_and_unknown_task():
    SFTRow.model_validate(_sft())
    with pytest.raises(ValidationError, match="expected 'user'"):
        SFTRow.model_validate(_sft(messages=[{"role": "assistant", "content": "你好"}, {"role": "user", "content": "嗯"}]))
    with pytest.raises(ValidationError):
        SFTRow.model_validate(_sft(task="chitchat"))
    with pytest.raises(ValidationError, match="blank"):
        SFTRow.model_validate(_sft(messages=[{"role": "user", "content": "  "}, {"role": "assistant", "content": "x"}]))


def test_dpo_contract_needs_single_assistant_answers():
    row = {"id": "0123456789abcdef", "prompt": [{"role": "user", "content": "能停胰岛素吗？"}],
           "chosen": [{"role": "assistant", "content": "不能自行停药。"}],
           "rejected": [{"role": "assistant", "content": "可以停。"}],
           "deciding_dimension": "safety", "distribution": "in", "source": "sample", "annotator_count": 2}
    DPORow.model_validate(row)
    with pytest.raises(ValidationError, match="assistant"):
        DPORow.model_validate({**row, "chosen": [{"role": "user", "content": "x"}]})


def test_validate_path_names_file_row_and_field(tmp_path):
    path = tmp_path / "rows.jsonl"
    rows = [_sft(), _sft(task="chitchat"), _sft(id="xyz")]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    report = validate_path(path, "sft")
    assert report.rows == 3
    assert [(e.row, e.field) for e in report.errors] == [(2, "task"), (3, "id")]
    assert report.errors[0].describe().startswith(f"{path}, row 2, field 'task'")
