"""``loads_bounded``'s nesting bound: brackets inside strings do not count, and a body of a
picture as base64 in JSON is measured in one pass (``web/bounded_json.py``)."""

from __future__ import annotations

import pytest

from moodtape.errors import DataError
from moodtape.web.bounded_json import MAX_DEPTH, loads_bounded


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_the_deepest_nesting_allowed_is_read_and_one_more_is_refused() -> None:
    assert loads_bounded(nested(MAX_DEPTH), max_chars=100, what="the body") is not None
    with pytest.raises(DataError, match="nested too deeply"):
        loads_bounded(nested(MAX_DEPTH + 1), max_chars=100, what="the body")


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "' + "[{" * 50 + '"}',
        '["\\"[[[[[[[[[[[[", "]]]]"]',
        '{"image": "data:image/png;base64,' + "A" * 100_000 + '", "x": "\\\\"}',
    ],
    ids=["brackets-in-a-string", "escaped-quote", "long-string-then-escape"],
)
def test_brackets_inside_strings_do_not_count(text: str) -> None:
    assert loads_bounded(text, max_chars=len(text), what="the body") is not None


def test_a_body_of_brackets_is_refused_as_too_deep() -> None:
    text = "{" * 1_000_000
    with pytest.raises(DataError, match="nested too deeply"):
        loads_bounded(text, max_chars=len(text), what="the body")


@pytest.mark.parametrize(
    "text", ['"' + '\\"' * 30_000, '["' + '\\"' * 30_000 + "\\"], ids=["escaped-quotes", "ending-in-a-backslash"]
)
def test_an_unterminated_string_of_escapes_is_refused_as_not_json(text: str) -> None:
    """Everything after an unterminated string's quote is inside it (as the old character loop read it)."""
    with pytest.raises(DataError, match="not valid JSON"):
        loads_bounded(text, max_chars=len(text), what="the body")
