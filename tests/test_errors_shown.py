"""Client values quoted in error messages are cut to a readable length."""

from __future__ import annotations

from moodtape.errors import shown


def test_short_values_are_quoted_whole() -> None:
    assert shown("sadd") == "'sadd'"
    assert shown("x" * 40) == repr("x" * 40)


def test_long_values_are_cut_and_their_length_said() -> None:
    assert shown("ab" * 500, limit=4) == "'abab'… (1,000 characters)"
