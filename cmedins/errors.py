"""User-facing errors: each names where the problem is (file, row, field) so the CLI can print one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class CmedinsError(Exception):
    """An error caused by the user's input or configuration; the CLI prints it without a traceback."""


class RowError(CmedinsError):
    """A single bad input row. Raised by adapters; the runner quarantines the row and carries on."""

    def __init__(self, message: str, *, field: str | None = None, file: str | None = None, row: int | None = None):
        self.message = message
        self.field = field
        self.file = file
        self.row = row
        super().__init__(self.describe())

    @classmethod
    def from_validation(cls, error: ValidationError) -> RowError:
        """The first pydantic error of a row, naming its field path (e.g. `messages.1.content`)."""
        first = error.errors()[0]
        return cls(first["msg"], field=".".join(str(part) for part in first["loc"]) or None)

    def at(self, file: str, row: int) -> RowError:
        """Return a copy located at `file`, `row` (adapters do not know where their row came from)."""
        return RowError(self.message, field=self.field, file=file, row=row)

    def describe(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ConservationError(CmedinsError):
    """Rows were lost: counts in != kept + dropped + quarantined."""


class PublishRefused(CmedinsError):
    """A build may not be published (not de-identified, or failed validation)."""
