"""Benchmark and evaluation of cmedins dedup on real data in ../shared/data.

    python bench/bench_dedup.py speed [--rows 100000] [--methods cmedins,cmedins_in_memory,cmedins_datasketch_lsh,rensa,datatrove]
    python bench/bench_dedup.py scale [--rows 100000,1000000] [--engines cmedins,cmedins_ray2,cmedins_objects2]
        # engine phases, RSS and temporary disk per row at two sizes: band-sharded, in memory, on Ray workers
    python bench/bench_dedup.py kuake                   # precision/recall/F1 on KUAKE-QQR labelled pairs
    python bench/bench_dedup.py toyhom                  # what dedup finds in toyhom's CSV and txt layouts

speed: a corpus of `--rows` medical QA rows: every distinct real row of toyhom, Huatuo-26M test, CMtMedQA
test, ChatMed and MedicalGPT's medical SFT sample, padded with planted copies of random real rows (a fifth
differing only in punctuation/width/spacing, the rest with 1-3% of characters substituted and a greeting
added or removed). Ground truth: a planted copy duplicates its original. Each method runs in its own
subprocess (peak RSS is that process's maximum resident set) on the same JSONL file, all at threshold 0.7 /
5-grams / 128 permutations on the same normalised text. F1 counts, per true cluster, at most size-1 correct
removals; removing a row of a singleton is a false positive. datatrove is a benchmark-only dependency.
`cmedins_in_memory` is the engine before band sharding (tests/support/dedup_reference.py), the baseline the
sharded engine must equal row for row.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))  # tests.support.dedup_reference: the in-memory baseline
THRESHOLD, NGRAM, NUM_PERM = 0.7, 5, 128
GREETINGS = ("医生您好，", "你好医生，", "大夫，请问", "医生，")


# --- corpus ---------------------------------------------------------------------------------------------

def real_rows() -> list[str]:
    """Distinct (after normalisation) question + answer texts of the medical QA samples."""
    from cmedins.dedup.normalise import normalise
    from cmedins.errors import RowError
    from cmedins.rowio.formats import FORMATS
    from cmedins.rowio.readers import iter_rows
    from cmedins.runner.registry import load_plugins

    load_plugins()
    inputs = [("toyhom_csv", "toyhom_cmdd/样例_内科5000-6000.csv"), ("toyhom_txt", "toyhom_cmdd/内科.txt"),
              ("huatuo26m", "huatuo26m_test_zhongjing/huatuo26M_test.json"), ("cmtmedqa", "cmtmedqa/CMtMedQA_test.json"),
              ("chatmed", "chatmed_consult/ChatMed-Consult_test.json"),
              ("sharegpt", "medicalgpt_samples/medical_sft_1K_format.jsonl")]
    texts, seen = [], set()
    for fmt, relative in inputs:
        spec = FORMATS[fmt]
        path = DATA / relative
        raw = spec.reader(path) if spec.reader else ((str(path), n, row) for n, row in iter_rows(path))
        for _, _, row in raw:
            try:
                conversation = spec.adapter(row)
            except RowError:
                continue
            text = "\n".join(message["content"] for message in conversation["messages"])
            key = normalise(text)
            if key and key not in seen:
                seen.add(key)
                texts.append(text)
    return texts


def planted_copy(text: str, rng: random.Random) -> str:
    if rng.random() < 0.2:  # the same text re-posted with other punctuation, width and spacing
        return text.replace("，", ",").replace("。", ". ").replace("？", "?").replace("\n", " ")
    chars = list(text)
    for position in rng.sample(range(len(chars)), max(1, int(len(chars) * rng.uniform(0.01, 0.03)))):
        chars[position] = rng.choice("的了吗呢啊很也是有")
    copy = "".join(chars)
    return rng.choice(GREETINGS) + copy if rng.random() < 0.5 else copy.removeprefix("医生您好，")


def build_corpus(path: Path, rows: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    base = real_rows()
    corpus = [{"id": f"d{i:06d}", "cluster": i, "text": text} for i, text in enumerate(base)]
    while len(corpus) < rows:
        original = rng.randrange(len(base))
        corpus.append({"id": "", "cluster": original, "text": planted_copy(base[original], rng)})
    rng.shuffle(corpus)
    with path.open("w", encoding="utf-8") as handle:
        for i, row in enumerate(corpus):
            row["id"] = f"d{i:06d}"
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"rows": len(corpus), "distinct_real_rows": len(base), "planted_copies": len(corpus) - len(base),
            "mean_chars": round(sum(len(r["text"]) for r in corpus) / len(corpus), 1)}


# --- methods (each runs in its own process) -------------------------------------------------------------

def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def stream(path: Path):
    """Rows one at a time: the methods hold only what they need, not the corpus."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def removed_by(index_class, path: Path, work: Path) -> list[str]:
    """Ids of the rows an index of cmedins' engine shape (add, resolve) removes, at the bench's settings."""
    from cmedins.dedup.engine import KEPT, DedupParams

    index = index_class(DedupParams(n=NGRAM, num_perm=NUM_PERM, threshold=THRESHOLD, scopes=("global",)), work)
    ids = []
    for row in stream(path):
        index.add(row["text"], group="", answer_chars=0, row_id="")
        ids.append(row["id"])
    result = index.resolve()
    return [row_id for row_id, status in zip(ids, result.status, strict=True) if status != KEPT]


def method_cmedins(path: Path, work: Path) -> list[str]:
    from cmedins.dedup.engine import DedupIndex

    return removed_by(DedupIndex, path, work)


def method_cmedins_in_memory(path: Path, work: Path) -> list[str]:
    """The baseline: cmedins' engine before band sharding, every band of a partition sorted in memory."""
    from tests.support.dedup_reference import InMemoryDedupIndex

    return removed_by(InMemoryDedupIndex, path, work)


def method_cmedins_datasketch_lsh(path: Path, work: Path) -> list[str]:
    """The baseline: cmedins' engine (same normalisation, signatures, exact pass and keep rule) with its former
    near pass, rows streaming through datasketch's pure-Python MinHashLSH in keep order (query, verify up to 256
    candidates, insert), clusters by union-find."""
    import numpy as np
    from datasketch import LeanMinHash, MinHashLSH

    from cmedins.dedup import engine, lsh
    from cmedins.dedup.engine import NEAR, DedupIndex
    from tests.support.dedup_reference import _partitions

    class DatasketchIndex(DedupIndex):
        def _near_pass(self, alive, partition, signatures, rank, result, scope, stats, lsh_stats):
            for members in _partitions(alive, partition):
                if len(members) >= 2:
                    self._near_partition(members, signatures, rank, result, scope, stats)

        def _near_partition(self, members, signatures, rank, result, scope, stats):
            index = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, weights=lsh.WEIGHTS)
            parent: dict[int, int] = {}

            def find(item: int) -> int:
                while parent.get(item, item) != item:
                    item = parent[item]
                return item

            for key in members[np.argsort(rank[members], kind="stable")].tolist():
                values = np.asarray(signatures[key])
                minhash = LeanMinHash(seed=self.params.seed, hashvalues=values, scheme="affine32")
                found = index.query(minhash)
                if found:
                    found = np.array(sorted(found)[:256], dtype=np.int64)
                    for other in found[(np.asarray(signatures[found]) == values).mean(axis=1) >= THRESHOLD].tolist():
                        a, b = find(key), find(other)
                        if a != b:
                            parent[max(a, b)] = min(a, b)
                index.insert(key, minhash, check_duplication=False)
            clusters: dict[int, list[int]] = {}
            for item in list(parent):
                clusters.setdefault(find(item), []).append(item)
            for root, cluster in clusters.items():
                cluster = np.array([*cluster, root], dtype=np.int64)
                keeper = int(cluster[np.argmin(rank[cluster])])
                removed = cluster[cluster != keeper]
                result.status[removed], result.kept[removed], result.scope[removed] = NEAR, keeper, scope
                stats["near"] += len(removed)
                stats["clusters"] += 1

    assert engine.NEAR == NEAR
    return removed_by(DatasketchIndex, path, work)


def method_rensa(path: Path, work: Path) -> list[str]:
    """rensa (Rust MinHash + LSH, bench-only dependency) with cmedins' normalisation, 5-gram shingles and
    clustering: exact pass first, then rows in input order query the index, verified matches join clusters."""
    from rensa import RMinHash, RMinHashLSH

    from cmedins.dedup.engine import _exact_hash
    from cmedins.dedup.normalise import normalise
    from cmedins.dedup.shingles import shingles

    index = RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=32)  # must divide num_perm
    seen: set[int] = set()
    sketches: dict[int, RMinHash] = {}
    removed, parent = [], {}

    def find(item: int) -> int:
        while parent.get(item, item) != item:
            item = parent[item]
        return item

    ids = []
    for key, row in enumerate(stream(path)):
        ids.append(row["id"])
        normal = normalise(row["text"])
        digest = _exact_hash(normal)
        if digest in seen:
            removed.append(row["id"])
            continue
        seen.add(digest)
        minhash = RMinHash(num_perm=NUM_PERM, seed=1)
        minhash.update(list(shingles(normal, NGRAM)))
        for other in index.query(minhash):
            if minhash.jaccard(sketches[other]) >= THRESHOLD:
                a, b = find(key), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
        sketches[key] = minhash
        index.insert(key, minhash)
    removed += [ids[item] for item in parent if find(item) != item]
    return removed


def method_datatrove(path: Path, work: Path) -> list[str]:
    """datatrove's four MinHash steps, as its docs run them, with its Chinese (jieba) word tokenizer.
    sha1 shingle hashes: datatrove 0.10.1 passes str to xxhash 4.1, which raises "Strings must be encoded"."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    config = MinhashConfig(n_grams=NGRAM, num_buckets=14, hashes_per_bucket=9,
                           hash_config=HashConfig(precision=64, hash_fc="sha1"))
    reader = JsonlReader(str(path.parent), glob_pattern=path.name, id_key="id", text_key="text")
    steps = [
        [reader, MinhashDedupSignature(output_folder=str(work / "sigs"), config=config, language="zh")],
        [MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=config)],
        [MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "remove"), config=config)],
        [reader, MinhashDedupFilter(input_folder=str(work / "remove"),
                                    exclusion_writer=JsonlWriter(str(work / "removed"), compression=None))],
    ]
    for number, pipeline in enumerate(steps):
        tasks = config.num_buckets if number == 1 else 1
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=str(work / f"logs{number}"),
                              skip_completed=False).run()
    return [json.loads(line)["id"] for file in sorted((work / "removed").glob("*.jsonl")) for line in file.open()]


METHODS = {"cmedins": method_cmedins, "cmedins_in_memory": method_cmedins_in_memory,
           "cmedins_datasketch_lsh": method_cmedins_datasketch_lsh, "rensa": method_rensa,
           "datatrove": method_datatrove}


def run_method(name: str, path: Path) -> None:
    with tempfile.TemporaryDirectory() as work:
        start, cpu = time.perf_counter(), time.process_time()
        removed = METHODS[name](path, Path(work))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    children_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # datatrove's workers
    print(json.dumps({"seconds": seconds, "cpu_s": cpu, "peak_rss_mib": max(_high_water_mib(), children_mib),
                      "removed": removed}))


# --- scoring --------------------------------------------------------------------------------------------

def score(rows: list[dict], removed: list[str]) -> dict:
    cluster_of = {row["id"]: row["cluster"] for row in rows}
    sizes: dict[int, int] = {}
    for row in rows:
        sizes[row["cluster"]] = sizes.get(row["cluster"], 0) + 1
    removed_per_cluster: dict[int, int] = {}
    for row_id in removed:
        removed_per_cluster[cluster_of[row_id]] = removed_per_cluster.get(cluster_of[row_id], 0) + 1
    tp = sum(min(count, sizes[cluster] - 1) for cluster, count in removed_per_cluster.items())
    fp = len(removed) - tp
    fn = sum(size - 1 for size in sizes.values()) - tp
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {"precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(2 * precision * recall / max(precision + recall, 1e-9), 4), "removed": len(removed)}


def speed(rows: int, methods: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corpus.jsonl"
        corpus_facts = build_corpus(path, rows)
        print(json.dumps({"corpus": corpus_facts, "load_average_1m": os.getloadavg()[0], "cores": os.cpu_count()},
                         ensure_ascii=False))
        truth = load(path)
        results, removed = {}, {}
        for name in methods:
            out = subprocess.run([sys.executable, __file__, "_run", name, str(path)], capture_output=True, text=True)
            if out.returncode != 0:
                results[name] = {"error": out.stderr.strip().splitlines()[-1:]}
                print(json.dumps({name: results[name]}))
                continue
            measured = json.loads(out.stdout.strip().splitlines()[-1])
            removed[name] = set(measured["removed"])
            results[name] = {"rows_per_s": round(rows / measured["seconds"]), "seconds": round(measured["seconds"], 1),
                             "rows_per_cpu_s": round(rows / measured["cpu_s"]), "cpu_s": round(measured["cpu_s"], 1),
                             "same_removed_as_baseline": removed[name] == removed.get(methods[0]),
                             "peak_rss_mib": round(measured["peak_rss_mib"]), **score(truth, measured["removed"])}
            print(json.dumps({name: results[name]}))
        print(json.dumps({"load_average_1m_after": os.getloadavg()[0]}))
    base = results.get(methods[0], {})
    for name in methods[1:]:
        other = results.get(name, {})
        if "rows_per_s" in base and "rows_per_s" in other:
            print(f"{methods[0]} is {base['rows_per_s'] / other['rows_per_s']:.1f}x the throughput of {name} "
                  f"({base['rows_per_cpu_s'] / other['rows_per_cpu_s']:.1f}x per CPU second); "
                  f"F1 {base['f1']} vs {other['f1']}; peak RSS {base['peak_rss_mib']} vs {other['peak_rss_mib']} MiB")


# --- scale: what the engine costs per row ----------------------------------------------------------------

ENGINES = ("cmedins", "cmedins_in_memory")  # the default --engines; also cmedins_ray1, cmedins_ray2 (shard files)
# and cmedins_objects1, cmedins_objects2 (shards through Ray's object store)


def _ray_processes_cpu_and_rss() -> tuple[float, float]:
    """CPU seconds and summed peak RSS (MiB) of the Ray processes this process started (the local Ray's GCS,
    raylet and workers are its descendants; other users' Ray processes on the machine are not counted)."""
    import psutil

    cpu = rss = 0.0
    for process in psutil.Process().children(recursive=True):
        try:
            times = process.cpu_times()
            cpu += times.user + times.system
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    rss += int(line.split()[1]) / 1024
        except (psutil.Error, OSError):
            continue
    return cpu, rss


class _DiskWatch:
    """Samples, in a thread, the work folder's size (temporary disk at its largest) and this process's anonymous
    resident memory (RssAnon: without the signature file's pages, which the kernel can drop at any time)."""

    def __init__(self, folder: Path):
        import threading

        self.folder, self.peak, self.peak_anon_kib, self._stop = folder, 0, 0, threading.Event()
        self.cpu_by_pid: dict[int, float] = {}  # CPU seconds of each descendant (Ray's processes), as last seen
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, sum(file.stat().st_size for file in self.folder.rglob("*") if file.is_file()))
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("RssAnon:"):
                    self.peak_anon_kib = max(self.peak_anon_kib, int(line.split()[1]))
            self._sample_cpu()

    def _sample_cpu(self) -> None:
        """Ray replaces workers on the way (one that waits in ray.get lends its CPU; idle ones are stopped), so
        the processes alive at the end do not hold all the CPU: each one's CPU as last seen, every 50 ms."""
        import psutil

        for process in psutil.Process().children(recursive=True):
            try:
                times = process.cpu_times()
                self.cpu_by_pid[process.pid] = times.user + times.system
            except psutil.Error:
                continue

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def _high_water_mib() -> float:
    """This process's peak resident set (VmHWM: unlike ru_maxrss it does not start from the parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_phases(engine: str, path: Path) -> None:
    """One process, one engine: signing (read + normalise + shingle + MinHash, streaming) and resolving (exact
    + banding) timed apart; peak RSS; the work folder's bytes (signatures, ids, shard files) at their largest."""
    from cmedins.dedup.engine import DedupIndex, DedupParams
    from tests.support.dedup_reference import InMemoryDedupIndex

    index_class = InMemoryDedupIndex if engine == "cmedins_in_memory" else DedupIndex
    options = {}
    if engine.startswith(("cmedins_ray", "cmedins_objects")):  # signing and shards as Ray tasks on N local workers
        import ray

        from cmedins.runner.executors.ray_tasks import RayTaskMap

        shuffle = "objects" if engine.startswith("cmedins_objects") else "files"
        workers = int(engine.removeprefix("cmedins_ray").removeprefix("cmedins_objects"))
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        options["task_map"] = RayTaskMap(workers, shuffle=shuffle)
    with tempfile.TemporaryDirectory() as work:
        base_rss = _high_water_mib()
        index = index_class(DedupParams(n=NGRAM, num_perm=NUM_PERM, threshold=THRESHOLD, scopes=("global",)),
                            Path(work), **options)
        watch = _DiskWatch(Path(work))
        start, cpu = time.perf_counter(), time.process_time()
        for row in stream(path):  # rows stream from the file: the bench holds no corpus in memory
            index.add(row["text"], group="", answer_chars=0, row_id="")
        index._flush()
        sign_s, sign_cpu = time.perf_counter() - start, time.process_time() - cpu
        sign_rss = _high_water_mib()
        start, cpu = time.perf_counter(), time.process_time()
        result = index.resolve()
        resolve_s, resolve_cpu = time.perf_counter() - start, time.process_time() - cpu
        disk = watch.stop()
    peak = _high_water_mib()
    workers_cpu, workers_rss = _ray_processes_cpu_and_rss() if options else (0.0, 0.0)
    at_end_cpu = workers_cpu
    if options:  # every Ray process seen on the way, not only those alive at the end
        watch._sample_cpu()
        workers_cpu = max(workers_cpu, sum(watch.cpu_by_pid.values()))
    removed = np.flatnonzero(result.status != 0)
    from cmedins.runner.executors.ray_shuffle import VERIFIER_CPU_S, VOLUME

    print(json.dumps({"object_store_bytes": dict(VOLUME), "verifier_cpu_s": VERIFIER_CPU_S[0],
                      "workers_cpu_alive_at_end_s": at_end_cpu, "workers_cpu_s": workers_cpu, "workers_peak_rss_mib": workers_rss,
                      "peak_anon_rss_mib": watch.peak_anon_kib / 1024, "sign_s": sign_s, "sign_cpu_s": sign_cpu, "resolve_s": resolve_s, "resolve_cpu_s": resolve_cpu,
                      "peak_rss_mib": peak, "rss_after_signing_mib": sign_rss, "rss_before_mib": base_rss, "work_bytes_peak": disk, "removed": len(removed),
                      "removed_sha256": hashlib.sha256(removed.tobytes()).hexdigest(), "lsh": result.stats["lsh"]}))


def scale(sizes: list[int], engines: list[str]) -> None:
    figures = {}
    for rows in sizes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "corpus.jsonl"
            build_corpus(path, rows)
            for engine in engines:
                out = subprocess.run([sys.executable, __file__, "_phases", engine, str(path)], capture_output=True,
                                     text=True, check=True)
                measured = json.loads(out.stdout.strip().splitlines()[-1])
                figures[rows, engine] = measured
                total_cpu = measured["sign_cpu_s"] + measured["resolve_cpu_s"] + measured["workers_cpu_s"]
                print(json.dumps({"rows": rows, "engine": engine, "load_average_1m": os.getloadavg()[0],
                                  "rows_per_s": round(rows / (measured["sign_s"] + measured["resolve_s"])),
                                  "rows_per_cpu_s": round(rows / total_cpu),
                                  "sign_rows_per_cpu_s": round(rows / measured["sign_cpu_s"]),
                                  "resolve_rows_per_cpu_s": round(rows / measured["resolve_cpu_s"]),
                                  "peak_rss_mib": round(measured["peak_rss_mib"]),
                                  "peak_anon_rss_mib": round(measured["peak_anon_rss_mib"]),
                                  "resolve_rss_growth_bytes_per_row": round(
                                      (measured["peak_rss_mib"] - measured["rss_after_signing_mib"]) * 2**20 / rows),
                                  "work_bytes_per_row": round(measured["work_bytes_peak"] / rows),
                                  "object_store_bytes_per_row": {kind: round(value / rows, 1) for kind, value in
                                                                 measured["object_store_bytes"].items()},
                                  **measured}))
            for engine in engines[1:]:
                same = figures[rows, engines[0]]["removed_sha256"] == figures[rows, engine]["removed_sha256"]
                print(f"{rows} rows: {engine} removes {'the same' if same else 'OTHER'} rows as {engines[0]} "
                      f"({figures[rows, engine]['removed']} vs {figures[rows, engines[0]]['removed']})")
    for engine in engines:
        small, large = sizes[0], sizes[-1]
        if small == large:
            continue
        a, b = figures[small, engine], figures[large, engine]
        per_row = (b["peak_rss_mib"] - a["peak_rss_mib"]) * 2**20 / (large - small)
        print(f"{engine}: peak RSS grows {per_row:.0f} bytes per row between {small} and {large} rows; CPU-s per "
              f"100k rows signing {100_000 * a['sign_cpu_s'] / small:.2f} -> {100_000 * b['sign_cpu_s'] / large:.2f}, "
              f"resolving {100_000 * a['resolve_cpu_s'] / small:.2f} -> {100_000 * b['resolve_cpu_s'] / large:.2f}")


# --- KUAKE-QQR and toyhom -------------------------------------------------------------------------------

def kuake() -> None:
    """Pairwise decision of the detector on each labelled pair (label 2 = equivalent = duplicate)."""
    import numpy as np

    from cmedins.dedup.lsh import band_shape
    from cmedins.dedup.normalise import normalise
    from cmedins.dedup.signatures import Signer

    for split in ("train", "dev"):
        pairs = [p for p in json.loads((DATA / "cblue_kuake_qqr" / f"KUAKE-QQR_{split}.json").read_text()) if p.get("label") in ("0", "1", "2")]
        truth = np.array([p["label"] == "2" for p in pairs])
        left, right = [normalise(p["query1"]) for p in pairs], [normalise(p["query2"]) for p in pairs]
        exact = np.array([a == b for a, b in zip(left, right, strict=True)])
        for n in (2, 3, 4, 5):
            signer = Signer(n, NUM_PERM)
            equal = signer.sign(left) == signer.sign(right)
            for threshold in (0.5, 0.6, 0.7, 0.8, 0.9):
                bands, rows = band_shape(threshold, NUM_PERM)  # a pair is a candidate when one whole band agrees
                collide = equal[:, : bands * rows].reshape(len(pairs), bands, rows).all(axis=2).any(axis=1)
                predicted = exact | (collide & (equal.mean(axis=1) >= threshold))
                tp, fp = int((predicted & truth).sum()), int((predicted & ~truth).sum())
                fn = int((~predicted & truth).sum())
                precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
                f1 = 2 * precision * recall / max(precision + recall, 1e-9)
                mark = "  <- default" if (n, threshold) == (NGRAM, THRESHOLD) else ""
                print(f"{split:5s} n={n} threshold={threshold}: P={precision:.3f} R={recall:.3f} F1={f1:.3f} "
                      f"(tp {tp}, fp {fp}, fn {fn}){mark}")
        print(f"{split}: {len(pairs)} pairs, {int(truth.sum())} equivalent, {int((exact & truth).sum())} of them "
              "identical after normalisation")


def toyhom() -> None:
    from cmedins.dedup.engine import DedupIndex, DedupParams
    from cmedins.dialogue.adapters import read_toyhom_txt, toyhom_csv
    from cmedins.rowio.readers import iter_rows

    folder = DATA / "toyhom_cmdd"
    rows = [("csv", toyhom_csv(row)) for _, row in iter_rows(folder / "样例_内科5000-6000.csv")]
    rows += [("txt", toyhom_csv(row)) for _, _, row in read_toyhom_txt(folder / "内科.txt")]
    for selection in ("user", "conversation"):
        with tempfile.TemporaryDirectory() as work:
            index = DedupIndex(DedupParams(), Path(work))
            for number, (layout, conversation) in enumerate(rows):
                messages = conversation["messages"]
                text = "\n".join(m["content"] for m in messages if selection == "conversation" or m["role"] == "user")
                index.add(text, group=layout, answer_chars=len(messages[-1]["content"]), row_id=f"{number:08d}")
            stats = index.resolve().stats
        print(json.dumps({"text": selection, "csv_rows": sum(1 for r in rows if r[0] == "csv"),
                          "txt_rows": sum(1 for r in rows if r[0] == "txt"), "scopes": stats["scopes"],
                          "kept": stats["rows_kept"], "lsh": stats["lsh"]}, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["speed", "scale", "kuake", "toyhom", "_run", "_phases"])
    parser.add_argument("args", nargs="*")
    parser.add_argument("--rows", default="100000", help="rows (speed), or comma-separated sizes (scale)")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated; the first is the baseline "
                        "the others are compared with")
    parser.add_argument("--engines", default=",".join(ENGINES), help="scale: comma-separated, of cmedins, "
                        "cmedins_in_memory, cmedins_ray1, cmedins_ray2 (band-sharded on N Ray workers), cmedins_objects1, "
                        "cmedins_objects2 (the same, shards through Ray's object store)")
    options = parser.parse_args()
    if options.what == "_run":
        run_method(options.args[0], Path(options.args[1]))
    elif options.what == "_phases":
        run_phases(options.args[0], Path(options.args[1]))
    elif options.what == "speed":
        speed(int(options.rows), options.methods.split(","))
    elif options.what == "scale":
        scale([int(size) for size in options.rows.split(",")], options.engines.split(","))
    else:
        {"kuake": kuake, "toyhom": toyhom}[options.what]()


if __name__ == "__main__":
    main()
