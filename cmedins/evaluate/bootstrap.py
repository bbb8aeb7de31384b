"""Percentile bootstrap intervals over questions, seeded (the same seed gives the same interval).

Questions are the resampling unit (under the `both` order rule a question carries two judgments, which are
not independent). numpy's Generator does it in a few vectorised lines; scipy.stats.bootstrap would add a
dependency for one statistic at a time.
"""

from __future__ import annotations

import numpy as np

STATISTICS = ("win", "tie", "loss", "adjusted_win")


def bootstrap_rates(counts: np.ndarray, *, resamples: int = 1000, confidence: float = 0.95, seed: int = 0
                    ) -> dict[str, list[float] | None]:
    """[low, high] per statistic from a (questions, 3) win/tie/loss count matrix; None without judgments."""
    judged = counts[counts.sum(axis=1) > 0]
    if len(judged) == 0 or resamples <= 0:
        return dict.fromkeys(STATISTICS)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(judged), size=(resamples, len(judged)))
    sums = judged[picks].sum(axis=1).astype(np.float64)  # (resamples, 3)
    totals = sums.sum(axis=1)
    samples = {"win": sums[:, 0] / totals, "tie": sums[:, 1] / totals, "loss": sums[:, 2] / totals,
               "adjusted_win": (sums[:, 0] + sums[:, 1] / 2) / totals}
    tail = (1 - confidence) / 2 * 100
    return {name: [round(float(v), 6) for v in np.percentile(values, [tail, 100 - tail])]
            for name, values in samples.items()}
