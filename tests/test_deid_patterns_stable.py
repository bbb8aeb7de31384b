"""The detectors' patterns are the same text in every process: the prefilter keeps compiled Hyperscan databases
in a cache keyed by that text, so a pattern built from a set (whose order follows the hash seed) made every
process compile again (~3 CPU-s each) and churned the cache."""

from __future__ import annotations

import os
import subprocess
import sys

SNAPSHOT = (
    "import hashlib\n"
    "from cmedins.deid import names, recognizers, residual\n"
    "texts = [p.pattern for p in names.SCANS]\n"
    "texts += [p.regex for r in recognizers.pattern_recognizers() for p in getattr(r, 'patterns', [])]\n"
    "texts += [str(v.pattern) for v in vars(residual).values() if hasattr(v, 'pattern')]\n"
    "print(hashlib.sha256('\\x00'.join(texts).encode()).hexdigest())\n"
)


def _digest(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run([sys.executable, "-c", SNAPSHOT], env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_patterns_do_not_depend_on_the_hash_seed():
    assert _digest("1") == _digest("2") == _digest("3")
