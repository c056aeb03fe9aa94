"""A py_test that runs its sources with pytest."""

load("@rules_python//python:defs.bzl", "py_test")

def py_pytest(name, srcs, deps = [], args = [], **kwargs):
    """Declares a py_test that runs the test functions in `srcs` with pytest.

    With MLOPS_PYTEST_COVERAGE=1 in the test environment (as //tools/ci sets it), the run is
    measured by coverage.py and the data saved in the test's undeclared outputs.

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
        # coverage: the CI driver runs tests under it (MLOPS_PYTEST_COVERAGE=1).
        deps = deps + ["@pypi//pytest", "@pypi//coverage"],
        **kwargs
    )
