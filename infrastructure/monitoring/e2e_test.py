"""End to end on loopback: real Prometheus scrapes predict and api, alerts reach a webhook, dashboards answer."""

import json
import math
import os
import time
from pathlib import Path

import pytest

from infrastructure.monitoring.dashboard import MONITORING, dashboards, panels, runnable
from infrastructure.monitoring.local_stack import Alertmanager, Prometheus, alertmanager_config, prometheus_config
from infrastructure.monitoring.webhook_receiver import WebhookReceiver
from services.launch import ServiceProcess, post_json
from tools.ports import free_port

NAMESPACE = "mlops"
API_KEY = "monitoring-e2e-key"
RECORD = {
    "MedInc": 8.3252,
    "HouseAge": 41.0,
    "AveRooms": 6.984127,
    "AveBedrms": 1.02381,
    "Population": 322.0,
    "AveOccup": 2.555556,
    "Latitude": 37.88,
    "Longitude": -122.23,
}
ALERT = "MlopsTargetDown"
# Seconds: bounded waits (the overlay makes the alert fire 5 s after the first failed scrape).
ALERT_TIMEOUT = 45
NOTIFY_TIMEOUT = 30
# Importing pandas + sklearn + fastapi takes ~8 s on an idle machine, minutes on a loaded one.
START_TIMEOUT = 300


def _path(variable: str) -> Path:
    path = Path(os.environ[variable])
    assert path.exists(), f"{variable}={path} is not in the runfiles"
    return path


def start_predict(workdir: Path, port: int, name: str) -> ServiceProcess:
    model_dir = _path("MODEL_SIGNATURE").resolve().parent
    return ServiceProcess(
        _path("PREDICT_SERVE"),
        ["--host", "127.0.0.1", "--port", str(port), "--model-dir", str(model_dir)],
        {"PREDICT_GRACEFUL_SHUTDOWN_SECONDS": "2"},
        workdir / f"{name}.log",
    )


def send_traffic(api_url: str, count: int) -> list[int]:
    """``count`` predictions through api (a batch every third call, so the histograms spread); their statuses."""
    statuses = []
    for index in range(count):
        body = {"records": [RECORD] * 5} if index % 3 == 0 else {**RECORD, "MedInc": 1.0 + index % 8}
        statuses.append(post_json(api_url + "/v1/predict", body, {"X-API-Key": API_KEY})[0])
        time.sleep(0.1)  # spread over several 1 s scrapes, so rates see it
    return statuses


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """predict, api, Prometheus, Alertmanager and the webhook receiver, all on 127.0.0.1."""
    workdir = tmp_path_factory.mktemp("monitoring")
    (workdir / "api-key").write_text(API_KEY)
    predict_port, api_port = free_port(), free_port()
    started = []
    with WebhookReceiver() as receiver:
        try:
            predict = start_predict(workdir, predict_port, "predict")
            started.append(predict)
            api = ServiceProcess(
                _path("API_SERVE"),
                ["--host", "127.0.0.1", "--port", str(api_port), "--predict-url", f"http://127.0.0.1:{predict_port}"],
                {"API_API_KEY_FILE": str(workdir / "api-key"), "API_PREDICT_RETRIES": "0"},
                workdir / "api.log",
            )
            started.append(api)
            alertmanager = Alertmanager(alertmanager_config(receiver.url + "/slack"), workdir)
            started.append(alertmanager)
            predict.wait_until(f"http://127.0.0.1:{predict_port}/readyz", timeout=START_TIMEOUT)
            api.wait_until(f"http://127.0.0.1:{api_port}/readyz", timeout=START_TIMEOUT)
            # Scraping starts once both answer: a slow start must not count as an outage.
            targets = {"predict": f"127.0.0.1:{predict_port}", "api": f"127.0.0.1:{api_port}"}
            rules = _path("E2E_RULES_FILE")
            prometheus = Prometheus(prometheus_config(targets, rules, alertmanager.address, NAMESPACE), workdir)
            started.append(prometheus)
            yield {
                "workdir": workdir,
                "predict": predict,
                "predict_port": predict_port,
                "api_url": f"http://127.0.0.1:{api_port}",
                "prometheus": prometheus,
                "receiver": receiver,
                "started": started,
                "t0": time.time(),
            }
        finally:
            for process in reversed(started):
                process.stop()


def test_prometheus_scrapes_both_services(stack):
    prometheus = stack["prometheus"]
    # Requests before the first scrape would be invisible to rate(): wait for it.
    assert prometheus.wait_for('count(up{job=~"api|predict"} == 1) == 2', timeout=30)
    assert send_traffic(stack["api_url"], 30) == [200] * 30
    rows = prometheus.wait_for(f'sum(predict_request_records_count{{namespace="{NAMESPACE}"}}) >= 30', timeout=30)
    assert rows


def _alert_state(prometheus: Prometheus) -> str | None:
    for alert in prometheus.alerts():
        if alert["labels"]["alertname"] == ALERT and alert["labels"].get("job") == "predict":
            return alert["state"]
    return None


def _slack(payload: dict, status: str) -> bool:
    """Whether a Slack payload is Alertmanager's message about ALERT with ``status`` (FIRING or RESOLVED)."""
    attachments = payload.get("attachments") or [{}]
    return attachments[0].get("title", "").startswith(f"[{status}") and ALERT in attachments[0]["title"]


def test_predict_outage_fires_notifies_and_resolves(stack):
    prometheus, receiver = stack["prometheus"], stack["receiver"]
    # Healthy so far: no alert may have reached the receiver (an alert that always fires would).
    assert receiver.received.empty(), receiver.received.get()
    assert _alert_state(prometheus) is None
    stack["predict"].stop()
    # While predict is down, api answers 503: the error panels get data from this.
    assert set(send_traffic(stack["api_url"], 10)) == {503}

    states = []
    deadline = time.monotonic() + ALERT_TIMEOUT
    while time.monotonic() < deadline and "firing" not in states:
        state = _alert_state(prometheus)
        if state and (not states or states[-1] != state):
            states.append(state)
        time.sleep(0.2)
    assert states == ["pending", "firing"], f"{ALERT} went through {states}"

    firing = receiver.wait_for(lambda payload: _slack(payload, "FIRING"), NOTIFY_TIMEOUT)
    print("firing payload:", json.dumps(firing, indent=2))
    assert firing["channel"] == "#mlops-alerts"
    assert firing["attachments"][0]["color"] == "danger"
    assert f"Prometheus cannot scrape predict in {NAMESPACE}" in firing["attachments"][0]["text"]

    replacement = start_predict(stack["workdir"], stack["predict_port"], "predict-restarted")
    stack["started"].append(replacement)
    replacement.wait_until(f"http://127.0.0.1:{stack['predict_port']}/readyz", timeout=START_TIMEOUT)
    prometheus.wait_for('up{job="predict"} == 1', timeout=30)
    assert send_traffic(stack["api_url"], 10) == [200] * 10

    resolved = receiver.wait_for(lambda payload: _slack(payload, "RESOLVED"), ALERT_TIMEOUT)
    print("resolved payload:", json.dumps(resolved, indent=2))
    assert resolved["attachments"][0]["color"] == "good"
    assert _alert_state(prometheus) is None


def test_every_dashboard_query_returns_data(stack):
    # Runs last: the traffic, the 503s of the outage and the recovery are all in the range.
    prometheus = stack["prometheus"]
    variables = {"namespace": NAMESPACE, "__rate_interval": "5s", "datasource": "prometheus"}
    (dashboard,) = dashboards(MONITORING.parent).values()
    empty = []
    checked = 0
    for panel in panels(dashboard):
        for target in panel["targets"]:
            expr = runnable(target["expr"], variables)
            series = prometheus.query_range(expr, stack["t0"], time.time())
            values = [float(value) for one in series for _, value in one["values"]]
            checked += 1
            if not any(math.isfinite(value) for value in values):
                empty.append(f"{panel['title']}: {expr}")
    print(f"{checked} dashboard queries checked")
    assert not empty, "dashboard queries without data:\n" + "\n".join(empty)
