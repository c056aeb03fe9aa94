"""A test that checks a package's BUILD and .bzl files with buildifier."""

def buildifier_test(name, extra_srcs = [], **kwargs):
    """Declares a test running `buildifier -mode=check -lint=warn` over the package's Starlark.

    The files are the calling package's BUILD.bazel and its .bzl files (globbed here, so a
    new .bzl file is checked without editing the BUILD file). One per package, like
    ruff_test, so a failure is attributed to the package that changed.

    Args:
        name: the test's name (by convention `buildifier_test`).
        extra_srcs: more Starlark files of this package to check (the root adds MODULE.bazel).
        **kwargs: passed to sh_test (size, tags, ...).
    """
    srcs = native.glob(["BUILD.bazel", "*.bzl"]) + extra_srcs
    if not srcs:
        fail("buildifier_test(name = %r): this package has no BUILD.bazel or .bzl file" % name)
    kwargs.setdefault("size", "small")

    # Bazel 7's native sh_test: rules_shell is not in the offline registry.
    # buildifier: disable=native-sh-test
    native.sh_test(
        name = name,
        srcs = ["//bazel/buildifier:buildifier_check.sh"],
        data = srcs + ["//bazel/buildifier"],
        args = ["$(rootpath //bazel/buildifier)"] + ["$(rootpath %s)" % src for src in srcs],
        **kwargs
    )
