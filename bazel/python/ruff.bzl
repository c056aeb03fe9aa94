"""A test that lints Python sources with ruff and checks their formatting."""

load("@rules_python//python:defs.bzl", "py_test")

def ruff_test(name, srcs, **kwargs):
    """Declares a test that runs `ruff check` and `ruff format --check` (config: //:ruff.toml).

    One per package, so a lint failure is attributed to, and re-run for, the package that
    changed.

    Args:
        name: the test's name (by convention `ruff_test`).
        srcs: the Python files to lint, usually `glob(["**/*.py"])`.
        **kwargs: passed to py_test (size, tags, ...).
    """
    if not srcs:
        fail("ruff_test(name = %r) has no sources to lint" % name)
    runner = "//bazel/python:ruff_main.py"
    kwargs.setdefault("size", "small")
    py_test(
        name = name,
        srcs = [runner],
        main = runner,
        data = srcs + ["//:ruff.toml"],
        args = ["$(rootpath //:ruff.toml)"] + ["$(rootpath %s)" % src for src in srcs],
        deps = ["@pypi//ruff"],
        **kwargs
    )
