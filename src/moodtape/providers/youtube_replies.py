"""Reading YouTube Data API v3 replies: items into :class:`Video` values, errors into readable ones.

Google's error body is ``{"error": {"code", "message", "errors": [{"reason", "domain"}], "status",
"details": [{"reason"}]}}``; the ``reason`` strings tell an invalid key from a used-up quota.
"""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from moodtape.errors import CallerRefusedError, ProviderAuthError, ProviderError, QuotaExceededError
from moodtape.providers.http import (
    AUTH_PAUSE,
    MAX_PAUSE,
    RATE_LIMIT_PAUSE,
    for_operator,
    not_available_here,
    paused,
    quote_api_message,
)
from moodtape.providers.moodwords import clamp_point
from moodtape.types import Video

_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_THUMBNAIL_ORDER = ("medium", "high", "default")

PROJECT_QUOTA_MESSAGE = "YouTube's daily quota is used up; using the built-in catalog until tomorrow."
SEARCH_QUOTA_MESSAGE = "YouTube's daily search allowance is used up; using the built-in catalog until tomorrow."


class ProjectQuotaError(QuotaExceededError):
    """403 ``quotaExceeded``: the Google Cloud project's daily units are spent; every call fails."""


class KeyRefusedError(ProviderAuthError):
    """The key was refused at the door (invalid, API not enabled, blocked by its restrictions):
    Google counts nothing against such a call, so the search reserved for it is given back. A bare
    403 is not one of these: it may have been counted."""


class KeyBlockedError(KeyRefusedError, CallerRefusedError):
    """The key's restrictions refused this caller (its IP address, website, Android or iOS app):
    refused at the door like any :class:`KeyRefusedError`, but another machine with the same key
    may be let in, so its pause is never shared through Redis (``state/pauses.py``)."""


#: Google's reasons for a key whose restrictions refused the caller, not the key everywhere
#: (``ipRefererBlocked``: the older ``errors[].reason``). ``API_KEY_SERVICE_BLOCKED`` (the key may
#: not call this API) is not one: it refuses every caller.
CALLER_BLOCKED_REASONS = frozenset(
    {
        "API_KEY_IP_ADDRESS_BLOCKED",
        "API_KEY_HTTP_REFERRER_BLOCKED",
        "API_KEY_ANDROID_APP_BLOCKED",
        "API_KEY_IOS_APP_BLOCKED",
        "ipRefererBlocked",
    }
)


class RegionRefusedError(ProviderError):
    """400 ``invalidRegionCode``: YouTube does not know ``YOUTUBE_REGION``. Every call with it fails
    until the operator changes the setting, so :class:`~moodtape.providers.youtube.YouTubeProvider`
    sends none with that region for a day after the first."""


class SearchQuotaError(QuotaExceededError):
    """The daily search.list allowance is spent (429 from YouTube, or moodtape's own budget)."""


def video_from_youtube(item: object, point: tuple[float, float], category: str) -> Video | None:
    """A :class:`Video` from a search.list or videos.list item; None when unusable or not embeddable.

    search.list gives ``id: {"kind", "videoId"}``, videos.list gives ``id: "…"``. Titles and
    channel names come HTML-escaped (``&#39;``, ``&amp;``) and are unescaped here.
    """
    video_id = item_video_id(item)
    if video_id is None or not isinstance(item, dict):
        return None
    snippet = item.get("snippet")
    status = item.get("status")
    if not isinstance(snippet, dict):
        return None
    if not _playable(status, snippet):
        return None
    title = _unescaped(snippet.get("title"))
    if not title:
        return None
    valence, energy = clamp_point(point)
    return Video(
        title=title,
        channel=_unescaped(snippet.get("channelTitle")),
        valence=valence,
        energy=energy,
        category=category,
        source="youtube",
        youtube_id=video_id,
        thumbnail_url=_thumbnail(snippet.get("thumbnails")),
        url=f"https://www.youtube.com/watch?v={video_id}",
        estimated=True,
    )


def _unescaped(value: object) -> str:
    """A title as a person reads it: YouTube sends them HTML-escaped. Only a string is a title (a
    reply with ``{"title": {…}}`` showed the dict's Python text as the video's title)."""
    return html.unescape(value).strip() if isinstance(value, str) else ""


#: ``status.uploadStatus`` values of a video that cannot be played (``uploaded``: still processing,
#: and ``processed`` both play).
_GONE_UPLOADS = frozenset({"deleted", "failed", "rejected"})


def _playable(status: object, snippet: dict[str, Any]) -> bool:
    """Whether the embedded player can play the video now, from what the reply already holds.

    videos.list (the chart) gives ``status``: a video that is not embeddable, private, or deleted,
    rejected or failed in processing shows "Video unavailable" in the player. search.list gives no
    ``status`` (``videoEmbeddable=true`` and public-only results stand in for it) but does say
    ``liveBroadcastContent: upcoming``, a premiere or stream that has not begun and plays nothing.
    Checking these costs no call; asking videos.list about every search result would.
    """
    if snippet.get("liveBroadcastContent") == "upcoming":
        return False
    return not isinstance(status, dict) or status_playable(status)


def status_playable(status: dict[str, Any]) -> bool:
    """Whether a videos.list ``status`` lets the embedded player play the video: embeddable, not
    private, and neither deleted nor rejected nor failed in processing."""
    return (
        status.get("embeddable") is not False
        and status.get("privacyStatus") != "private"
        and status.get("uploadStatus") not in _GONE_UPLOADS
    )


def item_video_id(item: object) -> str | None:
    """The video ID of a search.list item (``id.videoId``) or a videos.list item (``id``), if well formed."""
    if not isinstance(item, dict):
        return None
    raw_id = item.get("id")
    video_id = raw_id.get("videoId") if isinstance(raw_id, dict) else raw_id
    return video_id if isinstance(video_id, str) and _VIDEO_ID.fullmatch(video_id) else None


def _thumbnail(thumbnails: object) -> str | None:
    if not isinstance(thumbnails, dict):
        return None
    for size in _THUMBNAIL_ORDER:
        entry = thumbnails.get(size)
        if isinstance(entry, dict) and isinstance(entry.get("url"), str) and entry["url"]:
            return str(entry["url"])
    return None


def _google_error(response: httpx.Response) -> tuple[str, set[str]]:
    """Google's message and every ``reason``/``status`` string in the error body."""
    try:
        body: Any = response.json()
    except ValueError:
        return "", set()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", set()
    reasons: set[str] = set()
    for entry in [*(error.get("errors") or []), *(error.get("details") or [])]:
        if isinstance(entry, dict) and isinstance(entry.get("reason"), str):
            reasons.add(entry["reason"])
    if isinstance(error.get("status"), str):
        reasons.add(error["status"])
    return quote_api_message(error.get("message")), reasons


def region_refused(region: str) -> RegionRefusedError:
    """The error for a region YouTube does not know: a visitor's sentence, the operator's detail."""
    return for_operator(
        RegionRefusedError(not_available_here("YouTube")),
        f"YouTube does not know the region {region!r} (YOUTUBE_REGION): set a two-letter code YouTube "
        "lists (GET /youtube/v3/i18nRegions), such as US or GB. YouTube is not asked again with this region for a day.",
    )


def _refused_key(detail: str, kind: type[KeyRefusedError] = KeyRefusedError) -> KeyRefusedError:
    """The error for a key refused at the door: a visitor's sentence, the operator's detail."""
    return for_operator(kind(not_available_here("YouTube")), detail)


def _asked_region(response: httpx.Response) -> str:
    """The ``regionCode`` the refused request sent ("" when the reply carries no request)."""
    try:
        return quote_api_message(response.request.url.params.get("regionCode", ""))
    except RuntimeError:  # a reply built without its request
        return ""


def youtube_error(response: httpx.Response, *, search: bool) -> ProviderError | None:
    """The error for a non-2xx YouTube reply, or None to let the retry logic handle it (5xx, brief 429s)."""
    status = response.status_code
    message, reasons = _google_error(response)
    if reasons & {"quotaExceeded", "dailyLimitExceeded"}:
        return (
            SearchQuotaError(SEARCH_QUOTA_MESSAGE)
            if status == 429 and search
            else ProjectQuotaError(PROJECT_QUOTA_MESSAGE)
        )
    if status == 400 and "invalidRegionCode" in reasons:
        # Only YouTube's own reason: a 400 that merely mentions a region code in its message is
        # another bad request, and taking it for a refused region stopped every call for a day.
        return paused(region_refused(_asked_region(response)), MAX_PAUSE)
    if status == 429:
        # docs/providers.md: the search allowance may come back as a bare 429; a day's allowance is not worth retrying.
        return SearchQuotaError(SEARCH_QUOTA_MESSAGE) if search else None
    if "keyInvalid" in reasons or "API_KEY_INVALID" in reasons or "api key not valid" in message.lower():
        return paused(_refused_key("The YouTube API key is not valid: check YOUTUBE_API_KEY."), AUTH_PAUSE)
    if reasons & {"accessNotConfigured", "SERVICE_DISABLED"}:
        return paused(
            _refused_key(
                "The YouTube Data API v3 is not enabled for this key's Google Cloud project: enable it in the "
                "Google Cloud console (APIs & Services → Library → YouTube Data API v3), then try again."
            ),
            AUTH_PAUSE,
        )
    if reasons & CALLER_BLOCKED_REASONS:
        return paused(
            _refused_key(
                "YouTube refused this API key from this machine: its restrictions (IP addresses, websites or "
                "apps) block moodtape here; check the key in the Google Cloud console.",
                KeyBlockedError,
            ),
            AUTH_PAUSE,
        )
    if any("Blocked" in r or "BLOCKED" in r for r in reasons):
        return paused(
            _refused_key(
                "YouTube refused this API key: its restrictions (websites, IP addresses or APIs) block moodtape; "
                "check the key in the Google Cloud console."
            ),
            AUTH_PAUSE,
        )
    if reasons & {"rateLimitExceeded", "userRateLimitExceeded"}:
        return paused(
            QuotaExceededError("YouTube is limiting how often moodtape may ask; try again in a minute."),
            RATE_LIMIT_PAUSE,
        )
    if status == 403:  # no reason given: it may concern this machine or this one request
        return paused(CallerRefusedError(f"YouTube refused access (HTTP 403: {message or 'forbidden'})."), AUTH_PAUSE)
    if 400 <= status < 500:
        return ProviderError(f"YouTube rejected the request (HTTP {status}: {message or 'bad request'}).")
    return None
