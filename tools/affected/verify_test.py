"""verify's reading of Bazel: target patterns with exclusions, and test results from the build event stream."""

import json

from tools.affected.verify import _within, parse_build_events


def test_patterns_include_packages_below_and_single_labels():
    assert _within("//services/api:serve", ["//..."])
    assert _within("//services/api:serve", ["//services/..."])
    assert _within("//services:integration_test", ["//services/..."])
    assert not _within("//servicesx:a", ["//services/..."])
    assert _within("//model:model", ["//model:all"])
    assert _within("//model:model", ["//model:model"])
    assert not _within("//model:report", ["//model:model"])


def test_an_exclusion_removes_only_what_it_matches():
    targets = ["//...", "-//services:schemathesis_test"]
    assert not _within("//services:schemathesis_test", targets)
    assert _within("//services:integration_test", targets)
    assert not _within("//services/api:image_test", ["//...", "-//services/..."])
    assert _within("//model:model", ["//...", "-//services/..."])


def _event(label: str, status: str, cached: bool, attempt: int = 1) -> str:
    key = {"testResult": {"label": label, "run": 1, "shard": 1, "attempt": attempt}}
    return json.dumps({"id": key, "testResult": {"status": status, "cachedLocally": cached}})


def test_build_events_give_reruns_cache_hits_and_failures():
    lines = [
        _event("//a:cached", "PASSED", True),
        _event("//a:ran", "PASSED", False),
        _event("//a:broken", "FAILED", False),
        _event("//a:flaky", "FAILED", False),
        _event("//a:flaky", "PASSED", False, attempt=2),
        json.dumps({"id": {"progress": {}}, "progress": {}}),
    ]
    rerun, cached, failed = parse_build_events("\n".join(lines))
    assert cached == {"//a:cached"}
    assert rerun == {"//a:ran", "//a:broken", "//a:flaky"}
    # Bazel caches no failure: a test failing here runs again at the next commit whatever changed.
    assert failed == {"//a:broken"}
