"""Build ``src/moodtape/providers/data/tracks.csv`` from the Deezer Mood Detection Dataset.

Run from the repository root (the dataset folder holds ``train.csv``, ``validation.csv``,
``test.csv``)::

    python tools/build_catalog.py ../shared/datasets/deezer-mood \
        --out src/moodtape/providers/data/tracks.csv --size 3200 --seed 20181 \
        --curated src/moodtape/providers/data/curated_tracks.csv

The rule, so anyone can check the shipped file (the same inputs and seed give the same bytes):

1. Read all 18,644 rows of the three splits.
2. Rescale valence and arousal to [0, 1] by min–max over the whole dataset,
   ``x01 = (x - min) / (max - min)``, the same constants for every track (printed at the end and
   recorded in the data README). Arousal is stored as ``energy``.
3. Tidy titles (the dataset writes ``_`` for a comma: ``"December_ 1999"`` → ``"December, 1999"``)
   and drop duplicates by a normalised ``artist + title`` key (case, punctuation, a leading "the",
   bracketed suffixes such as ``(Live)`` or ``(Remastered)`` ignored: the catalog's own rule,
   ``moodtape.providers.catalog_db.normalise_name``); the first row by Deezer ID wins.
4. Cut the mood plane into a 20 × 20 grid. Within each cell, order tracks by how many tracks their
   artist has in the dataset (a proxy for how well known the artist is), ties broken by a seeded
   shuffle.
5. Take tracks round-robin, one per cell per round, skipping an artist who already has
   ``--per-artist`` tracks, until ``--size`` tracks are chosen. Sparse cells give everything they
   have; dense cells are thinned, so the subset covers the plane far more evenly than the raw data.

Genre, decade and language are left empty: the dataset does not give them and we do not guess.

With ``--curated FILE`` the script also fills the ``deezer_id`` column of the hand-curated list
wherever the dataset holds the same artist and title (the normalised key of step 3): those IDs are
real, taken from the dataset, never typed in by hand. A curated song that made it into the subset
is an error (the shipped catalog must have no duplicates), so the script stops and names it.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

_BRACKETED = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")
_DASH_SUFFIX = re.compile(r"\s+-\s+.*$")
_NON_WORD = re.compile(r"[^\w]+")


def normalise(text: str) -> str:
    """The dedupe rule the shipped subset was built with (frozen so the build stays reproducible).

    moodtape's runtime identity rule is :mod:`moodtape.identity`; changing this function would
    change which rows the shipped ``tracks.csv`` holds.
    """
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode() or text
    text = _BRACKETED.sub("", text.casefold())
    text = _DASH_SUFFIX.sub("", text)
    text = _NON_WORD.sub(" ", text).strip()
    return text.removeprefix("the ").strip()


SPLITS = ("train.csv", "validation.csv", "test.csv")
COLUMNS = ("deezer_id", "artist", "title", "valence", "energy", "genre", "decade", "language")


@dataclass
class Row:
    deezer_id: int
    artist: str
    title: str
    valence: float
    arousal: float


def tidy_title(title: str) -> str:
    """The dataset writes ``_`` where the original title had a comma."""
    return re.sub(r"_(\s)", r",\1", title).replace("_", ",").strip()


def read_rows(folder: Path) -> list[Row]:
    rows: list[Row] = []
    for split in SPLITS:
        with (folder / split).open(encoding="utf-8", newline="") as handle:
            for record in csv.DictReader(handle):
                rows.append(
                    Row(
                        deezer_id=int(record["dzr_sng_id"]),
                        artist=record["artist_name"].strip(),
                        title=tidy_title(record["track_name"]),
                        valence=float(record["valence"]),
                        arousal=float(record["arousal"]),
                    )
                )
    rows.sort(key=lambda r: r.deezer_id)
    return rows


def deduplicate(rows: list[Row]) -> list[Row]:
    seen: set[tuple[str, str]] = set()
    kept: list[Row] = []
    for row in rows:
        key = (normalise(row.artist), normalise(row.title))
        if key in seen or not all(key) or not row.title:
            continue
        seen.add(key)
        kept.append(row)
    return kept


def select(rows: list[Row], size: int, grid: int, per_artist: int, seed: int) -> list[Row]:
    v_lo, v_hi = min(r.valence for r in rows), max(r.valence for r in rows)
    a_lo, a_hi = min(r.arousal for r in rows), max(r.arousal for r in rows)
    artist_count = Counter(normalise(r.artist) for r in rows)
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    tie_break = {r.deezer_id: i for i, r in enumerate(shuffled)}

    cells: dict[tuple[int, int], list[Row]] = defaultdict(list)
    for row in rows:
        cx = min(int((row.valence - v_lo) / (v_hi - v_lo) * grid), grid - 1)
        cy = min(int((row.arousal - a_lo) / (a_hi - a_lo) * grid), grid - 1)
        cells[(cx, cy)].append(row)
    queues = {
        cell: sorted(members, key=lambda r: (-artist_count[normalise(r.artist)], tie_break[r.deezer_id]))
        for cell, members in sorted(cells.items())
    }

    chosen: list[Row] = []
    per_artist_taken: Counter[str] = Counter()
    while len(chosen) < size and any(queues.values()):
        for queue in queues.values():
            while queue:
                row = queue.pop(0)
                artist = normalise(row.artist)
                if per_artist_taken[artist] < per_artist:
                    per_artist_taken[artist] += 1
                    chosen.append(row)
                    break
            if len(chosen) >= size:
                break
    return chosen


def fill_curated_ids(path: Path, rows: list[Row], chosen: list[Row]) -> int:
    """Write dataset Deezer IDs into the curated list where artist and title match; return how many."""
    by_key = {(normalise(r.artist), normalise(r.title)): r for r in rows}
    in_subset = {(normalise(r.artist), normalise(r.title)) for r in chosen}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        records = list(reader)
    if "deezer_id" not in fields:
        fields.append("deezer_id")
    filled = 0
    for record in records:
        key = (normalise(record["artist"]), normalise(record["title"]))
        if key in in_subset:
            raise SystemExit(f"curated track already in the subset: {record['artist']} - {record['title']}")
        match = by_key.get(key)
        record["deezer_id"] = str(match.deezer_id) if match else ""
        filled += match is not None
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    return filled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="folder with train.csv, validation.csv, test.csv")
    parser.add_argument("--out", type=Path, default=Path("src/moodtape/providers/data/tracks.csv"))
    parser.add_argument("--size", type=int, default=3200, help="tracks to keep")
    parser.add_argument("--grid", type=int, default=20, help="cells per axis of the selection grid")
    parser.add_argument("--per-artist", type=int, default=3, help="most tracks kept per artist")
    parser.add_argument("--seed", type=int, default=20181)
    parser.add_argument("--curated", type=Path, help="curated_tracks.csv whose deezer_id column to fill")
    args = parser.parse_args(argv)

    rows = read_rows(args.dataset)
    unique = deduplicate(rows)
    v_lo, v_hi = min(r.valence for r in rows), max(r.valence for r in rows)
    a_lo, a_hi = min(r.arousal for r in rows), max(r.arousal for r in rows)
    chosen = select(unique, args.size, args.grid, args.per_artist, args.seed)
    chosen.sort(key=lambda r: r.deezer_id)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in chosen:
            valence = (row.valence - v_lo) / (v_hi - v_lo)
            energy = (row.arousal - a_lo) / (a_hi - a_lo)
            writer.writerow([row.deezer_id, row.artist, row.title, f"{valence:.4f}", f"{energy:.4f}", "", "", ""])

    print(f"read {len(rows)} rows, {len(unique)} after de-duplication, wrote {len(chosen)} to {args.out}")
    print(f"valence range [{v_lo:.6f}, {v_hi:.6f}], arousal range [{a_lo:.6f}, {a_hi:.6f}]")
    print(f"artists: {len({normalise(r.artist) for r in chosen})}")
    if args.curated is not None:
        print(f"curated tracks matched to a dataset Deezer ID: {fill_curated_ids(args.curated, unique, chosen)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
