"""Prometheus metrics of the api service, in a registry of its own (one per app)."""

from prometheus_client import Counter, Histogram

from services.scaffold import LATENCY_BUCKETS, HttpMetrics


class ApiMetrics(HttpMetrics):
    """Every metric the api service exports: the common ones (HttpMetrics) and the calls to predict."""

    def __init__(self) -> None:
        """Create the registry with the common and the api's metrics."""
        super().__init__("api")
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
        self.coalesced_records = Histogram(
            "api_predict_coalesced_records",
            "Lone records sent to the predict service per call, waiting ones joined into one batch",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=self.registry,
        )
        for kind in ("unavailable", "timeout", "bad_gateway"):
            self.upstream_errors.labels(kind=kind)
