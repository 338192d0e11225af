"""Several 40-megapixel uploads at once: how long does everyone else wait?

Decoding a 40 MP photo and searching it for faces takes seconds. ``moodtape serve`` answers with
4 request threads; when four such uploads each held one, ``/healthz``, the page and every webcam
frame queued behind them. ``MOODTAPE_LARGE_PICTURES`` (2 by default, ``web/large_pictures.py``)
bounds the large pictures worked on at once; the others get a 503 with ``Retry-After`` at once.

    .venv/bin/python -m benchmarks.heavy_uploads [--rounds 3] [--uploads 4]

For each setting (4, which lets every thread take a large picture as before the bound, and the
default 2) it starts ``moodtape serve --threads 4``, sends ``--uploads`` 7,900 × 5,000 JPEGs at once, and
polls ``GET /healthz`` every 50 ms while they run. Prints the uploads' answers and seconds, and the
median and longest ``/healthz`` wait.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import httpx
import numpy as np
from skimage import data as skimage_data

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the server starter

from services import free_port, start_serve, wait_ready


def large_photo() -> bytes:
    """The astronaut (a real face) on a 7,900 × 5,000 canvas: 39.5 MP, under the 40 MP limit."""
    canvas = np.full((5000, 7900, 3), 120, np.uint8)
    face = cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)
    canvas[1500:3500, 3000:5000] = cv2.resize(face, (2000, 2000))
    ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return encoded.tobytes()


def one_round(base: str, photo: bytes, uploads: int) -> tuple[list[tuple[int, float]], list[float]]:
    """``uploads`` at once; returns their (status, seconds) and every /healthz wait meanwhile."""

    def upload(_: int) -> tuple[int, float]:
        started = time.monotonic()
        reply = httpx.post(f"{base}/api/analyze", content=photo, headers={"Content-Type": "image/jpeg"}, timeout=120)
        return reply.status_code, time.monotonic() - started

    waits: list[float] = []
    with concurrent.futures.ThreadPoolExecutor(uploads) as pool:
        futures = [pool.submit(upload, n) for n in range(uploads)]
        time.sleep(0.2)  # the uploads are sent and being worked on
        while not all(future.done() for future in futures):
            started = time.monotonic()
            httpx.get(f"{base}/healthz", timeout=60).raise_for_status()
            waits.append(time.monotonic() - started)
            time.sleep(0.05)
    return [future.result() for future in futures], waits


def measure(slots: int, rounds: int, photo: bytes, uploads: int) -> None:
    port = free_port()
    folder = Path(tempfile.mkdtemp())
    settings = {"MOODTAPE_LARGE_PICTURES": str(slots)}
    server = start_serve(folder, port, "--threads", "4", settings=settings, log=folder / "serve.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server, 120, log=folder / "serve.log")
        one_round(base, photo, 1)  # warm-up: the model and detector load on first use
        for number in range(1, rounds + 1):
            answered, waits = one_round(base, photo, uploads)
            answers = ", ".join(f"{status} in {seconds:.1f} s" for status, seconds in sorted(answered))
            print(
                f"MOODTAPE_LARGE_PICTURES={slots} round {number}: uploads {answers}; /healthz "
                f"median {statistics.median(waits) * 1000:.0f} ms, longest {max(waits) * 1000:.0f} ms "
                f"({len(waits)} probes)"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--uploads", type=int, default=4, help="large uploads sent at once")
    args = parser.parse_args()
    photo = large_photo()
    print(f"photo: 7900 × 5000 JPEG, {len(photo) / 1e6:.1f} MB; {args.uploads} uploads at once; 4 request threads")
    for slots in (4, 2):
        measure(slots, args.rounds, photo, args.uploads)


if __name__ == "__main__":
    sys.exit(main())
