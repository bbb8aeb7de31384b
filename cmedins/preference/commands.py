"""`cmedins prefs ...`: the SPF preference loop from the command line.

sample -> generate (two responses per prompt) -> pairs -> export-tasks -> annotate in Label Studio
-> import -> arbitration (queue for the expert) -> build (recipe -> DPO build folder).
"""

from __future__ import annotations

from pathlib import Path

import typer

prefs = typer.Typer(help="SPF preference pairs: sampling, Label Studio round trip, arbitration, DPO build.",
                    no_args_is_help=True)


@prefs.command("sample")
def sample_command(
    sft_build: Path = typer.Option(..., "--sft-build", help="A de-identified SFT build folder (in-distribution)."),
    ood: Path = typer.Option(..., "--ood", help="Out-of-distribution prompt source (file or zh_safety folder)."),
    ood_format: str = typer.Option("zh_safety", "--ood-format", help="flames | cvalues | safetybench | zh_safety"),
    n_in: int = typer.Option(10_000, "--n-in", help="In-distribution prompts wanted."),
    n_out: int = typer.Option(5_000, "--n-out", help="Out-of-distribution prompts wanted."),
    seed: int = typer.Option(42, help="Sampling seed."),
    out: Path = typer.Option(..., "--out", help="Prompts to annotate (.jsonl)."),
) -> None:
    """Sample prompts for annotation; OOD prompts are de-identified. Prints target and achieved counts."""
    import json

    import cmedins.preference  # noqa: F401  (registers the prompt formats)
    from cmedins.preference.privacy import PreferenceRedactor
    from cmedins.preference.sampling import build_prompts, sample_prompts, source_prompts
    from cmedins.rowio.writers import write_rows

    redactor = PreferenceRedactor({}, label="cmedins prefs sample")  # the privacy gate, safe defaults
    try:
        ood_pool = [row for row, _ in redactor.rows(source_prompts(ood, ood_format))]
    finally:
        redactor.close()
    rows, report = sample_prompts(build_prompts(sft_build), ood_pool, n_in=n_in, n_out=n_out, seed=seed)
    write_rows(out, rows)
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2))


@prefs.command("pairs")
def pairs_command(
    answers: Path = typer.Argument(..., help="Answers of `cmedins generate` (system A, or both samples)."),
    other: Path | None = typer.Argument(None, help="Answers of a second model or checkpoint (else: two samples)."),
    out: Path = typer.Option(..., "--out", help="pairs.jsonl for `prefs export-tasks`."),
    seed: int = typer.Option(42, help="Seed of the A/B positions (recorded per pair)."),
    sample_a: int = typer.Option(0, "--sample-a", help="Sample number taken from the first file."),
    sample_b: int | None = typer.Option(None, "--sample-b", help="Sample number of the other side."),
    distribution: str = typer.Option("in", "--distribution", help="in | out (of the training distribution)."),
) -> None:
    """Two responses per prompt (two models, two checkpoints or two samples) -> pairs, positions randomised."""
    import json

    from cmedins.generate.pairs import make_pairs
    from cmedins.rowio.writers import write_rows

    rows, report = make_pairs(answers, other, seed=seed, sample_first=sample_a, sample_second=sample_b,
                              distribution=distribution)
    write_rows(out, rows)
    typer.echo(json.dumps({"out": str(out), **report}, ensure_ascii=False))


@prefs.command("export-tasks")
def export_tasks(
    pairs: Path = typer.Argument(..., help="Response pairs: prompt, response_a, response_b[, pair_id, distribution, "
                                 "source] per row."),
    out: Path = typer.Option(..., "--out", help="Folder for tasks.json and labeling_config.xml."),
) -> None:
    """Write Label Studio tasks (import JSON) and the SPF labeling config."""
    from cmedins.preference.labelstudio import write_tasks
    from cmedins.preference.pairs import read_pairs
    from cmedins.preference.privacy import PreferenceRedactor

    # Tasks go to annotators outside the work folder; model responses can carry identities: through the gate.
    redactor = PreferenceRedactor({}, label="cmedins prefs export-tasks")
    try:
        tasks, config, count = write_tasks((row for row, _ in redactor.rows(read_pairs(pairs))), out)
    finally:
        redactor.close()
    typer.echo(f"{count} tasks -> {tasks}\nlabeling config -> {config}")


@prefs.command("import")
def import_command(
    export: Path = typer.Argument(..., help="Label Studio JSON or JSON-MIN export of the SPF project."),
    out: Path = typer.Option(..., "--out", help="Plain JSONL judgments (schemas/annotation_judgments.md)."),
) -> None:
    """Convert a Label Studio JSON or JSON-MIN export to plain JSONL judgments, validating every annotation."""
    from cmedins.errors import CmedinsError, RowError
    from cmedins.preference.judgments import parse_annotation
    from cmedins.preference.labelstudio import read_export
    from cmedins.preference.privacy import PreferenceRedactor
    from cmedins.rowio.writers import write_rows

    rows, errors = [], []
    for file, task, raw in read_export(export):
        try:
            rows.append({k: v for k, v in parse_annotation(raw).items() if k != "kind"})
        except RowError as error:
            errors.append(f"{file}, task {task}: {error.describe()}")
    if errors:
        raise CmedinsError(f"{len(errors)} invalid annotation(s); first: {errors[0]}")
    # Label Studio names annotators by e-mail and comments are free text: through the privacy gate.
    redactor = PreferenceRedactor({}, label="cmedins prefs import")
    try:
        rows = [row for row, _ in redactor.rows(rows)]
    finally:
        redactor.close()
    write_rows(out, rows)
    typer.echo(f"{len(rows)} judgments -> {out}")


@prefs.command("arbitration")
def arbitration_command(
    judgments: list[Path] = typer.Argument(..., help="Plain JSONL judgment files."),
    out: Path = typer.Option(..., "--out", help="Arbitration queue (.jsonl) for the expert."),
    decisions: Path | None = typer.Option(None, "--decisions", help="Expert decisions already made."),
    arbitrate_on: str = typer.Option("any", "--arbitrate-on", help="any | deciding"),
) -> None:
    """Agreement per dimension, and the queue of pairs whose disagreements still need the expert."""
    import json

    from cmedins.contracts.schema import DIMENSIONS
    from cmedins.errors import CmedinsError, RowError
    from cmedins.preference.agreement import agreement_report
    from cmedins.preference.crossannotation import ARBITRATE_ON, decide_pair, load_decisions, queue_entry
    from cmedins.preference.judgments import group_by_pair, parse_annotation
    from cmedins.preference.privacy import PreferenceRedactor
    from cmedins.rowio.readers import iter_rows
    from cmedins.rowio.writers import write_rows

    if arbitrate_on not in ARBITRATE_ON:
        raise CmedinsError(f"--arbitrate-on must be one of {', '.join(ARBITRATE_ON)}")
    annotations = []
    for path in judgments:
        for number, row in iter_rows(path):
            try:
                annotations.append(parse_annotation(row))
            except RowError as error:
                raise error.at(str(path), number) from None
    pairs, _, conflicts = group_by_pair(annotations)
    if conflicts:
        raise CmedinsError(f"pair '{conflicts[0]['pair_id']}' has annotations of different prompts/responses")
    known = load_decisions(decisions) if decisions else {}
    try:
        results = [decide_pair(group, decision=known.get(pid), arbitrate_on=arbitrate_on) for pid, group in pairs.items()]
    except RowError as error:
        raise CmedinsError(str(error)) from None
    queue = [queue_entry(pair) for pair in results if pair.status == "awaiting_arbitration"]
    # The queue goes to the expert: its texts, comments and annotators pass the privacy gate first.
    redactor = PreferenceRedactor({}, label="cmedins prefs arbitration")
    try:
        queue = [row for row, _ in redactor.rows(queue)]
    finally:
        redactor.close()
    write_rows(out, queue)
    typer.echo(json.dumps(agreement_report(list(pairs.values()), DIMENSIONS), ensure_ascii=False, indent=2))
    typer.echo(f"{len(queue)} pair(s) need arbitration -> {out}")


@prefs.command("build")
def build_command(
    recipe: Path = typer.Argument(..., help="An SPF recipe (e.g. pipelines/spf.yaml)."),
    out: Path | None = typer.Option(None, "--out", help="Build folder (default: the recipe's output)."),
) -> None:
    """Build the SPF DPO dataset: de-identify, resolve by priority, arbitrate, validate, split, write."""
    from cmedins.preference.build import build_spf

    stats = build_spf(recipe, out)
    pref = stats["preference"]
    typer.echo(f"{pref['pairs']} pairs (in {pref['distribution'].get('in', 0)}, out {pref['distribution'].get('out', 0)}); "
               f"splits {stats['splits']}; dropped {stats['rows']['dropped']}, quarantined {stats['rows']['quarantined']}")


studio = typer.Typer(help="Label Studio through its SDK: the SPF project (overlap, isolation settings) and the "
                     "expert's arbitration project. Key: --api-key or LABEL_STUDIO_API_KEY.", no_args_is_help=True)
prefs.add_typer(studio, name="studio")
URL = typer.Option(..., "--url", help="Label Studio address, e.g. http://127.0.0.1:8080")
API_KEY = typer.Option(None, "--api-key", help="API token (default: LABEL_STUDIO_API_KEY; prefer it, a key on "
                       "the command line lands in shell history).", show_default=False)


@studio.command("push")
def studio_push(
    pairs: Path = typer.Argument(..., help="Response pairs (as for export-tasks)."),
    url: str = URL,
    api_key: str | None = API_KEY,
    title: str = typer.Option("SPF preference pairs", "--title"),
    overlap: int = typer.Option(2, "--overlap", help="Annotators per task (Label Studio maximum_annotations)."),
) -> None:
    """Create the SPF project (labeling config, overlap, isolation settings) and import one task per pair."""
    from cmedins.preference.pairs import read_pairs
    from cmedins.preference.privacy import PreferenceRedactor
    from cmedins.preference.studio import client, push_project

    ls = client(url, api_key)  # an unreachable server fails here, before the gate's engine loads
    # The tasks leave for the annotators' server: through the privacy gate, as `prefs export-tasks`.
    redactor = PreferenceRedactor({}, label="cmedins prefs studio push")
    try:
        project, count = push_project(ls, (row for row, _ in redactor.rows(read_pairs(pairs))), title=title,
                                      overlap=overlap)
    finally:
        redactor.close()
    typer.echo(f"project {project}: {count} tasks, {overlap} annotators per task")


@studio.command("pull")
def studio_pull(
    url: str = URL,
    api_key: str | None = API_KEY,
    project: int = typer.Option(..., "--project", help="Project id."),
    out: Path = typer.Option(..., "--out", help="Where to write the export (.json)."),
    export_type: str = typer.Option("JSON", "--export-type", help="JSON | JSON_MIN"),
    judgments: Path | None = typer.Option(None, "--judgments", help="Also write plain JSONL judgments here."),
) -> None:
    """Download the project's export; optionally convert it to plain judgments (as `prefs import`)."""
    from cmedins.preference.studio import client, pull_export

    path = pull_export(client(url, api_key), project, out, export_type)
    typer.echo(f"export ({export_type}) -> {path}")
    if judgments is not None:
        import_command(path, judgments)


@studio.command("arbitrate")
def studio_arbitrate(
    queue: Path = typer.Argument(..., help="Arbitration queue (.jsonl) from `prefs arbitration` or a build."),
    url: str = URL,
    api_key: str | None = API_KEY,
    title: str = typer.Option("SPF arbitration", "--title"),
) -> None:
    """Create the expert's arbitration project from the queue (pair, annotators' choices, disputed dimensions)."""
    from cmedins.preference.studio import client, push_arbitration
    from cmedins.rowio.readers import iter_rows

    project, count = push_arbitration(client(url, api_key), [row for _, row in iter_rows(queue)], title=title)
    typer.echo(f"arbitration project {project}: {count} disputed pairs")


@studio.command("decisions")
def studio_decisions(
    url: str = URL,
    api_key: str | None = API_KEY,
    project: int = typer.Option(..., "--project", help="The arbitration project's id."),
    out: Path = typer.Option(..., "--out", help="Decisions (.jsonl) for `--decisions` / spf_resolve."),
) -> None:
    """Pull the arbitration project's export and write the expert's decisions."""
    import tempfile

    from cmedins.preference.studio import client, decisions_from_export, pull_export, write_jsonl

    with tempfile.TemporaryDirectory() as tmp:
        export = pull_export(client(url, api_key), project, Path(tmp) / "arbitration.json")
        count = write_jsonl(out, decisions_from_export(export))
    typer.echo(f"{count} decisions -> {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(prefs, name="prefs")
