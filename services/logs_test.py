"""Tests of the JSON log format and request-id propagation."""

import io
import json
import logging

import pytest

from services import logs


@pytest.fixture
def lines():
    """Configure JSON logging into a buffer; yield a function returning the parsed lines."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    logs.configure("predict", "INFO", stream=buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.handlers[:], root.level = saved


def test_each_line_is_json_with_service_level_and_extras(lines):
    logging.getLogger("t").info("scored %d rows", 3, extra={"rows": 3})
    logging.getLogger("t").debug("below the level")
    (entry,) = lines()
    assert entry["message"] == "scored 3 rows"
    assert entry["level"] == "info"
    assert entry["service"] == "predict"
    assert entry["rows"] == 3
    assert "request_id" not in entry


def test_request_id_is_the_one_current_when_logged(lines):
    token = logs.request_id.set("abc-123")
    try:
        logging.getLogger("t").warning("slow")
    finally:
        logs.request_id.reset(token)
    logging.getLogger("t").warning("after")
    first, second = lines()
    assert first["request_id"] == "abc-123"
    assert "request_id" not in second


def test_exceptions_are_kept(lines):
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("t").exception("failed")
    (entry,) = lines()
    assert "RuntimeError: boom" in entry["exception"]
