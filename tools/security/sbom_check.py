"""Checks an image's SBOM: valid CycloneDX 1.6, and exactly the packages the image's layers hold.

Reads the built OCI layout itself (not the inputs the SBOM was made from): every
/var/lib/dpkg/status.d record and every *.dist-info/METADATA in the layers must appear in the
SBOM by name and version, nothing more; each component has a purl and a SHA-256; the layers
of our own (application, model) are hashed by their diff_ids; the BOM names the image digest.

    bazel test //services/predict:sbom_test
    python3 -m tools.security.sbom_check --sbom SBOM.cdx.json --layout IMAGE_LAYOUT_DIR
"""

import argparse
import email.parser
import json
import re
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from bazel.oci import ocilib

STATUS_DIR = "var/lib/dpkg/status.d/"


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: lower case, runs of -_. become '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class ImageContents:
    """What an image's layers hold: Debian packages, Python distributions, layer diff_ids."""

    debs: set[tuple[str, str]] = field(default_factory=set)
    wheels: set[tuple[str, str]] = field(default_factory=set)
    diff_ids: list[str] = field(default_factory=list)
    digest: str = ""


def _control_fields(data: bytes) -> dict[str, str]:
    fields = {}
    for line in data.decode().splitlines():
        if line and not line[0].isspace() and ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def read_image(layout: str | Path) -> ImageContents:
    """Lists the packages in every layer of the image in `layout` (a later layer's whiteouts ignored)."""
    digest, manifest, config = ocilib.load_layout(layout)
    contents = ImageContents(diff_ids=list(config["rootfs"]["diff_ids"]), digest=digest)
    for layer in manifest["layers"]:
        with tarfile.open(ocilib.blob_path(layout, layer["digest"]), "r:gz") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if not member.isfile():
                    continue
                record = name.removeprefix(STATUS_DIR)
                if record != name and "/" not in record and not record.endswith(".md5sums"):
                    handle = tar.extractfile(member)
                    fields = _control_fields(handle.read() if handle else b"")
                    contents.debs.add((fields["Package"], fields["Version"]))
                elif re.search(r"[^/]+\.dist-info/METADATA$", name):
                    handle = tar.extractfile(member)
                    headers = email.parser.BytesHeaderParser().parse(handle) if handle else {}
                    contents.wheels.add((canonical_name(headers["Name"]), headers["Version"]))
    return contents


def schema_errors(sbom_text: str) -> str | None:
    """The CycloneDX 1.6 schema's verdict on the document (None when valid), by the library's own validator."""
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(sbom_text)
    return str(error) if error else None


def compare(sbom: dict, image: ImageContents) -> list[str]:
    """Every difference between the SBOM and the image, as readable lines (empty: they match)."""
    problems = []
    listed_debs, listed_wheels, own_hashes = set(), set(), []
    for component in sbom.get("components", []):
        label = f"{component.get('name')} {component.get('version')}"
        purl = component.get("purl", "")
        hashes = [h["content"] for h in component.get("hashes", []) if h.get("alg") == "SHA-256"]
        if not purl or not hashes or not component.get("version"):
            problems.append(f"component {label}: needs a version, a purl and a SHA-256 hash")
        if purl.startswith("pkg:deb/"):
            listed_debs.add((component["name"], component["version"]))
        elif purl.startswith("pkg:pypi/"):
            listed_wheels.add((canonical_name(component["name"]), component["version"]))
        else:
            own_hashes.append((label, hashes))
    for kind, listed, present in (("Debian package", listed_debs, image.debs), ("wheel", listed_wheels, image.wheels)):
        problems += [f"missing from the SBOM: {kind} {n} {v} (in the image)" for n, v in sorted(present - listed)]
        problems += [f"extra in the SBOM: {kind} {n} {v} (not in the image)" for n, v in sorted(listed - present)]
    diff_ids = {d.removeprefix("sha256:") for d in image.diff_ids}
    for label, hashes in own_hashes:
        if not diff_ids.intersection(hashes):
            problems.append(f"component {label}: its SHA-256 matches no layer of the image")
    if not any(c.get("type") == "application" for c in sbom.get("components", [])):
        problems.append("no first-party application component")
    described = (sbom.get("metadata", {}).get("component") or {}).get("version")
    if described != image.digest:
        problems.append(f"the SBOM describes {described}, the image is {image.digest}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Prints a report; exits 1 when the SBOM is invalid or does not match the image."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sbom", required=True)
    parser.add_argument("--layout", required=True, help="the image's OCI layout directory")
    args = parser.parse_args(argv)

    text = Path(args.sbom).read_text()
    problems = []
    error = schema_errors(text)
    if error:
        problems.append(f"not valid CycloneDX 1.6: {error}")
    image = read_image(args.layout)
    problems += compare(json.loads(text), image)
    print(
        f"sbom_check: image {image.digest[:19]}: {len(image.debs)} Debian packages, "
        f"{len(image.wheels)} wheels, {len(image.diff_ids)} layers"
    )
    if problems:
        print(f"sbom_check: {args.sbom} does not match the image ({len(problems)} problems):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print(f"sbom_check: OK: schema valid, every package of the image listed, nothing extra ({args.sbom})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
