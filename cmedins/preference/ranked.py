"""ChiMed-GPT style ranked responses to pairs: rank the responses (doctor > strong model > weak model), then
pair every two adjacent responses, the higher-ranked one chosen."""

from __future__ import annotations


def adjacent_pairs(ranking: dict) -> list[dict]:
    """[r1, r2, r3, r4] best first -> (r1 > r2), (r2 > r3), (r3 > r4) as preference rows."""
    responses = ranking["responses"]
    base = {key: value for key, value in ranking.items() if key not in ("kind", "responses")}
    return [
        {**base, "kind": "preference", "chosen": better, "rejected": worse, "rank": rank}
        for rank, (better, worse) in enumerate(zip(responses, responses[1:], strict=False), start=1)
        if better != worse
    ]
