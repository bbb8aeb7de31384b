"""Test-only helpers (never imported by the package; bench/ may use them)."""
