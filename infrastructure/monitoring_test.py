"""Structural checks of the ServiceMonitor and PrometheusRule (their CRD schemas are not bundled)."""

import re

import pytest

from infrastructure import kustomize
from infrastructure.testing_support import K8S

# The metrics the rules may use: the services' own (prometheus_client, in
# services/api/app/core/metrics.py and services/predict/app/core/metrics.py), kube-state-metrics
# and Prometheus' `up`. A rule naming anything else is a typo or a metric the services no
# longer export.
SERVICE_METRICS = {
    "api_http_requests_total",
    "api_http_request_duration_seconds_bucket",
    "predict_http_requests_total",
    "predict_http_request_duration_seconds_bucket",
    "predict_errors_total",
    "predict_model_ready",
    "predict_prediction_value_bucket",
    "predict_prediction_value_sum",
    "predict_prediction_value_count",
}
PLATFORM_METRICS = {"up", "kube_deployment_status_replicas_available", "kube_deployment_spec_replicas"}

# The metrics that prove each concern is alerted on.
CONCERNS = {
    "error rate": ("api_http_requests_total", "predict_http_requests_total"),
    "latency": ("api_http_request_duration_seconds_bucket", "predict_http_request_duration_seconds_bucket"),
    "readiness": ("kube_deployment_status_replicas_available", "predict_model_ready"),
    "prediction drift": ("predict_prediction_value_sum", "predict_prediction_value_bucket"),
}
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless"}
_IDENTIFIER = re.compile(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
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
    """Metric names in a PromQL expression: the identifiers that are not functions, keywords,
    label matchers, range durations or grouping labels."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    return {name for name in _IDENTIFIER.findall(text) if name not in _KEYWORDS}


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
        assert expr.count("(") == expr.count(")"), rule["alert"]
        assert expr.count("{") == expr.count("}"), rule["alert"]


def test_rules_use_only_metrics_that_exist(objects):
    for rule in _rules(objects):
        names = metric_names(rule["expr"])
        assert names, rule["alert"]
        unknown = names - SERVICE_METRICS - PLATFORM_METRICS
        assert not unknown, f"{rule['alert']} uses metrics nobody exports: {sorted(unknown)}"


@pytest.mark.parametrize("concern", sorted(CONCERNS))
def test_each_concern_has_an_alert(objects, concern):
    used = set().union(*(metric_names(rule["expr"]) for rule in _rules(objects)))
    for metric in CONCERNS[concern]:
        assert metric in used, f"no alert on {concern} uses {metric}"


def test_error_rates_count_only_server_errors(objects):
    rules = [rule for rule in _rules(objects) if rule["alert"].endswith("HighErrorRate")]
    assert sorted(rule["alert"] for rule in rules) == ["ApiHighErrorRate", "PredictHighErrorRate"]
    for rule in rules:
        assert 'status=~"5.."' in rule["expr"], rule["alert"]


def test_metric_name_extraction():
    expr = 'sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / up{job="api"} > 0.5 and on (pod) ready'
    assert metric_names(expr) == {"http_requests_total", "up", "ready"}
    assert metric_names("max by (namespace, pod) (predict_model_ready) == 0") == {"predict_model_ready"}
    assert metric_names("histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m]))) > 1e3") == {"x_bucket"}
