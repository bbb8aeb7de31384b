"""The fixed cost of starting de-identification: presidio is imported without torch and transformers behind it
(cmedins.deid.pool.import_presidio), and a compiled Hyperscan database is loaded from a per-user cache instead of
compiled again (cmedins.deid.prefilter.cached_database). Neither may change a finding: a cache file that is
damaged, written for other patterns or refused by Hyperscan is compiled again, and a later `import torch` in the
same process still works."""

from __future__ import annotations

import copy
import importlib.util
import shutil
from pathlib import Path

import pytest

from cmedins.deid import prefilter
from cmedins.deid.engine import PatternGate
from tests.support.fresh_process import run_probe

hyperscan = pytest.importorskip("hyperscan")

# An admission note's opening line: a patient's and a relative's name, a mobile, a record number.
SENTENCE = "患者王建国，男，58岁，因“反复胸闷3年，加重2天”于2023年3月5日入院。联系电话：13912345678，家属李秀英陪同，住院号：ZY2023001。"


def notes(count: int) -> list[str]:
    from tests.support.synthetic_notes import NoteFactory

    factory = NoteFactory(seed=31)
    return [SENTENCE, *(factory.make().text for _ in range(count))]


@pytest.fixture
def compiles(monkeypatch) -> list[int]:
    """Counts Hyperscan compiles (one entry, the pattern count, per compile)."""
    calls: list[int] = []
    real = prefilter._compile

    def counted(module, expressions, ids, flags):
        calls.append(len(expressions))
        return real(module, expressions, ids, flags)

    monkeypatch.setattr(prefilter, "_compile", counted)
    return calls


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(prefilter.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / "hyperscan"


def engine_with_new_gate(engine):
    """The session's engine with a prefilter built now (compiled or loaded from the cache)."""
    other = copy.copy(engine)
    other.gate = PatternGate(engine.recognizers)
    return other


def same_findings(engine, reference, texts: list[str]) -> None:
    assert engine.analyze_many(texts) == reference.analyze_many(texts)
    assert [engine.gate.prefilter.possible(text) for text in texts] == \
        [reference.gate.prefilter.possible(text) for text in texts]


def test_a_fresh_cache_folder_gets_the_database_and_the_next_engine_loads_it(deid_engine, cache, compiles):
    first = engine_with_new_gate(deid_engine)
    assert len(compiles) == 1 and len(list(cache.glob("*.hsdb"))) == 1
    second = engine_with_new_gate(deid_engine)
    assert len(compiles) == 1  # loaded, not compiled
    types = {f.entity_type for f in second.analyze(SENTENCE)}
    assert {"PERSON", "CN_PHONE"} <= types, types
    texts = notes(200)
    same_findings(first, deid_engine, texts)
    same_findings(second, deid_engine, texts)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, deid_engine) -> Path:
    """A cache file for the engine's prefilter, written once for the damage tests."""
    folder = tmp_path_factory.mktemp("pristine")
    patch = pytest.MonkeyPatch()
    patch.setenv(prefilter.CACHE_ENV, str(folder))
    try:
        PatternGate(deid_engine.recognizers)
    finally:
        patch.undo()
    (path,) = (folder / "hyperscan").glob("*.hsdb")
    return path


def truncated(path: Path, other: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def one_byte_changed(path: Path, other: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def another_databases_file(path: Path, other: Path) -> None:
    shutil.copyfile(other, path)  # a whole, valid cache file, for other patterns


def empty(path: Path, other: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("damage", [truncated, one_byte_changed, another_databases_file, empty])
def test_a_damaged_or_foreign_cache_file_is_compiled_again_with_the_same_findings(
        deid_engine, pristine, cache, compiles, damage):
    cache.mkdir(parents=True)
    prefilter.Prefilter([r"(?<!\d)1[3-9]\d{9}(?!\d)"])  # another database in the same folder
    other = next(cache.glob("*.hsdb"))
    path = cache / pristine.name
    shutil.copyfile(pristine, path)
    damage(path, other)
    compiles.clear()
    engine = engine_with_new_gate(deid_engine)
    assert len(compiles) == 1  # not trusted: compiled again
    same_findings(engine, deid_engine, notes(100))
    assert prefilter._load(hyperscan, path, path.stem) is not None  # rewritten whole


def test_a_database_hyperscan_refuses_is_compiled_again(deid_engine, pristine, cache, compiles, monkeypatch):
    cache.mkdir(parents=True)
    shutil.copyfile(pristine, cache / pristine.name)

    def refuse(buffer, mode):  # what a database written by another Hyperscan build or for another CPU gets
        raise hyperscan.DatabasePlatformError("error code -6")

    monkeypatch.setattr(hyperscan, "loadb", refuse)
    engine = engine_with_new_gate(deid_engine)
    assert len(compiles) == 1
    same_findings(engine, deid_engine, notes(50))


def test_a_cache_folder_that_cannot_be_written_is_no_error(deid_engine, tmp_path, monkeypatch, compiles):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be\n", encoding="utf-8")
    monkeypatch.setenv(prefilter.CACHE_ENV, str(blocker))
    engine = engine_with_new_gate(deid_engine)
    assert len(compiles) == 1 and blocker.is_file()
    same_findings(engine, deid_engine, notes(50))


def test_a_cache_key_changes_with_every_expression_flag_and_id():
    base = (["1[3-9][0-9]{9}", "住院号"], [0, 1], [8, 8])
    keys = {prefilter.cache_key(hyperscan, *base),
            prefilter.cache_key(hyperscan, ["1[3-9][0-9]{9}", "门诊号"], [0, 1], [8, 8]),
            prefilter.cache_key(hyperscan, base[0], [1, 0], [8, 8]),
            prefilter.cache_key(hyperscan, base[0], base[1], [8, 9])}
    assert len(keys) == 4


PROBE = """
import json, sys
from cmedins.deid.gate import clean_free_texts
out = clean_free_texts([sys.argv[1]], where="system prompt")
loaded = {name: name in sys.modules for name in ("presidio_analyzer", "torch", "transformers")}
import torch
from transformers import AutoConfig
print(json.dumps({"loaded": loaded, "sum": int(torch.tensor([2, 3]).sum()), "masked": "13912345678" not in out[0],
                  "config": AutoConfig.__name__}))
"""


@pytest.mark.skipif(importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None,
                    reason="torch and transformers are the [train] extra's")
def test_cleaning_free_texts_imports_presidio_without_torch_and_torch_still_imports_after(tmp_path):
    result = run_probe(PROBE, SENTENCE, tmp_path)
    assert result["loaded"] == {"presidio_analyzer": True, "torch": False, "transformers": False}
    assert result["sum"] == 5 and result["masked"] and result["config"] == "AutoConfig"
