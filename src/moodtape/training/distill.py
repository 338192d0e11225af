"""Distillation from an exported model: keep what it reads on clean faces while learning hard ones.

Fine-tuning on webcam and photo conditions alone taught the networks blur, noise and masks but cost
clean FER2013 accuracy (model card, "Model v2: a first fine-tune"). Here the teacher, an exported
ONNX model such as the bundled two-network ensemble, reads each training face *before* the
conditions are added, and the student learns to give the same soft answer on the degraded copy.
Because the teacher is an ensemble, its soft labels are also better than either network's own,
which is the classic way to move an ensemble's accuracy into a single network.

The teacher runs in ONNX Runtime, so no second PyTorch network is needed and an int8 file works.
It reads either every augmented batch (the default) or, with ``--distill-once``, each training face
once before training (:func:`answers_once`), which makes a slow teacher (four passes) free per epoch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.nn import functional
from tqdm import tqdm

from moodtape.errors import DatasetError
from moodtape.vision.classifier import create_session


class Teacher:
    """Logits of an exported moodtape model (input ``(n, 1, 48, 48)`` gray / 255, first output logits)."""

    def __init__(self, path: str | Path, threads: int = 1) -> None:
        if not Path(path).is_file():
            raise DatasetError(f"--distill {path}: no such model file")
        # The app's own session settings: idle ORT threads do not spin and steal the training core.
        self.session = create_session(Path(path).read_bytes(), threads)
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or list(inputs[0].shape[1:]) != [1, 48, 48]:
            raise DatasetError(f"--distill {path}: expected one input of shape (n, 1, 48, 48), a moodtape model")
        self.input_name = inputs[0].name

    def logits(self, faces: torch.Tensor) -> torch.Tensor:
        """The teacher's logits for ``faces`` (``(n, 1, 48, 48)`` float in [0, 1])."""
        batch = np.ascontiguousarray(faces.float().numpy(), dtype=np.float32)
        return torch.from_numpy(np.asarray(self.session.run(None, {self.input_name: batch})[0], dtype=np.float32))


def answers_once(teacher: Teacher, faces: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """The teacher's logits for every face, averaged with its mirror image's.

    Training flips half the faces, so a target that is the same for a face and its mirror fits both;
    the other augmentations (small turns, zooms, shifts, light, erasing) keep the expression, so
    the answer on the face as given stays a fair target for them.
    """
    chunks = []
    starts = range(0, faces.shape[0], batch_size)
    for start in tqdm(starts, desc="teacher", unit="batch", leave=False, mininterval=2.0):
        batch = faces[start : start + batch_size]
        chunks.append((teacher.logits(batch) + teacher.logits(torch.flip(batch, dims=[3]))) / 2)
    return torch.cat(chunks) if chunks else torch.zeros((0, 7))


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Hinton's soft-target loss: KL(teacher ‖ student) at ``temperature``, scaled by T² so its gradients
    keep the size of the hard-label loss's as the temperature changes."""
    log_student = functional.log_softmax(student / temperature, dim=1)
    log_teacher = functional.log_softmax(teacher / temperature, dim=1)
    kl = functional.kl_div(log_student, log_teacher, log_target=True, reduction="batchmean")
    return kl * temperature**2
