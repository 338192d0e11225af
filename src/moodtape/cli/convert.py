"""``moodtape convert``: turn a Keras ``.h5`` emotion model into an ONNX file, without TensorFlow."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import onnx

from moodtape.cli._common import info
from moodtape.cli._models import parse_labels
from moodtape.emotions import EMOTIONS
from moodtape.errors import ModelError
from moodtape.vision.presets import PRESETS, Preset


def _parse_labels(value: str | None) -> tuple[str, ...] | None:
    labels = parse_labels(value)
    if labels is None:
        return None
    try:
        Preset("labels", 1.0, 0.0, labels=labels)  # validates: known names, no repeats
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--labels") from None
    return labels


@click.command()
@click.argument("source", metavar="IN.h5", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("target", metavar="OUT.onnx", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--preset",
    type=click.Choice(sorted(PRESETS)),
    default=None,
    help="Store how the model scales pixels, so that loading OUT.onnx needs no --preset.",
)
@click.option(
    "--labels",
    default=None,
    metavar="A,B,…",
    help=f"Store the model's output order, comma-separated (default FER2013: {','.join(EMOTIONS)}).",
)
def convert(source: Path, target: Path, preset: str | None, labels: str | None) -> None:
    """Convert the Keras model IN.h5 (saved with model.save) to OUT.onnx.

    OUT.onnx takes the same input as the Keras model (NHWC floats, no preprocessing folded in) and
    gives its output. OUT.onnx is replaced atomically; on any error no file is written.
    """
    from moodtape.vision.keras_h5 import convert_h5_file

    label_order = _parse_labels(labels)
    conversion = convert_h5_file(source)
    outputs = conversion.output_shape[-1] if conversion.output_shape else 0
    if label_order is not None and len(label_order) != outputs:
        raise ModelError(f"{source.name} has {outputs} outputs but --labels names {len(label_order)}")
    model = conversion.model
    _add_metadata(model, preset, label_order)
    _write_atomically(target, model.SerializeToString())
    height, width, channels = conversion.input_shape
    info(
        f"converted {source.name} (Keras {conversion.keras_version}, {conversion.layers} layers) "
        f"in {conversion.seconds * 1000:.0f} ms: input {height}×{width}×{channels}, {outputs} outputs → {target}"
    )
    if label_order is None and outputs != len(EMOTIONS):
        info(f"note: moodtape needs the {len(EMOTIONS)} FER2013 emotions; this model has {outputs} outputs")


def _add_metadata(model: onnx.ModelProto, preset: str | None, labels: tuple[str, ...] | None) -> None:
    """Record what the user stated; nothing is guessed into the file."""
    from onnx import helper

    from moodtape.vision.classifier import META_LABELS, META_PRESET

    props = {META_PRESET: preset, META_LABELS: json.dumps(list(labels)) if labels else None}
    values = {key: value for key, value in props.items() if value is not None}
    if values:
        helper.set_model_props(model, values)


def _write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target``, then rename: readers never see half a model."""
    if target.is_dir():
        raise ModelError(f"{target} is a folder; give the path of the .onnx file to write")
    if not target.parent.is_dir():
        raise ModelError(f"folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, target)
    except OSError as exc:
        raise ModelError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)
