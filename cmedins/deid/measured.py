"""The de-identifier's measured figures (cmedins/deid/measured.json, written by bench/bench_deid.py on real text),
for the dataset card: it states what was measured, on which data and with which command, instead of a claim.

Keys: benchmark (the command), data, measured_on, planted, leak_rate {type: fraction},
leak_rate_by_spelling, clinical_words_kept, mb_per_s_per_core, residual_scan_recall.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

MEASURED_FILE = "measured.json"


def load_measured() -> dict[str, Any] | None:
    """The measured figures, or None when the package carries no measurement (say so, never guess)."""
    path = resources.files("cmedins.deid").joinpath(MEASURED_FILE)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None
