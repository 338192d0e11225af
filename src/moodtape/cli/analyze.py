"""``moodtape analyze IMAGE…``: faces and their emotions, as a table or JSON lines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from moodtape.cli._common import echo_json, info
from moodtape.cli._models import load_model, model_options
from moodtape.cli._pictures import (
    expand_folders,
    expand_patterns,
    picture_fields,
    picture_name,
    picture_source,
    refuse_empty_folder,
    refuse_stdin_twice,
    refuse_unmatched_pattern,
)
from moodtape.cli.calibrate import load_profile, profile_option
from moodtape.errors import ImageError, MoodtapeError
from moodtape.types import Face

if TYPE_CHECKING:
    from moodtape.vision.calibration import Profile
    from moodtape.vision.pipeline import Analyzer
    from moodtape.vision.pixel_arrays import Pixels


@click.command()
# readable=False: Click's own check refused the whole batch for one unreadable file (a usage error,
# no picture analyzed); load_image names that file and the others are read. path_type=str: a Path
# folded a URL's "//", and the message that refuses it named "https:/example.com/me.jpg".
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=str, readable=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per image on stdout.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write an annotated copy: a file for one image, a folder for several.",
)
@click.option(
    "--detector",
    type=click.Choice(["yunet", "haar"]),
    default="yunet",
    show_default=True,
    envvar="MOODTAPE_DETECTOR",
    help="Face detector: YuNet (a small CNN) or OpenCV's Haar cascade.",
)
@model_options
@profile_option
def analyze(
    images: tuple[str, ...],
    as_json: bool,
    out: Path | None,
    detector: str,
    model_path: str | None,
    preset: str | None,
    labels: str | None,
    profile_path: Path | None,
) -> None:
    """Find the faces in each IMAGE and predict their emotions.

    An IMAGE may be a folder: the pictures directly in it are read, in name order; a pattern
    (*, ?, […]; ** is not recursive), as `"photos/*.jpg"` for shells that do not expand it, reads
    the files it matches; `-` reads one picture from standard input. An image without a face is
    not an error. Exit code 1 when any image could not be read.
    """
    from moodtape.config import Settings
    from moodtape.vision.pipeline import Analyzer, make_detector

    refuse_stdin_twice(images)
    settings = Settings.load()
    # The "image too large" message points at MOODTAPE_MAX_PIXELS, so the CLI must honour it.
    classifier = load_model(settings, model_path, preset, labels)
    profile = load_profile(profile_path)
    if profile is not None:
        profile.check_model(classifier.model_id)  # before any image, not once per image
    analyzer = Analyzer(
        make_detector(detector), classifier=classifier, max_pixels=settings.get_int("MOODTAPE_MAX_PIXELS")
    )
    failed = 0
    pictures = expand_folders(expand_patterns(images))
    for image in pictures:
        try:
            faces = _analyze_one(analyzer, image, out, several=len(pictures) > 1, profile=profile)
        except ImageError as exc:
            failed += 1
            if as_json:
                echo_json({**picture_fields(image), "error": str(exc)})
            info(f"moodtape: error: {exc}")
            continue
        if as_json:
            echo_json({**picture_fields(image), "faces": [face.to_dict() for face in faces]})
        else:
            click.echo(format_faces(picture_name(image), faces))
    if failed:
        raise SystemExit(1)


def _analyze_one(
    analyzer: Analyzer, image: str | Path, out: Path | None, several: bool, profile: Profile | None = None
) -> list[Face]:
    from moodtape.vision.images import load_image

    refuse_empty_folder(image)
    refuse_unmatched_pattern(image)
    # Colour is decoded only when an annotated copy is wanted; detection needs gray alone.
    pixels = load_image(picture_source(image), gray=out is None, max_pixels=analyzer.max_pixels)
    faces = analyzer.analyze(pixels, profile=profile)
    if out is not None:
        _write_annotated(pixels, faces, out / f"{Path(image).stem}-annotated.jpg" if several else out)
    return faces


def _write_annotated(pixels: Pixels, faces: list[Face], target: Path) -> None:
    import cv2

    from moodtape.vision.annotate import annotate

    target.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(target), annotate(pixels, faces)):
        raise MoodtapeError(f"cannot write {target}: use a .jpg or .png name in a writable folder")
    info(f"wrote {target}")


def format_faces(name: str, faces: list[Face]) -> str:
    """A readable table of ``faces`` for one image."""
    if not faces:
        return f"{name}: no face found"
    lines = [f"{name}: {len(faces)} face{'s' if len(faces) > 1 else ''}"]
    lines.append(f"  {'#':>2}  {'box (x, y, w, h)':<22} {'emotion':<10} {'confidence':>10}   next most likely")
    for number, face in enumerate(faces, 1):
        others = sorted(face.probabilities.items(), key=lambda kv: kv[1], reverse=True)[1:3]
        emotion = f"{face.emotion}?" if face.uncertain else face.emotion
        box = "({}, {}, {}, {})".format(*face.box)
        rest = " · ".join(f"{label} {p:.0%}" for label, p in others)
        lines.append(f"  {number:>2}  {box:<22} {emotion:<10} {face.confidence:>10.0%}   {rest}")
    if any(face.uncertain for face in faces):
        lines.append("  ? = uncertain: no emotion is clearly ahead for this face")
    return "\n".join(lines)
