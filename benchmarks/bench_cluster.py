"""Scale-out benchmark: webcam frames through HAProxy to 1 or 2 moodtape instances sharing Redis.

The topology of ``tests/cluster_topology.py`` (Redis, N ``moodtape serve``, HAProxy round-robin,
no stickiness; stream state in Redis, so consecutive frames of one stream hit different instances),
driven by the closed-loop webcam clients of ``bench_web.py``: each client sends its next 640×480
frame when the previous answer is back. For each instance count and each client count it reports
frames/s and p50/p95 latency, and the CPU seconds the instances used per frame (from /proc), which
gives the sizing figures in docs/deployment.md.

    nice -n 5 .venv/bin/python benchmarks/bench_cluster.py --seconds 15 --markdown

Needs ``redis-server`` and ``haproxy`` (Debian packages). Every instance runs one process with
``MOODTAPE_THREADS=1`` (ONNX Runtime threads) and 4 request threads, unless told otherwise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the topology helper

from bench_web import Level, make_frames, run_level
from cluster_topology import Topology, missing_reason, topology

TICKS = os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and all its descendants (Linux /proc)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pending.extend(int(c) for c in children)
    return total


def instances_cpu(running: Topology) -> float:
    return sum(_tree_cpu_seconds(i.process.pid) for i in running.instances if i.process is not None)


@dataclass
class Row:
    instances: int
    level: Level
    cpu_ms_per_frame: float


def measure(instances: int, processes: int, levels: list[int], seconds: float, frames: list[bytes]) -> list[Row]:
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="moodtape-bench-") as folder,
        topology(
            Path(folder),
            processes=(processes,) * instances,
            MOODTAPE_RATE_LIMIT="0",
            MOODTAPE_WORKERS="4",
        ) as running,
    ):
        for clients in levels:
            before = instances_cpu(running)
            level = run_level(running.url, frames, clients, seconds)
            used = instances_cpu(running) - before
            # The CPU was counted over warm-up and measured time together; so were the frames.
            total_frames = max(1, round(level.fps * (seconds + 1.0)))
            rows.append(Row(instances, level, 1000 * used / total_frames))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per level")
    parser.add_argument("--levels", default="1,2,4", help="comma-separated client counts")
    parser.add_argument("--instances", default="1,2", help="comma-separated instance counts")
    parser.add_argument("--processes", type=int, default=1, help="moodtape serve --processes per instance")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    reason = missing_reason()
    if reason:
        raise SystemExit(f"bench_cluster: {reason}")
    frames = make_frames()
    levels = [int(n) for n in args.levels.split(",")]
    rows: list[Row] = []
    for count in (int(n) for n in args.instances.split(",")):
        rows += measure(count, args.processes, levels, args.seconds, frames)
    print(f"{os.cpu_count()} CPUs; {args.seconds:.0f} s per level; instances of {args.processes} process(es)")
    if args.markdown:
        print("\n| instances | clients | frames/s | p50 ms | p95 ms | CPU ms/frame | errors |")
        print("|---|---|---|---|---|---|---|")
    for row in rows:
        level = row.level
        p50, p95 = statistics.median(level.latencies_ms), level.percentile(0.95)
        if args.markdown:
            print(
                f"| {row.instances} | {level.clients} | {level.fps:.1f} | {p50:.1f} | {p95:.1f} "
                f"| {row.cpu_ms_per_frame:.1f} | {level.errors} |"
            )
        else:
            print(
                f"{row.instances} instance(s), {level.clients} clients: {level.fps:.1f} frames/s, "
                f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, {row.cpu_ms_per_frame:.1f} CPU ms/frame"
            )


if __name__ == "__main__":
    main()
