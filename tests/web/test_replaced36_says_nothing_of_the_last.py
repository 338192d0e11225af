"""A row replaced after a dislike, and the row after it, say nothing untrue of the row before.

The replacement brought its reason from another ranking, where "a shade livelier than the last" or
"brighter still" was said of another song before it, and the row after kept comparing itself with
the disliked song: over the built-in catalog (7 emotions x 4 strategies, rows 1 to 8 of 9 disliked
in turn), 38 of 224 replaced rows and 17 rows after them made a claim the row before did not bear out.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from webtools import AppFactory, csrf_headers

from moodtape.providers.catalog import Catalog
from moodtape.recommender.engine import Recommender
from moodtape.recommender.features import effective_energy
from moodtape.recommender.reasons import NOTICEABLE, without_comparisons
from moodtape.store import Store
from moodtape.types import Track, Video

#: What a reason may claim of the row before it: (axis, direction), 0 valence, 1 energy.
CLAIMS = {
    "a shade livelier than the last": (1, 1),
    "a shade calmer than the last": (1, -1),
    "a shade brighter than the last": (0, 1),
    "a shade darker than the last": (0, -1),
    "a little brighter than the last": (0, 1),
    "brighter still": (0, 1),
    "quieter than the last": (1, -1),
    "livelier than the last": (1, 1),
}


@pytest.fixture(scope="module")
def by_key() -> dict[str, Track | Video]:
    catalog = Catalog.builtin()
    return {item.key: item for item in (*catalog.all_tracks(), *catalog.all_videos())}


def _untrue(reason: str, item: Track | Video, previous: Track | Video) -> list[str]:
    values = [(thing.valence, effective_energy(thing)) for thing in (item, previous)]
    return [
        claim
        for claim, (axis, direction) in CLAIMS.items()
        if claim in reason and direction * (values[0][axis] - values[1][axis]) < NOTICEABLE
    ]


@pytest.mark.parametrize(("emotion", "strategy"), [("sad", "calm"), ("neutral", "energize"), ("happy", "energize")])
def test_rows_around_a_replaced_one_claim_nothing_untrue(
    make_app: AppFactory, by_key: dict[str, Track | Video], emotion: str, strategy: str
) -> None:
    app: Flask = make_app(recommender=Recommender([], Catalog.builtin(), store=Store(":memory:")))
    browser = app.test_client()
    csrf = csrf_headers(browser)
    shown: dict[str, Any] = browser.post(
        f"/api/lists?emotion={emotion}&strategy={strategy}&n=9&seed=0", headers=csrf
    ).get_json()
    untrue: list[tuple[int, list[str]]] = []
    for position in range(1, 9):
        body = {
            "action": "dislike",
            "list": shown["list_id"],
            "position": position,
            "item": shown["items"][position]["key"],
        }
        answer = browser.post("/api/feedback", json=body, headers=csrf).get_json()
        assert answer["replaced"] is True
        shown = answer["list"]
        items = shown["items"]
        for row in range(position, min(position + 2, len(items))):
            said = _untrue(items[row]["reason"], by_key[items[row]["key"]], by_key[items[row - 1]["key"]])
            untrue += [(row, said)] if said else []
    assert untrue == []


@pytest.mark.parametrize(
    ("line", "emotion", "expected"),
    [
        (
            "Driving, warm song, a shade livelier than the last — full speed",
            "happy",
            "Driving, warm song — full speed",
        ),
        ("Lively, bright song — brighter still", "sad", "Lively, bright song — to leave you somewhere brighter"),
        (
            "Lively, warm song, a shade darker than the last — a little brighter than the last (step 3 of 9)",
            "sad",
            "Lively, warm song — to lift your sad mood gently (step 3 of 9)",
        ),
        (
            "Slow, warm song — quieter than the last, because you liked “Blue”",
            None,
            "Slow, warm song — to slow things down, because you liked “Blue”",
        ),
        ("Slow, warm song — to stay settled", "sad", "Slow, warm song — to stay settled"),
    ],
)
def test_without_comparisons(line: str, emotion: str | None, expected: str) -> None:
    assert without_comparisons(line, emotion) == expected
