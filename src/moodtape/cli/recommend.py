"""``moodtape recommend``: a list of tracks or videos for a mood, from a name, a point or a photo."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from moodtape.cli._common import echo_json, info
from moodtape.cli._pictures import picture_name, picture_source
from moodtape.cli.calibrate import load_profile, profile_option
from moodtape.errors import DataError
from moodtape.types import Mood


@click.command()
@click.argument("emotion", required=False)
@click.option(
    "--image",
    type=click.Path(path_type=str),  # as typed: a Path folded a URL's "//" in the message that refuses it
    help="Read the mood from the faces in this photo (-: standard input).",
)
@profile_option
@click.option("--valence", type=float, help="Set the mood by hand: valence in [-1, 1] (needs --arousal).")
@click.option("--arousal", type=float, help="Set the mood by hand: arousal in [-1, 1] (needs --valence).")
@click.option("--strategy", help="match, uplift, calm or energize (default: chosen from the mood).")
@click.option("--kind", type=click.Choice(["tracks", "videos"]), default="tracks", show_default=True)
@click.option("--n", "n", type=int, default=20, show_default=True, help="How many items (1–100).")
# IntRange: a negative seed ended in NumPy's traceback ("expected non-negative integer"), not a usage error.
@click.option("--seed", type=click.IntRange(min=0), default=None, help="The same seed gives the same list (0 or more).")
@click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(path_type=Path),
    help="Recommend only from this file: a CSV as `moodtape catalog import` accepts, or a catalog database.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON on stdout (nothing else).")
@click.option(
    "--export",
    "export_path",
    type=click.Path(path_type=Path),
    help="Also write the list as a playlist: FILE.m3u8, FILE.xspf or FILE.csv.",
)
def recommend(
    emotion: str | None,
    image: str | None,
    profile_path: Path | None,
    valence: float | None,
    arousal: float | None,
    strategy: str | None,
    kind: str,
    n: int,
    seed: int | None,
    catalog_file: Path | None,
    as_json: bool,
    export_path: Path | None,
) -> None:
    """Recommend music or videos for EMOTION (angry, disgust, fear, happy, sad, surprise, neutral).

    Give the mood one way: EMOTION, --image PHOTO, or --valence V --arousal A.
    """
    from moodtape.recommender import api
    from moodtape.recommender.export import export

    if profile_path is not None and image is None:
        raise click.UsageError("--profile reads the faces in --image; give --image PHOTO too")
    mood = _mood(emotion, image, valence, arousal, profile_path)
    if export_path is not None:
        _check_export_path(export_path)
    # --catalog FILE: only that file, no live providers; otherwise the process-wide engine.
    engine = api.build_recommender(catalog_file=catalog_file) if catalog_file else api.default_recommender()
    with _provider_warnings() as logged:
        result = api.recommend(mood, strategy=strategy, kind=kind, n=n, seed=seed, recommender=engine)
    # Each reason is a sentence of its own; the first line of the list says where the items came from.
    shown = (*result.fallback_reasons, *result.notes)
    for note in (*shown, *_operator_details(logged, shown)):
        info(f"moodtape: note: {note}")
    if export_path is not None:
        export(result, export_path)
        info(f"wrote {export_path}")
    if as_json:
        echo_json(result.to_list())
        return
    click.echo(
        f"{result.strategy} for your {result.mood.emotion or 'chosen'} mood (valence {result.mood.valence:+.2f}, "
        f"arousal {result.mood.arousal:+.2f}) · {len(result.items)} {_singular(kind, len(result.items))} "
        f"from {', '.join(result.sources)}"
    )
    for number, entry in enumerate(result.items, start=1):
        click.echo(f"{number:3d}. {entry.artist} – {entry.item.title}  [{entry.source}]")
        click.echo(f"     {entry.reason}")


def _singular(kind: str, count: int) -> str:
    """``tracks`` / ``videos`` for a count of one: "1 track", not "1 tracks"."""
    return kind.removesuffix("s") if count == 1 else kind


@contextmanager
def _provider_warnings() -> Iterator[list[str]]:
    """The warnings the live services log meanwhile (already scrubbed of keys), collected.

    ``main`` silences the library's log, and the list's reasons are worded for a site's visitors
    ("YouTube is not available here…"); whoever runs the CLI is also the one who can mend the
    setting, so the operator's detail ("…check YOUTUBE_API_KEY.") is shown to them too.
    """
    logged: list[str] = []
    handler = _Collector(logged)
    logger = logging.getLogger("moodtape.providers")
    logger.addHandler(handler)
    try:
        yield logged
    finally:
        logger.removeHandler(handler)


class _Collector(logging.Handler):
    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.WARNING)
        self._messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self._messages.append(record.getMessage())


def _operator_details(logged: list[str], shown: tuple[str, ...]) -> list[str]:
    """The logged lines ("YouTube: <detail>", or a detail that names its service itself) that say
    more than a note already shown, once each."""
    details: list[str] = []
    for line in logged:
        said = _without_service(line)
        if line not in details and not any(said in note or line in note for note in shown):
            details.append(line)
    return details


def _without_service(line: str) -> str:
    """``line`` without the service's name that the log put in front of it: only a known name, since
    a message that names its service itself is logged as it is, and may hold ": " of its own
    ("Spotify rejected the app's credentials (invalid_client): …" is not "…" with a prefix)."""
    for service in _services():
        if line.startswith(f"{service}: "):
            return line.removeprefix(f"{service}: ")
    return line


def _services() -> tuple[str, ...]:
    """The services whose name ``ServiceClient`` puts in front of a failure that does not begin with
    it, as each provider names itself (imported when asked, as this module's other heavy imports are)."""
    from moodtape.providers.previews import DeezerPreviews, ITunesPreviews
    from moodtape.providers.spotify import SpotifyProvider
    from moodtape.providers.youtube import YouTubeProvider

    return (SpotifyProvider.SERVICE, YouTubeProvider.SERVICE, DeezerPreviews.SERVICE, ITunesPreviews.SERVICE)


def _mood(
    emotion: str | None,
    image: str | None,
    valence: float | None,
    arousal: float | None,
    profile_path: Path | None = None,
) -> Mood | str:
    """Exactly one way of giving the mood; the photo is analysed here."""
    given = [emotion is not None, image is not None, valence is not None or arousal is not None]
    if sum(given) != 1:
        raise click.UsageError("give the mood one way: EMOTION, --image PHOTO, or --valence V --arousal A")
    if emotion is not None:
        return emotion
    if image is not None:
        return _mood_from_image(image, profile_path)
    if valence is None or arousal is None:
        raise click.UsageError("--valence and --arousal go together")
    from moodtape.recommender.mood import mood_from_point

    return mood_from_point(valence, arousal)


def _mood_from_image(image: str, profile_path: Path | None = None) -> Mood:
    """The faces' mood, read with the model, preset, threads and pixel limit the settings name."""
    from moodtape.config import Settings
    from moodtape.recommender.mood import group_mood
    from moodtape.vision.pipeline import get_analyzer

    settings = Settings.load()
    analyzer = get_analyzer(
        settings.get("MOODTAPE_MODEL").strip() or None,
        settings.get("MOODTAPE_MODEL_PRESET").strip().lower() or None,
        settings.get_int("MOODTAPE_THREADS"),
        settings.get_int("MOODTAPE_MAX_PIXELS"),
    )
    faces = analyzer.analyze(picture_source(image), profile=load_profile(profile_path))
    name = picture_name(image)
    if not faces:
        raise DataError(f"no face found in {name}; name an emotion or give --valence and --arousal instead")
    mood = group_mood(faces)
    info(f"{len(faces)} face(s) in {name}: {mood.emotion} (valence {mood.valence:+.2f}, arousal {mood.arousal:+.2f})")
    return mood


def _check_export_path(path: Path) -> None:
    """Fail before any work when the export could not be written."""
    from moodtape.recommender.export import FORMATS

    if path.suffix.lower() not in FORMATS:
        raise DataError(f"cannot export to {path.name!r}: use a file ending in .m3u8, .xspf or .csv")
    if not path.parent.exists():
        raise DataError(f"cannot export to {path}: the folder {path.parent} does not exist")
