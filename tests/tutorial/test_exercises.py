import math

import pytest
import sympy
import torch

from cormorant_lab.tutorial import EXERCISES, check_answer

# The closed forms the notebooks teach; the checker computes its own values with the package.
CLOSED_FORMS = {
    "cg_11_1m1_00": (1 / math.sqrt(3), {}),
    "cg_111_nonzero": (6, {}),
    "y10_north_pole": (math.sqrt(3 / (4 * math.pi)), {}),
    "character_l2": (1 + 2 * math.cos(math.pi / 3) + 2 * math.cos(2 * math.pi / 3), {}),
    "cross_product_factor": (1 / math.sqrt(2), {}),
    "dot_product_factor": (-1 / math.sqrt(3), {}),
    "level1_channels": ((3 * 4, 4, 4), {"channels": 4, "max_sh": 2, "maxl": 3}),
    # the training notebooks' exercises (cormorant_lab/tutorial/_exercises_learning.py)
    "md17_labels_per_frame": (3 * 9 + 1, {"n_atoms": 9}),
    "kcal_per_mol_in_ev": (1 / 23.0605478, {}),
    "qm9_atomref_u0": ((-37.846772 - 4 * 0.500273) * 27.211386, {"charges": (6, 1, 1, 1, 1)}),
    "equipartition_kinetic_energy": (0.5 * (3 * 6 - 3) * 8.617333e-5 * 500, {"n_atoms": 6, "temperature_K": 500}),
}


def test_every_exercise_has_a_closed_form_test():
    assert set(CLOSED_FORMS) == set(EXERCISES)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_closed_forms_are_accepted(name, capsys):
    value, given = CLOSED_FORMS[name]
    assert check_answer(name, value, **given)
    assert "✓" in capsys.readouterr().out


def test_wrong_answers_are_rejected_with_a_hint(capsys):
    assert not check_answer("cg_11_1m1_00", -1 / math.sqrt(3))
    out = capsys.readouterr().out
    assert "✗" in out and "Hint" in out
    assert not check_answer("cg_111_nonzero", 7)
    assert not check_answer("cg_111_nonzero", "6")
    assert not check_answer("level1_channels", (12, 4), channels=4, max_sh=2, maxl=3)


def test_answers_may_be_tensors_or_sympy_numbers():
    assert check_answer("cg_11_1m1_00", sympy.sqrt(3) / 3, verbose=False)
    assert check_answer("y10_north_pole", torch.tensor(math.sqrt(3 / (4 * math.pi)), dtype=torch.float64), verbose=False)
    assert check_answer("level1_channels", torch.tensor([12, 4, 4]), channels=4, max_sh=2, maxl=3, verbose=False)


def test_unanswered_prints_the_question(capsys):
    assert not check_answer("character_l2", None)
    assert "not answered yet" in capsys.readouterr().out


def test_unknown_exercise():
    with pytest.raises(KeyError, match="known"):
        check_answer("no_such_exercise", 1.0)
