"""A py_test that runs its sources with pytest."""

load("@rules_python//python:defs.bzl", "py_test")

def py_pytest(name, srcs, deps = [], args = [], **kwargs):
    """Declares a py_test that runs the test functions in `srcs` with pytest.

    Args:
        name: the test target's name (by convention `<module>_test`).
        srcs: the test files; each is collected by pytest.
        deps: libraries the tests import; pytest itself is added.
        args: extra pytest flags, appended after the files.
        **kwargs: passed to py_test (data, env, size, tags, timeout, ...).
    """
    if not srcs:
        fail("py_pytest(name = %r) needs at least one test file in srcs" % name)
    if "main" in kwargs:
        fail("py_pytest(name = %r): main is set by the macro; do not pass it" % name)
    runner = "//bazel/python:pytest_main.py"
    py_test(
        name = name,
        srcs = srcs + [runner],
        main = runner,
        args = ["$(rootpath %s)" % src for src in srcs] + args,
        deps = deps + ["@pypi//pytest"],
        **kwargs
    )
