"""Array banding (cmedins.dedup.lsh) against a brute-force reference, and the batch normalisation."""

from __future__ import annotations

import json
import random
import unicodedata

import numpy as np
from datasketch import MinHashLSH
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from cmedins.dedup import lsh
from cmedins.dedup.normalise import normalise, normalise_batch
from cmedins.dedup.signatures import Signer
from tests.support.dedup_reference import BandingStats, cluster_keepers
from tests.test_dedup import edit, patient_question


def _reference_keepers(signatures: np.ndarray, threshold: float, bands: int, rows: int) -> np.ndarray:
    """Every pair compared: a pair is an edge when some band is equal and the estimated Jaccard reaches the
    threshold; the keeper of a component is its smallest row."""
    n = len(signatures)
    a, b = np.triu_indices(n, 1)
    equal = signatures[a] == signatures[b]
    collide = equal[:, : bands * rows].reshape(len(a), bands, rows).all(axis=2).any(axis=1)
    edge = collide & (equal.mean(axis=1) >= threshold)
    graph = coo_matrix((np.ones(int(edge.sum())), (a[edge], b[edge])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    smallest = np.full(component.max() + 1, n)
    np.minimum.at(smallest, component, np.arange(n))
    return smallest[component]


def _corpus(rng: random.Random, originals: int, copies: int) -> list[str]:
    texts = [patient_question(rng) for _ in range(originals)]
    texts += [edit(rng.choice(texts), rng, rng.randint(1, 6)) for _ in range(copies)]
    rng.shuffle(texts)
    return texts


def test_band_shape_is_datasketchs_choice():
    index = MinHashLSH(threshold=0.7, num_perm=128, weights=lsh.WEIGHTS)
    assert lsh.band_shape(0.7, 128) == (index.b, index.r) == (20, 6)


def test_banding_finds_the_same_clusters_as_comparing_every_pair():
    rng = random.Random(3)
    signatures = Signer(5, 128).sign(normalise_batch(_corpus(rng, 150, 250)))
    bands, rows = lsh.band_shape(0.7, 128)
    stats = BandingStats()
    keepers = cluster_keepers(signatures, 0.7, bands, rows, stats)
    expected = _reference_keepers(signatures, 0.7, bands, rows)
    assert (keepers == expected).all()
    assert (keepers <= np.arange(len(keepers))).all()  # a keeper precedes (is preferred to) its cluster
    assert 150 < len(np.unique(keepers)) < 300  # edits of the same question collapse, distinct ones stay
    assert stats.verified_pairs >= len(keepers) - len(np.unique(keepers))  # each removal rests on a verified pair
    assert stats.candidate_pairs >= stats.verified_pairs


def test_a_giant_bucket_costs_linear_not_quadratic_pairs():
    """3,000 copies of one text share every bucket: each row is compared with at most MAX_VERIFIED earlier
    rows, and rows already joined are not compared again, yet all collapse into one cluster."""
    signatures = np.repeat(Signer(5, 128).sign([normalise(patient_question(random.Random(1)))]), 3000, axis=0)
    stats = BandingStats()
    keepers = cluster_keepers(signatures, 0.7, 20, 6, stats)
    assert (keepers == 0).all()
    assert stats.max_bucket == 3000
    assert stats.candidate_pairs <= 3000 * lsh.MAX_VERIFIED


def test_rows_that_share_no_band_stay_apart_even_when_mostly_equal():
    """LSH is the sieve: two signatures equal in 60% of positions but in no whole band are not compared."""
    base = np.arange(128, dtype=np.uint32)[None, :]
    other = base.copy()
    other[0, 5::6] += 1000  # one changed value in every band of 6 rows
    keepers = cluster_keepers(np.vstack([base, other]), 0.5, 20, 6)
    assert keepers.tolist() == [0, 1]


def test_batch_normalisation_equals_the_per_text_one():
    rng = random.Random(5)
    texts = _corpus(rng, 40, 40) + ["", "  ", "ΑΣ", "ΣΑ Α", "⑴ Ｈｂ１２０", "\ud800半个代理对，", "ﬁ İstanbul", "\u3000\ufeff",
                                     "Ｈｂ１２０ｇ/Ｌ\u3000体温↑\r\n"]
    assert normalise_batch(texts) == [normalise(text) for text in texts]
    assert normalise_batch([]) == []


def _hostile_strings(rng: random.Random, count: int) -> list[str]:
    """Random strings over every assigned code point below U+30000, one character in five taken from those whose
    normal form depends on a neighbour or expands: combining marks, Hangul jamo, capital sigma, half-width
    voicing marks, Tamil/Oriya vowel signs, lone surrogates, ⑴ ℃ ㎎ ﷺ İ, separators and format characters."""
    assigned = [code for code in range(0x30000) if unicodedata.category(chr(code)) != "Cn"]
    tricky = [0x3A3, 0x301, 0x300, 0x345, 0x1100, 0x1161, 0x11A8, 0xAC00, 0xFF9E, 0xFF9F, 0x3099, 0x309A, 0xBD7,
              0xB92, 0xB3E, 0x2474, 0x2103, 0x338E, 0xFDFA, 0x130, 0xD800, 0xDC00, 0x20, 0x3000, 0xFEFF, 0x200B]
    return ["".join(chr(rng.choice(tricky) if rng.random() < 0.2 else rng.choice(assigned))
                    for _ in range(rng.randint(0, 30))) for _ in range(count)]


def test_batch_normalisation_equals_the_per_text_one_on_hostile_unicode():
    """The batch maps each character to its own normal form; a text whose normal form is not the sum of its
    characters' (a mark composing with the letter before it, final sigma, jamo) must take the per-text path."""
    fixed = ["ｶﾞｷﾞ", "ﾊﾟﾝ", "e\u0301", "e，\u0301", "가\u11a8", "\u1100\u1161", "ΟΔΟΣ ΟΔΟΣ", "ஒ\u0bd7", "⑴℃㎎ﷺ", "İ"]
    assert normalise_batch(fixed) == [normalise(text) for text in fixed]
    rng = random.Random(11)
    for _ in range(40):  # in batches: what one batch learns must not spoil the next
        texts = _hostile_strings(rng, 100)
        assert normalise_batch(texts) == [normalise(text) for text in texts]


def test_batch_normalisation_equals_the_per_text_one_on_real_public_text(shared_data):
    texts = [path.read_text(encoding="utf-8") for path in sorted((shared_data / "ccks2017_emr").rglob("*.txtoriginal.txt"))]
    texts += [case["description"] for case in json.loads((shared_data / "cmb" / "CMB-test-qa.json").read_text("utf-8"))]
    for row in json.loads((shared_data / "cmtmedqa" / "CMtMedQA_test.json").read_text("utf-8")):
        texts += [str(value) for value in row.values() if isinstance(value, str)]
    for row in json.loads((shared_data / "huatuo26m_test_zhongjing" / "huatuo26M_test.json").read_text("utf-8")):
        texts += row["instruction"] + row["output"]
    for line in (shared_data / "general_zh_instructions").rglob("*.json*"):
        texts.append(line.read_text(encoding="utf-8", errors="replace")[:200_000])
    assert len(texts) > 15_000
    for start in range(0, len(texts), 2048):
        batch = texts[start : start + 2048]
        assert normalise_batch(batch) == [normalise(text) for text in batch]
