"""Dedup's exact hashes and MinHash signatures of a batch of texts, built from the texts' lines.

A MinHash value is a minimum over a text's shingles. The shingles of a normalised text are those inside each
of its lines plus the few (at most n - 1 per line break) that straddle a break, since normalisation deletes
the newline and acts character by character. A text's signature is therefore the element-wise minimum of its
lines' signatures and those of the windows around each break. Lines repeat: the six task rows of a record
share the record's sections, and templated clinical text repeats whole lines across records. So each distinct
line is normalised and signed once per process (a bounded cache), not once per row.

The result equals `Signer.sign(normalise_batch(texts))` value for value, and the exact hash is that of the
same normalised text (tests/test_dedup_lines.py). Where that cannot be promised a text takes that path whole:
- traditional-to-simplified conversion (OpenCC converts phrases, not characters);
- a character whose normal form depends on its neighbour (cmedins.dedup.normalise);
- a text shorter than n once normalised (its one shingle is padded).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from cmedins.dedup.normalise import char_forms, normalise_batch
from cmedins.dedup.shingles import hash_shingles
from cmedins.dedup.signatures import EMPTY, Signer

CACHE_LINES = 1 << 16  # distinct lines remembered (512 B of signature each at 128 permutations: 32 MiB)
# A batch whose new lines hold more than this share of its characters is signed whole: on real QA rows
# (one or two lines, rarely repeated) assembling costs ~30% more than signing whole texts; on the build's
# record rows new lines hold ~30% of the characters and assembling costs ~1/3 less.
REUSE_CUTOFF = 0.6


def exact_hash(text: str) -> int:
    """A stable 64-bit hash of a normalised text (0 means "not a candidate", so no text hashes to it)."""
    value = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")
    return value or 1


class LineSigner:
    """`sign(texts)` -> (exact hashes, signatures) for a batch, reusing the lines it has seen before.

    The cache maps a raw line to its slot: normal form, whether it holds an unsafe character, and its
    signature (lines shorter than n once normalised have none: their shingles all straddle a break). It is
    emptied when a batch would overflow it; what it holds never changes a result, only what is recomputed."""

    def __init__(self, n: int, num_perm: int, seed: int, capacity: int = CACHE_LINES,
                 reuse_cutoff: float = REUSE_CUTOFF):
        self.n, self.num_perm, self.reuse_cutoff = n, num_perm, reuse_cutoff
        self.signer = Signer(n, num_perm, seed)
        self.capacity = capacity
        self._clear()

    def _clear(self) -> None:
        self._slot: dict[str, int] = {}
        self._normal: list[str] = []
        self._unsafe: list[bool] = []
        self._signature_row: list[int] = []  # row in self._signatures, -1 for none
        self._signatures = np.empty((self.capacity, self.num_perm), dtype=np.uint32)  # pages used as filled
        self._rows = 0

    def sign(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        lines_of = [text.split("\n") for text in texts]
        new = list(dict.fromkeys(line for lines in lines_of for line in lines if line not in self._slot))
        if sum(map(len, new)) > self.reuse_cutoff * sum(map(len, texts)):
            return self._whole(texts)  # few lines repeat (QA rows): assembling would only add work
        self._learn(lines_of, new)
        exact = np.zeros(len(texts), dtype=np.uint64)
        out = np.full((len(texts), self.num_perm), EMPTY, dtype=np.uint32)
        whole: list[int] = []  # texts signed as one piece (see the module's docstring)
        line_rows: list[int] = []  # signature rows of every text's lines, text after text
        line_counts: list[int] = []
        straddling: list[str] = []  # the windows around every line break, text after text
        straddle_counts: list[int] = []
        n, slot, normal, unsafe, signature_row = self.n, self._slot, self._normal, self._unsafe, self._signature_row
        for position, lines in enumerate(lines_of):
            slots = [slot[line] for line in lines]
            if any(unsafe[s] for s in slots):
                whole.append(position)
                line_counts.append(0)
                straddle_counts.append(0)
                continue
            parts = [normal[s] for s in slots]
            text = "".join(parts)
            if len(text) < n:
                whole.append(position)
                line_counts.append(0)
                straddle_counts.append(0)
                continue
            exact[position] = exact_hash(text)
            rows = [signature_row[s] for s in slots if signature_row[s] >= 0]
            line_rows.extend(rows)
            line_counts.append(len(rows))
            before = len(straddling)
            end, last_break = 0, 0
            for part in parts[:-1]:
                end += len(part)
                if end == last_break or end == 0:
                    continue  # an empty line: the same break again
                last_break = end
                window = text[max(0, end - n + 1) : end + n - 1]
                if len(window) >= n:
                    straddling.append(window)
            straddle_counts.append(len(straddling) - before)
        self._combine(out, self._signatures, np.array(line_rows, dtype=np.int64), line_counts)
        if straddling:  # one group of shingles per text: its windows around all of its breaks
            hashes, offsets = hash_shingles(straddling, n)
            per_text = offsets[np.r_[0, np.cumsum(straddle_counts)]]
            np.minimum(out, self.signer.sign_shingles(hashes, per_text), out=out)
        if whole:
            exact[whole], out[whole] = self._whole([texts[i] for i in whole])
        return exact, out

    def _whole(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The reference path: each text normalised and signed whole."""
        normals = normalise_batch(texts)
        exact = np.fromiter((exact_hash(text) if text else 0 for text in normals), dtype=np.uint64,
                            count=len(normals))
        return exact, self.signer.sign(normals)

    def _learn(self, lines_of: list[list[str]], new: list[str]) -> None:
        """Give every line of the batch a slot: normal form, unsafe flag, signature (`new`: the lines without)."""
        if not new:
            return
        if len(self._slot) + len(new) > self.capacity:
            self._clear()
            new = list(dict.fromkeys(line for lines in lines_of for line in lines))
        forms, unsafe_lines = char_forms(new)
        unsafe = set(unsafe_lines)
        signed = [i for i, form in enumerate(forms) if len(form) >= self.n and i not in unsafe]
        first_row, self._rows = self._rows, self._rows + len(signed)
        if self._rows > len(self._signatures):  # one batch holds more new lines than the cache
            self._signatures = np.concatenate([self._signatures[:first_row],
                                               np.empty((len(signed), self.num_perm), dtype=np.uint32)])
        if signed:
            self._signatures[first_row : self._rows] = self.signer.sign([forms[i] for i in signed])
        rows = dict(zip(signed, range(first_row, self._rows), strict=True))
        for i, line in enumerate(new):
            self._slot[line] = len(self._normal)
            self._normal.append(forms[i])
            self._unsafe.append(i in unsafe)
            self._signature_row.append(rows.get(i, -1))

    @staticmethod
    def _combine(out: np.ndarray, signatures: np.ndarray, rows: np.ndarray, counts: list[int]) -> None:
        """out[t] = min(out[t], minimum of signatures[rows] over text t's run of `counts[t]` rows)."""
        counts_array = np.array(counts, dtype=np.int64)
        texts = np.flatnonzero(counts_array)
        if not len(texts):
            return
        starts = (np.cumsum(counts_array) - counts_array)[texts]
        minima = np.minimum.reduceat(signatures[rows], starts, axis=0)
        out[texts] = np.minimum(out[texts], minima)
