"""What sft.py and dpo.py share: load a dataset (Hub repo id or local build folder), check its columns, find a
checkpoint to resume from. No data processing: cmedins builds already are in trl's formats."""

from __future__ import annotations

import os
from pathlib import Path

# datasets pings a download counter even for local folders; a local build must not touch the network.
os.environ.setdefault("HF_UPDATE_DOWNLOAD_COUNTS", "0")

SFT_COLUMNS = ("messages",)
DPO_COLUMNS = ("prompt", "chosen", "rejected")


class TrainInputError(ValueError):
    """Bad input to a training script; the scripts print the message as one line, without a traceback."""


class DatasetFormatError(TrainInputError):
    """The dataset cannot feed this trainer; the message names what is missing."""


def load_trainset(name: str, config: str | None, splits: list[str], columns: tuple[str, ...], kind: str):
    """Load `name` (a local build folder or a Hub repo id) and check each of `splits` has `columns`.

    `kind` ("SFT" / "DPO") only words the error, e.g. "dataset build/x has no column 'messages' in split
    'train' (SFT datasets need messages)".
    """
    from datasets import load_dataset

    try:
        dataset = load_dataset(name, name=config)
    except (FileNotFoundError, ConnectionError) as error:  # neither a local folder nor a reachable Hub repo
        raise DatasetFormatError(f"cannot load dataset {name}: {error}") from None
    for split in splits:
        if split not in dataset:
            raise DatasetFormatError(
                f"dataset {name} has no split {split!r} (it has: {', '.join(sorted(dataset))})"
            )
        missing = [column for column in columns if column not in dataset[split].column_names]
        if missing:
            raise DatasetFormatError(
                f"dataset {name} has no column {missing[0]!r} in split {split!r} "
                f"({kind} datasets need {', '.join(columns)})"
            )
    return dataset


def resume_point(explicit: str | None, output_dir: str) -> str | None:
    """The checkpoint to resume from: the one asked for, else the newest in output_dir, else None (fresh run)."""
    if explicit:
        return explicit
    if not Path(output_dir).is_dir():
        return None
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(output_dir)


def set_model_init_kwargs(model_args, training_args) -> None:
    """How the trainer loads the model (as trl's scripts do), with the config's own kwargs on top."""
    kwargs = dict(revision=model_args.model_revision, trust_remote_code=training_args.trust_remote_code,
                  attn_implementation=model_args.attn_implementation, dtype=model_args.dtype)
    if training_args.model_init_kwargs is not None:
        kwargs.update(training_args.model_init_kwargs)
    training_args.model_init_kwargs = kwargs


def load_splits(script_args, training_args, columns: tuple[str, ...], kind: str):
    """The train split, plus the eval split when the config evaluates, checked for the trainer's columns."""
    splits = [script_args.dataset_train_split]
    if training_args.eval_strategy != "no":
        splits.append(script_args.dataset_test_split)
    return load_trainset(script_args.dataset_name, script_args.dataset_config, splits, columns, kind)


def train_and_save(trainer, script_args, training_args, label: str):
    """Resume from the newest checkpoint if any, train, save the adapter (the best one when the config keeps
    the best checkpoint), push when asked; returns the trainer (its state holds the logs)."""
    checkpoint = resume_point(training_args.resume_from_checkpoint, training_args.output_dir)
    if checkpoint:
        trainer.accelerator.print(f"resuming from {checkpoint}")
    trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model(training_args.output_dir)
    trainer.accelerator.print(f"{label} adapter saved to {training_args.output_dir}")
    if training_args.push_to_hub:
        trainer.push_to_hub(dataset_name=script_args.dataset_name)
    trainer.end()
    return trainer
