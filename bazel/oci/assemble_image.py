"""Assembles an OCI image layout (config, manifest, index, blobs) from compressed layers and settings."""

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from bazel.oci import ocilib

PLACEHOLDER = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")


def read_status(paths: list[str]) -> dict[str, str]:
    """Reads Bazel's workspace status files (KEY VALUE lines)."""
    values: dict[str, str] = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(" ")
            values[key] = value
    return values


def expand(value: str, status: dict[str, str] | None) -> str:
    """Replaces {KEY} with a stamped value, or "unknown" when not stamping (stable digests)."""
    return PLACEHOLDER.sub(lambda m: (status or {}).get(m.group(1), "unknown"), value)


def merge_env(base: list[str], extra: dict[str, str]) -> list[str]:
    """Overrides KEY=VALUE entries of `base` by `extra`, keeping base order, then new keys sorted."""
    merged = dict(item.split("=", 1) for item in base)
    merged.update(extra)
    return [f"{key}={value}" for key, value in merged.items()]


def build_config(
    settings: dict,
    base: dict | None,
    env: dict[str, str],
    layers: list[tuple[dict, str]],
    status: dict[str, str] | None,
) -> dict:
    """Returns the image config: the base's, overridden by this image's settings, plus its layers."""
    base = base or {}
    config = dict(base.get("config", {}))
    if settings.get("entrypoint") is not None:
        config["Entrypoint"] = settings["entrypoint"]
        config.pop("Cmd", None)
    if settings.get("cmd") is not None:
        config["Cmd"] = settings["cmd"]
    config["Env"] = merge_env(config.get("Env", []), env)
    if settings.get("workdir"):
        config["WorkingDir"] = settings["workdir"]
    if settings.get("user"):
        config["User"] = settings["user"]
    if settings.get("exposed_ports"):
        ports = dict(config.get("ExposedPorts", {}))
        for port in settings["exposed_ports"]:
            ports[port if "/" in port else port + "/tcp"] = {}
        config["ExposedPorts"] = ports
    labels = dict(config.get("Labels", {}))
    labels.update({key: expand(value, status) for key, value in settings.get("labels", {}).items()})
    if labels:
        config["Labels"] = labels
    history = list(base.get("history", []))
    for _, comment in layers[len(base.get("rootfs", {}).get("diff_ids", [])) :]:
        history.append({"created": settings["created"], "created_by": comment})
    return {
        "architecture": settings.get("architecture", "amd64"),
        "os": settings.get("os", "linux"),
        "created": settings["created"],
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [descriptor["diff_id"] for descriptor, _ in layers]},
        "history": history,
    }


def write_blob(layout: Path, data: bytes) -> dict:
    """Stores bytes as a blob; returns {digest, size}."""
    digest = ocilib.sha256_bytes(data)
    path = ocilib.blob_path(layout, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": digest, "size": len(data)}


def canonical(document: dict) -> bytes:
    """Serializes JSON the same way every time."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def main(argv: list[str] | None = None) -> int:
    """Writes the layout directory, its manifest digest and its config."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settings", required=True, help="JSON: entrypoint, cmd, env, workdir, user, labels, ...")
    parser.add_argument("--env-file", action="append", default=[], help="KEY=VALUE lines")
    parser.add_argument("--entrypoint-file", help="a JSON list; overrides the settings' entrypoint")
    parser.add_argument("--base-config", help="the base image's config JSON")
    parser.add_argument("--layer", nargs=3, action="append", default=[], metavar=("DESCRIPTOR", "BLOB", "COMMENT"))
    parser.add_argument("--status", action="append", default=[], help="workspace status files (stamping)")
    parser.add_argument("--output", required=True, help="the OCI layout directory to write")
    parser.add_argument("--digest-out", required=True)
    parser.add_argument("--config-out", required=True)
    args = parser.parse_args(argv)

    settings = ocilib.read_json(args.settings)
    if args.entrypoint_file:
        settings["entrypoint"] = ocilib.read_json(args.entrypoint_file)
    env = dict(settings.get("env", {}))
    for path in args.env_file:
        for line in Path(path).read_text().splitlines():
            if line.strip():
                key, _, value = line.partition("=")
                env[key] = value
    base = ocilib.read_json(args.base_config) if args.base_config else None
    status = read_status(args.status) if args.status else None
    layers = [(ocilib.read_json(desc), comment) for desc, _, comment in args.layer]

    layout = Path(args.output)
    layout.mkdir(parents=True, exist_ok=True)
    for (descriptor, _), (_, blob, _) in zip(layers, args.layer, strict=True):
        target = ocilib.blob_path(layout, descriptor["digest"])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(blob, target)

    config = build_config(settings, base, env, layers, status)
    config_bytes = canonical(config)
    config_desc = {"mediaType": ocilib.MEDIA_CONFIG, **write_blob(layout, config_bytes)}
    manifest = {
        "schemaVersion": 2,
        "mediaType": ocilib.MEDIA_MANIFEST,
        "config": config_desc,
        "layers": [{"mediaType": d["mediaType"], "digest": d["digest"], "size": d["size"]} for d, _ in layers],
    }
    annotations = {key: expand(value, status) for key, value in settings.get("annotations", {}).items()}
    if annotations:
        manifest["annotations"] = annotations
    manifest_desc = {"mediaType": ocilib.MEDIA_MANIFEST, **write_blob(layout, canonical(manifest))}
    index = {"schemaVersion": 2, "mediaType": ocilib.MEDIA_INDEX, "manifests": [manifest_desc]}
    (layout / "index.json").write_bytes(canonical(index))
    (layout / "oci-layout").write_bytes(canonical({"imageLayoutVersion": "1.0.0"}))
    Path(args.digest_out).write_text(manifest_desc["digest"] + "\n")
    Path(args.config_out).write_bytes(config_bytes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
