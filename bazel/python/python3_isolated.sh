#!/bin/sh
# The build's Python: the build root's interpreter with `site` disabled (-S), so no
# site-packages of the root or the host are importable. Targets see the standard library
# and the deps Bazel puts on PYTHONPATH, nothing else.
exec /usr/bin/python3 -S "$@"
