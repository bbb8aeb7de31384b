"""Row ids are stable over whitespace variants and differ for different content."""

from __future__ import annotations

from cmedins.contracts.ids import content_id, normalise_for_id


def test_whitespace_variants_share_an_id():
    wrapped = [{"role": "user", "content": "  血压150/90mmHg，\n\n头晕 三天。\n"}]
    flat = [{"role": "user", "content": "血压150/90mmHg， 头晕 三天。"}]
    assert normalise_for_id("  头晕\u3000\n三天 ") == "头晕 三天"
    assert content_id(wrapped) == content_id(flat)
    assert len(content_id(flat)) == 32


def test_different_content_or_task_changes_the_id():
    messages = [{"role": "user", "content": "头痛"}, {"role": "assistant", "content": "休息"}]
    assert content_id(messages, "diagnosis") != content_id(messages, "treatment")
    assert content_id(messages) != content_id([{**messages[0], "content": "头晕"}, messages[1]])
