"""moodtape's exceptions: one small hierarchy, each class carrying an HTTP status for ``web/``.

Every message says what went wrong and, where there is one, what to do about it, so that the
CLI can print it as one line and the web API can return it as JSON unchanged.
"""

from __future__ import annotations

from typing import ClassVar, Final

#: Longest piece of a client's value quoted back in an error message.
SHOWN_CHARACTERS: Final = 40


def shown(value: object, limit: int = SHOWN_CHARACTERS) -> str:
    """``value`` quoted for an error message, cut to ``limit`` characters with its full length said.

    Messages echo what the client sent so that they can see what was wrong, but a 60,000-character
    query value should not come back 60,000 characters long.
    """
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


class MoodtapeError(Exception):
    """Root of every error moodtape raises on purpose."""

    #: HTTP status the web API answers with.
    status: int = 500
    #: Short machine-readable code for the JSON error body.
    code: str = "internal_error"
    #: Seconds after which the same request may work (sent as ``Retry-After``); None: no such promise.
    retry_after: int | None = None


class SettingsError(MoodtapeError):
    """A setting holds a value moodtape cannot use; the message names the variable, the value and what is allowed.

    Raised once, when the settings are read: the CLI prints it as one line and the server refuses to start.
    One met while answering a request (an app built through the Python API from a store or Redis URL
    the settings never checked) is a 503, as the server cannot serve until its operator changes the
    setting, not a 500, the status of a bug; waiting does not mend it, so no ``Retry-After``.
    """

    status = 503
    code = "bad_setting"


class ImageError(MoodtapeError):
    """An image could not be read: missing, empty, corrupt, not an image, or too large."""

    status = 422
    code = "bad_image"


class ImageTooLargeError(ImageError):
    """The image has more pixels than the configured limit (a guard against decompression bombs)."""

    status = 413
    code = "image_too_large"


class CorruptImageError(ImageError):
    """The bytes start like an image but the decoder gave up on them; the message quotes the
    decoder, which helps on the command line and says nothing useful to a web client."""


class UnsupportedImageError(ImageError):
    """The bytes are not in an image format moodtape reads."""

    status = 415
    code = "unsupported_image"


class ModelError(MoodtapeError):
    """An emotion model could not be loaded, converted or run."""

    status = 503
    code = "model_error"


class DatasetError(MoodtapeError):
    """A dataset (FER2013 folder or CSV) is missing or malformed."""

    status = 400
    code = "bad_dataset"


class DataError(MoodtapeError):
    """Input to the recommender or the Python API is invalid: unknown emotion or strategy, bad
    probabilities, bad n, calibration examples in no usable shape, a bad argument."""

    status = 400
    code = "bad_request"


class ArgumentError(DataError, ValueError):
    """A Python API call's argument of the wrong kind or out of range (a stream frame's timestamp
    given as None, ``color_order="xyz"``); the message says what to pass.

    A ``ValueError`` too: these were bare ValueErrors, which code written before may still catch.
    """


class CatalogError(MoodtapeError):
    """The built-in or a user catalog is missing, empty or malformed."""

    status = 422
    code = "bad_catalog"


class ProviderError(MoodtapeError):
    """A live provider (Spotify, YouTube, Deezer, iTunes) failed; the catalog takes over."""

    status = 503
    code = "provider_unavailable"
    #: False when the request surely never left (a pause in force, no connection made), so no
    #: quota was spent on it; True when it may have reached the provider.
    maybe_sent: bool = True
    #: True for a 5xx after every retry: it may be one request's fault (its words tripping a server
    #: bug), so its pause holds back that request only, until several different ones failed (see
    #: ``TroubleCounter`` in ``providers/http.py``); False: its ``retry_after`` pauses the whole
    #: service at once.
    counts_toward_pause: bool = False
    #: True for a 5xx or 429 not retried only because the retry would have ended past the caller's
    #: deadline (``request_json`` in ``providers/http.py``): the time a search had left ended it, not
    #: the service alone. A client built with ``late_retry_is_late`` raises ``OutOfTimeError`` instead.
    retry_out_of_time: bool = False
    #: Whether this failure pauses the service and is logged (see ``ServiceClient``); False for
    #: one worth trying again at once, such as a stale token.
    pauses: ClassVar[bool] = True


class ProviderUnreachableError(ProviderError):
    """A live provider could not be reached or did not answer in time (offline, DNS, timeout).

    ``maybe_sent``: the request may have reached the provider (it timed out or the connection broke
    while waiting for the answer), so it may have been counted against a quota there; False when
    it surely never left (no connection was made).
    """

    code = "provider_unreachable"

    def __init__(self, message: str, *, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class ProviderAuthError(ProviderError):
    """The provider refused our credentials (invalid key, Premium required, API not enabled)."""

    code = "provider_auth"


class CallerRefusedError(ProviderAuthError):
    """The provider refused this caller rather than the credentials as such: a key's restrictions
    (IP addresses, websites, apps) that let other machines in, or a bare 403 that names no reason
    and may concern one request. Another machine holding the same key may be welcome, so its pause
    is kept by the workers of one machine (one address) and never shared through Redis
    (``state/pauses.py``)."""


class QuotaExceededError(ProviderError):
    """The provider's quota or rate limit is used up for now."""

    status = 429
    code = "quota_exceeded"


class StoreUnavailableError(MoodtapeError):
    """The database behind the store cannot be reached or stopped answering; it may come back."""

    status = 503
    code = "store_unavailable"
    #: Sent as ``Retry-After``: a restarted database, or a turn on a busy one, comes back within
    #: seconds, and clients (the page, HTTP libraries) then wait at least this long before asking
    #: again. Without it, an outage's 503 said nothing of when to retry.
    retry_after: int | None = 1


class StoreSetupError(MoodtapeError):
    """The database answers but cannot be used as it is: its schema is newer than this moodtape
    knows (a rollback after an upgrade migrated it), or the user may not create the tables.
    Waiting does not help; the operator must act, and the message says how."""

    status = 503
    code = "store_not_set_up"


class ServerBusyError(MoodtapeError):
    """The server is at its bound for this kind of work right now; the same request works a little later.

    Args:
        message: what is busy and what to do.
        retry_after: seconds the client should wait (sent as ``Retry-After``).
    """

    status = 503
    code = "busy"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotFoundError(MoodtapeError):
    """A saved list (or an item on it) that this session does not have: never made, expired or deleted."""

    status = 404
    code = "not_found"


class ConflictError(MoodtapeError):
    """Other requests kept changing the same list while this one was working; sending it again works."""

    status = 409
    code = "conflict"


class StaleRowError(MoodtapeError):
    """Feedback named the item it meant (``item``), and the row no longer holds it: the sender's
    list is older than the server's (a second tab, a replayed request). Sending it again cannot
    help, unlike :class:`ConflictError`; the sender should read the list again."""

    status = 409
    code = "stale_row"


class NothingToUndoError(MoodtapeError):
    """Undo asked of a list with no dislike left to take back: the request is fine, the list's state is not."""

    status = 409
    code = "nothing_to_undo"


class HistoryBudgetError(MoodtapeError):
    """One client address has written as much history today as the server allows one address a day
    (``MOODTAPE_HISTORY_MB_PER_ADDRESS``): nothing was kept; history is kept again tomorrow (UTC).

    Lists are not refused for it (they are answered with ``kept: false``, see ``sessions.py``);
    feedback and turning history on still are, with a 429 (small writes no person makes a day of).

    Args:
        message: what happened and what the person can do meanwhile.
        retry_after: seconds until the day's allowance starts again (sent as ``Retry-After``).
    """

    status = 429
    code = "history_budget_spent"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
