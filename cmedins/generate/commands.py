"""`cmedins generate` (answers from a local model or an endpoint) and `cmedins serve` (loopback server)."""

from __future__ import annotations

from pathlib import Path

import typer


def generate_command(
    source: Path = typer.Argument(..., help="An eval recipe (pipelines/eval_*.yaml) or a prompt file "
                                  "(prompt messages or question per row; optional id, reference)."),
    out: Path = typer.Option(..., "--out", "-o", help="Answers (.jsonl); an existing file is continued."),
    model: str | None = typer.Option(None, "--model", help="Local model folder or Hub id (transformers)."),
    adapter: Path | None = typer.Option(None, "--adapter", help="LoRA adapter folder (train/ output) on --model."),
    endpoint: str | None = typer.Option(None, "--endpoint", help="OpenAI-compatible base URL, e.g. "
                                        "http://127.0.0.1:8000/v1 (vLLM); --model then names the served model."),
    system: str | None = typer.Option(None, "--system", help="Name of this system in reports (default: model)."),
    eval_path: Path | None = typer.Option(None, "--eval-path", help="Your copy of the recipe's eval set."),
    limit: int | None = typer.Option(None, "--limit", help="First N items only."),
    samples: int = typer.Option(1, "--samples", help="Answers per item (2 for candidate pairs)."),
    temperature: float | None = typer.Option(None, help="Sampling temperature (0 = greedy)."),
    top_p: float | None = typer.Option(None, "--top-p"),
    max_new_tokens: int | None = typer.Option(None, "--max-new-tokens"),
    seed: int | None = typer.Option(None, help="Run seed (each item and sample derives its own)."),
    batch_size: int = typer.Option(8, "--batch-size", help="Prompts per batch (local) / concurrent requests."),
    retries: int = typer.Option(5, "--retries", help="Endpoint retries with exponential backoff."),
    timeout: float = typer.Option(600.0, "--timeout", help="Endpoint request timeout in seconds."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help="Variable holding the endpoint key."),
    device: str = typer.Option("cpu", "--device", help="Local model device: cpu, cuda, cuda:1 ..."),
    dtype: str = typer.Option("auto", "--dtype", help="Local model dtype: auto, bfloat16, float32 ..."),
) -> None:
    """Answer every item of an eval set or prompt file; a rerun continues where the last one stopped."""
    import json

    from cmedins.errors import CmedinsError
    from cmedins.generate.items import eval_set_items, prompt_file_items
    from cmedins.generate.recipe import GenerationSpec, load_eval_recipe
    from cmedins.generate.run import generate_answers
    from cmedins.generate.sampling import Sampling
    from cmedins.rowio.readers import file_sha256

    if not model:
        raise CmedinsError("--model is required (a local model, or the model name served at --endpoint)")
    if adapter is not None and endpoint is not None:
        raise CmedinsError("--adapter applies to a local --model; serve adapters with the endpoint instead")
    if source.suffix in (".yaml", ".yml"):
        recipe = load_eval_recipe(source)
        path = recipe.eval_path(eval_path)
        spec = recipe.generation
        found = eval_set_items(recipe.eval_set.name, path, recipe.eval_set.format, limit or recipe.limit)
        origin = {"eval_set": recipe.eval_set.name, "format": recipe.eval_set.format}
    else:
        spec, path = GenerationSpec(), source
        found = prompt_file_items(source, limit)
        origin = {"prompt_file": source.name}
    sampling = Sampling(temperature=spec.temperature if temperature is None else temperature,
                        top_p=spec.top_p if top_p is None else top_p,
                        max_new_tokens=spec.max_new_tokens if max_new_tokens is None else max_new_tokens,
                        seed=spec.seed if seed is None else seed)
    if endpoint is not None:
        from cmedins.generate.backends import OpenAIBackend

        backend = OpenAIBackend(endpoint, model, api_key_env=api_key_env, max_retries=retries, timeout=timeout,
                                concurrency=batch_size)
        origin_model = {"endpoint": endpoint, "model": model}
    else:
        from cmedins.generate.backends import TransformersBackend

        backend = TransformersBackend(model, adapter, device=device, dtype=dtype)
        origin_model = {"model": str(model), "adapter": str(adapter) if adapter else None}
    meta = {**origin, **origin_model, "input_sha256": file_sha256(path) if Path(path).is_file() else None}
    summary = generate_answers(found.items, backend, sampling, out, system=system or backend.name, samples=samples,
                               batch_size=batch_size, meta=meta)
    typer.echo(json.dumps({"out": str(out), **summary, "source": found.report()}, ensure_ascii=False, indent=1))


def serve_command(
    model: Path = typer.Argument(..., help="Local model folder (transformers)."),
    adapter: Path | None = typer.Option(None, "--adapter", help="LoRA adapter folder on the model."),
    name: str | None = typer.Option(None, "--name", help="Model name clients ask for (default: folder name)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Loopback address to bind."),
    port: int = typer.Option(0, "--port", help="Port; 0 = a free one (see --port-file)."),
    port_file: Path | None = typer.Option(None, "--port-file", help="Written with the bound port once listening."),
    device: str = typer.Option("cpu", "--device"),
) -> None:
    """Serve a local model as an OpenAI-compatible endpoint on loopback (CPU pipeline, tests). Stop it by PID."""
    from cmedins.generate.backends import TransformersBackend
    from cmedins.generate.server import check_loopback, serve

    check_loopback(host)
    backend = TransformersBackend(model, adapter, device=device)
    serve(backend, name or backend.name, host, port, port_file)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
    app.command("serve")(serve_command)
