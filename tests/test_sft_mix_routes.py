"""The mix routes each spooled row with one byte (dropped / train / validation), choosing exactly the rows the
list-and-set selection chose: same seed, same sampling, so builds stay byte-identical."""

from __future__ import annotations

import numpy as np

from cmedins.runner.ledger import Ledger
from cmedins.runner.recipe import Recipe
from cmedins.runner.split import validation_indices
from cmedins.sft import mix as mixing
from cmedins.sft.build import DROPPED, TRAIN, VALIDATION, _mix_and_split


def _recipe(ratios: dict[str, float], validation: float) -> Recipe:
    return Recipe.model_validate({"name": "t", "seed": 11, "output": "out",
                                  "sources": [{"name": "s", "path": "s.jsonl", "format": "record"}],
                                  "mix": {"ratios": ratios}, "split": {"validation": validation}})


def test_routes_match_the_list_and_set_selection(tmp_path):
    available = {"cmedins": 5_003, "dialogue_single": 1_200, "dialogue_multi": 700, "general": 0}
    recipe = _recipe({"dialogue_single": 1, "dialogue_multi": 1}, 0.1)
    selection = _mix_and_split(recipe, available, Ledger(tmp_path / "q", tmp_path / "pq"))
    targets = mixing.target_counts(available, recipe.mix.ratios)
    for group, n in available.items():
        chosen = mixing.choose(n, targets[group], recipe.seed, group)
        held_out = validation_indices(chosen, 0.1, recipe.seed, group)
        expected = np.full(n, DROPPED, dtype=np.int8)
        expected[chosen] = TRAIN
        expected[sorted(held_out)] = VALIDATION
        assert np.array_equal(selection.routes[group], expected), group
        assert selection.selected[group] == len(chosen)
    assert selection.selected == {"cmedins": 5_003, "dialogue_single": 700, "dialogue_multi": 700, "general": 0}
    assert int(np.count_nonzero(selection.routes["dialogue_single"] == VALIDATION)) == 70
    assert selection.routes["cmedins"].nbytes == 5_003  # one byte per row, not a Python set of ints
