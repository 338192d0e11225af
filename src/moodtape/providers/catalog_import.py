"""Read track CSV exports with Spotify audio-feature columns into catalog rows.

Accepted header spellings (case, spaces and ``(s)`` ignored, so Exportify's ``Artist Name(s)``
works too): title ``name``/``track_name``/``title``; artist ``artist``/``artists``/``artist_name``;
ID ``id``/``track_id``/``uri``/``track_uri``/``spotify_id`` (a ``spotify:track:ID`` URI or an
``open.spotify.com/track/ID`` link gives the ID); ``valence`` and ``energy`` (required, in [0, 1]);
optional ``danceability``, ``acousticness``, ``instrumentalness`` (in [0, 1]), ``loudness`` (dB),
``tempo`` (BPM), ``genre``/``track_genre``, and ``year``/``release_date`` (gives the decade).

Spotify's units are normalised to [0, 1] so every feature shares one scale:

* loudness: ``(dB + 60) / 60``, clipped — Spotify's loudness runs from about −60 dB to 0 dB;
* tempo: ``(BPM − 50) / 150``, clipped — 50 BPM or slower → 0, 200 BPM or faster → 1;
  a tempo of 0 (Spotify's "unknown") is left empty.

A bad row is not fatal: it is reported with its line number in the file (the header is line 1)
and skipped; so is a title, artist or genre longer than :data:`MAX_TEXT` characters. A cell longer
than the csv module reads (131,072 characters) ends the reading there: the rows before it are
kept and the problem says from which line on nothing was read. This module only parses;
:meth:`Catalog.import_csv` writes the good rows in one transaction.
"""

from __future__ import annotations

import ast
import codecs
import csv
import io
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from moodtape.errors import CatalogError
from moodtape.providers.catalog_db import TRACK_COLUMNS, item_key

LOUDNESS_FLOOR_DB = -60.0
TEMPO_MIN_BPM = 50.0
TEMPO_MAX_BPM = 200.0

#: Our field → the header spellings that mean it (after :func:`_header_name`).
ALIASES: Mapping[str, tuple[str, ...]] = {
    "title": ("name", "track_name", "title", "track", "song", "song_name"),
    "artist": ("artist", "artists", "artist_name", "artist_names"),
    "id": ("id", "track_id", "uri", "track_uri", "spotify_id", "spotify_uri"),
    "valence": ("valence",),
    "energy": ("energy",),
    "danceability": ("danceability",),
    "acousticness": ("acousticness",),
    "instrumentalness": ("instrumentalness",),
    "loudness": ("loudness",),
    "tempo": ("tempo",),
    "genre": ("genre", "track_genre", "genres"),
    "year": ("year", "release_date", "album_release_date", "release_year"),
}
REQUIRED = ("title", "artist", "valence", "energy")
#: The longest title, artist or genre kept, in characters: far above any real one, and short
#: enough that a stray column of text never becomes a "title" shown in every list and export.
MAX_TEXT = 1000
UNIT_FEATURES = ("danceability", "acousticness", "instrumentalness")

_SPOTIFY_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_SPOTIFY_REF = re.compile(r"(?:spotify:track:|open\.spotify\.com/(?:intl-[a-z]{2}/)?track/)([0-9A-Za-z]{22})")
_YEAR = re.compile(r"^(\d{4})")


@dataclass(frozen=True)
class RowProblem:
    """A row that was skipped: where it starts in the file and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ParsedCsv:
    """The good rows (``tracks`` rows in ``TRACK_COLUMNS`` order, each with its line) and the bad ones."""

    rows: list[tuple[int, tuple[object, ...]]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


class _BadRowError(ValueError):
    """A reason to skip one row."""


def normalise_loudness(db: float) -> float:
    """Spotify loudness in dB → [0, 1]: ``(dB + 60) / 60``, clipped."""
    return _clip((db - LOUDNESS_FLOOR_DB) / -LOUDNESS_FLOOR_DB)


def normalise_tempo(bpm: float) -> float | None:
    """Tempo in BPM → [0, 1]: ``(BPM − 50) / 150``, clipped; 0 or less (unknown) → None."""
    if bpm <= 0:
        return None
    return _clip((bpm - TEMPO_MIN_BPM) / (TEMPO_MAX_BPM - TEMPO_MIN_BPM))


def spotify_track_id(value: str) -> str | None:
    """The 22-character Spotify ID in ``value`` (a bare ID, a URI or a link); None if empty."""
    value = value.strip()
    if not value:
        return None
    if _SPOTIFY_ID.match(value):
        return value
    match = _SPOTIFY_REF.search(value)
    if match is None:
        raise _BadRowError(f"id {value!r} is not a Spotify track ID, spotify:track: URI or track link")
    return match.group(1)


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def _header_name(header: str) -> str:
    name = header.strip().lstrip("\ufeff").casefold().replace("(s)", "s")
    return re.sub(r"[\s\-]+", "_", name)


def _number(raw: str, name: str) -> float:
    if not raw.strip():
        raise _BadRowError(f"{name} is missing")
    try:
        value = float(raw)
    except ValueError:
        raise _BadRowError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise _BadRowError(f"{name} must be a finite number, got {raw!r}")
    return value


def _unit(raw: str, name: str) -> float:
    value = _number(raw, name)
    if not 0.0 <= value <= 1.0:
        raise _BadRowError(f"{name} must lie in [0, 1], got {raw}")
    return value


def _optional(raw: str, convert: Callable[[str], float | None]) -> float | None:
    return convert(raw) if raw.strip() else None


def _artists(raw: str) -> str:
    """Join multi-artist cells: ``"['A', 'B']"`` (Python list) or ``"A;B"`` → ``"A, B"``."""
    raw = raw.strip()
    if raw.startswith("[") and raw.endswith("]"):
        try:
            names = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            names = None
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            return ", ".join(n.strip() for n in names if n.strip())
    return ", ".join(part.strip() for part in raw.split(";") if part.strip())


def _decade(raw: str) -> int | None:
    match = _YEAR.match(raw.strip())
    return int(match.group(1)) // 10 * 10 if match else None


def _text(value: str, name: str) -> str:
    if len(value) > MAX_TEXT:
        raise _BadRowError(f"{name} is {len(value):,} characters long (at most {MAX_TEXT:,})")
    return value


def _track_row(cells: Mapping[str, str]) -> tuple[object, ...]:
    title = _text(cells["title"].strip(), "title")
    artist = _text(_artists(cells["artist"]), "artist")
    if not title or not artist:
        raise _BadRowError("a track needs a title and an artist")
    genre = _text(cells.get("genre", "").strip(), "genre") or None
    values: dict[str, object] = {
        "key": item_key(artist, title),
        "title": title,
        "artist": artist,
        "valence": _unit(cells["valence"], "valence"),
        "energy": _unit(cells["energy"], "energy"),
        "origin": "import",
        "estimated": 0,
        "spotify_id": spotify_track_id(cells.get("id", "")),
        "deezer_id": None,
        "youtube_id": None,
        "genre": genre,
        "decade": _decade(cells.get("year", "")),
        "language": None,
        "loudness": _optional(cells.get("loudness", ""), lambda s: normalise_loudness(_number(s, "loudness"))),
        "tempo": _optional(cells.get("tempo", ""), lambda s: normalise_tempo(_number(s, "tempo"))),
    }
    for name in UNIT_FEATURES:
        raw = cells.get(name, "")
        values[name] = _unit(raw, name) if raw.strip() else None
    return tuple(values[column] for column in TRACK_COLUMNS)


def _column_map(header: list[str]) -> dict[str, int]:
    """Our field → index in the row; the first matching spelling wins."""
    names = [_header_name(h) for h in header]
    found: dict[str, int] = {}
    for ours, spellings in ALIASES.items():
        for spelling in spellings:
            if spelling in names:
                found[ours] = names.index(spelling)
                break
    missing = [ours for ours in REQUIRED if ours not in found]
    if missing:
        accepted = "; ".join(f"{m}: {'/'.join(ALIASES[m])}" for m in missing)
        raise CatalogError(f"the CSV header lacks required column(s) — accepted spellings: {accepted}")
    return found


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


#: Byte-order marks of the Unicode encodings that are not UTF-8, UTF-32's first: UTF-32 LE's
#: starts with UTF-16 LE's.
_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _decoded(data: bytes, path: Path) -> str:
    """The file's text, UTF-8 (a BOM allowed). Anything else is refused saying what it looks like:
    UTF-32 or UTF-16 (Excel's "Unicode Text") by its BOM, else the line of the first byte that is
    not UTF-8, so a Latin-1 or Windows-1252 export is told apart from a file broken in one place."""
    for bom, name in _UNICODE_BOMS:
        if data.startswith(bom):
            raise CatalogError(f'{path} is {name} text, not UTF-8: save it as "CSV UTF-8" and import that')
    data = data.removeprefix(codecs.BOM_UTF8)  # decoded and counted in the same bytes below
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CatalogError(
            f"{path} is not UTF-8 text (line {line} is not; Latin-1 or Windows-1252?): export the CSV as UTF-8"
        ) from None


def read_track_csv(path: Path) -> ParsedCsv:
    """Parse ``path`` into good rows and reported problems; never writes anything.

    Raises:
        CatalogError: the file is missing, not UTF-8 text, empty, has an unreadable header, or lacks
            a required column.
    """
    try:
        text = _decoded(path.read_bytes(), path)
    except FileNotFoundError:
        raise CatalogError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise CatalogError(f"{path} is a folder, not a CSV file") from None
    except OSError as exc:
        raise CatalogError(f"cannot read {path}: {exc.strerror}") from None

    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text[:4096]))
    try:
        header = next(reader, None)
    except csv.Error as exc:  # a header cell past csv.field_size_limit(): no columns to read by
        raise CatalogError(f"{path}: the header row (line 1) is unreadable ({exc})") from None
    if header is None:
        raise CatalogError(f"{path} is empty")
    columns = _column_map(header)
    parsed = ParsedCsv()
    last_line = reader.line_num
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a cell past csv.field_size_limit()
            # Stop: the reader would go on from inside the cell (a quoted one holds lines that look
            # like rows), and import text that was never a row.
            line = last_line + 1
            parsed.problems.append(RowProblem(line, f"unreadable row ({exc}); rows from line {line} on not read"))
            break
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        cells = {ours: record[index] if index < len(record) else "" for ours, index in columns.items()}
        try:
            parsed.rows.append((line, _track_row(cells)))
        except _BadRowError as exc:
            parsed.problems.append(RowProblem(line, str(exc)))
    return parsed
