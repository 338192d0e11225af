"""``moodtape train``: train the emotion CNN on FER2013 and export it to ONNX (needs the train extra)."""

from __future__ import annotations

import json
import shlex
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click

from moodtape.cli._common import fail, info
from moodtape.training.views import parse_passes


def train_extra_install() -> str:
    """The command that adds the train extra to the moodtape this Python runs.

    In a source checkout (``make run`` installs it editable) ``pip install 'moodtape[train]'``
    asked the package index for a moodtape instead of this one, and a bare ``pip`` is often not
    the virtualenv's: the README says ``pip install -e '.[train]'``, so the checkout gets that, with
    this interpreter and the checkout's own path, runnable from any folder.
    """
    checkout = _editable_checkout()
    if checkout is None:
        return "pip install 'moodtape[train]'"
    return f"{shlex.quote(sys.executable)} -m pip install -e {shlex.quote(checkout + '[train]')}"


def _editable_checkout() -> str | None:
    """The folder moodtape is installed from in editable mode (PEP 610's direct_url.json), else None."""
    try:
        text = metadata.distribution("moodtape").read_text("direct_url.json")
        record = json.loads(text) if text else None
    except (metadata.PackageNotFoundError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    dir_info = record.get("dir_info")
    if not isinstance(dir_info, dict) or dir_info.get("editable") is not True:
        return None
    url = urlsplit(str(record.get("url", "")))
    return unquote(url.path) if url.scheme == "file" and url.path else None


@click.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("runs/moodtape"),
    show_default=True,
    help="Folder for checkpoints, metrics.jsonl and the exported model; an existing run resumes.",
)
@click.option("--epochs", default=70, show_default=True)
@click.option("--batch-size", default=128, show_default=True)
@click.option("--lr", default=0.05, show_default=True, help="Peak learning rate (SGD, Nesterov momentum).")
@click.option("--width", default=32, show_default=True, help="Channels of the first stage (doubles per stage).")
@click.option("--seed", default=0, show_default=True)
@click.option("--threads", type=int, default=None, help="PyTorch threads (default: all cores).")
@click.option(
    "--precision",
    type=click.Choice(["auto", "fp32", "bf16"]),
    default="auto",
    show_default=True,
    help="auto uses bf16 autocast where the CPU or GPU computes it natively.",
)
@click.option("--device", default="auto", show_default=True, help="cpu, cuda or auto.")
@click.option("--limit", type=int, default=None, help="Train on only this many images (smoke tests).")
@click.option(
    "--init",
    default=None,
    metavar="MODEL.onnx#N",
    help="Fine-tune network N of an exported model (e.g. the bundled one) instead of starting afresh.",
)
@click.option(
    "--augment",
    type=click.Choice(["standard", "robust"]),
    default="standard",
    show_default=True,
    help="robust adds webcam/photo conditions: blur, noise, JPEG, light, contrast, glasses and masks.",
)
@click.option(
    "--distill",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="MODEL.onnx",
    help="Also learn an exported model's soft answers on each face before webcam/photo conditions.",
)
@click.option("--distill-weight", default=0.5, show_default=True, help="Share of the distillation term in the loss.")
@click.option("--distill-temperature", default=2.0, show_default=True, help="Softmax temperature of the soft answers.")
@click.option(
    "--distill-once",
    is_flag=True,
    help="The teacher reads each training face once (and its mirror) before training instead of every "
    "augmented batch: no teacher cost per epoch, so a slow teacher with more passes is affordable.",
)
@click.option(
    "--stretch/--no-stretch",
    default=True,
    show_default=True,
    help="Stretch each face's contrast before the network reads it, as the shipped classifier does; "
    "--no-stretch resumes runs saved before this setting existed.",
)
@click.option("--warmup", default=2.0, show_default=True, help="Epochs of linear learning-rate warm-up.")
@click.option(
    "--export/--no-export",
    default=True,
    show_default=True,
    help="After training, export best.pt to OUT/emotion.onnx and fit its temperature.",
)
def train(
    data: Path,
    out: Path,
    epochs: int,
    batch_size: int,
    lr: float,
    width: int,
    seed: int,
    threads: int | None,
    precision: str,
    device: str,
    limit: int | None,
    init: str | None,
    augment: str,
    distill: Path | None,
    distill_weight: float,
    distill_temperature: float,
    distill_once: bool,
    stretch: bool,
    warmup: float,
    export: bool,
) -> None:
    """Train on DATA: a FER2013 folder with train/ and publictest/, or fer2013.csv.

    Trains on the Training split only and selects the epoch on PublicTest.
    """
    try:
        from moodtape.training.trainer import TrainConfig, Trainer
    except ImportError as exc:
        fail(f"training needs PyTorch ({exc.name} is missing): {train_extra_install()}")
        return
    config = TrainConfig(
        data=str(data),
        out=str(out),
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        width=width,
        seed=seed,
        threads=threads,
        precision=precision,
        device=device,
        limit=limit,
        init=init,
        augment=augment,
        distill=str(distill) if distill else None,
        distill_weight=distill_weight,
        distill_temperature=distill_temperature,
        distill_once=distill_once,
        stretch=stretch,
        warmup_epochs=warmup,
    )
    Trainer(config, log=info).run()
    if export:
        from moodtape.training.export import export_run

        model_path = export_run(out, data=str(data))
        exported(model_path)


@click.command("export")
@click.argument("data", type=click.Path(path_type=Path))
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for emotion.onnx, calibration.json and reliability.png [default: the first run].",
)
@click.option("--flip/--no-flip", default=True, show_default=True, help="Use the mirror image as a second view.")
@click.option(
    "--passes",
    default=None,
    metavar="N:VIEW[@ZOOM],…",
    help="Which network reads which view, e.g. 0:face,1:face,0:mirror@0.95,1:mirror@0.95 "
    "(docs/training.md); overrides --flip.",
)
def export(data: Path, runs: tuple[Path, ...], out: Path | None, flip: bool, passes: str | None) -> None:
    """Export finished training RUNS as one ONNX model, calibrated on DATA's PublicTest.

    One run gives a flip-averaged network; two runs an ensemble at the same cost per face, in which
    the second network reads the mirror image, or the face too with --no-flip. --passes names any
    other set of views; each pass costs one network's time per face.
    The default --out is the first run's folder: its own emotion.onnx is replaced.
    """
    try:
        from moodtape.training.export import export_runs
    except ImportError as exc:
        fail(f"exporting needs PyTorch ({exc.name} is missing): {train_extra_install()}")
        return
    chosen = parse_passes(passes, networks=len(runs)) if passes is not None else None
    model_path = export_runs(list(runs), data=str(data), out=out or runs[0], flip=flip, passes=chosen)
    exported(model_path)


def exported(model_path: Path) -> None:
    """Say where the model went, and whether it lacks a neutral reference (see calibration.json)."""
    info(f"exported {model_path}")
    report = json.loads((model_path.parent / "calibration.json").read_text())
    if report.get("neutral_reference") is None:
        info(
            "note: no PublicTest face is both labelled and read as neutral, so the model carries no neutral "
            "reference; personal calibration with it aims at the even target (neutral 0.6) instead"
        )
