"""Prometheus metrics of the api service, in a registry of its own (one per app)."""

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.process_collector import ProcessCollector

LATENCY_BUCKETS = (0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ApiMetrics:
    """Every metric the api service exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter(
            "api_http_requests", "HTTP requests answered", ["method", "path", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "api_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["path"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.auth_failures = Counter(
            "api_auth_failures", "Requests refused for a missing or wrong API key", registry=self.registry
        )
        self.upstream_latency = Histogram(
            "api_predict_call_duration_seconds",
            "Time of calls to the predict service",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "api_predict_errors", "Failed calls to the predict service by kind", ["kind"], registry=self.registry
        )
        self.upstream_retries = Counter(
            "api_predict_retries",
            "Calls to the predict service retried after a connection error",
            registry=self.registry,
        )
        for kind in ("unavailable", "timeout", "bad_gateway"):
            self.upstream_errors.labels(kind=kind)

    def observe_request(self, method: str, path: str, status: int, seconds: float) -> None:
        """Count one answered HTTP request and its latency."""
        self.requests.labels(method=method, path=path, status=str(status)).inc()
        self.latency.labels(path=path).observe(seconds)
