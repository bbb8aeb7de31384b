"""The paper's figure: horizontal stacked bars of win / tie / loss per aspect (and per human aspect)."""

from __future__ import annotations

from pathlib import Path

COLOURS = {"win": "#4c9f70", "tie": "#bdbdbd", "loss": "#d1605e"}
LABELS = {"safety": "Safety", "professionalism": "Professionalism", "fluency": "Fluency", "overall": "Overall (S>P>F)"}


def plot_report(report: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(f"LLM · {LABELS[a]}", r) for a, r in report["results"].items()]
    if report.get("human"):
        rows += [(f"Human · {LABELS[a]}", r) for a, r in report["human"]["results"].items()]
    rows.reverse()  # matplotlib draws bottom-up; the first aspect goes on top
    figure, axes = plt.subplots(figsize=(9, 0.55 * len(rows) + 1.6))
    for y, (_, r) in enumerate(rows):
        left = 0.0
        for outcome in ("win", "tie", "loss"):
            share = r.get(f"{outcome}_rate") or 0.0
            axes.barh(y, share, left=left, color=COLOURS[outcome], edgecolor="white",
                      label=outcome if y == 0 else None)
            if share >= 0.06:
                axes.text(left + share / 2, y, f"{100 * share:.0f}%", ha="center", va="center", fontsize=8)
            left += share
        judged = r.get("judged", r.get("win", 0) + r.get("tie", 0) + r.get("loss", 0))
        note = f"n={judged}" + (f", unjudged {r['unjudged']}" if r.get("unjudged") else "")
        axes.text(1.01, y, note if judged else "no readable verdicts", va="center", fontsize=8)
    axes.set_yticks(range(len(rows)), [label for label, _ in rows])
    axes.set_xlim(0, 1)
    axes.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    c = report["comparison"]
    axes.set_title(f"{c['x']} vs {c['y']} on {c['eval_set']['name']} (judge: {report['judge'].get('model')})",
                   fontsize=10)
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, -0.35 if len(rows) < 6 else -0.2), ncol=3, frameon=False)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
