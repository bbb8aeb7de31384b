"""Supervised fine-tuning with LoRA on a CMedINS dataset, in the shape of trl's `trl/scripts/sft.py`.

The dataset is a cmedins build folder or its Hub repo id; its rows are already trl conversational rows
(`messages`), so nothing is processed here. Extra columns (task, source, department...) are ignored.

# The paper's setup (Qwen 14B base, LoRA, bf16, 4096 tokens with history), 4 GPUs
```bash
accelerate launch --num_processes 4 train/sft.py --config train/configs/sft_qwen14b_lora.yaml \
    --model_name_or_path /models/Qwen2.5-14B --dataset_name your-org/cmedins --output_dir runs/sft
```

# CPU smoke run on the sample build with a tiny local model (seconds)
```bash
python train/make_tiny_model.py --output_dir build/tiny-qwen2 --corpus build/sample
python train/sft.py --config train/configs/sft_smoke_cpu.yaml
```

An interrupted run resumes from the newest checkpoint in `--output_dir` (or `--resume_from_checkpoint PATH`);
to start over, use a new output_dir.
"""

from __future__ import annotations

import argparse
import sys

from trainset import SFT_COLUMNS, TrainInputError, load_splits, set_model_init_kwargs, train_and_save


def main(script_args, training_args, model_args):
    """Train and save the adapter to `training_args.output_dir`; returns the trainer (its state has the logs)."""
    from trl import SFTTrainer, get_peft_config, get_quantization_config

    set_model_init_kwargs(model_args, training_args)
    evaluate = training_args.eval_strategy != "no"
    dataset = load_splits(script_args, training_args, SFT_COLUMNS, "SFT")

    trainer = SFTTrainer(
        model=model_args.model_name_or_path,
        args=training_args,
        train_dataset=dataset[script_args.dataset_train_split],
        eval_dataset=dataset[script_args.dataset_test_split] if evaluate else None,
        quantization_config=get_quantization_config(model_args),
        peft_config=get_peft_config(model_args),
    )
    return train_and_save(trainer, script_args, training_args, "SFT")


def make_parser(subparsers: argparse._SubParsersAction | None = None, prog: str | None = None):
    from trl import ModelConfig, ScriptArguments, SFTConfig, TrlParser

    dataclass_types = (ScriptArguments, SFTConfig, ModelConfig)
    if subparsers is not None:
        return subparsers.add_parser("sft", help="SFT with LoRA on a CMedINS dataset", dataclass_types=dataclass_types)
    return TrlParser(dataclass_types, prog=prog)


if __name__ == "__main__":
    script_args, training_args, model_args = make_parser().parse_args_and_config()
    try:
        main(script_args, training_args, model_args)
    except TrainInputError as error:
        sys.exit(f"error: {error}")
