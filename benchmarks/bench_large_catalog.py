"""What a large imported catalog costs: the import, and the first searches of a fresh process.

    .venv/bin/python benchmarks/bench_large_catalog.py --rows 1000000 --folder /tmp/catalog33

Writes a seeded CSV of ``--rows`` distinct tracks (Spotify-export columns, valence and energy
spread over the mood plane) into ``--folder``, imports it with ``moodtape catalog import`` into an
empty data folder there, then, in a fresh process each, opens ``Catalog(data folder)`` and times
the first search (what the first page view of every server process pays), more in the shapes
the app sends (20 targets and 500 candidates, 100 and 2,000), a genre search, ``track_count``,
and ``digest()`` with a search made meanwhile. Each step runs in its own process so its peak resident
memory (``ru_maxrss``) is its own. Nothing is written outside ``--folder``; delete it afterwards.
``--step search`` alone searches again what the last run imported (to compare two versions);
``--step digest`` alone times what ``/readyz`` costs a fresh process: open, then ``digest()``.

Results, 2026-12-07, one million tracks, the 2-core dev machine busy with other work, ``--step
search`` run twice with each version back to back (the searches are the app's shapes: ``n`` targets,
``candidate_limit(n)`` candidates):

- import: 59 s, 1,011 MiB peak (unchanged: parsing the CSV is most of it);
- first search (open + 20 targets, limit 500): before 22–25 s; now 0.43–0.65 s;
- later searches, 20 targets, limit 500: before 311–640 ms; now 97–232 ms;
- later searches, 100 targets, limit 2,000: before 1.8–7.7 s; now 1.6–2.7 s;
- first genre search: before 0.35–0.37 s (after the 22 s); now 0.79–1.1 s;
- ``digest()``: before 3.7–5.3 s (after the 22 s); now 18.6–20.2 s, beside searches (one meanwhile:
  before 0.58–0.98 s, now 0.23–0.27 s);
- peak of the whole step: before 4.3 GB; now 291 MiB.

Session 34, same machine, one million tracks, ``--step digest`` (the digest is now made by the
import and kept in ``catalog.db``):

- first ``digest()`` of a fresh process: before 14.3–22.5 s (every process); now 65–70 ms; on a
  database imported by the moodtape before, 14.2 s once (it is then stored), then 64–66 ms;
- import (three runs of each version): before 28.4–31.4 s; now 42.2–43.5 s (it hashes
  every track once, in its transaction).
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moodtape.providers.base import Query

GENRES = ("rock", "folk rock", "jazz", "hip hop", "classical", "pop", "", "")


def write_csv(path: Path, rows: int, seed: int = 33) -> None:
    """``rows`` distinct tracks; about 1 in 8 has no genre, like a real export."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["track_name", "artist_name", "valence", "energy", "tempo", "track_genre", "year"])
        for i in range(rows):
            writer.writerow(
                [
                    f"Song {i}",
                    f"Artist {i % 50_000}",
                    f"{rng.random():.3f}",
                    f"{rng.random():.3f}",
                    f"{rng.uniform(60, 180):.1f}",
                    rng.choice(GENRES),
                    rng.randint(1960, 2024),
                ]
            )


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _step_import(folder: Path, csv_path: Path) -> None:
    from moodtape.providers.catalog import Catalog

    started = time.perf_counter()
    with Catalog(folder) as catalog:
        report = catalog.import_csv(csv_path)
    seconds = time.perf_counter() - started
    skipped = len(report.skipped)
    print(f"import: {report.added:,} added, {skipped:,} skipped in {seconds:.1f} s, peak {_peak_mib():.0f} MiB")


def _app_query(n: int, genres: tuple[str, ...] = ()) -> Query:
    """What the recommender asks the catalog for ``n`` tracks: ``n`` targets along the mood plane's
    diagonal, ``candidate_limit(n)`` candidates (500 for 20, 2,000 for 100)."""
    from moodtape.providers.base import Query
    from moodtape.recommender.engine import candidate_limit

    targets = tuple((0.05 + 0.9 * i / n, 0.95 - 0.9 * i / n) for i in range(n))
    return Query(targets=targets, genres=genres, limit=candidate_limit(n))


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _step_search(folder: Path) -> None:
    from moodtape.providers.catalog import Catalog

    started = time.perf_counter()
    catalog = Catalog(folder)
    tracks = catalog.tracks(_app_query(20))
    first = time.perf_counter() - started
    print(f"search: open + first search (20 targets, limit 500) {first * 1000:.0f} ms ({len(tracks)} tracks)")
    for n, repeats in ((20, 5), (100, 3)):
        times = sorted(_timed(lambda n=n: catalog.tracks(_app_query(n))) for _ in range(repeats))
        print(f"search: {n} targets, limit {_app_query(n).limit}: {times[0] * 1000:.0f}–{times[-1] * 1000:.0f} ms")
    genre = _timed(lambda: catalog.tracks(_app_query(20, ("jazz",))))
    counting = _timed(lambda: catalog.track_count)
    print(f"search: first genre search (20 targets) {genre * 1000:.0f} ms, track_count {counting * 1000:.0f} ms")
    digest = threading.Thread(target=lambda: print(f"digest: {_timed(catalog.digest):.1f} s", flush=True))
    digest.start()
    time.sleep(0.5)  # the digest is under way
    during = _timed(lambda: catalog.tracks(_app_query(20)))
    print(f"search: 20 targets while the digest is made {during * 1000:.0f} ms", flush=True)
    digest.join()
    print(f"peak {_peak_mib():.0f} MiB")


def _step_digest(folder: Path) -> None:
    """What ``/readyz`` costs a fresh process with instances sharing Redis: open, then ``digest()``."""
    from moodtape.providers.catalog import Catalog

    started = time.perf_counter()
    catalog = Catalog(folder)
    opened = time.perf_counter() - started
    seconds = _timed(catalog.digest)
    again = _timed(catalog.digest)
    print(
        f"digest: open {opened * 1000:.0f} ms, first digest() {seconds * 1000:.0f} ms, "
        f"again {again * 1000:.2f} ms ({catalog.digest()}), peak {_peak_mib():.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/catalog33"))
    parser.add_argument("--step", choices=("import", "search", "digest"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    data = args.folder / f"data-{args.rows}"
    csv_path = args.folder / f"tracks-{args.rows}.csv"
    if args.step == "import":
        _step_import(data, csv_path)
        return
    if args.step == "search":
        _step_search(data)
        return
    if args.step == "digest":
        _step_digest(data)
        return
    args.folder.mkdir(parents=True, exist_ok=True)
    if not csv_path.exists():
        write_csv(csv_path, args.rows)
    (data / "catalog.db").unlink(missing_ok=True)
    for step in ("import", "search"):
        command = [sys.executable, __file__, "--rows", str(args.rows), "--folder", str(args.folder), "--step", step]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
