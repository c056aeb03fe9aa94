#!/usr/bin/python3
"""The interpreter pip.parse runs in its repository rules: wheels fetched by URL, not by pip, and shipped compiled.

rules_python 0.22.1 fetches each locked wheel by running
`python -m python.pip_install.tools.wheel_installer.wheel_installer --requirement "name==1.0
--hash=sha256:..."`, which starts a `pip wheel` process of its own. That pip run took 0.6-1.0 s
per wheel (wall time) on an idle 2-core machine (idna 0.64 s, pandas 1.04 s), about 230 times on a
fresh machine, where the download itself takes 30 ms. Here, for a wheel of the default index:
  1. the wheel's file is found the way pip finds it, from the index's PEP 691 JSON page: the
     file whose sha256 the lock pins, among those whose tags this interpreter supports, best
     tag first;
  2. it is downloaded and its sha256 checked against the lock;
  3. rules_python's own extraction step builds the repository from it (the files and BUILD
     file it makes after pip);
  4. its modules are compiled to bytecode, shipped with the repository (unless its hub says
     PIP_PYTHON_BYTECODE=0 in pip.parse's `environment`);
  5. the packages' own test suites are left out of the library (leave_out_test_suites).
Anything else (a pip option, another index, a requirement that is not `name==version` with
hashes, a version without a usable wheel, an index that does not answer) goes through
rules_python's installer and pip unchanged, then gets steps 4 and 5 too.

Why step 4: rules_python extracts wheels without compiling them and leaves *.pyc out of the
generated py_library, so every test and binary compiled pandas, scikit-learn... from source on
each start (the runfiles are read-only: nothing is kept). Here the wheel's repository gets
__pycache__/*.pyc files next to its sources and its BUILD file keeps them in the library's data.

Every other use of this interpreter is passed to /usr/bin/python3 as is. This file is the
interpreter target itself (not a script it calls) so that Bazel re-fetches the wheels when it
changes: a repository rule tracks the files it is given, not what they read.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import types
import urllib.error
import urllib.parse
import urllib.request

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import sys_tags
from packaging.utils import InvalidWheelFilename, canonicalize_version, parse_wheel_filename
from packaging.version import Version

PYTHON = "/usr/bin/python3"
INSTALLER = "python.pip_install.tools.wheel_installer.wheel_installer"
# pip's index when it runs isolated from its config files and environment, as rules_python runs
# it by default: the only index this fast path stands in for.
DEFAULT_INDEX = "https://pypi.org/simple"
PEP691_JSON = "application/vnd.pypi.simple.v1+json"
NETWORK_ATTEMPTS = 3
NETWORK_TIMEOUT_S = 60
# At most this many compiling processes per wheel, each with at least FILES_PER_PART files
# (four processes for idna's 11 files took 0.25 s, mostly starting up). The split depends
# only on the wheel, never on the machine: see compile_bytecode.
COMPILE_PARTS = 4
FILES_PER_PART = 100

_PINNED_REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!_-]+)"
    r"(?P<hashes>(?:\s+--hash=sha256:[0-9a-f]{64})+)\s*$"
)


class LockMismatch(Exception):
    """A downloaded file does not have a sha256 the lock pins: never installed, never retried."""


def parse_pinned_requirement(requirement):
    """(name, version, frozenset of sha256) for a lock line `name==version --hash=sha256:...`, else None."""
    match = _PINNED_REQUIREMENT.match(requirement.strip())
    if not match:
        return None
    hashes = frozenset(re.findall(r"--hash=sha256:([0-9a-f]{64})", match.group("hashes")))
    return match.group("name"), match.group("version"), hashes


def normalized_name(name):
    """The project name as the index spells it in URLs (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def choose_wheel(index_files, version, hashes, supported_tags, python_version):
    """The index file pip would install for `name==version` with these hashes, or None.

    index_files: the "files" of a PEP 691 project page. Only wheels whose sha256 the lock pins,
    whose version is `version`, whose requires-python admits this interpreter and whose tags it
    supports are candidates; the best is the one with the most preferred tag (supported_tags is
    in preference order, as packaging.tags.sys_tags() yields it), then the highest build number.
    """
    rank = {tag: position for position, tag in enumerate(supported_tags)}
    wanted_version = canonicalize_version(version)
    best = None
    for entry in index_files:
        filename = entry.get("filename", "")
        if not filename.endswith(".whl") or entry.get("hashes", {}).get("sha256") not in hashes:
            continue
        try:
            _, file_version, build, tags = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            continue
        if canonicalize_version(file_version) != wanted_version:
            continue
        requires_python = entry.get("requires-python")
        if requires_python:
            try:
                if python_version not in SpecifierSet(requires_python):
                    continue
            except InvalidSpecifier:
                continue
        positions = [rank[tag] for tag in tags if tag in rank]
        if not positions:
            continue
        key = (min(positions), -(build[0] if build else 0))
        if best is None or key < best[0]:
            best = (key, entry)
    return best[1] if best else None


def _open(url, accept=None):
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    return urllib.request.urlopen(request, timeout=NETWORK_TIMEOUT_S)


def _with_retries(what, action):
    for attempt in range(1, NETWORK_ATTEMPTS + 1):
        try:
            return action()
        except (urllib.error.URLError, OSError) as error:
            if attempt == NETWORK_ATTEMPTS:
                raise
            print(f"pip_python: {what}: {error}; retrying ({attempt}/{NETWORK_ATTEMPTS})", file=sys.stderr)
            time.sleep(attempt)
    raise AssertionError("unreachable")


def read_project_page(index_url, name):
    """The "files" of the index's PEP 691 JSON page for a project."""
    url = f"{index_url.rstrip('/')}/{normalized_name(name)}/"

    def read():
        with _open(url, accept=PEP691_JSON) as response:
            if not response.headers.get("Content-Type", "").startswith(PEP691_JSON):
                raise ValueError(f"{url} did not answer in PEP 691 JSON")
            files = json.load(response)["files"]
        # PEP 691 lets a file's URL be relative to its page.
        return [dict(entry, url=urllib.parse.urljoin(url, entry["url"])) for entry in files]

    return _with_retries(f"index page {url}", read)


def download_pinned(entry, hashes, directory):
    """Downloads an index file into directory and returns its path; LockMismatch if its sha256 is not pinned."""
    path = os.path.join(directory, os.path.basename(entry["filename"]))

    def download():
        digest = hashlib.sha256()
        with _open(entry["url"]) as response, open(path, "wb") as out:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        return digest.hexdigest()

    actual = _with_retries(f"download {entry['url']}", download)
    if actual not in hashes:
        os.remove(path)
        raise LockMismatch(
            f"{entry['url']} has sha256 {actual}, which the lock does not pin "
            f"(expected one of: {', '.join(sorted(hashes))})"
        )
    return path


def fetch_wheel(requirement, index_url, directory):
    """Downloads the locked wheel for a pinned requirement into directory; its path, or None where pip must do it."""
    pinned = parse_pinned_requirement(requirement)
    if pinned is None:
        return None
    name, version, hashes = pinned
    try:
        files = read_project_page(index_url, name)
    except (urllib.error.URLError, OSError, ValueError, KeyError) as error:
        print(f"pip_python: {name}: no index page ({error}); pip will fetch it", file=sys.stderr)
        return None
    python_version = Version(".".join(str(part) for part in sys.version_info[:3]))
    entry = choose_wheel(files, version, hashes, list(sys_tags()), python_version)
    if entry is None:
        return None
    try:
        return download_pinned(entry, hashes, directory)
    except (urllib.error.URLError, OSError, ValueError) as error:
        print(f"pip_python: {name}: download failed ({error}); pip will fetch it", file=sys.stderr)
        return None


def stand_in_for_pkg_resources():
    """Gives rules_python's installer a `pkg_resources` module that holds only `Requirement`.

    Its wheel.py imports pkg_resources for one thing, `pkg_resources.Requirement(line)` on each
    Requires-Dist line, using `.name` and `.marker` only: packaging's Requirement, which
    pkg_resources' own extends. Importing the real pkg_resources scans every folder on the
    import path for installed distributions, ~0.06 s of CPU more than this on each of the ~230
    runs. pip, when it runs, runs in a process of its own and imports the real one.
    """
    stand_in = types.ModuleType("pkg_resources", "pip_python.py's stand-in: Requirement only")
    stand_in.Requirement = Requirement
    sys.modules.setdefault("pkg_resources", stand_in)


def install_wheel(argv):
    """rules_python's wheel_installer for argv (its command line), with the wheel fetched here when possible.

    Returns the `environment` the hub's pip.parse gave its wheels.
    """
    stand_in_for_pkg_resources()
    # rules_python's installer is importable only where rules_python runs this file.
    from python.pip_install.tools.lib import annotation, arguments  # noqa: PLC0415
    from python.pip_install.tools.wheel_installer import wheel_installer  # noqa: PLC0415

    parser = argparse.ArgumentParser()
    parser.add_argument("--requirement", required=True)
    parser.add_argument("--annotation", type=annotation.annotation_from_str_path)
    arguments.parse_common_args(parser)
    args = parser.parse_args(argv)
    structured = arguments.deserialize_structured_args(dict(vars(args)))

    plain_pip = args.isolated and not structured["extra_pip_args"] and not args.download_only
    wheel_path = fetch_wheel(args.requirement, DEFAULT_INDEX, ".") if plain_pip else None
    if wheel_path is None:
        sys.argv = [INSTALLER, *argv]
        wheel_installer.main()
        return structured["environment"]
    # What wheel_installer.main() does after pip has put the wheel in the current directory.
    name, extras_for_name = wheel_installer._parse_requirement_for_extra(args.requirement)
    wheel_installer._extract_wheel(
        wheel_file=wheel_path,
        extras={name: extras_for_name} if extras_for_name and name else {},
        pip_data_exclude=structured["pip_data_exclude"],
        enable_implicit_namespace_pkgs=args.enable_implicit_namespace_pkgs,
        repo_prefix=args.repo_prefix,
        annotation=args.annotation,
    )
    return structured["environment"]


def in_a_test_suite(path):
    """Whether a repository path is inside a package's own `tests` folder (site-packages/pandas/tests/...)."""
    return "tests" in path.split("/")[2:-1]


def compile_bytecode(repository):
    """Compiles the wheel's modules next to their sources, deterministically.

    unchecked-hash: the sources of an external repository never change under their .pyc files,
    so Python loads them without a stat of each source. Paths are compiled relative to the
    repository, which keeps the bytes identical in every output base (remote cache hits).
    Deterministic AND parallel: marshal marks objects by their reference counts, which depend
    on what the same process compiled before, so `compileall -j 0` (files handed to whichever
    worker is free) gave a file different bytes from one fetch to the next, a remote-cache miss
    for everything that uses it. Here the sorted file list is dealt round-robin into a number of
    lists set by the file count alone (not the core count, which differs between machines), and
    each list is compiled in its order by a process of its own: every file's bytes depend only
    on the wheel.
    PYTHONHASHSEED fixes the order of any set built while compiling. Test suites are left out
    of the library (see leave_out_test_suites), so they are not compiled either.
    """
    sources = sorted(
        path
        for root, _, names in os.walk(os.path.join(repository, "site-packages"))
        for name in names
        if name.endswith(".py") and not in_a_test_suite(path := os.path.relpath(os.path.join(root, name), repository))
    )
    environment = dict(os.environ, PYTHONHASHSEED="0")
    parts = max(1, min(COMPILE_PARTS, len(sources) // FILES_PER_PART))
    workers = []
    for part in range(parts):
        files = sources[part::parts]
        if not files:  # compileall -i with an empty list would compile all of sys.path instead
            continue
        command = [PYTHON, "-m", "compileall", "-q", "-q", "--invalidation-mode", "unchecked-hash", "-i", "-"]
        worker = subprocess.Popen(command, cwd=repository, env=environment, stdin=subprocess.PIPE, text=True)
        workers.append(worker)
        worker.stdin.write("\n".join(files) + "\n")
        worker.stdin.close()
    # A file that does not compile (a template, a Python 2 test) simply keeps no .pyc:
    # compileall's status is not an error here.
    for worker in workers:
        worker.wait()


def _edit_generated_build(repository, old, new):
    build_file = os.path.join(repository, "BUILD.bazel")
    with open(build_file) as f:
        build = f.read()
    if old not in build:
        sys.exit(
            f"pip_python: the generated BUILD.bazel no longer contains {old} as expected; "
            "update bazel/python/pip_python.py for this rules_python"
        )
    with open(build_file, "w") as f:
        f.write(build.replace(old, new, 1))


def keep_bytecode_in_library(repository):
    """Narrows the generated library's data exclusion of "**/*.pyc" to optimised bytecode (-O), which nothing here compiles."""
    _edit_generated_build(repository, '"**/*.pyc"', '"**/__pycache__/*.opt-*.pyc"')


def leave_out_test_suites(repository):
    """Leaves the packages' own test suites (pandas/tests, scipy/*/tests...) out of the generated library.

    They were half of the files of the ML packages (pandas 2,232 of 2,931, scipy 1,067 of
    2,433, numpy 739 of 1,356, scikit-learn 719 of 1,684), and so half of the symlinks Bazel
    makes in every runfiles tree and sandbox of a target that uses them, and of the files of
    the images' third-party layer. No library imports its own test suite; the files stay in
    the repository, outside the library.
    """
    pattern = '"site-packages/*/**/tests/**"'
    _edit_generated_build(
        repository, 'glob(["site-packages/**/*.py"], exclude=[', f'glob(["site-packages/**/*.py"], exclude=[{pattern}, '
    )
    _edit_generated_build(
        repository, 'glob(["site-packages/**/*"], exclude=[', f'glob(["site-packages/**/*"], exclude=[{pattern}, '
    )


def keep_bytecode_of_this_process():
    """Caches the bytecode of the modules this process imports, for the next wheel's run.

    The build root sets PYTHONDONTWRITEBYTECODE and rules_python's installer (with the
    `installer` library it imports) ships as sources only, so each of the ~230 runs
    compiled them again: 0.2 s of a 0.45 s run for a small wheel. Python checks each cached
    file against its source's size and mtime, so a changed source is compiled again.
    """
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    sys.pycache_prefix = os.path.join(cache_home, "mlops-pip-python", "pycache")
    sys.dont_write_bytecode = False


def main(argv):
    """Installs a wheel when rules_python asks for its installer; otherwise is /usr/bin/python3."""
    if argv[:2] != ["-m", INSTALLER]:
        os.execv(PYTHON, [PYTHON, *argv])
    keep_bytecode_of_this_process()
    try:
        environment = install_wheel(argv[2:]) or {}  # [] when the hub sets none
    except LockMismatch as error:
        sys.exit(f"pip_python: {error}")
    # A hub opts out with pip.parse(environment = {"PIP_PYTHON_BYTECODE": "0"}).
    if environment.get("PIP_PYTHON_BYTECODE", "1") != "0":
        compile_bytecode(".")
        keep_bytecode_in_library(".")
    leave_out_test_suites(".")


if __name__ == "__main__":
    # This file's folder is not a package of the installer: keep it off the import path.
    sys.path.pop(0)
    main(sys.argv[1:])
