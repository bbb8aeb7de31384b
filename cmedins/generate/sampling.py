"""Sampling settings and seeds. Every (item, sample) gets its own seed from the run seed, so an answer does not
depend on which other items ran before it (a resumed run gives the same answers as an uninterrupted one)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.7
    top_p: float = 0.9
    max_new_tokens: int = 512
    seed: int = 42

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0

    def as_dict(self) -> dict:
        return asdict(self)


def unit_seed(seed: int, item_id: str, sample: int) -> int:
    """A 31-bit seed for one (item, sample): stable across runs, platforms and resumptions."""
    digest = hashlib.sha256(f"{seed}\0{item_id}\0{sample}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
