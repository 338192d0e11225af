"""Latency of a 20-item recommendation: from the built-in catalog, and through a cached live provider.

    .venv/bin/python benchmarks/bench_recommend.py [--runs 300] [--markdown]

1. Catalog: ``Recommender([], Catalog.builtin())`` on the built-in catalog, warm (the catalog is built and
   opened once, as in a running server); each run asks for a different emotion and seed.
2. Cached live call: the Spotify provider on ``httpx.MockTransport`` (no network) behind its TTL
   cache; a first call per mood fills the cache, then every timed run is answered from it. This is
   what a server pays for a repeated mood while its cache is warm (network time excluded).

Prints p50 / p95 / max in milliseconds, as a table; ``--markdown`` prints it as a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import time
import zlib
from collections.abc import Callable

import httpx

from moodtape.emotions import EMOTIONS
from moodtape.providers.catalog import Catalog
from moodtape.providers.spotify import SpotifyProvider
from moodtape.recommender.engine import Recommender
from moodtape.recommender.mood import mood_from_emotion

N = 20


REQUESTS = [0]


def fake_spotify(request: httpx.Request) -> httpx.Response:
    """Spotify's token and search replies, in their documented shapes, with made-up test data."""
    REQUESTS[0] += 1
    if request.url.host == "accounts.spotify.com":
        return httpx.Response(200, json={"access_token": "bench-token", "token_type": "Bearer", "expires_in": 3600})
    q = request.url.params["q"]
    offset = int(request.url.params.get("offset", "0"))
    items = []
    for i in range(10):
        number = offset + i
        item_id = f"bench{zlib.crc32(f'{q}|{number}'.encode()):010d}"
        items.append(
            {
                "id": item_id,
                "name": f"{q.title()} song {number}",
                "uri": f"spotify:track:{item_id}",
                "duration_ms": 200000,
                "explicit": False,
                "artists": [{"id": f"artist{number}", "name": f"{q.title()} artist {number}"}],
                "album": {
                    "name": "Album",
                    "images": [{"url": "https://example.org/a.jpg", "width": 300, "height": 300}],
                },
                "external_urls": {"spotify": f"https://open.spotify.com/track/{item_id}"},
            }
        )
    next_url = "https://api.spotify.com/v1/search?next" if offset < 40 else None
    return httpx.Response(200, json={"tracks": {"items": items, "next": next_url}, "playlists": {"items": []}})


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_runs(call: Callable[[int], object], runs: int) -> list[float]:
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    moods = [mood_from_emotion(e) for e in EMOTIONS]
    started = time.perf_counter()
    catalog = Catalog.builtin()
    engine = Recommender([], catalog)
    engine.recommend(moods[0], n=N, seed=0)  # build / open the catalog once
    first_ms = (time.perf_counter() - started) * 1000.0
    rows = [("catalog, 20 tracks", time_runs(lambda i: engine.recommend(moods[i % 7], n=N, seed=i), args.runs))]
    rows.append(
        (
            "catalog, 20 videos",
            time_runs(lambda i: engine.recommend(moods[i % 7], kind="videos", n=N, seed=i), args.runs),
        )
    )

    spotify = SpotifyProvider(
        "bench-id", "bench-secret", http=httpx.Client(transport=httpx.MockTransport(fake_spotify))
    )
    live = Recommender([spotify], catalog)
    for mood in moods:  # fill the TTL cache once per mood
        warm = live.recommend(mood, n=N, seed=0)
        if warm.sources != ("spotify",) or warm.fallback_reasons:
            raise SystemExit(f"the fake Spotify did not answer: {warm.sources} {warm.fallback_reasons}")
    before = REQUESTS[0]
    cached = time_runs(lambda i: live.recommend(moods[i % 7], n=N, seed=i), args.runs)
    rows.append(("cached Spotify call, 20 tracks", cached))
    cached_requests = REQUESTS[0] - before

    header = ("case", "runs", "p50 ms", "p95 ms", "max ms")
    table = [
        (name, str(len(s)), f"{statistics.median(s):.2f}", f"{percentile(s, 0.95):.2f}", f"{max(s):.2f}")
        for name, s in rows
    ]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
        for row in [header, *table]:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(
        f"\nfirst call (opens the catalog): {first_ms:.0f} ms; HTTP requests during the cached runs: {cached_requests}"
    )


if __name__ == "__main__":
    main()
