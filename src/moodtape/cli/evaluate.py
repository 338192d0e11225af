"""``moodtape evaluate DATA``: score an emotion model on labelled, already-cropped faces."""

from __future__ import annotations

from pathlib import Path

import click

from moodtape.cli._common import echo_json, info
from moodtape.cli._models import load_model, model_options


@click.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--split", default="publictest", show_default=True, help="For a FER2013 CSV: train, publictest, privatetest or all."
)
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON on stdout.")
@click.option(
    "--plot",
    type=click.Path(path_type=Path),
    default=Path("confusion-matrix.png"),
    show_default=True,
    help="Where to write the confusion-matrix PNG.",
)
@model_options
def evaluate(
    data: Path,
    split: str,
    as_json: bool,
    plot: Path,
    model_path: str | None,
    preset: str | None,
    labels: str | None,
) -> None:
    """Accuracy, per-class precision/recall/F1 and confusion matrix on DATA.

    DATA is a folder of <emotion>/ sub-folders (Kaggle layout) or a FER2013 CSV. Every image is
    taken as an already-cropped face: no detection.
    """
    from moodtape.config import Settings
    from moodtape.training.datasets import load_dataset
    from moodtape.vision.evaluate import evaluate as run_evaluation
    from moodtape.vision.evaluate import format_report, plot_confusion

    classifier = load_model(Settings.load(), model_path, preset, labels)
    info(f"loading {data}…")
    dataset = load_dataset(data, split)
    result = run_evaluation(classifier, dataset)
    plot_confusion(result, plot, title=f"{classifier.name} on {data.name}")
    info(f"wrote {plot}")
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo(format_report(result))
