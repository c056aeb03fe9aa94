"""Which pinned Python packages a requirements lock change touches, and which lock files feed which pip hub."""

import re
from dataclasses import dataclass

_PIP_PARSE = re.compile(r"pip\.parse\((?P<body>.*?)\n\)", re.DOTALL)
_KWARG = re.compile(r"""\b(?P<key>name|hub_name|requirements_lock)\s*=\s*"(?P<value>[^"]*)\"""")
_REQ_NAME = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class LockDiff:
    """What changed between two versions of a lock file.

    Attributes:
        packages: normalized names whose pin (version, hashes, markers) changed, or that were
            added or removed, with a short description each.
        options_changed: an option line (``--index-url`` ...) changed; every package may differ.
    """

    packages: dict[str, str]
    options_changed: bool


def normalize(name: str) -> str:
    """The name as the pip hub spells it in labels: lower case, runs of ``-_.`` as ``_``."""
    return re.sub(r"[-_.]+", "_", name).lower()


def parse(text: str) -> tuple[dict[str, str], list[str]]:
    """Split a pip-compile/uv lock into one block per requirement.

    Args:
        text: the lock file's contents.

    Returns:
        (blocks, options): the requirement text (pin, markers, hashes; comments dropped) by
        normalized name, and the option lines.
    """
    blocks: dict[str, list[str]] = {}
    options: list[str] = []
    current: str | None = None
    for raw in text.splitlines():
        line = re.split(r"\s#", raw, maxsplit=1)[0].rstrip().rstrip("\\").strip()
        if not line or line.startswith("#"):
            continue
        if raw[:1] in (" ", "\t"):
            if current is not None:
                blocks[current].append(line)
            continue
        if line.startswith("-"):
            options.append(line)
            current = None
            continue
        match = _REQ_NAME.match(line)
        if not match:
            raise ValueError(f"cannot parse lock line: {raw!r}")
        current = normalize(match.group("name"))
        blocks[current] = [line]
    return {name: "\n".join(lines) for name, lines in blocks.items()}, options


def _version(block: str) -> str:
    first = block.split("\n", 1)[0]
    return first.split("==", 1)[1].split(";")[0].strip() if "==" in first else first


def diff(base_text: str, head_text: str) -> LockDiff:
    """Compare two versions of a lock file.

    Args:
        base_text: the lock at the base revision ("" when it did not exist).
        head_text: the lock at the head revision ("" when it was deleted).

    Raises:
        ValueError: when either text is not a requirements lock.
    """
    base, base_opts = parse(base_text)
    head, head_opts = parse(head_text)
    changed: dict[str, str] = {}
    for name in sorted(set(base) | set(head)):
        old, new = base.get(name), head.get(name)
        if old == new:
            continue
        if old is None:
            changed[name] = f"{name} added ({_version(new)})"
        elif new is None:
            changed[name] = f"{name} removed (was {_version(old)})"
        elif _version(old) != _version(new):
            changed[name] = f"{name} {_version(old)} -> {_version(new)}"
        else:
            changed[name] = f"{name} {_version(new)} re-pinned (hashes or markers changed)"
    return LockDiff(changed, sorted(base_opts) != sorted(head_opts))


def pip_hubs(module_text: str) -> dict[str, str]:
    """The lock files that ``pip.parse`` reads in a MODULE.bazel, mapped to their hub names.

    Args:
        module_text: MODULE.bazel's contents.

    Returns:
        {workspace-relative lock path: hub name}, e.g. ``{"requirements_lock.txt": "pypi"}``.
    """
    hubs: dict[str, str] = {}
    for call in _PIP_PARSE.finditer(module_text):
        kwargs = {m.group("key"): m.group("value") for m in _KWARG.finditer(call.group("body"))}
        lock = kwargs.get("requirements_lock")
        hub = kwargs.get("hub_name") or kwargs.get("name")
        if lock and hub and lock.startswith(("//", "@//", ":")):
            package, _, target = lock.lstrip("@").lstrip("/").partition(":")
            if lock.startswith(":"):
                package, target = "", lock[1:]
            hubs[f"{package}/{target}" if package else target] = hub
    return hubs
