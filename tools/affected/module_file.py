"""What a MODULE.bazel edit can change: nothing (comments, layout), only external repositories, or everything.

The file is cut into top-level statements, each a sequence of Starlark tokens without comments
or line breaks, and the statements that differ between the two revisions are judged one by
one. Only these can change no more than the contents of external repositories (which the
tool then compares, see repositories.py):

* a call of a repository rule bound with ``use_repo_rule`` (``http_archive(name = ...)``),
  while MODULE.bazel registers no toolchain or platform from another repository (else the
  repository could be one, and toolchains are not in the query graph);
* a tag of an extension known to create only libraries (rules_python's pip: wheel and hub
  repositories, never a toolchain), such as ``pip.parse(...)``;
* ``use_repo(...)`` (which repositories the main repository sees: the query graph shows it);
* an assignment of a constant that only such statements read (``_WHEEL_BUILD = \"\"\"...\"\"\"``).

Anything else (``bazel_dep``, overrides, ``register_toolchains``, other extensions, a new
``use_extension`` binding) can change every target's configuration: everything.
"""

import io
import tokenize
from dataclasses import dataclass

INERT, REPOSITORIES, EVERYTHING = "inert", "repositories", "everything"

# (.bzl file, extension name) of extensions whose repositories hold libraries, never toolchains.
LIBRARY_EXTENSIONS = frozenset({("@rules_python//python/extensions:pip.bzl", "pip")})

_SKIPPED = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER})
_CLOSING = frozenset({tokenize.NEWLINE, tokenize.ENDMARKER})

Statement = tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class ModuleEdit:
    """The judgement on one MODULE.bazel edit.

    Attributes:
        kind: INERT, REPOSITORIES or EVERYTHING.
        reason: for EVERYTHING, the first statement that decided it.
    """

    kind: str
    reason: str = ""


def statements(text: str) -> list[Statement]:
    """The top-level statements of a Starlark file, each as its (token type, text) pairs.

    Raises:
        ValueError: when the text does not tokenize (an unterminated string or bracket).
    """
    found: list[Statement] = []
    current: list[tuple[int, str]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in _CLOSING:
                if current:
                    found.append(tuple(current))
                current = []
            elif token.type not in _SKIPPED:
                current.append((token.type, token.string))
    except (tokenize.TokenError, SyntaxError) as err:
        raise ValueError(f"MODULE.bazel does not tokenize: {err}") from err
    if current:
        found.append(tuple(current))
    return found


def _words(statement: Statement) -> list[str]:
    return [text for _, text in statement]


def _assigned_name(statement: Statement) -> str | None:
    words = _words(statement)
    return words[0] if len(words) > 2 and statement[0][0] == tokenize.NAME and words[1] == "=" else None


def _callee(statement: Statement) -> str | None:
    """``http_archive`` for ``http_archive(...)``, ``pip.parse`` for ``pip.parse(...)``, else None."""
    words = _words(statement)
    if len(words) > 1 and words[1] == "(":
        return words[0]
    if len(words) > 3 and words[1] == "." and words[3] == "(":
        return f"{words[0]}.{words[2]}"
    return None


def _bindings(stmts: list[Statement]) -> tuple[set[str], set[str]]:
    """(names bound by use_repo_rule, names bound to a library extension by use_extension)."""
    repo_rules, library_extensions = set(), set()
    for statement in stmts:
        name = _assigned_name(statement)
        words = _words(statement)
        if name is None or len(words) < 4 or words[3] != "(":
            continue
        strings = tuple(text.strip("\"'") for kind, text in statement[4:] if kind == tokenize.STRING)
        if words[2] == "use_repo_rule":
            repo_rules.add(name)
        elif words[2] == "use_extension" and strings[:2] in LIBRARY_EXTENSIONS:
            library_extensions.add(name)
    return repo_rules, library_extensions


def _registers_external(stmts: list[Statement]) -> bool:
    """Whether a register_toolchains or register_execution_platforms names another repository."""
    return any(
        _callee(statement) in ("register_toolchains", "register_execution_platforms")
        and any(kind == tokenize.STRING and text.strip("\"'").startswith("@") for kind, text in statement)
        for statement in stmts
    )


def _changes_repositories_only(
    statement: Statement, repo_rules: set[str], library_extensions: set[str], toolchains_elsewhere: bool
) -> bool:
    """Whether this statement (not an assignment) only defines repositories or which ones the main repository sees."""
    callee = _callee(statement)
    if callee is None:
        return False
    if callee == "use_repo":
        return True
    if callee in repo_rules:
        return not toolchains_elsewhere
    return "." in callee and callee.split(".", 1)[0] in library_extensions


def classify_edit(base_text: str, head_text: str) -> ModuleEdit:
    """Judge a MODULE.bazel edit (see the module's docstring)."""
    try:
        before, after = statements(base_text), statements(head_text)
    except ValueError as err:
        return ModuleEdit(EVERYTHING, str(err))
    if before == after:
        return ModuleEdit(INERT)
    changed = [s for s in after if s not in before] + [s for s in before if s not in after]
    if not changed:  # the same statements in another order: the order of registrations matters
        return ModuleEdit(EVERYTHING, "statements reordered")
    base_rules, base_exts = _bindings(before)
    head_rules, head_exts = _bindings(after)
    if (base_rules, base_exts) != (head_rules, head_exts):
        return ModuleEdit(EVERYTHING, "a use_repo_rule or use_extension binding changed")
    toolchains_elsewhere = _registers_external(before) or _registers_external(after)
    every = before + after
    for statement in changed:
        name = _assigned_name(statement)
        if name is None:
            ok = _changes_repositories_only(statement, head_rules, head_exts, toolchains_elsewhere)
        else:
            # A constant: harmless when every statement reading it only defines repositories.
            readers = [
                s for s in every if s is not statement and _assigned_name(s) != name and (tokenize.NAME, name) in s
            ]
            ok = name not in head_rules | head_exts and all(
                _changes_repositories_only(s, head_rules, head_exts, toolchains_elsewhere) for s in readers
            )
        if not ok:
            return ModuleEdit(EVERYTHING, f"MODULE.bazel changed at: {' '.join(_words(statement))[:120]}")
    return ModuleEdit(REPOSITORIES)
