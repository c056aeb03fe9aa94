"""Offline security scanners as tests: each writes SARIF as a build output, a gate judges it.

    bandit_test(name = "bandit_test", srcs = glob(["**/*.py"]))
        -> <name>.sarif (bandit's findings for this package's Python) and the test <name>,
           which fails on findings not accepted by //tools/security:bandit_baseline.toml.
    checkov_test(name, files, k8s_files, overlays)
        -> <name>.sarif (checkov over Terraform, rendered overlays, Argo CD, the workflow)
           and the test <name>, gated by //tools/security:checkov_baseline.toml.

One bandit_test per package (like ruff_test), so a finding is attributed to, and re-scanned
for, the package that changed; the SARIF files are under bazel-bin/<package>/.
"""

load("@rules_python//python:defs.bzl", "py_test")

def _sarif_scan_impl(ctx):
    output = ctx.actions.declare_file(ctx.label.name + ".sarif")
    args = ctx.actions.args()
    args.add("--output", output)
    args.add_all(ctx.attr.scanner_args)
    for flag, files in (("--file", ctx.files.files), ("--k8s-file", ctx.files.k8s_files)):
        args.add_all(files, before_each = flag)
    args.add_all(ctx.attr.overlays, before_each = "--overlay")
    args.add_all(ctx.files.srcs)
    ctx.actions.run(
        executable = ctx.executable.scanner,
        arguments = [args],
        inputs = ctx.files.srcs + ctx.files.files + ctx.files.k8s_files,
        outputs = [output],
        mnemonic = "SecurityScan",
        progress_message = "Scanning %{label}",
    )
    return [DefaultInfo(files = depset([output]), runfiles = ctx.runfiles([output]))]

sarif_scan = rule(
    implementation = _sarif_scan_impl,
    doc = "Runs a scanner (a py_binary taking --output and files) into `<name>.sarif`.",
    attrs = {
        "scanner": attr.label(executable = True, cfg = "exec", mandatory = True),
        "scanner_args": attr.string_list(),
        "srcs": attr.label_list(allow_files = True, doc = "Files passed as positional arguments."),
        "files": attr.label_list(allow_files = True, doc = "Files passed as --file."),
        "k8s_files": attr.label_list(allow_files = True, doc = "Files passed as --k8s-file."),
        "overlays": attr.string_list(doc = "Overlay directories passed as --overlay."),
    },
)

def _gate_test(name, scan, baseline, scanner_name, scope = "", **kwargs):
    py_test(
        name = name,
        srcs = ["//tools/security:sarif_gate.py"],
        main = "//tools/security:sarif_gate.py",
        args = [
            "--name",
            scanner_name,
            "--scope=" + scope,
            "--sarif",
            "$(rootpath :%s)" % scan,
            "--baseline",
            "$(rootpath %s)" % baseline,
        ],
        data = [":" + scan, baseline],
        **kwargs
    )

def bandit_test(name, srcs, **kwargs):
    """bandit over `srcs` into `<name>.sarif`, and the test `<name>` gating it by the baseline.

    Args:
        name: the test name (by convention `bandit_test`).
        srcs: the package's Python files, usually `glob(["**/*.py"])`.
        **kwargs: passed to the test (size, tags, ...).
    """
    sarif_scan(
        name = name + "_sarif",
        scanner = "//tools/security:bandit_sarif",
        srcs = srcs,
        visibility = ["//visibility:public"],
    )
    kwargs.setdefault("size", "small")
    _gate_test(name, name + "_sarif", "//tools/security:bandit_baseline.toml", "bandit", native.package_name(), **kwargs)

def checkov_test(name, files, k8s_files = [], overlays = [], **kwargs):
    """checkov over infrastructure files into `<name>.sarif`, and the test `<name>` gating it.

    Args:
        name: the test name (by convention `checkov_test`).
        files: files scanned as they are (Terraform, Argo CD objects, GitHub workflows).
        k8s_files: the kustomize tree the overlays need.
        overlays: overlay directories (repository paths), each rendered and scanned.
        **kwargs: passed to the test (size, tags, ...).
    """
    sarif_scan(
        name = name + "_sarif",
        scanner = "//tools/security:checkov_sarif",
        files = files,
        k8s_files = k8s_files,
        overlays = overlays,
        visibility = ["//visibility:public"],
    )
    kwargs.setdefault("size", "small")
    _gate_test(name, name + "_sarif", "//tools/security:checkov_baseline.toml", "checkov", **kwargs)
