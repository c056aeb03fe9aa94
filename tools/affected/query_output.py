"""Reading `bazel query --output=streamed_proto`: targets with their graph edges and, when asked, rule definitions."""

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
        attributes: the rule's attributes by name (minus positions), each value as the hex text
            of its encoding; a rule with the same class and attributes builds the same thing
            from the same inputs.
    """

    label: str
    rule_class: str
    tags: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    attributes: dict = field(default_factory=dict)

    def to_row(self) -> list:
        """A JSON-ready row (for the base-result cache)."""
        return [self.label, self.rule_class, list(self.tags), list(self.inputs), self.attributes]

    @classmethod
    def from_row(cls, row: list) -> Target:
        """The target a ``to_row`` row describes."""
        return cls(row[0], row[1], tuple(row[2]), tuple(row[3]), row[4])

    @property
    def package(self) -> str | None:
        """The main-repository package of the target (None for other repositories)."""
        return self.label[2:].split(":", 1)[0] if self.label.startswith("//") else None

    @property
    def is_rule(self) -> bool:
        """Whether this is a rule (not a file or package group)."""
        return self.rule_class not in ("source file", "generated file", "package group", "environment group")


# Protobuf wire types; a varint's last byte has the high bit clear.
_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5
_MORE = 0x80


def _varint(data: bytes, i: int) -> tuple[int, int]:
    byte = data[i]
    if byte < _MORE:  # most are one byte: field keys, short lengths
        return byte, i + 1
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


# Field numbers of Bazel's src/main/protobuf/build.proto that the graph and the definitions need.
_TARGET_RULE, _TARGET_SOURCE_FILE, _TARGET_GENERATED_FILE, _TARGET_PACKAGE_GROUP = 2, 3, 4, 5
_RULE_NAME, _RULE_CLASS, _RULE_ATTRIBUTE, _RULE_INPUT = 1, 2, 4, 5
_ATTR_NAME, _ATTR_STRING_LIST = 1, 6
_TARGET_NAME, _GENERATING_RULE = 1, 2  # in SourceFile, GeneratedFile and PackageGroup


def _text(data: bytes, span: tuple[int, int]) -> str:
    return data[span[0] : span[1]].decode()


_NAME_KEY = _ATTR_NAME << 3 | _LEN  # Bazel (Java protobuf) writes fields in number order: the name first


def _attribute(data: bytes, start: int, stop: int) -> tuple[str, int]:
    """An Attribute message's name, and where the rest of it (type and value) starts.

    Raises:
        ValueError: when the message does not start with the name.
    """
    key, i = _varint(data, start)
    if key != _NAME_KEY:
        raise ValueError(f"bazel query protobuf: an attribute does not start with its name (key {key})")
    size, i = _varint(data, i)
    return data[i : i + size].decode(), i + size


def _string_list(data: bytes, start: int, stop: int) -> list[str]:
    """The string_list_value entries of an Attribute message (its other fields skipped)."""
    return [_text(data, v) for f, w, v in _fields(data, start, stop) if f == _ATTR_STRING_LIST and w == _LEN]


def _rule(data: bytes, start: int, stop: int, definitions: bool) -> Target:
    """A Rule message: its name, class, tags and inputs, and (``definitions``) its attributes.

    An attribute's value is kept as the hex text of its encoded type and value: equal
    values encode equally, and the text goes into the base-result cache as it is.
    """
    name = rule_class = ""
    tags: list[str] = []
    inputs: list[str] = []
    attrs: dict[str, str] = {}
    # The hottest loop of the tool (every rule of a whole-graph query): _fields() inlined.
    i = start
    while i < stop:
        key, i = _varint(data, i)
        if key & 7 != _LEN:
            i = _skip(data, i, key & 7)
            continue
        size, i = _varint(data, i)
        end = i + size
        field_no = key >> 3
        if field_no == _RULE_INPUT:
            inputs.append(data[i:end].decode())
        elif field_no == _RULE_ATTRIBUTE:
            attr_name, rest = _attribute(data, i, end)
            if attr_name == "tags":
                tags = _string_list(data, rest, end)
            if definitions and attr_name not in _POSITION_ATTRS:
                attrs[attr_name] = data[rest:end].hex()
        elif field_no == _RULE_NAME:
            name = data[i:end].decode()
        elif field_no == _RULE_CLASS:
            rule_class = data[i:end].decode()
        i = end
    return Target(name, rule_class, tuple(tags), tuple(inputs), attrs)


def _named(data: bytes, start: int, stop: int, kind: str) -> Target:
    """A SourceFile, GeneratedFile or PackageGroup message (a generated file's input is its generating rule)."""
    name, generating = "", ""
    for f, w, v in _fields(data, start, stop):
        if w == _LEN and f == _TARGET_NAME:
            name = _text(data, v)
        elif w == _LEN and f == _GENERATING_RULE and kind == "generated file":
            generating = _text(data, v)
    return Target(name, kind, inputs=(generating,) if generating else ())


_NAMED_KINDS = {
    _TARGET_SOURCE_FILE: "source file",
    _TARGET_GENERATED_FILE: "generated file",
    _TARGET_PACKAGE_GROUP: "package group",
}


def parse_streamed_proto(data: bytes, definitions: bool = True) -> dict[str, Target]:
    """Targets from ``bazel query --output=streamed_proto`` output, by label.

    Decoding the binary stream directly is cheaper, for Bazel and for us, than JSON.

    Args:
        data: the query's stdout: length-delimited Target messages.
        definitions: also read every attribute of each rule (for comparing definitions);
            otherwise only what the dependency graph needs (label, class, tags, inputs).
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
                target = _rule(data, *value, definitions=definitions)
            elif field_no in _NAMED_KINDS:
                target = _named(data, *value, _NAMED_KINDS[field_no])
            else:
                continue
            targets[target.label] = target
        i = end
    return targets
