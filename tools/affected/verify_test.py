"""Which labels verify counts as inside its target patterns, exclusions included."""

from tools.affected.verify import _within


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
