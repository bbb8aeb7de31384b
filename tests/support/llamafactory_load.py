"""Run by the LLaMA-Factory venv's Python (tests/test_llamafactory.py): load one dataset of a
dataset_info.json through LLaMA-Factory's own data loader (`get_dataset`, templating and tokenisation
included) and print what came out as JSON.

usage: python llamafactory_load.py DATASET_DIR DATASET STAGE(sft|rm) MODEL_DIR WORK_DIR
"""

import json
import sys


def main() -> None:
    dataset_dir, dataset, stage, model_dir, work_dir = sys.argv[1:6]
    from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
    from llamafactory.hparams import get_train_args
    from llamafactory.model import load_tokenizer

    args = {"model_name_or_path": model_dir, "dataset_dir": dataset_dir, "dataset": dataset, "template": "qwen",
            "stage": stage, "do_train": True, "finetuning_type": "lora", "output_dir": work_dir,
            "cutoff_len": 1024, "overwrite_cache": True, "report_to": "none", "use_cpu": True, "bf16": False,
            "preprocessing_num_workers": None}
    model_args, data_args, training_args, _, _ = get_train_args(args)
    tokenizer_module = load_tokenizer(model_args)
    tokenizer = tokenizer_module["tokenizer"]
    template = get_template_and_fix_tokenizer(tokenizer, data_args)
    module = get_dataset(template, model_args, data_args, training_args, stage=stage, **tokenizer_module)
    train = module["train_dataset"]
    first = train[0]
    out = {"rows": len(train), "columns": sorted(train.column_names)}
    if stage == "rm":
        out["chosen"] = tokenizer.decode(first["chosen_input_ids"])
        out["rejected"] = tokenizer.decode(first["rejected_input_ids"])
    else:
        out["text"] = tokenizer.decode(first["input_ids"])
        out["labels"] = tokenizer.decode([t for t in first["labels"] if t != -100])
    print("RESULT " + json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
