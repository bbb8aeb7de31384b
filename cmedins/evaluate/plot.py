"""The paper's figures: horizontal stacked bars of win / tie / loss.

- plot_report: one comparison, one bar per aspect (LLM judge, then human judgments when present);
- plot_comparisons: several comparisons (IIMedGPT against each baseline, or after vs before DPO on both eval
  sets), one panel per aspect and one bar per comparison, as in Figures 4 and 5.
"""

from __future__ import annotations

from pathlib import Path

COLOURS = {"win": "#4c9f70", "tie": "#bdbdbd", "loss": "#d1605e"}
LABELS = {"safety": "Safety", "professionalism": "Professionalism", "fluency": "Fluency", "overall": "Overall (S>P>F)"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return matplotlib, plt


def _bars(axes, rows: list[tuple[str, dict]]) -> None:
    """Draw rows [(label, result with win/tie/loss rates and counts)] top to bottom on `axes`."""
    matplotlib, _ = _pyplot()
    rows = rows[::-1]  # matplotlib draws bottom-up; the first row goes on top
    for y, (_, r) in enumerate(rows):
        left = 0.0
        for outcome in ("win", "tie", "loss"):
            share = r.get(f"{outcome}_rate") or 0.0
            axes.barh(y, share, left=left, color=COLOURS[outcome], edgecolor="white",
                      label=outcome if y == len(rows) - 1 else None)
            if share >= 0.06:
                axes.text(left + share / 2, y, f"{100 * share:.0f}%", ha="center", va="center", fontsize=8)
            left += share
        judged = r.get("judged", r.get("win", 0) + r.get("tie", 0) + r.get("loss", 0))
        note = f"n={judged}" + (f", unjudged {r['unjudged']}" if r.get("unjudged") else "")
        axes.text(1.01, y, note if judged else "no readable verdicts", va="center", fontsize=8)
    axes.set_yticks(range(len(rows)), [label for label, _ in rows])
    axes.set_xlim(0, 1)
    axes.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))


def plot_report(report: dict, path: Path) -> Path:
    _, plt = _pyplot()
    rows = [(f"LLM · {LABELS[a]}", r) for a, r in report["results"].items()]
    if report.get("human"):
        rows += [(f"Human · {LABELS[a]}", r) for a, r in report["human"]["results"].items()]
    figure, axes = plt.subplots(figsize=(9, 0.55 * len(rows) + 1.6))
    _bars(axes, rows)
    c = report["comparison"]
    axes.set_title(f"{c['x']} vs {c['y']} on {c['eval_set']['name']} (judge: {report['judge'].get('model')})",
                   fontsize=10)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def _comparison_label(report: dict) -> str:
    c = report["comparison"]
    rule = " · each order counted" if report.get("judge", {}).get("order_rule") == "both" else ""
    return f"{c['x']} vs {c['y']} · {c['eval_set']['name']}{rule}"


def plot_comparisons(reports: list[dict], path: Path) -> Path:
    """One panel per aspect, one bar per report ("X vs Y · eval set")."""
    _, plt = _pyplot()
    aspects = list(LABELS)
    height = 0.45 * len(reports) + 0.9
    figure, panels = plt.subplots(len(aspects), 1, figsize=(9, height * len(aspects) + 0.8), squeeze=False)
    for axes, aspect in zip(panels[:, 0], aspects, strict=True):
        _bars(axes, [(_comparison_label(r), r["results"][aspect]) for r in reports])
        axes.set_title(LABELS[aspect], fontsize=10, loc="left")
    panels[-1, 0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=3, frameon=False)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
