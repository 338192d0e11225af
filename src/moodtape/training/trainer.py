"""The training loop: seeded, resumable from checkpoints, with progress bars and a metrics log.

Train on FER2013's ``Training`` split only and select the epoch on ``PublicTest``. Each epoch
writes ``last.pt`` (everything needed to resume) and, when the flip-averaged validation accuracy
improves, ``best.pt``; ``metrics.jsonl`` gets one line per epoch.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional
from tqdm import tqdm

from moodtape.errors import DataError, DatasetError
from moodtape.training.augment import augment
from moodtape.training.datasets import FaceDataset, load_dataset
from moodtape.training.distill import Teacher, answers_once, distillation_loss
from moodtape.training.inputs import stretch_batch, to_tensor
from moodtape.training.network import EmotionNet
from moodtape.training.robust_augment import add_conditions, robust_geometry


@dataclass
class TrainConfig:
    """Every knob of a training run; saved in each checkpoint so a resume uses the same ones."""

    data: str
    out: str
    epochs: int = 70
    batch_size: int = 128
    lr: float = 0.05
    weight_decay: float = 5e-4
    warmup_epochs: float = 2.0
    label_smoothing: float = 0.1
    width: int = 32
    seed: int = 0
    precision: str = "auto"
    device: str = "auto"
    threads: int | None = None
    train_split: str = "train"
    val_split: str = "publictest"
    limit: int | None = field(default=None, metadata={"help": "use only this many training images"})
    init: str | None = field(default=None, metadata={"help": "start from network N of an ONNX model: PATH#N"})
    augment: str = field(default="standard", metadata={"help": "standard, or robust (webcam/photo conditions)"})
    distill: str | None = field(default=None, metadata={"help": "an exported ONNX model to distil from"})
    distill_weight: float = 0.5
    distill_temperature: float = 2.0
    distill_once: bool = field(
        default=False, metadata={"help": "the teacher reads each face once before training, not every batch"}
    )
    stretch: bool = field(
        default=True,
        metadata={"help": "stretch each face's contrast as the shipped classifier does (vision/exposure.py)"},
    )


#: Settings whose default changed after runs had been saved without them: a checkpoint that lacks one
#: was trained with the value here, and resumes with it.
BEFORE_SETTING: dict[str, Any] = {"stretch": False}


@dataclass
class EpochResult:
    """What one epoch measured; one line of ``metrics.jsonl``."""

    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    val_accuracy_flip: float
    lr: float
    seconds: float


def load_splits(config: TrainConfig) -> tuple[FaceDataset, FaceDataset]:
    """Load the training and validation splits from a folder root or a FER2013 CSV."""
    root = Path(config.data)
    if root.suffix.lower() == ".csv":
        return load_dataset(root, config.train_split), load_dataset(root, config.val_split)
    for split in (config.train_split, config.val_split):
        if not (root / split).is_dir():
            raise DatasetError(f"{root}: expected a {split}/ folder (Kaggle layout) or a fer2013.csv")
    return load_dataset(root / config.train_split), load_dataset(root / config.val_split)


def pick_device(choice: str) -> torch.device:
    """``auto`` (CUDA when present, else the CPU) or a torch device name such as ``cpu`` or ``cuda:0``."""
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(choice)
    except RuntimeError:
        raise DataError(f"unknown device {choice!r}: use --device cpu, cuda or auto") from None


def use_bf16(choice: str, device: torch.device) -> bool:
    """bf16 autocast halves CPU training time where the CPU computes bf16 natively (AVX-512)."""
    if choice != "auto":
        return choice == "bf16"
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    return "AVX512" in torch.backends.cpu.get_cpu_capability()


def lr_at(step: int, total_steps: int, warmup_steps: int, peak: float) -> float:
    """Linear warm-up to ``peak``, then cosine decay to zero."""
    if step < warmup_steps:
        return peak * (0.1 + 0.9 * step / max(1, warmup_steps))
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


@torch.no_grad()
def predict_logits(
    model: torch.nn.Module, images: torch.Tensor, device: torch.device, batch_size: int = 512
) -> torch.Tensor:
    """Logits for ``images`` in evaluation mode."""
    model.eval()
    chunks = []
    for start in range(0, images.shape[0], batch_size):
        batch = images[start : start + batch_size].to(device)
        chunks.append(model(batch).float().cpu())
    return torch.cat(chunks)


class Trainer:
    """Runs :class:`TrainConfig` to completion, resuming from ``out/last.pt`` when present."""

    def __init__(self, config: TrainConfig, log: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.out = Path(config.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        if config.threads:
            torch.set_num_threads(config.threads)
        self.device = pick_device(config.device)
        self.bf16 = use_bf16(config.precision, self.device)
        train, val = load_splits(config)
        if config.limit:
            keep = np.random.default_rng(config.seed).permutation(len(train))[: config.limit]
            train = FaceDataset(train.images[keep], train.labels[keep], tuple(train.sources[i] for i in keep))
        # Training faces are stretched after augmentation (``_augmented``), validation faces once here.
        self.train_x, self.train_y = to_tensor(train.images, stretch=False), torch.from_numpy(train.labels)
        self.val_x, self.val_y = to_tensor(val.images, config.stretch), torch.from_numpy(val.labels)
        torch.manual_seed(config.seed)
        self.model = self._initial_network().to(self.device)
        self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        decay: list[torch.nn.Parameter] = []
        no_decay: list[torch.nn.Parameter] = []
        for parameter in self.model.parameters():
            (no_decay if parameter.ndim <= 1 else decay).append(parameter)
        self.optimizer = torch.optim.SGD(
            [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=config.lr,
            momentum=0.9,
            nesterov=True,
        )
        # Per batch the teacher shares the cores with training (one thread); read once, it has them all.
        teacher_threads = (config.threads or os.cpu_count() or 1) if config.distill_once else 1
        self.teacher = Teacher(config.distill, threads=teacher_threads) if config.distill else None
        self.teacher_answers: torch.Tensor | None = None
        if config.distill_once and self.teacher is None:
            raise DataError("--distill-once needs a teacher: add --distill MODEL.onnx")
        if self.teacher is not None and config.distill_once:
            if config.augment == "robust":
                raise DataError("--distill-once reads faces without conditions; use it with --augment standard")
            self.log(f"reading {len(self.train_y)} training faces with the teacher once")
            self.teacher_answers = answers_once(self.teacher, self._as_read(self.train_x))
        self.steps_per_epoch = math.ceil(len(self.train_y) / config.batch_size)
        self.epoch = 0
        self.best_accuracy = -1.0
        self._resume()

    def _initial_network(self) -> EmotionNet:
        """A fresh network, or one recovered from an exported model (``init``) for fine-tuning."""
        if not self.config.init:
            return EmotionNet(width=self.config.width)
        from moodtape.training.from_onnx import networks_from_onnx, restore_batch_norms

        path, _, index = self.config.init.rpartition("#")
        if not path or not index.isdigit():
            raise DatasetError(f"--init {self.config.init!r}: expected PATH#N, e.g. emotion.onnx#0")
        networks = networks_from_onnx(path)
        if int(index) >= len(networks):
            raise DatasetError(f"{path} holds {len(networks)} networks; --init index {index} is out of range")
        sample = torch.randperm(len(self.train_y), generator=torch.Generator().manual_seed(self.config.seed))[:2048]
        return restore_batch_norms(networks[int(index)], self._as_read(self.train_x[sample]))

    def _resume(self) -> None:
        checkpoint_path = self.out / "last.pt"
        if not checkpoint_path.exists():
            return
        state = torch.load(checkpoint_path, map_location=self.device, weights_only=False)
        # Checkpoints from before a setting existed carry its default, or the value they were trained with.
        saved = {**asdict(TrainConfig(data="", out="")), **BEFORE_SETTING, **state["config"]}
        if saved != asdict(self.config):
            changed = sorted(k for k, v in asdict(self.config).items() if saved.get(k) != v)
            raise DatasetError(
                f"{checkpoint_path} was written with other settings ({', '.join(changed)}); "
                "use the same settings to resume, or another --out folder to start afresh"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch = int(state["epoch"])
        self.best_accuracy = float(state["best_accuracy"])
        self.log(f"resumed from {checkpoint_path} after epoch {self.epoch}")

    def run(self) -> list[EpochResult]:
        """Train the remaining epochs; return what each of them measured."""
        results = []
        self.log(
            f"training on {len(self.train_y)} faces, validating on {len(self.val_y)}; "
            f"device={self.device.type} precision={'bf16' if self.bf16 else 'fp32'} threads={torch.get_num_threads()}"
        )
        while self.epoch < self.config.epochs:
            results.append(self._run_epoch())
        return results

    def _run_epoch(self) -> EpochResult:
        config, epoch = self.config, self.epoch
        started = time.perf_counter()
        generator = torch.Generator().manual_seed(config.seed * 1000 + epoch)
        order = torch.randperm(len(self.train_y), generator=generator)
        total_steps = config.epochs * self.steps_per_epoch
        warmup_steps = int(config.warmup_epochs * self.steps_per_epoch)
        self.model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        bar = tqdm(
            range(self.steps_per_epoch),
            desc=f"epoch {epoch + 1}/{config.epochs}",
            leave=False,
            file=sys.stderr,
            mininterval=2.0,
        )
        lr = config.lr
        for step_in_epoch in bar:
            lr = lr_at(epoch * self.steps_per_epoch + step_in_epoch, total_steps, warmup_steps, config.lr)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            index = order[step_in_epoch * config.batch_size : (step_in_epoch + 1) * config.batch_size]
            clean, degraded = self._augmented(self.train_x[index], generator)
            batch = degraded.to(self.device).contiguous(memory_format=torch.channels_last)
            target = self.train_y[index].to(self.device)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                logits = self.model(batch)
            loss = self._loss(logits.float(), target, clean, index)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            self.optimizer.step()
            loss_sum += loss.item() * len(index)
            correct += int((logits.argmax(1) == target).sum())
            seen += len(index)
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        bar.close()
        result = self._validate(epoch, loss_sum / seen, correct / seen, lr, time.perf_counter() - started)
        self.epoch += 1
        self._save(result)
        return result

    def _augmented(self, faces: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """The augmented faces before and after webcam/photo conditions (the same tensor without them)."""
        if self.config.augment == "robust":
            clean = robust_geometry(faces, generator)
            return self._as_read(clean), self._as_read(add_conditions(clean, generator))
        clean = self._as_read(augment(faces, generator))
        return clean, clean

    def _as_read(self, faces: torch.Tensor) -> torch.Tensor:
        """``faces`` as the shipped classifier hands them to the network: stretched, unless the run says not."""
        return stretch_batch(faces) if self.config.stretch else faces

    def _loss(
        self, logits: torch.Tensor, target: torch.Tensor, clean: torch.Tensor, index: torch.Tensor
    ) -> torch.Tensor:
        """Label-smoothed cross-entropy, mixed with the teacher's soft answer when distilling: on the
        clean face of this batch, or on the face as given when the teacher read every face once."""
        hard = functional.cross_entropy(logits, target, label_smoothing=self.config.label_smoothing)
        if self.teacher is None:
            return hard
        answers = self.teacher_answers[index] if self.teacher_answers is not None else self.teacher.logits(clean)
        soft = distillation_loss(logits, answers.to(logits.device), self.config.distill_temperature)
        weight = self.config.distill_weight
        return (1.0 - weight) * hard + weight * soft

    def _validate(self, epoch: int, train_loss: float, train_accuracy: float, lr: float, seconds: float) -> EpochResult:
        # One pass over the faces and one over their mirror images give both figures.
        plain = predict_logits(self.model, self.val_x, self.device)
        flipped = (plain + predict_logits(self.model, torch.flip(self.val_x, dims=[3]), self.device)) / 2
        return EpochResult(
            epoch=epoch + 1,
            train_loss=train_loss,
            train_accuracy=train_accuracy,
            val_loss=float(functional.cross_entropy(plain, self.val_y)),
            val_accuracy=float((plain.argmax(1) == self.val_y).float().mean()),
            val_accuracy_flip=float((flipped.argmax(1) == self.val_y).float().mean()),
            lr=lr,
            seconds=seconds,
        )

    def _save(self, result: EpochResult) -> None:
        improved = result.val_accuracy_flip > self.best_accuracy
        if improved:
            self.best_accuracy = result.val_accuracy_flip
        state: dict[str, Any] = {
            "config": asdict(self.config),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "epoch": self.epoch,
            "best_accuracy": self.best_accuracy,
            "width": self.config.width,
        }
        _atomic_save(state, self.out / "last.pt")
        if improved:
            _atomic_save(
                {
                    "model": self.model.state_dict(),
                    "width": self.config.width,
                    "epoch": self.epoch,
                    "val_accuracy_flip": result.val_accuracy_flip,
                },
                self.out / "best.pt",
            )
        with (self.out / "metrics.jsonl").open("a") as handle:
            handle.write(json.dumps(asdict(result)) + "\n")
        self.log(
            f"epoch {result.epoch:3d}/{self.config.epochs}  loss {result.train_loss:.3f}  "
            f"train {result.train_accuracy:.2%}  val {result.val_accuracy:.2%}  val+flip {result.val_accuracy_flip:.2%}"
            f"  lr {result.lr:.4f}  {result.seconds:.0f}s{'  *best*' if improved else ''}"
        )


def _atomic_save(state: dict[str, Any], path: Path) -> None:
    """Write then rename, so an interrupted save never leaves a broken checkpoint."""
    partial = path.with_suffix(".partial")
    torch.save(state, partial)
    os.replace(partial, path)
