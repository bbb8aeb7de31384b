"""The Parquet schemas are derived from the pydantic row contracts (one declaration), and registries refuse a
name registered twice."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel

from cmedins.contracts.arrow import DPO_SCHEMA, SFT_SCHEMA, arrow_schema
from cmedins.contracts.schema import DPORow, SFTRow
from cmedins.rowio.formats import register_format


def test_published_schemas_follow_the_row_models():
    assert SFT_SCHEMA.names == list(SFTRow.model_fields) and DPO_SCHEMA.names == list(DPORow.model_fields)
    message = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    assert SFT_SCHEMA.field("messages").type == message and DPO_SCHEMA.field("chosen").type == message
    assert DPO_SCHEMA.field("annotator_count").type == pa.int32()
    assert DPO_SCHEMA.field("agreement").type == pa.float64() and DPO_SCHEMA.field("flipped").type == pa.bool_()
    assert SFT_SCHEMA.field("department").nullable


def test_a_new_contract_field_reaches_the_schema():
    class Extended(SFTRow):
        reviewed: bool | None = None
        scores: list[float] = []

    schema = arrow_schema(Extended)
    assert schema.names[-2:] == ["reviewed", "scores"]
    assert schema.field("scores").type == pa.list_(pa.float64())

    class Odd(BaseModel):
        when: complex

    with pytest.raises(TypeError, match="no Arrow type"):
        arrow_schema(Odd)


def test_a_build_writes_the_derived_schema(sample_build):
    assert pq.read_schema(sample_build / "data" / "train-00000-of-00001.parquet").remove_metadata() == SFT_SCHEMA


def test_a_format_name_cannot_be_registered_twice():
    def chatmed(row: dict) -> dict:  # another adapter under a taken name
        return row

    with pytest.raises(ValueError, match="registered twice"):
        register_format("chatmed", "conversation")(chatmed)
