"""Tests of the output formats: text is labels only, JSON carries kind and why, GitHub outputs parse."""

import json

from tools.affected.render import as_github_outputs, as_json, as_text, summary_markdown
from tools.affected.result import AffectedTarget, Result
from tools.gitdiff import Change


def _result(exact=True, unknown=False):
    targets = [
        AffectedTarget("//svc:lib", "py_library", ["build"], False, "svc/a.py changed", ["//svc:lib", "//svc:a.py"]),
        AffectedTarget(
            "//svc:a_test", "py_test", ["test"], False, "svc/a.py changed", ["//svc:a_test", "//svc:lib", "//svc:a.py"]
        ),
        AffectedTarget("//svc:slow_test", "py_test", ["test"], True, "svc/a.py changed", ["//svc:slow_test"]),
        AffectedTarget("//svc:image", "_oci_image", ["build", "image"], False, "svc/a.py changed", ["//svc:image"]),
    ]
    return Result(exact, None if exact else "MODULE.bazel changed", "main", "abc123", "working tree",
                  [Change("M", "svc/a.py")], targets, all_targets_unknown=unknown)  # fmt: skip


def test_text_is_labels_only_and_manual_tests_stay_out_of_the_test_set():
    assert as_text(_result(), "test") == "//svc:a_test\n"
    assert as_text(_result(), "all").splitlines() == ["//svc:lib", "//svc:a_test", "//svc:slow_test", "//svc:image"]
    assert as_text(_result(unknown=True), "test") == "//...\n"


def test_json_has_kind_why_and_exactness():
    doc = json.loads(as_json(_result(exact=False), "test"))
    assert doc["exact"] is False
    assert doc["fallback_reason"] == "MODULE.bazel changed"
    by_label = {t["label"]: t for t in doc["targets"]}
    assert set(by_label) == {"//svc:a_test", "//svc:slow_test"}
    assert by_label["//svc:a_test"]["kind"] == "py_test"
    assert by_label["//svc:a_test"]["why"] == {
        "changed": "svc/a.py changed",
        "path": ["//svc:a_test", "//svc:lib", "//svc:a.py"],
    }
    assert by_label["//svc:slow_test"]["selected"] is False
    assert doc["selected"] == ["//svc:a_test"]


def _parse_outputs(text):
    outputs, lines = {}, iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            value = []
            for inner in lines:
                if inner == delimiter:
                    break
                value.append(inner)
            outputs[name] = value
        else:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


def test_github_outputs_parse_as_github_reads_them():
    out = _parse_outputs(as_github_outputs(_result(), "all"))
    assert out["exact"] == "true"
    assert out["any"] == "true"
    assert out["count"] == "4"
    assert out["tests"] == ["//svc:a_test"]
    assert out["images"] == ["//svc:image"]
    assert out["pushes"] == []


def test_summary_table_says_why_and_lists_manual_targets_apart():
    md = summary_markdown(_result(), "test")
    assert "| `//svc:a_test` | py_test | svc/a.py changed via `//svc:lib` |" in md
    assert "tagged `manual` (not run): `//svc:slow_test`" in md
    assert "**Everything** is affected: MODULE.bazel changed" in summary_markdown(_result(exact=False), "all")
