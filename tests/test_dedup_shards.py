"""Band-sharded dedup (cmedins.dedup.shards) against the in-memory banding it replaced: the same rows removed,
for the same keepers, at the same similarity, whatever the number of shards."""

from __future__ import annotations

import random

import numpy as np
import pytest

from cmedins.dedup import shards
from cmedins.dedup.engine import EXACT, KEPT, NEAR, DedupIndex, DedupParams
from tests.support.dedup_reference import InMemoryDedupIndex
from tests.test_dedup import edit, patient_question

SOURCES = ("clinic_a", "clinic_b", "forum")
TASKS = ("qa", "diagnosis")


def _synthetic_rows(rng: random.Random, originals: int, copies: int) -> list[dict]:
    """Consultation questions over three sources and two tasks: near copies (a few characters edited), exact
    reposts (punctuation and spacing changed) and copies across sources, with answers of varied length."""
    rows = [{"text": patient_question(rng), "group": rng.choice(SOURCES), "task": rng.choice(TASKS)}
            for _ in range(originals)]
    for _ in range(copies):
        original = rng.choice(rows[:originals])
        text = original["text"]
        kind = rng.random()
        text = (text.replace("，", ", ").replace("？", "?") if kind < 0.3 else edit(text, rng, rng.randint(1, 6)))
        group = original["group"] if rng.random() < 0.6 else rng.choice(SOURCES)
        rows.append({"text": text, "group": group, "task": original["task"]})
    rng.shuffle(rows)
    for number, row in enumerate(rows):
        row["answer_chars"] = rng.randint(20, 400) if rng.random() < 0.8 else 100  # ties exercise the id rule
        row["row_id"] = f"{rng.getrandbits(64):016x}" if number % 7 else ""
    return rows + [{"text": None, "group": "", "task": "", "answer_chars": 0, "row_id": "x"},  # takes no part
                   {"text": "，。 ", "group": "forum", "task": "qa", "answer_chars": 0, "row_id": "y"}]


def _resolve(index_class, rows: list[dict], work, params: DedupParams, **options):
    index = index_class(params, work, **options)
    for row in rows:
        index.add(row["text"], group=row["group"], task=row["task"], answer_chars=row["answer_chars"],
                  row_id=row["row_id"])
    return index.resolve()


def _assert_same(got, expected) -> None:
    assert got.status.tolist() == expected.status.tolist()
    assert got.kept.tolist() == expected.kept.tolist()
    assert got.scope.tolist() == expected.scope.tolist()
    assert got.similarity.tolist() == expected.similarity.tolist()
    for key in ("rows_in", "candidates", "empty_text", "scopes", "exact", "near", "clusters", "rows_kept"):
        assert got.stats[key] == expected.stats[key], key
    for key in ("bands", "rows_per_band", "max_keys", "max_bucket"):
        assert got.stats["lsh"][key] == expected.stats["lsh"][key], key


@pytest.mark.parametrize("budget", [shards.DEFAULT_BUDGET, 40_000])
def test_sharded_dedup_removes_what_the_in_memory_banding_removes(tmp_path, budget):
    rows = _synthetic_rows(random.Random(11), 500, 1500)
    params = DedupParams(source_priority=("forum", "clinic_a"))
    expected = _resolve(InMemoryDedupIndex, rows, tmp_path / "memory", params)
    got = _resolve(DedupIndex, rows, tmp_path / "sharded", params, memory_budget=budget)
    _assert_same(got, expected)
    assert (got.stats["lsh"]["shards"] == 1) == (budget == shards.DEFAULT_BUDGET)
    # Both scopes and both kinds of removal happen on this corpus, so the comparison covers them.
    for scope in (0, 1):
        for status in (EXACT, NEAR):
            assert ((got.scope == scope) & (got.status == status)).sum() > 10, (scope, status)
    assert got.status[-2] == KEPT and got.status[-1] == KEPT  # no text, empty after normalisation
    removed = np.flatnonzero(got.status != KEPT)
    assert (got.status[got.kept[removed]] == KEPT).all()  # every removed row points at a kept row


def test_many_shards_split_the_records_and_leave_no_files(tmp_path):
    rows = _synthetic_rows(random.Random(5), 300, 700)
    budget = 20_000
    result = _resolve(DedupIndex, rows, tmp_path / "work", DedupParams(scopes=("global",)), memory_budget=budget)
    alive = result.stats["candidates"] - result.stats["exact"]
    assert result.stats["lsh"]["shards"] == shards.shard_count(alive * 20, budget) > 50
    assert sorted(path.name for path in (tmp_path / "work").iterdir()) == ["fingerprints.u64", "ids.txt", "signatures.u32"]
    expected = _resolve(InMemoryDedupIndex, rows, tmp_path / "memory", DedupParams(scopes=("global",)))
    _assert_same(result, expected)


def test_a_giant_bucket_in_shards_is_one_cluster_at_linear_cost(tmp_path):
    text = patient_question(random.Random(2))
    rows = [{"text": edit(text, random.Random(i), 1) if i % 2 else text + "。" * (i % 3), "group": "", "task": "",
             "answer_chars": i % 50, "row_id": f"{i:08d}"} for i in range(3000)]
    got = _resolve(DedupIndex, rows, tmp_path / "sharded", DedupParams(scopes=("global",)), memory_budget=400_000)
    expected = _resolve(InMemoryDedupIndex, rows, tmp_path / "memory", DedupParams(scopes=("global",)))
    _assert_same(got, expected)
    assert got.stats["rows_kept"] == expected.stats["rows_kept"] < 10
    assert got.stats["lsh"]["candidate_pairs"] <= 3000 * 20 * 256


def _real_rows(shared_data) -> list[str]:
    from cmedins.errors import RowError
    from cmedins.rowio.formats import FORMATS
    from cmedins.rowio.readers import iter_rows
    from cmedins.runner.registry import load_plugins

    load_plugins()
    texts = []
    for fmt, relative in (("huatuo26m", "huatuo26m_test_zhongjing/huatuo26M_test.json"),
                          ("chatmed", "chatmed_consult/ChatMed-Consult_test.json")):
        for _, row in iter_rows(shared_data / relative):
            try:
                conversation = FORMATS[fmt].adapter(row)
            except RowError:
                continue
            texts.append("\n".join(message["content"] for message in conversation["messages"]))
    return texts


def test_on_real_medical_qa_sharded_equals_in_memory(shared_data, tmp_path):
    """Real Huatuo-26M and ChatMed questions with answers, plus planted reposts and edited copies."""
    rng = random.Random(7)
    base = _real_rows(shared_data)
    assert len(base) > 1000
    texts = base + [edit(text, rng, max(1, len(text) // 60)) if rng.random() < 0.7 else text.replace("，", ",")
                    for text in rng.sample(base, 800)]
    rows = [{"text": text, "group": SOURCES[i % 3], "task": "qa", "answer_chars": len(text) % 97, "row_id": ""}
            for i, text in enumerate(texts)]
    params = DedupParams()
    got = _resolve(DedupIndex, rows, tmp_path / "sharded", params, memory_budget=300_000)
    expected = _resolve(InMemoryDedupIndex, rows, tmp_path / "memory", params)
    assert got.stats["lsh"]["shards"] > 5
    _assert_same(got, expected)
    assert got.stats["near"] > 300 and got.stats["exact"] > 100


def test_the_drivers_edges_compact_to_the_same_clusters():
    """Edges arriving shard by shard are folded into one edge per joined row whenever they pile up."""
    rng = np.random.default_rng(3)
    rows = 6000
    rank = rng.permutation(rows)
    batches = [(rng.integers(0, rows, 500), rng.integers(0, rows, 500)) for _ in range(40)]
    forest = shards.EdgeForest(compact_at=2000)
    for a, b in batches:
        forest.add(a, b)
    a, b = forest.arrays()
    assert len(a) <= 2 * rows < sum(len(batch[0]) for batch in batches)  # compacted: <= 2 edges per row
    expected = shards.keepers_from_edges(np.concatenate([x for x, _ in batches]),
                                         np.concatenate([y for _, y in batches]), rank)
    got = shards.keepers_from_edges(a, b, rank)
    assert [part.tolist() for part in got] == [part.tolist() for part in expected]


@pytest.mark.parametrize("num_perm", [128, 100])
def test_fingerprints_never_reject_a_pair_the_full_signatures_accept(num_perm):
    """The shards' first test (4-bit fingerprints) is a necessary condition of the full one, also at the
    threshold's edge and for a permutation count that does not fill the last word; and it is a useful one:
    pairs far below the threshold rarely pass."""
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**32, size=(4000, num_perm), dtype=np.uint32)
    other = base.copy()
    changed = rng.integers(0, num_perm + 1, size=4000)  # positions that differ in each pair
    for row, count in enumerate(changed):
        where = rng.choice(num_perm, size=count, replace=False)
        other[row, where] = rng.integers(0, 2**32, size=count, dtype=np.uint32)
    signatures = np.vstack([base, other])
    prints = shards.fingerprint(signatures)
    later, earlier = np.arange(4000, 8000), np.arange(4000)
    full = shards._verified(signatures, later, earlier, 0.7)
    first = shards._agreeing(prints, later, earlier, 0.7, num_perm)
    assert full.any() and (full <= first).all()
    assert (full == (1 - changed / num_perm >= 0.7)).all()
    far = changed > num_perm // 2
    assert first[far].mean() < 0.01


@pytest.mark.parametrize("total", [50, 10_000])  # the lookup table, and the sort where the table is larger
def test_a_shards_rows_are_numbered_as_np_unique_numbers_them(total):
    rows = np.random.default_rng(3).integers(0, 50, 400).astype(np.uint64)
    nodes, local = shards._numbered(rows, total)
    expected_nodes, expected_local = np.unique(rows, return_inverse=True)
    assert nodes.dtype == np.uint64 and local.dtype == np.uint64
    assert np.array_equal(nodes, expected_nodes) and np.array_equal(local, expected_local)
