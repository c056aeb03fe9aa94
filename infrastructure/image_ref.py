"""Parsing of image references pinned by digest, as deployments must use them."""

import re
from dataclasses import dataclass

# registry[:port]/path/name@sha256:<64 hex>; the registry part is optional (Docker Hub).
_DIGEST_REF = re.compile(
    r"^(?P<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"@(?P<digest>sha256:[a-f0-9]{64})$"
)


@dataclass(frozen=True)
class DigestRef:
    """An image reference fixed to one content digest."""

    repository: str
    digest: str

    def __str__(self) -> str:
        return f"{self.repository}@{self.digest}"


def parse_digest_ref(text: str) -> DigestRef:
    """Parse ``registry/repo@sha256:<digest>``.

    Args:
        text: the reference to parse.

    Raises:
        ValueError: when ``text`` is not pinned by a sha256 digest (a tag is not enough:
            tags move, digests do not).
    """
    match = _DIGEST_REF.match(text.strip())
    if match is None:
        if "@sha256:" not in text:
            raise ValueError(f"{text!r} is not pinned by digest; expected <registry>/<repo>@sha256:<64 hex digits>")
        raise ValueError(f"{text!r} is not a valid digest reference (lowercase repository, 64 hex digits)")
    return DigestRef(repository=match["repository"], digest=match["digest"])
