"""Inter-annotator agreement on categorical judgments (A / B / tie): percent agreement, Cohen's and Fleiss' kappa,
and Krippendorff's alpha.

scikit-learn and statsmodels are not dependencies, and the kappa formulas are a few lines each, so they live
here and are tested against hand-computed values. Krippendorff's alpha comes from the `krippendorff` package:
it is the figure that stays meaningful when annotators rotate (each pair judged by a different two of four)
or some judgments are missing, where Cohen's kappa mixes different people under "first" and "second". Kappa is None when it is undefined (chance agreement is 1,
e.g. every judgment is "tie"), rather than NaN, so stats.json stays valid JSON.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence


def percent_agreement(items: Sequence[Sequence[str]]) -> float | None:
    """Mean over items of the share of annotator pairs that agree (Fleiss' P_i); items need >= 2 labels."""
    scored = [_pairwise_agreement(labels) for labels in items if len(labels) >= 2]
    return sum(scored) / len(scored) if scored else None


def _pairwise_agreement(labels: Sequence[str]) -> float:
    n = len(labels)
    return sum(c * (c - 1) for c in Counter(labels).values()) / (n * (n - 1))


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Cohen's kappa for two annotators who labelled the same items: (p_o - p_e) / (1 - p_e)."""
    if len(first) != len(second):
        raise ValueError("both annotators must label the same items")
    n = len(first)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    count_a, count_b = Counter(first), Counter(second)
    expected = sum(count_a[label] * count_b[label] for label in count_a) / (n * n)
    return None if expected == 1 else (observed - expected) / (1 - expected)


def fleiss_kappa(items: Sequence[Sequence[str]]) -> float | None:
    """Fleiss' kappa over items each labelled by >= 2 annotators (the count may vary per item).

    P_bar = mean of per-item pairwise agreement; P_e = sum of squared overall label shares.
    """
    items = [labels for labels in items if len(labels) >= 2]
    if not items:
        return None
    observed = sum(_pairwise_agreement(labels) for labels in items) / len(items)
    totals = Counter(label for labels in items for label in labels)
    n_labels = sum(totals.values())
    expected = sum((count / n_labels) ** 2 for count in totals.values())
    return None if expected == 1 else (observed - expected) / (1 - expected)


def krippendorff_alpha(items: Sequence[Mapping[str, str]]) -> float | None:
    """Nominal Krippendorff's alpha over items given as {annotator: label}; annotators may differ per item and
    be missing. None when undefined (fewer than two distinct labels, or no item with two judgments)."""
    import krippendorff
    import numpy as np

    annotators = sorted({name for item in items for name in item})
    labels = sorted({label for item in items for label in item.values()})
    if len(labels) < 2 or not any(len(item) >= 2 for item in items):
        return None
    code = {label: float(i) for i, label in enumerate(labels)}
    data = np.full((len(annotators), len(items)), np.nan)
    row = {name: i for i, name in enumerate(annotators)}
    for column, item in enumerate(items):
        for name, label in item.items():
            data[row[name], column] = code[label]
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def agreement_report(groups: Sequence[Sequence[dict]], dimensions: Sequence[str]) -> dict:
    """Per-dimension agreement over the cross-annotated pairs of `groups` (each a pair's annotations).

    Cohen's kappa takes pairs with exactly two annotators (first = alphabetically first annotator);
    Fleiss' kappa is reported as soon as some pair has more than two; Krippendorff's alpha always (it keeps
    who judged what, so rotating annotators and missing judgments are handled).
    """
    multi = [group for group in groups if len(group) >= 2]
    report: dict = {
        "pairs": len(groups),
        "cross_annotated": len(multi),
        "annotators_per_pair": {str(k): v for k, v in sorted(Counter(len(g) for g in groups).items())},
        "dimensions": {},
    }
    for dimension in dimensions:
        items = [[annotation[dimension] for annotation in group] for group in multi]
        two = [labels for labels in items if len(labels) == 2]
        entry = {
            "percent_agreement": _round(percent_agreement(items)),
            "cohen_kappa": _round(cohen_kappa([labels[0] for labels in two], [labels[1] for labels in two])),
            "cohen_pairs": len(two),
            "krippendorff_alpha": _round(krippendorff_alpha(
                [{annotation["annotator"]: annotation[dimension] for annotation in group} for group in multi])),
        }
        if any(len(labels) > 2 for labels in items):
            entry["fleiss_kappa"] = _round(fleiss_kappa(items))
        report["dimensions"][dimension] = entry
    return report


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
