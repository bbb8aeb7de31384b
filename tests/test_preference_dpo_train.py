"""trl's DPOTrainer takes an SPF build unchanged (slow: trains a tiny random Qwen2 for two steps on CPU)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("trl")

from tests.test_preference_build import write_inputs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_dpo_trainer_accepts_the_spf_build(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT / "train"))
    from make_tiny_model import make_tiny_model

    from cmedins.preference.build import build_spf

    build = tmp_path / "spf"
    build_spf(write_inputs(tmp_path), build)
    model_dir = make_tiny_model(tmp_path / "tiny", [build], vocab_size=512)

    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    dataset = load_dataset(str(build), cache_dir=str(tmp_path / "cache"))
    config = DPOConfig(output_dir=str(tmp_path / "out"), use_cpu=True, bf16=False, max_steps=2,
                       per_device_train_batch_size=4, max_length=256, learning_rate=1e-2, report_to=[],
                       logging_steps=1, save_strategy="no", seed=0)
    trainer = DPOTrainer(model=AutoModelForCausalLM.from_pretrained(model_dir), args=config,
                         train_dataset=dataset["train"], eval_dataset=dataset["validation"],
                         processing_class=AutoTokenizer.from_pretrained(model_dir))
    result = trainer.train()
    assert result.global_step == 2
    logged = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert logged and all(entry["loss"] == entry["loss"] for entry in logged)  # finite, not NaN
    assert "eval_loss" in trainer.evaluate()
