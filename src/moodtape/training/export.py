"""Export trained networks to ONNX, check against PyTorch, quantize, calibrate, add metadata.

One run exports as a graph that averages the logits of the face and its mirror image (test-time
flip averaging). Several runs export as an ensemble in which each network sees one view, the
first the face, the second its mirror, and so on: two networks then cost exactly what one
flip-averaged network costs, and on PublicTest two networks beat one network's two views (see the
model card). Any other set of passes, zoomed views included, can be named
(:mod:`moodtape.training.views`). Either way the shipped path is the measured one; weights and
activations are then quantized to int8 (the zoom's resampling stays float). The temperature and the
uncertainty threshold go into the ONNX file's metadata, so the model file alone says how to read
its outputs; so does its neutral reference, how it reads a resting face, which personal calibration
aims at (:mod:`moodtape.vision.neutral_reference`). A second output, ``embedding`` (each pass's
penultimate features side by side), is added for personal calibration
(:mod:`moodtape.training.embedding`); ``logits`` are unchanged by it.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError, ModelError
from moodtape.training.calibration import (
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability,
)
from moodtape.training.datasets import FaceDataset, load_dataset
from moodtape.training.embedding import add_embedding_output
from moodtape.training.inputs import network_input
from moodtape.training.network import INPUT_SIZE, EmotionNet
from moodtape.training.quantize import calibration_sample, quantize_int8
from moodtape.training.report import plot_reliability, plot_training_curves
from moodtape.training.views import Pass, default_passes, describe, zoom_matrix
from moodtape.vision.classifier import (
    META_LABELS,
    META_OUTPUT,
    META_PRESET,
    META_TEMPERATURE,
    META_UNCERTAIN,
    create_session,
    softmax,
)
from moodtape.vision.neutral_reference import META_NEUTRAL_REFERENCE, measure_reference

#: A face whose calibrated top probability is below this is reported as ``uncertain``.
UNCERTAIN_BELOW = 0.4
PARITY_TOLERANCE = 1e-4


def fuse_batch_norms(network: nn.Module) -> nn.Module:
    """Fold every ``Conv2d → BatchNorm2d`` pair into one convolution (evaluation mode)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for module in network.modules():
        if not isinstance(module, nn.Sequential):
            continue
        for i in range(len(module) - 1):
            conv, norm = module[i], module[i + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                module[i] = fuse_conv_bn_eval(conv.eval(), norm.eval())
                module[i + 1] = nn.Identity()
    return network


class ViewEnsemble(nn.Module):
    """Averages the logits of several passes over each face, each a network reading one view.

    Without ``passes``, :func:`~moodtape.training.views.default_passes`: one network reads the
    face and its mirror image (or the face alone when ``flip`` is off); several networks read one
    view each, the odd-numbered ones the mirror image when ``flip`` is on. A zoomed view is two
    matrix products with a constant resampling matrix, so it exports as plain ``MatMul`` nodes.
    """

    def __init__(self, networks: Sequence[nn.Module], flip: bool = True, passes: Sequence[Pass] | None = None) -> None:
        super().__init__()
        if not networks:
            raise ValueError("ViewEnsemble needs at least one network")
        self.networks = nn.ModuleList(networks)
        self.passes = list(passes) if passes is not None else default_passes(len(networks), flip)
        if any(p.network >= len(networks) for p in self.passes):
            raise ValueError("a pass names a network that the ensemble does not have")
        self.zooms = sorted({p.zoom for p in self.passes if p.zoomed})
        for index, zoom in enumerate(self.zooms):
            self.register_buffer(f"rows_{index}", torch.from_numpy(zoom_matrix(INPUT_SIZE, zoom)))
            self.register_buffer(f"columns_{index}", torch.from_numpy(zoom_matrix(INPUT_SIZE, zoom).T.copy()))

    @property
    def flip_averaged(self) -> bool:
        """Whether one network reads both the face and its mirror image (and nothing else)."""
        return len(self.networks) == 1 and [(p.mirrored, p.zoom) for p in self.passes] == [(False, 1.0), (True, 1.0)]

    def _view(self, x: torch.Tensor, mirrored: bool, zoom: float) -> torch.Tensor:
        view = torch.flip(x, dims=[3]) if mirrored else x
        if zoom == 1.0:
            return view
        index = self.zooms.index(zoom)
        rows: torch.Tensor = getattr(self, f"rows_{index}")
        columns: torch.Tensor = getattr(self, f"columns_{index}")
        return torch.matmul(torch.matmul(rows, view), columns)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        views: dict[tuple[bool, float], torch.Tensor] = {}
        logits = []
        for p in self.passes:
            key = (p.mirrored, p.zoom)
            if key not in views:
                views[key] = self._view(x, *key)
            logits.append(self.networks[p.network](views[key]))
        result: torch.Tensor = torch.stack(logits).mean(dim=0)
        return result


def to_onnx(module: nn.Module) -> onnx.ModelProto:
    """Trace ``module`` (in eval mode, float32) to an ONNX model with a dynamic batch axis."""
    module = module.eval().float()
    example = torch.zeros(1, 1, INPUT_SIZE, INPUT_SIZE)
    buffer = io.BytesIO()
    torch.onnx.export(
        module,
        (example,),
        buffer,  # type: ignore[arg-type]
        input_names=["face"],
        output_names=["logits"],
        dynamic_axes={"face": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    return onnx.load_from_string(buffer.getvalue())


def onnx_logits(model: onnx.ModelProto, images: np.ndarray[Any, Any], batch_size: int = 512) -> np.ndarray[Any, Any]:
    """Run the ONNX model on ``(n, 1, 48, 48)`` float32 inputs."""
    session = create_session(model.SerializeToString(), threads=2)
    outputs = [session.run(None, {"face": images[i : i + batch_size]})[0] for i in range(0, len(images), batch_size)]
    return np.concatenate(outputs)


def check_parity(module: nn.Module, model: onnx.ModelProto, images: np.ndarray[Any, Any]) -> float:
    """Max absolute difference between PyTorch's and ONNX Runtime's logits; raises above 1e-4."""
    with torch.no_grad():
        reference = module.eval().float()(torch.from_numpy(images)).numpy()
    difference = float(np.abs(reference - onnx_logits(model, images)).max())
    if difference > PARITY_TOLERANCE:
        raise ModelError(f"ONNX export differs from PyTorch by {difference:.2e} (tolerance {PARITY_TOLERANCE:.0e})")
    return difference


def load_network(run: Path) -> tuple[nn.Module, int]:
    """``run/best.pt`` as an evaluation-mode network with batch norms folded, and its epoch."""
    checkpoint = run / "best.pt"
    if not checkpoint.is_file():
        raise ModelError(f"{checkpoint} not found: is {run} a finished `moodtape train` run?")
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    network: nn.Module = EmotionNet(width=int(state["width"]))
    network.load_state_dict(state["model"])
    return fuse_batch_norms(network.eval()), int(state["epoch"])


def _splits(root: Path) -> tuple[FaceDataset, FaceDataset]:
    """Training faces (for quantization calibration) and PublicTest (for checks and the temperature)."""
    if root.suffix.lower() == ".csv":
        return load_dataset(root, "train"), load_dataset(root, "publictest")
    return load_dataset(root / "train"), load_dataset(root / "publictest")


def _neutral_reference(probabilities: np.ndarray[Any, Any], labels: np.ndarray[Any, Any]) -> tuple[float, ...] | None:
    """How the model reads a resting face (personal calibration aims at it), or ``None`` when no
    validation face is both labelled and read as neutral (a tiny test set, a network barely trained)."""
    try:
        return measure_reference(probabilities, labels)
    except DataError:
        return None


def set_metadata(model: onnx.ModelProto, values: dict[str, str]) -> None:
    """Replace the model's ``metadata_props`` with ``values``."""
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, values)


def export_run(out: str | Path, data: str, flip: bool = True) -> Path:
    """Export one run's ``best.pt`` to ``out/emotion.onnx``, flip-averaged (see :func:`export_runs`)."""
    return export_runs([Path(out)], data, Path(out), flip=flip)


def export_runs(
    runs: Sequence[Path], data: str, out: Path, flip: bool = True, passes: Sequence[Pass] | None = None
) -> Path:
    """Export the runs' ``best.pt`` networks as one model, ``out/emotion.onnx``, with a report.

    ``passes`` says which network reads which view (:mod:`moodtape.training.views`); without it,
    ``flip`` picks the default views. The ``embedding`` output holds the unzoomed passes' features
    only: a zoomed pass reads the same face re-framed, and profiles stay as small as before.

    Batch norms are folded into the convolutions; the float ONNX graph is checked against PyTorch
    (≤ 1e-4), then quantized to int8 (:mod:`moodtape.training.quantize`), and the temperature is
    fitted on the quantized model's PublicTest logits, since that is the model we ship.
    ``out/calibration.json`` records the parity check, what quantization changed (logits, labels,
    accuracy), the temperature, and NLL and ECE before and after calibration.
    """
    loaded = [load_network(Path(run)) for run in runs]
    module = ViewEnsemble([network for network, _ in loaded], flip=flip, passes=passes)
    epochs = [epoch for _, epoch in loaded]
    started = time.perf_counter()
    train, validation = _splits(Path(data))
    # The "moodtape" preset stretches every face at inference: check, calibrate and judge on those.
    images = network_input(validation.images)
    float_model = to_onnx(module)
    parity = check_parity(module, float_model, images[:256])
    float_logits = onnx_logits(float_model, images)
    quantized = quantize_int8(float_model, calibration_sample(train.images))
    model = add_embedding_output(quantized, skip_resampled=True)
    logits = onnx_logits(model, images)
    temperature = fit_temperature(logits, validation.labels)
    before, after = softmax(logits), softmax(logits, temperature)
    certain = after.max(1) >= UNCERTAIN_BELOW
    reference = _neutral_reference(after, validation.labels)
    correct = after.argmax(1) == validation.labels
    report = {
        "runs": [str(run) for run in runs],
        "epochs": epochs,
        "passes": [p.label for p in module.passes],
        "accuracy": float((logits.argmax(1) == validation.labels).mean()),
        "accuracy_float32": float((float_logits.argmax(1) == validation.labels).mean()),
        "int8_max_logit_change": float(np.abs(float_logits - logits).max()),
        "int8_top_label_agreement": float((float_logits.argmax(1) == logits.argmax(1)).mean()),
        "flip_averaged": module.flip_averaged,
        "parity_max_abs_diff": parity,
        "temperature": temperature,
        "nll_before": negative_log_likelihood(logits, validation.labels, 1.0),
        "nll_after": negative_log_likelihood(logits, validation.labels, temperature),
        "ece_before": expected_calibration_error(before, validation.labels),
        "ece_after": expected_calibration_error(after, validation.labels),
        "neutral_reference": None if reference is None else list(reference),
        "uncertain_below": UNCERTAIN_BELOW,
        "uncertain_share": float(1.0 - certain.mean()),
        # None, not NaN (which is not JSON), when every prediction is uncertain.
        "accuracy_when_certain": float(correct[certain].mean()) if certain.any() else None,
        "reliability_before": [bin_.__dict__ for bin_ in reliability(before, validation.labels)],
        "reliability_after": [bin_.__dict__ for bin_ in reliability(after, validation.labels)],
        "export_seconds": time.perf_counter() - started,
    }
    metadata = {
        META_PRESET: "moodtape",
        META_TEMPERATURE: f"{temperature:.6f}",
        META_UNCERTAIN: f"{UNCERTAIN_BELOW}",
        META_LABELS: json.dumps(list(EMOTIONS)),
        META_OUTPUT: "logits",
        # An ensemble's passes say which network reads which view.
        "moodtape.flip_averaged": str(module.flip_averaged).lower(),
        "moodtape.passes": describe(module.passes),
        "moodtape.networks": str(len(runs)),
        "moodtape.trained_epochs": ",".join(str(epoch) for epoch in epochs),
    }
    if reference is not None:
        metadata[META_NEUTRAL_REFERENCE] = json.dumps(list(reference))
    set_metadata(model, metadata)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "emotion.onnx"
    onnx.save(model, path)
    (out / "calibration.json").write_text(json.dumps(report, indent=2))
    plot_reliability(out / "calibration.json", out / "reliability.png")
    for run in runs:
        if (Path(run) / "metrics.jsonl").exists():
            plot_training_curves(Path(run) / "metrics.jsonl", Path(run) / "training-curves.png")
    return path
