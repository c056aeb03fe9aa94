"""OCI image rules for this repo: thin, with names and attributes close to rules_oci's.

rules_oci cannot be fetched here (see bazel/oci/README.md), so these rules are ours. A team that
has rules_oci can switch most targets by changing the load line:

    oci_image(name, base, tars, entrypoint, cmd, env, workdir, exposed_ports, user, labels,
              annotations, created)            -> an OCI image layout directory
    oci_push(name, image, repository, remote_tags)  -> `bazel run :push [-- TAG...]`

Python-specific (rules_oci has no equivalent; aspect's examples use a `py_layer` macro):

    py_image_layers(name, binary, main)        -> third-party and application layer tars
    py_image(name, binary, ...)                -> py_image_layers + oci_image on the Python base
    oci_image_test(name, image, ...)           -> runs the image for real and checks it
    debian_rootfs(name, debs)                  -> a base layer from pinned .debs

Determinism: every layer is a sorted POSIX tar with mtime 0 and numeric root owners, gzipped
by Python's zlib with mtime 0; configs are canonical JSON with a fixed "created" time. The
git revision enters only the labels, and only under --stamp.
"""

load("@rules_python//python:defs.bzl", "py_binary", "py_test")

OciImageInfo = provider(
    doc = "An image built by oci_image: its layers (base first) and config, for images built on it.",
    fields = {
        "layers": "list of struct(descriptor = File (JSON), blob = File (tar+gzip), comment = string)",
        "config": "File: the image config JSON",
        "layout": "File: the OCI layout directory",
        "digest": "File: the manifest digest (sha256:...)",
    },
)

CREATED = "1970-01-01T00:00:00Z"

_TOOL = {"cfg": "exec", "executable": True}

# --- oci_image ------------------------------------------------------------------------------

def _compress(ctx, tar, index):
    blob = ctx.actions.declare_file("%s_blobs/%d.tar.gz" % (ctx.label.name, index))
    descriptor = ctx.actions.declare_file("%s_blobs/%d.json" % (ctx.label.name, index))
    args = ctx.actions.args()
    args.add("--tar", tar)
    args.add("--blob", blob)
    args.add("--descriptor", descriptor)
    ctx.actions.run(
        executable = ctx.executable._compress_layer,
        arguments = [args],
        inputs = [tar],
        outputs = [blob, descriptor],
        mnemonic = "OciLayer",
        progress_message = "Compressing layer %{input} of %{label}",
    )
    return struct(descriptor = descriptor, blob = blob, comment = "bazel: " + str(tar.owner) + " " + tar.basename)

def _oci_image_impl(ctx):
    base = ctx.attr.base[OciImageInfo] if ctx.attr.base else None
    own = [_compress(ctx, tar, i) for i, tar in enumerate(ctx.files.tars)]
    layers = (base.layers if base else []) + own

    layout = ctx.actions.declare_directory(ctx.label.name)
    digest = ctx.actions.declare_file(ctx.label.name + ".digest")
    config = ctx.actions.declare_file(ctx.label.name + ".config.json")
    settings = ctx.actions.declare_file(ctx.label.name + ".settings.json")
    ctx.actions.write(settings, json.encode({
        "entrypoint": ctx.attr.entrypoint or None,
        "cmd": ctx.attr.cmd or None,
        "env": ctx.attr.env,
        "workdir": ctx.attr.workdir,
        "user": ctx.attr.user,
        "exposed_ports": ctx.attr.exposed_ports,
        "labels": ctx.attr.labels,
        "annotations": ctx.attr.annotations,
        "created": ctx.attr.created,
    }))

    args = ctx.actions.args()
    args.add("--settings", settings)
    args.add("--output", layout.path)
    args.add("--digest-out", digest)
    args.add("--config-out", config)
    inputs = [settings] + ctx.files.env_files
    for env_file in ctx.files.env_files:
        args.add("--env-file", env_file)
    if ctx.file.entrypoint_file:
        args.add("--entrypoint-file", ctx.file.entrypoint_file)
        inputs.append(ctx.file.entrypoint_file)
    if base:
        args.add("--base-config", base.config)
        inputs.append(base.config)
    for layer in layers:
        args.add("--layer").add(layer.descriptor).add(layer.blob).add(layer.comment)
        inputs += [layer.descriptor, layer.blob]
    if ctx.attr.stamp_enabled:
        # Stable keys only (STABLE_GIT_COMMIT): the digest changes with the commit, not the clock.
        args.add("--status", ctx.info_file)
        inputs.append(ctx.info_file)
    ctx.actions.run(
        executable = ctx.executable._assemble_image,
        arguments = [args],
        inputs = inputs,
        outputs = [layout, digest, config],
        mnemonic = "OciImage",
        progress_message = "Assembling OCI image %{label}",
    )
    return [
        DefaultInfo(files = depset([layout]), runfiles = ctx.runfiles([layout])),
        OciImageInfo(layers = layers, config = config, layout = layout, digest = digest),
        OutputGroupInfo(digest = depset([digest]), config = depset([config])),
    ]

_oci_image = rule(
    implementation = _oci_image_impl,
    doc = "An OCI image layout directory: the base's layers, then one layer per tar in `tars`.",
    attrs = {
        "base": attr.label(providers = [OciImageInfo], doc = "An oci_image to build on."),
        "tars": attr.label_list(allow_files = [".tar"], doc = "Layer tars, in order (uncompressed)."),
        "entrypoint": attr.string_list(doc = "The container's entrypoint (exec form)."),
        "entrypoint_file": attr.label(allow_single_file = [".json"], doc = "The entrypoint as a JSON list."),
        "cmd": attr.string_list(doc = "Default arguments to the entrypoint."),
        "env": attr.string_dict(doc = "Environment; overrides the base's values by key."),
        "env_files": attr.label_list(allow_files = True, doc = "Files of KEY=VALUE lines, applied after env."),
        "workdir": attr.string(doc = "The working directory."),
        "user": attr.string(doc = "The user (uid[:gid]) the entrypoint runs as."),
        "exposed_ports": attr.string_list(doc = "Ports, e.g. \"8000/tcp\"."),
        "labels": attr.string_dict(doc = "Config labels; {STABLE_KEY} is replaced under --stamp, else \"unknown\"."),
        "annotations": attr.string_dict(doc = "Manifest annotations; stamped like labels."),
        "created": attr.string(default = CREATED, doc = "The image's creation time (fixed for reproducibility)."),
        "stamp_enabled": attr.bool(doc = "Set by the oci_image macro from --stamp."),
        "_compress_layer": attr.label(default = "//bazel/oci:compress_layer", **_TOOL),
        "_assemble_image": attr.label(default = "//bazel/oci:assemble_image", **_TOOL),
    },
)

def oci_image(name, entrypoint = None, env = None, **kwargs):
    """An OCI image (a layout directory), with rules_oci's attribute names.

    Outputs `<name>/` (the OCI layout); output groups `digest` (`<name>.digest`) and `config`.
    Provides OciImageInfo.

    Args:
        name: the target name (by convention `image`).
        entrypoint: a list of strings, or a label of a JSON file holding the list.
        env: a dict, or a label of a file of KEY=VALUE lines.
        **kwargs: base, tars, cmd, workdir, user, exposed_ports, labels, annotations, created,
            visibility, tags, ...
    """
    if "stamp_enabled" in kwargs:
        fail("oci_image(name = %r): stamping follows --stamp; do not set stamp_enabled" % name)
    if type(entrypoint) == "string":
        kwargs["entrypoint_file"] = entrypoint
    elif entrypoint != None:
        kwargs["entrypoint"] = entrypoint
    if type(env) == "string":
        kwargs["env_files"] = [env]
    elif env != None:
        kwargs["env"] = env
    _oci_image(
        name = name,
        stamp_enabled = select({
            "//bazel/oci:stamp": True,
            "//conditions:default": False,
        }),
        **kwargs
    )

# --- Python layers -------------------------------------------------------------------------

def _runfiles_path(ctx, file):
    if file.short_path.startswith("../"):
        return file.short_path[3:]
    return ctx.workspace_name + "/" + file.short_path

def _py_image_layers_impl(ctx):
    info = ctx.attr.binary[DefaultInfo]
    executable = info.files_to_run.executable
    runfiles = info.default_runfiles
    prefix = ctx.attr.prefix.rstrip("/")
    main = ctx.attr.main or executable.short_path + ".py"

    # Each layer's action gets only its own files as inputs, so an application change does not
    # re-run the (large) third-party layer.
    app, third_party, app_files, third_party_files = [], [], [], []
    main_found = False
    data, data_files = [], []
    for target in ctx.attr.data:
        for file in target[DefaultInfo].files.to_list():
            data.append("%s/%s\t%s" % (prefix, _runfiles_path(ctx, file), file.path))
            data_files.append(file)
    in_data = {f.path: True for f in data_files}
    for file in runfiles.files.to_list():
        if file == executable or file.path in in_data:
            continue  # the launcher stub (the image runs the interpreter directly), or in the data layer
        line = "%s/%s\t%s" % (prefix, _runfiles_path(ctx, file), file.path)
        if file.owner and file.owner.workspace_name:
            third_party.append(line)
            third_party_files.append(file)
        else:
            app.append(line)
            app_files.append(file)
            if file.short_path == main:
                main_found = True
    if not main_found:
        fail("py_image_layers(name = %r): %s is not in the runfiles of %s; set main = \"path/in/repo.py\"" %
             (ctx.label.name, main, ctx.attr.binary.label))

    # Bazel's legacy empty __init__.py files: the image reproduces the runfiles tree exactly.
    for path in runfiles.empty_filenames.to_list():
        if path.startswith("../"):
            third_party.append("%s/%s\t" % (prefix, path[3:]))
        else:
            app.append("%s/%s/%s\t" % (prefix, ctx.workspace_name, path))

    imports = []
    if PyInfo in ctx.attr.binary:
        imports = sorted(ctx.attr.binary[PyInfo].imports.to_list())
    pythonpath = [prefix + "/" + ctx.workspace_name] + [prefix + "/" + i for i in imports]

    layers = [
        (third_party, third_party_files, ctx.outputs.third_party),
        (data, data_files, ctx.outputs.data),
        (app, app_files, ctx.outputs.app),
    ]
    for lines, files, output in layers:
        manifest = ctx.actions.declare_file(output.basename + ".manifest")
        ctx.actions.write(manifest, "\n".join(sorted(lines)) + "\n")

        # Code layers carry precompiled, unchecked-hash bytecode: the image then starts without
        # compiling every module (PYTHONDONTWRITEBYTECODE keeps it from trying) and stays reproducible.
        pyc = ["--pyc"] if ctx.attr.precompile and output != ctx.outputs.data else []
        ctx.actions.run(
            executable = ctx.executable._py_layer,
            arguments = ["--manifest", manifest.path, "--output", output.path] + pyc,
            inputs = [manifest] + files,
            outputs = [output],
            mnemonic = "OciPyLayer",
            progress_message = "Writing layer %{output}",
        )

    ctx.actions.write(ctx.outputs.entrypoint, json.encode([
        ctx.attr.interpreter,
        "-S",  # no site-packages: only the stdlib and PYTHONPATH, as under Bazel
        "%s/%s/%s" % (prefix, ctx.workspace_name, main),
    ]))
    ctx.actions.write(ctx.outputs.env, "\n".join([
        "PYTHONPATH=" + ":".join(pythonpath),
        "RUNFILES_DIR=" + prefix,
        "PYTHONDONTWRITEBYTECODE=1",
        "PYTHONUNBUFFERED=1",
    ]) + "\n")
    return [DefaultInfo(files = depset([ctx.outputs.third_party, ctx.outputs.data, ctx.outputs.app]))]

py_image_layers = rule(
    implementation = _py_image_layers_impl,
    doc = """Splits a py_binary's runfiles into two layer tars under `prefix` (the runfiles root).

    `<name>_third_party.tar`: files of external repositories (the @pypi wheels).
    `<name>_data.tar`: the files of `data` (e.g. the model), which change at their own pace.
    `<name>_app.tar`: this repository's files (the code).
    `<name>_entrypoint.json`: [interpreter, "-S", main]; `<name>_env.txt`: PYTHONPATH etc.
    """,
    attrs = {
        "binary": attr.label(executable = True, cfg = "target", mandatory = True, doc = "A py_binary."),
        "main": attr.string(doc = "The main file's path in the repo; default: <binary>.py."),
        "data": attr.label_list(allow_files = True, doc = "More files for the image, at their runfiles paths (a model)."),
        "prefix": attr.string(default = "/app", doc = "Where the runfiles tree goes in the image."),
        "interpreter": attr.string(default = "/usr/bin/python3.14", doc = "The base image's Python."),
        "precompile": attr.bool(
            default = True,
            doc = "Add unchecked-hash .pyc files to the code layers (the build's Python must be the image's minor version).",
        ),
        "_py_layer": attr.label(default = "//bazel/oci:py_layer", **_TOOL),
    },
    outputs = {
        "third_party": "%{name}_third_party.tar",
        "data": "%{name}_data.tar",
        "app": "%{name}_app.tar",
        "entrypoint": "%{name}_entrypoint.json",
        "env": "%{name}_env.txt",
    },
)

def py_image(
        name,
        binary,
        main = None,
        data = [],
        base = "//bazel/oci:python_base",
        env = {},
        user = "65532:65532",
        workdir = "/app",
        **kwargs):
    """An image running a py_binary on the Python base: base, third-party, [data,] application layers.

    Args:
        name: the image target (by convention `image`); also makes `<name>_layers`.
        binary: the py_binary to run.
        main: its main file's path in the repo, when not `<binary>.py`.
        data: more files (e.g. the model), shipped at their runfiles paths in a layer of their own
            between third-party and application, so a code change does not re-push the model.
        base: the base oci_image.
        env: extra environment (PYTHONPATH and friends are set from the binary).
        user: uid:gid to run as (default: distroless' nonroot 65532).
        workdir: the working directory.
        **kwargs: passed to oci_image (exposed_ports, labels, annotations, visibility, tags, ...).
    """
    if "tars" in kwargs or "entrypoint" in kwargs:
        fail("py_image(name = %r): tars and entrypoint come from the binary" % name)
    layers = name + "_layers"
    py_image_layers(
        name = layers,
        binary = binary,
        main = main,
        data = data,
        visibility = ["//visibility:private"],
    )
    oci_image(
        name = name,
        base = base,
        tars = [layers + "_third_party.tar"] + ([layers + "_data.tar"] if data else []) + [layers + "_app.tar"],
        entrypoint = layers + "_entrypoint.json",
        env_files = [layers + "_env.txt"],
        env = env,
        user = user,
        workdir = workdir,
        **kwargs
    )

# --- Debian base ----------------------------------------------------------------------------

def _debian_rootfs_impl(ctx):
    tar = ctx.actions.declare_file(ctx.label.name + ".tar")
    packages = ctx.actions.declare_file(ctx.label.name + ".packages.txt")
    args = ctx.actions.args()
    args.add("--output", tar)
    args.add("--packages-list", packages)
    args.add_all(ctx.files.debs)
    ctx.actions.run(
        executable = ctx.executable._deb_rootfs,
        arguments = [args],
        inputs = ctx.files.debs,
        outputs = [tar, packages],
        mnemonic = "DebRootfs",
        progress_message = "Extracting %d .debs into %%{output}" % len(ctx.files.debs),
    )
    return [DefaultInfo(files = depset([tar])), OutputGroupInfo(packages = depset([packages]))]

debian_rootfs = rule(
    implementation = _debian_rootfs_impl,
    doc = """A root filesystem layer tar from .debs, extracted (never configured) like distroless.

    Adds /var/lib/dpkg/status.d/<package> records for scanners, /etc/passwd and /etc/group
    with root, nobody and nonroot (65532), /tmp, and the CA bundle update-ca-certificates
    would have made.
    """,
    attrs = {
        "debs": attr.label_list(allow_files = [".deb"], mandatory = True, doc = "The .debs, in install order."),
        "_deb_rootfs": attr.label(default = "//bazel/oci:deb_rootfs", **_TOOL),
    },
)

# --- push and test ---------------------------------------------------------------------------

def oci_push(name, image, repository = "", remote_tags = [], sbom = None, **kwargs):
    """`bazel run :<name> [-- TAG...]` pushes `image` and prints its digest.

    Pushes to `repository` (a full reference, e.g. "registry.example.com/mlops/predict") or,
    when that is empty, to "$REGISTRY/<default_name>"; with REGISTRY unset, to the embedded
    local registry (started on demand: `bazel run //bazel/oci:registry -- status|stop`).
    Tags: the git commit, `remote_tags`, and the run's arguments.

    Args:
        name: the target name (by convention `push`).
        image: an oci_image.
        repository: the full repository, or a path below $REGISTRY such as "mlops/predict".
        remote_tags: extra tags pushed every time.
        sbom: the image's SBOM (an image_sbom target), attested with the signature when
            COSIGN_KEY is set (bazel/oci/signing.py).
        **kwargs: passed to py_binary (visibility, tags, ...).
    """
    if not repository:
        fail("oci_push(name = %r) needs a repository (e.g. \"mlops/predict\")" % name)
    args = ["--layout", "$(rootpath %s)" % image, "--repository", repository]
    for tag in remote_tags:
        args += ["--tag", tag]
    if sbom:
        args += ["--sbom", "$(rootpath %s)" % sbom]
    py_binary(
        name = name,
        srcs = ["//bazel/oci:push.py"],
        main = "//bazel/oci:push.py",
        args = args,
        data = [image] + ([sbom] if sbom else []),
        deps = ["//bazel/oci:ocilib", "//bazel/oci:registry_lib", "//bazel/oci:signing"],
        **kwargs
    )

def oci_image_test(
        name,
        image,
        checks = [],
        port_env = "PORT",
        expect_user = "65532:65532",
        expect_labels = [],
        env = {},
        mounts = {},
        sidecar = None,
        data = [],
        startup_timeout = 90,
        **kwargs):
    """Runs an image for real (unpacked, in a private mount+PID namespace, chrooted) and checks it.

    Structure: the user is `expect_user` (non-root), the entrypoint exists in the image,
    each label in `expect_labels` is set, and there are no .pyc caches, .git directories,
    tests or secrets-like files in the application layers. Behaviour: the entrypoint runs with
    the image's Env/User/WorkingDir and `port_env` set to a free port; each check must answer.

    Args:
        name: the test name (by convention `image_test`).
        image: an oci_image.
        checks: strings "METHOD PATH [@BODY_FILE] STATUS [SUBSTRING]", e.g. "GET /healthz 200";
            a body file is a label path in `data`, written $(rootpath ...); headers are words
            "H:Name=Value" before the status.
        port_env: the environment variable the service reads its port from.
        expect_user: the config User the image must have.
        expect_labels: label keys that must be present and non-empty.
        env: environment added for the test run only (e.g. a test API key; never baked in).
        mounts: {path in the container: "$(rootpath LABEL)"}: files or directories copied into
            the unpacked root before the run, like volumes (listed in `data` too).
        sidecar: another image started first and awaited until ready, e.g. the service this one
            calls: {"image": label, "port_env": ..., "url_env": the variable of this image that
            gets "http://127.0.0.1:PORT", "env": {...}, "mounts": {...}, "ready": "/readyz"}.
        data: files the checks and mounts use (request bodies, models).
        startup_timeout: seconds to wait for the first check to answer.
        **kwargs: passed to py_test (size, tags, ...).
    """
    if not checks:
        fail("oci_image_test(name = %r) needs at least one check, e.g. \"GET /healthz 200\"" % name)
    args = [
        "--layout",
        "$(rootpath %s)" % image,
        "--port-env",
        port_env,
        "--expect-user",
        expect_user,
        "--startup-timeout",
        str(startup_timeout),
    ]
    for label in expect_labels:
        args += ["--expect-label", label]
    for key, value in env.items():
        args.append("--env='%s=%s'" % (key, value.replace("'", "'\\''")))
    for inside, outside in mounts.items():
        args.append("--mount=%s=%s" % (inside, outside))
    sidecar_data = []
    if sidecar:
        unknown = [k for k in sidecar if k not in ("image", "port_env", "url_env", "env", "mounts", "ready")]
        if unknown or "image" not in sidecar or "url_env" not in sidecar:
            fail("oci_image_test(name = %r): sidecar needs image and url_env; unknown keys: %s" % (name, unknown))
        sidecar_data.append(sidecar["image"])
        args += [
            "--sidecar-layout",
            "$(rootpath %s)" % sidecar["image"],
            "--sidecar-url-env",
            sidecar["url_env"],
            "--sidecar-port-env",
            sidecar.get("port_env", "PORT"),
            "--sidecar-ready",
            sidecar.get("ready", "/readyz"),
        ]
        for key, value in sidecar.get("env", {}).items():
            args.append("--sidecar-env='%s=%s'" % (key, value.replace("'", "'\\''")))
        for inside, outside in sidecar.get("mounts", {}).items():
            args.append("--sidecar-mount=%s=%s" % (inside, outside))
    for check in checks:
        # One shell word per check: Bazel tokenizes `args` like a Bourne shell.
        args.append("--check='%s'" % check.replace("'", "'\\''"))

    # no-remote-exec: the test needs root (chroot, unshare --mount --pid), and remote workers
    # run actions unprivileged (infrastructure/k8s/buildfarm: Pod Security "restricted").
    kwargs["tags"] = kwargs.get("tags", []) + ["no-remote-exec"]
    py_test(
        name = name,
        srcs = ["//bazel/oci:image_test_main.py"],
        main = "//bazel/oci:image_test_main.py",
        args = args,
        data = [image] + sidecar_data + data,
        deps = [
            "//bazel/oci:image_structure",
            "//bazel/oci:ocilib",
            "//tools:ports",
        ],
        **kwargs
    )
