"""request_json, TTLCache, CircuitBreaker and ServiceClient against faked replies."""

from __future__ import annotations

import httpx
import pytest

from moodtape.errors import ProviderAuthError, ProviderError, ProviderUnreachableError, QuotaExceededError
from moodtape.providers.http import (
    CircuitBreaker,
    RetryPolicy,
    ServiceClient,
    TTLCache,
    json_dict,
    quote_api_message,
    redact,
    request_json,
    retry_after_seconds,
)

URL = "https://api.example.test/v1/thing"


def replies(*responses: httpx.Response):
    """A handler answering with ``responses`` in turn (the last one repeats)."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler


def call(api, sleeps, **kwargs):
    return request_json(api.client(), "GET", URL, service="Example", sleep=sleeps, **kwargs)


# --- TTLCache ---


def test_cache_returns_value_until_ttl_then_forgets(clock) -> None:
    cache: TTLCache[str] = TTLCache(ttl=10, clock=clock)
    cache.set("a", "x")
    clock.advance(9.9)
    assert cache.get("a") == "x"
    clock.advance(0.1)
    assert cache.get("a") is None
    assert len(cache) == 0


def test_cache_entry_ttl_overrides_default(clock) -> None:
    cache: TTLCache[str] = TTLCache(ttl=10, clock=clock)
    cache.set("long", "x", ttl=100)
    clock.advance(50)
    assert cache.get("long") == "x"


def test_cache_evicts_least_recently_used_past_maxsize(clock) -> None:
    cache: TTLCache[int] = TTLCache(ttl=10, maxsize=2, clock=clock)
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.set("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


@pytest.mark.parametrize(("ttl", "maxsize"), [(-1, 10), (10, 0)])
def test_cache_rejects_bad_bounds(ttl: float, maxsize: int) -> None:
    with pytest.raises(ValueError):
        TTLCache(ttl=ttl, maxsize=maxsize)


# --- CircuitBreaker ---


def test_breaker_blocks_for_cooldown_then_allows(clock) -> None:
    breaker = CircuitBreaker(cooldown=60, clock=clock)
    assert breaker.allow()
    breaker.trip("X is unreachable (offline?).")
    assert not breaker.allow()
    assert breaker.seconds_left() == pytest.approx(60)
    assert breaker.reason == "X is unreachable (offline?)."
    clock.advance(60)
    assert breaker.allow()


# --- Retry-After ---


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("soon", None), ("", None), ("nan", None)],
)
def test_retry_after_delta_seconds(header: str, expected: float | None) -> None:
    response = httpx.Response(429, headers={"Retry-After": header} if header else {})
    assert retry_after_seconds(response) == expected


def test_retry_after_http_date() -> None:
    response = httpx.Response(429, headers={"Retry-After": "Thu, 26 Nov 2026 12:00:30 GMT"})
    assert retry_after_seconds(response, now=1_795_694_400.0) == pytest.approx(30.0)


# --- request_json ---


def test_success_returns_decoded_json(make_api, sleeps) -> None:
    api = make_api(replies(httpx.Response(200, json={"ok": [1, 2]})))
    assert call(api, sleeps) == {"ok": [1, 2]}
    assert sleeps == []


def test_5xx_is_retried_with_backoff_then_succeeds(make_api, sleeps) -> None:
    api = make_api(replies(httpx.Response(502), httpx.Response(503), httpx.Response(200, json={"ok": True})))
    assert call(api, sleeps) == {"ok": True}
    assert len(api.requests) == 3
    assert sleeps == [0.25, 0.5]


def test_5xx_exhausted_gives_readable_error(make_api, sleeps) -> None:
    api = make_api(replies(httpx.Response(503)))
    with pytest.raises(ProviderError, match=r"Example is having trouble \(HTTP 503\)") as info:
        call(api, sleeps)
    assert type(info.value) is ProviderError
    assert len(api.requests) == RetryPolicy().attempts


def test_429_honours_retry_after_within_cap(make_api, sleeps) -> None:
    api = make_api(replies(httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={})))
    assert call(api, sleeps) == {}
    assert sleeps == [2.0]


def test_429_with_long_retry_after_fails_at_once_and_says_when(make_api, sleeps) -> None:
    api = make_api(replies(httpx.Response(429, headers={"Retry-After": "30"})))
    with pytest.raises(QuotaExceededError, match="try again in about 30 s"):
        call(api, sleeps)
    assert sleeps == []
    assert len(api.requests) == 1


def test_total_wait_never_exceeds_the_cap(make_api, sleeps) -> None:
    api = make_api(replies(httpx.Response(429, headers={"Retry-After": "1.5"})))
    policy = RetryPolicy(attempts=10, backoff=0.25, max_wait=2.5)
    with pytest.raises(QuotaExceededError):
        call(api, sleeps, retry=policy)
    assert sum(sleeps) <= policy.max_wait
    assert sleeps == [1.5]


def test_429_without_retry_after_backs_off(make_api, sleeps) -> None:
    api = make_api(replies(httpx.Response(429)))
    with pytest.raises(QuotaExceededError, match="try again in a minute"):
        call(api, sleeps)
    assert sleeps == [0.25, 0.5]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_other_4xx_fail_at_once(make_api, sleeps, status: int) -> None:
    api = make_api(replies(httpx.Response(status, json={})))
    with pytest.raises(ProviderError, match=f"HTTP {status}"):
        call(api, sleeps)
    assert len(api.requests) == 1


def test_error_hook_decides_first_and_skips_retries(make_api, sleeps) -> None:
    api = make_api(replies(httpx.Response(503, json={"reason": "key"})))
    seen = []

    def hook(response: httpx.Response) -> ProviderError | None:
        seen.append(response.status_code)
        return ProviderAuthError("bad key")

    with pytest.raises(ProviderAuthError, match="bad key"):
        call(api, sleeps, on_error=hook)
    assert seen == [503]
    assert len(api.requests) == 1


def test_error_hook_returning_none_keeps_retry_logic(make_api, sleeps) -> None:
    api = make_api(replies(httpx.Response(500), httpx.Response(200, json=[])))
    assert call(api, sleeps, on_error=lambda r: None) == []


def test_timeout_becomes_unreachable_error_without_the_url(make_api, sleeps) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    api = make_api(handler)
    with pytest.raises(ProviderUnreachableError, match="did not answer in time") as info:
        request_json(api.client(), "GET", URL + "?key=SECRET123", service="Example", sleep=sleeps)
    assert "SECRET123" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert len(api.requests) == 1  # a timeout is not retried: the user is already waiting


def test_connection_error_says_offline(make_api, sleeps) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)

    api = make_api(handler)
    with pytest.raises(ProviderUnreachableError, match=r"Example is unreachable \(offline\?\)"):
        call(api, sleeps)


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"", b'{"truncated": ', b"\xff\xfe\x00"])
def test_malformed_json_becomes_provider_error(make_api, sleeps, body: bytes) -> None:
    api = make_api(replies(httpx.Response(200, content=body)))
    with pytest.raises(ProviderError, match="could not read"):
        call(api, sleeps)


def test_json_dict_rejects_other_shapes() -> None:
    assert json_dict({"a": 1}, "X") == {"a": 1}
    with pytest.raises(ProviderError, match="unexpected shape"):
        json_dict([1], "X")


def test_redact_and_quote() -> None:
    assert redact("key=abc and abc", ["abc", ""]) == "key=*** and ***"
    assert redact("id=abcdef", ["abc", "abcdef"]) == "id=***"  # no "def" left of the longer secret
    assert quote_api_message("  two\n lines  ") == "two lines"
    assert quote_api_message(None) == ""
    long = quote_api_message("x" * 500)
    assert len(long) == 200 and long.endswith("…")
    assert quote_api_message("token tok-1 bad", ["tok-1"]) == "token *** bad"


# --- ServiceClient ---


def test_service_client_stops_calling_after_unreachable_until_cooldown(make_api, sleeps, clock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    api = make_api(handler)
    client = ServiceClient(api.client(), "Example", timeout=1, sleep=sleeps, clock=clock, cooldown=60)
    for _ in range(3):
        with pytest.raises(ProviderUnreachableError, match="offline"):
            client.request("GET", URL)
    assert len(api.requests) == 1
    clock.advance(61)
    with pytest.raises(ProviderUnreachableError):
        client.request("GET", URL)
    assert len(api.requests) == 2


def test_service_client_scrubs_secrets_from_messages(make_api, sleeps) -> None:
    api = make_api(replies(httpx.Response(400, json={})))
    client = ServiceClient(api.client(), "Example", timeout=1, sleep=sleeps, secrets=lambda: ["s3cr3t"])

    def hook(response: httpx.Response) -> ProviderError | None:
        return ProviderAuthError("the key s3cr3t is wrong")

    with pytest.raises(ProviderAuthError) as info:
        client.request("GET", URL, on_error=hook)
    assert str(info.value) == "the key *** is wrong"


def test_service_client_passes_timeout_per_request(make_api, sleeps) -> None:
    api = make_api(replies(httpx.Response(200, json={})))
    ServiceClient(api.client(), "Example", timeout=1.5, sleep=sleeps).request("GET", URL)
    assert api.requests[0].extensions["timeout"]["read"] == 1.5
