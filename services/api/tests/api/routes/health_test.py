"""Unit tests of the api's health, readiness, metrics and docs routes."""

from services.api.tests.support import silent_server
from tools.ports import free_port


def test_healthz_needs_no_key_and_no_upstream(make_client):
    client = make_client(transport=None, predict_url=f"http://127.0.0.1:{free_port()}")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_predict_is(client, upstream):
    upstream.body = b'{"status":"ready","model_version":"v1"}'
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "predict": {"status": "ready", "model_version": "v1"}}
    assert upstream.received[0][:2] == ("GET", "/readyz")


def test_readyz_is_503_when_predict_is_not_ready(client, upstream):
    upstream.status = 503
    upstream.body = b'{"status":"not ready","reason":"model.skops is missing"}'
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "model.skops is missing" in response.json()["reason"]


def test_readyz_is_503_when_predict_is_down(make_client):
    client = make_client(transport=None, predict_url=f"http://127.0.0.1:{free_port()}", predict_retries=0)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "unreachable" in response.json()["reason"]


def test_readyz_is_503_when_predict_is_slow(make_client):
    with silent_server() as (port, _):
        client = make_client(transport=None, predict_url=f"http://127.0.0.1:{port}", readiness_timeout_seconds=0.2)
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "did not answer within 0.2s" in response.json()["reason"]


def test_metrics_count_requests_and_auth_failures(client):
    client.post("/v1/predict", json={})
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'api_http_requests_total{method="POST",path="/v1/predict",status="401"} 1.0' in text
    assert 'api_http_requests_total{method="GET",path="/healthz",status="200"} 1.0' in text
    assert "api_auth_failures_total 1.0" in text
    assert "api_http_request_duration_seconds_bucket" in text


def test_unknown_paths_share_one_metrics_label(client):
    client.get("/nope/1")
    client.get("/nope/2")
    assert 'api_http_requests_total{method="GET",path="other",status="404"} 2.0' in client.get("/metrics").text


def test_openapi_documents_routes_and_the_key(client):
    spec = client.get("/openapi.json").json()
    assert {"/v1/predict", "/v1/model", "/healthz", "/readyz"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    assert client.get("/docs").status_code == 200
