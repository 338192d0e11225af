"""The balanced topology (``tests/cluster_topology.py``) as a fixture: one for each test module.

A module that needs its topology set up differently (no balancer retries, other instance
settings) overrides :func:`topology_options`; ``cluster`` passes them to
:func:`cluster_topology.topology`. Each module gets a topology of its own, since some tests stop
its services or its instances.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
