"""Arrow schemas of the published contracts, derived from their pydantic models (the one declaration)."""

from __future__ import annotations

from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import pyarrow as pa
from pydantic import BaseModel

from cmedins.contracts.schema import DPORow, SFTRow


def _arrow_type(annotation: Any) -> pa.DataType:
    """The Arrow type of one pydantic field annotation (Optional unwrapped: every column is nullable)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, UnionType):
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _arrow_type(inner)
    if origin is Literal:
        return _arrow_type(type(args[0]))
    if origin is list:
        return pa.list_(_arrow_type(args[0]))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pa.struct([(name, _arrow_type(field.annotation)) for name, field in annotation.model_fields.items()])
    types = {str: pa.string(), bool: pa.bool_(), int: pa.int32(), float: pa.float64()}
    if annotation not in types:
        raise TypeError(f"no Arrow type for {annotation!r}")
    return types[annotation]


def arrow_schema(model: type[BaseModel]) -> pa.Schema:
    """A published row contract's Parquet schema, derived from its pydantic model (one declaration): the
    columns in field order. Whole numbers are int32 (counts), messages a list of {role, content} structs."""
    return pa.schema([(name, _arrow_type(field.annotation)) for name, field in model.model_fields.items()])


SFT_SCHEMA = arrow_schema(SFTRow)
DPO_SCHEMA = arrow_schema(DPORow)
