"""Export a trained network to ONNX, check it against PyTorch, quantize it, calibrate it, add metadata.

The exported graph averages the logits of the face and its mirror image (test-time flip
averaging), because we measured it more accurate on PublicTest and the shipped path must be the
measured one; its weights and activations are then quantized to int8. The temperature and the
uncertainty threshold go into the ONNX file's metadata, so the model file alone says how to read
its outputs.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from moodtape.emotions import EMOTIONS
from moodtape.errors import ModelError
from moodtape.training.calibration import (
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability,
)
from moodtape.training.datasets import FaceDataset, load_dataset
from moodtape.training.network import INPUT_SIZE, EmotionNet
from moodtape.training.quantize import calibration_sample, quantize_int8
from moodtape.training.report import plot_reliability, plot_training_curves
from moodtape.vision.classifier import (
    META_LABELS,
    META_OUTPUT,
    META_PRESET,
    META_TEMPERATURE,
    META_UNCERTAIN,
    create_session,
    softmax,
)

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


class FlipAveraged(nn.Module):
    """Wraps a network so that it returns the mean logits of each face and its mirror image."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result: torch.Tensor = (self.network(x) + self.network(torch.flip(x, dims=[3]))) * 0.5
        return result


def to_onnx(network: nn.Module, flip: bool = True) -> onnx.ModelProto:
    """Trace ``network`` (in eval mode, float32) to an ONNX model with a dynamic batch axis."""
    module = FlipAveraged(network) if flip else network
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


def check_parity(network: nn.Module, model: onnx.ModelProto, images: np.ndarray[Any, Any], flip: bool = True) -> float:
    """Max absolute difference between PyTorch's and ONNX Runtime's logits; raises above 1e-4."""
    reference_module = (FlipAveraged(network) if flip else network).eval().float()
    with torch.no_grad():
        reference = reference_module(torch.from_numpy(images)).numpy()
    difference = float(np.abs(reference - onnx_logits(model, images)).max())
    if difference > PARITY_TOLERANCE:
        raise ModelError(f"ONNX export differs from PyTorch by {difference:.2e} (tolerance {PARITY_TOLERANCE:.0e})")
    return difference


def _splits(root: Path) -> tuple[FaceDataset, FaceDataset]:
    """Training faces (for quantization calibration) and PublicTest (for checks and the temperature)."""
    if root.suffix.lower() == ".csv":
        return load_dataset(root, "train"), load_dataset(root, "publictest")
    return load_dataset(root / "train"), load_dataset(root / "publictest")


def set_metadata(model: onnx.ModelProto, values: dict[str, str]) -> None:
    """Replace the model's ``metadata_props`` with ``values``."""
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, values)


def export_run(out: str | Path, data: str, flip: bool = True) -> Path:
    """Export ``out/best.pt`` to ``out/emotion.onnx``: check, quantize, calibrate, and write a report.

    Batch norms are folded into the convolutions; the float ONNX graph is checked against PyTorch
    (≤ 1e-4), then quantized to int8 (:mod:`moodtape.training.quantize`), and the temperature is
    fitted on the quantized model's PublicTest logits, since that is the model we ship.
    ``out/calibration.json`` records the parity check, what quantization changed (logits, labels,
    accuracy), the temperature, and NLL and ECE before and after calibration.
    """
    run = Path(out)
    state = torch.load(run / "best.pt", map_location="cpu", weights_only=False)
    network: nn.Module = EmotionNet(width=int(state["width"]))
    network.load_state_dict(state["model"])
    network = fuse_batch_norms(network.eval())
    started = time.perf_counter()
    train, validation = _splits(Path(data))
    images = (validation.images.astype(np.float32) / 255.0)[:, None]
    float_model = to_onnx(network, flip=flip)
    parity = check_parity(network, float_model, images[:256], flip=flip)
    float_logits = onnx_logits(float_model, images)
    model = quantize_int8(float_model, calibration_sample(train.images))
    logits = onnx_logits(model, images)
    temperature = fit_temperature(logits, validation.labels)
    before, after = softmax(logits), softmax(logits, temperature)
    certain = after.max(1) >= UNCERTAIN_BELOW
    correct = after.argmax(1) == validation.labels
    report = {
        "epoch": int(state["epoch"]),
        "accuracy": float((logits.argmax(1) == validation.labels).mean()),
        "accuracy_float32": float((float_logits.argmax(1) == validation.labels).mean()),
        "int8_max_logit_change": float(np.abs(float_logits - logits).max()),
        "int8_top_label_agreement": float((float_logits.argmax(1) == logits.argmax(1)).mean()),
        "flip_averaged": flip,
        "parity_max_abs_diff": parity,
        "temperature": temperature,
        "nll_before": negative_log_likelihood(logits, validation.labels, 1.0),
        "nll_after": negative_log_likelihood(logits, validation.labels, temperature),
        "ece_before": expected_calibration_error(before, validation.labels),
        "ece_after": expected_calibration_error(after, validation.labels),
        "uncertain_below": UNCERTAIN_BELOW,
        "uncertain_share": float(1.0 - certain.mean()),
        # None, not NaN (which is not JSON), when every prediction is uncertain.
        "accuracy_when_certain": float(correct[certain].mean()) if certain.any() else None,
        "reliability_before": [bin_.__dict__ for bin_ in reliability(before, validation.labels)],
        "reliability_after": [bin_.__dict__ for bin_ in reliability(after, validation.labels)],
        "export_seconds": time.perf_counter() - started,
    }
    set_metadata(
        model,
        {
            META_PRESET: "moodtape",
            META_TEMPERATURE: f"{temperature:.6f}",
            META_UNCERTAIN: f"{UNCERTAIN_BELOW}",
            META_LABELS: json.dumps(list(EMOTIONS)),
            META_OUTPUT: "logits",
            "moodtape.flip_averaged": str(flip).lower(),
            "moodtape.trained_epochs": str(state["epoch"]),
        },
    )
    path = run / "emotion.onnx"
    onnx.save(model, path)
    (run / "calibration.json").write_text(json.dumps(report, indent=2))
    plot_reliability(run / "calibration.json", run / "reliability.png")
    if (run / "metrics.jsonl").exists():
        plot_training_curves(run / "metrics.jsonl", run / "training-curves.png")
    return path
