"""The dataset card: README.md of a build, rendered from cards/<name>.md with figures from the build.

`write_card(build_dir)` is what `cmedins build` and `cmedins card` call. Every figure comes from
stats.json, manifest.json or the Parquet shards; a section without data says so in plain words.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard

from cmedins.contracts.schema import NO_DEPARTMENT, RECORD_TASKS
from cmedins.deid.measured import load_measured
from cmedins.errors import CmedinsError
from cmedins.publish.build import Build, load_build
from cmedins.publish.metadata import build_card_data, check_card_data, hub_license
from cmedins.publish.plots import Plot, write_plots
from cmedins.runner import resources

TEMPLATES = resources.folder("cards")
TEMPLATE_FOR_KIND = {"sft": "cmedins.md", "dpo": "spf.md"}
EXAMPLE_CHARS = 160  # per text field in the example rows

TASK_DESCRIPTIONS = {
    "diagnosis": "Diagnosis: from the history, examination and test results, state the most likely diagnosis.",
    "treatment": "Treatment: propose the treatment plan the record documents.",
    "examination": "Examination: from the complaint and history, name the examinations to order.",
    "summary": "Summary: summarise the case's history and key findings (病史特点).",
    "triage": "Triage: from the chief complaint, name the department the patient should attend.",
    "discharge_advice": "Discharge advice: write the discharge instructions (出院医嘱) for the course of stay.",
    "dialogue_single": "Single-turn doctor–patient consultation.",
    "dialogue_multi": "Multi-turn doctor–patient consultation.",
    "general": "General (non-medical) instruction, mixed in against catastrophic forgetting.",
}

CITATION = """@article{zhang2025iimedgpt,
  title   = {IIMedGPT: Promoting Large Language Model Capabilities of Medical Tasks by Efficient Human
             Preference Alignment},
  author  = {Zhang, Yiming and Chang, Zheng and Cai, Wentao and Ren, Mengxing and Yuan, Kang and
             Sun, Yining and Ding, Zenghui},
  journal = {arXiv preprint arXiv:2501.02869},
  year    = {2025},
  url     = {https://arxiv.org/abs/2501.02869}
}"""


def table(header: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table; pipes in cells are escaped so Chinese text with '|' cannot break it."""
    def cell(value: Any) -> str:
        text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def flatten(figures: Any, prefix: str = "") -> list[list[Any]]:
    """Nested stage figures as (key path, value) rows, for stages whose keys this module does not know."""
    if isinstance(figures, dict):
        rows: list[list[Any]] = []
        for key in sorted(figures, key=str):
            rows += flatten(figures[key], f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(figures, float):
        return [[prefix, f"{figures:.4g}"]]
    if isinstance(figures, list):
        return [[prefix, ", ".join(str(item) for item in figures) or "(none)"]]
    return [[prefix, figures]]


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n:,}" for reason, n in sorted(counts.items())) or "–"


def _truncate(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= EXAMPLE_CHARS else value[:EXAMPLE_CHARS] + f"…(+{len(value) - EXAMPLE_CHARS} chars)"
    if isinstance(value, list):
        return [_truncate(item) for item in value]
    if isinstance(value, dict):
        return {key: _truncate(item) for key, item in value.items()}
    return value


def examples(build: Build, rows: list[dict]) -> str:
    """One truncated row per task (SFT) or per deciding dimension (DPO), first in file order."""
    key = "deciding_dimension" if build.kind == "dpo" else "task"
    seen: dict[str, dict] = {}
    for row in rows:
        seen.setdefault(str(row.get(key)), {k: v for k, v in row.items() if v is not None})
    order = list(TASK_DESCRIPTIONS)
    ranked = sorted(seen.items(), key=lambda item: (order.index(item[0]) if item[0] in order else len(order), item[0]))
    blocks = [f"**{key} = `{name}`** (null fields omitted)\n\n```json\n"
              f"{json.dumps(_truncate(row), ensure_ascii=False, indent=1)}\n```" for name, row in ranked]
    return "\n\n".join(blocks)


def splits_table(build: Build) -> str:
    total = build.total_rows or 1  # a build that kept no rows still gets its (empty) splits listed
    return table(["split", "rows", "share", "files"],
                 [[split, build.row_count(split), f"{build.row_count(split) / total:.1%}",
                   ", ".join(f"`data/{p.name}`" for p in build.shards[split])] for split in build.splits])


def sources_section(build: Build, rows: list[dict]) -> str:
    sources = build.stats.get("sources") or {}
    if not sources:
        return "stats.json lists no sources for this build."
    published = build.value_counts("source")
    described = {spec.get("name"): spec.get("description", "") for spec in
                 (build.manifest.get("recipe") or {}).get("sources") or [] if isinstance(spec, dict)}
    body = table(["source", "format", "rows read", "quarantined", "rows published", "licence (as stated)",
                  "Hub licence id", "description"],
                 [[name, info.get("format", "–"), info.get("rows_read", 0), info.get("quarantined", 0),
                   published.get(name, 0), info.get("license") or "unstated",
                   hub_license(info.get("license")) or "none", described.get(name) or "–"]
                  for name, info in sorted(sources.items())])
    unmapped = sorted(name for name, info in sources.items() if hub_license(info.get("license")) is None)
    note = ("" if not unmapped else
            f"\n\nSources whose licence is not a standard open licence: {', '.join(unmapped)}. Rows from them "
            "carry their source's terms; check them before any use beyond research.")
    return body + note


def processing_section(build: Build) -> str:
    stages = build.stats.get("stages") or {}
    totals = build.stats.get("rows") or {}
    lines = []
    if totals:
        lines.append(f"Rows in: {totals.get('input', 0):,}; kept: {totals.get('kept', 0):,}; dropped: "
                     f"{totals.get('dropped', 0):,}; quarantined: {totals.get('quarantined', 0):,}.")
    if stages:
        lines.append(table(["stage", "in", "created", "out", "dropped (reason n)", "quarantined (reason n)"],
                           [[name, s.get("in", 0), s.get("created", 0), s.get("out", 0),
                             _reasons(s.get("dropped") or {}), _reasons(s.get("quarantined") or {})]
                            for name, s in _pipeline_order(build, stages)]))
    else:
        lines.append("stats.json has no per-stage counts for this build.")
    for stage in ("dedup", "decontaminate", "mix"):
        if build.stats.get(stage):
            lines.append(f"**{stage}** figures:\n\n" + table(["figure", "value"], flatten(build.stats[stage])))
    return "\n\n".join(lines)


def _pipeline_order(build: Build, stages: dict[str, Any]) -> list[tuple[str, Any]]:
    """stats.json keys are sorted; the recipe's stage list gives the run order (reading comes first)."""
    recipe_order = [name for stage in (build.manifest.get("recipe") or {}).get("stages") or []
                    if isinstance(stage, dict) for name in stage]
    ordered = ["read", *recipe_order]  # the runner reads first and mixes/splits after the recipe's stages
    rest = sorted(name for name in stages if name not in ordered)
    return [(name, stages[name]) for name in [n for n in ordered if n in stages] + rest]


def privacy_section(build: Build) -> str:
    deid = build.deid  # the privacy gate's facts, typed (cmedins.contracts.reports.DeidFacts)
    if deid is None and build.sources_already_deidentified:
        return ("**The toolkit did not de-identify this build.** Its recipe declares "
                "`sources_already_deidentified: true`: the sources were said to be de-identified before cmedins "
                "read them, and cmedins neither de-identified nor checked them. It may contain personal data; "
                "`cmedins push` refuses it (rebuild with the `deid` stage to publish).")
    if deid is None:
        return ("**De-identification did not run for this build.** It may contain personal data and must not "
                "be published; `cmedins push` refuses it.")
    parts = []
    if deid.allow_unsafe or deid.narrowed_strict:
        missing = ", ".join(deid.narrowed_strict) or "none"
        parts.append(f"**UNSAFE BUILD: the recipe set `allow_unsafe: true`.** Identifier types that must never be "
                     f"published were not detected ({missing}). This build may contain ID numbers, phone numbers, "
                     "e-mails, record numbers, messaging accounts or IP addresses; `cmedins push` refuses it.")
    stage = deid.path
    parts.append(f"De-identification ran (the `{stage}` stage, cmedins' privacy gate: presidio with Chinese "
                 "recognizers) before any row left the private work folder. Raw rows stay in that folder; the audit "
                 "of replaced spans (offsets and entity types, never the values) stays beside the build. Neither "
                 "is published. The figures below were counted while it ran.")
    if deid.entities:
        parts.append("Entity types detected: " + ", ".join(f"`{e}`" for e in deid.entities) + ".")
    counts = deid.counts
    if counts:
        total = sum(counts.values())
        parts.append(f"Entities replaced, by type ({total:,} in all):\n\n" + table(
            ["entity type", "count"], [[name, n] for name, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]))
    else:
        parts.append("The de-identification reported no entity counts: no identifier was found in the input.")
    residual = deid.residual
    if residual:
        hits = residual.hits
        parts.append(f"Residual scan (independent patterns for the strict identifier types, run on every "
                     f"de-identified text): {residual.scanned_texts:,} texts scanned, "
                     f"{sum(hits.values()):,} hits" + (f" ({_reasons(hits)}; those rows were quarantined)" if hits
                                                        else "") + ". `cmedins push` re-runs it on every published file.")
    if deid.config:
        parts.append("Configuration:\n\n" + table(["setting", "value"], flatten(deid.config)))
    others = {k: v for k, v in (build.stats.get("deid") or {}).items()
              if k not in ("entities", "counts", "config", "residual")}
    if others:
        parts.append("Other de-identification figures:\n\n" + table(["figure", "value"], flatten(others)))
    parts.append(measured_section(load_measured()))
    return "\n\n".join(parts)


def _listed(value: Any) -> str:
    return ", ".join(f"`{item}`" for item in value) if isinstance(value, list) else str(value)


def _rate(value: Any) -> str:
    return f"{value:.2%}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "–"


def measured_section(measured: dict[str, Any] | None) -> str:
    """What the de-identifier was measured to do on real text (cmedins/deid/measured.json), or that it was not."""
    if not measured:
        return ("**Measured recall:** this cmedins installation carries no de-identification benchmark "
                "(cmedins/deid/measured.json is absent), so no leak rate can be stated for it.")
    lines = [f"**Measured on real text** ({measured.get('measured_on', 'date not recorded')}, "
             f"{measured.get('planted', 'an unstated number of')} identifiers planted into public Chinese medical "
             f"text; command: `{measured.get('benchmark', 'not recorded')}`; data: "
             f"{_listed(measured.get('data', 'not recorded'))}). These figures describe the de-identifier on that "
             "benchmark, not a guarantee for this build."]
    leak, held_out = measured.get("leak_rate") or {}, measured.get("leak_rate_held_out") or {}
    if leak:
        header = ["entity type", "leak rate (planted identifiers that survived)"]
        if held_out:
            header.append(f"leak rate on held-out spellings ({measured.get('planted_held_out', '?')} planted)")
        lines.append(table(header, [[name, _rate(leak[name]), *([_rate(held_out.get(name))] if held_out else [])]
                                    for name in sorted(leak)]))
    unseen = measured.get("unseen") if isinstance(measured.get("unseen"), dict) else {}
    if unseen.get("leak_rate"):
        lines.append(f"**On frames never tuned on** (the first measurement of the newest blind set, "
                     f"{unseen.get('measured_on', 'date not recorded')}, code {unseen.get('code', '?')}, "
                     f"{unseen.get('planted', '?')} planted; {unseen.get('set', 'set not recorded')}): "
                     + ", ".join(f"{name} {_rate(rate)}" for name, rate in sorted(unseen["leak_rate"].items()))
                     + ". Names are found by their context (a role word, a title, a kinship word, a header's sex "
                       "and age): a name written in a context the rules do not know survives, so review a sample "
                       "of a build of real records before publishing it.")
    spellings = measured.get("leak_rate_by_spelling")
    if isinstance(spellings, dict) and spellings:
        leaking = {name: rate for name, rate in spellings.items() if isinstance(rate, (int, float)) and rate > 0}
        lines.append(f"Spellings measured: {len(spellings)}; {len(spellings) - len(leaking)} leaked nothing"
                     + ("." if not leaking else "; these leaked:\n\n" + table(
                         ["spelling", "leak rate"], [[name, _rate(rate)] for name, rate in sorted(leaking.items())])))
    later = [(label, measured.get(f"planted_{key}"), measured.get(f"leak_rate_{key}") or {}) for key, label in (
        ("blind", "written after the first fixes"), ("attack", "written from a new user's attack, before its fixes"),
        ("blind2", "a second blind set, written after the attack fixes"))]
    later = [entry for entry in later if entry[2]]
    if later:
        rows = [[label, planted or "?", ", ".join(f"{name} {_rate(rate)}" for name, rate in sorted(rates.items()))]
                for label, planted, rates in later]
        lines.append("Later sets of spellings and frames, measured the same way (their classes were fixed after "
                     "their first measurement, so these are not blind figures):\n\n"
                     + table(["set", "planted", "leak rate by type"], rows))
    figures = [[key, measured[key]] for key in ("clinical_words_kept", "mb_per_s_per_core", "regex_floor_mb_per_s",
                                                "residual_scan_recall", "residual_scan_recall_blind",
                                                "residual_scan_recall_attack", "residual_false_positives")
               if key in measured]
    if figures:
        lines.append(table(["figure", "value"], [[k, f"{v:.4g}" if isinstance(v, float) else v] for k, v in figures]))
    return "\n\n".join(lines)


def tasks_table(build: Build) -> str:
    tasks = build.stats.get("tasks") or {}
    total = sum(tasks.values()) or 1
    none = ("" if any(tasks.get(name) for name in RECORD_TASKS) else
            "This build has no record-derived rows (its recipe reads no medical records), so the six record "
            "tasks are empty.\n\n")
    return none + table(["task", "rows", "share", "what the model is asked to do"],
                 [[f"`{name}`", tasks.get(name, 0), f"{tasks.get(name, 0) / total:.1%}", TASK_DESCRIPTIONS[name]]
                  for name in TASK_DESCRIPTIONS if name in tasks or name in RECORD_TASKS])


def labelled_departments(build: Build) -> dict[str, int]:
    return {name: n for name, n in (build.stats.get("departments") or {}).items() if name != NO_DEPARTMENT}


def departments_table(build: Build) -> str:
    departments = labelled_departments(build)
    if not departments:
        return "No row in this build carries a department label."
    total = sum(departments.values())
    ranked = sorted(departments.items(), key=lambda item: (-item[1], item[0]))
    unlabelled = (build.stats.get("departments") or {}).get(NO_DEPARTMENT, 0)
    return (f"{len(ranked)} departments, {total:,} rows with a department label"
            + (f" ({unlabelled:,} dialogue or general rows carry none)" if unlabelled else "") + ".\n\n"
            + table(["department", "rows", "share"], [[name, n, f"{n / total:.1%}"] for name, n in ranked]))


def risks(build: Build, rows: list[dict]) -> list[str]:
    """Limitations stated from this build's own figures."""
    notes = []
    departments = labelled_departments(build)
    if departments:
        total = sum(departments.values())
        (big, most), (small, least) = (max(departments.items(), key=lambda i: (i[1], i[0])),
                                       min(departments.items(), key=lambda i: (i[1], i[0])))
        spread = (f"coverage is uneven: {big} holds {most / total:.1%} of labelled rows, {small} "
                  f"{least / total:.1%}" if most >= 2 * least else
                  (f"each holds {most / total:.1%} of labelled rows" if most == least else
                   f"rows are spread evenly (each between {least / total:.1%} and {most / total:.1%})"))
        notes.append(f"{len(departments)} departments appear and {spread}; a model trained on this data will be "
                     "weaker in departments that are rare or absent here.")
    sources = build.value_counts("source")
    if sources:
        name, n = sources.most_common(1)[0]
        notes.append(f"The largest source ({name}) supplies {n / sum(sources.values()):.1%} of published rows, "
                     "so its style and population dominate.")
    if build.kind == "sft":
        notes.append("Instructions for the six record tasks come from a template bank, so instruction wording is "
                     "less varied than real user requests; answers are the record's own text, written for "
                     "clinicians, not patients.")
    else:
        notes.append("Preferences reflect the judgments of a small group of medical annotators under the SPF "
                     "priority (safety > professionalism > fluency); other priorities would rank pairs differently.")
    if build.deid is None:
        notes.append("cmedins did not de-identify this build: any identifier its sources held is in it. Report any "
                     "identifier you find to the maintainers; do not attempt re-identification.")
    else:
        notes.append("De-identification is automatic and not perfect (see the measured figures under Personal and "
                     "Sensitive Information): identifiers in unusual contexts or formats may survive. Report any "
                     "identifier you find to the maintainers; do not attempt re-identification.")
    notes.append("Medical knowledge changes and records contain errors; answers are not verified against current "
                 "guidelines.")
    return notes


def reproduction_section(build: Build) -> str:
    manifest = build.manifest
    recipe = manifest.get("recipe") or {}
    lines = [table(["fact", "value"], [
        ["build name", manifest.get("name", "–")],
        ["cmedins version", manifest.get("cmedins_version", "–")],
        ["git revision", manifest.get("git_revision") or "not recorded"],
        ["recipe", recipe.get("name", "–")],
        ["recipe sha256", f"`{manifest.get('recipe_sha256', '–')}`"],
        ["seed", manifest.get("seed", "–")],
        ["validation", "passed" if (manifest.get("validation") or {}).get("passed") else "FAILED"],
    ])]
    inputs = manifest.get("inputs") or []
    if inputs:
        # Sources by their recipe name: file names can hold identities, so the manifest keeps only a hash.
        lines.append("Inputs:\n\n" + table(
            ["source", "format", "bytes", "sha256"],
            [[i.get("source", "–"), i.get("format", "–"), i.get("bytes", 0), f"`{i.get('sha256', '')}`"]
             for i in inputs]))
    versions = manifest.get("versions") or {}
    if versions:
        lines.append("Package versions:\n\n" + table(["package", "version"], sorted(versions.items())))
    lines.append("cmedins builds are deterministic: the same recipe, inputs and versions give the same bytes. "
                 "To rebuild:\n\n"
                 f"```bash\ncmedins build pipelines/{recipe.get('name', 'RECIPE')}.yaml\n```\n\n"
                 "`manifest.json` and `stats.json` in this repository hold the full figures.")
    return "\n\n".join(lines)


def render_card(build: Build, plots: list[Plot], rows: list[dict]) -> DatasetCard:
    data = build_card_data(build)
    check_card_data(data, build)
    template = TEMPLATES / TEMPLATE_FOR_KIND[build.kind]
    if not template.is_file():
        raise CmedinsError(f"{template}: card template missing")
    card = DatasetCard.from_template(
        data,
        template_path=str(template),
        pretty_name=data.pretty_name,
        build=build,
        total_rows=build.total_rows,
        splits_table=splits_table(build),
        examples=examples(build, rows),
        tasks_table=tasks_table(build) if build.kind == "sft" else "",
        departments_table=departments_table(build),
        sources_section=sources_section(build, rows),
        processing_section=processing_section(build),
        privacy_section=privacy_section(build),
        deid_step="de-identified" if build.deid is not None else "not de-identified by cmedins (see Personal and "
                  "Sensitive Information)",
        preference_section=preference_section(build, rows) if build.kind == "dpo" else "",
        risks=risks(build, rows),
        reproduction_section=reproduction_section(build),
        plots=plots,
        license_id=data.license,
        citation=CITATION,
    )
    leftovers = [marker for marker in ("{{", "{%", "[More Information Needed]", "TODO") if marker in card.text]
    if leftovers:
        raise CmedinsError(f"{template}: rendered card still contains {leftovers}")
    return card


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def preference_section(build: Build, rows: list[dict]) -> str:
    figures = build.stats.get("preference") or {}
    dims = Counter(row.get("deciding_dimension") or "none" for row in rows)
    dist = Counter(row.get("distribution") for row in rows)
    arbitrated = sum(1 for row in rows if row.get("arbitrated"))
    agreements = [row["agreement"] for row in rows if row.get("agreement") is not None]
    parts = [table(["deciding dimension", "pairs"], sorted(dims.items())),
             table(["prompt distribution", "pairs"], sorted(dist.items())),
             f"Pairs decided by an expert arbiter: {arbitrated:,} of {len(rows):,}. "
             + (f"Mean per-pair annotator agreement: {sum(agreements) / len(agreements):.3f}."
                if agreements else "No pair records an agreement figure.")]
    agreement = figures.get("agreement") or {}
    if agreement.get("cross_annotated"):
        parts.append(f"Inter-annotator agreement over {agreement['cross_annotated']:,} cross-annotated pairs "
                     "(before arbitration):\n\n" + table(
                         ["dimension", "percent agreement", "Cohen's kappa", "Fleiss' kappa", "Krippendorff's alpha"],
                         [(dim, _figure(entry.get("percent_agreement")), _figure(entry.get("cohen_kappa")),
                           _figure(entry.get("fleiss_kappa")), _figure(entry.get("krippendorff_alpha")))
                          for dim, entry in agreement["dimensions"].items()]))
    arbitration = figures.get("arbitration")
    if arbitration:
        parts.append(f"Arbitration (`{arbitration['arbitrate_on']}` disagreement goes to the expert): "
                     f"{arbitration['disputed']:,} disputed pairs, {arbitration['applied']:,} settled by the expert, "
                     f"{arbitration['pending']:,} still pending (left out of this build; listed in the build's "
                     "`arbitration_queue.jsonl`).")
    if figures.get("min_annotators") is not None:
        held = figures.get("held_back_below_min_annotators") or 0
        parts.append(f"Annotators: {figures.get('annotators') or 0:,} (pseudonymous ids). A pair needs at least "
                     f"{figures['min_annotators']} annotator(s): {held:,} pair(s) judged by fewer were held back "
                     "from this build.")
    if figures:
        outcomes = figures.get("outcomes") or {}
        if outcomes:
            parts.append(table(["pair outcome", "pairs"], sorted(outcomes.items())))
    else:
        parts.append("stats.json has no `preference` figures: agreement between annotators was not measured.")
    return "\n\n".join(parts)


def write_card(build_dir: Path, *, font: str | None = "auto") -> Path:
    """Write <build>/plots/*.png and <build>/README.md; returns the card's path."""
    build = load_build(build_dir)
    rows, step = build.card_rows()
    plots = write_plots(build, rows, font=font, step=step)
    card = render_card(build, plots, rows)
    path = build.root / "README.md"
    path.write_text(str(card).rstrip("\n") + "\n", encoding="utf-8", newline="\n")
    return path
