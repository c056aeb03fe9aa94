"""Unit tests of POST /v1/predict: answers, validation errors, limits and model failures."""

import json

import numpy as np
import pandas as pd
import pytest

from model.artifact import load_model
from model.testing import synthetic_raw
from services.predict.tests.support import RECORD

FIELDS = list(RECORD)


def expected(model_dir, records: list[dict]) -> np.ndarray:
    """What the model predicts in-process for ``records``."""
    return load_model(model_dir).predict(pd.DataFrame(records)[FIELDS])


def test_single_record_answers_the_models_prediction(client, model_dir):
    response = client.post("/v1/predict", json=RECORD)
    assert response.status_code == 200
    body = response.json()
    assert body["model_name"] == "california-housing"
    assert body["model_version"] == load_model(model_dir).version
    assert body["prediction"] == pytest.approx(expected(model_dir, [RECORD])[0])


def test_batch_answers_one_prediction_per_record_in_order(client, model_dir):
    records = synthetic_raw(300, seed=7)[FIELDS].to_dict(orient="records")
    response = client.post("/v1/predict", json={"records": records})
    assert response.status_code == 200
    assert response.json()["predictions"] == pytest.approx(expected(model_dir, records).tolist())


def test_integers_are_accepted_as_numbers(client):
    record = {**RECORD, "HouseAge": 41, "Population": 322}
    assert client.post("/v1/predict", json=record).status_code == 200


def test_higher_income_predicts_higher_value(client):
    low = client.post("/v1/predict", json={**RECORD, "MedInc": 1.0}).json()["prediction"]
    high = client.post("/v1/predict", json={**RECORD, "MedInc": 12.0}).json()["prediction"]
    assert high > low


def errors(response) -> list[tuple]:
    assert response.status_code == 422, response.text
    return [(tuple(item["loc"]), item["type"]) for item in response.json()["detail"]]


def test_missing_field_is_422_naming_it(client):
    record = {key: value for key, value in RECORD.items() if key != "Latitude"}
    assert errors(client.post("/v1/predict", json=record)) == [(("body", "Latitude"), "missing")]


def test_null_required_field_is_missing(client):
    assert errors(client.post("/v1/predict", json={**RECORD, "MedInc": None})) == [(("body", "MedInc"), "missing")]


@pytest.mark.parametrize("value", ["8.3", True, [1.0], {"v": 1}])
def test_non_numbers_are_422(client, value):
    assert errors(client.post("/v1/predict", json={**RECORD, "MedInc": value})) == [(("body", "MedInc"), "float_type")]


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("MedInc", -1.0, "greater_than_equal"),
        ("HouseAge", 53.0, "less_than_equal"),
        ("Latitude", 50.0, "less_than_equal"),
        ("Longitude", -130.0, "greater_than_equal"),
    ],
)
def test_values_outside_the_signature_range_are_422(client, field, value, kind):
    response = client.post("/v1/predict", json={**RECORD, field: value})
    assert errors(response) == [(("body", field), kind)]
    assert str(value).rstrip("0").rstrip(".") in response.json()["detail"][0]["msg"]


def test_non_finite_numbers_are_422(client):
    body = json.dumps({**RECORD, "AveRooms": float("nan")})  # Python writes NaN, which json.loads accepts
    response = client.post("/v1/predict", content=body, headers={"content-type": "application/json"})
    assert errors(response) == [(("body", "AveRooms"), "finite_number")]


def test_unknown_field_is_422(client):
    assert errors(client.post("/v1/predict", json={**RECORD, "Colour": 1.0})) == [
        (("body", "Colour"), "extra_forbidden")
    ]


def test_batch_errors_name_record_index_and_field(client):
    records = [RECORD, {**RECORD, "MedInc": "x"}, RECORD, {**RECORD, "AveOccup": 0.0}, 5]
    assert errors(client.post("/v1/predict", json={"records": records})) == [(("body", "records", 4), "dict_type")]
    records = records[:4]
    assert errors(client.post("/v1/predict", json={"records": records})) == [
        (("body", "records", 1, "MedInc"), "float_type"),
        (("body", "records", 3, "AveOccup"), "greater_than_equal"),
    ]


def test_many_errors_are_capped_but_counted(client):
    records = [{**RECORD, "MedInc": -1.0, "HouseAge": 99.0}] * 200
    response = client.post("/v1/predict", json={"records": records})
    assert response.status_code == 422
    assert len(response.json()["detail"]) == 50
    assert response.json()["error_count"] >= 50


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"{nope", "json_invalid"),
        (b"[1, 2]", "dict_type"),
        (b'{"records": []}', "list_type"),
        (b'{"records": "x"}', "list_type"),
        (b'{"records": [], "extra": 1}', "extra_forbidden"),
    ],
)
def test_malformed_bodies_are_422(client, body, kind):
    response = client.post("/v1/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == kind


def test_batch_over_the_configured_limit_is_422(make_client):
    client = make_client(max_batch_size=10)
    assert client.post("/v1/predict", json={"records": [RECORD] * 10}).status_code == 200
    response = client.post("/v1/predict", json={"records": [RECORD] * 11})
    assert errors(response) == [(("body", "records"), "too_long")]


def test_body_over_the_size_limit_is_413(make_client):
    client = make_client(max_body_bytes=2048)
    assert client.post("/v1/predict", json={"records": [RECORD] * 30}).status_code == 413


def test_no_model_is_503_with_the_reason(make_client, tmp_path):
    client = make_client(model_dir=tmp_path / "absent")
    response = client.post("/v1/predict", json=RECORD)
    assert response.status_code == 503
    assert "model not available" in response.json()["detail"]
    assert str(tmp_path / "absent") in response.json()["detail"]


class BrokenModel:
    """Stands in for a model that loads and then fails on every call (a failure the real
    model cannot be made to produce on valid input)."""

    version = "broken"

    def predict(self, frame):
        raise RuntimeError("boom")


def test_model_failure_is_500_and_counted(client):
    client.app.state.model_service.model = BrokenModel()
    response = client.post("/v1/predict", json=RECORD)
    assert response.status_code == 500
    assert "the model failed" in response.json()["detail"]
    assert "boom" not in response.text  # internals stay in the log
    assert 'predict_errors_total{kind="model_failure"} 1.0' in client.get("/metrics").text


def test_request_id_is_echoed_or_generated(client):
    assert client.post("/v1/predict", json=RECORD, headers={"X-Request-ID": "rid-1"}).headers["X-Request-ID"] == "rid-1"
    assert len(client.post("/v1/predict", json=RECORD).headers["X-Request-ID"]) == 32
