"""Web benchmark: start-up time of ``moodtape serve`` and /api/analyze throughput over loopback.

Starts ``moodtape serve`` as a subprocess on a free loopback port and measures:

- time from process start to the first successful ``GET /healthz`` and ``POST /api/analyze``;
- sustained frames per second and p50/p95 latency of ``POST /api/analyze?stream=…`` with 640×480
  JPEG frames, for 1, 2 and 4 concurrent clients. Each client is a webcam page in miniature: it
  sends its next frame when the previous answer has arrived (never more than one in flight).

Frames are built in code from scikit-image's astronaut photo (see :func:`make_frames`); each client
starts at a different point of the same 2-second loop.

    .venv/bin/python benchmarks/bench_web.py --seconds 20 --markdown
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import httpx
import numpy as np
import numpy.typing as npt

WIDTH, HEIGHT = 640, 480


def make_frames(count: int = 60) -> list[bytes]:
    """A 2-second webcam loop at 30 frames/s: 640×480 JPEGs (quality 80, like a browser canvas).

    A head-and-shoulders crop of the astronaut (her face about 120 px wide) sways left and right and
    towards and away from the camera over a blurred-noise background, so consecutive frames are
    similar, as from a real camera; stream tracking relies on that.
    """
    from skimage import data

    face = np.ascontiguousarray(data.astronaut()[0:320, 60:380, ::-1])
    background = _background(np.random.default_rng(0))
    encoded = []
    for k in range(count):
        phase = 2 * np.pi * k / count
        size = 400 + int(30 * np.cos(phase))
        left = 110 + int(80 * np.sin(phase))
        frame = background.copy()
        frame[20 : 20 + size, left : left + size] = cv2.resize(face, (size, size))
        ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
        assert ok
        encoded.append(jpeg.tobytes())
    return encoded


def _background(rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    noise = rng.normal(110, 25, (HEIGHT // 8, WIDTH // 8, 3)).clip(0, 255).astype(np.uint8)
    return np.ascontiguousarray(cv2.resize(noise, (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve_command() -> list[str]:
    script = Path(sys.executable).with_name("moodtape")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from moodtape.cli import main; main()"]


@dataclass
class Startup:
    healthz_s: float
    analyze_s: float


def wait_until_up(base: str, frame: bytes, started: float, process: subprocess.Popen[bytes]) -> Startup:
    """Poll every 10 ms: first /healthz, then the first analysis."""
    healthz = analyze = None
    with httpx.Client(base_url=base, timeout=30) as client:
        while analyze is None:
            if process.poll() is not None:
                raise SystemExit(f"moodtape serve exited with {process.returncode}")
            try:
                if healthz is None and client.get("/healthz").status_code == 200:
                    healthz = time.perf_counter() - started
                reply = client.post("/api/analyze", content=frame, headers={"Content-Type": "image/jpeg"})
                if reply.status_code == 200:
                    analyze = time.perf_counter() - started
            except httpx.TransportError:
                time.sleep(0.01)
    assert healthz is not None
    return Startup(healthz, analyze)


@dataclass
class Level:
    clients: int
    frames: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def fps(self) -> float:
        return self.frames / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run_level(base: str, frames: list[bytes], clients: int, seconds: float, warmup: float = 1.0) -> Level:
    """``clients`` closed-loop clients for ``warmup + seconds``; only the last ``seconds`` count."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + seconds

    def client(number: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            i = number * len(frames) // max(1, clients)
            while True:
                sent = time.perf_counter()
                if sent >= stop_at:
                    return
                reply = http.post(
                    f"/api/analyze?stream=bench-{number}",
                    content=frames[i % len(frames)],
                    headers={"Content-Type": "image/jpeg"},
                )
                done = time.perf_counter()
                i += 1
                if sent >= measure_from and done <= stop_at:
                    with lock:
                        if reply.status_code == 200:
                            latencies.append((done - sent) * 1000)
                        else:
                            errors[0] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Level(clients, len(latencies), seconds, latencies, errors[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per concurrency level")
    parser.add_argument("--levels", default="1,2,4", help="comma-separated client counts")
    parser.add_argument("--threads", type=int, default=None, help="moodtape serve --threads (default: its own)")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()

    frames = make_frames()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [*serve_command(), "serve", "--port", str(port)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    env = {**os.environ, "MOODTAPE_OFFLINE": "true"}
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        startup = wait_until_up(base, frames[0], started, process)
        levels = [run_level(base, frames, int(n), args.seconds) for n in args.levels.split(",")]
    finally:
        process.terminate()
        process.wait(timeout=20)

    print(f"start → first /healthz 200: {startup.healthz_s:.2f} s; → first /api/analyze 200: {startup.analyze_s:.2f} s")
    if args.markdown:
        print("\n| clients | frames/s | p50 ms | p95 ms | frames | errors |")
        print("|---|---|---|---|---|---|")
    for level in levels:
        p50, p95 = statistics.median(level.latencies_ms), level.percentile(0.95)
        if args.markdown:
            print(f"| {level.clients} | {level.fps:.1f} | {p50:.1f} | {p95:.1f} | {level.frames} | {level.errors} |")
        else:
            print(f"{level.clients} clients: {level.fps:.1f} frames/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
