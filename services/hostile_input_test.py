"""Hostile request bodies against both services running for real: each answered 4xx, cheaply; processes stay up."""

import json
import os
import select
import socket
import time
from pathlib import Path

import pytest

from services.launch import get, group_rss_bytes, running_stack
from services.predict.tests.support import RECORD

API_KEY = "hostile-input-key-7d1e"
MAX_BODY = 4 * 1024 * 1024  # the services' default max_body_bytes
SERVICES = ("predict", "api")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    model_dir = Path(os.environ["MODEL_SIGNATURE"]).resolve().parent
    workdir = tmp_path_factory.mktemp("hostile")
    with running_stack(
        os.environ["PREDICT_SERVE"], os.environ["API_SERVE"], workdir=workdir, model_dir=model_dir, api_key=API_KEY
    ) as running:
        yield running
        for service in SERVICES:
            assert running[service].process.poll() is None, f"{service} died:\n{running[service].log_tail()}"


def port_of(stack, service: str) -> int:
    return int(stack[f"{service}_url"].rsplit(":", 1)[1])


def auth(service: str) -> dict[str, str]:
    return {"X-API-Key": API_KEY} if service == "api" else {}


def exchange(port: int, head: dict[str, str], body: bytes) -> tuple[int, dict]:
    """One raw HTTP/1.1 POST /v1/predict with exactly these headers and body; returns (status, JSON answer)."""
    lines = ["POST /v1/predict HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{key}: {value}" for key, value in head.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return read_answer(sock)


def read_answer(sock: socket.socket) -> tuple[int, dict]:
    """Read one whole HTTP answer (the server closes the connection after it)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass  # closed with our unread body in its buffer: what arrived before the reset is the answer
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        decoded, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            decoded, rest = decoded + rest[:size], rest[size + 2 :]
        body = decoded
    return status, json.loads(body)


def post(stack, service: str, body: bytes, content_type: str | None = "application/json") -> tuple[int, dict]:
    head = {**auth(service), "Content-Length": str(len(body))}
    if content_type is not None:
        head["Content-Type"] = content_type
    return exchange(port_of(stack, service), head, body)


def assert_up(stack, service: str) -> None:
    assert stack[service].process.poll() is None, stack[service].log_tail()
    assert get(stack[f"{service}_url"] + "/healthz")[0] == 200


@pytest.mark.parametrize("service", SERVICES)
def test_401_digit_integer_is_422(stack, service):
    body = json.dumps({**RECORD, "MedInc": int("9" * 401)}).encode()
    status, answer = post(stack, service, body)
    assert status == 422, answer
    assert answer["detail"][0]["loc"] == ["body", "MedInc"]
    assert answer["detail"][0]["type"] == "finite_number"
    assert_up(stack, service)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("opener", ["[", '{"a":'], ids=["arrays", "objects"])
def test_json_nested_100000_deep_is_422(stack, service, opener):
    closer = "]" if opener == "[" else "}"
    body = (opener * 100_000 + "1" + closer * 100_000).encode()
    status, answer = post(stack, service, body)
    assert status == 422, answer
    assert answer["detail"][0]["type"] == "json_invalid"
    assert "nested too deeply" in answer["detail"][0]["msg"]
    assert_up(stack, service)


@pytest.mark.parametrize("service", SERVICES)
def test_text_plain_is_415(stack, service):
    status, answer = post(stack, service, json.dumps(RECORD).encode(), content_type="text/plain")
    assert status == 415, answer
    assert "application/json" in answer["detail"]
    assert_up(stack, service)


@pytest.mark.parametrize("service", SERVICES)
def test_missing_content_type_is_415(stack, service):
    status, answer = post(stack, service, json.dumps(RECORD).encode(), content_type=None)
    assert status == 415, answer
    assert_up(stack, service)


@pytest.mark.parametrize("service", SERVICES)
def test_content_length_over_the_limit_is_413_before_the_body(stack, service):
    head = {**auth(service), "Content-Type": "application/json", "Content-Length": str(50 * 1024 * 1024)}
    # Only the headers are sent: the answer must come without waiting for 50 MB.
    status, answer = exchange(port_of(stack, service), head, b"")
    assert status == 413, answer
    assert_up(stack, service)


@pytest.mark.parametrize("service", SERVICES)
def test_50mb_chunked_body_without_content_length_is_413_and_not_buffered(stack, service):
    process = stack[service]
    before = group_rss_bytes(process)
    peak = before
    head = [
        "POST /v1/predict HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked",
        *(f"{key}: {value}" for key, value in auth(service).items()),
    ]
    chunk = b" " * (64 * 1024)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port_of(stack, service)), timeout=30) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        try:
            while sent < 50 * 1024 * 1024:
                sock.sendall(framed)
                sent += len(chunk)
                if sent % (1024 * 1024) == 0:
                    peak = max(peak, group_rss_bytes(process))
                    if select.select([sock], [], [], 0)[0]:
                        break  # the answer came: the server stopped reading
            else:
                sock.sendall(b"0\r\n\r\n")
        except BrokenPipeError, ConnectionResetError:
            pass  # the server answered and closed while we were still sending: the point
        status, answer = read_answer(sock)
    time.sleep(0.2)
    peak = max(peak, group_rss_bytes(process))
    print(f"{service}: sent {sent / 2**20:.0f} MiB chunked; RSS {before / 2**20:.1f} -> peak {peak / 2**20:.1f} MiB")
    assert status == 413, answer
    assert sent > MAX_BODY, "the server answered before the body reached the limit"
    assert peak - before < 10 * 1024 * 1024
    assert_up(stack, service)
