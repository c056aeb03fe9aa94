"""SBOMs for the images py_image builds: `image_sbom` (the CycloneDX JSON) and its test.

    image_sbom(name = "sbom", image = ":image")
        -> <name>.cdx.json, listing the base's .debs, the third-party layer's wheels, the model
           layer (if any) and the application; plus `<name>_test`, which validates it against
           the CycloneDX schema and against the layers of the built image.

The image must come from py_image (its `<image>_layers_*.tar` outputs) on the Debian base
whose pins are @debian_base_packages//:packages.json.
"""

load("@pypi//:requirements.bzl", "all_whl_requirements")
load("@rules_python//python:defs.bzl", "py_test")
load("//bazel/oci:defs.bzl", "OciImageInfo")

def _image_sbom_impl(ctx):
    image = ctx.attr.image[OciImageInfo]
    output = ctx.actions.declare_file(ctx.label.name + ".cdx.json")
    args = ctx.actions.args()
    args.add("--name", ctx.attr.image_name)
    args.add("--digest", image.digest)
    args.add("--config", image.config)
    args.add("--debian-packages", ctx.file.debian_packages)
    args.add("--third-party", ctx.file.third_party)
    args.add("--lock", ctx.file.lock)
    args.add_all(ctx.files.wheels, before_each = "--wheel")
    args.add("--app", ctx.file.app)
    inputs = [image.digest, image.config, ctx.file.debian_packages, ctx.file.third_party, ctx.file.lock, ctx.file.app]
    if ctx.file.data:
        args.add("--data", ctx.file.data)
        inputs.append(ctx.file.data)
    args.add("--output", output)
    ctx.actions.run(
        executable = ctx.executable._sbom,
        arguments = [args],
        inputs = depset(inputs, transitive = [depset(ctx.files.wheels)]),
        outputs = [output],
        mnemonic = "CycloneDx",
        progress_message = "Writing the SBOM of %{label}",
    )
    return [DefaultInfo(files = depset([output]), runfiles = ctx.runfiles([output]))]

_image_sbom = rule(
    implementation = _image_sbom_impl,
    doc = "A CycloneDX 1.6 JSON SBOM of a py_image.",
    attrs = {
        "image": attr.label(providers = [OciImageInfo], mandatory = True),
        "image_name": attr.string(mandatory = True, doc = "e.g. mlops/predict"),
        "third_party": attr.label(allow_single_file = [".tar"], mandatory = True),
        "data": attr.label(allow_single_file = [".tar"]),
        "app": attr.label(allow_single_file = [".tar"], mandatory = True),
        "debian_packages": attr.label(allow_single_file = [".json"], default = "@debian_base_packages//:packages.json"),
        "lock": attr.label(allow_single_file = True, default = "//:requirements_lock.txt"),
        "wheels": attr.label_list(allow_files = [".whl"], default = all_whl_requirements),
        "_sbom": attr.label(default = "//tools/security:sbom", cfg = "exec", executable = True),
    },
)

def image_sbom(name, image, image_name, has_data = False, **kwargs):
    """The SBOM of a py_image (`<name>.cdx.json`) and `<name>_test`, which checks it.

    Args:
        name: the target name (by convention `sbom`).
        image: the py_image target, e.g. ":image".
        image_name: the image's repository name, e.g. "mlops/predict".
        has_data: whether the py_image has a data (model) layer.
        **kwargs: passed to both targets (visibility, tags).
    """
    layers = image + "_layers"
    _image_sbom(
        name = name,
        image = image,
        image_name = image_name,
        third_party = layers + "_third_party.tar",
        data = (layers + "_data.tar") if has_data else None,
        app = layers + "_app.tar",
        **kwargs
    )
    py_test(
        name = name + "_test",
        srcs = ["//tools/security:sbom_check.py"],
        main = "//tools/security:sbom_check.py",
        args = ["--sbom", "$(rootpath :%s)" % name, "--layout", "$(rootpath %s)" % image],
        data = [":" + name, image],
        deps = ["//tools/security:sbom_check_lib"],
        **kwargs
    )
