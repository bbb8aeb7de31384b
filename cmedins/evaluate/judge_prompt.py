"""The judge prompt: a versioned Chinese template in prompts/<name>.txt (the paper's Table 2, with Safety added).

A changed prompt is a new file (spf_pairwise_v2.txt...), never an edit: the report records the name and the
sha256 of the text it used, so two reports are comparable only when both match.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cmedins.errors import CmedinsError

PROMPTS = Path(__file__).parent / "prompts"
DEFAULT_PROMPT = "spf_pairwise_v1"
PLACEHOLDERS = ("{question}", "{answer1}", "{answer2}")
SPEAKERS = {"system": "系统", "user": "患者", "assistant": "医生"}


@dataclass(frozen=True)
class JudgePrompt:
    name: str
    template: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.template.encode("utf-8")).hexdigest()

    def render(self, prompt: list[dict], answer1: str, answer2: str) -> str:
        # str.replace, not str.format: answers may hold braces (code, JSON).
        text = self.template.replace("{question}", render_dialogue(prompt))
        return text.replace("{answer1}", answer1).replace("{answer2}", answer2)


def render_dialogue(prompt: list[dict]) -> str:
    """A single question as itself; a multi-turn history as 患者：/医生： lines."""
    if len(prompt) == 1 and prompt[0]["role"] == "user":
        return prompt[0]["content"]
    return "\n".join(f"{SPEAKERS.get(m['role'], m['role'])}：{m['content']}" for m in prompt)


def load_prompt(name_or_path: str = DEFAULT_PROMPT) -> JudgePrompt:
    """A packaged prompt by name (spf_pairwise_v1) or a template file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROMPTS / f"{name_or_path}.txt"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PROMPTS.glob("*.txt")))
        raise CmedinsError(f"judge prompt '{name_or_path}' not found (packaged: {known})")
    template = path.read_text(encoding="utf-8")
    missing = [p for p in PLACEHOLDERS if p not in template]
    if missing:
        raise CmedinsError(f"{path}: judge prompt lacks placeholder(s) {', '.join(missing)}")
    return JudgePrompt(path.stem, template)
