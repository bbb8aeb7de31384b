"""De-identification on a pool of worker processes: the same results, in input order, as in one process; the
workers are handed the next chunks while the caller still works on a result (they do not take turns)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from cmedins.deid.config import DeidConfig
from cmedins.deid.pool import ParallelDeidentifier
from tests.conftest import ROOT

NOTES = ["患者张伟，男，45岁，联系电话13812345678，因反复胸痛3天入院。",
         "主诉：头晕2周。患者王秀英，身份证号110101197003072316，既往高血压病史。",
         "现病史：患者于2023年5月在北京协和医院就诊，电话010-65295678，诊断为2型糖尿病。",
         "家属李娜（电话：139 1234 5678）代诉患者夜间咳嗽加重。"]


def _chunks(count: int, pulled: list[int]):
    for number in range(count):
        pulled.append(number)
        yield [(f"unit{number}-{i}", [NOTES[(number + i) % len(NOTES)], "无特殊。"]) for i in range(3)]


def test_a_pool_gives_the_in_process_results_in_order_and_works_ahead_of_the_caller():
    config = {"operator": "placeholder", "dates": "year"}
    alone = ParallelDeidentifier(DeidConfig(**config, workers=1))
    expected = [[[result.text for result in unit] for unit in chunk] for chunk in alone.map_chunks(_chunks(9, []))]
    alone.close()
    assert "13812345678" not in str(expected) and "110101197003072316" not in str(expected)

    pool = ParallelDeidentifier(DeidConfig(**config, workers=2))
    pulled: list[int] = []
    got, ahead = [], []
    try:
        for chunk in pool.map_chunks(_chunks(9, pulled)):
            ahead.append(len(pulled) - len(got) - 1)  # chunks handed out beyond the one the caller now holds
            got.append([[result.text for result in unit] for unit in chunk])
    finally:
        pool.close()
    assert got == expected
    # While the caller holds result k, the next 2 x workers - 1 chunks are already with the workers (until
    # the input runs out); a pool that waited for a whole window before handing out more would hold fewer.
    assert ahead == [3, 3, 3, 3, 3, 3, 2, 1, 0]


def _in_a_fresh_process(script: str, text: str) -> dict:
    """What `script` prints (JSON) when it runs in a new Python process with `text` as its argument."""
    done = subprocess.run([sys.executable, "-c", script, text], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_process_that_hands_out_the_work_does_not_load_the_engine():
    """With workers, only they detect: the main process must not pay presidio's import (seconds of CPU)."""
    script = ("import json, sys\n"
              "from cmedins.deid.config import DeidConfig\n"
              "from cmedins.deid.gate import GateUnit, PrivacyGate\n"
              "with PrivacyGate(DeidConfig(operator='placeholder', workers=2)) as gate:\n"
              "    (result,) = next(gate.process([[GateUnit('notes.jsonl, row 1', 's', ['text'], [sys.argv[1]])]]))\n"
              "print(json.dumps({'text': result.texts[0], 'loaded': sorted(m for m in ('presidio_analyzer', "
              "'cmedins.deid.engine', 'torch') if m in sys.modules)}, ensure_ascii=False))\n")
    report = _in_a_fresh_process(script, NOTES[0])
    assert "张伟" not in report["text"] and "13812345678" not in report["text"] and "因反复胸痛3天入院" in report["text"]
    assert report["loaded"] == []


def test_a_worker_starts_its_engine_without_torch_or_transformers():
    """A worker process detects with pattern recognizers only: it must not import the NLP stacks presidio's
    package import would pull in (seconds of CPU per worker), and must still de-identify."""
    script = ("import json, sys\n"
              "from cmedins.deid.config import DeidConfig\n"
              "from cmedins.deid.pool import _init_worker, _run_in_worker\n"
              "_init_worker(DeidConfig(operator='placeholder', dates='year').model_dump_json())\n"
              "((result,),) = _run_in_worker([('s', [sys.argv[1]])])\n"
              "print(json.dumps({'text': result.text, 'presidio': 'presidio_analyzer' in sys.modules, "
              "'imported': [m for m in ('torch', 'transformers') if sys.modules.get(m) is not None]}, "
              "ensure_ascii=False))\n")
    report = _in_a_fresh_process(script, NOTES[1])
    assert "王秀英" not in report["text"] and "110101197003072316" not in report["text"]
    assert report["text"].startswith("主诉：头晕2周。") and report["presidio"] and report["imported"] == []


def test_a_ray_stage_actor_reuses_one_engine_and_starts_no_pool_of_its_own(tmp_path, monkeypatch):
    """An actor makes a fresh deid stage per chunk of rows: it must not build an engine (or, with `workers: 2`
    in the recipe, spawn a pool of processes) per chunk; the actor is already one process on one CPU."""
    import multiprocessing

    from cmedins.deid import pool
    from cmedins.deid.stage import DeidStage
    from cmedins.runner.executors.ray_executor import _StageWorker

    monkeypatch.setattr(pool, "_one_process_only", False)
    pool.shared_engine.cache_clear()
    actor = _StageWorker([("deid", DeidStage, {"operator": "placeholder", "dates": "year", "workers": 2})], 7,
                         str(tmp_path))
    chunks = [[{"kind": "conversation", "id": f"chatmed:{i}", "source": "chatmed", "category": "dialogue",
                "messages": [{"role": "user", "content": NOTES[(i + j) % len(NOTES)]},
                             {"role": "assistant", "content": "建议尽快就诊。"}]} for j in range(3)] for i in range(4)]
    results = [actor.run_rows(chunk) for chunk in chunks]
    assert all("error" not in result for result in results)
    texts = [message["content"] for result in results for row in result["rows"] for message in row["messages"]]
    assert len(texts) == 24 and "13812345678" not in "".join(texts) and "王秀英" not in "".join(texts)
    assert multiprocessing.active_children() == []  # no pool was spawned inside the actor
    assert pool.shared_engine.cache_info().misses == 1  # one engine for the four chunks' stages
