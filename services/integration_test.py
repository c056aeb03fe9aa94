"""Both services as real processes (their Bazel binaries) on loopback: answers, auth, outage, metrics."""

import asyncio
import json
import os
import re
import signal
import time
from pathlib import Path

import aiohttp
import pytest

from model.testing import synthetic_raw
from services.launch import ServiceProcess, get, post_json, running_stack
from services.predict.tests.support import RECORD, write_model
from tools.ports import free_port

API_KEY = "integration-key-5f2c"
FIELDS = list(RECORD)


def binary(variable: str) -> str:
    """The runfiles path of a service binary, from the env var the BUILD file sets."""
    path = os.environ[variable]
    assert Path(path).exists(), f"{variable}={path} is not in the runfiles"
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("services")


@pytest.fixture(scope="module")
def model_dir() -> Path:
    """The real model from //model:model (a data dependency of this test)."""
    path = Path(os.environ["MODEL_SIGNATURE"]).resolve().parent
    assert (path / "model.skops").is_file(), f"{path} lacks model.skops"
    return path


@pytest.fixture(scope="module")
def small_model_dir(workdir) -> Path:
    """A small model trained here, to break in ways the real one must not be touched."""
    return write_model(workdir / "small-model")


def start_predict(workdir: Path, port: int, model_dir: Path | None, name: str = "predict") -> ServiceProcess:
    env = {"PREDICT_MODEL_DIR": str(model_dir) if model_dir else "", "PREDICT_GRACEFUL_SHUTDOWN_SECONDS": "5"}
    return ServiceProcess(
        binary("PREDICT_SERVE"), ["--host", "127.0.0.1", "--port", str(port)], env, workdir / f"{name}.log"
    )


@pytest.fixture(scope="module")
def stack(workdir, model_dir):
    """predict and api running, api pointed at predict; yields a dict of urls and processes."""
    with running_stack(
        binary("PREDICT_SERVE"), binary("API_SERVE"), workdir=workdir, model_dir=model_dir, api_key=API_KEY
    ) as running:
        yield running


AUTH = {"X-API-Key": API_KEY}
STOPPED_CLEANLY = (0, -signal.SIGTERM)


def metric(text: bytes, name: str, labels: str = "") -> float:
    """The value of one sample in a Prometheus exposition (0 when absent)."""
    pattern = re.compile(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", re.M)
    match = pattern.search(text.decode())
    return float(match.group(1)) if match else 0.0


def test_the_served_model_is_the_built_one(stack, model_dir):
    status, body = get(stack["predict_url"] + "/v1/model")
    assert status == 200
    signature = json.loads((model_dir / "signature.json").read_text())
    served = json.loads(body)
    assert served["model_version"] == signature["model_version"]
    assert served["data_hash"] == signature["data_hash"]


def test_api_answers_what_predict_answers(stack):
    status, via_api, _headers = post_json(stack["api_url"] + "/v1/predict", RECORD, AUTH)
    assert status == 200, via_api
    status, direct, _ = post_json(stack["predict_url"] + "/v1/predict", RECORD)
    assert via_api == direct
    assert 0.0 < via_api["prediction"] < 6.0
    assert len(via_api["model_version"]) == 12


def test_batch_through_the_api_keeps_order(stack):
    records = synthetic_raw(1000, seed=11)[FIELDS].to_dict(orient="records")
    status, body, _ = post_json(stack["api_url"] + "/v1/predict", {"records": records}, AUTH)
    assert status == 200
    assert len(body["predictions"]) == 1000
    status, singles, _ = post_json(stack["predict_url"] + "/v1/predict", {"records": records[:3]})
    assert body["predictions"][:3] == pytest.approx(singles["predictions"])


def test_request_id_travels_from_api_to_predict(stack):
    rid = "it-trace-0042"
    status, _, headers = post_json(stack["api_url"] + "/v1/predict", RECORD, {**AUTH, "X-Request-ID": rid})
    assert status == 200
    assert headers["x-request-id"] == rid
    for service in ("api", "predict"):
        # The access line is written once the response has gone out, so it may trail the answer.
        deadline = time.monotonic() + 10.0
        while True:
            lines = [entry for entry in stack[service].log_lines() if entry.get("request_id") == rid]
            found = any(entry.get("path") == "/v1/predict" and entry.get("status") == 200 for entry in lines)
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert found, f"{service}: no access log line for request {rid}: {lines}"


async def _post_all(url: str, records: list[dict], headers: dict[str, str]) -> list[tuple[int, object]]:
    """POST each record at once, each on a connection of its own; (status, decoded body) in order."""
    connector = aiohttp.TCPConnector(limit=len(records))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(record: dict) -> tuple[int, object]:
            async with session.post(url, json=record, headers=headers) as response:
                return response.status, json.loads(await response.read())

        return await asyncio.gather(*(post(record) for record in records))


def coalesced(api_url: str) -> tuple[float, float]:
    """The api's (calls, records) so far of lone records sent to predict."""
    text = get(api_url + "/metrics")[1]
    return metric(text, "api_predict_coalesced_records_count"), metric(text, "api_predict_coalesced_records_sum")


def test_records_sent_together_are_joined_and_each_answered_as_if_alone(stack):
    records = synthetic_raw(150, seed=5)[FIELDS].to_dict(orient="records")
    records[7] = {**records[7], "Latitude": 80.0}  # out of range: 422 for this one only
    records[90] = {**records[90], "Bedrooms": 1.0}  # not a model input: 422 for this one only
    alone = [post_json(stack["predict_url"] + "/v1/predict", record)[:2] for record in records]
    assert [status for status, _ in alone].count(200) == len(records) - 2
    calls_before, records_before = coalesced(stack["api_url"])

    together = asyncio.run(_post_all(stack["api_url"] + "/v1/predict", records, AUTH))

    assert [tuple(answer) for answer in together] == alone
    calls_after, records_after = coalesced(stack["api_url"])
    assert records_after - records_before == len(records)
    # Sent at once, records waited behind the calls in flight and went to predict together.
    assert calls_after - calls_before < len(records) / 2, (calls_after - calls_before, len(records))


def test_auth_is_enforced_before_predict_is_called(stack):
    before = metric(get(stack["predict_url"] + "/metrics")[1], "predict_request_records_count")
    assert post_json(stack["api_url"] + "/v1/predict", RECORD)[0] == 401
    assert post_json(stack["api_url"] + "/v1/predict", RECORD, {"X-API-Key": "wrong"})[0] == 401
    assert get(stack["api_url"] + "/v1/model")[0] == 401
    after = metric(get(stack["predict_url"] + "/metrics")[1], "predict_request_records_count")
    assert after == before


def test_invalid_record_is_422_from_predict_through_api(stack):
    status, body, _ = post_json(stack["api_url"] + "/v1/predict", {**RECORD, "Latitude": 80.0}, AUTH)
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "Latitude"]


def test_model_info_and_docs(stack):
    status, body = get(stack["api_url"] + "/v1/model", AUTH)
    assert status == 200
    assert b"california-housing" in body
    assert get(stack["api_url"] + "/docs")[0] == 200
    assert get(stack["api_url"] + "/openapi.json")[0] == 200


def test_metrics_count_traffic_on_both_sides(stack):
    for _ in range(3):
        post_json(stack["api_url"] + "/v1/predict", RECORD, AUTH)
    api_metrics = get(stack["api_url"] + "/metrics")[1]
    predict_metrics = get(stack["predict_url"] + "/metrics")[1]
    assert metric(api_metrics, "api_http_requests_total", '{method="POST",path="/v1/predict",status="200"}') >= 3
    assert metric(api_metrics, "api_auth_failures_total") >= 2
    assert (
        metric(predict_metrics, "predict_http_requests_total", '{method="POST",path="/v1/predict",status="200"}') >= 3
    )
    assert metric(predict_metrics, "predict_prediction_value_count") >= 1000
    assert metric(predict_metrics, "predict_errors_total", '{kind="validation"}') >= 1
    assert metric(predict_metrics, "predict_model_ready") == 1.0


def test_predict_outage_gives_503_then_recovers(stack, workdir, model_dir):
    # Runs last in this module: it replaces the predict process.
    code = stack["predict"].stop()
    # uvicorn drains, runs the shutdown, then re-raises SIGTERM so the exit status tells why it ended.
    assert code in STOPPED_CLEANLY, stack["predict"].log_tail()
    assert any(entry.get("message") == "predict service stopped" for entry in stack["predict"].log_lines())

    status, body, _ = post_json(stack["api_url"] + "/v1/predict", RECORD, AUTH)
    assert status == 503
    assert "unreachable" in body["detail"]
    # Records sent together, so joined into batches, all get the same answer.
    together = asyncio.run(_post_all(stack["api_url"] + "/v1/predict", [RECORD] * 30, AUTH))
    assert {status for status, _ in together} == {503}
    status, body = get(stack["api_url"] + "/readyz")
    assert status == 503
    assert get(stack["api_url"] + "/healthz")[0] == 200

    replacement = start_predict(workdir, stack["predict_port"], model_dir, name="predict-restarted")
    stack["predict"] = replacement  # the fixture stops it
    replacement.wait_until(stack["predict_url"] + "/readyz")
    assert post_json(stack["api_url"] + "/v1/predict", RECORD, AUTH)[0] == 200
    assert get(stack["api_url"] + "/readyz")[0] == 200
    unavailable = metric(get(stack["api_url"] + "/metrics")[1], "api_predict_errors_total", '{kind="unavailable"}')
    assert unavailable >= 1


def test_broken_model_keeps_predict_up_but_unready(workdir, small_model_dir):
    broken = workdir / "broken-model"
    broken.mkdir(exist_ok=True)
    (broken / "signature.json").write_bytes((small_model_dir / "signature.json").read_bytes())
    (broken / "model.skops").write_bytes(b"garbage")
    port = free_port()
    predict = start_predict(workdir, port, broken, name="predict-broken")
    try:
        predict.wait_until(f"http://127.0.0.1:{port}/healthz")
        status, body = get(f"http://127.0.0.1:{port}/readyz")
        assert status == 503
        assert b"cannot load model" in body
        assert post_json(f"http://127.0.0.1:{port}/v1/predict", RECORD)[0] == 503
        assert predict.process.poll() is None
    finally:
        assert predict.stop() in STOPPED_CLEANLY


def test_api_without_a_key_refuses_to_start(workdir):
    api = ServiceProcess(
        binary("API_SERVE"),
        ["--host", "127.0.0.1", "--port", str(free_port())],
        {"API_API_KEY": "", "API_API_KEY_FILE": ""},  # empty means unset
        workdir / "api-no-key.log",
    )
    try:
        api.process.wait(90)
    finally:
        api.stop()
    assert api.process.returncode != 0
    assert "no API key configured" in api.log_path.read_text()


def test_serve_uses_the_bundled_model_by_default(workdir, model_dir):
    port = free_port()
    predict = start_predict(workdir, port, None, name="predict-default-model")  # PREDICT_MODEL_DIR=""
    try:
        predict.wait_until(f"http://127.0.0.1:{port}/readyz")
        served = json.loads(get(f"http://127.0.0.1:{port}/v1/model")[1])
        assert served["model_version"] == json.loads((model_dir / "signature.json").read_text())["model_version"]
    finally:
        assert predict.stop() in STOPPED_CLEANLY
