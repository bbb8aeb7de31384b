"""Label Studio through its SDK (label-studio-sdk): the SPF annotation project and the expert's arbitration
project, created, filled with tasks and exported without touching the web UI.

What the project settings do (Label Studio 1.23 Community edition):
- `maximum_annotations` = overlap (default 2): each task is handed to that many annotators. A default project
  allows one, so a second annotator gets no tasks and every pair is judged by one person.
- `overlap_cohort_percentage` 100 and `show_overlap_first`: every task is cross-annotated, overlapping ones
  first.
- isolation: `show_annotation_history` and `show_collab_predictions` off, so the labeling stream shows an
  annotator neither the history nor predictions of others. What Community CANNOT do: an annotator who opens a
  task from the Data Manager list sees the other annotators' submitted choices (per-role visibility is an
  Enterprise feature). Ask annotators to work from "Label All Tasks" only; `min_annotators` in the recipe and
  the agreement figures are the guard that remains.
The arbitration project shows the expert the pair, what each annotator chose and the disputed dimensions; its
export becomes the decisions file that `spf_resolve` / `prefs arbitration --decisions` read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from cmedins.contracts.schema import DIMENSIONS
from cmedins.errors import CmedinsError
from cmedins.preference.labelstudio import CHOICES, DIMENSION_LABELS, SPEAKERS, labeling_config, to_task

DEFAULT_OVERLAP = 2
EXPORT_TYPES = ("JSON", "JSON_MIN")


def project_settings(overlap: int) -> dict[str, Any]:
    if overlap < 1:
        raise CmedinsError("--overlap must be >= 1 (annotators per task)")
    return {"maximum_annotations": overlap, "overlap_cohort_percentage": 100, "show_overlap_first": True,
            "show_annotation_history": False, "show_collab_predictions": False, "show_skip_button": True,
            "enable_empty_annotation": False}


def client(url: str, api_key: str | None):
    """An SDK client; the key comes from --api-key or LABEL_STUDIO_API_KEY and is never printed."""
    import os

    try:
        from label_studio_sdk import LabelStudio
    except ImportError:
        raise CmedinsError("label-studio-sdk is not installed: pip install 'cmedins[studio]'") from None
    key = api_key or os.environ.get("LABEL_STUDIO_API_KEY")
    if not key:
        raise CmedinsError("no Label Studio API key: pass --api-key or set LABEL_STUDIO_API_KEY (Account & "
                           "Settings in Label Studio)")
    return LabelStudio(base_url=url.rstrip("/"), api_key=key)


def _call(what: str, fn, *args, **kwargs):
    """SDK calls with one-line errors (status and Label Studio's own detail, never the key)."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    try:
        return fn(*args, **kwargs)
    except ApiError as error:
        body = error.body if isinstance(error.body, dict) else {}
        detail = body.get("detail") or body.get("validation_errors") or body
        raise CmedinsError(f"Label Studio refused to {what} (HTTP {error.status_code}): {detail}") from None
    except (OSError, httpx.HTTPError) as error:
        raise CmedinsError(f"Label Studio is not reachable to {what}: {error}") from None


def push_project(ls, pairs: Iterable[dict], *, title: str, overlap: int = DEFAULT_OVERLAP) -> tuple[int, int]:
    """Create the SPF project and import one task per pair; returns (project id, task count)."""
    tasks = [to_task(pair) for pair in pairs]
    if not tasks:
        raise CmedinsError("no pairs to import")
    project = _call("create the project", ls.projects.create, title=title, label_config=labeling_config(),
                    **project_settings(overlap))
    _call("import the tasks", ls.projects.import_tasks, project.id, request=tasks)
    return project.id, len(tasks)


def pull_export(ls, project_id: int, out: Path, export_type: str = "JSON") -> Path:
    """Download the project's export (every task, annotated or not) to `out`."""
    if export_type not in EXPORT_TYPES:
        raise CmedinsError(f"--export-type must be one of {', '.join(EXPORT_TYPES)}")
    chunks = _call("export the project", ls.projects.exports.download_sync, project_id, export_type=export_type,
                   download_all_tasks=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    return out


# --- arbitration: the expert's project ---

def arbitration_config() -> str:
    """The pair, the annotators' choices, and one (optional) Choices per dimension for the expert's ruling."""
    lines = [
        "<View>",
        '  <Header value="待仲裁 / Disputed pair"/>',
        '  <Paragraphs name="dialogue" value="$dialogue" layout="dialogue" nameKey="author" textKey="text"/>',
        '  <View style="display: flex; gap: 1em;">',
        '    <View style="flex: 50%;"><Header value="回答 A"/><Text name="response_a" value="$response_a"/></View>',
        '    <View style="flex: 50%;"><Header value="回答 B"/><Text name="response_b" value="$response_b"/></View>',
        "  </View>",
        '  <Header value="标注员的判断 / Annotators\' judgments"/>',
        '  <Text name="judgments" value="$judgments"/>',
        '  <Header value="需裁定的维度 / Disputed dimensions"/>',
        '  <Text name="disputed" value="$disputed"/>',
    ]
    for dimension in DIMENSIONS:
        lines.append(f"  <Header value={quoteattr(DIMENSION_LABELS[dimension])}/>")
        lines.append(f'  <Choices name="{dimension}" toName="dialogue" choice="single-radio" showInline="true">')
        lines.extend(f"    <Choice value={quoteattr(label)} alias=\"{alias}\"/>" for alias, label in CHOICES)
        lines.append("  </Choices>")
    lines.append('  <TextArea name="comment" toName="dialogue" placeholder="仲裁说明（可选）" rows="2" '
                 'maxSubmissions="1"/>')
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def arbitration_task(entry: dict) -> dict:
    """One arbitration-queue line (crossannotation.queue_entry) as a Label Studio task."""
    judgments = "\n".join(
        f"{j['annotator']}: " + ", ".join(f"{d}={j[d]}" for d in DIMENSIONS) for j in entry["judgments"])
    return {"data": {
        "pair_id": entry["pair_id"],
        "dialogue": [{"author": SPEAKERS[m["role"]], "text": m["content"]} for m in entry["prompt"]],
        "response_a": entry["response_a"], "response_b": entry["response_b"],
        "judgments": judgments, "disputed": ", ".join(entry["disputed"]),
    }}


def push_arbitration(ls, queue: list[dict], *, title: str) -> tuple[int, int]:
    if not queue:
        raise CmedinsError("the arbitration queue is empty: nothing for the expert")
    project = _call("create the arbitration project", ls.projects.create, title=title,
                    label_config=arbitration_config(), maximum_annotations=1, show_skip_button=True)
    _call("import the arbitration tasks", ls.projects.import_tasks, project.id,
          request=[arbitration_task(entry) for entry in queue])
    return project.id, len(queue)


def decisions_from_export(path: Path) -> Iterator[dict]:
    """Expert decisions (the `--decisions` JSONL shape) from the arbitration project's JSON export."""
    from cmedins.preference.labelstudio import judgments_from_task, load_tasks

    for task in load_tasks(path, expect_full=True):
        for row in judgments_from_task(task):
            decision = {"pair_id": row["pair_id"], "arbitrator": row["annotator"]}
            decision.update({d: row[d] for d in DIMENSIONS if row.get(d) is not None})
            if row.get("comment"):
                decision["comment"] = row["comment"]
            yield decision


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count
