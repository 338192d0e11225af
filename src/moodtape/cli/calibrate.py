"""``moodtape calibrate neutral=me.jpg [happy=smile.jpg …] --out me.json``, and ``--profile`` for other commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from moodtape.cli._common import info
from moodtape.cli._models import model_options, parse_labels
from moodtape.cli._pictures import (
    PICTURE_SUFFIXES,
    expand_folders,
    expand_patterns,
    refuse_empty_folder,
    refuse_unmatched_pattern,
)
from moodtape.errors import DataError, ImageError

if TYPE_CHECKING:
    from moodtape.vision.calibrate import UnusableExamplesError
    from moodtape.vision.calibration import Profile

F = TypeVar("F", bound=Callable[..., Any])

#: The largest --profile file read. ``moodtape calibrate`` writes a few KB; a wrong path (a video,
#: ``/dev/zero``) was read whole: ``--profile /dev/zero`` took 2.5 GB in 6 s, and on until memory ran out.
MAX_PROFILE_BYTES = 1_000_000


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
    once; PHOTO may be a folder of such photos, or a pattern: *, ?, […]; ** is not recursive).
    Then pass the profile to `moodtape analyze --profile` or `moodtape recommend --profile`.

    Every photo is read before anything is written: when some cannot be used (no face, two faces
    alike, not an image), each is named with why, and no profile is written, not even from the
    others, so an earlier --out file stays as it was.
    """
    from moodtape.vision.calibrate import UnusableExamplesError, calibrate_with
    from moodtape.vision.calibrate import calibrate as learn
    from moodtape.vision.classifier import load_classifier
    from moodtape.vision.pipeline import Analyzer

    grouped = parse_examples(examples)
    refuse_too_many_photos(grouped)
    if not out.parent.exists():
        raise DataError(f"cannot write {out}: the folder {out.parent} does not exist")
    refuse_out_over_a_photo(out, [Path(photo) for photos in grouped.values() for photo in photos])
    # The same model the other commands will load, so its identity goes into the profile.
    try:
        if model_path or preset or labels:
            analyzer = Analyzer(classifier=load_classifier(model_path, preset=preset, labels=parse_labels(labels)))
            profile = calibrate_with(analyzer, grouped)
        else:
            profile = learn(grouped)
    except UnusableExamplesError as exc:
        raise ImageError(_list_problems(exc, out)) from None
    out.write_text(profile.to_json() + "\n", encoding="utf-8")
    for note in profile.notes:
        info(f"moodtape: note: {note}")
    learned = "baseline and expression prototypes" if profile.uses_embedding else "a neutral baseline"
    counts = ", ".join(f"{label} {count}" for label, count in profile.examples.items())
    info(f"wrote {out}: {learned} from {counts}")


def _list_problems(error: UnusableExamplesError, out: Path) -> str:
    """Print each unusable photo with why on its own line; return the one-line error that ends the run.

    One line for all of them would run to hundreds of characters; the last line still names every photo,
    so a script that keeps only the error line knows which ones to replace.
    """
    for problem in error.problems:
        info(f"moodtape: unusable: {problem}")
    return (
        f"{len(error.problems)} of {error.total} photos cannot be used ({', '.join(dict.fromkeys(error.names))}; "
        "why: above), "
        f"so nothing was written to {out}; replace or leave out those photos and run again"
    )


def refuse_too_many_photos(grouped: dict[str, list[str]]) -> None:
    """Refuse more photos for an emotion than calibration reads, in command-line words, before the
    model loads. The API's own refusal ends with a Python hint (``itertools.islice``) that means
    nothing to someone who typed ``neutral=folder/``.

    Raises:
        DataError: an emotion has more than :data:`MAX_IMAGES_PER_EMOTION` photos.
    """
    from moodtape.vision.calibrate import MAX_IMAGES_PER_EMOTION

    for label, photos in grouped.items():
        if len(photos) > MAX_IMAGES_PER_EMOTION:
            raise DataError(
                f"{len(photos)} photos given for {label}, more than {MAX_IMAGES_PER_EMOTION}: calibration learns "
                f"from their average, which hardly moves past {MAX_IMAGES_PER_EMOTION}; give at most "
                f"{MAX_IMAGES_PER_EMOTION}, from a smaller folder or a pattern that matches fewer "
                f'(like "{label}=photos/a*.jpg"); no photo was read and nothing written'
            )


def refuse_out_over_a_photo(out: Path, photos: list[Path]) -> None:
    """Refuse an ``--out`` that would write the profile over a photo, before the model loads.

    ``calibrate neutral=me.jpg --out me.jpg`` (``.jpg`` typed for ``.json``, or a tab completion)
    replaced the photo with the profile's JSON and said "wrote me.jpg": the photo was gone.

    Raises:
        DataError: ``out`` is one of ``photos``, or is named like a picture.
    """
    if any(_same_file(out, photo) for photo in photos):
        raise DataError(
            f"--out {out} is one of the photos to calibrate from: writing the profile there would replace "
            "the photo; name a .json file, like --out me.json"
        )
    if out.suffix.lower() in PICTURE_SUFFIXES:
        raise DataError(
            f"--out {out} is named like a picture ({out.suffix}), but the profile is JSON: "
            "name a .json file, like --out me.json"
        )


def _same_file(first: Path, second: Path) -> bool:
    """Whether the two paths name one existing file (through links and ``..`` too)."""
    try:
        return first.samefile(second)
    except OSError:  # either is missing (or unreadable): not one file that a write would replace
        return False


def parse_examples(examples: tuple[str, ...]) -> dict[str, list[str]]:
    """``("neutral=a.jpg", "happy=b.jpg", "neutral=c.jpg")`` → ``{"neutral": ["a.jpg", "c.jpg"], …}``;
    a folder (``neutral=rest/``) stands for the pictures directly in it, a pattern
    (``neutral=rest*.jpg``, which no shell expands there) for the files it matches."""
    grouped: dict[str, list[str]] = {}
    for example in examples:
        label, sep, path = example.partition("=")
        if not sep or not label.strip() or not path.strip():
            raise DataError(f"{example!r} is not EMOTION=IMAGE; write it like neutral=me.jpg")
        pictures = expand_folders(tuple(map(Path, expand_patterns((path.strip(),)))))
        for picture in pictures:
            refuse_empty_folder(picture)  # before the model loads, not after the photos before it
            refuse_unmatched_pattern(picture)
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
    from moodtape.vision.calibration import Profile, ProfileError

    try:
        with path.open("rb") as file:
            text = file.read(MAX_PROFILE_BYTES + 1)
    except OSError as exc:
        raise DataError(
            f"cannot read the profile {path}: {exc.strerror or exc}; make one with `moodtape calibrate`"
        ) from None
    if len(text) > MAX_PROFILE_BYTES:
        raise DataError(
            f"{path} is larger than {MAX_PROFILE_BYTES // 1_000_000} MB, so it is no profile (one from "
            "`moodtape calibrate` is a few KB); check the --profile path"
        )
    try:
        return Profile.from_json(text)
    except ProfileError as exc:  # its words say what is wrong; the path says which file
        raise ProfileError(f"{path}: {exc}") from None
