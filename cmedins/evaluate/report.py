"""The evaluation report: report.json (everything), report.md (for reading) and plot.png.

It states what the figures rest on: how many judge replies were readable, what was unreadable and why, how
often the two orders agreed, how often the judge preferred whichever answer came first, whether the training
data was checked against the eval set. Unreadable replies leave questions unjudged; they are never ties.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from cmedins.contracts.schema import DIMENSIONS
from cmedins.evaluate.bootstrap import bootstrap_rates
from cmedins.evaluate.outcomes import ASPECTS, ORDERS, combine_all, counts_matrix, table
from cmedins.evaluate.verdicts import parse_reply

MOSTLY_UNREADABLE = 0.5
NAMES = {"safety": "Safety 安全性", "professionalism": "Professionalism 专业性", "fluency": "Fluency 流畅性",
         "overall": "Overall (S > P > F)"}


def parse_store(rows: list[dict], question_ids: set[str]) -> tuple[list[tuple[str, str, dict]], dict]:
    """Verdict triples for combine_all, and the accounting of the judge's replies."""
    triples, problems = [], {dim: Counter() for dim in DIMENSIONS}
    complete = failed = 0
    first_preferred = decided = 0
    by_order = {order: Counter() for order in ORDERS}
    for row in rows:
        if row["question_id"] not in question_ids:
            continue
        order = row["order"]
        if row.get("error"):
            failed += 1
            by_order[order]["request_failed"] += 1
            for dim in DIMENSIONS:
                problems[dim]["request_failed"] += 1
            verdicts = dict.fromkeys(DIMENSIONS)
        else:
            parsed = parse_reply(row.get("reply"))
            verdicts = parsed.verdicts
            complete += parsed.complete
            by_order[order]["complete" if parsed.complete else "malformed"] += 1
            for dim, reason in parsed.problems.items():
                problems[dim][reason] += 1
            for verdict in verdicts.values():
                if verdict in ("1", "2"):
                    decided += 1
                    first_preferred += verdict == "1"
        triples.append((row["question_id"], order, verdicts))
    expected = 2 * len(question_ids)
    accounting = {
        "expected": expected, "received": len(triples), "not_asked": expected - len(triples),
        "complete": complete, "request_failed": failed,
        "malformed": len(triples) - complete - failed,
        "complete_share": round(complete / expected, 4) if expected else None,
        "problems": {dim: dict(sorted(counter.items())) for dim, counter in problems.items()},
        "by_order": {order: dict(sorted(counter.items())) for order, counter in by_order.items()},
        # A fair judge picks answer 1 about half the time among non-tie verdicts; far from 0.5 = position bias.
        "answer1_preferred_share": round(first_preferred / decided, 4) if decided else None,
    }
    return triples, accounting


def build_report(*, rows: list[dict], pairs: list[tuple[str, dict, dict]], left_out: dict, x: str, y: str,
                 eval_set: dict, judge: dict, order_rule: str, resamples: int, confidence: float, seed: int,
                 training: list[dict] | str, reference: dict | None, human: dict | None,
                 answers: dict | None = None) -> dict:
    question_ids = {qid for qid, _, _ in pairs}
    triples, accounting = parse_store(rows, question_ids)
    outcomes = combine_all(triples, rule=order_rule)
    missing = question_ids - {o.question_id for o in outcomes}
    outcomes += combine_all([(qid, "xy", dict.fromkeys(DIMENSIONS)) for qid in sorted(missing)], rule=order_rule)
    results = table(outcomes)
    for aspect in ASPECTS:
        results[aspect]["ci"] = bootstrap_rates(counts_matrix(outcomes, aspect), resamples=resamples,
                                                confidence=confidence, seed=seed)
    warnings = []
    if accounting["expected"] and accounting["complete"] == 0:
        warnings.append(f"None of the {accounting['expected']} judge replies could be read: there is no result, only "
                        "the count of unreadable replies below. Use a judge that follows the output format.")
    elif accounting["complete_share"] is not None and accounting["complete_share"] < MOSTLY_UNREADABLE:
        warnings.append(f"Only {accounting['complete']} of {accounting['expected']} judge replies were fully readable: "
                        "the win / tie / loss figures rest on the few readable verdicts and say little about the "
                        "systems. Use a judge that follows the output format.")
    if training == "unchecked":
        warnings.append("The training data was not checked against this eval set (--no-train-check).")
    return {
        "comparison": {"x": x, "y": y, "eval_set": eval_set, "questions": len(pairs), "left_out": left_out},
        "judge": {**judge, "order_rule": order_rule},
        "judge_replies": accounting,
        "results": results,
        "bootstrap": {"resamples": resamples, "confidence": confidence, "seed": seed, "unit": "question"},
        "answers": answers,
        "reference": reference,
        "training_data": training,
        "human": human,
        "warnings": warnings,
    }, outcomes


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _ci(interval: list[float] | None) -> str:
    return "–" if not interval else f"[{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]"


def render_markdown(report: dict) -> str:
    c, j, a = report["comparison"], report["judge"], report["judge_replies"]
    lines = [f"# SPF evaluation: {c['x']} vs {c['y']}", "",
             f"Eval set `{c['eval_set']['name']}` ({c['questions']} questions judged in both orders; left out: "
             f"{c['left_out'] or 'none'}). Judge `{j.get('model')}`, prompt `{j.get('prompt')}` "
             f"(sha256 {str(j.get('prompt_sha256'))[:12]}), order rule `{j['order_rule']}`. "
             "Win = X better.", ""]
    lines += [f"> **Warning.** {w}" for w in report["warnings"]]
    if report["warnings"]:
        lines.append("")
    lines += ["| aspect | win | tie | loss | judged | unjudged | win rate | adjusted win rate "
              f"[{int(100 * report['bootstrap']['confidence'])}% CI] | order agreement |",
              "|---|---|---|---|---|---|---|---|---|"]
    for aspect, r in report["results"].items():
        lines.append(f"| {NAMES[aspect]} | {r['win']} | {r['tie']} | {r['loss']} | {r['judged']} | {r['unjudged']} | "
                     f"{_pct(r['win_rate'])} | {_pct(r['adjusted_win_rate'])} {_ci(r['ci']['adjusted_win'])} | "
                     f"{_pct(r['order_agreement'])} ({r['orders_compared']}) |")
    lines += ["", "## Judge replies", "",
              f"{a['expected']} expected, {a['complete']} fully readable, {a['malformed']} malformed, "
              f"{a['request_failed']} failed requests, {a['not_asked']} not asked. Answer 1 preferred in "
              f"{_pct(a['answer1_preferred_share'])} of non-tie verdicts (position bias if far from 50%).", "",
              "| dimension | problems (count) |", "|---|---|"]
    lines += [f"| {dim} | {', '.join(f'{k} {v}' for k, v in p.items()) or 'none'} |" for dim, p in a["problems"].items()]
    if report.get("answers"):
        lines += ["", "## Answers", "", "| system | mean length (chars) | median | cut by the token limit |",
                  "|---|---|---|---|"]
        lines += [f"| {system} | {a['mean_chars']} | {a['median_chars']} | {_pct(a['cut_by_token_limit'])} |"
                  for system, a in report["answers"].items()]
    if report["reference"]:
        lines += ["", "## Reference answers (Rouge-L F)", "", "| system | chars | jieba words | n |", "|---|---|---|---|"]
        for system, scores in report["reference"].items():
            lines.append(f"| {system} | {scores['chars']['f']} | {scores['jieba_words']['f']} | {scores['chars']['n']} |")
    lines += ["", "## Training data", ""]
    if report["training_data"] == "unchecked":
        lines.append("Not checked against this eval set.")
    else:
        lines += [f"- `{t['build']}`: decontaminated against it as `{t['decontaminated_as']}` (matched by "
                  f"{t['matched_by']})" for t in report["training_data"]]
    if report["human"]:
        h = report["human"]
        lines += ["", "## Human judgments", "",
                  f"{h['annotations']} annotations by {h['annotators']} annotator(s) on {h['items']} pairs.", "",
                  "| aspect | win | tie | loss | adjusted win rate | agreement with LLM judge | Cohen's kappa |",
                  "|---|---|---|---|---|---|---|"]
        for aspect, r in h["results"].items():
            agree = h["agreement_with_llm"][aspect]
            lines.append(f"| {NAMES[aspect]} | {r['win']} | {r['tie']} | {r['loss']} | {_pct(r['adjusted_win_rate'])} | "
                         f"{_pct(agree['percent'])} ({agree['compared']}) | {agree['cohen_kappa']} |")
    lines += ["", "![win / tie / loss](plot.png)", ""]
    return "\n".join(lines)


def write_report(report: dict, out_dir: Path) -> list[Path]:
    from cmedins.evaluate.plot import plot_report

    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path, png_path = out_dir / "report.json", out_dir / "report.md", out_dir / "plot.png"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    plot_report(report, png_path)
    return [json_path, md_path, png_path]
