"""Helpers the store tests import."""

from __future__ import annotations


class Clock:
    """A clock that stands still until a test moves ``now``."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
