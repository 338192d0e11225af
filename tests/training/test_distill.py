"""Distillation: the soft-target loss, the teacher's clean view, and a teacher that really steers training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from moodtape.errors import DatasetError  # noqa: E402
from moodtape.training.distill import Teacher, answers_once, distillation_loss  # noqa: E402
from moodtape.training.robust_augment import add_conditions, robust_augment, robust_geometry  # noqa: E402
from moodtape.vision import models  # noqa: E402

BUNDLED = Path(models.__file__).parent / models.BUNDLED_MODEL


def test_the_loss_is_zero_for_the_teachers_own_answer_and_grows_with_disagreement() -> None:
    teacher = torch.tensor([[2.0, 0.5, -1.0, 0.0, 0.0, 0.0, 0.0]])
    assert float(distillation_loss(teacher.clone(), teacher, temperature=2.0)) == pytest.approx(0.0, abs=1e-7)
    # Logits that differ by a constant give the same softmax: no disagreement.
    assert float(distillation_loss(teacher + 3.0, teacher, temperature=2.0)) == pytest.approx(0.0, abs=1e-6)
    near = distillation_loss(teacher * 0.9, teacher, temperature=2.0)
    far = distillation_loss(teacher.flip(1), teacher, temperature=2.0)
    assert 0 < float(near) < float(far)


def test_a_gradient_step_on_the_loss_moves_the_student_toward_the_teacher() -> None:
    teacher = torch.tensor([[3.0, -1.0, 0.0, 1.0, 0.0, -2.0, 0.5]])
    student = torch.zeros(1, 7, requires_grad=True)
    before = float(distillation_loss(student, teacher, temperature=2.0))
    distillation_loss(student, teacher, temperature=2.0).backward()
    with torch.no_grad():
        student -= 1.0 * student.grad
    assert float(distillation_loss(student, teacher, temperature=2.0)) < before
    assert int(student.argmax()) == int(teacher.argmax())


def test_the_bundled_model_as_teacher_gives_its_logits_for_a_batch() -> None:
    faces = torch.rand(5, 1, 48, 48, generator=torch.Generator().manual_seed(0))
    logits = Teacher(BUNDLED).logits(faces)
    assert logits.shape == (5, 7) and logits.dtype == torch.float32
    assert bool(torch.isfinite(logits).all())
    # Different faces get different answers: the teacher really reads its input.
    assert float((logits[0] - logits[1]).abs().max()) > 1e-3


def test_a_missing_teacher_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such model file"):
        Teacher(tmp_path / "nothing.onnx")


def test_the_student_sees_the_teachers_face_with_conditions_added() -> None:
    faces = torch.rand(64, 1, 48, 48, generator=torch.Generator().manual_seed(1))
    clean = robust_geometry(faces, torch.Generator().manual_seed(2))
    generator = torch.Generator().manual_seed(2)
    same_clean = robust_geometry(faces, generator)
    degraded = add_conditions(same_clean, generator)
    assert torch.equal(clean, same_clean)
    changed = (degraded - clean).abs().flatten(1).amax(1) > 1.5 / 255
    # Each condition has its own chance, so some faces keep the clean view and most do not.
    assert 0 < int(changed.sum()) < 64
    # Splitting the augmentation in two draws the same random numbers as the one-step version.
    np.testing.assert_array_equal(degraded.numpy(), robust_augment(faces, torch.Generator().manual_seed(2)).numpy())


def test_answers_read_once_are_the_mean_of_the_face_and_its_mirror() -> None:
    teacher = Teacher(BUNDLED)
    faces = torch.rand(9, 1, 48, 48, generator=torch.Generator().manual_seed(4))
    answers = answers_once(teacher, faces, batch_size=4)
    mirrored = torch.flip(faces, dims=[3])
    expected = (teacher.logits(faces) + teacher.logits(mirrored)) / 2
    torch.testing.assert_close(answers, expected, atol=1e-5, rtol=0)
    # The same target for a face and its mirror: training's flips do not change what it should learn.
    torch.testing.assert_close(answers_once(teacher, mirrored), answers, atol=1e-5, rtol=0)
