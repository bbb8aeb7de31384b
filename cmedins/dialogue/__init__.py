"""Dialogue and general-instruction sources: adapters from real corpus formats to conversations."""

from cmedins.dialogue import adapters as adapters  # noqa: F401  (registers the formats)
