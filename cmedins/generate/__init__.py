"""Answers from a model for a prompt file or an evaluation set, and candidate pairs for annotation.

- items: what to answer: a prompt file (prompt messages or a question per row) or an eval set read with its
  source format (multi-turn: the history is the prompt, the last doctor turn the reference);
- recipe: the eval recipes in pipelines/eval_*.yaml (eval set, generation and judge settings);
- sampling: sampling settings and per-item seeds;
- backends: a local transformers model (LoRA adapters via peft) or any OpenAI-compatible endpoint;
- resume: the append-only output file that a rerun continues;
- run: batching, seeding and writing;
- server: a loopback OpenAI-compatible server for a local model (CPU pipeline, tests);
- pairs: two answers per prompt -> the pairs.jsonl of `prefs export-tasks`, positions randomised and recorded.
"""
