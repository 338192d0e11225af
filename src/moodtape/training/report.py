"""Figures for the model card: training curves and a reliability diagram (matplotlib, Agg)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_training_curves(metrics_file: Path, path: Path) -> Path:
    """Loss and train/validation accuracy per epoch, from a run's ``metrics.jsonl``."""
    rows = [json.loads(line) for line in metrics_file.read_text().splitlines() if line.strip()]
    epochs = [row["epoch"] for row in rows]
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), dpi=110)
    left.plot(epochs, [r["train_loss"] for r in rows], label="train (augmented, label smoothing)")
    left.plot(epochs, [r["val_loss"] for r in rows], label="PublicTest")
    left.set_xlabel("epoch")
    left.set_ylabel("cross-entropy")
    left.legend()
    right.plot(epochs, [100 * r["train_accuracy"] for r in rows], label="train (augmented)")
    right.plot(epochs, [100 * r["val_accuracy"] for r in rows], label="PublicTest")
    right.plot(epochs, [100 * r["val_accuracy_flip"] for r in rows], label="PublicTest, flip-averaged")
    right.set_xlabel("epoch")
    right.set_ylabel("accuracy (%)")
    right.legend()
    for axis in (left, right):
        axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_reliability(calibration_file: Path, path: Path) -> Path:
    """Reliability diagram before and after temperature scaling, from ``calibration.json``."""
    report = json.loads(calibration_file.read_text())
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), dpi=110, sharey=True)
    for axis, key, title in (
        (axes[0], "reliability_before", f"before (ECE {report['ece_before']:.1%})"),
        (axes[1], "reliability_after", f"after T = {report['temperature']:.2f} (ECE {report['ece_after']:.1%})"),
    ):
        bins = [b for b in report[key] if b["count"]]
        centres = [(b["low"] + b["high"]) / 2 for b in bins]
        axis.bar(centres, [b["accuracy"] for b in bins], width=1 / 15, edgecolor="black", alpha=0.7, label="accuracy")
        axis.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
        axis.plot(
            [b["confidence"] for b in bins],
            [b["accuracy"] for b in bins],
            "o",
            color="C3",
            ms=3,
            label="mean confidence",
        )
        axis.set_title(title)
        axis.set_xlabel("confidence (top probability)")
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
