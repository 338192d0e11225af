"""The balanced topology (``tests/cluster_topology.py``) as a fixture: one for each test module.

A module that needs its topology set up differently (no balancer retries, other instance
settings) overrides :func:`topology_options`; ``cluster`` passes them to
:func:`cluster_topology.topology`. Each module gets a topology of its own, since some tests stop
its services or its instances.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from cluster_topology import Topology, missing_reason, topology


@pytest.fixture(scope="module")
def topology_options() -> dict[str, Any]:
    """Keyword arguments for :func:`cluster_topology.topology`: none, its defaults."""
    return {}


@pytest.fixture(scope="module")
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, topology_options: dict[str, Any]
) -> Iterator[Topology]:
    """Redis, the database, two instances and HAProxy, for the whole module; skips when a program is missing."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    with topology(folder, **topology_options) as running:
        yield running


@pytest.fixture(scope="module")
def face(astronaut_bgr: npt.NDArray[np.uint8]) -> bytes:
    """The astronaut's face filling the middle of a 640x480 JPEG frame: one face that any instance finds."""
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[60:420, 140:500] = cv2.resize(astronaut_bgr, (360, 360))
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return data.tobytes()
