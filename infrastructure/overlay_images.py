"""Reading and rewriting the digest-pinned `images:` block of an overlay's kustomization.yaml.

The block is owned by the bump and rollback tools: it is regenerated in a fixed format, while
every other line of the file (comments included) is left as it was.
"""

import re
from dataclasses import dataclass

import yaml

from infrastructure.image_ref import DigestRef, parse_digest_ref

# Service name -> the image name the base Deployments use (kustomize replaces it).
SERVICE_IMAGES = {
    "api": "mlops/api",
    "predict": "mlops/predict",
}

_TOP_LEVEL_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")


class OverlayError(ValueError):
    """The overlay, or a requested change to it, is not acceptable."""


@dataclass(frozen=True)
class Change:
    """One service's image before and after an update."""

    service: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        """Whether the reference moved."""
        return self.old != self.new


def service_image(service: str) -> str:
    """The base image name of ``service``; raises OverlayError for unknown services."""
    try:
        return SERVICE_IMAGES[service]
    except KeyError:
        known = ", ".join(sorted(SERVICE_IMAGES))
        raise OverlayError(f"unknown service {service!r}; known services: {known}") from None


def check_repository(service: str, ref: DigestRef) -> None:
    """Refuse a reference whose repository is not the service's image (``.../mlops/<service>``)."""
    image = service_image(service)
    if ref.repository != image and not ref.repository.endswith("/" + image):
        raise OverlayError(f"{service}: {ref} is not an image of {image} (expected <registry>/{image}@sha256:...)")


def read_images(text: str) -> dict[str, DigestRef]:
    """Return the pinned reference of each service in a kustomization's text.

    Raises:
        OverlayError: when the file has no ``images:`` list, or an entry is not pinned by digest.
    """
    data = yaml.safe_load(text) or {}
    entries = data.get("images")
    if not isinstance(entries, list):
        raise OverlayError("the kustomization has no `images:` list to pin")
    by_name = {entry.get("name"): entry for entry in entries if isinstance(entry, dict)}
    refs: dict[str, DigestRef] = {}
    for service, image in SERVICE_IMAGES.items():
        entry = by_name.get(image)
        if entry is None:
            continue
        if "newTag" in entry or "digest" not in entry:
            raise OverlayError(f"images entry {image!r} must pin a digest (and no newTag)")
        refs[service] = parse_digest_ref(f"{entry.get('newName', image)}@{entry['digest']}")
    return refs


def _images_block(entries: list[dict]) -> list[str]:
    lines = ["images:"]
    for entry in entries:
        lines.append(f"  - name: {entry['name']}")
        for key in ("newName", "digest"):
            if key in entry:
                lines.append(f"    {key}: {entry[key]}")
    return lines


def _block_span(lines: list[str]) -> tuple[int, int]:
    starts = [i for i, line in enumerate(lines) if re.match(r"^images\s*:", line)]
    if len(starts) != 1:
        raise OverlayError("expected exactly one top-level `images:` key")
    start = starts[0]
    end = start + 1
    while end < len(lines) and not _TOP_LEVEL_KEY.match(lines[end]):
        end += 1
    # Comments or blank lines just before the next key belong to that key, not to images.
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return start, end


def set_images(text: str, updates: dict[str, DigestRef]) -> tuple[str, list[Change]]:
    """Pin ``updates`` (service -> reference) in a kustomization's text.

    Args:
        text: the current kustomization.yaml.
        updates: the new reference per service; each must be that service's image.

    Returns:
        The new text (identical to ``text`` when nothing changes, so a second run is a no-op)
        and one Change per updated service.

    Raises:
        OverlayError: for unknown services, foreign repositories, or an overlay without an
            entry for a service (the overlay must list every image it runs).
    """
    current = read_images(text)
    data = yaml.safe_load(text)
    entries = [dict(entry) for entry in data["images"]]
    changes = []
    for service, ref in updates.items():
        check_repository(service, ref)
        if service not in current:
            raise OverlayError(f"the overlay has no images entry for {service} ({SERVICE_IMAGES[service]})")
        changes.append(Change(service, str(current[service]), str(ref)))
        for entry in entries:
            if entry.get("name") == SERVICE_IMAGES[service]:
                entry["newName"] = ref.repository
                entry["digest"] = ref.digest
    if not any(change.changed for change in changes):
        return text, changes

    lines = text.splitlines()
    start, end = _block_span(lines)
    new_lines = lines[:start] + _images_block(entries) + lines[end:]
    new_text = "\n".join(new_lines) + "\n"

    # The rewrite must touch nothing but the images.
    expected = dict(data, images=entries)
    if yaml.safe_load(new_text) != expected:
        raise OverlayError("internal error: rewriting the images block changed other keys; file left as it was")
    return new_text, changes
