"""Build a tiny random-weight Qwen2 model and a byte-level BPE tokenizer trained on local Chinese text.

The CPU smoke runs (`make train`, the slow test) need a causal LM that trains in seconds and needs no download.
This writes one to a folder that `train/sft.py --model_name_or_path` accepts like any Hub model:

```bash
python train/make_tiny_model.py --output_dir build/tiny-qwen2 --corpus build/sample
```

The tokenizer is trained with Qwen2Tokenizer's own normaliser and pre-tokeniser (transformers rebuilds a
Qwen2Tokenizer for a `model_type=qwen2` folder; a different pre-tokeniser would make token ids disagree), and
carries a ChatML template with `{% generation %}` markers so SFT can use `assistant_only_loss`. Same corpus and
seed, same bytes.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "cmedins" / "sample" / "data"
TEXT_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".parquet", ".txt")
SPECIAL_TOKENS = ["<|im_start|>", "<|im_end|>"]

# ChatML as Qwen2.5 writes it, minus tools and the default system prompt; the generation block covers the
# assistant text and its <|im_end|> so the model learns to stop.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message.role == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message.content + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def corpus_files(paths: list[Path]) -> list[Path]:
    """Every text-bearing file under the given files or folders, sorted so the tokenizer is reproducible."""
    files: list[Path] = []
    for path in paths:
        if (path / "data").is_dir() and any((path / "data").glob("*.parquet")):
            # A build folder: only its Parquet shards (preview.jsonl repeats them, stats/manifest are not text).
            files.extend((path / "data").glob("*.parquet"))
        elif path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise SystemExit(f"corpus path {path} does not exist")
    return sorted(files)


def strings_in(value: object) -> Iterator[str]:
    """All string leaves of a row (message contents, instructions, answers...)."""
    if isinstance(value, str):
        if value.strip():
            yield value
    elif isinstance(value, dict):
        for key in sorted(value):
            if not str(key).startswith("_"):
                yield from strings_in(value[key])
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def corpus_texts(paths: list[Path]) -> list[str]:
    from cmedins.rowio.readers import iter_rows

    texts: list[str] = []
    for file in corpus_files(paths):
        if file.suffix.lower() == ".txt":
            texts.append(file.read_text(encoding="utf-8"))
        else:
            for _, row in iter_rows(file):
                texts.extend(strings_in(row))
    if not texts:
        raise SystemExit(f"no text found under {', '.join(map(str, paths))}")
    return texts


def train_tokenizer(texts: list[str], vocab_size: int):
    from transformers import Qwen2Tokenizer

    # Start from an empty Qwen2Tokenizer so the trained one keeps its normaliser, pre-tokeniser and decoder.
    tokenizer = Qwen2Tokenizer().train_new_from_iterator(
        [texts[i : i + 1000] for i in range(0, len(texts), 1000)],
        vocab_size=vocab_size,
        new_special_tokens=SPECIAL_TOKENS,
        show_progress=False,
    )
    tokenizer.eos_token = "<|im_end|>"
    tokenizer.pad_token = "<|endoftext|>"
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_model(tokenizer, hidden_size: int, num_layers: int, seed: int):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        dtype="float32",
        # Wider than the default 0.02: with hidden 64 and tied embeddings, 0.02 caps the logits near zero and LoRA
        # cannot move the loss visibly in a few dozen steps.
        initializer_range=0.1,
    )
    torch.manual_seed(seed)
    return Qwen2ForCausalLM(config)


def make_tiny_model(
    output_dir: Path,
    corpus: list[Path],
    vocab_size: int = 2048,
    hidden_size: int = 64,
    num_layers: int = 2,
    seed: int = 0,
) -> Path:
    """Train the tokenizer on `corpus`, build the random model and save both to `output_dir`."""
    tokenizer = train_tokenizer(corpus_texts(corpus), vocab_size)
    model = build_model(tokenizer, hidden_size, num_layers, seed)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    return output_dir


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output_dir", type=Path, required=True)
    parser.add_argument(
        "--corpus",
        type=Path,
        nargs="+",
        default=[DEFAULT_CORPUS],
        help="files or folders of text (JSON, JSONL, CSV, Parquet, txt); default: the embedded sample corpus",
    )
    parser.add_argument("--vocab_size", type=int, default=2048)
    parser.add_argument("--hidden_size", type=int, default=64)
    parser.add_argument("--num_layers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    return parser


if __name__ == "__main__":
    args = make_parser().parse_args()
    out = make_tiny_model(args.output_dir, args.corpus, args.vocab_size, args.hidden_size, args.num_layers, args.seed)
    print(f"tiny model written to {out}")
