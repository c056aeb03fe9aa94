"""Unit tests of the body guard: 415 unless JSON, 413 by Content-Length or while a body streams."""

import asyncio

import pytest

from services.middleware import BodyGuardMiddleware

LIMIT = 1024


class ReadingApp:
    """An ASGI app that reads the whole body, then answers 200 with its length."""

    def __init__(self) -> None:
        self.read = 0

    async def __call__(self, scope, receive, send) -> None:
        while True:
            message = await receive()
            self.read += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(self.read).encode()})


def call(headers: list[tuple[bytes, bytes]], chunks: list[bytes], method: str = "POST"):
    """Run one request through the guard; return (status, body, bytes the app read, chunks pulled, refusals)."""
    app = ReadingApp()
    refusals: list[str] = []
    guard = BodyGuardMiddleware(app, max_bytes=LIMIT, on_reject=refusals.append)
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        body = chunks[pulled] if pulled < len(chunks) else b""
        pulled += 1
        return {"type": "http.request", "body": body, "more_body": pulled < len(chunks)}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/v1/predict", "headers": headers}
    asyncio.run(guard(scope, receive, send))
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return sent[0]["status"], body, app.read, pulled, refusals


JSON = [(b"content-type", b"application/json")]


def test_json_within_the_limit_passes():
    status, body, read, _, refusals = call([*JSON, (b"transfer-encoding", b"chunked")], [b"x" * 600, b"y" * 400])
    assert (status, body, read, refusals) == (200, b"1000", 1000, [])


@pytest.mark.parametrize(
    "value", [b"application/json; charset=utf-8", b"Application/JSON", b"application/problem+json"]
)
def test_json_media_types_pass(value):
    assert call([(b"content-type", value)], [b"{}"])[0] == 200


@pytest.mark.parametrize(
    "headers",
    [[(b"content-type", b"text/plain")], [], [(b"content-type", b"application/xml")]],
    ids=["text-plain", "none", "xml"],
)
def test_non_json_body_is_415_unread(headers):
    status, body, read, pulled, refusals = call([*headers, (b"content-length", b"2")], [b"{}"])
    assert status == 415
    assert b"application/json" in body
    assert (read, pulled, refusals) == (0, 0, ["unsupported_media_type"])


def test_content_length_over_the_limit_is_413_before_reading():
    status, _, read, pulled, refusals = call([*JSON, (b"content-length", b"999999999")], [b"x"])
    assert (status, read, pulled, refusals) == (413, 0, 0, ["too_large"])


def test_streamed_body_is_stopped_at_the_limit():
    # 100 chunks of 512 bytes, no Content-Length: the guard stops pulling right after the limit.
    status, body, read, pulled, refusals = call([*JSON, (b"transfer-encoding", b"chunked")], [b"x" * 512] * 100)
    assert status == 413
    assert b"larger than 1024 bytes" in body
    assert pulled == 3  # 512 + 512 + 512 > 1024
    assert read == 1024  # the app never saw the chunk that went over
    assert refusals == ["too_large"]


def test_get_is_not_checked():
    assert call([], [b""], method="GET")[0] == 200


def test_bodiless_post_goes_on_to_the_route():
    assert call([], [b""])[0] == 200
