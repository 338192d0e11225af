"""Stop-time benchmark: how long does an idle ``moodtape serve`` take to exit after SIGTERM?

Starts the real command (``moodtape serve``, bundled model, offline, a fresh data folder) ``--runs``
times, over HTTP and over HTTPS (a self-signed certificate; needs the ``openssl`` command), waits
until ``/healthz`` answers, sends SIGTERM and times the exit. Issue 10 saw 1 of 40 such stops take
8 s (the serve command's stop watchdog fired on the HTTPS server of the time).

    .venv/bin/python -m benchmarks.serve_stop --runs 40
    .venv/bin/python -m benchmarks.serve_stop --runs 20 --busy 1   # one CPU-bound process competing
    .venv/bin/python -m benchmarks.serve_stop --runs 10 --scheme https --signal INT
    .venv/bin/python -m benchmarks.serve_stop --runs 10 --scheme http --processes 4   # gunicorn's workers
    .venv/bin/python -m benchmarks.serve_stop --runs 5 --trickle   # a client trickling its headers

``--busy N`` runs N busy-looping processes meanwhile, to see stops on a machine with other work
(the slow stops of issue 10 were seen while tests ran). ``--trickle`` keeps a client sending its
request's headers a byte every 0.2 s across the signal (it held the stop's drain to its deadline,
``MOODTAPE_SHUTDOWN_SECONDS``, until session 39).

Prints one Markdown row per scheme: runs, median, 95th percentile and slowest stop, how many took
over 1 s, how many printed the watchdog's warning, and how many exited with a status other than 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.slow_clients_single import self_signed_certificate

#: What the serve command prints when its stop watchdog gives up on a server thread.
WATCHDOG_WARNING = "did not stop in time"


@dataclass
class Stop:
    """One run: seconds from the signal to the exit, the exit status, and whether the watchdog fired."""

    seconds: float
    returncode: int
    watchdog: bool


def _free_port() -> int:
    with socket.socket() as finder:
        finder.bind(("127.0.0.1", 0))
        return int(finder.getsockname()[1])


def trickle(port: int, tls: bool, until: threading.Event) -> None:
    """A client sending a request's headers a byte every 0.2 s, until ``until`` or the server closes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if tls:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        sock = context.wrap_socket(sock, server_hostname="localhost")
    with sock:
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            while not until.wait(0.2):
                sock.sendall(b"a")
        except OSError:
            return


def one_stop(
    folder: Path, scheme: str, signum: int, tls: tuple[Path, Path] | None, processes: int = 1, trickling: bool = False
) -> Stop:
    """Start ``moodtape serve``, wait for ``/healthz``, send ``signum``; time the exit (killed after 30 s).

    With several ``processes``, each worker loads the model after the fork: the stop is timed once
    ``/readyz`` has answered ready and a few more seconds have passed, so that every worker is warm.
    """
    port = _free_port()
    env = {**os.environ, "MOODTAPE_DATA_DIR": str(folder), "MOODTAPE_OFFLINE": "true"}
    command = [sys.executable, "-c", "from moodtape.cli import main; main()", "serve", "--port", str(port)]
    command += ["--processes", str(processes)]
    if tls is not None:
        command += ["--certfile", str(tls[0]), "--keyfile", str(tls[1])]
    process = subprocess.Popen(command, env=env, cwd=folder, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the server never answered: {process.communicate()[1][-500:]}")
        try:
            if httpx.get(f"{scheme}://127.0.0.1:{port}/healthz", timeout=2, verify=False).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    if processes > 1:
        while httpx.get(f"{scheme}://127.0.0.1:{port}/readyz", timeout=10, verify=False).status_code != 200:
            time.sleep(0.2)
        time.sleep(3)
    done = threading.Event()
    if trickling:
        threading.Thread(target=trickle, args=(port, tls is not None, done), daemon=True).start()
        time.sleep(0.5)  # its connection accepted and its headers under way
    started = time.monotonic()
    process.send_signal(signum)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    finally:
        done.set()
    return Stop(time.monotonic() - started, process.returncode, WATCHDOG_WARNING in stderr)


def row(scheme: str, signame: str, stops: list[Stop]) -> str:
    times = sorted(stop.seconds for stop in stops)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    slow = sum(t > 1.0 for t in times)
    watchdog = sum(stop.watchdog for stop in stops)
    failed = sum(stop.returncode != 0 for stop in stops)
    return (
        f"| {scheme} | {signame} | {len(stops)} | {statistics.median(times):.2f} | {p95:.2f} | {times[-1]:.2f} "
        f"| {slow} | {watchdog} | {failed} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--scheme", choices=["http", "https", "both"], default="both")
    parser.add_argument("--signal", choices=["TERM", "INT"], default="TERM")
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes running meanwhile")
    parser.add_argument("--processes", type=int, default=1, help="moodtape serve --processes")
    parser.add_argument("--trickle", action="store_true", help="a client trickling its headers across the signal")
    args = parser.parse_args()
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        _measure(args)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def _measure(args: argparse.Namespace) -> None:
    signum = getattr(signal, f"SIG{args.signal}")
    schemes = ["http", "https"] if args.scheme == "both" else [args.scheme]
    print("| server | signal | runs | median (s) | p95 (s) | slowest (s) | over 1 s | watchdog fired | exit ≠ 0 |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as root:
        tls = self_signed_certificate(Path(root)) if "https" in schemes else None
        for scheme in schemes:
            stops = []
            for run in range(args.runs):
                folder = Path(root) / f"{scheme}-{run}"
                folder.mkdir()
                stops.append(
                    one_stop(folder, scheme, signum, tls if scheme == "https" else None, args.processes, args.trickle)
                )
            print(row(scheme, f"SIG{args.signal}", stops), flush=True)


if __name__ == "__main__":
    main()
