"""Writes an image's CycloneDX SBOM (JSON, spec 1.6) from the inputs Bazel built the image from.

Components: every Debian package of the base layer (the pinned .debs: version, the .deb's
sha256, a pkg:deb purl), every wheel of the third-party layer (the dist-info in the layer tar:
name and version; the sha256 of the very wheel file the build installed, checked against the
lock's hashes; a pkg:pypi purl), the model layer when there is one, and the first-party
application (hashed by its layer's diff_id). The image itself is the BOM's metadata component.
The document is made with cyclonedx-python-lib and is reproducible: its serial number derives
from the image digest and its timestamp is the image's fixed creation time.
"""

import argparse
import email.parser
import json
import re
import sys
import tarfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from bazel.oci import ocilib

# Properties are namespaced, as CycloneDX's property taxonomy asks.
LAYER_PROPERTY = "mlops:image:layer"
WHEEL_PROPERTY = "mlops:wheel:file"
DEB_PROPERTY = "mlops:deb:file"
DEBIAN_DISTRO = "debian-sid"


@dataclass(frozen=True)
class Dist:
    """A Python distribution found in a layer: its name and version as its METADATA says."""

    name: str
    version: str


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: lower case, runs of -_. become '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def dists_in_layer(tar_path: str | Path) -> list[Dist]:
    """The distributions whose `*.dist-info/METADATA` a layer tar carries, sorted by name."""
    found: dict[str, Dist] = {}
    with tarfile.open(tar_path) as tar:
        for member in tar:
            if member.isfile() and re.search(r"[^/]+\.dist-info/METADATA$", member.name):
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                headers = email.parser.BytesHeaderParser().parse(handle)
                dist = Dist(headers["Name"], headers["Version"])
                found[canonical_name(dist.name)] = dist
    return [found[key] for key in sorted(found)]


def lock_hashes(lock_path: str | Path) -> dict[str, tuple[str, set[str]]]:
    """Parses a pip lock: {canonical name: (version, {sha256 hex, ...})}."""
    pins: dict[str, tuple[str, set[str]]] = {}
    current = None
    for raw in Path(lock_path).read_text().splitlines():
        line = raw.strip()
        pin = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if pin:
            current = canonical_name(pin.group(1))
            pins[current] = (pin.group(2), set())
        for digest in re.findall(r"--hash=sha256:([0-9a-f]{64})", line):
            if current is not None:
                pins[current][1].add(digest)
    return pins


def wheel_index(wheels: list[str]) -> dict[tuple[str, str], Path]:
    """{(canonical name, version): wheel path} from wheel file names (PEP 427)."""
    index = {}
    for wheel in wheels:
        parts = Path(wheel).name[: -len(".whl")].split("-")
        index[(canonical_name(parts[0]), parts[1])] = Path(wheel)
    return index


def deb_component(pin: dict) -> Component:
    """A component for one pinned Debian package."""
    arch = pin["path"].rsplit("_", 1)[1].removesuffix(".deb")
    purl = PackageURL("deb", "debian", pin["name"], pin["version"], {"arch": arch, "distro": DEBIAN_DISTRO})
    return Component(
        type=ComponentType.LIBRARY,
        name=pin["name"],
        version=pin["version"],
        purl=purl,
        bom_ref=purl.to_string(),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=pin["sha256"])],
        properties=[Property(name=LAYER_PROPERTY, value="base"), Property(name=DEB_PROPERTY, value=pin["path"])],
    )


def wheel_component(
    dist: Dist, wheels: dict[tuple[str, str], Path], lock: dict[str, tuple[str, set[str]]]
) -> Component:
    """A component for one wheel of the third-party layer; its hash is that of the installed wheel file.

    Raises:
        SystemExit: when the wheel file is missing or its hash is not one the lock allows.
    """
    key = (canonical_name(dist.name), dist.version)
    wheel = wheels.get(key)
    if wheel is None:
        raise SystemExit(f"sbom: no wheel file for {dist.name}=={dist.version} among the hub's wheels")
    digest = ocilib.sha256_file(wheel).removeprefix("sha256:")
    pinned_version, allowed = lock.get(key[0], ("", set()))
    if pinned_version != dist.version or digest not in allowed:
        raise SystemExit(
            f"sbom: {wheel.name} (sha256 {digest}) is not what the lock pins for {dist.name} "
            f"({pinned_version or 'not pinned'}); re-lock or rebuild"
        )
    purl = PackageURL("pypi", None, key[0], dist.version)
    return Component(
        type=ComponentType.LIBRARY,
        name=dist.name,
        version=dist.version,
        purl=purl,
        bom_ref=purl.to_string(),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=digest)],
        properties=[
            Property(name=LAYER_PROPERTY, value="third-party"),
            Property(name=WHEEL_PROPERTY, value=wheel.name),
        ],
    )


def layer_component(kind: ComponentType, name: str, version: str, tar: str, layer: str) -> Component:
    """A component for a whole layer of our own (the application, the model), hashed by its diff_id."""
    digest = ocilib.sha256_file(tar).removeprefix("sha256:")
    purl = PackageURL("generic", None, name, version)
    return Component(
        type=kind,
        name=name,
        version=version,
        purl=purl,
        bom_ref=f"{purl.to_string()}#{layer}",
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=digest)],
        properties=[Property(name=LAYER_PROPERTY, value=layer)],
    )


def build_bom(args: argparse.Namespace) -> Bom:
    """Assembles the BOM from the parsed command line."""
    digest = Path(args.digest).read_text().strip()
    config = ocilib.read_json(args.config)
    labels = config.get("config", {}).get("Labels") or {}
    title = labels.get("org.opencontainers.image.title") or args.name
    version = labels.get("org.opencontainers.image.version") or "0.0.0"
    created = datetime.fromisoformat(config.get("created", "1970-01-01T00:00:00Z")).astimezone(UTC)

    image_purl = PackageURL("oci", None, args.name.rsplit("/", 1)[-1], digest)
    image = Component(
        type=ComponentType.CONTAINER,
        name=args.name,
        version=digest,
        purl=image_purl,
        bom_ref=image_purl.to_string(),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=digest.removeprefix("sha256:"))],
    )
    components = [deb_component(pin) for pin in sorted(ocilib.read_json(args.debian_packages), key=lambda p: p["name"])]
    wheels = wheel_index(args.wheel)
    lock = lock_hashes(args.lock)
    components += [wheel_component(dist, wheels, lock) for dist in dists_in_layer(args.third_party)]
    if args.data:
        components.append(
            layer_component(ComponentType.MACHINE_LEARNING_MODEL, f"{title}-model", version, args.data, "data")
        )
    components.append(layer_component(ComponentType.APPLICATION, title, version, args.app, "application"))

    bom = Bom(
        serial_number=uuid.uuid5(uuid.NAMESPACE_URL, image_purl.to_string()),
        metadata=BomMetaData(component=image, timestamp=created),
        components=components,
    )
    bom.register_dependency(image, components)
    return bom


def main(argv: list[str] | None = None) -> int:
    """Writes the SBOM; prints the component counts on stderr."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True, help="the image's name, e.g. mlops/predict")
    parser.add_argument("--digest", required=True, help="file with the image's manifest digest")
    parser.add_argument("--config", required=True, help="the image config JSON (labels, created)")
    parser.add_argument("--debian-packages", required=True, help="JSON list of the base's .deb pins")
    parser.add_argument("--third-party", required=True, help="the third-party layer tar")
    parser.add_argument("--lock", required=True, help="the pip lock the wheels come from")
    parser.add_argument("--wheel", action="append", default=[], help="a wheel file of the hub (repeatable)")
    parser.add_argument("--data", help="the data (model) layer tar, when the image has one")
    parser.add_argument("--app", required=True, help="the application layer tar")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)

    bom = build_bom(args)
    text = JsonV1Dot6(bom).output_as_string(indent=2)
    # Canonical: sorted keys, so the same inputs always give the same bytes.
    Path(args.output).write_text(json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n")
    kinds: dict[str, int] = {}
    for component in bom.components:
        layer = next(p.value for p in component.properties if p.name == LAYER_PROPERTY)
        kinds[layer] = kinds.get(layer, 0) + 1
    print(f"sbom: {args.name}@{digest_short(bom)}: " + ", ".join(f"{n} {k}" for k, n in kinds.items()), file=sys.stderr)
    return 0


def digest_short(bom: Bom) -> str:
    """The first 19 characters of the image digest, for progress lines."""
    component = bom.metadata.component
    return (component.version or "")[:19] if component else ""


if __name__ == "__main__":
    sys.exit(main())
