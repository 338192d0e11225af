"""A session's shared state written by a newer version is read, and kept, by an older instance.

During a rolling upgrade both versions answer one visit. Before, a field a newer version added to
a feedback event (or an undo step) made the whole document unreadable to the older one: the visit's
lists, feedback and corrections started afresh there, and the older instance's next change wrote the
empty state over everything the newer one had kept.
"""

from __future__ import annotations

import json

import redis

from moodtape.session_state import SessionState, UndoStep
from moodtape.state.connection import PREFIX, connect
from moodtape.state.sessions import RedisSessionMemory
from moodtape.store.records import Feedback, SavedList

SESSION = "visit-across-versions-0001"


def _kept_by_this_version() -> SessionState:
    saved = SavedList("list-1", "music", "match", {"items": [{"title": "Song"}]}, 1_800_000_000.0)
    liked = Feedback("song-1", "Artist", "like", list_id="list-1", position=0, id="fb-1")
    return (
        SessionState()
        .with_list(saved, current=True)
        .with_feedback(liked)
        .with_undo("list-1", (UndoStep(0, {"title": "Song"}, "fb-1"),))
        .with_correction("sad", "calm")
    )


def _as_a_newer_version_writes_it(state: SessionState) -> str:
    """``state``'s document with what a newer version might add: fields in entries, a new part."""
    document = json.loads(state.to_json())
    for entry in document["feedback"]:
        entry["strength"] = 0.8
    for steps in document["undo"].values():
        for step in steps:
            step["reason"] = "disliked"
    document["lists"][0]["pinned"] = True
    document["moods_seen"] = {"calm": 3}
    return json.dumps(document)


def test_a_newer_versions_document_keeps_the_visit() -> None:
    ours = _kept_by_this_version()
    read = SessionState.from_stored(_as_a_newer_version_writes_it(ours))
    assert read.lists == ours.lists
    assert read.feedback == ours.feedback
    assert read.undo == ours.undo
    assert read.corrections == ours.corrections == {"sad": "calm"}
    assert json.loads(read.to_json())["moods_seen"] == {"calm": 3}  # a part this version does not know


def test_an_older_instances_change_keeps_the_newer_versions_parts(redis_url: str) -> None:
    client: redis.Redis = connect(redis_url)
    key = f"{PREFIX}session:{SESSION}"
    client.set(key, _as_a_newer_version_writes_it(_kept_by_this_version()))

    older = RedisSessionMemory(client)
    later = Feedback("song-2", "Other", "skip", id="fb-2")
    changed = older.update(SESSION, lambda state: state.with_feedback(later))

    assert [found.id for found in changed.feedback] == ["fb-1", "fb-2"]
    stored = json.loads(client.get(key) or b"{}")
    assert stored["moods_seen"] == {"calm": 3}
    assert [entry["id"] for entry in stored["feedback"]] == ["fb-1", "fb-2"]
    assert stored["corrections"] == {"sad": "calm"} and [x["id"] for x in stored["lists"]] == ["list-1"]
    client.delete(key)


def test_a_part_left_out_by_a_newer_version_reads_as_empty() -> None:
    document = json.loads(_kept_by_this_version().to_json())
    del document["undo"]
    read = SessionState.from_stored(json.dumps(document))
    assert read.undo == {} and [found.id for found in read.feedback] == ["fb-1"]
