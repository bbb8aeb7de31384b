"""Array banding (cmedins.dedup.lsh) against a brute-force reference, and the batch normalisation."""

from __future__ import annotations

import random

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
