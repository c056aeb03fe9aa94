"""Image signatures with cosign: sign a pushed digest, attach its SBOM as an attestation, verify both.

Offline by design: no transparency log (Rekor) and no Fulcio: a key pair signs, the public key
verifies (`--use-signing-config=false --tlog-upload=false` to sign, `--insecure-ignore-tlog` to
verify). Signatures and attestations are stored next to the image as OCI referrers (cosign 3).

Keys, as cosign takes them: a file path, or `env://VAR` for a PEM held in an environment
variable; the private key's password comes from COSIGN_PASSWORD (empty for an unencrypted key).
    COSIGN_KEY          the signing key used by `bazel run //services/<name>:push`
    COSIGN_PUBLIC_KEY   the key `//infrastructure:bump` verifies digests with
Make a throwaway pair with `cosign generate-key-pair` (COSIGN_PASSWORD= for no password).
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SIGNATURE_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
CYCLONEDX_PREDICATE = "https://cyclonedx.org/bom"


class SigningError(RuntimeError):
    """cosign is missing, or signing or verifying failed; the message says which and why."""


@dataclass(frozen=True)
class Signed:
    """What signing left in the registry: the references of the signature and the attestation."""

    reference: str
    signature: str
    attestation: str | None


def cosign_binary() -> str:
    """The cosign executable (PATH, else the build root's /usr/bin/cosign).

    Raises:
        SigningError: when there is none, naming the package that provides it.
    """
    found = shutil.which("cosign") or ("/usr/bin/cosign" if Path("/usr/bin/cosign").is_file() else None)
    if not found:
        raise SigningError("cosign not found: install Debian's `cosign` (the build root has it: ./tools/bazel run ...)")
    return found


def _registry_flags() -> list[str]:
    return ["--allow-insecure-registry"] if os.environ.get("REGISTRY_INSECURE") == "1" else []


def _cosign(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.setdefault("COSIGN_PASSWORD", "")
    return subprocess.run([cosign_binary(), *args], capture_output=True, text=True, check=False, env=env)


def _check(result: subprocess.CompletedProcess[str], what: str) -> str:
    if result.returncode != 0:
        detail = "\n".join(line for line in result.stderr.splitlines() if "deprecated" not in line).strip()
        raise SigningError(f"{what} failed: {detail or result.stdout.strip()}")
    return result.stdout


def referrers(reference: str) -> dict[str, str]:
    """{predicate type: reference} of the signatures/attestations attached to a digest reference."""
    output = _check(_cosign("tree", *_registry_flags(), reference), f"cosign tree {reference}")
    found: dict[str, str] = {}
    for match in re.finditer(r"(https?://\S+) artifacts via OCI referrer: (\S+)", output):
        found.setdefault(match.group(1), match.group(2))
    return found


def sign(reference: str, key: str, sbom: str | Path | None = None) -> Signed:
    """Signs `reference` (REPOSITORY@sha256:...) with `key`; attests `sbom` as type cyclonedx.

    Raises:
        SigningError: when cosign fails (its message included).
    """
    if "@sha256:" not in reference:
        raise SigningError(f"{reference}: sign a digest reference (REPOSITORY@sha256:...), never a tag")
    offline = ["--use-signing-config=false", "--tlog-upload=false", "--yes", *_registry_flags()]
    _check(_cosign("sign", "--key", key, *offline, reference), f"cosign sign {reference}")
    if sbom is not None:
        _check(
            _cosign("attest", "--key", key, "--type", "cyclonedx", "--predicate", str(sbom), *offline, reference),
            f"cosign attest {reference}",
        )
    attached = referrers(reference)
    signature = attached.get(SIGNATURE_PREDICATE)
    if not signature:
        raise SigningError(f"cosign signed {reference} but no signature referrer is listed: {attached}")
    return Signed(reference, signature, attached.get(CYCLONEDX_PREDICATE))


def verify(reference: str, public_key: str, attestation_type: str | None = None) -> str:
    """Verifies the signature (or, with `attestation_type`, the attestation) of `reference`.

    Returns cosign's verified payload (JSON lines).

    Raises:
        SigningError: when nothing verifies against the key (unsigned, tampered, other key).
    """
    offline = ["--insecure-ignore-tlog=true", *_registry_flags()]
    if attestation_type:
        args = ["verify-attestation", "--key", public_key, "--type", attestation_type, *offline, reference]
    else:
        args = ["verify", "--key", public_key, *offline, reference]
    return _check(_cosign(*args), f"cosign {args[0]} {reference}")
