#!/bin/sh
# The interpreter rules_python's pip.parse runs in its repository rules, with one addition:
# after a wheel is extracted, its modules are compiled to bytecode and shipped with it.
#
# rules_python 0.22.1 extracts wheels without compiling them and leaves *.pyc out of the
# generated py_library, so every test and binary compiled pandas, scikit-learn... from source
# on each start (the runfiles are read-only: nothing is kept). Here the wheel repository gets
# __pycache__/*.pyc files next to its sources, and its BUILD file keeps them in the library's
# data, so they land beside the .py files in the runfiles where Python looks for them.
# unchecked-hash: the sources of an external repository never change under its .pyc files,
# so Python loads them without a stat of each source. Paths are compiled relative to the
# repository, which keeps the bytes identical in every output base (remote cache hits).
set -eu
PYTHON=/usr/bin/python3
INSTALLER=python.pip_install.tools.wheel_installer.wheel_installer

if [ "${1:-}" != -m ] || [ "${2:-}" != "$INSTALLER" ]; then
  exec "$PYTHON" "$@"
fi

"$PYTHON" "$@"
# The current directory is the wheel's repository. A file that does not compile (a template,
# a Python 2 test) simply keeps no .pyc: compileall's status is not an error here.
# Deterministic AND parallel: marshal marks objects by their reference counts, which depend on
# what the same process compiled before, so compileall -j 0 (files handed to whichever worker is
# free) gave a file different bytes from one fetch to the next, a remote-cache miss for
# everything that uses it. Here the sorted file list is dealt round-robin into a FIXED number of
# lists (not the core count, which differs between machines), and each list is compiled in its
# order by a process of its own: every file's bytes depend only on the wheel. PYTHONHASHSEED fixes
# the order of any set built while compiling.
PARTS=4
LIST=.pip_python_pyfiles
find site-packages -name '*.py' -type f | LC_ALL=C sort >"$LIST"
split -n "r/$PARTS" -d "$LIST" "$LIST."
for part in "$LIST".*; do
  # An empty list would make compileall compile all of sys.path instead.
  [ -s "$part" ] || continue
  PYTHONHASHSEED=0 "$PYTHON" -m compileall -q -q --invalidation-mode unchecked-hash -i "$part" &
done
wait || true
rm -f "$LIST" "$LIST".*
# The generated library's data excludes "**/*.pyc"; narrow that to optimised bytecode (-O),
# which nothing here compiles.
if ! grep -qF '"**/*.pyc"' BUILD.bazel; then
  echo "pip_python.sh: the generated BUILD.bazel no longer excludes \"**/*.pyc\" as expected;" \
    "update bazel/python/pip_python.sh for this rules_python" >&2
  exit 1
fi
sed -i 's|"\*\*/\*\.pyc"|"**/__pycache__/*.opt-*.pyc"|' BUILD.bazel
