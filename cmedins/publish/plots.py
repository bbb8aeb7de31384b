"""The card's figures (matplotlib, Agg, PNG in <build>/plots/): departments (the paper's Figure 2), tasks,
source mix, turn counts, and length histograms in characters and in jieba words (a tokenizer-free proxy).

Chinese labels need a CJK font. Without one (check `fc-list :lang=zh`; Debian: fonts-wqy-microhei), labels
fall back to English department names so the figures stay legible instead of showing empty boxes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cmedins.publish.build import Build
from cmedins.wordseg import default_tokenizer

CJK_FAMILIES = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Noto Serif CJK SC",
                "Source Han Sans SC", "Source Han Sans CN", "SimHei", "Microsoft YaHei", "PingFang SC",
                "AR PL UMing CN", "Droid Sans Fallback")
TOKEN_SAMPLE = 1_000  # rows segmented with jieba for the token histogram (every k-th row beyond this);
# jieba runs at ~1M chars/s: 3,000 record-sized rows (both sides) were 8.7 of a 22k-record build's 54 CPU-s
TOP_DEPARTMENTS = 20

DEPARTMENT_EN = {
    "内科": "Internal medicine", "外科": "Surgery", "妇产科": "Obstetrics & gynaecology", "儿科": "Paediatrics",
    "五官科": "ENT & ophthalmology", "男科": "Andrology", "肿瘤科": "Oncology", "皮肤科": "Dermatology",
    "皮肤性病科": "Dermatology & venereology", "中医科": "Traditional Chinese medicine",
    "传染科": "Infectious diseases", "感染科": "Infectious diseases", "精神科": "Psychiatry",
    "心理科": "Psychology", "心血管内科": "Cardiology", "心内科": "Cardiology", "呼吸内科": "Respiratory medicine",
    "消化内科": "Gastroenterology", "神经内科": "Neurology", "内分泌科": "Endocrinology", "肾内科": "Nephrology",
    "血液科": "Haematology", "风湿免疫科": "Rheumatology & immunology", "普外科": "General surgery",
    "骨科": "Orthopaedics", "泌尿外科": "Urology", "神经外科": "Neurosurgery", "胸外科": "Thoracic surgery",
    "心胸外科": "Cardiothoracic surgery", "心外科": "Cardiac surgery", "肝胆外科": "Hepatobiliary surgery",
    "乳腺外科": "Breast surgery", "整形外科": "Plastic surgery", "烧伤科": "Burns", "血管外科": "Vascular surgery",
    "妇科": "Gynaecology", "产科": "Obstetrics", "眼科": "Ophthalmology", "耳鼻喉科": "Otorhinolaryngology",
    "耳鼻咽喉科": "Otorhinolaryngology", "口腔科": "Stomatology", "急诊科": "Emergency medicine",
    "重症医学科": "Intensive care", "康复科": "Rehabilitation", "康复医学科": "Rehabilitation",
    "麻醉科": "Anaesthesiology", "放射科": "Radiology", "影像科": "Medical imaging", "检验科": "Laboratory medicine",
    "全科": "General practice", "全科医学科": "General practice", "老年科": "Geriatrics", "营养科": "Nutrition",
    "疼痛科": "Pain medicine", "新生儿科": "Neonatology", "小儿外科": "Paediatric surgery",
    "核医学科": "Nuclear medicine", "病理科": "Pathology", "药剂科": "Pharmacy", "其他": "Other",
    "普通内科": "General internal medicine", "普通外科": "General surgery", "精神心理科": "Psychiatry & psychology",
    "未知": "Unknown", "无科室标注": "No department label (dialogues, general)",
}


@dataclass(frozen=True)
class Plot:
    file: str  # relative to the build folder, e.g. plots/departments.png
    title: str


def cjk_font() -> str | None:
    """The first installed CJK-capable font family matplotlib knows, or None."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in installed), None)


def department_labels(names: list[str], has_cjk: bool) -> list[str]:
    if has_cjk:
        return [f"{name} ({DEPARTMENT_EN[name]})" if name in DEPARTMENT_EN else name for name in names]
    return [DEPARTMENT_EN.get(name, "unmapped department") for name in names]


def _pyplot(font: str | None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
                         "axes.unicode_minus": False, "figure.dpi": 100, "savefig.dpi": 110,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "svg.hashsalt": "cmedins", "path.simplify": True})
    return plt


def _no_rows(plt, title: str, path: Path) -> None:
    """The figure of a build that kept no rows (or none of this kind): it says so instead of failing."""
    fig, ax = plt.subplots(figsize=(6.5, 2.0))
    ax.text(0.5, 0.5, "no rows", ha="center", va="center", fontsize=14, color="#666666")
    ax.set_axis_off()
    ax.set_title(title, loc="left", fontsize=11)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def _barh(plt, counts: dict[str, int], title: str, xlabel: str, path: Path) -> None:
    """Horizontal bars, largest on top, each bar labelled with its count and share."""
    labels, values = list(counts), list(counts.values())
    if not any(values):
        return _no_rows(plt, title, path)
    total = sum(values) or 1
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * len(labels) + 1.6))
    bars = ax.barh(range(len(labels)), values, color="#3a7ca5")
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left", fontsize=11)
    ax.bar_label(bars, [f"{v:,} ({v / total:.0%})" if v / total >= 0.095 else f"{v:,} ({v / total:.1%})"
                        for v in values], padding=3, fontsize=8)
    ax.set_xlim(0, max(values) * 1.25 if values else 1)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def _top(counter: Counter, limit: int, other: str) -> dict[str, int]:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    shown = dict(ranked[:limit])
    rest = sum(n for _, n in ranked[limit:])
    if rest:
        shown[f"{other} ({len(ranked) - limit} more)"] = rest
    return shown


def _histograms(plt, series: dict[str, list[int]], title: str, xlabel: str, path: Path) -> None:
    """One panel per text side; the long tail above the 99th percentile is folded into the last bin."""
    import numpy as np

    if not any(series.values()):
        return _no_rows(plt, title, path)
    fig, axes = plt.subplots(1, len(series), figsize=(4.2 * len(series), 3.4), squeeze=False)
    for ax, (name, values) in zip(axes[0], series.items(), strict=True):
        data = np.asarray(values or [0])
        cap = max(1, int(np.percentile(data, 99)))
        ax.hist(np.minimum(data, cap), bins=min(40, cap), color="#3a7ca5", edgecolor="white", linewidth=0.4)
        ax.set_title(f"{name}: median {int(np.median(data)):,}, max {int(data.max()):,}", fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("rows")
    fig.suptitle(f"{title} (values above the 99th percentile shown in the last bin)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def text_sides(build: Build, rows: list[dict]) -> dict[str, list[str]]:
    """The texts whose lengths the card reports: prompt and response (SFT), prompt/chosen/rejected (DPO)."""
    def joined(messages: list[dict], roles: tuple[str, ...]) -> str:
        return "".join(m["content"] for m in messages if m["role"] in roles)

    if build.kind == "dpo":
        return {"prompt": [joined(r["prompt"], ("system", "user", "assistant")) for r in rows],
                "chosen": [joined(r["chosen"], ("assistant",)) for r in rows],
                "rejected": [joined(r["rejected"], ("assistant",)) for r in rows]}
    return {"prompt (system + user)": [joined(r["messages"], ("system", "user")) for r in rows],
            "response (assistant)": [joined(r["messages"], ("assistant",)) for r in rows]}


def user_turns(build: Build, row: dict) -> int:
    messages = row["prompt"] if build.kind == "dpo" else row["messages"]
    return sum(1 for message in messages if message["role"] == "user")


def jieba_words() -> Callable[[str], int]:
    """Words (not whitespace) jieba's default dictionary cuts a text into. jieba.cut splits a text into runs
    of Han/alphanumeric characters and the rest, and cuts each run alone, so a text's count is the sum of its
    runs' counts: those are remembered, since rows repeat them (a record's text in its six task rows, the
    instructions, the templates). 1.55 -> 0.25 CPU-s for the 22k build's 2,010 sampled texts, the same counts."""
    import jieba

    cut = default_tokenizer().cut
    runs: dict[str, int] = {}

    def run_words(run: str) -> int:
        count = runs.get(run)
        if count is None:
            count = runs[run] = sum(1 for word in cut(run) if word.strip())
        return count

    return lambda text: sum(run_words(run) for run in jieba.re_han_default.split(text) if run)


def write_plots(build: Build, rows: list[dict], font: str | None = "auto", step: int = 1) -> list[Plot]:
    """Write every figure the build has data for; returns them in card order. `rows` is every `step`-th row
    of the build (Build.card_rows); counts come from whole columns, shapes and lengths from `rows`."""
    font = cjk_font() if font == "auto" else font
    plt = _pyplot(font)
    out = build.root / "plots"
    out.mkdir(exist_ok=True)
    plots: list[Plot] = []

    def save(name: str, title: str, draw: Callable[[Path], None]) -> None:
        draw(out / name)
        plots.append(Plot(f"plots/{name}", title))

    departments = Counter(build.stats.get("departments") or {})
    if departments:
        top = _top(departments, TOP_DEPARTMENTS, "other")
        names = [name for name in top if name in departments]
        labels = dict(zip(names, department_labels(names, font is not None), strict=True))
        shown: Counter = Counter()
        for name, n in top.items():
            shown[labels.get(name, name)] += n
        save("departments.png", "Rows per department",
             lambda p: _barh(plt, dict(shown), "Rows per department (cf. IIMedGPT Figure 2)", "rows", p))
    if build.kind == "dpo":
        dims = Counter({(k or "none"): n for k, n in build.value_counts("deciding_dimension").items()})
        save("dimensions.png", "Deciding dimension of each pair",
             lambda p: _barh(plt, dict(dims.most_common()), "Pairs by deciding dimension "
                             "(safety > professionalism > fluency)", "pairs", p))
        dist = Counter({f"{k}-distribution": n for k, n in build.value_counts("distribution").items()})
        save("distribution.png", "In- vs out-of-distribution prompts",
             lambda p: _barh(plt, dict(sorted(dist.items())), "Pairs by prompt distribution", "pairs", p))
    else:
        tasks = Counter(build.stats.get("tasks") or build.value_counts("task"))
        save("tasks.png", "Rows per task",
             lambda p: _barh(plt, dict(tasks.most_common()), "Rows per task", "rows", p))
    sources = build.value_counts("source")
    save("sources.png", "Source mix",
         lambda p: _barh(plt, dict(sources.most_common()), "Source mix of the published rows", "rows", p))
    turns = Counter(user_turns(build, r) for r in rows)
    char_note = "" if step == 1 else f", every {step}th row"
    save("turns.png", "User turns per row", lambda p: _turns(plt, turns, p, char_note))

    sides = text_sides(build, rows)
    save("lengths_chars.png", "Length in characters",
         lambda p: _histograms(plt, {k: [len(t) for t in v] for k, v in sides.items()},
                               f"Length in characters{char_note}", "characters", p))
    token_step = max(1, len(rows) // TOKEN_SAMPLE)
    count = jieba_words()
    sampled = {k: [count(t) for t in v[::token_step]] for k, v in sides.items()}
    sample_note = "all rows" if step * token_step == 1 else f"every {step * token_step}th row"
    save("lengths_tokens.png", "Length in tokens (jieba words)",
         lambda p: _histograms(plt, sampled, f"Length in tokens, {sample_note}",
                               "tokens (jieba words; no model tokenizer)", p))
    return plots


def _turns(plt, turns: Counter, path: Path, note: str = "") -> None:
    if not turns:
        return _no_rows(plt, f"User turns per row{note}", path)
    keys = sorted(turns)
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    bars = ax.bar([str(k) for k in keys], [turns[k] for k in keys], color="#3a7ca5")
    ax.bar_label(bars, [f"{turns[k]:,}" for k in keys], padding=2, fontsize=8)
    ax.set_ylim(0, max(turns.values()) * 1.15)
    ax.set_xlabel("user turns in the row")
    ax.set_ylabel("rows" if not note else "rows in the sample")
    ax.set_title(f"User turns per row (1 = single-turn){note}", loc="left", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
