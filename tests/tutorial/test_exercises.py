import math

import pytest
import sympy
import torch

from cormorant_lab.so3 import SO3Vec
from cormorant_lab.tutorial import EXERCISES, check_answer, reality_split, show_solution, solution_answer

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
    "molecules_to_halve_error": (4000.0, {"n": 1000, "beta": 0.5}),
    "md_steps_for_frames": (2000 + 400 * 5, {"n_frames": 400, "save_every": 5, "n_equilibration": 2000}),
    # answers that are code or a yes/no, examined by the exercise's judge
    "cg_exchange_sign": (lambda l1, l2, l: 1 if (l1 + l2 + l) % 2 == 0 else -1, {}),
    "parity_sign": (lambda l: 1 - 2 * (l % 2), {}),
    "inversion_is_rotation": (False, {}),
    "mirror_same_energy": (False, {}),
    "gated_nonlinearity": (
        lambda f: SO3Vec(
            [f[0] ** 3] + [p * (1 + n.unsqueeze(-1)) for p, n in zip(f.parts[1:], f.norms()[1:], strict=False)]
        ),
        {},
    ),
    "broken_levels": (
        ("atom_2", "edge_3", "atom_3"),
        {"levels": ("input", "edge_1", "atom_1", "edge_2", "atom_2", "edge_3", "atom_3"), "broken_at": "atom_2"},
    ),
    "reality_real_part": (lambda f: reality_split(f)[0], {}),
    "l1_arrow_direction": ((0.5, -2.0, 1.0), {"features": (-2.0, 1.0, 0.5)}),
    "ellipsoid_volume": (1.0, {}),
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
    assert check_answer(
        "y10_north_pole", torch.tensor(math.sqrt(3 / (4 * math.pi)), dtype=torch.float64), verbose=False
    )
    assert check_answer("level1_channels", torch.tensor([12, 4, 4]), channels=4, max_sh=2, maxl=3, verbose=False)


def test_unanswered_prints_the_question(capsys):
    assert not check_answer("character_l2", None)
    assert "not answered yet" in capsys.readouterr().out


def test_unknown_exercise():
    with pytest.raises(KeyError, match="known"):
        check_answer("no_such_exercise", 1.0)


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_every_solution_passes_the_same_checker(name, capsys):
    """What CI runs instead of executing solution cells: each packaged solution, through check_answer."""
    exercise = EXERCISES[name]
    assert exercise.solution.strip() and "answer" in exercise.solution
    assert check_answer(name, solution_answer(name), **exercise.example)
    assert "✓" in capsys.readouterr().out


def test_show_solution_prints_without_running(capsys):
    show_solution("cg_11_1m1_00")
    out = capsys.readouterr().out
    assert "answer = 1 / math.sqrt(3)" in out and "✓" not in out


@pytest.mark.parametrize(
    "wrong, reason",
    [
        (-1 / math.sqrt(3), "wrong sign"),
        (2 / math.sqrt(3), "factor of 2"),
        (0.1, "not this value"),
        ("0.57", "number"),
    ],
)
def test_wrong_numbers_say_why(wrong, reason, capsys):
    assert not check_answer("cg_11_1m1_00", wrong)
    assert reason in capsys.readouterr().out


def test_judges_reject_wrong_code_and_say_why(capsys):
    assert not check_answer("cg_exchange_sign", lambda l1, l2, l: 1)
    assert "swapping the factors multiplies the block by -1" in capsys.readouterr().out
    assert not check_answer("parity_sign", lambda l: 1)
    assert "at l = 1" in capsys.readouterr().out
    assert not check_answer("gated_nonlinearity", lambda f: SO3Vec([torch.relu(p) for p in f]))
    assert "not covariant" in capsys.readouterr().out
    assert not check_answer("gated_nonlinearity", lambda f: f * 3.0)
    assert "linear" in capsys.readouterr().out
    assert not check_answer("gated_nonlinearity", lambda f: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert not check_answer("inversion_is_rotation", True) and not check_answer("inversion_is_rotation", "no")
    assert not check_answer(
        "broken_levels", ("atom_1",), levels=("input", "edge_1", "atom_1", "edge_2"), broken_at="atom_1"
    )
    assert not check_answer("l1_arrow_direction", (1.0, 0.0, 0.0), features=(1.0, 0.0, 0.0))  # (y, z, x) order


def test_reality_judge_says_why(capsys):
    assert not check_answer("reality_real_part", lambda f: f)  # F itself: off the condition
    assert "breaks the reality condition at l = 0" in capsys.readouterr().out
    assert not check_answer("reality_real_part", lambda f: f * 0.0)  # satisfies it, but Q = F/i does not
    assert "Q = (F − P)/i does not" in capsys.readouterr().out
    assert not check_answer("reality_real_part", lambda f: f.parts)
    assert "complex-basis SO3Vec" in capsys.readouterr().out
    assert not check_answer("reality_real_part", lambda f: reality_split(f)[1])  # Q, not P
    assert "Q = (F − P)/i does not" in capsys.readouterr().out
