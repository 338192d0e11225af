"""Rewrite a marked section of a Markdown file, so a benchmark's ``--write`` keeps the docs in step.

A section lies between two HTML comments, ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``, which
stay in place; only what lies between them is replaced.
"""

from __future__ import annotations


def replace_between(text: str, start: str, end: str, body: str) -> str:
    """``text`` with what lies between the markers ``start`` and ``end`` replaced by ``body``."""
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"
