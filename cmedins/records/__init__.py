"""Medical records: the free-text section parser, the department taxonomy and the record source formats."""

from cmedins.records import formats as formats  # noqa: F401  (registers the record formats)
