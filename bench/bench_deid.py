"""Benchmark of cmedins de-identification: speed on one core, the cost over a plain regex pass, and recall.

    python bench/bench_deid.py [--notes 10000] [--workers 2] [--real [--rounds 1] [--write]] [--sample 2000]
                               [--public 1000] [--record-like]

--real: the real-text benchmark (bench/deid_real.py): identities planted by tests/support/plant_identities.py
into real CCKS 2017 / CMB-Clin / ChatMed-Consult paragraphs; leak rate per type and spelling (tuned and
held-out frames apart), clinical words kept, MB/s per core against a plain regex pass, residual-scan recall and
false positives; --write stores the figures in cmedins/deid/measured.json (the card's privacy section).

Corpus: `--notes` synthetic clinical notes (tests.support.synthetic_notes, Faker zh_CN identities planted in
realistic contexts, ~240 characters each); with --real also the record-like texts of ../shared/data
(--record-like: CCKS 2017 EMR sections, CMB-Clin cases, Huatuo-26M test answers). Baseline measured in the same run: one
plain `re` pass of the residual-scan patterns (ID numbers, mobiles, emails) over the same texts, the floor
any de-identification pays. Engine construction (presidio import, jieba dictionary) is excluded and
reported separately.

Quality: recall per entity type on the synthetic notes (planted offsets); with --sample N, on N records of
the cmedins sample generator (every identity value of the record's structured identity that occurs in its
text must be gone); with --public N, the findings on up to N rows of each real public consultation source
(MedicalGPT reward set, ChatMed-Consult, Huatuo-26M answers, toyhom CMDD), where real identities are rare:
each name, address and institution found is printed so it can be judged by eye.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def real_texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8").replace("\r\n", "\n")
             for p in sorted((DATA / "ccks2017_emr" / "data_origin").glob("*/*.txtoriginal.txt"))]
    for case in json.loads((DATA / "cmb" / "CMB-test-qa.json").read_text(encoding="utf-8")):
        texts.append(case["description"])
    rows = json.loads((DATA / "huatuo26m_test_zhongjing" / "huatuo26M_test.json").read_text(encoding="utf-8"))
    texts += [row["output"][0] for row in rows[:3000]]
    return texts


def regex_floor(texts: list[str]) -> float:
    """CPU seconds of a plain regex pass (IDs, mobiles, e-mails) over the texts: bench/deid_real.py's floor."""
    from deid_real import regex_floor as floor

    return floor(texts)


def run_engine(texts: list[str], workers: int) -> tuple[float, float, list]:
    from cmedins.deid.config import DeidConfig
    from cmedins.deid.pool import ParallelDeidentifier

    config = DeidConfig(workers=workers)
    start = time.perf_counter()
    engine = ParallelDeidentifier(config)
    if workers > 1:  # let every worker build its engine before timing
        list(engine.map_chunks([[("warm", ["预热"])]] * workers))
    else:
        engine.engine.prepare()  # the names tagger, built on first use otherwise
        engine.engine.deidentify("预热")
    setup = time.perf_counter() - start
    units = [(str(i), [text]) for i, text in enumerate(texts)]
    chunks = [units[i:i + config.batch_size] for i in range(0, len(units), config.batch_size)]
    # One process: its CPU time (the machine is shared). Several: wall time (the work is in the workers).
    clock = time.process_time if workers == 1 else time.perf_counter
    start = clock()
    results = [r[0] for chunk in engine.map_chunks(chunks) for r in chunk]
    elapsed = clock() - start
    engine.close()
    return setup, elapsed, results


def report(label: str, texts: list[str], elapsed: float, floor: float) -> None:
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    print(f"{label}: {len(texts)} texts, {megabytes:.2f} MB, {elapsed:.2f} s (CPU s with 1 process, wall with more) -> "
          f"{len(texts) / elapsed:,.0f} texts/s, {megabytes / elapsed:.2f} MB/s; regex floor {floor:.3f} CPU s "
          f"({megabytes / floor:.1f} MB/s); "
          f"cost {elapsed / floor:.0f}x the floor")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=None, help="synthetic notes (default 10000, 0 with --real)")
    parser.add_argument("--workers", type=int, default=1, help="also measure with this many processes")
    parser.add_argument("--real", action="store_true", help="the planted real-text benchmark (bench/deid_real.py)")
    parser.add_argument("--rounds", type=int, default=1, help="--real: plant every host paragraph this many times")
    parser.add_argument("--write", action="store_true", help="--real: write cmedins/deid/measured.json")
    parser.add_argument("--public-limit", type=int, default=1000, help="--real: rows per public file scanned")
    parser.add_argument("--record-like", action="store_true", help="also time the record-like real texts")
    parser.add_argument("--sample", type=int, default=0, help="recall on this many sample-generator records")
    parser.add_argument("--public", type=int, default=0, help="findings on this many rows per public source")
    import deid_real  # its one table of blind sets gives the flags (tests.support.plant_identities, no engine)

    for name, parts in deid_real.BLIND_SETS.items():
        parser.add_argument(f"--{name}", action="store_true", help=f"only the blind set {parts[0][3]}")
    args = parser.parse_args()
    for name in deid_real.BLIND_SETS:
        if getattr(args, name):
            if not DATA.is_dir():
                raise SystemExit(f"--{name} needs {DATA}")
            deid_real.blind_set(DATA, name, args.rounds)
            return
    if args.real:
        if not DATA.is_dir():
            raise SystemExit(f"--real needs {DATA}")
        deid_real.run(DATA, args.write, args.rounds, args.public_limit)
    notes = args.notes if args.notes is not None else (0 if args.real else 10_000)
    if notes:
        synthetic(args, notes)
    if args.sample:
        sample_recall(args.sample)
    if args.public and DATA.is_dir():
        public_findings(args.public)


def synthetic(args, count: int) -> None:
    from tests.support.synthetic_notes import NoteFactory, recall_by_type, terms_kept

    factory = NoteFactory(seed=2024)
    notes = [factory.make() for _ in range(count)]
    texts = [note.text for note in notes]
    floor = regex_floor(texts)
    setup, elapsed, results = run_engine(texts, 1)
    print(f"engine construction: {setup:.1f} s (once per process)")
    report("synthetic notes, 1 process", texts, elapsed, floor)
    for entity, (hit, total) in recall_by_type(notes, [r.findings for r in results]).items():
        print(f"  recall {entity:<22} {hit:>6}/{total:<6} {hit / total:.4f}")
    kept, planted = terms_kept(notes, [r.text for r in results])
    print(f"  medical terms kept       {kept:>6}/{planted:<6} {kept / planted:.4f}")
    if args.workers > 1:
        _, elapsed_n, _ = run_engine(texts, args.workers)
        report(f"synthetic notes, {args.workers} processes", texts, elapsed_n, floor)
    if args.record_like and DATA.is_dir():
        real = real_texts()
        _, elapsed_r, results_r = run_engine(real, 1)
        report("real record-like texts, 1 process", real, elapsed_r, regex_floor(real))
        found = sum(len(r.findings) for r in results_r)
        print(f"  findings: {found} in {sum(map(len, real)):,} characters")


def sample_recall(count: int) -> None:
    from cmedins.deid.config import DeidConfig
    from cmedins.deid.engine import Deidentifier
    from tests.support.deid_evaluation import leaks_by_type, sample_cases

    cases = sample_cases(count)
    units = Deidentifier(DeidConfig()).deidentify_units([(case.scope, case.texts) for case in cases])
    counts, leaks = leaks_by_type(cases, [[result.text for result in unit] for unit in units])
    print(f"sample generator records: {count}")
    for entity, (removed, planted) in counts.items():
        print(f"  recall {entity:<22} {removed:>6}/{planted:<6} {removed / planted:.4f}")
    for scope, entity, value in leaks[:10]:
        print(f"  left: {scope} {entity} {value}")


def public_findings(limit: int) -> None:
    from collections import Counter

    from cmedins.deid.config import DeidConfig
    from cmedins.deid.engine import Deidentifier
    from tests.support.deid_evaluation import public_texts

    engine = Deidentifier(DeidConfig())
    for source, texts in public_texts(DATA, limit).items():
        found = engine.analyze_many(texts)
        types = Counter(f.entity_type for findings in found for f in findings)
        touched = sum(bool(findings) for findings in found)
        print(f"public {source}: {len(texts)} texts, {sum(map(len, texts)):,} chars, {touched} texts changed, "
              f"findings {dict(sorted(types.items()))}")
        values = Counter((f.entity_type, text[f.start:f.end]) for text, findings in zip(texts, found, strict=True)
                         for f in findings if f.entity_type in ("PERSON", "CN_ADDRESS", "INSTITUTION"))
        for (entity, value), n in sorted(values.items()):
            print(f"  {entity:<12} {value} x{n}")


if __name__ == "__main__":
    main()
