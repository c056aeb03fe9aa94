"""Reading `bazel query` output: streamed JSON with full rule definitions, or streamed binary protobuf for the graph."""

import json
from dataclasses import dataclass, field

# Attributes that say where a rule is written, not what it is: a comment added above a target
# moves it without changing it.
_POSITION_ATTRS = frozenset({"generator_location"})


@dataclass
class Target:
    """One target from a query.

    Attributes:
        label: the canonical label.
        rule_class: the rule's class, or "source file" / "generated file".
        tags: the rule's tags.
        inputs: labels the rule depends on (every attribute, implicit ones included).
        definition: a canonical text of the rule (class, attributes minus positions); equal
            definitions build the same thing from the same inputs.
        attributes: the rule's attributes by name (minus positions), for saying what changed.
    """

    label: str
    rule_class: str
    tags: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    definition: str = ""
    attributes: dict = field(default_factory=dict)

    def to_row(self) -> list:
        """A JSON-ready row (for the base-result cache)."""
        return [self.label, self.rule_class, list(self.tags), list(self.inputs), self.definition, self.attributes]

    @classmethod
    def from_row(cls, row: list) -> Target:
        """The target a ``to_row`` row describes."""
        return cls(row[0], row[1], tuple(row[2]), tuple(row[3]), row[4], row[5])

    @property
    def package(self) -> str | None:
        """The main-repository package of the target (None for other repositories)."""
        return self.label[2:].split(":", 1)[0] if self.label.startswith("//") else None

    @property
    def is_rule(self) -> bool:
        """Whether this is a rule (not a file or package group)."""
        return self.rule_class not in ("source file", "generated file", "package group", "environment group")


def _attr_value(attr: dict):
    for key, value in attr.items():
        if key.endswith("Value") or key == "selectorList":
            return value
    return None


def parse_streamed_jsonproto(text: str) -> dict[str, Target]:
    """Targets from ``bazel query --output=streamed_jsonproto`` output, by label.

    Args:
        text: the query's stdout, one JSON object per line.
    """
    targets: dict[str, Target] = {}
    for line in text.splitlines():
        if not line:
            continue
        obj = json.loads(line)
        kind = obj.get("type")
        if kind == "RULE":
            rule = obj["rule"]
            attrs = {}
            tags: tuple[str, ...] = ()
            for attr in rule.get("attribute", ()):
                name = attr["name"]
                if name == "tags":
                    tags = tuple(attr.get("stringListValue", ()))
                if name in _POSITION_ATTRS:
                    continue
                attrs[name] = _attr_value(attr)
            definition = json.dumps([rule["ruleClass"], attrs], sort_keys=True)
            targets[rule["name"]] = Target(
                rule["name"], rule["ruleClass"], tags, tuple(rule.get("ruleInput", ())), definition, attrs
            )
        elif kind == "SOURCE_FILE":
            name = obj["sourceFile"]["name"]
            targets[name] = Target(name, "source file")
        elif kind == "GENERATED_FILE":
            gen = obj["generatedFile"]
            targets[gen["name"]] = Target(gen["name"], "generated file", inputs=(gen["generatingRule"],))
        elif kind == "PACKAGE_GROUP":
            name = obj["packageGroup"]["name"]
            targets[name] = Target(name, "package group")
    return targets


# Protobuf wire types; a varint's last byte has the high bit clear.
_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5
_MORE = 0x80


def _varint(data: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < _MORE:
            return result, i
        shift += 7


def _skip(data: bytes, i: int, wire: int) -> int:
    if wire == _VARINT:
        return _varint(data, i)[1]
    if wire == _LEN:
        size, i = _varint(data, i)
        return i + size
    if wire == _FIXED32:
        return i + 4
    if wire == _FIXED64:
        return i + 8
    raise ValueError(f"unsupported protobuf wire type {wire}")


def _fields(data: bytes, start: int, end: int):
    """(field number, wire type, value-or-(start, end)) for each field of one message."""
    i = start
    while i < end:
        key, i = _varint(data, i)
        field_no, wire = key >> 3, key & 7
        if wire == _LEN:
            size, i = _varint(data, i)
            yield field_no, wire, (i, i + size)
            i += size
        elif wire == _VARINT:
            value, i = _varint(data, i)
            yield field_no, wire, value
        else:
            i = _skip(data, i, wire)


# Field numbers of Bazel's src/main/protobuf/build.proto that the graph needs.
_TARGET_RULE, _TARGET_SOURCE_FILE, _TARGET_GENERATED_FILE = 2, 3, 4
_RULE_NAME, _RULE_CLASS, _RULE_ATTRIBUTE, _RULE_INPUT = 1, 2, 4, 5
_ATTR_NAME, _ATTR_STRING_LIST = 1, 6
_FILE_NAME, _GENERATING_RULE = 1, 2


def _text(data: bytes, span: tuple[int, int]) -> str:
    return data[span[0] : span[1]].decode()


def _rule(data: bytes, start: int, stop: int) -> Target:
    """A Rule message: its name, class, tags and inputs."""
    name = rule_class = ""
    tags: list[str] = []
    inputs: list[str] = []
    for f, w, v in _fields(data, start, stop):
        if w != _LEN:
            continue
        if f == _RULE_INPUT:
            inputs.append(_text(data, v))
        elif f == _RULE_NAME:
            name = _text(data, v)
        elif f == _RULE_CLASS:
            rule_class = _text(data, v)
        elif f == _RULE_ATTRIBUTE:
            attr = [(fa, a) for fa, wa, a in _fields(data, v[0], v[1]) if wa == _LEN]
            if [data[a[0] : a[1]] for fa, a in attr if fa == _ATTR_NAME] == [b"tags"]:
                tags += [_text(data, a) for fa, a in attr if fa == _ATTR_STRING_LIST]
    return Target(name, rule_class, tuple(tags), tuple(inputs))


def _file(data: bytes, start: int, stop: int, generated: bool) -> Target:
    """A SourceFile or GeneratedFile message (a generated file's input is its generating rule)."""
    name, generating = "", ""
    for f, w, v in _fields(data, start, stop):
        if w == _LEN and f == _FILE_NAME:
            name = _text(data, v)
        elif w == _LEN and f == _GENERATING_RULE and generated:
            generating = _text(data, v)
    if generated:
        return Target(name, "generated file", inputs=(generating,))
    return Target(name, "source file")


def parse_streamed_proto_graph(data: bytes) -> dict[str, Target]:
    """Targets (label, class, tags, inputs) from ``--output=streamed_proto``.

    Decoding the binary stream directly is several times cheaper, for Bazel and for us, than
    JSON; only the fields the dependency graph needs are read.
    """
    targets: dict[str, Target] = {}
    i, total = 0, len(data)
    while i < total:
        size, i = _varint(data, i)
        end = i + size
        for field_no, wire, value in _fields(data, i, end):
            if wire != _LEN:
                continue
            if field_no == _TARGET_RULE:
                target = _rule(data, *value)
            elif field_no in (_TARGET_SOURCE_FILE, _TARGET_GENERATED_FILE):
                target = _file(data, *value, generated=field_no == _TARGET_GENERATED_FILE)
            else:
                continue
            targets[target.label] = target
        i = end
    return targets
