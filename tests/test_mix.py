"""Mixing targets and seeded selection."""

from __future__ import annotations

from cmedins.runner.split import validation_indices
from cmedins.sft.mix import choose, target_counts

AVAILABLE = {"cmedins": 1200, "dialogue_single": 900, "dialogue_multi": 250, "general": 80}


def test_one_to_one_dialogues_keep_unnamed_groups_whole():
    assert target_counts(AVAILABLE, {"dialogue_single": 1, "dialogue_multi": 1}) == {
        "cmedins": 1200, "dialogue_single": 250, "dialogue_multi": 250, "general": 80}


def test_all_groups_named_follow_the_scarcest():
    targets = target_counts(AVAILABLE, {"cmedins": 10, "dialogue_single": 4, "dialogue_multi": 4, "general": 1})
    # multi-turn allows 250 / 4 = 62.5 units of ratio; every named group gets floor(62.5 * its ratio).
    assert targets == {"cmedins": 625, "dialogue_single": 250, "dialogue_multi": 250, "general": 62}


def test_zero_ratio_excludes_and_empty_group_does_not_zero_the_others():
    assert target_counts(AVAILABLE, {"general": 0})["general"] == 0
    empty = {**AVAILABLE, "dialogue_multi": 0}
    assert target_counts(empty, {"dialogue_single": 1, "dialogue_multi": 1})["dialogue_single"] == 900


def test_selection_and_holdout_are_seeded_and_stratified():
    first, again = choose(900, 250, 42, "dialogue_single"), choose(900, 250, 42, "dialogue_single")
    assert first == again and len(first) == 250 and first == sorted(first)
    assert choose(900, 250, 43, "dialogue_single") != first
    held = validation_indices(first, 0.1, 42, "dialogue_single")
    assert len(held) == 25 and held <= set(first)
