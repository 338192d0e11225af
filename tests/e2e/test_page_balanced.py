"""The page tests again, unchanged, through HAProxy in front of two instances (no sticky sessions).

Camera stream, list, feedback, export and history, with every request free to reach either
instance: the frames of one camera stream alternate between them, so this also checks that the
page behaves the same when its state lives in Redis and the shared database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browsertools import Server
from test_page import (
    test_camera_boxes_the_face_and_lists_playable_music,
    test_export_links_return_the_list_as_files,
    test_feedback_is_sent_with_the_token_and_accepted,
    test_history_shows_and_deletes,
)

from cluster_topology import missing_reason, topology

__all__ = [
    "test_camera_boxes_the_face_and_lists_playable_music",
    "test_export_links_return_the_list_as_files",
    "test_feedback_is_sent_with_the_token_and_accepted",
    "test_history_shows_and_deletes",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The balancer's address in place of one ``moodtape serve`` (overrides the conftest fixture)."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    with topology(tmp_path_factory.mktemp("balanced")) as running:
        assert running.haproxy is not None
        yield Server(f"{running.url}/", running.haproxy, running.folder / "haproxy.log")
        for instance in running.instances:
            assert "Traceback" not in instance.log(), instance.log()[-3000:]
