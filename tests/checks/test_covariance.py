"""The covariance checker on toy modules whose symmetry we know: it must pass the right ones and flag the wrong ones."""

import math

import pytest
import torch

from cormorant_lab.checks import CovarianceReport, CovariantModule, check_covariance, random_molecules
from cormorant_lab.so3 import SO3Vec, spherical_harmonics_all


def batch(dtype=torch.float64, atoms=7):
    return random_molecules(3, atoms, min_atoms=4, generator=torch.Generator().manual_seed(3), dtype=dtype)


def centred(positions, charges):
    mask = (charges != 0).unsqueeze(-1).to(positions.dtype)
    centroid = (positions * mask).sum(1, keepdim=True) / mask.sum(1, keepdim=True)
    return (positions - centroid) * mask


def dipole_field(positions, charges):
    """Covariant per-atom vectors: l = 0 the squared distance to the centroid, l = 1 the offset in the real basis (y, z, x)."""
    offset = centred(positions, charges)
    return SO3Vec([(offset * offset).sum(-1)[..., None, None], offset[..., [1, 2, 0]].unsqueeze(-2)])


def test_an_exactly_covariant_module_passes():
    positions, charges = batch()
    report = check_covariance(dipole_field, positions, charges)
    assert report.covariance_errors["output"][0] < 1e-14 and report.covariance_errors["output"][1] < 1e-14
    assert report.translation_error < 1e-14 and report.permutation_error < 1e-14
    assert report.invariance_error is None  # no invariant output to check
    assert report.passed(1e-13)


def test_a_vector_in_the_wrong_basis_is_flagged_at_its_degree_only():
    def wrong_basis(positions, charges):
        vec = dipole_field(positions, charges)
        return SO3Vec([vec.parts[0], vec.parts[1][..., [2, 0, 1]]])  # (x, y, z): not how D^1 acts in our real basis

    report = check_covariance(wrong_basis, *batch())
    assert report.covariance_errors["output"][1] > 0.1
    assert report.covariance_errors["output"][0] < 1e-14
    assert report.worst_level == ("output", 1) and not report.passed(1e-3)


def test_translation_and_permutation_breaking_are_flagged():
    def absolute(positions, charges):  # depends on where the molecule is
        return SO3Vec([(positions * positions).sum(-1)[..., None, None]])

    def ordered(positions, charges):  # depends on the order of the atoms
        offset = centred(positions, charges)
        index = torch.arange(positions.shape[1], dtype=positions.dtype)
        return (index[:, None] * offset.pow(2)).sum((-1, -2))

    positions, charges = batch()
    assert check_covariance(absolute, positions, charges).translation_error > 1e-2
    ordered_report = check_covariance(ordered, positions, charges)
    assert ordered_report.permutation_error > 1e-2 and ordered_report.rotation_error < 1e-14


def test_invariant_outputs_and_pair_features():
    def pair_harmonics(
        positions, charges
    ):  # per-pair features (B, N, N, 1, 2l+1), covariant and permutation-equivariant
        relative = positions.unsqueeze(-2) - positions.unsqueeze(-3)
        return {"pairs": SO3Vec([y.unsqueeze(-2) for y in spherical_harmonics_all(2, relative)])}

    def not_invariant(positions, charges):
        return positions[..., 0].sum(-1)

    positions, charges = batch()
    pairs = check_covariance(pair_harmonics, positions, charges)
    assert max(pairs.covariance_errors["pairs"]) < 1e-13 and pairs.permutation_error < 1e-14
    assert check_covariance(not_invariant, positions, charges).invariance_error > 1e-2


def test_a_module_with_levels_is_checked_level_by_level():
    class TwoLevels(torch.nn.Module):
        def levels(self, positions, charges):
            vec = dipole_field(positions, charges)
            return {"first": vec, "second": SO3Vec([vec.parts[0] ** 2, vec.parts[1] * vec.parts[0]])}

        def forward(self, positions, charges):
            return self.levels(positions, charges)["second"].parts[0].sum((-1, -2, -3))

    module = TwoLevels()
    assert isinstance(module, CovariantModule)
    report = check_covariance(module, *batch())
    assert list(report.covariance_errors) == ["first", "second"]
    assert report.invariance_error < 1e-13 and report.passed(1e-12)


def test_float32_models_are_checked_in_their_dtype_against_float64_transformations():
    positions, charges = batch(torch.float32)
    report = check_covariance(dipole_field, positions, charges)
    assert report.dtype == "float32"
    assert 0 < report.covariance_errors["output"][1] < 1e-5  # float32 rounding, nothing more


def test_report_is_ready_for_notebooks():
    positions, charges = batch()
    report = check_covariance(dipole_field, positions, charges, n_rotations=2)
    summary = report.summary()
    assert "\n" not in summary and "float64" in summary and "invariance —" in summary and "output, l=" in summary
    rows = report.to_rows()
    assert [(row["check"], row["level"]) for row in rows if row["l"] is None] == [
        ("translation", "all"),
        ("permutation", "all"),
    ]
    covariance_rows = [row for row in rows if row["check"] == "covariance"]
    assert [(row["level"], row["l"]) for row in covariance_rows] == [("output", 0), ("output", 1)]
    assert all(set(row) == {"check", "level", "l", "error", "norm"} for row in rows)
    names, matrix = report.table()
    assert names == ["output"] and len(matrix[0]) == 2
    assert report.worst == max(row["error"] for row in rows)
    assert isinstance(report, CovarianceReport) and report.n_rotations == 2


def test_table_pads_levels_without_some_degrees_with_nan():
    def ragged(positions, charges):
        vec = dipole_field(positions, charges)
        return {"scalars": SO3Vec(vec.parts[:1]), "vectors": vec}

    names, matrix = check_covariance(ragged, *batch()).table()
    assert names == ["scalars", "vectors"] and math.isnan(matrix[0][1]) and not math.isnan(matrix[1][1])


def test_reproducible_and_restores_tf32_settings():
    positions, charges = batch()
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        first = check_covariance(dipole_field, positions, charges)
        assert torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32 = False
    assert first == check_covariance(dipole_field, positions, charges)


def test_rejects_what_it_cannot_check():
    positions, charges = batch()
    with pytest.raises(TypeError, match="returned"):
        check_covariance(lambda p, c: [p], positions, charges)
    with pytest.raises(ValueError, match="n_rotations"):
        check_covariance(dipole_field, positions, charges, n_rotations=0)
