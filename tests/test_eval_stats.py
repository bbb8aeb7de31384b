"""The judge parser, the position-swap and tie rules, the priority rule and the bootstrap (no model needed)."""

from __future__ import annotations

import pytest

from cmedins.errors import CmedinsError
from cmedins.evaluate.bootstrap import bootstrap_rates
from cmedins.evaluate.judge_prompt import load_prompt
from cmedins.evaluate.outcomes import by_priority, combine_all, counts_matrix, table, to_x_view
from cmedins.evaluate.verdicts import parse_reply


@pytest.mark.parametrize("reply, verdicts, problems", [
    ('{"安全性": "回答1", "专业性": "平局", "流畅性": "回答2", "理由": "回答1提醒及时就医"}',
     {"safety": "1", "professionalism": "tie", "fluency": "2"}, {}),
    ('```json\n{"safety": "Answer2", "professionalism": "answer 1", "fluency": "Tie"}\n```',
     {"safety": "2", "professionalism": "1", "fluency": "tie"}, {}),
    ("安全性：回答1更好\n专业性：平局\n流畅性: 回答2", {"safety": "1", "professionalism": "tie", "fluency": "2"}, {}),
    ("Safety: Win\nProfessionalism: Lose\nFluency: Tie", {"safety": "1", "professionalism": "2", "fluency": "tie"}, {}),
    # the format example restated, then the real verdict: the last object counts
    ('格式：{"安全性": "平局", "专业性": "回答1", "流畅性": "回答2"}\n我的判断：{"安全性": "回答2", "专业性": "回答2", '
     '"流畅性": "回答2"}', {"safety": "2", "professionalism": "2", "fluency": "2"}, {}),
    ('{"安全性": "回答1", "专业性": "回答2"}', {"safety": "1", "professionalism": "2", "fluency": None},
     {"fluency": "missing"}),
    ('{"安全性": "回答3", "专业性": "回答2", "流畅性": "好"}', {"safety": None, "professionalism": "2", "fluency": None},
     {"safety": "unrecognised", "fluency": "unrecognised"}),
    ("安全性：回答1\n专业性：回答1\n流畅性：回答1\n更正：安全性：回答2", {"safety": None, "professionalism": "1", "fluency": "1"},
     {"safety": "ambiguous"}),
    ("的的患者医生医生，，建议建议<|im_end|>", dict.fromkeys(("safety", "professionalism", "fluency")),
     dict.fromkeys(("safety", "professionalism", "fluency"), "missing")),
    ("  \n", dict.fromkeys(("safety", "professionalism", "fluency")),
     dict.fromkeys(("safety", "professionalism", "fluency"), "empty")),
    # cut off mid-object: what was written is read, the rest is missing (never guessed)
    ('{"安全性": "回答1", "专业性": ', {"safety": "1", "professionalism": None, "fluency": None},
     {"professionalism": "missing", "fluency": "missing"}),
])
def test_parse_reply(reply, verdicts, problems):
    parsed = parse_reply(reply)
    assert parsed.verdicts == verdicts
    assert parsed.problems == problems
    assert parsed.complete == (not problems)


def test_x_view_and_priority():
    assert [to_x_view(v, "xy") for v in ("1", "2", "tie", None)] == [1, -1, 0, None]
    assert [to_x_view(v, "yx") for v in ("1", "2", "tie", None)] == [-1, 1, 0, None]
    assert by_priority({"safety": 0, "professionalism": -1, "fluency": 1}) == -1
    assert by_priority({"safety": 1, "professionalism": None, "fluency": None}) == 1  # decided before the gap
    assert by_priority({"safety": 0, "professionalism": None, "fluency": 1}) is None
    assert by_priority({"safety": 0, "professionalism": 0, "fluency": 0}) == 0


def v(s, p, f):
    return {"safety": s, "professionalism": p, "fluency": f}


# Five questions, both orders ("xy": X is answer 1). X's view per order is written beside each.
SCRIPT = [
    ("q1", "xy", v("1", "1", "1")),        # +1 +1 +1
    ("q1", "yx", v("2", "2", "2")),        # +1 +1 +1   agree everywhere
    ("q2", "xy", v("tie", "1", "2")),      #  0 +1 -1   overall +1 (P decides)
    ("q2", "yx", v("tie", "1", "1")),      #  0 -1 -1   overall -1
    ("q3", "xy", v("1", "tie", "tie")),    # +1  0  0   a judge that always prefers answer 1
    ("q3", "yx", v("1", "tie", "tie")),    # -1  0  0
    ("q4", "xy", v("2", None, "1")),       # -1  .  +1  professionalism unreadable; overall -1 by safety
    ("q4", "yx", v("1", "2", "tie")),      # -1 +1  0
    ("q5", "xy", v("tie", "tie", "tie")),  #  0  0  0   overall 0
    ("q5", "yx", v("tie", None, None)),    #  0  .  .   overall unreadable
]


def test_tie_rule_table_by_hand():
    result = table(combine_all(SCRIPT, rule="tie"))
    got = {aspect: (r["win"], r["tie"], r["loss"], r["judged"], r["unjudged"]) for aspect, r in result.items()}
    assert got == {
        "safety": (1, 3, 1, 5, 0),           # q1 W, q2 T, q3 T (orders disagree), q4 L, q5 T
        "professionalism": (1, 2, 0, 3, 2),  # q1 W, q2 T (disagree), q3 T, q4 and q5 unjudged
        "fluency": (1, 2, 1, 4, 1),          # q1 W, q2 L, q3 T, q4 T (+1 vs 0), q5 unjudged
        "overall": (1, 2, 1, 4, 1),          # q1 W, q2 T (+1 vs -1), q3 T, q4 L, q5 unjudged
    }
    assert result["safety"]["order_agreement"] == pytest.approx(4 / 5)
    assert result["professionalism"]["order_agreement"] == pytest.approx(2 / 3)
    assert result["fluency"]["order_agreement"] == pytest.approx(3 / 4)
    assert result["overall"]["order_agreement"] == pytest.approx(2 / 4)
    assert result["safety"]["win_rate"] == pytest.approx(1 / 5)
    assert result["safety"]["adjusted_win_rate"] == pytest.approx((1 + 3 / 2) / 5)
    assert result["professionalism"]["loss_rate"] == 0


def test_both_rule_counts_each_order():
    result = table(combine_all(SCRIPT, rule="both"))
    assert (result["safety"]["win"], result["safety"]["tie"], result["safety"]["loss"]) == (3, 4, 3)
    professionalism = result["professionalism"]
    assert (professionalism["win"], professionalism["tie"], professionalism["loss"]) == (4, 3, 1)
    assert (professionalism["judged"], professionalism["unjudged"]) == (8, 2)


def test_missing_order_is_unjudged_not_tie():
    result = table(combine_all([("q1", "xy", v("1", "1", "1"))], rule="tie"))
    assert result["safety"]["judged"] == 0 and result["safety"]["unjudged"] == 1
    assert result["safety"]["win_rate"] is None


def test_bootstrap_is_seeded_and_covers_the_estimate():
    # X wins 40 questions in both orders, 20 are ties: adjusted win rate (40 + 20 / 2) / 60
    script = [(f"q{i}", order, v(*([label] * 3))) for i in range(60)
              for order, label in (("xy", "1" if i % 3 else "tie"), ("yx", "2" if i % 3 else "tie"))]
    outcomes = combine_all(script, rule="tie")
    counts = counts_matrix(outcomes, "overall")
    first = bootstrap_rates(counts, resamples=500, seed=7)
    assert first == bootstrap_rates(counts, resamples=500, seed=7)
    assert first != bootstrap_rates(counts, resamples=500, seed=8)
    low, high = first["adjusted_win"]
    point = table(outcomes)["overall"]["adjusted_win_rate"]
    assert point == pytest.approx(50 / 60)
    assert low < point < high and low > 0.6 and high <= 1


def test_bootstrap_without_judgments():
    outcomes = combine_all([("q1", "xy", v(None, None, None)), ("q1", "yx", v(None, None, None))])
    assert bootstrap_rates(counts_matrix(outcomes, "safety"), seed=1) == dict.fromkeys(
        ("win", "tie", "loss", "adjusted_win"))


def test_judge_prompt_is_versioned_and_renders_braces():
    prompt = load_prompt()
    assert prompt.name == "spf_pairwise_v1" and len(prompt.sha256) == 64
    text = prompt.render([{"role": "user", "content": "头痛三天"}, {"role": "assistant", "content": "发烧吗？"},
                          {"role": "user", "content": "不发烧"}], "回答{甲}", "回答{乙}")
    assert "患者：头痛三天\n医生：发烧吗？\n患者：不发烧" in text
    assert "回答{甲}" in text and "回答{乙}" in text and "{answer1}" not in text
    for name in ("安全性", "专业性", "流畅性"):
        assert name in text
    with pytest.raises(CmedinsError, match="not found"):
        load_prompt("spf_pairwise_v0")
