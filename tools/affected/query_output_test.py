"""Decoding `bazel query --output=streamed_proto` streams, built here byte by byte as Bazel writes them."""

import pytest

from tools.affected.query_output import Target, parse_streamed_proto

# Wire types and the build.proto field numbers the tests write.
_VARINT, _LEN = 0, 2
_TARGET_TYPE, _TARGET_RULE, _TARGET_GENERATED_FILE = 1, 2, 4
_RULE_TYPE, _GENERATED_FILE_TYPE = 1, 3
_STRING_LIST_TYPE = 5


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | 0x80 if n else low)
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes | str | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3 | _VARINT) + _varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | _LEN) + _varint(len(data)) + data


def _attribute(name: str, *strings: str) -> bytes:
    # Attribute: name = 1, type = 2, string_list_value = 6, explicitly_specified = 13.
    return _field(1, name) + _field(2, _STRING_LIST_TYPE) + b"".join(_field(6, s) for s in strings) + _field(13, 1)


def _rule(name: str, rule_class: str, attributes: list[bytes], inputs: list[str]) -> bytes:
    # Rule: name = 1, rule_class = 2, attribute = 4, rule_input = 5.
    body = _field(1, name) + _field(2, rule_class) + b"".join(_field(4, a) for a in attributes)
    return body + b"".join(_field(5, i) for i in inputs)


def _stream(*targets: bytes) -> bytes:
    return b"".join(_varint(len(t)) + t for t in targets)


def _rule_target(rule: bytes) -> bytes:
    return _field(_TARGET_TYPE, _RULE_TYPE) + _field(_TARGET_RULE, rule)


def _generated(name: str, rule: str) -> bytes:
    generated = _field(1, name) + _field(2, rule)  # GeneratedFile: name = 1, generating_rule = 2
    return _field(_TARGET_TYPE, _GENERATED_FILE_TYPE) + _field(_TARGET_GENERATED_FILE, generated)


def _lib(srcs: list[str], line: str) -> bytes:
    attributes = [
        _attribute("srcs", *srcs),
        _attribute("tags", "manual"),
        _attribute("generator_location", line),
    ]
    return _rule_target(_rule("//a:lib", "genrule", attributes, srcs))


def test_rules_files_tags_and_inputs_are_read():
    targets = parse_streamed_proto(_stream(_lib(["//a:x.txt"], "a/BUILD:1:1"), _generated("//a:out", "//a:lib")))
    lib = targets["//a:lib"]
    assert (lib.rule_class, lib.tags, lib.inputs) == ("genrule", ("manual",), ("//a:x.txt",))
    assert sorted(lib.attributes) == ["srcs", "tags"]  # a position is not part of what a rule is
    assert targets["//a:out"] == Target("//a:out", "generated file", inputs=("//a:lib",))


def test_equal_values_compare_equal_wherever_the_rule_is_written():
    before = parse_streamed_proto(_stream(_lib(["//a:x.txt"], "a/BUILD:1:1")))["//a:lib"]
    moved = parse_streamed_proto(_stream(_lib(["//a:x.txt"], "a/BUILD:9:1")))["//a:lib"]
    edited = parse_streamed_proto(_stream(_lib(["//a:y.txt"], "a/BUILD:1:1")))["//a:lib"]
    assert moved.attributes == before.attributes
    assert edited.attributes["srcs"] != before.attributes["srcs"]
    assert edited.attributes["tags"] == before.attributes["tags"]


def test_graph_only_reading_keeps_tags_and_drops_attributes():
    lib = parse_streamed_proto(_stream(_lib(["//a:x.txt"], "a/BUILD:1:1")), definitions=False)["//a:lib"]
    assert (lib.tags, lib.attributes) == (("manual",), {})


def test_long_fields_use_multi_byte_lengths():
    srcs = [f"//a:file_{i:04d}.txt" for i in range(300)]  # a rule message of several kilobytes
    lib = parse_streamed_proto(_stream(_lib(srcs, "a/BUILD:1:1")))["//a:lib"]
    assert lib.inputs == tuple(srcs)


def test_an_attribute_that_does_not_start_with_its_name_is_an_error():
    nameless = _field(2, _STRING_LIST_TYPE) + _field(1, "srcs")
    with pytest.raises(ValueError, match="does not start with its name"):
        parse_streamed_proto(_stream(_rule_target(_rule("//a:lib", "genrule", [nameless], []))))
