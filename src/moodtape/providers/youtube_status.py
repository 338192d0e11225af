"""Asking YouTube again whether a cached search's videos still play.

A search is cached for a day, and a video deleted or made private meanwhile was offered from the
cache until then: the visitor's player said "Video unavailable". So once a cached search is
:data:`STATUS_RECHECK` old, its videos are asked about again in one ``videos.list?part=status``
call (1 quota unit, no search allowance), and those that no longer play are left out.

Kept apart from :mod:`moodtape.providers.youtube` (which plans, searches and counts the budget)
because the re-check is its own small protocol: when to ask again, which answers to distrust, and
what a failure costs. The provider hands it the client, cache and budget it already holds.
"""

from __future__ import annotations

from typing import Any

from moodtape.errors import ProviderError, ProviderUnreachableError
from moodtape.providers.budget import BudgetStore, quota_day
from moodtape.providers.http import Cache, Clock, OutOfTimeError, ServiceClient, fetch_once, json_dict
from moodtape.providers.youtube_replies import (
    PROJECT_QUOTA_MESSAGE,
    ProjectQuotaError,
    item_video_id,
    status_playable,
    youtube_error,
)

VIDEOS_URL = "https://www.googleapis.com/youtube/v3/videos"
#: The most results a search or chart is asked for, and the most IDs one status call is asked about.
MAX_RESULTS = 50
#: Seconds after a search (or its last re-check) before its cached videos are asked about again.
#: 6 h: each search, cached 24 h, costs at most 3 units more, against 10,000 units a project has.
STATUS_RECHECK = 6 * 3600.0
#: Seconds before a re-check that never reached YouTube (unreachable, paused) is tried again; the
#: cached videos are shown meanwhile. One YouTube answered (an error, or an odd answer) waits a
#: whole :data:`STATUS_RECHECK` instead: it may have been billed, and asking every 10 minutes
#: would spend 108 units a day per search.
STATUS_RECHECK_RETRY = 600.0
_SERVICE = "YouTube"


def gone_key(search_key: tuple[str, str, bool, str, str]) -> tuple[str, tuple[str, str, bool, str, str]]:
    """Where the IDs of a cached search's videos that no longer play are kept: set to ``[]`` by
    the search itself, it lasts ``status_recheck`` seconds, so its absence means "ask again"."""
    return ("gone", search_key)


class StatusCheck:
    """The re-check of one provider's cached searches, with that provider's client, cache and
    quota-day budget (a closed day asks nothing). The API key is kept private, never shown."""

    def __init__(
        self, client: ServiceClient, cache: Cache[list[Any]], budget: BudgetStore, quota_clock: Clock, api_key: str
    ) -> None:
        self._client = client
        self._cache = cache
        self._budget = budget
        self._quota_clock = quota_clock
        self._api_key = api_key

    def __repr__(self) -> str:
        return "StatusCheck(api_key='set')"

    def gone(
        self,
        search_key: tuple[str, str, bool, str, str],
        items: list[Any],
        every: float,
        deadline: float | None = None,
    ) -> list[Any]:
        """IDs among a cached search's ``items`` that no longer play (deleted, private, no longer
        embeddable), asked about once per ``every`` seconds (single flight, shared by the cache).

        A failed re-check loses nothing: the cached videos are shown as they were, and it is tried
        again after :data:`STATUS_RECHECK_RETRY` if it never reached YouTube, else after a whole
        ``every`` (see :func:`_answered`). ``deadline``: the search's time budget (see
        :meth:`ServiceClient.request`); a check it has no time for is not sent and stays due, for
        the next visit (a slow status endpoint answering 503, 503, 200 in 4.9 s held the first
        fetch of a search 15.45 s, outside the budget).
        """
        key = gone_key(search_key)
        try:
            return fetch_once(
                self._cache,
                key,
                lambda: self._unplayable(items, deadline),
                ttl=every,
                hold=self._client.longest_request,
                wait=self._client.wait_allowed(deadline),  # another visitor's check: no longer than the budget
            )
        except OutOfTimeError:
            return []  # nothing asked, nothing learned: still due
        except ProviderError as error:  # logged by the client; a pause it started keeps others from calling
            self._cache.set(key, [], ttl=every if _answered(error) else STATUS_RECHECK_RETRY)
            return []

    def _unplayable(self, items: list[Any], deadline: float | None = None) -> list[str]:
        """One ``videos.list?part=status`` call about up to 50 IDs (1 unit): those it does not
        return (deleted, or private to their owner) or returns as not playable.

        An odd answer removes nothing: one without an ``items`` list, with an item that has no
        well-formed video ID or one not asked about, or one that would remove every video asked
        about (``{"items": []}`` included). A real check that finds all of a search's videos gone
        is far rarer than a broken answer, and the search is made again within the day anyway.
        """
        ids = list(dict.fromkeys(i for item in items if (i := item_video_id(item))))[:MAX_RESULTS]
        if not ids:
            return []
        day = quota_day(self._quota_clock())
        if self._budget.closed(day):
            closed = ProjectQuotaError(PROJECT_QUOTA_MESSAGE)
            closed.maybe_sent = False  # nothing asked: no unit spent
            raise closed
        try:
            body = self._client.request(
                "GET",
                VIDEOS_URL,
                # No maxResults: Google documents it as not supported with id.
                params={"part": "status", "id": ",".join(ids)},
                headers={"X-Goog-Api-Key": self._api_key},
                on_error=lambda response: youtube_error(response, search=False),
                deadline=deadline,
            )
        except ProjectQuotaError:
            self._budget.close_day(day)
            raise
        answered = json_dict(body, _SERVICE).get("items")
        if not isinstance(answered, list):
            raise self._odd_answer()
        answered_ids = {item_video_id(item) for item in answered}
        if None in answered_ids or not answered_ids <= set(ids):  # an item without a valid ID, or not asked
            raise self._odd_answer()
        stopped = {
            item_video_id(item)
            for item in answered
            if isinstance(item, dict) and isinstance(item.get("status"), dict) and not status_playable(item["status"])
        }  # an item without a status says nothing against its video
        gone = [video_id for video_id in ids if video_id not in answered_ids or video_id in stopped]
        if len(gone) == len(ids):
            raise self._odd_answer()
        return gone

    def _odd_answer(self) -> ProviderError:
        """The error (logged once) for a status answer that is not an answer to the question."""
        return self._client.fail(ProviderError("YouTube answered a status check with something else."))


def _answered(error: ProviderError) -> bool:
    """Whether YouTube answered a failed status check (an error status, or an odd answer), so that
    it may have cost a unit: asked again every 10 minutes, it would cost one each time. A check
    that never left (a pause, no connection) or got no answer (unreachable, timed out) is tried
    again after :data:`STATUS_RECHECK_RETRY`."""
    return error.maybe_sent and not isinstance(error, ProviderUnreachableError)
