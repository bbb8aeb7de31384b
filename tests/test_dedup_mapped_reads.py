"""Signature rows read from a memory map (lsh.read_rows): the right rows in the asked order, and no more of the
file mapped into the process at a time than one window, however scattered the rows are.

The second test is the regression test of the 2.2M-record build's 9.71 GB VmHWM: a scattered read maps a whole
page-cache folio (2 MiB on this machine's kernel), so releasing the map's pages after a count of rows let a block
of verified pairs map most of the signature file."""

from __future__ import annotations

import numpy as np
import pytest

from cmedins.dedup import lsh

NUM_PERM = 128


def _rss_file_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("RssFile:"):
                return int(line.split()[1])
    pytest.skip("no RssFile in /proc/self/status")


@pytest.fixture
def signature_file(tmp_path):
    rows = 128 * 1024  # 64 MiB of signatures at 512 bytes a row
    values = np.random.default_rng(7).integers(0, 2**32, size=(rows, NUM_PERM), dtype=np.uint32)
    path = tmp_path / "signatures.u32"
    values.tofile(path)
    return path, values


def test_rows_come_back_in_the_asked_order_with_repeats(signature_file):
    path, values = signature_file
    mapped = np.memmap(path, dtype=np.uint32, mode="r", shape=values.shape)
    asked = np.random.default_rng(1).integers(0, len(values), size=20_000)
    asked[:50] = asked[50:100]  # the same row asked twice, as a row in several candidate pairs is
    assert np.array_equal(lsh.read_rows(mapped, asked), values[asked])
    assert np.array_equal(lsh.read_rows(values, asked), values[asked])  # an array in memory: the same rows
    assert lsh.read_rows(mapped, np.zeros(0, dtype=np.int64)).shape == (0, NUM_PERM)


def test_scattered_reads_map_at_most_a_window_at_a_time(signature_file, monkeypatch):
    path, values = signature_file
    window = 4 << 20
    monkeypatch.setattr(lsh, "MAPPED_WINDOW", window, raising=False)
    mapped = np.memmap(path, dtype=np.uint32, mode="r", shape=values.shape)
    lsh.release_pages(mapped)
    before = _rss_file_kib()
    peaks = []
    release = lsh.release_pages

    def measured_release(array):
        peaks.append(_rss_file_kib() - before)
        release(array)

    monkeypatch.setattr(lsh, "release_pages", measured_release)
    scattered = np.random.default_rng(2).permutation(len(values))[:8_000]  # verified pairs' rows: any order
    assert np.array_equal(lsh.read_rows(mapped, scattered), values[scattered])
    # one window plus a folio on either side of it (2 MiB folios here); before, ~the whole 64 MiB file
    assert max(peaks) * 1024 <= window + 2 * (2 << 20) + (1 << 20), max(peaks)
