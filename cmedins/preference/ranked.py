"""Ranked or scored response lists to preference pairs.

Two public shapes:
- ChiMed-GPT ranked lists (doctor > strong model > weak model), responses as plain texts best first: every
  two adjacent responses make a pair, the higher-ranked one chosen (`decided_by: rank`);
- score-ranked multi-model lists (several models' answers to one prompt, each with a judge's score, e.g.
  GPT-4 1-10): responses are sorted by score, highest first (input order breaks ties), and paired by the
  recipe's `ties` rule; a pair is kept only when its score margin reaches `min_margin` (`decided_by: score`).

Equal scores cannot express a preference, so they never become a pair: with `ties: drop` the adjacent pairs
between equal scores are dropped (counted as `tied_scores`); with `ties: next_lower` each response is paired
with the best response scored strictly lower, so no response is lost to a tie (the lowest-scored ones only
appear as rejected). Every pair carries its provenance: both scores, the margin, both model names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

TIE_RULES = ("drop", "next_lower")


@dataclass(frozen=True)
class PairingRule:
    ties: str = "drop"
    min_margin: float = 0.0  # scored lists only: a kept pair's score margin is >= this (and always > 0)

    def __post_init__(self) -> None:
        if self.ties not in TIE_RULES:
            raise ValueError(f"ties must be one of {', '.join(TIE_RULES)}, not {self.ties!r}")
        if self.min_margin < 0:
            raise ValueError("min_margin must be >= 0")


def _entries(ranking: dict) -> list[dict]:
    """Responses as {text, model, score, rm} dicts, in the order given (`response_meta` runs beside
    `responses`, so that the texts stay a plain list for de-identification)."""
    meta = ranking.get("response_meta") or [{} for _ in ranking["responses"]]
    return [{"text": text, "model": m.get("model"), "score": m.get("score"), "rm": m.get("rm") or {}}
            for text, m in zip(ranking["responses"], meta, strict=True)]


def _pair(base: dict, better: dict, worse: dict, rank: int, scored: bool) -> dict:
    # Reward-model columns per response become <model>_chosen / <model>_rejected, the shape rm_vote reads.
    rm = {f"{name}_chosen": value for name, value in better["rm"].items()}
    rm.update({f"{name}_rejected": value for name, value in worse["rm"].items()})
    margin = round(better["score"] - worse["score"], 6) if scored else None
    return {**base, "kind": "preference", "chosen": better["text"], "rejected": worse["text"], "rank": rank,
            "chosen_model": better["model"], "rejected_model": worse["model"],
            "chosen_score": better["score"], "rejected_score": worse["score"], "score_margin": margin,
            "decided_by": "score" if scored else "rank", "scores": {**(base.get("scores") or {}), **rm}}


def adjacent_pairs(ranking: dict, rule: PairingRule | None = None) -> tuple[list[dict], Counter]:
    """One ranking row -> (preference rows, Counter of dropped candidate pairs by reason).

    [r1, r2, r3, r4] best first -> (r1 > r2), (r2 > r3), (r3 > r4). Reasons: `identical_responses`,
    `tied_scores`, `below_min_margin`.
    """
    rule = rule or PairingRule()
    entries = _entries(ranking)
    scored = all(e["score"] is not None for e in entries)
    base = {key: value for key, value in ranking.items() if key not in ("kind", "responses", "response_meta")}
    dropped: Counter = Counter()
    if scored:
        entries = sorted(entries, key=lambda e: -e["score"])  # stable: input order breaks ties
    candidates = _candidates(entries, scored, rule.ties)
    pairs = []
    for better, worse in candidates:
        if better["text"] == worse["text"]:
            dropped["identical_responses"] += 1
        elif scored and better["score"] == worse["score"]:
            dropped["tied_scores"] += 1
        elif scored and better["score"] - worse["score"] < rule.min_margin:
            dropped["below_min_margin"] += 1
        else:
            pairs.append(_pair(base, better, worse, len(pairs) + 1, scored))
    return pairs, dropped


def _candidates(entries: list[dict], scored: bool, ties: str) -> list[tuple[dict, dict]]:
    if not scored or ties == "drop":
        return list(zip(entries, entries[1:], strict=False))
    out = []
    for i, better in enumerate(entries):
        lower = next((e for e in entries[i + 1:] if e["score"] < better["score"]), None)
        if lower is not None:
            out.append((better, lower))
    return out
