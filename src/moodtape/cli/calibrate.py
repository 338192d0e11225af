"""``moodtape calibrate neutral=me.jpg [happy=smile.jpg …] --out me.json``, and ``--profile`` for other commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from moodtape.cli._common import info
from moodtape.cli._models import model_options, parse_labels
from moodtape.cli._pictures import expand_folders, refuse_empty_folder
from moodtape.errors import DataError

if TYPE_CHECKING:
    from moodtape.vision.calibration import Profile

F = TypeVar("F", bound=Callable[..., Any])


@click.command()
@click.argument("examples", nargs=-1, required=True, metavar="EMOTION=IMAGE…")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the profile (JSON, a few KB, no image data).",
)
@model_options
def calibrate(
    examples: tuple[str, ...], out: Path, model_path: str | None, preset: str | None, labels: str | None
) -> None:
    """Learn how your face shows emotions, from a few photos of you.

    Give at least one photo of your relaxed, resting face as neutral=PHOTO; add any of
    angry, disgust, fear, happy, sad, surprise the same way (an emotion may be named more than
    once, and PHOTO may be a folder of such photos). Then pass the profile to
    `moodtape analyze --profile` or `moodtape recommend --profile`.
    """
    from moodtape.vision.calibrate import calibrate as learn
    from moodtape.vision.calibrate import calibrate_with
    from moodtape.vision.classifier import load_classifier
    from moodtape.vision.pipeline import Analyzer

    grouped = parse_examples(examples)
    if not out.parent.exists():
        raise DataError(f"cannot write {out}: the folder {out.parent} does not exist")
    # The same model the other commands will load, so its identity goes into the profile.
    if model_path or preset or labels:
        analyzer = Analyzer(classifier=load_classifier(model_path, preset=preset, labels=parse_labels(labels)))
        profile = calibrate_with(analyzer, grouped)
    else:
        profile = learn(grouped)
    out.write_text(profile.to_json() + "\n", encoding="utf-8")
    for note in profile.notes:
        info(f"moodtape: note: {note}")
    learned = "baseline and expression prototypes" if profile.uses_embedding else "a neutral baseline"
    counts = ", ".join(f"{label} {count}" for label, count in profile.examples.items())
    info(f"wrote {out}: {learned} from {counts}")


def parse_examples(examples: tuple[str, ...]) -> dict[str, list[str]]:
    """``("neutral=a.jpg", "happy=b.jpg", "neutral=c.jpg")`` → ``{"neutral": ["a.jpg", "c.jpg"], …}``;
    a folder (``neutral=rest/``) stands for the pictures directly in it."""
    grouped: dict[str, list[str]] = {}
    for example in examples:
        label, sep, path = example.partition("=")
        if not sep or not label.strip() or not path.strip():
            raise DataError(f"{example!r} is not EMOTION=IMAGE; write it like neutral=me.jpg")
        pictures = expand_folders((Path(path.strip()),))
        for picture in pictures:
            refuse_empty_folder(picture)  # before the model loads, not after the photos before it
        grouped.setdefault(label.strip().lower(), []).extend(str(picture) for picture in pictures)
    return grouped


def profile_option(function: F) -> F:
    """Add ``--profile FILE`` (a calibration from `moodtape calibrate`)."""
    return click.option(
        "--profile",
        "profile_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Read faces through your calibration (a file from `moodtape calibrate`).",
    )(function)


def load_profile(path: Path | None) -> Profile | None:
    """The profile in ``path`` (None for None); a missing or bad file is a one-line DataError."""
    if path is None:
        return None
    from moodtape.vision.calibration import Profile

    try:
        text = path.read_bytes()
    except OSError as exc:
        raise DataError(
            f"cannot read the profile {path}: {exc.strerror or exc}; make one with `moodtape calibrate`"
        ) from None
    return Profile.from_json(text)
