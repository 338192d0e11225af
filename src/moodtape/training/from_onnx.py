"""Recover trainable networks from an exported (int8, batch-norm-folded) ensemble.

The runs that made the bundled model are gone; its ONNX file is all that is left. Each network's
convolutions and linear layers sit in the graph as int8 weights behind ``DequantizeLinear`` nodes,
named after the PyTorch modules (``networks.0.features.1.3.weight``…). We let ONNX Runtime compute
those dequantized tensors (it knows each node's axis and scale), put them back into
:class:`~moodtape.training.network.EmotionNet`, and turn every folded batch-norm into an identity
(weight 1, bias = the folded bias, mean 0, variance 1 − eps) so that fine-tuning can learn its
statistics again. The result reproduces the float network the file was quantized from, up to the
int8 rounding of the weights (``verify`` measures how closely).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from moodtape.errors import ModelError
from moodtape.training.export import ViewEnsemble
from moodtape.training.network import EmotionNet
from moodtape.training.views import parse_passes
from moodtape.vision.classifier import create_session, read_metadata

#: A network read by several passes has one int32 bias per pass (its scale follows each pass's
#: input scale); the quantizer names the copies ``bias0``, ``bias1``… and the first plain ``bias``.
_REUSED_BIAS = re.compile(r"\.bias\d+$")


def _dequantized_tensors(model: onnx.ModelProto) -> dict[str, np.ndarray[Any, Any]]:
    """Every ``networks.*`` tensor the graph builds from int8 weights, by PyTorch name."""
    names: dict[str, str] = {}
    for node in model.graph.node:
        if node.op_type != "DequantizeLinear" or not node.input[0].startswith("networks."):
            continue
        source = node.input[0].removesuffix("_quantized")
        if _REUSED_BIAS.search(source):
            continue  # the bias again, quantized for another pass of the same network (``bias0``)
        names[source] = node.output[0]
    if not names:
        raise ModelError("no int8 network weights found: is this a model made by `moodtape export`?")
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    del probe.graph.output[:]
    for output in names.values():
        probe.graph.output.append(onnx.helper.make_empty_tensor_value_info(output))
    session = create_session(probe.SerializeToString(), threads=1)
    dummy = np.zeros((1, 1, 48, 48), np.float32)
    values = session.run(list(names.values()), {model.graph.input[0].name: dummy})
    return dict(zip(names, values, strict=True))


def networks_from_onnx(path: str | Path) -> list[EmotionNet]:
    """The ensemble's networks as trainable :class:`EmotionNet` modules (evaluation mode)."""
    tensors = _dequantized_tensors(onnx.load(str(path)))
    count = 1 + max(int(name.split(".")[1]) for name in tensors)
    networks = []
    for index in range(count):
        prefix = f"networks.{index}."
        own = {name.removeprefix(prefix): value for name, value in tensors.items() if name.startswith(prefix)}
        width = int(own["features.0.0.weight"].shape[0])
        network = EmotionNet(width=width)
        state = network.state_dict()
        for name, value in own.items():
            module, _, kind = name.rpartition(".")
            if module.startswith("features.") and kind == "bias":
                # The folded bias belongs to the batch-norm that follows the convolution.
                stage, layer = module.split(".")[1:3]
                norm = f"features.{stage}.{int(layer) + 1}"
                state[f"{norm}.bias"] = torch.from_numpy(value.copy())
                state[f"{norm}.weight"] = torch.ones_like(state[f"{norm}.weight"])
                state[f"{norm}.running_mean"] = torch.zeros_like(state[f"{norm}.running_mean"])
                eps = float(network.get_submodule(norm).eps)  # type: ignore[arg-type]
                state[f"{norm}.running_var"] = torch.full_like(state[f"{norm}.running_var"], 1.0 - eps)
            else:
                state[name] = torch.from_numpy(value.copy())
        network.load_state_dict(state)
        networks.append(network.eval())
    return networks


def verify(path: str | Path, images: np.ndarray[Any, Any]) -> dict[str, float]:
    """Compare the recovered networks (float) with the ONNX file on ``(n, 1, 48, 48)`` float inputs.

    The networks read the views the file's ``moodtape.passes`` names (each network on the face
    when it names none). Returns the largest logit difference and the share of faces whose top
    label agrees; the two differ only by the int8 rounding of activations, which the recovered
    float networks skip.
    """
    networks = networks_from_onnx(path)
    model_bytes = Path(path).read_bytes()
    described = read_metadata(model_bytes).get("moodtape.passes")
    passes = parse_passes(described, len(networks)) if described else None
    ensemble = ViewEnsemble(networks, flip=False, passes=passes)  # the file's own views
    with torch.no_grad():
        ours = ensemble(torch.from_numpy(images)).numpy()
    session = create_session(model_bytes, threads=2)
    theirs = session.run(None, {session.get_inputs()[0].name: images})[0]
    return {
        "max_abs_logit_diff": float(np.abs(ours - theirs).max()),
        "top_label_agreement": float((ours.argmax(1) == theirs.argmax(1)).mean()),
    }


@torch.no_grad()
def restore_batch_norms(network: EmotionNet, images: torch.Tensor) -> EmotionNet:
    """Give each identity batch-norm the statistics of its convolution's output on ``images``.

    A recovered network computes the right function in evaluation mode, but in training mode its
    batch-norms would normalise by batch statistics the folded weights never expected, and the
    first steps would wreck it. Measuring each convolution's per-channel mean ``m`` and variance
    ``v`` on training faces and setting ``running_mean = m``, ``running_var = v``,
    ``weight = sqrt(v + eps)``, ``bias += m`` keeps the evaluation-mode function unchanged and makes
    training mode start from (nearly) the same function.
    """
    network.eval()
    hooks = []
    stats: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for name, layer in network.features.named_modules():
        if isinstance(layer, torch.nn.Conv2d):
            stage, position = name.split(".")
            norm_name = f"features.{stage}.{int(position) + 1}"

            def record(_module: Any, _inputs: Any, output: torch.Tensor, key: str = norm_name) -> None:
                stats[key] = (output.mean(dim=(0, 2, 3)), output.var(dim=(0, 2, 3), unbiased=False))

            hooks.append(layer.register_forward_hook(record))
    network(images)
    for hook in hooks:
        hook.remove()
    for name, (mean, var) in stats.items():
        norm = network.get_submodule(name)
        assert isinstance(norm, torch.nn.BatchNorm2d)
        assert norm.running_mean is not None and norm.running_var is not None
        norm.running_mean.copy_(mean)
        norm.running_var.copy_(var)
        norm.bias.add_(mean)
        norm.weight.copy_(torch.sqrt(var + norm.eps))
    return network


def save_runs(path: str | Path, out: str | Path) -> list[Path]:
    """Write each recovered network as a run folder ``OUT-N/best.pt`` that ``moodtape export`` reads.

    The epoch each network was trained for comes from the file's ``moodtape.trained_epochs``, so
    a model re-exported from these folders (other views, say) records the same training; 0 when
    the file does not say (a model made before that metadata).

    Raises:
        ModelError: the file names the wrong number of epochs, or something that is not a number.
    """
    source = Path(path)
    networks = networks_from_onnx(source)
    described = read_metadata(source.read_bytes()).get("moodtape.trained_epochs")
    epochs = [0] * len(networks) if described is None else _epochs(described, len(networks), source)
    folders = []
    for index, (network, epoch) in enumerate(zip(networks, epochs, strict=True)):
        folder = Path(out).with_name(f"{Path(out).name}-{index}")
        folder.mkdir(parents=True, exist_ok=True)
        torch.save({"model": network.state_dict(), "width": network.width, "epoch": epoch}, folder / "best.pt")
        folders.append(folder)
    return folders


def _epochs(described: str, networks: int, source: Path) -> list[int]:
    try:
        epochs = [int(value) for value in described.split(",")]
    except ValueError:
        raise ModelError(f"{source}: moodtape.trained_epochs is {described!r}, not a list of numbers") from None
    if len(epochs) != networks:
        raise ModelError(f"{source} holds {networks} networks but names {len(epochs)} trained epochs ({described!r})")
    return epochs


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m moodtape.training.from_onnx MODEL.onnx OUT  (writes OUT-0/best.pt, …)")
    try:
        written = save_runs(sys.argv[1], sys.argv[2])
    except ModelError as exc:
        raise SystemExit(f"error: {exc}") from None
    for run in written:
        print(f"wrote {run / 'best.pt'}")
