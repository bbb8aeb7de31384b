"""Decontamination: find training rows that contain an evaluation item's text.

Every user turn of every evaluation conversation is one item (a multi-turn test dialogue leaks turn by turn).
An item's n-gram set is compared with a training row's by containment,
    overlap = |item shingles present in the row| / |item shingles|,
so an eval question pasted inside a longer training conversation scores 1.0, and a lightly edited copy
scores high. Items shorter than `min_chars` normalised characters ("医生你好", "谢谢") are too generic to
prove anything and are not indexed. Shingles shared by more than `max_item_frequency` items are boilerplate
("请问医生"), dropped from the index (they still count in the item's size, so they never help a match).

The index is a sorted array of (shingle hash, item) postings; matching a batch of rows is a searchsorted and
a bincount, no Python loop over shingles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmedins.dedup.normalise import normalise
from cmedins.dedup.shingles import hash_shingles


@dataclass(frozen=True)
class EvalItem:
    eval_set: str
    item: str  # where it is: "<file> row R[ turn T]"


@dataclass(frozen=True)
class Contamination:
    eval_set: str
    item: str
    overlap: float


class EvalIndex:
    def __init__(self, *, n: int = 8, threshold: float = 0.5, min_chars: int = 12, max_item_frequency: int = 50,
                 t2s: bool = False):
        self.n, self.threshold, self.min_chars = n, threshold, min_chars
        self.max_item_frequency, self.t2s = max_item_frequency, t2s
        self.items: list[EvalItem] = []
        self._texts: list[str] = []
        self.skipped_short = 0

    def add(self, eval_set: str, item: str, text: str) -> None:
        normal = normalise(text, t2s=self.t2s)
        if len(normal) < self.min_chars:
            self.skipped_short += 1
            return
        self.items.append(EvalItem(eval_set, item))
        self._texts.append(normal)

    def build(self) -> None:
        hashes, item_of = _unique_per_text(self._texts, self.n)
        self._texts = []
        self.item_sizes = np.bincount(item_of, minlength=len(self.items)).astype(np.float64)
        order = np.lexsort((item_of, hashes))
        hashes, item_of = hashes[order], item_of[order]
        keys, starts, frequency = np.unique(hashes, return_index=True, return_counts=True)
        common = frequency > self.max_item_frequency
        self.dropped_shingles = int(common.sum())
        keep_posting = ~np.repeat(common, frequency)
        self._keys = keys[~common]
        self._postings = item_of[keep_posting]
        self._frequency = frequency[~common]
        self._starts = np.zeros(len(self._keys), dtype=np.int64)
        np.cumsum(self._frequency[:-1], out=self._starts[1:])

    def match(self, texts: list[str]) -> list[Contamination | None]:
        """For each (raw) text the best-overlapping item at or above the threshold, else None."""
        results: list[Contamination | None] = [None] * len(texts)
        if not self.items or not len(self._keys):
            return results
        hashes, row_of = _unique_per_text([normalise(text, t2s=self.t2s) for text in texts], self.n)
        position = np.minimum(np.searchsorted(self._keys, hashes), len(self._keys) - 1)
        hit = self._keys[position] == hashes
        position, row_of = position[hit], row_of[hit]
        counts = self._frequency[position]
        run_offsets = np.repeat(np.cumsum(counts) - counts, counts)
        posting = np.repeat(self._starts[position], counts) + np.arange(int(counts.sum())) - run_offsets
        pair = np.repeat(row_of, counts) * len(self.items) + self._postings[posting]
        pairs, shared = np.unique(pair, return_counts=True)
        rows, items = np.divmod(pairs, len(self.items))
        overlap = shared / self.item_sizes[items]
        for index in np.flatnonzero(overlap >= self.threshold):
            row, item, score = int(rows[index]), int(items[index]), float(overlap[index])
            best = results[row]
            if best is None or score > best.overlap:  # ties keep the earlier item (pairs are sorted)
                results[row] = Contamination(self.items[item].eval_set, self.items[item].item, round(score, 4))
        return results


def match_batch(index: EvalIndex, texts: list[str]) -> list[Contamination | None]:
    """One batch's matches: a task of the task map (the index is the shared context, sent once)."""
    return index.match(texts)


def _unique_per_text(texts: list[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct shingle hashes of each text, as (hashes, text index) sorted by text then hash."""
    hashes, offsets = hash_shingles(texts, n)
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(offsets))
    order = np.lexsort((hashes, owner))
    hashes, owner = hashes[order], owner[order]
    distinct = np.r_[True, (hashes[1:] != hashes[:-1]) | (owner[1:] != owner[:-1])] if len(hashes) else np.zeros(0, bool)
    return hashes[distinct], owner[distinct]
