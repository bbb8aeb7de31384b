"""DPO on an SPF preference dataset, continuing the SFT LoRA adapter, in the shape of trl's `trl/scripts/dpo.py`.

The dataset is a cmedins SPF build folder or its Hub repo id: trl preference rows with an explicit prompt
(`prompt`, `chosen`, `rejected`), so nothing is processed here. Extra columns are ignored.

Starting point (`--sft_adapter`): the base model is loaded, the SFT adapter is put on it *trainable*, and trl
copies that adapter into a frozen "ref" adapter. So the policy starts as base + SFT adapter, the reference
stays base + SFT adapter, there is one copy of the base weights in memory, and the result is a single adapter
that applies to the unmodified base model (no merged 28 GB checkpoint to keep). The LoRA shape (rank, targets,
dropout) is the SFT adapter's: `--use_peft` is refused with it.
Without `--sft_adapter`, this is trl's script: DPO on `--model_name_or_path`, a fresh LoRA with `--use_peft`.

# The paper's setup, 4 GPUs
```bash
accelerate launch --num_processes 4 train/dpo.py --config train/configs/dpo_qwen14b_lora.yaml \
    --model_name_or_path /models/Qwen2.5-14B --sft_adapter runs/sft --dataset_name your-org/spf --output_dir runs/dpo
```

# CPU smoke run after train/sft.py's
```bash
python train/dpo.py --config train/configs/dpo_smoke_cpu.yaml
```
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field

from trainset import DPO_COLUMNS, TrainInputError, load_splits, set_model_init_kwargs, train_and_save


@dataclass
class AdapterArguments:
    sft_adapter: str | None = field(
        default=None,
        metadata={"help": "Folder (or Hub id) of the LoRA adapter train/sft.py saved; DPO continues training it."},
    )


def load_policy(model_args, training_args, adapter_args, quantization_config):
    """The model DPOTrainer starts from: base + trainable SFT adapter, or trl's own path (id + peft_config)."""
    from trl import get_peft_config

    if adapter_args.sft_adapter is None:
        return model_args.model_name_or_path, get_peft_config(model_args)
    if model_args.use_peft:
        raise TrainInputError("--sft_adapter continues the SFT LoRA adapter with its own shape; drop --use_peft")

    from peft import PeftModel
    from trl.trainer.utils import create_model_from_path  # what DPOTrainer itself calls for a model id

    init_kwargs = dict(training_args.model_init_kwargs)
    if quantization_config is not None:
        init_kwargs["quantization_config"] = quantization_config
    base = create_model_from_path(model_args.model_name_or_path, **init_kwargs)
    training_args.model_init_kwargs = None  # used up here; DPOTrainer warns if it sees them with a model object
    return PeftModel.from_pretrained(base, adapter_args.sft_adapter, is_trainable=True), None


def main(script_args, training_args, model_args, adapter_args):
    """Train and save the adapter to `training_args.output_dir`; returns the trainer (its state has the logs)."""
    from transformers import AutoTokenizer
    from trl import DPOTrainer, get_quantization_config

    set_model_init_kwargs(model_args, training_args)
    evaluate = training_args.eval_strategy != "no"
    dataset = load_splits(script_args, training_args, DPO_COLUMNS, "DPO")

    quantization_config = get_quantization_config(model_args)
    model, peft_config = load_policy(model_args, training_args, adapter_args, quantization_config)
    trainer = DPOTrainer(
        model=model,
        args=training_args,
        train_dataset=dataset[script_args.dataset_train_split],
        eval_dataset=dataset[script_args.dataset_test_split] if evaluate else None,
        processing_class=AutoTokenizer.from_pretrained(
            model_args.model_name_or_path, revision=model_args.model_revision,
            trust_remote_code=training_args.trust_remote_code,
        ),
        quantization_config=quantization_config if peft_config is not None else None,
        peft_config=peft_config,
    )
    return train_and_save(trainer, script_args, training_args, "DPO")


def make_parser(subparsers: argparse._SubParsersAction | None = None, prog: str | None = None):
    from trl import DPOConfig, ModelConfig, ScriptArguments, TrlParser

    dataclass_types = (ScriptArguments, DPOConfig, ModelConfig, AdapterArguments)
    if subparsers is not None:
        return subparsers.add_parser("dpo", help="DPO on an SPF dataset from the SFT adapter", dataclass_types=dataclass_types)
    return TrlParser(dataclass_types, prog=prog)


if __name__ == "__main__":
    script_args, training_args, model_args, adapter_args = make_parser().parse_args_and_config()
    try:
        main(script_args, training_args, model_args, adapter_args)
    except TrainInputError as error:
        sys.exit(f"error: {error}")
