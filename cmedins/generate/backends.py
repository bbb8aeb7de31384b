"""Where answers come from: a local transformers model (a LoRA adapter from train/ on top, via peft) or any
OpenAI-compatible chat endpoint (vLLM, SGLang, `cmedins serve`, a hosted judge).

Both take a batch of prompts (message lists) with one seed each and return (text, finish_reason) per prompt.
The endpoint client is the `openai` package: it speaks every such server, and its built-in retries back off
exponentially on connection errors, 408/409/429 and 5xx (`max_retries`), so there is no second retry loop here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cmedins.errors import CmedinsError
from cmedins.generate.sampling import Sampling

Answer = tuple[str, str]  # (text, finish_reason: "stop" | "length")


class RequestFailed(CmedinsError):
    """An endpoint request failed after its retries (kept apart so a judge run can record it and go on)."""


class TransformersBackend:
    """A local causal LM. Batches are left-padded; one torch seed per batch (its first unit's seed), so a batch
    of the same units gives the same answers (the runner keeps batch boundaries fixed for that reason)."""

    def __init__(self, model: str | Path, adapter: str | Path | None = None, device: str = "cpu",
                 dtype: str = "auto"):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise CmedinsError("a local model needs the train extra: pip install 'cmedins[train]'") from None
        tokenizer_from = adapter if adapter and (Path(adapter) / "tokenizer_config.json").exists() else model
        self.tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_from))
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
        self.model = AutoModelForCausalLM.from_pretrained(str(model), dtype=torch_dtype).to(device)
        if adapter:
            from peft import PeftModel

            self.model = PeftModel.from_pretrained(self.model, str(adapter))
        self.model.eval()
        self.device = device
        self.name = Path(str(adapter or model)).name

    def generate(self, prompts: Sequence[list[dict]], sampling: Sampling, seeds: Sequence[int]) -> list[Answer]:
        import torch

        if not self.tokenizer.chat_template:
            raise CmedinsError(f"{self.name}: the tokenizer has no chat template (use an instruct/chat model or "
                               "one trained with train/)")
        texts = [self.tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in prompts]
        batch = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        torch.manual_seed(seeds[0])
        options = {"do_sample": False} if sampling.greedy else {
            "do_sample": True, "temperature": sampling.temperature, "top_p": sampling.top_p}
        with torch.no_grad():
            output = self.model.generate(**batch, max_new_tokens=sampling.max_new_tokens,
                                         pad_token_id=self.tokenizer.pad_token_id, **options)
        new_tokens = output[:, batch["input_ids"].shape[1]:]
        eos = self.tokenizer.eos_token_id
        answers = []
        for row in new_tokens.tolist():
            stopped = eos in row
            row = row[: row.index(eos)] if stopped else row
            text = self.tokenizer.decode(row, skip_special_tokens=True).strip()
            answers.append((text, "stop" if stopped else "length"))
        return answers


class OpenAIBackend:
    """Chat completions from an OpenAI-compatible server; a batch is sent as concurrent requests."""

    def __init__(self, endpoint: str, model: str, *, api_key_env: str = "OPENAI_API_KEY", max_retries: int = 5,
                 timeout: float = 600.0, concurrency: int = 8):
        try:
            from openai import OpenAI
        except ImportError:
            raise CmedinsError("an endpoint needs the eval extra: pip install 'cmedins[eval]'") from None

        # Local servers (vLLM, cmedins serve) accept any key; a hosted judge reads it from the environment,
        # never from the command line (shell history).
        self.client = OpenAI(base_url=endpoint, api_key=os.environ.get(api_key_env) or "EMPTY",
                             max_retries=max_retries, timeout=timeout)
        self.endpoint, self.model, self.concurrency = endpoint, model, concurrency
        self.name = model

    def _one(self, messages: list[dict], sampling: Sampling, seed: int) -> Answer:
        import openai

        try:
            response = self.client.chat.completions.create(
                model=self.model, messages=messages, temperature=sampling.temperature, top_p=sampling.top_p,
                max_tokens=sampling.max_new_tokens, seed=seed)
        except openai.APIError as error:
            status = getattr(error, "status_code", None)
            raise RequestFailed(f"{self.endpoint}: request failed after retries "
                                f"({type(error).__name__}{f' {status}' if status else ''})") from None
        if not response.choices:
            raise RequestFailed(f"{self.endpoint}: the reply has no choices")
        choice = response.choices[0]
        return choice.message.content or "", choice.finish_reason or "stop"

    def generate(self, prompts: Sequence[list[dict]], sampling: Sampling, seeds: Sequence[int]) -> list[Answer]:
        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(prompts)))) as pool:
            return list(pool.map(lambda args: self._one(args[0], sampling, args[1]), zip(prompts, seeds, strict=True)))

    def generate_each(self, prompts: Sequence[list[dict]], sampling: Sampling, seeds: Sequence[int]
                      ) -> list[Answer | RequestFailed]:
        """Like generate, but a failed request is returned in its place instead of stopping the batch."""
        def attempt(args):
            try:
                return self._one(args[0], sampling, args[1])
            except RequestFailed as error:
                return error
        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(prompts)))) as pool:
            return list(pool.map(attempt, zip(prompts, seeds, strict=True)))
