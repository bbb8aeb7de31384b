"""De-identification of Chinese clinical text (presidio + Chinese recognizers). Importing this package is
cheap; presidio loads when a `Deidentifier` is built."""

from cmedins.deid.config import ENTITY_TYPES, PLACEHOLDERS, DeidConfig

__all__ = ["ENTITY_TYPES", "PLACEHOLDERS", "DeidConfig"]
