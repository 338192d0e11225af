"""On-device mode against the server path, side by side in this machine's Chromium.

    python -m benchmarks.bench_ondevice [--seconds 12] [--rounds 2] [--json OUT]

Starts ``moodtape serve`` on loopback and Debian's Chromium with a fake camera playing the
astronaut (640×480, 15 frames/s, as in tests/e2e), then alternates the two paths in fresh browser
contexts (cold caches): ``?frames=device`` (ONNX Runtime Web, single-threaded WebAssembly) and
``?frames=server`` (JPEG frames posted to /api/analyze). Per run it reports:

- start-up, cold (fresh browser context) and warm (a second visit, files cached): from pressing
  "Start camera" to the first face on screen, in seconds;
- frames/s and per-frame latency over the last ``--seconds`` (the page's own readout, averaged);
- bytes downloaded by the page (transfer sizes, the page load included) and frames posted.

``--rtt-ms`` adds a round-trip time to every request (Chromium's network emulation), as for a
server that is not on the same machine.

Both paths share the machine's CPU with the browser (the server runs on the same cores), and the
machine may be loaded by other jobs, which is why the paths alternate rather than run one after
the other. Needs the runtime installed (``make``) and the e2e dependencies (Playwright, Chromium).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# browsertools (tests/e2e) imports services (tests): both folders, as pytest's rootdir conftest has them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

from browsertools import camera_flags, chromium_path, start_server, stop_server, write_face_video

STATS = re.compile(r"([\d.]+) frames/s · (\d+) ms")


def one_run(context: Any, url: str, path: str, seconds: float, rtt_ms: float) -> dict[str, Any]:
    page = context.new_page()
    if rtt_ms:
        cdp = context.new_cdp_session(page)
        conditions = {"offline": False, "latency": rtt_ms, "downloadThroughput": -1, "uploadThroughput": -1}
        cdp.send("Network.emulateNetworkConditions", conditions)
    sizes = {"down": 0, "frames": 0}

    def finished(request: Any) -> None:
        try:
            sizes["down"] += request.sizes()["responseBodySize"] + request.sizes()["responseHeadersSize"]
        except Exception:  # the page closed before Playwright read the sizes: the run is over
            return
        sizes["frames"] += int("/api/analyze" in request.url)

    page.on("requestfinished", finished)
    page.goto(f"{url}?frames={path}")
    page.wait_for_selector("body[data-ready='true']")
    started = time.perf_counter()
    page.click("#camera-start")
    page.wait_for_selector("#faces-summary:has-text('1 face')", timeout=120_000)
    startup = time.perf_counter() - started
    chosen = page.get_attribute("#camera-mode", "data-path")
    frames_before = sizes["frames"]
    readings = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        page.wait_for_timeout(1000)
        found = STATS.search(page.inner_text("#camera-stats"))
        if found:
            readings.append((float(found.group(1)), int(found.group(2))))
    page.close()
    return {
        "path": chosen,
        "startup_s": round(startup, 2),
        "fps": round(statistics.mean(r[0] for r in readings), 2) if readings else None,
        "latency_ms": round(statistics.median(r[1] for r in readings)) if readings else None,
        "downloaded_bytes": sizes["down"],
        "frames_posted_while_running": sizes["frames"] - frames_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rtt-ms", type=float, default=0.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    executable = chromium_path()
    if executable is None:
        sys.exit("no Chromium at /usr/bin/chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp))
        video = write_face_video(Path(tmp) / "face.y4m")
        results = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=camera_flags(video))
                for _ in range(args.rounds):
                    for path in ("device", "server"):
                        # Cold: a fresh context (empty cache); warm: a second visit in the same one.
                        context = browser.new_context(viewport={"width": 1280, "height": 900}, permissions=["camera"])
                        for cache in ("cold", "warm"):
                            result = {
                                "cache": cache,
                                "rtt_ms": args.rtt_ms,
                                **one_run(context, server.url, path, args.seconds, args.rtt_ms),
                            }
                            results.append(result)
                            print(json.dumps(result), flush=True)
                        context.close()
                browser.close()
        finally:
            stop_server(server)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
