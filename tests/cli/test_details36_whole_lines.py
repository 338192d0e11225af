"""``moodtape recommend`` keeps a logged line that says more than the notes shown (session 36).

Since a message that names its service is logged without a "<service>: " prefix, cutting every
line at its first ": " cut off the message's own head, so a line whose tail a note held was dropped:
"Spotify rejected the app's credentials (invalid_client): <hint>" went unsaid beside "Spotify needs
a client ID and secret: <hint>". Only a known service's name is taken off now.
"""

from __future__ import annotations

from moodtape.cli.recommend import _operator_details

HINT = "set MOODTAPE_SPOTIFY_CLIENT_ID and MOODTAPE_SPOTIFY_CLIENT_SECRET"


def test_a_line_that_names_its_service_is_compared_whole() -> None:
    logged = [f"Spotify rejected the app's credentials (invalid_client): {HINT}"]
    assert _operator_details(logged, (f"Spotify needs a client ID and secret: {HINT}",)) == logged


def test_a_prefixed_line_a_note_said_is_not_repeated() -> None:
    shown = ("YouTube was left out: the key was refused; check it.",)
    assert _operator_details(["YouTube: the key was refused; check it"], shown) == []
    assert _operator_details(["iTunes Search: the key was refused; check it"], shown) == []


def test_a_line_said_whole_by_a_note_is_not_repeated() -> None:
    line = "Deezer is unreachable (offline?)."
    assert _operator_details([line, line], (f"Previews: {line}",)) == []
    assert _operator_details([line, line], ()) == [line]
