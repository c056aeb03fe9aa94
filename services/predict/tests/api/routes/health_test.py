"""Unit tests of /healthz, /readyz, /v1/model and /metrics of the predict service."""

import json
import shutil

import pytest

from services.predict.tests.support import RECORD


def test_healthz_answers_even_without_a_model(make_client, tmp_path):
    assert make_client(model_dir=tmp_path).get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ready_with_the_model_version(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert len(response.json()["model_version"]) == 12


def broken_copy(model_dir, tmp_path, how: str):
    target = tmp_path / how
    shutil.copytree(model_dir, target)
    if how == "missing_model":
        (target / "model.skops").unlink()
    elif how == "corrupt_model":
        (target / "model.skops").write_bytes(b"PK\x03\x04 this is not a skops file")
    elif how == "missing_trees":
        (target / "model.trees").unlink()
    elif how == "corrupt_trees":
        (target / "model.trees").write_bytes(b"MLTREES\x01 truncated")
    elif how == "corrupt_signature":
        (target / "signature.json").write_text("{not json")
    elif how == "version_mismatch":
        signature = json.loads((target / "signature.json").read_text())
        signature["model_version"] = "000000000000"
        (target / "signature.json").write_text(json.dumps(signature))
    return target


@pytest.mark.parametrize(
    "how", ["missing_model", "corrupt_model", "missing_trees", "corrupt_trees", "corrupt_signature", "version_mismatch"]
)
def test_broken_model_is_503_with_reason_and_the_process_stays_up(make_client, model_dir, tmp_path, how):
    client = make_client(model_dir=broken_copy(model_dir, tmp_path, how))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert "cannot load model" in response.json()["reason"]
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/model").status_code == 503
    assert "predict_model_ready 0.0" in client.get("/metrics").text


def test_unconfigured_model_dir_says_so(make_client):
    response = make_client(model_dir=None).get("/readyz")
    assert response.status_code == 503
    assert "PREDICT_MODEL_DIR" in response.json()["reason"]


def test_readyz_is_503_when_the_model_stops_answering(client):
    class Broken:
        def predict(self, frame):
            raise RuntimeError("model gone bad")

    client.app.state.model_service.model = Broken()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "model gone bad" in response.json()["reason"]


def test_model_route_describes_the_model(client, model_dir):
    body = client.get("/v1/model").json()
    signature = json.loads((model_dir / "signature.json").read_text())
    assert body["model_version"] == signature["model_version"]
    assert body["data_hash"] == signature["data_hash"]
    assert body["metrics"] == signature["metrics"]
    assert [item["name"] for item in body["inputs"]] == list(RECORD)
    assert body["model_features"] == signature["model_features"]


def test_metrics_cover_requests_latency_errors_batches_and_predictions(client):
    client.post("/v1/predict", json=RECORD)
    client.post("/v1/predict", json={"records": [RECORD] * 5})
    client.post("/v1/predict", json={**RECORD, "MedInc": -5.0})
    text = client.get("/metrics").text
    assert 'predict_http_requests_total{method="POST",path="/v1/predict",status="200"} 2.0' in text
    assert 'predict_http_requests_total{method="POST",path="/v1/predict",status="422"} 1.0' in text
    assert 'predict_http_request_duration_seconds_count{path="/v1/predict"} 3.0' in text
    assert 'predict_errors_total{kind="validation"} 1.0' in text
    assert "predict_request_records_count 3.0" in text
    assert "predict_request_records_sum 7.0" in text
    # 6 rows answered (readiness probes are not counted as they do not run through predictions).
    assert "predict_prediction_value_count" in text
    count = next(line for line in text.splitlines() if line.startswith("predict_prediction_value_count"))
    assert float(count.split()[-1]) >= 6
    assert "predict_model_ready 1.0" in text
    assert 'predict_model_info{model_name="california-housing"' in text
