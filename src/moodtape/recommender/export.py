"""Export a recommendation as a playlist file: M3U8, XSPF or CSV.

Each entry points at the item's URL (a player page or a search, see
:mod:`moodtape.recommender.links`); players that cannot open web pages still show the titles. Every
format reads the one item serialiser, :meth:`~moodtape.recommender.result.Recommendation.to_list`.
Files are written to a temporary file next to the target and renamed into place, so an interrupted
export never leaves half a playlist behind.

Titles come from strangers (services, user catalogs), so each format defends itself:

- CSV: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
  apostrophe, so a spreadsheet shows it as text instead of running it as a formula (OWASP's advice
  against CSV injection);
- XSPF: characters XML 1.0 forbids (control characters, lone surrogates) are dropped, so the file
  always parses;
- M3U8: line-based, so control characters (NUL, ESC, CR, LF, …) are dropped and runs of spaces
  collapse: a title can never start a line of its own.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Protocol

from moodtape.errors import DataError
from moodtape.types import Mood


class Playlist(Protocol):
    """What an export needs: a :class:`~moodtape.recommender.result.Recommendation` or a saved list."""

    @property
    def strategy(self) -> str: ...

    @property
    def mood(self) -> Mood: ...

    def to_list(self) -> list[dict[str, Any]]: ...


XSPF_NAMESPACE: Final[str] = "http://xspf.org/ns/0/"
CSV_COLUMNS: Final[tuple[str, ...]] = (
    "position",
    "title",
    "artist",
    "valence",
    "energy",
    "source",
    "url",
    "spotify_id",
    "youtube_id",
    "deezer_id",
    "reason",
)


#: C0 and C1 control characters and DEL: none belongs in a playlist line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: What XML 1.0 does not allow in a document (besides tab, LF, CR), plus lone surrogates.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: A spreadsheet treats a cell starting with one of these as a formula.
_FORMULA_START: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r")


def _one_line(text: str) -> str:
    """M3U is line-based: control characters go (each becomes a space) and whitespace collapses."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold: forbidden characters are dropped."""
    return _NOT_XML.sub("", text)


def _csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: formula-like strings get a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_m3u8(recommendation: Playlist) -> str:
    """Extended M3U in UTF-8: ``#EXTINF:-1,Artist - Title`` then the URL, per item."""
    name = _one_line(f"moodtape {recommendation.strategy} ({recommendation.mood.emotion or 'mood'})")
    lines = ["#EXTM3U", f"#PLAYLIST:{name}"]
    for entry in recommendation.to_list():
        lines.append(f"#EXTINF:-1,{_one_line(entry['artist'])} - {_one_line(entry['title'])}")
        lines.append(_one_line(entry["url"]))
    return "\n".join(lines) + "\n"


def to_xspf(recommendation: Playlist) -> str:
    """XSPF 1 (XML; titles and URLs escaped by the XML writer)."""
    ET.register_namespace("", XSPF_NAMESPACE)
    playlist = ET.Element(f"{{{XSPF_NAMESPACE}}}playlist", version="1")
    title = ET.SubElement(playlist, f"{{{XSPF_NAMESPACE}}}title")
    title.text = f"moodtape: {recommendation.strategy} for a {recommendation.mood.emotion or 'chosen'} mood"
    track_list = ET.SubElement(playlist, f"{{{XSPF_NAMESPACE}}}trackList")
    for entry in recommendation.to_list():
        track = ET.SubElement(track_list, f"{{{XSPF_NAMESPACE}}}track")
        for tag, value in (
            ("location", entry["url"]),
            ("title", entry["title"]),
            ("creator", entry["artist"]),
            ("annotation", entry["reason"]),
            ("image", entry["artwork_url"]),
        ):
            if value:
                ET.SubElement(track, f"{{{XSPF_NAMESPACE}}}{tag}").text = _xml_text(str(value))
    return ET.tostring(playlist, encoding="unicode", xml_declaration=True) + "\n"


def to_csv(recommendation: Playlist) -> str:
    """One row per item with :data:`CSV_COLUMNS` (position counts from 1), RFC 4180 line ends.

    CRLF line ends make the writer quote any cell holding a CR or LF, so no title splits a row.
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for position, entry in enumerate(recommendation.to_list(), start=1):
        writer.writerow({name: _csv_cell(value) for name, value in {**entry, "position": position}.items()})
    return buffer.getvalue()


FORMATS: Final[dict[str, Callable[[Playlist], str]]] = {
    ".m3u8": to_m3u8,
    ".m3u": to_m3u8,
    ".xspf": to_xspf,
    ".csv": to_csv,
}


def export(recommendation: Playlist, path: Path) -> Path:
    """Write ``recommendation`` to ``path`` in the format its suffix names; returns the path."""
    render = FORMATS.get(path.suffix.lower())
    if render is None:
        raise DataError(f"cannot export to {path.name!r}: use a file ending in .m3u8, .xspf or .csv")
    if not path.parent.exists():
        raise DataError(f"cannot export to {path}: the folder {path.parent} does not exist")
    text = render(recommendation)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes files private; a playlist is meant to be shared
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
