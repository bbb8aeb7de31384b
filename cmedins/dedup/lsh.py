"""Near-duplicate clusters by array banding of MinHash signatures (numpy sort by band hash, no index object).

Bands and rows come from datasketch's own optimiser for the threshold (`_optimal_param`), never from the user.
Its weights favour recall (false negatives cost 9x false positives): every candidate pair is verified below,
so an LSH false positive costs a comparison, while a false negative is a duplicate kept. At threshold 0.7 /
128 permutations that gives 20 bands x 6 rows: a pair at Jaccard 0.76 collides with probability 0.99.

Per band, each row's r signature values hash to one 64-bit bucket key; a stable argsort by key lines up every
bucket with its rows in keep-rule order. Each row is paired with up to `MAX_VERIFIED` rows before it in its
bucket (all of them in any bucket of up to 257 rows; a giant templated bucket stays linear, not quadratic),
pairs already in one cluster are skipped, and a pair counts only when the signatures' estimated Jaccard reaches
the threshold (buckets are a sieve, not a verdict). Verified pairs join clusters (scipy's connected
components), so two independent edits of one question, each ~0.8 from it but ~0.65 from each other, meet
through the original.

This replaces datasketch's pure-Python `MinHashLSH` (a dict of byte keys per band, one query and insert per
row): the same candidates and the same clusters whenever no row had more than 256 candidates there, at a
fraction of the time and ~160 bytes per row per scope (band keys) instead of ~7 KB.
"""

from __future__ import annotations

import mmap
from functools import lru_cache

import numpy as np
from datasketch.lsh import _optimal_param
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

WEIGHTS = (0.1, 0.9)  # (false positive, false negative)
MAX_VERIFIED = 256  # earlier rows of its bucket a row is compared with
PAIR_BLOCK = 1 << 20  # candidate pairs generated (and clusters merged) at a time (bounded memory)
VERIFY_BLOCK = 1 << 14  # candidate pairs whose signatures are read and compared at a time (2 x 8 MiB)
_READ_BLOCK = 1 << 13  # signature rows gathered from the memory map at a time (a bounded temporary)
MAPPED_WINDOW = 32 << 20  # bytes of a memory-mapped file read between two releases of its pages (read_rows)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio): the band-key mixer


@lru_cache(maxsize=16)
def band_shape(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) for the threshold, as datasketch's MinHashLSH picks them."""
    bands, rows = _optimal_param(threshold, num_perm, *WEIGHTS)
    return int(bands), int(rows)


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(len(signatures), bands) uint64: one hash of each band's r values (equal values -> equal key)."""
    keys = np.zeros((len(signatures), bands), dtype=np.uint64)
    for band in range(bands):
        for column in range(band * rows, (band + 1) * rows):
            keys[:, band] ^= signatures[:, column].astype(np.uint64)
            keys[:, band] *= _MIX
            keys[:, band] ^= keys[:, band] >> np.uint64(29)
    return keys


def read_rows(signatures: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """signatures[rows], gathered in ascending row order one window of the file at a time; a memory map's pages
    are let go from this process's resident set after each window (release_pages). They stay in the kernel's page
    cache, so reading them again costs no disk read while memory lasts, but at most one window of the file is
    mapped into this process at a time, however the rows are scattered.

    Why windows, not a count of rows: one scattered read of a page-cache folio maps the whole folio (measured on
    this kernel, Linux 6.18 with 2 MiB folios: 100 scattered 512-byte rows of a 1 GB file mapped 186 MiB, 1,000
    mapped 862 MiB), so letting go after every 8k rows bounded nothing: a block of verified pairs mapped most of
    the signature file (the 2.2M-record build's 9.71 GB VmHWM held 7.7 GB of it)."""
    out = np.empty((len(rows), signatures.shape[1]), dtype=signatures.dtype)
    if getattr(signatures, "_mmap", None) is None:  # in memory: nothing is mapped
        out[:] = signatures[rows]
        return out
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    window = ordered // max(1, MAPPED_WINDOW // signatures.strides[0])
    bounds = np.r_[0, np.flatnonzero(np.diff(window)) + 1, len(ordered)].tolist()
    for first, last in zip(bounds[:-1], bounds[1:], strict=True):
        for start in range(first, last, _READ_BLOCK):  # bounded temporaries in a dense window
            stop = min(start + _READ_BLOCK, last)
            out[order[start:stop]] = signatures[ordered[start:stop]]
        release_pages(signatures)
    return out


def release_pages(array: np.ndarray) -> None:
    """madvise(DONTNEED) on a read-only memory map: drops its pages from this process (not from the cache)."""
    mapping = getattr(array, "_mmap", None)
    if mapping is not None and hasattr(mapping, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        mapping.madvise(mmap.MADV_DONTNEED)


def merge_clusters(labels: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Join the clusters named by pairs (a, b) of labels; every row is relabelled to its cluster's smallest row.
    Components are found over the labels the pairs touch only (not every row), then one gather relabels."""
    touched, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (inverse[: len(a)], inverse[len(a):])),
                       shape=(len(touched), len(touched)))
    _, component = connected_components(graph, directed=True, connection="weak")
    smallest = np.full(component.max() + 1, len(labels), dtype=np.int64)
    np.minimum.at(smallest, component, touched)
    remap = np.arange(len(labels), dtype=np.int64)
    remap[touched] = smallest[component]
    return remap[labels]
