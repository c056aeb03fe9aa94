"""Unit tests of the api's prediction routes: auth, shape checks, forwarding and every upstream failure."""

import json

import pytest

from services.api.tests.support import silent_server
from tools.ports import free_port

RECORD = {
    "MedInc": 8.3,
    "HouseAge": 41.0,
    "AveRooms": 6.9,
    "AveBedrms": 1.0,
    "Population": 322.0,
    "AveOccup": 2.5,
    "Latitude": 37.88,
    "Longitude": -122.23,
}


def test_missing_key_is_401_and_nothing_is_forwarded(client, upstream):
    response = client.post("/v1/predict", json=RECORD)
    assert response.status_code == 401
    assert "X-API-Key" in response.json()["detail"]
    assert upstream.received == []


def test_wrong_key_is_401(client, upstream):
    response = client.post("/v1/predict", json=RECORD, headers={"X-API-Key": "nope"})
    assert response.status_code == 401
    assert response.json()["detail"] == "invalid API key"
    assert client.get("/v1/model", headers={"X-API-Key": "nope"}).status_code == 401
    assert upstream.received == []


def test_forwards_body_unchanged_with_request_id(client, upstream, auth):
    body = json.dumps({"records": [RECORD, RECORD]}).encode()
    response = client.post("/v1/predict", content=body, headers={**auth, "X-Request-ID": "abc-123"})
    assert response.status_code == 200
    assert response.json()["prediction"] == 2.5
    assert response.headers["X-Request-ID"] == "abc-123"
    ((method, path, headers, sent),) = upstream.received
    assert (method, path, sent) == ("POST", "/v1/predict", body)
    assert headers["x-request-id"] == "abc-123"
    assert "x-api-key" not in headers  # the key stays at the edge


def test_generates_request_id_when_absent_or_malformed(client, upstream, auth):
    response = client.post("/v1/predict", json=RECORD, headers={**auth, "X-Request-ID": "bad id\twith spaces"})
    generated = response.headers["X-Request-ID"]
    assert generated != "bad id\twith spaces"
    assert len(generated) == 32
    assert upstream.received[0][2]["x-request-id"] == generated


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"{not json", "json_invalid"),
        (b"[1, 2]", "dict_type"),
        (b'{"records": []}', "list_type"),
        (b'{"records": {"a": 1}}', "list_type"),
    ],
)
def test_malformed_bodies_are_422_without_forwarding(client, upstream, auth, body, kind):
    response = client.post("/v1/predict", content=body, headers={**auth, "content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == kind
    assert upstream.received == []


def test_batch_over_the_limit_is_422(make_client, upstream, auth):
    client = make_client(max_batch_size=3)
    response = client.post("/v1/predict", json={"records": [RECORD] * 4}, headers=auth)
    assert response.status_code == 422
    assert "at most 3 records" in response.json()["detail"][0]["msg"]
    assert upstream.received == []


def test_body_over_the_size_limit_is_413(make_client, upstream, auth):
    client = make_client(max_body_bytes=1024)
    response = client.post("/v1/predict", json={"records": [RECORD] * 20}, headers=auth)
    assert response.status_code == 413
    assert upstream.received == []


def test_upstream_422_is_passed_on_unchanged(client, upstream, auth):
    upstream.status = 422
    upstream.body = b'{"detail":[{"loc":["body","MedInc"],"type":"missing","msg":"field required"}],"error_count":1}'
    response = client.post("/v1/predict", json={"HouseAge": 3.0}, headers=auth)
    assert response.status_code == 422
    assert response.content == upstream.body


def test_upstream_500_is_502(client, upstream, auth):
    upstream.status = 500
    upstream.body = b'{"detail":"the model failed to predict"}'
    response = client.post("/v1/predict", json=RECORD, headers=auth)
    assert response.status_code == 502
    assert "predict service failed (HTTP 500): the model failed to predict" in response.json()["detail"]


def test_upstream_503_is_503_with_reason(client, upstream, auth):
    upstream.status = 503
    upstream.body = b'{"detail":"model not available: no model directory configured"}'
    response = client.post("/v1/predict", json=RECORD, headers=auth)
    assert response.status_code == 503
    assert "predict service not ready: model not available" in response.json()["detail"]


def test_slow_upstream_is_504_not_a_hang(make_client, auth):
    with silent_server() as (port, accepted):
        client = make_client(transport=None, predict_url=f"http://127.0.0.1:{port}", predict_timeout_seconds=0.3)
        response = client.post("/v1/predict", json=RECORD, headers=auth)
        assert response.status_code == 504
        assert "did not answer within 0.3s" in response.json()["detail"]
        assert accepted, "the request should have reached the socket"
        assert 'api_predict_errors_total{kind="timeout"} 1.0' in client.get("/metrics").text


def test_unreachable_upstream_is_503_after_bounded_retries(make_client, auth):
    port = free_port()  # nothing listens: every connection is refused
    client = make_client(transport=None, predict_url=f"http://127.0.0.1:{port}", predict_retries=2)
    response = client.post("/v1/predict", json=RECORD, headers=auth)
    assert response.status_code == 503
    assert "unreachable" in response.json()["detail"]
    assert "3 attempt(s)" in response.json()["detail"]
    metrics = client.get("/metrics").text
    assert "api_predict_retries_total 2.0" in metrics
    assert 'api_predict_errors_total{kind="unavailable"} 1.0' in metrics


def test_model_route_forwards(client, upstream, auth):
    upstream.body = b'{"model_name":"m","model_version":"v1"}'
    response = client.get("/v1/model", headers=auth)
    assert response.status_code == 200
    assert response.json()["model_version"] == "v1"
    assert upstream.received[0][:2] == ("GET", "/v1/model")
