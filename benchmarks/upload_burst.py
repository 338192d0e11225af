"""Many uploads near the size limit at once: does every client get an answer?

Request bodies are held in memory until complete, and unfinished ones together may hold at most
8 × the largest upload (``web/buffered_server.py``, ``UNFINISHED_UPLOADS``): over it, the
longest-open unfinished requests are refused. This starts ``moodtape serve`` (default settings:
10 MiB uploads), sends ``--uploads`` multipart uploads of a ~9.9 MB JPEG (noise, so that it does not
compress) to ``/api/analyze`` at once, each on its own connection with Python's ``http.client``
(which sends the whole body before it reads an answer, as most clients do), and counts what each
client got: a status, or the error its socket raised ("connection reset", "broken pipe"). It
prints the server's peak resident memory (``VmHWM``) after the burst.

    .venv/bin/python -m benchmarks.upload_burst [--uploads 16 24] [--rounds 2]
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import http.client
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import cv2
import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the server starter

from services import free_port, start_serve, wait_ready

#: What the JPEG's form part should weigh, under the default 10 MiB (10,485,760-byte) upload limit.
TARGET_BYTES = 9_900_000
BOUNDARY = "burst38boundary"


def noise_jpeg(target: int = TARGET_BYTES) -> bytes:
    """A valid JPEG of random pixels (4:4:4, quality 100: about 4.1 bytes a pixel) just under ``target``."""
    rng = np.random.default_rng(38)
    side = int(math.sqrt(target / 4.2))
    while True:
        pixels = rng.integers(0, 256, (side, side, 3), np.uint8)
        flags = [cv2.IMWRITE_JPEG_QUALITY, 100, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
        ok, encoded = cv2.imencode(".jpg", pixels, flags)
        assert ok
        if len(encoded) <= target:
            return bytes(encoded.tobytes())
        side -= 8


def form(photo: bytes) -> bytes:
    """``photo`` as the ``image`` field of a multipart form, as the page sends it."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + photo + f"\r\n--{BOUNDARY}--\r\n".encode()


def upload(port: int, body: bytes, cookie: str, token: str) -> str:
    """One upload on its own connection: ``"200"``, ``"503 busy"`` (status and API code), or the
    name of the error the client's socket raised."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Cookie": cookie,
            "X-CSRF-Token": token,
        }
        connection.request("POST", "/api/analyze", body=body, headers=headers)
        reply = connection.getresponse()
        said = reply.read()
        if reply.status == 200:
            return "200"
        try:
            code = json.loads(said)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = "?"
        retry = reply.getheader("Retry-After")
        return f"{reply.status} {code}" + (f" (Retry-After: {retry})" if retry else "")
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__
    finally:
        connection.close()


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (``VmHWM``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    return math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, nargs="+", default=[16, 24], help="uploads sent at once")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    body = form(noise_jpeg())
    print(f"body: {len(body):,} bytes (a multipart form around a {len(body) - 200:,}-byte JPEG)")
    for count in args.uploads:
        for number in range(1, args.rounds + 1):
            port, folder = free_port(), Path(tempfile.mkdtemp())
            server = start_serve(folder, port, log=folder / "serve.log")
            try:
                wait_ready(f"http://127.0.0.1:{port}", server, 120, log=folder / "serve.log")
                config = httpx.get(f"http://127.0.0.1:{port}/api/config")
                cookie = "; ".join(f"{name}={value}" for name, value in config.cookies.items())
                token = config.json()["csrf_token"]
                before = peak_rss_mb(server.pid)
                started = time.monotonic()
                with concurrent.futures.ThreadPoolExecutor(count) as pool:
                    sends = [pool.submit(upload, port, body, cookie, token) for _ in range(count)]
                    got = [send.result() for send in sends]
                took = time.monotonic() - started
                tally = ", ".join(f"{n} × {what}" for what, n in collections.Counter(got).most_common())
                print(
                    f"{count} uploads at once, round {number}: {tally}; {took:.1f} s; server peak RSS "
                    f"{before:.0f} MB before, {peak_rss_mb(server.pid):.0f} MB after"
                )
            finally:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
