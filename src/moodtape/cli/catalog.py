"""``moodtape catalog``: add your own tracks to the built-in catalog, and see what it holds."""

from __future__ import annotations

from pathlib import Path

import click

from moodtape.cli._common import echo_json, fail, info
from moodtape.errors import MoodtapeError

_SHOWN_PROBLEMS = 20
_SHOWN_GROUPS = 12


@click.group()
def catalog() -> None:
    """The built-in catalog and your additions (kept in MOODTAPE_DATA_DIR/catalog.db)."""


@catalog.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def import_tracks(file: Path, as_json: bool) -> None:
    """Add the tracks of FILE, a CSV export with Spotify audio-feature columns.

    Needs title (name/track_name), artist (artist/artists/artist_name), valence and energy;
    uses id/track_id/uri, danceability, acousticness, instrumentalness, loudness (dB), tempo (BPM)
    and genre/track_genre when present. Bad rows are skipped and listed with their line numbers.
    """
    from moodtape.providers.catalog import Catalog

    try:
        with Catalog() as target:
            report = target.import_csv(file)
            where = target.user_path
    except MoodtapeError as exc:
        fail(str(exc))
        return
    if as_json:
        echo_json(report.to_dict())
        return
    click.echo(f"added {report.added} track(s) from {click.format_filename(file)} to {where}")
    if report.skipped:
        click.echo(f"skipped {len(report.skipped)} row(s):")
        for problem in report.skipped[:_SHOWN_PROBLEMS]:
            click.echo(f"  {problem}")
        if len(report.skipped) > _SHOWN_PROBLEMS:
            click.echo(f"  … and {len(report.skipped) - _SHOWN_PROBLEMS} more (use --json for all)")


def _groups(counts: dict[str, int]) -> str:
    shown = [f"{name} {count:,}" for name, count in list(counts.items())[:_SHOWN_GROUPS]]
    if len(counts) > _SHOWN_GROUPS:
        shown.append(f"… {len(counts) - _SHOWN_GROUPS} more")
    return " · ".join(shown)


@catalog.command()
@click.option("--plot", type=click.Path(path_type=Path), help="Also write a PNG of the catalog over the mood plane.")
@click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(path_type=Path),
    help="Describe this CSV or catalog database instead of the built-in catalog and your additions.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON on stdout.")
def stats(plot: Path | None, catalog_file: Path | None, as_json: bool) -> None:
    """Counts by source, genre, decade and language, and coverage of the mood plane."""
    from moodtape.providers.catalog import Catalog
    from moodtape.providers.catalog_stats import catalog_stats, plot_coverage

    try:
        source = Catalog() if catalog_file is None else Catalog.from_file(catalog_file)
        with source:
            summary = catalog_stats(source)
            if plot is not None:
                plot_coverage(source, plot)
                info(f"wrote {plot}")
    except MoodtapeError as exc:
        fail(str(exc))
        return
    except OSError as exc:
        fail(f"cannot write {plot}: {exc.strerror}")
        return
    if as_json:
        echo_json(summary.to_dict())
        return
    click.echo(f"tracks: {summary.tracks:,} ({_groups(summary.tracks_by_origin)})")
    click.echo(f"  with a Deezer ID: {summary.tracks_with_deezer_id:,}")
    click.echo(f"  genres: {_groups(summary.tracks_by_genre)}")
    click.echo(f"  decades: {_groups(summary.tracks_by_decade)}")
    click.echo(f"  languages: {_groups(summary.tracks_by_language)}")
    click.echo(f"videos: {summary.videos:,} ({_groups(summary.videos_by_category)})")
    grid = f"{summary.grid}×{summary.grid}"
    click.echo(
        f"mood-plane coverage ({grid} cells occupied): tracks {summary.track_coverage:.0%}, "
        f"videos {summary.video_coverage:.0%}"
    )
