"""Structural checks of the ServiceMonitor and PrometheusRule (their CRD schemas are not bundled)."""

import re

import pytest

from infrastructure import kustomize
from infrastructure.testing_support import K8S

# The metrics the rules may use: the services' own (prometheus_client, see the services'
# code), kube-state-metrics and Prometheus' `up`. A rule naming anything else is a typo or a
# metric the services stopped exporting.
SERVICE_METRICS = {
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "http_request_duration_seconds_sum",
    "http_request_duration_seconds_count",
    "predict_batch_size_bucket",
    "predict_prediction_value_bucket",
    "predict_prediction_value_sum",
    "predict_prediction_value_count",
}
PLATFORM_METRICS = {"up", "kube_deployment_status_replicas_available", "kube_deployment_spec_replicas"}

# Which metric proves each concern is alerted on.
CONCERNS = {
    "error rate": "http_requests_total",
    "latency": "http_request_duration_seconds_bucket",
    "readiness": "kube_deployment_status_replicas_available",
    "prediction drift": "predict_prediction_value_",
}
_METRIC = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[]")
_DURATION = re.compile(r"^\d+[smhd]$")


@pytest.fixture(scope="module")
def objects():
    """The staging overlay, rendered (monitoring is shared by every overlay)."""
    return kustomize.build_copy(K8S, "overlays/staging")


def _one(objects, kind):
    (obj,) = [o for o in objects if o["kind"] == kind]
    return obj


def _rules(objects):
    return [rule for group in _one(objects, "PrometheusRule")["spec"]["groups"] for rule in group["rules"]]


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers followed by a selector or a range."""
    return {name for name in _METRIC.findall(expr) if name not in {"by", "without", "on", "ignoring"}}


def test_the_service_monitor_scrapes_both_services_on_their_http_port(objects):
    monitor = _one(objects, "ServiceMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = [o for o in objects if o["kind"] == "Service" and selector.items() <= o["metadata"]["labels"].items()]
    assert sorted(s["metadata"]["name"] for s in services) == ["api", "predict"]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert _DURATION.match(endpoint["interval"])
    for service in services:
        assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
        # The rules match on job=~"api|predict": jobLabel must name the service.
        assert service["metadata"]["labels"][monitor["spec"]["jobLabel"]] == service["metadata"]["name"]


def test_every_rule_is_complete(objects):
    rules = _rules(objects)
    assert len({rule["alert"] for rule in rules}) == len(rules), "alert names must be unique"
    for rule in rules:
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert _DURATION.match(rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]
        expr = rule["expr"]
        assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), rule["alert"]


def test_rules_use_only_metrics_that_exist(objects):
    for rule in _rules(objects):
        names = metric_names(rule["expr"])
        assert names, rule["alert"]
        unknown = names - SERVICE_METRICS - PLATFORM_METRICS
        assert not unknown, f"{rule['alert']} uses metrics nobody exports: {sorted(unknown)}"


@pytest.mark.parametrize("concern", sorted(CONCERNS))
def test_each_concern_has_an_alert(objects, concern):
    metric = CONCERNS[concern]
    assert any(metric in rule["expr"] for rule in _rules(objects)), f"no alert on {concern}"


def test_error_rate_counts_only_server_errors(objects):
    (rule,) = [r for r in _rules(objects) if r["alert"] == "MlopsHighErrorRate"]
    assert 'status=~"5.."' in rule["expr"]


def test_metric_name_extraction():
    expr = 'sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / up{job="api"}'
    assert metric_names(expr) == {"http_requests_total", "up"}
