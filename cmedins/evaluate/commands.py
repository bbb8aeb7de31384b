"""`cmedins eval`: SPF pairwise evaluation of two systems' answers, by an LLM judge and (optionally) humans."""

from __future__ import annotations

from pathlib import Path

import typer


def eval_command(
    recipe: Path = typer.Argument(..., help="Eval recipe (pipelines/eval_*.yaml)."),
    x: Path = typer.Option(..., "--x", help="Answers of system X (`cmedins generate` output); win = X better."),
    y: Path = typer.Option(..., "--y", help="Answers of system Y (the baseline)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for judgments.jsonl, report.json/.md, plot.png."),
    judge_endpoint: str | None = typer.Option(None, "--judge-endpoint", help="OpenAI-compatible base URL of the judge."),
    judge_model: str | None = typer.Option(None, "--judge-model", help="Judge model name at that endpoint."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help="Variable holding the judge's key."),
    train_build: list[Path] = typer.Option([], "--train-build", help="Training build(s) the systems were trained on: "
                                           "refused unless decontaminated against this eval set."),
    no_train_check: bool = typer.Option(False, "--no-train-check", help="Skip that check (the report says so)."),
    eval_path: Path | None = typer.Option(None, "--eval-path", help="Your copy of the recipe's eval set."),
    order_rule: str | None = typer.Option(None, "--order-rule", help="tie (disagreeing orders = tie) | both"),
    human: Path | None = typer.Option(None, "--human", help="Label Studio JSON export of the human judgments."),
    human_pairs: Path | None = typer.Option(None, "--human-pairs", help="The pairs.jsonl those tasks came from."),
    human_tasks: Path | None = typer.Option(None, "--human-tasks", help="Write pairs.jsonl + Label Studio tasks here."),
    batch_size: int = typer.Option(8, "--batch-size", help="Concurrent judge requests."),
    retries: int = typer.Option(5, "--retries", help="Judge retries with exponential backoff."),
    timeout: float = typer.Option(600.0, "--timeout", help="Judge request timeout in seconds."),
    seed: int | None = typer.Option(None, help="Judge and bootstrap seed (default: the recipe's)."),
    bootstrap: int | None = typer.Option(None, "--bootstrap", help="Bootstrap resamples (default: the recipe's)."),
) -> None:
    """Judge X against Y on Safety, Professionalism and Fluency in both orders; write the report and its plot."""
    import json

    from cmedins.errors import CmedinsError
    from cmedins.evaluate.guard import check_training_build
    from cmedins.generate.pairs import answer_pairs, make_pairs
    from cmedins.generate.recipe import load_eval_recipe

    spec = load_eval_recipe(recipe)
    path = spec.eval_path(eval_path)
    if not path.exists():
        raise CmedinsError(f"eval set '{spec.eval_set.name}': {path} not found (give --eval-path)")
    if not train_build and not no_train_check:
        raise CmedinsError("give --train-build (the training build(s) behind the systems) or --no-train-check")
    training = [check_training_build(build, eval_name=spec.eval_set.name, eval_path=path,
                                     eval_format=spec.eval_set.format) for build in train_build] or "unchecked"
    pairs, left_out = answer_pairs(x, y)
    foreign = [qid for qid, _, _ in pairs if not qid.startswith(f"{spec.eval_set.name}:")]
    if foreign:
        raise CmedinsError(f"{x}: item '{foreign[0]}' is not from eval set '{spec.eval_set.name}'")
    if not pairs:
        raise CmedinsError(f"{x}, {y}: no item has an answer in both files")
    name_x, name_y = pairs[0][1].get("system") or x.stem, pairs[0][2].get("system") or y.stem
    if human_tasks is not None:
        from cmedins.preference.labelstudio import write_tasks
        from cmedins.rowio.writers import write_rows

        rows, pair_report = make_pairs(x, y, seed=spec.judge.seed if seed is None else seed)
        write_rows(human_tasks / "pairs.jsonl", rows)
        tasks, config, count = write_tasks(rows, human_tasks)
        typer.echo(f"{count} human tasks -> {tasks} (labeling config {config}); {json.dumps(pair_report)}")
        if judge_endpoint is None:
            return
    if judge_endpoint is None or judge_model is None:
        raise CmedinsError("give --judge-endpoint and --judge-model (the LLM judge)")
    report, _ = _judge_and_report(spec, pairs, dict(left_out), name_x, name_y, out, judge_endpoint, judge_model,
                                  api_key_env, training, order_rule, human, human_pairs, batch_size, retries,
                                  timeout, seed, bootstrap)
    overall, replies = report["results"]["overall"], report["judge_replies"]
    typer.echo(f"{name_x} vs {name_y}: overall win {overall['win']}, tie {overall['tie']}, loss {overall['loss']} "
               f"(judged {overall['judged']}, unjudged {overall['unjudged']}); judge replies readable "
               f"{replies['complete']}/{replies['expected']} -> {out / 'report.md'}")
    for warning in report["warnings"]:
        typer.secho(f"warning: {warning}", fg="yellow", err=True)


def _judge_and_report(spec, pairs, left_out, name_x, name_y, out, endpoint, model, api_key_env, training, order_rule,
                      human, human_pairs, batch_size, retries, timeout, seed, bootstrap):
    from cmedins.errors import CmedinsError
    from cmedins.evaluate.judge import run_judge
    from cmedins.evaluate.judge_prompt import load_prompt
    from cmedins.evaluate.outcomes import ORDER_RULES
    from cmedins.evaluate.report import build_report, parse_store, write_report
    from cmedins.generate.backends import OpenAIBackend
    from cmedins.generate.sampling import Sampling

    rule = order_rule or spec.judge.order_rule
    if rule not in ORDER_RULES:
        raise CmedinsError(f"--order-rule must be one of {', '.join(ORDER_RULES)}")
    seed = spec.judge.seed if seed is None else seed
    prompt = load_prompt(spec.judge.prompt)
    backend = OpenAIBackend(endpoint, model, api_key_env=api_key_env, max_retries=retries, timeout=timeout,
                            concurrency=batch_size)
    sampling = Sampling(temperature=spec.judge.temperature, top_p=1.0, max_new_tokens=spec.judge.max_tokens, seed=seed)
    store, asked = run_judge(pairs, backend, prompt, sampling, out / "judgments.jsonl", batch_size=batch_size,
                             meta={"judge_model": model, "x": name_x, "y": name_y, "eval_set": spec.eval_set.name})
    reference = _reference(pairs, name_x, name_y)
    human_section = None
    if human is not None:
        from cmedins.evaluate.human import human_judgments, human_report
        from cmedins.evaluate.outcomes import combine_all

        if human_pairs is None:
            raise CmedinsError("--human needs --human-pairs (the pairs.jsonl the tasks were made from)")
        triples, _ = parse_store(list(store.rows.values()), {qid for qid, _, _ in pairs})
        human_section = human_report(human_judgments(human, human_pairs, name_x), combine_all(triples, rule="tie"))
    report, _ = build_report(
        rows=list(store.rows.values()), pairs=pairs, left_out=left_out, x=name_x, y=name_y,
        eval_set=spec.eval_set.model_dump(), judge={"model": model, "endpoint": endpoint, "prompt": prompt.name,
                                                    "prompt_sha256": prompt.sha256, **asked,
                                                    "temperature": sampling.temperature},
        order_rule=rule, resamples=spec.judge.bootstrap if bootstrap is None else bootstrap,
        confidence=spec.judge.confidence, seed=seed, training=training, reference=reference, human=human_section,
        answers=_answer_lengths(pairs, name_x, name_y))
    write_report(report, out)
    return report, store


def _answer_lengths(pairs, name_x: str, name_y: str) -> dict:
    """Answer length per system (the paper's ablation watches it change with DPO) and the share cut off by
    the token limit (finish_reason "length"), which a judge may punish."""
    import statistics

    result = {}
    for name, index in ((name_x, 1), (name_y, 2)):
        answers = [pair[index] for pair in pairs]
        lengths = [len(a["response"]) for a in answers]
        result[name] = {"mean_chars": round(statistics.fmean(lengths), 1), "median_chars": statistics.median(lengths),
                        "cut_by_token_limit": round(sum(a.get("finish_reason") == "length" for a in answers)
                                                    / len(answers), 4)}
    return result


def _reference(pairs, name_x: str, name_y: str) -> dict | None:
    from cmedins.evaluate.reference import rouge_l

    with_reference = [(x, y) for _, x, y in pairs if x.get("reference")]
    if not with_reference:
        return None
    return {name_x: rouge_l([(x["response"], x["reference"]) for x, _ in with_reference]),
            name_y: rouge_l([(y["response"], x["reference"]) for x, y in with_reference])}


def eval_plot_command(
    reports: list[Path] = typer.Argument(..., help="report.json files of `cmedins eval` (one bar each)."),
    out: Path = typer.Option(..., "--out", "-o", help="PNG file."),
) -> None:
    """Several comparisons in one figure (the paper's Figures 4 and 5): a panel per aspect, a bar per report."""
    import json

    from cmedins.errors import CmedinsError
    from cmedins.evaluate.plot import plot_comparisons

    loaded = []
    for path in reports:
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
            shaped = isinstance(report["results"], dict) and bool(report["comparison"]["eval_set"]["name"])
        except (OSError, ValueError, KeyError, TypeError):
            shaped = False
        if not shaped:
            raise CmedinsError(f"{path}: not a report.json of `cmedins eval`")
        loaded.append(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    typer.echo(str(plot_comparisons(loaded, out)))


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
    app.command("eval-plot")(eval_plot_command)
